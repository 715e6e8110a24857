/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The crash handler of PID 1. Everything the handler touches is prepared beforehand (fds, stage
 * name, action) and read with atomic loads; inside it only async-signal-safe calls are made:
 * write, nanosleep, reboot, pause, tgkill, explicit_bzero over the secret registry. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "crash.h"
#include "edgeinit/fs.h"
#include "edgeinit/log.h"
#include "edgeinit/secret.h"

/* The synchronous faults: raised by the kernel (or abort()) in the thread that caused them. */
static const int fault_signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS, SIGTRAP };

/* Big enough for the handler's frame plus a libc call or two; a stack overflow lands here. */
#define CRASH_ALTSTACK_SIZE (64 * 1024)
static char altstack[CRASH_ALTSTACK_SIZE] __attribute__((aligned(16)));

static int out_kmsg = -1;
static int out_console = -1;
static int out_console_loglevel; /* 0: unknown, always write to the console too */
static const char *crash_stage = "startup";
static const char *crash_action = "reboot";
static int crash_reboot_cmd = RB_AUTOBOOT;
static unsigned crash_delay_sec = 5;
/* The thread id that runs the crash path; 0 while none does. */
static pid_t crash_owner;

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELEASE)

static pid_t gettid_raw(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/* --- a tiny formatter, no stdio in a handler ---------------------------------------------- */
struct line {
	char buf[512];
	size_t len;
};

static void put_str(struct line *l, const char *s)
{
	while (s && *s && l->len < sizeof(l->buf) - 1)
		l->buf[l->len++] = *s++;
}

static void put_uint(struct line *l, uintmax_t v, unsigned base)
{
	char tmp[32];
	size_t n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v && n < sizeof(tmp));
	if (base == 16)
		put_str(l, "0x");
	while (n && l->len < sizeof(l->buf) - 1)
		l->buf[l->len++] = tmp[--n];
}

static const char *signal_name(int sig)
{
	switch (sig) {
	case SIGSEGV: return "SIGSEGV";
	case SIGBUS:  return "SIGBUS";
	case SIGILL:  return "SIGILL";
	case SIGFPE:  return "SIGFPE";
	case SIGABRT: return "SIGABRT";
	case SIGSYS:  return "SIGSYS";
	case SIGTRAP: return "SIGTRAP";
	}
	return "a fatal signal";
}

/* One kmsg record and, unless the kernel echoes it, one console line (as init/log.c does). */
static void emit(const char *msg)
{
	struct line l = { .len = 0 };
	int kmsg = LOAD(out_kmsg), console = LOAD(out_console);

	put_str(&l, "<3>edgeinit: ");
	put_str(&l, msg);
	put_str(&l, "\n");
	if (kmsg >= 0)
		(void)!write(kmsg, l.buf, l.len);
	if (kmsg >= 0 && LOAD(out_console_loglevel) > LOG_LEVEL_ERR)
		return;
	(void)!write(console >= 0 ? console : STDERR_FILENO, l.buf + 3, l.len - 3);
}

_noreturn_ static void reboot_now(void)
{
	(void)reboot(LOAD(crash_reboot_cmd));
	/* reboot() failed (not PID 1, or no privilege): stay, never return into the fault. */
	for (;;)
		pause();
}

static void crash_handler(int sig, siginfo_t *si, void *ucontext)
{
	pid_t self = gettid_raw(), pid = getpid(), owner = 0;
	struct line l = { .len = 0 };
	struct timespec delay;

	(void)ucontext;
	if (!__atomic_compare_exchange_n(&crash_owner, &owner, self, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		/* A fault inside the handler (SA_NODEFER brings it here): no second attempt at
		 * anything, reboot now. */
		if (owner == self)
			reboot_now();
		/* Another thread runs the crash path (and stopped us, or we faulted too). */
		for (;;)
			pause();
	}
	/* A worker may run at SCHED_IDLE (the module loader): the crash path must not wait for
	 * idle time. */
	(void)syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, &(struct sched_param){ 0 });
	/* A fault in a worker thread: stop the main thread, it must not go on booting (or exec
	 * the next init) while we wait. It lands here and pauses. */
	if (self != pid)
		(void)syscall(SYS_tgkill, pid, pid, SIGSEGV);

	put_str(&l, "FATAL: PID 1 caught ");
	put_str(&l, signal_name(sig));
	if (si && si->si_code <= 0 && si->si_pid == pid) {
		put_str(&l, " (raised by abort() or raise())");
	} else if (si && si->si_code <= 0) {
		/* kill(2) from another process, not a fault of the code. */
		put_str(&l, " (sent by PID ");
		put_uint(&l, (uintmax_t)si->si_pid, 10);
		put_str(&l, ")");
	} else if (si && sig != SIGABRT) {
		put_str(&l, " (address ");
		put_uint(&l, (uintmax_t)(uintptr_t)si->si_addr, 16);
		put_str(&l, ")");
	}
	put_str(&l, " in stage '");
	put_str(&l, LOAD(crash_stage));
	put_str(&l, "'");
	if (self != pid) {
		put_str(&l, " (thread ");
		put_uint(&l, (uintmax_t)self, 10);
		put_str(&l, ")");
	}
	put_str(&l, "; following rd.emergency=");
	put_str(&l, LOAD(crash_action));
	put_str(&l, " in ");
	put_uint(&l, LOAD(crash_delay_sec), 10);
	put_str(&l, " s.");
	l.buf[l.len] = '\0';
	emit(l.buf);
	emit("What to do: PID 1 faulted: a bug in edgeinit or a library it uses, possibly triggered "
	     "by hostile data on a disk (LUKS2 header, superblock, partition table). Keep this "
	     "console log, check the disks of this device, and report it with the edgeinit version.");

	/* No key outlives the crash in our memory. */
	(void)secret_wipe_all();

	delay.tv_sec = LOAD(crash_delay_sec);
	delay.tv_nsec = 0;
	while (nanosleep(&delay, &delay) < 0 && errno == EINTR)
		;
	reboot_now();
}

