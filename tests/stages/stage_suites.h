/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
#include <check.h>
Suite *stages_suite(void);
