//! pandas `DataFrame`s and `Series`, read as columns from `to_pickle` files
//! without pandas, and written out as CSV the way `df.to_csv(index=False)`
//! writes them, as Arrow record batches (feature `arrow`), or as Arrow IPC
//! (Feather v2) files that `pd.read_feather` reads back with their index
//! (feature `arrow-ipc`, `DataFrame::write_arrow_ipc`).
//!
//! A pickled frame is a recipe: a `DataFrame` whose state holds a
//! `BlockManager`, whose blocks hold numpy arrays (one per dtype, several
//! columns each) or pandas extension arrays (one column each), placed on
//! the columns axis by a slice or an array of positions; the two axes are
//! pandas `Index` objects. [`DataFrame::from_value`] reads that recipe from
//! a [`crate::Document`] and gives one [`Column`] per column, in order, with
//! its values ([`Values`]), its nulls as pandas' `isna` sees them, and its
//! dtype as pandas prints it (`str(df[c].dtype)`), and the row [`Index`].
//! Nothing is imported or executed.
//!
//! # Layouts
//!
//! | pandas | manager | recognised |
//! |---|---|---|
//! | 1.1 – 3.x | `BlockManager(blocks, axes)` by REDUCE, blocks `_unpickle_block(values, placement, ndim)` | yes |
//! | 0.14.1 – 3.x | `BlockManager` / `SingleBlockManager` with the state `(axes, values, items, {"0.14.1": {axes, blocks}})` | yes |
//! | 0.13 and older | the state `(axes, values, items)`: blocks placed by their item labels | yes, where the labels are unique |
//! | 0.16 and older | a `DataFrame` whose BUILD state is the manager itself | yes |
//! | 0.12 and older | `Series` and `Index` as ndarray subclasses, BUILD `(array_state, (index, name))` / `(array_state, name)` (`MultiIndex`: `(.., (levels, labels, sortorder, names))`) | yes |
//!
//! # dtypes
//!
//! | pandas dtype | pickled as | [`Values`] |
//! |---|---|---|
//! | `int8` … `int64`, `uint8` … `uint64`, `float32`, `float64`, `bool` | numpy blocks | `Int`, `UInt`, `Float`, `Bool` |
//! | `object` | numpy object blocks | `Str` when every item is a str or null, else `Object` |
//! | `str` (pandas 3), `string` (`StringDtype`, python storage) | `StringArray` | `Str` |
//! | `str`/`string` with pyarrow storage | `ArrowStringArray` holding pyarrow's own pickle of its buffers | `Str`, read from the offsets, data and validity buffers |
//! | `Int8` … `UInt64`, `Float32`, `Float64`, `boolean` | `IntegerArray`, `FloatingArray`, `BooleanArray`: data and mask | `Int`, `UInt`, `Float`, `Bool`, nulls from the mask |
//! | `category` | `Categorical`: codes and a categories `Index` | `Categorical` |
//! | `datetime64[unit]`, `datetime64[unit, tz]` | numpy `M8` blocks, `DatetimeArray` (with `DatetimeTZDtype`) | `Datetime` (NaT is null) |
//! | `timedelta64[unit]` | numpy `m8` blocks, `TimedeltaArray` | `Timedelta` |
//! | `period[D]`, `period[M]`, `period[Q-DEC]`, `period[Y-DEC]`, `period[h]` … `period[ns]`, `period[W-SUN]` | `PeriodArray`: ordinals | `Object`, each period as `str(Period)` prints it (`2020-03`, `2020Q1`) |
//! | `interval[int64, right]` and other subtypes | `IntervalArray`: left and right arrays | `Object`, each as `str(Interval)` (`(0, 1]`) |
//! | `Sparse[float64, nan]`, `Sparse[int64, 0]`, `Sparse[bool, False]` | `SparseArray`: values at an `IntIndex` or `BlockIndex` | the values densified (up to 2^26) |
//! | `complex128` | numpy blocks | `Object`, each as numpy prints it (`(1+2j)`) |
//! | `object` of dates, datetimes, times, Decimals, Timestamps, numpy scalars, plain containers | numpy object blocks | `Object`: each value's `str()` ([`Cell::Object`]) |
//!
//! Indexes: `RangeIndex`, any `Index` of the dtypes above (`Int64Index` and
//! friends of pandas < 2 too), `DatetimeIndex` (with a time zone),
//! `TimedeltaIndex`, `CategoricalIndex`, `MultiIndex` (levels and codes,
//! [`Index::Multi`]).
//!
//! Every placement, shape, code and mask is checked: each column placed
//! exactly once, every column as long as the index, categorical codes
//! within the categories, masks as long as their data; anything else is a
//! `Data` error that names the part.
//!
//! ```no_run
//! use pickle_codec::pandas::DataFrame;
//!
//! // df.to_pickle("frame.pkl") in Python
//! let df = DataFrame::load_path("frame.pkl")?;
//! for c in &df.columns {
//!     println!("{}: {} ({} nulls)", c.name, c.dtype, c.null_count());
//! }
//! // What df.to_csv("frame.csv", index=False) writes.
//! std::fs::write("frame.csv", df.to_csv()?)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod arrow;
mod blocks;
mod column;
mod csv;
mod extension;
mod floats;
mod index;
#[cfg(feature = "arrow-ipc")]
mod ipc;
mod periods;
mod pyobj;
#[cfg(feature = "arrow")]
mod record_batch;
mod tz;

