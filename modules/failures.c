/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stage failures, and the fatal path's side of failure reports (docs/failure-report.md).
 * Reads: the failure log on the persistent partition (/opt/.edgeinit-failures, below
 *   ctx->sysroot) and the EFI variable EdgeinitFailures (efivarfs, mounted here read-write for
 *   the time it takes). Both are hostile: at most FAILURE_LOG_MAX bytes each, no symlink is
 *   followed, lib/failure.c parses them and refuses malformed records one by one.
 * Writes: /run/edgeinit/last-failures.json (re-serialized, never copied through) and boot.json's
 *   previous_failures; then deletes both sources, so each report is shown on one good boot.
 * Fails: never. A corrupt or unreadable source is a warning naming it; the boot goes on. It runs
 *   late (after layout), so a boot that fails before it leaves the old reports where they are.
 * The fatal path (failure_save()) appends the report to the log on /opt when /opt is mounted
 *   read-write, else to the EFI variable: write a new file, fsync, rename, fsync the directory. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "edgeinit/efivar.h"
#include "edgeinit/failure.h"
#include "edgeinit/fs.h"
#include "edgeinit/layout.h"
#include "edgeinit/log.h"
#include "edgeinit/stage.h"
#include "failures.h"

#define EFIVARS_DIR "/sys/firmware/efi/efivars"
#define EFI_ATTRS (EFI_VARIABLE_NON_VOLATILE | EFI_VARIABLE_BOOTSERVICE_ACCESS | EFI_VARIABLE_RUNTIME_ACCESS)

/* The opened, regular file name below dir_fd, never through a symlink: fd or -errno. */
static int open_beneath(int dir_fd, const char *name)
{
	struct stat st;
	int fd;

	/* Not even opened unless it is a regular file: opening a planted device node or FIFO can
	 * have side effects of its own. */
	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return negative_errno();
	if (!S_ISREG(st.st_mode))
		return -EBADFD;
	fd = openat_beneath(dir_fd, name, O_RDONLY | O_NONBLOCK | O_NOCTTY, RESOLVE_NO_XDEV);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EBADFD;
	}
	return fd;
}

/* Read at most max bytes of name below dir_fd into buf (max + 1 bytes). Returns the length,
 * -ENOENT, -EFBIG if there is more, -EBADFD if it is not a regular file, or -errno. */
