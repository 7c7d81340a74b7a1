//! Python-flavoured helper types for the serde layer.
//!
//! * [`PyObject`]: an instance of a named Python class (`module.name`) with a
//!   state, written as CPython writes a plain instance (`NEWOBJ` + `BUILD`) so
//!   that Python loads an instance of its own class; read back from any
//!   pickled instance.
//! * [`PySlotted`]: the same for a class with `__slots__` and no `__dict__`
//!   (`@dataclass(slots=True)` too), whose state is `(None, {slot: value})`.
//! * [`PyNamedTuple`]: an instance of a tuple subclass (`typing.NamedTuple`,
//!   `collections.namedtuple`), written `cls.__new__(cls, *fields)`.
//! * [`PySet`], [`PyFrozenSet`]: write a sequence as a Python `set` /
//!   `frozenset` instead of a `list`.
//! * [`PyByteArray`]: write bytes as a `bytearray`.
//!
//! With other serde formats these behave as plain structs and sequences.

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::value::{Document, Node, Value, ValueRef};

/// The newtype-struct name that asks this crate's deserializers for a value as a
/// standalone pickle: `deserialize_newtype_struct(SUBVALUE_TOKEN, v)` calls
/// `v.visit_byte_buf` with the protocol-5 pickle of the graph reachable from
/// the current value (out-of-band buffers written in band). Types that need
/// the document itself, not the serde data model, use it: [`crate::numpy::NdArray`]'s
/// `Deserialize` loads the bytes and reads the array from them.
pub(crate) const SUBVALUE_TOKEN: &str = "$pickle_codec::subvalue";

/// The newtype-struct name with which `Serialize` for a document's values
/// and `Deserialize` for [`Document`] ask for the document itself: this
/// crate's serializers and deserializers answer by handing it over through
/// [`hand_over`] and [`take_handed`] (the serde data model has no tuples
/// apart from lists, no sets, objects, sharing or cycles, so a document
/// passed through it would not come back whole). Other formats see a
/// transparent newtype.
pub(crate) const DOCUMENT_TOKEN: &str = "$pickle_codec::Document";

/// What passes between a document's `Serialize`/`Deserialize` and this
/// crate's serializers and deserializers under [`DOCUMENT_TOKEN`].
pub(crate) enum Handoff {
    /// From the document builder: the document the value is to be copied
    /// into.
    Target(Document),
    /// Back to it: that document, and the copied value.
    Copied(Document, Value),
    /// From a deserializer: the document of the value being read.
    Loaded(Document),
}

thread_local! {
    static HANDOFF: std::cell::RefCell<Option<Handoff>> = const { std::cell::RefCell::new(None) };
}

/// Leave `h` for the other side of a [`DOCUMENT_TOKEN`] exchange, which
/// takes it before anything else runs on this thread.
pub(crate) fn hand_over(h: Handoff) {
    HANDOFF.with(|slot| *slot.borrow_mut() = Some(h));
}

/// Take what the other side handed over, if it did.
pub(crate) fn take_handed() -> Option<Handoff> {
    HANDOFF.with(|slot| slot.borrow_mut().take())
}

/// The struct name that marks a [`PyObject`] to this crate's serializers and deserializers.
pub(crate) const PYOBJECT_TOKEN: &str = "$pickle_codec::PyObject";
pub(crate) const PYOBJECT_FIELDS: &[&str] = &["module", "name", "state"];
/// The struct name that marks a [`PyNamedTuple`]: `NEWOBJ(cls, args)`, no state.
pub(crate) const PYNEW_TOKEN: &str = "$pickle_codec::PyNew";
pub(crate) const PYNEW_FIELDS: &[&str] = &["module", "name", "args"];
pub(crate) const SET_TOKEN: &str = "$pickle_codec::set";
pub(crate) const FROZENSET_TOKEN: &str = "$pickle_codec::frozenset";
pub(crate) const BYTEARRAY_TOKEN: &str = "$pickle_codec::bytearray";

