/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Runs every unit suite. Exit status: 0 if all tests passed, 1 otherwise. */
#include <stdlib.h>

#include "suites.h"

int main(void)
{
	Suite *(*const suites[])(void) = {
		strutil_suite, cmdline_suite, devref_suite, uevent_suite,
		sha256_suite,  verity_suite,  report_suite, fs_suite,
		layout_suite, stages_suite, seed_suite, emt_stage_suite, emt_suite,
		base64_suite, hash_suite, json_suite, tpm2_token_suite, tpm2_decide_suite, measure_suite,
		luks2_header_suite,
		bounded_suite,
		efivar_suite, disks_stage_suite,
		exitrd_stage_suite,
		failure_suite, failures_stage_suite,
		device_manager_suite, context_suite,
		keysrc_suite, stage_cases_suite, module_queue_suite, sys_luks_suite, module_image_suite,
	};
	SRunner *sr = srunner_create(NULL);
	int failed;

	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		srunner_add_suite(sr, suites[i]());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
