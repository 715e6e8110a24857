/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The machine-readable boot report, /run/edgeinit/boot.json, formatted without a JSON library. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define REPORT_STAGES_MAX 16
#define REPORT_DEVICES_MAX 24

enum stage_result {
	STAGE_NOT_RUN,
	STAGE_OK,
	STAGE_FAILED,
	STAGE_SKIPPED, /* not in the profile's list, or nothing to do in this boot */
};

struct report_stage {
	const char *name;
	enum stage_result result;
	uint64_t duration_us;
};

struct report_device {
	char role[32];  /* "verity-data", "verity-hash", "root", "persist" */
	char ref[300];  /* as the user wrote it */
	char node[128]; /* /dev node it resolved to */
};

struct boot_report {
	char version[32];
	char kernel[96];
	uint64_t start_monotonic_us; /* when /init started */
	uint64_t total_us;
	struct report_stage stages[REPORT_STAGES_MAX];
	size_t n_stages;
	struct report_device devices[REPORT_DEVICES_MAX];
	size_t n_devices;
	const char *outcome;    /* "ok" or "failed" */
	const char *failed_stage;
	char error[512];
	uint64_t initramfs_freed_bytes;
	unsigned initramfs_left_entries;
	unsigned layout_mounts;   /* overlays and binds mounted */
	unsigned layout_skipped;  /* paths and entries skipped with a warning */
	unsigned layout_failed;   /* overlays and binds that failed (warnings) */
	unsigned layout_seeded;   /* entries copied into persistent copies */
	const char *profile;      /* "verity" or "emt" */
	/* EMT profile: how the disk was provisioned, the slot, where the root hash came from
	 * ("cmdline", "roothash-partition-encrypted", "roothash-partition-unauthenticated", "none"),
	 * and a warning for the operator ("" if none). */
	const char *emt_mode;
	char emt_slot[2];
	const char *roothash_source;
	char warning[320];
	/* The failures stage: failure reports of previous boots as a JSON object (lib/failure.c's
	 * failure_log_format_json()), "" if that stage did not run. */
	char previous_failures[6144];
};

/* Record a device; -ENOSPC when full. */
int report_add_device(struct boot_report *r, const char *role, const char *ref, const char *node);

/* Format r as one JSON object followed by a newline. Returns the length, or -ENOSPC. */
int report_format_json(const struct boot_report *r, char *buf, size_t size);

/* JSON-escape s into buf (quotes not included). Returns the length or -ENOSPC. */
int json_escape(const char *s, char *buf, size_t size);
