/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stage emt: a disk EMT's installer provisioned, booted with EMT's command line unchanged.
 * Runs: in the EMT profile (boot_uuid= on the command line, no verity partitions); a no-op
 *   otherwise.
 * Reads: ctx->os_disk and ctx->seen (the devices stage), ctx->opts (boot_uuid=, roothash=,
 *   rd.luks.*, edgeinit.tpm2.emt-handle=), ctx->tpm_present.
 * Writes: ctx->verity_data_node, ctx->verity_hash_node, ctx->persist_node, ctx->opts.roothash
 *   (from the roothash partition unless roothash= was given), ctx->root_node for plain images,
 *   the report's EMT fields and devices.
 * How: roles by GPT name, EMT's partition numbers as the fallback; the mode from partition 2
 *   (LUKS2: FDE; a "hashmap_a" partition: verity-only; else plain); the slot whose LUKS or ext4
 *   UUID is boot_uuid=. FDE: the key is unsealed once; the volumes the slot needs are opened
 *   under the names EMT's update tool relies on, the keyslots' PBKDFs in parallel threads
 *   (bounded by CPUs and available memory); the others (the inactive slot, swap, LVM, other
 *   disks) are derived in a background thread while the boot goes on. Stage emt-late, before
 *   leave-initrd, activates them and latches every volume key into PCR 15, so the sealed
 *   passphrase cannot be unsealed after switch_root. The root hash file is read from the
 *   roothash file system mounted read-only without its journal.
 * Trust: partitions, headers and the roothash file system come from a disk an attacker may have
 *   rewritten. The mode is read from the disk, so a TPM that holds EMT's sealed key makes any mode
 *   but FDE fatal (a downgrade), and the other modes lock the TPM down before anything is mounted.
 *   Every LUKS2 header passes the allow-list before a key is offered; the key opens all of the
 *   slot's volumes or none is opened; a key the TPM released that fits nothing stops the boot
 *   without a prompt; PCR 15 moves right after the unseal; the background derivation has a
 *   deadline and the fatal path never waits for it.
 * Fails: closed, within seconds: boot_uuid= matching no slot, a missing partition the mode
 *   needs, a downgraded mode, a refused header, no key for a volume the boot needs, an unreadable
 *   root hash file; emt-late only when the PCR 15 latch fails after a key sealed to PCR 15 was
 *   used. */
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
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "edgeinit/fs.h"
#include "edgeinit/log.h"
#include "edgeinit/secret.h"
#include "edgeinit/strutil.h"
#include "unlock.h"

#define ROOTHASH_MOUNT_DIR "/run/edgeinit/roothash"
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
	struct blockdev *role[_EMT_ROLE_MAX];
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
	atomic_bool abandon;              /* workers take no new job */
};

/* Between the emt and emt-late stages; reset by each emt stage run. */
static struct emt_disk emt;
/* Background threads still running, abandoned ones included: a new emt run (stage tests run
 * many) must not reset the state one of them still reads. */
static atomic_int background_live;

static enum emt_role slot_data_role(char slot) { return slot == 'a' ? EMT_ROOTFS_A : EMT_ROOTFS_B; }
static enum emt_role slot_hash_role(char slot) { return slot == 'a' ? EMT_HASHMAP_A : EMT_HASHMAP_B; }

static const char *role_label(const struct emt_disk *d, enum emt_role role, char *buf, size_t size)
{
	const struct emt_role_info *ri = emt_role_info(role);
	unsigned number = d->mode == EMT_MODE_PLAIN ? ri->plain_number : ri->number;

	snprintf(buf, size, "partition %u (%s)", number, ri->gpt_name);
	return buf;
}

/* EMT's script asks for the name "hashmap_a"; on a disk without names, partition 4 shows a
 * verity superblock (on plain disks it is rootfs_b). */
static bool hashmap_by_superblock(struct boot_context *ctx, struct blockdev **devs, size_t n, int index)
{
	if (index < 0 || (size_t)index >= n || devs[index]->tags.partlabel[0])
		return false;
	return ctx_probe_superblocks(ctx, devs[index]) >= 0 && streq(devs[index]->tags.type, "DM_verity_hash");
}

