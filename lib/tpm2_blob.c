/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Bounds-checked split of systemd's tpm2-blob into TPM2B_PRIVATE and TPM2B_PUBLIC. */
#include <errno.h>

#include "edgeinit/tpm2_blob.h"

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* One TPM2B at *pos: its total size (2 + body), body between 1 and max bytes. */
static int take_tpm2b(const uint8_t *b, size_t size, size_t *pos, size_t max, size_t *ret)
{
	size_t body;

	if (size - *pos < 2)
		return -EBADMSG;
	body = be16(b + *pos);
	if (body == 0 || body > max || size - *pos - 2 < body)
		return -EBADMSG;
	*ret = 2 + body;
	*pos += 2 + body;
	return 0;
}

int tpm2_blob_split(const uint8_t *blob, size_t size, struct tpm2_blob *ret)
{
	struct tpm2_blob t = { 0 };
	size_t pos = 0, pub;

	if (!blob || !ret)
		return -EINVAL;
	t.private_offset = pos;
	if (take_tpm2b(blob, size, &pos, TPM2B_PRIVATE_MAX, &t.private_size) < 0)
		return -EBADMSG;
	t.public_offset = pos;
	if (take_tpm2b(blob, size, &pos, TPM2B_PUBLIC_MAX, &t.public_size) < 0)
		return -EBADMSG;
	if (pos != size)
		return -EBADMSG; /* systemd writes nothing after the public part */

	/* TPMT_PUBLIC: type (2), nameAlg (2), objectAttributes (4), authPolicy (TPM2B_DIGEST), ... */
	pub = t.public_offset + 2;
	if (t.public_size - 2 < 10)
		return -EBADMSG;
	t.type = be16(blob + pub);
	t.name_alg = be16(blob + pub + 2);
	t.attributes = be32(blob + pub + 4);
	t.auth_policy_size = be16(blob + pub + 8);
	t.auth_policy_offset = pub + 10;
	if (t.auth_policy_size > 64 || t.public_size - 2 - 10 < t.auth_policy_size)
		return -EBADMSG;
	*ret = t;
	return 0;
}
