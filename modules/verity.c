/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stage verity.
 * Reads: the root plan (ctx->rootfs: data and hash devices, the root hash and where it came
 *   from), ctx->opts (systemd.verity_root_options=, the mapper name from root=).
 * Writes: the root plan's node (/dev/mapper/<name>).
 * How: before the kernel sees anything, the root hash is checked against the hash device's
 *   top-level hash block (sha256: hash of salt and block), so a wrong roothash= fails here with a
 *   clear message instead of as I/O errors or a corruption restart later. Then libcryptsetup
 *   activates the mapping read-only with the corruption policy. An existing mapping of that name
 *   is accepted only if its root hash is ours.
 * Also: the real root's systemd reads the same roothash= and would set up its own mapping "root"
 *   (systemd-veritysetup@root.service). With a systemd initrd that is a no-op because "root"
 *   exists; under another name it would fail. A runtime drop-in in /run makes systemd skip it
 *   while our mapping exists.
 * Fails: closed. Any mismatch, unreadable superblock or activation error stops the boot. */
#include <errno.h>
#include <fcntl.h>
#include <libcryptsetup.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "edgeinit/fs.h"
#include "edgeinit/log.h"
#include "edgeinit/stage.h"
#include "edgeinit/strutil.h"
#include "edgeinit/verity.h"

#define VERITY_BLOCK_MAX (1u << 20)

