/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* LUKS2 header allow-list: a real header cryptsetup 2.6.1 wrote (tests/unit/fixtures/luks2), and
 * hostile headers built here from its JSON: cipher_null keyslot and segment, absurd PBKDF costs,
 * copies with a bad checksum (ignored), a hostile secondary (checked), broken JSON; and the same
 * verdicts on what luks2_header_gather reads of a device as on the whole area. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgeinit/luks2_header.h"
#include "edgeinit/sha256.h"
#include "suites.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define FIXTURE "tests/unit/fixtures/luks2/cryptsetup-2.6.1.hdr"
#define HDR16K (16u * 1024)
#define GOLDEN_UUID "be93b076-17b0-4ed7-96bf-975f6af3966d"

static uint8_t *read_golden(size_t *len)
{
	uint8_t *buf = calloc(1, 2 * HDR16K);
	FILE *f = fopen(FIXTURE, "re");

	ck_assert_msg(f != NULL, "cannot open " FIXTURE);
	ck_assert_ptr_nonnull(buf);
	*len = fread(buf, 1, 2 * HDR16K, f);
	fclose(f);
	ck_assert_uint_eq(*len, 2 * HDR16K);
	return buf;
}

/* The JSON text of the golden header's primary. */
static char *golden_json(void)
{
	size_t len;
	uint8_t *hdr = read_golden(&len);
	char *json = strndup((const char *)hdr + LUKS2_HDR_BIN_SIZE, HDR16K - LUKS2_HDR_BIN_SIZE);

	free(hdr);
	ck_assert_ptr_nonnull(json);
	return json;
}

