/* SPDX-License-Identifier: LGPL-2.1-or-later */
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
#include "suites.h"


#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* "path:line path:line ..." */
static const char *join(const struct layout_path *p, size_t n)
{
	static char buf[LAYOUT_PATHS_MAX * (LAYOUT_PATH_MAX + 12)];
	size_t o = 0;

	buf[0] = '\0';
	for (size_t k = 0; k < n; k++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s:%u", k ? " " : "", p[k].path,
				      p[k].line);
	return buf;
}

/* =============================== EMT's real files =============================== */

static const struct {
	const char *file;
	const char *overlays;
	const char *binds;
	const char *bind_target;
	unsigned bind_target_line, overlay_target_line;
} emt_cases[] = {
	{ "emt-default.layout.env", "/var:7 /usr/share/pki:8 /etc:9",
	  "/home:12 /etc/fstab:13 /etc/environment:14 /etc/hosts:15 "
	  "/etc/intel_edge_node:16 /etc/machine-id:17 /etc/pki:18 /etc/ssh:19 /etc/systemd:20 "
	  "/etc/udev:21 /etc/cloud:22 /etc/sysconfig:23 /etc/rancher:24 /etc/netplan:25 /etc/cni:26 "
	  "/etc/kubernetes:27 /etc/lvm/archive:28 /etc/lvm/backup:29 /etc/default:30 "
	  "/var/lib/rancher:31 /var/intel-manageability:34 /var/cache/manageability:35 "
	  "/etc/intel-manageability:36 /var/lib/dispatcher:37 /var/log/inbm-update-status.log:38 "
	  "/var/log/inbm-update-log.log:39 /etc/dispatcher.environment:40 "
	  "/etc/intel_manageability.conf:41 /etc/intel_manageability.conf_bak:42 "
	  "/var/edge-node/pua:45",
	  "/opt/.mount/persistence", 48, 49 },
	{ "emt-docker.layout.env", "/var:5 /usr/share/pki:6 /etc:7",
	  "/home:9 /etc/fstab:10 /etc/hosts:11 /etc/machine-id:12 "
	  "/etc/ssh:13 /etc/systemd:14 /var/lib/rancher:15 /var/lib/docker:18 /var/log/docker:19 "
	  "/etc/docker:20 /usr/lib/systemd/system/docker.service:21",
	  "/opt/.mount/persistence", 23, 24 },
	{ "seed-doc.layout.env",
	  "/var:4 /etc/lp:4 /etc/node-agent:4 /etc/cluster-agent:4 /etc/fluent-bit:4 "
	  "/etc/health-check:4 /etc/telegraf:4 /etc/caddy:4 /etc/otelcol:4",
	  "/etc/fstab:6 /etc/environment:7 /etc/hosts:8 /etc/intel_edge_node:9 /etc/machine-id:10 "
	  "/etc/pki:11 /etc/ssh:12 /etc/systemd:13 /etc/udev:14 /etc/cloud:15 /etc/sysconfig:16 "
	  "/etc/rancher:17 /etc/netplan:18 /etc/cni:19 /etc/kubernetes:20 /etc/lvm/archive:21 "
	  "/etc/lvm/backup:22 /var/lib/rancher:23",
	  "/opt/.mount/persistent", 0, 0 },
};

START_TEST(test_emt_files)
{
	struct layout l;
	struct layout_diag d;
	size_t len;
	char *text = layout_test_read_fixture(emt_cases[_i].file, &len);

	ck_assert_msg(layout_parse(text, len, &l, &d) == 0, "%s:%u:%u: %s", emt_cases[_i].file,
		      d.line, d.column, d.message);
	ck_assert(l.overlay_tmpfs);
	ck_assert_str_eq(l.tmpfs_size, "25%");
	ck_assert(l.overlay_paths_set);
	ck_assert_str_eq(join(l.overlay_paths, l.n_overlay_paths), emt_cases[_i].overlays);
	ck_assert_str_eq(join(l.bind_paths, l.n_bind_paths), emt_cases[_i].binds);
	ck_assert_str_eq(l.bind_target, emt_cases[_i].bind_target);
	ck_assert_str_eq(l.overlay_target, "/opt/.mount/tmpfs");
	ck_assert_uint_eq(l.bind_target_line, emt_cases[_i].bind_target_line);
	ck_assert_uint_eq(l.overlay_target_line, emt_cases[_i].overlay_target_line);
	ck_assert_msg(layout_validate(&l, &d) == 0, "%s:%u: %s", emt_cases[_i].file, d.line,
		      d.message);
	ck_assert_str_eq(d.message, "");
	free(text);
}
END_TEST

