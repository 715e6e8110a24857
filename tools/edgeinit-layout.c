/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* edgeinit-layout: the integrators' view of layout.env, with edgeinit's own parser and planner.
 *
 *   edgeinit-layout check [--strict] [--json] [--root ROOTFS_DIR] FILE
 *   edgeinit-layout plan --root ROOTFS_DIR [--json] FILE
 *
 * Exit status: 0 ok, 1 the file has errors (check --strict: or warnings), 2 usage, or a file or
 * root tree that cannot be read. --help is the manual. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "edgeinit/fs.h"
#include "edgeinit/layout.h"
#include "edgeinit/macro.h"

#define EXIT_INVALID 1
#define EXIT_USAGE 2 /* also: a file or root tree that cannot be read */

static void usage(FILE *f)
{
	fprintf(f, "usage: edgeinit-layout check [--strict] [--json] [--root ROOTFS_DIR] FILE\n"
		   "       edgeinit-layout plan --root ROOTFS_DIR [--json] FILE\n"
		   "       edgeinit-layout --help\n");
}

static const char help_text[] =
"edgeinit-layout: check layout.env, and show what a boot would do with it, using the parser,\n"
"validator and planner of edgeinit's /init.\n"
"\n"
"edgeinit-layout check [--strict] [--json] [--root ROOTFS_DIR] FILE\n"
"  Reports every problem of FILE, one per line, as compilers do:\n"
"    FILE:LINE:COLUMN: error: MESSAGE [CODE]\n"
"    FILE:LINE:COLUMN: note: what to do\n"
"  (FILE:LINE: or FILE: when a problem has no column or line, e.g. a default). LINE and\n"
"  COLUMN are 1-based, COLUMN counts bytes. Without errors it prints\n"
"  'FILE: ok (N overlays, M binds)' on standard output, followed by ', K warnings' if any.\n"
"  Errors (the initrd refuses the file, or the path cannot work):\n"
"    syntax            anything that needs a shell ($, `, ;, |, &, <, >, (, ), {, }, ~,\n"
"                      commands), bad quotes or escapes; parsing stops at the first one\n"
"    bad-path, persistent-mount, duplicate-path, overlay-and-bind, path-too-long,\n"
"    name-collision, overlay-work, bad-target, bind-target-in-tmpfs\n"
"                      what the initrd refuses before mounting anything (all of them are\n"
"                      listed, the boot shows the first); overlay-and-bind: one path is both\n"
"                      in TMPFS_OVERLAYS_PATHS and in PERSISTENT_BIND_PATHS\n"
"    api-filesystem    a path on /proc, /sys, /dev or /run: edgeinit moves its own API file\n"
"                      systems onto the new root when it switches root, hiding the mount\n"
"    sysroot           a path under /sysroot: layout.env names paths of the booted system\n"
"  Warnings (the initrd boots with them, as EMT's hook did, but they are mistakes):\n"
"    unknown-variable  a variable edgeinit does not read (edgeinit and EMT's hook ignore it,\n"
"                      so a typo such as PERSISTENT_BIND_PATH persists nothing); names the\n"
"                      nearest known variable when it is a few edits away (case ignored)\n"
"    assigned-twice    NAME=... after NAME was already assigned: the earlier value is\n"
"                      discarded, the last assignment wins (as in bash and in the initrd);\n"
"                      NAME+=... is not reported\n"
"    container-runtime with --root only: /var/lib/docker, /var/lib/containerd or\n"
"                      /var/lib/rancher exists in ROOTFS_DIR, lies under an overlay path\n"
"                      (e.g. /var) and is not under a persistent bind: with OVERLAY=tmpfs:...\n"
"                      its data is lost at every reboot, and overlayfs storage drivers fail\n"
"                      on an overlayfs upper directory. Fix: add it to PERSISTENT_BIND_PATHS\n"
"  --strict    report warnings as errors (exit status 1), for CI pipelines\n"
"  --json      print the problems as a JSON array on standard output instead, one object\n"
"              per problem: file, line, column (null when unknown), severity (\"error\" or\n"
"              \"warning\"; \"error\" for every problem with --strict), code, message, hint\n"
"              (null when none); [] when there is none\n"
"  --root DIR  an unpacked image root, for the container-runtime check; paths are looked\n"
"              up inside DIR only (symbolic links resolved as if DIR were /)\n"
"\n"
"edgeinit-layout plan --root ROOTFS_DIR [--json] FILE\n"
"  Validates FILE (printing the first error, as the initrd would), then prints the ordered\n"
"  actions a boot would perform against the root tree ROOTFS_DIR, one per line, or as a\n"
"  JSON array with --json (objects with action: mkdir, mount-tmpfs, overlay, seed-dir,\n"
"  seed-file, bind, skip, and the fields it uses: path, target, option, lower, upper,\n"
"  work, source, reason, line). Paths are looked up inside ROOTFS_DIR only; the last\n"
"  component is never followed.\n"
"\n"
"Exit status: 0 no errors (check: warnings allowed without --strict); 1 errors (check\n"
"--strict: or warnings); 2 a usage error, or FILE or ROOTFS_DIR cannot be read.\n"
"See layout/README.md for the syntax and the meaning of the variables.\n";

