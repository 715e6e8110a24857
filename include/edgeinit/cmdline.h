/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Kernel command line: tokenising exactly as the kernel does, and the options edgeinit reads. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edgeinit/devref.h"

#define CMDLINE_KEY_MAX 128
#define CMDLINE_VALUE_MAX 1024
#define BOOT_PATH_MAX 256
#define ROOTHASH_MAX 64 /* bytes: sha512 */

/* One "key[=value]" word of the command line, with the kernel's quote handling applied. */
struct cmdline_word {
	char key[CMDLINE_KEY_MAX];
	char value[CMDLINE_VALUE_MAX];
	bool has_value;
};

/* Read the next word from *cursor and advance it. Returns 1 with a word, 0 at the end (or at
 * "--", after which words belong to init), -E2BIG if a key or value does not fit (the word is
 * skipped and *cursor still advances). Quoting follows the kernel's next_arg(): double quotes
 * protect spaces and are removed around the whole word or the value. */
int cmdline_next_word(const char **cursor, struct cmdline_word *word);

enum emergency_action {
	EMERGENCY_REBOOT,
	EMERGENCY_POWEROFF,
	EMERGENCY_HALT,
};

/* dm-verity behaviour on a corrupted block (systemd.verity_root_options=). */
enum verity_corruption_mode {
	VERITY_CORRUPTION_EIO,     /* kernel default: the read fails */
	VERITY_CORRUPTION_RESTART, /* restart-on-corruption */
	VERITY_CORRUPTION_PANIC,   /* panic-on-corruption */
	VERITY_CORRUPTION_IGNORE,  /* ignore-corruption: logs only */
};

/* Which disk layout the options describe. */
enum boot_profile {
	BOOT_PROFILE_VERITY, /* roothash= and the verity partitions (systemd's conventions) */
	BOOT_PROFILE_EMT,    /* boot_uuid=: a disk EMT's installer provisioned */
};

/* Where EMT's installer seals the LUKS passphrase (PolicyPCR sha256:15). */
#define EMT_SEALED_KEY_HANDLE 0x81000000u
/* How long a console prompt waits unless rd.luks.options=timeout= says (both profiles: devices
 * boot unattended, a prompt nobody answers must end, then rd.emergency=). */
#define PROMPT_TIMEOUT_SEC 30

#define LUKS_VOLUMES_MAX 8
#define LUKS_NAME_MAX 128

/* rd.luks.name=<UUID>=<name> */
struct luks_name {
	char uuid[37];             /* lower case */
	char name[LUKS_NAME_MAX];
};

struct boot_options {
	uint8_t roothash[ROOTHASH_MAX];
	size_t roothash_size;            /* 0: no roothash= given */
	struct devref verity_data;       /* systemd.verity_root_data= */
	struct devref verity_hash;       /* systemd.verity_root_hash= */
	enum verity_corruption_mode verity_corruption;
	bool verity_ignore_zero_blocks;
	bool verity_check_at_most_once;
	char root[BOOT_PATH_MAX];        /* root=, a /dev/mapper/<name> path */
	char root_mapper_name[128]; /* <name> from root= */
	struct devref persist;           /* edgeinit.persist= */
	char init[BOOT_PATH_MAX];        /* init= */
	unsigned timeout_sec;            /* rd.timeout= */
	unsigned emergency_delay_sec;    /* edgeinit.emergency_delay= */
	enum emergency_action emergency; /* rd.emergency= */
	bool debug;                      /* edgeinit.debug */

	/* LUKS2 (systemd-cryptsetup's names where it has them). */
	struct luks_name luks_names[LUKS_VOLUMES_MAX]; /* rd.luks.name= */
	size_t n_luks_names;
	char luks_uuids[LUKS_VOLUMES_MAX][37];         /* rd.luks.uuid=: only these (lower case) */
	size_t n_luks_uuids;
	char luks_key[BOOT_PATH_MAX];    /* rd.luks.key=: a key file in the initrd, tried first */
	unsigned luks_tries;             /* rd.luks.tries= or tries= in rd.luks.options=; default 3 */
	bool luks_headless;              /* headless in rd.luks.options=: never ask on the console */
	bool luks_tpm2;                  /* tpm2-device= in rd.luks.options= ("auto" or a path): on by
					  * default; tpm2-device=off or none: never use the TPM */
	char luks_tpm2_device[BOOT_PATH_MAX]; /* "/dev/tpmrm0" for auto */
	uint32_t tpm2_emt_handle;        /* edgeinit.tpm2.emt-handle=: EMT's sealed key, 0: off;
					  * EMT_SEALED_KEY_HANDLE by default in the EMT profile */
	bool tpm2_emt_handle_set;        /* ... given on the command line */
	bool luks_measure_pcr;           /* tpm2-measure-pcr= in rd.luks.options=: latch the volume
					  * key into PCR 15 (default yes) */
	unsigned luks_timeout_sec;       /* timeout= in rd.luks.options=: how long the prompt waits,
					  * PROMPT_TIMEOUT_SEC by default; 0 given explicitly: as long
					  * as it takes */
	bool luks_timeout_set;           /* ... given on the command line */

