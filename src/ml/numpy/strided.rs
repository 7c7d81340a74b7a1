//! Strided views brought into C order: [`gather_c_order`] (bytes) and
//! [`gather_elements`] (decoded elements), for numpy's Fortran-order arrays
//! and torch's non-contiguous tensors.
//!
//! A view is walked as runs ([`for_each_run`]): its dimensions are merged
//! wherever one steps exactly over the next (a C-contiguous view is a single
//! run, a row-major block of a matrix is one run per row), and each run is
//! copied as one slice when its elements are adjacent. Only a run whose
//! elements are apart (a transpose's columns) is copied element by element,
//! by code generic over the item size, so that each copy is a fixed-size
//! move rather than a call to `memcpy`.

use super::element::Element;
use crate::error::{Error, Result};

fn oob() -> Error {
    Error::data("array view reaches outside its storage")
}

/// Element count of a view, and the index one past its last element;
/// `None` for the count when the shape overflows.
fn extent(shape: &[usize], strides: &[usize], offset: usize) -> Result<(usize, usize)> {
    let n = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| Error::data("array shape overflows"))?;
    if n == 0 {
        return Ok((0, 0));
    }
    let last = shape
        .iter()
        .zip(strides)
        .try_fold(offset, |a, (&d, &s)| {
            (d - 1).checked_mul(s).and_then(|x| a.checked_add(x))
        })
        .ok_or_else(oob)?;
    Ok((n, last.checked_add(1).ok_or_else(oob)?))
}

/// A view's dimensions as `(size, stride)`, outermost first, merged:
/// dimensions of size 1 are dropped, and a dimension is merged into the one
/// before it where that one's stride is its stride times its size. `None`
/// for an empty view; no dimensions for a single element.
fn merged(shape: &[usize], strides: &[usize]) -> Option<Vec<(usize, usize)>> {
    if shape.contains(&0) {
        return None;
    }
    let mut dims: Vec<(usize, usize)> = Vec::with_capacity(shape.len());
    for (&d, &s) in shape.iter().zip(strides) {
        if d == 1 {
            continue;
        }
        match dims.last_mut() {
            Some(prev) if s.checked_mul(d) == Some(prev.1) => *prev = (prev.0 * d, s),
            _ => dims.push((d, s)),
        }
    }
    Some(dims)
}

/// Call `f(first)` with the first element's index of each position of the
/// `outer` dimensions, in C order (once, with `offset`, for none).
fn for_each_base(outer: &[(usize, usize)], offset: usize, mut f: impl FnMut(usize)) {
    let mut idx = vec![0usize; outer.len()];
    let mut pos = offset;
    loop {
        f(pos);
        // Advance the multi-index, last dimension fastest.
        let mut d = outer.len();
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            idx[d] += 1;
            pos += outer[d].1;
            if idx[d] < outer[d].0 {
                break;
            }
            pos -= outer[d].1 * outer[d].0;
            idx[d] = 0;
        }
    }
}

/// Call `visit(first, len, step)` for each run of a strided view in C order:
/// `len` elements, the first at element index `first`, `step` elements
/// apart, the view's dimensions merged ([`merged`]) so that runs are as long
/// as the layout allows. Nothing is visited for an empty view; `strides` has
/// one entry per dimension (checked by the callers).
pub(crate) fn for_each_run(
    shape: &[usize],
    strides: &[usize],
    offset: usize,
    mut visit: impl FnMut(usize, usize, usize),
) {
    let Some(dims) = merged(shape, strides) else {
        return;
    };
    let Some((&(len, step), outer)) = dims.split_last() else {
        visit(offset, 1, 1);
        return;
    };
    for_each_base(outer, offset, |first| visit(first, len, step));
}

/// Copy the elements of a strided view (`strides` and `offset` in elements)
/// of `src` into a new C-order buffer.
pub fn gather_c_order(
    src: &[u8],
    shape: &[usize],
    strides: &[usize],
    offset: usize,
    itemsize: usize,
) -> Result<Vec<u8>> {
    let (n, end) = extent(shape, strides, offset)?;
    if end.checked_mul(itemsize).map_or(true, |e| e > src.len()) {
        return Err(oob());
    }
    let mut out = vec![0u8; n * itemsize];
    match itemsize {
        1 => gather_n::<1>(src, shape, strides, offset, &mut out),
        2 => gather_n::<2>(src, shape, strides, offset, &mut out),
        4 => gather_n::<4>(src, shape, strides, offset, &mut out),
        8 => gather_n::<8>(src, shape, strides, offset, &mut out),
        16 => gather_n::<16>(src, shape, strides, offset, &mut out),
        size => {
            let mut at = 0;
            for_each_run(shape, strides, offset, |first, len, step| {
                for i in 0..len {
                    let p = (first + i * step) * size;
                    out[at..at + size].copy_from_slice(&src[p..p + size]);
                    at += size;
                }
            });
        }
    }
    Ok(out)
}

