//! Which globals are safe to import and call, which run code, and which are unknown.
//!
//! The lists were built by reading picklescan's and fickling's published
//! deny lists and the CPython library reference, then reasoning module by
//! module about what importing or calling each name can do. Rules, in the
//! order [`Policy::classify`] applies them:
//!
//! 1. Names the user allowed (`--allow module.name`, or `module.*`) are safe.
//! 2. The deny list: modules (and their submodules) that run code, spawn
//!    processes, touch files or the network, import modules or deserialize
//!    further data (`os`, `subprocess`, `sys`, `pickle`, `socket`, ...), and
//!    single names of otherwise harmless modules (`builtins.eval`,
//!    `operator.attrgetter`, `numpy.load`, `torch.load`, ...).
//! 3. A qualname step that is a dunder (`X.__globals__`, `X.__init__`) walks
//!    into interpreter internals and is dangerous; `X.__new__` is judged as `X`
//!    by the caller (CPython pickles `cls.__new__` for keyword-only
//!    constructors).
//! 4. Names whose last step says what they do (`eval`, `exec`, `system`,
//!    `popen`, `loads`, `read_pickle`, `import_module`, ...) are dangerous in
//!    any module: a model library's `load` reads a file and unpickles it.
//! 5. The allow list: data constructors of the standard library, numpy's,
//!    pandas' and torch's rebuild helpers, and estimator/module classes of
//!    scikit-learn and torch. Those classes are code, but their pickled form
//!    only restores attributes (`BaseEstimator.__setstate__`,
//!    `nn.Module.__setstate__`), and model hubs allow them; functions of
//!    those packages stay unknown unless listed.
//! 6. Everything else (a user's own class such as `pcorpus.Point`) is unknown:
//!    importing it runs that module's top-level code, which is only as safe as
//!    the module.

use std::collections::HashSet;

use super::Verdict;

/// Modules that are dangerous whole, with their submodules.
const DENY_MODULES: &[&str] = &[
    "os",
    "posix",
    "nt",
    "_posixsubprocess",
    "subprocess",
    "sys",
    "importlib",
    "zipimport",
    "pkgutil",
    "runpy",
    "site",
    "pickle",
    "_pickle",
    "cPickle",
    "pickletools",
    "marshal",
    "shelve",
    "dbm",
    "dill",
    "cloudpickle",
    "code",
    "codeop",
    "pty",
    "tty",
    "ctypes",
    "_ctypes",
    "cffi",
    "socket",
    "_socket",
    "ssl",
    "_ssl",
    "socketserver",
    "select",
    "selectors",
    "shutil",
    "webbrowser",
    "antigravity",
    "timeit",
    "pdb",
    "bdb",
    "cProfile",
    "profile",
    "_lsprof",
    "trace",
    "pydoc",
    "doctest",
    "idlelib",
    "asyncio",
    "pip",
    "ensurepip",
    "venv",
    "distutils",
    "setuptools",
    "multiprocessing",
    "_multiprocessing",
    "concurrent",
    "threading",
    "_thread",
    "signal",
    "_signal",
    "tempfile",
    "atexit",
    "mmap",
    "fcntl",
    "resource",
    "termios",
    "platform",
    "commands",
    "popen2",
    "glob",
    "fileinput",
    "linecache",
    "tarfile",
    "zipfile",
    "gzip",
    "bz2",
    "lzma",
    "http",
    "httplib",
    "urllib",
    "urllib2",
    "urllib3",
    "requests",
    "httpx",
    "aiohttp",
    "ftplib",
    "smtplib",
    "smtpd",
    "poplib",
    "imaplib",
    "nntplib",
    "telnetlib",
    "xmlrpc",
    "asyncore",
    "asynchat",
    "logging.config",
    "yaml",
    "_winapi",
    "msvcrt",
    "winreg",
    "_winreg",
    "numpy.f2py",
    "numpy.testing",
    "numpy.distutils",
    "numpy.ctypeslib",
    "numpy.lib.npyio",
    "numpy.lib._npyio_impl",
    "numpy.lib.format",
    "pandas.io",
    "pandas.core.computation",
    "sklearn.datasets",
    "torch.hub",
    "torch.package",
    "torch.jit",
    "torch.utils.cpp_extension",
    "torch._inductor",
    "torch._dynamo",
    "torch.utils.collect_env",
    "torch.utils.bottleneck",
    "torch.utils.data.datapipes.utils.decoder",
    "torch.utils._config_module",
    "lib2to3",
];

