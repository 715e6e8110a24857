/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: kernel netlink uevents and sysfs uevent files. The input is used as is
 * (not NUL-terminated), exactly as recv() would deliver it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edgeinit/uevent.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)
#define TERMINATED(f) (memchr((f), '\0', sizeof(f)) != NULL)

static void check_fields(const struct uevent *ev)
{
	CHECK(TERMINATED(ev->action) && TERMINATED(ev->devpath) && TERMINATED(ev->subsystem));
	CHECK(TERMINATED(ev->devname) && TERMINATED(ev->devtype) && TERMINATED(ev->modalias));
	CHECK(TERMINATED(ev->partname));
}

/* A field value that was stored must appear verbatim as KEY=value in the input. */
static void check_from_input(const uint8_t *data, size_t size, const char *key, const char *value)
{
	char needle[UEVENT_FIELD_MAX + 32];
	size_t n;

	if (!value[0])
		return;
	n = (size_t)snprintf(needle, sizeof(needle), "%s=%s", key, value);
	CHECK(n < sizeof(needle));
	CHECK(memmem(data, size, needle, n) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct uevent ev;
	int r;

	r = uevent_parse_netlink((const char *)data, size, &ev);
	CHECK(r == 0 || r == -EINVAL);
	check_fields(&ev);
	if (r == 0) {
		const uint8_t *nul = memchr(data, '\0', size), *at;

		CHECK(ev.action[0] && ev.devpath[0] && ev.subsystem[0]);
		/* Accepted messages carry a kernel "action@devpath" header. */
		CHECK(nul);
		at = memchr(data, '@', (size_t)(nul - data));
		CHECK(at && at != data);
		check_from_input(data, size, "ACTION", ev.action);
		check_from_input(data, size, "DEVPATH", ev.devpath);
		check_from_input(data, size, "DEVNAME", ev.devname);
		check_from_input(data, size, "PARTNAME", ev.partname);
	}

	r = uevent_parse_sysfs((const char *)data, size, &ev);
	CHECK(r == 0 || r == -EINVAL);
	check_fields(&ev);
	if (r == 0) {
		check_from_input(data, size, "DEVNAME", ev.devname);
		check_from_input(data, size, "DEVTYPE", ev.devtype);
		check_from_input(data, size, "MODALIAS", ev.modalias);
	}
	return 0;
}
