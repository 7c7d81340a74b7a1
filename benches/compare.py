#!/usr/bin/env python3
"""Compare pickle-codec with CPython's C pickle on the same bytes, in one run.

    python3 benches/compare.py [--smoke] [--reps N] [--rounds K] [--out DIR] [--svg FILE] [--markdown FILE]

Builds the `compare` bench (`benches/compare.rs`) and has it write every
workload's pickles into DIR; then for each workload in turn runs it again
(it reads the files and times the Rust side: after 0.2 s of untimed runs,
medians of at least N runs, and of as many as fill 0.3 s) and right next to
it times CPython's pickle.loads / pickle.dumps on the same files (alike),
each in a process that starts from the files, so that both sides of a ratio are
measured within seconds of each other. All that K times (default 3), Rust
first in rounds 1, 3, ... and CPython first in rounds 2, 4, ...; the
protocols in their order in rounds 1, 2, 5, 6, ... and in the opposite order
in rounds 3, 4, 7, 8, ...; each time reported is the median of its K round
medians, each ratio the median of the K ratios of a round's two sides.
Prints one table of times and ratios (CPython time / Rust time: above 1 means
Rust is faster), with rmp-serde's typed load of the same values (as
MessagePack) beside ours for reference, and beside each load from a file
the best share of the slice speed any load from an io::Read can reach
(slice / (slice + reading the file into memory)). --svg writes a bar chart of the
ratios; --smoke uses inputs 100x smaller (for CI), 3 repetitions and one
round.

A second table measures every workload again with both sides in one
process each (no warm-up, the allocator as the workloads before left it;
the median of 5 calls in a row, and the first call).

--checkpoint MB adds another table (--checkpoint-only: that table alone):
benches/checkpoint/ (a crate of its own, so that burn's pytorch-reader and
its zip stack are no dev-dependency of the library) generates a MB MiB
state dict with torch::save and reads it with each reader in a fresh
process: our Checkpoint::open (CRC-32s checked, and not), read::<f32>,
Checkpoint::mmap (and with verify()), and our safetensors reader, against
burn's pytorch-reader and the safetensors crate on a map of the same
tensors; then `pickle convert --to safetensors` against cp and, with a
python3 that has torch and safetensors (--torch-python), torch.load +
save_file.
"""
import argparse
import gc
import json
import os
import pickle
import platform
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


# The workloads of benches/workloads/mod.rs (NAMES), in order.
WORKLOADS = ["ints_1m", "floats_1m", "records_100k", "dict_200k", "strings_100k",
             "bytes_100mb", "memo_heavy_1m", "long_strings_100k", "ascii_lines_100k",
             "mixed_ints_1m", "random_floats_1m"]


# As benches/compare.rs: untimed runs for WARM_MS (at least one, at most
# MAX_REPS), then at least `reps` timed runs and as many more as fill SPAN_MS
# (at most MAX_REPS).
WARM_MS = 200.0
SPAN_MS = 300.0
MAX_REPS = 200