static int read_bounded(int dir_fd, const char *name, char *buf, size_t max)
{
	_cleanup_close_ int fd = open_beneath(dir_fd, name);
	size_t n = 0;

	if (fd < 0)
		return fd;
	while (n < max + 1) {
		ssize_t k = read(fd, buf + n, max + 1 - n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return negative_errno();
		if (k == 0)
			break;
		n += (size_t)k;
	}
	return n > max ? -EFBIG : (int)n;
}

/* efivarfs marks variables it does not know immutable: clear that before writing or deleting. */
static void efivar_make_mutable(int dir_fd, const char *name)
{
	_cleanup_close_ int fd = open_beneath(dir_fd, name);
	int flags;

	if (fd >= 0 && ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 && (flags & FS_IMMUTABLE_FL)) {
		flags &= ~FS_IMMUTABLE_FL;
		(void)ioctl(fd, FS_IOC_SETFLAGS, &flags);
	}
}

/* Mount efivarfs read-write (early-setup's read-only mount is gone or replaced). The directory's
 * fd, or -errno (-ENOENT: not booted through UEFI). */
static int efivars_open(struct boot_context *ctx)
{
	char dir[512];
	int r;

	if (!ctx_exists(ctx, "/sys/firmware/efi"))
		return -ENOENT;
	ctx_path(ctx, EFIVARS_DIR, dir, sizeof(dir));
	if (is_mount_point(dir) > 0)
		(void)ctx->sys->fs->umount(dir, 0);
	r = ctx_ensure_filesystem(ctx, "efivarfs");
	if (r >= 0)
		r = ctx->sys->fs->mount("efivarfs", dir, "efivarfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	if (r < 0)
		return r;
	return ctx_open(ctx, EFIVARS_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
}

static void efivars_close(struct boot_context *ctx, int fd)
{
	char dir[512];

	close(fd);
	ctx_path(ctx, EFIVARS_DIR, dir, sizeof(dir));
	(void)ctx->sys->fs->umount(dir, 0);
}

/* The persistent partition's root, if it is mounted read-write: fd or -errno. */
static int persist_open(struct boot_context *ctx, char *path, size_t size)
{
	struct statvfs sv;
	char rel[256];
	int fd;

	/* path: the string is_mount_point and the log need. */
	snprintf(path, size, "%s%s%s", ctx->root, ctx->sysroot, LAYOUT_PERSIST_MOUNT);
	snprintf(rel, sizeof(rel), "%s%s", ctx->sysroot, LAYOUT_PERSIST_MOUNT);
	fd = ctx_open(ctx, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
	if (fd < 0)
		return fd;
	if (is_mount_point(path) <= 0 || fstatvfs(fd, &sv) < 0 || (sv.f_flag & ST_RDONLY)) {
		close(fd);
		return -EROFS;
	}
	return fd;
}

/* Parse what a source holds; a malformed one is a warning naming it. */
static void parse_source(const char *what, const char *text, int n, struct failure_log *log)
{
	if (failure_log_parse(text, (size_t)n, log) < 0)
		*log = (struct failure_log){ 0 };
	if (log->dropped)
		log_warning("%s holds %u malformed failure record(s), dropped: it is rewritten or deleted now.",
			    what, log->dropped);
}

/* Read the log on /opt (dir_fd). Returns 0 (log may be empty) or -errno after a warning. A log
 * too large to be one edgeinit wrote counts as dropped, so the failures stage deletes it. */
static int read_opt_log(int dir_fd, const char *path, struct failure_log *log)
{
	static char text[FAILURE_LOG_MAX + 1];
	char name[640];
	int n = read_bounded(dir_fd, FAILURE_LOG_NAME, text, FAILURE_LOG_MAX);

	*log = (struct failure_log){ 0 };
	snprintf(name, sizeof(name), "%s/%s", path, FAILURE_LOG_NAME);
	if (n == -ENOENT)
		return 0;
	if (n == -EFBIG) {
		log_warning("The failure log %s is larger than %d bytes, dropping it unread.", name, FAILURE_LOG_MAX);
		log->dropped = 1;
		return 0;
	}
	if (n < 0)
		return log_warning_errno(n, "Cannot read the failure log %s (not a regular file, or unreadable), ignoring it: %m",
					 name);
	parse_source(name, text, n, log);
	return 0;
}

/* Read the EFI variable (data after its 4 attribute bytes), like read_opt_log(). */
static int read_efi_log(int dir_fd, struct failure_log *log)
{
	static char buf[4 + FAILURE_EFI_MAX + 1];
	int n = read_bounded(dir_fd, FAILURE_EFIVAR_NAME, buf, 4 + FAILURE_EFI_MAX);

	*log = (struct failure_log){ 0 };
	if (n == -ENOENT)
		return 0;
	if (n == -EFBIG) {
		log_warning("The EFI variable %s is larger than %d bytes, dropping it unread.", FAILURE_EFIVAR_NAME,
			    4 + FAILURE_EFI_MAX);
		log->dropped = 1;
		return 0;
	}
	if (n < 0)
		return log_warning_errno(n, "Cannot read the EFI variable %s, ignoring it: %m", FAILURE_EFIVAR_NAME);
	parse_source("The EFI variable " FAILURE_EFIVAR_NAME, buf + 4, n < 4 ? 0 : n - 4, log);
	return 0;
}

void failure_record_fill(struct boot_context *ctx, const char *stage, const char *message,
			 struct failure_record *rec)
{
	char id[64] = "";
	struct timespec ts;

	*rec = (struct failure_record){ 0 };
	failure_text_copy(rec->stage, sizeof(rec->stage), stage);
	for (char *p = rec->stage; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
			*p = '-';
	failure_text_copy(rec->message, sizeof(rec->message), message && message[0] ? message : "unknown error");
	failure_text_copy(rec->remedy, sizeof(rec->remedy), ctx->remedy);
	if (ctx->emt_slot == 'a' || ctx->emt_slot == 'b')
		rec->slot[0] = ctx->emt_slot;
	if (clock_gettime(CLOCK_REALTIME, &ts) == 0 && ts.tv_sec > 0)
		rec->time = (uint64_t)ts.tv_sec;
	if (ctx_read_file(ctx, "/proc/sys/kernel/random/boot_id", id, sizeof(id)) >= 36) {
		memcpy(rec->boot_id, id, 36);
		rec->boot_id[36] = '\0';
	}
	failure_text_copy(rec->version, sizeof(rec->version), ctx->report.version[0] ? ctx->report.version : "unknown");
	for (char *p = rec->version; *p; p++)
		if (*p == ' ' || !strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.+~_-", *p))
			*p = '_';
	/* Anything that still breaks the rules (it cannot, but this is the fatal path) is dropped. */
	if (failure_record_check(rec) < 0)
		rec->boot_id[0] = rec->slot[0] = '\0';
}

/* Replace name below dir_fd with text: a new file, fsync, rename, fsync the directory. */
static int replace_file(int dir_fd, const char *name, const char *text, size_t len)
{
	char tmp[128];
	_cleanup_close_ int fd = -EBADF;
	size_t done = 0;

	snprintf(tmp, sizeof(tmp), "%s.new", name);
	(void)unlinkat(dir_fd, tmp, 0);
	fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return negative_errno();
	while (done < len) {
		ssize_t k = write(fd, text + done, len - done);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return negative_errno();
		done += (size_t)k;
	}
	if (fsync(fd) < 0 || renameat(dir_fd, tmp, dir_fd, name) < 0 || fsync(dir_fd) < 0)
		return negative_errno();
	return 0;
}

static int save_to_opt(struct boot_context *ctx, const struct failure_record *rec)
{
	static char out[FAILURE_LOG_MAX + 1];
	struct failure_log log;
	char path[512];
	_cleanup_close_ int dir_fd = persist_open(ctx, path, sizeof(path));
	int n;

	if (dir_fd < 0)
		return dir_fd;
	(void)read_opt_log(dir_fd, path, &log);
	(void)failure_log_add(&log, rec);
	n = failure_log_format(&log, FAILURE_LOG_MAX, out, sizeof(out));
	if (n < 0)
		return n;
	n = replace_file(dir_fd, FAILURE_LOG_NAME, out, (size_t)n);
	if (n < 0)
		return log_error_errno(n, "Cannot write the failure report to %s/%s: %m", path, FAILURE_LOG_NAME);
	log_error("The failure report was saved to %s/%s for the next boot.", path, FAILURE_LOG_NAME);
	return 0;
}

static int save_to_efi(struct boot_context *ctx, const struct failure_record *rec)
{
	static char out[4 + FAILURE_EFI_MAX + 1];
	struct failure_log log;
	uint32_t attrs = EFI_ATTRS;
	int dir_fd, fd, n, r = 0;

	dir_fd = efivars_open(ctx);
	if (dir_fd < 0)
		return log_error_errno(dir_fd, "Cannot save the failure report: the persistent partition is not mounted and EFI variables are not writable: %m");
	(void)read_efi_log(dir_fd, &log);
	(void)failure_log_add(&log, rec);
	n = failure_log_format(&log, FAILURE_EFI_MAX, out + 4, sizeof(out) - 4);
	if (n >= 0) {
		memcpy(out, &attrs, 4); /* efivarfs: attributes first, little-endian (x86, arm64) */
		efivar_make_mutable(dir_fd, FAILURE_EFIVAR_NAME);
		fd = openat(dir_fd, FAILURE_EFIVAR_NAME, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		/* One write: efivarfs hands it to SetVariable() whole. */
		if (fd < 0 || write(fd, out, (size_t)n + 4) != n + 4)
			r = negative_errno();
		if (fd >= 0)
			close(fd);
	} else
		r = n;
	efivars_close(ctx, dir_fd);
	if (r < 0)
		return log_error_errno(r, "Cannot write the failure report to the EFI variable %s: %m", FAILURE_EFIVAR_NAME);
	log_error("The failure report was saved to the EFI variable %s for the next boot.", FAILURE_EFIVAR_NAME);
	return 0;
}

void failure_save(struct boot_context *ctx, const struct failure_record *rec)
{
	char path[512];
	int fd = persist_open(ctx, path, sizeof(path));

	if (fd >= 0) {
		close(fd);
		if (save_to_opt(ctx, rec) >= 0)
			return;
	}
	(void)save_to_efi(ctx, rec);
}

/* Oldest first by time, then in the order read (insertion sort: at most 2 * FAILURE_RECORDS_MAX). */
static void merge(struct failure_log *out, const struct failure_log *a, const struct failure_log *b)
{
	struct failure_record all[2 * FAILURE_RECORDS_MAX];
	size_t n = 0;

	for (size_t i = 0; i < a->n; i++)
		all[n++] = a->rec[i];
	for (size_t i = 0; i < b->n; i++)
		all[n++] = b->rec[i];
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && all[j - 1].time > all[j].time; j--) {
			struct failure_record t = all[j];

			all[j] = all[j - 1];
			all[j - 1] = t;
		}
	*out = (struct failure_log){ .dropped = a->dropped + b->dropped };
	for (size_t i = 0; i < n; i++)
		(void)failure_log_add(out, &all[i]);
}

static int failures_run(struct boot_context *ctx)
{
	static char json[sizeof(ctx->report.previous_failures) + 1]; /* + the newline */
	struct failure_log from_opt = { 0 }, from_efi = { 0 }, all;
	char path[512];
	int opt_fd, efi_fd, r, opt_r = 0, efi_r = 0;

	opt_fd = persist_open(ctx, path, sizeof(path));
	if (opt_fd >= 0)
		opt_r = read_opt_log(opt_fd, path, &from_opt);
	else
		log_warning_errno(opt_fd, "The persistent partition %s is not mounted read-write, so its failure log is neither read nor cleared: %m",
				  path);
	efi_fd = efivars_open(ctx);
	if (efi_fd >= 0)
		efi_r = read_efi_log(efi_fd, &from_efi);
	else if (efi_fd != -ENOENT)
		log_warning_errno(efi_fd, "Cannot mount efivarfs read-write, so the EFI variable %s is neither read nor cleared: %m",
				  FAILURE_EFIVAR_NAME);
	if (from_opt.n)
		log_info("Read %zu failure report(s) from %s/%s.", from_opt.n, path, FAILURE_LOG_NAME);
	if (from_efi.n)
		log_info("Read %zu failure report(s) from the EFI variable %s.", from_efi.n, FAILURE_EFIVAR_NAME);
	merge(&all, &from_opt, &from_efi);

	r = failure_log_format_json(&all, json, sizeof(ctx->report.previous_failures));
	if (r >= 0) {
		memcpy(ctx->report.previous_failures, json, (size_t)r + 1); /* r < its size */
		(void)ctx_mkdir(ctx, "/run/edgeinit", 0755);
		strcat(json, "\n");
		r = ctx_write_new_file(ctx, "/run/edgeinit/last-failures.json", json);
	}
	for (size_t i = 0; i < all.n; i++)
		log_warning("A previous boot failed: stage '%s': %s (edgeinit %s, slot %s, time %llu). Its remedy: %s",
			    all.rec[i].stage, all.rec[i].message, all.rec[i].version,
			    all.rec[i].slot[0] ? all.rec[i].slot : "unknown", (unsigned long long)all.rec[i].time,
			    all.rec[i].remedy[0] ? all.rec[i].remedy : "none given");
	if (r < 0) {
		/* Keep the sources: the reports were not shown. */
		log_warning_errno(r, "Cannot write /run/edgeinit/last-failures.json, keeping the failure reports for the next boot: %m");
	} else {
		if (all.n)
			log_info("%zu failure report(s) of previous boots are in /run/edgeinit/last-failures.json.", all.n);
		/* Shown once: delete the sources (a rename-free unlink is atomic; fsync makes it last). */
		/* A power cut while a failing boot wrote the log may have left its new copy. */
		if (opt_fd >= 0)
			(void)unlinkat(opt_fd, FAILURE_LOG_NAME ".new", 0);
		if (opt_fd >= 0 && opt_r >= 0 && (from_opt.n || from_opt.dropped) &&
		    (unlinkat(opt_fd, FAILURE_LOG_NAME, 0) < 0 || fsync(opt_fd) < 0))
			log_warning_errno(negative_errno(), "Cannot delete the failure log %s/%s, ignoring: %m",
					  path, FAILURE_LOG_NAME);
		if (efi_fd >= 0 && efi_r >= 0 && (from_efi.n || from_efi.dropped)) {
			efivar_make_mutable(efi_fd, FAILURE_EFIVAR_NAME);
			if (unlinkat(efi_fd, FAILURE_EFIVAR_NAME, 0) < 0)
				log_warning_errno(negative_errno(), "Cannot delete the EFI variable %s, ignoring: %m",
						  FAILURE_EFIVAR_NAME);
		}
	}
	if (opt_fd >= 0)
		close(opt_fd);
	if (efi_fd >= 0)
		efivars_close(ctx, efi_fd);
	return 0;
}

const struct stage stage_failures = {
	.name = "failures",
	.run = failures_run,
};
