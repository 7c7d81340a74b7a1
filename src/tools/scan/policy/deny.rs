//! What loading a pickle must never reach, grouped by capability.
//!
//! Each [`Family`] names a capability (run a process, load code, write a
//! file, ...), says why, and lists the modules that exist to provide it
//! (denied with all their submodules) and single names of otherwise usable
//! modules (denied with everything under them: `code.InteractiveInterpreter`
//! also denies `code.InteractiveInterpreter.runcode`). A gadget nobody has
//! published yet is caught when it lives in a listed module, or is reached
//! through one by a dotted name (see `mod.rs`).
//!
//! Sources: the CPython library reference and source (each name below was
//! checked to exist and to do what its family says), picklescan's
//! `_unsafe_globals` and its GHSA advisories (2025–2026), fickling's
//! `UNSAFE_IMPORTS` / ML lists and advisories, modelscan's `unsafe_globals`
//! and its false-negative reports, and Hugging Face's pickle-scanning notes.
//! Names were learned there; the tables are our own.

/// A capability and the modules and names that provide it.
pub(super) struct Family {
    /// Short capability name, shown in reasons.
    pub name: &'static str,
    /// Why reaching it at load time is dangerous.
    pub why: &'static str,
    /// Modules denied with their submodules.
    pub modules: &'static [&'static str],
    /// `(module, qualname)`: the qualname and every name under it.
    pub names: &'static [(&'static str, &'static str)],
}

