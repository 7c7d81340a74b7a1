#!/usr/bin/env python3
"""Show that every attack file runs code when Python loads it, without letting it.

    python3 tests/scripts/verify_attacks.py [--manifest tests/fixtures/attacks/manifest.json]
        [--python PY] [--torch-python PY] [--only SUBSTRING] [--dry-run]

For each manifest entry a fresh `PY -I` subprocess (timeout) pre-imports the
modules the payload names, installs a `sys.addaudithook` hook, then loads the
file the way its "loader" says:

  pickle.load           pickle.load(f)
  pickle.load-all       pickle.load(f) until the end of the file
  joblib.load           joblib.load(path)
  numpy.load allow_pickle   numpy.load(path, allow_pickle=True), every .npz member read
  torch.load            torch.load(path, weights_only=False); without torch, an
                        emulation of torch's loader (zip record lookup as miniz does
                        it: central directory, case-insensitive, first match, CRC
                        ignored; legacy tar; legacy five-pickle stream)

The hook blocks (records, then raises) every event that shows code running or
the system being touched: os.system, os.exec*, os.posix_spawn, os.spawn*,
os.fork*, subprocess.Popen, ctypes.*, socket connections and name lookups,
webbrowser.open, urllib.Request, sub-interpreter creation, compile/exec of code
that is not a module being imported, marshal.loads, code object creation,
file writes, renames, removals and directory creation outside the child's own
sandbox directory (TMPDIR). Nothing blocked ever runs. The first blocked event
goes into the manifest's "verified" field as "audit:<event>" ("emulated
audit:<event>" for the torch emulation); a payload that runs a process Python
does not audit (Tcl's exec) is seen by the harmless canary file it leaves in
the sandbox ("effect:<file>"); a file whose modules are missing gets
"not run: module X missing"; a file that loads without a blocked event gets
"not run: no audited call (...)".
"""
import argparse
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import tempfile

