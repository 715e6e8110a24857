/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Kernel modules through libkmod, for struct sys_dev_ops: loaded when asked for, or in the
 * background (module_queue.c) while the boot waits for devices and the TPM. A libkmod context is
 * not thread-safe, so each thread has its own, created on first use with its indexes loaded once.
 * libkmod finds the module and its dependencies; a .ko.zst is inflated by module_image.c. */
#include <errno.h>
#include <inttypes.h>
#include <libkmod.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "edgeinit/log.h"
#include "edgeinit/macro.h"
#include "edgeinit/strutil.h"
#include "module_image.h"
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

/* CPU time of the calling thread, the kernel's share included: what a module costs whatever
 * else runs beside it (the background loader is preempted, so its wall time says little). */
static uint64_t thread_cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* One module, with the options libkmod gathered for it (the kernel command line's
 * "module.option=value"). A .ko.zst whose size is declared is inflated in one call and handed
 * over as memory; anything else goes through libkmod (finit_module() for a plain .ko). */
static atomic_uint inserted_whole, inserted_by_libkmod, insert_failures;
static atomic_ullong inflated_bytes, inflate_cpu_us, loader_cpu_us;
/* The module that cost the kernel's loader most, for the summary line. */
static pthread_mutex_t costliest_lock = PTHREAD_MUTEX_INITIALIZER;
static char costliest_name[MODULE_QUEUE_NAME_MAX];
static uint64_t costliest_us;

static void account_loader(struct kmod_module *mod, uint64_t start_us)
{
	uint64_t us = thread_cpu_us() - start_us;

	loader_cpu_us += us;
	pthread_mutex_lock(&costliest_lock);
	if (us > costliest_us) {
		costliest_us = us;
		(void)str_copy(costliest_name, sizeof(costliest_name), kmod_module_get_name(mod));
	}
	pthread_mutex_unlock(&costliest_lock);
}

static int insert_by_libkmod(struct kmod_module *mod, const char *options)
{
	uint64_t start = thread_cpu_us();
	int r = kmod_module_insert_module(mod, 0, options);

	account_loader(mod, start); /* libkmod's own inflating included */
	if (r == 0)
		inserted_by_libkmod++;
	return r;
}

static int insert_module(struct kmod_module *mod)
{
	const char *path = kmod_module_get_path(mod), *options = kmod_module_get_options(mod);
	struct module_image img;
	int r;

	if (!path || !str_endswith(path, ".ko.zst"))
		return insert_by_libkmod(mod, options);
	uint64_t start = thread_cpu_us();
	r = module_image_inflate(path, &img);
	inflate_cpu_us += thread_cpu_us() - start;
	if (r == -ENODATA || r == -EFBIG) /* no size declared, or a size libkmod may still manage */
		return insert_by_libkmod(mod, options);
	if (r < 0)
		return log_warning_errno(r, "Module file %s is damaged (it does not inflate to the size it declares), not loaded: %m",
					 path);
	start = thread_cpu_us();
	r = syscall(SYS_init_module, img.data, (unsigned long)img.size, options ? options : "") < 0 ?
		    negative_errno() : 0;
	account_loader(mod, start);
	if (r == 0) {
		inserted_whole++;
		inflated_bytes += img.size;
	}
	module_image_release(&img);
	return r;
}

static bool module_in_kernel(struct kmod_module *mod)
{
	int state = kmod_module_get_initstate(mod);

	return state == KMOD_MODULE_LIVE || state == KMOD_MODULE_BUILTIN;
}

/* More than any module's chain of dependencies and soft dependencies (ext4: 5). */
#define PROBE_MODULES_MAX 64
#define PROBE_IN_PROGRESS 1
struct probe {
	unsigned n_visited;
	struct {
		char name[MODULE_QUEUE_NAME_MAX];
		int result; /* PROBE_IN_PROGRESS until its walk ends */
	} visited[PROBE_MODULES_MAX];
};

