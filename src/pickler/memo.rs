//! The writer's memo: which objects were already written, and at which index.
//!
//! CPython keys its memo by object identity. Here a node's identity is its
//! [`NodeId`]; globals are also keyed by content (`module`, `qualname`),
//! since a Python class is one object however many nodes name it; and the
//! objects the pickler makes up itself (`_codecs.encode`, the interned
//! `'latin1'`, ...) are keyed by name, as they are singletons in CPython.
//! Temporaries (the args tuple of a synthesized REDUCE, ...) take an index
//! without a key, as they do in `_pickle.c`'s memo.

use std::collections::HashMap;

use crate::value::NodeId;

/// The memo's size limit: indices stay below it.
const NONE: u32 = u32::MAX;

/// A global's (module, qualname), as bytes.
type GlobalKey = (Box<[u8]>, Box<[u8]>);

/// Memo of one dump.
#[derive(Debug, Default)]
pub(crate) struct Memo {
    /// By node: its memo index plus one, or 0 if not written. Zero meaning
    /// "absent" lets the table be allocated zeroed, which costs nothing
    /// for large documents (fresh pages are zero) where filling it with a
    /// marker would write every entry.
    nodes: Vec<u32>,
    globals: HashMap<GlobalKey, u32>,
    consts: HashMap<&'static str, u32>,
    len: u64,
}

impl Memo {
    pub(crate) fn new(nodes: usize) -> Memo {
        Memo {
            nodes: vec![0; nodes],
            ..Memo::default()
        }
    }

    /// Number of entries (the next index).
    #[inline]
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// The index of a node, if written.
    #[inline]
    pub(crate) fn node(&self, id: NodeId) -> Option<u64> {
        match self.nodes.get(id.index()) {
            Some(&i) if i != 0 => Some(i as u64 - 1),
            _ => None,
        }
    }

    /// The index of a global by content.
    pub(crate) fn global(&self, module: &[u8], name: &[u8]) -> Option<u64> {
        self.globals
            .get(&(Box::from(module), Box::from(name)))
            .map(|&i| i as u64)
    }

    /// The index of a pickler-made singleton.
    pub(crate) fn konst(&self, key: &'static str) -> Option<u64> {
        self.consts.get(key).map(|&i| i as u64)
    }

    /// Take the next index.
    fn next(&mut self) -> crate::Result<u32> {
        let i = self.len;
        if i >= NONE as u64 {
            return Err(crate::Error::limit("memo larger than 2^32 - 1 entries"));
        }
        self.len += 1;
        Ok(i as u32)
    }

    /// Record a node; returns its index.
    pub(crate) fn add_node(&mut self, id: NodeId) -> crate::Result<u64> {
        let i = self.next()?;
        if let Some(slot) = self.nodes.get_mut(id.index()) {
            *slot = i + 1;
        }
        Ok(i as u64)
    }

    /// Point a node at an existing index (a global found by content).
    pub(crate) fn alias_node(&mut self, id: NodeId, idx: u64) {
        if let Some(slot) = self.nodes.get_mut(id.index()) {
            *slot = idx as u32 + 1;
        }
    }

    /// Point a global's content at an existing index.
    pub(crate) fn alias_global(&mut self, module: &[u8], name: &[u8], idx: u64) {
        self.globals
            .insert((Box::from(module), Box::from(name)), idx as u32);
    }

    /// Record a pickler-made singleton.
    pub(crate) fn add_konst(&mut self, key: &'static str) -> crate::Result<u64> {
        let i = self.next()?;
        self.consts.insert(key, i);
        Ok(i as u64)
    }

    /// Record a temporary nothing refers to again.
    pub(crate) fn add_temp(&mut self) -> crate::Result<u64> {
        Ok(self.next()? as u64)
    }
}
