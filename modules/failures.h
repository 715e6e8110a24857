/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Failure reports: the fatal path's side (modules/failures.c). */
#pragma once

#include "edgeinit/failure.h"
#include "edgeinit/stage.h"

/* The log's name in the persistent partition's root, and the EFI variable (a vendor GUID of
 * edgeinit's own). */
#define FAILURE_LOG_NAME ".edgeinit-failures"
#define FAILURE_EFIVAR_NAME "EdgeinitFailures-6c0f1c5e-9a3b-4d27-8e51-2f7d4b9a0c13"

/* Fill rec from the context: stage, message (edgeinit's own string), ctx->remedy, the EMT slot,
 * the time, the kernel's boot id, edgeinit's version; every field made to pass the record rules. */
void failure_record_fill(struct boot_context *ctx, const char *stage, const char *message,
			 struct failure_record *rec);

/* Append rec to the log on /opt when it is mounted read-write, else to the EFI variable. Logs
 * where it went or why it could not. May block on a failing disk: run it bounded. */
void failure_save(struct boot_context *ctx, const struct failure_record *rec);
