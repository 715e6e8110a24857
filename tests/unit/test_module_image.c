/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* init/module_image.c on zstd files made here with libzstd: a module comes back byte for byte
 * from one or several frames that declare their size; a frame without its size is left to
 * libkmod (-ENODATA); anything else that does not inflate to exactly what it declares fails. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include "module_image.h"
#include "suites.h"

#define PAYLOAD_BYTES (300u << 10)

static uint8_t payload[PAYLOAD_BYTES];

/* Module-like bytes: compressible, not trivially. */
static void fill_payload(void)
{
	uint32_t x = 2463534242u;

	for (size_t i = 0; i < sizeof(payload); i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		payload[i] = (i % 64 < 48) ? (uint8_t)(i / 64) : (uint8_t)x;
	}
}

/* A zstd frame of src[0, len) appended to buf (at *used), with or without its size declared. */
static void add_frame(uint8_t *buf, size_t cap, size_t *used, const uint8_t *src, size_t len,
		      int declare_size)
{
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	size_t n;

	ck_assert_ptr_nonnull(cctx);
	ck_assert(!ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, declare_size)));
	if (!declare_size) /* without a pledged size the streaming API leaves it out */
		ck_assert(!ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(cctx, ZSTD_CONTENTSIZE_UNKNOWN)));
	n = ZSTD_compress2(cctx, buf + *used, cap - *used, src, len);
	ck_assert_msg(!ZSTD_isError(n), "%s", ZSTD_getErrorName(n));
	ZSTD_freeCCtx(cctx);
	*used += n;
}

static char *write_file(const uint8_t *data, size_t len)
{
	char *path = strdup("/tmp/edgeinit-module-image.XXXXXX");
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
}

static int inflate_bytes(const uint8_t *data, size_t len, struct module_image *img)
{
	char *path = write_file(data, len);
	int r = module_image_inflate(path, img);

	unlink(path);
	free(path);
	return r;
}

static uint8_t packed[PAYLOAD_BYTES * 2];

/* The payload as one frame in packed; returns its length. */
static size_t pack_payload(int declare_size)
{
	size_t used = 0;

	fill_payload();
	add_frame(packed, sizeof(packed), &used, payload, sizeof(payload), declare_size);
	return used;
}

/* The frame's declared size, a 4-byte field right after the header byte for this payload
 * (single segment, no dictionary), checked before a test changes it. */
static uint8_t *declared_size_field(void)
{
	ck_assert_uint_eq(packed[4] >> 6, 2);
	ck_assert_uint_eq(packed[5] | packed[6] << 8 | packed[7] << 16 | (uint32_t)packed[8] << 24,
			  sizeof(payload));
	return packed + 5;
}

START_TEST(test_one_frame_with_size)
{
	struct module_image img;
	size_t used = pack_payload(1);

	ck_assert_int_eq(inflate_bytes(packed, used, &img), 0);
	ck_assert_uint_eq(img.size, sizeof(payload));
	ck_assert_int_eq(memcmp(img.data, payload, sizeof(payload)), 0);
	module_image_release(&img);
	ck_assert_ptr_null(img.data);
	/* The thread's context is kept between modules and freed once. */
	ck_assert_int_eq(inflate_bytes(packed, used, &img), 0);
	ck_assert_int_eq(memcmp(img.data, payload, sizeof(payload)), 0);
	module_image_release(&img);
	module_image_thread_end();
}
END_TEST

START_TEST(test_frames_with_sizes_concatenate)
{
	struct module_image img;
	size_t used = 0;

	fill_payload();
	add_frame(packed, sizeof(packed), &used, payload, 100000, 1);
	add_frame(packed, sizeof(packed), &used, payload + 100000, sizeof(payload) - 100000, 1);
	ck_assert_int_eq(inflate_bytes(packed, used, &img), 0);
	ck_assert_uint_eq(img.size, sizeof(payload));
	ck_assert_int_eq(memcmp(img.data, payload, sizeof(payload)), 0);
	module_image_release(&img);
	module_image_thread_end();
}
END_TEST

START_TEST(test_size_not_declared_is_left_to_libkmod)
{
	struct module_image img;
	size_t used = pack_payload(0);

	ck_assert_int_eq(inflate_bytes(packed, used, &img), -ENODATA);
	ck_assert_ptr_null(img.data);
	/* One frame of several without its size is enough. */
	used = 0;
	add_frame(packed, sizeof(packed), &used, payload, 100000, 1);
	add_frame(packed, sizeof(packed), &used, payload + 100000, 1000, 0);
	ck_assert_int_eq(inflate_bytes(packed, used, &img), -ENODATA);
	module_image_thread_end();
}
END_TEST

START_TEST(test_not_what_it_declares)
{
	struct module_image img;
	size_t used = pack_payload(1);
	uint8_t *size;

	/* A plain .ko, an empty file. */
	ck_assert_int_eq(inflate_bytes(payload, 4096, &img), -EBADMSG);
	ck_assert_int_eq(inflate_bytes(payload, 0, &img), -EBADMSG);
	/* Cut short: the last block is missing. */
	ck_assert_int_eq(inflate_bytes(packed, used - 16, &img), -EBADMSG);
	ck_assert_ptr_null(img.data);
	/* One byte more declared than the blocks hold. */
	size = declared_size_field();
	size[0]++;
	ck_assert_int_eq(inflate_bytes(packed, used, &img), -EBADMSG);
	/* ... and one byte fewer: the output would not fit, zstd stops. */
	size[0] -= 2;
	ck_assert_int_eq(inflate_bytes(packed, used, &img), -EBADMSG);
	ck_assert_ptr_null(img.data);
	module_image_thread_end();
}
END_TEST

START_TEST(test_declares_too_much)
{
	struct module_image img;
	size_t used = pack_payload(1);
	uint32_t big = MODULE_IMAGE_MAX + 1;

	memcpy(declared_size_field(), &big, 4);
	ck_assert_int_eq(inflate_bytes(packed, used, &img), -EFBIG);
	ck_assert_ptr_null(img.data);
}
END_TEST

START_TEST(test_missing_file)
{
	struct module_image img;

	ck_assert_int_eq(module_image_inflate("/nonexistent/edgeinit/ext4.ko.zst", &img), -ENOENT);
	ck_assert_ptr_null(img.data);
}
END_TEST

Suite *module_image_suite(void)
{
	Suite *s = suite_create("module_image");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_one_frame_with_size);
	tcase_add_test(tc, test_frames_with_sizes_concatenate);
	tcase_add_test(tc, test_size_not_declared_is_left_to_libkmod);
	tcase_add_test(tc, test_not_what_it_declares);
	tcase_add_test(tc, test_declares_too_much);
	tcase_add_test(tc, test_missing_file);
	suite_add_tcase(s, tc);
	return s;
}