def median_ms(f, reps):
    t = time.perf_counter()
    warm = 0
    while warm == 0 or (warm < MAX_REPS and (time.perf_counter() - t) * 1e3 < WARM_MS):
        f()
        warm += 1
    each = (time.perf_counter() - t) * 1e3 / warm
    reps = max(reps, min(MAX_REPS, int(-(-SPAN_MS // max(each, 1e-3)))))
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        f()
        ts.append((time.perf_counter() - t) * 1e3)
    ts.sort()
    return ts[len(ts) // 2]


PEAK_PY = (
    "import pickle, sys\n"
    "if sys.argv[2] == 'file':\n"
    "    with open(sys.argv[1], 'rb') as f:\n"
    "        obj = pickle.load(f)\n"
    "    del obj\n"
    "    sys.exit()\n"
    "data = open(sys.argv[1], 'rb').read()\n"
    "if sys.argv[2] == 'load':\n"
    "    obj = pickle.loads(data)\n"
    "    del obj\n"
)

RUSAGE = (
    "import resource, subprocess, sys\n"
    "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def peak_kib(cmd):
    """Peak resident memory (KiB) of one process running cmd."""
    out = subprocess.run([sys.executable, "-c", RUSAGE] + cmd, check=True, capture_output=True, text=True)
    return int(out.stdout.strip())


def memory_rows(measured, bench_bin):
    """Peak memory of one load of each file: CPython vs Rust (to a Document
    and typed), each also as the increase over only reading the file."""
    rows = []
    for r in measured:
        if r["workload"] not in ("records_100k", "bytes_100mb"):
            continue
        f = r["file"]
        py_read = peak_kib([sys.executable, "-c", PEAK_PY, f, "read"])
        py = peak_kib([sys.executable, "-c", PEAK_PY, f, "load"])
        rs_read = peak_kib([bench_bin, "--peak", f, "read"])
        rs_value = peak_kib([bench_bin, "--peak", f, "value"])
        rs_typed = peak_kib([bench_bin, "--peak", f, "typed"])
        py_file = peak_kib([sys.executable, "-c", PEAK_PY, f, "file"])
        rs_file_value = peak_kib([bench_bin, "--peak", f, "file-value"])
        rs_file_typed = peak_kib([bench_bin, "--peak", f, "file-typed"])
        rows.append((r["workload"], r["protocol"], py, py - py_read, rs_value, rs_value - rs_read, rs_typed, rs_typed - rs_read,
                     py_file, rs_file_value, rs_file_typed))
    return rows


def bench_binary():
    """The compare bench executable cargo built (the newest one)."""
    deps = os.path.join(ROOT, "target", "release", "deps")
    cands = [os.path.join(deps, n) for n in os.listdir(deps)
             if n.startswith("compare-") and os.access(os.path.join(deps, n), os.X_OK) and "." not in n]
    return max(cands, key=os.path.getmtime)


def rust_side(bench, name, args, reps, reverse):
    """Run the Rust side of one workload: one row per protocol (measured
    last protocol first if reverse)."""
    cmd = [bench, "--out", args.out, "--reps", str(reps), "--only", name, "--from-files"]
    if reverse:
        cmd.append("--reverse")
    out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def python_side(r, reps):
    """CPython's load and dump medians of the file of row r, into r (returned).

    Loads are timed twice: with the cyclic garbage collector on, as a program
    calling pickle.loads runs them, and off, as `timeit` runs them. The
    collector matters for loads that make many containers (records_100k:
    every 700 new dicts and lists start a collection); it is also why nothing
    else is alive while the loads are timed: a loaded value kept alive beside
    them is walked by every collection they start (the records load took
    187 ms that way instead of 116-143).
    """
    data = open(r["file"], "rb").read()
    p = r["protocol"]
    gc.collect()
    r["py_load"] = median_ms(lambda: pickle.loads(data), reps)
    gc.disable()
    try:
        r["py_load_nogc"] = median_ms(lambda: pickle.loads(data), reps)
    finally:
        gc.enable()
    obj = pickle.loads(data)
    r["py_dump"] = median_ms(lambda: pickle.dumps(obj, p), reps)
    del obj, data
    return r


# --- In one process, no warm-up (issue 20: speed that does not depend on
# what the process did before). Each side runs every workload's files one
# after the other in one fresh process, the allocator left as the workloads
# before left it; each time the median of HISTORY_CALLS calls in a row.

HISTORY_CALLS = 5

# The result is freed inside the timed span, as on the Rust side (and as
# median_ms times it).
HISTORY_PY = (
    "import gc, json, os, pickle, sys, time\n"
    "out, calls = sys.argv[1], int(sys.argv[2])\n"
    "names = sys.argv[3:]\n"
    "def time_calls(f):\n"
    "    t = []\n"
    "    for _ in range(calls):\n"
    "        s = time.perf_counter(); f(); t.append((time.perf_counter() - s) * 1e3)\n"
    "    return sorted(t)[len(t) // 2], t[0]\n"
    "rows = []\n"
    "for name in names:\n"
    "    files = sorted((int(f[len(name) + 2:-4]), f) for f in os.listdir(out)\n"
    "                   if f.startswith(name + '.p') and f.endswith('.pkl'))\n"
    "    for p, f in files:\n"
    "        data = open(os.path.join(out, f), 'rb').read()\n"
    "        load = time_calls(lambda: pickle.loads(data))\n"
    "        obj = pickle.loads(data)\n"
    "        dump = time_calls(lambda: pickle.dumps(obj, p))\n"
    "        del obj\n"
    "        rows.append(dict(workload=name, protocol=p, py_load=load[0], py_load_first=load[1],\n"
    "                         py_dump=dump[0], py_dump_first=dump[1]))\n"
    "print(json.dumps(rows))\n"
)


def history_table(args, bench):
    """Both sides in one process each, every workload in turn, `rounds`
    times (Rust first in even rounds, CPython first in odd ones)."""
    rounds = []
    for k in range(args.rounds):
        def rust():
            out = subprocess.run([bench, "--out", args.out, "--history", str(HISTORY_CALLS)],
                                 cwd=ROOT, check=True, capture_output=True, text=True).stdout
            return {(r["workload"], r["protocol"]): r for r in json.loads(out)}

        def py():
            out = subprocess.run([sys.executable, "-c", HISTORY_PY, args.out, str(HISTORY_CALLS)] + WORKLOADS,
                                 check=True, capture_output=True, text=True).stdout
            return {(r["workload"], r["protocol"]): r for r in json.loads(out)}
        if k % 2 == 0:
            rs, pyr = rust(), py()
        else:
            pyr, rs = py(), rust()
        for key, r in rs.items():
            r.update(pyr[key])
            for side in ("load", "dump"):
                r["r_" + side] = ratio(r["py_" + side], r[side + "_value"])
                r["r_%s_typed" % side] = ratio(r["py_" + side], r.get(side + "_typed"))
                r["r_%s_first" % side] = ratio(r["py_%s_first" % side], r[side + "_value_first"])
        rounds.append(rs)
    rows = [merge([got[key] for got in rounds]) for key in rounds[0]]
    lines = ["", ("In one process, no warm-up: each side runs every workload's files in turn in one fresh "
                  "process (CPython's collector on), with nothing done to the allocator, as a program that "
                  "has just handled the workloads before would; ms: the median of %d calls in a row (first: "
                  "the first call), the median of %d rounds; ratio = CPython / Rust.") % (HISTORY_CALLS, args.rounds), ""]
    lines.append("| workload | p | CPython load (first) | Rust load (ratio; first) | typed load (ratio) "
                 "| CPython dump (first) | Rust dump (ratio; first) | typed dump (ratio) |")
    lines.append("|---|---|---|---|---|---|---|---|")
    for r in rows:
        lines.append("| %s | %d | %s (%s) | %s (%s×; %s×) | %s (%s×) | %s (%s) | %s (%s×; %s×) | %s (%s×) |" % (
            r["workload"], r["protocol"], fmt(r["py_load"]), fmt(r["py_load_first"]),
            fmt(r["load_value"]), fmt(r["r_load"]), fmt(r["r_load_first"]),
            fmt(r.get("load_typed")), fmt(r.get("r_load_typed")),
            fmt(r["py_dump"]), fmt(r["py_dump_first"]),
            fmt(r["dump_value"]), fmt(r["r_dump"]), fmt(r["r_dump_first"]),
            fmt(r.get("dump_typed")), fmt(r.get("r_dump_typed"))))
    return lines


def merge(rows):
    """One row from the same row of every round: each time the median."""
    out = dict(rows[0])
    for k, v in rows[0].items():
        if isinstance(v, float):
            vals = sorted(r[k] for r in rows)
            out[k] = vals[len(vals) // 2]
    return out


def fmt(x):
    return "–" if x is None else ("%.2f" % x if x < 10 else "%.1f" % x)


def pct(x):
    return round(100 * (x or 0))


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def bound(slice_ms, read_ms):
    """The share of the slice speed a load from a file reaches at best: the
    slice load plus only reading the file."""
    return None if slice_ms is None else slice_ms / (slice_ms + read_ms)


def svg_chart(rows, path):
    bars = []
    for r in rows:
        for key, label in (("r_load", "load"), ("r_load_typed", "typed load"), ("r_dump", "dump"), ("r_dump_typed", "typed dump")):
            # Loads: the lower of the ratios to CPython with its collector on and off.
            ratios = [r[k] for k in (key, key + "_nogc") if r.get(k)]
            if ratios:
                bars.append(("%s p%d %s" % (r["workload"], r["protocol"], label), min(ratios)))
    width, bar_h, left = 760, 16, 260
    top = max([b[1] for b in bars] + [1.0])
    scale = (width - left - 60) / top
    h = 40 + bar_h * len(bars)
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">' % (width, h)]
    out.append('<text x="10" y="18" font-size="13">pickle-codec speed relative to CPython %s C pickle (x faster; 1 = same)</text>' % platform.python_version())
    x1 = left + scale
    out.append('<line x1="%.1f" y1="28" x2="%.1f" y2="%d" stroke="#c00" stroke-dasharray="3,3"/>' % (x1, x1, h - 4))
    for i, (label, v) in enumerate(bars):
        y = 30 + i * bar_h
        out.append('<text x="%d" y="%d" text-anchor="end">%s</text>' % (left - 6, y + 11, label))
        color = "#2a7" if v >= 1 else "#d84"
        out.append('<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>' % (left, y + 2, v * scale, bar_h - 4, color))
        out.append('<text x="%.1f" y="%d">%.1fx</text>' % (left + v * scale + 4, y + 11, v))
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


# --- Checkpoints (--checkpoint MB): benches/checkpoint/ against burn's
# pytorch-reader and the safetensors crate, `pickle convert --to
# safetensors` against cp and Python's torch.load + save_file.

# (reader, file kind, what it does); the first of each group is the
# reference its ratios are taken to.
CK_READERS = [
    ("pytorch-reader", "pt", "burn's pytorch-reader 0.22: PytorchReader::new + Tensor::read (CRC-32 checked)"),
    ("open", "pt", "Checkpoint::open + tensor_data (CRC-32 checked)"),
    ("open-nocrc", "pt", "Checkpoint::open + tensor_data, with_crc_check(false)"),
    ("read-f32", "pt", "Checkpoint::open + read::<f32> (CRC-32 checked)"),
    ("safetensors-mmap", "st", "safetensors 0.8: SafeTensors::deserialize over a memmap2 map of the .safetensors file"),
    ("mmap", "pt", "Checkpoint::mmap + tensor_data"),
    ("mmap-verify", "pt", "Checkpoint::mmap + verify() + tensor_data"),
    ("ours-safetensors-mmap", "st", "torch::safetensors::Reader::mmap + data"),
]

TORCH_CONVERT_PY = (
    "import sys, time, torch, safetensors.torch as st\n"
    "t = time.perf_counter()\n"
    "sd = torch.load(sys.argv[1], weights_only=True)\n"
    "st.save_file(sd, sys.argv[2])\n"
    "print((time.perf_counter() - t) * 1e3)\n"
)


def ck_binary():
    subprocess.run(["cargo", "build", "--quiet", "--release", "--manifest-path",
                    os.path.join(HERE, "checkpoint", "Cargo.toml")], cwd=ROOT, check=True)
    subprocess.run(["cargo", "build", "--quiet", "--release", "-p", "pickle-cli"], cwd=ROOT, check=True)
    return (os.path.join(HERE, "checkpoint", "target", "release", "checkpoint-bench"),
            os.path.join(ROOT, "target", "release", "pickle"))


def page_in(path):
    """Read the file through, so every reader starts with it in the page cache."""
    with open(path, "rb") as f:
        while f.read(16 << 20):
            pass


def settle(path):
    """Rewrite the file through 8 MiB writes, so that the page cache holds
    it as it holds any file written in large pieces: how a file came to be
    cached decides how a map of it faults in. A .pt copied by cp mapped
    and touched in 53-63 ms, the same bytes rewritten so in 6.4-6.7 ms;
    the .safetensors beside it, copied by cp, 55-58 ms. Both files of the
    table are settled the same way, so the maps compare on the same
    footing."""
    tmp = path + ".settle"
    with open(path, "rb") as f, open(tmp, "wb") as g:
        while True:
            b = f.read(8 << 20)
            if not b:
                break
            g.write(b)
    os.replace(tmp, path)


def wall_ms(cmd):
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return (time.perf_counter() - t) * 1e3


def checkpoint_table(args):
    """Every reader and converter in a fresh process, `rounds` times (the
    order reversed every other round); each time the median of the rounds."""
    bench, cli = ck_binary()
    mb = args.checkpoint
    os.makedirs(args.out, exist_ok=True)
    pt = os.path.join(args.out, "checkpoint_%dmb.pt" % mb)
    st = os.path.join(args.out, "checkpoint_%dmb.safetensors" % mb)
    out = os.path.join(args.out, "checkpoint_out.safetensors")
    if not os.path.exists(pt):
        subprocess.run([bench, "gen", pt, str(mb)], check=True)
    subprocess.run([cli, "convert", pt, "--to", "safetensors", "-o", st], check=True)
    settle(pt)
    settle(st)
    torch_py = args.torch_python
    if torch_py is None:
        ok = subprocess.run([sys.executable, "-c", "import torch, safetensors"], capture_output=True).returncode == 0
        torch_py = sys.executable if ok else None
    jobs = [(name, (lambda name=name, kind=kind: json.loads(subprocess.run(
        [bench, name, pt if kind == "pt" else st], check=True, capture_output=True, text=True).stdout)["ms"]))
        for name, kind, _ in CK_READERS]

    def fresh(cmd):
        def run():
            if os.path.exists(out):
                os.remove(out)
            return wall_ms(cmd)
        return run
    jobs.append(("cp", fresh(["cp", pt, out])))
    jobs.append(("convert", fresh([cli, "convert", pt, "--to", "safetensors", "-o", out])))
    jobs.append(("convert-nocrc", fresh([cli, "convert", pt, "--to", "safetensors", "--no-crc-check", "-o", out])))
    if torch_py:
        def torch_convert():
            if os.path.exists(out):
                os.remove(out)
            return float(subprocess.run([torch_py, "-c", TORCH_CONVERT_PY, pt, out], check=True,
                                        capture_output=True, text=True).stdout.strip().splitlines()[-1])
        jobs.append(("torch.load + save_file", torch_convert))
    times = {name: [] for name, _ in jobs}
    reps = 1 if args.smoke else 3
    # The readers first, then the converters, each group in its order in
    # even rounds and the opposite order in odd ones: a converter writes and
    # deletes a gigabyte, which leaves the page cache in another state, and a
    # map measured right after that faulted in up to half again as slowly.
    readers = jobs[:len(CK_READERS)]
    converters = jobs[len(CK_READERS):]
    for k in range(args.rounds):
        flip = (lambda g: g) if k % 2 == 0 else (lambda g: g[::-1])
        for name, job in flip(readers) + flip(converters):
            page_in(pt)
            page_in(st)
            # The median of `reps` fresh processes, then of the rounds.
            ts = sorted(job() for _ in range(reps))
            times[name].append(ts[len(ts) // 2])
    if os.path.exists(out):
        os.remove(out)
    med = {n: sorted(v)[len(v) // 2] for n, v in times.items()}
    spread = {n: (min(v), max(v)) for n, v in times.items()}
    size = os.path.getsize(pt)
    lines = ["", ("Checkpoints: a %d MiB torch.save state dict (written by torch::save: 1024×1024 float32 "
                  "weights, a 1000-float bias beside every eighth), in the page cache. Each reader in a fresh "
                  "process, timed from before it opens the file to after every tensor is ready and one byte "
                  "of each 4 KiB page touched; converters timed as whole processes writing a new file. ms: the "
                  "median of %d rounds, each the median of %d processes (min–max of the rounds); ratio: this "
                  "time ÷ the reference's (below 1: faster).") % (mb, args.rounds, reps), ""]
    lines.append("| what | ms | min–max | GB/s | ratio |")
    lines.append("|---|---|---|---|---|")

    def row(name, label, ref):
        m = med[name]
        r = "reference" if ref is None else "%.2f (÷ %s)" % (m / med[ref], ref)
        lines.append("| %s | %s | %s–%s | %.2f | %s |" % (
            label, fmt(m), fmt(spread[name][0]), fmt(spread[name][1]), size / m / 1e6, r))
    for name, kind, what in CK_READERS:
        ref = None if name in ("pytorch-reader", "safetensors-mmap") else (
            "pytorch-reader" if name in ("open", "open-nocrc", "read-f32") else "safetensors-mmap")
        row(name, "`%s`: %s" % (name, what), ref)
    row("cp", "`cp` (coreutils; copy_file_range)", None)
    row("convert", "`pickle convert --to safetensors` (CRC-32 checked)", "cp")
    row("convert-nocrc", "`pickle convert --to safetensors --no-crc-check`", "cp")
    if "torch.load + save_file" in med:
        row("torch.load + save_file", "Python: `torch.load(weights_only=True)` + `save_file`, after the imports", "convert")
    else:
        lines.append("")
        lines.append("Python's torch.load + save_file not measured: no python3 with torch and safetensors (--torch-python).")
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--reps", type=int, default=None)
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--out", default=os.path.join(ROOT, "target", "bench-data"))
    ap.add_argument("--svg")
    ap.add_argument("--markdown")
    ap.add_argument("--checkpoint", type=int, metavar="MB",
                    help="also measure checkpoint readers and converters on a generated MB MiB checkpoint")
    ap.add_argument("--checkpoint-only", action="store_true", help="only the checkpoint table")
    ap.add_argument("--torch-python", help="a python3 with torch and safetensors, for their converter (default: this one if it has them)")
    args = ap.parse_args()
    reps = args.reps or (3 if args.smoke else 11)
    args.rounds = args.rounds or (1 if args.smoke else 3)
    # As benches/compare.rs does in the Rust process (see settle_allocator
    # there): a freed 30 MiB block raises glibc's mmap and trim thresholds,
    # the state of any process that has handled large data.
    settle = bytearray(30 << 20)
    del settle
    if args.checkpoint_only:
        if not args.checkpoint:
            ap.error("--checkpoint-only needs --checkpoint MB")
        return report(checkpoint_table(args), args)
    subprocess.run(["cargo", "bench", "--quiet", "--no-run", "--bench", "compare"],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    bench = bench_binary()
    # The workloads' pickles, written by a process of their own: each
    # measuring process, Rust's as CPython's, starts from the files.
    write = [bench, "--out", args.out, "--write-only"] + (["--smoke"] if args.smoke else [])
    subprocess.run(write, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    # Each workload's Rust and CPython sides are measured back to back, in
    # `rounds` rounds whose order alternates (Rust first, then CPython
    # first), and each time is the median of its rounds' medians: a slow
    # spell of this shared machine then moves one round, not one side of a
    # ratio.
    # The order of the protocols alternates too, every other pair of rounds,
    # on both sides: the first protocol a process measures sometimes ran at
    # half speed for a second or more (a records load to a Document: 38 ms
    # where the same process's second protocol took 23 ms, whichever came first).
    rounds = []
    for k in range(args.rounds):
        got = {}
        reverse = (k // 2) % 2 == 1
        for name in WORKLOADS:
            if k % 2 == 0:
                rows = rust_side(bench, name, args, reps, reverse)
                for r in rows:
                    python_side(r, reps)
            else:
                py = {}
                first = [r for r in rounds[0].values() if r["workload"] == name]
                for r in (first[::-1] if reverse else first):
                    py[r["protocol"]] = python_side(dict(r), reps)
                rows = rust_side(bench, name, args, reps, reverse)
                for r in rows:
                    r.update(py[r["protocol"]])
            for r in rows:
                got[(name, r["protocol"])] = r
        rounds.append(got)
    # Each round's ratios from its own two sides (measured seconds apart),
    # then the median of each time and of each ratio over the rounds: a
    # spell that slows both sides of a round leaves its ratios alone.
    for got in rounds:
        for r in got.values():
            r["r_load"] = ratio(r["py_load"], r["load_value"])
            r["r_load_typed"] = ratio(r["py_load"], r["load_typed"])
            r["r_load_nogc"] = ratio(r["py_load_nogc"], r["load_value"])
            r["r_load_typed_nogc"] = ratio(r["py_load_nogc"], r["load_typed"])
            r["r_dump"] = ratio(r["py_dump"], r["dump_value"])
            r["r_dump_typed"] = ratio(r["py_dump"], r["dump_typed"])
            # Issue 20's m: rmp-serde's time on the same typed values / ours.
            r["m_load_typed"] = ratio(r.get("load_typed_rmp"), r["load_typed"])
            r["m_dump_typed"] = ratio(r.get("dump_typed_rmp"), r["dump_typed"])
            r["reader_vs_slice"] = ratio(r["load_value"], r["load_reader"])
            r["typed_reader_vs_slice"] = ratio(r["load_typed"], r.get("load_typed_reader"))
            # The most any load from a reader can reach: the slice load plus
            # only the copy of the file into memory.
            r["reader_bound"] = bound(r["load_value"], r["read_file"])
            r["typed_reader_bound"] = bound(r["load_typed"], r["read_file"])
    rows = [merge([got[key] for got in rounds]) for key in rounds[0]]
    lines = []
    lines.append("Machine: %s, %d CPUs, Python %s; ms, each the median of %d round medians, each of at least %d runs (more for a fast one: as many as fill 0.3 s, up to 200); ratio = CPython / Rust, the median of the rounds' ratios." % (
        platform.platform(), os.cpu_count(), platform.python_version(), args.rounds, reps))
    lines.append("")
    lines.append("| workload | p | CPython load, gc on / off | Rust load (ratio, gc on / off) | typed load (ratio, gc on / off) | rmp-serde typed load (m) | typed floor | from file (vs slice; bound) | typed from file (vs slice; bound) | CPython dump | Rust dump (ratio) | typed dump (ratio) | rmp-serde typed dump (m) |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        typed_reader = "–" if r.get("load_typed_reader") is None else "%s (%d%%; %d%%)" % (
            fmt(r["load_typed_reader"]), pct(r["typed_reader_vs_slice"]),
            pct(r["typed_reader_bound"]))
        lines.append("| %s | %d | %s / %s | %s (%s× / %s×) | %s (%s× / %s×) | %s (%s) | %s | %s (%d%%; %d%%) | %s | %s | %s (%s×) | %s (%s×) | %s (%s) |" % (
            r["workload"], r["protocol"], fmt(r["py_load"]), fmt(r["py_load_nogc"]),
            fmt(r["load_value"]), fmt(r["r_load"]), fmt(r["r_load_nogc"]),
            fmt(r["load_typed"]), fmt(r["r_load_typed"]), fmt(r["r_load_typed_nogc"]),
            fmt(r.get("load_typed_rmp")), fmt(r.get("m_load_typed")),
            fmt(r.get("build_typed")),
            fmt(r["load_reader"]), pct(r["reader_vs_slice"]), pct(r["reader_bound"]),
            typed_reader,
            fmt(r["py_dump"]),
            fmt(r["dump_value"]), fmt(r["r_dump"]),
            fmt(r["dump_typed"]), fmt(r["r_dump_typed"]),
            fmt(r.get("dump_typed_rmp")), fmt(r.get("m_dump_typed"))))
    lines.append("")
    lines.append("Loads are compared with CPython's pickle.loads with its cyclic garbage collector on "
                 "(as programs run it) and off (as `timeit` runs it); the chart uses the lower ratio.")
    lines.append("")
    lines.append("rmp-serde typed load and dump: the same typed values loaded from and dumped to MessagePack by rmp-serde, "
                 "for reference (what the Rust type and the allocator cost in any format); m = rmp-serde's time / ours "
                 "(issue 20: typed loads within 1.2x of rmp-serde means m >= 0.83). "
                 "Typed floor: the same typed value built from the one in memory, with nothing to decode "
                 "(every String, Vec and map allocated and filled, sizes known in advance, no UTF-8 check): "
                 "what any typed load of it costs at least with this allocator.")
    lines.append("")
    lines.append("From file: `load` / `from_reader` of a `BufReader<File>` (the file in the page cache), "
                 "as a share of the slice load's speed; bound: the share a load from a reader reaches "
                 "at best, the slice load plus only copying the file into memory (`read_to_end` into "
                 "a fresh vector): slice / (slice + read).")
    extra = [r for r in rows if r.get("borrow") is not None]
    for r in extra:
        lines.append("")
        lines.append("%s p%d: from_slice::<&[u8]> borrows in %.3f ms; a fresh to_vec of the file takes %.2f ms." % (
            r["workload"], r["protocol"], r["borrow"], r["memcpy"]))
    lines += history_table(args, bench)
    if not args.smoke:
        mem = memory_rows(rows, bench)
        lines.append("")
        lines.append("Peak memory of one load (MiB; in brackets: above only reading the file):")
        lines.append("")
        lines.append("| workload | p | CPython | Rust to Document | Rust typed "
                     "| from the file: CPython `pickle.load` | Rust `load` | Rust `from_reader` typed |")
        lines.append("|---|---|---|---|---|---|---|---|")
        mib = lambda k: "%.0f" % (k / 1024)
        for w, p, py, pyd, rv, rvd, rt, rtd, pf, rfv, rft in mem:
            lines.append("| %s | %d | %s (+%s) | %s (+%s) | %s (+%s) | %s | %s | %s |" % (
                w, p, mib(py), mib(pyd), mib(rv), mib(rvd), mib(rt), mib(rtd), mib(pf), mib(rfv), mib(rft)))
    if args.checkpoint:
        lines += checkpoint_table(args)
    report(lines, args)
    if args.svg:
        svg_chart(rows, args.svg)


def report(lines, args):
    text = "\n".join(lines).strip("\n")
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    sys.exit(main())
