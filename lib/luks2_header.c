/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* LUKS2 header allow-list (see luks2_header.h). Binary header layout and JSON fields as in the
 * LUKS2 on-disk format specification; numbers in the binary header are big-endian. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgeinit/json.h"
#include "edgeinit/luks2_header.h"
#include "edgeinit/sha256.h"

/* Offsets in the 4096-byte binary header. */
#define BIN_MAGIC 0
#define BIN_VERSION 6
#define BIN_HDR_SIZE 8
#define BIN_SEQID 16
#define BIN_CSUM_ALG 72
#define BIN_CSUM_ALG_LEN 32
#define BIN_UUID 168
#define BIN_UUID_LEN 40
#define BIN_CSUM 448
#define BIN_CSUM_LEN 64
#define MAGIC_LEN 6

/* A real header's JSON has a few dozen values per keyslot; tokens add some. */
#define HEADER_NODES_MAX 16384
#define HEADER_DEPTH_MAX 16

static const uint8_t magic_primary[MAGIC_LEN] = { 'L', 'U', 'K', 'S', 0xba, 0xbe };
static const uint8_t magic_secondary[MAGIC_LEN] = { 'S', 'K', 'U', 'L', 0xba, 0xbe };

/* Ciphers a keyslot area or a data segment may use. XTS keys are two keys together (AES-128-XTS
 * is 32 bytes); Adiantum takes one 256-bit key. cipher_null is absent on purpose. */
static const struct luks2_cipher ciphers[] = {
	{ "aes-xts-plain64", 32, 64 },
	{ "aes-xts-plain", 32, 64 },
	{ "aes-cbc-essiv:sha256", 16, 32 },
	{ "serpent-xts-plain64", 32, 64 },
	{ "twofish-xts-plain64", 32, 64 },
	{ "xchacha12,aes-adiantum-plain64", 32, 32 },
	{ "xchacha20,aes-adiantum-plain64", 32, 32 },
};

static const char *const hashes[] = { "sha1", "sha256", "sha384", "sha512" };

__attribute__((format(printf, 3, 4))) static int say(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (why && size > 0) {
		va_start(ap, fmt);
		vsnprintf(why, size, fmt, ap);
		va_end(ap);
	}
	return -EPERM;
}

const struct luks2_cipher *luks2_cipher_lookup(const char *spec)
{
	if (!spec)
		return NULL;
	for (size_t i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++)
		if (strcmp(ciphers[i].spec, spec) == 0)
			return &ciphers[i];
	return NULL;
}

int luks2_check_encryption(const char *spec, uint64_t key_bytes, char *why, size_t size)
{
	const struct luks2_cipher *c = luks2_cipher_lookup(spec);

	if (!c)
		return say(why, size, "cipher %.64s is not allowed", spec ? spec : "(none)");
	if (key_bytes < c->key_min)
		return say(why, size, "%s key of %llu bytes is below the minimum %u", c->spec,
			   (unsigned long long)key_bytes, c->key_min);
	if (key_bytes > c->key_max)
		return say(why, size, "%s key of %llu bytes is above the maximum %u", c->spec,
			   (unsigned long long)key_bytes, c->key_max);
	return 0;
}

bool luks2_hash_allowed(const char *hash)
{
	if (!hash)
		return false;
	for (size_t i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++)
		if (strcmp(hashes[i], hash) == 0)
			return true;
	return false;
}

