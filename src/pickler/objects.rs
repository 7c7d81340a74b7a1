//! Globals, objects and the reductions the pickler makes up: `GLOBAL` and
//! `STACK_GLOBAL` (with Python 2 names and dotted qualnames), `REDUCE`,
//! `NEWOBJ`, `NEWOBJ_EX`, `INST`, `OBJ` and an object's ops, and the
//! `__reduce__` forms CPython writes for what a protocol lacks (`bytes` below
//! 3, `bytearray` below 5, `set`/`frozenset` below 4, `NEWOBJ` below 2,
//! `NEWOBJ_EX` below 4). These are methods of [`Engine`], run from its tasks.

use std::borrow::Cow;

use crate::codec::opcodes::Opcode;
use crate::codec::write::BATCH;
use crate::error::{Error, Result};
use crate::value::{Node, NodeId, ObjectKind, ObjectOp, Value};

use super::engine::{dangling, Engine, GlobalName, SynthName, Task};

fn synth(module: impl Into<Cow<'static, str>>, name: impl Into<Cow<'static, str>>) -> SynthName {
    Box::new((module.into(), name.into()))
}

impl<'d> Engine<'d, '_> {
    /// `getattr(cls, '__new__')`, written once per class (for the
    /// `functools.partial` form of `NEWOBJ_EX`).
    pub(super) fn save_cls_new(&mut self, cls: Value) -> Result<()> {
        if let Some(&i) = cls.node_id().and_then(|id| self.cls_new.get(&id)) {
            self.w.get(i)?;
            return Ok(());
        }
        let tuple_marked = self.tuple_marked(2);
        self.seq([
            Task::SynthGlobal(synth("builtins", "getattr")),
            Task::Boundary,
            Task::Op(Opcode::Mark),
            Task::Save(cls),
            Task::ConstStr("__new__"),
            Task::Op(self.tuple_op(2)),
            Task::MemoTemp,
            Task::Op(Opcode::Reduce),
            Task::MemoClsNew(cls.node_id()),
        ]);
        if !tuple_marked {
            self.drop_pending_mark(1);
        }
        Ok(())
    }

    /// `save_bytes` (or `_save_bytes_data`): the node's data as `bytes`,
    /// memoized as the node, or as a temporary.
    pub(super) fn save_bytes(&mut self, id: NodeId, temp: bool) -> Result<()> {
        let data = self.bytes_data(id)?;
        let memo = if temp {
            Task::MemoTemp
        } else {
            Task::ReduceEnd(id)
        };
        if self.proto() >= 3 {
            self.w.bytes(data)?;
            self.stack.push(memo);
            return Ok(());
        }
        if data.is_empty() {
            self.seq([
                Task::SynthGlobal(synth("builtins", "bytes")),
                Task::Boundary,
                Task::Op(Opcode::EmptyTuple),
                Task::Op(Opcode::Reduce),
                memo,
            ]);
            if !self.w.bin() {
                self.fix_empty_tuple_p0();
            }
            return Ok(());
        }
        let bin2 = self.proto() >= 2;
        self.seq([
            Task::SynthGlobal(synth("_codecs", "encode")),
            Task::Boundary,
            Task::Op(Opcode::Mark),
            Task::Latin1Str(id),
            Task::ConstStr("latin1"),
            Task::Op(self.tuple_op(2)),
            Task::MemoTemp,
            Task::Op(Opcode::Reduce),
            memo,
        ]);
        if bin2 {
            self.drop_pending_mark(1);
        }
        Ok(())
    }

    /// At protocol 0 an empty tuple is `MARK TUPLE`: rewrite the most
    /// recently pushed pending `Op(EmptyTuple)`.
    fn fix_empty_tuple_p0(&mut self) {
        for k in (0..self.stack.len()).rev() {
            if matches!(self.stack[k], Task::Op(Opcode::EmptyTuple)) {
                self.stack[k] = Task::Op(Opcode::Tuple);
                self.stack.insert(k + 1, Task::Op(Opcode::Mark));
                return;
            }
        }
    }

    /// `save_bytearray`.
    pub(super) fn save_bytearray(&mut self, id: NodeId) -> Result<()> {
        let data = self.bytes_data(id)?;
        if self.proto() >= 5 {
            self.w.bytearray8(data)?;
            self.memoize_node(id)?;
            return Ok(());
        }
        if data.is_empty() {
            self.seq([
                Task::SynthGlobal(synth("builtins", "bytearray")),
                Task::Boundary,
                Task::Op(Opcode::EmptyTuple),
                Task::Op(Opcode::Reduce),
                Task::ReduceEnd(id),
            ]);
            if !self.w.bin() {
                self.fix_empty_tuple_p0();
            }
            return Ok(());
        }
        self.seq([
            Task::SynthGlobal(synth("builtins", "bytearray")),
            Task::Boundary,
            Task::Op(Opcode::Mark),
            Task::BytesData { id, temp: true },
            Task::Op(self.tuple_op(1)),
            Task::MemoTemp,
            Task::Op(Opcode::Reduce),
            Task::ReduceEnd(id),
        ]);
        if !self.tuple_marked(1) {
            self.drop_pending_mark(1);
        }
        Ok(())
    }

    /// `set`/`frozenset` below protocol 4: `builtins.set([items])`.
    pub(super) fn save_set_reduce(&mut self, id: NodeId, frozen: bool) -> Result<()> {
        self.enter(id)?;
        let name = if frozen { "frozenset" } else { "set" };
        let marked = self.tuple_marked(1);
        let mut tasks = vec![Task::SynthGlobal(synth("builtins", name)), Task::Boundary];
        if marked {
            tasks.push(Task::Op(Opcode::Mark));
        }
        tasks.push(Task::Boundary);
        if self.w.bin() {
            tasks.push(Task::Op(Opcode::EmptyList));
        } else {
            tasks.push(Task::Op(Opcode::Mark));
            tasks.push(Task::Op(Opcode::List));
        }
        tasks.push(Task::MemoTemp);
        tasks.push(Task::ListItems { id, start: 0 });
        tasks.push(Task::Op(self.tuple_op(1)));
        tasks.push(Task::MemoTemp);
        tasks.push(Task::Op(Opcode::Reduce));
        tasks.push(Task::ReduceEnd(id));
        self.stack.extend(tasks.into_iter().rev());
        Ok(())
    }

    /// Module and qualname of a global node, as the bytes of its str nodes.
    fn global_names(&self, id: NodeId) -> Result<(&'d [u8], &'d [u8])> {
        let g = match self.node(id)? {
            Node::Global(g) => g,
            _ => return Err(Error::data("expected a global")),
        };
        let text = |v: Value| match self.doc.node_of(v) {
            Some(Node::Str(s)) => Ok(self.doc.text(s).as_bytes()),
            _ => Err(Error::data("a global's module and name must be str")),
        };
        Ok((text(g.module)?, text(g.name)?))
    }

    /// The names a global is written with, its memo key: below protocol 3
    /// (with `fix_imports`) they go through the Python 2 mapping, which is
    /// not one-to-one, so two globals written alike are one object, as
    /// CPython's loader makes them (memoized apart, the first dump wrote
    /// both and the dump of its reload one).
    fn written_names<'n>(&self, m: &'n str, n: &'n str) -> (&'n str, &'n str) {
        if self.proto() < 3 && self.fix_imports {
            crate::python::compat::to_python2(m, n)
        } else {
            (m, n)
        }
    }

    /// [`Engine::written_names`] of names given as bytes (left as they are
    /// when not UTF-8: such a global is refused when written).
    fn written_key<'n>(&self, m: &'n [u8], n: &'n [u8]) -> (&'n [u8], &'n [u8]) {
        match (std::str::from_utf8(m), std::str::from_utf8(n)) {
            (Ok(ms), Ok(ns)) => {
                let (wm, wn) = self.written_names(ms, ns);
                (wm.as_bytes(), wn.as_bytes())
            }
            _ => (m, n),
        }
    }

    pub(super) fn save_global(&mut self, id: NodeId) -> Result<()> {
        let (m, n) = self.global_names(id)?;
        let (km, kn) = self.written_key(m, n);
        if let Some(i) = self.memo.global(km, kn) {
            self.memo.alias_node(id, i);
            self.w.get(i)?;
            return Ok(());
        }
        if self.proto() >= 4 {
            let (module, name) = match self.node(id)? {
                Node::Global(g) => (g.module, g.name),
                _ => return Err(dangling()),
            };
            let key = synth(
                String::from_utf8_lossy(m).into_owned(),
                String::from_utf8_lossy(n).into_owned(),
            );
            self.seq([
                Task::GlobalName(GlobalName::Node(module)),
                Task::Save(name),
                Task::Op(Opcode::StackGlobal),
                Task::MemoGlobal(Some(id), key),
            ]);
            return Ok(());
        }
        let to_str = |b: &'d [u8]| {
            std::str::from_utf8(b).map_err(|_| Error::data("a global's name holds lone surrogates"))
        };
        let (m, n) = (to_str(m)?, to_str(n)?);
        self.global_below_4(Some(id), m, n)
    }

    /// A global at protocol 0–3: `GLOBAL`, or `getattr(parent, last)` for a
    /// dotted qualname.
    fn global_below_4(&mut self, id: Option<NodeId>, m: &str, n: &str) -> Result<()> {
        let (km, kn) = self.written_names(m, n);
        let key = synth(km.to_owned(), kn.to_owned());
        if let Some((parent, last)) = n.rsplit_once('.') {
            self.seq([
                Task::SynthGlobal(synth("builtins", "getattr")),
                Task::Boundary,
                Task::Op(Opcode::Mark),
                Task::SynthGlobal(synth(m.to_owned(), parent.to_owned())),
                Task::TempStr(Cow::Owned(last.to_owned())),
                Task::Op(self.tuple_op(2)),
                Task::MemoTemp,
                Task::Op(Opcode::Reduce),
                Task::MemoGlobal(id, key),
            ]);
            if !self.tuple_marked(2) {
                self.drop_pending_mark(1);
            }
            return Ok(());
        }
        let (wm, wn) = self.written_names(m, n);
        self.w.global_text(Opcode::Global, wm, wn)?;
        self.exec(Task::MemoGlobal(id, key))?;
        Ok(())
    }

    pub(super) fn save_synth_global(&mut self, g: SynthName) -> Result<()> {
        let (km, kn) = self.written_key(g.0.as_bytes(), g.1.as_bytes());
        if let Some(i) = self.memo.global(km, kn) {
            self.w.get(i)?;
            return Ok(());
        }
        if self.proto() >= 4 {
            let module = Task::GlobalName(GlobalName::Text(g.0.clone()));
            let name = Task::TempStr(g.1.clone());
            self.seq([
                module,
                name,
                Task::Op(Opcode::StackGlobal),
                Task::MemoGlobal(None, g),
            ]);
            return Ok(());
        }
        let (m, n) = (g.0.clone(), g.1.clone());
        self.global_below_4(None, &m, &n)
    }

    /// A global's module name at protocol 4+. A str node of the document is
    /// written like any str (by identity: CPython's module strs are not all
    /// one object, `len.__module__` is not `int.__module__`); a name the
    /// pickler makes up reuses the memo entry of the same text written for an
    /// earlier global, so a re-encoded `bytearray` shares the `'builtins'` of
    /// the global before it as CPython's did.
    pub(super) fn save_global_name(&mut self, name: GlobalName) -> Result<()> {
        match name {
            GlobalName::Node(v) => {
                let id = v.node_id().ok_or_else(dangling)?;
                if let Some(i) = self.memo.node(id) {
                    return self.w.get(i);
                }
                let text = match self.node(id)? {
                    Node::Str(s) => self.doc.text(s).as_bytes(),
                    _ => return Err(Error::data("a global's module and name must be str")),
                };
                self.w.str(text)?;
                let i = self.memo.add_node(id)?;
                self.global_names.entry(text.to_vec()).or_insert(i);
                self.w.put(i)
            }
            GlobalName::Text(t) => {
                if let Some(&i) = self.global_names.get(t.as_bytes()) {
                    return self.w.get(i);
                }
                self.w.str(t.as_bytes())?;
                let i = self.memo.add_temp()?;
                self.global_names.insert(t.as_bytes().to_vec(), i);
                self.w.put(i)
            }
        }
    }

    pub(super) fn inst_text(&mut self, id: NodeId) -> Result<()> {
        let callable = match self.node(id)? {
            Node::Object(o) => o.callable,
            _ => return Err(dangling()),
        };
        let cid = callable
            .node_id()
            .ok_or_else(|| Error::data("INST needs a global as its class"))?;
        let (m, n) = self.global_names(cid)?;
        let to_str = |b: &'d [u8]| {
            std::str::from_utf8(b).map_err(|_| Error::data("a global's name holds lone surrogates"))
        };
        let (m, n) = (to_str(m)?, to_str(n)?);
        let (wm, wn) = if self.proto() < 3 && self.fix_imports {
            crate::python::compat::to_python2(m, n)
        } else {
            (m, n)
        };
        self.w.global_text(Opcode::Inst, wm, wn)
    }

    fn tuple_items(&self, v: Value, what: &str) -> Result<&'d [Value]> {
        match self.doc.node_of(v) {
            Some(Node::Tuple(t)) => Ok(self.doc.items(t)),
            _ => Err(Error::data(format!("{what} must be a tuple"))),
        }
    }

    pub(super) fn save_object(&mut self, id: NodeId) -> Result<()> {
        let o = match self.node(id)? {
            Node::Object(o) => o,
            _ => return Err(dangling()),
        };
        self.enter(id)?;
        let p = self.proto();
        match o.kind {
            ObjectKind::Reduce => self.seq([
                Task::Save(o.callable),
                Task::Save(o.args),
                Task::Op(Opcode::Reduce),
                Task::ReduceEnd(id),
            ]),
            ObjectKind::NewObj if p >= 2 => self.seq([
                Task::Save(o.callable),
                Task::Save(o.args),
                Task::Op(Opcode::NewObj),
                Task::ReduceEnd(id),
            ]),
            ObjectKind::NewObj => {
                // copyreg.__newobj__(cls, *args)
                let args = self.tuple_items(o.args, "NEWOBJ arguments")?;
                self.seq([Task::Op(Opcode::Reduce), Task::ReduceEnd(id)]);
                self.seq([Task::Op(Opcode::Tuple), Task::MemoTemp]);
                self.stack.extend(args.iter().rev().map(|&v| Task::Save(v)));
                self.seq([
                    Task::SynthGlobal(synth("copyreg", "__newobj__")),
                    Task::Boundary,
                    Task::Op(Opcode::Mark),
                    Task::Save(o.callable),
                ]);
            }
            ObjectKind::NewObjEx if (2..4).contains(&p) => {
                let kwargs_empty = match o.kwargs {
                    None => true,
                    Some(k) => match self.doc.node_of(k) {
                        Some(Node::Dict(d)) => self.doc.pairs(d).is_empty(),
                        _ => return Err(Error::data("NEWOBJ_EX keyword arguments must be a dict")),
                    },
                };
                self.newobj_ex_partial(id, o.callable, o.args, o.kwargs, kwargs_empty)?;
            }
            ObjectKind::NewObjEx => {
                // Protocol 4+: cls args kwargs NEWOBJ_EX; below 2:
                // copyreg.__newobj_ex__(cls, args, kwargs).
                if p >= 4 {
                    self.seq([Task::Op(Opcode::NewObjEx), Task::ReduceEnd(id)]);
                } else {
                    self.seq([
                        Task::Op(Opcode::Tuple),
                        Task::MemoTemp,
                        Task::Op(Opcode::Reduce),
                        Task::ReduceEnd(id),
                    ]);
                }
                match o.kwargs {
                    Some(k) => self.stack.push(Task::Save(k)),
                    None => self.push_empty_dict_temp(),
                }
                self.seq([Task::Save(o.callable), Task::Save(o.args)]);
                if p < 2 {
                    self.seq([
                        Task::SynthGlobal(synth("copyreg", "__newobj_ex__")),
                        Task::Boundary,
                        Task::Op(Opcode::Mark),
                    ]);
                }
            }
            ObjectKind::Inst => {
                let args = self.tuple_items(o.args, "INST arguments")?;
                self.w.op(Opcode::Mark);
                self.seq([Task::InstText(id), Task::ReduceEnd(id)]);
                self.stack.extend(args.iter().rev().map(|&v| Task::Save(v)));
            }
            ObjectKind::Obj => {
                let args = self.tuple_items(o.args, "OBJ arguments")?;
                self.w.op(Opcode::Mark);
                self.seq([Task::Op(Opcode::Obj), Task::ReduceEnd(id)]);
                self.stack.extend(args.iter().rev().map(|&v| Task::Save(v)));
                self.stack.push(Task::Save(o.callable));
            }
        }
        Ok(())
    }

    /// Push the tasks writing a fresh `{}`.
    fn push_empty_dict_temp(&mut self) {
        if self.w.bin() {
            self.seq([Task::Boundary, Task::Op(Opcode::EmptyDict), Task::MemoTemp]);
        } else {
            self.seq([
                Task::Boundary,
                Task::Op(Opcode::Mark),
                Task::Op(Opcode::Dict),
                Task::MemoTemp,
            ]);
        }
    }

    /// `NEWOBJ_EX` at protocol 2–3, as `_pickle.c`'s `save_reduce`:
    /// `functools.partial(cls.__new__, cls, *args, **kwargs)()`, with
    /// `cls.__new__` written as `getattr(cls, '__new__')`, which finds the
    /// class's own `__new__` or the inherited one alike.
    fn newobj_ex_partial(
        &mut self,
        id: NodeId,
        cls: Value,
        args: Value,
        kwargs: Option<Value>,
        kwargs_empty: bool,
    ) -> Result<()> {
        let items = self.tuple_items(args, "NEWOBJ_EX arguments")?;
        // Groups are pushed last first; each `Boundary` starts a save().
        self.seq([
            Task::Boundary,
            Task::Op(Opcode::EmptyTuple),
            Task::Op(Opcode::Reduce),
            Task::ReduceEnd(id),
        ]);
        // The partial's state: (func, (cls, *args), kwargs or None, None), BUILD.
        self.seq([
            Task::Boundary,
            Task::Op(Opcode::None),
            Task::Op(Opcode::Tuple),
            Task::MemoTemp,
            Task::Op(Opcode::Build),
        ]);
        match kwargs {
            Some(k) if !kwargs_empty => {
                // The partial holds a copy of the dict: a fresh dict, same pairs.
                self.seq([
                    Task::Boundary,
                    Task::Op(Opcode::EmptyDict),
                    Task::MemoTemp,
                    Task::DictItems {
                        id: k.node_id().ok_or_else(dangling)?,
                        start: 0,
                    },
                ]);
            }
            _ => self.seq([Task::Boundary, Task::Op(Opcode::None)]),
        }
        let n = items.len() + 1;
        let marked = self.tuple_marked(n);
        self.seq([Task::Op(self.tuple_op(n)), Task::MemoTemp]);
        self.stack
            .extend(items.iter().rev().map(|&v| Task::Save(v)));
        self.stack.push(Task::Save(cls));
        if marked {
            self.stack.push(Task::Op(Opcode::Mark));
        }
        self.seq([
            Task::Boundary,
            Task::SynthGlobal(synth("functools", "partial")),
            Task::Boundary,
            Task::ClsNew(cls),
            Task::Op(Opcode::Tuple1),
            Task::MemoTemp,
            Task::Op(Opcode::Reduce),
            Task::MemoTemp,
            Task::Boundary,
            Task::Op(Opcode::Mark),
            Task::ClsNew(cls),
            Task::Boundary,
        ]);
        Ok(())
    }

    /// One group of an object's ops: up to 1000 consecutive appends,
    /// setitems or adds (as the generic `batch_list`/`batch_dict`), or one
    /// BUILD.
    pub(super) fn object_ops(&mut self, id: NodeId, start: usize) -> Result<()> {
        let ops = match self.node(id)? {
            Node::Object(o) => &o.ops,
            _ => return Err(dangling()),
        };
        let Some(first) = ops.get(start) else {
            return Ok(());
        };
        let same = |op: &ObjectOp| std::mem::discriminant(op) == std::mem::discriminant(first);
        let mut end = start + 1;
        if !matches!(first, ObjectOp::Build(_)) {
            while end < ops.len() && end - start < BATCH && same(&ops[end]) {
                end += 1;
            }
        }
        self.stack.push(Task::ObjectOps { id, start: end });
        let group = &ops[start..end];
        let bin = self.w.bin();
        match first {
            ObjectOp::Build(state) => {
                self.seq([Task::Save(*state), Task::Op(Opcode::Build)]);
            }
            ObjectOp::Append(_) => {
                if bin && group.len() > 1 {
                    self.w.op(Opcode::Mark);
                    self.stack.push(Task::Op(Opcode::Appends));
                }
                for op in group.iter().rev() {
                    if let ObjectOp::Append(v) = op {
                        if !bin || group.len() == 1 {
                            self.stack.push(Task::Op(Opcode::Append));
                        }
                        self.stack.push(Task::Save(*v));
                    }
                }
            }
            ObjectOp::SetItem(..) => {
                if bin && group.len() > 1 {
                    self.w.op(Opcode::Mark);
                    self.stack.push(Task::Op(Opcode::SetItems));
                }
                for op in group.iter().rev() {
                    if let ObjectOp::SetItem(k, v) = op {
                        if !bin || group.len() == 1 {
                            self.stack.push(Task::Op(Opcode::SetItem));
                        }
                        self.stack.push(Task::Save(*v));
                        self.stack.push(Task::Save(*k));
                    }
                }
            }
            ObjectOp::Add(_) => {
                if self.proto() < 4 {
                    return Err(Error::unsupported(
                        "items added to an object (ADDITEMS) need protocol 4 or higher",
                    ));
                }
                self.w.op(Opcode::Mark);
                self.stack.push(Task::Op(Opcode::AddItems));
                for op in group.iter().rev() {
                    if let ObjectOp::Add(v) = op {
                        self.stack.push(Task::Save(*v));
                    }
                }
            }
        }
        Ok(())
    }
}
