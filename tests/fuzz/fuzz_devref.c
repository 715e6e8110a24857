/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: device references. Invariants: a parsed reference formats back to a string
 * that parses to the same reference, and matches a device carrying exactly that tag. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgeinit/devref.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct devref ref, again;
	struct blockdev_tags tags, empty;
	char *s, buf[DEVREF_VALUE_MAX + 32], uuid[40];
	int r;

	if (size > 4096)
		return 0;
	s = malloc(size + 1);
	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';

	if (size >= 16) {
		memset(uuid, 'X', sizeof(uuid));
		uuid_format(data, uuid);
		CHECK(strlen(uuid) == 36 && uuid[8] == '-' && uuid[13] == '-' && uuid[18] == '-' && uuid[23] == '-');
	}

	r = devref_parse(s, &ref);
	CHECK(r == 0 || r == -EINVAL || r == -E2BIG);
	CHECK(memchr(ref.value, '\0', sizeof(ref.value)));
	if (r == 0) {
		CHECK(ref.kind != DEVREF_NONE && ref.value[0]);
		if (ref.kind == DEVREF_PATH)
			CHECK(strncmp(ref.value, "/dev/", 5) == 0 && !strstr(ref.value, "/../"));
		else
			CHECK(!strchr(ref.value, '/'));

		devref_to_string(&ref, buf, sizeof(buf));
		CHECK(devref_parse(buf, &again) == 0);
		CHECK(again.kind == ref.kind && strcmp(again.value, ref.value) == 0);

		memset(&tags, 0, sizeof(tags));
		memset(&empty, 0, sizeof(empty));
		switch (ref.kind) {
		case DEVREF_PARTLABEL:
			snprintf(tags.partlabel, sizeof(tags.partlabel), "%s", ref.value);
			break;
		case DEVREF_PARTUUID:
			snprintf(tags.partuuid, sizeof(tags.partuuid), "%s", ref.value);
			break;
		case DEVREF_UUID:
			snprintf(tags.uuid, sizeof(tags.uuid), "%s", ref.value);
			break;
		case DEVREF_LABEL:
			snprintf(tags.label, sizeof(tags.label), "%s", ref.value);
			break;
		default:
			break;
		}
		/* UUIDs longer than the tag field cannot be on a device; everything else must match. */
		if (ref.kind == DEVREF_PATH)
			CHECK(devref_match(&ref, ref.value, &empty));
		else if (!((ref.kind == DEVREF_PARTUUID || ref.kind == DEVREF_UUID) && strlen(ref.value) >= 64))
			CHECK(devref_match(&ref, "/dev/null", &tags));
		/* A device without tags and with another node never matches. */
		snprintf(buf, sizeof(buf), "%sX", ref.value);
		CHECK(!devref_match(&ref, buf, &empty));
		CHECK(!devref_match(&ref, NULL, NULL));
	}
	free(s);
	return 0;
}
