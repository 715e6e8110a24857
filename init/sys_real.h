/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The parts of sys_real that live in their own files (kernel modules, TPM, LUKS, console). */
#pragma once

#include "edgeinit/sys.h"

int real_load_module(const char *name);
int real_load_modules_background(const char *const *names, size_t n);
int real_load_modules_finish(bool skip_rest);

int real_tpm2_open(const char *device);
int real_tpm2_unseal(const struct tpm2_unseal_request *req, uint8_t *secret, size_t size);
int real_tpm2_object_exists(uint32_t handle);
void real_tpm2_close(void);
int real_tpm2_banks(enum hash_alg *banks, size_t max);
int real_tpm2_extend(unsigned pcr, const struct measure_digest *digests, size_t n);

int real_luks_inspect(const char *node, struct luks_info *info);
int real_luks_token_json(const char *node, int token, char *buf, size_t size);
int real_luks_derive_key(const char *node, int keyslot, const char *pass, size_t pass_len,
			 uint8_t *volume_key, size_t *volume_key_size);
int real_luks_activate_key(const char *node, const char *name, const uint8_t *volume_key,
			   size_t volume_key_size);

int real_ask_password(const char *prompt, char *buf, size_t size, unsigned timeout_sec);