static void probe_soft(struct probe *p, struct kmod_list *list);

/* What kmod_module_probe_insert_module() does for the initrd (which has no modprobe.d, so no
 * blacklist and no install commands): soft dependencies "pre", the dependencies, the module,
 * soft dependencies "post"; the first failure of the module or of a dependency ends the walk.
 * Each module is walked once, and a second visit gets the first one's result. A module another
 * thread is still initializing is inserted again: the kernel waits for it, then says -EEXIST. */
static int probe_insert(struct probe *p, struct kmod_module *mod)
{
	struct kmod_list *pre = NULL, *post = NULL, *deps, *it;
	const char *name = kmod_module_get_name(mod);
	unsigned slot;
	int r = 0;

	for (unsigned i = 0; i < p->n_visited; i++)
		if (streq(p->visited[i].name, name))
			return p->visited[i].result == PROBE_IN_PROGRESS ? -EEXIST : p->visited[i].result;
	if (p->n_visited == PROBE_MODULES_MAX ||
	    str_copy(p->visited[p->n_visited].name, MODULE_QUEUE_NAME_MAX, name) < 0)
		return log_warning_errno(-E2BIG, "Module '%s' not loaded: more than %u modules to walk, or its name is too long.",
					 name, PROBE_MODULES_MAX);
	slot = p->n_visited++;
	p->visited[slot].result = PROBE_IN_PROGRESS;
	if (module_in_kernel(mod)) {
		r = -EEXIST;
		goto done;
	}
	(void)kmod_module_get_softdeps(mod, &pre, &post);
	probe_soft(p, pre);
	deps = kmod_module_get_dependencies(mod);
	kmod_list_foreach(it, deps) {
		struct kmod_module *m = kmod_module_get_module(it);
		int q = probe_insert(p, m);

		if (q < 0 && q != -EEXIST)
			r = log_debug_errno(q, "Module '%s' needs '%s', which did not load: %m", name,
					    kmod_module_get_name(m));
		kmod_module_unref(m);
		if (r < 0)
			break;
	}
	kmod_module_unref_list(deps);
	if (r == 0) {
		/* The other thread may have finished it while this one walked: not inflated twice. */
		r = module_in_kernel(mod) ? -EEXIST : insert_module(mod);
		if (r < 0 && r != -EEXIST)
			insert_failures++;
	}
	if (r == 0 || r == -EEXIST)
		probe_soft(p, post);
	kmod_module_unref_list(pre);
	kmod_module_unref_list(post);
done:
	p->visited[slot].result = r;
	return r;
}

/* Soft dependencies: the module may work without them, so their failures are only remembered. */
static void probe_soft(struct probe *p, struct kmod_list *list)
{
	struct kmod_list *it;

	kmod_list_foreach(it, list) {
		struct kmod_module *m = kmod_module_get_module(it);

		(void)probe_insert(p, m);
		kmod_module_unref(m);
	}
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
		struct probe p = { 0 };

		r = probe_insert(&p, mod);
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
	module_image_thread_end();
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
	unsigned whole, by_libkmod;
	int r;

	pthread_once(&queue_once, queue_setup);
	r = module_queue_finish(&queue, skip_rest, MODULE_WAIT_MS);
	whole = inserted_whole, by_libkmod = inserted_by_libkmod;
	if (whole + by_libkmod + insert_failures > 0)
		log_info("Inserted %u kernel modules: %u inflated in one call (%llu KiB), %u through libkmod; %u failed. CPU: %llu ms inflating, %llu ms in the kernel's module loader (most: %s, %llu ms).",
			 whole + by_libkmod, whole, (unsigned long long)inflated_bytes / 1024, by_libkmod,
			 (unsigned)insert_failures, (unsigned long long)inflate_cpu_us / 1000,
			 (unsigned long long)loader_cpu_us / 1000, costliest_name[0] ? costliest_name : "-",
			 (unsigned long long)costliest_us / 1000);
	return r;
}
