/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* EMT's key pool and the emt-late stage (FDE mode).
 * The key is unsealed once (or asked for); the volumes the slot needs are opened under the names
 * EMT's update tool relies on, the keyslots' PBKDFs in parallel threads (bounded by CPUs and
 * available memory); the others (the inactive slot, swap, LVM, other disks) are derived in a
 * background thread while the boot goes on. Stage emt-late, before leave-initrd, activates them
 * and latches every volume key into PCR 15, so the sealed passphrase cannot be unsealed after
 * switch_root.
 * Runs: emt-late in the EMT profile; it has nothing to do (skipped) unless the disk is FDE.
 * Trust: every LUKS2 header passes the allow-list before a key is offered; the key opens all of
 *   the slot's volumes or none is opened; a key the TPM released that fits nothing stops the boot
 *   without a prompt; PCR 15 moves right after the unseal; the background derivation has a
 *   deadline and the fatal path (emt_keys_discard) never waits for it.
 * Fails: emt-late only when the PCR 15 latch fails after a key sealed to PCR 15 was used. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "edgeinit/fs.h"
#include "edgeinit/log.h"
#include "edgeinit/secret.h"
#include "edgeinit/strutil.h"
#include "emt_private.h"
#include "unlock.h"

#define PBKDF_THREAD_STACK (1024 * 1024)
/* The volumes the boot does not need must be open within this time after their derivation
 * started, else they stay closed: each PBKDF is bounded by the header allow-list, so only a
 * pathological machine gets here, and it must still boot. */
#define BACKGROUND_DEADLINE_SEC 60

struct emt_volume {
	char name[LUKS_NAME_MAX];        /* mapper name */
	struct blockdev *dev;
	struct luks_info info;
	bool required;                   /* the boot cannot go on without it */
	bool open;
	int result;                      /* last luks_derive_key result */
};

struct emt_disk {
	struct boot_context *ctx;
	enum emt_mode mode;
	char slot;                                  /* 'a' or 'b' */
	struct blockdev *role[_EMT_ROLE_MAX];       /* from struct emt_layout */
	struct emt_volume vols[UNLOCK_VOLUMES_MAX];
	size_t n_vols;

	/* One round of parallel key derivation. */
	struct keys *k;
	const char *pass;
	size_t pass_len;
	int keyslot;
	size_t jobs[UNLOCK_VOLUMES_MAX];
	size_t n_jobs;
	unsigned parallel;
	atomic_size_t next_job;

	/* Volumes the boot does not need are derived in the background while it goes on; the
	 * emt-late stage activates them and latches PCR 15. */
	struct secret keys_buf;           /* struct keys, locked */
	const char *how;                  /* the key source, for the log */
	bool pcr15_policy;
	pthread_t background;
	bool background_running;
	sem_t background_done;            /* posted by the background thread when it ends */
	uint64_t background_deadline_us;  /* monotonic */
	atomic_bool abandon;              /* workers take no new job and keep no key */
	/* A worker stores a derived key only under this lock and only if nothing abandoned the
	 * derivation: the fatal path's wipe, taken under it too, is never overwritten by a
	 * derivation that was still running. */
	pthread_mutex_t key_lock;
};

/* Between the emt and emt-late stages; reset by each emt stage run. Only this file reaches it;
 * the fatal path through the stages' discard hooks. */
static struct emt_disk emt = { .key_lock = PTHREAD_MUTEX_INITIALIZER };
/* Background threads still running, abandoned ones included: a new emt run (stage tests run
 * many) must not reset the state one of them still reads. */
static atomic_int background_live;

/* Add dev as mapper name if it is LUKS2. 1: added, 0: left alone (not LUKS2, or optional and
 * unreadable or not allowed), <0: the boot cannot go on. */
