//! Which globals are safe to import and call, which run code, and which are unknown.
//!
//! The policy is built from three principles rather than from a list of
//! past exploits:
//!
//! 1. An **allow-list** of what is known to be data (`policy/allow.rs`): the data
//!    types of the standard library and of the common ML stack (numpy,
//!    pandas 0.x–3.x, scipy.sparse, scikit-learn, torch, pytz, dateutil,
//!    gensim, joblib's array wrappers), each entry with why it is safe and
//!    which releases write it.
//! 2. **Dangerous families** by capability (`policy/deny.rs`): process execution,
//!    code execution, code loading and importers, nested deserialization,
//!    file system and network access, interpreter internals, debuggers,
//!    profilers and pagers, test helpers, downloads. A family lists the
//!    modules that exist to provide the capability (denied with all their
//!    submodules, so a gadget nobody has published yet is still caught) and
//!    single names of otherwise usable modules; and last qualname steps that
//!    name a capability wherever they are defined (`system`, `loads`,
//!    `urlopen`, `from_pretrained`, ...).
//! 3. Everything else is **unknown**: importing it runs its module's code,
//!    which is only as safe as the module (`--strict` fails on it).
//!
//! [`Policy::classify`] applies the rules in this order; the first that
//! matches decides:
//!
//! 1. Names the user allowed (`--allow module.name`, or `module.*`) are
//!    safe. When the built-in policy calls one dangerous the reason says
//!    what the allow overrides ([`Policy::classify_builtin`] gives the
//!    verdict without user allows; [`allow_warning`] warns up front).
//! 2. A malformed name (an empty module or qualname step) is dangerous, and
//!    so is a dotted path of more than 64 module and name steps together
//!    (checking each step costs time that grows with the square of their
//!    number; no class is nested that deep).
//! 3. The exact allow-list: `(module, name)` pairs (and the exception
//!    classes of denied modules, such as `ssl.SSLError`), also under their
//!    Python 2 spelling (`commands.CompletedProcess` is what protocol 2
//!    writes for `subprocess.CompletedProcess`). Checked *before* module
//!    denial so that the data types of a denied module (`os.stat_result`,
//!    `signal.Signals`, `socket.AddressFamily`, `http.HTTPStatus`,
//!    `urllib.parse.ParseResult`) are safe; exact only, never a dotted name
//!    under them (except `Enum.MEMBER` for listed enum classes).
//! 4. Denied modules and names of the families.
//! 5. Dangerous last steps (`eval`, `system`, `load`, `open`, ...), in any module.
//! 6. A dunder step (`X.__globals__`, `numpy.__builtins__`) walks into
//!    interpreter internals; a package's `__main__` module is its command line.
//! 7. A dotted path that walks through a module attribute. CPython's
//!    pickler writes `__qualname__`s, which never pass through a module, so
//!    such a path is crafted: `pathlib` + `os.system`, `numpy` +
//!    `core._internal.sys.modules`, `torch` + `hub.load`. A step counts
//!    when it equals the top-level name of a denied module (or `builtins`),
//!    also behind leading underscores (`collections._sys`, `import sys as _sys`),
//!    or when the path from it (`logging.FileHandler`) or from the module
//!    (`numpy.f2py.crackfortran`) is denied. Common words among those
//!    module names (`code`, `trace`, `signal`, ...) count only when more
//!    steps follow (`Model.trace` is a method); other module names count
//!    anywhere except as the last step after a class (`Config.os` is a
//!    class attribute, `Config.os.system` a walk).
//! 8. A name under `<locals>` cannot be imported: unknown.
//! 9. The allow-list by module prefix: module-level names of a given shape
//!    (scikit-learn and torch.nn classes, pandas' rebuild helpers, scipy
//!    sparse matrices, torch's `_rebuild_*`). Those classes are code, but
//!    their pickled form only restores attributes and model hubs allow them.
//! 10. Everything else is unknown.
//!
//! Rules 4-10 judge the name as written and, when it differs, its Python 3
//! spelling (`fix_imports`: `__builtin__.setattr` is `builtins.setattr`);
//! a dangerous verdict under either spelling wins.