	bool tpm2_lockdown;              /* edgeinit.tpm2.lockdown=: after a volume was opened by
					  * anything but the TPM, or a plain persistent partition was
					  * accepted, extend PCRs 0-15 so nothing sealed to this boot
					  * can be unsealed (default yes) */
	bool exitrd;                     /* edgeinit.exitrd=: copy /init to /run/initramfs/shutdown
					  * so that systemd-shutdown hands the end of the shutdown back
					  * to edgeinit (default yes) */
	char debug_crash[32];            /* edgeinit.debug.crash=<stage>: PID 1 faults in that stage
					  * (tests the crash path); "panic": a kernel panic */
	char debug_hold[24];             /* edgeinit.debug.hold=seed:<n>|latch: sync, then hold for
					  * 120 s before the nth seeding operation or each PCR 15
					  * volume-key latch (where the power-cut tests cut) */

	char boot_uuid[37];              /* boot_uuid= (EMT's slot selector), lower case, "" if none */
	enum boot_profile profile;       /* BOOT_PROFILE_EMT with boot_uuid= and no verity partitions */
};

/* What the parser tells its caller about a word it did not take. */
enum cmdline_note {
	CMDLINE_NOTE_UNKNOWN_KEY,   /* edgeinit.* key we do not know: reported, not ignored */
	CMDLINE_NOTE_TOO_LONG,      /* word did not fit and was skipped */
	CMDLINE_NOTE_INVALID_VALUE, /* bad value of an option that is not security relevant:
				     * the default stays in force */
};
/* detail says why (may be ""). */
typedef void (*cmdline_note_fn)(void *userdata, enum cmdline_note note, const char *key,
				const char *detail);

#define CMDLINE_REASON_MAX 256

/* The mapper name rd.luks.name= gives the volume with this LUKS UUID, or NULL. */
const char *boot_options_luks_name(const struct boot_options *o, const char *uuid);
/* Does the command line expect the persistent partition to be LUKS2 (rd.luks.name=, rd.luks.uuid=,
 * rd.luks.key= or edgeinit.tpm2.emt-handle= given)? Then a plain one is refused. */
bool boot_options_expect_luks(const struct boot_options *o);
/* May the volume with this LUKS UUID be opened (rd.luks.uuid= lists it, or there is no list)? */
bool boot_options_luks_allowed(const struct boot_options *o, const char *uuid);

/* Set every option to its documented default. */
void boot_options_init(struct boot_options *o);

/* Parse a whole command line into o (which boot_options_init() prepared). Later words win over
 * earlier ones, as with systemd. Returns 0, or -EINVAL when an option that decides what is mounted
 * or executed (roothash=, the verity devices and options, root=, init=, edgeinit.persist=, rd.luks.*,
 * boot_uuid=) is invalid or too long: then bad_key (CMDLINE_KEY_MAX) names it and reason
 * (CMDLINE_REASON_MAX) says why. Falling back to a default there could boot or mount something the integrator did not name.
 * Unknown edgeinit.* keys, over-long unknown words and bad values of the other options (timeouts,
 * emergency action, debug) go to note (may be NULL), and their default stays. Finally derives defaults that
 * depend on other options: the profile (EMT with boot_uuid= and no verity partitions; then EMT's
 * sealed key handle by default) or the verity partitions from the root hash, as systemd does. */
int boot_options_parse(const char *cmdline, struct boot_options *o, cmdline_note_fn note,
		       void *userdata, char *bad_key, char *reason);

const char *boot_profile_to_string(enum boot_profile p);
const char *emergency_action_to_string(enum emergency_action a);
const char *verity_corruption_mode_to_string(enum verity_corruption_mode m);
