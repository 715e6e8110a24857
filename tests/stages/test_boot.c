/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The boot table: each profile's list, skipped stages in the report, the fatal path's discard
 * walk (modules/boot.c). Stages here are test doubles that record what ran. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "edgeinit/stage.h"
#include "edgeinit/strutil.h"
#include "fake_sys.h"

static struct boot_context ctx;
static char trace[512];

static void note(const char *what, const char *name)
{
	size_t n = strlen(trace);

	snprintf(trace + n, sizeof(trace) - n, "%s%s:%s", n ? " " : "", what, name);
}

static int run_ok(struct boot_context *c) { (void)c; note("run", "ok"); return 0; }
static int run_ok2(struct boot_context *c) { (void)c; note("run", "ok2"); return 0; }
static int run_nothing(struct boot_context *c) { (void)c; note("run", "nothing"); return STAGE_RUN_SKIPPED; }
static int run_fails(struct boot_context *c)
{
	ctx_set_remedy(c, "test remedy");
	note("run", "fails");
	return -EIO;
}
static int run_parse(struct boot_context *c)
{
	note("run", "parse");
	c->opts_parsed = true;
	return 0;
}
static void discard_ok(struct boot_context *c) { (void)c; note("discard", "ok"); }
static void discard_fails(struct boot_context *c) { (void)c; note("discard", "fails"); }
static void discard_never(struct boot_context *c) { (void)c; note("discard", "never"); }

static const struct stage t_parse = { .name = "parse", .run = run_parse };
static const struct stage t_common = { .name = "common", .run = run_ok, .discard = discard_ok };
static const struct stage t_verity_only = { .name = "verity-only", .run = run_ok2 };
static const struct stage t_emt_only = { .name = "emt-only", .run = run_ok2 };
static const struct stage t_dup_verity = { .name = "dup", .run = run_ok2 };
static const struct stage t_dup_emt = { .name = "dup", .run = run_ok };
static const struct stage t_nothing = { .name = "nothing", .run = run_nothing };
static const struct stage t_fails = { .name = "fails", .run = run_fails, .discard = discard_fails };
static const struct stage t_after = { .name = "after", .run = run_ok, .discard = discard_never };

#define V PROFILE_BIT(BOOT_PROFILE_VERITY)
#define E PROFILE_BIT(BOOT_PROFILE_EMT)

static void setup(void)
{
	boot_context_init(&ctx, fake_setup("/tmp"), &sys_fake);
	trace[0] = '\0';
}

static void teardown(void)
{
	boot_context_done(&ctx);
	fake_teardown();
}

static void names(enum boot_profile p, char *buf, size_t size)
{
	const struct stage *list[REPORT_STAGES_MAX];
	size_t n = boot_profile_stages(boot_table, boot_table_size, p, list, ELEMENTSOF(list)), len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? " " : "", list[i]->name);
}

START_TEST(boot_each_profile_runs_its_list)
{
	char buf[512];

	names(BOOT_PROFILE_VERITY, buf, sizeof(buf));
	ck_assert_str_eq(buf, "early-setup cmdline modules devices tpm2 luks verity mounts layout "
			      "failures exitrd leave-initrd switch-root");
	names(BOOT_PROFILE_EMT, buf, sizeof(buf));
	ck_assert_str_eq(buf, "early-setup cmdline modules devices tpm2 emt verity mounts layout "
			      "emt-late failures exitrd leave-initrd switch-root");
	/* Each profile has its own "devices": the same step to the reader, different code. */
	const struct stage *v[REPORT_STAGES_MAX], *e[REPORT_STAGES_MAX];
	boot_profile_stages(boot_table, boot_table_size, BOOT_PROFILE_VERITY, v, ELEMENTSOF(v));
	boot_profile_stages(boot_table, boot_table_size, BOOT_PROFILE_EMT, e, ELEMENTSOF(e));
	ck_assert_ptr_eq(v[3], &stage_devices);
	ck_assert_ptr_eq(e[3], &stage_emt_devices);
	/* The head runs before the profile is known: it must be in every profile. */
	ck_assert_ptr_eq(boot_table[0].stage, &stage_early_setup);
	ck_assert_ptr_eq(boot_table[1].stage, &stage_cmdline);
	ck_assert_uint_eq(boot_table[0].profiles, PROFILES_ALL);
	ck_assert_uint_eq(boot_table[1].profiles, PROFILES_ALL);
	ck_assert_uint_le(boot_table_size, REPORT_STAGES_MAX);
}
END_TEST

static const struct boot_step table[] = {
	{ &t_parse, PROFILES_ALL }, { &t_common, PROFILES_ALL }, { &t_verity_only, V },
	{ &t_emt_only, E },         { &t_dup_verity, V },         { &t_dup_emt, E },
	{ &t_nothing, PROFILES_ALL },
};