/* The whole file; one byte more than the limit at most, so the parser can say it is too large. */
static int read_file(const char *path, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *buf = malloc(LAYOUT_FILE_MAX + 2);
	int n;

	if (!buf)
		return -ENOMEM;
	n = read_small_file(path, buf, LAYOUT_FILE_MAX + 2);
	if (n < 0)
		return n;
	*ret = TAKE_PTR(buf);
	*ret_len = (size_t)n;
	return 0;
}

static void print_diag(const char *file, const struct layout_diag *d)
{
	if (d->line && d->column)
		fprintf(stderr, "%s:%u:%u: error: %s\n", file, d->line, d->column, d->message);
	else if (d->line)
		fprintf(stderr, "%s:%u: error: %s\n", file, d->line, d->message);
	else
		fprintf(stderr, "%s: error: %s\n", file, d->message);
}

static int load(const char *file, struct layout *l)
{
	_cleanup_free_ char *text = NULL;
	struct layout_diag d;
	size_t len;
	int r;

	r = read_file(file, &text, &len);
	if (r < 0) {
		fprintf(stderr, "%s: error: cannot read: %s\n", file, strerror(-r));
		return -EIO;
	}
	r = layout_parse(text, len, l, &d);
	if (r == -EINVAL)
		print_diag(file, &d);
	else if (r < 0)
		fprintf(stderr, "%s: error: %s\n", file, strerror(-r));
	if (r < 0)
		return r;
	r = layout_validate(l, &d);
	if (r < 0)
		print_diag(file, &d);
	return r;
}

/* ------------------------ the root tree, never left through a symlink ------------------------ */

struct root {
	int fd;
};

/* Open the directory holding path's last component, resolving inside the root only. */
static int open_parent(const struct root *root, const char *path, const char **base)
{
	char parent[LAYOUT_PATH_MAX];
	const char *slash = strrchr(path, '/');
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	long fd;

	if (!slash || slash[1] == '\0' || (size_t)(slash - path) >= sizeof(parent))
		return -EINVAL;
	memcpy(parent, path, (size_t)(slash - path));
	parent[slash - path] = '\0';
	*base = slash + 1;
	fd = syscall(SYS_openat2, root->fd, parent[0] ? parent : ".", &how, sizeof(how));
	return fd < 0 ? negative_errno() : (int)fd;
}

static int root_stat(const struct root *root, const char *path, struct statx *st,
		     struct statx *parent)
{
	_cleanup_close_ int dfd = -EBADF;
	const char *base;

