//! The source tree shows the crate's layers, and the code keeps to them: a
//! module names only modules of its own folder or of a lower layer, and no
//! two modules name each other, directly or round a longer loop.
//!
//! The layers, bottom up (as `src/lib.rs` lists them):
//! `codec::opcodes` (the table), `error`, `codec`, `value`, `python`,
//! `unpickler` and `pickler` (side by side: neither names the other), `ml`,
//! `de` and `ser` (side by side), `tools`, and the crate root.
//!
//! The check reads `src/` as text: every `crate::`, `super::` and
//! `self::` path outside comments and `#[cfg(test)]` modules (tests may
//! build their inputs with any layer), with the root's `pub use`s resolved
//! to the modules they name.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layer of a module path; `None` for a folder this test does not know
/// (a new top-level module must be given its place here).
fn rank(module: &str) -> Option<u32> {
    if module == "codec::opcodes" || module.starts_with("codec::opcodes::") {
        return Some(0);
    }
    let top = module.split("::").next().unwrap_or("");
    Some(match top {
        // The options types' setter macro: names nothing.
        "options" => 0,
        "error" => 1,
        "codec" => 2,
        "value" => 3,
        "python" => 4,
        "unpickler" | "pickler" => 5,
        "ml" => 6,
        "de" | "ser" => 7,
        "tools" => 8,
        "" => 9,
        _ => return None,
    })
}

fn top(module: &str) -> &str {
    if module == "codec::opcodes" || module.starts_with("codec::opcodes::") {
        return "codec::opcodes";
    }
    module.split("::").next().unwrap_or("")
}

struct Source {
    module: String,
    file: PathBuf,
    code: String,
}

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rs_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The code of a file without comments and without its `#[cfg(test)]`
/// modules (rustfmt closes a module's block with a `}` in column 0).
fn code_of(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let t = line.trim_start();
        if t.starts_with("#[cfg(test)]") || t.starts_with("#[cfg(all(test,") {
            if let Some(next) = lines.peek() {
                let n = next.trim_start();
                if n.starts_with("mod ") || n.starts_with("pub(crate) mod ") {
                    let inline = n.ends_with('{');
                    lines.next();
                    if inline {
                        for l in lines.by_ref() {
                            if l == "}" {
                                break;
                            }
                        }
                    }
                    continue;
                }
            }
        }
        let code = match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        };
        out.push_str(code);
        out.push('\n');
    }
    out
}

/// Each file's module path, following `#[path]` declarations.
fn sources(src: &Path) -> Vec<Source> {
    let mut files = Vec::new();
    rs_files(src, &mut files);
    files.sort();
    let mut by_file: BTreeMap<PathBuf, String> = BTreeMap::new();
    let mut test_files: BTreeSet<PathBuf> = BTreeSet::new();
    for f in &files {
        let rel = f.strip_prefix(src).unwrap();
        let mut parts: Vec<String> = rel
            .iter()
            .map(|c| c.to_string_lossy().into_owned())
            .collect();
        let last = parts.pop().unwrap();
        let stem = last.trim_end_matches(".rs").to_string();
        if stem != "mod" && stem != "lib" {
            parts.push(stem);
        }
        by_file.insert(f.clone(), parts.join("::"));
    }
    // `#[path = "x.rs"] mod name;` puts x.rs at `parent::name`, and a
    // `#[cfg(test)] mod name;` file is test code.
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            let t = l.trim_start();
            let Some(next) = lines.get(i + 1) else {
                continue;
            };
            let decl = next
                .trim_start()
                .trim_start_matches("pub(crate) ")
                .trim_start_matches("pub ");
            let Some(name) = decl.strip_prefix("mod ").and_then(|d| d.strip_suffix(';')) else {
                continue;
            };
            let dir = f.parent().unwrap();
            let parent = by_file[f].clone();
            let child = if parent.is_empty() {
                name.to_string()
            } else {
                format!("{parent}::{name}")
            };
            if let Some(p) = t
                .strip_prefix("#[path = \"")
                .and_then(|p| p.strip_suffix("\"]"))
            {
                by_file.insert(dir.join(p), child);
            } else if t.starts_with("#[cfg(test)]") {
                let is_mod_rs = f
                    .file_name()
                    .is_some_and(|n| n == "mod.rs" || n == "lib.rs");
                let base = if is_mod_rs {
                    dir.to_path_buf()
                } else {
                    dir.join(f.file_stem().unwrap())
                };
                test_files.insert(base.join(format!("{name}.rs")));
                test_files.insert(base.join(name).join("mod.rs"));
            }
        }
    }
    files
        .into_iter()
        .filter(|f| !test_files.contains(f))
        .map(|f| Source {
            module: by_file[&f].clone(),
            code: code_of(&std::fs::read_to_string(&f).unwrap()),
            file: f,
        })
        .collect()
}