/// Single names (qualnames) that are dangerous in an otherwise usable module.
const DENY_NAMES: &[(&str, &str)] = &[
    ("builtins", "eval"),
    ("builtins", "exec"),
    ("builtins", "execfile"),
    ("builtins", "compile"),
    ("builtins", "__import__"),
    ("builtins", "open"),
    ("builtins", "file"),
    ("builtins", "breakpoint"),
    ("builtins", "input"),
    ("builtins", "raw_input"),
    ("builtins", "help"),
    ("builtins", "globals"),
    ("builtins", "locals"),
    ("builtins", "vars"),
    ("builtins", "setattr"),
    ("builtins", "delattr"),
    ("builtins", "apply"),
    ("builtins", "reload"),
    ("builtins", "exit"),
    ("builtins", "quit"),
    ("io", "open"),
    ("io", "open_code"),
    ("io", "FileIO"),
    ("_io", "open"),
    ("_io", "open_code"),
    ("_io", "FileIO"),
    ("operator", "attrgetter"),
    ("operator", "itemgetter"),
    ("operator", "methodcaller"),
    ("operator", "call"),
    ("operator", "setitem"),
    ("operator", "delitem"),
    ("_operator", "attrgetter"),
    ("_operator", "itemgetter"),
    ("_operator", "methodcaller"),
    ("_operator", "call"),
    ("functools", "reduce"),
    ("_functools", "reduce"),
    ("functools", "partialmethod"),
    ("functools", "singledispatch"),
    ("functools", "wraps"),
    ("functools", "update_wrapper"),
    ("types", "FunctionType"),
    ("types", "LambdaType"),
    ("types", "CodeType"),
    ("types", "MethodType"),
    ("types", "BuiltinFunctionType"),
    ("types", "new_class"),
    ("types", "prepare_class"),
    ("copyreg", "add_extension"),
    ("copyreg", "remove_extension"),
    ("copyreg", "clear_extension_cache"),
    ("copyreg", "pickle"),
    ("copyreg", "constructor"),
    ("uuid", "getnode"),
    ("uuid", "_popen"),
    ("uuid", "_ifconfig_getnode"),
    ("uuid", "_ip_getnode"),
    ("uuid", "_arp_getnode"),
    ("uuid", "_lanscan_getnode"),
    ("uuid", "_netstat_getnode"),
    ("uuid", "_ipconfig_getnode"),
    ("uuid", "_netbios_getnode"),
    ("uuid", "_unix_getnode"),
    ("uuid", "_get_command_stdout"),
    ("weakref", "finalize"),
    ("gc", "get_objects"),
    ("gc", "get_referrers"),
    ("inspect", "getsource"),
    ("numpy", "load"),
    ("numpy", "loadtxt"),
    ("numpy", "genfromtxt"),
    ("numpy", "fromfile"),
    ("numpy", "fromregex"),
    ("numpy", "memmap"),
    ("numpy", "save"),
    ("numpy", "savez"),
    ("numpy", "savez_compressed"),
    ("numpy", "savetxt"),
    ("numpy", "frompyfunc"),
    ("numpy", "vectorize"),
    ("numpy", "piecewise"),
    ("numpy", "apply_along_axis"),
    ("numpy", "apply_over_axes"),
    ("numpy.core.memmap", "memmap"),
    ("numpy._core.memmap", "memmap"),
    ("numpy.lib.utils", "runstring"),
    ("pandas", "eval"),
    ("pandas", "read_pickle"),
    ("pandas", "read_csv"),
    ("pandas", "read_table"),
    ("pandas", "read_json"),
    ("pandas", "read_html"),
    ("pandas", "read_sql"),
    ("pandas", "read_excel"),
    ("pandas", "read_parquet"),
    ("pandas", "read_hdf"),
    ("pandas", "read_feather"),
    ("pandas", "read_xml"),
    ("pandas", "read_clipboard"),
    ("pandas", "DataFrame.eval"),
    ("pandas", "DataFrame.query"),
    ("pandas", "DataFrame.to_pickle"),
    ("pandas", "DataFrame.to_csv"),
    ("pandas.core.frame", "DataFrame.eval"),
    ("pandas.core.frame", "DataFrame.query"),
    ("joblib", "load"),
    ("joblib", "dump"),
    ("joblib", "Parallel"),
    ("joblib", "Memory"),
    ("joblib.numpy_pickle", "load"),
    ("joblib.numpy_pickle", "dump"),
    ("joblib.numpy_pickle", "NDArrayWrapper"),
    ("torch", "load"),
    ("torch", "save"),
    ("torch", "from_file"),
    ("torch.serialization", "load"),
    ("torch.serialization", "_load"),
    ("torch.storage", "_load_from_bytes"),
    ("torch", "_load_from_bytes"),
    (
        "torch.fx.experimental.symbolic_shapes",
        "ShapeEnv.evaluate_guards_expression",
    ),
    ("torch.jit.unsupported_tensor_ops", "execWrapper"),
];

