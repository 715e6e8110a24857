/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "edgeinit/cmdline.h"
#include "suites.h"

#define RH_A "00112233445566778899aabbccddeeff0f1e2d3c4b5a69788796a5b4c3d2e1f0"
#define RH_A_DATA_UUID "00112233-4455-6677-8899-aabbccddeeff"
#define RH_A_HASH_UUID "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"

/* ======================= cmdline_next_word: the kernel's next_arg() ======================= */

struct expect_word {
	const char *key;
	const char *value; /* NULL: no '=' */
};

static const struct {
	const char *line;
	struct expect_word words[4];
	size_t n_words;
	const char *rest; /* where the cursor stops: after "--" or at the end ("") */
} word_cases[] = {
	{ "foo", { { "foo", NULL } }, 1, "" },
	{ "foo=bar", { { "foo", "bar" } }, 1, "" },
	{ "a b  c", { { "a", NULL }, { "b", NULL }, { "c", NULL } }, 3, "" },
	{ "   leading trailing   ", { { "leading", NULL }, { "trailing", NULL } }, 2, "" },
	{ "a\tb\nc\r\vd", { { "a", NULL }, { "b", NULL }, { "c", NULL }, { "d", NULL } }, 4, "" },
	{ "a\fb", { { "a", NULL }, { "b", NULL } }, 2, "" },
	/* The kernel's isspace() counts Latin-1 NBSP (0xa0) as a space. */
	{ "a\xa0" "b", { { "a", NULL }, { "b", NULL } }, 2, "" },
	/* Quotes around the value are removed, spaces inside are kept. */
	{ "foo=\"a b\"", { { "foo", "a b" } }, 1, "" },
	{ "foo=\"a b\" next", { { "foo", "a b" }, { "next", NULL } }, 2, "" },
	/* Quotes around the whole word. */
	{ "\"foo=bar baz\"", { { "foo", "bar baz" } }, 1, "" },
	{ "\"foo bar\" x", { { "foo bar", NULL }, { "x", NULL } }, 2, "" },
	{ "\"foo=bar\"", { { "foo", "bar" } }, 1, "" },
	/* Empty values. */
	{ "k=", { { "k", "" } }, 1, "" },
	{ "k= x", { { "k", "" }, { "x", NULL } }, 2, "" },
	{ "k=\"\"", { { "k", "" } }, 1, "" },
	{ "k=\"\" next", { { "k", "" }, { "next", NULL } }, 2, "" },
	{ "k=\"", { { "k", "" } }, 1, "" },
	/* Unterminated quotes run to the end of the line. */
	{ "k=\"abc def", { { "k", "abc def" } }, 1, "" },
	{ "\"abc def", { { "abc def", NULL } }, 1, "" },
	{ "a \"b c=d e", { { "a", NULL }, { "b c", "d e" } }, 2, "" }, /* quoted whole word */
	/* Quotes inside a value protect spaces but are not removed. */
	{ "k=a\"b c\" d", { { "k", "a\"b c\"" }, { "d", NULL } }, 2, "" },
	/* Only a leading quote of the value starts stripping; the trailing one must be last. */
	{ "k=\"a\"b", { { "k", "a\"b" } }, 1, "" },
	{ "\"foo\"=bar", { { "foo\"", "bar" } }, 1, "" },
	/* The first '=' splits, later ones belong to the value. */
	{ "root=PARTLABEL=rootfs", { { "root", "PARTLABEL=rootfs" } }, 1, "" },
	{ "k=a=b", { { "k", "a=b" } }, 1, "" },
	/* '=' at index 0 does not count as a separator (equals == 0 means "none" in the kernel). */
	{ "=foo", { { "=foo", NULL } }, 1, "" },
	{ "=a=b", { { "=a", "b" } }, 1, "" },
	{ "\"=foo\"", { { "=foo", NULL } }, 1, "" },
	/* "--" ends the options; what follows belongs to init. */
	{ "a -- b c", { { "a", NULL } }, 1, "b c" },
	{ "--", { { NULL, NULL } }, 0, "" },
	{ "a --", { { "a", NULL } }, 1, "" },
	{ "a --   ", { { "a", NULL } }, 1, "" },
	{ "\"--\" x", { { NULL, NULL } }, 0, "x" },
	/* Not a bare "--". */
	{ "--=x", { { "--", "x" } }, 1, "" },
	{ "--- x", { { "---", NULL }, { "x", NULL } }, 2, "" },
	{ "-- x", { { NULL, NULL } }, 0, "x" },
	/* Nothing at all. */
	{ "", { { NULL, NULL } }, 0, "" },
	{ " \t\n ", { { NULL, NULL } }, 0, "" },
	/* Lone quotes give an empty key, as the kernel's next_arg() does. */
	{ "\"", { { "", NULL } }, 1, "" },
	{ "\"\" x", { { "", NULL }, { "x", NULL } }, 2, "" },
};

START_TEST(test_next_word_table)
{
	const char *line = word_cases[_i].line, *cursor = line, *prev;
	struct cmdline_word w;
	size_t n = 0;
	int r;

	for (;;) {
		prev = cursor;
		memset(&w, 'Z', sizeof(w));
		r = cmdline_next_word(&cursor, &w);
		ck_assert_msg(r >= 0, "[%s] word %zu: r=%d", line, n, r);
		ck_assert(cursor >= prev);
		ck_assert(cursor <= line + strlen(line));
		if (r == 0)
			break;
		ck_assert(cursor > prev); /* a word was consumed */
		ck_assert_msg(n < word_cases[_i].n_words, "[%s] extra word '%s'", line, w.key);
		ck_assert_msg(strcmp(w.key, word_cases[_i].words[n].key) == 0,
			      "[%s] word %zu key '%s', expected '%s'", line, n, w.key,
			      word_cases[_i].words[n].key);
		if (word_cases[_i].words[n].value) {
			ck_assert_msg(w.has_value, "[%s] word %zu has no value", line, n);
			ck_assert_msg(strcmp(w.value, word_cases[_i].words[n].value) == 0,
				      "[%s] word %zu value '%s', expected '%s'", line, n, w.value,
				      word_cases[_i].words[n].value);
		} else {
			ck_assert_msg(!w.has_value, "[%s] word %zu has value '%s'", line, n, w.value);
			ck_assert_str_eq(w.value, "");
		}
		n++;
	}
	ck_assert_uint_eq(n, word_cases[_i].n_words);
	ck_assert_str_eq(cursor, word_cases[_i].rest);
	/* At the end, further calls keep returning 0 without moving backwards. */
	if (!*word_cases[_i].rest) {
		prev = cursor;
		ck_assert_int_eq(cmdline_next_word(&cursor, &w), 0);
		ck_assert_ptr_eq(cursor, prev);
	}
}
END_TEST