pub(super) const FAMILIES: &[Family] = &[
    Family {
        name: "process execution",
        why: "starts processes or runs shell commands",
        modules: &[
            "os", // system, popen, exec*, spawn*, fork, posix_spawn, remove, ...
            "posix",
            "nt",
            "posixpath", // os.path: posixpath.os is os
            "ntpath",
            "genericpath",
            "subprocess",
            "_posixsubprocess", // fork_exec (fickling GHSA-m6fh-58r7-x697)
            "commands",         // Python 2 getoutput
            "popen2",
            "pty",         // pty.spawn (fickling GHSA-r7v6-mfhq-g3m2)
            "pexpect",     // spawn, run
            "sh",          // sh.Command runs any program
            "plumbum",     // local["sh"]
            "invoke",      // invoke.run
            "fabric",      // remote and local commands
            "psutil",      // psutil.Popen
            "multiprocessing", // Process, util.spawnv_passfds (fickling GHSA-q5qq-mvfm-j35x)
            "_multiprocessing",
            "concurrent", // ProcessPoolExecutor; concurrent.interpreters (3.14)
            "asyncio",    // create_subprocess_*, unix_events._UnixSubprocessTransport._start (CVE-2025-10157)
            "_osx_support", // _read_output, _find_build_tool run os.system (picklescan GHSA-g38g-8gr9-h9xp)
            "_aix_support", // _read_cmd_output runs os.system (GHSA-g38g-8gr9-h9xp)
            "_bootsubprocess",
            "platform", // _syscmd_file, _syscmd_ver, popen (fickling GHSA-5cxw-w2xg-2m8h)
            "uuid",     // _get_command_stdout, getnode, uuid1 run ifconfig/ip/arp (GHSA-g38g-8gr9-h9xp)
            "webbrowser", // open runs a browser command
            "mailcap", // findmatch builds shell command lines from mailcap entries (modelscan PR #346, CVE-2015-20107)
            "antigravity",
            "turtledemo",
            "_winapi", // CreateProcess
            "msvcrt",
            "winreg",
            "_winreg",
            "torch.multiprocessing",
            "torch.distributed.run",    // torchrun: launches worker processes
            "torch.distributed.launch", // legacy launcher
            "torch.distributed.launcher",
            "torch.distributed.elastic", // elastic agents start processes, rendezvous over the network
            "torch.backends.xeon",       // run_cpu launcher
            "torch.utils.collect_env",   // run (picklescan GHSA-f745-w6jp-hpxx, GHSA-jhph-76pp-mggw)
            "torch.utils.bottleneck",    // __main__.run_cprofile (GHSA-4r9r-ch6f-vxmx, GHSA-4whj-rm5r-c2v8)
            "gensim.models.wrappers",    // LdaMallet & co. run external binaries from __init__
            "gensim.scripts",
        ],
        names: &[
            ("imaplib", "IMAP4_stream"), // Popen(command, shell=True) (GHSA-g38g-8gr9-h9xp)
            ("pipes", "Template"),
            ("joblib", "Parallel"),
            ("sklearn.utils.parallel", "Parallel"),
            ("sklearn.utils.fixes", "Parallel"),
            ("sklearn.externals.joblib", "Parallel"),
        ],
    },
    Family {
        name: "code execution",
        why: "compiles or evaluates source code, or builds code and function objects",
        modules: &[
            "code",   // InteractiveInterpreter.runcode/runsource (GHSA-cj3c-v495-4xqh)
            "codeop", // compile_command
            "runpy",  // run_path, run_module, _run_code
            "marshal",
            "timeit", // Timer(stmt) compiles and runs stmt
            "rlcompleter", // Completer.attr_matches evals its text
            "_xxsubinterpreters", // run_string in a sub-interpreter (fickling GHSA-6ggj-6f2q-f7mx)
            "_interpreters",
            "_xxinterpchannels",
            "_xxinterpqueues",
            "_interpchannels",
            "_interpqueues",
            "interpreters", // PEP 554/734 front ends
            "concurrent.interpreters",
            "tkinter", // Tcl().eval runs Tcl, which can exec programs
            "_tkinter",
            "turtle",
            "jinja2", // templates compile to Python; SSTI escapes reach os
            "mako",
            "numexpr", // evaluate() reached eval (CVE-2023-39631)
            "sympy.parsing",
            "numba", // JIT: compiles and loads machine code; serialize._rebuild_function
            "llvmlite",
            "Cython", // Build.Inline.cython_inline compiles and imports code
            "pyximport",
            "triton",
            "IPython", // run_cell, system, getoutput
            "ipykernel",
            "torch.fx", // graph_module.reduce_graph_module execs generated source; symbolic_shapes evals guards (GHSA-f4x7-rfwp-v3xw)
            "torch.jit", // annotations.parse_type_line eval (CVE-2022-45907); unsupported_tensor_ops.execWrapper (GHSA-vr7h-p6mm-wpmh)
            "torch._dynamo", // guards.GuardBuilder.get evals (GHSA-86cj-95qr-2p4f)
            "torch._inductor", // codecache.compile_file runs a compiler command
            "torch.compiler",
            "torch.utils.cpp_extension", // builds and loads C++ extensions
            "torch.utils.benchmark",     // Timer compiles stmt like timeit
            "torch._C", // native bindings: _jit_* import TorchScript, load libraries
            "pandas.core.computation", // pandas.eval engine
            "pandas.computation",      // pandas 0.x eval engine
            "hydra.utils",             // instantiate/get_method/_locate import and call any dotted path
            "hydra._internal",
            "transformers.dynamic_module_utils", // downloads and imports remote code
        ],
        names: &[
            ("builtins", "eval"),
            ("builtins", "exec"),
            ("builtins", "execfile"),
            ("builtins", "compile"),
            ("builtins", "apply"),
            ("builtins", "__build_class__"),
            ("types", "FunctionType"), // fickling GHSA-565g-hwwr-4pp3
            ("types", "LambdaType"),
            ("types", "CodeType"), // picklescan GHSA-97f8-7cmv-76j2
            ("types", "MethodType"),
            ("types", "CellType"),
            ("types", "ModuleType"),
            ("types", "new_class"),
            ("types", "prepare_class"),
            ("types", "BuiltinFunctionType"),
            ("types", "BuiltinMethodType"),
            ("cloudpickle", "cloudpickle"), // _make_function, _builtin_type('CodeType'), subimport
            ("joblib.externals.cloudpickle", "cloudpickle"),
            ("torch", "compile"), // builds code with TorchInductor when called (fickling ML list)
            ("sympy", "sympify"),
            ("sympy.core.sympify", "sympify"),
            ("pandas", "eval"),
            ("pandas", "DataFrame.eval"),
            ("pandas", "DataFrame.query"),
            ("pandas.core.frame", "DataFrame.eval"),
            ("pandas.core.frame", "DataFrame.query"),
            ("numpy.lib.utils", "runstring"),
        ],
    },
    Family {
        name: "code loading and importers",
        why: "imports modules by name, loads code from files or entry points, or resolves dotted paths to callables",
        modules: &[
            "importlib", // import_module, util.spec_from_file_location, metadata.EntryPoint.load
            "importlib_metadata",
            "importlib_resources",
            "imp",       // load_source, load_module
            "_imp",
            "_frozen_importlib",
            "_frozen_importlib_external",
            "zipimport",
            "pkgutil", // resolve_name reaches any global (picklescan GHSA-vvpj-8cmc-gx39), get_importer
            "pkg_resources", // EntryPoint.load, load_entry_point, run_script
            "entrypoints",
            "stevedore",
            "pluggy",
            "modulefinder",
            "site", // addsitedir runs .pth lines (fickling GHSA-m6fh-58r7-x697)
            "sitecustomize",
            "usercustomize",
            "ensurepip", // _run_pip (picklescan GHSA-xp4f-hrf8-rxw7)
            "pip",       // pip.main installs packages (CVE-2025-1716)
            "venv",      // create(..., with_pip) runs commands
            "setuptools",
            "distutils", // spawn, file_util.write_file (GHSA-m273-6v24-x4m4)
            "numpy.distutils",
            "numpy.f2py", // crackfortran.getlincoef/_eval_length eval (GHSA-r8g5-cgf2-4m4m)
            "numpy.ctypeslib", // load_library
            "numpy._pytesttester",
            "ctypes", // CDLL, cdll, util.find_library runs gcc/ldconfig (GHSA-4675-36f9-wf6r)
            "_ctypes",
            "cffi",
            "torch.hub", // downloads and runs hubconf.py
            "torch.package", // package_importer runs packaged code
            "torch.utils.model_zoo",
            "transformers.models.auto.auto_factory", // getattribute_from_module (modelscan #338)
            "huggingface_hub",
            "gensim.downloader", // load() downloads and imports a model package
            "numpy.lib.utils", // lookfor/info import modules by name; source reads files
            "numpy.lib._utils_impl",
            "six.moves",       // import redirector: six.moves.cPickle is pickle, six.moves.builtins is builtins
            "future.moves",
            "future.builtins",
            "future.standard_library",
            "past", // past.builtins.execfile, past.utils
            "keras.saving.pickle_utils", // deserialize_model_from_bytecode: load_model of embedded bytes
            "keras.src.saving.pickle_utils",
        ],
        names: &[
            ("builtins", "__import__"),
            ("builtins", "reload"),
            ("torch.ops", "load_library"),
            ("torch.classes", "load_library"),
            ("pydoc", "locate"), // GHSA-84r2-jw7c-4r5q
            ("numpy", "lookfor"),
            ("numpy", "info"),
            ("numpy", "source"),
        ],
    },
    Family {
        name: "nested deserialization",
        why: "unpickles (or unmarshals) further data that the scanner does not see",
        modules: &[
            "pickle",
            "_pickle",
            "cPickle",
            "pickletools",
            "shelve",
            "dbm",
            "anydbm",
            "dill",
            "cloudpickle",
            "jsonpickle",
            "yaml", // unsafe_load, full_load, UnsafeLoader constructors
            "ruamel",
            "torch.serialization", // load, _load, _legacy_load
            "torch.utils._config_module", // ConfigModule.load_config unpickles (GHSA-vv6j-3g6g-2pvj)
            "torch.utils.data.datapipes", // decoder.basichandlers unpickles (GHSA-h3qp-7fh3-f8h4); FileOpener
            "numpy.lib.npyio", // load with allow_pickle
            "numpy.lib._npyio_impl",
            "numpy.lib.format", // read_array unpickles object arrays
            "numpy.lib._format_impl",
            "numpy.lib._datasource", // DataSource opens URLs
            "numpy.core._internal", // ctypes bridge; imports sys and ctypes
            "numpy._core._internal",
            "numpy.core._dtype_ctypes",
            "numpy._core._dtype_ctypes",
            "pandas.io", // read_pickle, to_pickle, every reader and writer
            "joblib.numpy_pickle_utils",
            "joblib.memory",
            "joblib.parallel",
            "joblib.pool",
            "joblib._parallel_backends",
            "joblib.externals",
            "joblib.compressor",
            "tracemalloc", // Snapshot.load unpickles a file
            "pstats",      // Stats(file) unmarshals; dump_stats writes
            "numba.core.serialize",
        ],
        names: &[
            ("torch", "load"),
            ("torch", "_load_from_bytes"),
            ("torch.storage", "_load_from_bytes"),
            ("torch", "from_file"),
            ("numpy", "load"),
            ("numpy", "memmap"),
            ("numpy.core.memmap", "memmap"),
            ("numpy._core.memmap", "memmap"),
            ("numpy", "DataSource"),
            ("numpy.core", "_ufunc_reconstruct"), // __import__(module) + getattr: an import gadget
            ("numpy.core.numeric", "_ufunc_reconstruct"),
            ("numpy._core", "_ufunc_reconstruct"),
            ("numpy._core.numeric", "_ufunc_reconstruct"),
            ("joblib", "load"),
            ("joblib", "dump"),
            ("joblib", "Memory"),
            ("joblib.numpy_pickle", "load"),
            ("joblib.numpy_pickle", "dump"),
            ("joblib.numpy_pickle", "NumpyPickler"),
            ("joblib.numpy_pickle", "NumpyUnpickler"),
            ("joblib.numpy_pickle_compat", "load_compatibility"),
            ("sklearn.externals.joblib", "load"),
            ("sklearn.externals.joblib", "dump"),
            ("sklearn.externals.joblib", "Memory"),
            ("sklearn.externals.joblib.numpy_pickle", "load"),
            ("sklearn.externals.joblib.numpy_pickle", "dump"),
            ("gensim.utils", "unpickle"),
            ("gensim.utils", "pickle"),
            ("gensim.utils", "SaveLoad.load"),
            ("pandas", "read_pickle"),
            ("pandas", "to_pickle"),
        ],
    },
    Family {
        name: "file system access",
        why: "opens, reads, writes, moves or deletes files and directories",
        modules: &[
            "shutil",
            "tempfile",
            "glob",
            "fileinput",
            "linecache",
            "filecmp",
            "tarfile",
            "zipfile",
            "zipapp",
            "gzip",
            "bz2",
            "lzma",
            "mailbox",
            "cgitb", // enable(logdir=...) writes tracebacks to files
            "uu", // encode/decode open files by name
            "binhex",
            "sqlite3", // connect creates files; enable_load_extension
            "_sqlite3",
            "mmap",
            "fcntl",
            "compileall", // writes .pyc files
            "py_compile",
            "readline", // read_init_file, write_history_file
            "syslog",
            "logging.handlers", // every handler opens files, sockets or processes
            "logging.config",   // fileConfig/dictConfig build handlers; listen() opens a socket
            "smart_open",
            "torch.utils.tensorboard", // SummaryWriter writes event files
            "tensorboardX",
            "_pyio",
            "_io",
        ],
        names: &[
            ("builtins", "open"),
            ("builtins", "file"),
            ("io", "open"),
            ("io", "open_code"),
            ("io", "FileIO"), // picklescan: io.FileIO stored as _io.FileIO
            ("logging", "FileHandler"), // creates files (picklescan 2026)
            ("logging", "basicConfig"), // basicConfig(filename=...)
            ("numpy", "fromfile"),
            ("numpy", "fromregex"),
            ("numpy", "loadtxt"),
            ("numpy", "genfromtxt"),
            ("numpy", "save"),
            ("numpy", "savez"),
            ("numpy", "savez_compressed"),
            ("numpy", "savetxt"),
            ("pandas", "ExcelWriter"),
            ("pandas", "ExcelFile"),
            ("pandas", "HDFStore"),
            ("torch", "save"),
            ("pathlib", "Path.write_text"),
            ("pathlib", "Path.write_bytes"),
            ("pathlib", "Path.read_text"),
            ("pathlib", "Path.read_bytes"),
            ("pathlib", "Path.open"),
            ("pathlib", "Path.touch"),
            ("pathlib", "Path.mkdir"),
            ("pathlib", "Path.unlink"),
            ("pathlib", "Path.rmdir"),
            ("pathlib", "Path.rename"),
            ("pathlib", "Path.replace"),
            ("pathlib", "Path.symlink_to"),
            ("pathlib", "Path.hardlink_to"),
            ("pathlib", "Path.chmod"),
            ("pathlib", "PosixPath.write_text"),
            ("pathlib", "PosixPath.write_bytes"),
            ("pathlib", "PosixPath.open"),
            ("pathlib", "PosixPath.touch"),
            ("pathlib", "PosixPath.unlink"),
            ("pathlib", "PosixPath.rename"),
            ("pathlib", "PosixPath.replace"),
            ("gensim.similarities.docsim", "Similarity"), // writes shard files from __init__
            ("xml.dom.minidom", "parse"), // parse(path) reads a file
            ("xml.dom.pulldom", "parse"),
            ("xml.sax", "parse"),
            ("xml.etree.ElementTree", "parse"),
            ("xml.etree.ElementTree", "iterparse"),
            ("xml.etree.ElementInclude", "include"),
            ("xml.etree.cElementTree", "parse"),
            ("xml.etree.cElementTree", "iterparse"),
        ],
    },
    Family {
        name: "network access",
        why: "opens network connections or servers",
        modules: &[
            "socket",
            "_socket",
            "ssl", // get_server_certificate (DNS exfiltration)
            "_ssl",
            "select",
            "selectors",
            "socketserver",
            "SocketServer",
            "http",      // http.client.HTTPSConnection, http.server
            "httplib",
            "urllib",    // urllib.request.urlopen, robotparser
            "urllib2",
            "urllib3",
            "requests",  // picklescan: requests.api
            "httpx",
            "aiohttp",
            "websocket",
            "websockets",
            "paramiko",
            "ftplib",
            "smtplib", // fickling GHSA-mxhj-88fx-4pcv
            "smtpd",
            "poplib",
            "imaplib",
            "nntplib",
            "telnetlib",
            "xmlrpc",
            "xmlrpclib",
            "asyncore",
            "asynchat",
            "wsgiref",
            "boto3",
            "botocore",
            "debugpy",
            "torch.distributed.rpc",
            "torch.distributed.rendezvous",
            "torch.distributed.distributed_c10d",
        ],
        names: &[
            ("torch.distributed", "init_process_group"),
            ("torch.distributed", "TCPStore"),
            ("torch.distributed", "FileStore"),
            ("torch.distributed", "rendezvous"),
        ],
    },
    Family {
        name: "interpreter internals",
        why: "reaches interpreter state (modules, frames, objects, hooks) or mutates it",
        modules: &[
            "sys",
            "__builtins__",
            "gc", // get_objects, get_referrers reach any live object
            "inspect", // getattr_static, getmembers, currentframe, getsource
            "atexit", // register runs callables at exit
            "signal", // signal.signal installs handlers
            "_signal",
            "threading",
            "_thread",
            "faulthandler",
            "resource",
            "termios",
            "tty",
            "getpass", // getpass prompts on the terminal (blocks), getuser leaks the login
            "curses", // wrapper(func) and initscr take over the terminal
            "_sitebuiltins", // _Helper runs pydoc's pager
            "_pyrepl",       // pager.pipe_pager runs commands (picklescan 2026)
            "_testcapi",
            "_testinternalcapi",
            "_testbuffer",
            "_testimportmultiple",
            "_testmultiphase",
            "_testsinglephase",
            "_xxtestfuzz",
            "_opcode",
            "_tracemalloc",
            "_lsprof",
            "_weakref",
            "_abc",
            "_warnings",
            "_compat_pickle",
            "_posixshmem",
            "_overlapped",
            "_msi",
            "_wmi",
            "_scproxy",
            "_curses",
            "_curses_panel",
            "_dbm",
            "_gdbm",
            "_crypt",
            "_ios_support",
            "_android_support",
            "_apple_support",
            "_colorize",
            "_sysconfig",
            "_bootlocale",
            "_symtable",
            "_tokenize",
            "_remote_debugging",
            "_suggestions",
            "_opcode_metadata",
            "_pydatetime",
            "_pylong",
            "_py_abc",
            "_py_warnings",
            "_markupbase",
            "_strptime",
            "_threading_local",
        ],
        names: &[
            ("builtins", "globals"),
            ("builtins", "locals"),
            ("builtins", "vars"),
            ("builtins", "setattr"),
            ("builtins", "delattr"),
            ("builtins", "exit"),
            ("builtins", "quit"),
            ("builtins", "copyright"),
            ("builtins", "credits"),
            ("builtins", "license"),
            ("operator", "attrgetter"), // attrgetter('system')(os)
            ("operator", "itemgetter"),
            ("operator", "methodcaller"), // GHSA-955r-x9j8-7rhh
            ("operator", "call"),
            ("operator", "setitem"),
            ("operator", "delitem"),
            ("_operator", "attrgetter"),
            ("_operator", "itemgetter"),
            ("_operator", "methodcaller"),
            ("_operator", "call"),
            ("_operator", "setitem"),
            ("_operator", "delitem"),
            ("functools", "reduce"), // reduce(getattr, path, module)
            ("_functools", "reduce"),
            ("functools", "partialmethod"),
            ("functools", "singledispatch"),
            ("functools", "wraps"),
            ("functools", "update_wrapper"),
            ("copyreg", "add_extension"), // mutates the extension registry
            ("copyreg", "remove_extension"),
            ("copyreg", "clear_extension_cache"),
            ("copyreg", "pickle"),
            ("copyreg", "constructor"),
            ("weakref", "finalize"), // runs a callable at collection or exit
            ("logging", "setLoggerClass"),
            ("logging", "setLogRecordFactory"),
            ("codecs", "register"), // a codec search function runs on every lookup
            ("zoneinfo", "reset_tzpath"), // moves where ZoneInfo reads zone files from
            ("_codecs", "register"),
            ("numpy", "seterrcall"),
            ("transformers.models.auto.auto_factory", "getattribute_from_module"),
        ],
    },
    Family {
        name: "debuggers, profilers, pagers and help",
        why: "runs code under a debugger or profiler, or pipes text to a pager command",
        modules: &[
            "pdb",
            "bdb", // Bdb.run (picklescan)
            "ipdb",
            "pudb",
            "pydevd",
            "cProfile", // run/runctx exec (GHSA-9w88-8rmg-7g2p, GHSA-49gj-c84q-6qm9)
            "profile",  // run, Profile.run/runctx (GHSA-7wx9-6375-f5wh, GHSA-x696-vm39-cp64)
            "trace",    // Trace.run/runctx (GHSA-5qwp-399c-mjwf, GHSA-g344-hcph-8vgg)
            "pydoc",    // pipepager, tempfilepager, locate
            "idlelib",  // run.Executive.runcode, pyshell, calltip, autocomplete (GHSA-m869-42cg-3xwr, ...)
            "lib2to3",  // pgen2.grammar.Grammar.loads, pgen.ParserGenerator.make_label (GHSA-f54q-57x4-jg88, GHSA-p9w7-82w4-7q8m)
        ],
        names: &[
            ("builtins", "breakpoint"),
            ("builtins", "help"),
            ("builtins", "input"),
            ("builtins", "raw_input"),
        ],
    },
    Family {
        name: "test helpers",
        why: "test harnesses run code, spawn interpreters and import modules by name",
        modules: &[
            "test", // test.support.script_helper.assert_python_ok (picklescan 2026), test.support.interpreters
            "unittest", // mock.patch('os.system') imports by dotted name (fickling GHSA-pc6j-px3p-rrj4)
            "doctest",  // debug_script, run_docstring_examples (GHSA-fqq6-7vqf-w3fg)
            "pytest",
            "_pytest",
            "nose",
            "numpy.testing", // _private.utils.runstring
            "numpy.conftest",
            "pandas._testing",
            "pandas.util.testing",
            "pandas.util._tester",
            "pandas.testing",
            "sklearn.utils._testing", // assert_run_python_script spawns a process
            "sklearn.utils.estimator_checks",
            "scipy._lib._testutils",
            "torch.testing", // _internal.common_utils.shell runs commands
            "gensim.test",
        ],
        names: &[
            ("numpy", "test"),
            ("scipy", "test"),
            ("pandas", "test"),
        ],
    },
    Family {
        name: "downloads",
        why: "fetches data from the network and writes it to disk",
        modules: &["sklearn.datasets", "keras.utils.data_utils", "datasets.load"],
        names: &[
            ("keras.utils", "get_file"),
            ("tensorflow.keras.utils", "get_file"),
        ],
    },
    // Found by red-teaming the scanner (tests/fixtures/redteam/attacks),
    // each verified to run code in CPython; grouped by capability.
    Family {
        name: "code generation",
        why: "generates Python source from the pickled data and executes it",
        modules: &[
            "torch.fx",
            "torch.ao.quantization.fx",
            "torch.quantization.fx",
            "torch.ao.ns.fx",
            "torch._precompile",
        ],
        names: &[
            ("typing", "get_type_hints"),
            ("typing", "ForwardRef._evaluate"),
            ("typing", "_eval_type"),
            ("typing", "evaluate_forward_ref"),
            ("dataclasses", "_create_fn"),
            ("dataclasses", "_FuncBuilder"),
        ],
    },
    Family {
        name: "imports by name",
        why: "imports a module named by the pickle, running its top-level code",
        modules: &["sklearn.externals.array_api_compat._internal"],
        names: &[
            ("warnings", "_getcategory"),
            ("warnings", "_setoption"),
            ("warnings", "_processoptions"),
            ("xml.sax", "make_parser"),
            ("xml.sax", "_create_parser"),
            ("sklearn.utils._set_output", "check_library_installed"),
            ("pandas", "set_option"),
            ("pandas._config.config", "set_option"),
            ("pandas._config", "set_option"),
            ("pandas.compat._optional", "import_optional_dependency"),
            ("numpy", "add_newdoc"),
            ("numpy.lib", "add_newdoc"),
            ("numpy.lib.function_base", "add_newdoc"),
            ("numpy.core.function_base", "add_newdoc"),
            ("numpy._core.function_base", "add_newdoc"),
            ("numpy.core.function_base", "_add_docstring"),
            ("torch.utils._pytree", "enum_object_hook"),
            ("optparse", "Values.read_module"),
        ],
    },
    Family {
        name: "process execution (helpers)",
        why: "runs a program",
        modules: &["torch.cuda._memory_viz"],
        names: &[("pandas._config.localization", "get_locales")],
    },
    Family {
        name: "file and URL access (helpers)",
        why: "opens, writes or fetches the path or URL it is given",
        modules: &[
            "sklearn.callback",
            "sklearn.externals.array_api_compat",
            "pandas.plotting",
            "torch._logging",
            "torch.utils.file_baton",
            "torch.utils._get_clean_triton",
            "pandas._config.localization",
            "pandas.util._print_versions",
            "aifc",
            "sunau",
            "wave",
            "xml.sax",
            "xml.dom.xmlbuilder",
            "xml.dom.expatbuilder",
            "xml.dom.pulldom",
        ],
        names: &[
            ("xml.etree.ElementTree", "ElementTree.write"),
            ("xml.etree.ElementTree", "ElementTree.parse"),
            ("xml.dom.minidom", "parse"),
            ("pandas.api.typing", "JsonReader"),
            ("pandas.api.typing", "StataReader"),
            ("pandas.api.typing", "SASReader"),
            ("pandas.compat.pickle_compat", "Unpickler"),
        ],
    },
    Family {
        name: "pickling registries",
        why: "changes how the loading process resolves extension codes and pickles objects",
        modules: &[],
        names: &[
            ("copyreg", "_extension_registry"),
            ("copyreg", "_inverted_registry"),
            ("copyreg", "_extension_cache"),
            ("copyreg", "dispatch_table"),
            ("copy_reg", "_extension_registry"),
            ("copy_reg", "_inverted_registry"),
            ("copy_reg", "dispatch_table"),
        ],
    },
];