use std::path::Path;

use crate::error::{Error, Result};
use crate::value::{Document, Kind, ValueRef};

pub use self::column::{Cell, Column, Label, TimeUnit, Values};
pub use self::csv::CsvOptions;
pub use self::index::Index;
/// The arrow-rs IPC crate [`DataFrame::write_arrow_ipc`] writes with
/// (feature `arrow-ipc`): its readers read the files back.
#[cfg(feature = "arrow-ipc")]
#[cfg_attr(docsrs, doc(cfg(feature = "arrow-ipc")))]
pub use arrow_ipc;
/// The arrow-rs crates [`DataFrame::to_record_batch`] builds with (feature
/// `arrow`), so that their types match the caller's.
#[cfg(feature = "arrow")]
#[cfg_attr(docsrs, doc(cfg(feature = "arrow")))]
pub use {arrow_array, arrow_schema};

/// A pandas `DataFrame`: its columns in order and its row index.
#[derive(Clone, Debug, PartialEq)]
pub struct DataFrame {
    /// The columns, in the frame's order, each named by its label.
    pub columns: Vec<Column>,
    /// The row index.
    pub index: Index,
    /// The name of the columns axis (`df.columns.name`); for a `MultiIndex`
    /// of columns with named levels, a tuple of the names
    /// (`df.columns.names`).
    pub columns_name: Label,
}

/// A pandas `Series`: one column and its index.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// The values, named by the series' name.
    pub column: Column,
    /// The row index.
    pub index: Index,
}

/// What a pandas pickle holds.
#[derive(Clone, Debug, PartialEq)]
pub enum Pickled {
    /// A `DataFrame`.
    DataFrame(DataFrame),
    /// A `Series`.
    Series(Series),
}

impl Pickled {
    /// The value as a frame: a series becomes a frame of its one column.
    pub fn into_frame(self) -> DataFrame {
        match self {
            Pickled::DataFrame(df) => df,
            Pickled::Series(s) => s.into_frame(),
        }
    }
}

/// The class of a pandas object: `Some(name)` for `pandas...<name>`.
pub(crate) fn pandas_class<'a>(v: ValueRef<'a>) -> Option<&'a str> {
    let (m, n) = v.class()?;
    if m == "pandas" || m.starts_with("pandas.") {
        Some(n)
    } else {
        None
    }
}

/// The callable of a REDUCE (or the class of a NEWOBJ) as `(module, name)`.
pub(crate) fn callable<'a>(v: ValueRef<'a>) -> Option<(&'a str, &'a str)> {
    let o = v.as_object()?;
    v.at(o.callable).as_global()
}

