#!/usr/bin/env bash
# Install the Debian packages fptrace needs to build, test and benchmark, but only
# the ones that are missing: a machine that has them all runs no apt at all, so
# `make test` stays fast and works offline once set up.
#
#   scripts/deps.sh [SYSROOT]
# SYSROOT (mk/arm64.mk gives build-arm64/sysroot): also unpack the headers of
# the arm64 -dev packages there, for the arm64 fptrace, once (SYSROOT/.complete).
set -euo pipefail
sysroot=${1:-}

packages=(
  build-essential      # gcc, make, libc headers
  libunwind-dev        # DWARF backend 2 and the unw_* peers in the benchmark
  libdw-dev            # DWARF backend 1 (elfutils libdw)
  libelf-dev
  libcapstone-dev      # x86-64 decoder behind fptrace audit's verdicts
  elfutils             # eu-readelf, eu-stack for debugging
  libcriterion-dev     # the test framework
  zlib1g-dev           # gzip for pprof output
  libprotobuf-c-dev    # profile.proto encoding
  protobuf-c-compiler
  linux-perf           # perf record/script for the integration tests
  gdb                  # backtrace tests across stack switches
  golang-go            # Go peer for benchmarks, `go tool pprof` as a reader
  libxml2-utils        # xmllint, to validate the SVG flame graph
  pkgconf              # pkg-config: programs built against make install
  man-db               # man -l renders the installed man page
  chromium             # the flame graph in a real browser; the demo's PNG
  nodejs               # drives chromium (playwright-core from npm, in build/)
  python3-jsonschema   # validates --format speedscope against its schema
  libc6-dbg            # separate debug info under /usr/lib/debug/.build-id/
  # make test-arm64: cross-build with Debian's aarch64 toolchain, run under qemu.
  gcc-aarch64-linux-gnu
  libc6-dev-arm64-cross
  qemu-user-static
  # The arm64 loader and libc (Multi-Arch: same, beside the amd64 ones).  Never
  # an arm64 -dev package: those conflict with their amd64 twins.
  libc6:arm64
  # What the arm64 fptrace links (make ARCH=arm64), Multi-Arch: same too; their
  # headers come from the -dev packages unpacked into SYSROOT (below).
  libdw1:arm64
  libelf1:arm64
  libunwind8:arm64
  libcapstone4:arm64
  libprotobuf-c1:arm64
  zlib1g:arm64
)
# The arm64 -dev packages whose headers the arm64 fptrace compiles with:
# downloaded and unpacked into SYSROOT, never installed (libunwind's headers
# are per architecture; the others are the same on both, but the cross
# compiler must not read the host's /usr/include, where glibc is amd64's).
sysroot_debs=(libdw-dev libelf-dev libunwind-dev libcapstone-dev libprotobuf-c-dev zlib1g-dev)
# Debian's nodejs has npm in a package of its own; NodeSource's has it inside
# (and conflicts with Debian's npm), so ask for it only when it is missing.
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  # One status line per installed architecture (multiarch): any will do.
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -qx "install ok installed" ||
    missing+=("$p")
done

# find_sudo WHAT: SUDO is empty for root, sudo where it works without a
# password; else say to run WHAT as root, and fail.
find_sudo() {
  SUDO=
  [ "$(id -u)" -eq 0 ] && return 0
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=sudo
    return 0
  fi
  echo "deps.sh: not root; run as root: $1" >&2
  return 1
}

install_missing() {
  echo "deps.sh: installing missing Debian packages: ${missing[*]}" >&2
  find_sudo "apt-get update && apt-get install -y ${missing[*]}" || exit 1

  export DEBIAN_FRONTEND=noninteractive
  lock=(-o DPkg::Lock::Timeout=600)
  # The :arm64 packages need the arm64 architecture in dpkg (idempotent).
  if printf '%s\n' "${missing[@]}" | grep -q ':arm64$' &&
     ! dpkg --print-foreign-architectures | grep -qx arm64; then
    $SUDO dpkg --add-architecture arm64
  fi
  # apt-get update first: on a fresh machine the package lists are empty or stale,
  # and apt-get install would then fail to find the packages at all.
  # Lock::Timeout: wait for another apt or dpkg (a parallel `make test`, an
  # unattended upgrade) instead of failing at once on its lock.
  $SUDO apt-get "${lock[@]}" update -qq </dev/null
  # A multiarch package can conflict with its twin of the other architecture
  # (libcriterion3:arm64 removes libcriterion-dev:amd64): never let an install
  # remove anything; say what it would have removed instead.
  removed=$(apt-get "${lock[@]}" install -s -qq --no-install-recommends "${missing[@]}" </dev/null |
    awk '$1 == "Remv" { print $2 }')
  if [ -n "$removed" ]; then
    echo "deps.sh: installing ${missing[*]} would remove: $removed; not installing" >&2
    exit 1
  fi
  $SUDO apt-get "${lock[@]}" install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null
  echo "deps.sh: installed ${missing[*]}" >&2
}


# The arm64 -dev packages' headers under SYSROOT/usr/include, once: apt-get
# download needs no root, and after one failure (package lists older than the
# mirror) the lists are updated and the download tried again.
prepare_sysroot() {
  local dir=$1 debs=$1/debs
  # .complete lists what was unpacked: a changed list unpacks again; the same
  # one is only touched (make compares its time with deps.sh's).
  if [ "$(cat "$dir/.complete" 2>/dev/null)" = "${sysroot_debs[*]}" ]; then
    touch "$dir/.complete"
    return 0
  fi
  rm -rf "$dir"
  mkdir -p "$debs"
  local names=("${sysroot_debs[@]/%/:arm64}")
  # Sandbox::User=root: as root, apt would fetch as _apt, who may not write here.
  download_debs() { (cd "$debs" && apt-get -qq -o APT::Sandbox::User=root download "${names[@]}" </dev/null); }
  if ! download_debs; then
    echo "deps.sh: apt-get download ${names[*]} failed; updating the package lists" >&2
    find_sudo "apt-get update" || exit 1
    $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq </dev/null
    download_debs || { echo "deps.sh: cannot download ${names[*]} into $debs" >&2; exit 1; }
  fi
  local deb
  for deb in "$debs"/*.deb; do
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dir" ./usr/include
  done
  echo "${sysroot_debs[*]}" >"$dir/.complete"
  echo "deps.sh: arm64 headers of ${sysroot_debs[*]} unpacked into $dir/usr/include" >&2
}

[ ${#missing[@]} -eq 0 ] || install_missing
[ -z "$sysroot" ] || prepare_sysroot "$sysroot"
