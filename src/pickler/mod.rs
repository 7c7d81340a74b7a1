//! The pickler: a [`Document`] to bytes, byte for byte as CPython 3.11's C
//! pickler (`_pickle.c`) writes the equivalent Python object.
//!
//! # How it matches CPython
//!
//! * **Memo**: every str, bytes, bytearray, list, dict, set, frozenset,
//!   non-empty tuple, object and global is memoized right after it is written
//!   (lists, dicts and sets before their items, as CPython does), and a node
//!   met again is a memo `GET`. The memo is keyed by [`NodeId`] (CPython's
//!   `id()`); globals are also keyed by `(module, qualname)`, because a class
//!   is one object however many nodes name it. See the `memo` submodule.
//! * **Python-only forms**: what CPython writes through `__reduce__` at low
//!   protocols is synthesized: `bytes` below 3 as
//!   `_codecs.encode('<latin-1 text>', 'latin1')`, `bytearray` below 5 as
//!   `builtins.bytearray(bytes)`, `set`/`frozenset` below 4 as
//!   `builtins.set([items])`, `NEWOBJ` below 2 as `copyreg.__newobj__`,
//!   `NEWOBJ_EX` as `functools.partial(getattr(cls, '__new__'), cls, *args,
//!   **kwargs)()` at 2–3 (`getattr` finds the class's own `__new__` or the
//!   inherited one; CPython names `object.__new__` itself when the class has
//!   none, which a document cannot tell) and `copyreg.__newobj_ex__` below 2, and a
//!   dotted global below 4 as `getattr(parent, 'last')`. Names go through
//!   [`crate::compat::to_python2`] below protocol 3 when `fix_imports` is on.
//! * **Batching**: list and dict items in batches of 1000 exactly as
//!   `batch_list_exact`/`batch_dict_exact` (a dict of exactly 1000 items ends
//!   with an empty `MARK SETITEMS`, as CPython's does); set items always with
//!   `ADDITEMS`; items appended to objects as the generic `batch_list`.
//! * **Recursive tuples and objects**: when a tuple, frozenset or object was
//!   memoized while its items (or arguments) were written, what was pushed is
//!   popped and the memo entry fetched, as in `save_tuple`/`save_reduce`.
//!   A cycle that CPython could only recurse on forever (a tuple containing
//!   itself without a list or dict in between) is an error.
//! * **Framing** (protocol 4+): a frame may be committed after every
//!   `save()` call, before its first byte, as `pickle.py`'s `commit_frame`
//!   (checked against `_pickle.c`'s output on large pickles), and
//!   payloads of 64 KiB or more are written outside frames.
//!
//! The walk uses an explicit stack: depth costs heap, not call stack.
//!
//! # Deviations
//!
//! * A [`Node::Buffer`] is written in band (as `bytes` if read-only, else as
//!   `bytearray`) at any protocol; CPython refuses `PickleBuffer` below 5.
//! * `Pickler::dump` starts a fresh memo for each document.
//! * At protocol 0 a persistent id that is not a str, int, float, bool or
//!   None is written as its `repr` (from [`crate::repr`]); names and ids
//!   containing a newline are refused, since they could not be read back.
//!
//! [`Document`]: crate::value::Document
//! [`NodeId`]: crate::value::NodeId
//! [`Node::Buffer`]: crate::value::Node::Buffer

// The code: `api` (the options, `Pickler` and the `dump` functions),
// `engine` (the walk: its task stack, the dispatch on node kinds, containers
// and their batches, the recursion check, framing), `objects` (globals,
// objects and the reductions synthesized for what a protocol lacks) and
// `memo` (which nodes were written, at which index).
mod api;
mod engine;
mod memo;
mod objects;

pub use api::{dump, dump_with, dumps, dumps_with, BufferCallback, DumpOptions, Pickler};

#[cfg(test)]
mod tests;