static void repeat(char *buf, char c, size_t n)
{
	memset(buf, c, n);
	buf[n] = '\0';
}

START_TEST(test_next_word_limits)
{
	static char line[4096], key[CMDLINE_KEY_MAX + 8], value[CMDLINE_VALUE_MAX + 8];
	struct cmdline_word w;
	const char *cursor;

	/* Largest key that fits: CMDLINE_KEY_MAX - 1. */
	repeat(key, 'k', CMDLINE_KEY_MAX - 1);
	snprintf(line, sizeof(line), "%s=v next", key);
	cursor = line;
	ck_assert_int_eq(cmdline_next_word(&cursor, &w), 1);
	ck_assert_str_eq(w.key, key);
	ck_assert_str_eq(w.value, "v");

	/* One more: -E2BIG, word skipped, cursor at the next word. */
	repeat(key, 'k', CMDLINE_KEY_MAX);
	snprintf(line, sizeof(line), "%s=v next", key);
	cursor = line;
	ck_assert_int_eq(cmdline_next_word(&cursor, &w), -E2BIG);
	ck_assert_str_eq(cursor, "next");
	ck_assert_int_eq(cmdline_next_word(&cursor, &w), 1);
	ck_assert_str_eq(w.key, "next");
	ck_assert_int_eq(cmdline_next_word(&cursor, &w), 0);

	/* A bare over-long word. */
	snprintf(line, sizeof(line), "  %s  ", key);
	cursor = line;
	ck_assert_int_eq(cmdline_next_word(&cursor, &w), -E2BIG);
	ck_assert_str_eq(cursor, "");

	/* Largest value that fits, then one more. */
	repeat(value, 'v', CMDLINE_VALUE_MAX - 1);
	snprintf(line, sizeof(line), "k=%s x", value);
	cursor = line;
	ck_assert_int_eq(cmdline_next_word(&cursor, &w), 1);
	ck_assert_uint_eq(strlen(w.value), CMDLINE_VALUE_MAX - 1);
	repeat(value, 'v', CMDLINE_VALUE_MAX);
	snprintf(line, sizeof(line), "k=%s x", value);
	cursor = line;
	ck_assert_int_eq(cmdline_next_word(&cursor, &w), -E2BIG);
	ck_assert_str_eq(cursor, "x");

	/* Quotes do not count towards the limit. */
	repeat(value, 'v', CMDLINE_VALUE_MAX - 1);
	snprintf(line, sizeof(line), "k=\"%s\"", value);
	cursor = line;
	ck_assert_int_eq(cmdline_next_word(&cursor, &w), 1);
	ck_assert_str_eq(w.value, value);
}
END_TEST

/* ======================= boot_options_parse ======================= */

struct note_rec {
	enum cmdline_note note;
	char key[CMDLINE_KEY_MAX];
	char detail[CMDLINE_REASON_MAX + 64];
};

struct notes {
	struct note_rec rec[16];
	size_t n;
};

static void record_note(void *userdata, enum cmdline_note note, const char *key, const char *detail)
{
	struct notes *ns = userdata;

	ck_assert_ptr_nonnull(key);
	ck_assert_ptr_nonnull(detail);
	ck_assert_uint_lt(strlen(key), CMDLINE_KEY_MAX);
	if (ns->n < sizeof(ns->rec) / sizeof(ns->rec[0])) {
		ns->rec[ns->n].note = note;
		snprintf(ns->rec[ns->n].key, sizeof(ns->rec[ns->n].key), "%s", key);
		snprintf(ns->rec[ns->n].detail, sizeof(ns->rec[ns->n].detail), "%s", detail);
	}
	ns->n++;
}

struct parsed {
	struct boot_options o;
	struct notes notes;
	char bad_key[CMDLINE_KEY_MAX];
	char reason[CMDLINE_REASON_MAX];
	int r;
};

static void parse(const char *line, struct parsed *p)
{
	memset(p, 0, sizeof(*p));
	memset(p->bad_key, 'B', sizeof(p->bad_key));
	memset(p->reason, 'R', sizeof(p->reason));
	boot_options_init(&p->o);
	p->r = boot_options_parse(line, &p->o, record_note, &p->notes, p->bad_key, p->reason);
	/* Whatever happened, the out strings are terminated within their documented sizes. */
	ck_assert_ptr_nonnull(memchr(p->bad_key, '\0', sizeof(p->bad_key)));
	ck_assert_ptr_nonnull(memchr(p->reason, '\0', sizeof(p->reason)));
}

static void assert_parse_ok(const char *line, struct parsed *p)
{
	parse(line, p);
	ck_assert_msg(p->r == 0, "parse(%s) = %d, bad_key '%s': %s", line, p->r, p->bad_key, p->reason);
	ck_assert_str_eq(p->bad_key, "");
	ck_assert_str_eq(p->reason, "");
}

static void assert_defaults_except_verity(const struct boot_options *o)
{
	ck_assert_str_eq(o->root, "/dev/mapper/rootfs_verity");
	ck_assert_str_eq(o->root_mapper_name, "rootfs_verity");
	ck_assert_int_eq(o->persist.kind, DEVREF_PARTLABEL);
	ck_assert_str_eq(o->persist.value, "edge_persistent");
	ck_assert_str_eq(o->init, "/sbin/init");
	ck_assert_uint_eq(o->timeout_sec, 30);
	ck_assert_int_eq(o->emergency, EMERGENCY_REBOOT);
	ck_assert_uint_eq(o->emergency_delay_sec, 5);
	ck_assert(!o->debug);
}

START_TEST(test_defaults)
{
	struct boot_options o;
	struct parsed p;

	memset(&o, 0xff, sizeof(o));
	boot_options_init(&o);
	ck_assert_uint_eq(o.roothash_size, 0);
	ck_assert_int_eq(o.verity_data.kind, DEVREF_NONE);
	ck_assert_int_eq(o.verity_hash.kind, DEVREF_NONE);
	ck_assert_int_eq(o.verity_corruption, VERITY_CORRUPTION_EIO);
	ck_assert(!o.verity_ignore_zero_blocks);
	ck_assert(!o.verity_check_at_most_once);
	ck_assert_str_eq(o.root, "/dev/mapper/rootfs_verity");
	ck_assert_int_eq(o.persist.kind, DEVREF_PARTLABEL);
	ck_assert_str_eq(o.persist.value, "edge_persistent");
	ck_assert_str_eq(o.init, "/sbin/init");
	ck_assert_uint_eq(o.timeout_sec, 30);
	ck_assert_uint_eq(o.emergency_delay_sec, 5);
	ck_assert_int_eq(o.emergency, EMERGENCY_REBOOT);
	ck_assert(!o.debug);

	/* An empty line keeps every default and derives the mapper name. */
	assert_parse_ok("", &p);
	assert_defaults_except_verity(&p.o);
	ck_assert_uint_eq(p.o.roothash_size, 0);
	ck_assert_int_eq(p.o.verity_data.kind, DEVREF_NONE);
	ck_assert_uint_eq(p.notes.n, 0);

	/* A NULL line is an empty line. */
	memset(&p, 0, sizeof(p));
	boot_options_init(&p.o);
	ck_assert_int_eq(boot_options_parse(NULL, &p.o, NULL, NULL, p.bad_key, p.reason), 0);
	assert_defaults_except_verity(&p.o);
}
END_TEST