fn ident_len(s: &str) -> usize {
    s.bytes()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
        .count()
}

/// The paths a `use` tree or an expression names after `crate::` (or
/// `super::`...): `a::b::{c, d::e}` gives `a::b::c` and `a::b::d::e`.
fn paths_at(s: &str, prefix: Vec<String>, out: &mut Vec<Vec<String>>) -> usize {
    let mut segs = prefix;
    let mut i = 0;
    loop {
        let rest = &s[i..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut j = 0;
            loop {
                let g = &group[j..];
                let ws = g.len() - g.trim_start().len();
                j += ws;
                if group[j..].starts_with('}') {
                    return i + 1 + j + 1;
                }
                j += paths_at(&group[j..], segs.clone(), out);
                let g = &group[j..];
                let ws = g.len() - g.trim_start().len();
                j += ws;
                if group[j..].starts_with(',') {
                    j += 1;
                } else if group[j..].starts_with('}') {
                    return i + 1 + j + 1;
                } else if group[j..].is_empty() {
                    return i + 1 + j;
                } else {
                    // ` as name` and the like: skip to the next item.
                    let k = group[j..].find([',', '}']).unwrap_or(group.len() - j);
                    j += k;
                }
            }
        }
        let n = ident_len(rest);
        if n == 0 {
            out.push(segs);
            return i;
        }
        segs.push(rest[..n].to_string());
        i += n;
        if s[i..].starts_with("::") {
            i += 2;
        } else {
            out.push(segs);
            return i;
        }
    }
}

/// The module a path names: its longest prefix that is a module, with the
/// root's re-exports followed.
fn resolve(
    path: &[String],
    modules: &BTreeSet<String>,
    reexports: &BTreeMap<String, Vec<String>>,
) -> String {
    if let Some(first) = path.first() {
        if !modules.contains(first.as_str()) {
            if let Some(target) = reexports.get(first) {
                let mut p = target.clone();
                p.extend_from_slice(&path[1..]);
                return resolve(&p, modules, reexports);
            }
        }
    }
    let mut best = String::new();
    for n in 1..=path.len() {
        let cand = path[..n].join("::");
        if modules.contains(&cand) {
            best = cand;
        }
    }
    best
}

/// The root's `pub use a::b::{c, d};`: `c` → `a::b::c`.
fn root_reexports(lib: &str) -> BTreeMap<String, Vec<String>> {
    let mut map = BTreeMap::new();
    for stmt in lib.split(';') {
        let Some(at) = stmt.find("pub use ") else {
            continue;
        };
        let mut out = Vec::new();
        paths_at(stmt[at + 8..].trim(), Vec::new(), &mut out);
        for p in out {
            if let Some(last) = p.last() {
                map.insert(last.clone(), p.clone());
            }
        }
    }
    map
}

fn is_ancestor(a: &str, b: &str) -> bool {
    a.is_empty() || b == a || b.starts_with(&format!("{a}::"))
}