mod allow;
mod deny;
#[cfg(test)]
mod tests;

use std::collections::HashSet;

use super::Verdict;
use allow::{ByPrefix, Exact, Pat, BY_PREFIX, CONSTANTS_OF, EXACT, EXCEPTIONS, NAMESPACES};
use deny::{Family, FAMILIES, LAST_STEPS, WEAK_STEP_NAMES};

/// The conventional names packages are imported under (`import numpy as np`).
const IMPORT_ALIASES: &[(&str, &str)] = &[
    ("np", "numpy"),
    ("pd", "pandas"),
    ("sp", "scipy"),
    ("tf", "tensorflow"),
    ("th", "torch"),
    ("nn", "torch.nn"),
    ("F", "torch.nn.functional"),
    ("plt", "matplotlib.pyplot"),
    ("mpl", "matplotlib"),
    ("sk", "sklearn"),
    ("jl", "joblib"),
    ("osp", "os.path"),
    ("fmt", "pandas.io.formats.format"),
    ("_np", "numpy"),
    ("_pd", "pandas"),
];

/// Names that, as a qualname step, always mean a walk into interpreter
/// internals, although the module itself is not denied whole.
const STRONG_STEP_NAMES: &[&str] = &["builtins", "__builtin__", "__builtins__"];

fn in_module(module: &str, root: &str) -> bool {
    module == root
        || (module.len() > root.len()
            && module.starts_with(root)
            && module.as_bytes()[root.len()] == b'.')
}

fn is_dunder(s: &str) -> bool {
    s.len() > 4 && s.starts_with("__") && s.ends_with("__")
}

/// A class by naming convention: upper-case first letter past leading underscores.
fn is_class_like(s: &str) -> bool {
    s.trim_start_matches('_')
        .starts_with(|c: char| c.is_ascii_uppercase())
}

/// A data class or a rebuild helper by its name: a class, or a function
/// whose name says it rebuilds a pickled object (`_new_Index`,
/// `_unpickle_block`, `__nat_unpickle`, `new_block`). A package's other
/// module-level names include what it imported (`inspect.signature` in
/// pandas.core.indexes.extension, `set_module` in pandas._libs.lib), which are
/// not its data.
fn rebuild_like(s: &str) -> bool {
    is_class_like(s)
        || s.contains("unpickle")
        || ["_new_", "new_block", "_reconstruct", "_restore", "_rebuild"]
            .iter()
            .any(|p| s.starts_with(p))
}

/// An enum member by naming convention: `SIGINT`, `AF_INET6`, `OK`.
fn is_member_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_uppercase())
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// An exception class of a denied module (see [`allow::EXCEPTIONS`]).
fn exception_allowed(module: &str, name: &str) -> bool {
    EXCEPTIONS
        .iter()
        .any(|(m, names)| *m == module && names.contains(&name))
}

/// Rule 3: the exact allow-list and the exception classes of denied modules.
fn allowed_exactly(module: &str, name: &str) -> Option<String> {
    if let Some(e) = exact_allowed(module, name) {
        return Some(format!("allow-list: {} ({})", e.why, e.writers));
    }
    if let Some(why) = namespace_allowed(module, name) {
        return Some(format!("allow-list: {why}"));
    }
    if CONSTANTS_OF.contains(&module) && is_member_name(name) {
        return Some(format!(
            "allow-list: {module}.{name} is a constant (an int or enum member)"
        ));
    }
    exception_allowed(module, name).then(|| {
        format!("allow-list: exception class of {module}: constructing one stores its arguments")
    })
}

/// Tensor functions of torch's native namespaces that read or map files.
const FILE_TENSOR_OPS: &[&str] = &["from_file", "_from_file", "load", "save", "_load", "_save"];