/// The class of a pandas < 0.13 `Series` or `Index`, an ndarray subclass
/// pickled by numpy's `_reconstruct(cls, ...)`: `Some(name)` for
/// `pandas...<name>`.
pub(crate) fn legacy_ndarray_class<'a>(v: ValueRef<'a>) -> Option<&'a str> {
    if !crate::ml::numpy::is_ndarray(v) {
        return None;
    }
    let o = v.as_object()?;
    let (m, n) = v.at(o.args).index(0)?.as_global()?;
    if m.starts_with("pandas") {
        Some(n)
    } else {
        None
    }
}

/// The manager of an `NDFrame` (`DataFrame`, `Series`): `_mgr` (`_data`
/// before pandas 1.1) of its BUILD dict, or, before pandas 0.17 or so,
/// the BUILD state itself.
fn manager_of<'a>(v: ValueRef<'a>, what: &str) -> Result<ValueRef<'a>> {
    if let Some(state) = v.state_dict() {
        return state
            .get("_mgr")
            .or_else(|| state.get("_data"))
            .ok_or_else(|| Error::data(format!("pandas {what} state holds no `_mgr`")));
    }
    match v.state() {
        Some(m) if m.class().is_some_and(|(_, n)| n.ends_with("BlockManager")) => Ok(m),
        _ => Err(Error::data(format!("pandas {what} without a manager"))),
    }
}

impl DataFrame {
    /// Read a pickled `pandas.DataFrame`.
    pub fn from_value(v: ValueRef<'_>) -> Result<DataFrame> {
        match pandas_class(v).or_else(|| legacy_ndarray_class(v)) {
            Some(n) if n.ends_with("DataFrame") => {}
            Some(n) if n.ends_with("Series") => {
                return Err(Error::data(
                    "a pandas Series, not a DataFrame (read it with Series::from_value)",
                ))
            }
            _ => {
                return Err(Error::data(format!(
                    "not a pandas DataFrame: {}",
                    describe(v)
                )))
            }
        }
        blocks::read_frame(manager_of(v, "DataFrame")?)
    }

    /// Read a `to_pickle` file's bytes (plain, or compressed as
    /// [`crate::joblib::load`] detects it) holding a `DataFrame`; a
    /// `Series` is read as a frame of one column.
    pub fn load(data: &[u8]) -> Result<DataFrame> {
        load(data).map(Pickled::into_frame)
    }

    /// [`DataFrame::load`] of a file.
    pub fn load_path(path: impl AsRef<Path>) -> Result<DataFrame> {
        load_path(path).map(Pickled::into_frame)
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// True if the frame has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The first column whose label prints as `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name.to_string() == name)
    }

    /// `df.to_csv(index=False)`: a header row of the column labels, then one
    /// row per index entry; see [`DataFrame::write_csv`].
    pub fn to_csv(&self) -> Result<String> {
        let mut out = Vec::new();
        self.write_csv(&mut out)?;
        String::from_utf8(out).map_err(|_| Error::data("CSV output is not UTF-8"))
    }

    /// Write what `df.to_csv(index=False)` writes: fields quoted as
    /// `csv.QUOTE_MINIMAL` quotes them, `"` doubled, `\n` after each row,
    /// nulls empty, floats as numpy prints them (Python's `repr` for
    /// float64, numpy 2.3's `str` for float32: see [`CsvOptions`]),
    /// datetimes and timedeltas as pandas formats a column of them (a
    /// named time zone's offsets from the system's tz database, the
    /// folders of Python's `zoneinfo.TZPATH` or `$TZDIR`). Columns whose
    /// values pandas formats through Python objects this crate does not
    /// model (object columns holding objects other than str, int, float,
    /// bool and None; float16; zones missing from the tz database) are an
    /// `Unsupported` error rather than a guess.
    pub fn write_csv<W: std::io::Write>(&self, out: W) -> Result<()> {
        csv::write_frame(self, out, CsvOptions::default())
    }

