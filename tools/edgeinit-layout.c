/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* edgeinit-layout: the integrators' view of layout.env, with edgeinit's own parser and planner.
 *
 *   edgeinit-layout check FILE
 *   edgeinit-layout plan --root ROOTFS_DIR [--json] FILE
 *
 * Exit status: 0 ok, 1 the file is invalid (or the root cannot be read), 2 usage. */
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
#define EXIT_USAGE 2

static void usage(FILE *f)
{
	fprintf(f, "usage: edgeinit-layout check FILE\n"
		   "       edgeinit-layout plan --root ROOTFS_DIR [--json] FILE\n");
}

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
		return r;
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
	if (load(file, l) < 0) {
		free(l);
		return EXIT_INVALID;
	}
	root.fd = open(rootdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root.fd < 0) {
		fprintf(stderr, "%s: error: cannot open: %m\n", rootdir);
		free(l);
		return EXIT_INVALID;
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
	return r < 0 ? EXIT_INVALID : EXIT_SUCCESS;
}

static int cmd_check(int argc, char **argv)
{
	struct layout *l;
	int r;

	if (argc != 1 || argv[0][0] == '-') {
		usage(stderr);
		return EXIT_USAGE;
	}
	l = malloc(sizeof(*l));
	if (!l)
		return EXIT_INVALID;
	r = load(argv[0], l);
	if (r == 0)
		printf("%s: ok (%zu overlays, %zu binds)\n", argv[0], l->n_overlay_paths,
		       l->n_bind_paths);
	free(l);
	return r < 0 ? EXIT_INVALID : EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
		usage(stdout);
		return EXIT_SUCCESS;
	}
	if (argc >= 2 && streq(argv[1], "check"))
		return cmd_check(argc - 2, argv + 2);
	if (argc >= 2 && streq(argv[1], "plan"))
		return cmd_plan(argc - 2, argv + 2);
	usage(stderr);
	return EXIT_USAGE;
}