int luks2_check_kdf(const struct luks2_kdf *kdf, uint64_t memory_available_kib, char *why,
		    size_t size)
{
	const char *t = kdf->type ? kdf->type : "(none)";

	if (strcmp(t, "pbkdf2") == 0) {
		if (!luks2_hash_allowed(kdf->hash))
			return say(why, size, "pbkdf2 hash %.32s is not allowed",
				   kdf->hash ? kdf->hash : "(none)");
		if (kdf->iterations < LUKS2_PBKDF2_ITERATIONS_MIN)
			return say(why, size, "pbkdf2 iterations %llu are below the minimum %u",
				   (unsigned long long)kdf->iterations, LUKS2_PBKDF2_ITERATIONS_MIN);
		if (kdf->iterations > LUKS2_PBKDF2_ITERATIONS_MAX)
			return say(why, size, "pbkdf2 iterations %llu exceed the bound %u",
				   (unsigned long long)kdf->iterations, LUKS2_PBKDF2_ITERATIONS_MAX);
		return 0;
	}
	if (strcmp(t, "argon2i") != 0 && strcmp(t, "argon2id") != 0)
		return say(why, size, "kdf %.32s is not allowed", t);
	if (kdf->time < LUKS2_ARGON2_TIME_MIN || kdf->time > LUKS2_ARGON2_TIME_MAX)
		return say(why, size, "%s time cost %llu is outside 1..%u", t,
			   (unsigned long long)kdf->time, LUKS2_ARGON2_TIME_MAX);
	if (kdf->memory_kib < LUKS2_ARGON2_MEMORY_MIN_KIB)
		return say(why, size, "%s memory %llu KiB is below the minimum %u KiB", t,
			   (unsigned long long)kdf->memory_kib, LUKS2_ARGON2_MEMORY_MIN_KIB);
	if (kdf->memory_kib > LUKS2_ARGON2_MEMORY_MAX_KIB)
		return say(why, size, "%s memory %llu KiB exceeds the bound %u KiB", t,
			   (unsigned long long)kdf->memory_kib, LUKS2_ARGON2_MEMORY_MAX_KIB);
	if (kdf->time * kdf->memory_kib > LUKS2_ARGON2_WORK_MAX_KIB)
		return say(why, size, "%s work of %llu passes over %llu KiB exceeds the bound of %llu KiB-passes", t,
			   (unsigned long long)kdf->time, (unsigned long long)kdf->memory_kib,
			   LUKS2_ARGON2_WORK_MAX_KIB);
	if (memory_available_kib > 0 && kdf->memory_kib > memory_available_kib)
		return say(why, size, "%s memory %llu KiB exceeds the available memory %llu KiB", t,
			   (unsigned long long)kdf->memory_kib, (unsigned long long)memory_available_kib);
	if (kdf->cpus < 1 || kdf->cpus > LUKS2_ARGON2_CPUS_MAX)
		return say(why, size, "%s parallel cost %llu is outside 1..%u", t,
			   (unsigned long long)kdf->cpus, LUKS2_ARGON2_CPUS_MAX);
	return 0;
}

/* One header copy being walked: where refusals go and what they are prefixed with. */
struct walk {
	const struct json_doc *doc;
	uint64_t memory_available_kib;
	char where[48]; /* "" for the primary, "secondary header at 16384: " otherwise */
	char *reason;
	uint32_t pbkdf_memory_kib;
};

__attribute__((format(printf, 2, 3))) static int refuse(struct walk *w, const char *fmt, ...)
{
	size_t n = strnlen(w->where, sizeof(w->where) - 1);
	va_list ap;

	memcpy(w->reason, w->where, n);
	va_start(ap, fmt);
	vsnprintf(w->reason + n, LUKS2_REASON_MAX - n, fmt, ap);
	va_end(ap);
	return -EPERM;
}

/* Member key of object obj: its value node, 0 if absent or obj is not an object. */
static uint32_t member(const struct walk *w, uint32_t obj, const char *key)
{
	int r = json_doc_member(w->doc, obj, key);

	return r > 0 ? (uint32_t)r : 0;
}

/* A string member into buf; -EPERM (with reason) if absent, not a string or too long. */
static int get_str(struct walk *w, uint32_t obj, const char *key, const char *what, char *buf,
		   size_t size)
{
	uint32_t n = member(w, obj, key);

	if (n == 0 || w->doc->nodes[n].type != JSON_STRING || json_doc_string(w->doc, n, buf, size) < 0)
		return refuse(w, "%s '%s' is missing or not a short string", what, key);
	return 0;
}

/* An unsigned integer member (a JSON number, as libcryptsetup validates it). */
static int get_uint(struct walk *w, uint32_t obj, const char *key, const char *what, uint64_t *ret)
{
	uint32_t n = member(w, obj, key);

	if (n == 0 || w->doc->nodes[n].type != JSON_NUMBER || json_doc_uint(w->doc, n, UINT64_MAX, ret) < 0)
		return refuse(w, "%s '%s' is missing or not an unsigned integer", what, key);
	return 0;
}

