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

#include "edgeinit/layout.h"
#include "edgeinit/macro.h"
#include "edgeinit/strutil.h"

#define DEFAULT_OVERLAY "tmpfs:25%"
#define DEFAULT_OVERLAY_PATH "/var"
#define DEFAULT_BIND_TARGET "/opt/.mount/persistent"
#define DEFAULT_OVERLAY_TARGET "/opt/.mount/tmpfs"
#define TMPFS_PREFIX "tmpfs:"
#define NEVER_EXECUTED "; layout.env is parsed, never executed"

struct pos {
	unsigned line, column;
};

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

/* What bash would do with an unquoted character we refuse. */
static const struct {
	char c;
	const char *meaning;
} shell_chars[] = {
	{ '$', "parameter expansion" },
	{ '`', "command substitution" },
	{ ';', "a command separator" },
	{ '&', "a background job or '&&'" },
	{ '|', "a pipe or '||'" },
	{ '<', "a redirection" },
	{ '>', "a redirection" },
	{ '(', "a subshell, array or function" },
	{ ')', "a subshell, array or function" },
	{ '{', "brace expansion or a command group" },
	{ '}', "brace expansion or a command group" },
	{ '~', "tilde expansion" },
};

/* A scalar variable as the file left it. */
struct scalar {
	bool set;
	char value[LAYOUT_PATH_MAX];
	struct pos pos[LAYOUT_PATH_MAX]; /* where each byte of value came from */
	struct pos start;                /* where the (first) assignment's value starts */
};

struct parser {
	const char *text;
	size_t len, i;
	struct pos pos; /* of text[i] */
	struct layout_diag *diag;
	struct layout *l;
	/* The value being read: bytes and where each came from. */
	char *val;
	struct pos *vpos;
	size_t vlen;
	struct scalar overlay, bind_target, overlay_target;
};

static void diag_vset(struct layout_diag *diag, unsigned line, unsigned column, const char *fmt,
		      va_list ap)
{
	if (!diag)
		return;
	diag->line = line;
	diag->column = column;
	vsnprintf(diag->message, sizeof(diag->message), fmt, ap);
}

