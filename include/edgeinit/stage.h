/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The boot context every stage reads and writes, and the stage descriptor. */
#pragma once

#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "edgeinit/cmdline.h"
#include "edgeinit/device_manager.h"
#include "edgeinit/emt.h"
#include "edgeinit/hash.h"
#include "edgeinit/measure.h"
#include "edgeinit/macro.h"
#include "edgeinit/report.h"
#include "edgeinit/sys.h"

/* The TPM's state for the boot: whether there is one, its PCR banks, what was measured. */
struct tpm_state {
	bool present;            /* the tpm2 stage opened it */
	enum hash_alg banks[_HASH_ALG_MAX];
	size_t n_banks;
	bool measured_enter_initrd;
	bool key_unsealed;       /* a key was unsealed: leave-initrd must be measured */
	/* PCRs 0-15 were extended with edgeinit's lockdown event: nothing sealed to this boot's PCRs
	 * can be unsealed any more. */
	bool locked_down;
};

/* The root file system as a disk stage planned it: the verity pair, the root hash and where it
 * came from. The verity stage checks and activates it; mounts mounts node. */
struct root_plan {
	char data_node[DEVNODE_MAX];
	char hash_node[DEVNODE_MAX];
	uint8_t roothash[ROOTHASH_MAX];
	size_t roothash_size;
	/* "cmdline" (the signed command line), "roothash-partition-encrypted",
	 * "roothash-partition-unauthenticated", "none" (no verity); as boot.json reports it. */
	const char *roothash_source;
	char node[DEVNODE_MAX];  /* the block device mounted as /: /dev/mapper/<name> */
};

/* Plan the root hash from roothash= on the command line. */
void root_plan_hash_from_cmdline(struct root_plan *p, const struct boot_options *o);

struct boot_context {
	/* Where "/" is: "" on the machine, a temporary directory in stage tests. Every path a
	 * stage builds starts with it. */
	const char *root;
	/* The same directory, O_PATH (fd 3 or above), or -errno if it could not be opened: the
	 * ctx_open family resolves paths inside it (RESOLVE_IN_ROOT, magic links refused). Reopened
	 * by switch-root, and by the fatal path after a failed exec of init. */
	int root_fd;
	const struct sys_ops *sys;

	/* The options as the signed command line gave them. Written by the cmdline stage alone
	 * (through opts_rw; tests/static/house.sh keeps every other stage out of it), read-only to
	 * every other stage: none can rewrite what the command line said. */
	union {
		const struct boot_options opts;
		struct boot_options opts_rw;
	};
	bool opts_parsed;

	/* Devices seen, their drivers and the uevent socket (include/edgeinit/device_manager.h). */
	struct device_manager dev;

	/* The TPM as the measurement service (modules/measurements.c) sees it: found by the tpm2
	 * stage, measured into by every stage through ctx_measure*. */
	struct tpm_state tpm;

	/* The disk holding the ESP the loader started from (LoaderDevicePartUUID), "" if the loader
	 * did not say: partitions found by name or file system UUID come from it alone. */
	char boot_disk[64];
	/* The persistent partition is not LUKS2 (accepted only when the command line expects no
	 * encryption): mounted nosuid,nodev, and measured. */
	bool persist_plain;

	/* EMT profile: the OS disk (found by the devices stage), then the emt stage's findings. */
	char os_disk[64];        /* "vda" */
	bool emt_done;           /* the emt stage set up the volumes below */
	enum emt_mode emt_mode;
	char emt_slot;           /* 'a' or 'b' */

	/* The root file system: planned by the devices stage (verity profile) or emt, used by verity
	 * and mounts. */
	struct root_plan rootfs;
	char persist_node[DEVNODE_MAX];

	const char *sysroot;     /* "/sysroot" */

	/* Message for the operator when a stage fails: what to do about it. */
	char remedy[256];

	struct boot_report report;
	uint64_t start_realtime_us;
	uint64_t start_monotonic_us;

	/* The stages that started, in order: the fatal path discards them newest first. */
	const struct stage *started[REPORT_STAGES_MAX];
	size_t n_started;
};

/* A stage returns this (> 0) when it has nothing to do in this boot: reported as "skipped". */
#define STAGE_RUN_SKIPPED 1

struct stage {
	const char *name;
	/* Returns 0, STAGE_RUN_SKIPPED, or a negative errno after logging the reason; may fill
	 * ctx->remedy. */
	int (*run)(struct boot_context *ctx);
	/* The fatal path (NULL: nothing to undo): wipe the keys the stage holds, stop its workers
	 * without waiting for them, close its fds. Called once the stage started, whether it
	 * returned or not; must not block, and must be safe to call twice. */
	void (*discard)(struct boot_context *ctx);
};

/* One row of the boot table: a stage and the profiles whose list names it. */
#define PROFILE_BIT(p) (1u << (p))
#define PROFILES_ALL (PROFILE_BIT(BOOT_PROFILE_VERITY) | PROFILE_BIT(BOOT_PROFILE_EMT))
struct boot_step {
	const struct stage *stage;
	unsigned profiles;
};

/* The boot, in order: the common head (early-setup, cmdline), each profile's stages, the common
 * tail. */
extern const struct boot_step boot_table[];
extern const size_t boot_table_size;

/* The stages profile p runs, in order, into out (at most max). Returns how many. */
size_t boot_profile_stages(const struct boot_step *table, size_t n, enum boot_profile p,
			   const struct stage **out, size_t max);

/* Called by boot_run around each stage that runs (NULL members are fine). */
struct boot_hooks {
	void (*before)(struct boot_context *ctx, const struct stage *s);
	void (*after)(struct boot_context *ctx, const struct stage *s, int r);
};