static int read_at(int fd, void *buf, size_t size, uint64_t offset)
{
	size_t done = 0;

	while (done < size) {
		ssize_t n = pread(fd, (char *)buf + done, size - done, (off_t)(offset + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return negative_errno();
		if (n == 0)
			return -EIO; /* short device */
		done += (size_t)n;
	}
	return 0;
}

/* Compare the planned root hash with the one the hash device's top block yields. */
static int check_root_hash(struct boot_context *ctx, const char *hash_node)
{
	const struct root_plan *p = &ctx->rootfs;
	struct verity_superblock sb;
	uint8_t sbuf[VERITY_SUPERBLOCK_SIZE], digest[64];
	_cleanup_free_ uint8_t *block = NULL;
	_cleanup_close_ int fd = -EBADF;
	char want[2 * ROOTHASH_MAX + 1], have[2 * sizeof(digest) + 1];
	int r, n;

	fd = ctx_open(ctx, hash_node, O_RDONLY | O_NOCTTY);
	if (fd < 0)
		return log_error_errno(fd, "Failed to open the verity hash device '%s': %m",
				       hash_node);
	r = read_at(fd, sbuf, sizeof(sbuf), 0);
	if (r < 0)
		return log_error_errno(r, "Failed to read the verity superblock of '%s': %m", hash_node);
	r = verity_superblock_parse(sbuf, sizeof(sbuf), &sb);
	if (r < 0) {
		ctx_set_remedy(ctx,
			       "Point systemd.verity_root_hash= at the partition written by 'veritysetup format' (with its superblock).");
		return log_error_errno(r, "'%s' has no valid dm-verity superblock.", hash_node);
	}
	if (sb.data_blocks == 1) {
		log_notice("One-block verity device: the root hash is not pre-checked; the kernel verifies it.");
		return 0;
	}
	block = malloc(sb.hash_block_size);
	if (!block)
		return log_error_errno(-ENOMEM, "Out of memory.");
	r = read_at(fd, block, sb.hash_block_size, verity_top_block_offset(&sb));
	if (r < 0)
		return log_error_errno(r, "Failed to read the top hash block of '%s': %m", hash_node);

	n = verity_root_hash_of_top_block(&sb, block, sb.hash_block_size, digest, sizeof(digest));
	if (n == -EOPNOTSUPP) {
		log_notice("Hash algorithm '%s' is not pre-checked; the kernel verifies every block.",
			   sb.algorithm);
		return 0;
	}
	if (n < 0)
		return log_error_errno(n, "Failed to compute the root hash of '%s': %m", hash_node);

	hex_encode(p->roothash, p->roothash_size, want, sizeof(want));
	hex_encode(digest, (size_t)n, have, sizeof(have));
	if ((size_t)n != p->roothash_size || memcmp(digest, p->roothash, (size_t)n) != 0) {
		ctx_set_remedy(ctx,
			       "The UKI and the root file system do not belong together: boot the UKI built for this image, or rebuild the UKI with the root hash 'veritysetup format' printed for it.");
		return log_error_errno(-EBADMSG,
				       "Root hash mismatch: roothash=%s %s, but the hash device %s yields %s. Refusing to boot an unverified root.",
				       want, streq(p->roothash_source, "cmdline") ? "on the kernel command line" : "from the roothash partition",
				       hash_node, have);
	}
	log_debug("Root hash %s matches the top hash block of %s.", want, hash_node);
	return 0;
}

static uint32_t activation_flags(const struct boot_options *o)
{
	uint32_t flags = CRYPT_ACTIVATE_READONLY;

	switch (o->verity_corruption) {
	case VERITY_CORRUPTION_RESTART:
		flags |= CRYPT_ACTIVATE_RESTART_ON_CORRUPTION;
		break;
	case VERITY_CORRUPTION_PANIC:
		flags |= CRYPT_ACTIVATE_PANIC_ON_CORRUPTION;
		break;
	case VERITY_CORRUPTION_IGNORE:
		flags |= CRYPT_ACTIVATE_IGNORE_CORRUPTION;
		break;
	case VERITY_CORRUPTION_EIO:
		break;
	}
	if (o->verity_ignore_zero_blocks)
		flags |= CRYPT_ACTIVATE_IGNORE_ZERO_BLOCKS;
	if (o->verity_check_at_most_once)
		flags |= CRYPT_ACTIVATE_CHECK_AT_MOST_ONCE;
	return flags;
}

static int skip_systemd_veritysetup(struct boot_context *ctx, const char *name)
{
	static const char *const dirs[] = { "/run/systemd", "/run/systemd/system",
					    "/run/systemd/system/systemd-veritysetup@root.service.d" };
	char content[512];
	int r;

	if (streq(name, "root"))
		return 0;
	for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
		r = ctx_mkdir(ctx, dirs[i], 0755);
		if (r < 0)
			return r;
	}
	snprintf(content, sizeof(content),
		 "# Written by edgeinit: it verified and activated the root as /dev/mapper/%s.\n"
		 "[Unit]\nConditionPathExists=!/dev/mapper/%s\n",
		 name, name);
	return ctx_write_new_file(ctx, "/run/systemd/system/systemd-veritysetup@root.service.d/50-edgeinit.conf",
				  content);
}

static int verity_run(struct boot_context *ctx)
{
	const struct boot_options *o = &ctx->opts;
	const char *name = o->root_mapper_name;
	char want[2 * ROOTHASH_MAX + 1], active[2 * ROOTHASH_MAX + 1];
	struct verity_activation a = {
		.name = name,
		.data_node = ctx->rootfs.data_node,
		.hash_node = ctx->rootfs.hash_node,
		.roothash = ctx->rootfs.roothash,
		.roothash_size = ctx->rootfs.roothash_size,
		.flags = activation_flags(o),
	};
	int r;

	if (ctx->emt_done && ctx->emt_mode == EMT_MODE_PLAIN)
		return STAGE_RUN_SKIPPED; /* an unprovisioned EMT image: the emt stage mapped the root linearly */
	/* The table runs a disk stage first; checked all the same, so that no order of stages can
	 * activate a root without the planned hash. */
	if (!ctx->rootfs.roothash_source || ctx->rootfs.roothash_size == 0 || !ctx->rootfs.hash_node[0]) {
		ctx_set_remedy(ctx, "This is a bug in edgeinit's stage table: report it.");
		return log_error_errno(-EBADMSG, "No root file system was planned before the verity stage. Refusing to boot an unverified root.");
	}
	snprintf(ctx->rootfs.node, sizeof(ctx->rootfs.node), "/dev/mapper/%s", name);
	hex_encode(ctx->rootfs.roothash, ctx->rootfs.roothash_size, want, sizeof(want));

	r = ctx->sys->dm->verity_active_roothash(name, active, sizeof(active));
	if (r >= 0) {
		if (strcasecmp(active, want) != 0) {
			ctx_set_remedy(ctx, "Something set up '%s' before edgeinit; remove it from the initrd.",
				       name);
			return log_error_errno(-EBADMSG,
					       "Mapping '%s' already exists with root hash %s, not roothash=%s. Refusing to boot.",
					       name, active, want);
		}
		log_info("Mapping '%s' already exists with the expected root hash, using it.", name);
		(void)skip_systemd_veritysetup(ctx, name);
		return 0;
	}
	if (r != -ENODEV)
		return log_error_errno(r, "Cannot inspect existing mapping '%s': %m", name);

	r = check_root_hash(ctx, ctx->rootfs.hash_node);
	if (r < 0)
		return r;

	r = ctx->sys->dm->verity_activate(&a);
	if (r < 0) {
		ctx_set_remedy(ctx,
			       "Check that the data and hash partitions are the pair 'veritysetup format' produced, and that the initrd has dm-verity.");
		return log_error_errno(r, "Failed to activate dm-verity '%s' (data %s, hash %s): %m", name,
				       ctx->rootfs.data_node, ctx->rootfs.hash_node);
	}
	log_info("Activated dm-verity '%s' (data %s, hash %s, on corruption: %s).", name,
		 ctx->rootfs.data_node, ctx->rootfs.hash_node,
		 verity_corruption_mode_to_string(o->verity_corruption));
	r = skip_systemd_veritysetup(ctx, name);
	if (r < 0)
		log_warning_errno(r, "Cannot tell systemd that the verity root is active, ignoring: %m");
	return 0;
}

const struct stage stage_verity = { .name = "verity", .run = verity_run };
