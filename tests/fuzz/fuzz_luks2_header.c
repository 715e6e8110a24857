/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the LUKS2 header allow-list. The first byte selects the mode: even, the rest
 * is JSON wrapped into a primary header with a valid checksum (so the policy walk is reached,
 * which random bytes would never do); odd, the rest is the raw header area. Oracles: only the
 * documented codes, a reason exactly when refused, a wrapped header always counted as a copy,
 * an accepted header's argon2 memory within the bound and the available memory, determinism, and
 * the same verdict on the area as luks2_header_gather reads it (only the copies, the rest zero). */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edgeinit/luks2_header.h"
#include "edgeinit/sha256.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)
#define HDR (16u * 1024)

static uint8_t area[2 * HDR];
static uint8_t gathered[2 * HDR];

struct mem_device {
	const uint8_t *data;
	size_t len;
};

static int read_mem(void *userdata, uint8_t *buf, size_t len, uint64_t off)
{
	const struct mem_device *m = userdata;

	CHECK(off <= m->len && len <= m->len - off); /* never past the area it was given */
	memcpy(buf, m->data + off, len);
	return 0;
}

static void wrap(const uint8_t *json, size_t len)
{
	uint8_t csum[SHA256_DIGEST_SIZE];

	memset(area, 0, sizeof(area));
	memcpy(area, "LUKS\xba\xbe", 6);
	area[7] = 2;
	area[8 + 6] = HDR >> 8; /* hdr_size, big-endian */
	strcpy((char *)area + 72, "sha256");
	memcpy(area + LUKS2_HDR_BIN_SIZE, json, len);
	sha256(area, HDR, csum);
	memcpy(area + 448, csum, sizeof(csum));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct luks2_verdict v, v2;
	uint64_t avail;
	const uint8_t *hdr;
	size_t len;
	bool wrapped;
	int r;

	if (size < 1 || size > sizeof(area))
		return 0;
	wrapped = (data[0] & 1) == 0;
	avail = (uint64_t)(data[0] >> 1) * 8192; /* 0 (unknown) up to ~1 GiB */
	if (wrapped) {
		if (size - 1 > HDR - LUKS2_HDR_BIN_SIZE)
			return 0;
		wrap(data + 1, size - 1);
		hdr = area;
		len = sizeof(area);
	} else {
		hdr = data + 1;
		len = size - 1;
	}
	r = luks2_header_check(hdr, len, avail, &v);
	CHECK(r == 0 || r == -EMEDIUMTYPE);
	CHECK(memchr(v.reason, '\0', sizeof(v.reason)) != NULL);
	CHECK(v.acceptable == (v.reason[0] == '\0'));
	CHECK(r == 0 || !v.acceptable);
	if (wrapped)
		CHECK(r == 0 && v.copies >= 1);
	if (v.acceptable) {
		CHECK(v.copies >= 1);
		CHECK(v.pbkdf_memory_kib <= LUKS2_ARGON2_MEMORY_MAX_KIB);
		CHECK(avail == 0 || v.pbkdf_memory_kib <= avail);
	}
	CHECK(luks2_header_check(hdr, len, avail, &v2) == r);
	CHECK(memcmp(&v, &v2, sizeof(v)) == 0);

	struct mem_device dev = { hdr, len };

	memset(gathered, 0, len);
	CHECK(luks2_header_gather(gathered, len, read_mem, &dev) == 0);
	CHECK(luks2_header_check(gathered, len, avail, &v2) == r);
	CHECK(memcmp(&v, &v2, sizeof(v)) == 0);
	return 0;
}