/// An instance of the Python class `module.name` with a state (its `__dict__`
/// usually, so a struct or a map).
#[derive(Clone, Debug, PartialEq)]
pub struct PyObject<S> {
    /// The class's module, e.g. `"sklearn.linear_model._base"`.
    pub module: String,
    /// The class's qualified name, e.g. `"LinearRegression"`.
    pub name: String,
    /// The state given by BUILD (`None` in Python when there is none).
    pub state: S,
}

impl<S: Serialize> Serialize for PyObject<S> {
    fn serialize<Z: Serializer>(&self, s: Z) -> Result<Z::Ok, Z::Error> {
        let mut st = s.serialize_struct(PYOBJECT_TOKEN, 3)?;
        st.serialize_field("module", &self.module)?;
        st.serialize_field("name", &self.name)?;
        st.serialize_field("state", &self.state)?;
        st.end()
    }
}

impl<'de, S: Deserialize<'de>> Deserialize<'de> for PyObject<S> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<S>(std::marker::PhantomData<S>);
        impl<'de, S: Deserialize<'de>> Visitor<'de> for V<S> {
            type Value = PyObject<S>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Python object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PyObject<S>, A::Error> {
                let (mut module, mut name, mut state) = (None, None, None);
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "module" => module = Some(map.next_value()?),
                        "name" => name = Some(map.next_value()?),
                        "state" => state = Some(map.next_value()?),
                        _ => {
                            map.next_value::<de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(PyObject {
                    module: module.ok_or_else(|| de::Error::missing_field("module"))?,
                    name: name.ok_or_else(|| de::Error::missing_field("name"))?,
                    state: state.ok_or_else(|| de::Error::missing_field("state"))?,
                })
            }
        }
        d.deserialize_struct(PYOBJECT_TOKEN, PYOBJECT_FIELDS, V(std::marker::PhantomData))
    }
}

/// An instance of a class with `__slots__` and no `__dict__`, such as a
/// `@dataclass(slots=True)`: CPython pickles it as `NEWOBJ(cls)` and
/// `BUILD((None, {slot: value}))` (`object.__reduce_ex__`'s state), and
/// that is what is written here; a [`PyObject`] would give `BUILD(dict)`,
/// which such a class cannot take (a slotted dataclass of Python 3.10
/// zips its fields with the dict's keys). Reads either state form.
#[derive(Clone, Debug, PartialEq)]
pub struct PySlotted<S> {
    /// The class's module.
    pub module: String,
    /// The class's qualified name.
    pub name: String,
    /// The slots' values, by name (a struct or a map).
    pub state: S,
}

impl<S: Serialize> Serialize for PySlotted<S> {
    fn serialize<Z: Serializer>(&self, s: Z) -> Result<Z::Ok, Z::Error> {
        let mut st = s.serialize_struct(PYOBJECT_TOKEN, 3)?;
        st.serialize_field("module", &self.module)?;
        st.serialize_field("name", &self.name)?;
        st.serialize_field("state", &(None::<()>, &self.state))?;
        st.end()
    }
}

impl<'de, S: Deserialize<'de>> Deserialize<'de> for PySlotted<S> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let o = PyObject::<SlotState<S>>::deserialize(d)?;
        Ok(PySlotted {
            module: o.module,
            name: o.name,
            state: o.state.0,
        })
    }
}

/// A slotted object's state: `(dict_state, slots)` (the first part, `None`
/// for a class without `__dict__`, is skipped) or a plain map.
struct SlotState<S>(S);

