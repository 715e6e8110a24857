/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Kernel modules through libkmod, for struct sys_dev_ops: loaded when asked for, or in the
 * background (module_queue.c) while the boot waits for devices and the TPM. A libkmod context is
 * not thread-safe, so each thread has its own, created on first use with its indexes loaded once. */
#include <errno.h>
#include <inttypes.h>
#include <libkmod.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "edgeinit/log.h"
#include "module_queue.h"
#include "sys_real.h"

/* A module's init that runs longer than this is a kernel bug; the boot goes on without it (and
 * fails where it needs it, with the module named). */
#define MODULE_WAIT_MS 30000

static __thread struct kmod_ctx *kmod;
static struct module_queue queue;
static pthread_once_t queue_once = PTHREAD_ONCE_INIT;

static void kmod_log_to_edgeinit(void *data, int priority, const char *file, int line,
				 const char *fn, const char *format, va_list args)
{
	char msg[512];

	(void)data, (void)file, (void)line, (void)fn;
	vsnprintf(msg, sizeof(msg), format, args);
	msg[strcspn(msg, "\n")] = '\0';
	log_full_errno(priority <= 3 ? LOG_LEVEL_WARNING : LOG_LEVEL_DEBUG, 0, "libkmod: %s", msg);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int load_now(const char *name)
{
	struct kmod_list *list = NULL, *it;
	int r, loaded = 0, failed = 0;
	uint64_t start = now_ms();

	if (!kmod) {
		kmod = kmod_new(NULL, NULL);
		if (!kmod)
			return -ENOMEM;
		kmod_set_log_fn(kmod, kmod_log_to_edgeinit, NULL);
		(void)kmod_load_resources(kmod);
	}
	r = kmod_module_new_from_lookup(kmod, name, &list);
	if (r < 0)
		return r;
	if (!list)
		return -ENOENT;
	kmod_list_foreach(it, list) {
		struct kmod_module *mod = kmod_module_get_module(it);

		/* A dependency the other thread is loading: the kernel waits for it, then -EEXIST. */
		r = kmod_module_probe_insert_module(mod, 0, NULL, NULL, NULL, NULL);
		if (r == 0 || r == -EEXIST)
			loaded++;
		else {
			log_debug_errno(r, "Module '%s' for '%s' did not load: %m",
					kmod_module_get_name(mod), name);
			failed = r;
		}
		kmod_module_unref(mod);
	}
	kmod_module_unref_list(list);
	log_debug("Module '%s': %s in %" PRIu64 " ms.", name, loaded > 0 ? "loaded" : "not loaded",
		  now_ms() - start);
	return loaded > 0 ? 0 : (failed < 0 ? failed : -ENOENT);
}

static void release_thread_kmod(void)
{
	kmod = kmod_unref(kmod);
}

static void queue_setup(void)
{
	module_queue_init(&queue, load_now, release_thread_kmod);
}

int real_load_module(const char *name)
{
	int r, result;

	pthread_once(&queue_once, queue_setup);
	r = module_queue_wait_for(&queue, name, MODULE_WAIT_MS, &result);
	if (r > 0 && result >= 0)
		return result;
	if (r < 0) {
		log_warning("Module '%s' did not get its turn in the background within %u s.", name,
			    MODULE_WAIT_MS / 1000);
		return r;
	}
	/* Not queued, skipped, or failed in the background: once more here, so the error the
	 * caller reports is its own. */
	return load_now(name);
}

int real_load_modules_background(const char *const *names, size_t n)
{
	pthread_once(&queue_once, queue_setup);
	return module_queue_start(&queue, names, n);
}

int real_load_modules_finish(bool skip_rest)
{
	pthread_once(&queue_once, queue_setup);
	return module_queue_finish(&queue, skip_rest, MODULE_WAIT_MS);
}
