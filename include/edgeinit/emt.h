/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The disk layout EMT's installer provisions, as pure functions: partition roles by GPT name
 * (EMT's partition numbers as the fallback), the device-mapper names EMT's A/B update tool relies
 * on, partition names, and the root hash files of the roothash partition. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum emt_role {
	EMT_ESP,
	EMT_ROOTFS_A,
	EMT_PERSIST,
	EMT_HASHMAP_A,
	EMT_HASHMAP_B,
	EMT_ROOTFS_B,
	EMT_ROOTHASH,
	EMT_SWAP,
	EMT_TEP,
	EMT_RESERVED,
	EMT_LVM,
	_EMT_ROLE_MAX,
};

/* How the device was provisioned. */
enum emt_mode {
	EMT_MODE_FDE,     /* LUKS2 everywhere (but esp/tep/reserved), dm-verity inside */
	EMT_MODE_VERITY,  /* the same partitions in clear text */
	EMT_MODE_PLAIN,   /* unprovisioned: plain ext4 slots, no hash partitions */
};

struct emt_role_info {
	const char *gpt_name;     /* the GPT partition name EMT writes */
	unsigned number;          /* EMT's partition number with hash partitions (FDE, verity) */
	unsigned plain_number;    /* ... without them (plain images); 0: not on such disks */
	const char *mapper_name;  /* /dev/mapper name when LUKS2 (FDE), NULL: never opened */
};

const struct emt_role_info *emt_role_info(enum emt_role role);
const char *emt_mode_to_string(enum emt_mode mode);

/* One partition of the OS disk, as the devices stage saw it. */
struct emt_partition {
	unsigned number;          /* PARTN */
	const char *gpt_name;     /* PARTLABEL, "" if none */
};

/* Assign roles: a partition whose GPT name is a role's name takes it; a role no name claimed
 * falls back to EMT's number for the mode, if a partition with that number exists and carries no
 * role name of its own. role_index[role] = index into parts, or -1. */
void emt_assign_roles(const struct emt_partition *parts, size_t n, enum emt_mode mode,
		      int role_index[_EMT_ROLE_MAX]);

/* The disk a partition belongs to, from kernel names: vda2 -> vda, nvme0n1p3 -> nvme0n1,
 * mmcblk0p7 -> mmcblk0 (a "p" separates the number when the disk name ends in a digit).
 * -EINVAL if name has no partition number. */
int partition_disk_name(const char *partition, char *disk, size_t size);

/* How many keyslots to open at once: at most one per CPU, and (when the keyslots' PBKDF needs
 * memory, argon2) no more than three quarters of the available memory holds. At least 1;
 * mem_available_kib 0 means unknown (then one at a time when the PBKDF needs memory). */
unsigned emt_parallel_opens(size_t jobs, unsigned cpus, uint64_t mem_available_kib,
			    uint32_t pbkdf_memory_kib);

/* Is this a disk kind EMT installs on (sd*, nvme*, vd*, mmcblk*)? */
bool emt_disk_kind_supported(const char *disk);

/* A root hash file: hex digits (32 to 64 bytes' worth) with optional surrounding white space,
 * nothing else. Returns the number of bytes written to out, or -EBADMSG. */
int emt_roothash_parse(const char *buf, size_t len, uint8_t *out, size_t size);