	dfd = open_parent(root, path, &base);
	if (dfd < 0)
		return dfd;
	if (statx(dfd, base, AT_SYMLINK_NOFOLLOW, STATX_TYPE | STATX_MNT_ID, st) < 0)
		return negative_errno();
	if (parent && statx(dfd, "", AT_EMPTY_PATH, STATX_MNT_ID, parent) < 0)
		return negative_errno();
	return 0;
}

static int root_kind(void *userdata, const char *path)
{
	struct statx st;
	int r = root_stat(userdata, path, &st, NULL);

	if (r == -ENOENT || r == -ENOTDIR)
		return 0;
	if (r < 0)
		return r;
	if (S_ISDIR(st.stx_mode))
		return 'd';
	return S_ISLNK(st.stx_mode) ? 'l' : 'f';
}

static int root_is_mount(void *userdata, const char *path)
{
	struct statx st, parent;
	int r = root_stat(userdata, path, &st, &parent);

	if (r < 0)
		return r;
	if ((st.stx_mask & STATX_MNT_ID) && (parent.stx_mask & STATX_MNT_ID))
		return st.stx_mnt_id != parent.stx_mnt_id;
	return st.stx_dev_major != parent.stx_dev_major || st.stx_dev_minor != parent.stx_dev_minor;
}

static int print_plan(const struct layout_plan *plan, bool json)
{
	size_t size = 4096 + plan->n * 2048;

	for (;;) {
		_cleanup_free_ char *buf = malloc(size);
		int n;

		if (!buf)
			return -ENOMEM;
		n = json ? layout_plan_format_json(plan, buf, size)
			 : layout_plan_format_text(plan, buf, size);
		if (n >= 0) {
			fputs(buf, stdout);
			return 0;
		}
		if (n != -ENOSPC || size > 64u * 1024 * 1024)
			return n;
		size *= 2;
	}
}

static int cmd_plan(int argc, char **argv)
{
	const char *rootdir = NULL, *file = NULL;
	bool json = false;
	struct layout *l;
	struct layout_plan plan;
	struct root root;
	struct layout_root_ops ops = { .kind = root_kind, .is_mount = root_is_mount, .userdata = &root };
	int r;

	for (int k = 0; k < argc; k++) {
		if (streq(argv[k], "--json"))
			json = true;
		else if (streq(argv[k], "--root") && k + 1 < argc)
			rootdir = argv[++k];
		else if (!strncmp(argv[k], "--root=", 7))
			rootdir = argv[k] + 7;
		else if (argv[k][0] == '-' || file) {
			usage(stderr);
			return EXIT_USAGE;
		} else
			file = argv[k];
	}
	if (!rootdir || !file) {
		usage(stderr);
		return EXIT_USAGE;
	}
	l = malloc(sizeof(*l));
	if (!l)
		return EXIT_INVALID;
	r = load(file, l);
	if (r < 0) {
		free(l);
		return r == -EIO ? EXIT_USAGE : EXIT_INVALID;
	}
	root.fd = open(rootdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root.fd < 0) {
		fprintf(stderr, "%s: error: cannot open: %m\n", rootdir);
		free(l);
		return EXIT_USAGE;
	}
	r = layout_plan_build(l, &ops, &plan);
	if (r < 0)
		fprintf(stderr, "%s: error: cannot inspect the root tree: %s\n", rootdir, strerror(-r));
	else {
		r = print_plan(&plan, json);
		if (r < 0)
			fprintf(stderr, "error: cannot format the plan: %s\n", strerror(-r));
		layout_plan_free(&plan);
	}
	close(root.fd);
	free(l);
	return r < 0 ? EXIT_USAGE : EXIT_SUCCESS;
}