CHILD = r'''
import sys, os, json, io, struct, zlib
path, loader, modules, log_path, sandbox = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4], sys.argv[5]
os.environ["TMPDIR"] = sandbox
import tempfile
tempfile.tempdir = sandbox
import importlib, warnings
warnings.simplefilter("ignore")
PRE = """subprocess shutil io pickle _pickle zipfile tarfile gzip bz2 lzma socket ssl select selectors
urllib.request urllib.parse http.client webbrowser pdb bdb cProfile profile trace code codeop timeit pydoc
runpy pkgutil importlib.metadata importlib.util operator functools copyreg marshal types logging pathlib
inspect posixpath genericpath collections ctypes pty tty uuid imaplib smtplib email.utils asyncio
asyncio.unix_events doctest ensurepip contextlib dataclasses typing threading signal tokenize linecache
shlex glob fnmatch platform sysconfig""".split()
OPTIONAL = ["numpy", "numpy.random", "numpy.matrixlib", "numpy.ma", "numpy.lib.format", "pandas", "sklearn", "joblib"]
for m in OPTIONAL:
    try:
        importlib.import_module(m)
    except BaseException:
        pass
missing = []
for m in PRE + list(modules):
    try:
        importlib.import_module(m)
    except BaseException as e:
        if m in modules:
            missing.append("%s (%s: %s)" % (m, type(e).__name__, e))
torch = None
if loader == "torch.load":
    try:
        import torch
        import torch.serialization
    except ImportError:
        torch = None
if loader == "joblib.load":
    try:
        import joblib, joblib.numpy_pickle, joblib.numpy_pickle_compat
        import numpy, numpy.lib.format
    except ImportError as e:
        missing.append("joblib/numpy (%s)" % e)
if loader.startswith("numpy.load"):
    try:
        import numpy, numpy.lib.format, numpy.lib.npyio
    except ImportError as e:
        missing.append("numpy (%s)" % e)
if missing:
    print(json.dumps({"missing": missing}))
    sys.exit(3)

log = open(log_path, "a", buffering=1)
SANDBOX = os.path.realpath(sandbox)
BLOCK_EXACT = {"os.system", "os.posix_spawn", "os.fork", "os.forkpty", "os.startfile", "os.kill", "os.killpg",
               "subprocess.Popen", "socket.connect", "socket.bind", "socket.getaddrinfo", "socket.gethostbyname",
               "socket.gethostbyaddr", "socket.sendto", "socket.sendmsg", "webbrowser.open", "urllib.Request",
               "cpython.PyInterpreterState_New", "marshal.loads", "marshal.load", "code.__new__", "pty.spawn",
               "os.putenv", "os.unsetenv", "os.chdir", "ftplib.connect",
               "smtplib.connect", "http.client.connect", "imaplib.open", "poplib.connect", "nntplib.connect",
               "telnetlib.Telnet.open"}
PATH_EVENTS_EXTRA = {"sqlite3.connect": [0]}
BLOCK_PREFIX = ("os.exec", "os.spawn", "ctypes.", "_winapi.", "winreg.")
PATH_EVENTS = {"os.remove": [0], "os.unlink": [0], "os.rmdir": [0], "os.mkdir": [0], "os.rename": [0, 1],
               "os.replace": [0, 1], "os.truncate": [0], "os.chmod": [0], "os.chown": [0], "os.symlink": [0, 1],
               "os.link": [0, 1], "os.utime": [0], "shutil.rmtree": [0], "shutil.copyfile": [1], "shutil.copytree": [1],
               "shutil.move": [0, 1], "shutil.make_archive": [0], "shutil.unpack_archive": [1], "tempfile.mkstemp": [],
               "tempfile.mkdtemp": []}
blocked = []

def in_sandbox(p):
    if isinstance(p, int):
        return True
    try:
        p = os.fsdecode(p)
    except Exception:
        return False
    rp = os.path.realpath(p)
    return rp == SANDBOX or rp.startswith(SANDBOX + os.sep)

def importing():
    f = sys._getframe(2)
    while f is not None:
        fn = f.f_code.co_filename
        if fn.startswith("<frozen importlib"):
            return True
        f = f.f_back
    return False

def parsing_ast():
    f = sys._getframe(2)
    while f is not None:
        if f.f_code.co_name == "parse" and f.f_code.co_filename.endswith(os.sep + "ast.py"):
            return True
        f = f.f_back
    return False

def is_write(mode, flags):
    if isinstance(mode, str):
        return any(c in mode for c in "wax+")
    if isinstance(flags, int):
        return bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC))
    return False

class Blocked(RuntimeError):
    pass

def hook(event, args):
    if blocked and blocked[-1] == "__stop__":
        return
    bad = False
    if event in BLOCK_EXACT or event.startswith(BLOCK_PREFIX):
        bad = True
    elif event == "open":
        p, mode, flags = (tuple(args) + (None, None, None))[:3]
        bad = is_write(mode, flags) and not in_sandbox(p) and p != os.devnull
    elif event in PATH_EVENTS or event in PATH_EVENTS_EXTRA:
        idx = PATH_EVENTS[event] if event in PATH_EVENTS else PATH_EVENTS_EXTRA[event]
        bad = any(i < len(args) and not in_sandbox(args[i]) for i in idx)
    elif event in ("exec", "compile"):
        if event == "exec":
            co = args[0]
            fn = getattr(co, "co_filename", "<?>")
        else:
            fn = args[1] if len(args) > 1 else "<?>"
            fn = fn if isinstance(fn, str) else os.fsdecode(fn) if isinstance(fn, bytes) else "<?>"
        bad = not ((os.path.isfile(fn) and not fn.startswith("<")) or importing() or parsing_ast())
    if bad and event in ("marshal.loads", "marshal.load", "os.putenv", "os.unsetenv") and importing():
        bad = False
    if bad:
        try:
            desc = repr(args)[:200]
        except Exception:
            desc = "?"
        blocked.append(event)
        log.write(json.dumps({"event": event, "args": desc}) + "\n")
        raise Blocked("audit hook blocked " + event)

def torch_emulated(path):
    """torch.load(weights_only=False) without torch: record lookup as miniz does it."""
    import pickle, tarfile
    class U(pickle.Unpickler):
        def persistent_load(self, pid):
            return None
        def find_class(self, mod, name):
            if mod.startswith("torch"):
                return lambda *a, **k: None
            return super().find_class(mod, name)
    data = open(path, "rb").read()
    if data[:4] == b"PK\x03\x04":
        eocd = data.rindex(b"PK\x05\x06")
        n, cdsize, cdoff = struct.unpack("<HII", data[eocd + 10:eocd + 20])
        pos, names = cdoff, []
        for _ in range(n):
            (sig, _vm, _vn, flags, method, _t, _d, crc, csize, usize, nlen, xlen, clen, _dn, _ia, _ea, loff) = struct.unpack("<IHHHHHHIIIHHHHHII", data[pos:pos + 46])
            name = data[pos + 46:pos + 46 + nlen].decode("utf-8", "replace")
            names.append((name, method, csize, usize, loff))
            pos += 46 + nlen + xlen + clen
        prefix = names[0][0].split("/")[0]
        def record(rec):
            want = (prefix + "/" + rec).lower()
            for name, method, csize, usize, loff in names:
                if name.lower() == want:
                    lnlen, lxlen = struct.unpack("<HH", data[loff + 26:loff + 30])
                    raw = data[loff + 30 + lnlen + lxlen: loff + 30 + lnlen + lxlen + csize]
                    return raw if method == 0 else zlib.decompress(raw, -15)
            raise KeyError(rec)
        record("version")
        return U(io.BytesIO(record("data.pkl"))).load()
    f = io.BytesIO(data)
    try:
        with tarfile.open(fileobj=f, mode="r:") as tar:
            s = io.BytesIO(tar.extractfile("storages").read())
            k = U(s).load()
            for _ in range(k):
                U(s).load()
            U(s).load()
            t = io.BytesIO(tar.extractfile("tensors").read())
            U(t).load()
            return U(tar.extractfile("pickle")).load()
    except tarfile.TarError:
        pass
    f.seek(0)
    for _ in range(5):
        r = U(f).load()
    return r

def load():
    if loader == "pickle.load":
        import pickle
        with open(path, "rb") as f:
            return pickle.load(f)
    if loader == "pickle.load-all":
        import pickle
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            out = []
            while f.tell() < size:
                out.append(pickle.load(f))
            return out
    if loader == "joblib.load":
        import joblib
        return joblib.load(path)
    if loader.startswith("numpy.load"):
        import numpy
        r = numpy.load(path, allow_pickle=True)
        if hasattr(r, "files"):
            return [r[k] for k in r.files]
        return r
    if loader == "torch.load":
        if torch is not None:
            return torch.load(path, weights_only=False, map_location="cpu")
        return torch_emulated(path)
    raise SystemExit("unknown loader " + loader)

sys.addaudithook(hook)
err = None
try:
    load()
except BaseException as e:
    err = "%s: %s" % (type(e).__name__, str(e)[:200])
blocked.append("__stop__")
print(json.dumps({"blocked": [b for b in blocked if b != "__stop__"], "error": err, "emulated": loader == "torch.load" and torch is None}))
sys.stdout.flush()
os._exit(0)
'''