static int get_object(struct walk *w, uint32_t obj, const char *key, const char *what, uint32_t *ret)
{
	uint32_t n = member(w, obj, key);

	if (n == 0 || w->doc->nodes[n].type != JSON_OBJECT)
		return refuse(w, "%s '%s' is missing or not an object", what, key);
	*ret = n;
	return 0;
}

/* A pbkdf2 or argon2 object (keyslot "kdf", or a digest) into kdf; strings land in the buffers. */
static int get_kdf(struct walk *w, uint32_t obj, const char *what, struct luks2_kdf *kdf,
		   char type[16], char hash[16])
{
	int r = get_str(w, obj, "type", what, type, 16);

	memset(kdf, 0, sizeof(*kdf));
	kdf->type = type;
	if (r < 0)
		return r;
	if (strcmp(type, "pbkdf2") == 0) {
		kdf->hash = hash;
		r = get_str(w, obj, "hash", what, hash, 16);
		if (r >= 0)
			r = get_uint(w, obj, "iterations", what, &kdf->iterations);
		return r;
	}
	if (strcmp(type, "argon2i") == 0 || strcmp(type, "argon2id") == 0) {
		r = get_uint(w, obj, "time", what, &kdf->time);
		if (r >= 0)
			r = get_uint(w, obj, "memory", what, &kdf->memory_kib);
		if (r >= 0)
			r = get_uint(w, obj, "cpus", what, &kdf->cpus);
		return r;
	}
	return 0; /* luks2_check_kdf names the type */
}

static int check_keyslot(struct walk *w, const char *id, uint32_t ks)
{
	char what[32], type[24], enc[64], kt[16], kh[16], afhash[16], why[LUKS2_REASON_MAX];
	struct luks2_kdf kdf;
	uint32_t area, af, kdfo;
	uint64_t key_size, area_key, stripes;
	int r;

	snprintf(what, sizeof(what), "keyslot %s:", id);
	if (w->doc->nodes[ks].type != JSON_OBJECT)
		return refuse(w, "keyslot %s: is not an object", id);
	r = get_str(w, ks, "type", what, type, sizeof(type));
	if (r < 0)
		return r;
	/* A reencryption keyslot holds the progress of a reencryption, no key material. */
	if (strcmp(type, "reencrypt") == 0)
		return 0;
	if (strcmp(type, "luks2") != 0)
		return refuse(w, "keyslot %s: type %s is not allowed", id, type);

	r = get_uint(w, ks, "key_size", what, &key_size);
	if (r < 0)
		return r;
	if (key_size < LUKS2_VOLUME_KEY_MIN || key_size > LUKS2_VOLUME_KEY_MAX)
		return refuse(w, "keyslot %s: volume key size %llu is outside %u..%u", id,
			      (unsigned long long)key_size, LUKS2_VOLUME_KEY_MIN, LUKS2_VOLUME_KEY_MAX);

	if ((r = get_object(w, ks, "area", what, &area)) < 0 ||
	    (r = get_str(w, area, "type", "keyslot area", type, sizeof(type))) < 0)
		return r;
	if (strcmp(type, "raw") != 0)
		return refuse(w, "keyslot %s: area type %s is not allowed", id, type);
	if ((r = get_str(w, area, "encryption", what, enc, sizeof(enc))) < 0 ||
	    (r = get_uint(w, area, "key_size", what, &area_key)) < 0)
		return r;
	if (luks2_check_encryption(enc, area_key, why, sizeof(why)) < 0)
		return refuse(w, "keyslot %s: area %s", id, why);

	if ((r = get_object(w, ks, "af", what, &af)) < 0 ||
	    (r = get_str(w, af, "type", what, type, sizeof(type))) < 0)
		return r;
	if (strcmp(type, "luks1") != 0)
		return refuse(w, "keyslot %s: af type %s is not allowed", id, type);
	if ((r = get_uint(w, af, "stripes", what, &stripes)) < 0 ||
	    (r = get_str(w, af, "hash", what, afhash, sizeof(afhash))) < 0)
		return r;
	/* One stripe would store the key material undiffused; LUKS always uses 4000. */
	if (stripes != 4000)
		return refuse(w, "keyslot %s: af stripes %llu are not 4000", id, (unsigned long long)stripes);
	if (!luks2_hash_allowed(afhash))
		return refuse(w, "keyslot %s: af hash %s is not allowed", id, afhash);

	if ((r = get_object(w, ks, "kdf", what, &kdfo)) < 0 || (r = get_kdf(w, kdfo, what, &kdf, kt, kh)) < 0)
		return r;
	if (luks2_check_kdf(&kdf, w->memory_available_kib, why, sizeof(why)) < 0)
		return refuse(w, "keyslot %s: %s", id, why);
	if (kdf.memory_kib > w->pbkdf_memory_kib)
		w->pbkdf_memory_kib = (uint32_t)kdf.memory_kib;
	return 0;
}