/* Format findings into a buffer that grows until they fit. */
static int print_findings(const struct layout_findings *f, const char *file, bool strict,
			  bool json, FILE *out)
{
	size_t size = 4096 + f->n * 2048;

	for (;;) {
		_cleanup_free_ char *buf = malloc(size);
		int n;

		if (!buf)
			return -ENOMEM;
		n = json ? layout_findings_format_json(f, file, strict, buf, size)
			 : layout_findings_format_text(f, file, strict, buf, size);
		if (n >= 0) {
			fputs(buf, out);
			return 0;
		}
		if (n != -ENOSPC || size > 64u * 1024 * 1024)
			return n;
		size *= 2;
	}
}

static int cmd_check(int argc, char **argv)
{
	const char *rootdir = NULL, *file = NULL;
	bool json = false, strict = false;
	_cleanup_free_ struct layout *l = NULL;
	_cleanup_free_ char *text = NULL;
	struct layout_findings f;
	struct root root = { .fd = -EBADF };
	struct layout_root_ops ops = { .kind = root_kind, .is_mount = root_is_mount, .userdata = &root };
	size_t len, errors, warnings;
	int r;

	for (int k = 0; k < argc; k++) {
		if (streq(argv[k], "--json"))
			json = true;
		else if (streq(argv[k], "--strict"))
			strict = true;
		else if (streq(argv[k], "--root") && k + 1 < argc)
			rootdir = argv[++k];
		else if (!strncmp(argv[k], "--root=", 7))
			rootdir = argv[k] + 7;
		else if ((argv[k][0] == '-' && argv[k][1]) || file) {
			usage(stderr);
			return EXIT_USAGE;
		} else
			file = argv[k];
	}
	if (!file) {
		usage(stderr);
		return EXIT_USAGE;
	}
	l = malloc(sizeof(*l));
	if (!l)
		return EXIT_USAGE;
	r = read_file(file, &text, &len);
	if (r < 0) {
		fprintf(stderr, "%s: error: cannot read: %s\n", file, strerror(-r));
		return EXIT_USAGE;
	}
	if (rootdir) {
		root.fd = open(rootdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (root.fd < 0) {
			fprintf(stderr, "%s: error: cannot open: %m\n", rootdir);
			return EXIT_USAGE;
		}
	}
	r = layout_check(text, len, rootdir ? &ops : NULL, l, &f);
	if (root.fd >= 0)
		close(root.fd);
	if (r < 0) {
		fprintf(stderr, "%s: error: cannot check: %s\n", rootdir && r != -ENOMEM ? rootdir : file,
			strerror(-r));
		return EXIT_USAGE;
	}
	errors = layout_findings_count(&f, LAYOUT_ERROR);
	warnings = layout_findings_count(&f, LAYOUT_WARNING);
	if (strict) {
		errors += warnings;
		warnings = 0;
	}
	r = print_findings(&f, file, strict, json, json ? stdout : stderr);
	layout_findings_free(&f);
	if (r < 0) {
		fprintf(stderr, "error: cannot format the diagnostics: %s\n", strerror(-r));
		return EXIT_USAGE;
	}
	if (json)
		;
	else if (errors)
		fprintf(stderr, "%s: %zu error%s, %zu warning%s\n", file, errors, errors == 1 ? "" : "s",
			warnings, warnings == 1 ? "" : "s");
	else if (warnings)
		printf("%s: ok (%zu overlays, %zu binds), %zu warning%s\n", file, l->n_overlay_paths,
		       l->n_bind_paths, warnings, warnings == 1 ? "" : "s");
	else
		printf("%s: ok (%zu overlays, %zu binds)\n", file, l->n_overlay_paths, l->n_bind_paths);
	return errors ? EXIT_INVALID : EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
	for (int k = 1; k < argc; k++)
		if (streq(argv[k], "--help") || streq(argv[k], "-h")) {
			fputs(help_text, stdout);
			return EXIT_SUCCESS;
		}
	if (argc >= 2 && streq(argv[1], "check"))
		return cmd_check(argc - 2, argv + 2);
	if (argc >= 2 && streq(argv[1], "plan"))
		return cmd_plan(argc - 2, argv + 2);
	usage(stderr);
	return EXIT_USAGE;
}
