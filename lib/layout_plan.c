/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The ordered plan of a validated layout: what the layout stage does and what
 * `edgeinit-layout plan` prints. Pure: the new root is only seen through layout_root_ops. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgeinit/json_out.h"
#include "edgeinit/layout.h"
#include "edgeinit/macro.h"
#include "edgeinit/report.h"

static struct layout_action *plan_add(struct layout_plan *plan, enum layout_action_kind kind,
				      const char *path, unsigned line)
{
	struct layout_action *a;

	if (plan->n == plan->allocated) {
		size_t n = plan->allocated ? plan->allocated * 2 : 16;
		struct layout_action *bigger = realloc(plan->actions, n * sizeof(*bigger));

		if (!bigger)
			return NULL;
		plan->actions = bigger;
		plan->allocated = n;
	}
	a = &plan->actions[plan->n++];
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	a->line = line;
	snprintf(a->path, sizeof(a->path), "%s", path);
	return a;
}

_printf_(3, 4) static int fmt_path(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static const char *basename_of(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* What the root says about path: 'd', 'l', 'f', 0 (missing), or -errno. */
static int root_kind(const struct layout_root_ops *root, const char *path)
{
	int k = root->kind(root->userdata, path);

	if (k == -ENOENT || k == -ENOTDIR)
		return 0;
	if (k < 0 || k == 0 || k == 'd' || k == 'l' || k == 'f')
		return k;
	return -EINVAL;
}

static int add_skip(struct layout_plan *plan, const struct layout_path *lp, const char *reason)
{
	struct layout_action *a = plan_add(plan, LAYOUT_ACTION_SKIP, lp->path, lp->line);

	if (!a)
		return -ENOMEM;
	snprintf(a->reason, sizeof(a->reason), "%s", reason);
	return 0;
}

/* Common checks; 1 when the path was skipped, 0 to go on, -errno. */
static int skip_if_absent(struct layout_plan *plan, const struct layout_root_ops *root,
			  const struct layout_path *lp, bool need_dir, int *kind)
{
	int k = root_kind(root, lp->path), m;

	if (k < 0)
		return k;
	*kind = k;
	if (k == 0)
		return add_skip(plan, lp, "not in the image") ?: 1;
	if (k == 'l')
		return add_skip(plan, lp, "a symbolic link, not followed") ?: 1;
	if (need_dir && k != 'd')
		return add_skip(plan, lp, "not a directory") ?: 1;
	m = root->is_mount(root->userdata, lp->path);
	if (m < 0)
		return m;
	if (m > 0)
		return add_skip(plan, lp, "already a mount point") ?: 1;
	return 0;
}

static int plan_overlay(struct layout_plan *plan, const struct layout *l,
			const struct layout_root_ops *root, const struct layout_path *lp)
{
	struct layout_action *a;
	char m[LAYOUT_PATH_MAX];
	int r, kind;

	r = skip_if_absent(plan, root, lp, true, &kind);
	if (r != 0)
		return r < 0 ? r : 0;
	r = layout_mangle(lp->path, m, sizeof(m));
	if (r < 0)
		return r;
	a = plan_add(plan, LAYOUT_ACTION_OVERLAY, lp->path, lp->line);
	if (!a)
		return -ENOMEM;
	r = fmt_path(a->upper, sizeof(a->upper), "%s/%s.overlay/%s", l->overlay_target, m,
		     basename_of(lp->path));
	if (r < 0)
		return r;
	return fmt_path(a->work, sizeof(a->work), "%s/%s.overlay/work", l->overlay_target, m);
}

static int plan_bind(struct layout_plan *plan, const struct layout *l,
		     const struct layout_root_ops *root, const struct layout_path *lp)
{
	struct layout_action *a;
	char m[LAYOUT_PATH_MAX], dir[LAYOUT_PATH_MAX], file[LAYOUT_PATH_MAX];
	int r, kind;

	r = skip_if_absent(plan, root, lp, false, &kind);
	if (r != 0)
		return r < 0 ? r : 0;
	r = layout_mangle(lp->path, m, sizeof(m));
	if (r < 0)
		return r;
	r = fmt_path(dir, sizeof(dir), "%s/%s.bind", l->bind_target, m);
	if (r < 0)
		return r;
	r = fmt_path(file, sizeof(file), "%s/%s", dir, basename_of(lp->path));
	if (r < 0)
		return r;
	a = plan_add(plan, LAYOUT_ACTION_MKDIR, lp->path, lp->line);
	if (!a)
		return -ENOMEM;
	snprintf(a->target, sizeof(a->target), "%s", dir);
	a = plan_add(plan, kind == 'd' ? LAYOUT_ACTION_SEED_DIR : LAYOUT_ACTION_SEED_FILE, lp->path,
		     lp->line);
	if (!a)
		return -ENOMEM;
	snprintf(a->target, sizeof(a->target), "%s", kind == 'd' ? dir : file);
	a = plan_add(plan, LAYOUT_ACTION_BIND, lp->path, lp->line);
	if (!a)
		return -ENOMEM;
	snprintf(a->source, sizeof(a->source), "%s", kind == 'd' ? dir : file);
	return 0;
}

static int plan_build(const struct layout *l, const struct layout_root_ops *root,
		      struct layout_plan *plan)
{
	struct layout_action *a;
	int r;

	a = plan_add(plan, LAYOUT_ACTION_MKDIR, "", 0);
	if (!a)
		return -ENOMEM;
	snprintf(a->target, sizeof(a->target), "%s", l->overlay_target);
	if (l->overlay_tmpfs) {
		a = plan_add(plan, LAYOUT_ACTION_MOUNT_TMPFS, "", 0);
		if (!a)
			return -ENOMEM;
		snprintf(a->target, sizeof(a->target), "%s", l->overlay_target);
		r = fmt_path(a->option, sizeof(a->option), "size=%s", l->tmpfs_size);
		if (r < 0)
			return r;
	}
	for (size_t k = 0; k < l->n_overlay_paths; k++) {
		r = plan_overlay(plan, l, root, &l->overlay_paths[k]);
		if (r < 0)
			return r;
	}
	a = plan_add(plan, LAYOUT_ACTION_MKDIR, "", 0);
	if (!a)
		return -ENOMEM;
	snprintf(a->target, sizeof(a->target), "%s", l->bind_target);
	for (size_t k = 0; k < l->n_bind_paths; k++) {
		r = plan_bind(plan, l, root, &l->bind_paths[k]);
		if (r < 0)
			return r;
	}
	return 0;
}

int layout_plan_build(const struct layout *l, const struct layout_root_ops *root,
		      struct layout_plan *plan)
{
	int r;

	memset(plan, 0, sizeof(*plan));
	if (l->n_overlay_paths > LAYOUT_PATHS_MAX || l->n_bind_paths > LAYOUT_PATHS_MAX)
		return -EINVAL;
	r = plan_build(l, root, plan);
	if (r < 0)
		layout_plan_free(plan);
	return r;
}

void layout_plan_free(struct layout_plan *plan)
{
	free(plan->actions);
	memset(plan, 0, sizeof(*plan));
}

/* ---------------------------------- formatting ---------------------------------- */

static const char *const kind_names[] = {
	[LAYOUT_ACTION_MKDIR] = "mkdir",
	[LAYOUT_ACTION_MOUNT_TMPFS] = "mount-tmpfs",
	[LAYOUT_ACTION_OVERLAY] = "overlay",
	[LAYOUT_ACTION_SEED_DIR] = "seed-dir",
	[LAYOUT_ACTION_SEED_FILE] = "seed-file",
	[LAYOUT_ACTION_BIND] = "bind",
	[LAYOUT_ACTION_SKIP] = "skip",
};

static const char *kind_name(enum layout_action_kind kind)
{
	return (size_t)kind < ELEMENTSOF(kind_names) && kind_names[kind] ? kind_names[kind] : "unknown";
}

int layout_plan_format_text(const struct layout_plan *plan, char *buf, size_t size)
{
	struct json_out o = JSON_OUT(buf, size);

	if (size == 0)
		return -ENOSPC;
	buf[0] = '\0';
	for (size_t k = 0; k < plan->n; k++) {
		const struct layout_action *a = &plan->actions[k];

		json_out_printf(&o, "%s", kind_name(a->kind));
		switch (a->kind) {
		case LAYOUT_ACTION_MKDIR:
			json_out_printf(&o, " %s", a->target);
			break;
		case LAYOUT_ACTION_MOUNT_TMPFS:
			json_out_printf(&o, " %s %s", a->target, a->option);
			break;
		case LAYOUT_ACTION_OVERLAY:
			json_out_printf(&o, " %s lower=%s upper=%s work=%s", a->path, a->path, a->upper, a->work);
			break;
		case LAYOUT_ACTION_SEED_DIR:
		case LAYOUT_ACTION_SEED_FILE:
			json_out_printf(&o, " %s to=%s", a->path, a->target);
			break;
		case LAYOUT_ACTION_BIND:
			json_out_printf(&o, " %s source=%s", a->path, a->source);
			break;
		case LAYOUT_ACTION_SKIP:
			json_out_printf(&o, " %s", a->path);
			break;
		}
		if (a->line)
			json_out_printf(&o, " line=%u", a->line);
		if (a->kind == LAYOUT_ACTION_SKIP)
			json_out_printf(&o, ": %s", a->reason);
		json_out_printf(&o, "\n");
	}
	return json_out_finish(&o);
}

int layout_plan_format_json(const struct layout_plan *plan, char *buf, size_t size)
{
	struct json_out o = JSON_OUT(buf, size);

	if (size == 0)
		return -ENOSPC;
	buf[0] = '\0';
	json_out_printf(&o, "[");
	for (size_t k = 0; k < plan->n; k++) {
		const struct layout_action *a = &plan->actions[k];

		json_out_printf(&o, "%s\n  {\"action\": \"%s\"", k ? "," : "", kind_name(a->kind));
		switch (a->kind) {
		case LAYOUT_ACTION_MKDIR:
			if (a->path[0])
				json_out_field(&o, "path", a->path);
			json_out_field(&o, "target", a->target);
			break;
		case LAYOUT_ACTION_MOUNT_TMPFS:
			json_out_field(&o, "target", a->target);
			json_out_field(&o, "option", a->option);
			break;
		case LAYOUT_ACTION_OVERLAY:
			json_out_field(&o, "path", a->path);
			json_out_field(&o, "lower", a->path);
			json_out_field(&o, "upper", a->upper);
			json_out_field(&o, "work", a->work);
			break;
		case LAYOUT_ACTION_SEED_DIR:
		case LAYOUT_ACTION_SEED_FILE:
			json_out_field(&o, "path", a->path);
			json_out_field(&o, "target", a->target);
			break;
		case LAYOUT_ACTION_BIND:
			json_out_field(&o, "path", a->path);
			json_out_field(&o, "source", a->source);
			break;
		case LAYOUT_ACTION_SKIP:
			json_out_field(&o, "path", a->path);
			json_out_field(&o, "reason", a->reason);
			break;
		}
		if (a->line)
			json_out_printf(&o, ", \"line\": %u", a->line);
		json_out_printf(&o, "}");
	}
	json_out_printf(&o, "%s]\n", plan->n ? "\n" : "");
	return json_out_finish(&o);
}