    /// [`DataFrame::write_csv`] with options (the numpy whose float32
    /// digits to write).
    pub fn write_csv_with<W: std::io::Write>(&self, out: W, options: CsvOptions) -> Result<()> {
        csv::write_frame(self, out, options)
    }
}

impl Series {
    /// Read a pickled `pandas.Series`.
    pub fn from_value(v: ValueRef<'_>) -> Result<Series> {
        if legacy_ndarray_class(v).is_some_and(|n| n.ends_with("Series")) {
            return blocks::read_legacy_series(v);
        }
        match pandas_class(v) {
            Some(n) if n.ends_with("Series") => {}
            _ => return Err(Error::data(format!("not a pandas Series: {}", describe(v)))),
        }
        let mgr = manager_of(v, "Series")?;
        let name = match v
            .state_dict()
            .and_then(|s| s.get("_name").or_else(|| s.get("name")))
        {
            Some(n) => Label::from_value(n),
            None => Label::None,
        };
        let (mut column, index) = blocks::read_series(mgr)?;
        column.name = name;
        Ok(Series { column, index })
    }

    /// A frame of this series' one column (`s.to_frame()`: an unnamed
    /// series' column is labelled 0, so `to_csv` writes what
    /// `s.to_csv(index=False)` writes).
    pub fn into_frame(self) -> DataFrame {
        let mut column = self.column;
        if column.name == Label::None {
            column.name = Label::Int(0);
        }
        DataFrame {
            columns: vec![column],
            index: self.index,
            columns_name: Label::None,
        }
    }
}

/// The columns a block's values hold: one per row of a 2-D numpy array,
/// one for a 1-D array or an extension array.
pub(crate) fn read_array(v: ValueRef<'_>) -> Result<Vec<Column>> {
    nested(|| read_array_inner(v))
}

fn read_array_inner(v: ValueRef<'_>) -> Result<Vec<Column>> {
    if crate::ml::numpy::is_ndarray(v) {
        let arr = crate::ml::numpy::NdArray::from_value(v)?;
        return extension::numpy_columns(&arr);
    }
    if let Some(cols) = extension::read_extension(v)? {
        return Ok(cols);
    }
    // pandas < 0.24 kept a time zone's datetimes in a block as a
    // `DatetimeIndex`; an Index as values is read as its one column.
    if let Some(ix) = index::try_read_index(v)? {
        return match ix {
            Index::Multi(_) => Err(Error::data("a MultiIndex as a block's values")),
            ix => Ok(vec![ix.to_column_checked()?]),
        };
    }
    Err(Error::unsupported(format!(
        "pandas block values of an unknown kind: {}",
        describe(v)
    )))
}

/// The one column of a 1-D array value (numpy or extension).
pub(crate) fn read_1d(v: ValueRef<'_>, what: &str) -> Result<Column> {
    let mut cols = read_array(v)?;
    if cols.len() != 1 {
        return Err(Error::data(format!(
            "{what}: expected a 1-D array, got one of {} rows",
            cols.len()
        )));
    }
    Ok(cols.remove(0))
}

/// A pandas index (`read_index` of index.rs, for the modules below it).
pub(crate) fn read_index(v: ValueRef<'_>) -> Result<Index> {
    index::read_index(v)
}

/// The element count of an array's shape, checked.
pub(crate) fn element_count(arr: &crate::ml::numpy::NdArray<'_>) -> Result<usize> {
    arr.shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| Error::data("array shape overflows"))
}

/// `str(StringDtype)`: `"str"` for pandas 3's NaN-semantics string dtype,
/// `"string"` for `pd.NA` ones.
pub(crate) fn string_dtype_name(d: ValueRef<'_>) -> String {
    let args = d
        .as_object()
        .map(|o| d.at(o.args))
        .and_then(|a| a.as_slice().map(|_| a));
    let na = args.and_then(|a| a.index(1)).or_else(|| {
        d.state_dict()
            .and_then(|s| s.get("_na_value").or_else(|| s.get("na_value")))
    });
    match na.map(|n| n.kind()) {
        Some(Kind::Float(f)) if f.is_nan() => "str".into(),
        _ => "string".into(),
    }
}

