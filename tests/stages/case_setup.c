/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The stage-case driver's setup and faults directives: what a case's root needs beyond the tree
 * git holds, what the fakes return, which calls fail. The directives are documented in
 * test_cases.c's header comment. */
#include <check.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "case_setup.h"
#include "edgeinit/fs.h"
#include "edgeinit/macro.h"
#include "edgeinit/strutil.h"
#include "fake_sys.h"

static void setup_verity(const char *data, const char *hash)
{
	char cmd[4 * PATH_MAX], d[PATH_MAX], h[PATH_MAX];

	root_path(data, d, sizeof(d));
	root_path(hash, h, sizeof(h));
	snprintf(cmd, sizeof(cmd),
		 "truncate -s 1M '%s' && veritysetup format '%s' '%s' --salt=%064d "
		 "--uuid=00000000-0000-4000-8000-000000000000 >/dev/null 2>&1", d, d, h, 0);
	ck_assert_msg(system(cmd) == 0, "veritysetup failed (install cryptsetup-bin: make deps)");
}

static void setup_ctx(struct boot_context *c, const char *field, const char *value)
{
	static const struct { const char *name; size_t off; } nodes[] = {
		{ "root_node", offsetof(struct boot_context, rootfs.node) },
		{ "persist_node", offsetof(struct boot_context, persist_node) },
		{ "verity_data_node", offsetof(struct boot_context, rootfs.data_node) },
		{ "verity_hash_node", offsetof(struct boot_context, rootfs.hash_node) },
	};

	for (size_t i = 0; i < ELEMENTSOF(nodes); i++)
		if (streq(field, nodes[i].name)) {
			ck_assert_ptr_nonnull(value);
			str_copy((char *)c + nodes[i].off, DEVNODE_MAX, value);
			return;
		}
	if (streq(field, "persist_plain"))
		c->persist_plain = true;
	else if (streq(field, "tpm_present")) {
		c->tpm.present = true;
		c->tpm.n_banks = 1;
		c->tpm.banks[0] = HASH_SHA256;
	} else if (streq(field, "roothash")) {
		int n = value ? hex_decode(value, c->rootfs.roothash, sizeof(c->rootfs.roothash)) : -1;
		ck_assert_int_gt(n, 0);
		c->rootfs.roothash_size = (size_t)n;
		c->rootfs.roothash_source = "cmdline";
	} else if (streq(field, "roothash_source") && value)
		c->rootfs.roothash_source = keep(value);
	else if (streq(field, "uevent"))
		c->dev.uevent_fd = sys_fake.dev->uevent_open();
	else
		ck_abort_msg("%s/setup: unknown ctx field '%s'", case_dir, field);
}

/* uevent ACTION SUBSYSTEM KEY=VALUE...: a kernel uevent queued on the fake socket ("ctx uevent"
 * comes first), as the kernel sends it: "ACTION@DEVPATH", then ACTION=, SUBSYSTEM=, the keys. */
static void setup_uevent(char *const *w, int n)
{
	char msg[2048];
	const char *devpath = NULL, *rest;
	int len = 0;

	ck_assert_msg(fake.uevent_peer >= 0, "%s/setup: 'ctx uevent' must come before 'uevent'", case_dir);
	for (int i = 3; i < n; i++)
		if ((rest = str_startswith(w[i], "DEVPATH=")))
			devpath = rest;
	ck_assert_msg(devpath, "%s/setup: a uevent needs DEVPATH=", case_dir);
	len += snprintf(msg + len, sizeof(msg) - (size_t)len, "%s@%s", w[1], devpath) + 1;
	len += snprintf(msg + len, sizeof(msg) - (size_t)len, "ACTION=%s", w[1]) + 1;
	len += snprintf(msg + len, sizeof(msg) - (size_t)len, "SUBSYSTEM=%s", w[2]) + 1;
	for (int i = 3; i < n; i++)
		len += snprintf(msg + len, sizeof(msg) - (size_t)len, "%s", w[i]) + 1;
	ck_assert_int_lt(len, (int)sizeof(msg));
	ck_assert_int_eq(send(fake.uevent_peer, msg, (size_t)len, 0), len);
}

/* probe NODE PARTLABEL TYPE UUID, then the tags that only some cases need. */
static void setup_probe(char *const *w, int n)
{
	struct blockdev_tags *t;
	const char *v;

	fake_add_probe(keep(w[1]), streq(w[2], "-") ? NULL : w[2], streq(w[3], "-") ? NULL : w[3],
		       streq(w[4], "-") ? NULL : w[4]);
	t = &fake.probe[fake.n_probe - 1].tags;
	/* A LUKS2 partition is LUKS2 to the unlock's fake too, under its own UUID. */
	if (streq(w[3], "crypto_LUKS")) {
		ck_assert_int_lt(fake.n_luks, (int)ELEMENTSOF(fake.luks));
		fake.luks[fake.n_luks].node = fake.probe[fake.n_probe - 1].node;
		fake.luks[fake.n_luks++].uuid = keep(w[4]);
	}
	for (int i = 5; i < n; i++)
		if ((v = str_startswith(w[i], "PARTUUID=")))
			str_copy(t->partuuid, sizeof(t->partuuid), v);
		else if ((v = str_startswith(w[i], "LABEL=")))
			str_copy(t->label, sizeof(t->label), v);
		else
			ck_abort_msg("%s/setup: probe: cannot read '%s'", case_dir, w[i]);
}

