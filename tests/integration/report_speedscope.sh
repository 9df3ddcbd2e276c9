#!/usr/bin/env bash
# `fptrace report --format speedscope` on a real recording: the file validates
# against speedscope's published schema (tests/data/speedscope/, vendored from
# its npm package) with Debian's python3-jsonschema, names real functions, and
# its weights add up to its endValue.
source "$(dirname "$0")/common.bash"
schema=tests/data/speedscope/file-format-schema.json
# Debian's python (scripts/deps.sh installs python3-jsonschema for it); a
# python earlier on PATH may lack the module.
py=/usr/bin/python3
$py -c 'import jsonschema' 2>/dev/null || { fail "python3-jsonschema is not installed (scripts/deps.sh)"; exit 1; }

need_perf_event
# A fixed amount of work in a function of our own.
cat > "$tmp/prog.c" <<'C'
__attribute__((noinline)) void busy(volatile double *x) { for (int i = 0; i < 2000; i++) *x = *x * 1.0000001 + 0.5; }
int main(void) { volatile double x = 0; for (int i = 0; i < 100000; i++) busy(&x); return 0; }
C
cc -O2 -g -fno-omit-frame-pointer "$tmp/prog.c" -o "$tmp/prog" || { fail "cannot build test program"; exit 1; }
"$F" record -o "$tmp/p.fpt" -- "$tmp/prog" 2>"$tmp/err" || { fail "record"; cat "$tmp/err"; exit 1; }
"$F" report -i "$tmp/p.fpt" --format speedscope -o "$tmp/p.json" 2>"$tmp/err" ||
  { fail "report --format speedscope"; cat "$tmp/err"; }
$py - "$tmp/p.json" "$schema" <<'PY' || fail "the speedscope file"
import json, sys, jsonschema
doc, schema = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
jsonschema.validate(doc, schema)
names = [f["name"] for f in doc["shared"]["frames"]]
assert "busy" in names and "main" in names, names
for p in doc["profiles"]:
    assert len(p["samples"]) == len(p["weights"]), p["name"]
    assert sum(p["weights"]) == p["endValue"], p["name"]
    assert all(names[s[0]] == "_start" or names[s[0]] != "busy" for s in p["samples"]), "leaf first"
print("speedscope: valid,", len(names), "frames,", [p["name"] for p in doc["profiles"]])
PY
"$F" report -i "$tmp/p.fpt" --format speedscop >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] && grep -q "speedscope" "$tmp/err" || fail "a bad --format does not list speedscope: $(cat "$tmp/err")"
[ "$fails" -eq 0 ]
