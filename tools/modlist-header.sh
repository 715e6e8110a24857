#!/bin/sh
# Turn a module list (modules.d/*.list: one name a line, '#' starts a comment, the comment on a
# name's line says why it is needed) into C initializers { "name", "why" }, for /init's
# required_modules[] table. Usage: tools/modlist-header.sh LIST >HEADER (fails on a bad line).
set -eu
list=${1:?usage: $0 LIST}
echo "/* Generated from $list by tools/modlist-header.sh: edit the list, not this file. */"
exec awk -v list="$list" '
{
	why = ""; line = $0; i = index(line, "#")
	if (i) { why = substr(line, i + 1); line = substr(line, 1, i - 1) }
	gsub(/^[ \t]+|[ \t]+$/, "", line)
	if (line == "") next
	if (line !~ /^[A-Za-z0-9_-]+$/) {
		printf "%s:%d: expected one module name per line\n", list, NR > "/dev/stderr"; bad = 1; exit 1
	}
	gsub(/^[ \t]+|[ \t]+$/, "", why)
	gsub(/\\/, "\\\\", why); gsub(/"/, "\\\"", why); gsub(/-/, "_", line)
	printf "\t{ \"%s\", \"%s\" },\n", line, why
	found++
}
END { if (bad) exit 1; if (!found) { printf "%s: no module names\n", list > "/dev/stderr"; exit 1 } }' "$list"