/* ================================= syntax forms ================================= */

static const struct {
	const char *text;
	bool tmpfs;
	const char *size;
	bool overlays_set;
	const char *overlays;
	const char *binds;
	const char *bind_target;    /* NULL: the default */
	const char *overlay_target; /* NULL: the default */
} syntax_cases[] = {
	/* Defaults. */
	{ "", true, "25%", false, "/var:0", "", NULL, NULL },
	{ "# only a comment\n\n   \n\t\n", true, "25%", false, "/var:0", "", NULL, NULL },
	{ "#!/bin/bash\nOVERLAY=tmpfs:512m\n", true, "512m", false, "/var:0", "", NULL, NULL },
	{ "export OVERLAY=\"tmpfs:1g\"", true, "1g", false, "/var:0", "", NULL, NULL },
	{ "OVERLAY='tmpfs:50%'", true, "50%", false, "/var:0", "", NULL, NULL },
	{ "OVERLAY=tmpfs:1048576", true, "1048576", false, "/var:0", "", NULL, NULL },
	{ "OVERLAY=tmpfs:2G", true, "2G", false, "/var:0", "", NULL, NULL },
	/* Any other OVERLAY: upper/work on the persistent partition. */
	{ "OVERLAY=persistent", false, "", false, "/var:0", "", NULL, NULL },
	{ "OVERLAY=", false, "", false, "/var:0", "", NULL, NULL },
	{ "OVERLAY=TMPFS:25%", false, "", false, "/var:0", "", NULL, NULL },
	/* Set but empty means no overlays; unset (even exported) means /var. */
	{ "TMPFS_OVERLAYS_PATHS=", true, "25%", true, "", "", NULL, NULL },
	{ "TMPFS_OVERLAYS_PATHS=\"\"", true, "25%", true, "", "", NULL, NULL },
	{ "TMPFS_OVERLAYS_PATHS=\"\n  \n\"", true, "25%", true, "", "", NULL, NULL },
	{ "export TMPFS_OVERLAYS_PATHS", true, "25%", false, "/var:0", "", NULL, NULL },
	/* += on an unset list sets it (bash), so the /var default does not apply. */
	{ "TMPFS_OVERLAYS_PATHS+=/etc", true, "25%", true, "/etc:1", "", NULL, NULL },
	/* Later assignments win. */
	{ "TMPFS_OVERLAYS_PATHS=/a\nTMPFS_OVERLAYS_PATHS=/b\n", true, "25%", true, "/b:2", "", NULL, NULL },
	{ "OVERLAY=none\nOVERLAY=tmpfs:1m\n", true, "1m", false, "/var:0", "", NULL, NULL },
	/* Appends never glue two words together. */
	{ "PERSISTENT_BIND_PATHS=\"/a\"\nPERSISTENT_BIND_PATHS+=\"/b\"", true, "25%", false, "/var:0",
	  "/a:1 /b:2", NULL, NULL },
	{ "PERSISTENT_BIND_PATHS=/a\nPERSISTENT_BIND_PATHS+=\"\n /b /c\"\nPERSISTENT_BIND_PATHS+=''",
	  true, "25%", false, "/var:0", "/a:1 /b:3 /c:3", NULL, NULL },
	/* Multi-line values keep each path's own line. */
	{ "PERSISTENT_BIND_PATHS=\"\n  /a\n\n\t/b  /c\n\"", true, "25%", false, "/var:0",
	  "/a:2 /b:4 /c:4", NULL, NULL },
	{ "\n\nPERSISTENT_BIND_PATHS='\n/a\n/b'", true, "25%", false, "/var:0", "/a:4 /b:5", NULL, NULL },
	/* Quoting forms, concatenated in one word. */
	{ "PERSISTENT_BIND_PATHS='/a /b'", true, "25%", false, "/var:0", "/a:1 /b:1", NULL, NULL },
	{ "PERSISTENT_BIND_PATHS=/a'/b c'\"/d\"", true, "25%", false, "/var:0", "/a/b:1 c/d:1", NULL, NULL },
	{ "PERSISTENT_BIND_PATHS=\"/a\\\"b /c\\\\d /e\\$f /g\\`h\"", true, "25%", false, "/var:0",
	  "/a\"b:1 /c\\d:1 /e$f:1 /g`h:1", NULL, NULL },
	{ "PERSISTENT_BIND_PATHS='$x `y` \"z\" \\'", true, "25%", false, "/var:0",
	  "$x:1 `y`:1 \"z\":1 \\:1", NULL, NULL },
	/* Backslash-newline: joins lines, unquoted or in double quotes. */
	{ "PERSISTENT_BIND_PATHS=/a\\\n/b", true, "25%", false, "/var:0", "/a/b:1", NULL, NULL },
	{ "PERSISTENT_BIND_PATHS=\"/a \\\n/b\"", true, "25%", false, "/var:0", "/a:1 /b:2", NULL, NULL },
	{ "export \\\n OVERLAY=none", false, "", false, "/var:0", "", NULL, NULL },
	/* Several assignments per line; export of several names. */
	{ "OVERLAY=x TMPFS_OVERLAYS_PATHS=/a", false, "", true, "/a:1", "", NULL, NULL },
	{ "export FOO=1 OVERLAY=none BAR", false, "", false, "/var:0", "", NULL, NULL },
	{ "  export\tOVERLAY=none   \t", false, "", false, "/var:0", "", NULL, NULL },
	/* Comments: at the start of a word only. */
	{ "OVERLAY=none # comment $(reboot)", false, "", false, "/var:0", "", NULL, NULL },
	{ "PERSISTENT_BIND_PATHS=/a#b", true, "25%", false, "/var:0", "/a#b:1", NULL, NULL },
	{ "PERSISTENT_BIND_PATHS=\"/a # b\"", true, "25%", false, "/var:0", "/a:1 #:1 b:1", NULL, NULL },
	{ "  # indented comment; with | shell & chars\n", true, "25%", false, "/var:0", "", NULL, NULL },
	/* Unknown variables are ignored (but still parsed). */
	{ "FOO=bar\nFOO+=\"x y\"\n_x1=2", true, "25%", false, "/var:0", "", NULL, NULL },
	/* CRLF line endings, and a final CR, are tolerated. */
	{ "OVERLAY=none\r\nPERSISTENT_BIND_PATHS=\"\r\n/a\r\n/b\"\r\n", false, "", false, "/var:0",
	  "/a:3 /b:4", NULL, NULL },
	{ "OVERLAY=none\r", false, "", false, "/var:0", "", NULL, NULL },
	{ "PERSISTENT_BIND_PATHS=/a\\\r\n/b", true, "25%", false, "/var:0", "/a/b:1", NULL, NULL },
	/* No final newline. */
	{ "PERSISTENT_BIND_PATHS=/x", true, "25%", false, "/var:0", "/x:1", NULL, NULL },
	/* Targets, and += on a scalar concatenates as bash does. */
	{ "PERSISTENT_BIND_TARGET=/opt/p\nTMPFS_OVERLAY_TARGET=/opt/t", true, "25%", false, "/var:0",
	  "", "/opt/p", "/opt/t" },
	{ "PERSISTENT_BIND_TARGET=/opt\nPERSISTENT_BIND_TARGET+=/x", true, "25%", false, "/var:0", "",
	  "/opt/x", NULL },
	{ "TMPFS_OVERLAY_TARGET+=/opt/y", true, "25%", false, "/var:0", "", NULL, "/opt/y" },
	/* A variable named like a keyword is still an assignment. */
	{ "export=1\nexport_x=2", true, "25%", false, "/var:0", "", NULL, NULL },
};

