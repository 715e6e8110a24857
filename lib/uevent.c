/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include "edgeinit/strutil.h"
#include "edgeinit/uevent.h"

/* Store KEY=VALUE if it is one we keep. Over-long values are rejected, not truncated: a
 * truncated device name would name another device. */
static int uevent_take(struct uevent *ev, const char *kv, size_t len)
{
	static const struct {
		const char *key;
		size_t offset, size;
	} fields[] = {
#define F(k, m) { k "=", offsetof(struct uevent, m), sizeof(((struct uevent *)0)->m) }
		F("ACTION", action), F("DEVPATH", devpath), F("SUBSYSTEM", subsystem),
		F("DEVNAME", devname), F("DEVTYPE", devtype), F("MODALIAS", modalias),
		F("PARTNAME", partname), F("PARTN", partn),
#undef F
	};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		size_t klen = strlen(fields[i].key);

		if (len < klen || memcmp(kv, fields[i].key, klen) != 0)
			continue;
		return str_copy_n((char *)ev + fields[i].offset, fields[i].size, kv + klen, len - klen)
			       < 0 ? -EINVAL : 0;
	}
	return 0;
}

static int uevent_parse_lines(const char *buf, size_t len, char sep, struct uevent *ev)
{
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *e = memchr(p, sep, (size_t)(end - p));
		size_t n = e ? (size_t)(e - p) : (size_t)(end - p);

		if (n > 0 && memchr(p, '\0', n))
			return -EINVAL;
		if (n > 0 && uevent_take(ev, p, n) < 0)
			return -EINVAL;
		p += n + 1;
	}
	return 0;
}

int uevent_parse_netlink(const char *buf, size_t len, struct uevent *ev)
{
	const char *at, *hdr_end;
	int r;

	memset(ev, 0, sizeof(*ev));
	if (!buf || len == 0)
		return -EINVAL;
	hdr_end = memchr(buf, '\0', len);
	if (!hdr_end)
		return -EINVAL;
	/* Kernel messages start with "action@devpath"; udev's start with "libudev". */
	at = memchr(buf, '@', (size_t)(hdr_end - buf));
	if (!at || at == buf)
		return -EINVAL;
	r = uevent_parse_lines(hdr_end + 1, len - (size_t)(hdr_end + 1 - buf), '\0', ev);
	if (r < 0)
		return r;
	if (!ev->action[0] || !ev->devpath[0] || !ev->subsystem[0])
		return -EINVAL;
	return 0;
}

int uevent_parse_sysfs(const char *buf, size_t len, struct uevent *ev)
{
	memset(ev, 0, sizeof(*ev));
	if (!buf)
		return -EINVAL;
	return uevent_parse_lines(buf, len, '\n', ev);
}
