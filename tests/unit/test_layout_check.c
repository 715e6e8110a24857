/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* layout_check(): the diagnostics of `edgeinit-layout check`, each with its position, code and
 * severity, against EMT's real files (no findings) and small files that contain one mistake. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgeinit/json.h"
#include "edgeinit/layout.h"
#include "layout_test_util.h"


#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

void layout_check_tcases(Suite *s);

static struct layout l;
static struct layout_findings f;

/* The fake image root: the paths listed exist as directories, "/l:..." as symlinks, and
 * "!..." makes kind() fail with -EIO for that path. */
static int fake_kind(void *userdata, const char *path)
{
	for (const char *const *p = userdata; *p; p++) {
		if (strcmp(*p, path) == 0)
			return 'd';
		if (strncmp(*p, "/l:", 3) == 0 && strcmp(*p + 2, path) == 0)
			return 'l';
		if ((*p)[0] == '!' && strcmp(*p + 1, path) == 0)
			return -EIO;
	}
	return 0;
}

static int fake_is_mount(void *userdata, const char *path)
{
	(void)userdata;
	(void)path;
	return 0;
}

static void check_root(const char *text, const char *const *root)
{
	struct layout_root_ops ops = { fake_kind, fake_is_mount, (void *)root };

	layout_findings_free(&f);
	ck_assert_int_eq(layout_check(text, strlen(text), root ? &ops : NULL, &l, &f), 0);
}

static void check(const char *text)
{
	check_root(text, NULL);
}

/* Exactly one finding, with this code, severity and position; its message contains msg. */
static const struct layout_finding *only(enum layout_severity sev, const char *code,
					 unsigned line, unsigned column, const char *msg)
{
	const struct layout_finding *it;

	ck_assert_msg(f.n == 1, "%zu findings, first: %s", f.n, f.n ? f.items[0].message : "");
	it = &f.items[0];
	ck_assert_str_eq(it->code, code);
	ck_assert_int_eq(it->severity, sev);
	ck_assert_msg(it->line == line && it->column == column, "'%s' at %u:%u, want %u:%u",
		      it->message, it->line, it->column, line, column);
	ck_assert_msg(strstr(it->message, msg), "message '%s' lacks '%s'", it->message, msg);
	return it;
}

static void teardown(void)
{
	layout_findings_free(&f);
}

START_TEST(test_emt_files_clean)
{
	static const char *const files[] = { "emt-default.layout.env", "emt-docker.layout.env",
					     "seed-doc.layout.env" };
	/* an image with the runtimes EMT's files bind: rancher in all three, docker in one */
	static const char *const with_docker[] = { "/var/lib/rancher", "/var/lib/docker", NULL };
	static const char *const without[] = { "/var/lib/rancher", NULL };
	static char buf[LAYOUT_FILE_MAX + 1];

	for (int k = 0; k < N(files); k++) {
		char path[256];
		FILE *fp;
		size_t n;

		snprintf(path, sizeof(path), "%s/%s", LAYOUT_FIXTURES, files[k]);
		fp = fopen(path, "re");
		ck_assert_ptr_nonnull(fp);
		n = fread(buf, 1, sizeof(buf) - 1, fp);
		fclose(fp);
		buf[n] = '\0';
		check_root(buf, strstr(buf, "/var/lib/docker") ? with_docker : without);
		ck_assert_msg(f.n == 0, "%s: %zu findings, first %u:%u %s", files[k], f.n,
			      f.n ? f.items[0].line : 0, f.n ? f.items[0].column : 0,
			      f.n ? f.items[0].message : "");
		ck_assert_uint_gt(l.n_bind_paths, 10);
	}
}
END_TEST

