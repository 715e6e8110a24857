/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "edgeinit/log.h"
#include "edgeinit/measure.h"
#include "edgeinit/strutil.h"
#include "fake_sys.h"

struct fake_sys fake;
char fake_log[16384];
static char root_buf[256];

static const char *rel(const char *path)
{
	const char *r = path ? str_startswith(path, fake.root) : NULL;

	return r ? (*r ? r : "/") : (path ? path : "(null)");
}

/* Record a call; returns the injected error if this is the call that must fail. */
static int record(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static pthread_mutex_t record_lock = PTHREAD_MUTEX_INITIALIZER;

static int record(const char *fmt, ...)
{
	va_list ap;
	int r;

	/* The emt stage derives LUKS keys in threads. */
	pthread_mutex_lock(&record_lock);
	ck_assert_int_lt(fake.n_calls, FAKE_CALLS_MAX);
	va_start(ap, fmt);
	vsnprintf(fake.calls[fake.n_calls], FAKE_CALL_LEN, fmt, ap);
	va_end(ap);
	fake.n_calls++;
	r = fake.fail_call == fake.n_calls ? fake.fail_errno : 0;
	if (fake.fail_prefix && !fake.fail_prefix_hit &&
	    str_startswith(fake.calls[fake.n_calls - 1], fake.fail_prefix)) {
		fake.fail_prefix_hit = true;
		r = fake.fail_prefix_errno;
	}
	pthread_mutex_unlock(&record_lock);
	return r;
}

static int f_mount(const char *source, const char *target, const char *fstype, unsigned long flags,
		   const char *data)
{
	return record("mount %s %s %s 0x%lx %s", rel(source), rel(target), fstype ? fstype : "-",
		      flags, data ? data : "-");
}

static int f_umount(const char *target, int flags)
{
	return record("umount %s %d", rel(target), flags);
}

static int f_chroot(const char *path) { return record("chroot %s", path); }

/* Recorded in one line; the names are loaded when a stage asks for them (f_load_module), as the
 * machine's queue hands them over. */
static int f_load_modules_background(const char *const *names, size_t n)
{
	char list[512] = "";

	for (size_t i = 0; i < n; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), " %s", names[i]);
	return record("load-background%s", list);
}

static int f_load_modules_finish(bool skip_rest)
{
	return record("load-finish%s", skip_rest ? " skip-rest" : "");
}

static int f_load_module(const char *name)
{
	int r = record("load %s", name);

	if (r < 0)
		return r;
	if (fake.on_load && fake.on_load_name && streq(name, fake.on_load_name))
		fake.on_load(&fake);
	return fake.load_result;
}

static int f_probe_block(const char *devnode, bool superblocks, struct blockdev_tags *tags)
{
	int r = record("probe %s%s", rel(devnode), superblocks ? " +sb" : "");

	if (r < 0)
		return r;
	for (int i = 0; i < fake.n_probe; i++)
		if (streq(fake.probe[i].node, rel(devnode))) {
			*tags = fake.probe[i].tags;
			if (!superblocks)
				tags->uuid[0] = tags->label[0] = tags->type[0] = '\0';
			return 0;
		}
	memset(tags, 0, sizeof(*tags));
	return 0;
}

static int f_verity_activate(const struct verity_activation *a)
{
	char hex[160];

	hex_encode(a->roothash, a->roothash_size, hex, sizeof(hex));
	return record("verity %s %s %s %s 0x%x", a->name, a->data_node, a->hash_node, hex, a->flags);
}

static int f_verity_active_roothash(const char *name, char *hex, size_t size)
{
	(void)name;
	if (!fake.active_roothash[0])
		return -ENODEV;
	return str_copy(hex, size, fake.active_roothash);
}

static int f_uevent_open(void)
{
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv), 0);
	fake.uevent_peer = sv[1];
	record("uevent_open");
	return sv[0];
}

static int f_reboot(int cmd) { return record("reboot 0x%x", cmd); }

static int f_tpm2_open(const char *device)
{
	int r = record("tpm2_open %s", rel(device));

	return r < 0 ? r : fake.tpm_open_result;
}

