/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The key-source walker (modules/unlock.c) with recording sources: the order, the first source
 * that opens everything ends the walk, u->fatal ends it at once, a source that does not apply is
 * not tried, and u->how / u->from_tpm come from the source that opened. Then the luks stage's own
 * list on a fake root: every source tried in its order. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "edgeinit/stage.h"
#include "edgeinit/strutil.h"
#include "fake_sys.h"
#include "suites.h"
#include "../../modules/unlock.h"

/* What each recording source does when tried, by its index in the table. */
enum outcome { FAILS, OPENS, FATAL };

static char trace[64];              /* names of the sources tried, in order: "abc" */
static enum outcome outcome[4];
static bool applies[4] = { true, true, true, true };
static bool tpm_attempt_seen[4];    /* u->from_tpm_attempt while the source ran */

static bool try_source(struct unlock *u, int i)
{
	size_t len = strlen(trace);

	trace[len] = (char)('a' + i);
	trace[len + 1] = '\0';
	tpm_attempt_seen[i] = u->from_tpm_attempt;
	if (outcome[i] == FATAL)
		u->fatal = -EKEYREJECTED;
	return outcome[i] == OPENS;
}

#define SOURCE(i, tpm)                                                                  \
	static bool applies_##i(const struct unlock *u) { (void)u; return applies[i]; } \
	static bool try_##i(struct unlock *u) { return try_source(u, i); }              \
	static const struct key_source source_##i = { .name = "source-" #i, .how = "how " #i, \
						      .from_tpm = tpm, .applies = applies_##i, \
						      .try = try_##i }
SOURCE(0, true);
SOURCE(1, true);
SOURCE(2, false);
/* No applies: always offered. */
static bool try_3(struct unlock *u) { return try_source(u, 3); }
static const struct key_source source_3 = { .name = "source-3", .how = "how 3", .try = try_3 };

static const struct key_source *const sources[] = { &source_0, &source_1, &source_2, &source_3 };

static struct unlock u;

static void reset(void)
{
	trace[0] = '\0';
	memset(&u, 0, sizeof(u));
	for (int i = 0; i < 4; i++) {
		outcome[i] = FAILS;
		applies[i] = true;
		tpm_attempt_seen[i] = false;
	}
}

START_TEST(walker_tries_every_source_in_order)
{
	reset();
	ck_assert(!unlock_walk(&u, sources, ELEMENTSOF(sources)));
	ck_assert_str_eq(trace, "abcd");
	ck_assert_ptr_null(u.how);
	ck_assert(!u.from_tpm);
	ck_assert_int_eq(u.fatal, 0);
}
END_TEST

START_TEST(walker_stops_at_the_first_source_that_opens)
{
	reset();
	outcome[1] = OPENS;
	outcome[2] = OPENS;
	ck_assert(unlock_walk(&u, sources, ELEMENTSOF(sources)));
	ck_assert_str_eq(trace, "ab");
	ck_assert_str_eq(u.how, "how 1");
	ck_assert(u.from_tpm);

	/* A source that is not the TPM's: from_tpm stays false (the caller locks the TPM down). */
	reset();
	outcome[2] = OPENS;
	ck_assert(unlock_walk(&u, sources, ELEMENTSOF(sources)));
	ck_assert_str_eq(trace, "abc");
	ck_assert_str_eq(u.how, "how 2");
	ck_assert(!u.from_tpm);
}
END_TEST

START_TEST(walker_stops_at_once_when_fatal)
{
	reset();
	outcome[0] = FATAL;
	outcome[3] = OPENS;
	ck_assert(!unlock_walk(&u, sources, ELEMENTSOF(sources)));
	ck_assert_str_eq(trace, "a");
	ck_assert_int_eq(u.fatal, -EKEYREJECTED);
	ck_assert_ptr_null(u.how);

	/* Set before the walk (an earlier step failed half-way): nothing is tried. */
	reset();
	u.fatal = -EIO;
	outcome[0] = OPENS;
	ck_assert(!unlock_walk(&u, sources, ELEMENTSOF(sources)));
	ck_assert_str_eq(trace, "");
	ck_assert_int_eq(u.fatal, -EIO);
}
END_TEST

