//! The direct walk: a serde `Serializer` that writes pickle instructions
//! while the value is being walked, without building a [`Document`] first.
//!
//! It writes exactly what [`crate::pickler`] writes for the document
//! [`super::to_document`] builds, which is a tree whose only shared nodes are
//! the interned names (struct field and variant names). So:
//!
//! * every str, bytes, list, dict and non-empty tuple takes the next memo
//!   index (lists and dicts before their items, tuples after), and a name
//!   is a memo `GET` from its second use on;
//! * a frame may be committed at the start of every value, as the pickler's
//!   `begin_save` does before each `save()` (including the dict keys and the
//!   parts of the `_codecs.encode(...)` form of bytes below protocol 3);
//! * lists and dicts are batched as `batch_list_exact`/`batch_dict_exact`.
//!   These pick `item APPEND` over `MARK item APPENDS` from the item count,
//!   which a streaming walk must know up front: it takes serde's length
//!   hint and gives up (see below) when the hint was wrong in a way that
//!   changes the bytes.
//!
//! Giving up is an error; the caller then serializes through the document,
//! which writes the same bytes or reports the same error the document path
//! always did. The walk gives up on the `PyObject`/`PySet`/`PyFrozenSet`/
//! `PyByteArray` wrappers, on a dict key that is (or holds) a list or dict
//! (unhashable: the pickler refuses it with its own message), on map
//! entries out of order, on a length hint that does not match, and on any
//! error at all.
//!
//! [`Document`]: crate::value::Document

use std::collections::HashMap;

use num_bigint::BigInt;
use serde::ser::{self, Serialize};

use crate::codec::opcodes::Opcode;
use crate::codec::write::InstrWriter;
use crate::error::GiveUp;

/// Every error of the direct walk is a give-up: the document path then
/// serializes the value and reports what is wrong.
type Result<T, E = GiveUp> = std::result::Result<T, E>;
use crate::python::types::{
    BYTEARRAY_TOKEN, DOCUMENT_TOKEN, FROZENSET_TOKEN, PYNEW_TOKEN, PYOBJECT_TOKEN, SET_TOKEN,
};

use crate::codec::write::BATCH;

/// Write `value` at `protocol`; an error means "serialize through the
/// document instead" (see the module documentation).
pub(crate) fn to_vec<T: Serialize + ?Sized>(
    value: &T,
    protocol: u8,
    fix_imports: bool,
) -> Result<Vec<u8>> {
    let mut d = Direct {
        w: InstrWriter::new(protocol)?,
        memo_len: 0,
        names: Names::new(),
        latin1: None,
        codecs_encode: None,
        builtins_bytes: None,
        fix_imports,
        in_key: 0,
    };
    d.w.proto();
    value.serialize(&mut d)?;
    d.w.stop();
    Ok(d.w.into_bytes())
}

/// What makes the caller start over through the document; `why` says what
/// the walk does not write, for the reader of the code.
fn give_up(_why: &'static str) -> GiveUp {
    GiveUp
}

/// Memo indices of the interned names written so far, by text. Names are
/// `&'static str`s (field and variant names), and one name nearly always
/// comes from one literal, so a small cache keyed by the literal's address
/// answers most lookups (four per record of a four-field struct) without
/// hashing the text. Equal addresses and lengths mean equal texts.
struct Names {
    by_text: HashMap<&'static str, u64>,
    /// `(address, length, memo index)`; address 0 (never a str's) is empty.
    cache: [(usize, usize, u64); NAME_CACHE],
}

const NAME_CACHE: usize = 64;

impl Names {
    fn new() -> Names {
        Names {
            by_text: HashMap::new(),
            cache: [(0, 0, 0); NAME_CACHE],
        }
    }

    #[inline]
    fn slot(s: &str) -> usize {
        let a = s.as_ptr() as usize;
        (a ^ (a >> 6)) % NAME_CACHE
    }

    #[inline]
    fn get(&mut self, s: &'static str) -> Option<u64> {
        let (a, n, i) = self.cache[Self::slot(s)];
        if a == s.as_ptr() as usize && n == s.len() {
            return Some(i);
        }
        let i = *self.by_text.get(s)?;
        self.cache[Self::slot(s)] = (s.as_ptr() as usize, s.len(), i);
        Some(i)
    }

    fn insert(&mut self, s: &'static str, i: u64) {
        self.by_text.insert(s, i);
        self.cache[Self::slot(s)] = (s.as_ptr() as usize, s.len(), i);
    }
}