/// How deep arrays may nest in one another (a categorical's categories,
/// a `MultiIndex`'s levels, an index as block values): a pickle can make
/// them refer to themselves.
const MAX_NESTING: u32 = 32;

/// The columns this reader makes for one frame, at most: a block of
/// `(k, 0)` or a `RangeIndex` of columns costs nothing in the pickle.
pub(crate) const MAX_COLUMNS: usize = 1 << 20;

/// The most values a `RangeIndex` is expanded into, when it must be (the
/// categories or the level of a `MultiIndex`, a columns axis).
pub(crate) const MAX_EXPANDED_RANGE: usize = 1 << 24;

thread_local! {
    static NESTING: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Run `f` one level deeper, refusing to go past [`MAX_NESTING`].
pub(crate) fn nested<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    let depth = NESTING.with(|d| d.get());
    if depth >= MAX_NESTING {
        return Err(Error::limit(format!(
            "pandas arrays nested more than {MAX_NESTING} deep (a cycle?)"
        )));
    }
    NESTING.with(|d| d.set(depth + 1));
    let out = f();
    NESTING.with(|d| d.set(depth));
    out
}

fn describe(v: ValueRef<'_>) -> String {
    match v.class() {
        Some((m, n)) => format!("an instance of {m}.{n}"),
        None => format!("a {}", v.type_name()),
    }
}

/// Read the `DataFrame` or `Series` at the root of a document.
pub fn from_document(doc: &Document) -> Result<Pickled> {
    from_value(doc.root())
}

/// Read a pickled `DataFrame` or `Series`.
pub fn from_value(v: ValueRef<'_>) -> Result<Pickled> {
    match pandas_class(v).or_else(|| legacy_ndarray_class(v)) {
        Some(n) if n.ends_with("Series") => Series::from_value(v).map(Pickled::Series),
        _ => DataFrame::from_value(v).map(Pickled::DataFrame),
    }
}

/// Read a `to_pickle` file's bytes: a plain pickle, a joblib file, or one
/// compressed with gzip, bz2, xz or zlib (as `to_pickle("x.pkl.gz")` and
/// friends write it; those need the `joblib-compress` feature). pandas'
/// zstd and zip compressions are an `Unsupported` error.
pub fn load(data: &[u8]) -> Result<Pickled> {
    load_with(data, crate::LoadOptions::default())
}

/// [`load`] with the loader's options (`Encoding::Latin1` for pandas 0.x
/// files written by Python 2, limits).
pub fn load_with(data: &[u8], options: crate::LoadOptions) -> Result<Pickled> {
    refuse_unsupported(data)?;
    let doc = crate::ml::joblib::load_with(data, options)?;
    from_document(&doc)
}

/// [`load`] of a file (joblib side files next to it are read too).
pub fn load_path(path: impl AsRef<Path>) -> Result<Pickled> {
    let path = path.as_ref();
    let mut head = [0u8; 4];
    if let Ok(mut f) = std::fs::File::open(path) {
        let n = std::io::Read::read(&mut f, &mut head).unwrap_or(0);
        refuse_unsupported(&head[..n])?;
    }
    let doc = crate::ml::joblib::load_path(path)?;
    from_document(&doc)
}

fn refuse_unsupported(head: &[u8]) -> Result<()> {
    match head {
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Err(Error::unsupported(
            "zstd-compressed pickle: this crate has no zstd decoder (decompress it first)",
        )),
        [b'P', b'K', 3, 4, ..] => Err(Error::unsupported(
            "zip-compressed pickle (to_pickle(\"x.zip\")): unzip it first",
        )),
        _ => Ok(()),
    }
}
