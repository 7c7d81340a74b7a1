#!/usr/bin/env python3
"""Write the malicious test set for `pickle scan`: every file must be flagged dangerous.

    python3 tests/scripts/gen_malicious.py [OUT_DIR]   (default tests/fixtures/malicious)

The pickles are assembled opcode by opcode, so nothing is imported or run and
modules that are not installed (torch, dill) can be named. Each dangerous
callable is written at protocols 0, 2 and 4 (GLOBAL, GLOBAL with memoized
BINUNICODE args, STACK_GLOBAL fed from the memo); a handful of them also go
through INST, OBJ, NEWOBJ, NEWOBJ_EX, getattr chains, functools.partial,
payloads nested in data, a second pickle after a benign one, a torch-style zip,
a legacy torch file, a joblib-style file, BUILD on a class, and names computed
at load time.
"""
import io
import os
import struct
import sys
import zipfile

DANGEROUS = [
    ("os", "system"),
    ("os", "popen"),
    ("os", "execv"),
    ("os", "remove"),
    ("posix", "system"),
    ("nt", "system"),
    ("subprocess", "Popen"),
    ("subprocess", "check_output"),
    ("subprocess", "run"),
    ("subprocess", "call"),
    ("builtins", "eval"),
    ("builtins", "exec"),
    ("builtins", "compile"),
    ("builtins", "__import__"),
    ("builtins", "open"),
    ("builtins", "breakpoint"),
    ("builtins", "input"),
    ("builtins", "globals"),
    ("builtins", "vars"),
    ("builtins", "setattr"),
    ("builtins", "delattr"),
    ("__builtin__", "eval"),
    ("__builtin__", "apply"),
    ("sys", "exit"),
    ("importlib", "import_module"),
    ("runpy", "run_path"),
    ("runpy", "_run_code"),
    ("pickle", "loads"),
    ("_pickle", "loads"),
    ("marshal", "loads"),
    ("shelve", "open"),
    ("dill", "loads"),
    ("code", "InteractiveInterpreter"),
    ("codeop", "compile_command"),
    ("pty", "spawn"),
    ("ctypes", "CDLL"),
    ("socket", "create_connection"),
    ("shutil", "rmtree"),
    ("webbrowser", "open"),
    ("timeit", "timeit"),
    ("pdb", "run"),
    ("bdb", "Bdb"),
    ("cProfile", "run"),
    ("profile", "run"),
    ("trace", "Trace"),
    ("asyncio", "create_subprocess_shell"),
    ("asyncio.subprocess", "create_subprocess_exec"),
    ("pip", "main"),
    ("multiprocessing", "Process"),
    ("threading", "Thread"),
    ("signal", "signal"),
    ("tempfile", "mkstemp"),
    ("torch", "load"),
    ("torch.hub", "load"),
    ("torch.serialization", "load"),
    ("torch.storage", "_load_from_bytes"),
    ("numpy", "load"),
    ("numpy.lib.npyio", "load"),
    ("numpy.testing._private.utils", "runstring"),
    ("numpy.f2py", "compile"),
    ("operator", "attrgetter"),
    ("operator", "methodcaller"),
    ("operator", "itemgetter"),
    ("functools", "reduce"),
    ("types", "FunctionType"),
    ("types", "CodeType"),
    ("pydoc", "pipepager"),
    ("platform", "popen"),
    ("urllib.request", "urlopen"),
    ("http.client", "HTTPSConnection"),
    ("ssl", "get_server_certificate"),
    ("joblib", "load"),
    ("pandas", "read_pickle"),
    ("pandas", "eval"),
    ("glob", "glob"),
    ("linecache", "getline"),
    ("io", "open"),
    ("copyreg", "add_extension"),
    ("mymodule", "loads"),
    ("anymodule", "system"),
]


# ---- opcode helpers -------------------------------------------------------

def uni0(s):
    return b"V" + s.encode("raw_unicode_escape") + b"\n"


def uni2(s):
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def uni4(s):
    b = s.encode()
    return b"\x8c" + bytes([len(b)]) + b + b"\x94"


def glob0(m, n):
    return b"c" + m.encode() + b"\n" + n.encode() + b"\n"


def frame4(body):
    return b"\x80\x04\x95" + struct.pack("<Q", len(body)) + body