START_TEST(boot_a_stage_of_another_profile_is_reported_skipped)
{
	const struct stage *failed = NULL;
	char json[4096];

	ctx.opts_rw.profile = BOOT_PROFILE_EMT;
	ck_assert_int_eq(boot_run(&ctx, table, ELEMENTSOF(table), NULL, &failed), 0);
	ck_assert_ptr_null(failed);
	ck_assert_str_eq(trace, "run:parse run:ok run:ok2 run:ok run:nothing");
	/* "dup" of the other profile is not listed next to this profile's "dup". */
	ck_assert_uint_eq(ctx.report.n_stages, 6);
	ck_assert_str_eq(ctx.report.stages[4].name, "dup");
	ck_assert_int_eq(ctx.report.stages[4].result, STAGE_OK);
	ck_assert_str_eq(ctx.report.stages[2].name, "verity-only");
	ck_assert_int_eq(ctx.report.stages[2].result, STAGE_SKIPPED);
	ck_assert_str_eq(ctx.report.stages[3].name, "emt-only");
	ck_assert_int_eq(ctx.report.stages[3].result, STAGE_OK);
	/* A stage with nothing to do says so itself. */
	ck_assert_int_eq(ctx.report.stages[5].result, STAGE_SKIPPED);
	ck_assert(fake_logged("stage verity-only skipped (not in the emt profile)"));
	ck_assert(!fake_logged("stage emt-only skipped"));
	ck_assert_int_gt(report_format_json(&ctx.report, json, sizeof(json)), 0);
	ck_assert_ptr_nonnull(strstr(json, "{\"name\": \"verity-only\", \"result\": \"skipped\""));
	ck_assert_ptr_nonnull(strstr(json, "{\"name\": \"emt-only\", \"result\": \"ok\""));
	ck_assert_ptr_nonnull(strstr(json, "{\"name\": \"nothing\", \"result\": \"skipped\""));
	ck_assert_ptr_null(strstr(json, "\"result\": \"not-run\""));
}
END_TEST

START_TEST(boot_the_real_table_reports_the_other_profile_skipped)
{
	static const struct stage stop = { .name = "stop", .run = run_fails };
	struct boot_step steps[REPORT_STAGES_MAX];
	const struct stage *failed = NULL;
	char json[8192];
	size_t k = 0;

	/* The EMT rows of the real table, then a stage that stops the walk: in the verity profile
	 * none of them runs (none is real-run here), each is reported skipped. */
	ctx.opts_parsed = true;
	ctx.opts_rw.profile = BOOT_PROFILE_VERITY;
	for (size_t i = 0; i < boot_table_size; i++)
		if (boot_table[i].profiles == E)
			steps[k++] = boot_table[i];
	steps[k++] = (struct boot_step){ &stop, PROFILES_ALL };
	ck_assert_int_eq(boot_run(&ctx, steps, k, NULL, &failed), -EIO);
	ck_assert_ptr_eq(failed, &stop);
	ck_assert_str_eq(trace, "run:fails");
	ck_assert_int_gt(report_format_json(&ctx.report, json, sizeof(json)), 0);
	ck_assert_ptr_nonnull(strstr(json, "{\"name\": \"emt\", \"result\": \"skipped\""));
	ck_assert_ptr_nonnull(strstr(json, "{\"name\": \"emt-late\", \"result\": \"skipped\""));
	ck_assert_ptr_nonnull(strstr(json, "{\"name\": \"stop\", \"result\": \"failed\""));
}
END_TEST

START_TEST(boot_fatal_discards_the_started_stages_newest_first)
{
	static const struct boot_step steps[] = {
		{ &t_parse, PROFILES_ALL }, { &t_common, PROFILES_ALL }, { &t_emt_only, E },
		{ &t_fails, PROFILES_ALL }, { &t_after, PROFILES_ALL },
	};
	const struct stage *failed = NULL;

	ctx.opts_rw.profile = BOOT_PROFILE_VERITY;
	ck_assert_int_eq(boot_run(&ctx, steps, ELEMENTSOF(steps), NULL, &failed), -EIO);
	ck_assert_ptr_eq(failed, &t_fails);
	ck_assert_int_eq(ctx.report.stages[3].result, STAGE_FAILED);
	boot_discard(&ctx);
	/* The failed stage discards too (it may have started workers); one that never started
	 * does not; nor does a skipped one. */
	ck_assert_str_eq(trace, "run:parse run:ok run:fails discard:fails discard:ok");
	/* A second walk (exec failed after a fatal path began) does nothing twice. */
	boot_discard(&ctx);
	ck_assert_str_eq(trace, "run:parse run:ok run:fails discard:fails discard:ok");
}
END_TEST

void boot_table_tests(Suite *s);
void boot_table_tests(Suite *s)
{
	TCase *tc = tcase_create("boot-table");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, boot_each_profile_runs_its_list);
	tcase_add_test(tc, boot_a_stage_of_another_profile_is_reported_skipped);
	tcase_add_test(tc, boot_the_real_table_reports_the_other_profile_skipped);
	tcase_add_test(tc, boot_fatal_discards_the_started_stages_newest_first);
	suite_add_tcase(s, tc);
}
