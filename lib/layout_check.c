/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* layout.env linting for `edgeinit-layout check`: everything the initrd refuses (syntax and
 * validation, all of them, not just the first), plus what the initrd accepts but is almost
 * certainly a mistake: unknown variable names (a typo persists nothing), a variable assigned
 * twice, paths that switch_root hides (API file systems) or that name the initrd's view
 * (/sysroot), and container runtimes whose data would sit on a tmpfs overlay.
 * Pure: no I/O except through struct layout_root_ops, no logging, no globals. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgeinit/json_out.h"
#include "edgeinit/strutil.h"
#include "layout_internal.h"

#define NAME_SUGGEST_MAX 64 /* longer names are not compared (the distance table is bounded) */

/* Mounted over the new root by switch_root (modules/switch_root.c), hiding whatever the layout
 * stage put there. */
static const char *const api_filesystems[] = { "/proc", "/sys", "/dev", "/run" };

/* Container runtimes' state: overlayfs storage drivers refuse an overlayfs upper directory. */
static const char *const runtime_dirs[] = { "/var/lib/docker", "/var/lib/containerd", "/var/lib/rancher" };

struct assignment {
	const char *name;
	size_t name_len;
	bool append;
	unsigned line, column;
};

struct collector {
	struct assignment *items;
	size_t n, allocated;
	bool oom;
};

_printf_(6, 7) static int add(struct layout_findings *f, enum layout_severity severity,
			      const char *code, unsigned line, unsigned column, const char *fmt, ...)
{
	struct layout_finding *it;
	va_list ap;

	if (f->n >= LAYOUT_FINDINGS_MAX) {
		f->dropped[severity == LAYOUT_ERROR]++;
		return 1; /* hint() must not touch the last one listed */
	}
	if (f->n == f->allocated) {
		size_t n = f->allocated ? f->allocated * 2 : 16;
		struct layout_finding *p = realloc(f->items, n * sizeof(*p));

		if (!p)
			return -ENOMEM;
		f->items = p;
		f->allocated = n;
	}
	it = &f->items[f->n++];
	memset(it, 0, sizeof(*it));
	it->severity = severity;
	it->line = line;
	it->column = column;
	str_copy(it->code, sizeof(it->code), code);
	va_start(ap, fmt);
	vsnprintf(it->message, sizeof(it->message), fmt, ap);
	va_end(ap);
	return 0;
}

/* Set the hint of the finding just added (add() returned 0). */
_printf_(2, 3) static void hint(struct layout_findings *f, const char *fmt, ...)
{
	va_list ap;

	if (f->dropped[0] || f->dropped[1])
		return;
	va_start(ap, fmt);
	vsnprintf(f->items[f->n - 1].hint, sizeof(f->items[0].hint), fmt, ap);
	va_end(ap);
}

static void on_assign(void *userdata, const char *name, size_t name_len, bool append,
		      unsigned line, unsigned column)
{
	struct collector *c = userdata;

	if (c->n == c->allocated) {
		size_t n = c->allocated ? c->allocated * 2 : 16;
		struct assignment *p = realloc(c->items, n * sizeof(*p));

		if (!p) {
			c->oom = true;
			return;
		}
		c->items = p;
		c->allocated = n;
	}
	c->items[c->n++] = (struct assignment){ name, name_len, append, line, column };
}

static char upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* Optimal string alignment distance (Levenshtein plus swaps of neighbours), ignoring case:
 * `overlay` is as close to OVERLAY as it gets. Both lengths at most NAME_SUGGEST_MAX. */