/// The writer and the memo state of one dump.
pub(crate) struct Direct {
    w: InstrWriter,
    /// Memo entries so far (the next index).
    memo_len: u64,
    /// Memo index of each interned name written (`Document::name`'s table:
    /// field and variant names, by text).
    names: Names,
    /// Memo indices of the pickler's singletons for bytes below protocol 3:
    /// the interned `'latin1'` and the globals `_codecs.encode` and
    /// `builtins.bytes`.
    latin1: Option<u64>,
    codecs_encode: Option<u64>,
    builtins_bytes: Option<u64>,
    fix_imports: bool,
    /// Nonzero while a dict key is being written: a list or dict there is
    /// unhashable, refused by the pickler.
    in_key: u32,
}

impl Direct {
    /// Store the top of the stack at the next memo index; returns it.
    #[inline]
    fn memoize(&mut self) -> Result<u64> {
        let i = self.memo_len;
        if i >= u64::from(u32::MAX) {
            return Err(give_up("memo too large"));
        }
        self.memo_len += 1;
        self.w.put(i)?;
        Ok(i)
    }

    /// `save()` of an interned name: a frame boundary, then the str or a GET.
    #[inline]
    fn name(&mut self, s: &'static str) -> Result<()> {
        self.w.boundary();
        if let Some(i) = self.names.get(s) {
            return Ok(self.w.get(i)?);
        }
        self.w.str(s.as_bytes())?;
        let i = self.memoize()?;
        self.names.insert(s, i);
        Ok(())
    }

    /// A fresh str (its frame boundary already passed).
    #[inline]
    fn str(&mut self, s: &str) -> Result<()> {
        self.w.str(s.as_bytes())?;
        self.memoize().map(drop)
    }

    /// The opening of a fresh dict: `EMPTY_DICT` (`MARK DICT` at protocol
    /// 0) and its memo entry.
    fn open_dict(&mut self) -> Result<()> {
        if self.in_key > 0 {
            return Err(give_up("a dict as a dict key"));
        }
        if self.w.bin() {
            self.w.op(Opcode::EmptyDict);
        } else {
            self.w.op(Opcode::Mark);
            self.w.op(Opcode::Dict);
        }
        self.memoize().map(drop)
    }

    /// The opening of a fresh list, as [`Direct::open_dict`].
    fn open_list(&mut self) -> Result<()> {
        if self.in_key > 0 {
            return Err(give_up("a list as a dict key"));
        }
        if self.w.bin() {
            self.w.op(Opcode::EmptyList);
        } else {
            self.w.op(Opcode::Mark);
            self.w.op(Opcode::List);
        }
        self.memoize().map(drop)
    }

    /// The start of a tuple of `len` items; returns whether it is written
    /// with a MARK (the empty tuple is written whole at its end).
    fn open_tuple(&mut self, len: usize) -> bool {
        let marked = len > 0 && (self.w.protocol() < 2 || len > 3);
        if marked {
            self.w.op(Opcode::Mark);
        }
        marked
    }

    /// The end of a tuple announced with `len` items, `count` written.
    fn close_tuple(&mut self, len: usize, count: usize, marked: bool) -> Result<()> {
        if count != len {
            return Err(give_up("a tuple longer or shorter than announced"));
        }
        if len == 0 {
            self.w.empty_tuple();
            return Ok(());
        }
        let op = match (marked, len) {
            (true, _) => Opcode::Tuple,
            (false, 1) => Opcode::Tuple1,
            (false, 2) => Opcode::Tuple2,
            (false, _) => Opcode::Tuple3,
        };
        self.w.op(op);
        self.memoize().map(drop)
    }

    /// The opening of a one-key dict `{variant: ...}` holding an enum
    /// variant's data, up to the value.
    fn open_variant(&mut self, variant: &'static str) -> Result<()> {
        self.w.boundary();
        self.open_dict()?;
        self.name(variant)
    }

    /// An int that may not fit in an i64.
    fn int128(&mut self, v: i128) {
        match i64::try_from(v) {
            Ok(i) => self.w.int(i),
            Err(_) => self.w.bigint(&BigInt::from(v)),
        }
    }

