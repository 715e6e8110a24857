/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pure half of measured boot, as systemd does it (src/pcrextend/pcrextend.c,
 * src/cryptsetup/cryptsetup.c measure_volume_key(), src/shared/tpm2-util.c tpm2_extend_bytes()
 * and tpm2_userspace_log(), docs/TPM2_PCR_MEASUREMENTS.md): the words systemd-pcrphase extends
 * into PCR 11, the digest each bank receives, the PCR 15 volume-key latch, and the JSON-seq record
 * of /run/log/systemd/tpm2-measure.log. The TPM calls are the stage's. Pure: no I/O, no globals. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "edgeinit/hash.h"

#define MEASURE_PCR_KERNEL_BOOT 11     /* boot phases */
#define MEASURE_PCR_SYSTEM_IDENTITY 15 /* volume key latch, machine id, file systems */
#define MEASURE_LOG_PATH "/run/log/systemd/tpm2-measure.log"
#define MEASURE_RECORD_MAX 1024 /* enough for four banks and a description of 256 bytes */

/* The boot phases, in the order systemd measures them (systemd-pcrphase*.service). */
enum measure_phase {
	MEASURE_PHASE_ENTER_INITRD,
	MEASURE_PHASE_LEAVE_INITRD,
	MEASURE_PHASE_SYSINIT,
	MEASURE_PHASE_READY,
	MEASURE_PHASE_SHUTDOWN,
	MEASURE_PHASE_FINAL,
	_MEASURE_PHASE_MAX,
};

/* systemd's Tpm2UserspaceEventType: the "eventType" of a log record. */
enum measure_event_type {
	MEASURE_EVENT_NONE = -1, /* no "eventType" field */
	MEASURE_EVENT_PHASE,
	MEASURE_EVENT_FILESYSTEM,
	MEASURE_EVENT_VOLUME_KEY,
	MEASURE_EVENT_MACHINE_ID,
	_MEASURE_EVENT_MAX,
};

struct measure_digest {
	enum hash_alg alg;
	uint8_t digest[HASH_MAX_DIGEST_SIZE];
};

/* "enter-initrd", "leave-initrd", "sysinit", "ready", "shutdown", "final". */
const char *measure_phase_to_string(enum measure_phase p);
const char *measure_event_type_to_string(enum measure_event_type t);

/* The digest a string event puts into a bank: the hash of the string's bytes, without a NUL. */
void measure_string_digest(enum hash_alg alg, const char *s, uint8_t *out);

/* What TPM2_PCR_Extend does to a PCR of bank alg: pcr = H(pcr || digest). */
void measure_pcr_extend(enum hash_alg alg, uint8_t *pcr, const uint8_t *digest);

/* "cryptsetup:" + name + ":" + uuid, the name escaped as systemd's xescape(name, ":") does (bytes
 * below 0x20, from 0x7f, '\\' and ':' become \xNN) so the colons stay unambiguous. Returns the
 * length, -E2BIG if out is too small, -EINVAL for an empty name. */
int measure_volume_key_description(const char *name, const char *uuid, char *out, size_t size);

/* The PCR 15 latch digest for bank alg: HMAC(alg, key = volume key, message = the description
 * above). The key itself is never hashed alone, so its plain digest never crosses the bus. */
int measure_volume_key_digest(enum hash_alg alg, const void *volume_key, size_t key_size,
			      const char *name, const char *uuid, uint8_t *out);

struct measure_record {
	unsigned pcr;
	const struct measure_digest *digests; /* one per bank extended, in the order extended */
	size_t n_digests;
	const char *description;              /* content.string; NULL: omitted */
	uint8_t boot_id[16];                  /* /proc/sys/kernel/random/boot_id */
	uint64_t timestamp_usec;              /* CLOCK_BOOTTIME */
	enum measure_event_type event_type;   /* MEASURE_EVENT_NONE: omitted */
};

/* One RFC 7464 record as systemd appends it: 0x1E, the compact JSON object
 *   {"pcr":11,"digests":[{"hashAlg":"sha256","digest":"<hex>"}],"content_type":"systemd",
 *    "content":{"string":"enter-initrd","bootId":"<32 hex>","timestamp":<usec>,"eventType":"phase"}}
 * and LF. Returns the length written (NUL-terminated), -E2BIG if out is too small, -EINVAL for
 * no digests, a PCR above 23 or a description that is not valid UTF-8. */
int measure_log_record(const struct measure_record *r, char *out, size_t size);
