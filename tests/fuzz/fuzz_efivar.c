/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: efivarfs files holding a UUID string (LoaderDevicePartUUID). Invariants: an
 * accepted file gives a lower-case 8-4-4-4-12 UUID that, written back as the loader writes it,
 * decodes to the same UUID and attributes; a rejected one leaves the output untouched. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "edgeinit/efivar.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t again[EFIVAR_UUID_FILE_SIZE];
	char out[37], out2[37];
	uint32_t attr = 0, attr2 = 0;
	int r;

	memset(out, 'X', sizeof(out));
	r = efivar_decode_uuid(data, size, &attr, out);
	CHECK(r == 0 || r == -EBADMSG);
	if (r < 0) {
		for (size_t i = 0; i < sizeof(out); i++)
			CHECK(out[i] == 'X');
		return 0;
	}
	CHECK(size == EFIVAR_UUID_FILE_SIZE && out[36] == '\0' && strlen(out) == 36);
	for (size_t i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			CHECK(out[i] == '-');
		else
			CHECK((out[i] >= '0' && out[i] <= '9') || (out[i] >= 'a' && out[i] <= 'f'));
	}
	memcpy(again, data, 4);
	for (size_t i = 0; i < 37; i++) {
		again[4 + 2 * i] = (uint8_t)out[i];
		again[4 + 2 * i + 1] = 0;
	}
	CHECK(efivar_decode_uuid(again, sizeof(again), &attr2, out2) == 0);
	CHECK(attr2 == attr && strcmp(out, out2) == 0);
	return 0;
}