static int add_volume(struct emt_disk *d, const char *name, struct blockdev *dev, bool required)
{
	struct boot_context *ctx = d->ctx;
	struct emt_volume *v;
	int r;

	if (d->n_vols >= UNLOCK_VOLUMES_MAX) {
		log_warning("More than %d LUKS volumes; leaving %s closed.", UNLOCK_VOLUMES_MAX, dev->node);
		return 0;
	}
	v = &d->vols[d->n_vols];
	memset(v, 0, sizeof(*v));
	r = ctx->sys->luks->inspect(dev->node, &v->info);
	if (r == -EMEDIUMTYPE && !required) {
		log_debug("%s is not LUKS2, leaving it as it is.", dev->node);
		return 0;
	}
	if (r == -EMEDIUMTYPE) {
		ctx_set_remedy(ctx, "The disk is partly provisioned; reinstall the device.");
		return log_error_errno(r, "%s (for /dev/mapper/%s) is not LUKS2 although partition 2 is.",
				       dev->node, name);
	}
	if (r < 0) {
		if (!required) {
			log_warning_errno(r, "Cannot read the LUKS2 header of %s, leaving it closed: %m", dev->node);
			return 0;
		}
		ctx_set_remedy(ctx, "Check the disk; the LUKS2 header of %s is damaged.", dev->node);
		return log_error_errno(r, "Cannot read the LUKS2 header of %s (for /dev/mapper/%s): %m",
				       dev->node, name);
	}
	if (v->info.rejected[0]) {
		if (!required) {
			log_warning("The LUKS2 header of %s is refused (%s), leaving it closed.", dev->node,
				    v->info.rejected);
			return 0;
		}
		ctx_set_remedy(ctx, "Treat the disk as tampered with (no key was offered to this header), or reinstall the device.");
		return log_error_errno(-EKEYREJECTED, "The LUKS2 header of %s (for /dev/mapper/%s) is refused: %s.",
				       dev->node, name, v->info.rejected);
	}
	if (!boot_options_luks_allowed(&ctx->opts, v->info.uuid)) {
		if (required) {
			ctx_set_remedy(ctx, "Add rd.luks.uuid=%s to the command line, or remove the rd.luks.uuid= list.",
				       v->info.uuid);
			return log_error_errno(-EPERM, "%s (LUKS UUID %s) is not listed by rd.luks.uuid=.",
					       dev->node, v->info.uuid);
		}
		log_info("Leaving %s closed: rd.luks.uuid= does not list it.", dev->node);
		return 0;
	}
	str_copy(v->name, sizeof(v->name), name);
	v->dev = dev;
	v->required = required;
	d->n_vols++;
	return 1;
}

/* A LUKS2 partition on another fixed disk (EMT's data disks). Removable disks (USB sticks) are
 * never offered a key, as EMT's own script skips them. */
static bool other_disk_luks(struct boot_context *ctx, struct blockdev *b)
{
	return b->partn && !b->removable && !streq(b->disk, ctx->os_disk) &&
	       devmgr_probe_superblocks(&ctx->dev, b) >= 0 && streq(b->tags.type, "crypto_LUKS");
}

/* Every LUKS2 volume EMT's script opens, with its names. */
static int plan_volumes(struct emt_disk *d)
{
	struct boot_context *ctx = d->ctx;
	int r;

	for (int role = 0; role < _EMT_ROLE_MAX; role++) {
		const struct emt_role_info *ri = emt_role_info(role);
		struct blockdev *b = d->role[role];
		bool required = role == EMT_PERSIST || role == (int)slot_data_role(d->slot) ||
				role == (int)slot_hash_role(d->slot) ||
				(role == EMT_ROOTHASH && ctx->opts.roothash_size == 0);

		if (!b || !ri->mapper_name)
			continue;
		r = add_volume(d, ri->mapper_name, b, required);
		if (r < 0)
			return r;
	}
	/* Other disks: the first LUKS2 partition of each as <disk>_crypt, as EMT's script does
	 * (it cannot open a second one under the same name either). */
	for (unsigned i = 0; i < ctx->dev.n_seen; i++) {
		struct blockdev *b = &ctx->dev.seen[i];
		const struct blockdev *first = b;
		char name[LUKS_NAME_MAX];

		if (!other_disk_luks(ctx, b))
			continue;
		for (unsigned j = 0; j < ctx->dev.n_seen; j++)
			if (other_disk_luks(ctx, &ctx->dev.seen[j]) && streq(ctx->dev.seen[j].disk, b->disk) &&
			    ctx->dev.seen[j].partn < first->partn)
				first = &ctx->dev.seen[j];
		if (first != b) {
			log_warning("%s is a second LUKS2 partition on /dev/%s; EMT names only one per disk (%s_crypt, %s), leaving it closed.",
				    b->node, b->disk, b->disk, first->node);
			continue;
		}
		snprintf(name, sizeof(name), "%s_crypt", b->disk);
		r = add_volume(d, name, b, false);
		if (r < 0)
			return r;
	}
	return 0;
}

