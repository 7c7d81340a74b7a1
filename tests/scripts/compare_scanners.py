#!/usr/bin/env python3
"""Run `pickle scan`, picklescan, modelscan and fickling over the same files and count verdicts.

    pip install picklescan modelscan fickling
    python3 tests/scripts/compare_scanners.py --cli target/release/pickle \
        --malicious tests/fixtures/malicious --benign tests/fixtures/benign [--benign DIR ...]
    python3 tests/scripts/compare_scanners.py --cli target/release/pickle \
        --attacks tests/fixtures/attacks/manifest.json \
        --hard-negatives tests/fixtures/hard_negatives/manifest.json [--per-file]

Directories (--malicious/--benign) are walked for pickle-like names; manifests
(--attacks/--hard-negatives) list their files exactly (any name).

For each tool and each set it counts files flagged dangerous, files flagged at
a lower level (unknown / suspicious), and files the tool failed on; then prints
a markdown table. "Dangerous" means: `pickle scan` verdict dangerous;
picklescan issues_count > 0 (a global on its deny list); fickling severity
LIKELY_UNSAFE or worse; modelscan an issue of severity HIGH or CRITICAL.
"Lower" means: `pickle scan` unknown; picklescan a "suspicious" (not
allow-listed) global; fickling POSSIBLY_UNSAFE or SUSPICIOUS; modelscan a LOW
or MEDIUM issue. "Error" means the tool failed on the file, or (modelscan)
skipped it without scanning anything, or (picklescan) scanned nothing.
"""
import argparse
import contextlib
import io
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


def files_of_manifest(path):
    base = os.path.dirname(os.path.abspath(path))
    return [os.path.join(base, e["file"]) for e in json.load(open(path))]


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
        elif r.scan_err or r.scanned_files == 0:
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


def modelscan_(paths):
    from modelscan.modelscan import ModelScan
    res = {}
    for p in paths:
        try:
            r = ModelScan().scan(p)
        except Exception:
            res[p] = "error"
            continue
        sev = [i.get("severity") for i in r.get("issues", [])]
        sev = [getattr(x, "name", str(x)) for x in sev]
        scanned = r.get("summary", {}).get("scanned", {}).get("total_scanned", 0)
        if any(x in ("HIGH", "CRITICAL") for x in sev):
            res[p] = "dangerous"
        elif sev:
            res[p] = "lower"
        elif r.get("errors") or not scanned:
            res[p] = "error"
        else:
            res[p] = "safe"
    return res


def versions(cli):
    out = {}
    try:
        out["pickle scan"] = subprocess.run([cli, "--version"], capture_output=True, text=True).stdout.strip() or "?"
    except Exception:
        out["pickle scan"] = "?"
    from importlib.metadata import version
    for tool, pkg in (("picklescan", "picklescan"), ("modelscan", "modelscan"), ("fickling", "fickling")):
        try:
            out[tool] = pkg + " " + version(pkg)
        except Exception:
            out[tool] = pkg + " (not installed)"
    return out


def count(res):
    c = {"dangerous": 0, "lower": 0, "error": 0, "safe": 0}
    for v in res.values():
        c[v] += 1
    return c


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--malicious", action="append", default=[])
    ap.add_argument("--benign", action="append", default=[])
    ap.add_argument("--attacks", action="append", default=[], help="manifest.json of files every tool should flag")
    ap.add_argument("--hard-negatives", action="append", default=[], help="manifest.json of benign files")
    ap.add_argument("--per-file", action="store_true", help="also print every file's verdict per tool")
    ap.add_argument("--tools", default="pickle scan,picklescan,modelscan,fickling")
    args = ap.parse_args()
    bad = files_of(args.malicious) + [f for m in args.attacks for f in files_of_manifest(m)]
    good = files_of(args.benign) + [f for m in args.hard_negatives for f in files_of_manifest(m)]
    if not bad or not good:
        ap.error("give --malicious/--attacks and --benign/--hard-negatives")
    label_bad = "attacks" if args.attacks else "malicious"
    label_good = "hard negatives" if args.hard_negatives else "benign"
    sets = [(label_bad, bad), (label_good, good)]
    all_tools = {"pickle scan": lambda ps: ours(args.cli, ps), "picklescan": picklescan, "modelscan": modelscan_, "fickling": fickling_}
    tools = [(t, all_tools[t]) for t in args.tools.split(",")]
    ver = versions(args.cli)
    results = {}
    for name, fn in tools:
        results[name] = {}
        for set_name, paths in sets:
            # fickling prints warnings on stdout: keep the table clean
            with contextlib.redirect_stdout(io.StringIO()):
                results[name][set_name] = fn(paths)
    print("| tool | version | %s: dangerous | %s: lower only | %s: error | %s: missed (safe) | %s: dangerous (false alarm) | %s: lower | %s: error | %s: clean |"
          % ((label_bad,) * 4 + (label_good,) * 4))
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, _ in tools:
        row = [name, ver.get(name, "?")]
        for set_name, paths in sets:
            c = count(results[name][set_name])
            row += ["%d/%d" % (c["dangerous"], len(paths)), str(c["lower"]), str(c["error"]), str(c["safe"])]
        print("| " + " | ".join(row) + " |")
    if args.per_file:
        for set_name, paths in sets:
            print()
            print("| %s file | %s |" % (set_name, " | ".join(n for n, _ in tools)))
            print("|---|" + "---|" * len(tools))
            for p in paths:
                print("| %s | %s |" % (os.path.relpath(p), " | ".join(results[n][set_name][p] for n, _ in tools)))


if __name__ == "__main__":
    main()
