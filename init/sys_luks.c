/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* LUKS2 and the console prompt behind struct sys_ops. The volume is unlocked in two steps
 * (passphrase -> volume key, then activation by volume key) so that the stage can latch the
 * volume key into PCR 15 the way systemd-cryptsetup does. */
#include <errno.h>
#include <fcntl.h>
#include <libcryptsetup.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "edgeinit/log.h"
#include "edgeinit/luks2_header.h"
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

/* One loaded header per volume, from its inspection to its activation. A disk may return other
 * bytes on a later read: every step then uses the metadata the checks passed, the token, the
 * derivation's keyslot and the activation's segment alike, and the header is read and parsed once
 * (three loads fewer per volume). Only a header both checks accepted is kept, with the device
 * number its node had (another disk under the same name is a new load). A volume is taken out
 * while a step uses it, so derivations of different volumes run in parallel. A step that finds
 * none loads and checks again, as an inspection does; one never activated goes when /init execs. */
#define LOADED_VOLUMES_MAX 32
static struct loaded_volume {
	char node[256];
	dev_t rdev;
	struct crypt_device *cd;
} loaded_volumes[LOADED_VOLUMES_MAX];
static pthread_mutex_t loaded_lock = PTHREAD_MUTEX_INITIALIZER;

static dev_t node_rdev(const char *node)
{
	struct stat st;

	return stat(node, &st) == 0 ? st.st_rdev : 0;
}

/* Take node's entries out of the table; returns the last one's header if it is still for the
 * device at node (the others are freed). */
static struct crypt_device *volume_take(const char *node)
{
	struct crypt_device *found = NULL, *stale[LOADED_VOLUMES_MAX];
	size_t n_stale = 0;
	dev_t rdev = node_rdev(node);

	pthread_mutex_lock(&loaded_lock);
	for (size_t i = 0; i < LOADED_VOLUMES_MAX; i++) {
		struct loaded_volume *l = &loaded_volumes[i];

		if (!l->cd || !streq(l->node, node))
			continue;
		if (found)
			stale[n_stale++] = found;
		found = l->cd;
		if (l->rdev != rdev) {
			stale[n_stale++] = found;
			found = NULL;
		}
		l->cd = NULL;
	}
	pthread_mutex_unlock(&loaded_lock);
	while (n_stale > 0)
		crypt_free(stale[--n_stale]);
	return found;
}

/* Keep node's accepted header for the next step (replacing any other of node's). A full table or
 * a name too long for it: freed, and the next step loads and checks again. */
static void volume_keep(const char *node, struct crypt_device *cd)
{
	crypt_free(volume_take(node));
	pthread_mutex_lock(&loaded_lock);
	for (size_t i = 0; cd && i < LOADED_VOLUMES_MAX; i++) {
		struct loaded_volume *l = &loaded_volumes[i];

		if (!l->cd && str_copy(l->node, sizeof(l->node), node) >= 0) {
			l->cd = cd;
			l->rdev = node_rdev(node);
			cd = NULL;
		}
	}
	pthread_mutex_unlock(&loaded_lock);
	crypt_free(cd);
}

/* A /proc/meminfo field ("MemAvailable:") in KiB, 0 if unknown (then only the fixed bound
 * applies). */
