/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stage failures on a fake root, EFI variable side (the /opt side needs a real mount and is in
 * the boot scenarios tests/boot/scenarios/failure-report.sh): a report in the variable is shown
 * in /run/edgeinit/last-failures.json and boot.json, then the variable is deleted; a corrupt
 * variable is a warning naming it, dropped, and never fails the boot. */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "edgeinit/fs.h"
#include "edgeinit/stage.h"
#include "../../modules/failures.h"
#include "fake_sys.h"
#include "suites.h"

#define REPORT "{\"format\": 1, \"stage\": \"verity\", \"message\": \"Bad message\", " \
	"\"remedy\": \"Boot the UKI built for this image.\", \"slot\": null, \"time\": 1764560000, " \
	"\"boot_id\": null, \"version\": \"0.9.0\"}"

static struct boot_context ctx;
static char var[PATH_MAX + 128];

static void setup(void)
{
	char dir[PATH_MAX];

	boot_context_init(&ctx, fake_setup("/tmp"), &sys_fake);
	fake_write("/proc/filesystems", "nodev\tefivarfs\n");
	fake_mkdir("/run/edgeinit");
	fake_mkdir("/sys/firmware/efi/efivars");
	ck_assert_int_eq(ctx_path(&ctx, "/sys/firmware/efi/efivars", dir, sizeof(dir)), 0);
	snprintf(var, sizeof(var), "%s/%s", dir, FAILURE_EFIVAR_NAME);
}

static void teardown(void)
{
	boot_context_done(&ctx);
	fake_teardown();
}

/* An efivarfs file: NV+BS+RT, then text. */
static void write_var(const char *text)
{
	FILE *f = fopen(var, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite("\x07\0\0\0", 1, 4, f), 4);
	ck_assert_uint_eq(fwrite(text, 1, strlen(text), f), strlen(text));
	ck_assert_int_eq(fclose(f), 0);
}

static void read_run(const char *rel, char *buf, size_t size)
{
	char path[PATH_MAX];

	ck_assert_int_eq(ctx_path(&ctx, rel, path, sizeof(path)), 0);
	ck_assert_int_ge(read_small_file(path, buf, size), 0);
}

START_TEST(failures_deletes_an_oversized_variable_unread)
{
	static char big[FAILURE_EFI_MAX + 64];
	char json[8192];

	memset(big, 'x', sizeof(big) - 1);
	write_var(big);
	ck_assert_int_eq(stage_failures.run(&ctx), 0);
	ck_assert_msg(fake_logged("The EFI variable " FAILURE_EFIVAR_NAME " is larger than 1028 bytes, dropping it unread."),
		      "%s", fake_log);
	read_run("/run/edgeinit/last-failures.json", json, sizeof(json));
	ck_assert_str_eq(json, "{\"format\": 1, \"count\": 0, \"reports\": []}\n");
	ck_assert_int_ne(access(var, F_OK), 0);
}
END_TEST

START_TEST(failures_record_from_the_context_passes_the_rules)
{
	struct failure_record rec;

	snprintf(ctx.report.version, sizeof(ctx.report.version), "1.0 beta");
	ctx_set_remedy(&ctx, "Fix\tthe \x1b[31mdisk\n");
	ctx.emt_slot = 'b';
	failure_record_fill(&ctx, "emt-late", "Input/output error", &rec);
	ck_assert_int_eq(failure_record_check(&rec), 0);
	ck_assert_str_eq(rec.stage, "emt-late");
	ck_assert_str_eq(rec.remedy, "Fix?the ?[31mdisk?");
	ck_assert_str_eq(rec.version, "1.0_beta");
	ck_assert_str_eq(rec.slot, "b");
	ck_assert_uint_gt(rec.time, 0);
}
END_TEST

Suite *failures_stage_suite(void)
{
	Suite *s = suite_create("failures-stage");
	TCase *tc = tcase_create("efi");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, failures_deletes_an_oversized_variable_unread);
	tcase_add_test(tc, failures_record_from_the_context_passes_the_rules);
	suite_add_tcase(s, tc);
	return s;
}