/* json with the n-th (0-based) occurrence of from replaced by to; the occurrence must exist. */
static char *edit(const char *json, const char *from, const char *to, int n)
{
	const char *p = json;
	char *out;

	for (p = strstr(p, from); p && n > 0; n--)
		p = strstr(p + 1, from);
	ck_assert_msg(p != NULL, "'%s' not in the JSON", from);
	out = malloc(strlen(json) - strlen(from) + strlen(to) + 1);
	ck_assert_ptr_nonnull(out);
	sprintf(out, "%.*s%s%s", (int)(p - json), json, to, p + strlen(from));
	return out;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* A binary header copy at hdr+off the way cryptsetup writes one; json may be NULL for raw area
 * bytes already in place (then the area is left as is). */
static void put_copy(uint8_t *hdr, size_t off, uint64_t hdr_size, uint64_t seqid, const char *json)
{
	uint8_t *h = hdr + off;
	uint8_t csum[SHA256_DIGEST_SIZE];

	memset(h, 0, LUKS2_HDR_BIN_SIZE);
	memcpy(h, off == 0 ? "LUKS\xba\xbe" : "SKUL\xba\xbe", 6);
	h[7] = 2;
	put_be64(h + 8, hdr_size);
	put_be64(h + 16, seqid);
	strcpy((char *)h + 72, "sha256");
	strcpy((char *)h + 168, GOLDEN_UUID);
	put_be64(h + 256, off);
	if (json) {
		memset(h + LUKS2_HDR_BIN_SIZE, 0, hdr_size - LUKS2_HDR_BIN_SIZE);
		memcpy(h + LUKS2_HDR_BIN_SIZE, json, strlen(json));
	}
	sha256(h, hdr_size, csum);
	memcpy(h + 448, csum, sizeof(csum));
}

/* Two 16 KiB copies, as luksFormat writes them. */
static uint8_t *image(const char *primary, const char *secondary, size_t *len)
{
	uint8_t *hdr = calloc(1, 2 * HDR16K);

	ck_assert_ptr_nonnull(hdr);
	put_copy(hdr, 0, HDR16K, 1, primary);
	put_copy(hdr, HDR16K, HDR16K, 1, secondary);
	*len = 2 * HDR16K;
	return hdr;
}

static int check(const uint8_t *hdr, size_t len, uint64_t avail, struct luks2_verdict *v)
{
	int r = luks2_header_check(hdr, len, avail, v);

	/* A reason exactly when refused, always terminated. */
	ck_assert_ptr_nonnull(memchr(v->reason, '\0', sizeof(v->reason)));
	ck_assert_int_eq(v->acceptable, v->reason[0] == '\0');
	return r;
}

START_TEST(test_golden)
{
	struct luks2_verdict v;
	size_t len;
	uint8_t *hdr = read_golden(&len);

	/* Checksums computed by cryptsetup, not by the builder above. */
	ck_assert_int_eq(check(hdr, len, 0, &v), 0);
	ck_assert_msg(v.acceptable, "refused: %s", v.reason);
	ck_assert_uint_eq(v.copies, 2);
	ck_assert_str_eq(v.uuid, GOLDEN_UUID);
	ck_assert_uint_eq(v.pbkdf_memory_kib, 101254);
	/* Enough memory for keyslot 0's argon2id, not for a machine below it. */
	ck_assert_int_eq(check(hdr, len, 101254, &v), 0);
	ck_assert(v.acceptable);
	ck_assert_int_eq(check(hdr, len, 101253, &v), 0);
	ck_assert(!v.acceptable);
	ck_assert_str_eq(v.reason, "keyslot 0: argon2id memory 101254 KiB exceeds the available memory 101253 KiB");
	/* One flipped bit in the primary's JSON: it is ignored and the secondary decides. */
	hdr[5000] ^= 1;
	ck_assert_int_eq(check(hdr, len, 0, &v), 0);
	ck_assert(v.acceptable);
	ck_assert_uint_eq(v.copies, 1);
	/* Both broken: not a LUKS2 header libcryptsetup would load. */
	hdr[HDR16K + 5000] ^= 1;
	ck_assert_int_eq(check(hdr, len, 0, &v), -EMEDIUMTYPE);
	ck_assert_uint_eq(v.copies, 0);
	free(hdr);
}
END_TEST

START_TEST(test_rebuilt_golden)
{
	struct luks2_verdict v;
	size_t len, glen;
	char *json = golden_json();
	uint8_t *hdr = image(json, json, &len), *golden = read_golden(&glen);

	/* The builder makes what cryptsetup made: the hostile cases below differ only in the edit. */
	ck_assert_int_eq(memcmp(hdr + LUKS2_HDR_BIN_SIZE, golden + LUKS2_HDR_BIN_SIZE, HDR16K - LUKS2_HDR_BIN_SIZE), 0);
	ck_assert_int_eq(check(hdr, len, 0, &v), 0);
	ck_assert_msg(v.acceptable, "refused: %s", v.reason);
	ck_assert_uint_eq(v.copies, 2);
	free(hdr);
	free(golden);
	free(json);
}
END_TEST

/* One edit of the golden JSON, applied to both copies, and the reason it must give. */
static const struct {
	const char *from, *to;
	int nth;
	const char *reason; /* NULL: acceptable */
} edits[] = {
	{ "\"aes-xts-plain64\",\"key_size\":64", "\"cipher_null-ecb\",\"key_size\":64", 1,
	  "keyslot 1: area cipher cipher_null-ecb is not allowed" },
	{ "\"aes-xts-plain64\",\"key_size\":64", "\"cipher_null\",\"key_size\":0", 0,
	  "keyslot 0: area cipher cipher_null is not allowed" },
	{ "\"aes-xts-plain64\",\"sector_size\"", "\"cipher_null-ecb\",\"sector_size\"", 0,
	  "segment 0: cipher cipher_null-ecb is not allowed" },
	{ "\"aes-xts-plain64\",\"key_size\":64", "\"aes-xts-plain64\",\"key_size\":16", 0,
	  "keyslot 0: area aes-xts-plain64 key of 16 bytes is below the minimum 32" },
	{ "\"aes-xts-plain64\",\"key_size\":64", "\"aes-ecb\",\"key_size\":32", 1,
	  "keyslot 1: area cipher aes-ecb is not allowed" },
	{ "\"aes-xts-plain64\",\"key_size\":64", "\"xchacha20,aes-adiantum-plain64\",\"key_size\":32", 1, NULL },
	{ "\"iterations\":1000,", "\"iterations\":4294967295,", 0,
	  "keyslot 1: pbkdf2 iterations 4294967295 exceed the bound 16777216" },
	{ "\"iterations\":1000,", "\"iterations\":16777216,", 0, NULL },
	{ "\"iterations\":1000,", "\"iterations\":999,", 0,
	  "keyslot 1: pbkdf2 iterations 999 are below the minimum 1000" },
	{ "\"iterations\":1000,", "\"iterations\":\"1000\",", 0,
	  "keyslot 1: 'iterations' is missing or not an unsigned integer" },
	{ "\"iterations\":1000,", "\"iterations\":1e3,", 0,
	  "keyslot 1: 'iterations' is missing or not an unsigned integer" },
	{ "\"iterations\":1000,", "\"iterations\":18446744073709551616,", 0,
	  "keyslot 1: 'iterations' is missing or not an unsigned integer" },
	{ "\"hash\":\"sha256\",\"iterations\":1000", "\"hash\":\"md5\",\"iterations\":1000", 0,
	  "keyslot 1: pbkdf2 hash md5 is not allowed" },
	{ "\"memory\":101254", "\"memory\":4194305", 0,
	  "keyslot 0: argon2id memory 4194305 KiB exceeds the bound 4194304 KiB" },
	{ "\"memory\":101254", "\"memory\":4194304", 0, NULL },
	{ "\"memory\":101254", "\"memory\":2097152", 0, NULL }, /* EMT's installer */
	{ "\"time\":4", "\"time\":4294967295", 0, "keyslot 0: argon2id time cost 4294967295 is outside 1..32" },
	{ "\"cpus\":2", "\"cpus\":64", 0, "keyslot 0: argon2id parallel cost 64 is outside 1..4" },
	{ "\"argon2id\"", "\"scrypt\"", 0, "keyslot 0: kdf scrypt is not allowed" },
	{ "\"iterations\":257762", "\"iterations\":4294967295", 0,
	  "digest 0: pbkdf2 iterations 4294967295 exceed the bound 16777216" },
	{ "{\"type\":\"pbkdf2\",\"keyslots\"", "{\"type\":\"argon2id\",\"keyslots\"", 0,
	  "digest 0: type argon2id is not allowed" },
	{ "\"stripes\":4000", "\"stripes\":1", 1, "keyslot 1: af stripes 1 are not 4000" },
	{ "\"type\":\"luks1\"", "\"type\":\"luks2\"", 0, "keyslot 0: af type luks2 is not allowed" },
	{ "\"type\":\"raw\"", "\"type\":\"datashift\"", 1, "keyslot 1: area type datashift is not allowed" },
	{ "\"type\":\"luks2\",\"key_size\":64", "\"type\":\"luks2\",\"key_size\":8", 0,
	  "keyslot 0: volume key size 8 is outside 16..512" },
	{ "\"0\":{\"type\":\"luks2\"", "\"32\":{\"type\":\"luks2\"", 0, "keyslot 32: id is out of range" },
	{ "\"0\":{\"type\":\"luks2\"", "\"00\":{\"type\":\"luks2\"", 0, "keyslots: an id is not a decimal number" },
	{ "\"0\":{\"type\":\"luks2\"", "\"0\":{\"type\":\"foo\"", 0, "keyslot 0: type foo is not allowed" },
	/* A reencryption keyslot carries no key. */
	{ "\"0\":{\"type\":\"luks2\"", "\"2\":{\"type\":\"reencrypt\",\"mode\":\"encrypt\"},\"0\":{\"type\":\"luks2\"", 0, NULL },
	{ "\"type\":\"crypt\"", "\"type\":\"linear\"", 0, "segment 0: type linear is not allowed" },
	{ "\"sector_size\":4096", "\"sector_size\":4096,\"integrity\":{\"type\":\"hmac(sha256)\"}", 0,
	  "segment 0: dm-integrity is not allowed" },
	{ "\"sector_size\":4096", "\"sector_size\":4096,\"integrity\":null", 0, NULL },
	{ "\"segments\":{\"0\"", "\"segments\":{},\"x\":{\"0\"", 0, "there is no segments" },
	/* json-c would take the last of duplicate keys; the strict parser refuses them. */
	{ "\"config\":{", "\"segments\":{},\"config\":{", 0,
	  "the JSON metadata is not valid strict JSON (duplicate key)" },
	{ "\"keyslots\":{", "\"keyslots\":{{", 0, "the JSON metadata is not valid strict JSON (syntax)" },
};

START_TEST(test_edits)
{
	struct luks2_verdict v;
	size_t len;
	char *json = golden_json(), *bad = edit(json, edits[_i].from, edits[_i].to, edits[_i].nth);
	uint8_t *hdr = image(bad, bad, &len);

	ck_assert_int_eq(check(hdr, len, 0, &v), 0);
	if (edits[_i].reason) {
		ck_assert(!v.acceptable);
		ck_assert_str_eq(v.reason, edits[_i].reason);
	} else
		ck_assert_msg(v.acceptable, "refused: %s", v.reason);
	free(hdr);
	free(bad);
	free(json);
}
END_TEST

START_TEST(test_copies)
{
	struct luks2_verdict v;
	size_t len;
	char *json = golden_json(), *bad = edit(json, "\"aes-xts-plain64\",\"key_size\":64", "\"cipher_null-ecb\",\"key_size\":64", 1);
	uint8_t *hdr = image(json, bad, &len), *big;

	/* A valid secondary with a higher seqid (libcryptsetup would prefer it) is checked. */
	put_copy(hdr, HDR16K, HDR16K, 7, bad);
	ck_assert_int_eq(check(hdr, len, 0, &v), 0);
	ck_assert(!v.acceptable);
	ck_assert_str_eq(v.reason, "secondary header at 16384: keyslot 1: area cipher cipher_null-ecb is not allowed");
	/* The same secondary with a broken checksum is ignored, as libcryptsetup ignores it. */
	hdr[HDR16K + 448] ^= 0xff;
	ck_assert_int_eq(check(hdr, len, 0, &v), 0);
	ck_assert_msg(v.acceptable, "refused: %s", v.reason);
	ck_assert_uint_eq(v.copies, 1);
	/* The device ends inside the secondary: it is not there to be loaded. */
	put_copy(hdr, HDR16K, HDR16K, 7, bad);
	ck_assert_int_eq(check(hdr, len - 1, 0, &v), 0);
	ck_assert(v.acceptable);
	free(hdr);

	/* Primary damaged: libcryptsetup scans 16K..4M for a secondary; one at 4 MiB counts. */
	big = calloc(1, LUKS2_HEADER_SCAN_BYTES);
	ck_assert_ptr_nonnull(big);
	put_copy(big, 0, HDR16K, 1, json);
	big[LUKS2_HDR_BIN_SIZE] = 'X';
	put_copy(big, LUKS2_HDR_SIZE_MAX, HDR16K, 2, bad);
	ck_assert_int_eq(check(big, LUKS2_HEADER_SCAN_BYTES, 0, &v), 0);
	ck_assert_str_eq(v.reason, "secondary header at 4194304: keyslot 1: area cipher cipher_null-ecb is not allowed");
	/* A 4 MiB header at 4 MiB fills the scan window exactly. */
	put_copy(big, LUKS2_HDR_SIZE_MAX, LUKS2_HDR_SIZE_MAX, 2, json);
	ck_assert_int_eq(check(big, LUKS2_HEADER_SCAN_BYTES, 0, &v), 0);
	ck_assert_msg(v.acceptable, "refused: %s", v.reason);
	ck_assert_uint_eq(v.copies, 1);
	free(big);
	free(bad);
	free(json);
}
END_TEST

START_TEST(test_unverifiable)
{
	struct luks2_verdict v;
	size_t len;
	char *json = golden_json();
	uint8_t *hdr = image(json, json, &len);

	/* Magic with a header size libcryptsetup would not use, or a checksum we cannot check: the
	 * copy cannot be verified, so the header is refused rather than ignored. */
	put_be64(hdr + HDR16K + 8, 12345);
	ck_assert_int_eq(check(hdr, len, 0, &v), 0);
	ck_assert_str_eq(v.reason, "secondary header at 16384: header size 12345 is invalid");
	put_copy(hdr, HDR16K, HDR16K, 1, json);
	strcpy((char *)hdr + 72, "sha512");
	ck_assert_int_eq(check(hdr, len, 0, &v), 0);
	ck_assert_str_eq(v.reason, "checksum algorithm sha512 is not sha256");
	/* A JSON area with no NUL. */
	memset(hdr + LUKS2_HDR_BIN_SIZE, 'x', HDR16K - LUKS2_HDR_BIN_SIZE);
	put_copy(hdr, 0, HDR16K, 1, NULL);
	ck_assert_int_eq(check(hdr, len, 0, &v), 0);
	ck_assert_str_eq(v.reason, "the JSON area is not terminated");
	/* Valid JSON that is not an object; an empty area; truncated JSON. */
	put_copy(hdr, 0, HDR16K, 1, "[1,2]");
	ck_assert_int_eq(check(hdr, len, 0, &v), 0);
	ck_assert_str_eq(v.reason, "the JSON metadata is not an object");
	put_copy(hdr, 0, HDR16K, 1, "");
	ck_assert_int_eq(check(hdr, len, 0, &v), 0);
	ck_assert_str_eq(v.reason, "the JSON metadata is not valid strict JSON (syntax)");
	put_copy(hdr, 0, HDR16K, 1, "{\"keyslots\":{\"0\":{\"type\":\"luks2\",");
	ck_assert_int_eq(check(hdr, len, 0, &v), 0);
	ck_assert_str_eq(v.reason, "the JSON metadata is not valid strict JSON (syntax)");
	put_copy(hdr, 0, HDR16K, 1, "{}");
	ck_assert_int_eq(check(hdr, len, 0, &v), 0);
	ck_assert_str_eq(v.reason, "header: 'keyslots' is missing or not an object");
	/* Nothing at all. */
	memset(hdr, 0, len);
	ck_assert_int_eq(check(hdr, len, 0, &v), -EMEDIUMTYPE);
	ck_assert_int_eq(check(hdr, 100, 0, &v), -EMEDIUMTYPE);
	ck_assert_int_eq(luks2_header_check(NULL, 0, 0, &v), -EMEDIUMTYPE);
	ck_assert_int_eq(luks2_header_check(NULL, 1, 0, &v), -EINVAL);
	free(hdr);
	free(json);
}
END_TEST

/* A device in memory for luks2_header_gather: counts what is read, fails at fail_at. */
struct mem_device {
	const uint8_t *data;
	size_t len, bytes_read;
	uint64_t fail_at;
};

static int read_mem(void *userdata, uint8_t *buf, size_t len, uint64_t off)
{
	struct mem_device *m = userdata;

	ck_assert_uint_le(off + len, m->len);
	if (m->fail_at && off == m->fail_at)
		return -EIO;
	memcpy(buf, m->data + off, len);
	m->bytes_read += len;
	return 0;
}

/* The verdict on what luks2_header_gather reads equals the verdict on the whole area. */
static void assert_gathered_same(const uint8_t *area, size_t len, struct mem_device *m)
{
	struct luks2_verdict whole, gathered;
	uint8_t *buf = calloc(1, len);
	int r = luks2_header_check(area, len, 0, &whole);

	ck_assert_ptr_nonnull(buf);
	*m = (struct mem_device){ .data = area, .len = len };
	ck_assert_int_eq(luks2_header_gather(buf, len, read_mem, m), 0);
	ck_assert_int_eq(luks2_header_check(buf, len, 0, &gathered), r);
	ck_assert_mem_eq(&whole, &gathered, sizeof(whole));
	free(buf);
}

START_TEST(test_gather)
{
	struct mem_device m;
	struct luks2_verdict v;
	size_t len;
	char *json = golden_json(), *bad = edit(json, "\"aes-xts-plain64\",\"key_size\":64", "\"cipher_null-ecb\",\"key_size\":64", 1);
	uint8_t *golden = read_golden(&len), *dev = malloc(LUKS2_HEADER_SCAN_BYTES), *buf;
	uint32_t x = 2463534242u;

	/* cryptsetup's two 16 KiB copies, then keyslot data (noise) up to 8 MiB. */
	ck_assert_ptr_nonnull(dev);
	for (size_t i = 0; i < LUKS2_HEADER_SCAN_BYTES; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		dev[i] = (uint8_t)x;
	}
	memcpy(dev, golden, len);
	assert_gathered_same(dev, LUKS2_HEADER_SCAN_BYTES, &m);
	/* Both copies and a binary header at each of the 8 other offsets: 64 KiB, not 8 MiB. */
	ck_assert_uint_eq(m.bytes_read, 2 * HDR16K + 8 * LUKS2_HDR_BIN_SIZE);

	/* A hostile copy deep in the area is read whole, and refused as on the whole area. */
	put_copy(dev, 1024 * 1024, HDR16K, 9, bad);
	assert_gathered_same(dev, LUKS2_HEADER_SCAN_BYTES, &m);
	ck_assert_int_eq(luks2_header_check(dev, LUKS2_HEADER_SCAN_BYTES, 0, &v), 0);
	ck_assert_str_eq(v.reason, "secondary header at 1048576: keyslot 1: area cipher cipher_null-ecb is not allowed");
	/* A 4 MiB primary holds the candidates inside it; a copy that does not fit the device. */
	put_copy(dev, 0, LUKS2_HDR_SIZE_MAX, 1, json);
	assert_gathered_same(dev, LUKS2_HEADER_SCAN_BYTES, &m);
	assert_gathered_same(dev, LUKS2_HDR_SIZE_MAX - 1, &m);
	/* An invalid size, a device shorter than one binary header. */
	put_be64(dev + 8, 12345);
	assert_gathered_same(dev, LUKS2_HEADER_SCAN_BYTES, &m);
	assert_gathered_same(dev, 100, &m);
	ck_assert_uint_eq(m.bytes_read, 0);

	/* A read error stops the gathering with that error. */
	buf = calloc(1, LUKS2_HEADER_SCAN_BYTES);
	ck_assert_ptr_nonnull(buf);
	m = (struct mem_device){ .data = dev, .len = LUKS2_HEADER_SCAN_BYTES, .fail_at = 2 * 1024 * 1024 };
	ck_assert_int_eq(luks2_header_gather(buf, LUKS2_HEADER_SCAN_BYTES, read_mem, &m), -EIO);
	ck_assert_int_eq(luks2_header_gather(NULL, 1, read_mem, &m), -EINVAL);
	free(buf);
	free(dev);
	free(golden);
	free(bad);
	free(json);
}
END_TEST

/* What libcryptsetup loaded, as crypt_dump_json() gives it (json-c, pretty-printed). */
START_TEST(test_metadata)
{
	struct luks2_verdict v;
	char *json = golden_json(), *bad = edit(json, "\"iterations\":1000,", "\"iterations\":4294967295,", 0);

	ck_assert_int_eq(luks2_metadata_check(json, strlen(json), 0, &v), 0);
	ck_assert_msg(v.acceptable, "refused: %s", v.reason);
	ck_assert_uint_eq(v.pbkdf_memory_kib, 101254);
	ck_assert_int_eq(luks2_metadata_check(bad, strlen(bad), 0, &v), 0);
	ck_assert_str_eq(v.reason, "keyslot 1: pbkdf2 iterations 4294967295 exceed the bound 16777216");
	ck_assert_int_eq(luks2_metadata_check("{\n  \"keyslots\": {},\n  \"segments\": {\"0\": {\"type\": \"crypt\", "
					      "\"encryption\": \"cipher_null-ecb\"}}}", 92, 0, &v), 0);
	ck_assert_str_eq(v.reason, "segment 0: cipher cipher_null-ecb is not allowed");
	ck_assert_int_eq(luks2_metadata_check(NULL, 0, 0, &v), 0);
	ck_assert(!v.acceptable);
	free(bad);
	free(json);
}
END_TEST

/* The table and bounds as init/sys_luks.c uses them on what libcryptsetup loaded. */
START_TEST(test_api)
{
	char why[LUKS2_REASON_MAX];
	struct luks2_kdf k = { .type = "pbkdf2", .hash = "sha256", .iterations = LUKS2_PBKDF2_ITERATIONS_MAX };

	ck_assert_int_eq(luks2_check_encryption("aes-xts-plain64", 64, why, sizeof(why)), 0);
	ck_assert_int_eq(luks2_check_encryption("aes-cbc-essiv:sha256", 16, why, sizeof(why)), 0);
	ck_assert_int_eq(luks2_check_encryption("cipher_null-ecb", 64, why, sizeof(why)), -EPERM);
	ck_assert_str_eq(why, "cipher cipher_null-ecb is not allowed");
	ck_assert_int_eq(luks2_check_encryption(NULL, 64, why, sizeof(why)), -EPERM);
	ck_assert_int_eq(luks2_check_encryption("aes-xts-plain64", 128, why, sizeof(why)), -EPERM);
	ck_assert_str_eq(why, "aes-xts-plain64 key of 128 bytes is above the maximum 64");
	ck_assert_int_eq(luks2_check_encryption("AES-XTS-PLAIN64", 64, NULL, 0), -EPERM);
	ck_assert_ptr_null(luks2_cipher_lookup("cipher_null"));

	ck_assert_int_eq(luks2_check_kdf(&k, 0, why, sizeof(why)), 0);
	k.iterations++;
	ck_assert_int_eq(luks2_check_kdf(&k, 0, why, sizeof(why)), -EPERM);
	k = (struct luks2_kdf){ .type = "argon2i", .time = 4, .memory_kib = LUKS2_ARGON2_MEMORY_MAX_KIB, .cpus = 4 };
	ck_assert_int_eq(luks2_check_kdf(&k, 0, why, sizeof(why)), 0);
	k.time = 5;
	ck_assert_int_eq(luks2_check_kdf(&k, 0, why, sizeof(why)), -EPERM);
	k.time = 4;
	ck_assert_int_eq(luks2_check_kdf(&k, LUKS2_ARGON2_MEMORY_MAX_KIB - 1, why, sizeof(why)), -EPERM);
	k.memory_kib = 16;
	ck_assert_int_eq(luks2_check_kdf(&k, 0, why, sizeof(why)), -EPERM);
	ck_assert_str_eq(why, "argon2i memory 16 KiB is below the minimum 32 KiB");
	k = (struct luks2_kdf){ .type = NULL };
	ck_assert_int_eq(luks2_check_kdf(&k, 0, why, sizeof(why)), -EPERM);
	ck_assert_str_eq(why, "kdf (none) is not allowed");
	ck_assert(luks2_hash_allowed("sha1"));
	ck_assert(!luks2_hash_allowed("ripemd160"));
}
END_TEST

Suite *luks2_header_suite(void)
{
	Suite *s = suite_create("luks2_header");
	TCase *tc = tcase_create("header");

	tcase_add_test(tc, test_golden);
	tcase_add_test(tc, test_rebuilt_golden);
	tcase_add_loop_test(tc, test_edits, 0, N(edits));
	tcase_add_test(tc, test_copies);
	tcase_add_test(tc, test_unverifiable);
	tcase_add_test(tc, test_gather);
	tcase_add_test(tc, test_metadata);
	tcase_add_test(tc, test_api);
	suite_add_tcase(s, tc);
	return s;
}
