"""User classes pickled by gen_fixtures.py and needed again by compare.py.

Both scripts import this module by the name ``fixture_classes`` (it sits next
to them in tests/), so the globals written into the fixtures resolve to the
classes below when CPython loads them back.
"""

import collections
import copyreg
import dataclasses
import enum


class Plain:
    """An ordinary instance: NEWOBJ (or copyreg._reconstructor) + BUILD of __dict__."""

    def __init__(self, x=0, y=0):
        self.x = x
        self.y = y


class Slots:
    """__slots__ only: BUILD gets (None, {slot: value})."""

    __slots__ = ("a", "b")

    def __init__(self, a=None, b=None):
        self.a = a
        self.b = b


class WithState:
    """__getstate__/__setstate__ with a non-dict state."""

    def __init__(self, v=None):
        self.v = v
        self.version = "v1"

    def __getstate__(self):
        return (self.v, self.version)

    def __setstate__(self, state):
        self.v, self.version = state


class Reduced:
    """__reduce__ returning (callable, args): a plain REDUCE."""

    def __init__(self, a, b):
        self.a = a
        self.b = b

    def __reduce__(self):
        return (Reduced, (self.a, self.b))


class NewArgsEx:
    """__getnewargs_ex__: NEWOBJ_EX at protocol 4+."""

    def __new__(cls, *args, **kwargs):
        obj = super().__new__(cls)
        obj.args = args
        obj.kwargs = kwargs
        return obj

    def __init__(self, *args, **kwargs):
        pass

    def __getnewargs_ex__(self):
        return (self.args, self.kwargs)


class MyList(list):
    """A list subclass with an attribute: NEWOBJ + BUILD + APPENDS."""

    def __init__(self, items=(), tag=None):
        super().__init__(items)
        self.tag = tag


class MyDict(dict):
    """A dict subclass with an attribute: NEWOBJ + BUILD + SETITEMS."""

    def __init__(self, items=(), tag=None):
        super().__init__(items)
        self.tag = tag


class Outer:
    """Holds a nested class: its qualname is dotted (``Outer.Inner``)."""

    class Inner:
        def __init__(self, z=1):
            self.z = z


@dataclasses.dataclass
class Point3:
    x: int
    y: float
    tags: list


class Color(enum.Enum):
    RED = 1
    GREEN = 2
    BLUE = 3


Pair = collections.namedtuple("Pair", "left right")


class Ref:
    """Stands for an object stored elsewhere: pickled as a persistent id."""

    def __init__(self, key):
        self.key = key


def persistent_id_for(obj, protocol):
    """The pid gen_fixtures writes for a Ref (protocol 0 needs an ASCII str)."""
    if isinstance(obj, Ref):
        if protocol == 0:
            return "ref:%s" % obj.key
        return ("ref", obj.key)
    return None


# Classes registered with copyreg.add_extension while the extension fixtures
# are written: at protocol 2+ they are written as EXT1/EXT2/EXT4 codes.
class ExtA:
    pass


class ExtB:
    pass


class ExtC:
    pass


class ExtD:
    pass


class ExtE:
    pass


class ExtF:
    pass


EXTENSIONS = [
    ("fixture_classes", "ExtA", 1),  # EXT1
    ("fixture_classes", "ExtB", 255),  # EXT1, largest
    ("fixture_classes", "ExtC", 256),  # EXT2
    ("fixture_classes", "ExtD", 0xFFFF),  # EXT2, largest
    ("fixture_classes", "ExtE", 0x10000),  # EXT4
    ("fixture_classes", "ExtF", 0x7FFFFFFF),  # EXT4, largest allowed
]


def register_extensions():
    for module, name, code in EXTENSIONS:
        copyreg.add_extension(module, name, code)


def unregister_extensions():
    for module, name, code in EXTENSIONS:
        copyreg.remove_extension(module, name, code)
