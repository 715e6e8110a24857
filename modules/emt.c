/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stage emt: a disk EMT's installer provisioned, booted with EMT's command line unchanged.
 * Runs: in the EMT profile (boot_uuid= on the command line, no verity partitions).
 * Reads: ctx->os_disk (the devices stage), the devices seen (ctx->dev), ctx->opts (boot_uuid=,
 *   roothash=, rd.luks.*, edgeinit.tpm2.emt-handle=), ctx->tpm.present.
 * Writes: the root plan (ctx->rootfs: the slot's verity pair, the root hash from roothash= or
 *   else the roothash partition, and where it came from; the root node for plain images),
 *   ctx->persist_node, the report's EMT fields and devices.
 * How: roles by GPT name, EMT's partition numbers as the fallback; the mode from partition 2
 *   (LUKS2: FDE; a "hashmap_a" partition: verity-only; else plain); the slot whose LUKS or ext4
 *   UUID is boot_uuid=. FDE: the key pool (emt_keys.c) opens the volumes. The root hash file is
 *   read from the roothash file system mounted read-only without its journal.
 * Trust: partitions, headers and the roothash file system come from a disk an attacker may have
 *   rewritten. The mode is read from the disk, so a TPM that holds EMT's sealed key makes any mode
 *   but FDE fatal (a downgrade), and the other modes lock the TPM down before anything is mounted.
 *   The key pool's guarantees are in emt_keys.c.
 * Fails: closed, within seconds: boot_uuid= matching no slot, a missing partition the mode
 *   needs, a downgraded mode, a refused header, no key for a volume the boot needs, an unreadable
 *   root hash file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "edgeinit/fs.h"
#include "edgeinit/log.h"
#include "edgeinit/secret.h"
#include "edgeinit/strutil.h"
#include "emt_private.h"
#include "unlock.h"

#define ROOTHASH_MOUNT_DIR "/run/edgeinit/roothash"

static const char *role_label(const struct emt_layout *d, enum emt_role role, char *buf, size_t size)
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
	return devmgr_probe_superblocks(&ctx->dev, devs[index]) >= 0 && streq(devs[index]->tags.type, "DM_verity_hash");
}