START_TEST(walker_skips_a_source_that_does_not_apply)
{
	reset();
	applies[0] = false;
	applies[2] = false;
	ck_assert(!unlock_walk(&u, sources, ELEMENTSOF(sources)));
	ck_assert_str_eq(trace, "bd");

	/* One that would open, but does not apply, is not the one that opens. */
	reset();
	applies[1] = false;
	outcome[1] = OPENS;
	outcome[3] = OPENS;
	ck_assert(unlock_walk(&u, sources, ELEMENTSOF(sources)));
	ck_assert_str_eq(trace, "acd");
	ck_assert_str_eq(u.how, "how 3");
}
END_TEST

START_TEST(walker_marks_tpm_attempts)
{
	reset();
	ck_assert(!unlock_walk(&u, sources, ELEMENTSOF(sources)));
	ck_assert(tpm_attempt_seen[0] && tpm_attempt_seen[1]);
	ck_assert(!tpm_attempt_seen[2] && !tpm_attempt_seen[3]);
	ck_assert(!u.from_tpm_attempt);
}
END_TEST

/* The luks stage's list on a fake root: with a TPM, a sealed-key handle, a key file that does not
 * fit and a console, each source is tried in turn and the typed passphrase opens the volume. */
static struct boot_context ctx;

static void stage_setup(void)
{
	boot_context_init(&ctx, fake_setup("/tmp"), &sys_fake);
	fake_mkdir("/run");
	str_copy(ctx.persist_node, sizeof(ctx.persist_node), "/dev/vda3");
	fake.luks_uuid = "3f0b2d6e-1111-4222-8333-944455556666";
	fake.good_passphrase = "the recovery passphrase";
	ctx.tpm.present = true;
	ctx.tpm.n_banks = 1;
	ctx.tpm.banks[0] = HASH_SHA256;
}

static void stage_teardown(void)
{
	boot_context_done(&ctx);
	fake_teardown();
}

/* Offset of needle in the captured log; fails the test if it is missing. */
static size_t logged_at(const char *needle)
{
	const char *p = strstr(fake_log, needle);

	ck_assert_msg(p, "'%s' not in the log:\n%s", needle, fake_log);
	return (size_t)(p - fake_log);
}

START_TEST(luks_list_tries_token_then_handle_then_key_file_then_prompt)
{
	size_t token, handle, key_file, prompt, unlocked;

	ctx.opts_rw.tpm2_emt_handle = 0x81000000;
	fake.unseal_errno = -EPERM;
	str_copy(ctx.opts_rw.luks_key, sizeof(ctx.opts_rw.luks_key), "/etc/wrong.key");
	fake_write("/etc/wrong.key", "not the passphrase");
	fake.answers[0] = "the recovery passphrase";
	ck_assert_int_eq(stage_luks.run(&ctx), 0);

	token = logged_at("/dev/vda3 has no systemd-tpm2 token.");
	handle = logged_at("TPM refused the sealed key at handle 0x81000000");
	key_file = logged_at("The key file rd.luks.key=/etc/wrong.key does not open edge_persistent");
	prompt = fake_call_index("ask passphrase");
	unlocked = logged_at("Unlocked /dev/vda3 as /dev/mapper/edge_persistent with the recovery passphrase.");
	ck_assert_uint_lt(token, handle);
	ck_assert_uint_lt(handle, key_file);
	ck_assert_uint_lt(key_file, unlocked);
	ck_assert_int_ge((int)prompt, 0);
	ck_assert_int_lt(fake_call_index("tpm2_unseal handle"), (int)prompt);
	/* Opened without the TPM: locked down. */
	ck_assert(ctx.tpm.locked_down);
	ck_assert(!ctx.tpm.key_unsealed);
}
END_TEST

Suite *keysrc_suite(void)
{
	Suite *s = suite_create("keysrc");
	TCase *tc = tcase_create("walker");
	TCase *stage = tcase_create("luks-list");

	tcase_add_test(tc, walker_tries_every_source_in_order);
	tcase_add_test(tc, walker_stops_at_the_first_source_that_opens);
	tcase_add_test(tc, walker_stops_at_once_when_fatal);
	tcase_add_test(tc, walker_skips_a_source_that_does_not_apply);
	tcase_add_test(tc, walker_marks_tpm_attempts);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(stage, stage_setup, stage_teardown);
	tcase_add_test(stage, luks_list_tries_token_then_handle_then_key_file_then_prompt);
	suite_add_tcase(s, stage);
	return s;
}
