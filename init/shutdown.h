/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The exitrd (init/shutdown.c): edgeinit run by systemd-shutdown as /run/initramfs/shutdown. */
#pragma once

#include "edgeinit/macro.h"

/* argv[0] is "/shutdown": that is how systemd-shutdown starts the exitrd. */
#define EXITRD_ARGV0 "/shutdown"

/* Unmount /oldroot, close the device-mapper devices, sync, then do what argv[1] asks ("reboot",
 * "poweroff", "halt", "kexec"). Never returns. */
_noreturn_ void shutdown_main(int argc, char **argv);
