#!/usr/bin/env bash
# Install the Debian packages fptrace needs to build, test and benchmark, but only
# the ones that are missing: a machine that has them all runs no apt at all, so
# `make test` stays fast and works offline once set up.
set -euo pipefail

packages=(
  build-essential      # gcc, make, libc headers
  libunwind-dev        # DWARF backend 2 and the unw_* peers in the benchmark
  libdw-dev            # DWARF backend 1 (elfutils libdw)
  libelf-dev
  elfutils             # eu-readelf, eu-stack for debugging
  libcriterion-dev     # the test framework
  zlib1g-dev           # gzip for pprof output
  libprotobuf-c-dev    # profile.proto encoding
  protobuf-c-compiler
  linux-perf           # perf record/script for the integration tests
  gdb                  # backtrace tests across stack switches
  golang-go            # Go peer for benchmarks, `go tool pprof` as a reader
  libxml2-utils        # xmllint, to validate the SVG flame graph
  libc6-dbg            # libc's symbol table: the ucontext trampoline __start_context
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "deps.sh: installing missing Debian packages: ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=sudo
  else
    echo "deps.sh: not root; run as root: apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
else
  SUDO=
fi

export DEBIAN_FRONTEND=noninteractive
# apt-get update first: on a fresh machine the package lists are empty or stale,
# and apt-get install would then fail to find the packages at all.
$SUDO apt-get update -qq </dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null
echo "deps.sh: installed ${missing[*]}" >&2