/* Roles and mode from the OS disk's partitions. */
static int find_roles(struct emt_disk *d)
{
	struct boot_context *ctx = d->ctx;
	struct emt_partition parts[BLOCKDEV_SEEN_MAX];
	struct blockdev *devs[BLOCKDEV_SEEN_MAX];
	int index[_EMT_ROLE_MAX];
	size_t n = 0;
	bool has_hashmap = false;

	for (unsigned i = 0; i < ctx->n_seen; i++) {
		struct blockdev *b = &ctx->seen[i];

		if (!b->partn || !streq(b->disk, ctx->os_disk))
			continue;
		parts[n] = (struct emt_partition){ .number = b->partn, .gpt_name = b->tags.partlabel };
		devs[n++] = b;
		if (streq(b->tags.partlabel, emt_role_info(EMT_HASHMAP_A)->gpt_name))
			has_hashmap = true;
	}
	/* Partition 2 (or "rootfs") decides the mode, in either numbering. */
	emt_assign_roles(parts, n, EMT_MODE_FDE, index);
	if (index[EMT_ROOTFS_A] < 0) {
		ctx_set_remedy(ctx, "Boot a disk EMT's installer provisioned, or use roothash= and the verity partitions instead of boot_uuid=.");
		return log_error_errno(-ENODEV, "/dev/%s has no partition 2 or 'rootfs': not an EMT disk.",
				       ctx->os_disk);
	}
	/* The one superblock the mode needs; the devices stage read partition entries only. */
	(void)ctx_probe_superblocks(ctx, devs[index[EMT_ROOTFS_A]]);
	if (streq(devs[index[EMT_ROOTFS_A]]->tags.type, "crypto_LUKS"))
		d->mode = EMT_MODE_FDE;
	else if (has_hashmap || hashmap_by_superblock(ctx, devs, n, index[EMT_HASHMAP_A]))
		d->mode = EMT_MODE_VERITY;
	else
		d->mode = EMT_MODE_PLAIN;
	emt_assign_roles(parts, n, d->mode, index);
	for (int r = 0; r < _EMT_ROLE_MAX; r++)
		d->role[r] = index[r] >= 0 ? devs[index[r]] : NULL;
	return 0;
}

static int select_slot(struct emt_disk *d)
{
	struct boot_context *ctx = d->ctx;
	struct blockdev *a = d->role[EMT_ROOTFS_A], *b = d->role[EMT_ROOTFS_B];
	const char *what = d->mode == EMT_MODE_FDE ? "LUKS" : "file system";
	char la[64], lb[64];

	if (b)
		(void)ctx_probe_superblocks(ctx, b);
	if (a && strcasecmp(a->tags.uuid, ctx->opts.boot_uuid) == 0)
		d->slot = 'a';
	else if (b && strcasecmp(b->tags.uuid, ctx->opts.boot_uuid) == 0)
		d->slot = 'b';
	if (d->slot)
		return 0;
	ctx_set_remedy(ctx,
		       "This UKI belongs to another device or image: boot_uuid= must be the %s UUID of the slot's root partition (shown above). Boot the UKI built for this disk, or reinstall it.",
		       what);
	return log_error_errno(-ENODEV,
			       "boot_uuid=%s matches no slot on /dev/%s: %s has %s UUID %s, %s has %s.",
			       ctx->opts.boot_uuid, ctx->os_disk, role_label(d, EMT_ROOTFS_A, la, sizeof(la)),
			       what, a && a->tags.uuid[0] ? a->tags.uuid : "none",
			       role_label(d, EMT_ROOTFS_B, lb, sizeof(lb)),
			       b ? (b->tags.uuid[0] ? b->tags.uuid : "no UUID") : "no such partition");
}

