#!/usr/bin/env bash
# Prints the Debian packages that hold the shared libraries a binary links against (one line,
# space separated): what a runtime-only image must install. Read off the binary itself, so the
# list cannot drift from the build.   usage: scripts/runtime-packages.sh build/src/cli/netres
set -euo pipefail
bin=${1:?usage: runtime-packages.sh BINARY}
[[ -x "$bin" ]] || { echo "runtime-packages: $bin: not an executable" >&2; exit 2; }

owner() {  # the package that owns a file, trying the /usr-merged spellings dpkg may know it by
  local p=$1 real
  real=$(readlink -f "$p")
  for c in "$p" "${p#/usr}" "/usr$p" "$real" "${real#/usr}" "/usr$real"; do
    dpkg -S "$c" 2>/dev/null | head -1 | cut -d: -f1 && return 0
  done
  echo "runtime-packages: no package owns $p" >&2
  return 1
}

libs=$(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}')
for lib in $libs; do owner "$lib"; done | sort -u | tr '\n' ' ' | sed 's/ $/\n/'