START_TEST(test_unknown_variable)
{
	const struct layout_finding *it;

	/* The example: a typo persists nothing, and says so with the right name. */
	check("OVERLAY=tmpfs:25%\nPERSISTENT_BIND_PATH=\"\n  /etc/ssh\"\n");
	it = only(LAYOUT_WARNING, "unknown-variable", 2, 1,
		  "unknown variable 'PERSISTENT_BIND_PATH' is ignored; did you mean PERSISTENT_BIND_PATHS?");
	ck_assert(strstr(it->hint, "rename it to PERSISTENT_BIND_PATHS"));
	ck_assert_uint_eq(l.n_bind_paths, 0);

	check("export TMPFS_OVERLAY_PATHS=/var");
	only(LAYOUT_WARNING, "unknown-variable", 1, 8, "did you mean TMPFS_OVERLAYS_PATHS?");
	check("A=1 overlay=tmpfs:1g");
	ck_assert_uint_eq(f.n, 2);
	ck_assert_uint_eq(f.items[1].column, 5);
	ck_assert(strstr(f.items[1].message, "did you mean OVERLAY?"));
	check("PERSISTENT_BIND_TRAGET=/opt/p");
	only(LAYOUT_WARNING, "unknown-variable", 1, 1, "did you mean PERSISTENT_BIND_TARGET?");
	check("PERSISTENT_BIND_PATHS+=/a PERSISTENT_BIND_PATH+=/b");
	only(LAYOUT_WARNING, "unknown-variable", 1, 27, "did you mean PERSISTENT_BIND_PATHS?");

	/* Far from every known name: a warning without a guess. */
	check("FOO=bar");
	it = only(LAYOUT_WARNING, "unknown-variable", 1, 1, "unknown variable 'FOO' is ignored");
	ck_assert_ptr_null(strstr(it->message, "did you mean"));
	ck_assert(strstr(it->hint, "reads only OVERLAY, TMPFS_OVERLAYS_PATHS"));
	check("OVERLAYXYZ=tmpfs:1g"); /* 3 edits from OVERLAY: more than a third of it */
	it = only(LAYOUT_WARNING, "unknown-variable", 1, 1, "'OVERLAYXYZ'");
	ck_assert_ptr_null(strstr(it->message, "did you mean"));

	/* 'export NAME' assigns nothing; known names are silent. */
	check("export FOO\nOVERLAY=none TMPFS_OVERLAYS_PATHS= PERSISTENT_BIND_PATHS=\n"
	      "PERSISTENT_BIND_TARGET=/opt/p TMPFS_OVERLAY_TARGET=/opt/t");
	ck_assert_uint_eq(f.n, 0);
}
END_TEST

START_TEST(test_assigned_twice)
{
	const struct layout_finding *it;

	check("TMPFS_OVERLAYS_PATHS=/var\nexport TMPFS_OVERLAYS_PATHS=\"/etc\"\n");
	it = only(LAYOUT_WARNING, "assigned-twice", 2, 8,
		  "TMPFS_OVERLAYS_PATHS is assigned again: this value replaces the one from line 1 (the last assignment wins)");
	ck_assert(strstr(it->hint, "TMPFS_OVERLAYS_PATHS+=\"...\""));
	/* ...as the initrd's parser does: only the last value is used. */
	ck_assert_uint_eq(l.n_overlay_paths, 1);
	ck_assert_str_eq(l.overlay_paths[0].path, "/etc");

	check("OVERLAY=tmpfs:1g\nPERSISTENT_BIND_PATHS=/a\nPERSISTENT_BIND_PATHS+=/b\nOVERLAY=none");
	it = only(LAYOUT_WARNING, "assigned-twice", 4, 1, "the one from line 1");
	ck_assert_str_eq(it->hint, "remove one of the assignments");
	ck_assert(!l.overlay_tmpfs);

	/* After +=, the line named is the latest assignment. */
	check("PERSISTENT_BIND_PATHS=/a\nPERSISTENT_BIND_PATHS+=/b\nPERSISTENT_BIND_PATHS=/c");
	only(LAYOUT_WARNING, "assigned-twice", 3, 1, "the one from line 2");
	/* Appending is how EMT's files build their lists: not reported. */
	check("PERSISTENT_BIND_PATHS=/a\nPERSISTENT_BIND_PATHS+=/b\nexport PERSISTENT_BIND_PATHS");
	ck_assert_uint_eq(f.n, 0);
	check("PERSISTENT_BIND_PATHS+=/a\nPERSISTENT_BIND_PATHS+=/b");
	ck_assert_uint_eq(f.n, 0);
}
END_TEST

