/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Private to lib/layout*.c: the scanner's state and helpers shared by the parser
 * (layout.c), the scanner (layout_lex.c), the validator (layout_validate.c) and the checker
 * (layout_check.c). Not an API. */
#pragma once

#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>

#include "edgeinit/layout.h"
#include "edgeinit/macro.h"

#define DEFAULT_OVERLAY "tmpfs:25%"
#define DEFAULT_OVERLAY_PATH "/var"
#define DEFAULT_BIND_TARGET "/opt/.mount/persistent"
#define DEFAULT_OVERLAY_TARGET "/opt/.mount/tmpfs"
#define TMPFS_PREFIX "tmpfs:"
#define NEVER_EXECUTED "; layout.env is parsed, never executed"

struct pos {
	unsigned line, column;
};

/* A scalar variable as the file left it. */
struct scalar {
	bool set;
	char value[LAYOUT_PATH_MAX];
	struct pos pos[LAYOUT_PATH_MAX]; /* where each byte of value came from */
	struct pos start;                /* where the (first) assignment's value starts */
};

/* What the checker learns while the parser runs; the initrd passes none. */
struct layout_parse_hooks {
	/* Every assignment NAME=... or NAME+=..., known name or not, in file order; at is where
	 * NAME starts. */
	void (*assign)(void *userdata, const char *name, size_t name_len, bool append,
		       unsigned line, unsigned column);
	void *userdata;
};

struct parser {
	const char *text;
	size_t len, i;
	struct pos pos; /* of text[i] */
	struct layout_diag *diag;
	struct layout *l;
	const struct layout_parse_hooks *hooks;
	/* The value being read: bytes and where each came from. */
	char *val;
	struct pos *vpos;
	size_t vlen;
	struct scalar overlay, bind_target, overlay_target;
};

/* layout.c */
int layout_parse_hooked(const char *text, size_t len, struct layout *l, struct layout_diag *diag,
			const struct layout_parse_hooks *hooks);
/* The k-th variable name edgeinit understands, NULL past the last. */
const char *layout_known_name(size_t k);

/* layout_lex.c: messages */
void layout_diag_vset(struct layout_diag *diag, unsigned line, unsigned column, const char *fmt,
		      va_list ap);
_printf_(4, 5) int layout_fail(struct layout_diag *diag, unsigned line, unsigned column,
			       const char *fmt, ...);
/* Up to 48 bytes of s for a message: printable ASCII as is, the rest as \xHH. */
const char *layout_quote_n(char *buf, size_t size, const char *s, size_t n);
const char *layout_quote(char *buf, size_t size, const char *s);

/* layout_lex.c: the scanner */
int lex_peek(const struct parser *p, size_t k);
void lex_advance(struct parser *p);
void lex_advance_n(struct parser *p, size_t n);
bool lex_is_name_start(int c);
bool lex_is_name_char(int c);
bool lex_ends_word(int c);
size_t lex_continuation_at(const struct parser *p, size_t k);
void lex_skip_blanks(struct parser *p);
void lex_skip_comment(struct parser *p);
int lex_prescan(const char *text, size_t len, struct layout_diag *diag);
int lex_shell_char_error(struct parser *p, const char *context);
bool lex_is_shell_char(int c);
int lex_read_value(struct parser *p);

/* layout_validate.c */
/* Where validation problems go, each with a short code ("duplicate-path"): emit returns 0 to go
 * on, <0 to stop (layout_validate stops at the first; the checker collects them all). */
struct layout_validate_sink {
	int (*emit)(void *userdata, const char *code, const struct layout_diag *d);
	void *userdata;
};
/* 0 when the walk finished (problems may have been emitted), <0 when it stopped. */
int layout_validate_each(const struct layout *l, const struct layout_validate_sink *sink);
const char *layout_basename(const char *path);
/* NULL if path is absolute and normalised, else why not. */
const char *layout_path_problem(const char *path);
/* path is dir or below it */
bool layout_path_below_or_equal(const char *path, const char *dir);