START_TEST(test_syntax_table)
{
	struct layout l;
	struct layout_diag d;
	const char *text = syntax_cases[_i].text;

	ck_assert_msg(layout_test_parse_str(text, &l, &d) == 0, "[%s] %u:%u: %s", text, d.line, d.column,
		      d.message);
	ck_assert_msg(l.overlay_tmpfs == syntax_cases[_i].tmpfs, "[%s] tmpfs", text);
	ck_assert_str_eq(l.tmpfs_size, syntax_cases[_i].size);
	ck_assert_msg(l.overlay_paths_set == syntax_cases[_i].overlays_set, "[%s] set", text);
	ck_assert_str_eq(join(l.overlay_paths, l.n_overlay_paths), syntax_cases[_i].overlays);
	ck_assert_str_eq(join(l.bind_paths, l.n_bind_paths), syntax_cases[_i].binds);
	ck_assert_str_eq(l.bind_target, syntax_cases[_i].bind_target ?: "/opt/.mount/persistent");
	ck_assert_str_eq(l.overlay_target, syntax_cases[_i].overlay_target ?: "/opt/.mount/tmpfs");
	ck_assert_uint_eq(l.bind_target_line, syntax_cases[_i].bind_target ? 1 : 0);
}
END_TEST

START_TEST(test_target_lines)
{
	struct layout l;
	struct layout_diag d;

	ck_assert_int_eq(layout_test_parse_str("\nTMPFS_OVERLAY_TARGET=/opt/t\n\nPERSISTENT_BIND_TARGET=\"\n/opt/p\"", &l, &d), 0);
	ck_assert_uint_eq(l.overlay_target_line, 2);
	ck_assert_uint_eq(l.bind_target_line, 4);
	/* The value keeps the newline: validation refuses it. */
	ck_assert_str_eq(l.bind_target, "\n/opt/p");
	ck_assert_int_eq(layout_validate(&l, &d), -EINVAL);
	ck_assert_uint_eq(d.line, 4);
}
END_TEST

