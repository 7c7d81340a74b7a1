//! Python 2 ↔ 3 name mapping (`fix_imports`), as CPython's `_compat_pickle`.
//!
//! Loading a pickle of protocol 0–2 maps Python 2 names (`__builtin__.set`,
//! `copy_reg._reconstructor`) to their Python 3 homes; writing at protocol 0–2
//! maps back, so Python 2 could read the output and CPython's bytes are
//! reproduced exactly. The tables are generated from CPython
//! (`tests/scripts/gen_compat_table.py`).

#[path = "compat_table.rs"]
mod table;

fn lookup<'a, K: Ord + ?Sized, V: Copy>(t: &'a [(&'a K, V)], key: &K) -> Option<V> {
    t.binary_search_by(|(k, _)| (*k).cmp(key))
        .ok()
        .map(|i| t[i].1)
}

fn lookup_pair(t: &[(table::Name, table::Name)], m: &str, n: &str) -> Option<table::Name> {
    t.binary_search_by(|((km, kn), _)| (*km, *kn).cmp(&(m, n)))
        .ok()
        .map(|i| t[i].1)
}

/// The Python 3 name of a global found in a protocol 0–2 pickle
/// (what `Unpickler.find_class` does with `fix_imports=True`).
pub fn to_python3<'a>(module: &'a str, name: &'a str) -> (&'a str, &'a str) {
    if let Some(p) = lookup_pair(table::NAME_MAPPING, module, name) {
        return p;
    }
    if let Some(m) = lookup(table::IMPORT_MAPPING, module) {
        return (m, name);
    }
    (module, name)
}

/// The Python 2 name to write for a global at protocol 0–2
/// (what `Pickler.save_global` does with `fix_imports=True`).
pub fn to_python2<'a>(module: &'a str, name: &'a str) -> (&'a str, &'a str) {
    if let Some(p) = lookup_pair(table::REVERSE_NAME_MAPPING, module, name) {
        return p;
    }
    if let Some(m) = lookup(table::REVERSE_IMPORT_MAPPING, module) {
        return (m, name);
    }
    (module, name)
}

/// The names in Python 3's `builtins` that are functions
/// (`builtin_function_or_method`), not types: `NEWOBJ` of one is refused by
/// CPython ("class argument must be a type"), which the inert loader can
/// tell without importing anything.
pub(crate) const BUILTIN_FUNCTIONS: &[&str] = &[
    "__build_class__",
    "__import__",
    "abs",
    "aiter",
    "all",
    "anext",
    "any",
    "ascii",
    "bin",
    "breakpoint",
    "callable",
    "chr",
    "compile",
    "delattr",
    "dir",
    "divmod",
    "eval",
    "exec",
    "format",
    "getattr",
    "globals",
    "hasattr",
    "hash",
    "hex",
    "id",
    "input",
    "isinstance",
    "issubclass",
    "iter",
    "len",
    "locals",
    "max",
    "min",
    "next",
    "oct",
    "open",
    "ord",
    "pow",
    "print",
    "repr",
    "round",
    "setattr",
    "sorted",
    "sum",
    "vars",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_ways() {
        assert_eq!(to_python3("__builtin__", "set"), ("builtins", "set"));
        assert_eq!(
            to_python3("copy_reg", "_reconstructor"),
            ("copyreg", "_reconstructor")
        );
        assert_eq!(to_python3("__builtin__", "basestring"), ("builtins", "str"));
        assert_eq!(to_python3("pcorpus", "Point"), ("pcorpus", "Point"));
        assert_eq!(to_python2("builtins", "set"), ("__builtin__", "set"));
        assert_eq!(
            to_python2("copyreg", "_reconstructor"),
            ("copy_reg", "_reconstructor")
        );
        assert_eq!(
            to_python2("builtins", "FileNotFoundError"),
            ("exceptions", "OSError")
        );
        assert_eq!(to_python2("_codecs", "encode"), ("_codecs", "encode"));
    }

    #[test]
    fn tables_sorted() {
        assert!(table::IMPORT_MAPPING.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(table::REVERSE_IMPORT_MAPPING
            .windows(2)
            .all(|w| w[0].0 < w[1].0));
        assert!(table::NAME_MAPPING.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(table::REVERSE_NAME_MAPPING
            .windows(2)
            .all(|w| w[0].0 < w[1].0));
    }
}