/// Edge of the square tiles a transpose-like view is copied in.
const TILE: usize = 16;

/// [`gather_c_order`] for items of `N` bytes, into `out` (sized for it;
/// bounds checked by the caller). Where the innermost dimension steps over
/// elements, the two innermost are copied in tiles of [`TILE`] by
/// [`TILE`]: a transpose read row by row would touch a new cache line (and
/// often a new page) for every element, and a tile reuses each line it
/// loads.
fn gather_n<const N: usize>(
    src: &[u8],
    shape: &[usize],
    strides: &[usize],
    offset: usize,
    out: &mut [u8],
) {
    let Some(dims) = merged(shape, strides) else {
        return;
    };
    let item = |p: usize| -> &[u8; N] { src[p * N..p * N + N].try_into().expect("N bytes") };
    let mut at = 0;
    match dims[..] {
        [] => out[..N].copy_from_slice(item(offset)),
        [.., (b, 1)] => {
            for_each_base(&dims[..dims.len() - 1], offset, |first| {
                out[at..at + b * N].copy_from_slice(&src[first * N..(first + b) * N]);
                at += b * N;
            });
        }
        [(b, sb)] => {
            for (j, d) in out.chunks_exact_mut(N).enumerate().take(b) {
                d.copy_from_slice(item(offset + j * sb));
            }
        }
        [.., (a, sa), (b, sb)] => {
            let outer = &dims[..dims.len() - 2];
            for_each_base(outer, offset, |first| {
                let block = &mut out[at..at + a * b * N];
                for i0 in (0..a).step_by(TILE) {
                    for j0 in (0..b).step_by(TILE) {
                        for i in i0..(i0 + TILE).min(a) {
                            let row = first + i * sa;
                            let dst =
                                &mut block[(i * b + j0) * N..(i * b + (j0 + TILE).min(b)) * N];
                            for (k, d) in dst.chunks_exact_mut(N).enumerate() {
                                d.copy_from_slice(item(row + (j0 + k) * sb));
                            }
                        }
                    }
                }
                at += a * b * N;
            });
        }
    }
}

/// The elements of a strided view of `src` (whose items are `T::SIZE`
/// bytes, big-endian if `big_endian`) decoded in C order, straight into the
/// result.
#[cfg_attr(not(feature = "torch"), allow(dead_code))]
pub(crate) fn gather_elements<T: Element>(
    src: &[u8],
    shape: &[usize],
    strides: &[usize],
    offset: usize,
    big_endian: bool,
) -> Result<Vec<T>> {
    let size = T::SIZE;
    let (n, end) = extent(shape, strides, offset)?;
    if end.checked_mul(size).map_or(true, |e| e > src.len()) {
        return Err(oob());
    }
    let mut out = Vec::with_capacity(n);
    for_each_run(shape, strides, offset, |first, len, step| {
        if step == 1 || len == 1 {
            T::extend_from_bytes(
                &mut out,
                &src[first * size..(first + len) * size],
                big_endian,
            );
        } else {
            out.extend((0..len).map(|i| {
                let p = (first + i * step) * size;
                T::read(&src[p..p + size], big_endian)
            }));
        }
    });
    Ok(out)
}