/* ================================== rejections ================================== */

static const struct {
	const char *text;
	size_t len; /* 0: strlen */
	unsigned line, column;
	const char *message; /* a part of it */
} reject_cases[] = {
	{ "echo hi", 0, 1, 1, "a command ('echo'); only NAME=value assignments are accepted; layout.env is parsed, never executed" },
	{ "OVERLAY=none reboot", 0, 1, 14, "a command ('reboot')" },
	{ "A=x\nB=y\n  cmd arg", 0, 3, 3, "a command ('cmd')" },
	{ "if true; then A=1; fi", 0, 1, 1, "a command ('if')" },
	{ ". /etc/other.env", 0, 1, 1, "a command ('.')" },
	{ "source /etc/other.env", 0, 1, 1, "a command ('source')" },
	{ "\"A\"=1", 0, 1, 1, "a command" },
	{ "A=$HOME", 0, 1, 3, "found '$' (parameter expansion); layout.env is parsed, never executed" },
	{ "A=\"/x$HOME\"", 0, 1, 6, "found '$' (parameter expansion) inside double quotes" },
	{ "A=${B}", 0, 1, 3, "found '${' (parameter expansion)" },
	{ "A=`id`", 0, 1, 3, "found '`' (command substitution)" },
	{ "A=\"`id`\"", 0, 1, 4, "found '`' (command substitution) inside double quotes" },
	{ "A=$(id)", 0, 1, 3, "found '$(' (command substitution)" },
	{ "$(reboot)", 0, 1, 1, "found '$(' (command substitution)" },
	{ "A=1; B=2", 0, 1, 4, "found ';' (a command separator)" },
	{ "A=1;", 0, 1, 4, "found ';'" },
	{ "A=1 && B=2", 0, 1, 5, "found '&' (a background job or '&&')" },
	{ "A=1 &", 0, 1, 5, "found '&'" },
	{ "A=1 | tee", 0, 1, 5, "found '|' (a pipe or '||')" },
	{ "A=1 >/x", 0, 1, 5, "found '>' (a redirection)" },
	{ "A=1</x", 0, 1, 4, "found '<' (a redirection)" },
	{ "A=(a b)", 0, 1, 3, "found '(' (an array assignment NAME=(...))" },
	{ "PERSISTENT_BIND_PATHS+=(/a)", 0, 1, 24, "an array assignment" },
	{ "A=x(y)", 0, 1, 4, "found '('" },
	{ "A[0]=x", 0, 1, 1, "an array element assignment ('A[0]=x')" },
	{ "f() { :; }", 0, 1, 1, "a function definition ('f()')" },
	{ "function f { :; }", 0, 1, 1, "a function definition" },
	{ "{ A=1; }", 0, 1, 1, "found '{'" },
	{ "A={a,b}", 0, 1, 3, "found '{' (brace expansion or a command group)" },
	{ "A=~/x", 0, 1, 3, "found '~' (tilde expansion)" },
	{ "A=\\x", 0, 1, 3, "found '\\x' (a backslash escape, which is not supported)" },
	{ "A=\"\\n\"", 0, 1, 4, "found '\\n' (a backslash escape, which is not supported) inside double quotes" },
	{ "A=\"abc", 0, 1, 3, "unterminated double quote (opened here)" },
	{ "\n\nA='abc\n\n", 0, 3, 3, "unterminated single quote (opened here)" },
	{ "A='x'y\"z", 0, 1, 7, "unterminated double quote" },
	{ "PERSISTENT_BIND_PATHS=\"/a\n  /b\" $x", 0, 2, 7, "found '$'" },
	{ "1A=x", 0, 1, 1, "'1A' is not a valid variable name" },
	{ "A-B=x", 0, 1, 1, "'A-B' is not a valid variable name" },
	{ "A.B+=x", 0, 1, 1, "'A.B' is not a valid variable name" },
	{ "=x", 0, 1, 1, "'' is not a valid variable name" },
	{ "  export -n OVERLAY", 0, 1, 10, "export options ('-n') are not supported" },
	{ "export", 0, 1, 7, "'export' without a NAME" },
	{ "export # nothing", 0, 1, 8, "'export' without a NAME" },
	{ "export A-B", 0, 1, 8, "'A-B' is not a valid variable name to export" },
	{ "export A=1 $B", 0, 1, 12, "found '$'" },
	{ "A=1\0B=2", 7, 1, 4, "a NUL byte" },
	{ "# comment\0", 10, 1, 10, "a NUL byte" },
	{ "A=1\rB=2", 0, 1, 4, "a carriage return inside a line" },
	{ "OVERLAY=tmpfs:abc", 0, 1, 15, "OVERLAY='tmpfs:abc': the tmpfs size must be digits with an optional k, m, g or % suffix" },
	{ "OVERLAY=tmpfs:", 0, 1, 15, "the tmpfs size must be" },
	{ "OVERLAY=tmpfs:25%%", 0, 1, 15, "the tmpfs size must be" },
	{ "OVERLAY=tmpfs:-1", 0, 1, 15, "the tmpfs size must be" },
	{ "\n  export OVERLAY=\"tmpfs:1 g\"", 0, 2, 25, "the tmpfs size must be" },
	{ "OVERLAY=tmp'fs:'\\\n2x", 0, 2, 1, "the tmpfs size must be" },
	{ "OVERLAY=tmpfs\nOVERLAY+=: #", 0, 2, 11, "the tmpfs size must be" },
	{ "OVERLAY=tmpfs:1234567890123456789012345678901234567890", 0, 1, 15, "the tmpfs size is too long" },
	{ "\xef\xbb\xbfOVERLAY=none", 0, 1, 1, "a UTF-8 byte order mark" },
	{ "\xef\xbb", 0, 1, 1, "a command ('\\xef\\xbb')" },
};