impl<'de, S: Deserialize<'de>> Deserialize<'de> for SlotState<S> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<S>(std::marker::PhantomData<S>);
        impl<'de, S: Deserialize<'de>> Visitor<'de> for V<S> {
            type Value = SlotState<S>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a slotted object's state: (None, {slot: value}) or a dict")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<SlotState<S>, A::Error> {
                seq.next_element::<de::IgnoredAny>()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let slots = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(1, &self))?;
                Ok(SlotState(slots))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<SlotState<S>, A::Error> {
                S::deserialize(de::value::MapAccessDeserializer::new(map)).map(SlotState)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// An instance of a tuple subclass, such as a `typing.NamedTuple` or a
/// `collections.namedtuple`: written as CPython writes one,
/// `cls.__new__(cls, *fields)` (`NEWOBJ`, no state), so that Python gets
/// its own class. `fields` is a struct (its values are taken in order) or a
/// tuple. Read back from `NEWOBJ`/`NEWOBJ_EX`, and from protocol 0–1's
/// `copyreg._reconstructor(cls, tuple, fields)` and `copyreg.__newobj__`.
#[derive(Clone, Debug, PartialEq)]
pub struct PyNamedTuple<T> {
    /// The class's module.
    pub module: String,
    /// The class's qualified name.
    pub name: String,
    /// The items, in order.
    pub fields: T,
}

impl<T: Serialize> Serialize for PyNamedTuple<T> {
    fn serialize<Z: Serializer>(&self, s: Z) -> Result<Z::Ok, Z::Error> {
        let mut st = s.serialize_struct(PYNEW_TOKEN, 3)?;
        st.serialize_field("module", &self.module)?;
        st.serialize_field("name", &self.name)?;
        st.serialize_field("args", &self.fields)?;
        st.end()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for PyNamedTuple<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = PyNamedTuple<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Python named tuple")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PyNamedTuple<T>, A::Error> {
                let (mut module, mut name, mut fields) = (None, None, None);
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "module" => module = Some(map.next_value()?),
                        "name" => name = Some(map.next_value()?),
                        "args" => fields = Some(map.next_value()?),
                        _ => {
                            map.next_value::<de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(PyNamedTuple {
                    module: module.ok_or_else(|| de::Error::missing_field("module"))?,
                    name: name.ok_or_else(|| de::Error::missing_field("name"))?,
                    fields: fields.ok_or_else(|| de::Error::missing_field("args"))?,
                })
            }
        }
        d.deserialize_struct(PYNEW_TOKEN, PYNEW_FIELDS, V(std::marker::PhantomData))
    }
}

macro_rules! seq_wrapper {
    ($(#[$doc:meta])* $name:ident, $token:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default, PartialEq, Eq)]
        pub struct $name<T>(pub T);

        impl<T: Serialize> Serialize for $name<T> {
            fn serialize<Z: Serializer>(&self, s: Z) -> Result<Z::Ok, Z::Error> {
                s.serialize_newtype_struct($token, &self.0)
            }
        }

        impl<'de, T: Deserialize<'de>> Deserialize<'de> for $name<T> {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                T::deserialize(d).map($name)
            }
        }
    };
}

seq_wrapper!(
    /// Writes the wrapped sequence (a `Vec`, `HashSet`, `BTreeSet`...) as a Python `set`.
    PySet,
    SET_TOKEN
);
seq_wrapper!(
    /// Writes the wrapped sequence as a Python `frozenset`.
    PyFrozenSet,
    FROZENSET_TOKEN
);
seq_wrapper!(
    /// Writes the wrapped bytes (`serde_bytes::ByteBuf`, `&[u8]` with
    /// `serde_bytes`) as a Python `bytearray`.
    PyByteArray,
    BYTEARRAY_TOKEN
);

fn args_of<'a>(v: ValueRef<'a>) -> &'a [Value] {
    v.as_object()
        .and_then(|o| v.at(o.args).as_slice())
        .unwrap_or(&[])
}

fn be_uint(b: &[u8]) -> u32 {
    b.iter().fold(0u32, |acc, &x| (acc << 8) | x as u32)
}

/// Text of a pickled bytes-or-latin1-str state (datetime states at protocol 0–2
/// are latin1 strs, from protocol 3 bytes).
fn state_bytes(v: ValueRef<'_>) -> Option<Vec<u8>> {
    match v.node()? {
        Node::Bytes(b) => Some(b.clone()),
        Node::Str(s) => v
            .document()
            .text(s)
            .as_str()?
            .chars()
            .map(|c| u8::try_from(c as u32).ok())
            .collect(),
        _ => None,
    }
}