_printf_(4, 5) static int fail(struct layout_diag *diag, unsigned line, unsigned column,
			       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vset(diag, line, column, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Quote up to 48 bytes of s (length n) for a message: printable ASCII as is, the rest as \xHH. */
static const char *quote_n(char *buf, size_t size, const char *s, size_t n)
{
	size_t o = 0, i;

	for (i = 0; i < n && i < 48 && o + 5 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
	}
	if (i < n && o + 4 < size) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

static const char *quote(char *buf, size_t size, const char *s)
{
	return quote_n(buf, size, s, strlen(s));
}

/* ---------------------------------- the scanner ---------------------------------- */

static int peek(const struct parser *p, size_t k)
{
	return p->i + k < p->len ? (unsigned char)p->text[p->i + k] : -1;
}

static void advance(struct parser *p)
{
	if (p->text[p->i] == '\n') {
		p->pos.line++;
		p->pos.column = 1;
	} else
		p->pos.column++;
	p->i++;
}

static void advance_n(struct parser *p, size_t n)
{
	while (n-- > 0)
		advance(p);
}

static bool is_name_start(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_name_char(int c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

/* A stray CR (the prescan guarantees every CR is followed by LF or is last) counts as blank. */
static bool is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Where an unquoted word ends. */
static bool ends_word(int c)
{
	return c < 0 || is_blank(c) || c == '\n';
}

/* Length of "\\\n" or "\\\r\n" at offset k, else 0. */
static size_t continuation_at(const struct parser *p, size_t k)
{
	if (peek(p, k) != '\\')
		return 0;
	if (peek(p, k + 1) == '\n')
		return 2;
	if (peek(p, k + 1) == '\r' && peek(p, k + 2) == '\n')
		return 3;
	return 0;
}

static void skip_blanks(struct parser *p)
{
	for (;;) {
		size_t n;

		if (is_blank(peek(p, 0)))
			advance(p);
		else if ((n = continuation_at(p, 0)) > 0)
			advance_n(p, n);
		else
			return;
	}
}

static void skip_comment(struct parser *p)
{
	while (peek(p, 0) >= 0 && peek(p, 0) != '\n')
		advance(p);
}

/* NUL bytes and CRs that do not end a line are refused before anything else. */
static int prescan(const char *text, size_t len, struct layout_diag *diag)
{
	struct pos pos = { 1, 1 };

	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\0')
			return fail(diag, pos.line, pos.column, "a NUL byte; layout.env is a text file");
		if (text[i] == '\r' && i + 1 < len && text[i + 1] != '\n')
			return fail(diag, pos.line, pos.column,
				    "a carriage return inside a line (only CRLF line endings are tolerated)");
		if (text[i] == '\n') {
			pos.line++;
			pos.column = 1;
		} else
			pos.column++;
	}
	return 0;
}

static int shell_char_error(struct parser *p, const char *context)
{
	int c = peek(p, 0);
	const char *meaning = "shell syntax";
	char what[4] = { (char)c, 0, 0, 0 };

	for (size_t k = 0; k < ELEMENTSOF(shell_chars); k++)
		if (shell_chars[k].c == c)
			meaning = shell_chars[k].meaning;
	if (c == '$' && (peek(p, 1) == '(' || peek(p, 1) == '{')) {
		what[1] = (char)peek(p, 1);
		meaning = peek(p, 1) == '(' ? "command substitution" : "parameter expansion";
	} else if (c == '\\') {
		what[1] = peek(p, 1) >= 0x20 && peek(p, 1) < 0x7f ? (char)peek(p, 1) : '?';
		meaning = "a backslash escape, which is not supported";
	}
	return fail(p->diag, p->pos.line, p->pos.column, "found '%s' (%s)%s%s", what, meaning,
		    context, NEVER_EXECUTED);
}

static bool is_shell_char(int c)
{
	for (size_t k = 0; k < ELEMENTSOF(shell_chars); k++)
		if (shell_chars[k].c == c)
			return true;
	return c == '\\';
}

static void push(struct parser *p)
{
	p->val[p->vlen] = p->text[p->i];
	p->vpos[p->vlen] = p->pos;
	p->vlen++;
	advance(p);
}

static int read_single_quoted(struct parser *p)
{
	struct pos open = p->pos;

	advance(p);
	for (;;) {
		int c = peek(p, 0);

		if (c < 0)
			return fail(p->diag, open.line, open.column,
				    "unterminated single quote (opened here)");
		if (c == '\'') {
			advance(p);
			return 0;
		}
		if (c == '\r')
			advance(p);
		else
			push(p);
	}
}

static int read_double_quoted(struct parser *p)
{
	struct pos open = p->pos;

	advance(p);
	for (;;) {
		int c = peek(p, 0);
		size_t n;

		if (c < 0)
			return fail(p->diag, open.line, open.column,
				    "unterminated double quote (opened here)");
		if (c == '"') {
			advance(p);
			return 0;
		}
		if (c == '\r')
			advance(p);
		else if (c == '$' || c == '`')
			return shell_char_error(p, " inside double quotes");
		else if ((n = continuation_at(p, 0)) > 0)
			advance_n(p, n);
		else if (c == '\\') {
			int e = peek(p, 1);

			if (e != '"' && e != '\\' && e != '$' && e != '`')
				return shell_char_error(p, " inside double quotes");
			advance(p);
			push(p);
		} else
			push(p);
	}
}

/* The value of an assignment: from the current position to the end of the word. */
static int read_value(struct parser *p)
{
	p->vlen = 0;
	for (;;) {
		int c = peek(p, 0), r;
		size_t n;

		if (ends_word(c))
			return 0;
		if ((n = continuation_at(p, 0)) > 0) {
			/* bash joins the lines and keeps reading the same word */
			advance_n(p, n);
			continue;
		}
		if (c == '\'')
			r = read_single_quoted(p);
		else if (c == '"')
			r = read_double_quoted(p);
		else if (c == '(' && p->vlen == 0 && p->i > 0 && p->text[p->i - 1] == '=')
			return fail(p->diag, p->pos.line, p->pos.column,
				    "found '(' (an array assignment NAME=(...))%s", NEVER_EXECUTED);
		else if (is_shell_char(c))
			r = shell_char_error(p, "");
		else {
			push(p);
			r = 0;
		}
		if (r < 0)
			return r;
	}
}

/* --------------------------------- assignments --------------------------------- */

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
			return fail(p->diag, p->vpos[start].line, p->vpos[start].column,
				    "more than %d paths in %s", LAYOUT_PATHS_MAX, name);
		if (k - start >= LAYOUT_PATH_MAX)
			return fail(p->diag, p->vpos[start].line, p->vpos[start].column,
				    "a path in %s is longer than %d bytes", name, LAYOUT_PATH_MAX - 1);
		memcpy(paths[*n].path, p->val + start, k - start);
		paths[*n].path[k - start] = '\0';
		paths[*n].line = p->vpos[start].line;
		(*n)++;
	}
	return 0;
}

static int apply_scalar(struct parser *p, const char *name, bool append, struct pos value_pos,
			struct scalar *s)
{
	size_t have = append && s->set ? strlen(s->value) : 0;

	if (have + p->vlen >= sizeof(s->value))
		return fail(p->diag, value_pos.line, value_pos.column,
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

	while (p->i + n < p->len && !ends_word((unsigned char)p->text[p->i + n]))
		n++;
	return quote_n(buf, size, p->text + p->i, n);
}

/* Why the word at the current position is not something we accept. */
static int word_error(struct parser *p, bool after_export)
{
	size_t k = 0, eq = 0, name = 0;
	bool has_eq = false;
	char w[256];
	int c;

	if (is_name_start(peek(p, 0)))
		while (is_name_char(peek(p, name)))
			name++;
	if (name > 0 && peek(p, name) == '[')
		return fail(p->diag, p->pos.line, p->pos.column,
			    "an array element assignment ('%s')%s", current_word(p, w, sizeof(w)),
			    NEVER_EXECUTED);
	if (p->i == 0 && p->len >= 3 && memcmp(p->text, "\xef\xbb\xbf", 3) == 0)
		return fail(p->diag, 1, 1, "a UTF-8 byte order mark; save the file without it");

	/* The unquoted start of the word, up to '=', a quote or a shell character. */
	while (!ends_word(c = peek(p, k)) && c != '"' && c != '\'' && c != '=' && !is_shell_char(c))
		k++;
	if (k == 0 && is_shell_char(peek(p, 0)))
		return shell_char_error(p, "");
	if (peek(p, k) == '=') {
		has_eq = true;
		eq = k;
		if (eq > 0 && p->text[p->i + eq - 1] == '+')
			eq--;
	}
	if (has_eq)
		return fail(p->diag, p->pos.line, p->pos.column,
			    "'%s' is not a valid variable name (letters, digits and '_', not starting with a digit)",
			    quote_n(w, sizeof(w), p->text + p->i, eq));
	if (k > 0 && peek(p, k) == '(') {
		char fn[64];

		quote_n(fn, sizeof(fn), p->text + p->i, k);
		return fail(p->diag, p->pos.line, p->pos.column, "a function definition ('%s()')%s",
			    fn, NEVER_EXECUTED);
	}
	if (after_export && peek(p, 0) == '-')
		return fail(p->diag, p->pos.line, p->pos.column,
			    "export options ('%s') are not supported", current_word(p, w, sizeof(w)));
	if (after_export)
		return fail(p->diag, p->pos.line, p->pos.column,
			    "'%s' is not a valid variable name to export", current_word(p, w, sizeof(w)));
	if (k == 8 && memcmp(p->text + p->i, "function", 8) == 0)
		return fail(p->diag, p->pos.line, p->pos.column, "a function definition%s",
			    NEVER_EXECUTED);
	return fail(p->diag, p->pos.line, p->pos.column,
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

		skip_blanks(p);
		c = peek(p, 0);
		if (c < 0 || c == '\n' || c == '#')
			break;
		if (is_name_start(c))
			while (is_name_char(peek(p, k)))
				k++;
		if (first && k == 6 && memcmp(p->text + p->i, "export", 6) == 0 &&
		    (ends_word(peek(p, 6)) || continuation_at(p, 6) > 0)) {
			advance_n(p, 6);
			first = false;
			after_export = true;
			skip_blanks(p);
			c = peek(p, 0);
			if (c < 0 || c == '\n' || c == '#')
				return fail(p->diag, p->pos.line, p->pos.column,
					    "'export' without a NAME (it would list the environment)");
			continue;
		}
		first = false;
		if (k > 0 && (peek(p, k) == '=' || (peek(p, k) == '+' && peek(p, k + 1) == '='))) {
			const char *name = p->text + p->i;
			bool append = peek(p, k) == '+';
			struct pos value_pos;

			advance_n(p, k + (append ? 2 : 1));
			value_pos = p->pos;
			r = read_value(p);
			if (r < 0)
				return r;
			r = apply(p, name, k, append, value_pos);
			if (r < 0)
				return r;
			continue;
		}
		if (after_export && k > 0 && ends_word(peek(p, k))) {
			advance_n(p, k); /* export NAME: only marks it */
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
			return fail(p->diag, where.line, where.column,
				    "OVERLAY='%s': the tmpfs size must be digits with an optional k, m, g or %% suffix",
				    quote(q, sizeof(q), overlay));
		if (str_copy(l->tmpfs_size, sizeof(l->tmpfs_size), size) < 0)
			return fail(p->diag, where.line, where.column, "OVERLAY: the tmpfs size is too long");
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
	str_copy(l->overlay_target, sizeof(l->overlay_target),
		 p->overlay_target.set ? p->overlay_target.value : DEFAULT_OVERLAY_TARGET);
	l->overlay_target_line = p->overlay_target.set ? p->overlay_target.start.line : 0;
	return 0;
}

int layout_parse(const char *text, size_t len, struct layout *l, struct layout_diag *diag)
{
	struct parser p = {
		.text = text, .len = len, .pos = { 1, 1 }, .diag = diag, .l = l,
	};
	int r;

	memset(l, 0, sizeof(*l));
	if (diag)
		memset(diag, 0, sizeof(*diag));
	if (len > LAYOUT_FILE_MAX)
		return fail(diag, 0, 0, "larger than %d bytes", LAYOUT_FILE_MAX);
	r = prescan(text, len, diag);
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

		skip_blanks(&p);
		c = peek(&p, 0);
		if (c < 0)
			break;
		if (c == '\n')
			advance(&p);
		else if (c == '#')
			skip_comment(&p);
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

static const char *basename_of(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* NULL if path is absolute and normalised, else why not. */
static const char *path_problem(const char *path)
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
static bool path_below_or_equal(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static int check_target(const char *name, const char *target, unsigned line,
			struct layout_diag *diag)
{
	const char *why = path_problem(target);
	char q[256];

	if (why)
		return fail(diag, line, 0, "%s '%s' %s", name, quote(q, sizeof(q), target), why);
	if (!path_below_or_equal(target, LAYOUT_PERSIST_MOUNT) || streq(target, LAYOUT_PERSIST_MOUNT))
		return fail(diag, line, 0,
			    "%s '%s' must be below %s, where the persistent partition is mounted", name,
			    quote(q, sizeof(q), target), LAYOUT_PERSIST_MOUNT);
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
	size_t base = strlen(basename_of(path)), tail = base > 4 ? base : 4; /* "work" */

	return strlen(target) + 1 + strlen(mangled) + strlen(suffix) + 1 + tail;
}

static int check_path(const struct layout *l, const struct list_ref *lists, size_t which,
		      size_t idx, struct layout_diag *diag)
{
	const struct list_ref *me = &lists[which];
	const struct layout_path *lp = &me->paths[idx];
	const char *path = lp->path, *why = path_problem(path);
	const char *target = which == 0 ? l->overlay_target : l->bind_target;
	char q[256], m[LAYOUT_PATH_MAX], m2[LAYOUT_PATH_MAX];

	if (why)
		return fail(diag, lp->line, 0, "%s '%s' %s", me->what, quote(q, sizeof(q), path), why);
	if (streq(path, LAYOUT_PERSIST_MOUNT))
		return fail(diag, lp->line, 0, "%s '%s' is the persistent partition's mount point",
			    me->what, path);
	if (path_below_or_equal(path, LAYOUT_PERSIST_MOUNT))
		return fail(diag, lp->line, 0,
			    "%s '%s' is inside the persistent partition's mount point %s", me->what,
			    quote(q, sizeof(q), path), LAYOUT_PERSIST_MOUNT);
	/* Duplicates: against every earlier entry of both lists. */
	for (size_t w = 0; w <= which; w++)
		for (size_t j = 0; j < (w == which ? idx : lists[w].n); j++) {
			const struct layout_path *o = &lists[w].paths[j];

			if (!streq(o->path, path))
				continue;
			if (w == which)
				return fail(diag, lp->line, 0,
					    "%s '%s' is listed twice in %s (first on line %u)",
					    me->what, quote(q, sizeof(q), path), me->var, o->line);
			return fail(diag, lp->line, 0,
				    "'%s' is both a bind path and an overlay path (%s, line %u)",
				    quote(q, sizeof(q), path), lists[w].var, o->line);
		}
	if (layout_mangle(path, m, sizeof(m)) < 0 ||
	    state_path_len(target, m, me->suffix, path) >= LAYOUT_PATH_MAX)
		return fail(diag, lp->line, 0,
			    "%s '%s' is too long: its state directory under '%s' would not fit in %d bytes",
			    me->what, quote(q, sizeof(q), path), target, LAYOUT_PATH_MAX - 1);
	/* EMT's mangling is ambiguous: /a-b/c and /a/b-c share a directory. */
	for (size_t j = 0; j < idx; j++) {
		const struct layout_path *o = &me->paths[j];

		if (layout_mangle(o->path, m2, sizeof(m2)) == 0 && streq(m, m2))
			return fail(diag, lp->line, 0,
				    "%s '%s' and '%s' (line %u) would share the directory '%s%s'",
				    me->what, quote(q, sizeof(q), path), o->path, o->line, m, me->suffix);
	}
	if (which == 0 && streq(basename_of(path), "work"))
		return fail(diag, lp->line, 0,
			    "overlay path '%s' ends in 'work', which would make its upper and work directories the same",
			    quote(q, sizeof(q), path));
	return 0;
}

int layout_validate(const struct layout *l, struct layout_diag *diag)
{
	const struct list_ref lists[2] = {
		{ "TMPFS_OVERLAYS_PATHS", "overlay path", ".overlay", l->overlay_paths, l->n_overlay_paths },
		{ "PERSISTENT_BIND_PATHS", "bind path", ".bind", l->bind_paths, l->n_bind_paths },
	};
	int r;

	if (diag)
		memset(diag, 0, sizeof(*diag));
	if (!memchr(l->bind_target, '\0', sizeof(l->bind_target)) ||
	    !memchr(l->overlay_target, '\0', sizeof(l->overlay_target)))
		return fail(diag, 0, 0, "a target is not NUL-terminated");
	r = check_target("TMPFS_OVERLAY_TARGET", l->overlay_target, l->overlay_target_line, diag);
	if (r < 0)
		return r;
	r = check_target("PERSISTENT_BIND_TARGET", l->bind_target, l->bind_target_line, diag);
	if (r < 0)
		return r;
	if (l->overlay_tmpfs && path_below_or_equal(l->bind_target, l->overlay_target))
		return fail(diag, l->bind_target_line, 0,
			    "PERSISTENT_BIND_TARGET '%s' is inside TMPFS_OVERLAY_TARGET '%s', where a tmpfs is mounted: nothing would persist",
			    l->bind_target, l->overlay_target);
	for (size_t w = 0; w < ELEMENTSOF(lists); w++) {
		if (lists[w].n > LAYOUT_PATHS_MAX)
			return fail(diag, 0, 0, "more than %d paths in %s", LAYOUT_PATHS_MAX,
				    lists[w].var);
		for (size_t k = 0; k < lists[w].n; k++) {
			if (!memchr(lists[w].paths[k].path, '\0', LAYOUT_PATH_MAX))
				return fail(diag, lists[w].paths[k].line, 0, "a path is not NUL-terminated");
			r = check_path(l, lists, w, k, diag);
			if (r < 0)
				return r;
		}
	}
	return 0;
}
