"""Print `hexbits repr` lines for many floats (tests/data/float_repr.txt)."""
import math, random, struct

def bits(x):
    return struct.unpack('<Q', struct.pack('<d', x))[0]

random.seed(1234)
vals = [0.0, -0.0, math.inf, -math.inf, math.nan, 5e-324, -5e-324, 2.2250738585072014e-308,
        1.7976931348623157e308, 0.1, 0.2, 0.3, 1/3, 2/3, 1e16, 1e15, 9999999999999998.0,
        1e-4, 1e-5, 0.00011, 123456789.0, 1e22, 1e23, 12345678901234567890.0]
for e in range(-330, 310):
    vals.append(10.0 ** e if -324 < e < 309 else 0.0)
    vals.append(1.5 * 10.0 ** e if -324 < e < 308 else 1.0)
for _ in range(600):
    vals.append(struct.unpack('<d', struct.pack('<Q', random.getrandbits(64)))[0])
for _ in range(300):
    vals.append(random.uniform(-1e6, 1e6))
    vals.append(round(random.uniform(-1000, 1000), random.randint(0, 6)))
for v in vals:
    if math.isnan(v):
        print('%016x nan' % bits(math.nan))
    else:
        print('%016x %s' % (bits(v), repr(v)))
