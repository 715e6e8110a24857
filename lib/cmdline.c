/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Kernel command line parsing. Pure: no I/O, no logging, no globals. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <stdlib.h>

#include "edgeinit/cmdline.h"
#include "edgeinit/macro.h"
#include "edgeinit/strutil.h"
#include "cmdline_internal.h"

#define DEFAULT_ROOT "/dev/mapper/rootfs_verity"
#define MAPPER_PREFIX "/dev/mapper/"

/* The kernel's isspace() (lib/ctype.c) also counts 0xa0, Latin-1 no-break space. */
static bool kernel_isspace(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || (unsigned char)c == 0xa0;
}

static const char *skip_spaces(const char *p)
{
	while (*p && kernel_isspace(*p))
		p++;
	return p;
}

int cmdline_next_word(const char **cursor, struct cmdline_word *word)
{
	const char *p = skip_spaces(*cursor);
	size_t i, equals = 0, end, val_start = 0;
	bool in_quote = false, quoted = false, stripped = false;
	int r = 0, k;

	word->key[0] = word->value[0] = '\0';
	word->has_value = false;
	if (!*p) {
		*cursor = p;
		return 0;
	}
	if (*p == '"') {
		p++;
		in_quote = quoted = true;
	}
	for (i = 0; p[i]; i++) {
		if (kernel_isspace(p[i]) && !in_quote)
			break;
		if (equals == 0 && p[i] == '=')
			equals = i;
		if (p[i] == '"')
			in_quote = !in_quote;
	}
	end = i;
	if (equals) {
		val_start = equals + 1;
		if (p[val_start] == '"') {
			val_start++;
			if (p[i - 1] == '"') {
				end = i - 1;
				stripped = true;
			}
		}
	}
	if (quoted && i > 0 && !stripped && p[i - 1] == '"')
		end = i - 1;

	*cursor = p[i] ? skip_spaces(p + i + 1) : p + i;

	if (equals) {
		k = str_copy_n(word->key, sizeof(word->key), p, equals);
		if (k < 0)
			r = k;
		k = str_copy_n(word->value, sizeof(word->value), p + val_start,
			       end > val_start ? end - val_start : 0);
		if (k < 0)
			r = k;
		word->has_value = true;
	} else {
		k = str_copy_n(word->key, sizeof(word->key), p, end);
		if (k < 0)
			r = k;
	}
	if (r < 0)
		return r;
	/* Like the kernel: a bare "--" ends the options; what follows belongs to init. */
	if (!word->has_value && strcmp(word->key, "--") == 0)
		return 0;
	return 1;
}

void boot_options_init(struct boot_options *o)
{
	memset(o, 0, sizeof(*o));
	o->verity_corruption = VERITY_CORRUPTION_EIO;
	str_copy(o->root, sizeof(o->root), DEFAULT_ROOT);
	o->persist.kind = DEVREF_PARTLABEL;
	str_copy(o->persist.value, sizeof(o->persist.value), "edge_persistent");
	str_copy(o->init, sizeof(o->init), "/sbin/init");
	o->timeout_sec = 30;
	o->emergency_delay_sec = 5;
	o->emergency = EMERGENCY_REBOOT;
	o->luks_tries = 3;
	o->luks_measure_pcr = true;
	o->luks_tpm2 = true;
	o->luks_timeout_sec = PROMPT_TIMEOUT_SEC;
	o->tpm2_lockdown = true;
	o->exitrd = true;
	str_copy(o->luks_tpm2_device, sizeof(o->luks_tpm2_device), "/dev/tpmrm0");
}

/* A handler returns 0, -EINVAL with reason filled (fatal), or -EDOM with reason filled (bad
 * value of a non-security option: reported, default kept). */
typedef int (*option_handler)(struct boot_options *o, const struct cmdline_word *w, char *reason);