START_TEST(test_emt_line)
{
	struct parsed p;

	assert_parse_ok("BOOT_IMAGE=/boot/vmlinuz-6.6.51.1-2.azl3 root=/dev/mapper/rootfs_verity "
			"boot_uuid=9a9e3a62-6c9c-4b4f-9ac8-6a2c5e0ef6d1 rd.shell=0 rd.timeout=200 "
			"rd.emergency=reboot console=ttyS0 rd.info lockdown=integrity ro "
			"selinux=0 pre.verity.mount=rootfs_verity",
			&p);
	ck_assert_str_eq(p.o.root, "/dev/mapper/rootfs_verity");
	ck_assert_str_eq(p.o.root_mapper_name, "rootfs_verity");
	ck_assert_uint_eq(p.o.timeout_sec, 200);
	ck_assert_int_eq(p.o.emergency, EMERGENCY_REBOOT);
	ck_assert_uint_eq(p.o.roothash_size, 0);
	ck_assert_int_eq(p.o.verity_data.kind, DEVREF_NONE);
	ck_assert_int_eq(p.o.verity_hash.kind, DEVREF_NONE);
	ck_assert_str_eq(p.o.init, "/sbin/init");
	/* Foreign keys (rd.shell, console, ...) are not edgeinit's business: no notes. */
	ck_assert_uint_eq(p.notes.n, 0);
	/* boot_uuid= without verity partitions: the EMT profile, EMT's sealed key and a prompt
	 * that ends (devices boot unattended). */
	ck_assert_str_eq(p.o.boot_uuid, "9a9e3a62-6c9c-4b4f-9ac8-6a2c5e0ef6d1");
	ck_assert_int_eq(p.o.profile, BOOT_PROFILE_EMT);
	ck_assert_uint_eq(p.o.tpm2_emt_handle, EMT_SEALED_KEY_HANDLE);
	ck_assert_uint_eq(p.o.luks_timeout_sec, PROMPT_TIMEOUT_SEC);
	ck_assert_str_eq(boot_profile_to_string(p.o.profile), "emt");
}
END_TEST

/* Issue 10: the prompt is bounded in both profiles; the lockdown is on unless turned off; the
 * command line says when the persistent partition must be LUKS2; rd.luks.name= has no place in
 * the EMT profile (its names are fixed). */
START_TEST(test_attacker_defaults)
{
	struct parsed p;
	char bad_key[CMDLINE_KEY_MAX], reason[CMDLINE_REASON_MAX];
	struct boot_options o;

	assert_parse_ok("roothash=" RH_A, &p);
	ck_assert_uint_eq(p.o.luks_timeout_sec, PROMPT_TIMEOUT_SEC);
	ck_assert(p.o.tpm2_lockdown);
	ck_assert(p.o.exitrd);
	ck_assert(!boot_options_expect_luks(&p.o));
	ck_assert_str_eq(p.o.debug_crash, "");
	assert_parse_ok("roothash=" RH_A " rd.luks.options=timeout=0 edgeinit.tpm2.lockdown=no edgeinit.debug.crash=devices edgeinit.exitrd=no", &p);
	ck_assert(!p.o.exitrd);
	ck_assert_uint_eq(p.o.luks_timeout_sec, 0);
	ck_assert(!p.o.tpm2_lockdown);
	ck_assert_str_eq(p.o.debug_crash, "devices");
	ck_assert_str_eq(p.o.debug_hold, "");
	assert_parse_ok("roothash=" RH_A " edgeinit.debug.hold=seed:12", &p);
	ck_assert_str_eq(p.o.debug_hold, "seed:12");
	assert_parse_ok("roothash=" RH_A " edgeinit.debug.hold=latch", &p);
	ck_assert_str_eq(p.o.debug_hold, "latch");
	/* Anything else is refused and no hold is set (a test knob never stops a boot). */
	static const char *const bad_holds[] = {
		"roothash=" RH_A " edgeinit.debug.hold=seed:0",
		"roothash=" RH_A " edgeinit.debug.hold=seed:1234567",
		"roothash=" RH_A " edgeinit.debug.hold=seed:3x",
		"roothash=" RH_A " edgeinit.debug.hold=forever",
	};
	for (size_t i = 0; i < sizeof(bad_holds) / sizeof(bad_holds[0]); i++) {
		assert_parse_ok(bad_holds[i], &p);
		ck_assert_str_eq(p.o.debug_hold, "");
	}
	assert_parse_ok("roothash=" RH_A " rd.luks.uuid=9a9e3a62-6c9c-4b4f-9ac8-6a2c5e0ef6d1", &p);
	ck_assert(boot_options_expect_luks(&p.o));
	assert_parse_ok("roothash=" RH_A " rd.luks.name=9a9e3a62-6c9c-4b4f-9ac8-6a2c5e0ef6d1=data", &p);
	ck_assert(boot_options_expect_luks(&p.o));
	ck_assert_str_eq(boot_options_luks_name(&p.o, "9A9E3A62-6C9C-4B4F-9AC8-6A2C5E0EF6D1"), "data");
	assert_parse_ok("roothash=" RH_A " edgeinit.tpm2.emt-handle=0x81000000", &p);
	ck_assert(boot_options_expect_luks(&p.o));
	/* A bad lockdown value keeps the default (on). */
	assert_parse_ok("roothash=" RH_A " edgeinit.tpm2.lockdown=maybe", &p);
	ck_assert(p.o.tpm2_lockdown);
	boot_options_init(&o);
	ck_assert_int_eq(boot_options_parse("boot_uuid=9a9e3a62-6c9c-4b4f-9ac8-6a2c5e0ef6d1 "
					    "rd.luks.name=9a9e3a62-6c9c-4b4f-9ac8-6a2c5e0ef6d1=data",
					    &o, NULL, NULL, bad_key, reason),
			 -EINVAL);
	ck_assert_str_eq(bad_key, "rd.luks.name");
}
END_TEST