static uint64_t mem_available_kib(struct boot_context *ctx)
{
	char buf[4096];
	const char *p;
	unsigned long long kib;
	int n;

	n = ctx_read_file(ctx, "/proc/meminfo", buf, sizeof(buf));
	if (n < 0 || !(p = strstr(buf, "MemAvailable:")))
		return 0;
	p += strlen("MemAvailable:");
	return sscanf(p, "%llu", &kib) == 1 ? kib : 0;
}

static void *derive_worker(void *arg)
{
	struct emt_disk *d = arg;
	size_t job;

	while (!atomic_load(&d->abandon) && (job = atomic_fetch_add(&d->next_job, 1)) < d->n_jobs) {
		size_t i = d->jobs[job];
		struct emt_volume *v = &d->vols[i];

		uint8_t key[sizeof(d->k->volume_key[i])];
		size_t key_size = sizeof(key);
		int r = d->ctx->sys->luks->derive_key(v->dev->node, d->keyslot, d->pass, d->pass_len,
						     key, &key_size);

		pthread_mutex_lock(&d->key_lock);
		if (atomic_load(&d->abandon)) {
			r = -ECANCELED;
		} else if (r >= 0) {
			memcpy(d->k->volume_key[i], key, key_size);
			d->k->volume_key_size[i] = key_size;
		}
		v->result = r;
		pthread_mutex_unlock(&d->key_lock);
		explicit_bzero(key, sizeof(key));
	}
	return NULL;
}

/* Derive the volume keys of every closed volume, at most `parallel` at once. */
static void derive_keys(struct emt_disk *d, unsigned parallel)
{
	pthread_t threads[UNLOCK_VOLUMES_MAX];
	pthread_attr_t attr;
	unsigned started = 0;

	atomic_store(&d->next_job, 0);
	/* libcryptsetup and argon2 want more stack than musl's default for threads. */
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, PBKDF_THREAD_STACK);
	while (parallel > 1 && started < parallel - 1 &&
	       pthread_create(&threads[started], &attr, derive_worker, d) == 0)
		started++;
	pthread_attr_destroy(&attr);
	derive_worker(d); /* this thread is a worker too */
	for (unsigned i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
}

