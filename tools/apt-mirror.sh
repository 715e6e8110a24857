#!/bin/bash
# Print the Debian archive this machine's apt is configured with (its first "deb" URI that is not
# the security archive), from sources.list and sources.list.d (one-line and deb822 formats), so
# that no mirror's host name is written into the repository: the build works wherever apt works.
set -euo pipefail

dir=${APT_SOURCES_DIR:-/etc/apt}
uris() {
    local f
    for f in "$dir/sources.list" "$dir"/sources.list.d/*.list; do
        [[ -r "$f" ]] || continue
        # deb [options] URI suite components...
        awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ } print $i }' "$f"
    done
    for f in "$dir"/sources.list.d/*.sources; do
        [[ -r "$f" ]] || continue
        # deb822 stanzas: Types: deb ... URIs: <uri>...; a stanza ends at an empty line.
        awk 'BEGIN { RS = ""; FS = "\n" }
             { deb = 0; u = ""
               for (i = 1; i <= NF; i++) {
                   if ($i ~ /^Types:/ && $i ~ /[ \t]deb([ \t]|$)/) deb = 1
                   if ($i ~ /^URIs:/) { split($i, w, /[ \t]+/); u = w[2] }
               }
               if (deb && u != "") print u }' "$f"
    done
}
uri=$(uris | grep -v -- '-security' | head -n1 || true)
if [[ -z "$uri" ]]; then
    echo "apt-mirror: no 'deb' source in $dir/sources.list or $dir/sources.list.d: configure apt first" >&2
    exit 1
fi
echo "${uri%/}"
