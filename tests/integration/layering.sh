#!/usr/bin/env bash
# The components depend one way (docs/DESIGN.md, Layout), checked on the built
# archives' symbols and on the sources' #includes:
#   - libfpunwind's core needs nothing of dwarf/, perf-integration or tools;
#   - perf-integration (libfptperf.a) needs libfpunwind's core and nothing else
#     of the project (not dwarf/, not tools/);
#   - the runtime needs the core only;
#   - inside libfptperf.a no two objects need each other through a loop, and
#     no two perf-integration headers include each other through a loop.
source "$(dirname "$0")/common.bash"
lib=$B/lib
for a in libfpunwind_core.a libfpunwind.a libfptperf.a libfprt.a; do
  [ -f "$lib/$a" ] || { echo "FAIL: $lib/$a is not built (make first)"; exit 1; }
done

python3 - "$lib" <<'EOF' || fails=$((fails + 1))
import re, subprocess, sys, os, itertools
lib = sys.argv[1]

def symbols(archive):
    """{object: (defined set, undefined set)} from nm."""
    out = subprocess.run(["nm", "-A", archive], capture_output=True, text=True, check=True).stdout
    objs = {}
    for line in out.splitlines():
        m = re.match(r"^[^:]+:([^:]+):\s*(?:[0-9a-f]+)?\s+([A-Za-z])\s+(\S+)$", line)
        if not m:
            continue
        obj, kind, sym = m.groups()
        d, u = objs.setdefault(obj, (set(), set()))
        (u if kind == "U" else d if kind.isupper() else set()).add(sym)
    return objs

def defined(objs):
    return set().union(*(d for d, _ in objs.values())) if objs else set()

def undefined(objs):
    return set().union(*(u for _, u in objs.values())) if objs else set()

core = symbols(f"{lib}/libfpunwind_core.a")
full = symbols(f"{lib}/libfpunwind.a")
perf = symbols(f"{lib}/libfptperf.a")
rt = symbols(f"{lib}/libfprt.a")
project = re.compile(r"^(fpu_|fpt_|rt_|fprt_)")
core_def, full_def, perf_def, rt_def = defined(core), defined(full), defined(perf), defined(rt)
dwarf_only = full_def - core_def
bad = 0

def expect_only(name, needs, allowed, what):
    global bad
    wrong = sorted(s for s in needs if project.match(s) and s not in allowed)
    for s in wrong:
        where = "libfpunwind's dwarf/" if s in dwarf_only else "nothing it may use"
        print(f"FAIL: {name} needs {s} from {where} ({what})")
    bad += len(wrong)

expect_only("libfpunwind's core", undefined(core) - core_def, core_def, "the core depends on nothing")
expect_only("libfptperf.a", undefined(perf) - perf_def, core_def, "perf-integration -> libfpunwind core")
expect_only("the runtime", undefined(rt) - rt_def, core_def, "runtime -> libfpunwind core")

# objects of libfptperf.a: who needs whom; a loop is a knot in the component
edges = {o: {p for p, (d, _) in perf.items() if p != o and u & d} for o, (_, u) in perf.items()}
def loop_from(start):
    stack, seen = [(start, [start])], set()
    while stack:
        node, path = stack.pop()
        for nxt in edges[node]:
            if nxt == start:
                return path + [start]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, path + [nxt]))
    return None
for o in sorted(edges):
    cyc = loop_from(o)
    if cyc:
        print("FAIL: libfptperf.a objects need each other in a loop: " + " -> ".join(cyc))
        bad += 1
        break

# headers of perf-integration: #include "x.h" between them, no loop
hdrs = {}
for d in ("perf-integration/include", "perf-integration/src"):
    for f in os.listdir(d):
        if f.endswith(".h"):
            text = open(os.path.join(d, f)).read()
            hdrs[f] = set(re.findall(r'#include "([^"]+)"', text))
def hloop(start):
    stack, seen = [(start, [start])], set()
    while stack:
        h, path = stack.pop()
        for n in hdrs.get(h, ()):
            if n == start:
                return path + [n]
            if n in hdrs and n not in seen:
                seen.add(n)
                stack.append((n, path + [n]))
for h in sorted(hdrs):
    cyc = hloop(h)
    if cyc:
        print("FAIL: perf-integration headers include each other in a loop: " + " -> ".join(cyc))
        bad += 1
        break

# no source below libfpunwind/ or perf-integration/ reaches into tools/
for root in ("libfpunwind", "perf-integration", "runtime"):
    for dp, _, files in os.walk(root):
        for f in files:
            if f.endswith((".c", ".h")):
                for inc in re.findall(r'#include "([^"]+)"', open(os.path.join(dp, f)).read()):
                    if "tools/" in inc or inc in ("analyze.h", "check.h", "record.h", "report.h"):
                        print(f"FAIL: {dp}/{f} includes {inc} (tools/)")
                        bad += 1

print(f"layering: {len(perf)} objects in libfptperf.a, {len(core)} in the core: "
      + ("one-way" if bad == 0 else f"{bad} violation(s)"))
sys.exit(1 if bad else 0)
EOF
exit $((fails > 0))
