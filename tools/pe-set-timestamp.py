#!/usr/bin/env python3
"""Set a PE/COFF image's TimeDateStamp and recompute its optional-header CheckSum.

objcopy (binutils 2.40) writes the current time into the COFF header of every PE
file it produces, ignoring SOURCE_DATE_EPOCH, so two UKI builds a second apart
differ. This rewrites the stamp (default 0, what systemd's EFI stub ships with)
and the checksum that covers it, in place.

    tools/pe-set-timestamp.py FILE [SECONDS]
"""

import struct
import sys


def pe_checksum(data, checksum_off):
    """The PE checksum: 16-bit one's-complement-style sum with the field as zero, plus length."""
    total = 0
    buf = data[:checksum_off] + b"\0\0\0\0" + data[checksum_off + 4:]
    if len(buf) % 2:
        buf += b"\0"
    for (word,) in struct.iter_unpack("<H", buf):
        total += word
        total = (total & 0xFFFF) + (total >> 16)
    total = (total & 0xFFFF) + (total >> 16)
    return (total + len(data)) & 0xFFFFFFFF


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__.strip().splitlines()[-1].strip())
    path = sys.argv[1]
    stamp = int(sys.argv[2]) if len(sys.argv) == 3 else 0
    with open(path, "rb") as f:
        data = bytearray(f.read())
    if data[:2] != b"MZ":
        sys.exit(f"pe-set-timestamp: {path}: not a PE image (no MZ)")
    pe = struct.unpack_from("<I", data, 0x3C)[0]
    if data[pe:pe + 4] != b"PE\0\0":
        sys.exit(f"pe-set-timestamp: {path}: no PE signature")
    struct.pack_into("<I", data, pe + 8, stamp)  # COFF header TimeDateStamp
    checksum_off = pe + 24 + 64  # optional header + 64, same for PE32 and PE32+
    struct.pack_into("<I", data, checksum_off, pe_checksum(bytes(data), checksum_off))
    with open(path, "wb") as f:
        f.write(data)


if __name__ == "__main__":
    main()
