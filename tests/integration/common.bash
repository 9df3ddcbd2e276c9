# common.bash — the preamble the integration scripts share (sourced, not run:
# the runner takes only *.sh).  From the project root: B is the build
# directory, F the fptrace binary, tmp a scratch directory removed on exit;
# fail "what" prints a failure and counts it in fails.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
B=${FPT_BUILD:-$PWD/build}
F=$B/bin/fptrace
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