void crash_block_all_but_faults(void)
{
	sigset_t mask;

	sigfillset(&mask);
	for (size_t i = 0; i < ELEMENTSOF(fault_signals); i++)
		sigdelset(&mask, fault_signals[i]);
	pthread_sigmask(SIG_SETMASK, &mask, NULL);
}

void crash_init(void)
{
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack), .ss_flags = 0 };
	struct sigaction sa = {
		.sa_sigaction = crash_handler,
		/* SA_NODEFER: a fault inside the handler re-enters it (and reboots) instead of
		 * being forced on PID 1 as a default action, which would panic the kernel. */
		.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER,
	};

	(void)sigaltstack(&ss, NULL);
	/* Nothing else interrupts the handler's wait; faults still reach it. */
	sigfillset(&sa.sa_mask);
	for (size_t i = 0; i < ELEMENTSOF(fault_signals); i++)
		sigdelset(&sa.sa_mask, fault_signals[i]);
	for (size_t i = 0; i < ELEMENTSOF(fault_signals); i++)
		(void)sigaction(fault_signals[i], &sa, NULL);
	crash_block_all_but_faults();
}

void crash_open_output(const char *root)
{
	int kmsg, console, old, loglevel;

	loglevel = log_outputs_open(root, &kmsg, &console);
	if (loglevel > 0)
		STORE(out_console_loglevel, loglevel);
	/* Swap in the new fds, then close the old ones: the handler never sees a closed fd
	 * (except in the instant between, where a write fails harmlessly). */
	old = __atomic_exchange_n(&out_kmsg, kmsg < 0 ? -1 : kmsg, __ATOMIC_ACQ_REL);
	if (old >= 0)
		close(old);
	old = __atomic_exchange_n(&out_console, console < 0 ? -1 : console, __ATOMIC_ACQ_REL);
	if (old >= 0)
		close(old);
}

void crash_set_stage(const char *stage)
{
	STORE(crash_stage, stage);
}

void crash_set_emergency(enum emergency_action action, unsigned delay_sec)
{
	static const int reboot_cmd[] = {
		[EMERGENCY_REBOOT] = RB_AUTOBOOT,
		[EMERGENCY_POWEROFF] = RB_POWER_OFF,
		[EMERGENCY_HALT] = RB_HALT_SYSTEM,
	};

	STORE(crash_action, emergency_action_to_string(action));
	STORE(crash_reboot_cmd, reboot_cmd[action]);
	STORE(crash_delay_sec, delay_sec);
}

int crash_arm_panic_reboot(const char *root, unsigned delay_sec)
{
	char path[512], buf[32];
	int r;

	snprintf(path, sizeof(path), "%s/proc/sys/kernel/panic", root);
	r = read_small_file(path, buf, sizeof(buf));
	if (r < 0)
		return r;
	if (atoi(buf) != 0)
		return atoi(buf); /* panic= given: the command line decides */
	snprintf(buf, sizeof(buf), "%u\n", delay_sec ? delay_sec : 1);
	r = write_small_file(path, buf);
	return r < 0 ? r : (int)(delay_sec ? delay_sec : 1);
}

_noreturn_ void crash_debug_fault(void)
{
	/* A pointer the compiler cannot see is NULL, a store it cannot drop: a real SIGSEGV. */
	volatile int *volatile p = NULL;

	*p = 1;
	for (;;)
		pause();
}

static void *fault_thread(void *arg)
{
	(void)arg;
	crash_debug_fault();
}

void crash_debug_fault_in_thread(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, fault_thread, NULL) == 0)
		pthread_detach(t);
}

int crash_debug_panic(const char *root)
{
	char path[512];
	int r;

	snprintf(path, sizeof(path), "%s/proc/sys/kernel/sysrq", root);
	(void)write_small_file(path, "1\n");
	snprintf(path, sizeof(path), "%s/proc/sysrq-trigger", root);
	r = write_small_file(path, "c");
	return r < 0 ? r : -ENOSYS; /* still here: the kernel has no sysrq crash */
}