/* The partitions this mode cannot boot without. */
static int check_required(struct emt_disk *d)
{
	struct boot_context *ctx = d->ctx;
	enum emt_role need[4];
	size_t n = 0;
	char label[64];

	need[n++] = EMT_PERSIST;
	if (d->mode != EMT_MODE_PLAIN) {
		need[n++] = slot_hash_role(d->slot);
		if (ctx->opts.roothash_size == 0)
			need[n++] = EMT_ROOTHASH;
	}
	for (size_t i = 0; i < n; i++) {
		if (d->role[need[i]])
			continue;
		role_label(d, need[i], label, sizeof(label));
		ctx_set_remedy(ctx, "The disk lost a partition EMT's installer made; reinstall the device or restore its partition table.");
		return log_error_errno(-ENODEV, "EMT %s disk /dev/%s has no %s, which slot %c needs.",
				       emt_mode_to_string(d->mode), ctx->os_disk, label, d->slot);
	}
	return 0;
}

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
	r = ctx->sys->luks_inspect(dev->node, &v->info);
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
	       ctx_probe_superblocks(ctx, b) >= 0 && streq(b->tags.type, "crypto_LUKS");
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
	for (unsigned i = 0; i < ctx->n_seen; i++) {
		struct blockdev *b = &ctx->seen[i];
		const struct blockdev *first = b;
		char name[LUKS_NAME_MAX];

		if (!other_disk_luks(ctx, b))
			continue;
		for (unsigned j = 0; j < ctx->n_seen; j++)
			if (other_disk_luks(ctx, &ctx->seen[j]) && streq(ctx->seen[j].disk, b->disk) &&
			    ctx->seen[j].partn < first->partn)
				first = &ctx->seen[j];
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
	char path[512], buf[4096];
	const char *p;
	unsigned long long kib;
	int n;

	ctx_path(ctx, "/proc/meminfo", path, sizeof(path));
	n = read_small_file(path, buf, sizeof(buf));
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

		d->k->volume_key_size[i] = sizeof(d->k->volume_key[i]);
		v->result = d->ctx->sys->luks_derive_key(v->dev->node, d->keyslot, d->pass, d->pass_len,
							 d->k->volume_key[i], &d->k->volume_key_size[i]);
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
		int r = ctx->sys->luks_activate_key(v->dev->node, v->name, u->k->volume_key[i],
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

/* The fatal path: never waits. Keys are wiped now; a derivation still running is abandoned (its
 * buffer stays allocated, wiped, until the reboot). */
void emt_discard_keys(void)
{
	if (emt.background_running) {
		atomic_store(&emt.abandon, true);
		if (emt.keys_buf.data)
			explicit_bzero(emt.keys_buf.data, emt.keys_buf.size);
		(void)pthread_detach(emt.background);
		emt.background_running = false;
		return;
	}
	secret_free(&emt.keys_buf);
}

static int unlock_volumes(struct emt_disk *d)
{
	struct boot_context *ctx = d->ctx;
	const struct boot_options *o = &ctx->opts;
	char where[80];
	struct unlock u = { .ctx = ctx, .name = "EMT's volumes", .where = where,
			    .k = (struct keys *)d->keys_buf.data, .try_passphrase = try_passphrase,
			    .userdata = d };
	bool ok = false;
	size_t deferred = 0;
	pthread_attr_t attr;

	snprintf(where, sizeof(where), "/dev/%s", ctx->os_disk);
	unlock_load_drivers(ctx);
	if (ctx->tpm_present && o->tpm2_emt_handle)
		ok = unlock_with_emt_handle(&u);
	if (!ok && !unlock_without_tpm(&u)) {
		if (u.fatal < 0)
			return u.fatal;
		ctx_set_remedy(ctx,
			       "Type EMT's passphrase (or a recovery key enrolled in every volume) on the console at the next boot; a TPM that refuses belongs to another machine or PCR 15 changed.");
		return log_error_errno(-EKEYREJECTED, "No key opened the volumes /dev/%s needs to boot slot %c.",
				       ctx->os_disk, d->slot);
	}
	ctx->unlocked_with_tpm = u.from_tpm;
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
		return 0;
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
				r = ctx->sys->luks_activate_key(v->dev->node, v->name, k->volume_key[i],
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
	if (ctx->tpm_present && ctx->opts.luks_measure_pcr)
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

const struct stage stage_emt_late = { .name = "emt-late", .run = emt_late_run };

static int read_roothash_file(const char *dir, const char *file, char *buf, size_t size)
{
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int fd = -EBADF;
	struct stat st;
	ssize_t n;

	if (dfd < 0)
		return negative_errno();
	/* A planted symlink must not make us read something else; a FIFO must not block the open
	 * nor a device lie: regular files only. */
	fd = openat(dfd, file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return errno == ELOOP ? -EBADFD : negative_errno();
	if (fstat(fd, &st) < 0)
		return negative_errno();
	if (!S_ISREG(st.st_mode))
		return -EBADFD;
	n = read(fd, buf, size - 1);
	if (n < 0)
		return negative_errno();
	buf[n] = '\0';
	return (int)n;
}

/* Mount the roothash file system read-only, without replaying its journal (that would write),
 * read the slot's file, unmount. */
static int read_roothash(struct emt_disk *d, const char *node)
{
	struct boot_context *ctx = d->ctx;
	struct boot_options *o = &ctx->opts;
	const char *file = d->slot == 'a' ? "part_a_roothash" : "part_b_roothash";
	struct blockdev_tags tags;
	char dev[512], dir[512], buf[512];
	bool journaled;
	int r, n;

	ctx_path(ctx, node, dev, sizeof(dev));
	ctx_path(ctx, ROOTHASH_MOUNT_DIR, dir, sizeof(dir));
	r = ctx->sys->probe_block(dev, true, &tags);
	if (r < 0 || !tags.type[0]) {
		ctx_set_remedy(ctx, "Restore the roothash partition (an ext4 with %s) or put roothash= on the UKI's command line.", file);
		return log_error_errno(r < 0 ? r : -EMEDIUMTYPE, "No file system on the roothash partition %s.", node);
	}
	r = ctx_ensure_filesystem(ctx, tags.type);
	if (r >= 0)
		r = mkdir_exist_ok(dir, 0700);
	if (r < 0)
		return log_error_errno(r, "Cannot prepare to mount %s (%s): %m", node, tags.type);
	journaled = streq(tags.type, "ext4") || streq(tags.type, "ext3");
	r = ctx->sys->mount(dev, dir, tags.type, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			    journaled ? "noload" : NULL);
	if (r < 0) {
		ctx_set_remedy(ctx, "Check the roothash partition %s; the kernel log above has the file system's reason.", node);
		return log_error_errno(r, "Cannot mount the roothash partition %s read-only: %m", node);
	}
	n = read_roothash_file(dir, file, buf, sizeof(buf));
	r = ctx->sys->umount(dir, 0);
	if (r < 0)
		log_warning_errno(r, "Cannot unmount %s, ignoring: %m", dir);
	(void)rmdir(dir);
	if (n == -EBADFD) {
		ctx_set_remedy(ctx, "Treat the disk as tampered with, or restore %s as a file; roothash= on the UKI's command line avoids the partition.", file);
		return log_error_errno(n, "%s on the roothash partition %s is not a regular file.", file, node);
	}
	if (n < 0) {
		ctx_set_remedy(ctx, "Restore %s on the roothash partition, or put roothash= on the UKI's command line.", file);
		return log_error_errno(n, "Cannot read %s from the roothash partition %s: %m", file, node);
	}
	n = emt_roothash_parse(buf, (size_t)n, o->roothash, sizeof(o->roothash));
	if (n < 0) {
		ctx_set_remedy(ctx, "Restore %s (the hex root hash 'veritysetup format' printed) or put roothash= on the UKI's command line.", file);
		return log_error_errno(n, "%s on %s is not a root hash.", file, node);
	}
	o->roothash_size = (size_t)n;
	return 0;
}

static const char *volume_node(const struct emt_disk *d, enum emt_role role, char *buf, size_t size)
{
	if (d->mode == EMT_MODE_FDE)
		snprintf(buf, size, "/dev/mapper/%s", emt_role_info(role)->mapper_name);
	else
		str_copy(buf, size, d->role[role]->node);
	return buf;
}

static int plain_root(struct emt_disk *d)
{
	struct boot_context *ctx = d->ctx;
	const char *data = d->role[slot_data_role(d->slot)]->node;
	const char *name = ctx->opts.root_mapper_name;
	char dev[512];
	int r;

	(void)ctx_load_driver(ctx, "dm_mod");
	ctx_path(ctx, data, dev, sizeof(dev));
	r = ctx->sys->dm_linear(name, dev);
	if (r < 0) {
		ctx_set_remedy(ctx, "Check that the initrd has device-mapper (dm_mod).");
		return log_error_errno(r, "Cannot map %s as /dev/mapper/%s: %m", data, name);
	}
	snprintf(ctx->root_node, sizeof(ctx->root_node), "/dev/mapper/%s", name);
	snprintf(ctx->report.warning, sizeof(ctx->report.warning),
		 "unprovisioned EMT image: the root %s is not verified", data);
	log_warning("Unprovisioned EMT image: the root %s is mapped as /dev/mapper/%s without dm-verity; nothing verifies it.",
		    data, name);
	return 0;
}

/* The mode comes from the disk. A TPM holding EMT's sealed key was provisioned for FDE: a disk
 * whose partition 2 is not LUKS2 next to it was rewritten. Other modes lock the TPM down before
 * anything from the disk is mounted. */
static int refuse_downgrade(struct emt_disk *d)
{
	struct boot_context *ctx = d->ctx;
	uint32_t handle = ctx->opts.tpm2_emt_handle;
	int r;

	if (d->mode == EMT_MODE_FDE || !ctx->tpm_present)
		return 0;
	if (handle) {
		r = ctx->sys->tpm2_object_exists(handle);
		if (r < 0) {
			ctx_set_remedy(ctx, "Check the TPM; without an answer an unencrypted disk is not booted.");
			return log_error_errno(r, "Cannot ask the TPM whether it holds EMT's sealed key (handle 0x%08x): %m", handle);
		}
		if (r > 0) {
			ctx_set_remedy(ctx, "Treat the disk as tampered with. If the device was reinstalled without encryption on purpose, clear the TPM (or evict handle 0x%08x) first.",
				       handle);
			return log_error_errno(-EKEYREJECTED, "The TPM holds EMT's sealed key (handle 0x%08x), but %s is not LUKS2 (EMT %s mode): refusing a disk rewritten without encryption.",
					       handle, d->role[EMT_ROOTFS_A]->node, emt_mode_to_string(d->mode));
		}
	}
	ctx->persist_plain = true; /* mounted nosuid,nodev, its binds too */
	return ctx_tpm_lockdown(ctx, ctx->opts.tpm2_lockdown, "EMT disk without encryption");
}

static int emt_run(struct boot_context *ctx)
{
	struct emt_disk *d = &emt;
	char hex[2 * ROOTHASH_MAX + 1], node[DEVNODE_MAX];
	bool from_cmdline = ctx->opts.roothash_size > 0;
	int r;

	if (ctx->opts.profile != BOOT_PROFILE_EMT)
		return 0;
	emt_discard_keys();
	/* Only after an earlier run in the same process (stage tests): bounded by the PBKDF bounds. */
	for (int i = 0; atomic_load(&background_live) > 0 && i < 3000; i++)
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
	memset(d, 0, sizeof(*d));
	atomic_init(&d->abandon, false);
	d->ctx = ctx;
	r = find_roles(d);
	if (r >= 0)
		r = select_slot(d);
	if (r >= 0)
		r = check_required(d);
	if (r >= 0)
		r = refuse_downgrade(d);
	if (r < 0)
		return r;
	ctx->emt_mode = d->mode;
	ctx->emt_slot = d->slot;
	ctx->report.emt_mode = emt_mode_to_string(d->mode);
	ctx->report.emt_slot[0] = d->slot;
	log_info("EMT %s disk /dev/%s: booting slot %c (%s).", emt_mode_to_string(d->mode), ctx->os_disk,
		 d->slot, d->role[slot_data_role(d->slot)]->node);

	volume_node(d, EMT_PERSIST, ctx->persist_node, sizeof(ctx->persist_node));
	if (d->mode == EMT_MODE_PLAIN) {
		ctx->report.roothash_source = "none";
		r = plain_root(d);
		ctx->emt_done = r >= 0;
		return r;
	}
	if (d->mode == EMT_MODE_FDE) {
		r = plan_volumes(d);
		if (r < 0)
			return r;
		r = secret_alloc(&d->keys_buf, sizeof(struct keys));
		if (r < 0 || !d->keys_buf.data)
			return log_error_errno(r < 0 ? r : -ENOMEM, "Cannot allocate locked memory for keys: %m");
		r = unlock_volumes(d);
		if (r < 0)
			return r;
	}

	volume_node(d, slot_data_role(d->slot), ctx->verity_data_node, sizeof(ctx->verity_data_node));
	volume_node(d, slot_hash_role(d->slot), ctx->verity_hash_node, sizeof(ctx->verity_hash_node));
	if (from_cmdline) {
		ctx->report.roothash_source = "cmdline";
		log_info("Root hash from roothash= on the command line (the roothash partition is not read).");
	} else {
		r = read_roothash(d, volume_node(d, EMT_ROOTHASH, node, sizeof(node)));
		if (r < 0)
			return r;
		hex_encode(ctx->opts.roothash, ctx->opts.roothash_size, hex, sizeof(hex));
		if (d->mode == EMT_MODE_FDE)
			ctx->report.roothash_source = "roothash-partition-encrypted";
		else {
			ctx->report.roothash_source = "roothash-partition-unauthenticated";
			snprintf(ctx->report.warning, sizeof(ctx->report.warning),
				 "the root hash comes from an unauthenticated partition; put roothash=%s on the signed UKI's command line",
				 hex);
			log_warning("The root hash comes from %s, which nothing authenticates: put roothash=%s on the signed UKI's command line.",
				    d->role[EMT_ROOTHASH]->node, hex);
		}
		log_info("Root hash of slot %c from the roothash partition: %s.", d->slot, hex);
	}
	ctx->emt_done = true;
	return 0;
}

const struct stage stage_emt = { .name = "emt", .run = emt_run };
