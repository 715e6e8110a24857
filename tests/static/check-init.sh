#!/bin/bash
# Checks that an edgeinit binary is what the initrd promises: one static executable, nothing for
# a dynamic loader to do, no way to load code at run time.
#   tests/static/check-init.sh <binary>
# Run after every link of build/init (so a dynamic /init is never produced) and by `make test`.
set -euo pipefail

bin=${1:?usage: $0 <binary>}
fail=0
bad() { echo "check-init: $bin: $*" >&2; fail=1; }

# ELF program headers: PT_INTERP means the kernel would start a dynamic loader first.
if readelf -lW "$bin" | grep -qw INTERP; then
    bad "has a PT_INTERP program header (dynamically linked)"
fi
if readelf -lW "$bin" | grep -qw DYNAMIC; then
    bad "has a PT_DYNAMIC segment"
fi
# DT_NEEDED: shared libraries it would need in the initrd.
needed=$(readelf -dW "$bin" | awk '/\(NEEDED\)/ { print $NF }' | tr '\n' ' ')
[[ -z "$needed" ]] || bad "needs shared libraries: $needed"
# Loading code at run time (dlopen/dlmopen) defeats the point of a static PID 1; musl's static
# stub would fail at run time, so catch any reference at build time. Symbols are read from the
# unstripped binary's symbol table.
if ! nm "$bin" >/dev/null 2>&1 || [[ -z "$(nm "$bin" 2>/dev/null | head -n1)" ]]; then
    bad "has no symbol table: check the unstripped binary"
else
    dl=$(nm "$bin" | awk '$NF ~ /^(dlopen|dlmopen|__dlopen|dlsym|dl_iterate_phdr_dlopen)$/ { print $NF }' | sort -u | tr '\n' ' ')
    [[ -z "$dl" ]] || bad "references $dl"
fi
[[ "$(readelf -hW "$bin" | awk '/Type:/ { print $2 }')" == EXEC ]] ||
    bad "is not an ET_EXEC executable (a static PIE needs a self-relocating start file)"

((fail == 0)) || exit 1
echo "check-init: $bin: static, no PT_INTERP, no DT_NEEDED, no dlopen"