/// A non-dunder attribute of a module or class of [`allow::NAMESPACES`].
fn namespace_allowed(module: &str, name: &str) -> Option<&'static str> {
    let ident = |s: &str| {
        !s.is_empty()
            && !is_dunder(s)
            && s.chars().all(|c| c == '_' || c.is_ascii_alphanumeric())
            && !s.starts_with(|c: char| c.is_ascii_digit())
    };
    // What a name says it does outranks where it lives (`from_file` maps
    // a file, even among the tensor functions).
    let last = name.rsplit('.').next().unwrap_or(name);
    if LAST_STEPS.iter().any(|l| l.names.contains(&last)) || FILE_TENSOR_OPS.contains(&last) {
        return None;
    }
    NAMESPACES.iter().find_map(|&(m, class, why)| {
        if m != module {
            return None;
        }
        let fits = if class.is_empty() {
            ident(name)
        } else {
            name == class
                || name
                    .strip_prefix(class)
                    .and_then(|r| r.strip_prefix('.'))
                    .is_some_and(ident)
        };
        fits.then_some(why)
    })
}

fn exact_allowed(module: &str, name: &str) -> Option<&'static Exact> {
    EXACT.iter().find(|e| {
        e.module == module
            && (e.names.contains(&name)
                || (e.enums
                    && name
                        .split_once('.')
                        .is_some_and(|(c, m)| e.names.contains(&c) && is_member_name(m))))
    })
}

fn denied_module(module: &str) -> Option<(&'static Family, &'static str)> {
    FAMILIES.iter().find_map(|f| {
        f.modules
            .iter()
            .find(|r| in_module(module, r))
            .map(|r| (f, *r))
    })
}

fn denied_name(module: &str, name: &str) -> Option<(&'static Family, &'static str)> {
    FAMILIES.iter().find_map(|f| {
        f.names
            .iter()
            .find(|&&(m, n)| m == module && in_module(name, n))
            .map(|&(_, n)| (f, n))
    })
}

/// Why `module.name` is denied by a family (as a module or as a name).
fn denied(module: &str, name: &str) -> Option<String> {
    if let Some((f, root)) = denied_module(module) {
        return Some(format!("module {root} ({}): {}", f.name, f.why));
    }
    if let Some((f, n)) = denied_name(module, name) {
        return Some(format!("{module}.{n} ({}): {}", f.name, f.why));
    }
    None
}

/// A top-level module name that the families deny whole.
fn is_denied_top(s: &str) -> bool {
    STRONG_STEP_NAMES.contains(&s) || FAMILIES.iter().any(|f| f.modules.contains(&s))
}

fn prefix_allowed(module: &str, name: &str) -> Option<&'static ByPrefix> {
    BY_PREFIX.iter().find(|p| {
        let in_scope = if p.sub {
            in_module(module, p.module)
        } else {
            module == p.module
        };
        in_scope
            && !p.except.iter().any(|e| in_module(module, e))
            && match p.names {
                Pat::Classes => is_class_like(name),
                Pat::Suffixes(s) => s.iter().any(|x| name.ends_with(x)),
                Pat::Prefixes(s) => s.iter().any(|x| name.starts_with(x)),
                Pat::Any => rebuild_like(name),
            }
    })
}

/// The dotted-path rule (7): does `module` + `steps` walk through a module
/// attribute into something denied?
fn walks_into_denied(module: &str, steps: &[&str]) -> Option<String> {
    // The module's own submodules named by leading steps: numpy + f2py.x.
    for i in 1..steps.len() {
        let sub = format!("{module}.{}", steps[..i].join("."));
        let rest = steps[i..].join(".");
        if allowed_exactly(&sub, &rest).is_some() {
            continue;
        }
        if let Some(why) = denied(&sub, &rest) {
            return Some(format!(
                "{module}.{} walks into submodule {sub}: {why}",
                steps.join(".")
            ));
        }
    }
    // A step that is another module, imported by the one before: pathlib.os.
    for (i, &s) in steps.iter().enumerate() {
        let class_attr = i > 0 && is_class_like(steps[i - 1]);
        let last = i + 1 == steps.len();
        // `import sys as _sys` makes collections._sys the sys module.
        let alias = s.trim_start_matches('_');
        let base = if is_denied_top(s) || alias.is_empty() {
            s
        } else {
            alias
        };
        if is_denied_top(base) {
            let weak = WEAK_STEP_NAMES.contains(&base);
            let counts = if weak { !last } else { !(class_attr && last) };
            if counts {
                return Some(format!(
                    "{module}.{} walks through module attribute {s}, a denied module ({base})",
                    steps.join(".")
                ));
            }
            continue;
        }
        if last {
            continue;
        }
        let rest = &steps[i + 1..];
        // The names modules import packages under: `np.lib.format` in a
        // module that did `import numpy as np` is numpy.lib.format.
        let s = IMPORT_ALIASES
            .iter()
            .find(|(a, _)| *a == s)
            .map_or(s, |&(_, m)| m);
        for j in 0..rest.len() {
            let sub = if j == 0 {
                s.to_string()
            } else {
                format!("{s}.{}", rest[..j].join("."))
            };
            let tail = rest[j..].join(".");
            if allowed_exactly(&sub, &tail).is_some() {
                continue;
            }
            if let Some(why) = denied(&sub, &tail) {
                return Some(format!(
                    "{module}.{} walks through module attribute {s}: {why}",
                    steps.join(".")
                ));
            }
        }
    }
    None
}