START_TEST(test_api_filesystems)
{
	static const struct {
		const char *text, *api;
		unsigned column;
	} cases[] = {
		{ "TMPFS_OVERLAYS_PATHS=\"/var /run/foo\"", "/run", 28 },
		{ "TMPFS_OVERLAYS_PATHS=/run", "/run", 22 },
		{ "PERSISTENT_BIND_PATHS=/proc/sys/kernel", "/proc", 23 },
		{ "PERSISTENT_BIND_PATHS=/sys", "/sys", 23 },
		{ "PERSISTENT_BIND_PATHS='/dev/disk'", "/dev", 24 }, /* the path, not its quote */
	};
	const struct layout_finding *it;

	for (int k = 0; k < N(cases); k++) {
		char want[64];

		check(cases[k].text);
		snprintf(want, sizeof(want), "is on %s, an API file system", cases[k].api);
		it = only(LAYOUT_ERROR, "api-filesystem", 1, cases[k].column, want);
		ck_assert(strstr(it->hint, "remove it"));
	}
	/* Only whole components count. */
	check("PERSISTENT_BIND_PATHS=\"/running /devices /system /process /runx/y\"");
	ck_assert_uint_eq(f.n, 0);

	check("PERSISTENT_BIND_PATHS=\"/etc/ssh\n  /sysroot/etc/hosts\"");
	it = only(LAYOUT_ERROR, "sysroot", 2, 3,
		  "bind path '/sysroot/etc/hosts' is under /sysroot, where the initrd mounts the root");
	ck_assert_str_eq(it->hint, "write the path as the booted system sees it ('/etc/hosts')");
	check("TMPFS_OVERLAYS_PATHS=/sysroot");
	it = only(LAYOUT_ERROR, "sysroot", 1, 22, "overlay path '/sysroot'");
	check("TMPFS_OVERLAYS_PATHS=/sysroots");
	ck_assert_uint_eq(f.n, 0);
}
END_TEST

START_TEST(test_overlay_and_bind)
{
	check("TMPFS_OVERLAYS_PATHS=\"/var\n  /etc\"\nPERSISTENT_BIND_PATHS=\"/home /etc\"");
	only(LAYOUT_ERROR, "overlay-and-bind", 3, 30,
	     "'/etc' is both a bind path and an overlay path (TMPFS_OVERLAYS_PATHS, line 2)");
	/* The default /var overlay counts too. */
	check("PERSISTENT_BIND_PATHS=/var");
	only(LAYOUT_ERROR, "overlay-and-bind", 1, 23, "'/var' is both");
	/* A bind below an overlay is EMT's normal layout. */
	check("TMPFS_OVERLAYS_PATHS=/etc\nPERSISTENT_BIND_PATHS=/etc/ssh");
	ck_assert_uint_eq(f.n, 0);
}
END_TEST

START_TEST(test_all_validation_errors)
{
	/* The initrd stops at the first; the checker lists every one, in file order. */
	check("PERSISTENT_BIND_PATHS=\"/a /a\"\nTMPFS_OVERLAYS_PATHS=\"/srv/work /opt/x\"\n"
	      "PERSISTENT_BIND_TARGET=/srv/p");
	ck_assert_uint_eq(f.n, 1); /* a bad target: paths are not derived from it */
	only(LAYOUT_ERROR, "bad-target", 3, 24, "must be below /opt");

	check("PERSISTENT_BIND_PATHS=\"/a /a\"\nTMPFS_OVERLAYS_PATHS=\"/srv/work /opt/x var\"");
	ck_assert_uint_eq(f.n, 4);
	ck_assert_str_eq(f.items[0].code, "duplicate-path");
	ck_assert_uint_eq(f.items[0].line, 1);
	ck_assert_uint_eq(f.items[0].column, 27);
	ck_assert_str_eq(f.items[1].code, "overlay-work");
	ck_assert_uint_eq(f.items[1].column, 23);
	ck_assert_str_eq(f.items[2].code, "persistent-mount");
	ck_assert_uint_eq(f.items[2].column, 33);
	ck_assert_str_eq(f.items[3].code, "bad-path");
	ck_assert_uint_eq(f.items[3].column, 40);
	ck_assert_uint_eq(layout_findings_count(&f, LAYOUT_ERROR), 4);
	ck_assert_uint_eq(layout_findings_count(&f, LAYOUT_WARNING), 0);
}
END_TEST

