#!/usr/bin/env python3
"""Size of the static /init, stripped, and what each linked library contributes.

Reads the GNU ld link map (-Wl,-Map) of build/init: every input section the
linker kept, with its size and the object or archive member it came from, is
added to its library. Only sections that are loaded at run time count; debug
information and the symbol table are not in the initrd's stripped copy.
"file" is what occupies the executable (code, read-only data, initialised data,
unwind tables); "bss" is zero-filled memory, which costs no bytes in the initrd.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
from collections import defaultdict

NOT_LOADED = (".debug", ".comment", ".note.GNU-stack", ".gnu.attributes",
              ".stab", ".symtab", ".strtab", ".shstrtab", ".gnu_debug")
NOBITS = (".bss", ".tbss")
INPUT_RE = re.compile(r"^ (\S+)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$")


def owner(path):
    """Library name of a map file reference: archive, edgeinit, or runtime."""
    m = re.match(r"(.*\.a)\((.*)\)$", path)
    if m:
        name = os.path.basename(m.group(1))
        if m.group(1).endswith("x86_64-linux-musl/libc.a"):
            return "libc.a (musl)"
        return name
    if "/obj/" in path or path.startswith("build/"):
        return "edgeinit (own code)"
    return "C runtime (crt*.o)"


def parse_map(path):
    sizes = defaultdict(lambda: [0, 0])  # library -> [file bytes, bss bytes]
    out_section = None
    pending = None  # input section name whose numbers are on the next line
    in_map = False
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("Linker script and memory map"):
                in_map = True
                continue
            if not in_map:
                continue
            if line and not line[0].isspace():
                out_section = line.split()[0]
                pending = None
                continue
            if out_section is None or out_section.startswith(NOT_LOADED):
                continue
            m = INPUT_RE.match(line)
            if m is None:
                # A long input section name is printed alone; its numbers follow.
                words = line.split()
                pending = words[0] if len(words) == 1 and words[0].startswith(".") else None
                continue
            name = m.group(1) or pending
            pending = None
            if name is None or name == "*fill*":
                continue
            size = int(m.group(3), 16)
            if size == 0:
                continue
            lib = owner(m.group(4).strip())
            sizes[lib][1 if out_section.startswith(NOBITS) else 0] += size
    return sizes


def stripped_size(binary):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "init")
        subprocess.run(["strip", "--strip-all", "-o", out, binary], check=True)
        return os.path.getsize(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--map", required=True)
    ap.add_argument("--limit", type=int, default=3 * 512 * 1024,
                    help="target for the stripped size in bytes (default 1.5 MiB)")
    args = ap.parse_args()

    sizes = parse_map(args.map)
    total_file = sum(v[0] for v in sizes.values())
    print(f"{'library':<28}{'file bytes':>12}{'share':>8}{'bss bytes':>12}")
    for lib, (fbytes, bss) in sorted(sizes.items(), key=lambda kv: -kv[1][0]):
        share = 100.0 * fbytes / total_file if total_file else 0
        print(f"{lib:<28}{fbytes:>12}{share:>7.1f}%{bss:>12}")
    print(f"{'sum of sections':<28}{total_file:>12}")
    stripped = stripped_size(args.binary)
    print(f"{args.binary} stripped: {stripped} bytes ({stripped / 1048576:.2f} MiB; "
          f"target {args.limit / 1048576:.2f} MiB); ELF headers and alignment make up the rest")
    if stripped > args.limit:
        print(f"size: {args.binary} is over the target", file=sys.stderr)


if __name__ == "__main__":
    main()