static uint64_t meminfo_kib(const char *field)
{
	unsigned long long v = 0;
	char line[128];
	size_t n = strlen(field);
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, n) == 0 && sscanf(line + n, "%llu kB", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* Exactly len bytes at off: a short read inside the device is an I/O error. */
static int pread_exact(void *userdata, uint8_t *buf, size_t len, uint64_t off)
{
	int fd = *(const int *)userdata;
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, buf + got, len - got, (off_t)(off + got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return negative_errno();
		if (n == 0)
			return -EIO;
		got += (size_t)n;
	}
	return 0;
}

/* The first LUKS2_HEADER_SCAN_BYTES of node (less if the device is smaller), as
 * luks2_header_check sees them: the copies gathered (tens of KiB) into a zeroed buffer as large
 * as the area (calloc maps it lazily). */
static int read_header_area(const char *node, uint8_t **ret, size_t *ret_len)
{
	size_t len;
	uint8_t *buf;
	off_t end;
	int r, fd = open(node, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return negative_errno();
	end = lseek(fd, 0, SEEK_END);
	if (end < 0) {
		r = negative_errno();
		close(fd);
		return r;
	}
	len = (uint64_t)end < LUKS2_HEADER_SCAN_BYTES ? (size_t)end : LUKS2_HEADER_SCAN_BYTES;
	buf = calloc(1, len > 0 ? len : 1);
	r = buf ? luks2_header_gather(buf, len, pread_exact, &fd) : -ENOMEM;
	close(fd);
	if (r < 0) {
		free(buf);
		return r;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

/* The header libcryptsetup loaded into cd, the one crypt_volume_key_get() would use, against the
 * same table and bounds: a disk may return other bytes than those inspected before. 0, or
 * -EKEYREJECTED with why. */
static int check_loaded(struct crypt_device *cd, uint64_t avail_kib, char *why, size_t size)
{
	struct crypt_params_integrity ip = { 0 };
	struct luks2_verdict v;
	char w[LUKS2_REASON_MAX], spec[128];
	const char *c, *m, *json = NULL;
	int r;

	for (int slot = 0; slot < crypt_keyslot_max(CRYPT_LUKS2); slot++) {
		crypt_keyslot_info st = crypt_keyslot_status(cd, slot);
		struct crypt_pbkdf_type pbkdf;
		struct luks2_kdf kdf;
		size_t key_size = 0;
		const char *enc;

		if (st != CRYPT_SLOT_ACTIVE && st != CRYPT_SLOT_ACTIVE_LAST && st != CRYPT_SLOT_UNBOUND)
			continue;
		if (crypt_keyslot_get_pbkdf(cd, slot, &pbkdf) < 0) {
			if (st == CRYPT_SLOT_UNBOUND)
				continue; /* a reencryption keyslot: no KDF, no key */
			snprintf(why, size, "keyslot %d: no PBKDF", slot);
			return -EKEYREJECTED;
		}
		kdf = (struct luks2_kdf){ .type = pbkdf.type, .hash = pbkdf.hash };
		if (pbkdf.type && strcmp(pbkdf.type, CRYPT_KDF_PBKDF2) == 0)
			kdf.iterations = pbkdf.iterations;
		else {
			kdf.time = pbkdf.iterations; /* argon2's time cost, as libcryptsetup reports it */
			kdf.memory_kib = pbkdf.max_memory_kb;
			kdf.cpus = pbkdf.parallel_threads;
		}
		if (luks2_check_kdf(&kdf, avail_kib, w, sizeof(w)) < 0) {
			snprintf(why, size, "keyslot %d: %.160s", slot, w);
			return -EKEYREJECTED;
		}
		enc = crypt_keyslot_get_encryption(cd, slot, &key_size);
		if (luks2_check_encryption(enc, key_size, w, sizeof(w)) < 0) {
			snprintf(why, size, "keyslot %d: area %.160s", slot, w);
			return -EKEYREJECTED;
		}
	}
	c = crypt_get_cipher(cd);
	m = crypt_get_cipher_mode(cd);
	snprintf(spec, sizeof(spec), "%s-%s", c ? c : "", m ? m : "");
	if (!luks2_cipher_lookup(spec)) {
		snprintf(why, size, "segment: cipher %.64s is not allowed", spec);
		return -EKEYREJECTED;
	}
	if (crypt_get_integrity_info(cd, &ip) >= 0 && ip.integrity) {
		snprintf(why, size, "segment: dm-integrity is not allowed");
		return -EKEYREJECTED;
	}
	/* Digests, the splitter and everything else: the loaded metadata through the full policy. */
	r = crypt_dump_json(cd, &json, 0);
	if (r < 0 || !json) {
		snprintf(why, size, "the loaded metadata cannot be read back");
		return -EKEYREJECTED;
	}
	r = luks2_metadata_check(json, strlen(json), avail_kib, &v);
	if (r < 0) {
		snprintf(why, size, "the loaded metadata cannot be checked (%s)", strerror(-r));
		return -EKEYREJECTED;
	}
	if (!v.acceptable) {
		snprintf(why, size, "%s", v.reason);
		return -EKEYREJECTED;
	}
	return 0;
}

/* Load node's header and run both checks on it: every header copy on the disk
 * (luks2_header_check) and what libcryptsetup loaded (check_loaded), against avail_kib. info gets
 * the UUID and, if refused, why; cd is loaded when this returns 0. */
static int load_checked(const char *node, uint64_t avail, struct crypt_device **cd,
			struct luks_info *info)
{
	struct luks2_verdict v;
	uint8_t *hdr = NULL;
	size_t len = 0;
	const char *u;
	int r;

	memset(info, 0, sizeof(*info));
	r = luks_load(node, cd);
	if (r < 0)
		return r;
	u = crypt_get_uuid(*cd);
	r = u ? str_copy(info->uuid, sizeof(info->uuid), u) : -EBADMSG;
	if (r >= 0)
		r = read_header_area(node, &hdr, &len);
	if (r >= 0) {
		/* -EMEDIUMTYPE: libcryptsetup loaded a header with no copy the checker could verify. */
		r = luks2_header_check(hdr, len, avail, &v);
		free(hdr);
		if (r >= 0 || r == -EMEDIUMTYPE) {
			r = 0;
			info->pbkdf_memory_kib = v.pbkdf_memory_kib;
			if (!v.acceptable)
				snprintf(info->rejected, sizeof(info->rejected), "%s", v.reason);
		}
	}
	if (r >= 0 && info->rejected[0] == '\0') {
		char why[LUKS2_REASON_MAX];

		if (check_loaded(*cd, avail, why, sizeof(why)) == -EKEYREJECTED)
			snprintf(info->rejected, sizeof(info->rejected), "%s", why);
	}
	if (r < 0) {
		crypt_free(*cd);
		*cd = NULL;
	}
	return r;
}

int real_luks_inspect(const char *node, struct luks_info *info)
{
	struct crypt_device *cd;
	int r;

	crypt_free(volume_take(node)); /* an inspection reads the disk again */
	r = load_checked(node, meminfo_kib("MemAvailable:"), &cd, info);
	if (r < 0)
		return r;
	if (info->rejected[0] == '\0')
		volume_keep(node, cd);
	else
		crypt_free(cd);
	return 0;
}

/* node's header for a step that reads or uses it: the inspected one, else a new load that must
 * pass both checks first (-EKEYREJECTED, with why logged, since the stage only sees the code).
 * MemTotal, not MemAvailable: derivations for other volumes may run right now and hold memory;
 * the inspection already held each keyslot against what was available. */
static int volume_take_accepted(const char *node, struct crypt_device **cd)
{
	struct luks_info info;
	int r;

	*cd = volume_take(node);
	if (*cd)
		return 0;
	r = load_checked(node, meminfo_kib("MemTotal:"), cd, &info);
	if (r < 0)
		return r;
	if (info.rejected[0] == '\0')
		return 0;
	log_error("The LUKS2 header libcryptsetup loaded from %s is refused: %s.", node, info.rejected);
	crypt_free(*cd);
	*cd = NULL;
	return -EKEYREJECTED;
}

int real_luks_token_json(const char *node, int token, char *buf, size_t size)
{
	struct crypt_device *cd;
	const char *json = NULL;
	int r = volume_take_accepted(node, &cd);

	if (r < 0)
		return r;
	r = crypt_token_json_get(cd, token, &json);
	if (r >= 0) {
		size_t len = strlen(json);

		r = len < size ? (memcpy(buf, json, len + 1), (int)len) : -E2BIG;
	} else if (r == -EINVAL)
		r = -ENOENT; /* an empty token slot */
	volume_keep(node, cd);
	return r;
}

/* Each volume's crypt_device is used by one call at a time; with the kernel crypto backend the
 * keyslot is decrypted through AF_ALG, not device-mapper, so calls for different nodes may run
 * in parallel threads. */
int real_luks_derive_key(const char *node, int keyslot, const char *pass, size_t pass_len,
			 uint8_t *volume_key, size_t *volume_key_size)
{
	struct crypt_device *cd;
	int r = volume_take_accepted(node, &cd);

	if (r < 0)
		return r;
	r = crypt_volume_key_get(cd, keyslot < 0 ? CRYPT_ANY_SLOT : keyslot, (char *)volume_key,
				 volume_key_size, pass, pass_len);
	volume_keep(node, cd);
	return r < 0 ? r : 0;
}

int real_luks_activate_key(const char *node, const char *name, const uint8_t *volume_key,
			   size_t volume_key_size)
{
	struct crypt_device *cd;
	/* The segment's cipher and integrity are checked like the keyslot was: a header read again
	 * here is not trusted because an earlier read passed. */
	int r = volume_take_accepted(node, &cd);

	if (r < 0)
		return r;
	r = crypt_activate_by_volume_key(cd, name, (const char *)volume_key, volume_key_size, 0);
	crypt_free(cd);
	return r;
}

int real_ask_password(const char *prompt, char *buf, size_t size, unsigned timeout_sec)
{
	struct termios old, quiet;
	struct timespec now;
	int64_t deadline_ms = -1;
	size_t len = 0;
	int fd, r = 0;

	fd = open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	/* No echo, canonical mode: the passphrase never reaches the screen, and the kernel's line
	 * discipline wipes its read buffer as it hands over input in exactly this mode. A console
	 * where that cannot be set is not asked at all. */
	if (tcgetattr(fd, &old) < 0) {
		r = negative_errno();
		close(fd);
		return r;
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	if (tcsetattr(fd, TCSANOW, &quiet) < 0) {
		r = negative_errno();
		close(fd);
		return r;
	}
	(void)tcflush(fd, TCIFLUSH);
	(void)!write(fd, prompt, strlen(prompt));
	if (timeout_sec) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		deadline_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000 + (int64_t)timeout_sec * 1000;
	}
	/* The whole answer is bounded, not each key stroke. */
	while (len + 1 < size) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int wait_ms = -1, n;
		char c;

		if (deadline_ms >= 0) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			int64_t left = deadline_ms - ((int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000);
			wait_ms = left > 0 ? (int)left : 0;
		}
		n = poll(&p, 1, wait_ms);
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
		c = 0;
	}
	buf[len] = '\0';
	/* Anything typed after the line must not stay queued for whoever reads next. */
	(void)tcflush(fd, TCIFLUSH);
	(void)tcsetattr(fd, TCSANOW, &old);
	(void)!write(fd, "\n", 1);
	close(fd);
	if (r < 0) {
		explicit_bzero(buf, size);
		return r;
	}
	return (int)len;
}