START_TEST(test_reject_table)
{
	struct layout l;
	struct layout_diag d;
	const char *text = reject_cases[_i].text;
	size_t len = reject_cases[_i].len ? reject_cases[_i].len : strlen(text);

	memset(&l, 'X', sizeof(l));
	ck_assert_int_eq(layout_parse(text, len, &l, &d), -EINVAL);
	ck_assert_msg(strstr(d.message, reject_cases[_i].message) != NULL, "[%s] message '%s'", text,
		      d.message);
	ck_assert_msg(d.line == reject_cases[_i].line && d.column == reject_cases[_i].column,
		      "[%s] at %u:%u, expected %u:%u (%s)", text, d.line, d.column,
		      reject_cases[_i].line, reject_cases[_i].column, d.message);
	/* Nothing half-parsed is left behind. */
	ck_assert_uint_eq(l.n_overlay_paths, 0);
	ck_assert_uint_eq(l.n_bind_paths, 0);
	ck_assert_str_eq(l.bind_target, "");
}
END_TEST

/* ==================================== limits ==================================== */

START_TEST(test_path_count_limit)
{
	struct layout l;
	struct layout_diag d;
	char *ok = layout_test_repeat("PERSISTENT_BIND_PATHS=\"", "/x\n", LAYOUT_PATHS_MAX, "\"");
	char *bad = layout_test_repeat("PERSISTENT_BIND_PATHS=\"", "/x\n", LAYOUT_PATHS_MAX + 1, "\"");

	ck_assert_int_eq(layout_test_parse_str(ok, &l, &d), 0);
	ck_assert_uint_eq(l.n_bind_paths, LAYOUT_PATHS_MAX);
	ck_assert_uint_eq(l.bind_paths[LAYOUT_PATHS_MAX - 1].line, LAYOUT_PATHS_MAX);
	ck_assert_int_eq(layout_test_parse_str(bad, &l, &d), -EINVAL);
	ck_assert_uint_eq(d.line, LAYOUT_PATHS_MAX + 1);
	ck_assert_uint_eq(d.column, 1);
	ck_assert_str_eq(d.message, "more than 256 paths in PERSISTENT_BIND_PATHS");
	/* Reassigning starts over; appending counts on. */
	free(bad);
	bad = layout_test_repeat("TMPFS_OVERLAYS_PATHS+=\"/a /b\"\n", "TMPFS_OVERLAYS_PATHS+=\"/a /b\"\n",
		     LAYOUT_PATHS_MAX / 2, "");
	ck_assert_int_eq(layout_test_parse_str(bad, &l, &d), -EINVAL);
	ck_assert_uint_eq(d.line, LAYOUT_PATHS_MAX / 2 + 1);
	ck_assert_uint_eq(d.column, 24);
	free(bad);
	bad = layout_test_repeat("", "TMPFS_OVERLAYS_PATHS=\"/a /b\"\n", 1000, "");
	ck_assert_int_eq(layout_test_parse_str(bad, &l, &d), 0);
	ck_assert_uint_eq(l.n_overlay_paths, 2);
	ck_assert_uint_eq(l.overlay_paths[1].line, 1000);
	free(ok);
	free(bad);
}
END_TEST