int cmdline_need_value(const struct cmdline_word *w, char *reason)
{
	if (w->has_value && w->value[0])
		return 0;
	snprintf(reason, CMDLINE_REASON_MAX, "a value is required");
	return -EINVAL;
}

static int parse_roothash(struct boot_options *o, const struct cmdline_word *w, char *reason)
{
	int n;

	if (cmdline_need_value(w, reason) < 0)
		return -EINVAL;
	n = hex_decode(w->value, o->roothash, sizeof(o->roothash));
	if (n < 20) { /* sha1 is the shortest digest dm-verity uses */
		snprintf(reason, CMDLINE_REASON_MAX,
			 "must be the hexadecimal root hash printed by 'veritysetup format' (20 to 64 bytes)");
		o->roothash_size = 0;
		return -EINVAL;
	}
	o->roothash_size = (size_t)n;
	return 0;
}

static int parse_devref_option(struct devref *ref, const struct cmdline_word *w, char *reason)
{
	if (cmdline_need_value(w, reason) < 0)
		return -EINVAL;
	if (devref_parse(w->value, ref) < 0) {
		snprintf(reason, CMDLINE_REASON_MAX,
			 "must be PARTLABEL=, PARTUUID=, UUID=, LABEL= or a /dev/ path");
		return -EINVAL;
	}
	return 0;
}

static int parse_verity_data(struct boot_options *o, const struct cmdline_word *w, char *reason)
{
	return parse_devref_option(&o->verity_data, w, reason);
}

static int parse_verity_hash(struct boot_options *o, const struct cmdline_word *w, char *reason)
{
	return parse_devref_option(&o->verity_hash, w, reason);
}

static int parse_persist(struct boot_options *o, const struct cmdline_word *w, char *reason)
{
	return parse_devref_option(&o->persist, w, reason);
}

static int parse_verity_options(struct boot_options *o, const struct cmdline_word *w, char *reason)
{
	static const struct {
		const char *name;
		enum verity_corruption_mode mode;
	} modes[] = {
		{ "ignore-corruption", VERITY_CORRUPTION_IGNORE },
		{ "restart-on-corruption", VERITY_CORRUPTION_RESTART },
		{ "panic-on-corruption", VERITY_CORRUPTION_PANIC },
	};
	char buf[CMDLINE_VALUE_MAX], *save = NULL, *tok;
	bool mode_set = false;

	if (cmdline_need_value(w, reason) < 0)
		return -EINVAL;
	str_copy(buf, sizeof(buf), w->value);
	o->verity_corruption = VERITY_CORRUPTION_EIO;
	o->verity_ignore_zero_blocks = o->verity_check_at_most_once = false;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		bool known = false;

		for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
			if (strcmp(tok, modes[i].name) != 0)
				continue;
			if (mode_set) {
				snprintf(reason, CMDLINE_REASON_MAX,
					 "more than one of ignore-, restart-, panic-on-corruption");
				return -EINVAL;
			}
			o->verity_corruption = modes[i].mode;
			mode_set = known = true;
		}
		if (strcmp(tok, "ignore-zero-blocks") == 0)
			known = o->verity_ignore_zero_blocks = true;
		else if (strcmp(tok, "check-at-most-once") == 0)
			known = o->verity_check_at_most_once = true;
		if (!known) {
			snprintf(reason, CMDLINE_REASON_MAX,
				 "unsupported option '%.60s' (supported: ignore-corruption, restart-on-corruption, panic-on-corruption, ignore-zero-blocks, check-at-most-once)",
				 tok);
			return -EINVAL;
		}
	}
	return 0;
}

static int parse_root(struct boot_options *o, const struct cmdline_word *w, char *reason)
{
	if (cmdline_need_value(w, reason) < 0)
		return -EINVAL;
	if (str_copy(o->root, sizeof(o->root), w->value) < 0) {
		snprintf(reason, CMDLINE_REASON_MAX, "too long");
		return -EINVAL;
	}
	return 0;
}

