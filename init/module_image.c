/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* See module_image.h. */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
/* ZSTD_findDecompressedSize(): all frames' sizes (a module may be several frames). */
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include "edgeinit/macro.h"
#include "module_image.h"

/* One per thread (the background loader and the main thread insert at the same time); its
 * tables are reused from one module to the next. */
static __thread ZSTD_DCtx *dctx;

static void *map_populated(size_t size, int prot, int flags, int fd)
{
	return mmap(NULL, size, prot, flags | MAP_POPULATE, fd, 0);
}

int module_image_inflate(const char *path, struct module_image *img)
{
	_cleanup_close_ int fd = -EBADF;
	unsigned long long declared;
	void *packed = MAP_FAILED;
	struct stat st;
	size_t n;
	int r;

	*img = (struct module_image){ 0 };
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) < 0)
		return negative_errno();
	if (!S_ISREG(st.st_mode) || st.st_size <= 0)
		return -EBADMSG;
	if ((unsigned long long)st.st_size > MODULE_IMAGE_MAX)
		return -EFBIG;
	/* The initrd's file is in the page cache already: mapping it copies nothing. */
	packed = map_populated((size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd);
	if (packed == MAP_FAILED)
		return negative_errno();
	declared = ZSTD_findDecompressedSize(packed, (size_t)st.st_size);
	if (declared == ZSTD_CONTENTSIZE_UNKNOWN)
		r = -ENODATA;
	else if (declared == ZSTD_CONTENTSIZE_ERROR || declared == 0)
		r = -EBADMSG;
	else if (declared > MODULE_IMAGE_MAX)
		r = -EFBIG;
	else {
		img->size = (size_t)declared;
		img->data = map_populated(img->size, PROT_READ | PROT_WRITE,
					  MAP_PRIVATE | MAP_ANONYMOUS, -1);
		if (img->data == MAP_FAILED) {
			img->data = NULL;
			r = negative_errno();
		} else if (!dctx && !(dctx = ZSTD_createDCtx()))
			r = -ENOMEM;
		else {
			/* Never writes past img->size; more bytes than declared is an error. */
			n = ZSTD_decompressDCtx(dctx, img->data, img->size, packed, (size_t)st.st_size);
			r = ZSTD_isError(n) || n != img->size ? -EBADMSG : 0;
		}
	}
	munmap(packed, (size_t)st.st_size);
	if (r < 0)
		module_image_release(img);
	return r;
}

void module_image_release(struct module_image *img)
{
	if (img->data)
		munmap(img->data, img->size);
	*img = (struct module_image){ 0 };
}

void module_image_thread_end(void)
{
	ZSTD_freeDCtx(dctx);
	dctx = NULL;
}
