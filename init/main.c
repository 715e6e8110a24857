/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* edgeinit: PID 1 of the initramfs. Runs the stages in order, owns the PID-1 concerns (signals,
 * the emergency path, the final exec) and nothing else. edgeinit starts no child processes, so
 * there is nothing to reap. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "edgeinit/fs.h"
#include "edgeinit/log.h"
#include "edgeinit/stage.h"
#include "shutdown.h"
#include "crash.h"
#include "emergency.h"

#ifndef EDGEINIT_VERSION
#define EDGEINIT_VERSION "unknown"
#endif

static struct boot_context ctx;

/* systemd reads its state from --deserialize <fd>: we hand over only the time /init started,
 * which is what makes "systemd-analyze" show an (initrd) figure. */
static int serialization_fd(void)
{
	char buf[128];
	int fd, n;

	fd = memfd_create("edgeinit-serialization", 0);
	if (fd < 0)
		return negative_errno();
	n = snprintf(buf, sizeof(buf), "initrd-timestamp=%" PRIu64 " %" PRIu64 "\n\n",
		     ctx.start_realtime_us, ctx.start_monotonic_us);
	if (write(fd, buf, (size_t)n) != n || lseek(fd, 0, SEEK_SET) < 0) {
		close(fd);
		return -EIO;
	}
	return fd;
}

/* Is init= systemd? Only systemd understands --switched-root/--deserialize. */
static bool init_is_systemd(const char *init)
{
	char resolved[PATH_MAX];

	if (!realpath(init, resolved))
		return false;
	return streq(basename(resolved), "systemd");
}

_noreturn_ static void exec_init(int argc, char **argv)
{
	const char *init = ctx.opts.init;
	char fd_arg[16];
	char *args[64];
	int n = 0, sfd = -EBADF;
	sigset_t empty;

	log_info("Switched root; executing %s.", init);
	(void)write_small_file("/proc/sys/kernel/printk_devkmsg", "ratelimit\n");
	/* Close the log first: its fds must not be reused under the serialization fd. */
	log_close();

	args[n++] = (char *)init;
	if (init_is_systemd(init)) {
		sfd = serialization_fd();
		if (sfd >= 0 && (sfd == 3 || dup2(sfd, 3) == 3)) {
			snprintf(fd_arg, sizeof(fd_arg), "3");
			args[n++] = (char *)"--switched-root";
			args[n++] = (char *)"--system";
			args[n++] = (char *)"--deserialize";
			args[n++] = fd_arg;
		} else
			sfd = -EBADF; /* systemd still boots; it only lacks the initrd time */
	}
	/* Arguments the kernel gave us that were meant for init. */
	for (int i = 1; i < argc && n < (int)ELEMENTSOF(args) - 1; i++)
		args[n++] = argv[i];
	args[n] = NULL;

	/* Only fds 0-2 (and the serialization on 3) survive; an empty signal mask. */
	syscall(SYS_close_range, sfd >= 0 ? 4 : 3, ~0U, 0);
	sigemptyset(&empty);
	sigprocmask(SIG_SETMASK, &empty, NULL);

	execv(init, args);

	/* Unreachable unless the exec failed; the checks made this unlikely. The exec attempt
	 * dropped nothing: the handlers and the alternate stack are still ours. */
	crash_block_all_but_faults();
	log_open("");
	ctx_set_remedy(&ctx, "Check init= and the root image.");
	emergency(&ctx, "exec", log_error_errno(negative_errno(), "Failed to execute %s: %m", init));
}

/* Once the command line is known: the crash handler follows rd.emergency=, and a kernel panic
 * (which no handler can catch) reboots instead of hanging. */
static void after_cmdline(void)
{
	int r;

	crash_set_emergency(ctx.opts.emergency, ctx.opts.emergency_delay_sec);
	/* rd.emergency=halt asks the machine to stay where it failed; a panic that hangs does. */
	if (ctx.opts.emergency != EMERGENCY_HALT) {
		r = crash_arm_panic_reboot("", ctx.opts.emergency_delay_sec);
		if (r < 0)
			log_warning_errno(r, "Failed to set a kernel panic timeout: %m; a kernel panic will hang.");
		else
			log_debug("A kernel panic reboots after %d s (/proc/sys/kernel/panic).", r);
	}
	if (streq(ctx.opts.debug_crash, "panic")) {
		log_warning("edgeinit.debug.crash=panic: panicking the kernel now (test of the panic path).");
		r = crash_debug_panic("");
		log_error_errno(r, "edgeinit.debug.crash=panic: the kernel did not panic: %m");
	}
}

