"""Pack CPython pickles into tests/data/cpython_pickles.bin for
tests/pickler_roundtrip.rs.

    python3 tests/scripts/pack_pickles.py OUT.bin DIR...

Each DIR holds `<case>.p<N>.pkl` files (from the conformance kit's
gen_corpus.py and from gen_pickler_cases.py). Files over 16 KiB, streams of
several pickles and pickles CPython's pickler did not write (`optimized`) are
left out. Record: u16 name length, name, u8 protocol, u8 fix_imports,
u32 length, bytes (little-endian)."""
import os, struct, sys

out, dirs = sys.argv[1], sys.argv[2:]
recs = []
for d in dirs:
    for name in sorted(os.listdir(d)):
        if not name.endswith('.pkl'):
            continue
        case, _, p = name[:-4].rpartition('.p')
        if case in ('stream', 'optimized'):
            continue
        data = open(os.path.join(d, name), 'rb').read()
        if len(data) > 16 * 1024:
            continue
        fix = 0 if case == 'no_fix_imports' else 1
        n = name.encode()
        recs.append(struct.pack('<H', len(n)) + n + struct.pack('<BBI', int(p), fix, len(data)) + data)
open(out, 'wb').write(b''.join(recs))
print(len(recs), 'pickles,', sum(map(len, recs)), 'bytes')