/// Judges globals. `Policy::default()` holds the built-in lists; add names with
/// [`Policy::allow`].
#[derive(Clone, Debug, Default)]
pub struct Policy {
    allowed: HashSet<String>,
    allowed_modules: Vec<String>,
}

impl Policy {
    /// Treat `spec` as safe: `module.name` (the name may be dotted; matched
    /// against `module + "." + qualname`), or `module.*` for a whole module
    /// and its submodules. [`allow_warning`] says whether the spec silences
    /// something the built-in policy calls dangerous.
    pub fn allow(&mut self, spec: &str) {
        if let Some(m) = spec.strip_suffix(".*") {
            self.allowed_modules.push(m.to_string());
        } else {
            self.allowed.insert(spec.to_string());
        }
    }

    fn user_allowed(&self, module: &str, name: &str) -> bool {
        if self.allowed_modules.iter().any(|m| in_module(module, m)) {
            return true;
        }
        if self.allowed.is_empty() {
            return false;
        }
        self.allowed.contains(&format!("{module}.{name}"))
    }

    /// The verdict on importing (and calling) `module.name`, with the reason.
    /// User allows win; when one overrides a built-in dangerous verdict the
    /// reason is `allowed by --allow, overriding: <built-in reason>`.
    pub fn classify(&self, module: &str, name: &str) -> (Verdict, String) {
        if self.user_allowed(module, name) {
            let (builtin, why) = self.classify_builtin(module, name);
            let reason = if builtin == Verdict::Dangerous {
                format!("allowed by --allow, overriding: {why}")
            } else {
                "allowed by --allow".to_string()
            };
            return (Verdict::Safe, reason);
        }
        self.classify_builtin(module, name)
    }

    /// The verdict of the built-in policy alone (user allows ignored).
    pub fn classify_builtin(&self, module: &str, name: &str) -> (Verdict, String) {
        if module.is_empty()
            || name.is_empty()
            || module.split('.').any(str::is_empty)
            || name.split('.').any(str::is_empty)
        {
            return (Verdict::Dangerous, "empty module or name step".into());
        }
        // Each step is checked against the denied submodules and module
        // attributes, in time that grows with the square of the steps: a
        // name of thousands of steps took seconds. No class is nested so
        // deep; such a name is a getattr walk nobody can vouch for.
        let steps = module.split('.').count() + name.split('.').count();
        if steps > MAX_STEPS {
            return (
                Verdict::Dangerous,
                format!("a dotted path of {steps} steps (more than {MAX_STEPS}): an attribute walk too deep to check"),
            );
        }
        if let Some(why) = allowed_exactly(module, name) {
            return (Verdict::Safe, why);
        }
        let (m3, n3) = crate::python::compat::to_python3(module, name);
        if (m3, n3) != (module, name) {
            if let Some(why) = allowed_exactly(m3, n3) {
                return (
                    Verdict::Safe,
                    format!("Python 2 spelling of {m3}.{n3}; {why}"),
                );
            }
        }
        let (v, why) = judge(module, name);
        if (m3, n3) != (module, name) && v != Verdict::Dangerous {
            // Judged under both spellings, as loaders map differently.
            let (v3, why3) = judge(m3, n3);
            if v3 == Verdict::Dangerous || (v3 == Verdict::Safe && v == Verdict::Unknown) {
                return (v3, format!("as {m3}.{n3}: {why3}"));
            }
        }
        (v, why)
    }
}

