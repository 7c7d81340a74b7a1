//! The `BlockManager` of each pandas generation: its axes, its blocks, and
//! where each block's columns go.
//!
//! * pandas 1.1 and later: `BlockManager(blocks, axes)` by REDUCE, each
//!   block `_unpickle_block(values, placement, ndim)`, the placement a
//!   `slice` or an array of column positions.
//! * pandas 0.14.1 and later (and `SingleBlockManager` to this day): the
//!   state `(axes, values, items, {"0.14.1": {"axes": .., "blocks":
//!   [{"values": .., "mgr_locs": ..}]}})`.
//! * pandas 0.13 and older: the state `(axes, values, items)`, each block
//!   placed by the labels of its items.

use super::column::{Column, Label};
use super::index::{read_index, Index};
use super::read_array;
use super::DataFrame;
use crate::error::{Error, Result};
use crate::ml::numpy::{is_ndarray, NdArray};
use crate::value::{Kind, ValueRef};

/// A manager's axes and its blocks, each with its placement.
struct Manager<'a> {
    axes: Vec<ValueRef<'a>>,
    blocks: Vec<(ValueRef<'a>, Placement<'a>)>,
}

enum Placement<'a> {
    /// A `slice`, an array or a list of positions: `mgr_locs`.
    Locs(ValueRef<'a>),
    /// pandas < 0.14.1: the labels (an Index) of the block's items.
    Items(ValueRef<'a>),
    /// A Series' one block: every row.
    All,
}

fn manager(mgr: ValueRef<'_>) -> Result<Manager<'_>> {
    let o = mgr
        .as_object()
        .ok_or_else(|| Error::data(format!("pandas manager is a {}", mgr.type_name())))?;
    match mgr.class() {
        Some((m, n)) if m.starts_with("pandas") && n.ends_with("BlockManager") => {}
        _ => {
            return Err(Error::data(format!(
                "expected a pandas BlockManager, got {}",
                super::describe(mgr)
            )))
        }
    }
    let single = mgr.class().is_some_and(|(_, n)| n == "SingleBlockManager");
    if let Some(state) = mgr.state() {
        return from_state(state);
    }
    // `BlockManager.__reduce__`: `(type(self), (blocks, axes))`, and
    // `(block, axis)` for a SingleBlockManager.
    let args = mgr.at(o.args);
    let (blocks, axes) = match (args.index(0), args.index(1)) {
        (Some(b), Some(a)) => (b, a),
        _ => return Err(Error::data("pandas BlockManager without blocks and axes")),
    };
    let axes: Vec<ValueRef<'_>> = if single && axes.as_slice().is_none() {
        vec![axes]
    } else {
        axes.iter().collect()
    };
    let block_list: Vec<ValueRef<'_>> = if single && blocks.as_slice().is_none() {
        vec![blocks]
    } else {
        blocks.iter().collect()
    };
    let mut out = Vec::with_capacity(block_list.len());
    for b in block_list {
        out.push(unpickle_block(b)?);
    }
    Ok(Manager { axes, blocks: out })
}

/// `_unpickle_block(values, placement, ndim)`, or a block dict.
fn unpickle_block(b: ValueRef<'_>) -> Result<(ValueRef<'_>, Placement<'_>)> {
    if b.as_pairs().is_some() {
        return block_dict(b);
    }
    match super::callable(b) {
        Some((m, "_unpickle_block" | "new_block")) if m.starts_with("pandas") => {}
        _ => {
            return Err(Error::data(format!(
                "expected a pandas block, got {}",
                super::describe(b)
            )))
        }
    }
    let o = b.as_object().ok_or_else(|| Error::data("pandas block"))?;
    let args = b.at(o.args);
    match (args.index(0), args.index(1)) {
        (Some(values), Some(locs)) => Ok((values, Placement::Locs(locs))),
        _ => Err(Error::data("pandas block without values and placement")),
    }
}

fn block_dict(b: ValueRef<'_>) -> Result<(ValueRef<'_>, Placement<'_>)> {
    let values = b
        .get("values")
        .ok_or_else(|| Error::data("pandas block dict without values"))?;
    let locs = b
        .get("mgr_locs")
        .ok_or_else(|| Error::data("pandas block dict without mgr_locs"))?;
    Ok((values, Placement::Locs(locs)))
}