START_TEST(test_syntax_error_keeps_earlier_warnings)
{
	check("PERSISTENT_BIND_PATH=/etc/ssh\nTMPFS_OVERLAYS_PATHS=\"/var\n  /etc/$(hostname)\"\n");
	ck_assert_uint_eq(f.n, 2);
	ck_assert_str_eq(f.items[0].code, "unknown-variable");
	ck_assert_str_eq(f.items[1].code, "syntax");
	ck_assert_int_eq(f.items[1].severity, LAYOUT_ERROR);
	ck_assert_uint_eq(f.items[1].line, 3);
	ck_assert_uint_eq(f.items[1].column, 8);
	ck_assert(strstr(f.items[1].message, "layout.env is parsed, never executed"));
	ck_assert_uint_eq(l.n_overlay_paths, 0); /* nothing half-parsed */
}
END_TEST

START_TEST(test_container_runtime)
{
	static const char *const docker[] = { "/var/lib/docker", NULL };
	static const char *const all[] = { "/var/lib/docker", "/var/lib/containerd",
					   "/var/lib/rancher", NULL };
	static const char *const linked[] = { "/l:/var/lib/docker", NULL };
	static const char *const broken[] = { "!/var/lib/docker", NULL };
	struct layout_root_ops ops = { fake_kind, fake_is_mount, (void *)broken };
	const char *text = "OVERLAY=tmpfs:25%\nTMPFS_OVERLAYS_PATHS=\"/etc\n  /var\"\n";
	const struct layout_finding *it;

	check_root(text, docker);
	it = only(LAYOUT_WARNING, "container-runtime", 3, 3,
		  "overlay '/var' is on a tmpfs and covers /var/lib/docker, which the image has and which is not a persistent bind: its containers and images are lost at every reboot");
	ck_assert_str_eq(it->hint, "add /var/lib/docker to PERSISTENT_BIND_PATHS");

	/* One per runtime; the ones bound (or below a bind) are fine. */
	check_root(text, all);
	ck_assert_uint_eq(f.n, 3);
	check_root("TMPFS_OVERLAYS_PATHS=/var\nPERSISTENT_BIND_PATHS=\"/var/lib/docker /var/lib/rancher\"", all);
	only(LAYOUT_WARNING, "container-runtime", 1, 22, "covers /var/lib/containerd");
	check_root("TMPFS_OVERLAYS_PATHS=/var\nPERSISTENT_BIND_PATHS=/var/lib", all);
	ck_assert_uint_eq(f.n, 0);

	/* A parent of /var/lib/docker other than /var, and the default /var overlay (no line). */
	check_root("TMPFS_OVERLAYS_PATHS=/var/lib", docker);
	only(LAYOUT_WARNING, "container-runtime", 1, 22, "overlay '/var/lib' is on a tmpfs");
	check_root("PERSISTENT_BIND_PATHS=/etc/ssh", docker);
	only(LAYOUT_WARNING, "container-runtime", 0, 0,
	     "the default overlay '/var' (TMPFS_OVERLAYS_PATHS is not set) is on a tmpfs");
	/* Upper directories on the persistent partition: data survives, the driver still fails. */
	check_root("OVERLAY=persistent\nTMPFS_OVERLAYS_PATHS=/var", docker);
	it = only(LAYOUT_WARNING, "container-runtime", 2, 22,
		  "overlay '/var' covers /var/lib/docker, which the image has and which is not a persistent bind: an overlayfs storage driver fails");
	ck_assert_ptr_null(strstr(it->message, "lost"));

	/* Not in the image, a symlink (it leads elsewhere), no overlay over it, no --root. */
	check_root(text, all + 3);
	ck_assert_uint_eq(f.n, 0);
	check_root(text, linked);
	ck_assert_uint_eq(f.n, 0);
	check_root("TMPFS_OVERLAYS_PATHS=/etc", all);
	ck_assert_uint_eq(f.n, 0);
	check(text);
	ck_assert_uint_eq(f.n, 0);

	/* The root cannot be read: an error for the caller, no findings. */
	layout_findings_free(&f);
	ck_assert_int_eq(layout_check(text, strlen(text), &ops, &l, &f), -EIO);
	ck_assert_uint_eq(f.n, 0);
	ck_assert_ptr_null(f.items);
}
END_TEST

