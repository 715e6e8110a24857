/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PID 1's last resort: a fault (SIGSEGV, SIGBUS, ...) in edgeinit or a library parsing hostile
 * disk data must not kill PID 1 (the kernel would panic and, without panic=, hang). A handler
 * prints one line and the remedy, wipes the live secret buffers, waits edgeinit.emergency_delay=
 * and follows rd.emergency=. */
#pragma once

#include <signal.h>

#include "edgeinit/cmdline.h"
#include "edgeinit/macro.h"

/* Install the handlers (on an alternate stack: a stack overflow must reach them) and set the
 * calling thread's mask to "every signal blocked but the faults". Threads created afterwards
 * inherit that mask, so a fault in any thread takes the same path. Call first thing in main. */
void crash_init(void);

/* Block every signal but the faults in the calling thread (what crash_init() set up). */
void crash_block_all_but_faults(void);

/* Open /dev/kmsg and /dev/console below root for the handler (it cannot open files); before
 * this, it writes to stderr. Call again after /dev is mounted. */
void crash_open_output(const char *root);

/* What the handler says and does; cheap, call as often as needed. stage must be static. */
void crash_set_stage(const char *stage);
void crash_set_emergency(enum emergency_action action, unsigned delay_sec);

/* If the kernel has no panic timeout (/proc/sys/kernel/panic is 0: no panic= on the command
 * line), set delay_sec (at least 1) so that a kernel panic reboots instead of hanging.
 * Returns the timeout now in effect (0 if it could not be set), or -errno. */
int crash_arm_panic_reboot(const char *root, unsigned delay_sec);

/* Test knobs (edgeinit.debug.crash=, only from the signed command line): fault PID 1 for real
 * in the calling thread; fault in a new thread while the caller goes on; panic the kernel
 * (returns -errno only if the kernel did not panic). */
_noreturn_ void crash_debug_fault(void);
void crash_debug_fault_in_thread(void);
int crash_debug_panic(const char *root);
