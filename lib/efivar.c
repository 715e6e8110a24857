/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include "edgeinit/efivar.h"

int efivar_decode_uuid(const uint8_t *data, size_t size, uint32_t *attributes, char out[37])
{
	char uuid[37];

	/* Exactly 36 characters and their NUL: anything else is not what the loader writes. */
	if (!data || size != EFIVAR_UUID_FILE_SIZE)
		return -EBADMSG;
	for (size_t i = 0; i < 37; i++) {
		const uint8_t *c = data + 4 + 2 * i;
		char ch = (char)c[0];

		if (c[1] != 0)
			return -EBADMSG;
		if (i == 36) {
			if (ch != '\0')
				return -EBADMSG;
			break;
		}
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (ch != '-')
				return -EBADMSG;
		} else if (ch >= '0' && ch <= '9') {
			/* as is */
		} else if ((ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F')) {
			ch = (char)(ch | 0x20);
		} else {
			return -EBADMSG;
		}
		uuid[i] = ch;
	}
	uuid[36] = '\0';
	if (attributes)
		*attributes = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 |
			      (uint32_t)data[3] << 24;
	memcpy(out, uuid, sizeof(uuid));
	return 0;
}
