/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stage modules.
 * Reads: ctx->opts; /sys/bus/<bus>/devices/<dev>/modalias below ctx->root.
 * Writes: the device manager's uevent socket (opened first, so that no device added from here on
 *   is missed by the devices stage) and its drivers loaded.
 * Side effects: inserts kernel modules through the device manager (libkmod, in-process):
 *   the modules the boot path needs, then a driver for every device already present (coldplug,
 *   by modalias), repeated until no new device appears (loading a bus driver such as virtio_pci
 *   adds devices that need drivers of their own). First it starts the background loading of
 *   what later stages need (modules.d/luks.list, then the file systems of modules.d/fs.list the
 *   kernel does not know yet): it runs only while the boot waits (for devices, the disk, the
 *   TPM), and a stage that needs one of them waits for its turn (the switch-root stage ends it).
 * Fails: if a module the boot path needs is neither built in nor in the initrd. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "edgeinit/fs.h"
#include "edgeinit/log.h"
#include "edgeinit/stage.h"
#include "edgeinit/strutil.h"

/* Modules the boot path needs whatever the hardware; device drivers come from coldplug. The list
 * is data (modules.d/boot.list, which edgeinit-mkinitrd also reads); the build turns it into
 * initializers. */
static const struct required_module {
	const char *name;
	const char *why;
} required_modules[] = {
#include "modlist_boot.h"
#ifdef EDGEINIT_CRYPTO_BACKEND_KERNEL
#include "modlist_crypto-kernel.h"
#endif
};

/* Loaded in the background, in the order the stages need them: the unlock paths' (dm_crypt
 * and its ciphers), then file systems by their "fs-<type>" alias, as ctx_ensure_filesystem asks. */
static const struct required_module background_modules[] = {
#include "modlist_luks.h"
};
static const struct required_module background_filesystems[] = {
#include "modlist_fs.h"
};

#define COLDPLUG_PASSES_MAX 4

/* One walk over /sys/bus/<bus>/devices/<dev>/modalias; loads drivers for aliases not seen
 * before. Returns the number of new aliases. */
static int coldplug_pass(struct boot_context *ctx)
{
	char path[4096], alias[512];
	DIR *buses, *devs;
	struct dirent *b, *d;
	int new_aliases = 0;

	buses = ctx_opendir(ctx, "/sys/bus");
	if (!buses)
		return log_warning_errno(negative_errno(), "Cannot list '%s', skipping coldplug: %m",
					 "/sys/bus");
	while ((b = readdir(buses))) {
		if (b->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/bus/%s/devices", b->d_name);
		devs = ctx_opendir(ctx, path);
		if (!devs)
			continue;
		while ((d = readdir(devs))) {
			if (d->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/sys/bus/%s/devices/%s/modalias", b->d_name,
				 d->d_name);
			if (ctx_read_file(ctx, path, alias, sizeof(alias)) <= 0)
				continue;
			alias[strcspn(alias, "\n")] = '\0';
			if (!alias[0])
				continue;
			unsigned before = ctx->dev.n_aliases_seen;
			if (devmgr_load_driver(&ctx->dev, alias) > 0)
				log_debug("Loaded driver for %s/%s (%s).", b->d_name, d->d_name, alias);
			new_aliases += ctx->dev.n_aliases_seen > before;
		}
		closedir(devs);
	}
	closedir(buses);
	return new_aliases;
}

static void start_background(struct boot_context *ctx)
{
	char aliases[ELEMENTSOF(background_filesystems)][64]; /* the queue copies names */
	const char *names[ELEMENTSOF(background_modules) + ELEMENTSOF(background_filesystems)];
	size_t n = 0;
	int r;

	for (size_t i = 0; i < ELEMENTSOF(background_modules); i++)
		names[n++] = background_modules[i].name;
	for (size_t i = 0; i < ELEMENTSOF(background_filesystems); i++) {
		if (ctx_filesystem_known(ctx, background_filesystems[i].name))
			continue;
		snprintf(aliases[i], sizeof(aliases[i]), "fs-%s", background_filesystems[i].name);
		names[n++] = aliases[i];
	}
	r = devmgr_load_background(&ctx->dev, names, n);
	if (r < 0)
		log_debug_errno(r, "Cannot load modules in the background, loading them when needed: %m");
}

static int load_modules_run(struct boot_context *ctx)
{
	int r;

	r = devmgr_open(&ctx->dev);
	if (r < 0)
		return log_error_errno(r, "Failed to open the kernel uevent socket: %m");
	start_background(ctx);

	for (size_t i = 0; i < ELEMENTSOF(required_modules); i++) {
		r = devmgr_load_module(&ctx->dev, required_modules[i].name);
		if (r < 0) {
			ctx_set_remedy(ctx,
				       "Build the initrd with module '%s' (edgeinit-mkinitrd --modules, or make initrd EXTRA_MODULES=...) or use a kernel that has it built in.",
				       required_modules[i].name);
			return log_error_errno(r, "Failed to load kernel module '%s' (%s): %m",
					       required_modules[i].name, required_modules[i].why);
		}
	}

	for (int pass = 0; pass < COLDPLUG_PASSES_MAX; pass++) {
		r = coldplug_pass(ctx);
		if (r <= 0)
			break;
	}
	log_debug("Coldplug saw %u device aliases.", ctx->dev.n_aliases_seen);
	log_info("Loaded %u kernel modules.", ctx->dev.modules_loaded);
	return 0;
}

const struct stage stage_modules = { .name = "modules", .run = load_modules_run };