/// A capability recognised by the last step of a name, in any module: a
/// model library's `load` reads a file and unpickles it, `system` runs a
/// command wherever it is defined.
pub(super) struct LastStep {
    pub why: &'static str,
    pub names: &'static [&'static str],
}

pub(super) const LAST_STEPS: &[LastStep] = &[
    LastStep {
        why: "imports a module by name, runs generated code, or reads a file or URL given to it",
        names: &[
            "import_optional_dependency",
            "_fa3_import_module",
            "clone_module",
            "add_newdoc",
            "get_type_hints",
            "_eval_type",
            "GraphModule",
            "ObservedGraphModule",
            "JsonReader",
            "StataReader",
            "SASReader",
            "XportReader",
            "SAS7BDATReader",
            "Unpickler",
            "Listener",
            "Memory",
            "Parallel",
            "info",
            "show_versions",
            "save_to_buffer",
            "export_chrome_trace",
            "export_stacks",
            "export_memory_timeline",
            "get_clean_triton",
            "signature",
            "get_annotations",
            "from_file",
            "open_memmap",
            "read_array",
        ],
    },
    LastStep {
        why: "writes to the path or buffer it is given",
        names: &[
            "get_handle",
            "BinaryZlibFile",
            "BinaryGzipFile",
            "savez_compressed",
            "boxplot",
            "hist",
            "plot",
            "_get_plot_backend",
            "_load_backend",
            "tofile",
            "dump",
            "savefig",
            "to_string",
            "to_csv",
            "to_pickle",
            "to_json",
            "to_html",
            "to_latex",
            "to_markdown",
            "to_excel",
            "to_parquet",
            "to_feather",
            "to_hdf",
            "to_sql",
            "to_stata",
            "to_xml",
            "to_clipboard",
            "to_orc",
            "to_netcdf",
        ],
    },
    LastStep {
        why: "executes code",
        names: &[
            "eval",
            "exec",
            "execfile",
            "exec_module",
            "runcode",
            "runsource",
            "runcommand",
            "runctx",
            "run_code",
            "_run_code",
            "_run_module_code",
            "run_module",
            "run_path",
            "run_script",
            "runstring",
            "run_string",
            "run_cprofile",
            "run_autograd_prof",
            "execWrapper",
            "evaluate_guards_expression",
            "cython_inline",
            "func_load", // Keras Lambda layers: marshal.loads + FunctionType (CVE-2024-3660)
            "deserialize_model_from_bytecode",
            "sympify",
            "parse_expr",
            "interact",
            "debug_script",
            "set_trace",
            "post_mortem",
        ],
    },
    LastStep {
        why: "starts a process or runs a shell command",
        names: &[
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
            "spawnle",
            "spawnlp",
            "spawnlpe",
            "spawnv",
            "spawnve",
            "spawnvp",
            "spawnvpe",
            "spawnv_passfds",
            "posix_spawn",
            "posix_spawnp",
            "fork_exec",
            "execl",
            "execle",
            "execlp",
            "execlpe",
            "execv",
            "execve",
            "execvp",
            "execvpe",
            "startfile",
            "create_subprocess_exec",
            "create_subprocess_shell",
            "subprocess_exec",
            "subprocess_shell",
            "_read_output",
            "_read_cmd_output",
            "_find_build_tool",
            "_get_command_stdout",
            "_syscmd_file",
            "_syscmd_ver",
            "_syscmd_uname",
            "_run_pip",
            "compile_file",
            "pipepager",
            "tempfilepager",
            "pipe_pager",
            "tempfile_pager",
        ],
    },
    LastStep {
        why: "deserializes data or loads a model, code or library from a file or URL",
        names: &[
            "load",
            "loads",
            "unsafe_load",
            "full_load",
            "load_all",
            "unsafe_load_all",
            "load_pickle",
            "read_pickle",
            "load_model",
            "load_url",
            "load_state_dict_from_url",
            "load_dataset",
            "from_pretrained",
            "load_config",
            "load_library",
            "LoadLibrary",
            "load_source",
            "load_module",
            "load_dynamic",
            "load_compiled",
            "load_package",
            "load_entry_point",
            "dlopen",
        ],
    },
    LastStep {
        why: "imports a module or resolves a dotted path to an object",
        names: &[
            "__import__",
            "import_module",
            "resolve_name",
            "locate",
            "_locate",
            "import_string",
            "import_object",
            "import_from_string",
            "symbol_by_name",
            "getattribute_from_module",
            "get_class_from_dynamic_module",
            "instantiate",
        ],
    },
    LastStep {
        why: "opens, writes or deletes files, or fetches URLs",
        names: &[
            "open",
            "open_code",
            "urlopen",
            "urlretrieve",
            "download_url_to_file",
            "dump",
            "save",
            "savez",
            "savetxt",
            "tofile",
            "fromfile",
            "from_file",
            "fromregex",
            "loadtxt",
            "genfromtxt",
            "memmap",
            "to_pickle",
            "read_csv",
            "read_table",
            "read_fwf",
            "read_json",
            "read_html",
            "read_xml",
            "read_sql",
            "read_sql_query",
            "read_sql_table",
            "read_excel",
            "read_parquet",
            "read_orc",
            "read_feather",
            "read_hdf",
            "read_sas",
            "read_spss",
            "read_stata",
            "read_gbq",
            "read_clipboard",
            "to_json",
            "to_html",
            "to_xml",
            "to_latex",
            "to_markdown",
            "rmdir",
            "touch",
            "link_to",
            "chmod",
            "lchmod",
            "chown",
            "lchown",
            "to_csv",
            "to_parquet",
            "to_hdf",
            "to_sql",
            "to_excel",
            "to_feather",
            "to_stata",
            "to_orc",
            "to_clipboard",
            "write_text",
            "write_bytes",
            "read_text",
            "read_bytes",
            "write_file",
            "rmtree",
            "removedirs",
            "unlink",
            "makedirs",
            "mkdir",
            "symlink_to",
            "hardlink_to",
            "copyfile",
            "copytree",
        ],
    },
];

