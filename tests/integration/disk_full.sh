#!/usr/bin/env bash
# A full disk while recording, on a 256 KiB tmpfs the test mounts in a mount
# namespace of its own (so nothing outlives it; needs root):
#   in-process (fprt program): exit 1 with one line naming the file, the error
#     and the samples lost; the file stays readable up to the last whole record.
#   --perf: the same error, and the file is cut back to its last whole record
#     (it used to be left cut mid-record, unreadable).
source "$(dirname "$0")/common.bash"

if [ -z "${FPT_IN_MOUNT_NS:-}" ]; then
  [ "$(id -u)" -eq 0 ] || { echo "skip: mounting a small tmpfs needs root"; exit 77; }
  FPT_IN_MOUNT_NS=1 unshare -m bash "$0" "$@"
  rc=$?
  [ "$rc" -ne 99 ] || { echo "skip: cannot make a mount namespace with a tmpfs here (unshare -m)"; exit 77; }
  exit "$rc"
fi

mnt=$tmp/full
mkdir -p "$mnt"
mount --make-rprivate / 2>/dev/null
mount -t tmpfs -o size=256k tmpfs "$mnt" || exit 99
trap 'umount "$mnt"; rm -rf "$tmp"' EXIT

# expect_full WHAT OUT: exit 1, one line naming OUT and ENOSPC; the file reads
expect_full() {
  local what=$1 out=$2
  [ "$rc" -eq 1 ] || fail "$what: exit $rc, want 1: $(tail -2 "$tmp/err")"
  grep -q "^fptrace record: $out: No space left on device" "$tmp/err" ||
    fail "$what: no line naming the file and the error: $(tail -2 "$tmp/err")"
  "$F" report -i "$out" >"$tmp/report" 2>"$tmp/report.err" ||
    fail "$what: what was written is not readable: $(head -2 "$tmp/report.err")"
}

# in-process: the fprt runtime writes the file
"$F" record -o "$mnt/in.fpt" -- "$B/progs/yield" -t 2 >/dev/null 2>"$tmp/err"
rc=$?
expect_full "in-process" "$mnt/in.fpt"
lost=$(sed -n 's/.*; \([0-9]*\) samples lost$/\1/p' "$tmp/err")
[ -n "$lost" ] && [ "$lost" -gt 0 ] || fail "in-process: no count of the samples lost: $(tail -1 "$tmp/err")"
rm -f "$mnt/in.fpt"

# --perf: fptrace writes the file from perf_event_open's rings
need_perf_event --perf
"$F" record --perf -o "$mnt/perf.fpt" -- "$B/progs/fpchain" main 1 >/dev/null 2>"$tmp/err"
rc=$?
expect_full "--perf" "$mnt/perf.fpt"

[ "$fails" -eq 0 ] && echo "ok: a full disk gives exit 1 naming the file ($lost samples lost in process), and a readable file"
exit $((fails > 0))
