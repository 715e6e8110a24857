/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* LUKS2 headers as untrusted input: an allow-list policy over every header copy libcryptsetup
 * could load, applied before any key (a TPM-released secret, a typed passphrase) is offered.
 *
 * Why: libcryptsetup 2.6.1 (Debian 12) opens a keyslot whose area cipher is cipher_null with any
 * passphrase (fixed upstream in 2.8.1), so a crafted header plus a copied systemd-tpm2 token
 * would "unlock" an attacker's volume with the real TPM secret; and a header with an absurd PBKDF
 * cost stalls the boot for ever. The policy: keyslot and segment ciphers from a table with a
 * minimum key size (never cipher_null), the LUKS1 anti-forensic splitter with 4000 stripes, PBKDF
 * costs below bounds a real 2-4 s keyslot stays under, no dm-integrity, only PBKDF2 digests.
 *
 * The table and bounds are also used on what libcryptsetup parsed (init/sys_luks.c), since a
 * disk may return different bytes on a second read. Pure: no I/O, no globals, no logging. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Header copies: the primary at 0 and the secondary at the primary's hdr_size; when the primary
 * is damaged libcryptsetup also looks for a secondary at each of 16 KiB, 32 KiB, ..., 4 MiB. The
 * largest header (hdr_size) is 4 MiB, so 8 MiB from the start of the device hold every copy. */
#define LUKS2_HDR_BIN_SIZE 4096
#define LUKS2_HDR_SIZE_MIN (16u * 1024)
#define LUKS2_HDR_SIZE_MAX (4u * 1024 * 1024)
#define LUKS2_HEADER_SCAN_BYTES (2u * LUKS2_HDR_SIZE_MAX)

/* PBKDF2 iterations (keyslots and digests): cryptsetup's 2 s default benchmark gives a few
 * million iterations of PBKDF2-SHA256 on current x86 CPUs (SHA extensions included), and 1000 is
 * its minimum (systemd uses that for TPM2-enrolled keyslots). 2^24 leaves room above a 4 s
 * keyslot on a fast build machine and is still seconds, not hours, on a slow edge CPU. */
#define LUKS2_PBKDF2_ITERATIONS_MIN 1000u
#define LUKS2_PBKDF2_ITERATIONS_MAX (1u << 24)
/* Argon2: cryptsetup caps memory at 1 GiB unless forced, its hard maximum is 4 GiB (EMT's
 * installer forces 2 GiB), threads at 4; its benchmark starts at time cost 4 and raises it only
 * when memory is already capped, a 2-4 s keyslot stays well below 32 passes. The work (passes
 * times memory) is bounded too: 4 passes over 4 GiB, or 8 over 2 GiB, at most. Memory is also
 * bounded by what the machine has. */
#define LUKS2_ARGON2_TIME_MIN 1u
#define LUKS2_ARGON2_TIME_MAX 32u
#define LUKS2_ARGON2_MEMORY_MIN_KIB 32u
#define LUKS2_ARGON2_MEMORY_MAX_KIB (4u * 1024 * 1024)
#define LUKS2_ARGON2_WORK_MAX_KIB (16ull * 1024 * 1024)
#define LUKS2_ARGON2_CPUS_MAX 4u
/* A volume key below 128 bits is no key; 512 bytes is cryptsetup's own maximum. */
#define LUKS2_VOLUME_KEY_MIN 16u
#define LUKS2_VOLUME_KEY_MAX 512u
/* LUKS2 keyslot ids are 0..31. */
#define LUKS2_KEYSLOTS_MAX 32

#define LUKS2_REASON_MAX 192

/* One allowed encryption ("cipher-mode" as LUKS2 metadata and crypt_keyslot_get_encryption()
 * write it), with the key sizes (bytes, all parts of an XTS or Adiantum key together) it may use. */
struct luks2_cipher {
	const char *spec;
	uint32_t key_min;
	uint32_t key_max;
};