/// Reverse the bytes of every `unit`-byte value of `data` in place (a
/// big-endian buffer made little-endian, or back); `unit` 1 leaves it.
#[cfg_attr(not(feature = "torch"), allow(dead_code))]
pub(crate) fn swap_units(data: &mut [u8], unit: usize) {
    fn swap<const N: usize>(data: &mut [u8]) {
        for c in data.chunks_exact_mut(N) {
            c.reverse();
        }
    }
    match unit {
        0 | 1 => {}
        2 => swap::<2>(data),
        4 => swap::<4>(data),
        8 => swap::<8>(data),
        16 => swap::<16>(data),
        n => {
            for c in data.chunks_exact_mut(n) {
                c.reverse();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference: one element at a time, last index fastest.
    fn naive(
        src: &[u8],
        shape: &[usize],
        strides: &[usize],
        offset: usize,
        size: usize,
    ) -> Vec<u8> {
        let n: usize = shape.iter().product();
        let mut out = Vec::new();
        for flat in 0..n {
            let mut rest = flat;
            let mut pos = offset;
            for d in (0..shape.len()).rev() {
                pos += (rest % shape[d]) * strides[d];
                rest /= shape[d];
            }
            out.extend_from_slice(&src[pos * size..pos * size + size]);
        }
        out
    }

    #[test]
    fn runs_merge_what_the_layout_allows() {
        let runs = |shape: &[usize], strides: &[usize], offset| {
            let mut v = Vec::new();
            for_each_run(shape, strides, offset, |a, b, c| v.push((a, b, c)));
            v
        };
        // C-contiguous: one run.
        assert_eq!(runs(&[2, 3, 4], &[12, 4, 1], 5), [(5, 24, 1)]);
        // A transpose: one run per column, elements apart.
        assert_eq!(runs(&[3, 2], &[1, 3], 0), [(0, 2, 3), (1, 2, 3), (2, 2, 3)]);
        // Rows of a wider matrix: one run each.
        assert_eq!(runs(&[2, 3], &[10, 1], 1), [(1, 3, 1), (11, 3, 1)]);
        // Size-1 dimensions do not split runs; a scalar is one run.
        assert_eq!(runs(&[2, 1, 3], &[3, 99, 1], 0), [(0, 6, 1)]);
        assert_eq!(runs(&[], &[], 7), [(7, 1, 1)]);
        assert!(runs(&[2, 0], &[1, 1], 0).is_empty());
        // Broadcast (stride 0) dimensions merge with each other only.
        assert_eq!(runs(&[2, 3], &[0, 0], 4), [(4, 6, 0)]);
        assert_eq!(runs(&[2, 3], &[0, 1], 0), [(0, 3, 1), (0, 3, 1)]);
    }

    #[test]
    fn gathers_agree_with_the_element_by_element_reference() {
        let src: Vec<u8> = (0..=250).cycle().take(80_000).collect();
        let views: &[(&[usize], &[usize], usize)] = &[
            (&[4, 5], &[5, 1], 0),
            (&[5, 4], &[1, 5], 3),
            (&[2, 3, 4], &[1, 2, 6], 0),
            (&[2, 3, 4], &[24, 1, 3], 2),
            (&[3, 2, 2], &[8, 4, 1], 1),
            (&[3, 4], &[0, 1], 0),
            (&[3, 4], &[1, 0], 0),
            (&[6], &[3], 2),
            // Transposes larger than a tile, whole and partial tiles.
            (&[70, 45], &[1, 70], 0),
            (&[3, 40, 35], &[1400, 1, 40], 5),
            (&[4, 33, 2], &[1, 8, 4], 0),
            (&[], &[], 9),
            (&[3, 0], &[1, 1], 0),
        ];
        for &(shape, strides, offset) in views {
            for size in [1, 2, 3, 4, 8, 16] {
                let want = naive(&src, shape, strides, offset, size);
                let got = gather_c_order(&src, shape, strides, offset, size).unwrap();
                assert_eq!(got, want, "{shape:?} {strides:?} {offset} size {size}");
            }
            let want: Vec<u32> = naive(&src, shape, strides, offset, 4)
                .chunks_exact(4)
                .map(|c| u32::from_be_bytes(c.try_into().unwrap()))
                .collect();
            let got = gather_elements::<u32>(&src, shape, strides, offset, true).unwrap();
            assert_eq!(got, want, "{shape:?} {strides:?} {offset}");
        }
        // Outside the source: an error, not a panic.
        assert!(gather_c_order(&src, &[2, 2], &[80_000, 1], 0, 1).is_err());
        assert!(gather_c_order(&src, &[20_001], &[1], 0, 4).is_err());
        assert!(gather_elements::<u64>(&src, &[2], &[usize::MAX], 0, false).is_err());
    }

    #[test]
    fn swapping_units() {
        let mut b: Vec<u8> = (0..16).collect();
        swap_units(&mut b, 4);
        assert_eq!(&b[..8], &[3, 2, 1, 0, 7, 6, 5, 4]);
        swap_units(&mut b, 4);
        swap_units(&mut b, 1);
        assert_eq!(b, (0..16).collect::<Vec<u8>>());
        swap_units(&mut b, 16);
        assert_eq!(b, (0..16).rev().collect::<Vec<u8>>());
    }
}