/// Last qualname steps that name what the callable does, dangerous in any module.
const DENY_LAST: &[&str] = &[
    "eval",
    "exec",
    "execfile",
    "system",
    "popen",
    "popen2",
    "popen3",
    "popen4",
    "Popen",
    "getoutput",
    "getstatusoutput",
    "check_output",
    "check_call",
    "spawn",
    "spawnl",
    "spawnlp",
    "spawnv",
    "spawnvp",
    "execl",
    "execle",
    "execlp",
    "execv",
    "execve",
    "execvp",
    "execvpe",
    "startfile",
    "runcode",
    "runsource",
    "runcommand",
    "runctx",
    "run_code",
    "run_module",
    "run_path",
    "runstring",
    "load",
    "loads",
    "unsafe_load",
    "full_load",
    "load_pickle",
    "read_pickle",
    "import_module",
    "__import__",
    "load_library",
    "LoadLibrary",
    "dlopen",
    "debug_script",
    "compile_file",
];

/// Allowed (module, name) pairs.
const ALLOW_NAMES: &[(&str, &str)] = &[
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "bytearray"),
    ("builtins", "complex"),
    ("builtins", "slice"),
    ("builtins", "range"),
    ("builtins", "bytes"),
    ("builtins", "str"),
    ("builtins", "int"),
    ("builtins", "float"),
    ("builtins", "bool"),
    ("builtins", "dict"),
    ("builtins", "list"),
    ("builtins", "tuple"),
    ("builtins", "object"),
    ("builtins", "type"),
    ("builtins", "NotImplemented"),
    ("builtins", "Ellipsis"),
    ("builtins", "len"),
    ("builtins", "abs"),
    ("builtins", "min"),
    ("builtins", "max"),
    ("builtins", "sum"),
    ("builtins", "round"),
    ("builtins", "divmod"),
    ("builtins", "pow"),
    ("builtins", "chr"),
    ("builtins", "ord"),
    ("builtins", "getattr"),
    ("copyreg", "_reconstructor"),
    ("copyreg", "__newobj__"),
    ("copyreg", "__newobj_ex__"),
    ("_codecs", "encode"),
    ("codecs", "encode"),
    ("functools", "partial"),
    ("collections", "OrderedDict"),
    ("collections", "defaultdict"),
    ("collections", "Counter"),
    ("collections", "deque"),
    ("collections", "ChainMap"),
    ("datetime", "datetime"),
    ("datetime", "date"),
    ("datetime", "time"),
    ("datetime", "timedelta"),
    ("datetime", "timezone"),
    ("datetime", "tzinfo"),
    ("decimal", "Decimal"),
    ("fractions", "Fraction"),
    ("uuid", "UUID"),
    ("uuid", "SafeUUID"),
    ("pathlib", "PurePath"),
    ("pathlib", "PurePosixPath"),
    ("pathlib", "PureWindowsPath"),
    ("re", "_compile"),
    ("types", "SimpleNamespace"),
    ("numpy", "dtype"),
    ("numpy", "ndarray"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("numpy.ma.core", "_mareconstruct"),
    ("numpy.random._pickle", "__randomstate_ctor"),
    ("numpy.random._pickle", "__bit_generator_ctor"),
    ("numpy.random._pickle", "__generator_ctor"),
    ("joblib.numpy_pickle", "NumpyArrayWrapper"),
    ("sklearn.externals.joblib.numpy_pickle", "NumpyArrayWrapper"),
    ("torch", "Size"),
    ("torch", "device"),
    ("torch", "dtype"),
    ("torch.nn.parameter", "Parameter"),
    ("torch._tensor", "_rebuild_from_type_v2"),
    ("torch.storage", "UntypedStorage"),
    ("torch.storage", "TypedStorage"),
    ("torch.storage", "_StorageBase"),
];

/// Modules whose module-level classes (and listed helper prefixes) are data.
const ALLOW_CLASS_PREFIXES: &[&str] = &["sklearn", "torch.nn.modules", "pandas"];

/// Module prefixes whose module-level names (classes and rebuild helpers) are
/// all data constructors.
const ALLOW_ALL_PREFIXES: &[&str] = &[
    "pandas.core",
    "pandas._libs",
    "pandas.arrays",
    "pandas.api",
    "pandas.tseries",
];

fn in_module(module: &str, root: &str) -> bool {
    module == root
        || (module.len() > root.len()
            && module.starts_with(root)
            && module.as_bytes()[root.len()] == b'.')
}

fn is_dunder(s: &str) -> bool {
    s.len() > 4 && s.starts_with("__") && s.ends_with("__")
}