START_TEST(test_emt_profile_choices)
{
	struct parsed p;

	/* Upper case is stored lower case; explicit handle and timeout win over the profile's. */
	assert_parse_ok("boot_uuid=9A9E3A62-6C9C-4B4F-9AC8-6A2C5E0EF6D1 edgeinit.tpm2.emt-handle=0 "
			"rd.luks.options=timeout=0", &p);
	ck_assert_str_eq(p.o.boot_uuid, "9a9e3a62-6c9c-4b4f-9ac8-6a2c5e0ef6d1");
	ck_assert_int_eq(p.o.profile, BOOT_PROFILE_EMT);
	ck_assert_uint_eq(p.o.tpm2_emt_handle, 0);
	ck_assert_uint_eq(p.o.luks_timeout_sec, 0);
	/* roothash= next to boot_uuid= stays (the signed hash wins over the roothash partition). */
	assert_parse_ok("boot_uuid=9a9e3a62-6c9c-4b4f-9ac8-6a2c5e0ef6d1 roothash=" RH_A, &p);
	ck_assert_int_eq(p.o.profile, BOOT_PROFILE_EMT);
	ck_assert_uint_eq(p.o.roothash_size, 32);
	ck_assert_int_eq(p.o.verity_data.kind, DEVREF_NONE);
	/* Explicit verity partitions: the verity profile, boot_uuid= is not used. */
	assert_parse_ok("boot_uuid=9a9e3a62-6c9c-4b4f-9ac8-6a2c5e0ef6d1 roothash=" RH_A
			" systemd.verity_root_data=PARTLABEL=rootfs systemd.verity_root_hash=PARTLABEL=hashmap_a", &p);
	ck_assert_int_eq(p.o.profile, BOOT_PROFILE_VERITY);
	ck_assert_uint_eq(p.o.tpm2_emt_handle, 0);
	assert_parse_ok("roothash=" RH_A, &p);
	ck_assert_int_eq(p.o.profile, BOOT_PROFILE_VERITY);
	/* An invalid handle is as if the word were not there: an earlier value, else the default. */
	assert_parse_ok("boot_uuid=9a9e3a62-6c9c-4b4f-9ac8-6a2c5e0ef6d1 edgeinit.tpm2.emt-handle=bogus", &p);
	ck_assert_uint_eq(p.o.tpm2_emt_handle, EMT_SEALED_KEY_HANDLE);
	assert_parse_ok("boot_uuid=9a9e3a62-6c9c-4b4f-9ac8-6a2c5e0ef6d1 edgeinit.tpm2.emt-handle=off "
			"edgeinit.tpm2.emt-handle=bogus", &p);
	ck_assert_uint_eq(p.o.tpm2_emt_handle, 0);
	/* A boot_uuid= that is not a UUID decides what boots: refused, never ignored. */
	static const char *const bad[] = { "boot_uuid=", "boot_uuid", "boot_uuid=9a9e3a62",
					   "boot_uuid=9a9e3a62-6c9c-4b4f-9ac8-6a2c5e0ef6d1x",
					   "boot_uuid=luks-9a9e3a62-6c9c-4b4f-9ac8-6a2c5e0ef6d1",
					   "boot_uuid=9a9e3a62x6c9c-4b4f-9ac8-6a2c5e0ef6d1",
					   "boot_uuid=9a9e3a62-6c9c-4b4f-9ac8-6a2c5e0ef6dg" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		parse(bad[i], &p);
		ck_assert_msg(p.r == -EINVAL, "%s: %d", bad[i], p.r);
		ck_assert_str_eq(p.bad_key, "boot_uuid");
	}
}
END_TEST

START_TEST(test_full_verity_line)
{
	static const uint8_t rh[32] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
					0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
					0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78,
					0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0 };
	struct parsed p;

	assert_parse_ok("console=ttyS0 roothash=" RH_A " systemd.verity_root_data=PARTLABEL=rootfs "
			"systemd.verity_root_hash=PARTLABEL=hashmap_a "
			"systemd.verity_root_options=restart-on-corruption root=/dev/mapper/root "
			"init=/usr/lib/systemd/systemd edgeinit.persist=PARTUUID=6c0e0f3e-1d1a-4a43-9e0f-0d8b0b9e2c11 "
			"edgeinit.debug edgeinit.emergency_delay=0 rd.emergency=poweroff quiet",
			&p);
	ck_assert_uint_eq(p.o.roothash_size, 32);
	ck_assert_mem_eq(p.o.roothash, rh, 32);
	ck_assert_int_eq(p.o.verity_data.kind, DEVREF_PARTLABEL);
	ck_assert_str_eq(p.o.verity_data.value, "rootfs");
	ck_assert_int_eq(p.o.verity_hash.kind, DEVREF_PARTLABEL);
	ck_assert_str_eq(p.o.verity_hash.value, "hashmap_a");
	ck_assert_int_eq(p.o.verity_corruption, VERITY_CORRUPTION_RESTART);
	ck_assert(!p.o.verity_ignore_zero_blocks);
	ck_assert(!p.o.verity_check_at_most_once);
	ck_assert_str_eq(p.o.root, "/dev/mapper/root");
	ck_assert_str_eq(p.o.root_mapper_name, "root");
	ck_assert_str_eq(p.o.init, "/usr/lib/systemd/systemd");
	ck_assert_int_eq(p.o.persist.kind, DEVREF_PARTUUID);
	ck_assert_str_eq(p.o.persist.value, "6c0e0f3e-1d1a-4a43-9e0f-0d8b0b9e2c11");
	ck_assert(p.o.debug);
	ck_assert_uint_eq(p.o.emergency_delay_sec, 0);
	ck_assert_int_eq(p.o.emergency, EMERGENCY_POWEROFF);
	ck_assert_uint_eq(p.notes.n, 0);
}
END_TEST

/* The Discoverable Partitions Specification default: data PARTUUID = first 128 bits of the root
 * hash, hash PARTUUID = last 128 bits. */