static bool try_passphrase(struct unlock *u, int keyslot, const char *pass, size_t len)
{
	struct emt_disk *d = u->userdata;
	struct boot_context *ctx = d->ctx;
	uint32_t memory_kib = 0;
	size_t opened = 0;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	/* The volumes the boot needs now; the others follow in the background. */
	d->n_jobs = 0;
	for (size_t i = 0; i < d->n_vols; i++)
		if (!d->vols[i].open && d->vols[i].required)
			d->jobs[d->n_jobs++] = i;
	for (size_t i = 0; i < d->n_vols; i++)
		if (d->vols[i].info.pbkdf_memory_kib > memory_kib)
			memory_kib = d->vols[i].info.pbkdf_memory_kib;
	d->parallel = emt_parallel_opens(d->n_vols, cpus > 0 ? (unsigned)cpus : 1,
					 mem_available_kib(ctx), memory_kib);
	if (d->n_jobs == 0)
		return true;
	log_debug("Opening %zu LUKS2 volumes, %u at a time (keyslot PBKDF memory %" PRIu32 " KiB).",
		  d->n_jobs, d->parallel, memory_kib);
	d->k = u->k;
	d->pass = pass;
	d->pass_len = len;
	d->keyslot = keyslot;
	derive_keys(d, d->parallel);
	d->pass = NULL;

	/* All or none: a key that opens only some of the slot's volumes would mix volumes opened by
	 * different keys (an attacker's /opt next to the real root). */
	for (size_t j = 0; j < d->n_jobs; j++) {
		const struct emt_volume *v = &d->vols[d->jobs[j]];

		opened += v->result >= 0;
		if (v->result == -EKEYREJECTED) {
			/* The header libcryptsetup loaded is not the one inspect passed. */
			ctx_set_remedy(ctx, "Treat the disk as tampered with: a LUKS2 header changed while it was read.");
			u->fatal = log_error_errno(v->result, "The LUKS2 header of %s was refused when it was loaded for unlocking.",
						   v->dev->node);
		}
	}
	if (opened < d->n_jobs) {
		for (size_t j = 0; j < d->n_jobs; j++)
			explicit_bzero(u->k->volume_key[d->jobs[j]], sizeof(u->k->volume_key[0]));
		if (opened > 0 && !u->fatal)
			log_warning("The %s opens %zu of the %zu volumes slot %c needs; opening none.",
				    u->from_tpm_attempt ? "key the TPM released" : "passphrase", opened, d->n_jobs, d->slot);
		return false;
	}
	/* Device-mapper is not thread-safe in libdevmapper: activate one after the other. */
	for (size_t j = 0; j < d->n_jobs; j++) {
		struct emt_volume *v = &d->vols[d->jobs[j]];
		size_t i = d->jobs[j];
		int r = ctx->sys->luks->activate_key(v->dev->node, v->name, u->k->volume_key[i],
						    u->k->volume_key_size[i]);

		if (r < 0) {
			ctx_set_remedy(ctx, "Check that the initrd has dm_crypt and the volumes' cipher; the kernel log above has the reason.");
			u->fatal = log_error_errno(r, "Cannot open %s as /dev/mapper/%s: %m", v->dev->node, v->name);
			return false;
		}
		v->open = true;
	}
	/* Kept (locked) for the background derivation of the other volumes. */
	memcpy(u->k->kept_passphrase, pass, len);
	u->k->kept_passphrase_len = len;
	return true;
}

static void *derive_in_background(void *arg)
{
	struct emt_disk *d = arg;
	struct keys *k = (struct keys *)d->keys_buf.data;

	d->n_jobs = 0;
	for (size_t i = 0; i < d->n_vols; i++)
		if (!d->vols[i].open)
			d->jobs[d->n_jobs++] = i;
	d->k = k;
	d->pass = k->kept_passphrase;
	d->pass_len = k->kept_passphrase_len;
	derive_keys(d, d->parallel);
	d->pass = NULL;
	explicit_bzero(k->kept_passphrase, sizeof(k->kept_passphrase));
	sem_post(&d->background_done);
	atomic_fetch_sub(&background_live, 1);
	return NULL;
}

/* Wait for the background derivation until its deadline. true: it ended (joined); false: it did
 * not, and is abandoned: its volumes stay closed, its memory is never freed (the thread may still
 * write there; exec or reboot ends it). */
static bool join_background(struct emt_disk *d)
{
	uint64_t now = now_monotonic_us(), left_us;
	struct timespec until;
	int r;

	if (!d->background_running)
		return true;
	left_us = d->background_deadline_us > now ? d->background_deadline_us - now : 0;
	/* sem_timedwait counts on CLOCK_REALTIME. */
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += (time_t)(left_us / 1000000);
	until.tv_nsec += (long)(left_us % 1000000) * 1000;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while ((r = sem_timedwait(&d->background_done, &until)) < 0 && errno == EINTR)
		;
	if (r < 0) {
		atomic_store(&d->abandon, true);
		(void)pthread_detach(d->background);
		d->background_running = false;
		return false;
	}
	(void)pthread_join(d->background, NULL);
	d->background_running = false;
	return true;
}