static unsigned edit_distance(const char *a, size_t na, const char *b, size_t nb)
{
	unsigned d[NAME_SUGGEST_MAX + 1][NAME_SUGGEST_MAX + 1];

	for (size_t i = 0; i <= na; i++)
		d[i][0] = (unsigned)i;
	for (size_t j = 0; j <= nb; j++)
		d[0][j] = (unsigned)j;
	for (size_t i = 1; i <= na; i++)
		for (size_t j = 1; j <= nb; j++) {
			unsigned cost = upper(a[i - 1]) != upper(b[j - 1]);
			unsigned best = d[i - 1][j - 1] + cost;

			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && upper(a[i - 1]) == upper(b[j - 2]) &&
			    upper(a[i - 2]) == upper(b[j - 1]) && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	return d[na][nb];
}

/* The known name nearest to name, if it is near enough to be a typo of it: at most a third of
 * its length away (2 for OVERLAY, 3 for the long names), else NULL. */
static const char *nearest_name(const char *name, size_t n)
{
	const char *best = NULL;
	unsigned best_d = ~0u;

	if (n > NAME_SUGGEST_MAX)
		return NULL;
	for (size_t k = 0; layout_known_name(k); k++) {
		const char *known = layout_known_name(k);
		size_t kn = strlen(known);
		unsigned d = edit_distance(name, n, known, kn), limit = (unsigned)(kn / 3);

		if (limit > 3)
			limit = 3;
		if (d <= limit && d < best_d) {
			best = known;
			best_d = d;
		}
	}
	return best;
}

static bool is_list(const char *name)
{
	return streq(name, "TMPFS_OVERLAYS_PATHS") || streq(name, "PERSISTENT_BIND_PATHS");
}

/* Unknown names and plain assignments that discard an earlier value. */
static int check_assignments(const struct collector *c, struct layout_findings *f)
{
	unsigned last_line[8] = { 0 };
	char q[256];

	for (size_t i = 0; i < c->n; i++) {
		const struct assignment *a = &c->items[i];
		const char *known = NULL, *near;
		size_t k;
		int r;

		for (k = 0; layout_known_name(k); k++)
			if (strlen(layout_known_name(k)) == a->name_len &&
			    memcmp(layout_known_name(k), a->name, a->name_len) == 0) {
				known = layout_known_name(k);
				break;
			}
		if (!known) {
			layout_quote_n(q, sizeof(q), a->name, a->name_len);
			near = nearest_name(a->name, a->name_len);
			if (near) {
				r = add(f, LAYOUT_WARNING, "unknown-variable", a->line, a->column,
					"unknown variable '%s' is ignored; did you mean %s?", q, near);
				if (r < 0)
					return r;
				hint(f, "rename it to %s: as written, nothing it sets is applied", near);
			} else {
				r = add(f, LAYOUT_WARNING, "unknown-variable", a->line, a->column,
					"unknown variable '%s' is ignored", q);
				if (r < 0)
					return r;
				hint(f, "edgeinit (like EMT's hook) reads only OVERLAY, TMPFS_OVERLAYS_PATHS, PERSISTENT_BIND_PATHS, PERSISTENT_BIND_TARGET and TMPFS_OVERLAY_TARGET; remove it or fix its name");
			}
			continue;
		}
		if (!a->append && last_line[k]) {
			r = add(f, LAYOUT_WARNING, "assigned-twice", a->line, a->column,
				"%s is assigned again: this value replaces the one from line %u (the last assignment wins)",
				known, last_line[k]);
			if (r < 0)
				return r;
			if (is_list(known))
				hint(f, "to add paths, write %s+=\"...\"; otherwise remove one of the assignments",
				     known);
			else
				hint(f, "remove one of the assignments");
		}
		last_line[k] = a->line;
	}
	return 0;
}

static int collect_validation(void *userdata, const char *code, const struct layout_diag *d)
{
	return add(userdata, LAYOUT_ERROR, code, d->line, d->column, "%s", d->message);
}

/* Paths that cannot work in the booted system. */
static int check_places(const struct layout_path *paths, size_t n, const char *what,
			struct layout_findings *f)
{
	for (size_t i = 0; i < n; i++) {
		const struct layout_path *p = &paths[i];
		const char *api = NULL;
		char q[256];
		int r;

		for (size_t k = 0; k < ELEMENTSOF(api_filesystems); k++)
			if (layout_path_below_or_equal(p->path, api_filesystems[k]))
				api = api_filesystems[k];
		layout_quote(q, sizeof(q), p->path);
		if (api) {
			r = add(f, LAYOUT_ERROR, "api-filesystem", p->line, p->column,
				"%s '%s' is on %s, an API file system: when it switches root, edgeinit moves its own %s onto the new root's, hiding whatever the layout mounted there",
				what, q, api, api);
			if (r < 0)
				return r;
			hint(f, "remove it: %s is created afresh on every boot; keep state under /etc, /var or /home",
			     api);
		} else if (layout_path_below_or_equal(p->path, "/sysroot")) {
			r = add(f, LAYOUT_ERROR, "sysroot", p->line, p->column,
				"%s '%s' is under /sysroot, where the initrd mounts the root: layout.env paths are paths of the booted system",
				what, q);
			if (r < 0)
				return r;
			hint(f, "write the path as the booted system sees it ('%s')",
			     p->path[8] ? p->path + 8 : "/");
		}
	}
	return 0;
}

/* A container runtime's state on an overlay, and not kept by a bind. */
static int check_runtimes(const struct layout *l, const struct layout_root_ops *root,
			  struct layout_findings *f)
{
	for (size_t k = 0; k < ELEMENTSOF(runtime_dirs); k++) {
		const char *dir = runtime_dirs[k];
		const struct layout_path *over = NULL;
		char where[LAYOUT_PATH_MAX + 64];
		int kind, r;

		for (size_t i = 0; i < l->n_overlay_paths && !over; i++)
			if (layout_path_below_or_equal(dir, l->overlay_paths[i].path))
				over = &l->overlay_paths[i];
		if (!over)
			continue;
		for (size_t i = 0; i < l->n_bind_paths && over; i++)
			if (layout_path_below_or_equal(dir, l->bind_paths[i].path))
				over = NULL;
		if (!over)
			continue;
		kind = root->kind(root->userdata, dir);
		if (kind < 0)
			return kind;
		if (kind != 'd' && kind != 'f')
			continue; /* absent, or a symlink that leads elsewhere */
		if (over->line)
			snprintf(where, sizeof(where), "overlay '%s'", over->path);
		else
			snprintf(where, sizeof(where),
				 "the default overlay '%s' (TMPFS_OVERLAYS_PATHS is not set)", over->path);
		if (l->overlay_tmpfs)
			r = add(f, LAYOUT_WARNING, "container-runtime", over->line, over->column,
				"%s is on a tmpfs and covers %s, which the image has and which is not a persistent bind: its containers and images are lost at every reboot, and an overlayfs storage driver fails on an overlayfs upper directory",
				where, dir);
		else
			r = add(f, LAYOUT_WARNING, "container-runtime", over->line, over->column,
				"%s covers %s, which the image has and which is not a persistent bind: an overlayfs storage driver fails on an overlayfs upper directory",
				where, dir);
		if (r < 0)
			return r;
		hint(f, "add %s to PERSISTENT_BIND_PATHS", dir);
	}
	return 0;
}

/* File order: by line, then column (findings not tied to a line first), stable. */
static bool after(const struct layout_finding *a, const struct layout_finding *b)
{
	return a->line != b->line ? a->line > b->line : a->column > b->column;
}

static void sort_findings(struct layout_findings *f)
{
	/* insertion sort: stable, and the lists are short */
	for (size_t i = 1; i < f->n; i++) {
		struct layout_finding t = f->items[i];
		size_t j = i;

		for (; j > 0 && after(&f->items[j - 1], &t); j--)
			f->items[j] = f->items[j - 1];
		f->items[j] = t;
	}
}

int layout_check(const char *text, size_t len, const struct layout_root_ops *root,
		 struct layout *l, struct layout_findings *out)
{
	struct collector c = { 0 };
	const struct layout_parse_hooks hooks = { on_assign, &c };
	const struct layout_validate_sink sink = { collect_validation, out };
	struct layout_diag d;
	int r, parsed;

	memset(out, 0, sizeof(*out));
	parsed = layout_parse_hooked(text, len, l, &d, &hooks);
	if (parsed == -ENOMEM || c.oom) {
		r = -ENOMEM;
		goto out;
	}
	r = check_assignments(&c, out);
	if (r < 0)
		goto out;
	if (parsed < 0) {
		r = add(out, LAYOUT_ERROR, "syntax", d.line, d.column, "%s", d.message);
		goto out;
	}
	r = layout_validate_each(l, &sink);
	if (r == -ENOMEM)
		goto out;
	r = check_places(l->overlay_paths, l->n_overlay_paths, "overlay path", out);
	if (r == 0)
		r = check_places(l->bind_paths, l->n_bind_paths, "bind path", out);
	if (r == 0 && root)
		r = check_runtimes(l, root, out);
out:
	free(c.items);
	if (r < 0) {
		layout_findings_free(out);
		return r;
	}
	sort_findings(out);
	return 0;
}

size_t layout_findings_count(const struct layout_findings *f, enum layout_severity severity)
{
	size_t n = f->dropped[severity == LAYOUT_ERROR];

	for (size_t i = 0; i < f->n; i++)
		n += f->items[i].severity == severity;
	return n;
}

void layout_findings_free(struct layout_findings *f)
{
	free(f->items);
	*f = (struct layout_findings){ 0 };
}

static const char *severity_name(enum layout_severity s, bool strict)
{
	return s == LAYOUT_ERROR || strict ? "error" : "warning";
}

int layout_findings_format_text(const struct layout_findings *f, const char *file, bool strict,
				char *buf, size_t size)
{
	struct json_out o = JSON_OUT(buf, size);

	if (size == 0)
		return -ENOSPC;
	buf[0] = '\0';
	for (size_t i = 0; i < f->n; i++) {
		const struct layout_finding *it = &f->items[i];
		char where[64] = "";

		if (it->line && it->column)
			snprintf(where, sizeof(where), ":%u:%u", it->line, it->column);
		else if (it->line)
			snprintf(where, sizeof(where), ":%u", it->line);
		json_out_printf(&o, "%s%s: %s: %s [%s]\n", file, where,
				severity_name(it->severity, strict), it->message, it->code);
		if (it->hint[0])
			json_out_printf(&o, "%s%s: note: %s\n", file, where, it->hint);
	}
	if (f->dropped[0] + f->dropped[1])
		json_out_printf(&o, "%s: note: %zu more problems are not listed\n", file,
				f->dropped[0] + f->dropped[1]);
	return json_out_finish(&o);
}

int layout_findings_format_json(const struct layout_findings *f, const char *file, bool strict,
				char *buf, size_t size)
{
	struct json_out o = JSON_OUT(buf, size);

	if (size == 0)
		return -ENOSPC;
	buf[0] = '\0';
	json_out_printf(&o, "[");
	for (size_t i = 0; i < f->n; i++) {
		const struct layout_finding *it = &f->items[i];

		json_out_printf(&o, "%s\n  {\"file\": ", i ? "," : "");
		json_out_string(&o, file);
		if (it->line)
			json_out_printf(&o, ", \"line\": %u", it->line);
		else
			json_out_printf(&o, ", \"line\": null");
		if (it->column)
			json_out_printf(&o, ", \"column\": %u", it->column);
		else
			json_out_printf(&o, ", \"column\": null");
		json_out_field(&o, "severity", severity_name(it->severity, strict));
		json_out_field(&o, "code", it->code);
		json_out_field(&o, "message", it->message);
		json_out_printf(&o, ", \"hint\": ");
		json_out_string(&o, it->hint[0] ? it->hint : NULL);
		json_out_printf(&o, "}");
	}
	json_out_printf(&o, "%s]\n", f->n ? "\n" : "");
	return json_out_finish(&o);
}