START_TEST(test_dps_derivation)
{
	struct parsed p;

	assert_parse_ok("roothash=" RH_A, &p);
	ck_assert_uint_eq(p.o.roothash_size, 32);
	ck_assert_int_eq(p.o.verity_data.kind, DEVREF_PARTUUID);
	ck_assert_str_eq(p.o.verity_data.value, RH_A_DATA_UUID);
	ck_assert_int_eq(p.o.verity_hash.kind, DEVREF_PARTUUID);
	ck_assert_str_eq(p.o.verity_hash.value, RH_A_HASH_UUID);
	assert_defaults_except_verity(&p.o);

	/* Upper-case hex is the same hash; derived UUIDs are lower case. */
	assert_parse_ok("roothash=00112233445566778899AABBCCDDEEFF0F1E2D3C4B5A69788796A5B4C3D2E1F0", &p);
	ck_assert_str_eq(p.o.verity_data.value, RH_A_DATA_UUID);
	ck_assert_str_eq(p.o.verity_hash.value, RH_A_HASH_UUID);

	/* Only the missing one is derived. */
	assert_parse_ok("roothash=" RH_A " systemd.verity_root_data=/dev/vda3", &p);
	ck_assert_int_eq(p.o.verity_data.kind, DEVREF_PATH);
	ck_assert_str_eq(p.o.verity_data.value, "/dev/vda3");
	ck_assert_int_eq(p.o.verity_hash.kind, DEVREF_PARTUUID);
	ck_assert_str_eq(p.o.verity_hash.value, RH_A_HASH_UUID);

	assert_parse_ok("systemd.verity_root_hash=LABEL=hash roothash=" RH_A, &p);
	ck_assert_int_eq(p.o.verity_data.kind, DEVREF_PARTUUID);
	ck_assert_str_eq(p.o.verity_data.value, RH_A_DATA_UUID);
	ck_assert_int_eq(p.o.verity_hash.kind, DEVREF_LABEL);
	ck_assert_str_eq(p.o.verity_hash.value, "hash");

	/* sha512 root hash (64 bytes): hash UUID from bytes 48..63. */
	assert_parse_ok("roothash=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
			"202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f",
			&p);
	ck_assert_uint_eq(p.o.roothash_size, 64);
	ck_assert_str_eq(p.o.verity_data.value, "00010203-0405-0607-0809-0a0b0c0d0e0f");
	ck_assert_str_eq(p.o.verity_hash.value, "30313233-3435-3637-3839-3a3b3c3d3e3f");

	/* sha1 (20 bytes) is accepted when both partitions are named explicitly. */
	assert_parse_ok("roothash=00112233445566778899aabbccddeeff01234567 "
			"systemd.verity_root_data=PARTLABEL=a systemd.verity_root_hash=PARTLABEL=b",
			&p);
	ck_assert_uint_eq(p.o.roothash_size, 20);
	ck_assert_str_eq(p.o.verity_data.value, "a");
	ck_assert_str_eq(p.o.verity_hash.value, "b");
}
END_TEST

START_TEST(test_later_wins)
{
	struct parsed p;

	assert_parse_ok("rd.timeout=10 rd.timeout=20", &p);
	ck_assert_uint_eq(p.o.timeout_sec, 20);
	assert_parse_ok("root=/dev/mapper/a root=/dev/mapper/b", &p);
	ck_assert_str_eq(p.o.root_mapper_name, "b");
	assert_parse_ok("rd.emergency=halt rd.emergency=poweroff", &p);
	ck_assert_int_eq(p.o.emergency, EMERGENCY_POWEROFF);
	assert_parse_ok("init=/a init=/b", &p);
	ck_assert_str_eq(p.o.init, "/b");
	assert_parse_ok("edgeinit.debug edgeinit.debug=0", &p);
	ck_assert(!p.o.debug);
	assert_parse_ok("edgeinit.persist=LABEL=a edgeinit.persist=/dev/vdb1", &p);
	ck_assert_int_eq(p.o.persist.kind, DEVREF_PATH);
	ck_assert_str_eq(p.o.persist.value, "/dev/vdb1");

	/* A later roothash replaces the earlier one, including its size. */
	assert_parse_ok("roothash=" RH_A " roothash=ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100", &p);
	ck_assert_uint_eq(p.o.roothash_size, 32);
	ck_assert_uint_eq(p.o.roothash[0], 0xff);
	ck_assert_str_eq(p.o.verity_data.value, "ffeeddcc-bbaa-9988-7766-554433221100");

	/* A later systemd.verity_root_options= replaces all earlier flags. */
	assert_parse_ok("systemd.verity_root_options=ignore-zero-blocks,panic-on-corruption "
			"systemd.verity_root_options=check-at-most-once",
			&p);
	ck_assert_int_eq(p.o.verity_corruption, VERITY_CORRUPTION_EIO);
	ck_assert(!p.o.verity_ignore_zero_blocks);
	ck_assert(p.o.verity_check_at_most_once);

	/* Everything after "--" is for init. */
	assert_parse_ok("rd.timeout=7 -- rd.timeout=9 init=relative", &p);
	ck_assert_uint_eq(p.o.timeout_sec, 7);
	ck_assert_str_eq(p.o.init, "/sbin/init");
}
END_TEST

static const struct {
	const char *value;
	enum verity_corruption_mode mode;
	bool izb, camo;
} verity_option_cases[] = {
	{ "restart-on-corruption", VERITY_CORRUPTION_RESTART, false, false },
	{ "panic-on-corruption", VERITY_CORRUPTION_PANIC, false, false },
	{ "ignore-corruption", VERITY_CORRUPTION_IGNORE, false, false },
	{ "ignore-zero-blocks", VERITY_CORRUPTION_EIO, true, false },
	{ "check-at-most-once", VERITY_CORRUPTION_EIO, false, true },
	{ "panic-on-corruption,ignore-zero-blocks,check-at-most-once", VERITY_CORRUPTION_PANIC, true, true },
	{ "check-at-most-once,restart-on-corruption", VERITY_CORRUPTION_RESTART, false, true },
	{ "\"ignore-zero-blocks,ignore-corruption\"", VERITY_CORRUPTION_IGNORE, true, false },
};

START_TEST(test_verity_options_table)
{
	char line[256];
	struct parsed p;

	snprintf(line, sizeof(line), "systemd.verity_root_options=%s", verity_option_cases[_i].value);
	assert_parse_ok(line, &p);
	ck_assert_int_eq(p.o.verity_corruption, verity_option_cases[_i].mode);
	ck_assert_int_eq(p.o.verity_ignore_zero_blocks, verity_option_cases[_i].izb);
	ck_assert_int_eq(p.o.verity_check_at_most_once, verity_option_cases[_i].camo);
}
END_TEST