/// The most module and name steps together a global may have to be judged
/// step by step.
const MAX_STEPS: usize = 64;

/// Rules 4-10 for one spelling of a name (malformed names and the exact
/// allow-list are handled by the caller).
fn judge(module: &str, name: &str) -> (Verdict, String) {
    if let Some(why) = denied(module, name) {
        return (Verdict::Dangerous, why);
    }
    let steps: Vec<&str> = name.split('.').collect();
    let last = steps[steps.len() - 1];
    if let Some(l) = LAST_STEPS.iter().find(|l| l.names.contains(&last)) {
        return (Verdict::Dangerous, format!("'{last}' {}", l.why));
    }
    if let Some(d) = steps.iter().skip(1).find(|s| is_dunder(s)) {
        return (
            Verdict::Dangerous,
            format!("attribute {d} reaches interpreter internals"),
        );
    }
    if is_dunder(steps[0]) {
        return (
            Verdict::Dangerous,
            format!("module attribute {} is interpreter machinery", steps[0]),
        );
    }
    if module.split('.').skip(1).any(|c| c == "__main__") {
        return (
            Verdict::Dangerous,
            format!("{module} is a package's command-line entry point"),
        );
    }
    if let Some(why) = walks_into_denied(module, &steps) {
        return (Verdict::Dangerous, why);
    }
    if name.contains("<locals>") {
        return (Verdict::Unknown, "local name; cannot be imported".into());
    }
    if steps.len() == 1 {
        if let Some(p) = prefix_allowed(module, name) {
            return (
                Verdict::Safe,
                format!("allow-list ({}.*): {} ({})", p.module, p.why, p.writers),
            );
        }
    }
    (
        Verdict::Unknown,
        "not on the allow list: importing it runs its module's code".into(),
    )
}

/// A warning for `--allow spec` when it would silence something the
/// built-in policy calls dangerous: for `module.name` (dotted; every split
/// into module and name is tried), when that global is dangerous; for
/// `module.*`, when the module is in or under a denied module, or denied
/// modules or names lie under it.
pub fn allow_warning(spec: &str) -> Option<String> {
    let policy = Policy::default();
    if let Some(m) = spec.strip_suffix(".*") {
        if m.is_empty() {
            return Some(format!("--allow {spec}: empty module"));
        }
        if let Some((f, root)) = denied_module(m) {
            return Some(format!(
                "--allow {spec} silences module {root}, which the built-in policy denies ({}: {})",
                f.name, f.why
            ));
        }
        let mut under: Vec<String> = Vec::new();
        for f in FAMILIES {
            under.extend(
                f.modules
                    .iter()
                    .filter(|d| in_module(d, m))
                    .map(|d| d.to_string()),
            );
            under.extend(
                f.names
                    .iter()
                    .filter(|(d, _)| in_module(d, m))
                    .map(|(d, n)| format!("{d}.{n}")),
            );
        }
        if !under.is_empty() {
            under.sort();
            under.dedup();
            let shown: Vec<&str> = under.iter().take(6).map(String::as_str).collect();
            let more = under.len().saturating_sub(shown.len());
            return Some(format!(
                "--allow {spec} also silences what the built-in policy denies under {m}: {}{}",
                shown.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            ));
        }
        return None;
    }
    let parts: Vec<&str> = spec.split('.').collect();
    for k in 1..parts.len() {
        let (m, n) = (parts[..k].join("."), parts[k..].join("."));
        let (v, why) = policy.classify_builtin(&m, &n);
        if v == Verdict::Dangerous {
            return Some(format!(
                "--allow {spec} silences {m}.{n}, which the built-in policy calls dangerous: {why}"
            ));
        }
    }
    None
}