static int f_tpm2_unseal(const struct tpm2_unseal_request *req, uint8_t *secret, size_t size)
{
	int r = req->token ? record("tpm2_unseal token%s", req->pin_auth ? " pin" : "")
			   : record("tpm2_unseal handle 0x%08x", req->emt_handle);

	if (r < 0)
		return r;
	if (!fake.unseal_secret)
		return fake.unseal_errno ? fake.unseal_errno : -EPERM;
	ck_assert_uint_le(strlen(fake.unseal_secret), size);
	memcpy(secret, fake.unseal_secret, strlen(fake.unseal_secret));
	return (int)strlen(fake.unseal_secret);
}

static int f_tpm2_object_exists(uint32_t handle)
{
	int r = record("tpm2_object_exists 0x%08x", handle);

	return r < 0 ? r : fake.object_exists;
}

static void f_tpm2_close(void) { (void)record("tpm2_close"); }

static int f_tpm2_banks(enum hash_alg *banks, size_t max)
{
	ck_assert_uint_ge(max, 1);
	banks[0] = HASH_SHA256;
	return record("tpm2_banks") < 0 ? -EIO : 1;
}

static int f_tpm2_extend(unsigned pcr, const struct measure_digest *d, size_t n)
{
	char hex[2 * HASH_MAX_DIGEST_SIZE + 1];

	ck_assert_uint_eq(n, 1);
	hex_encode(d[0].digest, hash_digest_size(d[0].alg), hex, sizeof(hex));
	return record("extend %u %s:%s", pcr, hash_alg_to_string(d[0].alg), hex);
}

/* The LUKS UUID of node: from fake.luks[] if listed there, else fake.luks_uuid for any node. */
static const char *luks_uuid_of(const char *node)
{
	for (int i = 0; i < fake.n_luks; i++)
		if (streq(fake.luks[i].node, node))
			return fake.luks[i].uuid;
	return fake.n_luks ? NULL : fake.luks_uuid;
}

static int f_luks_inspect(const char *node, struct luks_info *info)
{
	int r = record("luks_inspect %s", rel(node));
	const char *uuid = luks_uuid_of(rel(node));

	memset(info, 0, sizeof(*info));
	if (r < 0)
		return r;
	if (!uuid)
		return -EMEDIUMTYPE;
	info->pbkdf_memory_kib = fake.pbkdf_memory_kib;
	if (fake.luks_rejected && (!fake.luks_rejected_node || streq(fake.luks_rejected_node, rel(node))))
		str_copy(info->rejected, sizeof(info->rejected), fake.luks_rejected);
	return str_copy(info->uuid, sizeof(info->uuid), uuid);
}

static int f_luks_token_json(const char *node, int token, char *buf, size_t size)
{
	(void)node;
	if (token >= 4 || !fake.tokens[token])
		return -ENOENT;
	return str_copy(buf, size, fake.tokens[token]) < 0 ? -E2BIG : (int)strlen(fake.tokens[token]);
}

static int f_luks_derive_key(const char *node, int keyslot, const char *pass, size_t len,
			     uint8_t *vk, size_t *vk_size)
{
	/* The passphrase itself is never recorded: tests assert it appears nowhere. */
	int r = record("luks_derive %s slot %d", rel(node), keyslot);

	if (fake.derive_delay_ms)
		nanosleep(&(struct timespec){ .tv_sec = fake.derive_delay_ms / 1000,
					      .tv_nsec = (long)(fake.derive_delay_ms % 1000) * 1000000 }, NULL);
	if (r < 0)
		return r;
	if (!fake.good_passphrase || len != strlen(fake.good_passphrase) ||
	    memcmp(pass, fake.good_passphrase, len) != 0)
		return -EPERM;
	for (int i = 0; i < 4 && fake.wrong_for[i]; i++)
		if (streq(fake.wrong_for[i], rel(node)))
			return -EPERM;
	ck_assert_uint_ge(*vk_size, 32);
	memset(vk, 0x5a, 32);
	*vk_size = 32;
	return 0;
}

static int f_luks_activate_key(const char *node, const char *name, const uint8_t *vk, size_t size)
{
	ck_assert_uint_eq(size, 32);
	ck_assert_uint_eq(vk[0], 0x5a);
	return record("luks_activate %s %s", rel(node), name);
}

static int f_dm_linear(const char *name, const char *node)
{
	return record("dm_linear %s %s", name, rel(node));
}

