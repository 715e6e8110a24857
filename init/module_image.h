/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A zstd-compressed module from the initrd, inflated in one call into memory mapped whole, for
 * init_module(). libkmod 30 inflates through zstd's stream API, into a window buffer and then an
 * output buffer it grows 128 KiB at a time: every page of both is faulted in and copied, which in
 * the one-vCPU guest of `make bench` made ext4 (2 MB) cost 0.6-0.8 s of kernel time instead of
 * 0.4 s (README, "Inserting a module"). The frame declares its size (edgeinit-mkinitrd writes
 * it), so the output is one populated mapping and zstd writes each byte once. */
#pragma once

#include <stddef.h>

/* Larger than any module a distribution kernel ships (ext4 is 2 MB, amdgpu 20 MB). */
#define MODULE_IMAGE_MAX (64u << 20)

struct module_image {
	void *data;
	size_t size;
};

/* 0 and img filled; -ENODATA: the file's frames do not declare their size (the caller inflates
 * it some other way); -EBADMSG: not zstd, or it does not inflate to the size it declares;
 * -EFBIG: the file or what it declares is larger than MODULE_IMAGE_MAX; -errno from open(),
 * fstat() or mmap(). */
int module_image_inflate(const char *path, struct module_image *img);
void module_image_release(struct module_image *img);
/* Frees the calling thread's decompression context (kept between modules). The background
 * loader calls it when it ends; PID 1's own goes with the exec of the real init. */
void module_image_thread_end(void);
