/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One Check suite per lib/ unit; main.c runs them all. */
#pragma once

#include <check.h>

Suite *strutil_suite(void);
Suite *cmdline_suite(void);
Suite *devref_suite(void);
Suite *uevent_suite(void);
Suite *sha256_suite(void);
Suite *verity_suite(void);
Suite *report_suite(void);
Suite *fs_suite(void);
Suite *layout_suite(void);
Suite *base64_suite(void);
Suite *hash_suite(void);
Suite *json_suite(void);
Suite *tpm2_token_suite(void);
Suite *tpm2_decide_suite(void);
Suite *measure_suite(void);
Suite *luks2_header_suite(void);
Suite *stages_suite(void); /* tests/stages: stages on a fake root */
Suite *seed_suite(void);   /* tests/stages: seeding persistent copies */
Suite *emt_stage_suite(void); /* tests/stages: the EMT profile */
Suite *emt_suite(void);
Suite *bounded_suite(void);
Suite *efivar_suite(void);
Suite *disks_stage_suite(void); /* tests/stages: which disk provides the roles */
Suite *exitrd_stage_suite(void); /* tests/stages: the exitrd copy */
Suite *failure_suite(void);
Suite *failures_stage_suite(void); /* tests/stages: failure reports, EFI side */
Suite *context_suite(void); /* tests/stages: the boot context's helpers */
Suite *device_manager_suite(void); /* tests/stages: the device manager's wait */
Suite *keysrc_suite(void); /* tests/stages: the key-source walker and the luks list */
Suite *stage_cases_suite(void); /* tests/stages/cases: stage tests as data */
Suite *module_queue_suite(void);
Suite *sys_luks_suite(void); /* init/sys_luks.c on LUKS2 image files */
Suite *module_image_suite(void); /* init/module_image.c on zstd files */
