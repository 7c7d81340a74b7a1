//! The walk: an [`Engine`] runs a stack of [`Task`]s, each one step of
//! `save()`; it writes immediates, strs, containers (lists, dicts, sets and
//! tuples, with their batches), memoizes, guards against endless recursion
//! and commits frames. Globals and objects are written by the methods in
//! `objects`.

use std::borrow::Cow;
use std::io::Write;

use crate::codec::framing::FRAME_SIZE_TARGET;
use crate::codec::opcodes::Opcode;
use crate::codec::write::{InstrWriter, BATCH};
use crate::error::{Error, Result};
use crate::python::repr::repr_float;
use crate::value::{Buffer, Document, Node, NodeId, ObjectKind, Value};

use super::memo::Memo;

/// A global the pickler makes up (module, qualname), Python 3 names.
pub(super) type SynthName = Box<(Cow<'static, str>, Cow<'static, str>)>;

/// One step of the walk. Steps run in stack order (last pushed first).
pub(super) enum Task {
    /// `save(value)`.
    Save(Value),
    /// `save()` of a global the pickler makes up.
    SynthGlobal(SynthName),
    /// `save()` of an interned str (one memo entry per dump).
    ConstStr(&'static str),
    /// `save()` of a fresh str.
    TempStr(Cow<'static, str>),
    /// `save()` of a global's module name at protocol 4+: a str node of the
    /// document, or a name the pickler makes up.
    GlobalName(GlobalName),
    /// `save()` of a fresh str: a bytes node's data decoded as Latin-1.
    Latin1Str(NodeId),
    /// `save()` of a node's bytes data: as the node itself, or as a fresh
    /// `bytes` (the argument of a synthesized `bytearray(...)`).
    BytesData { id: NodeId, temp: bool },
    /// `save()` of `getattr(cls, '__new__')` (for the `functools.partial` form).
    ClsNew(Value),
    /// Memoize the `getattr(cls, '__new__')` just written for this class.
    MemoClsNew(Option<NodeId>),
    /// A bare opcode.
    Op(Opcode),
    /// `INST module\nname\n` for an object.
    InstText(NodeId),
    /// Memoize a global, by node (if any) and by content.
    MemoGlobal(Option<NodeId>, SynthName),
    /// Memoize a temporary.
    MemoTemp,
    /// Memoize a node just written (a shared persistent id).
    MemoNode(NodeId),
    /// Start of a `save()` written inline as opcodes: a frame may be committed.
    Boundary,
    /// After a tuple's items: `TUPLEn`/`TUPLE`, or the recursive-tuple dance.
    TupleEnd { id: NodeId, mark: bool },
    /// After a frozenset's items.
    FrozenSetEnd(NodeId),
    /// After REDUCE/NEWOBJ/...: the recursion check, memoize, then the ops.
    ReduceEnd(NodeId),
    /// The next batch of items of a list-like node (list, or a set's
    /// temporary list), from `start`.
    ListItems { id: NodeId, start: usize },
    /// The next batch of a dict node's pairs.
    DictItems { id: NodeId, start: usize },
    /// The next batch of a set node's items (protocol 4+).
    SetItems { id: NodeId, start: usize },
    /// The rest of a batch, from slot `pos` to `end` (see [`Slots`]), after
    /// an item that needed tasks of its own.
    BatchRest {
        id: NodeId,
        kind: Batch,
        pos: usize,
        end: usize,
    },
    /// The next group of an object's ops.
    ObjectOps { id: NodeId, start: usize },
    /// A node is done: restore its recursion marker.
    Leave { id: NodeId, prev: u64 },
}

/// The container a batch of items belongs to, which says how the batch is
/// read and closed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Batch {
    /// A list's items (or a set's temporary list's): `APPENDS` or `APPEND`.
    List,
    /// A dict's pairs: `SETITEMS` or `SETITEM`.
    Dict,
    /// A set's items (protocol 4+): always `ADDITEMS`.
    Set,
}

/// The values a batch walks, as one run of slots: a sequence's items, or a
/// dict's pairs flattened (slot `2k` is the key of pair `k`, `2k + 1` its
/// value), so one loop serves both.
#[derive(Clone, Copy)]
pub(super) enum Slots<'d> {
    Items(&'d [Value]),
    Pairs(&'d [(Value, Value)]),
}

impl Slots<'_> {
    /// Slots per item.
    fn per_item(self) -> usize {
        match self {
            Slots::Items(_) => 1,
            Slots::Pairs(_) => 2,
        }
    }

    /// Number of items (pairs for a dict).
    fn items(self) -> usize {
        match self {
            Slots::Items(v) => v.len(),
            Slots::Pairs(p) => p.len(),
        }
    }

    /// The value at slot `s` (`s` below `items() * per_item()`).
    #[inline]
    fn get(self, s: usize) -> Value {
        match self {
            Slots::Items(v) => v[s],
            Slots::Pairs(p) => pair_slot(p, s),
        }
    }
}

/// Slot `s` of flattened pairs: the key of pair `s / 2` or its value.
#[inline]
fn pair_slot(pairs: &[(Value, Value)], s: usize) -> Value {
    let (k, v) = pairs[s / 2];
    if s % 2 == 0 {
        k
    } else {
        v
    }
}

/// A module name written by `STACK_GLOBAL`.
pub(super) enum GlobalName {
    Node(Value),
    Text(Cow<'static, str>),
}

pub(super) struct Engine<'d, 'o> {
    pub(super) doc: &'d Document,
    pub(super) w: InstrWriter,
    pub(super) memo: Memo,
    /// For nodes being written that are memoized only after their children:
    /// the memo size when they were entered (to detect endless recursion).
    /// Indexed by node, allocated (zeroed) at the first node entered; 0
    /// means not being written, else the memo size plus one.
    active: Vec<u64>,
    pub(super) stack: Vec<Task>,
    pub(super) fix_imports: bool,
    buffer_callback: Option<&'o mut (dyn FnMut(&Buffer) -> bool + 'static)>,
    sink: Option<&'o mut dyn Write>,
    /// Memo index of `getattr(cls, '__new__')` by class node, so a class's
    /// `__new__` is written once, as CPython memoizes the function object.
    pub(super) cls_new: std::collections::HashMap<NodeId, u64>,
    /// Memo index of the first module name written for a global, by text,
    /// for the globals the pickler makes up (see `save_global_name`).
    pub(super) global_names: std::collections::HashMap<Vec<u8>, u64>,
    /// By node: true for a persistent id that more than one value refers
    /// to (a pickle's `BINPERSID PUT` fetched again by `GET`). Such an id is
    /// memoized after its opcode, so that Python's `persistent_load` runs
    /// once and the references stay one object, as in the original. CPython
    /// never memoizes persistent ids itself, so ids referred to once are
    /// written as it writes them. Counted at the first persistent id met.
    shared_pids: Option<Vec<bool>>,
}

pub(super) fn dangling() -> Error {
    Error::data("value refers to a node that is not in the document")
}

impl<'d, 'o> Engine<'d, 'o> {
    /// An engine writing `doc` at `protocol`, handing frames to `sink` as
    /// they are committed when there is one (the options' fields, taken
    /// apart so that the engine does not name the API's types).
    pub(super) fn new(
        doc: &'d Document,
        protocol: u8,
        fix_imports: bool,
        buffer_callback: Option<&'o mut (dyn FnMut(&Buffer) -> bool + 'static)>,
        sink: Option<&'o mut dyn Write>,
    ) -> Result<Engine<'d, 'o>> {
        Ok(Engine {
            doc,
            w: InstrWriter::new(protocol)?,
            memo: Memo::new(doc.len()),
            active: Vec::new(),
            stack: Vec::new(),
            fix_imports,
            buffer_callback,
            sink,
            cls_new: std::collections::HashMap::new(),
            global_names: std::collections::HashMap::new(),
            shared_pids: None,
        })
    }

