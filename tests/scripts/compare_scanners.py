#!/usr/bin/env python3
"""Run `pickle scan`, picklescan and fickling over the same files and count verdicts.

    pip install picklescan fickling
    python3 tests/scripts/compare_scanners.py --cli target/release/pickle \
        --malicious tests/fixtures/malicious --benign tests/fixtures/benign [--benign DIR ...]

For each tool and each set it counts files flagged dangerous, files flagged at
a lower level (unknown / suspicious), and files the tool failed on; then prints
a markdown table. "Dangerous" means: `pickle scan` verdict dangerous;
picklescan issues_count > 0 (a global on its deny list); fickling severity
LIKELY_UNSAFE or worse. "Lower" means: `pickle scan` unknown; picklescan a
"suspicious" (not allow-listed) global; fickling POSSIBLY_UNSAFE or SUSPICIOUS.
"""
import argparse
import json
import logging
import os
import subprocess
import zipfile

logging.disable(logging.CRITICAL)

EXTS = (".pkl", ".pickle", ".pt", ".pth", ".bin", ".joblib")


def files_of(dirs):
    out = []
    for d in dirs:
        for root, _, names in os.walk(d):
            for n in sorted(names):
                if n.endswith(EXTS) and ".oob." not in n:
                    out.append(os.path.join(root, n))
    return out


def ours(cli, paths):
    res = {}
    for i in range(0, len(paths), 200):
        p = subprocess.run([cli, "scan", "--json"] + paths[i:i + 200], capture_output=True, text=True)
        for line in p.stdout.splitlines():
            r = json.loads(line)
            v = r["verdict"]
            res[r["path"]] = "dangerous" if v == "dangerous" else "error" if r["error"] else "lower" if v == "unknown" else "safe"
    return res


def picklescan(paths):
    from picklescan.scanner import SafetyLevel, scan_file_path
    res = {}
    for p in paths:
        try:
            r = scan_file_path(p)
        except Exception:
            res[p] = "error"
            continue
        if r.issues_count > 0:
            res[p] = "dangerous"
        elif r.scan_err:
            res[p] = "error"
        elif any(g.safety == SafetyLevel.Suspicious for g in r.globals):
            res[p] = "lower"
        else:
            res[p] = "safe"
    return res


def fickling_(paths):
    import fickling
    from fickling.analysis import Severity
    res = {}
    for p in paths:
        try:
            if zipfile.is_zipfile(p):
                results = list(fickling.scan_zip_archive(p, graceful=True).values())
            else:
                results = [fickling.scan_file(p, graceful=True)]
        except Exception:
            res[p] = "error"
            continue
        if not results:
            res[p] = "error"
            continue
        sev = max((r.severity for r in results), key=lambda s: list(Severity).index(s))
        rank = list(Severity).index(sev)
        if rank >= list(Severity).index(Severity.LIKELY_UNSAFE):
            res[p] = "dangerous"
        elif any(r.errors for r in results):
            res[p] = "error"
        elif rank > 0:
            res[p] = "lower"
        else:
            res[p] = "safe"
    return res


def count(res):
    c = {"dangerous": 0, "lower": 0, "error": 0, "safe": 0}
    for v in res.values():
        c[v] += 1
    return c


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--malicious", action="append", required=True)
    ap.add_argument("--benign", action="append", required=True)
    args = ap.parse_args()
    sets = [("malicious", files_of(args.malicious)), ("benign", files_of(args.benign))]
    tools = [("pickle scan", lambda ps: ours(args.cli, ps)), ("picklescan", picklescan), ("fickling", fickling_)]
    print("| tool | malicious: dangerous | malicious: lower only | malicious: error only | malicious: missed | benign: dangerous (false alarm) | benign: lower | benign: error | benign: safe |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, fn in tools:
        row = [name]
        for set_name, paths in sets:
            c = count(fn(paths))
            if set_name == "malicious":
                row += ["%d/%d" % (c["dangerous"], len(paths)), str(c["lower"]), str(c["error"]), str(c["safe"])]
            else:
                row += ["%d/%d" % (c["dangerous"], len(paths)), str(c["lower"]), str(c["error"]), str(c["safe"])]
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