/* Security-relevant options: any problem fails the whole parse and names the key. */
static const struct {
	const char *line;
	const char *bad_key;
} reject_cases[] = {
	/* roothash= */
	{ "roothash=g0112233445566778899aabbccddeeff0f1e2d3c4b5a69788796a5b4c3d2e1f0", "roothash" },
	{ "roothash=0112233445566778899aabbccddeeff0f1e2d3c4b5a69788796a5b4c3d2e1f0", "roothash" }, /* 63 digits */
	{ "roothash=00112233445566778899aabbccddeeff", "roothash" },             /* 16 bytes < sha1 */
	{ "roothash=00112233445566778899aabbccddeeff001122", "roothash" },       /* 19 bytes */
	/* Too short even when nothing has to be derived from it. */
	{ "roothash=00112233445566778899aabbccddeeff systemd.verity_root_data=PARTLABEL=a "
	  "systemd.verity_root_hash=PARTLABEL=b", "roothash" },
	{ "roothash=00112233445566778899aabbccddeeff001122 systemd.verity_root_data=PARTLABEL=a "
	  "systemd.verity_root_hash=PARTLABEL=b", "roothash" },
	{ "roothash=", "roothash" },
	{ "roothash=\"\"", "roothash" },
	{ "roothash", "roothash" },
	{ "roothash=" RH_A RH_A "00", "roothash" },                              /* 65 bytes */
	{ "roothash=0x" RH_A, "roothash" },
	/* sha1-sized hash with nothing to derive the partitions from. */
	{ "roothash=00112233445566778899aabbccddeeff01234567", "roothash" },
	{ "roothash=00112233445566778899aabbccddeeff01234567 systemd.verity_root_data=PARTLABEL=a", "roothash" },
	{ "roothash=00112233445566778899aabbccddeeff01234567 systemd.verity_root_hash=PARTLABEL=b", "roothash" },
	/* verity partitions without a root hash. */
	{ "systemd.verity_root_data=PARTLABEL=rootfs", "roothash" },
	{ "systemd.verity_root_hash=PARTLABEL=hashmap_a", "roothash" },
	/* verity partitions that are not device references. */
	{ "roothash=" RH_A " systemd.verity_root_data=rootfs", "systemd.verity_root_data" },
	{ "roothash=" RH_A " systemd.verity_root_data=FOO=x", "systemd.verity_root_data" },
	{ "roothash=" RH_A " systemd.verity_root_data=PARTLABEL=", "systemd.verity_root_data" },
	{ "roothash=" RH_A " systemd.verity_root_data=", "systemd.verity_root_data" },
	{ "roothash=" RH_A " systemd.verity_root_hash=/dev/", "systemd.verity_root_hash" },
	{ "roothash=" RH_A " systemd.verity_root_hash", "systemd.verity_root_hash" },
	/* verity options. */
	{ "systemd.verity_root_options=restart-on-corruption,panic-on-corruption", "systemd.verity_root_options" },
	{ "systemd.verity_root_options=ignore-corruption,restart-on-corruption", "systemd.verity_root_options" },
	{ "systemd.verity_root_options=restart-on-corruption,fec-roots=2", "systemd.verity_root_options" },
	{ "systemd.verity_root_options=bogus", "systemd.verity_root_options" },
	{ "systemd.verity_root_options=Restart-On-Corruption", "systemd.verity_root_options" },
	{ "systemd.verity_root_options", "systemd.verity_root_options" },
	/* root= must be a /dev/mapper/<name> mapping. */
	{ "root=/dev/sda2", "root" },
	{ "root=PARTLABEL=rootfs", "root" },
	{ "root=/dev/mapper/", "root" },
	{ "root=/dev/mapper/a/b", "root" },
	{ "root=/dev/mapper", "root" },
	{ "root=mapper/rootfs", "root" },
	{ "root=", "root" },
	{ "root", "root" },
	/* init= must be absolute. */
	{ "init=sbin/init", "init" },
	{ "init=", "init" },
	{ "init", "init" },
	{ "init=/usr/../../bin/sh", "init" },
	/* The first fatal error wins even if later words are fine. */
	{ "init=bash rd.timeout=5 root=/dev/mapper/x", "init" },
};

START_TEST(test_reject_table)
{
	struct parsed p;

	parse(reject_cases[_i].line, &p);
	ck_assert_msg(p.r == -EINVAL, "parse(%s) = %d, expected -EINVAL", reject_cases[_i].line, p.r);
	ck_assert_str_eq(p.bad_key, reject_cases[_i].bad_key);
	ck_assert_msg(strlen(p.reason) > 0, "parse(%s): empty reason", reject_cases[_i].line);
}
END_TEST

START_TEST(test_root_name_length)
{
	char line[400], name[200];
	struct parsed p;

	repeat(name, 'n', 127);
	snprintf(line, sizeof(line), "root=/dev/mapper/%s", name);
	assert_parse_ok(line, &p);
	ck_assert_str_eq(p.o.root_mapper_name, name);

	repeat(name, 'n', 128); /* dm names are at most 127 characters */
	snprintf(line, sizeof(line), "root=/dev/mapper/%s", name);
	parse(line, &p);
	ck_assert_int_eq(p.r, -EINVAL);
	ck_assert_str_eq(p.bad_key, "root");
}
END_TEST

/* edgeinit.persist= decides what is mounted read-write at /opt: a bad value is fatal (falling back
 * to the default would mount a partition the integrator did not name). */
START_TEST(test_persist_invalid_is_fatal)
{
	struct parsed p;

	parse("edgeinit.persist=relative rd.timeout=9", &p);
	ck_assert_int_eq(p.r, -EINVAL);
	ck_assert_str_eq(p.bad_key, "edgeinit.persist");
	ck_assert_uint_eq(p.notes.n, 0);
}
END_TEST

/* An over-long value of an option edgeinit reads must not let an earlier value win silently. */
START_TEST(test_overlong_known_option_is_fatal)
{
	static char line[4096];
	struct parsed p;

	memset(line, 'a', sizeof(line));
	memcpy(line, "roothash=" RH_A " roothash=", 9 + 64 + 10);
	line[sizeof(line) - 1] = '\0';
	parse(line, &p);
	ck_assert_int_eq(p.r, -EINVAL);
	ck_assert_str_eq(p.bad_key, "roothash");
	ck_assert_ptr_nonnull(strstr(p.reason, "too long"));
}
END_TEST