def guess_loader(name):
    n = name.lower()
    if n.endswith((".npy", ".npz")):
        return "numpy.load allow_pickle"
    if n.endswith((".pt", ".pth")) or "torch_" in n:
        return "torch.load"
    if "joblib" in n or n.endswith((".z", ".gz", ".bz2", ".xz", ".lzma", ".lz4", ".gzip")):
        return "joblib.load"
    return "pickle.load"


def pick_python(entry, args):
    needs_torch = entry["loader"] == "torch.load" or "torch" in entry.get("needs", []) or "torch" in entry.get("modules", [])
    if needs_torch and args.torch_python:
        return args.torch_python
    if entry.get("python_hint") and args.alt_python.get(entry["python_hint"]):
        return args.alt_python[entry["python_hint"]]
    return args.python


def verify(entry, base, args):
    path = os.path.abspath(os.path.join(base, entry["file"]))
    work = tempfile.mkdtemp(prefix="pickle-attack-verify-")
    sandbox = os.path.join(work, "sandbox")
    os.mkdir(sandbox)
    log = os.path.join(work, "events.jsonl")
    open(log, "w").close()
    py = pick_python(entry, args)
    cmd = [py, "-I", "-c", CHILD, path, entry["loader"], json.dumps(entry.get("modules", [])), log, sandbox]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": sandbox, "TMPDIR": sandbox, "LANG": "C.UTF-8",
           # a browser for webbrowser.open to find (the call is blocked before it starts)
           "BROWSER": "/bin/true"}
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout, env=env, stdin=subprocess.DEVNULL, cwd=sandbox)
        out, rc = p.stdout, p.returncode
    except subprocess.TimeoutExpired as e:
        out, rc = (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or ""), "timeout"
    events = [json.loads(l) for l in open(log) if l.strip()]
    res = None
    for line in reversed(out.splitlines()):
        try:
            res = json.loads(line)
            break
        except ValueError:
            continue
    effects = sorted(n for n in os.listdir(sandbox) if n.startswith("pickle-attack-corpus"))
    shutil.rmtree(work, ignore_errors=True)
    if effects and not events:
        # a process started outside Python's audit events (Tcl's exec) left
        # its harmless canary in the sandbox
        return "effect:%s created in the sandbox" % effects[0], events
    if events:
        ev = events[0]["event"]
        emulated = bool(res and res.get("emulated"))
        return ("emulated audit:" if emulated else "audit:") + ev, events
    if res and res.get("missing"):
        return "not run: module %s missing" % "; ".join(res["missing"]), events
    why = res.get("error") if res else "exit %s" % rc
    return "not run: no audited call (%s)" % (why or "loaded without error"), events


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--manifest", default=os.path.join(here, "..", "fixtures", "attacks", "manifest.json"))
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--torch-python", default=None)
    ap.add_argument("--alt-python", action="append", default=[], help="HINT=PY: interpreter for entries with python_hint HINT")
    ap.add_argument("--only")
    ap.add_argument("--timeout", type=int, default=60)
    ap.add_argument("--jobs", type=int, default=4)
    ap.add_argument("--dry-run", action="store_true", help="print, do not write the manifest")
    ap.add_argument("--benign", action="store_true",
                    help="the manifest lists hard negatives: load each (loader guessed from its name) and report any blocked event; nothing is written")
    args = ap.parse_args()
    args.alt_python = dict(a.split("=", 1) for a in args.alt_python)
    base = os.path.dirname(os.path.abspath(args.manifest))
    entries = json.load(open(args.manifest))
    todo = [e for e in entries if not args.only or args.only in e["file"]]
    if args.benign:
        for e in todo:
            e["loader"] = e.get("loader") or guess_loader(e["file"])
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as ex:
            results = list(ex.map(lambda e: verify(e, base, args), todo))
        bad = 0
        for e, (v, events) in zip(todo, results):
            if v.startswith(("audit:", "emulated audit:", "effect:")):
                bad += 1
                print("%-55s BLOCKED %s %s" % (e["file"], v, events[:1]))
            else:
                print("%-55s ok (%s)" % (e["file"], v.replace("not run: no audited call ", "")))
        print("%d of %d hard negatives triggered a blocked event" % (bad, len(todo)))
        return
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as ex:
        results = list(ex.map(lambda e: verify(e, base, args), todo))
    for e, (v, events) in zip(todo, results):
        e["verified"] = v
        print("%-55s %s" % (e["file"], v))
    n_ok = sum(1 for e in entries if (e.get("verified") or "").startswith(("audit:", "emulated audit:", "effect:")))
    print("%d of %d verified" % (n_ok, len(entries)))
    if not args.dry_run:
        with open(args.manifest, "w") as f:
            json.dump(entries, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