START_TEST(test_path_length_limit)
{
	struct layout l;
	struct layout_diag d;
	char *ok = layout_test_repeat("PERSISTENT_BIND_PATHS=", "a", LAYOUT_PATH_MAX - 1, "");
	char *bad = layout_test_repeat("PERSISTENT_BIND_PATHS=\"\n  /x ", "a", LAYOUT_PATH_MAX, "\"");
	char *target = layout_test_repeat("PERSISTENT_BIND_TARGET=/opt/", "a", LAYOUT_PATH_MAX, "");
	char *append = layout_test_repeat("TMPFS_OVERLAY_TARGET=/opt/\nTMPFS_OVERLAY_TARGET+=", "a", 251, "");

	ck_assert_int_eq(layout_test_parse_str(ok, &l, &d), 0);
	ck_assert_uint_eq(strlen(l.bind_paths[0].path), LAYOUT_PATH_MAX - 1);
	ck_assert_int_eq(layout_test_parse_str(bad, &l, &d), -EINVAL);
	ck_assert_uint_eq(d.line, 2);
	ck_assert_uint_eq(d.column, 6);
	ck_assert_str_eq(d.message, "a path in PERSISTENT_BIND_PATHS is longer than 255 bytes");
	ck_assert_int_eq(layout_test_parse_str(target, &l, &d), -EINVAL);
	ck_assert_uint_eq(d.column, 24);
	ck_assert_str_eq(d.message, "the value of PERSISTENT_BIND_TARGET is longer than 255 bytes");
	ck_assert_int_eq(layout_test_parse_str(append, &l, &d), -EINVAL);
	ck_assert_uint_eq(d.line, 2);
	free(ok);
	free(bad);
	free(target);
	free(append);
}
END_TEST

