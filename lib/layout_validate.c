/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* layout.env validation: what a parsed layout must satisfy before anything is mounted.
 * Pure: no I/O, no logging, no globals. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgeinit/strutil.h"
#include "layout_internal.h"

/* ---------------------------------- validation ---------------------------------- */

int layout_mangle(const char *path, char *out, size_t size)
{
	size_t n;

	if (path[0] != '/')
		return -EINVAL;
	path++;
	n = strlen(path);
	if (n >= size)
		return -E2BIG;
	for (size_t k = 0; k <= n; k++)
		out[k] = path[k] == '/' ? '-' : path[k];
	return 0;
}

const char *layout_basename(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* NULL if path is absolute and normalised, else why not. */
const char *layout_path_problem(const char *path)
{
	const char *c;

	if (path[0] != '/')
		return "is not an absolute path";
	if (path[1] == '\0')
		return "is the root directory";
	for (c = path; *c; c++) {
		if (*c == ' ')
			return "contains a space, which EMT's hook would split";
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return "contains a control character";
		if (*c == '*' || *c == '?' || *c == '[')
			return "contains a glob character, which EMT's hook would expand";
	}
	if (strstr(path, "//"))
		return "is not normalised (it contains '//')";
	if (path[strlen(path) - 1] == '/')
		return "is not normalised (it ends with '/')";
	for (c = path; c; c = strchr(c + 1, '/')) {
		size_t n = strcspn(c + 1, "/");

		if (n == 1 && c[1] == '.')
			return "is not normalised (it has a '.' component)";
		if (n == 2 && c[1] == '.' && c[2] == '.')
			return "has a '..' component";
	}
	return NULL;
}

/* 1 if path is dir or below it. */
bool layout_path_below_or_equal(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static int check_target(const char *name, const char *target, unsigned line, unsigned column,
			struct layout_diag *diag, const char **code)
{
	const char *why = layout_path_problem(target);
	char q[256];

	*code = "bad-target";
	if (why)
		return layout_fail(diag, line, column, "%s '%s' %s", name,
				   layout_quote(q, sizeof(q), target), why);
	if (!layout_path_below_or_equal(target, LAYOUT_PERSIST_MOUNT) || streq(target, LAYOUT_PERSIST_MOUNT))
		return layout_fail(diag, line, column,
				   "%s '%s' must be below %s, where the persistent partition is mounted",
				   name, layout_quote(q, sizeof(q), target), LAYOUT_PERSIST_MOUNT);
	return 0;
}

struct list_ref {
	const char *var;     /* TMPFS_OVERLAYS_PATHS */
	const char *what;    /* "overlay path" */
	const char *suffix;  /* ".overlay" */
	const struct layout_path *paths;
	size_t n;
};

/* Length of the longest state path a layout path leads to, for the limit check. */
static size_t state_path_len(const char *target, const char *mangled, const char *suffix,
			     const char *path)
{
	size_t base = strlen(layout_basename(path)), tail = base > 4 ? base : 4; /* "work" */

	return strlen(target) + 1 + strlen(mangled) + strlen(suffix) + 1 + tail;
}

/* The first problem of one path, with its diagnostic code. */
static int check_path(const struct layout *l, const struct list_ref *lists, size_t which,
		      size_t idx, struct layout_diag *diag, const char **code)
{
	const struct list_ref *me = &lists[which];
	const struct layout_path *lp = &me->paths[idx];
	const char *path = lp->path, *why = layout_path_problem(path);
	const char *target = which == 0 ? l->overlay_target : l->bind_target;
	char q[256], m[LAYOUT_PATH_MAX], m2[LAYOUT_PATH_MAX];
	unsigned line = lp->line, col = lp->column;

	*code = "bad-path";
	if (why)
		return layout_fail(diag, line, col, "%s '%s' %s", me->what,
				   layout_quote(q, sizeof(q), path), why);
	*code = "persistent-mount";
	if (streq(path, LAYOUT_PERSIST_MOUNT))
		return layout_fail(diag, line, col, "%s '%s' is the persistent partition's mount point",
				   me->what, path);
	if (layout_path_below_or_equal(path, LAYOUT_PERSIST_MOUNT))
		return layout_fail(diag, line, col,
				   "%s '%s' is inside the persistent partition's mount point %s",
				   me->what, layout_quote(q, sizeof(q), path), LAYOUT_PERSIST_MOUNT);
	/* Duplicates: against every earlier entry of both lists. */
	for (size_t w = 0; w <= which; w++)
		for (size_t j = 0; j < (w == which ? idx : lists[w].n); j++) {
			const struct layout_path *o = &lists[w].paths[j];

			if (!streq(o->path, path))
				continue;
			if (w == which) {
				*code = "duplicate-path";
				return layout_fail(diag, line, col,
						   "%s '%s' is listed twice in %s (first on line %u)",
						   me->what, layout_quote(q, sizeof(q), path), me->var,
						   o->line);
			}
			*code = "overlay-and-bind";
			return layout_fail(diag, line, col,
					   "'%s' is both a bind path and an overlay path (%s, line %u)",
					   layout_quote(q, sizeof(q), path), lists[w].var, o->line);
		}
	*code = "path-too-long";
	if (layout_mangle(path, m, sizeof(m)) < 0 ||
	    state_path_len(target, m, me->suffix, path) >= LAYOUT_PATH_MAX)
		return layout_fail(diag, line, col,
				   "%s '%s' is too long: its state directory under '%s' would not fit in %d bytes",
				   me->what, layout_quote(q, sizeof(q), path), target, LAYOUT_PATH_MAX - 1);
	/* EMT's mangling is ambiguous: /a-b/c and /a/b-c share a directory. */
	*code = "name-collision";
	for (size_t j = 0; j < idx; j++) {
		const struct layout_path *o = &me->paths[j];

		if (layout_mangle(o->path, m2, sizeof(m2)) == 0 && streq(m, m2))
			return layout_fail(diag, line, col,
					   "%s '%s' and '%s' (line %u) would share the directory '%s%s'",
					   me->what, layout_quote(q, sizeof(q), path), o->path, o->line, m,
					   me->suffix);
	}
	*code = "overlay-work";
	if (which == 0 && streq(layout_basename(path), "work"))
		return layout_fail(diag, line, col,
				   "overlay path '%s' ends in 'work', which would make its upper and work directories the same",
				   layout_quote(q, sizeof(q), path));
	return 0;
}

/* Hand a problem to the sink: its return value says whether to go on (0) or stop (<0). */
static int emit(const struct layout_validate_sink *sink, const char *code, struct layout_diag *d)
{
	int r = sink->emit(sink->userdata, code, d);

	memset(d, 0, sizeof(*d));
	return r;
}

int layout_validate_each(const struct layout *l, const struct layout_validate_sink *sink)
{
	const struct list_ref lists[2] = {
		{ "TMPFS_OVERLAYS_PATHS", "overlay path", ".overlay", l->overlay_paths, l->n_overlay_paths },
		{ "PERSISTENT_BIND_PATHS", "bind path", ".bind", l->bind_paths, l->n_bind_paths },
	};
	struct layout_diag d = { 0 };
	const char *code = NULL;
	bool targets_ok = true;
	int r;

	if (!memchr(l->bind_target, '\0', sizeof(l->bind_target)) ||
	    !memchr(l->overlay_target, '\0', sizeof(l->overlay_target))) {
		layout_fail(&d, 0, 0, "a target is not NUL-terminated");
		emit(sink, "bad-target", &d);
		return -EINVAL; /* nothing else can be read safely */
	}
	if (check_target("TMPFS_OVERLAY_TARGET", l->overlay_target, l->overlay_target_line,
			 l->overlay_target_column, &d, &code) < 0) {
		targets_ok = false;
		if ((r = emit(sink, code, &d)) < 0)
			return r;
	}
	if (check_target("PERSISTENT_BIND_TARGET", l->bind_target, l->bind_target_line,
			 l->bind_target_column, &d, &code) < 0) {
		targets_ok = false;
		if ((r = emit(sink, code, &d)) < 0)
			return r;
	}
	if (targets_ok && l->overlay_tmpfs && layout_path_below_or_equal(l->bind_target, l->overlay_target)) {
		layout_fail(&d, l->bind_target_line, l->bind_target_column,
			    "PERSISTENT_BIND_TARGET '%s' is inside TMPFS_OVERLAY_TARGET '%s', where a tmpfs is mounted: nothing would persist",
			    l->bind_target, l->overlay_target);
		if ((r = emit(sink, "bind-target-in-tmpfs", &d)) < 0)
			return r;
	}
	for (size_t w = 0; w < ELEMENTSOF(lists); w++) {
		if (lists[w].n > LAYOUT_PATHS_MAX) {
			layout_fail(&d, 0, 0, "more than %d paths in %s", LAYOUT_PATHS_MAX, lists[w].var);
			emit(sink, "too-many-paths", &d);
			return -EINVAL; /* the arrays cannot be walked */
		}
		for (size_t k = 0; k < lists[w].n; k++) {
			if (!memchr(lists[w].paths[k].path, '\0', LAYOUT_PATH_MAX)) {
				layout_fail(&d, lists[w].paths[k].line, 0, "a path is not NUL-terminated");
				emit(sink, "bad-path", &d);
				return -EINVAL;
			}
			if (!targets_ok)
				continue; /* the checks below derive names from the targets */
			if (check_path(l, lists, w, k, &d, &code) < 0 && (r = emit(sink, code, &d)) < 0)
				return r;
		}
	}
	return 0;
}

/* The first problem, for the initrd: stop there. */
static int first_problem(void *userdata, const char *code, const struct layout_diag *d)
{
	struct layout_diag *out = userdata;

	(void)code;
	if (out)
		*out = *d;
	return -EINVAL;
}

int layout_validate(const struct layout *l, struct layout_diag *diag)
{
	const struct layout_validate_sink sink = { first_problem, diag };
	int r;

	if (diag)
		memset(diag, 0, sizeof(*diag));
	r = layout_validate_each(l, &sink);
	return r < 0 ? -EINVAL : 0;
}