START_TEST(test_format_text)
{
	char buf[4096];

	check("FOO=1\nPERSISTENT_BIND_PATHS=/run/x\n");
	ck_assert_int_gt(layout_findings_format_text(&f, "l.env", false, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf,
			 "l.env:1:1: warning: unknown variable 'FOO' is ignored [unknown-variable]\n"
			 "l.env:1:1: note: edgeinit (like EMT's hook) reads only OVERLAY, TMPFS_OVERLAYS_PATHS, PERSISTENT_BIND_PATHS, PERSISTENT_BIND_TARGET and TMPFS_OVERLAY_TARGET; remove it or fix its name\n"
			 "l.env:2:23: error: bind path '/run/x' is on /run, an API file system: when it switches root, edgeinit moves its own /run onto the new root's, hiding whatever the layout mounted there [api-filesystem]\n"
			 "l.env:2:23: note: remove it: /run is created afresh on every boot; keep state under /etc, /var or /home\n");
	ck_assert_int_gt(layout_findings_format_text(&f, "l.env", true, buf, sizeof(buf)), 0);
	ck_assert(strncmp(buf, "l.env:1:1: error: unknown variable", 34) == 0);
	ck_assert_int_eq(layout_findings_format_text(&f, "l.env", false, buf, 40), -ENOSPC);
	ck_assert_str_eq(buf, "");
	check("OVERLAY=none");
	ck_assert_int_eq(layout_findings_format_text(&f, "l.env", false, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "");
}
END_TEST

/* Parse the JSON with edgeinit's strict parser and return member key of element k. */
static void json_member(const char *json, size_t k, const char *key, char *out, size_t size)
{
	static struct json_node nodes[512];
	struct json_limits lim = { .max_len = 1 << 20, .max_depth = 4 };
	struct json_doc doc;
	uint32_t el;
	int m;

	ck_assert_int_eq(json_doc_parse(json, strlen(json), &lim, nodes, N(nodes), &doc, NULL), 0);
	ck_assert_int_eq(doc.nodes[0].type, JSON_ARRAY);
	el = json_doc_first(&doc, 0);
	while (k-- > 0)
		el = json_doc_next(&doc, el);
	ck_assert_uint_ne(el, 0);
	m = json_doc_member(&doc, el, key);
	ck_assert_int_ge(m, 0);
	if (doc.nodes[m].type == JSON_STRING)
		ck_assert_int_ge(json_doc_string(&doc, (uint32_t)m, out, size), 0);
	else if (doc.nodes[m].type == JSON_NULL)
		snprintf(out, size, "null");
	else /* numbers keep their literal's place in the text */
		snprintf(out, size, "%.*s", (int)doc.nodes[m].len, json + doc.nodes[m].start);
	json_doc_free(&doc);
}

START_TEST(test_format_json)
{
	static char json[8192];
	char v[512];

	check("PERSISTENT_BIND_PATH=/a\nPERSISTENT_BIND_PATHS=\"/run/\xc3\xa9\"\n");
	ck_assert_uint_eq(f.n, 2);
	ck_assert_int_gt(layout_findings_format_json(&f, "dir/l\"ay.env", false, json, sizeof(json)), 0);
	json_member(json, 0, "file", v, sizeof(v));
	ck_assert_str_eq(v, "dir/l\"ay.env");
	json_member(json, 0, "line", v, sizeof(v));
	ck_assert_str_eq(v, "1");
	json_member(json, 0, "column", v, sizeof(v));
	ck_assert_str_eq(v, "1");
	json_member(json, 0, "severity", v, sizeof(v));
	ck_assert_str_eq(v, "warning");
	json_member(json, 0, "code", v, sizeof(v));
	ck_assert_str_eq(v, "unknown-variable");
	json_member(json, 0, "hint", v, sizeof(v));
	ck_assert_str_eq(v, "rename it to PERSISTENT_BIND_PATHS: as written, nothing it sets is applied");
	json_member(json, 1, "message", v, sizeof(v));
	ck_assert(strstr(v, "'/run/\\xc3\\xa9'"));
	json_member(json, 1, "column", v, sizeof(v));
	ck_assert_str_eq(v, "24");

	/* --strict: every finding is an error; no position or hint: null. */
	ck_assert_int_gt(layout_findings_format_json(&f, "l", true, json, sizeof(json)), 0);
	json_member(json, 0, "severity", v, sizeof(v));
	ck_assert_str_eq(v, "error");
	check_root("PERSISTENT_BIND_PATHS=/etc", (const char *const[]){ "/var/lib/docker", NULL });
	ck_assert_int_gt(layout_findings_format_json(&f, "l", false, json, sizeof(json)), 0);
	json_member(json, 0, "line", v, sizeof(v));
	ck_assert_str_eq(v, "null");
	json_member(json, 0, "column", v, sizeof(v));
	ck_assert_str_eq(v, "null");

	check("A=1\nA=1\n"); /* an unknown name twice: two unknown-variable warnings only */
	ck_assert_uint_eq(f.n, 2);
	check("OVERLAY=none");
	ck_assert_int_gt(layout_findings_format_json(&f, "l", false, json, sizeof(json)), 0);
	ck_assert_str_eq(json, "[]\n");
	ck_assert_int_eq(layout_findings_format_json(&f, "l", false, json, 2), -ENOSPC);
}
END_TEST

START_TEST(test_many_findings)
{
	size_t n = 0, size = 1200 * 8 + 64;
	char *text = malloc(size), buf[256];

	ck_assert_ptr_nonnull(text);
	for (int k = 0; k < 1200; k++)
		n += (size_t)snprintf(text + n, size - n, "X%04d=1\n", k);
	check(text);
	ck_assert_uint_eq(f.n, LAYOUT_FINDINGS_MAX);
	ck_assert_uint_eq(layout_findings_count(&f, LAYOUT_WARNING), 1200);
	ck_assert_uint_eq(layout_findings_count(&f, LAYOUT_ERROR), 0);
	ck_assert_str_eq(f.items[999].message, "unknown variable 'X0999' is ignored");
	ck_assert(f.items[999].hint[0]);
	f.n = 0; /* only the note about the rest */
	ck_assert_int_gt(layout_findings_format_text(&f, "l", false, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "l: note: 200 more problems are not listed\n");
	free(text);
}
END_TEST

void layout_check_tcases(Suite *s)
{
	TCase *tc = tcase_create("check");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_emt_files_clean);
	tcase_add_test(tc, test_unknown_variable);
	tcase_add_test(tc, test_assigned_twice);
	tcase_add_test(tc, test_api_filesystems);
	tcase_add_test(tc, test_overlay_and_bind);
	tcase_add_test(tc, test_all_validation_errors);
	tcase_add_test(tc, test_syntax_error_keeps_earlier_warnings);
	tcase_add_test(tc, test_container_runtime);
	tcase_add_test(tc, test_format_text);
	tcase_add_test(tc, test_format_json);
	tcase_add_test(tc, test_many_findings);
	suite_add_tcase(s, tc);
}