/* Walk table: a step runs when its profiles include the profile the command line chose (before
 * the cmdline stage, only steps of every profile may stand there); the others are reported as
 * "skipped", as are stages that return STAGE_RUN_SKIPPED. Returns 0, or the negative errno of the
 * first stage that failed, with *failed set to it (the caller takes the fatal path). */
int boot_run(struct boot_context *ctx, const struct boot_step *table, size_t n,
	     const struct boot_hooks *hooks, const struct stage **failed);

/* The fatal path's walk: the discard hooks of every stage that started, newest first. */
void boot_discard(struct boot_context *ctx);

/* Initialise a context for the given root ("" for the machine) and side-effect operations. */
void boot_context_init(struct boot_context *ctx, const char *root, const struct sys_ops *sys);
void boot_context_done(struct boot_context *ctx);

/* Build "<ctx->root><path>" into buf. -E2BIG if it does not fit, with buf empty (every call
 * refuses an empty path, so a caller that only opens the result fails closed; a caller that
 * builds further paths from it must check). */
int ctx_path(const struct boot_context *ctx, const char *path, char *buf, size_t size);

/* Paths resolved inside ctx->root_fd (lib/fs.c's openat_in_root): a symlink, "..", or an
 * absolute link target never leaves the root; a path too long fails (-ENAMETOOLONG). Use these
 * for what is read, listed, checked, created or written under the root; keep ctx_path for what
 * must be a string (mount targets and sources, chroot, device nodes handed to a library, logs).
 * Each returns -errno on failure. */
int ctx_open(const struct boot_context *ctx, const char *path, int flags);
/* Create path (O_CREAT with mode; flags as open(2)'s, O_NOFOLLOW added): its directory is
 * resolved in the root, the last component must not be a symlink. fd or -errno. */
int ctx_create(const struct boot_context *ctx, const char *path, int flags, mode_t mode);
/* read_small_file's contract: up to size-1 bytes, NUL-terminated; the length. */
int ctx_read_file(const struct boot_context *ctx, const char *path, char *buf, size_t size);
/* write_small_file's (an existing file) and write_new_file's (replaced atomically, 0644). */
int ctx_write_file(const struct boot_context *ctx, const char *path, const char *content);
int ctx_write_new_file(const struct boot_context *ctx, const char *path, const char *content);
/* mkdir_exist_ok's: 0 if path is (or now is) a directory, -ENOTDIR if it is something else. */
int ctx_mkdir(const struct boot_context *ctx, const char *path, mode_t mode);
/* A directory stream, or NULL with errno set. */
DIR *ctx_opendir(const struct boot_context *ctx, const char *path);
bool ctx_exists(const struct boot_context *ctx, const char *path);
/* After a chroot: resolve from the "/" (or ctx->root) that is there now. 0, or -errno with
 * nothing resolving any more (never the old root). */
int ctx_root_reopen(struct boot_context *ctx);

/* Whether the kernel knows file system type (/proc/filesystems). */
bool ctx_filesystem_known(struct boot_context *ctx, const char *type);
/* Make sure the kernel knows file system type (else load the "fs-<type>" module). 0 or -errno. */
int ctx_ensure_filesystem(struct boot_context *ctx, const char *type);

/* Extend pcr in every active bank with digests (one per bank, in ctx->tpm.banks order) and
 * append systemd's record to /run/log/systemd/tpm2-measure.log. 0, or -errno (logged). */
int ctx_measure(struct boot_context *ctx, unsigned pcr, const struct measure_digest *digests,
		const char *description, enum measure_event_type type);

/* Extend pcr with the digest of a string event (every active bank) and log it. 0 or -errno. */
int ctx_measure_string(struct boot_context *ctx, unsigned pcr, const char *event);

/* The event edgeinit extends into PCRs to lock the TPM for the rest of the boot. */
#define TPM_LOCKDOWN_EVENT "edgeinit:tpm-lockdown"
/* Lock the TPM for the rest of this boot: extend PCRs 0-15 (all_pcrs) or PCR 15 alone with
 * TPM_LOCKDOWN_EVENT, so that nothing sealed to this boot's PCR values can be unsealed any more.
 * No-op without a TPM. 0, or -errno with the remedy set (fail closed). */
int ctx_tpm_lockdown(struct boot_context *ctx, bool all_pcrs, const char *reason);

/* edgeinit.debug.hold=: how long a hold lasts (120 s; stage tests set 0). */
extern unsigned ctx_debug_hold_max_sec;
/* The power-cut tests' hold: flush every file system (so the disk holds exactly the state at
 * this point), say where it holds, then wait ctx_debug_hold_max_sec and go on. where: what the
 * boot is about to do. */
void ctx_debug_hold(struct boot_context *ctx, const char *where);

/* Set the remedy line printed with a fatal error. */
void ctx_set_remedy(struct boot_context *ctx, const char *fmt, ...) _printf_(2, 3);

/* The stages, in the order init runs them. */
extern const struct stage stage_early_setup;
extern const struct stage stage_cmdline;
extern const struct stage stage_modules;
extern const struct stage stage_devices;      /* the verity profile's partitions */
extern const struct stage stage_emt_devices;  /* "devices" in the EMT profile: EMT's OS disk */
extern const struct stage stage_tpm2;
extern const struct stage stage_emt;
extern const struct stage stage_luks;
extern const struct stage stage_verity;
extern const struct stage stage_mounts;
extern const struct stage stage_layout;
extern const struct stage stage_emt_late;
extern const struct stage stage_failures;     /* failure reports of previous boots */
extern const struct stage stage_exitrd;
extern const struct stage stage_leave_initrd;
extern const struct stage stage_switch_root;

/* Monotonic clock in microseconds. */
uint64_t now_monotonic_us(void);
uint64_t now_realtime_us(void);
