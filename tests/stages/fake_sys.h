/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A recording fake of struct sys_ops and a temporary fake root, for stage tests. */
#pragma once

#include <stdbool.h>

#include "edgeinit/stage.h"

#define FAKE_CALLS_MAX 256
#define FAKE_CALL_LEN 512

struct fake_sys {
	char calls[FAKE_CALLS_MAX][FAKE_CALL_LEN]; /* "mount devtmpfs <root>/dev devtmpfs 0x..." */
	int n_calls;
	int fail_call;    /* 1-based index of the call that fails, 0: none */
	int fail_errno;   /* negative */
	const char *fail_prefix; /* the first call starting with this fails with fail_prefix_errno */
	int fail_prefix_errno;
	bool fail_prefix_hit;
	const char *root; /* fake root, stripped from recorded paths */
	/* Tags returned by probe_block, by node path relative to root. */
	struct { const char *node; struct blockdev_tags tags; } probe[24];
	int n_probe;
	int uevent_peer;  /* test's end of the uevent socketpair */
	char active_roothash[160]; /* "" means no existing mapping */
	/* Hook run when load_module() is called with a matching name. */
	const char *on_load_name;
	void (*on_load)(struct fake_sys *f);
	int load_result;  /* what load_module returns, default 0 */

	/* TPM */
	int tpm_open_result;          /* 0: there is a TPM */
	const char *unseal_secret;    /* what tpm2_unseal returns; NULL: unseal_errno */
	int unseal_errno;
	int object_exists;            /* what tpm2_object_exists returns */
	const char *luks_rejected;    /* luks_inspect's rejected reason ... */
	const char *luks_rejected_node; /* ... for this node only; NULL: every LUKS node */
	/* LUKS */
	const char *luks_uuid;        /* every node's LUKS UUID when luks[] is empty; NULL: not LUKS */
	struct { const char *node, *uuid; } luks[16]; /* LUKS2 nodes and their UUIDs */
	int n_luks;
	uint32_t pbkdf_memory_kib;    /* what luks_inspect reports */
	unsigned derive_delay_ms;     /* luks_derive_key takes this long (after recording the call) */
	const char *wrong_for[4];     /* nodes good_passphrase does not open */
	const char *tokens[4];        /* token JSON by slot */
	const char *good_passphrase;  /* what opens the volume */
	const char *answers[8];       /* what the console answers, in order; NULL: end of input */
	int n_asked;
};

extern struct fake_sys fake;
extern const struct sys_ops sys_fake;

/* Reset the fake and make a fresh fake root (mkdtemp under base). Returns the root path. */
const char *fake_setup(const char *base);
void fake_teardown(void);
/* Write a file below the fake root, creating parent directories. */
void fake_write(const char *relpath, const char *content);
void fake_mkdir(const char *relpath);
void fake_add_probe(const char *node, const char *partlabel, const char *type, const char *uuid);
/* 1 if some recorded call starts with prefix. */
bool fake_called(const char *prefix);
int fake_call_index(const char *prefix); /* -1 if none */

/* Captured log lines (log_set_sink). */
extern char fake_log[16384];
bool fake_logged(const char *needle);