const TORCH_DTYPES: &[&str] = &[
    "float32",
    "float64",
    "float16",
    "bfloat16",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "bool",
    "complex64",
    "complex128",
    "float",
    "double",
    "half",
    "long",
    "int",
    "short",
    "qint8",
    "quint8",
    "qint32",
];

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
    /// and its submodules.
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
    pub fn classify(&self, module: &str, name: &str) -> (Verdict, String) {
        if self.user_allowed(module, name) {
            return (Verdict::Safe, "allowed by --allow".into());
        }
        if module.is_empty() || name.is_empty() || name.split('.').any(str::is_empty) {
            return (Verdict::Dangerous, "empty module or name step".into());
        }
        if let Some(root) = DENY_MODULES.iter().find(|r| in_module(module, r)) {
            return (
                Verdict::Dangerous,
                format!("module {root} runs code, touches files, processes or the network, or imports modules"),
            );
        }
        if DENY_NAMES.iter().any(|&(m, n)| m == module && n == name) {
            return (
                Verdict::Dangerous,
                format!("{module}.{name} runs code, touches the system or unpickles more data"),
            );
        }
        let steps: Vec<&str> = name.split('.').collect();
        if let Some(d) = steps.iter().skip(1).find(|s| is_dunder(s)) {
            return (
                Verdict::Dangerous,
                format!("attribute {d} reaches interpreter internals"),
            );
        }
        if name.contains("<locals>") {
            return (Verdict::Unknown, "local name; cannot be imported".into());
        }
        let last = steps[steps.len() - 1];
        if DENY_LAST.contains(&last) {
            return (
                Verdict::Dangerous,
                format!("'{last}' executes code or deserializes data"),
            );
        }
        if ALLOW_NAMES.iter().any(|&(m, n)| m == module && n == name) {
            return (Verdict::Safe, "data constructor on the allow list".into());
        }
        if is_dunder(steps[0]) {
            return (
                Verdict::Dangerous,
                format!("module attribute {} is interpreter machinery", steps[0]),
            );
        }
        if steps.len() == 1 {
            if ALLOW_ALL_PREFIXES.iter().any(|p| in_module(module, p)) {
                return (Verdict::Safe, "pandas rebuild helper or data class".into());
            }
            let class_like = name.starts_with(|c: char| c.is_ascii_uppercase());
            if class_like && ALLOW_CLASS_PREFIXES.iter().any(|p| in_module(module, p)) {
                return (
                    Verdict::Safe,
                    "model/data class whose pickle only restores attributes".into(),
                );
            }
            if module == "torch" && (name.ends_with("Storage") || TORCH_DTYPES.contains(&name)) {
                return (Verdict::Safe, "torch storage type or dtype".into());
            }
            if module == "torch._utils" && name.starts_with("_rebuild_") {
                return (Verdict::Safe, "torch tensor rebuild helper".into());
            }
        }
        (
            Verdict::Unknown,
            "not on the allow list: importing it runs its module's code".into(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies() {
        let p = Policy::default();
        let v = |m: &str, n: &str| p.classify(m, n).0;
        assert_eq!(v("os", "system"), Verdict::Dangerous);
        assert_eq!(v("os.path", "join"), Verdict::Dangerous);
        assert_eq!(v("posix", "system"), Verdict::Dangerous);
        assert_eq!(v("builtins", "eval"), Verdict::Dangerous);
        assert_eq!(v("builtins", "set"), Verdict::Safe);
        assert_eq!(v("builtins", "object.__subclasses__"), Verdict::Dangerous);
        assert_eq!(v("collections", "OrderedDict"), Verdict::Safe);
        assert_eq!(v("pcorpus", "Point"), Verdict::Unknown);
        assert_eq!(v("pcorpus", "Outer.Inner"), Verdict::Unknown);
        assert_eq!(v("mylib", "loads"), Verdict::Dangerous);
        assert_eq!(
            v("sklearn.linear_model._base", "LinearRegression"),
            Verdict::Safe
        );
        assert_eq!(v("sklearn.utils", "some_function"), Verdict::Unknown);
        assert_eq!(v("sklearn.datasets", "FetchThing"), Verdict::Dangerous);
        assert_eq!(v("torch._utils", "_rebuild_tensor_v2"), Verdict::Safe);
        assert_eq!(v("torch", "FloatStorage"), Verdict::Safe);
        assert_eq!(v("torch", "load"), Verdict::Dangerous);
        assert_eq!(v("pandas", "DataFrame.eval"), Verdict::Dangerous);
        assert_eq!(v("pandas.core.frame", "DataFrame"), Verdict::Safe);
        let mut p = Policy::default();
        p.allow("pcorpus.Point");
        p.allow("mine.*");
        assert_eq!(p.classify("pcorpus", "Point").0, Verdict::Safe);
        assert_eq!(p.classify("mine.sub", "X").0, Verdict::Safe);
        assert_eq!(p.classify("pcorpus", "Color").0, Verdict::Unknown);
    }
}