/// Top-level names of denied modules that are also ordinary words for
/// functions and methods (`Model.trace`, `mylib.profile`). As a qualname
/// step they count as a walk into that module only when more steps follow.
/// Every other denied top-level name (`os`, `sys`, `subprocess`,
/// `builtins`, ...) counts at any position but the last after a class.
pub(super) const WEAK_STEP_NAMES: &[&str] = &[
    "wave",
    "code",
    "past",
    "trace",
    "profile",
    "signal",
    "select",
    "platform",
    "glob",
    "site",
    "test",
    "inspect",
    "http",
    "sh",
    "invoke",
    "fabric",
    "plumbum",
    "turtle",
    "entrypoints",
    "imp",
    "pip",
    "venv",
    "nose",
    "pytest",
    "unittest",
    "doctest",
    "timeit",
    "gc",
    "atexit",
    "resource",
    "tty",
    "termios",
    "interpreters",
    "readline",
    "syslog",
    "mailbox",
    "requests",
    "websocket",
    "websockets",
    "concurrent",
    "threading",
    "pickletools",
    "linecache",
    "fileinput",
    "filecmp",
    "zipapp",
    "numba",
    "triton",
    "mako",
    "numexpr",
    "llvmlite",
    "compileall",
    "py_compile",
    "wsgiref",
    "dbm",
    "anydbm",
    "commands",
    "popen2",
    "pexpect",
    "psutil",
    "yaml",
    "ruamel",
    "paramiko",
    "boto3",
    "botocore",
    "debugpy",
    "pydevd",
    "ipdb",
    "pudb",
    "pluggy",
    "stevedore",
    "modulefinder",
    "sitecustomize",
    "usercustomize",
    "smart_open",
    "tensorboardX",
    "jsonpickle",
    "jinja2",
    "Cython",
    "pyximport",
    "IPython",
    "ipykernel",
    "mmap",
    "fcntl",
    "tarfile",
    "zipfile",
    "gzip",
    "bz2",
    "lzma",
    "tempfile",
    "selectors",
    "faulthandler",
    "pstats",
    "tracemalloc",
    "rlcompleter",
    "tkinter",
    "turtledemo",
    "antigravity",
    "msvcrt",
    "winreg",
    "sqlite3",
];