void emt_keys_discard(struct boot_context *ctx)
{
	(void)ctx;
	/* A derivation still running (or abandoned by emt-late's deadline) may still hold the
	 * buffer: wipe it under the key lock, so that no key lands in it afterwards, and keep the
	 * mapping (exec or reboot ends the thread). */
	if (emt.background_running || atomic_load(&emt.abandon)) {
		pthread_mutex_lock(&emt.key_lock);
		atomic_store(&emt.abandon, true);
		if (emt.keys_buf.data)
			explicit_bzero(emt.keys_buf.data, emt.keys_buf.size);
		pthread_mutex_unlock(&emt.key_lock);
		if (emt.background_running)
			(void)pthread_detach(emt.background);
		emt.background_running = false;
		return;
	}
	secret_free(&emt.keys_buf);
}

void emt_keys_reset(void)
{
	emt_keys_discard(NULL);
	/* Only after an earlier run in the same process (stage tests): bounded by the PBKDF bounds. */
	for (int i = 0; atomic_load(&background_live) > 0 && i < 3000; i++)
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
	memset(&emt, 0, sizeof(emt));
	atomic_init(&emt.abandon, false);
	pthread_mutex_init(&emt.key_lock, NULL);
}

static int unlock_volumes(struct emt_disk *d)
{
	struct boot_context *ctx = d->ctx;
	const struct boot_options *o = &ctx->opts;
	char where[80];
	struct unlock u = { .ctx = ctx, .name = "EMT's volumes", .where = where,
			    .k = (struct keys *)d->keys_buf.data, .try_passphrase = try_passphrase,
			    .userdata = d };
	size_t deferred = 0;
	pthread_attr_t attr;

	snprintf(where, sizeof(where), "/dev/%s", ctx->os_disk);
	unlock_load_drivers(ctx);
	/* EMT's sealed key, rd.luks.key=, the console: unlock_walk_emt (unlock.c). */
	if (!unlock_walk_emt(&u)) {
		if (u.fatal < 0)
			return u.fatal;
		ctx_set_remedy(ctx,
			       "Type EMT's passphrase (or a recovery key enrolled in every volume) on the console at the next boot; a TPM that refuses belongs to another machine or PCR 15 changed.");
		return log_error_errno(-EKEYREJECTED, "No key opened the volumes /dev/%s needs to boot slot %c.",
				       ctx->os_disk, d->slot);
	}
	ctx->tpm.key_unsealed = u.from_tpm;
	/* Volumes the TPM did not open may be anyone's: nothing sealed to this boot stays reachable. */
	if (!u.from_tpm) {
		int r = ctx_tpm_lockdown(ctx, o->tpm2_lockdown, "EMT's volumes were opened without the TPM");

		if (r < 0)
			return r;
	}
	d->how = u.how;
	d->pcr15_policy = u.pcr15_policy;
	for (size_t i = 0; i < d->n_vols; i++)
		deferred += !d->vols[i].open;
	log_info("Unlocked the %zu LUKS2 volumes slot %c needs with %s; %zu more follow in the background.",
		 d->n_vols - deferred, d->slot, u.how, deferred);
	if (deferred == 0) {
		explicit_bzero(u.k->kept_passphrase, sizeof(u.k->kept_passphrase));
		return 0;
	}
	if (sem_init(&d->background_done, 0, 0) < 0)
		return log_error_errno(negative_errno(), "Cannot set up the background opening: %m");
	d->background_deadline_us = now_monotonic_us() + BACKGROUND_DEADLINE_SEC * 1000000ULL;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, PBKDF_THREAD_STACK);
	atomic_fetch_add(&background_live, 1);
	d->background_running = pthread_create(&d->background, &attr, derive_in_background, d) == 0;
	pthread_attr_destroy(&attr);
	if (!d->background_running)
		derive_in_background(d); /* no thread: now, then (it counts itself out) */
	return 0;
}