#[test]
fn modules_name_only_their_layer_or_lower_and_form_no_cycles() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let srcs = sources(&root.join("src"));
    let modules: BTreeSet<String> = srcs.iter().map(|s| s.module.clone()).collect();
    let lib = srcs.iter().find(|s| s.module.is_empty()).unwrap();
    let reexports = root_reexports(&lib.code);

    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut upward = Vec::new();
    for s in &srcs {
        let own_rank = rank(&s.module)
            .unwrap_or_else(|| panic!("{}: give module `{}` a layer", s.file.display(), s.module));
        let code = &s.code;
        let mut found: Vec<Vec<String>> = Vec::new();
        let bytes = code.as_bytes();
        let mut i = 0;
        while i < code.len() {
            let preceded_by_ident = i > 0
                && (bytes[i - 1].is_ascii_alphanumeric()
                    || bytes[i - 1] == b'_'
                    || bytes[i - 1] == b':');
            let rest = &code[i..];
            if !preceded_by_ident {
                if let Some(r) = rest.strip_prefix("crate::") {
                    let n = paths_at(r, Vec::new(), &mut found);
                    i += 7 + n.max(1);
                    continue;
                }
                if rest.starts_with("super::") || rest.starts_with("self::") {
                    let mut base: Vec<String> = if s.module.is_empty() {
                        Vec::new()
                    } else {
                        s.module.split("::").map(str::to_string).collect()
                    };
                    let mut r = rest;
                    let mut used = 0;
                    loop {
                        if let Some(t) = r.strip_prefix("super::") {
                            base.pop();
                            r = t;
                            used += 7;
                        } else if let Some(t) = r.strip_prefix("self::") {
                            r = t;
                            used += 6;
                        } else {
                            break;
                        }
                    }
                    // `use super::*;`: a module's own parent (in an
                    // inline module too, which this walk does not track).
                    if r.starts_with('*') {
                        i += used + 1;
                        continue;
                    }
                    let n = paths_at(r, base, &mut found);
                    i += used + n.max(1);
                    continue;
                }
            }
            i += rest.chars().next().map_or(1, char::len_utf8);
        }
        for p in found {
            let target = resolve(&p, &modules, &reexports);
            if is_ancestor(&s.module, &target)
                || is_ancestor(&target, &s.module) && !target.is_empty()
            {
                continue;
            }
            if target.is_empty() {
                upward.push(format!(
                    "{} names the crate root ({})",
                    s.module,
                    p.join("::")
                ));
                continue;
            }
            if top(&target) != top(&s.module) {
                let r = rank(&target).unwrap();
                if r >= own_rank {
                    upward.push(format!(
                        "{} (layer {own_rank}) names {} (layer {r}) as `{}`",
                        s.module,
                        target,
                        p.join("::")
                    ));
                }
            }
            edges.entry(s.module.clone()).or_default().insert(target);
        }
    }
    assert!(
        upward.is_empty(),
        "upward or sideways imports:\n{}",
        upward.join("\n")
    );

    // Cycles: a depth-first search for a back edge.
    let mut state: BTreeMap<&str, u8> = BTreeMap::new();
    let mut cycles = Vec::new();
    fn visit<'a>(
        m: &'a str,
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<&'a str, u8>,
        stack: &mut Vec<&'a str>,
        cycles: &mut Vec<String>,
    ) {
        state.insert(m, 1);
        stack.push(m);
        if let Some(next) = edges.get(m) {
            for n in next {
                match state.get(n.as_str()) {
                    Some(1) => {
                        let from = stack.iter().position(|x| *x == n).unwrap();
                        let mut c: Vec<&str> = stack[from..].to_vec();
                        c.push(n);
                        cycles.push(c.join(" -> "));
                    }
                    Some(_) => {}
                    None => visit(n, edges, state, stack, cycles),
                }
            }
        }
        stack.pop();
        state.insert(m, 2);
    }
    for m in edges.keys() {
        if !state.contains_key(m.as_str()) {
            visit(m, &edges, &mut state, &mut Vec::new(), &mut cycles);
        }
    }
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn lib_rs_lists_the_layer_folders() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lib = std::fs::read_to_string(root.join("src/lib.rs")).unwrap();
    for folder in [
        "codec",
        "value",
        "unpickler",
        "pickler",
        "python",
        "de",
        "ser",
        "ml",
        "tools",
    ] {
        assert!(
            root.join("src").join(folder).join("mod.rs").exists(),
            "src/{folder}/mod.rs"
        );
        assert!(
            lib.contains(&format!("mod {folder};")),
            "lib.rs declares {folder}"
        );
        assert!(
            lib.contains(&format!("`{folder}/`")),
            "lib.rs's layer list names {folder}/"
        );
    }
}