START_TEST(test_hostile_sizes)
{
	struct layout l;
	struct layout_diag d;
	char *big = malloc(LAYOUT_FILE_MAX + 1), *s;

	/* Too large as a whole. */
	ck_assert_ptr_nonnull(big);
	memset(big, '#', LAYOUT_FILE_MAX + 1);
	ck_assert_int_eq(layout_parse(big, LAYOUT_FILE_MAX + 1, &l, &d), -EINVAL);
	ck_assert_uint_eq(d.line, 0);
	ck_assert_str_eq(d.message, "larger than 262144 bytes");
	/* Exactly the limit, one huge comment line: fine. */
	ck_assert_int_eq(layout_parse(big, LAYOUT_FILE_MAX, &l, &d), 0);
	/* A huge value of an unknown variable is ignored; of a list, words are limited. */
	s = layout_test_repeat("FOO=\"", "x", LAYOUT_FILE_MAX - 16, "\"");
	ck_assert_int_eq(layout_test_parse_str(s, &l, &d), 0);
	free(s);
	s = layout_test_repeat("FOO=\"", "x", LAYOUT_FILE_MAX, "\"");
	ck_assert_int_eq(layout_test_parse_str(s, &l, &d), -EINVAL);
	free(s);
	/* Many lines: line numbers keep counting. */
	s = layout_test_repeat("", "\n", 100000, "echo");
	ck_assert_int_eq(layout_test_parse_str(s, &l, &d), -EINVAL);
	ck_assert_uint_eq(d.line, 100001);
	free(s);
	/* A long line: the column keeps counting. */
	s = layout_test_repeat("A=", "x", 200000, ";");
	ck_assert_int_eq(layout_test_parse_str(s, &l, &d), -EINVAL);
	ck_assert_uint_eq(d.column, 200003);
	free(s);
	/* The input need not be NUL-terminated: parse a prefix of a larger buffer. */
	ck_assert_int_eq(layout_parse("OVERLAY=none$(reboot)", 12, &l, &d), 0);
	ck_assert(!l.overlay_tmpfs);
	/* A message never overflows, whatever the word. */
	s = layout_test_repeat("", "y", 5000, " x");
	ck_assert_int_eq(layout_test_parse_str(s, &l, &d), -EINVAL);
	ck_assert(strlen(d.message) < sizeof(d.message));
	free(s);
	free(big);
}
END_TEST

START_TEST(test_hostile_random)
{
	/* Every byte in every position of a few seeds: no crash, diag always inside the input. */
	static const char *const seeds[] = {
		"export A=\"/a\n/b\" # c\n",
		"PERSISTENT_BIND_PATHS+='x'\\\n\"y\"\r\n",
	};
	struct layout l;
	struct layout_diag d;

	for (int s = 0; s < N(seeds); s++) {
		size_t len = strlen(seeds[s]);
		char buf[64];

		for (size_t pos = 0; pos < len; pos++)
			for (int c = 0; c < 256; c++) {
				unsigned lines = 1;
				int r;

				memcpy(buf, seeds[s], len);
				buf[pos] = (char)c;
				for (size_t k = 0; k < len; k++)
					lines += buf[k] == '\n';
				r = layout_parse(buf, len, &l, &d);
				ck_assert(r == 0 || r == -EINVAL);
				ck_assert(r == 0 ? d.message[0] == '\0' : d.message[0] != '\0');
				ck_assert(d.line <= lines);
				ck_assert(d.column <= len + 1);
				if (r == 0)
					layout_validate(&l, &d);
			}
	}
}
END_TEST

/* The other layout test files add their cases to this suite. */
void layout_validate_tcases(Suite *s); /* test_layout_validate.c */
void layout_plan_tcases(Suite *s);     /* test_layout_plan.c */
void layout_check_tcases(Suite *s);    /* test_layout_check.c */

Suite *layout_suite(void)
{
	Suite *s = suite_create("layout");
	TCase *parse = tcase_create("parse");

	tcase_add_loop_test(parse, test_emt_files, 0, N(emt_cases));
	tcase_add_loop_test(parse, test_syntax_table, 0, N(syntax_cases));
	tcase_add_test(parse, test_target_lines);
	tcase_add_loop_test(parse, test_reject_table, 0, N(reject_cases));
	tcase_add_test(parse, test_path_count_limit);
	tcase_add_test(parse, test_path_length_limit);
	tcase_add_test(parse, test_hostile_sizes);
	tcase_add_test(parse, test_hostile_random);
	tcase_set_timeout(parse, 60);
	suite_add_tcase(s, parse);

	layout_validate_tcases(s);

	layout_plan_tcases(s);
	layout_check_tcases(s);
	return s;
}