/* edgeinit.debug.crash=<stage>: PID 1 faults right before <stage> runs;
 * edgeinit.debug.crash=thread:<stage>: a thread faults there while the stage runs. */
static void debug_crash_before(const char *stage)
{
	const char *want = ctx.opts.debug_crash;
	bool in_thread = strncmp(want, "thread:", 7) == 0;

	if (!streq(in_thread ? want + 7 : want, stage))
		return;
	log_warning("edgeinit.debug.crash=%s: faulting %s now (test of the crash path).", want,
		    in_thread ? "in a thread" : "PID 1");
	if (in_thread)
		crash_debug_fault_in_thread();
	else
		crash_debug_fault();
}

/* CPU time of PID 1's thread (the stages run in it; the kernel's work in its system calls
 * included): against a stage's wall time it tells waiting from working. */
static uint64_t stage_cpu_start_us;

static uint64_t cpu_us(int who)
{
	struct rusage ru;

	if (getrusage(who, &ru) < 0)
		return 0;
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static void before_stage(struct boot_context *c, const struct stage *s)
{
	stage_cpu_start_us = cpu_us(RUSAGE_THREAD);
	crash_set_stage(s->name);
	if (c->opts_parsed && c->opts.debug_crash[0])
		debug_crash_before(s->name);
}

static void after_stage(struct boot_context *c, const struct stage *s, int r)
{
	const struct report_stage *rs = &c->report.stages[c->report.n_stages - 1];

	if (r == STAGE_RUN_SKIPPED)
		log_info("stage %s skipped (nothing to do in this boot)", s->name);
	else
		log_info("stage %s done in %" PRIu64 " ms (%" PRIu64 " ms of CPU)", s->name,
			 rs->duration_us / 1000, (cpu_us(RUSAGE_THREAD) - stage_cpu_start_us) / 1000);
	if (s == &stage_early_setup)
		crash_open_output(""); /* /dev is there now */
	else if (s == &stage_cmdline)
		after_cmdline();
}

int main(int argc, char **argv)
{
	static const struct boot_hooks hooks = { .before = before_stage, .after = after_stage };
	const struct stage *failed = NULL;
	struct utsname uts;
	int r;

	/* First thing: this is the moment systemd-analyze will call the start of the initrd. */
	uint64_t start_monotonic = now_monotonic_us(), start_realtime = now_realtime_us();
	/* PID 1 ran the kernel's initcalls before its exec: count only what /init's threads use. */
	uint64_t start_cpu = cpu_us(RUSAGE_SELF);

	/* systemd-shutdown runs the copy at /run/initramfs/shutdown as PID 1: the exitrd. */
	if (getpid() == 1 && argc > 0 && streq(argv[0], EXITRD_ARGV0))
		shutdown_main(argc, argv);

	/* PID 1 gets no default signal actions; block everything but the faults, which the crash
	 * handler turns into rd.emergency= instead of a kernel panic. */
	crash_init();
	umask(022);

	boot_context_init(&ctx, "", &sys_real);
	ctx.start_monotonic_us = start_monotonic;
	ctx.start_realtime_us = start_realtime;
	snprintf(ctx.report.version, sizeof(ctx.report.version), "%s", EDGEINIT_VERSION);
	if (uname(&uts) == 0)
		snprintf(ctx.report.kernel, sizeof(ctx.report.kernel), "%s", uts.release);
	ctx.report.start_monotonic_us = ctx.start_monotonic_us;
	ctx.report.outcome = "running";

	r = boot_run(&ctx, boot_table, boot_table_size, &hooks, &failed);
	if (r < 0)
		emergency(&ctx, failed->name, r);

	ctx.report.total_us = now_monotonic_us() - ctx.start_monotonic_us;
	ctx.report.outcome = "ok";
	log_info("All stages done in %" PRIu64 " ms (%" PRIu64 " ms since the kernel started; /init's threads used %" PRIu64 " ms of CPU).",
		 ctx.report.total_us / 1000, now_monotonic_us() / 1000, (cpu_us(RUSAGE_SELF) - start_cpu) / 1000);
	if (boot_report_write(&ctx) < 0)
		log_warning("Failed to write /run/edgeinit/boot.json, ignoring.");
	boot_context_done(&ctx);
	exec_init(argc, argv);
}
