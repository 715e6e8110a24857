#!/usr/bin/env python3
"""Build edgeinit's initramfs: a deterministic newc cpio, zstd-compressed.

The archive is written here rather than by GNU cpio so that every header field
is under our control: entries sorted by path, uid/gid 0, one mtime
(SOURCE_DATE_EPOCH), sequential inode numbers, no hard links. Two runs with the
same inputs give byte-identical output.

Contents: /init (the edgeinit binary, stripped), /layout.env, the selected
kernel modules with their dependencies (hard and soft) plus depmod's indexes for
just that subset, a few empty directories, and /dev/console and /dev/null.

/init must be static (no PT_INTERP): the initrd carries no libraries. A dynamic
binary is refused unless --allow-dynamic, which copies its ELF interpreter and
shared libraries at their absolute paths (for debugging builds only).

The build fails if a module the boot path needs is neither built into the
kernel nor in the archive: the names in edgeinit's own required_modules[] table
(--required-table) and those given with --require (disk driver, file systems).
"""

import argparse
import os
import re
import shutil
import stat
import struct
import subprocess
import sys
import tempfile

# Compressors the guest kernel can unpack (CONFIG_RD_*), with the flags it needs.
# zstd is the default: tools/initrd-unpack-bench.sh measures the kernel's unpack
# time in the guest for each; -19 is slow to compress once, fast to unpack.
COMPRESSORS = {
    "zstd": ["zstd", "-q", "-19", "-T1", "-c"],
    "xz": ["xz", "-q", "-9", "--check=crc32", "-T1", "-c"],  # kernel: crc32 only
    "gzip": ["gzip", "-n", "-9", "-c"],  # -n: no name or time in the header
    "lz4": ["lz4", "-q", "-l", "-9", "-c"],  # -l: the legacy frame the kernel reads
    "none": None,
}
EMPTY_DIRS = ["dev", "proc", "sys", "run", "sysroot", "etc"]
# (path, major, minor, mode): written as cpio entries, no mknod needed.
DEVICE_NODES = [("dev/console", 5, 1, 0o600), ("dev/null", 1, 3, 0o666)]
KMOD_SUFFIXES = (".ko", ".ko.xz", ".ko.zst", ".ko.gz")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def die(msg):
    print(f"mkinitrd: error: {msg}", file=sys.stderr)
    sys.exit(1)


def modname(path):
    """Kernel module name of a .ko path: basename, no suffix, '-' as '_'."""
    base = os.path.basename(path)
    for suffix in KMOD_SUFFIXES:
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    return base.replace("-", "_")


# --- kernel modules -------------------------------------------------------


class ModuleIndex:
    """modules.dep / modules.softdep / modules.alias / modules.builtin of a kernel."""

    def __init__(self, moddir):
        self.moddir = moddir
        self.deps = {}  # name -> (relpath, [dep relpaths])
        with open(os.path.join(moddir, "modules.dep")) as f:
            for line in f:
                if ":" not in line:
                    continue
                path, rest = line.split(":", 1)
                self.deps[modname(path)] = (path, rest.split())
        self.builtin = set()
        with open(os.path.join(moddir, "modules.builtin")) as f:
            self.builtin = {modname(line.strip()) for line in f if line.strip()}
        self.softdeps = {}  # name -> [module names or aliases]
        self.aliases = {}  # alias -> [module names]
        self._read_optional("modules.softdep", self._softdep_line)
        self._read_optional("modules.alias", self._alias_line)

    def _read_optional(self, name, parse):
        path = os.path.join(self.moddir, name)
        if os.path.exists(path):
            with open(path) as f:
                for line in f:
                    parse(line.split())

    def _softdep_line(self, words):
        # "softdep ext4 pre: crypto-crc32c" ; "pre:"/"post:" mark the lists.
        if len(words) >= 2 and words[0] == "softdep":
            wanted = [w for w in words[2:] if w not in ("pre:", "post:")]
            self.softdeps.setdefault(words[1].replace("-", "_"), []).extend(wanted)

    def _alias_line(self, words):
        if len(words) == 3 and words[0] == "alias":
            self.aliases.setdefault(words[1], []).append(words[2])

    def resolve(self, names):
        """Relative .ko paths for names, with hard and soft deps, transitively."""
        selected = {}  # relpath -> reason
        seen = set()
        todo = [(n, True) for n in names]
        while todo:
            name, required = todo.pop()
            key = name.replace("-", "_")
            if key in seen:
                continue
            seen.add(key)
            if key in self.deps:
                path, hard = self.deps[key]
                selected[path] = name
                todo.extend((modname(d), True) for d in hard)
                todo.extend((s, False) for s in self.softdeps.get(key, []))
            elif key in self.builtin:
                print(f"mkinitrd: {name} is built into the kernel", file=sys.stderr)
            elif name in self.aliases:
                # A softdep may name an alias (crypto-crc32c): take every provider.
                todo.extend((m, required) for m in self.aliases[name])
            elif required:
                die(f"'{name}' is neither a module in {self.moddir}/modules.dep "
                    "nor built in (modules.builtin)")
            else:
                print(f"mkinitrd: soft dependency '{name}' not found, ignoring",
                      file=sys.stderr)
        return sorted(selected)


