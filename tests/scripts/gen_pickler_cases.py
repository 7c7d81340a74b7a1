"""Extra CPython pickles for the re-encoding test: framing, batching,
recursion, low-protocol forms. Usage: gen_pickler_cases.py OUTDIR
(needs the conformance kit's pcorpus.py on sys.path: ../shared/conformance)."""
import pickle, sys, collections, io, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), '../../../shared/conformance'))
sys.path.insert(0, '/work/shared/conformance')
import pcorpus
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
def rec_tuple():
    l=[]; t=(l,1); l.append(t); return t
def rec_tuple4():
    l=[]; t=(l,1,2,3); l.append(t); return t
def rec_fs():
    c=pcorpus.Outer(); fs=frozenset([c]); c.x=fs; return fs
def selfref():
    l=[1]; l.append(l); d={}; d['me']=d; return [l,d]
def deep():
    x=[]
    for i in range(200): x=[x, (x,), {'k': x}]
    return x
cases = {
 'bigstrs': ['x'*10+str(i) for i in range(20000)],
 'bigints_list': list(range(100000)),
 'bigpayload': [b'x'*70000,'a'],
 'bigpayload2': ['a'*65530,'b'*10, 'c'*70000, bytearray(b'z'*65536), b'q'*65535],
 'bigdict': {str(i): i for i in range(2500)},
 'dict1000': dict.fromkeys(range(1000)),
 'set1000': set(range(1000)), 'set1001': set(range(1001)), 'fs2000': frozenset(range(2000)),
 'list1001': list(range(1001)), 'list2000': list(range(2000)),
 'rec_tuple': rec_tuple(), 'rec_tuple4': rec_tuple4(), 'rec_fs': rec_fs(), 'selfref': selfref(),
 'bytes_mix': [b'', b'ab', b'\x00\xff\x80', bytearray(), bytearray(b'xy'), b'ab'],
 'nested_class': [pcorpus.Outer.Inner(1), pcorpus.Outer.Inner(2), pcorpus.Outer],
 'newargsex': [pcorpus.NewArgsEx(1, b=2), pcorpus.NewArgsEx(3)],
 'deep': deep(),
 'floats': [0.0,-0.0,float('inf'),float('-inf'),float('nan'),1e16,1e-5,123456789.0,0.1,5e-324,1.7976931348623157e308],
 'ints': [0,1,255,256,65535,65536,-1,-128,2**31-1,-2**31,2**31,-2**31-1,2**63,-2**63,2**64,2**2100,-2**2100, True, False, None],
 'strs': ['', 'a', 'é', '€', '\U0001f642', '\ud800', 'a\\b\nc\rd\x1a\x00e', 'x'*300],
 'many_memo': [str(i) for i in range(300)] + [str(i) for i in range(300)],
 'od': collections.OrderedDict((str(i), i) for i in range(1500)),
 'items': pcorpus.Items([1,2,3]), 'table': pcorpus.Table(a=1),
 'tuples': [(), (1,), (1,2), (1,2,3), (1,2,3,4), ((),((),))],
 'enum': [pcorpus.Color.RED, pcorpus.Level.HIGH, pcorpus.Pair(1,2), pcorpus.Record(1,'a',1.5,['t'])],
}
for name, obj in cases.items():
    for p in range(6):
        open(os.path.join(out, f'{name}.p{p}.pkl'),'wb').write(pickle.dumps(obj, p))
# big ones via file: identical?
for p in range(6):
    f=io.BytesIO(); pickle.dump(cases['bigstrs'], f, p); assert f.getvalue()==pickle.dumps(cases['bigstrs'],p)
print('ok')