/* efivar NAME ATTR TEXT: binary, so the case says what it holds instead of carrying bytes. */
static void setup_efivar(const char *name, const char *attr, const char *text)
{
	char rel[PATH_MAX], path[PATH_MAX];
	uint32_t a = (uint32_t)strtoul(attr, NULL, 0);
	FILE *f;

	snprintf(rel, sizeof(rel), "/sys/firmware/efi/efivars/%s", name);
	fake_mkdir("/sys/firmware/efi/efivars");
	root_path(rel, path, sizeof(path));
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 4; i++)
		fputc((int)(a >> (8 * i)) & 0xff, f);
	for (size_t i = 0; i <= strlen(text); i++) {
		fputc((unsigned char)text[i], f);
		fputc(0, f);
	}
	ck_assert_int_eq(fclose(f), 0);
}

/* The LUKS and TPM fakes' directives; rest is the line after w[0], spaces kept. Returns false
 * if w[0] names none of them. */
static bool setup_unlock(char *const *w, int n, const char *rest)
{
	static char json[TEXT_MAX];
	int i = 0;

	if (streq(w[0], "tpm") && n == 3 && streq(w[1], "unseal")) {
		if (w[2][0] == '-')
			fake.unseal_errno = parse_errno(w[2]);
		else
			fake.unseal_secret = keep(w[2]);
	} else if (streq(w[0], "luks") && n >= 2) {
		fake.luks_uuid = keep(w[1]);
		if (n > 2)
			fake.luks_rejected = keep(rest + strlen(w[1]) + 1);
	} else if (streq(w[0], "luks-refused") && n >= 3) {
		fake.luks_rejected_node = keep(w[1]);
		fake.luks_rejected = keep(rest + strlen(w[1]) + 1);
	} else if (streq(w[0], "passphrase") && n >= 2)
		fake.good_passphrase = keep(rest);
	else if (streq(w[0], "passphrase-fails") && n == 2) {
		while (i < (int)ELEMENTSOF(fake.wrong_for) && fake.wrong_for[i])
			i++;
		ck_assert_int_lt(i, (int)ELEMENTSOF(fake.wrong_for));
		fake.wrong_for[i] = keep(w[1]);
	} else if (streq(w[0], "tpm") && n == 2 && streq(w[1], "sealed-key"))
		fake.object_exists = 1;
	else if (streq(w[0], "answer") && n >= 2) {
		while (i < (int)ELEMENTSOF(fake.answers) && fake.answers[i])
			i++;
		ck_assert_int_lt(i, (int)ELEMENTSOF(fake.answers));
		fake.answers[i] = keep(rest);
	} else if (streq(w[0], "token") && n == 3) {
		i = atoi(w[1]);
		ck_assert_msg(i >= 0 && i < (int)ELEMENTSOF(fake.tokens), "%s/setup: no token %s", case_dir, w[1]);
		ck_assert_msg(read_small_file(w[2], json, sizeof(json)) > 0, "%s/setup: cannot read %s",
			      case_dir, w[2]);
		fake.tokens[i] = keep(json);
	} else
		return false;
	return true;
}

void apply_setup(struct boot_context *c, char *text)
{
	char *save = NULL, *line, path[PATH_MAX], target[PATH_MAX];

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *w[12] = { 0 }, *s2 = NULL, raw[1024];
		int n = 0;

		if (line[0] == '#')
			continue;
		ck_assert_int_ge(str_copy(raw, sizeof(raw), line), 0);
		for (char *t = strtok_r(line, " ", &s2); t && n < 12; t = strtok_r(NULL, " ", &s2))
			w[n++] = t;
		if (n == 0)
			continue;
		if (streq(w[0], "mkdir") && n == 2)
			fake_mkdir(w[1]);
		else if (streq(w[0], "fifo") && n == 2) {
			root_path(w[1], path, sizeof(path));
			ck_assert_int_eq(mkfifo(path, 0600), 0);
		} else if (streq(w[0], "symlink") && n == 3) {
			const char *rest = str_startswith(w[1], "<root>");
			snprintf(target, sizeof(target), "%s%s", rest ? fake.root : "", rest ? rest : w[1]);
			root_path(w[2], path, sizeof(path));
			ck_assert_int_eq(symlink(target, path), 0);
		} else if (streq(w[0], "probe") && n >= 5)
			setup_probe(w, n);
		else if (streq(w[0], "verity") && n == 3)
			setup_verity(w[1], w[2]);
		else if (streq(w[0], "efivar") && n == 4)
			setup_efivar(w[1], w[2], w[3]);
		else if (streq(w[0], "tpm") && n == 2 && streq(w[1], "absent"))
			fake.tpm_open_result = -ENOENT;
		else if (streq(w[0], "active-roothash") && n == 2)
			str_copy(fake.active_roothash, sizeof(fake.active_roothash), w[1]);
		else if (streq(w[0], "ctx") && n >= 2)
			setup_ctx(c, w[1], w[2]);
		else if (streq(w[0], "uevent") && n >= 4)
			setup_uevent(w, n);
		else if (!setup_unlock(w, n, n > 1 ? raw + (w[1] - line) : ""))
			ck_abort_msg("%s/setup: cannot read '%s'", case_dir, w[0]);
	}
}

void apply_faults(char *text)
{
	char *save = NULL;

	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *e = strrchr(line, ' ');

		if (line[0] == '#' || !e)
			continue;
		*e++ = '\0';
		if (str_startswith(line, "call ")) {
			fake.fail_call = atoi(line + 5);
			fake.fail_errno = parse_errno(e);
		} else {
			ck_assert_msg(!fake.fail_prefix, "%s/faults: one prefix fault only", case_dir);
			fake.fail_prefix = keep(line);
			fake.fail_prefix_errno = parse_errno(e);
		}
	}
}
