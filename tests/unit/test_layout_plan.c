/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The layout planner: golden plans of EMT's files against a root tree on disk, each action's
 * shape, errors of the root, both output formats (JSON checked by python3). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "edgeinit/layout.h"
#include "layout_test_util.h"


#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

void layout_plan_tcases(Suite *s);

/* ==================================== planner ==================================== */

static char root_dir[64];

/* Paths the fake says are mount points. */
static const char *const fake_mounts[] = { "/var/lib/rancher", "/usr/share/pki" };

static int fixture_kind(void *userdata, const char *path)
{
	char full[512];
	struct stat st;

	snprintf(full, sizeof(full), "%s%s", (const char *)userdata, path);
	if (lstat(full, &st) < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
	return S_ISDIR(st.st_mode) ? 'd' : S_ISLNK(st.st_mode) ? 'l' : 'f';
}

static int fixture_is_mount(void *userdata, const char *path)
{
	(void)userdata;
	for (int k = 0; k < N(fake_mounts); k++)
		if (strcmp(fake_mounts[k], path) == 0)
			return 1;
	return 0;
}

static void mk(const char *rel, char type)
{
	char full[256];

	snprintf(full, sizeof(full), "%s%s", root_dir, rel);
	if (type == 'd') {
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", full);
		ck_assert_int_eq(system(cmd), 0);
	} else if (type == 'f') {
		int fd = open(full, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

		ck_assert_int_ge(fd, 0);
		close(fd);
	}
}

static void setup_root(void)
{
	char link[256];

	snprintf(root_dir, sizeof(root_dir), "/tmp/edgeinit-layout-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(root_dir));
	mk("/var/lib/rancher", 'd');
	mk("/var/log", 'd');
	mk("/usr/share/pki", 'd');
	mk("/etc/ssh", 'd');
	mk("/etc/pki", 'd');
	mk("/etc/systemd", 'd');
	mk("/etc/lvm/archive", 'd');
	mk("/home", 'd');
	mk("/etc/fstab", 'f');
	mk("/etc/machine-id", 'f');
	mk("/etc/motd", 'f');
	mk("/var/log/inbm-update-log.log", 'f');
	snprintf(link, sizeof(link), "%s/etc/hosts", root_dir);
	ck_assert_int_eq(symlink("/run/hosts", link), 0); /* dangling, absolute */
	snprintf(link, sizeof(link), "%s/etc/udev", root_dir);
	ck_assert_int_eq(symlink("ssh", link), 0); /* to a directory */
}

static void teardown_root(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root_dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void build_plan(const char *file, struct layout_plan *plan)
{
	struct layout_root_ops ops = { fixture_kind, fixture_is_mount, root_dir };
	static struct layout l;
	struct layout_diag d;
	size_t len;
	char *text = layout_test_read_fixture(file, &len);

	ck_assert_msg(layout_parse(text, len, &l, &d) == 0, "%s: %s", file, d.message);
	ck_assert_msg(layout_validate(&l, &d) == 0, "%s: %s", file, d.message);
	ck_assert_int_eq(layout_plan_build(&l, &ops, plan), 0);
	free(text);
}

/* Set EDGEINIT_UPDATE_GOLDEN=1 to rewrite the golden files (then review the diff). */
static void compare_golden(const char *golden, const char *text)
{
	char path[256];
	size_t len;
	char *want;

	if (getenv("EDGEINIT_UPDATE_GOLDEN")) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", LAYOUT_FIXTURES, golden);
		f = fopen(path, "we");
		ck_assert_ptr_nonnull(f);
		fputs(text, f);
		fclose(f);
	}
	want = layout_test_read_fixture(golden, &len);
	ck_assert_msg(strcmp(want, text) == 0, "plan differs from %s:\n%s", golden, text);
	free(want);
}

static const struct {
	const char *layout, *golden;
	size_t n_actions;
} plan_cases[] = {
	{ "emt-default.layout.env", "emt-default.plan", 52 },
	{ "planner.layout.env", "planner.plan", 22 },
	{ "seed-doc.layout.env", "seed-doc.plan", 42 },
};

START_TEST(test_plan_golden)
{
	struct layout_plan plan;
	static char text[256 * 1024];

	build_plan(plan_cases[_i].layout, &plan);
	ck_assert_int_gt(layout_plan_format_text(&plan, text, sizeof(text)), 0);
	compare_golden(plan_cases[_i].golden, text);
	ck_assert_uint_eq(plan.n, plan_cases[_i].n_actions);
	layout_plan_free(&plan);
	ck_assert_ptr_null(plan.actions);
	ck_assert_uint_eq(plan.n, 0);
}
END_TEST

START_TEST(test_plan_actions)
{
	struct layout_plan plan;
	const struct layout_action *a;

	build_plan("planner.layout.env", &plan);
	/* No tmpfs: the overlay target is only created. */
	ck_assert_int_eq(plan.actions[0].kind, LAYOUT_ACTION_MKDIR);
	ck_assert_str_eq(plan.actions[0].target, "/opt/state/overlay");
	ck_assert_uint_eq(plan.actions[0].line, 0);
	a = &plan.actions[1];
	ck_assert_int_eq(a->kind, LAYOUT_ACTION_OVERLAY);
	ck_assert_str_eq(a->path, "/var");
	ck_assert_str_eq(a->upper, "/opt/state/overlay/var.overlay/var");
	ck_assert_str_eq(a->work, "/opt/state/overlay/var.overlay/work");
	ck_assert_uint_eq(a->line, 4);
	for (size_t k = 0; k < plan.n; k++) {
		a = &plan.actions[k];
		ck_assert_int_ne(a->kind, LAYOUT_ACTION_MOUNT_TMPFS);
		if (a->kind == LAYOUT_ACTION_SKIP)
			ck_assert(a->reason[0] && a->line);
		if (a->kind == LAYOUT_ACTION_BIND && strcmp(a->path, "/etc/machine-id") == 0)
			ck_assert_str_eq(a->source, "/opt/state/bind/etc-machine-id.bind/machine-id");
		if (a->kind == LAYOUT_ACTION_SEED_FILE)
			ck_assert_ptr_nonnull(strstr(a->target, ".bind/"));
	}
	layout_plan_free(&plan);
}
END_TEST

static int failing_kind(void *userdata, const char *path)
{
	(void)path;
	return -*(int *)userdata;
}

static int failing_mount(void *userdata, const char *path)
{
	(void)userdata;
	(void)path;
	return -EIO;
}

START_TEST(test_plan_errors)
{
	struct layout l;
	struct layout_diag d;
	struct layout_plan plan;
	int err = EACCES;
	struct layout_root_ops ops = { failing_kind, fixture_is_mount, &err };

	ck_assert_int_eq(layout_test_parse_str("PERSISTENT_BIND_PATHS=/a", &l, &d), 0);
	/* An error inspecting the root fails the plan, and nothing is left allocated. */
	ck_assert_int_eq(layout_plan_build(&l, &ops, &plan), -EACCES);
	ck_assert_ptr_null(plan.actions);
	ck_assert_uint_eq(plan.n, 0);
	/* ENOENT and ENOTDIR mean missing. */
	err = ENOTDIR;
	ck_assert_int_eq(layout_plan_build(&l, &ops, &plan), 0);
	ck_assert_uint_eq(plan.n, 5);
	ck_assert_int_eq(plan.actions[2].kind, LAYOUT_ACTION_SKIP);
	ck_assert_str_eq(plan.actions[2].reason, "not in the image");
	ck_assert_int_eq(plan.actions[4].kind, LAYOUT_ACTION_SKIP);
	layout_plan_free(&plan);
	/* A failing mount check fails too. */
	ops.kind = fixture_kind;
	ops.is_mount = failing_mount;
	ops.userdata = root_dir;
	ck_assert_int_eq(layout_plan_build(&l, &ops, &plan), -EIO);
	ck_assert_ptr_null(plan.actions);
}
END_TEST

START_TEST(test_plan_format_small_buffer)
{
	struct layout_plan plan;
	char buf[64];

	build_plan("emt-default.layout.env", &plan);
	ck_assert_int_eq(layout_plan_format_text(&plan, buf, sizeof(buf)), -ENOSPC);
	ck_assert_int_eq(layout_plan_format_json(&plan, buf, sizeof(buf)), -ENOSPC);
	ck_assert_int_eq(layout_plan_format_text(&plan, buf, 0), -ENOSPC);
	layout_plan_free(&plan);
	/* An empty plan. */
	ck_assert_int_eq(layout_plan_format_text(&plan, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(layout_plan_format_json(&plan, buf, sizeof(buf)), 3);
	ck_assert_str_eq(buf, "[]\n");
}
END_TEST

/* Hand the JSON to Python; it prints a summary we compare. */
static void check_json_with_python(const char *json, const char *script, const char *want)
{
	char path[] = "/tmp/edgeinit-layout-json-XXXXXX", cmd[1024], got[4096];
	int fd = mkstemp(path), status;
	size_t n;
	FILE *p;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, json, strlen(json)), (ssize_t)strlen(json));
	close(fd);
	snprintf(cmd, sizeof(cmd), "python3 -c '%s' < %s", script, path);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	n = fread(got, 1, sizeof(got) - 1, p);
	got[n] = '\0';
	status = pclose(p);
	unlink(path);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "python3 rejected:\n%s", json);
	ck_assert_str_eq(got, want);
}

START_TEST(test_plan_json)
{
	struct layout_plan plan;
	static char json[512 * 1024];

	build_plan("planner.layout.env", &plan);
	ck_assert_int_gt(layout_plan_format_json(&plan, json, sizeof(json)), 0);
	check_json_with_python(json,
			       "import json,sys\n"
			       "d = json.load(sys.stdin)\n"
			       "for a in d: print(a[\"action\"], *sorted(k for k in a if k != \"action\"))\n",
			       "mkdir target\n"
			       "overlay line lower path upper work\n"
			       "skip line path reason\n"
			       "skip line path reason\n"
			       "skip line path reason\n"
			       "skip line path reason\n"
			       "mkdir target\n"
			       "mkdir line path target\n"
			       "seed-dir line path target\n"
			       "bind line path source\n"
			       "mkdir line path target\n"
			       "seed-file line path target\n"
			       "bind line path source\n"
			       "skip line path reason\n"
			       "mkdir line path target\n"
			       "seed-dir line path target\n"
			       "bind line path source\n"
			       "skip line path reason\n"
			       "skip line path reason\n"
			       "mkdir line path target\n"
			       "seed-file line path target\n"
			       "bind line path source\n");
	layout_plan_free(&plan);
	build_plan("emt-default.layout.env", &plan);
	ck_assert_int_gt(layout_plan_format_json(&plan, json, sizeof(json)), 0);
	check_json_with_python(json,
			       "import json,sys\n"
			       "d = json.load(sys.stdin)\n"
			       "print(len(d), d[1][\"option\"], d[2][\"upper\"], d[-1][\"line\"])\n",
			       "52 size=25% /opt/.mount/tmpfs/var.overlay/var 45\n");
	layout_plan_free(&plan);
}
END_TEST

START_TEST(test_plan_json_escaping)
{
	struct layout_action actions[2] = {
		{ .kind = LAYOUT_ACTION_SKIP, .path = "/a\"b\\c\n\x01", .reason = "tab\there", .line = 3 },
		{ .kind = LAYOUT_ACTION_BIND, .path = "/\xc3\xa9t\xc3\xa9", .source = "/opt/\xff" },
	};
	struct layout_plan plan = { .actions = actions, .n = 2, .allocated = 2 };
	char json[1024];

	ck_assert_int_gt(layout_plan_format_json(&plan, json, sizeof(json)), 0);
	check_json_with_python(json,
			       "import json,sys\n"
			       "d = json.load(sys.stdin)\n"
			       "print(ascii(d[0][\"path\"]), ascii(d[0][\"reason\"]), ascii(d[1][\"path\"]), ascii(d[1][\"source\"]))\n",
			       "'/a\"b\\\\c\\n\\x01' 'tab\\there' '/\\xe9t\\xe9' '/opt/\\ufffd'\n");
}
END_TEST

void layout_check_tcases(Suite *s); /* test_layout_check.c */

void layout_plan_tcases(Suite *s)
{
	TCase *plan = tcase_create("plan");

	tcase_add_checked_fixture(plan, setup_root, teardown_root);
	tcase_set_timeout(plan, 60); /* python3 starts slowly on a loaded machine */
	tcase_add_loop_test(plan, test_plan_golden, 0, N(plan_cases));
	tcase_add_test(plan, test_plan_actions);
	tcase_add_test(plan, test_plan_errors);
	tcase_add_test(plan, test_plan_format_small_buffer);
	tcase_add_test(plan, test_plan_json);
	tcase_add_test(plan, test_plan_json_escaping);
	suite_add_tcase(s, plan);
}