    /// A `bytes` (its frame boundary already passed). Below protocol 3, the
    /// pickler's `_codecs.encode('<latin-1 text>', 'latin1')`, or
    /// `builtins.bytes()` when empty.
    fn bytes(&mut self, v: &[u8]) -> Result<()> {
        if self.w.protocol() >= 3 {
            self.w.bytes(v)?;
            return self.memoize().map(drop);
        }
        if v.is_empty() {
            self.builtins_bytes = Some(self.global("builtins", "bytes", self.builtins_bytes)?);
            self.w.boundary();
            self.w.empty_tuple();
            self.w.op(Opcode::Reduce);
            return self.memoize().map(drop);
        }
        self.codecs_encode = Some(self.global("_codecs", "encode", self.codecs_encode)?);
        self.w.boundary();
        let marked = self.w.protocol() < 2;
        if marked {
            self.w.op(Opcode::Mark);
        }
        self.w.boundary();
        let mut text = Vec::with_capacity(v.len() * 2);
        for &b in v {
            crate::codec::text::push_code_point(&mut text, u32::from(b));
        }
        self.w.str(&text)?;
        self.memoize()?;
        self.w.boundary();
        match self.latin1 {
            Some(i) => self.w.get(i)?,
            None => {
                self.w.str(b"latin1")?;
                self.latin1 = Some(self.memoize()?);
            }
        }
        self.w.op(if marked {
            Opcode::Tuple
        } else {
            Opcode::Tuple2
        });
        self.memoize()?;
        self.w.op(Opcode::Reduce);
        self.memoize().map(drop)
    }

    /// `save()` of a global the pickler makes up, below protocol 3: a GET
    /// if written before (`memo`), else `GLOBAL` and its memo entry.
    fn global(&mut self, module: &str, name: &str, memo: Option<u64>) -> Result<u64> {
        self.w.boundary();
        if let Some(i) = memo {
            self.w.get(i)?;
            return Ok(i);
        }
        let (m, n) = if self.fix_imports {
            crate::python::compat::to_python2(module, name)
        } else {
            (module, name)
        };
        self.w.global_text(Opcode::Global, m, n)?;
        self.memoize()
    }
}

impl<'a> ser::Serializer for &'a mut Direct {
    type Ok = ();
    type Error = GiveUp;
    type SerializeSeq = Seq<'a>;
    type SerializeTuple = Seq<'a>;
    type SerializeTupleStruct = Seq<'a>;
    type SerializeTupleVariant = Seq<'a>;
    type SerializeMap = Map<'a>;
    type SerializeStruct = Map<'a>;
    type SerializeStructVariant = Map<'a>;