static int check_segment(struct walk *w, const char *id, uint32_t seg)
{
	char what[32], type[24], enc[64];
	uint32_t integ;
	int r;

	snprintf(what, sizeof(what), "segment %s:", id);
	if (w->doc->nodes[seg].type != JSON_OBJECT)
		return refuse(w, "segment %s: is not an object", id);
	r = get_str(w, seg, "type", what, type, sizeof(type));
	if (r < 0)
		return r;
	/* "linear" (plaintext data, mid-encryption) is what an attacker would downgrade to. */
	if (strcmp(type, "crypt") != 0)
		return refuse(w, "segment %s: type %s is not allowed", id, type);
	r = get_str(w, seg, "encryption", what, enc, sizeof(enc));
	if (r < 0)
		return r;
	if (!luks2_cipher_lookup(enc))
		return refuse(w, "segment %s: cipher %s is not allowed", id, enc);
	integ = member(w, seg, "integrity");
	if (integ != 0 && w->doc->nodes[integ].type != JSON_NULL)
		return refuse(w, "segment %s: dm-integrity is not allowed", id);
	return 0;
}

static int check_digest(struct walk *w, const char *id, uint32_t dig)
{
	char what[32], kt[16], kh[16], why[LUKS2_REASON_MAX];
	struct luks2_kdf kdf;
	int r;

	snprintf(what, sizeof(what), "digest %s:", id);
	if (w->doc->nodes[dig].type != JSON_OBJECT)
		return refuse(w, "digest %s: is not an object", id);
	r = get_str(w, dig, "type", what, kt, sizeof(kt));
	if (r < 0)
		return r;
	if (strcmp(kt, "pbkdf2") != 0)
		return refuse(w, "digest %s: type %s is not allowed", id, kt);
	r = get_kdf(w, dig, what, &kdf, kt, kh);
	if (r < 0)
		return r;
	if (luks2_check_kdf(&kdf, 0, why, sizeof(why)) < 0)
		return refuse(w, "digest %s: %s", id, why);
	return 0;
}

/* For each member of section (keyslots, segments, digests): the decimal id and the value. */
static int check_section(struct walk *w, const char *section, bool need_one,
			 int (*check)(struct walk *, const char *, uint32_t))
{
	uint32_t obj, key;
	unsigned n = 0;
	int r = get_object(w, 0, section, "header:", &obj);

	if (r < 0)
		return r;
	for (key = json_doc_first(w->doc, obj); key != 0; key = json_doc_next(w->doc, json_doc_next(w->doc, key))) {
		char id[8];
		uint64_t num = 0;
		size_t len;

		if (json_doc_string(w->doc, key, id, sizeof(id)) < 0 || (len = strlen(id)) == 0 ||
		    strspn(id, "0123456789") != len || (len > 1 && id[0] == '0'))
			return refuse(w, "%s: an id is not a decimal number", section);
		for (size_t i = 0; i < len; i++)
			num = num * 10 + (uint64_t)(id[i] - '0');
		if (strcmp(section, "keyslots") == 0 && num >= LUKS2_KEYSLOTS_MAX)
			return refuse(w, "keyslot %s: id is out of range", id);
		r = check(w, id, json_doc_next(w->doc, key));
		if (r < 0)
			return r;
		n++;
	}
	if (need_one && n == 0)
		return refuse(w, "there is no %s", section);
	return 0;
}

static int check_json(struct walk *w)
{
	int r = check_section(w, "keyslots", false, check_keyslot);

	if (r >= 0)
		r = check_section(w, "segments", true, check_segment);
	if (r >= 0)
		r = check_section(w, "digests", true, check_digest);
	return r;
}

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static bool valid_hdr_size(uint64_t s)
{
	for (uint64_t v = LUKS2_HDR_SIZE_MIN; v <= LUKS2_HDR_SIZE_MAX; v *= 2)
		if (s == v)
			return true;
	return false;
}