class Memo:
    """Protocol 4 writer that memoizes every str and global, as CPython does."""

    def __init__(self):
        self.n = 0
        self.ids = {}

    def s(self, text):
        if text in self.ids:
            return b"h" + bytes([self.ids[text]])
        self.ids[text] = self.n
        self.n += 1
        return uni4(text)

    def g(self, m, n):
        out = self.s(m) + self.s(n) + b"\x93\x94"
        self.n += 1
        return out


def call_p0(m, n, arg="id"):
    return glob0(m, n) + b"(" + uni0(arg) + b"tR."


def call_p2(m, n, arg="id"):
    return b"\x80\x02" + glob0(m, n) + b"q\x00" + uni2(arg) + b"q\x01\x85q\x02R."


def call_p4(m, n, arg="id"):
    w = Memo()
    return frame4(w.g(m, n) + w.s(arg) + b"\x85\x94R\x94.")


def call_p4_memo_names(m, n, arg="id"):
    # The names are memoized early, popped, and fetched back for STACK_GLOBAL.
    body = uni4(m) + b"0" + uni4(n) + b"0" + uni4("decoy") + b"0"
    body += b"h\x00h\x01\x93" + uni4(arg) + b"\x85R."
    return frame4(body)


def inst(m, n, arg="id"):
    return b"(" + uni0(arg) + b"i" + m.encode() + b"\n" + n.encode() + b"\n."


def obj(m, n, arg="id"):
    return b"\x80\x02(" + glob0(m, n) + uni2(arg) + b"o."


def newobj(m, n, arg="id"):
    return b"\x80\x02" + glob0(m, n) + uni2(arg) + b"\x85\x81."


def newobj_ex(m, n, arg="id"):
    w = Memo()
    return frame4(w.g(m, n) + w.s(arg) + b"\x85\x94}\x94\x92\x94.")


def getattr_chain(m, n, arg="id"):
    # getattr(__import__(m), n)(arg)
    return (b"\x80\x02" + glob0("builtins", "getattr") + glob0("builtins", "__import__")
            + uni2(m) + b"\x85R" + uni2(n) + b"\x86R" + uni2(arg) + b"\x85R.")


def getattr_memo_laundered(m, n, arg="id"):
    # getattr fetched from the memo and fed a module object made by a call.
    return (b"\x80\x02" + glob0("builtins", "getattr") + b"q\x05" + b"0"
            + b"h\x05" + glob0("importlib", "import_module") + uni2(m) + b"\x85R"
            + uni2(n) + b"\x86R" + uni2(arg) + b"\x85R.")


def getattr_as_data(m, n, arg="id"):
    # map(getattr, [cls], [name]) consumed by list(): getattr never directly called.
    return (b"\x80\x02" + glob0("builtins", "list") + glob0("builtins", "map")
            + glob0("builtins", "getattr") + b"]" + glob0("collections", "OrderedDict") + b"a]"
            + uni2("__init__") + b"a\x87R\x85R.")


def partial_call(m, n, arg="id"):
    return (b"\x80\x02" + glob0("functools", "partial") + glob0(m, n) + uni2(arg)
            + b"\x86R)R.")


def partial_state_swap(m, n, arg="id"):
    # partial(builtins.len) whose state replaces the function before the call.
    return (b"\x80\x02" + glob0("functools", "partial") + glob0("builtins", "len")
            + b"\x85R(" + glob0(m, n) + uni2(arg) + b"\x85NNtb)R.")


def nested_in_data(m, n, arg="id"):
    payload = glob0(m, n) + uni2(arg) + b"\x85R"
    return (b"\x80\x02}(" + uni2("weights") + b"](K\x01K\x02" + payload + b"e"
            + uni2("meta") + uni2("ok") + b"u.")


def after_benign(m, n, arg="id"):
    return b"\x80\x02}q\x00" + b"." + call_p2(m, n, arg)


def build_on_class(m, n, arg="id"):
    # BUILD on an imported class: setattr on it (monkey-patching at load time).
    return (b"\x80\x02" + glob0("collections", "OrderedDict") + b"N}"
            + uni2("__reduce__") + glob0(m, n) + b"s\x86b.")


def computed_name(m, n, arg="id"):
    # STACK_GLOBAL whose name is the result of a call: not a constant.
    w = Memo()
    body = w.s(m) + w.g("builtins", "str") + w.s(n) + b"\x85R\x93" + w.s(arg) + b"\x85R."
    return frame4(body)