/* LUKS and TPM options, with systemd-cryptsetup's names. */
START_TEST(test_luks_options)
{
	struct parsed p;

	assert_parse_ok("rd.luks.name=luks-0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0=rootfs_a "
			"rd.luks.name=11111111-2222-3333-4444-555555555555=rootfs_b "
			"rd.luks.name=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0=rootfs_x "
			"rd.luks.uuid=11111111-2222-3333-4444-555555555555 rd.luks.key=/etc/keys/persist.key "
			"rd.luks.options=tries=5,headless,discard edgeinit.tpm2.emt-handle=0x81000000",
			&p);
	ck_assert_uint_eq(p.o.n_luks_names, 2);
	ck_assert_str_eq(boot_options_luks_name(&p.o, "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0"), "rootfs_x");
	ck_assert_str_eq(boot_options_luks_name(&p.o, "11111111-2222-3333-4444-555555555555"), "rootfs_b");
	ck_assert_ptr_null(boot_options_luks_name(&p.o, "99999999-2222-3333-4444-555555555555"));
	ck_assert(boot_options_luks_allowed(&p.o, "11111111-2222-3333-4444-555555555555"));
	ck_assert(!boot_options_luks_allowed(&p.o, "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"));
	ck_assert_str_eq(p.o.luks_key, "/etc/keys/persist.key");
	ck_assert_uint_eq(p.o.luks_tries, 5);
	ck_assert(p.o.luks_headless);
	ck_assert(p.o.luks_tpm2);
	ck_assert_uint_eq(p.o.tpm2_emt_handle, 0x81000000);
	ck_assert_uint_eq(p.notes.n, 0);

	assert_parse_ok("", &p);
	ck_assert_uint_eq(p.o.luks_tries, 3);
	ck_assert(!p.o.luks_headless);
	ck_assert(p.o.luks_tpm2);
	ck_assert_str_eq(p.o.luks_tpm2_device, "/dev/tpmrm0");
	ck_assert_uint_eq(p.o.tpm2_emt_handle, 0);
	ck_assert(boot_options_luks_allowed(&p.o, "11111111-2222-3333-4444-555555555555"));

	assert_parse_ok("rd.luks.options=tpm2-device=off", &p);
	ck_assert(!p.o.luks_tpm2);
	assert_parse_ok("rd.luks.options=tpm2-device=/dev/tpmrm1 rd.luks.tries=0", &p);
	ck_assert(p.o.luks_tpm2);
	ck_assert_str_eq(p.o.luks_tpm2_device, "/dev/tpmrm1");
	ck_assert_uint_eq(p.o.luks_tries, 0);
}
END_TEST