/* Roles and mode from the OS disk's partitions. */
static int find_roles(struct emt_layout *d)
{
	struct boot_context *ctx = d->ctx;
	struct emt_partition parts[BLOCKDEV_SEEN_MAX];
	struct blockdev *devs[BLOCKDEV_SEEN_MAX];
	int index[_EMT_ROLE_MAX];
	size_t n = 0;
	bool has_hashmap = false;

	for (unsigned i = 0; i < ctx->dev.n_seen; i++) {
		struct blockdev *b = &ctx->dev.seen[i];

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
	(void)devmgr_probe_superblocks(&ctx->dev, devs[index[EMT_ROOTFS_A]]);
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

static int select_slot(struct emt_layout *d)
{
	struct boot_context *ctx = d->ctx;
	struct blockdev *a = d->role[EMT_ROOTFS_A], *b = d->role[EMT_ROOTFS_B];
	const char *what = d->mode == EMT_MODE_FDE ? "LUKS" : "file system";
	char la[64], lb[64];

	if (b)
		(void)devmgr_probe_superblocks(&ctx->dev, b);
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
static int check_required(struct emt_layout *d)
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

static int read_roothash_file(struct boot_context *ctx, const char *file, char *buf, size_t size)
{
	_cleanup_close_ int dfd = ctx_open(ctx, ROOTHASH_MOUNT_DIR, O_RDONLY | O_DIRECTORY);
	_cleanup_close_ int fd = -EBADF;
	struct stat st;
	ssize_t n;

	if (dfd < 0)
		return dfd;
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
static int read_roothash(struct emt_layout *d, const char *node)
{
	struct boot_context *ctx = d->ctx;
	struct root_plan *p = &ctx->rootfs;
	const char *file = d->slot == 'a' ? "part_a_roothash" : "part_b_roothash";
	struct blockdev_tags tags;
	char dev[512], dir[512], buf[512];
	bool journaled;
	int r, n;

	ctx_path(ctx, node, dev, sizeof(dev));
	ctx_path(ctx, ROOTHASH_MOUNT_DIR, dir, sizeof(dir));
	r = ctx->sys->dev->probe_block(dev, true, &tags);
	if (r < 0 || !tags.type[0]) {
		ctx_set_remedy(ctx, "Restore the roothash partition (an ext4 with %s) or put roothash= on the UKI's command line.", file);
		return log_error_errno(r < 0 ? r : -EMEDIUMTYPE, "No file system on the roothash partition %s.", node);
	}
	r = ctx_ensure_filesystem(ctx, tags.type);
	if (r >= 0)
		r = ctx_mkdir(ctx, ROOTHASH_MOUNT_DIR, 0700);
	if (r < 0)
		return log_error_errno(r, "Cannot prepare to mount %s (%s): %m", node, tags.type);
	journaled = streq(tags.type, "ext4") || streq(tags.type, "ext3");
	r = ctx->sys->fs->mount(dev, dir, tags.type, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			    journaled ? "noload" : NULL);
	if (r < 0) {
		ctx_set_remedy(ctx, "Check the roothash partition %s; the kernel log above has the file system's reason.", node);
		return log_error_errno(r, "Cannot mount the roothash partition %s read-only: %m", node);
	}
	n = read_roothash_file(ctx, file, buf, sizeof(buf));
	r = ctx->sys->fs->umount(dir, 0);
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
	n = emt_roothash_parse(buf, (size_t)n, p->roothash, sizeof(p->roothash));
	if (n < 0) {
		ctx_set_remedy(ctx, "Restore %s (the hex root hash 'veritysetup format' printed) or put roothash= on the UKI's command line.", file);
		return log_error_errno(n, "%s on %s is not a root hash.", file, node);
	}
	p->roothash_size = (size_t)n;
	return 0;
}

static const char *volume_node(const struct emt_layout *d, enum emt_role role, char *buf, size_t size)
{
	if (d->mode == EMT_MODE_FDE)
		snprintf(buf, size, "/dev/mapper/%s", emt_role_info(role)->mapper_name);
	else
		str_copy(buf, size, d->role[role]->node);
	return buf;
}

static int plain_root(struct emt_layout *d)
{
	struct boot_context *ctx = d->ctx;
	const char *data = d->role[slot_data_role(d->slot)]->node;
	const char *name = ctx->opts.root_mapper_name;
	char dev[512];
	int r;

	(void)devmgr_load_driver(&ctx->dev, "dm_mod");
	ctx_path(ctx, data, dev, sizeof(dev));
	r = ctx->sys->dm->linear(name, dev);
	if (r < 0) {
		ctx_set_remedy(ctx, "Check that the initrd has device-mapper (dm_mod).");
		return log_error_errno(r, "Cannot map %s as /dev/mapper/%s: %m", data, name);
	}
	snprintf(ctx->rootfs.node, sizeof(ctx->rootfs.node), "/dev/mapper/%s", name);
	snprintf(ctx->report.warning, sizeof(ctx->report.warning),
		 "unprovisioned EMT image: the root %s is not verified", data);
	log_warning("Unprovisioned EMT image: the root %s is mapped as /dev/mapper/%s without dm-verity; nothing verifies it.",
		    data, name);
	return 0;
}

/* The mode comes from the disk. A TPM holding EMT's sealed key was provisioned for FDE: a disk
 * whose partition 2 is not LUKS2 next to it was rewritten. Other modes lock the TPM down before
 * anything from the disk is mounted. */
static int refuse_downgrade(struct emt_layout *d)
{
	struct boot_context *ctx = d->ctx;
	uint32_t handle = ctx->opts.tpm2_emt_handle;
	int r;

	if (d->mode == EMT_MODE_FDE || !ctx->tpm.present)
		return 0;
	if (handle) {
		r = ctx->sys->tpm->object_exists(handle);
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
	struct emt_layout layout = { 0 }, *d = &layout;
	char hex[2 * ROOTHASH_MAX + 1], node[DEVNODE_MAX];
	bool from_cmdline = ctx->opts.roothash_size > 0;
	int r;

	emt_keys_reset();
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
		ctx->rootfs.roothash_source = ctx->report.roothash_source = "none";
		r = plain_root(d);
		ctx->emt_done = r >= 0;
		return r;
	}
	if (d->mode == EMT_MODE_FDE) {
		r = emt_keys_open(d);
		if (r < 0)
			return r;
	}

	volume_node(d, slot_data_role(d->slot), ctx->rootfs.data_node, sizeof(ctx->rootfs.data_node));
	volume_node(d, slot_hash_role(d->slot), ctx->rootfs.hash_node, sizeof(ctx->rootfs.hash_node));
	if (from_cmdline) {
		root_plan_hash_from_cmdline(&ctx->rootfs, &ctx->opts);
		log_info("Root hash from roothash= on the command line (the roothash partition is not read).");
	} else {
		r = read_roothash(d, volume_node(d, EMT_ROOTHASH, node, sizeof(node)));
		if (r < 0)
			return r;
		hex_encode(ctx->rootfs.roothash, ctx->rootfs.roothash_size, hex, sizeof(hex));
		if (d->mode == EMT_MODE_FDE)
			ctx->rootfs.roothash_source = "roothash-partition-encrypted";
		else {
			ctx->rootfs.roothash_source = "roothash-partition-unauthenticated";
			snprintf(ctx->report.warning, sizeof(ctx->report.warning),
				 "the root hash comes from an unauthenticated partition; put roothash=%s on the signed UKI's command line",
				 hex);
			log_warning("The root hash comes from %s, which nothing authenticates: put roothash=%s on the signed UKI's command line.",
				    d->role[EMT_ROOTHASH]->node, hex);
		}
		log_info("Root hash of slot %c from the roothash partition: %s.", d->slot, hex);
	}
	ctx->report.roothash_source = ctx->rootfs.roothash_source;
	ctx->emt_done = true;
	return 0;
}

const struct stage stage_emt = { .name = "emt", .run = emt_run, .discard = emt_keys_discard };