/* A keyslot's KDF, or a digest's. pbkdf2 uses hash and iterations; argon2i/argon2id use time,
 * memory_kib and cpus. */
struct luks2_kdf {
	const char *type;
	const char *hash;
	uint64_t iterations;
	uint64_t time;
	uint64_t memory_kib;
	uint64_t cpus;
};

struct luks2_verdict {
	bool acceptable;
	/* Why not: names the header copy (when not the primary), the keyslot/segment/digest and the
	 * field, e.g. "keyslot 1: area cipher cipher_null-ecb is not allowed". "" if acceptable. */
	char reason[LUKS2_REASON_MAX];
	char uuid[40];             /* of the first valid copy, "" if none */
	unsigned copies;           /* header copies with magic, version 2 and a valid checksum */
	uint32_t pbkdf_memory_kib; /* the largest argon2 memory of any keyslot in any copy */
};

/* The allowed encryption spec, or NULL. Case-sensitive: libcryptsetup writes lower case. */
const struct luks2_cipher *luks2_cipher_lookup(const char *spec);

/* Whether spec with a key of key_bytes is allowed. 0, or -EPERM with why ("cipher
 * cipher_null-ecb is not allowed", "aes-xts-plain64 key of 16 bytes is below the minimum 32"). */
int luks2_check_encryption(const char *spec, uint64_t key_bytes, char *why, size_t size);

/* Whether a hash is allowed for PBKDF2 and the anti-forensic splitter: sha1 (LUKS1 conversions),
 * sha256, sha384, sha512. */
bool luks2_hash_allowed(const char *hash);

/* Whether kdf is within the bounds; memory_available_kib (0: unknown) also bounds argon2 memory.
 * 0, or -EPERM with why ("pbkdf2 iterations 4294967295 exceed the bound 16777216"). */
int luks2_check_kdf(const struct luks2_kdf *kdf, uint64_t memory_available_kib, char *why,
		    size_t size);

/* Check the header area hdr[0..len) as read from the start of the device: len is the device's
 * size or LUKS2_HEADER_SCAN_BYTES, whichever is smaller (a copy that does not fit is not on the
 * device). Every copy with the magic, version 2 and a valid SHA-256 checksum is checked; a copy
 * with a bad checksum is ignored (libcryptsetup ignores it too), one with the magic and an
 * impossible header size or another checksum algorithm is refused (it could not be verified).
 * Returns 0 with v filled (v->acceptable tells), -EMEDIUMTYPE if no valid copy was found (v
 * says so), -ENOMEM, -EINVAL for bad arguments. */
int luks2_header_check(const uint8_t *hdr, size_t len, uint64_t memory_available_kib,
		       struct luks2_verdict *v);

/* Reads a copy's bytes at off: exactly len bytes, or a negative errno. */
typedef int (*luks2_read_fn)(void *userdata, uint8_t *buf, size_t len, uint64_t off);

/* Fills hdr (len bytes as for luks2_header_check, zeroed by the caller) with exactly the bytes
 * luks2_header_check looks at: the binary header at 0 and at every offset a secondary may start
 * at, and the whole copy wherever that binary header has the magic, version 2 and a valid size.
 * The rest stays zero and is never looked at, so the verdict is the one the whole area would get
 * (the fuzz target checks this); a volume costs tens of KiB of reads instead of 8 MiB.
 * Returns 0, or the first error of read_at. */
int luks2_header_gather(uint8_t *hdr, size_t len, luks2_read_fn read_at, void *userdata);

/* The same policy on JSON metadata alone, e.g. what libcryptsetup loaded (crypt_dump_json()).
 * Returns 0 with v filled (copies is 1, uuid ""), -ENOMEM, -EINVAL. */
int luks2_metadata_check(const char *json, size_t len, uint64_t memory_available_kib,
			 struct luks2_verdict *v);
