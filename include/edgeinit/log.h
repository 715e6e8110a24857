/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Logging for stages and PID 1: every line goes to /dev/kmsg and the console, prefixed
 * "edgeinit: ". Implemented in init/log.c; lib/ never logs. */
#pragma once

#include <stdbool.h>

#include "edgeinit/macro.h"

enum log_level {
	LOG_LEVEL_ERR = 3,
	LOG_LEVEL_WARNING = 4,
	LOG_LEVEL_NOTICE = 5,
	LOG_LEVEL_INFO = 6,
	LOG_LEVEL_DEBUG = 7,
};

/* Open /dev/kmsg and the console below root_dir ("" for the machine). Safe to call again. */
void log_open(const char *root_dir);
/* Opens <root_dir>/dev/kmsg and /dev/console for writing (-1 where one cannot be) and returns
 * the kernel's console log level (0 if unknown); the crash handler keeps its own pair. */
int log_outputs_open(const char *root_dir, int *kmsg, int *console);
void log_close(void);
void log_set_debug(bool on);
/* Tests capture lines instead of writing to kmsg/console (NULL restores). */
void log_set_sink(void (*sink)(int level, const char *line));

/* Log and return r (a negative errno), so that callers can "return log_error_errno(r, ...)".
 * "%m" in the format prints strerror(-r). */
int log_full_errno(int level, int r, const char *fmt, ...) _printf_(3, 4);

#define log_error(...) log_full_errno(LOG_LEVEL_ERR, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_LEVEL_WARNING, 0, __VA_ARGS__)
#define log_notice(...) log_full_errno(LOG_LEVEL_NOTICE, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(LOG_LEVEL_INFO, 0, __VA_ARGS__)
#define log_debug(...) log_full_errno(LOG_LEVEL_DEBUG, 0, __VA_ARGS__)
#define log_error_errno(r, ...) log_full_errno(LOG_LEVEL_ERR, (r), __VA_ARGS__)
#define log_warning_errno(r, ...) log_full_errno(LOG_LEVEL_WARNING, (r), __VA_ARGS__)
#define log_debug_errno(r, ...) log_full_errno(LOG_LEVEL_DEBUG, (r), __VA_ARGS__)
