/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Every line goes to /dev/kmsg (so it lands in the journal after switch_root) and to the
 * console (so an operator sees it even with "quiet"). When the kernel would echo the kmsg line to
 * the console anyway (its console_loglevel shows this level), the direct write is skipped so the
 * line is not printed twice. Before /dev is mounted, lines go to stderr, which the kernel
 * connected to /dev/console. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "edgeinit/fs.h"
#include "edgeinit/log.h"

static int kmsg_fd = -EBADF;
static int console_fd = -EBADF;
static int console_loglevel = 0; /* 0: unknown, never rely on the kernel's echo */
static bool debug_enabled;
static void (*log_sink)(int level, const char *line);

void log_set_debug(bool on) { debug_enabled = on; }
void log_set_sink(void (*sink)(int level, const char *line)) { log_sink = sink; }

int log_outputs_open(const char *root_dir, int *kmsg, int *console)
{
	char path[512], buf[64];

	snprintf(path, sizeof(path), "%s/dev/kmsg", root_dir);
	*kmsg = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	/* Non-blocking: a console that stopped (flow control) must not stop PID 1. */
	snprintf(path, sizeof(path), "%s/dev/console", root_dir);
	*console = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	snprintf(path, sizeof(path), "%s/proc/sys/kernel/printk", root_dir);
	return read_small_file(path, buf, sizeof(buf)) > 0 ? atoi(buf) : 0;
}

void log_open(const char *root_dir)
{
	log_close();
	console_loglevel = log_outputs_open(root_dir, &kmsg_fd, &console_fd);
	if (kmsg_fd < 0)
		kmsg_fd = -EBADF;
	if (console_fd < 0)
		console_fd = -EBADF;
}

void log_close(void)
{
	closep(&kmsg_fd);
	closep(&console_fd);
	kmsg_fd = console_fd = -EBADF;
}

int log_full_errno(int level, int r, const char *fmt, ...)
{
	char msg[1024], prefix[16];
	int saved = errno, out;
	va_list ap;

	if (level >= LOG_LEVEL_DEBUG && !debug_enabled)
		return r;

	errno = r < 0 ? -r : r;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Messages quote names from disks (partition names, files on /opt): a control character
	 * there must not start a forged line or drive the terminal. */
	for (char *c = msg; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';

	if (log_sink) {
		log_sink(level, msg);
		errno = saved;
		return r;
	}

	snprintf(prefix, sizeof(prefix), "<%d>", level);
	if (kmsg_fd >= 0) {
		struct iovec iov[] = {
			{ prefix, strlen(prefix) }, { (char *)"edgeinit: ", 10 },
			{ msg, strlen(msg) }, { (char *)"\n", 1 },
		};
		(void)!writev(kmsg_fd, iov, 4);
	}
	/* The kernel prints kmsg records below console_loglevel on the console itself. */
	if (kmsg_fd >= 0 && level < console_loglevel) {
		errno = saved;
		return r;
	}
	out = console_fd >= 0 ? console_fd : STDERR_FILENO;
	{
		struct iovec iov[] = {
			{ (char *)"edgeinit: ", 10 }, { msg, strlen(msg) }, { (char *)"\n", 1 },
		};
		(void)!writev(out, iov, 3);
	}
	errno = saved;
	return r;
}