static int f_ask_password(const char *prompt, char *buf, size_t size, unsigned timeout_sec)
{
	const char *a = fake.n_asked < 8 ? fake.answers[fake.n_asked] : NULL;

	(void)timeout_sec;
	fake.n_asked++;
	record("ask %s", strstr(prompt, "PIN") ? "pin" : "passphrase");
	if (!a)
		return -ECANCELED;
	return str_copy(buf, size, a) < 0 ? -E2BIG : (int)strlen(a);
}

static const struct sys_fs_ops f_fs = {
	.mount = f_mount,
	.umount = f_umount,
	.chroot = f_chroot,
};

static const struct sys_dev_ops f_dev = {
	.load_module = f_load_module,
	.load_modules_background = f_load_modules_background,
	.load_modules_finish = f_load_modules_finish,
	.uevent_open = f_uevent_open,
	.probe_block = f_probe_block,
};

static const struct sys_dm_ops f_dm = {
	.verity_activate = f_verity_activate,
	.verity_active_roothash = f_verity_active_roothash,
	.linear = f_dm_linear,
};

static const struct sys_tpm_ops f_tpm = {
	.open = f_tpm2_open,
	.unseal = f_tpm2_unseal,
	.object_exists = f_tpm2_object_exists,
	.close = f_tpm2_close,
	.banks = f_tpm2_banks,
	.extend = f_tpm2_extend,
};

static const struct sys_luks_ops f_luks = {
	.inspect = f_luks_inspect,
	.token_json = f_luks_token_json,
	.derive_key = f_luks_derive_key,
	.activate_key = f_luks_activate_key,
};

static const struct sys_machine_ops f_machine = {
	.reboot = f_reboot,
	.ask_password = f_ask_password,
};

const struct sys_ops sys_fake = {
	.fs = &f_fs,
	.dev = &f_dev,
	.dm = &f_dm,
	.tpm = &f_tpm,
	.luks = &f_luks,
	.machine = &f_machine,
};

static void capture(int level, const char *line)
{
	size_t len = strlen(fake_log);

	snprintf(fake_log + len, sizeof(fake_log) - len, "<%d>%s\n", level, line);
}

bool fake_logged(const char *needle) { return strstr(fake_log, needle) != NULL; }

const char *fake_setup(const char *base)
{
	memset(&fake, 0, sizeof(fake));
	fake.uevent_peer = -1;
	fake_log[0] = '\0';
	snprintf(root_buf, sizeof(root_buf), "%s/edgeinit-stage-XXXXXX", base);
	ck_assert_ptr_nonnull(mkdtemp(root_buf));
	fake.root = root_buf;
	log_set_sink(capture);
	log_set_debug(true);
	return fake.root;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

void fake_teardown(void)
{
	if (fake.uevent_peer >= 0)
		close(fake.uevent_peer);
	nftw(root_buf, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	log_set_sink(NULL);
}

void fake_mkdir(const char *relpath)
{
	char path[1024], *p;

	snprintf(path, sizeof(path), "%s%s", fake.root, relpath);
	for (p = path + strlen(fake.root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	mkdir(path, 0755);
}

void fake_write(const char *relpath, const char *content)
{
	char path[1024], dir[1024];
	FILE *f;

	str_copy(dir, sizeof(dir), relpath);
	*strrchr(dir, '/') = '\0';
	if (dir[0])
		fake_mkdir(dir);
	snprintf(path, sizeof(path), "%s%s", fake.root, relpath);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(content, f);
	fclose(f);
}

void fake_add_probe(const char *node, const char *partlabel, const char *type, const char *uuid)
{
	ck_assert_int_lt(fake.n_probe, 24);
	fake.probe[fake.n_probe].node = node;
	str_copy(fake.probe[fake.n_probe].tags.partlabel, DEVREF_VALUE_MAX, partlabel ? partlabel : "");
	str_copy(fake.probe[fake.n_probe].tags.type, 32, type ? type : "");
	str_copy(fake.probe[fake.n_probe].tags.uuid, 64, uuid ? uuid : "");
	fake.n_probe++;
}

int fake_call_index(const char *prefix)
{
	for (int i = 0; i < fake.n_calls; i++)
		if (str_startswith(fake.calls[i], prefix))
			return i;
	return -1;
}

bool fake_called(const char *prefix) { return fake_call_index(prefix) >= 0; }
