/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* layout.env's scanner: positions, words, quotes, and the refusal of anything a shell would
 * give a meaning to. Pure: no I/O, no logging, no globals. The grammar is in layout.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout_internal.h"

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

void layout_diag_vset(struct layout_diag *diag, unsigned line, unsigned column, const char *fmt,
		      va_list ap)
{
	if (!diag)
		return;
	diag->line = line;
	diag->column = column;
	vsnprintf(diag->message, sizeof(diag->message), fmt, ap);
}

_printf_(4, 5) int layout_fail(struct layout_diag *diag, unsigned line, unsigned column,
			       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	layout_diag_vset(diag, line, column, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Quote up to 48 bytes of s (length n) for a message: printable ASCII as is, the rest as \xHH. */
const char *layout_quote_n(char *buf, size_t size, const char *s, size_t n)
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

const char *layout_quote(char *buf, size_t size, const char *s)
{
	return layout_quote_n(buf, size, s, strlen(s));
}

/* ---------------------------------- the scanner ---------------------------------- */

int lex_peek(const struct parser *p, size_t k)
{
	return p->i + k < p->len ? (unsigned char)p->text[p->i + k] : -1;
}

void lex_advance(struct parser *p)
{
	if (p->text[p->i] == '\n') {
		p->pos.line++;
		p->pos.column = 1;
	} else
		p->pos.column++;
	p->i++;
}

void lex_advance_n(struct parser *p, size_t n)
{
	while (n-- > 0)
		lex_advance(p);
}

bool lex_is_name_start(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

bool lex_is_name_char(int c)
{
	return lex_is_name_start(c) || (c >= '0' && c <= '9');
}

/* A stray CR (the prescan guarantees every CR is followed by LF or is last) counts as blank. */
static bool lex_is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Where an unquoted word ends. */
bool lex_ends_word(int c)
{
	return c < 0 || lex_is_blank(c) || c == '\n';
}

/* Length of "\\\n" or "\\\r\n" at offset k, else 0. */
size_t lex_continuation_at(const struct parser *p, size_t k)
{
	if (lex_peek(p, k) != '\\')
		return 0;
	if (lex_peek(p, k + 1) == '\n')
		return 2;
	if (lex_peek(p, k + 1) == '\r' && lex_peek(p, k + 2) == '\n')
		return 3;
	return 0;
}

void lex_skip_blanks(struct parser *p)
{
	for (;;) {
		size_t n;

		if (lex_is_blank(lex_peek(p, 0)))
			lex_advance(p);
		else if ((n = lex_continuation_at(p, 0)) > 0)
			lex_advance_n(p, n);
		else
			return;
	}
}

void lex_skip_comment(struct parser *p)
{
	while (lex_peek(p, 0) >= 0 && lex_peek(p, 0) != '\n')
		lex_advance(p);
}

/* NUL bytes and CRs that do not end a line are refused before anything else. */
int lex_prescan(const char *text, size_t len, struct layout_diag *diag)
{
	struct pos pos = { 1, 1 };

	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\0')
			return layout_fail(diag, pos.line, pos.column, "a NUL byte; layout.env is a text file");
		if (text[i] == '\r' && i + 1 < len && text[i + 1] != '\n')
			return layout_fail(diag, pos.line, pos.column,
				    "a carriage return inside a line (only CRLF line endings are tolerated)");
		if (text[i] == '\n') {
			pos.line++;
			pos.column = 1;
		} else
			pos.column++;
	}
	return 0;
}

int lex_shell_char_error(struct parser *p, const char *context)
{
	int c = lex_peek(p, 0);
	const char *meaning = "shell syntax";
	char what[4] = { (char)c, 0, 0, 0 };

	for (size_t k = 0; k < ELEMENTSOF(shell_chars); k++)
		if (shell_chars[k].c == c)
			meaning = shell_chars[k].meaning;
	if (c == '$' && (lex_peek(p, 1) == '(' || lex_peek(p, 1) == '{')) {
		what[1] = (char)lex_peek(p, 1);
		meaning = lex_peek(p, 1) == '(' ? "command substitution" : "parameter expansion";
	} else if (c == '\\') {
		what[1] = lex_peek(p, 1) >= 0x20 && lex_peek(p, 1) < 0x7f ? (char)lex_peek(p, 1) : '?';
		meaning = "a backslash escape, which is not supported";
	}
	return layout_fail(p->diag, p->pos.line, p->pos.column, "found '%s' (%s)%s%s", what, meaning,
		    context, NEVER_EXECUTED);
}

bool lex_is_shell_char(int c)
{
	for (size_t k = 0; k < ELEMENTSOF(shell_chars); k++)
		if (shell_chars[k].c == c)
			return true;
	return c == '\\';
}

static void lex_push(struct parser *p)
{
	p->val[p->vlen] = p->text[p->i];
	p->vpos[p->vlen] = p->pos;
	p->vlen++;
	lex_advance(p);
}

static int lex_read_single_quoted(struct parser *p)
{
	struct pos open = p->pos;

	lex_advance(p);
	for (;;) {
		int c = lex_peek(p, 0);

		if (c < 0)
			return layout_fail(p->diag, open.line, open.column,
				    "unterminated single quote (opened here)");
		if (c == '\'') {
			lex_advance(p);
			return 0;
		}
		if (c == '\r')
			lex_advance(p);
		else
			lex_push(p);
	}
}

static int lex_read_double_quoted(struct parser *p)
{
	struct pos open = p->pos;

	lex_advance(p);
	for (;;) {
		int c = lex_peek(p, 0);
		size_t n;

		if (c < 0)
			return layout_fail(p->diag, open.line, open.column,
				    "unterminated double quote (opened here)");
		if (c == '"') {
			lex_advance(p);
			return 0;
		}
		if (c == '\r')
			lex_advance(p);
		else if (c == '$' || c == '`')
			return lex_shell_char_error(p, " inside double quotes");
		else if ((n = lex_continuation_at(p, 0)) > 0)
			lex_advance_n(p, n);
		else if (c == '\\') {
			int e = lex_peek(p, 1);

			if (e != '"' && e != '\\' && e != '$' && e != '`')
				return lex_shell_char_error(p, " inside double quotes");
			lex_advance(p);
			lex_push(p);
		} else
			lex_push(p);
	}
}

/* The value of an assignment: from the current position to the end of the word. */
int lex_read_value(struct parser *p)
{
	p->vlen = 0;
	for (;;) {
		int c = lex_peek(p, 0), r;
		size_t n;

		if (lex_ends_word(c))
			return 0;
		if ((n = lex_continuation_at(p, 0)) > 0) {
			/* bash joins the lines and keeps reading the same word */
			lex_advance_n(p, n);
			continue;
		}
		if (c == '\'')
			r = lex_read_single_quoted(p);
		else if (c == '"')
			r = lex_read_double_quoted(p);
		else if (c == '(' && p->vlen == 0 && p->i > 0 && p->text[p->i - 1] == '=')
			return layout_fail(p->diag, p->pos.line, p->pos.column,
				    "found '(' (an array assignment NAME=(...))%s", NEVER_EXECUTED);
		else if (lex_is_shell_char(c))
			r = lex_shell_char_error(p, "");
		else {
			lex_push(p);
			r = 0;
		}
		if (r < 0)
			return r;
	}
}