/// UTC offset of a `datetime.timezone(timedelta(...))` as `+HH:MM`.
fn tz_suffix(tz: ValueRef<'_>) -> Option<String> {
    if tz.class()? != ("datetime", "timezone") {
        return None;
    }
    let td = tz.at(*args_of(tz).first()?);
    let secs = timedelta_seconds(td)?;
    let total = secs.round() as i64;
    let sign = if total < 0 { '-' } else { '+' };
    let a = total.abs();
    Some(format!("{sign}{:02}:{:02}", a / 3600, (a % 3600) / 60))
}

fn timedelta_seconds(td: ValueRef<'_>) -> Option<f64> {
    if td.class()? != ("datetime", "timedelta") {
        return None;
    }
    let a = args_of(td);
    let get = |i: usize| a.get(i).and_then(|&v| td.at(v).as_i64()).unwrap_or(0);
    Some(get(0) as f64 * 86400.0 + get(1) as f64 + get(2) as f64 / 1e6)
}

fn micros(us: u32) -> String {
    if us == 0 {
        String::new()
    } else {
        format!(".{us:06}")
    }
}

/// Text for standard-library scalars: `datetime.datetime/date/time` as ISO
/// 8601, `decimal.Decimal`, `fractions.Fraction`, `uuid.UUID` (hyphenated),
/// `pathlib` paths. `None` for anything else.
pub(crate) fn known_scalar_text(v: ValueRef<'_>) -> Option<String> {
    let (module, name) = v.class()?;
    let args = args_of(v);
    let arg = |i: usize| args.get(i).map(|&a| v.at(a));
    match (module, name) {
        ("decimal", "Decimal") | ("fractions", "Fraction") => arg(0)?.as_str().map(str::to_string),
        ("datetime", "datetime") => {
            let b = state_bytes(arg(0)?)?;
            if b.len() != 10 {
                return None;
            }
            let tz = arg(1).and_then(tz_suffix).unwrap_or_default();
            Some(format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}{}",
                be_uint(&b[0..2]),
                b[2] & 0x7f,
                b[3],
                b[4],
                b[5],
                b[6],
                micros(be_uint(&b[7..10])),
                tz
            ))
        }
        ("datetime", "date") => {
            let b = state_bytes(arg(0)?)?;
            (b.len() == 4).then(|| format!("{:04}-{:02}-{:02}", be_uint(&b[0..2]), b[2], b[3]))
        }
        ("datetime", "time") => {
            let b = state_bytes(arg(0)?)?;
            if b.len() != 6 {
                return None;
            }
            let tz = arg(1).and_then(tz_suffix).unwrap_or_default();
            Some(format!(
                "{:02}:{:02}:{:02}{}{}",
                b[0] & 0x7f,
                b[1],
                b[2],
                micros(be_uint(&b[3..6])),
                tz
            ))
        }
        ("uuid", "UUID") => {
            let int = v.state_dict()?.get("int")?.as_bigint()?;
            let hex = format!("{:032x}", int.as_ref());
            if hex.len() != 32 {
                return None;
            }
            Some(format!(
                "{}-{}-{}-{}-{}",
                &hex[0..8],
                &hex[8..12],
                &hex[12..16],
                &hex[16..20],
                &hex[20..32]
            ))
        }
        (
            "pathlib",
            "PurePosixPath" | "PosixPath" | "PurePath" | "Path" | "PureWindowsPath" | "WindowsPath",
        ) => {
            let parts: Option<Vec<&str>> = args.iter().map(|&a| v.at(a).as_str()).collect();
            let parts = parts?;
            let sep = if name.contains("Windows") { "\\" } else { "/" };
            let mut out = String::new();
            for (i, p) in parts.iter().enumerate() {
                if i > 0 && !out.ends_with(sep) {
                    out.push_str(sep);
                }
                out.push_str(p);
            }
            Some(out)
        }
        _ => None,
    }
}

