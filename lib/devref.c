/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "edgeinit/devref.h"
#include "edgeinit/strutil.h"

struct devref_prefix {
	const char *tag;      /* PARTLABEL= */
	const char *by_link;  /* /dev/disk/by-partlabel/ */
	enum devref_kind kind;
};

static const struct devref_prefix prefixes[] = {
	{ "PARTLABEL=", "/dev/disk/by-partlabel/", DEVREF_PARTLABEL },
	{ "PARTUUID=", "/dev/disk/by-partuuid/", DEVREF_PARTUUID },
	{ "UUID=", "/dev/disk/by-uuid/", DEVREF_UUID },
	{ "LABEL=", "/dev/disk/by-label/", DEVREF_LABEL },
};

int devref_parse(const char *s, struct devref *ref)
{
	const char *rest;

	ref->kind = DEVREF_NONE;
	ref->value[0] = '\0';
	if (!s || !*s)
		return -EINVAL;

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		rest = str_startswith(s, prefixes[i].tag);
		if (!rest)
			rest = str_startswith(s, prefixes[i].by_link);
		if (rest) {
			if (!*rest || strchr(rest, '/'))
				return -EINVAL;
			ref->kind = prefixes[i].kind;
			return str_copy(ref->value, sizeof(ref->value), rest);
		}
	}

	/* Not a tag: it must be an absolute path under /dev. */
	if (!str_startswith(s, "/dev/") || !s[5] || strstr(s, "/../") || strchr(s, '='))
		return -EINVAL;
	ref->kind = DEVREF_PATH;
	return str_copy(ref->value, sizeof(ref->value), s);
}

bool devref_match(const struct devref *ref, const char *devnode, const struct blockdev_tags *tags)
{
	switch (ref->kind) {
	case DEVREF_PATH:
		return devnode && strcmp(ref->value, devnode) == 0;
	case DEVREF_PARTLABEL:
		return tags && tags->partlabel[0] && strcmp(ref->value, tags->partlabel) == 0;
	case DEVREF_PARTUUID:
		return tags && tags->partuuid[0] && strcasecmp(ref->value, tags->partuuid) == 0;
	case DEVREF_UUID:
		return tags && tags->uuid[0] && strcasecmp(ref->value, tags->uuid) == 0;
	case DEVREF_LABEL:
		return tags && tags->label[0] && strcmp(ref->value, tags->label) == 0;
	case DEVREF_NONE:
		break;
	}
	return false;
}

const char *devref_to_string(const struct devref *ref, char *buf, size_t size)
{
	const char *tag = "";

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (prefixes[i].kind == ref->kind)
			tag = prefixes[i].tag;
	if (ref->kind == DEVREF_NONE)
		snprintf(buf, size, "(none)");
	else
		snprintf(buf, size, "%s%s", tag, ref->value);
	return buf;
}

void uuid_format(const unsigned char b[16], char *buf)
{
	snprintf(buf, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
}