# --- shared libraries -------------------------------------------------------


def elf_interpreter(path):
    """PT_INTERP of a 64-bit little-endian ELF, or None for a static binary."""
    with open(path, "rb") as f:
        ident = f.read(64)
        if ident[:4] != b"\x7fELF":
            die(f"{path} is not an ELF file")
        if ident[4] != 2 or ident[5] != 1:
            die(f"{path}: only 64-bit little-endian ELF is supported")
        phoff, = struct.unpack_from("<Q", ident, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", ident, 0x36)
        for i in range(phnum):
            f.seek(phoff + i * phentsize)
            p_type, _flags, p_offset, _va, _pa, p_filesz = struct.unpack(
                "<IIQQQQ", f.read(40))
            if p_type == 3:  # PT_INTERP
                f.seek(p_offset)
                return f.read(p_filesz).rstrip(b"\0").decode()
    return None


def shared_libraries(binary):
    """Absolute paths of the interpreter and every library binary needs."""
    interp = elf_interpreter(binary)
    if interp is None:
        return []
    # ldd (the interpreter in trace mode) applies the real search rules,
    # including transitive DT_NEEDED and the ld.so cache.
    out = subprocess.run(["ldd", binary], check=True, capture_output=True,
                         text=True).stdout
    libs = {interp}
    for line in out.splitlines():
        words = line.split()
        if "=>" in words:
            target = words[words.index("=>") + 1]
            if target == "not":
                die(f"{binary}: library {words[0]} not found")
            if target.startswith("/"):
                libs.add(target)
        elif words and words[0].startswith("/"):
            libs.add(words[0])
    return sorted(libs)


# --- modules the boot path needs ---------------------------------------------


def required_modules(args):
    """(name, why) pairs: edgeinit's required_modules[] table plus --require."""
    wanted = []
    if args.required_table:
        with open(args.required_table) as f:
            src = f.read()
        table = re.search(r"required_modules\[\]\s*=\s*\{(.*?)\n\};", src, re.S)
        if not table:
            die(f"{args.required_table}: no required_modules[] table found")
        for name, why in re.findall(r'\{\s*"([^"]+)"\s*,\s*"([^"]*)"\s*\}', table.group(1)):
            wanted.append((name, f"{why} (loaded by /init, {args.required_table})"))
        if not wanted:
            die(f"{args.required_table}: required_modules[] table is empty or unparsable")
    for name in args.require.split():
        wanted.append((name, "boot path of the image (--require)"))
    return wanted


def check_required(index, selected, wanted):
    """Fail unless every needed module is built in or among the selected .ko files."""
    present = {modname(rel) for rel in selected}
    missing = [f"{name}: {why}" for name, why in wanted
               if name.replace("-", "_") not in present | index.builtin]
    if missing:
        die("modules the boot path needs are neither built in nor in the initrd "
            "(add them to INITRD_MODULES or EXTRA_MODULES):\n  " + "\n  ".join(missing))


# --- cpio -------------------------------------------------------------------


class Entry:
    def __init__(self, path, mode, data=b"", rdev=(0, 0)):
        self.path = path  # relative, no leading slash
        self.mode = mode  # full st_mode
        self.data = data
        self.rdev = rdev


def newc_record(ino, entry, mtime):
    name = entry.path.encode() + b"\0"
    nlink = 2 if stat.S_ISDIR(entry.mode) else 1
    fields = [ino, entry.mode, 0, 0, nlink, mtime, len(entry.data),
              0, 0, entry.rdev[0], entry.rdev[1], len(name), 0]
    header = b"070701" + b"".join(b"%08X" % v for v in fields)
    out = header + name
    out += b"\0" * (-len(out) % 4)
    out += entry.data
    out += b"\0" * (-len(out) % 4)
    return out


def write_cpio(entries, mtime):
    chunks = [newc_record(i + 1, e, mtime) for i, e in enumerate(entries)]
    chunks.append(newc_record(0, Entry("TRAILER!!!", 0), 0))
    return b"".join(chunks)


def collect_tree(root):
    """Entries for every file, directory and symlink under root (not root)."""
    entries = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root)
            st = os.lstat(full)
            if stat.S_ISLNK(st.st_mode):
                entries.append(Entry(rel, stat.S_IFLNK | 0o777,
                                     os.readlink(full).encode()))
            elif stat.S_ISDIR(st.st_mode):
                entries.append(Entry(rel, stat.S_IFDIR | 0o755))
            elif stat.S_ISREG(st.st_mode):
                # Only the executable bit carries meaning; umask must not.
                perm = 0o755 if st.st_mode & 0o111 else 0o644
                with open(full, "rb") as f:
                    entries.append(Entry(rel, stat.S_IFREG | perm, f.read()))
            else:
                die(f"unexpected file type in staging tree: {rel}")
    return entries


def sort_key(entry):
    # Component-wise, so a directory always precedes its contents.
    return entry.path.split("/")


