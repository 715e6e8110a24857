#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Build hostile LUKS2 headers from a cryptsetup-made image file, for edgeinit's boot tests.

Edits the JSON metadata of both header copies (primary at 0, secondary at the primary's
hdr_size) and recomputes their SHA-256 checksums, so libcryptsetup loads the result as valid.

  craft-luks2.py null-keyslot IMG --keyslot N --key-file PASS
      Keyslot N's area becomes cipher_null-ecb and holds the AF-split volume key in the clear:
      libcryptsetup before 2.8.1 opens it with ANY passphrase (2.8.1: with an empty one only).
      cryptsetup itself refuses to create such a keyslot, hence this tool.
  craft-luks2.py verify-null-keyslot IMG --keyslot N
      Checks that keyslot N yields the volume key without any key (the host's cryptsetup cannot
      show it: its OpenSSL backend has no cipher_null and the host kernel no AF_ALG).
  craft-luks2.py null-segment IMG
      The data segment's cipher becomes cipher_null-ecb (the data is then read in the clear).
  craft-luks2.py pbkdf2-iterations IMG --keyslot N --iterations 4294967295
  craft-luks2.py argon2 IMG --keyslot N [--memory KIB] [--time T] [--cpus C]
  craft-luks2.py set IMG PATH JSON-VALUE      e.g. set IMG keyslots.1.area.encryption '"x"'

Tokens need no help: `cryptsetup token import --json-file F IMG` works on image files.
"""
import argparse
import base64
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile

BIN = 4096
SECONDARY_MAGIC = b"SKUL\xba\xbe"


def read_copy(f, off):
    f.seek(off)
    hdr = f.read(BIN)
    if hdr[:6] not in (b"LUKS\xba\xbe", SECONDARY_MAGIC):
        sys.exit(f"no LUKS2 header at {off}")
    version, hdr_size = struct.unpack(">HQ", hdr[6:16])
    if version != 2:
        sys.exit(f"header at {off} is not LUKS2")
    f.seek(off + BIN)
    area = f.read(hdr_size - BIN)
    text = area.split(b"\0", 1)[0]
    return hdr, hdr_size, json.loads(text)


def write_copy(f, off, hdr, hdr_size, meta):
    text = json.dumps(meta, separators=(",", ":")).encode()
    if len(text) >= hdr_size - BIN:
        sys.exit("JSON metadata does not fit the header")
    blob = bytearray(hdr + text + b"\0" * (hdr_size - BIN - len(text)))
    blob[448:512] = b"\0" * 64
    blob[448:480] = hashlib.sha256(bytes(blob)).digest()
    f.seek(off)
    f.write(blob)


def edit_both(path, change):
    """change(meta) on the primary's metadata, written to both copies."""
    with open(path, "r+b") as f:
        hdr0, size, meta = read_copy(f, 0)
        hdr1, size1, _ = read_copy(f, size)
        if size1 != size:
            sys.exit("header copies differ in size")
        change(meta)
        write_copy(f, 0, hdr0, size, meta)
        write_copy(f, size, hdr1, size, meta)


def keyslot(meta, n):
    ks = meta["keyslots"].get(str(n))
    if ks is None:
        sys.exit(f"no keyslot {n}")
    return ks