/// Seconds of a pickled `datetime.timedelta`.
pub fn timedelta_as_seconds(v: ValueRef<'_>) -> Option<f64> {
    timedelta_seconds(v)
}

/// What `bytes(*args)` or `bytearray(*args)` gives, for a `REDUCE` of
/// `builtins.bytes`/`builtins.bytearray` (CPython writes neither form
/// itself at the protocols that have opcodes for them; other picklers and
/// hand-made pickles do): the bytes, or CPython's complaint about the
/// arguments. `None` when `v` is no such call.
///
/// An int argument (`bytearray(10**12)`: that many zero bytes) is refused:
/// it would size an allocation by a number in the pickle. With an encoding,
/// only ASCII, Latin-1 and UTF-8 are known here.
pub(crate) fn bytes_call(v: ValueRef<'_>) -> Option<std::result::Result<Vec<u8>, String>> {
    let o = v.as_object()?;
    if o.kind != crate::value::ObjectKind::Reduce || !o.ops.is_empty() {
        return None;
    }
    let ty = match v.at(o.callable).as_global()? {
        ("builtins", t @ ("bytes" | "bytearray")) => t,
        _ => return None,
    };
    let args: Vec<ValueRef<'_>> = v.at(o.args).as_slice()?.iter().map(|&a| v.at(a)).collect();
    Some(bytes_of_args(ty, &args))
}

fn bytes_of_args(ty: &str, args: &[ValueRef<'_>]) -> std::result::Result<Vec<u8>, String> {
    let Some(&source) = args.first() else {
        return Ok(Vec::new());
    };
    if args.len() > 3 {
        return Err(format!(
            "{ty}() takes at most 3 arguments ({} given)",
            args.len()
        ));
    }
    if let Some(s) = source.as_str() {
        let Some(encoding) = args.get(1) else {
            return Err("string argument without an encoding".into());
        };
        let encoding = encoding
            .as_str()
            .ok_or_else(|| format!("{ty}() argument 'encoding' must be str"))?;
        let normal = encoding.to_ascii_lowercase().replace(['-', ' '], "_");
        let limit = match normal.as_str() {
            "ascii" | "us_ascii" | "646" => 0x80,
            "latin_1" | "latin1" | "iso_8859_1" | "iso8859_1" | "8859" | "cp819" | "l1" => 0x100,
            "utf_8" | "utf8" | "u8" => return Ok(s.as_bytes().to_vec()),
            _ => {
                return Err(format!(
                    "{ty}() with encoding {encoding:?} is not read here"
                ))
            }
        };
        return s
            .chars()
            .enumerate()
            .map(|(i, c)| {
                u8::try_from(c as u32)
                    .ok()
                    .filter(|&b| (b as u32) < limit)
                    .ok_or_else(|| {
                        format!("{encoding:?} codec can't encode character {c:?} in position {i}")
                    })
            })
            .collect();
    }
    if args.len() > 1 {
        return Err(if args[1].as_str().is_some() {
            "encoding without a string argument".into()
        } else {
            format!("{ty}() argument 'encoding' must be str")
        });
    }
    if let Some(b) = source.as_bytes() {
        return Ok(b.to_vec());
    }
    if source.as_i64().is_some() || source.as_bigint().is_some() {
        return Err(format!(
            "{ty}(int) is not read: it sizes an allocation by a number in the pickle"
        ));
    }
    if let Some(items) = source.as_slice() {
        return items
            .iter()
            .map(|&i| match source.at(i).as_i64() {
                Some(n) => u8::try_from(n).map_err(|_| "byte must be in range(0, 256)".to_string()),
                None => Err(format!(
                    "'{}' object cannot be interpreted as an integer",
                    source.at(i).type_name()
                )),
            })
            .collect();
    }
    Err(format!(
        "cannot convert '{}' object to {ty}",
        source.type_name()
    ))
}