/* Stage emt-late: activate the volumes derived in the background, then latch every volume key
 * into PCR 15, so the sealed passphrase cannot be unsealed after switch_root. */
static int emt_late_run(struct boot_context *ctx)
{
	struct emt_disk *d = &emt;
	struct keys *k = (struct keys *)d->keys_buf.data;
	unsigned opened = 0;
	int r = 0;

	if (!ctx->emt_done || ctx->emt_mode != EMT_MODE_FDE || !k)
		return STAGE_RUN_SKIPPED; /* no volume was opened with a key: nothing to latch */
	if (!join_background(d)) {
		log_warning("The background opening of the volumes slot %c does not need did not end within %d s; they stay closed.",
			    d->slot, BACKGROUND_DEADLINE_SEC);
		for (size_t i = 0; i < d->n_vols; i++)
			if (!d->vols[i].open)
				d->vols[i].result = -ETIMEDOUT;
	}
	for (size_t i = 0; i < d->n_vols; i++) {
		struct emt_volume *v = &d->vols[i];
		char mapper[LUKS_NAME_MAX + 16];

		if (!v->open) {
			r = d->abandon ? -ETIMEDOUT : v->result;
			if (r >= 0)
				r = ctx->sys->luks->activate_key(v->dev->node, v->name, k->volume_key[i],
								k->volume_key_size[i]);
			v->open = r >= 0;
			if (!v->open) {
				explicit_bzero(k->volume_key[i], sizeof(k->volume_key[i]));
				log_warning_errno(r, "%s stays closed: %s does not open it (%m). /dev/mapper/%s will be missing.",
						  v->dev->node, d->how, v->name);
				continue;
			}
		}
		opened++;
		snprintf(mapper, sizeof(mapper), "/dev/mapper/%s", v->name);
		report_add_device(&ctx->report, v->name, v->dev->node, mapper);
	}
	log_info("Unlocked %u of %zu LUKS2 volumes on /dev/%s with %s.", opened, d->n_vols, ctx->os_disk,
		 d->how);

	/* Every volume is open: now PCR 15 may move. */
	r = 0;
	if (ctx->tpm.present && ctx->opts.luks_measure_pcr)
		for (size_t i = 0; i < d->n_vols && r >= 0; i++) {
			const struct emt_volume *v = &d->vols[i];

			if (!v->open)
				continue;
			r = unlock_latch_volume_key(ctx, v->name, v->info.uuid, k->volume_key[i],
						    k->volume_key_size[i]);
			if (r < 0 && !d->pcr15_policy)
				r = 0; /* nothing sealed to PCR 15 was used */
		}
	if (r < 0)
		ctx_set_remedy(ctx, "The TPM refused to extend PCR 15; the unsealed key must not stay reachable. Check the TPM.");
	if (d->abandon)
		explicit_bzero(d->keys_buf.data, d->keys_buf.size); /* the thread may still use it */
	else
		secret_free(&d->keys_buf);
	return r;
}

int emt_keys_open(const struct emt_layout *l)
{
	struct emt_disk *d = &emt;
	int r;

	d->ctx = l->ctx;
	d->mode = l->mode;
	d->slot = l->slot;
	memcpy(d->role, l->role, sizeof(d->role));
	r = plan_volumes(d);
	if (r < 0)
		return r;
	r = secret_alloc(&d->keys_buf, sizeof(struct keys));
	if (r < 0 || !d->keys_buf.data)
		return log_error_errno(r < 0 ? r : -ENOMEM, "Cannot allocate locked memory for keys: %m");
	return unlock_volumes(d);
}

const struct stage stage_emt_late = { .name = "emt-late", .run = emt_late_run, .discard = emt_keys_discard };

