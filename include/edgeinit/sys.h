/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The one seam for side effects. Everything that changes the machine (mounts, device-mapper,
 * module insertion, block probing, chroot, exec, reboot) goes through these operations, so that
 * stage tests can hand in a recording fake and a temporary directory as "/". All paths passed
 * here are absolute paths on the machine (the real implementation) or below the fake root. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edgeinit/devref.h"
#include "edgeinit/hash.h"

struct tpm2_token;
struct measure_digest;

/* What to unseal: a systemd-tpm2 token's sealed object, or EMT's persistent sealed object. */
struct tpm2_unseal_request {
	const struct tpm2_token *token; /* NULL: emt_handle */
	uint32_t emt_handle;            /* EMT: keyed-hash object, PolicyPCR sha256:15 */
	const uint8_t *pin_auth;        /* authValue derived from a PIN, or NULL */
	size_t pin_auth_size;
};

#define LUKS_VOLUME_KEY_MAX 128

#define LUKS_REJECT_REASON_MAX 192

struct luks_info {
	char uuid[37];
	/* Why the header is refused before any key is offered to it (a keyslot or segment cipher
	 * outside the allow-list, cipher_null, a PBKDF cost above the bound...), "" if acceptable. */
	char rejected[LUKS_REJECT_REASON_MAX];
	/* The most memory a keyslot's PBKDF needs (argon2), in KiB; 0 for PBKDF2. Bounds how many
	 * keyslots are opened at once. */
	uint32_t pbkdf_memory_kib;
};

struct verity_activation {
	const char *name;        /* mapper name, e.g. rootfs_verity */
	const char *data_node;   /* /dev/vda2 */
	const char *hash_node;   /* /dev/vda4 */
	const uint8_t *roothash;
	size_t roothash_size;
	uint32_t flags;          /* CRYPT_ACTIVATE_* from libcryptsetup */
};

/* File systems (mount(2), umount2(2), chroot(2)). */
struct sys_fs_ops {
	int (*mount)(const char *source, const char *target, const char *fstype,
		     unsigned long flags, const char *data);
	int (*umount)(const char *target, int flags);
	int (*chroot)(const char *path);
};

/* Devices: kernel modules (libkmod), uevents (netlink), block probing (libblkid). */
struct sys_dev_ops {
	/* Load a kernel module by name or alias with its dependencies (libkmod). 0 if loaded or
	 * built in, -ENOENT if no module matches. */
	int (*load_module)(const char *name_or_alias);
	/* Start loading modules in the background, in this order, at the lowest CPU priority
	 * (SCHED_IDLE: while the boot waits for a device, the disk or the TPM, or on another core).
	 * load_module() of a name on this list waits for its turn and returns its result. 0, or
	 * -errno when nothing was started (the names are then loaded when asked for). */
	int (*load_modules_background)(const char *const *names, size_t n);
	/* End the background loading: with skip_rest, the modules not started yet are not loaded.
	 * Bounded; 0 or -ETIMEDOUT (a module's init still running). */
	int (*load_modules_finish)(bool skip_rest);
	/* Open a kernel uevent socket (NETLINK_KOBJECT_UEVENT); returns an fd. */
	int (*uevent_open)(void);
	/* libblkid: fill tags for a block device node. The partition entry (PARTLABEL, PARTUUID)
	 * is always read; file system superblocks (UUID, LABEL, TYPE) only if superblocks is set,
	 * since trying every superblock type is most of the cost of a probe. */
	int (*probe_block)(const char *devnode, bool superblocks, struct blockdev_tags *tags);
};

/* Device mapper (libcryptsetup for verity, libdevmapper). */
struct sys_dm_ops {
	/* Activate a dm-verity mapping. */
	int (*verity_activate)(const struct verity_activation *a);
	/* Hex root hash of an active verity mapping; -ENODEV if there is none. */
	int (*verity_active_roothash)(const char *name, char *hex, size_t size);
	/* A linear mapping name over all of node (EMT's root on plain images). */
	int (*linear)(const char *name, const char *node);
};

/* TPM 2.0 through tpm2-tss ESAPI and the device TCTI. */
struct sys_tpm_ops {
	/* 0, or -ENOENT when the device node does not exist (yet). */
	int (*open)(const char *device);
	/* Unseal into secret (size bytes), returns the length. -EPERM: the policy (PCRs) does not
	 * match, refused before Unseal; -ENOENT: no such object; -EACCES: lockout or wrong PIN;
	 * -EIO: anything else from the TPM. The salted, parameter-encrypted session proves the TPM
	 * holds the expected parent key. */
	int (*unseal)(const struct tpm2_unseal_request *req, uint8_t *secret, size_t size);
	/* Does the TPM hold a persistent object at handle? 1 yes, 0 no, -errno. */
	int (*object_exists)(uint32_t handle);
	/* Finalize the TPM context (tss2's buffers freed); later TPM calls reopen nothing. */
	void (*close)(void);
	/* The active PCR banks (with all 24 PCRs); returns the count. */
	int (*banks)(enum hash_alg *banks, size_t max);
	/* Extend PCR pcr with one digest per bank. */
	int (*extend)(unsigned pcr, const struct measure_digest *digests, size_t n);
};

/* LUKS2 through libcryptsetup. */
struct sys_luks_ops {
	/* -EMEDIUMTYPE if node holds no LUKS2 header. */
	int (*inspect)(const char *node, struct luks_info *info);
	/* JSON of token slot token into buf; returns its length, -ENOENT for an empty slot. */
	int (*token_json)(const char *node, int token, char *buf, size_t size);
	/* Unlock keyslot (or -1: any) with the passphrase: the volume key, nothing activated yet
	 * (the stage latches it into PCR 15). -EPERM: wrong passphrase. The expensive half (the
	 * keyslot's PBKDF): may run concurrently for different nodes. */
	int (*derive_key)(const char *node, int keyslot, const char *pass, size_t pass_len,
			  uint8_t *volume_key, size_t *volume_key_size);
	/* Activate node as /dev/mapper/name with its volume key. */
	int (*activate_key)(const char *node, const char *name, const uint8_t *volume_key,
			    size_t volume_key_size);
};

/* The machine and its operator: power, and the console prompt. */
struct sys_machine_ops {
	/* reboot(2) with RB_* */
	int (*reboot)(int cmd);
	/* Ask on the console without echo; returns the length, -ETIMEDOUT after timeout_sec (0:
	 * wait as long as it takes), -ECANCELED at end of input. */
	int (*ask_password)(const char *prompt, char *buf, size_t size, unsigned timeout_sec);
};

/* The seam, by concern: a stage reaches only the part it needs (ctx->sys->tpm->unseal), and a
 * test fake can replace one part and keep the others. */
struct sys_ops {
	const struct sys_fs_ops *fs;
	const struct sys_dev_ops *dev;
	const struct sys_dm_ops *dm;
	const struct sys_tpm_ops *tpm;
	const struct sys_luks_ops *luks;
	const struct sys_machine_ops *machine;
};

/* The machine. Implemented in init/sys_real.c. */
extern const struct sys_ops sys_real;