def default_epoch():
    if os.environ.get("SOURCE_DATE_EPOCH"):
        return int(os.environ["SOURCE_DATE_EPOCH"])
    r = subprocess.run(["git", "-C", REPO, "log", "-1", "--format=%ct"],
                       capture_output=True, text=True)
    return int(r.stdout.strip()) if r.returncode == 0 and r.stdout.strip() else 0


def copy_into(stage, src, dest_abs):
    dest = os.path.join(stage, dest_abs.lstrip("/"))
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    shutil.copyfile(src, dest)  # follows symlinks: the archive holds real files
    shutil.copymode(src, dest)


def build_stage(args, stage):
    kver = open(os.path.join(args.kernel_dir, "kver")).read().strip()
    kmoddir = os.path.join(args.kernel_dir, "lib", "modules", kver)

    for d in EMPTY_DIRS:
        os.makedirs(os.path.join(stage, d), exist_ok=True)
    interp = elf_interpreter(args.init)
    if interp is not None and not args.allow_dynamic:
        die(f"{args.init} is dynamically linked (PT_INTERP {interp}); the initrd "
            "carries no libraries. Build the static /init (make), or pass "
            "--allow-dynamic to copy its libraries")
    # The initrd gets a stripped copy; build/init keeps its symbols for debugging
    # and for the link-map size report. strip is deterministic.
    subprocess.run(["strip", "--strip-all", "-o", os.path.join(stage, "init"),
                    args.init], check=True)
    os.chmod(os.path.join(stage, "init"), 0o755)
    copy_into(stage, args.layout, "/layout.env")
    if interp is not None:
        for lib in shared_libraries(args.init):
            copy_into(stage, lib, lib)

    index = ModuleIndex(kmoddir)
    names = args.modules.split()
    stage_moddir = os.path.join(stage, "lib", "modules", kver)
    os.makedirs(stage_moddir, exist_ok=True)
    selected = index.resolve(names)
    check_required(index, selected, required_modules(args))
    for rel in selected:
        copy_into(stage, os.path.join(kmoddir, rel),
                  f"/lib/modules/{kver}/{rel}")
    for name in ("modules.order", "modules.builtin", "modules.builtin.modinfo"):
        src = os.path.join(kmoddir, name)
        if os.path.exists(src):
            copy_into(stage, src, f"/lib/modules/{kver}/{name}")
    # Indexes (modules.dep.bin, alias.bin, builtin.bin, ...) for this subset.
    subprocess.run(["depmod", "-b", stage, kver], check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--init", required=True, help="edgeinit binary, becomes /init")
    ap.add_argument("--kernel-dir", required=True, help="output of fetch-kernel.sh")
    ap.add_argument("--modules", default="", help="space-separated module names")
    ap.add_argument("--layout", required=True, help="copied to /layout.env")
    ap.add_argument("--out", help="compressed initrd to write")
    ap.add_argument("--list", action="store_true", help="print entries and sizes")
    ap.add_argument("--compress", choices=sorted(COMPRESSORS),
                    default=os.environ.get("MKINITRD_COMPRESS") or "zstd",
                    help="compressor of --out (default $MKINITRD_COMPRESS or zstd)")
    ap.add_argument("--allow-dynamic", action="store_true",
                    help="accept a dynamic --init and copy its shared libraries")
    ap.add_argument("--required-table", default=os.environ.get(
        "MKINITRD_REQUIRED_TABLE", os.path.join(REPO, "modules", "load_modules.c")),
        help="C source with edgeinit's required_modules[] table ('' for none)")
    ap.add_argument("--require", default=os.environ.get("MKINITRD_REQUIRE", ""),
                    help="more module names that must be built in or in the initrd")
    args = ap.parse_args()
    if not args.out and not args.list:
        ap.error("need --out and/or --list")

    mtime = default_epoch()
    with tempfile.TemporaryDirectory(prefix="mkinitrd.") as stage:
        build_stage(args, stage)
        entries = collect_tree(stage)
    for path, major, minor, perm in DEVICE_NODES:
        entries.append(Entry(path, stat.S_IFCHR | perm, rdev=(major, minor)))
    entries.sort(key=sort_key)
    paths = [e.path for e in entries]
    if len(set(paths)) != len(paths):
        die("duplicate paths in archive")

    if args.list:
        for e in entries:
            print(f"{stat.filemode(e.mode)} {len(e.data):>10} /{e.path}")
        total = sum(len(e.data) for e in entries)
        print(f"{len(entries)} entries, {total} bytes uncompressed", file=sys.stderr)

    if args.out:
        raw = write_cpio(entries, mtime)
        cmd = COMPRESSORS[args.compress]
        packed = raw if cmd is None else subprocess.run(
            cmd, input=raw, check=True, capture_output=True).stdout
        tmp = args.out + ".tmp"
        with open(tmp, "wb") as f:
            f.write(packed)
        os.replace(tmp, args.out)
        print(f"mkinitrd: {args.out}: {len(entries)} entries, {len(raw)} bytes "
              f"cpio, {len(packed)} bytes {args.compress}", file=sys.stderr)


if __name__ == "__main__":
    main()