def torch_zip(m, n, arg="id"):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", call_p2(m, n, arg))
        z.writestr("archive/data/0", b"\x00" * 64)
        z.writestr("archive/version", b"3\n")
    return buf.getvalue()


def torch_zip_second_member(m, n, arg="id"):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
        z.writestr("archive/data/0", b"\x00" * 64)
        z.writestr("archive/extra/constants.pkl", call_p4(m, n, arg))
    return buf.getvalue()


MAGIC = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19."


def legacy_torch(m, n, arg="id"):
    out = MAGIC + b"\x80\x02M\xe9\x03." + b"\x80\x02}q\x00."
    out += call_p2(m, n, arg)
    out += b"\x80\x02]q\x00."
    return out


def joblib_style(m, n, arg="id"):
    # A NumpyArrayWrapper for 3 float64s, its raw bytes, then the payload.
    dtype = glob0("numpy", "dtype") + uni2("f8") + b"\x89\x88\x87R(K\x03" + uni2("<") + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
    state = (b"}(" + uni2("subclass") + glob0("numpy", "ndarray") + uni2("shape") + b"K\x03\x85"
             + uni2("order") + uni2("C") + uni2("dtype") + dtype + uni2("allow_mmap") + b"\x88"
             + uni2("numpy_array_alignment_bytes") + b"K\x10u")
    head = b"\x80\x02]" + glob0("joblib.numpy_pickle", "NumpyArrayWrapper") + b")\x81" + state + b"b"
    pos = len(head) + 1
    pad = 16 - pos % 16
    raw = bytes([pad]) + b"\xff" * pad + struct.pack("<3d", 1.0, 2.0, 3.0)
    payload = glob0(m, n) + uni2(arg) + b"\x85R"
    return head + raw + b"a" + payload + b"a."


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "fixtures", "malicious")
    os.makedirs(out, exist_ok=True)
    files = {}
    for m, n in DANGEROUS:
        base = "%s.%s" % (m, n)
        files[base + ".p0.pkl"] = call_p0(m, n)
        files[base + ".p2.pkl"] = call_p2(m, n)
        files[base + ".p4.pkl"] = call_p4(m, n)
    techniques = [
        ("stack_global_memo", call_p4_memo_names, ".pkl"),
        ("inst", inst, ".pkl"),
        ("obj", obj, ".pkl"),
        ("newobj", newobj, ".pkl"),
        ("newobj_ex", newobj_ex, ".pkl"),
        ("getattr_chain", getattr_chain, ".pkl"),
        ("getattr_memo", getattr_memo_laundered, ".pkl"),
        ("partial", partial_call, ".pkl"),
        ("partial_state", partial_state_swap, ".pkl"),
        ("nested", nested_in_data, ".pkl"),
        ("after_benign", after_benign, ".pkl"),
        ("computed_name", computed_name, ".pkl"),
        ("torch_zip", torch_zip, ".pt"),
        ("torch_zip_member", torch_zip_second_member, ".pth"),
        ("legacy_torch", legacy_torch, ".pt"),
        ("joblib", joblib_style, ".joblib"),
    ]
    for m, n in [("os", "system"), ("builtins", "eval"), ("subprocess", "Popen"), ("posix", "system")]:
        for tech, fn, ext in techniques:
            files["%s.%s.%s%s" % (tech, m, n, ext)] = fn(m, n)
    files["getattr_as_data.pkl"] = getattr_as_data("os", "system")
    files["build_on_class.pkl"] = build_on_class("os", "system")
    files["getattr_dunder.pkl"] = (b"\x80\x02" + glob0("builtins", "getattr") + glob0("builtins", "object")
                                   + uni2("__subclasses__") + b"\x86R)R.")
    files["getattr_globals.pkl"] = (b"\x80\x04" + glob0("builtins", "getattr") + b"q\x00h\x00" + glob0("collections", "OrderedDict")
                                    + uni2("__init__") + b"\x86R" + uni2("__globals__") + b"\x86R.")
    files["dotted_dunder_p4.pkl"] = frame4(uni4("collections") + uni4("OrderedDict.__init__.__globals__") + b"\x93.")
    for name in os.listdir(out):
        if name not in files and not name.endswith(".md"):
            os.remove(os.path.join(out, name))
    for name, data in sorted(files.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print("wrote %d malicious files to %s" % (len(files), out))


if __name__ == "__main__":
    main()
