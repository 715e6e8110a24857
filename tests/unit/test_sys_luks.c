/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* init/sys_luks.c against real LUKS2 images (files, libcryptsetup; no device-mapper needed): the
 * header a volume was inspected with is the one its key is derived with, whatever the disk
 * returns later, and activation refuses a header the policy refuses before any table is made. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <libcryptsetup.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "edgeinit/sys.h"
#include "suites.h"
#include "sys_real.h"

#define IMAGE_BYTES (20u << 20)
#define HEADER_COPIES_BYTES (32u << 10) /* both 16 KiB metadata copies */
static const char pass[] = "correct horse battery staple";

/* A LUKS2 image at a new path: segment cipher-mode with the volume key vk (vk_size bytes),
 * keyslot 0 aes-xts-plain64 (PBKDF2, 1000 iterations) opened by pass. */
static char *make_volume(const char *cipher, const char *mode, const uint8_t *vk, size_t vk_size)
{
	struct crypt_pbkdf_type fast = { .type = CRYPT_KDF_PBKDF2, .hash = "sha256",
					 .iterations = 1000, .flags = CRYPT_PBKDF_NO_BENCHMARK };
	struct crypt_device *cd = NULL;
	char *path = strdup("/tmp/edgeinit-sys-luks.XXXXXX");
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, IMAGE_BYTES), 0);
	close(fd);
	ck_assert_int_eq(crypt_init(&cd, path), 0);
	ck_assert_int_eq(crypt_set_pbkdf_type(cd, &fast), 0);
	ck_assert_int_eq(crypt_format(cd, CRYPT_LUKS2, cipher, mode, NULL, (const char *)vk, vk_size, NULL), 0);
	ck_assert_int_eq(crypt_keyslot_set_encryption(cd, "aes-xts-plain64", 64), 0);
	ck_assert_int_eq(crypt_keyslot_add_by_volume_key(cd, 0, (const char *)vk, vk_size, pass, strlen(pass)), 0);
	crypt_free(cd);
	return path;
}

/* A disk that returns other bytes from now on: both metadata copies are zeros. */
static void erase_headers(const char *path)
{
	static const uint8_t zeros[HEADER_COPIES_BYTES];
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, zeros, sizeof(zeros), 0), (ssize_t)sizeof(zeros));
	close(fd);
}

static void fill_key(uint8_t vk[64])
{
	for (int i = 0; i < 64; i++)
		vk[i] = (uint8_t)(0xa5 ^ (i * 7));
}

/* A volume with key vk, inspected (and accepted), then both header copies zeroed on disk. */
static char *inspected_then_erased(uint8_t vk[64])
{
	struct luks_info info;
	char *path;

	fill_key(vk);
	path = make_volume("aes", "xts-plain64", vk, 64);
	ck_assert_int_eq(real_luks_inspect(path, &info), 0);
	ck_assert_str_eq(info.rejected, "");
	erase_headers(path);
	return path;
}

/* A volume the policy refuses: segment aes-cbc-plain with the volume key vk (32 bytes). */
static char *refused_volume(uint8_t vk[32])
{
	for (int i = 0; i < 32; i++)
		vk[i] = (uint8_t)i;
	return make_volume("aes", "cbc-plain", vk, 32);
}

START_TEST(derive_uses_the_header_inspected)
{
	uint8_t vk[64], got[64] = { 0 };
	size_t got_size = sizeof(got);
	struct luks_info info;
	char *path = inspected_then_erased(vk);

	/* Read again, the disk holds no LUKS2 header any more; the key comes from what was checked. */
	ck_assert_int_eq(real_luks_derive_key(path, 0, pass, strlen(pass), got, &got_size), 0);
	ck_assert_uint_eq(got_size, 64);
	ck_assert_mem_eq(got, vk, 64);
	/* A new inspection reads the disk again. */
	ck_assert_int_eq(real_luks_inspect(path, &info), -EMEDIUMTYPE);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(derive_with_a_wrong_passphrase_keeps_the_header)
{
	uint8_t vk[64], got[64];
	size_t got_size = sizeof(got);
	char *path = inspected_then_erased(vk);

	ck_assert_int_eq(real_luks_derive_key(path, 0, "wrong", 5, got, &got_size), -EPERM);
	got_size = sizeof(got);
	ck_assert_int_eq(real_luks_derive_key(path, 0, pass, strlen(pass), got, &got_size), 0);
	ck_assert_mem_eq(got, vk, 64);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(activate_refuses_a_header_the_policy_refuses)
{
	uint8_t vk[32];
	/* Never inspected here (or changed since): the segment's aes-cbc-plain is outside the policy,
	 * so no table is made with it (which would need device-mapper: it is never reached). */
	char *path = refused_volume(vk);

	ck_assert_int_eq(real_luks_activate_key(path, "edgeinit-test-refused", vk, sizeof(vk)), -EKEYREJECTED);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(activate_uses_the_header_inspected)
{
	uint8_t vk[64];
	char *path = inspected_then_erased(vk);

	/* name NULL: libcryptsetup verifies the key against the loaded digest, no device-mapper. */
	ck_assert_int_eq(real_luks_activate_key(path, NULL, vk, 64), 0);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(derive_refuses_an_uninspected_refused_header)
{
	uint8_t vk[32], got[64];
	size_t got_size = sizeof(got);
	char *path = refused_volume(vk);

	ck_assert_int_eq(real_luks_derive_key(path, 0, pass, strlen(pass), got, &got_size), -EKEYREJECTED);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(derive_refuses_what_inspect_refused)
{
	uint8_t vk[32], got[64];
	size_t got_size = sizeof(got);
	struct luks_info info;
	char *path = refused_volume(vk);

	ck_assert_int_eq(real_luks_inspect(path, &info), 0);
	ck_assert_str_ne(info.rejected, "");
	ck_assert_int_eq(real_luks_derive_key(path, 0, pass, strlen(pass), got, &got_size), -EKEYREJECTED);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(reinspection_replaces_the_header)
{
	uint8_t vk[64], vk2[64], got[64];
	size_t got_size = sizeof(got);
	struct luks_info info;
	char *path = inspected_then_erased(vk), *other;
	int fd, ofd;
	static uint8_t buf[1 << 20];

	for (int i = 0; i < 64; i++)
		vk2[i] = (uint8_t)(i + 1);
	other = make_volume("aes", "xts-plain64", vk2, 64);
	ofd = open(other, O_RDONLY);
	fd = open(path, O_WRONLY);
	ck_assert_int_eq(pread(ofd, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
	ck_assert_int_eq(pwrite(fd, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
	close(fd);
	close(ofd);
	ck_assert_int_eq(real_luks_inspect(path, &info), 0);
	ck_assert_int_eq(real_luks_derive_key(path, 0, pass, strlen(pass), got, &got_size), 0);
	ck_assert_mem_eq(got, vk2, 64);
	unlink(path); unlink(other);
	free(path); free(other);
}
END_TEST

Suite *sys_luks_suite(void)
{
	Suite *s = suite_create("sys_luks");
	TCase *tc = tcase_create("loaded_header");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, derive_uses_the_header_inspected);
	tcase_add_test(tc, derive_with_a_wrong_passphrase_keeps_the_header);
	tcase_add_test(tc, activate_refuses_a_header_the_policy_refuses);
	tcase_add_test(tc, activate_uses_the_header_inspected);
	tcase_add_test(tc, derive_refuses_an_uninspected_refused_header);
	tcase_add_test(tc, derive_refuses_what_inspect_refused);
	tcase_add_test(tc, reinspection_replaces_the_header);
	suite_add_tcase(s, tc);
	return s;
}