static const struct {
	const char *line;
	const char *key;
} luks_fatal_cases[] = {
	{ "rd.luks.name=not-a-uuid=x", "rd.luks.name" },
	{ "rd.luks.name=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "rd.luks.name" },
	{ "rd.luks.name=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0=a/b", "rd.luks.name" },
	{ "rd.luks.name=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1fg=x", "rd.luks.name" },
	{ "rd.luks.uuid=0f1e2d3c4b5a69788796a5b4c3d2e1f0", "rd.luks.uuid" },
	{ "rd.luks.key=relative.key", "rd.luks.key" },
	{ "rd.luks.key=/key:/dev/sdb1", "rd.luks.key" },
};

START_TEST(test_luks_fatal_table)
{
	struct parsed p;

	parse(luks_fatal_cases[_i].line, &p);
	ck_assert_int_eq(p.r, -EINVAL);
	ck_assert_str_eq(p.bad_key, luks_fatal_cases[_i].key);
}
END_TEST

START_TEST(test_emt_handle_invalid_is_note)
{
	struct parsed p;

	assert_parse_ok("edgeinit.tpm2.emt-handle=0x80000000", &p);
	ck_assert_uint_eq(p.notes.n, 1);
	ck_assert_int_eq(p.notes.rec[0].note, CMDLINE_NOTE_INVALID_VALUE);
	ck_assert_uint_eq(p.o.tpm2_emt_handle, 0);
	assert_parse_ok("edgeinit.tpm2.emt-handle=0x81000001 edgeinit.tpm2.emt-handle=off", &p);
	ck_assert_uint_eq(p.o.tpm2_emt_handle, 0);
}
END_TEST

/* Non-security options: a bad value is a note and the default stays. */
static const struct {
	const char *line;
	const char *key;
} invalid_value_cases[] = {
	{ "rd.timeout=abc", "rd.timeout" },
	{ "rd.timeout=0", "rd.timeout" },
	{ "rd.timeout=86401", "rd.timeout" },
	{ "rd.timeout=-1", "rd.timeout" },
	{ "rd.timeout=", "rd.timeout" },
	{ "rd.timeout", "rd.timeout" },
	{ "rd.timeout=10s", "rd.timeout" },
	{ "rd.timeout=99999999999999999999999", "rd.timeout" },
	{ "rd.emergency=dance", "rd.emergency" },
	{ "rd.emergency=Reboot", "rd.emergency" },
	{ "rd.emergency=", "rd.emergency" },
	{ "rd.emergency", "rd.emergency" },
	{ "edgeinit.emergency_delay=3601", "edgeinit.emergency_delay" },
	{ "edgeinit.emergency_delay=x", "edgeinit.emergency_delay" },
	{ "edgeinit.debug=maybe", "edgeinit.debug" },
	{ "edgeinit.debug=", "edgeinit.debug" },
};

START_TEST(test_invalid_value_table)
{
	struct parsed p;

	assert_parse_ok(invalid_value_cases[_i].line, &p);
	ck_assert_uint_eq(p.notes.n, 1);
	ck_assert_int_eq(p.notes.rec[0].note, CMDLINE_NOTE_INVALID_VALUE);
	ck_assert_str_eq(p.notes.rec[0].key, invalid_value_cases[_i].key);
	ck_assert_msg(strlen(p.notes.rec[0].detail) > 0, "%s: empty detail", invalid_value_cases[_i].line);
	assert_defaults_except_verity(&p.o);

	/* A NULL note callback is allowed. */
	boot_options_init(&p.o);
	ck_assert_int_eq(boot_options_parse(invalid_value_cases[_i].line, &p.o, NULL, NULL, p.bad_key, p.reason), 0);
	assert_defaults_except_verity(&p.o);
}
END_TEST

static const struct {
	const char *line;
	unsigned timeout, delay;
	enum emergency_action emergency;
	bool debug;
} valid_value_cases[] = {
	{ "rd.timeout=1", 1, 5, EMERGENCY_REBOOT, false },
	{ "rd.timeout=86400", 86400, 5, EMERGENCY_REBOOT, false },
	{ "rd.timeout=\"45\"", 45, 5, EMERGENCY_REBOOT, false },
	{ "edgeinit.emergency_delay=0", 30, 0, EMERGENCY_REBOOT, false },
	{ "edgeinit.emergency_delay=3600", 30, 3600, EMERGENCY_REBOOT, false },
	{ "rd.emergency=poweroff", 30, 5, EMERGENCY_POWEROFF, false },
	{ "rd.emergency=halt", 30, 5, EMERGENCY_HALT, false },
	{ "rd.emergency=halt rd.emergency=reboot", 30, 5, EMERGENCY_REBOOT, false },
	{ "edgeinit.debug", 30, 5, EMERGENCY_REBOOT, true },
	{ "edgeinit.debug=1", 30, 5, EMERGENCY_REBOOT, true },
	{ "edgeinit.debug=yes", 30, 5, EMERGENCY_REBOOT, true },
	{ "edgeinit.debug=true", 30, 5, EMERGENCY_REBOOT, true },
	{ "edgeinit.debug=on", 30, 5, EMERGENCY_REBOOT, true },
	{ "edgeinit.debug edgeinit.debug=off", 30, 5, EMERGENCY_REBOOT, false },
	{ "edgeinit.debug edgeinit.debug=no", 30, 5, EMERGENCY_REBOOT, false },
	{ "edgeinit.debug edgeinit.debug=false", 30, 5, EMERGENCY_REBOOT, false },
	{ "edgeinit.debug edgeinit.debug=0", 30, 5, EMERGENCY_REBOOT, false },
};

START_TEST(test_valid_value_table)
{
	struct parsed p;

	assert_parse_ok(valid_value_cases[_i].line, &p);
	ck_assert_uint_eq(p.notes.n, 0);
	ck_assert_uint_eq(p.o.timeout_sec, valid_value_cases[_i].timeout);
	ck_assert_uint_eq(p.o.emergency_delay_sec, valid_value_cases[_i].delay);
	ck_assert_int_eq(p.o.emergency, valid_value_cases[_i].emergency);
	ck_assert_int_eq(p.o.debug, valid_value_cases[_i].debug);
}
END_TEST

START_TEST(test_unknown_keys)
{
	struct parsed p;

	assert_parse_ok("edgeinit.foo=1 quiet edgeinit.bar systemd.foo=1 rd.foo edgeinitfoo=1 edgeinit.debug", &p);
	ck_assert_uint_eq(p.notes.n, 2);
	ck_assert_int_eq(p.notes.rec[0].note, CMDLINE_NOTE_UNKNOWN_KEY);
	ck_assert_str_eq(p.notes.rec[0].key, "edgeinit.foo");
	ck_assert_int_eq(p.notes.rec[1].note, CMDLINE_NOTE_UNKNOWN_KEY);
	ck_assert_str_eq(p.notes.rec[1].key, "edgeinit.bar");
	ck_assert(p.o.debug);
	assert_parse_ok("edgeinit.foo=1", &p);
	ck_assert_uint_eq(p.notes.n, 1);
	/* Keys are case-sensitive like the kernel's. */
	assert_parse_ok("edgeinit.Debug", &p);
	ck_assert_uint_eq(p.notes.n, 1);
	ck_assert_int_eq(p.notes.rec[0].note, CMDLINE_NOTE_UNKNOWN_KEY);
	ck_assert(!p.o.debug);
}
END_TEST

START_TEST(test_too_long_words)
{
	static char line[8192], big[CMDLINE_VALUE_MAX + 16];
	struct parsed p;

	repeat(big, '1', CMDLINE_VALUE_MAX + 10);
	snprintf(line, sizeof(line), "rd.timeout=%s rd.timeout=7", big);
	assert_parse_ok(line, &p);
	ck_assert_uint_eq(p.notes.n, 1);
	ck_assert_int_eq(p.notes.rec[0].note, CMDLINE_NOTE_TOO_LONG);
	ck_assert_str_eq(p.notes.rec[0].key, "rd.timeout");
	ck_assert_uint_eq(p.o.timeout_sec, 7);

	repeat(big, 'k', CMDLINE_KEY_MAX + 5);
	snprintf(line, sizeof(line), "edgeinit.%s=1 edgeinit.debug", big);
	assert_parse_ok(line, &p);
	ck_assert_uint_eq(p.notes.n, 1);
	ck_assert_int_eq(p.notes.rec[0].note, CMDLINE_NOTE_TOO_LONG);
	ck_assert(p.o.debug);

	/* A NULL callback is fine. */
	boot_options_init(&p.o);
	ck_assert_int_eq(boot_options_parse(line, &p.o, NULL, NULL, p.bad_key, p.reason), 0);
}
END_TEST

START_TEST(test_to_string)
{
	ck_assert_str_eq(emergency_action_to_string(EMERGENCY_REBOOT), "reboot");
	ck_assert_str_eq(emergency_action_to_string(EMERGENCY_POWEROFF), "poweroff");
	ck_assert_str_eq(emergency_action_to_string(EMERGENCY_HALT), "halt");
	ck_assert_str_eq(verity_corruption_mode_to_string(VERITY_CORRUPTION_EIO), "eio");
	ck_assert_str_eq(verity_corruption_mode_to_string(VERITY_CORRUPTION_RESTART), "restart-on-corruption");
	ck_assert_str_eq(verity_corruption_mode_to_string(VERITY_CORRUPTION_PANIC), "panic-on-corruption");
	ck_assert_str_eq(verity_corruption_mode_to_string(VERITY_CORRUPTION_IGNORE), "ignore-corruption");
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

Suite *cmdline_suite(void)
{
	Suite *s = suite_create("cmdline");
	TCase *words = tcase_create("next_word"), *opts = tcase_create("boot_options");

	tcase_add_loop_test(words, test_next_word_table, 0, N(word_cases));
	tcase_add_test(words, test_next_word_limits);
	suite_add_tcase(s, words);

	tcase_add_test(opts, test_defaults);
	tcase_add_test(opts, test_emt_line);
	tcase_add_test(opts, test_emt_profile_choices);
	tcase_add_test(opts, test_attacker_defaults);
	tcase_add_test(opts, test_full_verity_line);
	tcase_add_test(opts, test_dps_derivation);
	tcase_add_test(opts, test_later_wins);
	tcase_add_loop_test(opts, test_verity_options_table, 0, N(verity_option_cases));
	tcase_add_loop_test(opts, test_reject_table, 0, N(reject_cases));
	tcase_add_test(opts, test_root_name_length);
	tcase_add_test(opts, test_persist_invalid_is_fatal);
	tcase_add_test(opts, test_overlong_known_option_is_fatal);
	tcase_add_test(opts, test_luks_options);
	tcase_add_loop_test(opts, test_luks_fatal_table, 0, (int)(sizeof(luks_fatal_cases) / sizeof(luks_fatal_cases[0])));
	tcase_add_test(opts, test_emt_handle_invalid_is_note);
	tcase_add_loop_test(opts, test_invalid_value_table, 0, N(invalid_value_cases));
	tcase_add_loop_test(opts, test_valid_value_table, 0, N(valid_value_cases));
	tcase_add_test(opts, test_unknown_keys);
	tcase_add_test(opts, test_too_long_words);
	tcase_add_test(opts, test_to_string);
	suite_add_tcase(s, opts);
	return s;
}