static int parse_init(struct boot_options *o, const struct cmdline_word *w, char *reason)
{
	if (cmdline_need_value(w, reason) < 0)
		return -EINVAL;
	if (w->value[0] != '/' || strstr(w->value, "/../") ||
	    str_copy(o->init, sizeof(o->init), w->value) < 0) {
		snprintf(reason, CMDLINE_REASON_MAX, "must be an absolute path in the new root");
		return -EINVAL;
	}
	return 0;
}

int cmdline_parse_seconds(unsigned *out, const struct cmdline_word *w, unsigned long long min,
			 unsigned long long max, char *reason)
{
	unsigned long long v;

	if (!w->has_value || parse_uint(w->value, max, &v) < 0 || v < min) {
		snprintf(reason, CMDLINE_REASON_MAX, "must be whole seconds from %llu to %llu", min, max);
		return -EDOM;
	}
	*out = (unsigned)v;
	return 0;
}

static int parse_timeout(struct boot_options *o, const struct cmdline_word *w, char *reason)
{
	return cmdline_parse_seconds(&o->timeout_sec, w, 1, 86400, reason);
}

static int parse_emergency_delay(struct boot_options *o, const struct cmdline_word *w, char *reason)
{
	return cmdline_parse_seconds(&o->emergency_delay_sec, w, 0, 3600, reason);
}

static int parse_emergency(struct boot_options *o, const struct cmdline_word *w, char *reason)
{
	static const enum emergency_action actions[] = { EMERGENCY_REBOOT, EMERGENCY_POWEROFF,
							 EMERGENCY_HALT };

	for (size_t i = 0; w->has_value && i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strcmp(w->value, emergency_action_to_string(actions[i])) == 0) {
			o->emergency = actions[i];
			return 0;
		}
	snprintf(reason, CMDLINE_REASON_MAX, "must be reboot, poweroff or halt");
	return -EDOM;
}