    #[inline]
    pub(super) fn proto(&self) -> u8 {
        self.w.protocol()
    }

    // `#[inline]` here and on `tuple_op`/`tuple_marked`: `objects` calls
    // them too, and may be compiled in another codegen unit.
    #[inline]
    pub(super) fn node(&self, id: NodeId) -> Result<&'d Node> {
        self.doc.nodes().get(id.index()).ok_or_else(dangling)
    }

    /// Push tasks to run in the order given.
    pub(super) fn seq<const N: usize>(&mut self, tasks: [Task; N]) {
        self.stack.extend(tasks.into_iter().rev());
    }

    pub(super) fn run(&mut self) -> Result<()> {
        self.w.proto();
        self.stack.push(Task::Save(self.doc.root_value()));
        while let Some(t) = self.stack.pop() {
            self.exec(t)?;
        }
        self.w.stop();
        Ok(())
    }

    /// The start of a `save()`: `_pickle.c` may commit a frame here.
    #[inline(always)]
    fn begin_save(&mut self) -> Result<()> {
        self.w.boundary();
        if self.sink.is_some() {
            self.flush_to_sink()?;
        }
        Ok(())
    }

    /// When dumping to a writer: hand it the buffered bytes once they are
    /// many and no frame is open.
    fn flush_to_sink(&mut self) -> Result<()> {
        if let Some(sink) = self.sink.as_mut() {
            if self.w.flushable_len() >= FRAME_SIZE_TARGET {
                if let Some(bytes) = self.w.take_flushable() {
                    sink.write_all(&bytes)?;
                }
            }
        }
        Ok(())
    }

    #[inline]
    pub(super) fn memoize_node(&mut self, id: NodeId) -> Result<()> {
        let i = self.memo.add_node(id)?;
        self.w.put(i)
    }

    /// Dict keys and set items must be hashable, or Python could not load
    /// what is written (a document can hold anything; a pickle cannot).
    fn check_hashable(&self, keys: impl Iterator<Item = Value>) -> Result<()> {
        for k in keys {
            // Immediates and str keys, the usual ones, need no walk.
            let plain = match k {
                Value::Ref(id) => matches!(self.doc.nodes().get(id.index()), Some(Node::Str(_))),
                _ => true,
            };
            if plain {
                continue;
            }
            if let Err(t) = self.doc.check_hashable(k) {
                return Err(Error::data(format!(
                    "unhashable type: '{t}' as a dict key or set item cannot be pickled"
                )));
            }
        }
        Ok(())
    }

    fn memoize_temp(&mut self) -> Result<()> {
        let i = self.memo.add_temp()?;
        self.w.put(i)
    }

    /// Mark a node as being written; fails if it was entered before and
    /// nothing was memoized since (the walk would repeat forever).
    pub(super) fn enter(&mut self, id: NodeId) -> Result<()> {
        let cur = self.memo.len() + 1;
        if self.active.is_empty() {
            self.active = vec![0; self.doc.len()];
        }
        let slot = self.active.get_mut(id.index()).ok_or_else(dangling)?;
        let prev = *slot;
        if prev == cur {
            return Err(Error::data(format!(
                "recursive {} cannot be pickled: it contains itself without a list, dict or object in between",
                self.doc.node(id).type_name()
            )));
        }
        *slot = cur;
        self.stack.push(Task::Leave { id, prev });
        Ok(())
    }

    /// The opcode closing a tuple of `n` items: `TUPLEn` or `TUPLE`.
    #[inline]
    pub(super) fn tuple_op(&self, n: usize) -> Opcode {
        match (self.proto() >= 2, n) {
            (true, 1) => Opcode::Tuple1,
            (true, 2) => Opcode::Tuple2,
            (true, 3) => Opcode::Tuple3,
            _ => Opcode::Tuple,
        }
    }

    /// True if a fresh tuple of `n` items is written with a MARK.
    #[inline]
    pub(super) fn tuple_marked(&self, n: usize) -> bool {
        self.proto() < 2 || n > 3
    }

    pub(super) fn exec(&mut self, t: Task) -> Result<()> {
        if matches!(
            t,
            Task::Save(_)
                | Task::SynthGlobal(_)
                | Task::ConstStr(_)
                | Task::TempStr(_)
                | Task::Latin1Str(_)
                | Task::BytesData { .. }
                | Task::ClsNew(_)
                | Task::GlobalName(_)
        ) {
            self.begin_save()?;
        }
        match t {
            Task::Save(v) => self.save(v),
            Task::SynthGlobal(g) => self.save_synth_global(g),
            Task::ConstStr(s) => {
                if let Some(i) = self.memo.konst(s) {
                    self.w.get(i)?;
                } else {
                    self.w.str(s.as_bytes())?;
                    let i = self.memo.add_konst(s)?;
                    self.w.put(i)?;
                }
                Ok(())
            }
            Task::TempStr(s) => {
                self.w.str(s.as_bytes())?;
                self.memoize_temp()?;
                Ok(())
            }
            Task::GlobalName(name) => self.save_global_name(name),
            Task::Latin1Str(id) => {
                let data = self.bytes_data(id)?;
                let mut s = Vec::with_capacity(data.len() * 2);
                for &b in data {
                    crate::codec::text::push_code_point(&mut s, b as u32);
                }
                self.w.str(&s)?;
                self.memoize_temp()?;
                Ok(())
            }
            Task::BytesData { id, temp } => self.save_bytes(id, temp),
            Task::ClsNew(cls) => self.save_cls_new(cls),
            Task::Op(op) => {
                self.w.op(op);
                Ok(())
            }
            Task::InstText(id) => self.inst_text(id),
            Task::MemoGlobal(id, g) => {
                let i = match id {
                    Some(id) => self.memo.add_node(id)?,
                    None => self.memo.add_temp()?,
                };
                self.memo.alias_global(g.0.as_bytes(), g.1.as_bytes(), i);
                self.w.put(i)
            }
            Task::MemoTemp => self.memoize_temp(),
            Task::MemoNode(id) => self.memoize_node(id),
            Task::MemoClsNew(cls) => {
                let i = self.memo.add_temp()?;
                if let Some(cls) = cls {
                    self.cls_new.insert(cls, i);
                }
                self.w.put(i)
            }
            Task::Boundary => self.begin_save(),
            Task::TupleEnd { id, mark } => {
                let n = match self.node(id)? {
                    Node::Tuple(v) => self.doc.items(v).len(),
                    _ => return Err(dangling()),
                };
                if let Some(i) = self.memo.node(id) {
                    if !mark {
                        for _ in 0..n {
                            self.w.op(Opcode::Pop);
                        }
                    } else if self.w.bin() {
                        self.w.op(Opcode::PopMark);
                    } else {
                        for _ in 0..=n {
                            self.w.op(Opcode::Pop);
                        }
                    }
                    self.w.get(i)
                } else {
                    self.w.op(if mark {
                        Opcode::Tuple
                    } else {
                        self.tuple_op(n)
                    });
                    self.memoize_node(id)
                }
            }
            Task::FrozenSetEnd(id) => {
                if let Some(i) = self.memo.node(id) {
                    self.w.op(Opcode::PopMark);
                    self.w.get(i)
                } else {
                    self.w.op(Opcode::FrozenSet);
                    self.memoize_node(id)
                }
            }
            Task::ReduceEnd(id) => {
                if let Some(i) = self.memo.node(id) {
                    self.w.op(Opcode::Pop);
                    return self.w.get(i);
                }
                self.memoize_node(id)?;
                if let Node::Object(o) = self.node(id)? {
                    if !o.ops.is_empty() {
                        self.stack.push(Task::ObjectOps { id, start: 0 });
                    }
                }
                Ok(())
            }
            Task::ListItems { id, start } => self.run_batch(id, Batch::List, start),
            Task::DictItems { id, start } => self.run_batch(id, Batch::Dict, start),
            Task::SetItems { id, start } => self.run_batch(id, Batch::Set, start),
            Task::BatchRest { id, kind, pos, end } => self.batch_rest(id, kind, pos, end),
            Task::ObjectOps { id, start } => self.object_ops(id, start),
            Task::Leave { id, prev } => {
                if let Some(slot) = self.active.get_mut(id.index()) {
                    *slot = prev;
                }
                Ok(())
            }
        }
    }

    /// Remove the `nth` most recently pushed (still pending) `Op(Mark)`
    /// task: used where a sequence is written with a MARK only at some
    /// protocols.
    pub(super) fn drop_pending_mark(&mut self, nth: usize) {
        let mut seen = 0;
        for k in (0..self.stack.len()).rev() {
            if matches!(self.stack[k], Task::Op(Opcode::Mark)) {
                seen += 1;
                if seen == nth {
                    self.stack.remove(k);
                    return;
                }
            }
        }
    }

    /// `save()` of a value that is written at once, without tasks: an
    /// immediate, a memo hit, a str or a big int. Returns false, having
    /// written nothing, for any other value.
    #[inline(always)]
    fn save_leaf(&mut self, v: Value) -> Result<bool> {
        let id = match v {
            Value::None => {
                self.w.none();
                return Ok(true);
            }
            Value::Bool(b) => {
                self.w.bool(b);
                return Ok(true);
            }
            Value::Int(i) => {
                self.w.int(i);
                return Ok(true);
            }
            Value::Float(f) => {
                self.w.float(f);
                return Ok(true);
            }
            Value::Ref(id) => id,
        };
        if let Some(i) = self.memo.node(id) {
            self.w.get(i)?;
            return Ok(true);
        }
        match self.node(id)? {
            Node::Str(s) => {
                self.w.str(self.doc.text(s).as_bytes())?;
                self.memoize_node(id)?;
                Ok(true)
            }
            Node::BigInt(b) => {
                self.w.bigint(b);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn save(&mut self, v: Value) -> Result<()> {
        if self.save_leaf(v)? {
            return Ok(());
        }
        if let Some((id, kind)) = self.save_container(v)? {
            self.stack.push(match kind {
                Batch::List => Task::ListItems { id, start: 0 },
                Batch::Dict => Task::DictItems { id, start: 0 },
                Batch::Set => Task::SetItems { id, start: 0 },
            });
        }
        Ok(())
    }

    /// `save()` of a value [`Engine::save_leaf`] did not write. A list or
    /// dict is opened (its empty form written and memoized) and returned
    /// when it has items, for the caller to write them; anything else is
    /// written or left as tasks.
    #[inline]
    fn save_container(&mut self, v: Value) -> Result<Option<(NodeId, Batch)>> {
        let id = v.node_id().ok_or_else(dangling)?;
        match self.node(id)? {
            Node::List(items) => {
                if self.w.bin() {
                    self.w.op(Opcode::EmptyList);
                } else {
                    self.w.op(Opcode::Mark);
                    self.w.op(Opcode::List);
                }
                self.memoize_node(id)?;
                Ok((!self.doc.items(items).is_empty()).then_some((id, Batch::List)))
            }
            Node::Dict(pairs) => {
                let pairs = self.doc.pairs(pairs);
                self.check_hashable(pairs.iter().map(|&(k, _)| k))?;
                if self.w.bin() {
                    self.w.op(Opcode::EmptyDict);
                } else {
                    self.w.op(Opcode::Mark);
                    self.w.op(Opcode::Dict);
                }
                self.memoize_node(id)?;
                Ok((!pairs.is_empty()).then_some((id, Batch::Dict)))
            }
            _ => {
                self.save_other(id)?;
                Ok(None)
            }
        }
    }

    /// `save()` of a node other than a str, big int, list or dict.
    fn save_other(&mut self, id: NodeId) -> Result<()> {
        let node = self.node(id)?;
        match node {
            // Written by `save_leaf` and `save_container`.
            Node::BigInt(_) | Node::Str(_) | Node::List(_) | Node::Dict(_) => Ok(()),
            Node::Bytes(_) => self.save_bytes(id, false),
            Node::ByteArray(_) => self.save_bytearray(id),
            Node::Buffer(b) => {
                if self.proto() >= 5 {
                    if let Some(cb) = self.buffer_callback.as_mut() {
                        if !cb(b) {
                            self.w.op(Opcode::NextBuffer);
                            if b.readonly {
                                self.w.op(Opcode::ReadonlyBuffer);
                            }
                            return Ok(());
                        }
                    }
                }
                if b.readonly {
                    self.save_bytes(id, false)
                } else {
                    self.save_bytearray(id)
                }
            }
            Node::Tuple(items) => {
                let items = self.doc.items(items);
                if items.is_empty() {
                    self.w.empty_tuple();
                    return Ok(());
                }
                self.enter(id)?;
                let mark = self.tuple_marked(items.len());
                if mark {
                    self.w.op(Opcode::Mark);
                }
                self.stack.push(Task::TupleEnd { id, mark });
                self.stack
                    .extend(items.iter().rev().map(|&v| Task::Save(v)));
                Ok(())
            }
            Node::Set(items) | Node::FrozenSet(items) => {
                let items = self.doc.items(items);
                self.check_hashable(items.iter().copied())?;
                let frozen = matches!(node, Node::FrozenSet(_));
                if self.proto() < 4 {
                    return self.save_set_reduce(id, frozen);
                }
                if frozen {
                    self.enter(id)?;
                    self.w.op(Opcode::Mark);
                    self.stack.push(Task::FrozenSetEnd(id));
                    self.stack
                        .extend(items.iter().rev().map(|&v| Task::Save(v)));
                } else {
                    self.w.op(Opcode::EmptySet);
                    self.memoize_node(id)?;
                    if !items.is_empty() {
                        self.stack.push(Task::SetItems { id, start: 0 });
                    }
                }
                Ok(())
            }
            Node::Global(_) => self.save_global(id),
            Node::Object(_) => self.save_object(id),
            Node::PersistentId(pid) => {
                let pid = *pid;
                let shared = self.pid_shared(id);
                if self.w.bin() {
                    self.enter(id)?;
                    if shared {
                        self.seq([
                            Task::Save(pid),
                            Task::Op(Opcode::BinPersId),
                            Task::MemoNode(id),
                        ]);
                    } else {
                        self.seq([Task::Save(pid), Task::Op(Opcode::BinPersId)]);
                    }
                    Ok(())
                } else {
                    let text = self.pid_text(pid)?;
                    self.w.persid_text(&text)?;
                    if shared {
                        self.memoize_node(id)?;
                    }
                    Ok(())
                }
            }
            Node::Extension(code) => {
                self.w.ext(*code)?;
                Ok(())
            }
        }
    }

    /// Whether the persistent id `id` is referred to more than once (see
    /// `shared_pids`).
    fn pid_shared(&mut self, id: NodeId) -> bool {
        let doc = self.doc;
        let bin = self.w.bin();
        let shared = self.shared_pids.get_or_insert_with(|| {
            // Only references the pickle writes count: those of the root
            // and of the nodes reachable from it. A document may hold nodes
            // nothing refers to (a loaded REDUCE result overwritten in the
            // memo), which a reload drops; counting their references made
            // a dump differ from the dump of its own reload. At protocol 0
            // a persistent id's own id is written as text (`PERSID`), not
            // as the values it refers to.
            let nodes = doc.nodes();
            let mut refs = vec![0u8; nodes.len()];
            let mut seen = vec![false; nodes.len()];
            let mut stack = vec![doc.root_value()];
            while let Some(v) = stack.pop() {
                let Value::Ref(r) = v else { continue };
                let Some(node) = nodes.get(r.index()) else {
                    continue;
                };
                if matches!(node, Node::PersistentId(_)) {
                    refs[r.index()] = refs[r.index()].saturating_add(1);
                }
                if std::mem::replace(&mut seen[r.index()], true) {
                    continue;
                }
                match node {
                    Node::PersistentId(_) if !bin => {}
                    // Only NEWOBJ_EX writes its keyword arguments (a copy
                    // without them: rare, only built documents have them).
                    Node::Object(o) if o.kind != ObjectKind::NewObjEx && o.kwargs.is_some() => {
                        let mut object = (**o).clone();
                        object.kwargs = None;
                        Node::Object(Box::new(object)).for_each_child(doc, |c| stack.push(c));
                    }
                    _ => node.for_each_child(doc, |c| stack.push(c)),
                }
            }
            refs.into_iter().map(|n| n > 1).collect()
        });
        shared.get(id.index()).copied().unwrap_or(false)
    }

    pub(super) fn bytes_data(&self, id: NodeId) -> Result<&'d [u8]> {
        match self.node(id)? {
            Node::Bytes(b) | Node::ByteArray(b) => Ok(b),
            Node::Buffer(b) => Ok(&b.data),
            _ => Err(dangling()),
        }
    }

    fn items_of(&self, id: NodeId) -> Result<&'d [Value]> {
        match self.node(id)? {
            Node::List(v) | Node::Set(v) | Node::FrozenSet(v) | Node::Tuple(v) => {
                Ok(self.doc.items(v))
            }
            _ => Err(dangling()),
        }
    }

    /// The batch of a list, dict or set from item `start`, and the
    /// batches after it.
    fn run_batch(&mut self, id: NodeId, kind: Batch, start: usize) -> Result<()> {
        match self.begin_batch(id, kind, start)? {
            Some((pos, end)) => self.batch_rest(id, kind, pos, end),
            None => Ok(()),
        }
    }

    /// Start the batch of a list, dict or set at item `start`: push the
    /// task of the next batch, if any, and write `MARK` when the items are
    /// batched. Returns the batch's slots (see [`Slots`]), `None` if there
    /// is no batch.
    fn begin_batch(
        &mut self,
        id: NodeId,
        kind: Batch,
        start: usize,
    ) -> Result<Option<(usize, usize)>> {
        let slots = self.slots(id, kind)?;
        let n = slots.items();
        let end = n.min(start + BATCH);
        let next = match kind {
            // `batch_list_exact` (protocol 1+) or one `APPEND` per item
            // (protocol 0).
            Batch::List => {
                if start >= n {
                    return Ok(None);
                }
                (end < n).then_some(Task::ListItems { id, start: end })
            }
            // `batch_dict_exact` (protocol 1+) or one `SETITEM` per pair
            // (protocol 0). CPython goes on while a batch was full, so at
            // protocol 1+ a multiple of 1000 pairs (above one) ends with an
            // empty MARK SETITEMS.
            Batch::Dict => {
                let more = if !self.w.bin() {
                    end < n
                } else {
                    n > 1 && end - start == BATCH
                };
                more.then_some(Task::DictItems { id, start: end })
            }
            // `save_set`'s batches (protocol 4+): always `MARK ... ADDITEMS`,
            // and an empty batch after a multiple of 1000 items, as CPython.
            Batch::Set => (end - start == BATCH).then_some(Task::SetItems { id, start: end }),
        };
        if let Some(t) = next {
            self.stack.push(t);
        }
        if self.per_item_op(kind, n).is_none() {
            self.w.op(Opcode::Mark);
        }
        let per = slots.per_item();
        Ok(Some((start * per, end * per)))
    }

    fn slots(&self, id: NodeId, kind: Batch) -> Result<Slots<'d>> {
        match kind {
            Batch::List | Batch::Set => Ok(Slots::Items(self.items_of(id)?)),
            Batch::Dict => match self.node(id)? {
                Node::Dict(p) => Ok(Slots::Pairs(self.doc.pairs(p))),
                _ => Err(dangling()),
            },
        }
    }

    /// The opcode written after each item, when items are not batched:
    /// always at protocol 0, and for a list or dict of one item.
    fn per_item_op(&self, kind: Batch, items: usize) -> Option<Opcode> {
        match kind {
            Batch::List if !self.w.bin() || items == 1 => Some(Opcode::Append),
            Batch::Dict if !self.w.bin() || items == 1 => Some(Opcode::SetItem),
            _ => None,
        }
    }

    /// Slots `pos..end` of a batch, then its closing opcode: the hot path
    /// of big containers. Items written at once (see [`Engine::save_leaf`])
    /// are written in a tight loop. At the first other item the rest of the
    /// batch becomes a task, to run after that item's own; a list or dict
    /// item's first batch is then written here at once, as is the rest of
    /// a batch whose turn comes back, without a round trip through
    /// [`Engine::exec`] (records, nested containers).
    #[inline(never)]
    fn batch_rest(
        &mut self,
        mut id: NodeId,
        mut kind: Batch,
        mut pos: usize,
        mut end: usize,
    ) -> Result<()> {
        loop {
            let slots = self.slots(id, kind)?;
            let per = slots.per_item();
            let each = self.per_item_op(kind, slots.items());
            // The op closing an item after slot `s`, when items are not batched.
            let close = |s: usize| each.filter(|_| s % per == per - 1);
            // Monomorphic loops for the batched cases, so nothing is decided per item.
            let stopped = match (slots, each) {
                (Slots::Items(v), None) => self.save_leaves(pos, end, |s| v[s], |_| None)?,
                (Slots::Pairs(p), None) => {
                    self.save_leaves(pos, end, |s| pair_slot(p, s), |_| None)?
                }
                _ => self.save_leaves(pos, end, |s| slots.get(s), close)?,
            };
            match stopped {
                None => {
                    if each.is_none() {
                        self.w.op(match kind {
                            Batch::List => Opcode::Appends,
                            Batch::Dict => Opcode::SetItems,
                            Batch::Set => Opcode::AddItems,
                        });
                    }
                }
                Some(s) => {
                    self.stack.push(Task::BatchRest {
                        id,
                        kind,
                        pos: s + 1,
                        end,
                    });
                    if let Some(op) = close(s) {
                        self.stack.push(Task::Op(op));
                    }
                    if let Some((child, child_kind)) = self.save_container(slots.get(s))? {
                        if let Some(range) = self.begin_batch(child, child_kind, 0)? {
                            (id, kind, (pos, end)) = (child, child_kind, range);
                            continue;
                        }
                    }
                }
            }
            // Go on with the batch on top of the stack, if it is its turn.
            match self.stack.pop() {
                Some(Task::BatchRest {
                    id: i,
                    kind: k,
                    pos: p,
                    end: e,
                }) => (id, kind, pos, end) = (i, k, p, e),
                Some(t) => {
                    self.stack.push(t);
                    return Ok(());
                }
                None => return Ok(()),
            }
        }
    }

    /// `save()` of slots `pos..end` (read by `get`, each followed by the
    /// opcode `close` gives) while they are written at once; the first slot
    /// that is not is returned, its `save()` begun but nothing written.
    #[inline(always)]
    fn save_leaves(
        &mut self,
        pos: usize,
        end: usize,
        get: impl Fn(usize) -> Value,
        close: impl Fn(usize) -> Option<Opcode>,
    ) -> Result<Option<usize>> {
        for s in pos..end {
            self.begin_save()?;
            if !self.save_leaf(get(s))? {
                return Ok(Some(s));
            }
            if let Some(op) = close(s) {
                self.w.op(op);
            }
        }
        Ok(None)
    }

    /// `str(pid)` for `PERSID` at protocol 0.
    fn pid_text(&self, pid: Value) -> Result<String> {
        let r = self.doc.get(pid);
        Ok(match pid {
            Value::None => "None".into(),
            Value::Bool(b) => if b { "True" } else { "False" }.into(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => repr_float(f),
            Value::Ref(id) => match self.node(id)? {
                Node::Str(s) => self.doc.text(s).to_string_lossy().into_owned(),
                Node::BigInt(b) => b.to_string(),
                _ => {
                    let s = r.to_string();
                    if s.starts_with('<') {
                        return Err(Error::unsupported(format!(
                            "cannot write a {} persistent id at protocol 0",
                            r.type_name()
                        )));
                    }
                    s
                }
            },
        })
    }
}
