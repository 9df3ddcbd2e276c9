#!/usr/bin/env python3
"""audit_agree.py CHECK.json AUDIT.json LABEL — hold check's culprits against
audit's static verdicts (used by audit_agreement.sh).

Every malignant site check reports (libdw backend) names a function and a
module; the function is found in audit's output for that module by name or
alias (symbol version stripped) or, for a frame the symbolizer could not name
("file+0xOFFSET", a file offset), by placing the offset in the file's PT_LOAD
segments.  A function without a symbol ("sub_<start>", the link-time start of
its FDE, as both the symbolizer and audit name it) is matched by address: the
audit function of that module whose range holds the start.  A culprit agrees when audit calls it no-frame or clobbers-rbp.

check blames fp-diverge and fp-truncated on the frame where the chains part;
when that is a leaf (or a frame function) sampled while a breaking function
was its caller, the breaker is the caller: audit's profile lists such leaves
under the breaking function, and the culprit counts as explained by it.
Prints one line per culprit and "agree N, explained K, unexplained U of M"
per scope (system libraries, other objects); exits 1 if a system-library
culprit is unexplained.
"""
import json
import os
import subprocess
import sys

BREAKING = ("no-frame", "clobbers-rbp")


def segments(path):
    """(offset, vaddr, filesz) of each PT_LOAD, from readelf."""
    out = subprocess.run(["readelf", "-lW", path], capture_output=True, text=True).stdout
    segs = []
    for line in out.splitlines():
        f = line.split()
        if f and f[0] == "LOAD":
            segs.append((int(f[1], 16), int(f[2], 16), int(f[4], 16)))
    return segs


def main():
    check = json.load(open(sys.argv[1]))
    audit = json.load(open(sys.argv[2]))
    label = sys.argv[3]
    mods = {}
    for m in audit["modules"]:
        if "functions" in m:
            mods[os.path.basename(m["path"])] = m
    sites = check["backends"]["libdw"]["sites"]
    under = {}
    for b in audit.get("profile", {}).get("breaking", []):
        for leaf in b.get("leaves", []):
            under.setdefault(leaf["function"], "%s (%s, %s)" % (
                b["function"], os.path.basename(b["module"]), b["verdict"]))
    tally = {True: [0, 0, 0], False: [0, 0, 0]}
    bad_system = 0
    for s in sites:
        if s["class"] in ("match", "leaf-window", "dwarf-fail"):
            continue
        base = os.path.basename(s["module"])
        m = mods.get(base)
        fn = s["function"]
        verdict, name = "not audited", fn
        if m:
            want = fn.split("@")[0]
            found = None
            for f in m["functions"]:
                names = [f["name"]] + (f.get("aliases") or "").split()
                if want in names:
                    found = f
                    break
            if not found and fn.startswith("sub_"):
                try:
                    addr = int(fn[4:].split("@")[0], 16)
                except ValueError:
                    addr = None
                if addr is not None:
                    found = next((f for f in m["functions"] if f["lo"] <= addr < f["hi"]), None)
            if not found and fn.startswith(base + "+0x"):
                off = int(fn[len(base) + 3:], 16)
                for o, v, sz in segments(m["path"]):
                    if o <= off < o + sz:
                        addr = off - o + v
                        found = next((f for f in m["functions"] if f["lo"] <= addr < f["hi"]), None)
            if found:
                verdict, name = found["verdict"], found["name"]
                evidence = found["evidence"]
            else:
                verdict, evidence = "not found", ""
        else:
            evidence = ""
        agree = verdict in BREAKING
        explained = not agree and fn in under
        system = bool(s["system"])
        tally[system][0] += agree
        tally[system][1] += explained
        tally[system][2] += 1
        if system and not agree and not explained:
            bad_system += 1
        note = "" if agree else ("explained: its caller was " + under[fn]) if explained else \
            "<-- UNEXPLAINED: " + evidence
        print("  %s %-12s %5d samples  %s (%s): audit says %s%s  %s" % (
            label, s["class"], s["samples"], fn, base, verdict,
            "" if name == fn else " as " + name, note))
    for system in (True, False):
        a, e, n = tally[system]
        print("  %s culprits in %s: %d, agree %d, explained %d, unexplained %d" % (
            label, "system libraries" if system else "other objects", n, a, e, n - a - e))
    return 1 if bad_system else 0


if __name__ == "__main__":
    sys.exit(main())