int cmdline_parse_bool_flag(bool *out, const struct cmdline_word *w, char *reason)
{
	static const char *const yes[] = { "1", "yes", "true", "on" };
	static const char *const no[] = { "0", "no", "false", "off" };

	if (!w->has_value) {
		*out = true;
		return 0;
	}
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(w->value, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(w->value, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	snprintf(reason, CMDLINE_REASON_MAX, "must be a boolean (1/0, yes/no, true/false, on/off)");
	return -EDOM;
}

static int parse_debug(struct boot_options *o, const struct cmdline_word *w, char *reason)
{
	return cmdline_parse_bool_flag(&o->debug, w, reason);
}

static int parse_tpm2_lockdown(struct boot_options *o, const struct cmdline_word *w, char *reason)
{
	return cmdline_parse_bool_flag(&o->tpm2_lockdown, w, reason);
}

static int parse_exitrd(struct boot_options *o, const struct cmdline_word *w, char *reason)
{
	return cmdline_parse_bool_flag(&o->exitrd, w, reason);
}

static int parse_debug_crash(struct boot_options *o, const struct cmdline_word *w, char *reason)
{
	if (!w->has_value || !w->value[0] || str_copy(o->debug_crash, sizeof(o->debug_crash), w->value) < 0) {
		o->debug_crash[0] = '\0';
		snprintf(reason, CMDLINE_REASON_MAX, "must name a stage, or panic");
		return -EDOM;
	}
	return 0;
}

/* "latch", or "seed:<n>" with 1 <= n <= 999999. */
static int parse_debug_hold(struct boot_options *o, const struct cmdline_word *w, char *reason)
{
	const char *v = w->has_value ? w->value : "";
	const char *n = str_startswith(v, "seed:");
	size_t digits = n ? strspn(n, "0123456789") : 0;

	if (streq(v, "latch") || (n && digits >= 1 && digits <= 6 && !n[digits] && n[0] != '0')) {
		str_copy(o->debug_hold, sizeof(o->debug_hold), v);
		return 0;
	}
	o->debug_hold[0] = '\0';
	snprintf(reason, CMDLINE_REASON_MAX, "must be seed:<n> (1 to 999999) or latch");
	return -EDOM;
}

static int parse_boot_uuid(struct boot_options *o, const struct cmdline_word *w, char *reason)
{
	size_t len = w->has_value ? strlen(w->value) : 0;

	if (len != 36 || cmdline_parse_uuid(w->value, len, o->boot_uuid) < 0) {
		o->boot_uuid[0] = '\0';
		snprintf(reason, CMDLINE_REASON_MAX, "must be a UUID (8-4-4-4-12 hex digits)");
		return -EINVAL;
	}
	return 0;
}

/* decides: the option decides what is mounted or executed, so a value we cannot take stops the
 * boot instead of falling back to an earlier value or the default. */
static const struct {
	const char *key;
	option_handler parse;
	bool decides;
} options[] = {
	{ "roothash", parse_roothash, true },
	{ "systemd.verity_root_data", parse_verity_data, true },
	{ "systemd.verity_root_hash", parse_verity_hash, true },
	{ "systemd.verity_root_options", parse_verity_options, true },
	{ "root", parse_root, true },
	{ "init", parse_init, true },
	{ "edgeinit.persist", parse_persist, true },
	{ "rd.luks.name", cmdline_parse_luks_name, true },
	{ "rd.luks.uuid", cmdline_parse_luks_uuid_option, true },
	{ "rd.luks.key", cmdline_parse_luks_key, true },
	{ "rd.luks.options", cmdline_parse_luks_options, false },
	{ "rd.luks.tries", cmdline_parse_luks_tries, false },
	{ "edgeinit.tpm2.emt-handle", cmdline_parse_emt_handle, false },
	{ "boot_uuid", parse_boot_uuid, true },
	{ "rd.timeout", parse_timeout, false },
	{ "rd.emergency", parse_emergency, false },
	{ "edgeinit.debug", parse_debug, false },
	{ "edgeinit.emergency_delay", parse_emergency_delay, false },
	{ "edgeinit.tpm2.lockdown", parse_tpm2_lockdown, false },
	{ "edgeinit.debug.crash", parse_debug_crash, false },
	{ "edgeinit.debug.hold", parse_debug_hold, false },
	{ "edgeinit.exitrd", parse_exitrd, false },
};

static void fail(char *bad_key, char *reason, const char *key, const char *why)
{
	str_copy(bad_key, CMDLINE_KEY_MAX, key);
	str_copy(reason, CMDLINE_REASON_MAX, why);
}

/* Defaults that depend on other options, and checks across options. */
static int finalize(struct boot_options *o, char *bad_key, char *reason)
{
	const char *name = str_startswith(o->root, MAPPER_PREFIX);
	char uuid[37];

	if (!name || !*name || strchr(name, '/') || strlen(name) >= 128) {
		fail(bad_key, reason, "root",
		     "must name the verity mapping as /dev/mapper/<name>; edgeinit never mounts an unverified root");
		return -EINVAL;
	}
	str_copy(o->root_mapper_name, sizeof(o->root_mapper_name), name);

	/* EMT's command line: boot_uuid= picks the slot, the disk layout gives the partitions. A
	 * roothash= next to it is the signed root hash and wins over the roothash partition. */
	if (o->boot_uuid[0] && o->verity_data.kind == DEVREF_NONE && o->verity_hash.kind == DEVREF_NONE) {
		o->profile = BOOT_PROFILE_EMT;
		if (!o->tpm2_emt_handle_set)
			o->tpm2_emt_handle = EMT_SEALED_KEY_HANDLE;
		/* EMT's update tool relies on EMT's mapper names. */
		if (o->n_luks_names > 0) {
			fail(bad_key, reason, "rd.luks.name",
			     "EMT's volume names are fixed (its update tool relies on them); remove rd.luks.name= from the EMT command line");
			return -EINVAL;
		}
		return 0;
	}
	if (o->roothash_size == 0) {
		if (o->verity_data.kind != DEVREF_NONE || o->verity_hash.kind != DEVREF_NONE) {
			fail(bad_key, reason, "roothash",
			     "systemd.verity_root_data=/_hash= are set but roothash= is missing");
			return -EINVAL;
		}
		return 0;
	}
	/* systemd's convention (Discoverable Partitions Specification): the data partition's
	 * UUID is the first 128 bits of the root hash, the hash partition's the last 128. */
	if (o->verity_data.kind == DEVREF_NONE || o->verity_hash.kind == DEVREF_NONE) {
		if (o->roothash_size < 32) {
			fail(bad_key, reason, "roothash",
			     "too short to derive partition UUIDs: set systemd.verity_root_data= and systemd.verity_root_hash=");
			return -EINVAL;
		}
	}
	if (o->verity_data.kind == DEVREF_NONE) {
		uuid_format(o->roothash, uuid);
		o->verity_data.kind = DEVREF_PARTUUID;
		str_copy(o->verity_data.value, sizeof(o->verity_data.value), uuid);
	}
	if (o->verity_hash.kind == DEVREF_NONE) {
		uuid_format(o->roothash + o->roothash_size - 16, uuid);
		o->verity_hash.kind = DEVREF_PARTUUID;
		str_copy(o->verity_hash.value, sizeof(o->verity_hash.value), uuid);
	}
	return 0;
}

int boot_options_parse(const char *cmdline, struct boot_options *o, cmdline_note_fn note,
		       void *userdata, char *bad_key, char *reason)
{
	const char *cursor = cmdline ? cmdline : "";
	struct cmdline_word w;
	int r;

	bad_key[0] = reason[0] = '\0';
	for (;;) {
		bool known = false;

		r = cmdline_next_word(&cursor, &w);
		if (r == 0)
			break;
		for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
			if (strcmp(w.key, options[i].key) != 0)
				continue;
			known = r >= 0 || options[i].decides;
			if (r < 0 && options[i].decides) {
				/* Skipping it would let an earlier value win silently. */
				str_copy(bad_key, CMDLINE_KEY_MAX, w.key);
				str_copy(reason, CMDLINE_REASON_MAX, "value too long");
				return -EINVAL;
			}
			if (r < 0)
				break;
			r = options[i].parse(o, &w, reason);
			if (r == -EINVAL) {
				str_copy(bad_key, CMDLINE_KEY_MAX, w.key);
				return r;
			}
			if (r == -EDOM && note)
				note(userdata, CMDLINE_NOTE_INVALID_VALUE, w.key, reason);
			reason[0] = '\0';
		}
		if (!known && r < 0 && note)
			note(userdata, CMDLINE_NOTE_TOO_LONG, w.key, "word too long, skipped");
		else if (!known && str_startswith(w.key, "edgeinit.") && note)
			note(userdata, CMDLINE_NOTE_UNKNOWN_KEY, w.key, "");
	}
	return finalize(o, bad_key, reason);
}

const char *boot_profile_to_string(enum boot_profile p)
{
	return p == BOOT_PROFILE_EMT ? "emt" : "verity";
}

const char *emergency_action_to_string(enum emergency_action a)
{
	switch (a) {
	case EMERGENCY_REBOOT:
		return "reboot";
	case EMERGENCY_POWEROFF:
		return "poweroff";
	case EMERGENCY_HALT:
		return "halt";
	}
	return "reboot";
}

const char *verity_corruption_mode_to_string(enum verity_corruption_mode m)
{
	switch (m) {
	case VERITY_CORRUPTION_EIO:
		return "eio";
	case VERITY_CORRUPTION_RESTART:
		return "restart-on-corruption";
	case VERITY_CORRUPTION_PANIC:
		return "panic-on-corruption";
	case VERITY_CORRUPTION_IGNORE:
		return "ignore-corruption";
	}
	return "eio";
}