static int check_text(struct walk *w, const char *text, size_t len, struct json_node *nodes);

/* The copy at off: 1 if it is a valid copy and passes, 0 if it is not a copy libcryptsetup would
 * load (no magic, another version, a bad checksum, not on the device), -EPERM (reason set) if it
 * is or might be loaded and fails, -ENOMEM. */
static int check_copy(const uint8_t *hdr, size_t len, size_t off, uint64_t avail, struct walk *w,
		      struct json_node *nodes, struct luks2_verdict *v)
{
	const uint8_t *h = hdr + off;
	uint8_t csum[SHA256_DIGEST_SIZE], zero[BIN_CSUM_LEN] = { 0 };
	struct sha256_ctx c;
	uint64_t hdr_size;
	size_t json_len;

	if (off + LUKS2_HDR_BIN_SIZE > len)
		return 0;
	if (memcmp(h + BIN_MAGIC, magic_primary, MAGIC_LEN) != 0 &&
	    memcmp(h + BIN_MAGIC, magic_secondary, MAGIC_LEN) != 0)
		return 0;
	if (h[BIN_VERSION] != 0 || h[BIN_VERSION + 1] != 2)
		return 0;
	w->memory_available_kib = avail;
	w->where[0] = '\0';
	if (off != 0)
		snprintf(w->where, sizeof(w->where), "secondary header at %zu: ", off);
	hdr_size = be64(h + BIN_HDR_SIZE);
	/* Fail closed on what cannot be verified: libcryptsetup might still load it. */
	if (!valid_hdr_size(hdr_size))
		return refuse(w, "header size %llu is invalid", (unsigned long long)hdr_size);
	if (memchr(h + BIN_CSUM_ALG, '\0', BIN_CSUM_ALG_LEN) == NULL ||
	    strcmp((const char *)h + BIN_CSUM_ALG, "sha256") != 0)
		return refuse(w, "checksum algorithm %.31s is not sha256", (const char *)h + BIN_CSUM_ALG);
	if (off + hdr_size > len)
		return 0; /* the device ends before the copy does */

	sha256_init(&c);
	sha256_update(&c, BIN_CSUM, h);
	sha256_update(&c, BIN_CSUM_LEN, zero);
	sha256_update(&c, (size_t)hdr_size - BIN_CSUM - BIN_CSUM_LEN, h + BIN_CSUM + BIN_CSUM_LEN);
	sha256_final(&c, csum);
	if (memcmp(csum, h + BIN_CSUM, sizeof(csum)) != 0)
		return 0;

	v->copies++;
	if (v->uuid[0] == '\0' && memchr(h + BIN_UUID, '\0', BIN_UUID_LEN) != NULL)
		snprintf(v->uuid, sizeof(v->uuid), "%s", (const char *)h + BIN_UUID);
	/* The JSON text ends at the first NUL of the area; an area without one is refused. */
	json_len = strnlen((const char *)h + LUKS2_HDR_BIN_SIZE, (size_t)hdr_size - LUKS2_HDR_BIN_SIZE);
	if (json_len == (size_t)hdr_size - LUKS2_HDR_BIN_SIZE)
		return refuse(w, "the JSON area is not terminated");
	return check_text(w, (const char *)h + LUKS2_HDR_BIN_SIZE, json_len, nodes);
}

/* The JSON metadata text: 1 if it passes, -EPERM (reason set) if not. */
static int check_text(struct walk *w, const char *text, size_t len, struct json_node *nodes)
{
	struct json_limits lim = { .max_len = len, .max_depth = HEADER_DEPTH_MAX };
	struct json_doc doc;
	int r = json_doc_parse(text, len, &lim, nodes, HEADER_NODES_MAX, &doc, NULL);

	if (r < 0)
		return refuse(w, "the JSON metadata is not valid strict JSON (%s)",
			      r == -ENOTUNIQ ? "duplicate key" : r == -E2BIG ? "too large" :
			      r == -ELOOP ? "nested too deeply" : r == -EILSEQ ? "invalid UTF-8" : "syntax");
	if (doc.nodes[0].type != JSON_OBJECT) {
		json_doc_free(&doc);
		return refuse(w, "the JSON metadata is not an object");
	}
	w->doc = &doc;
	r = check_json(w);
	w->doc = NULL;
	json_doc_free(&doc);
	return r < 0 ? r : 1;
}

