/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* LUKS2 and the console prompt behind struct sys_ops. The volume is unlocked in two steps
 * (passphrase -> volume key, then activation by volume key) so that the stage can latch the
 * volume key into PCR 15 the way systemd-cryptsetup does. */
#include <errno.h>
#include <fcntl.h>
#include <libcryptsetup.h>
#include <poll.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "edgeinit/log.h"
#include "edgeinit/strutil.h"
#include "sys_real.h"

static int luks_load(const char *node, struct crypt_device **cd)
{
	int r = crypt_init(cd, node);

	if (r < 0)
		return r;
	r = crypt_load(*cd, CRYPT_LUKS2, NULL);
	if (r < 0) {
		crypt_free(*cd);
		*cd = NULL;
		return r == -EINVAL ? -EMEDIUMTYPE : r;
	}
	return 0;
}

int real_luks_inspect(const char *node, struct luks_info *info)
{
	struct crypt_device *cd = NULL;
	struct crypt_pbkdf_type pbkdf;
	const char *u;
	int r = luks_load(node, &cd);

	memset(info, 0, sizeof(*info));
	if (r < 0)
		return r;
	u = crypt_get_uuid(cd);
	r = u ? str_copy(info->uuid, sizeof(info->uuid), u) : -EBADMSG;
	for (int slot = 0; r >= 0 && slot < crypt_keyslot_max(CRYPT_LUKS2); slot++) {
		crypt_keyslot_info st = crypt_keyslot_status(cd, slot);

		if ((st == CRYPT_SLOT_ACTIVE || st == CRYPT_SLOT_ACTIVE_LAST) &&
		    crypt_keyslot_get_pbkdf(cd, slot, &pbkdf) >= 0 && pbkdf.max_memory_kb > info->pbkdf_memory_kib)
			info->pbkdf_memory_kib = pbkdf.max_memory_kb;
	}
	crypt_free(cd);
	return r;
}

int real_luks_token_json(const char *node, int token, char *buf, size_t size)
{
	struct crypt_device *cd = NULL;
	const char *json = NULL;
	int r = luks_load(node, &cd);

	if (r < 0)
		return r;
	r = crypt_token_json_get(cd, token, &json);
	if (r >= 0) {
		size_t len = strlen(json);

		r = len < size ? (memcpy(buf, json, len + 1), (int)len) : -E2BIG;
	} else if (r == -EINVAL)
		r = -ENOENT; /* an empty token slot */
	crypt_free(cd);
	return r;
}

/* Each call has its own crypt_device; with the kernel crypto backend the keyslot is decrypted
 * through AF_ALG, not device-mapper, so calls for different nodes may run in parallel threads. */
int real_luks_derive_key(const char *node, int keyslot, const char *pass, size_t pass_len,
			 uint8_t *volume_key, size_t *volume_key_size)
{
	struct crypt_device *cd = NULL;
	int r = luks_load(node, &cd);

	if (r < 0)
		return r;
	r = crypt_volume_key_get(cd, keyslot < 0 ? CRYPT_ANY_SLOT : keyslot, (char *)volume_key,
				 volume_key_size, pass, pass_len);
	crypt_free(cd);
	return r < 0 ? r : 0;
}

int real_luks_activate_key(const char *node, const char *name, const uint8_t *volume_key,
			   size_t volume_key_size)
{
	struct crypt_device *cd = NULL;
	int r = luks_load(node, &cd);

	if (r < 0)
		return r;
	r = crypt_activate_by_volume_key(cd, name, (const char *)volume_key, volume_key_size, 0);
	crypt_free(cd);
	return r;
}

int real_ask_password(const char *prompt, char *buf, size_t size, unsigned timeout_sec)
{
	struct termios old, quiet;
	bool restore = false;
	size_t len = 0;
	int fd, r = 0;

	fd = open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	if (tcgetattr(fd, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		restore = tcsetattr(fd, TCSANOW, &quiet) == 0;
	}
	(void)tcflush(fd, TCIFLUSH);
	(void)!write(fd, prompt, strlen(prompt));
	while (len + 1 < size) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char c;
		int n = poll(&p, 1, timeout_sec ? (int)timeout_sec * 1000 : -1);

		if (n == 0) {
			r = -ETIMEDOUT;
			break;
		}
		if (n < 0 && errno == EINTR)
			continue;
		n = n < 0 ? -1 : (int)read(fd, &c, 1);
		if (n <= 0) {
			r = n == 0 ? -ECANCELED : negative_errno();
			break;
		}
		if (c == '\n' || c == '\r')
			break;
		buf[len++] = c;
	}
	buf[len] = '\0';
	if (restore)
		(void)tcsetattr(fd, TCSANOW, &old);
	(void)!write(fd, "\n", 1);
	close(fd);
	if (r < 0) {
		explicit_bzero(buf, size);
		return r;
	}
	return (int)len;
}
