/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* EFI variables as efivarfs shows them: 4 bytes of attributes (little-endian), then the data. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* systemd's loader interface: systemd-boot and systemd-stub publish the PARTUUID of the ESP
 * they were started from. Volatile (boot services + runtime access), never non-volatile. */
#define EFIVAR_LOADER_DEVICE_PART_UUID "LoaderDevicePartUUID-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f"

#define EFI_VARIABLE_NON_VOLATILE 0x00000001u
#define EFI_VARIABLE_BOOTSERVICE_ACCESS 0x00000002u
#define EFI_VARIABLE_RUNTIME_ACCESS 0x00000004u

/* The largest efivarfs file efivar_decode_uuid() accepts: attributes, 36 UTF-16 characters and
 * the terminating NUL. */
#define EFIVAR_UUID_FILE_SIZE (4 + 37 * 2)

/* Decode an efivarfs file holding a UUID as a NUL-terminated UTF-16LE string (the form
 * LoaderDevicePartUUID has): writes its attributes to *attributes (may be NULL) and the UUID in
 * lower case, 8-4-4-4-12, to out (37 bytes). -EBADMSG if the file is anything else: too short
 * or too long, an odd data length, a character outside hex digits and dashes, dashes in the
 * wrong places, no terminating NUL or bytes after it. */
int efivar_decode_uuid(const uint8_t *data, size_t size, uint32_t *attributes, char out[37]);