/* Copies are gathered in ascending offset order: a binary header at off is read at its own step
 * and no later read starts below off + LUKS2_HDR_SIZE_MIN, so the bytes that decide whether a
 * copy is looked at are the ones its copy was read for. */
int luks2_header_gather(uint8_t *hdr, size_t len, luks2_read_fn read_at, void *userdata)
{
	if (!hdr || !read_at)
		return -EINVAL;
	for (size_t off = 0; off <= LUKS2_HDR_SIZE_MAX; off = off ? off * 2 : LUKS2_HDR_SIZE_MIN) {
		const uint8_t *h = hdr + off;
		uint64_t hdr_size;
		int r;

		if (off + LUKS2_HDR_BIN_SIZE > len)
			break;
		r = read_at(userdata, hdr + off, LUKS2_HDR_BIN_SIZE, off);
		if (r < 0)
			return r;
		if ((memcmp(h + BIN_MAGIC, magic_primary, MAGIC_LEN) != 0 &&
		     memcmp(h + BIN_MAGIC, magic_secondary, MAGIC_LEN) != 0) ||
		    h[BIN_VERSION] != 0 || h[BIN_VERSION + 1] != 2)
			continue;
		hdr_size = be64(h + BIN_HDR_SIZE);
		if (!valid_hdr_size(hdr_size) || off + hdr_size > len)
			continue;
		r = read_at(userdata, hdr + off + LUKS2_HDR_BIN_SIZE, (size_t)hdr_size - LUKS2_HDR_BIN_SIZE,
			    off + LUKS2_HDR_BIN_SIZE);
		if (r < 0)
			return r;
	}
	return 0;
}

int luks2_header_check(const uint8_t *hdr, size_t len, uint64_t memory_available_kib,
		       struct luks2_verdict *v)
{
	struct json_node *nodes;
	struct walk w = { 0 };
	size_t offs[2 + 9];
	size_t n_offs = 0;
	int r = 0;

	if (!v)
		return -EINVAL;
	memset(v, 0, sizeof(*v));
	if (!hdr && len > 0)
		return -EINVAL;
	nodes = malloc(HEADER_NODES_MAX * sizeof(*nodes));
	if (!nodes)
		return -ENOMEM;
	/* 0, then every offset libcryptsetup may take a secondary from; the primary's hdr_size is
	 * one of them, since hdr_size must be one of these sizes. */
	offs[n_offs++] = 0;
	for (size_t o = LUKS2_HDR_SIZE_MIN; o <= LUKS2_HDR_SIZE_MAX; o *= 2)
		offs[n_offs++] = o;
	w.reason = v->reason;
	for (size_t i = 0; i < n_offs; i++) {
		r = check_copy(hdr, len, offs[i], memory_available_kib, &w, nodes, v);
		if (r < 0)
			break;
	}
	free(nodes);
	v->pbkdf_memory_kib = w.pbkdf_memory_kib;
	if (r < 0)
		return r == -EPERM ? 0 : r;
	if (v->copies == 0) {
		snprintf(v->reason, sizeof(v->reason), "no LUKS2 header copy with a valid checksum");
		return -EMEDIUMTYPE;
	}
	v->acceptable = true;
	return 0;
}

int luks2_metadata_check(const char *json, size_t len, uint64_t memory_available_kib,
			 struct luks2_verdict *v)
{
	struct json_node *nodes;
	struct walk w = { .memory_available_kib = memory_available_kib };
	int r;

	if (!v)
		return -EINVAL;
	memset(v, 0, sizeof(*v));
	if ((!json && len > 0) || len > JSON_LEN_MAX)
		return -EINVAL;
	nodes = malloc(HEADER_NODES_MAX * sizeof(*nodes));
	if (!nodes)
		return -ENOMEM;
	w.reason = v->reason;
	r = check_text(&w, json ? json : "", len, nodes);
	free(nodes);
	v->pbkdf_memory_kib = w.pbkdf_memory_kib;
	v->copies = 1;
	v->acceptable = r >= 0;
	return r == -EPERM || r >= 0 ? 0 : r;
}