fn from_state(state: ValueRef<'_>) -> Result<Manager<'_>> {
    let items: Vec<ValueRef<'_>> = state.iter().collect();
    if items.len() >= 4 {
        if let Some(extra) = items[3].get("0.14.1") {
            let axes = extra
                .get("axes")
                .ok_or_else(|| Error::data("pandas manager state without axes"))?;
            let blocks = extra
                .get("blocks")
                .ok_or_else(|| Error::data("pandas manager state without blocks"))?;
            let mut out = Vec::new();
            for b in blocks.iter() {
                out.push(block_dict(b)?);
            }
            return Ok(Manager {
                axes: axes.iter().collect(),
                blocks: out,
            });
        }
    }
    if items.len() >= 3 {
        // (axes, block values, block items)
        let axes: Vec<ValueRef<'_>> = items[0].iter().collect();
        let values: Vec<ValueRef<'_>> = items[1].iter().collect();
        let labels: Vec<ValueRef<'_>> = items[2].iter().collect();
        if values.len() != labels.len() {
            return Err(Error::data(format!(
                "pandas manager state of {} block values and {} block items",
                values.len(),
                labels.len()
            )));
        }
        let single = axes.len() == 1;
        let blocks = values
            .into_iter()
            .zip(labels)
            .map(|(v, l)| {
                (
                    v,
                    if single {
                        Placement::All
                    } else {
                        Placement::Items(l)
                    },
                )
            })
            .collect();
        return Ok(Manager { axes, blocks });
    }
    Err(Error::unsupported(format!(
        "pandas manager state of {} items (pre-0.13 layout)",
        items.len()
    )))
}

/// The positions of a block's columns among `ncols`.
fn positions(p: &Placement<'_>, ncols: usize, column_labels: &[Label]) -> Result<Vec<usize>> {
    match p {
        Placement::All => Ok((0..ncols).collect()),
        Placement::Locs(v) => locs(*v, ncols),
        Placement::Items(items) => {
            let items = read_index(*items)?;
            if items.len() > ncols {
                return Err(Error::data(format!(
                    "pandas block of {} items in a frame of {ncols} columns",
                    items.len()
                )));
            }
            let want = items.labels();
            want.iter()
                .map(|l| {
                    let mut hits = column_labels
                        .iter()
                        .enumerate()
                        .filter(|(_, c)| same_label(c, l));
                    match (hits.next(), hits.next()) {
                        (Some((i, _)), None) => Ok(i),
                        (None, _) => Err(Error::data(format!(
                            "pandas block item {} is not a column",
                            l.repr()
                        ))),
                        (Some(_), Some(_)) => Err(Error::unsupported(format!(
                            "pandas < 0.14.1 frame with the column {} twice",
                            l.repr()
                        ))),
                    }
                })
                .collect()
        }
    }
}

fn same_label(a: &Label, b: &Label) -> bool {
    match (a, b) {
        (Label::Float(x), Label::Float(y)) => x == y || x.is_nan() && y.is_nan(),
        _ => a == b,
    }
}

/// A `slice(start, stop, step)`, an int array, a list or an int.
fn locs(v: ValueRef<'_>, ncols: usize) -> Result<Vec<usize>> {
    let out_of_range =
        |p: i64| Error::data(format!("pandas block placed at column {p} of {ncols}"));
    let check = |p: i64| -> Result<usize> {
        usize::try_from(p)
            .ok()
            .filter(|&u| u < ncols)
            .ok_or_else(|| out_of_range(p))
    };
    if let Some((m, "slice")) = super::callable(v) {
        if matches!(m, "builtins" | "__builtin__") {
            let args = v.at(v
                .as_object()
                .map(|o| o.args)
                .ok_or_else(|| Error::data("slice"))?);
            let get = |i: usize| args.index(i).filter(|x| !x.is_none()).map(|x| x.as_i64());
            let start = match get(0) {
                None => 0,
                Some(s) => s.ok_or_else(|| Error::data("slice start is not an int"))?,
            };
            let stop = match get(1) {
                None => ncols as i64,
                Some(s) => s.ok_or_else(|| Error::data("slice stop is not an int"))?,
            };
            let step = match get(2) {
                None => 1,
                Some(s) => s.ok_or_else(|| Error::data("slice step is not an int"))?,
            };
            if step <= 0 {
                return Err(Error::data(format!(
                    "pandas block placed by a slice of step {step}"
                )));
            }
            let mut out = Vec::new();
            let mut p = start;
            while p < stop {
                out.push(check(p)?);
                p = p
                    .checked_add(step)
                    .ok_or_else(|| Error::data("slice overflows"))?;
            }
            return Ok(out);
        }
    }
    if let Some(i) = v.as_i64() {
        return Ok(vec![check(i)?]);
    }
    if let Kind::List(_) | Kind::Tuple(_) = v.kind() {
        return v
            .iter()
            .map(|x| {
                x.as_i64()
                    .ok_or_else(|| Error::data("pandas block placement holds a non-int"))
                    .and_then(check)
            })
            .collect();
    }
    // `BlockPlacement` objects of some versions keep the array in args.
    if !is_ndarray(v) {
        if let Some(inner) = v.as_object().and_then(|o| v.at(o.args).index(0)) {
            return locs(inner, ncols);
        }
    }
    let arr = NdArray::from_value(v)?;
    if !matches!(arr.dtype.kind, 'i' | 'u') || arr.shape.len() != 1 {
        return Err(Error::data(format!(
            "pandas block placement of dtype {} and shape {:?}",
            arr.dtype.str(),
            arr.shape
        )));
    }
    let p = arr.to_f64_vec()?;
    p.into_iter()
        .map(|x| {
            if x.fract() != 0.0 || x.abs() > 9.0e15 {
                Err(out_of_range(-1))
            } else {
                check(x as i64)
            }
        })
        .collect()
}

/// A DataFrame from its manager.
pub(crate) fn read_frame(mgr: ValueRef<'_>) -> Result<DataFrame> {
    let m = manager(mgr)?;
    if m.axes.len() != 2 {
        return Err(Error::data(format!(
            "pandas DataFrame manager of {} axes",
            m.axes.len()
        )));
    }
    let columns_ix = read_index(m.axes[0])?;
    let index = read_index(m.axes[1])?;
    if columns_ix.len() > super::MAX_COLUMNS {
        return Err(Error::limit(format!(
            "pandas frame of {} columns (at most {})",
            columns_ix.len(),
            super::MAX_COLUMNS
        )));
    }
    let labels = match &columns_ix {
        // Datetime and timedelta labels are what pandas prints for them
        // in a CSV header: the index formatted as a column of its kind.
        Index::Column(c)
            if matches!(
                c.values,
                super::Values::Datetime { .. } | super::Values::Timedelta { .. }
            ) =>
        {
            c.csv_fields(super::CsvOptions::default())?
                .into_iter()
                .map(Label::Other)
                .collect()
        }
        ix => ix.labels_checked()?,
    };
    let ncols = labels.len();
    let nrows = index.len();
    let mut slots: Vec<Option<Column>> = vec![None; ncols];
    for (values, placement) in &m.blocks {
        let cols = read_array(*values)?;
        let pos = positions(placement, ncols, &labels)?;
        if pos.len() != cols.len() {
            return Err(Error::data(format!(
                "pandas block of {} columns placed at {} positions",
                cols.len(),
                pos.len()
            )));
        }
        for (p, mut col) in pos.into_iter().zip(cols) {
            if col.len() != nrows {
                return Err(Error::data(format!(
                    "pandas column {} of {} rows in a frame of {nrows}",
                    labels[p].repr(),
                    col.len()
                )));
            }
            if slots[p].is_some() {
                return Err(Error::data(format!(
                    "pandas column {} placed twice",
                    labels[p].repr()
                )));
            }
            col.name = labels[p].clone();
            slots[p] = Some(col);
        }
    }
    let mut columns = Vec::with_capacity(ncols);
    for (i, s) in slots.into_iter().enumerate() {
        columns.push(s.ok_or_else(|| {
            Error::data(format!("pandas column {} is in no block", labels[i].repr()))
        })?);
    }
    let columns_name = match &columns_ix {
        Index::Multi(levels) if levels.iter().all(|l| l.name == Label::None) => Label::None,
        Index::Multi(levels) => Label::Tuple(levels.iter().map(|l| l.name.clone()).collect()),
        ix => ix.names().into_iter().next().unwrap_or(Label::None),
    };
    Ok(DataFrame {
        columns,
        index,
        columns_name,
    })
}

/// A Series' column and index from its `SingleBlockManager`.
pub(crate) fn read_series(mgr: ValueRef<'_>) -> Result<(Column, Index)> {
    let m = manager(mgr)?;
    if m.axes.len() != 1 || m.blocks.len() != 1 {
        return Err(Error::data(format!(
            "pandas Series manager of {} axes and {} blocks",
            m.axes.len(),
            m.blocks.len()
        )));
    }
    let index = read_index(m.axes[0])?;
    let mut cols = read_array(m.blocks[0].0)?;
    if cols.len() != 1 {
        return Err(Error::data("pandas Series block of more than one column"));
    }
    let col = cols.remove(0);
    if col.len() != index.len() {
        return Err(Error::data(format!(
            "pandas Series of {} values and an index of {}",
            col.len(),
            index.len()
        )));
    }
    Ok((col, index))
}

/// A pandas < 0.13 `Series`: an ndarray subclass whose BUILD state is
/// `(ndarray_state, (index, name))`.
pub(crate) fn read_legacy_series(v: ValueRef<'_>) -> Result<super::Series> {
    let arr = NdArray::from_value(v)?;
    let mut cols = super::extension::numpy_columns(&arr)?;
    if cols.len() != 1 {
        return Err(Error::data("pandas Series of more than one dimension"));
    }
    let mut column = cols.remove(0);
    let extra = v
        .state()
        .and_then(|s| s.index(1))
        .ok_or_else(|| Error::data("legacy pandas Series without its index"))?;
    let index = read_index(
        extra
            .index(0)
            .ok_or_else(|| Error::data("legacy pandas Series without its index"))?,
    )?;
    column.name = extra.index(1).map_or(Label::None, Label::from_value);
    if column.len() != index.len() {
        return Err(Error::data(format!(
            "pandas Series of {} values and an index of {}",
            column.len(),
            index.len()
        )));
    }
    Ok(super::Series { column, index })
}
