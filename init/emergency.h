/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "edgeinit/stage.h"

/* Write the boot report to /run/edgeinit/boot.json below ctx->root. */
int boot_report_write(struct boot_context *ctx);

/* The one way out on a fatal error: print the failed stage, the reason and the remedy, write the
 * report, then follow rd.emergency= after edgeinit.emergency_delay= seconds. Never a shell. */
_noreturn_ void emergency(struct boot_context *ctx, const char *stage, int error);
