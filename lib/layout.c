/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* layout.env: parsed as the small subset of bash that EMT's files use, never executed, then
 * validated. Pure: no I/O, no logging, no globals.
 *
 * The accepted grammar, line by line (a "line" may continue inside quotes or after a
 * backslash-newline):
 *   - blank lines and comments ('#' at the start of a word);
 *   - [export] NAME=value | NAME+=value | NAME ... (several per line, as bash allows);
 *   - value: unquoted text, '...' (literal), "..." (literal except \" \\ \$ \` and
 *     backslash-newline), concatenated.
 * Everything else that bash would give a meaning to ($, `, ;, &, |, <, >, (, ), {, }, ~, a
 * command word) is an error with line and column. A CR is tolerated only before a LF (CRLF
 * files) or at the end of the file; a NUL byte is an error. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgeinit/strutil.h"
#include "layout_internal.h"

enum var_kind {
	VAR_UNKNOWN,
	VAR_OVERLAY,
	VAR_OVERLAY_PATHS,
	VAR_BIND_PATHS,
	VAR_BIND_TARGET,
	VAR_OVERLAY_TARGET,
};

static const struct {
	const char *name;
	enum var_kind kind;
} known_vars[] = {
	{ "OVERLAY", VAR_OVERLAY },
	{ "TMPFS_OVERLAYS_PATHS", VAR_OVERLAY_PATHS },
	{ "PERSISTENT_BIND_PATHS", VAR_BIND_PATHS },
	{ "PERSISTENT_BIND_TARGET", VAR_BIND_TARGET },
	{ "TMPFS_OVERLAY_TARGET", VAR_OVERLAY_TARGET },
};

/* --------------------------------- assignments --------------------------------- */

const char *layout_known_name(size_t k)
{
	return k < ELEMENTSOF(known_vars) ? known_vars[k].name : NULL;
}

static enum var_kind var_lookup(const char *name, size_t n)
{
	for (size_t k = 0; k < ELEMENTSOF(known_vars); k++)
		if (strlen(known_vars[k].name) == n && memcmp(known_vars[k].name, name, n) == 0)
			return known_vars[k].kind;
	return VAR_UNKNOWN;
}

static bool is_ifs(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

static int apply_list(struct parser *p, const char *name, bool append,
		      struct layout_path *paths, size_t *n, bool *set)
{
	size_t k = 0;

	if (!append)
		*n = 0;
	if (set)
		*set = true;
	while (k < p->vlen) {
		size_t start;

		while (k < p->vlen && is_ifs(p->val[k]))
			k++;
		if (k >= p->vlen)
			break;
		start = k;
		while (k < p->vlen && !is_ifs(p->val[k]))
			k++;
		if (*n >= LAYOUT_PATHS_MAX)
			return layout_fail(p->diag, p->vpos[start].line, p->vpos[start].column,
				    "more than %d paths in %s", LAYOUT_PATHS_MAX, name);
		if (k - start >= LAYOUT_PATH_MAX)
			return layout_fail(p->diag, p->vpos[start].line, p->vpos[start].column,
				    "a path in %s is longer than %d bytes", name, LAYOUT_PATH_MAX - 1);
		memcpy(paths[*n].path, p->val + start, k - start);
		paths[*n].path[k - start] = '\0';
		paths[*n].line = p->vpos[start].line;
		paths[*n].column = p->vpos[start].column;
		(*n)++;
	}
	return 0;
}

static int apply_scalar(struct parser *p, const char *name, bool append, struct pos value_pos,
			struct scalar *s)
{
	size_t have = append && s->set ? strlen(s->value) : 0;

	if (have + p->vlen >= sizeof(s->value))
		return layout_fail(p->diag, value_pos.line, value_pos.column,
			    "the value of %s is longer than %zu bytes", name, sizeof(s->value) - 1);
	memcpy(s->value + have, p->val, p->vlen);
	memcpy(s->pos + have, p->vpos, p->vlen * sizeof(*p->vpos));
	s->value[have + p->vlen] = '\0';
	if (!append || !s->set)
		s->start = value_pos;
	s->set = true;
	return 0;
}

static int apply(struct parser *p, const char *name, size_t name_len, bool append,
		 struct pos value_pos)
{
	char n[32];

	str_copy_n(n, sizeof(n), name, name_len); /* known names are short; others unused */
	switch (var_lookup(name, name_len)) {
	case VAR_OVERLAY:
		return apply_scalar(p, n, append, value_pos, &p->overlay);
	case VAR_OVERLAY_PATHS:
		return apply_list(p, n, append, p->l->overlay_paths,
				  &p->l->n_overlay_paths, &p->l->overlay_paths_set);
	case VAR_BIND_PATHS:
		return apply_list(p, n, append, p->l->bind_paths, &p->l->n_bind_paths, NULL);
	case VAR_BIND_TARGET:
		return apply_scalar(p, n, append, value_pos, &p->bind_target);
	case VAR_OVERLAY_TARGET:
		return apply_scalar(p, n, append, value_pos, &p->overlay_target);
	case VAR_UNKNOWN:
		break;
	}
	return 0;
}

/* The word at the current position, for a message. */
static const char *current_word(const struct parser *p, char *buf, size_t size)
{
	size_t n = 0;

	while (p->i + n < p->len && !lex_ends_word((unsigned char)p->text[p->i + n]))
		n++;
	return layout_quote_n(buf, size, p->text + p->i, n);
}

/* Why the word at the current position is not something we accept. */
static int word_error(struct parser *p, bool after_export)
{
	size_t k = 0, eq = 0, name = 0;
	bool has_eq = false;
	char w[256];
	int c;

	if (lex_is_name_start(lex_peek(p, 0)))
		while (lex_is_name_char(lex_peek(p, name)))
			name++;
	if (name > 0 && lex_peek(p, name) == '[')
		return layout_fail(p->diag, p->pos.line, p->pos.column,
			    "an array element assignment ('%s')%s", current_word(p, w, sizeof(w)),
			    NEVER_EXECUTED);
	if (p->i == 0 && p->len >= 3 && memcmp(p->text, "\xef\xbb\xbf", 3) == 0)
		return layout_fail(p->diag, 1, 1, "a UTF-8 byte order mark; save the file without it");

	/* The unquoted start of the word, up to '=', a quote or a shell character. */
	while (!lex_ends_word(c = lex_peek(p, k)) && c != '"' && c != '\'' && c != '=' && !lex_is_shell_char(c))
		k++;
	if (k == 0 && lex_is_shell_char(lex_peek(p, 0)))
		return lex_shell_char_error(p, "");
	if (lex_peek(p, k) == '=') {
		has_eq = true;
		eq = k;
		if (eq > 0 && p->text[p->i + eq - 1] == '+')
			eq--;
	}
	if (has_eq)
		return layout_fail(p->diag, p->pos.line, p->pos.column,
			    "'%s' is not a valid variable name (letters, digits and '_', not starting with a digit)",
			    layout_quote_n(w, sizeof(w), p->text + p->i, eq));
	if (k > 0 && lex_peek(p, k) == '(') {
		char fn[64];

		layout_quote_n(fn, sizeof(fn), p->text + p->i, k);
		return layout_fail(p->diag, p->pos.line, p->pos.column, "a function definition ('%s()')%s",
			    fn, NEVER_EXECUTED);
	}
	if (after_export && lex_peek(p, 0) == '-')
		return layout_fail(p->diag, p->pos.line, p->pos.column,
			    "export options ('%s') are not supported", current_word(p, w, sizeof(w)));
	if (after_export)
		return layout_fail(p->diag, p->pos.line, p->pos.column,
			    "'%s' is not a valid variable name to export", current_word(p, w, sizeof(w)));
	if (k == 8 && memcmp(p->text + p->i, "function", 8) == 0)
		return layout_fail(p->diag, p->pos.line, p->pos.column, "a function definition%s",
			    NEVER_EXECUTED);
	return layout_fail(p->diag, p->pos.line, p->pos.column,
		    "a command ('%s'); only NAME=value assignments are accepted%s",
		    current_word(p, w, sizeof(w)), NEVER_EXECUTED);
}

/* One simple command: [export] followed by assignments (or, after export, bare names). */
static int parse_command(struct parser *p)
{
	bool first = true, after_export = false;

	for (;;) {
		size_t k = 0;
		int c, r;

		lex_skip_blanks(p);
		c = lex_peek(p, 0);
		if (c < 0 || c == '\n' || c == '#')
			break;
		if (lex_is_name_start(c))
			while (lex_is_name_char(lex_peek(p, k)))
				k++;
		if (first && k == 6 && memcmp(p->text + p->i, "export", 6) == 0 &&
		    (lex_ends_word(lex_peek(p, 6)) || lex_continuation_at(p, 6) > 0)) {
			lex_advance_n(p, 6);
			first = false;
			after_export = true;
			lex_skip_blanks(p);
			c = lex_peek(p, 0);
			if (c < 0 || c == '\n' || c == '#')
				return layout_fail(p->diag, p->pos.line, p->pos.column,
					    "'export' without a NAME (it would list the environment)");
			continue;
		}
		first = false;
		if (k > 0 && (lex_peek(p, k) == '=' || (lex_peek(p, k) == '+' && lex_peek(p, k + 1) == '='))) {
			const char *name = p->text + p->i;
			bool append = lex_peek(p, k) == '+';
			struct pos value_pos;

			if (p->hooks && p->hooks->assign)
				p->hooks->assign(p->hooks->userdata, name, k, append, p->pos.line,
						 p->pos.column);

			lex_advance_n(p, k + (append ? 2 : 1));
			value_pos = p->pos;
			r = lex_read_value(p);
			if (r < 0)
				return r;
			r = apply(p, name, k, append, value_pos);
			if (r < 0)
				return r;
			continue;
		}
		if (after_export && k > 0 && lex_ends_word(lex_peek(p, k))) {
			lex_advance_n(p, k); /* export NAME: only marks it */
			continue;
		}
		return word_error(p, after_export);
	}
	return 0;
}

/* ---------------------------------- finishing ---------------------------------- */

static bool valid_tmpfs_size(const char *s)
{
	size_t n = strspn(s, "0123456789");

	if (n == 0)
		return false;
	if (s[n] == '\0')
		return true;
	return strchr("kKmMgG%", s[n]) && s[n + 1] == '\0';
}

static int finish(struct parser *p)
{
	struct layout *l = p->l;
	const char *overlay = p->overlay.set ? p->overlay.value : DEFAULT_OVERLAY;
	const char *size = str_startswith(overlay, TMPFS_PREFIX);
	char q[256];

	if (size) {
		/* Point at the size, or just past "tmpfs:" when it is empty. */
		size_t at = (size_t)(size - overlay);
		struct pos where = { 0, 0 };

		if (p->overlay.set && size[0])
			where = p->overlay.pos[at];
		else if (p->overlay.set) {
			where = p->overlay.pos[at - 1];
			where.column++;
		}
		if (!valid_tmpfs_size(size))
			return layout_fail(p->diag, where.line, where.column,
				    "OVERLAY='%s': the tmpfs size must be digits with an optional k, m, g or %% suffix",
				    layout_quote(q, sizeof(q), overlay));
		if (str_copy(l->tmpfs_size, sizeof(l->tmpfs_size), size) < 0)
			return layout_fail(p->diag, where.line, where.column, "OVERLAY: the tmpfs size is too long");
		l->overlay_tmpfs = true;
	}
	if (!l->overlay_paths_set) {
		str_copy(l->overlay_paths[0].path, LAYOUT_PATH_MAX, DEFAULT_OVERLAY_PATH);
		l->overlay_paths[0].line = 0;
		l->n_overlay_paths = 1;
	}
	str_copy(l->bind_target, sizeof(l->bind_target),
		 p->bind_target.set ? p->bind_target.value : DEFAULT_BIND_TARGET);
	l->bind_target_line = p->bind_target.set ? p->bind_target.start.line : 0;
	l->bind_target_column = p->bind_target.set ? p->bind_target.start.column : 0;
	str_copy(l->overlay_target, sizeof(l->overlay_target),
		 p->overlay_target.set ? p->overlay_target.value : DEFAULT_OVERLAY_TARGET);
	l->overlay_target_line = p->overlay_target.set ? p->overlay_target.start.line : 0;
	l->overlay_target_column = p->overlay_target.set ? p->overlay_target.start.column : 0;
	return 0;
}

int layout_parse_hooked(const char *text, size_t len, struct layout *l, struct layout_diag *diag,
			const struct layout_parse_hooks *hooks)
{
	struct parser p = {
		.text = text, .len = len, .pos = { 1, 1 }, .diag = diag, .l = l, .hooks = hooks,
	};
	int r;

	memset(l, 0, sizeof(*l));
	if (diag)
		memset(diag, 0, sizeof(*diag));
	if (len > LAYOUT_FILE_MAX)
		return layout_fail(diag, 0, 0, "larger than %d bytes", LAYOUT_FILE_MAX);
	r = lex_prescan(text, len, diag);
	if (r < 0)
		return r;
	p.val = malloc(len + 1);
	p.vpos = malloc((len + 1) * sizeof(*p.vpos));
	if (!p.val || !p.vpos) {
		r = -ENOMEM;
		goto out;
	}
	while (p.i < p.len) {
		int c;

		lex_skip_blanks(&p);
		c = lex_peek(&p, 0);
		if (c < 0)
			break;
		if (c == '\n')
			lex_advance(&p);
		else if (c == '#')
			lex_skip_comment(&p);
		else if ((r = parse_command(&p)) < 0)
			goto out;
	}
	r = finish(&p);
out:
	free(p.val);
	free(p.vpos);
	if (r < 0)
		memset(l, 0, sizeof(*l)); /* nothing half-parsed is ever used */
	return r;
}

int layout_parse(const char *text, size_t len, struct layout *l, struct layout_diag *diag)
{
	return layout_parse_hooked(text, len, l, diag, NULL);
}