    #[inline]
    fn serialize_bool(self, v: bool) -> Result<()> {
        self.w.boundary();
        self.w.bool(v);
        Ok(())
    }
    #[inline]
    fn serialize_i8(self, v: i8) -> Result<()> {
        self.serialize_i64(v.into())
    }
    #[inline]
    fn serialize_i16(self, v: i16) -> Result<()> {
        self.serialize_i64(v.into())
    }
    #[inline]
    fn serialize_i32(self, v: i32) -> Result<()> {
        self.serialize_i64(v.into())
    }
    #[inline]
    fn serialize_i64(self, v: i64) -> Result<()> {
        self.w.boundary();
        self.w.int(v);
        Ok(())
    }
    fn serialize_i128(self, v: i128) -> Result<()> {
        self.w.boundary();
        self.int128(v);
        Ok(())
    }
    #[inline]
    fn serialize_u8(self, v: u8) -> Result<()> {
        self.serialize_i64(v.into())
    }
    #[inline]
    fn serialize_u16(self, v: u16) -> Result<()> {
        self.serialize_i64(v.into())
    }
    #[inline]
    fn serialize_u32(self, v: u32) -> Result<()> {
        self.serialize_i64(v.into())
    }
    #[inline]
    fn serialize_u64(self, v: u64) -> Result<()> {
        self.serialize_i128(v.into())
    }
    fn serialize_u128(self, v: u128) -> Result<()> {
        self.w.boundary();
        match i64::try_from(v) {
            Ok(i) => self.w.int(i),
            Err(_) => self.w.bigint(&BigInt::from(v)),
        }
        Ok(())
    }
    #[inline]
    fn serialize_f32(self, v: f32) -> Result<()> {
        self.serialize_f64(v.into())
    }
    #[inline]
    fn serialize_f64(self, v: f64) -> Result<()> {
        self.w.boundary();
        self.w.float(v);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<()> {
        let mut b = [0; 4];
        self.serialize_str(v.encode_utf8(&mut b))
    }
    #[inline]
    fn serialize_str(self, v: &str) -> Result<()> {
        self.w.boundary();
        self.str(v)
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<()> {
        self.w.boundary();
        self.bytes(v)
    }
    #[inline]
    fn serialize_none(self) -> Result<()> {
        self.w.boundary();
        self.w.none();
        Ok(())
    }
    #[inline]
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<()> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<()> {
        self.serialize_none()
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<()> {
        self.serialize_none()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<()> {
        self.name(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<()> {
        if matches!(
            name,
            SET_TOKEN | FROZENSET_TOKEN | BYTEARRAY_TOKEN | DOCUMENT_TOKEN
        ) {
            return Err(give_up(
                "a PySet, PyFrozenSet, PyByteArray or a document's value",
            ));
        }
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<()> {
        self.open_variant(variant)?;
        value.serialize(&mut *self)?;
        self.w.op(Opcode::SetItem);
        Ok(())
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Seq<'a>> {
        self.w.boundary();
        self.open_list()?;
        // `batch_list_exact` writes a single item as `item APPEND`, more as
        // `MARK items APPENDS` batches; protocol 0 one `APPEND` per item.
        let kind = if !self.w.bin() {
            SeqKind::Each { one: false }
        } else if len == Some(1) {
            SeqKind::Each { one: true }
        } else {
            SeqKind::Batched
        };
        Ok(Seq {
            d: self,
            count: 0,
            batch: BATCH,
            kind,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq<'a>> {
        self.w.boundary();
        let marked = self.open_tuple(len);
        Ok(Seq {
            d: self,
            count: 0,
            batch: BATCH,
            kind: SeqKind::Tuple {
                len,
                marked,
                variant: false,
            },
        })
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Seq<'a>> {
        self.serialize_tuple(len)
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Seq<'a>> {
        self.open_variant(variant)?;
        self.w.boundary();
        let marked = self.open_tuple(len);
        Ok(Seq {
            d: self,
            count: 0,
            batch: BATCH,
            kind: SeqKind::Tuple {
                len,
                marked,
                variant: true,
            },
        })
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Map<'a>> {
        self.w.boundary();
        self.open_dict()?;
        Ok(Map::new(self, len, false))
    }
    fn serialize_struct(self, name: &'static str, len: usize) -> Result<Map<'a>> {
        if name == PYOBJECT_TOKEN || name == PYNEW_TOKEN {
            return Err(give_up("a PyObject"));
        }
        self.w.boundary();
        self.open_dict()?;
        Ok(Map::new(self, Some(len), false))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Map<'a>> {
        self.open_variant(variant)?;
        self.w.boundary();
        self.open_dict()?;
        Ok(Map::new(self, Some(len), true))
    }
}

/// How a sequence's items are written.
enum SeqKind {
    /// A list, `item APPEND` per item: at protocol 0, or (`one`) when a
    /// single item was announced.
    Each { one: bool },
    /// A list in `MARK items APPENDS` batches of up to 1000.
    Batched,
    /// A tuple of `len` items; `variant`: the value of a one-key dict.
    Tuple {
        len: usize,
        marked: bool,
        variant: bool,
    },
}

/// Writes the items of a list or tuple.
pub(crate) struct Seq<'a> {
    d: &'a mut Direct,
    count: usize,
    /// Items in the open batch; starts full, so that the first item opens
    /// one (a counter rather than `count % BATCH`, a division per item).
    batch: usize,
    kind: SeqKind,
}

impl Seq<'_> {
    #[inline]
    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        match self.kind {
            SeqKind::Each { .. } => {
                value.serialize(&mut *self.d)?;
                self.d.w.op(Opcode::Append);
            }
            SeqKind::Batched => {
                // The previous batch is closed (and the next opened) only
                // when an item follows it: a list never ends with an empty
                // batch.
                if self.batch == BATCH {
                    if self.count > 0 {
                        self.d.w.op(Opcode::Appends);
                    }
                    self.d.w.op(Opcode::Mark);
                    self.batch = 0;
                }
                self.batch += 1;
                value.serialize(&mut *self.d)?;
            }
            SeqKind::Tuple { .. } => value.serialize(&mut *self.d)?,
        }
        self.count += 1;
        Ok(())
    }

    fn finish(self) -> Result<()> {
        match self.kind {
            SeqKind::Each { one } => {
                if one && self.count != 1 {
                    return Err(give_up("a list of one item announced, not one written"));
                }
            }
            SeqKind::Batched => {
                if self.count == 1 {
                    return Err(give_up("a list of one item, announced otherwise"));
                }
                if self.count > 0 {
                    self.d.w.op(Opcode::Appends);
                }
            }
            SeqKind::Tuple {
                len,
                marked,
                variant,
            } => {
                self.d.close_tuple(len, self.count, marked)?;
                if variant {
                    self.d.w.op(Opcode::SetItem);
                }
            }
        }
        Ok(())
    }
}

macro_rules! seq_impl {
    ($($tr:ident :: $m:ident),*) => {$(
        impl ser::$tr for Seq<'_> {
            type Ok = ();
            type Error = GiveUp;
            #[inline]
            fn $m<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
                self.item(value)
            }
            fn end(self) -> Result<()> {
                self.finish()
            }
        }
    )*};
}
seq_impl!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

/// Writes the pairs of a dict (a map, a struct, a struct variant's fields).
pub(crate) struct Map<'a> {
    d: &'a mut Direct,
    count: usize,
    /// Pairs in the open batch, as [`Seq`]'s.
    batch: usize,
    /// `key value SETITEM` per pair: at protocol 0, or when a single pair
    /// was announced (`batch_dict_exact`); else `MARK pairs SETITEMS`.
    each: bool,
    /// A single pair was announced at protocol 1+.
    one: bool,
    /// A key was written, its value not yet.
    key_pending: bool,
    /// The dict is the value of a one-key `{variant: ...}` dict.
    variant: bool,
}

impl<'a> Map<'a> {
    fn new(d: &'a mut Direct, len: Option<usize>, variant: bool) -> Map<'a> {
        let one = d.w.bin() && len == Some(1);
        Map {
            each: !d.w.bin() || one,
            d,
            count: 0,
            batch: BATCH,
            one,
            key_pending: false,
            variant,
        }
    }

    /// Before a key: close a full batch and open the next.
    #[inline]
    fn before_key(&mut self) -> Result<()> {
        if self.key_pending {
            return Err(give_up("two map keys in a row"));
        }
        if !self.each {
            if self.batch == BATCH {
                if self.count > 0 {
                    self.d.w.op(Opcode::SetItems);
                }
                self.d.w.op(Opcode::Mark);
                self.batch = 0;
            }
            self.batch += 1;
        }
        self.key_pending = true;
        Ok(())
    }

    #[inline]
    fn value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        if !self.key_pending {
            return Err(give_up("a map value without a key"));
        }
        value.serialize(&mut *self.d)?;
        if self.each {
            self.d.w.op(Opcode::SetItem);
        }
        self.key_pending = false;
        self.count += 1;
        Ok(())
    }

    #[inline]
    fn field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<()> {
        self.before_key()?;
        self.d.name(key)?;
        self.value(value)
    }

    fn finish(self) -> Result<()> {
        if self.key_pending {
            return Err(give_up("a map key without a value"));
        }
        if self.one && self.count != 1 {
            return Err(give_up("a map of one pair announced, not one written"));
        }
        if !self.each {
            if self.count == 1 {
                return Err(give_up("a map of one pair, announced otherwise"));
            }
            if self.count > 0 {
                self.d.w.op(Opcode::SetItems);
                // CPython goes on while a batch was full, so a multiple of
                // 1000 pairs ends with an empty batch.
                if self.count % BATCH == 0 {
                    self.d.w.op(Opcode::Mark);
                    self.d.w.op(Opcode::SetItems);
                }
            }
        }
        if self.variant {
            self.d.w.op(Opcode::SetItem);
        }
        Ok(())
    }
}

impl ser::SerializeMap for Map<'_> {
    type Ok = ();
    type Error = GiveUp;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<()> {
        self.before_key()?;
        self.d.in_key += 1;
        let r = key.serialize(&mut *self.d);
        self.d.in_key -= 1;
        r
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.value(value)
    }

    fn end(self) -> Result<()> {
        self.finish()
    }
}

impl ser::SerializeStruct for Map<'_> {
    type Ok = ();
    type Error = GiveUp;

    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        self.field(key, value)
    }

    fn end(self) -> Result<()> {
        self.finish()
    }
}

impl ser::SerializeStructVariant for Map<'_> {
    type Ok = ();
    type Error = GiveUp;

    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        self.field(key, value)
    }

    fn end(self) -> Result<()> {
        self.finish()
    }
}
