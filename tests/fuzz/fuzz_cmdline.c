/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the kernel command line tokenizer and the boot option parser.
 * Oracle: an independent in-place re-implementation of the kernel's next_arg() word splitting
 * (kernel/params.c semantics) must agree with cmdline_next_word() on every word. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edgeinit/cmdline.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

static bool terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

/* ---- reference: the kernel's splitting, on a writable copy ---- */

static bool k_isspace(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xa0;
}

static char *k_skip(char *p)
{
	while (*p && k_isspace((unsigned char)*p))
		p++;
	return p;
}

static char *k_next(char *args, char **param, char **val)
{
	size_t i, eq = 0;
	bool in_quote = false, quoted = false;

	if (*args == '"') {
		args++;
		in_quote = quoted = true;
	}
	for (i = 0; args[i]; i++) {
		if (k_isspace((unsigned char)args[i]) && !in_quote)
			break;
		if (eq == 0 && args[i] == '=')
			eq = i;
		if (args[i] == '"')
			in_quote = !in_quote;
	}
	*param = args;
	*val = NULL;
	if (eq) {
		args[eq] = '\0';
		*val = args + eq + 1;
		if (**val == '"') {
			(*val)++;
			if (args[i - 1] == '"')
				args[i - 1] = '\0';
		}
	}
	if (quoted && i > 0 && args[i - 1] == '"')
		args[i - 1] = '\0';
	if (args[i]) {
		args[i] = '\0';
		args += i + 1;
	} else
		args += i;
	return k_skip(args);
}

static void note_cb(void *userdata, enum cmdline_note note, const char *key, const char *detail)
{
	unsigned *count = userdata;

	CHECK(note == CMDLINE_NOTE_UNKNOWN_KEY || note == CMDLINE_NOTE_TOO_LONG ||
	      note == CMDLINE_NOTE_INVALID_VALUE);
	CHECK(key && detail);
	CHECK(strlen(key) < CMDLINE_KEY_MAX);
	CHECK(strlen(detail) < CMDLINE_REASON_MAX);
	(*count)++;
}

static void check_devref(const struct devref *ref)
{
	CHECK(terminated(ref->value, sizeof(ref->value)));
	if (ref->kind != DEVREF_NONE)
		CHECK(ref->value[0] != '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line, *copy, *kcur;
	const char *cursor, *prev;
	struct cmdline_word w;
	struct boot_options o;
	char bad_key[CMDLINE_KEY_MAX], reason[CMDLINE_REASON_MAX];
	unsigned notes = 0;
	size_t len, steps = 0;
	int r;

	if (size > 64 * 1024)
		return 0;
	line = malloc(size + 1);
	copy = malloc(size + 1);
	if (!line || !copy)
		abort();
	memcpy(line, data, size);
	line[size] = '\0';
	memcpy(copy, line, size + 1);
	len = strlen(line);

	/* Word by word, against the reference. */
	cursor = line;
	kcur = k_skip(copy);
	for (;;) {
		char *param, *val;

		prev = cursor;
		r = cmdline_next_word(&cursor, &w);
		CHECK(r == 1 || r == 0 || r == -E2BIG);
		CHECK(cursor >= prev && cursor <= line + len);
		CHECK(terminated(w.key, sizeof(w.key)) && terminated(w.value, sizeof(w.value)));
		CHECK(++steps <= len + 1);
		if (!*kcur) {
			/* Reference is at the end: so must we be. */
			CHECK(r == 0 && *cursor == '\0');
			break;
		}
		CHECK(cursor > prev || r == 0);
		kcur = k_next(kcur, &param, &val);
		/* Both cursors stay in step. */
		CHECK(cursor - line == kcur - copy);
		if (r == -E2BIG) {
			CHECK(strlen(param) >= CMDLINE_KEY_MAX || (val && strlen(val) >= CMDLINE_VALUE_MAX));
			continue;
		}
		CHECK(strlen(param) < CMDLINE_KEY_MAX && (!val || strlen(val) < CMDLINE_VALUE_MAX));
		CHECK(strcmp(w.key, param) == 0);
		CHECK(w.has_value == (val != NULL));
		CHECK(strcmp(w.value, val ? val : "") == 0);
		if (!val && strcmp(param, "--") == 0) {
			CHECK(r == 0);
			break;
		}
		CHECK(r == 1);
	}

	/* The whole parser. */
	boot_options_init(&o);
	memset(bad_key, 'B', sizeof(bad_key));
	memset(reason, 'R', sizeof(reason));
	r = boot_options_parse(line, &o, note_cb, &notes, bad_key, reason);
	CHECK(r == 0 || r == -EINVAL);
	CHECK(terminated(bad_key, sizeof(bad_key)) && terminated(reason, sizeof(reason)));
	CHECK(terminated(o.root, sizeof(o.root)) && terminated(o.init, sizeof(o.init)));
	CHECK(terminated(o.root_mapper_name, sizeof(o.root_mapper_name)));
	check_devref(&o.verity_data);
	check_devref(&o.verity_hash);
	check_devref(&o.persist);
	if (r == 0) {
		CHECK(bad_key[0] == '\0' && reason[0] == '\0');
		CHECK(strncmp(o.root, "/dev/mapper/", 12) == 0);
		CHECK(o.root_mapper_name[0] && !strchr(o.root_mapper_name, '/'));
		CHECK(strcmp(o.root + 12, o.root_mapper_name) == 0);
		CHECK(o.init[0] == '/');
		CHECK(o.timeout_sec >= 1 && o.timeout_sec <= 86400);
		CHECK(o.emergency_delay_sec <= 3600);
		CHECK(o.emergency <= EMERGENCY_HALT);
		CHECK(o.verity_corruption <= VERITY_CORRUPTION_IGNORE);
		CHECK(o.roothash_size == 0 || (o.roothash_size >= 20 && o.roothash_size <= ROOTHASH_MAX));
		CHECK(terminated(o.boot_uuid, sizeof(o.boot_uuid)));
		CHECK(o.boot_uuid[0] == '\0' || strlen(o.boot_uuid) == 36);
		if (o.profile == BOOT_PROFILE_EMT) {
			/* EMT: boot_uuid= and the disk layout; a roothash= is used as is. */
			CHECK(o.boot_uuid[0] != '\0');
			CHECK(o.verity_data.kind == DEVREF_NONE && o.verity_hash.kind == DEVREF_NONE);
			CHECK(o.tpm2_emt_handle_set || o.tpm2_emt_handle == EMT_SEALED_KEY_HANDLE);
		} else {
			CHECK(o.profile == BOOT_PROFILE_VERITY);
			/* Verity partitions exist exactly when a root hash does. */
			CHECK((o.roothash_size > 0) == (o.verity_data.kind != DEVREF_NONE));
			CHECK((o.roothash_size > 0) == (o.verity_hash.kind != DEVREF_NONE));
			CHECK(o.boot_uuid[0] == '\0' || o.verity_data.kind != DEVREF_NONE);
		}
		CHECK(o.persist.kind != DEVREF_NONE);
	} else {
		CHECK(bad_key[0] != '\0' && reason[0] != '\0');
	}

	/* Parsing without a note callback gives the same verdict. */
	{
		struct boot_options o2;

		boot_options_init(&o2);
		CHECK(boot_options_parse(line, &o2, NULL, NULL, bad_key, reason) == r);
	}

	free(line);
	free(copy);
	return 0;
}