def diffuse(buf, hash_name):
    """LUKS1 anti-forensic diffusion: each digest-sized chunk hashed with its big-endian index."""
    ds = hashlib.new(hash_name).digest_size
    out = b""
    for i in range(0, len(buf), ds):
        chunk = buf[i:i + ds]
        out += hashlib.new(hash_name, struct.pack(">I", i // ds) + chunk).digest()[:len(chunk)]
    return out


def xor(a, b):
    return bytes(x ^ y for x, y in zip(a, b))


def af_split(key, stripes, hash_name):
    buf = bytes(len(key))
    out = b""
    for _ in range(stripes - 1):
        r = os.urandom(len(key))
        out += r
        buf = diffuse(xor(buf, r), hash_name)
    return out + xor(buf, key)


def af_merge(material, key_size, stripes, hash_name):
    buf = bytes(key_size)
    for i in range(stripes - 1):
        buf = diffuse(xor(buf, material[i * key_size:(i + 1) * key_size]), hash_name)
    return xor(buf, material[(stripes - 1) * key_size:stripes * key_size])


def volume_key(img, key_file):
    with tempfile.TemporaryDirectory() as d:
        vk = os.path.join(d, "vk")
        subprocess.run(["cryptsetup", "luksDump", "-q", "--dump-volume-key", "--volume-key-file", vk,
                        "--key-file", key_file, img], check=True, stdout=subprocess.DEVNULL)
        with open(vk, "rb") as f:
            return f.read()


def cmd_null_keyslot(a):
    vk = volume_key(a.image, a.key_file)
    with open(a.image, "rb") as f:
        _, _, meta = read_copy(f, 0)
    ks = keyslot(meta, a.keyslot)
    af = ks["af"]
    material = af_split(vk, af["stripes"], af["hash"])
    if len(material) > int(ks["area"]["size"]):
        sys.exit("the split key does not fit the keyslot area")
    with open(a.image, "r+b") as f:
        f.seek(int(ks["area"]["offset"]))
        f.write(material)

    def change(m):
        keyslot(m, a.keyslot)["area"]["encryption"] = "cipher_null-ecb"
    edit_both(a.image, change)


def cmd_verify_null_keyslot(a):
    """What libcryptsetup does with a cipher_null keyslot, whatever the passphrase: the area is
    read as is (no decryption), AF-merged, and the result checked against the digest."""
    with open(a.image, "rb") as f:
        _, _, meta = read_copy(f, 0)
        ks = keyslot(meta, a.keyslot)
        if ks["area"]["encryption"] != "cipher_null-ecb":
            sys.exit(f"keyslot {a.keyslot} is not cipher_null-ecb")
        af, n = ks["af"], ks["key_size"]
        f.seek(int(ks["area"]["offset"]))
        vk = af_merge(f.read(n * af["stripes"]), n, af["stripes"], af["hash"])
    for d in meta["digests"].values():
        if str(a.keyslot) in d["keyslots"]:
            want = base64.b64decode(d["digest"])
            got = hashlib.pbkdf2_hmac(d["hash"], vk, base64.b64decode(d["salt"]), d["iterations"], len(want))
            if got == want:
                print(f"keyslot {a.keyslot} yields the volume key with any passphrase")
                return
    sys.exit(f"keyslot {a.keyslot} does not yield the volume key")


def cmd_null_segment(a):
    def change(m):
        m["segments"]["0"]["encryption"] = "cipher_null-ecb"
    edit_both(a.image, change)


def cmd_pbkdf2(a):
    def change(m):
        kdf = keyslot(m, a.keyslot)["kdf"]
        if kdf["type"] != "pbkdf2":
            sys.exit(f"keyslot {a.keyslot} is not pbkdf2")
        kdf["iterations"] = a.iterations
    edit_both(a.image, change)


def cmd_argon2(a):
    def change(m):
        kdf = keyslot(m, a.keyslot)["kdf"]
        if not kdf["type"].startswith("argon2"):
            sys.exit(f"keyslot {a.keyslot} is not argon2")
        for field, v in (("memory", a.memory), ("time", a.time), ("cpus", a.cpus)):
            if v is not None:
                kdf[field] = v
    edit_both(a.image, change)


def cmd_set(a):
    value = json.loads(a.value)

    def change(m):
        *parents, last = a.path.split(".")
        node = m
        for p in parents:
            node = node[p]
        node[last] = value
    edit_both(a.image, change)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("null-keyslot")
    s.add_argument("image")
    s.add_argument("--keyslot", type=int, required=True)
    s.add_argument("--key-file", required=True, help="a passphrase that opens the image now")
    s.set_defaults(fn=cmd_null_keyslot)
    s = sub.add_parser("verify-null-keyslot")
    s.add_argument("image")
    s.add_argument("--keyslot", type=int, required=True)
    s.set_defaults(fn=cmd_verify_null_keyslot)
    s = sub.add_parser("null-segment")
    s.add_argument("image")
    s.set_defaults(fn=cmd_null_segment)
    s = sub.add_parser("pbkdf2-iterations")
    s.add_argument("image")
    s.add_argument("--keyslot", type=int, required=True)
    s.add_argument("--iterations", type=int, required=True)
    s.set_defaults(fn=cmd_pbkdf2)
    s = sub.add_parser("argon2")
    s.add_argument("image")
    s.add_argument("--keyslot", type=int, required=True)
    s.add_argument("--memory", type=int)
    s.add_argument("--time", type=int)
    s.add_argument("--cpus", type=int)
    s.set_defaults(fn=cmd_argon2)
    s = sub.add_parser("set")
    s.add_argument("image")
    s.add_argument("path", help="dotted path into the metadata, e.g. keyslots.0.kdf.time")
    s.add_argument("value", help="a JSON value")
    s.set_defaults(fn=cmd_set)
    a = p.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
