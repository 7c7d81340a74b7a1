use super::*;

use Verdict::{Dangerous as D, Safe as S, Unknown as U};

fn check(cases: &[(&str, &str, Verdict)]) {
    let p = Policy::default();
    let wrong: Vec<String> = cases
        .iter()
        .filter_map(|&(m, n, want)| {
            let (got, why) = p.classify(m, n);
            (got != want).then(|| format!("{m} {n}: want {want}, got {got} ({why})"))
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn classifies() {
    check(&[
        ("os", "system", D),
        ("os.path", "join", D),
        ("posix", "system", D),
        ("builtins", "eval", D),
        ("builtins", "set", S),
        ("builtins", "object.__subclasses__", D),
        ("collections", "OrderedDict", S),
        ("pcorpus", "Point", U),
        ("pcorpus", "Outer.Inner", U),
        ("mylib", "loads", D),
        ("sklearn.linear_model._base", "LinearRegression", S),
        ("sklearn.utils", "some_function", U),
        ("sklearn.datasets", "FetchThing", D),
        ("torch._utils", "_rebuild_tensor_v2", S),
        ("torch", "FloatStorage", S),
        ("torch", "FloatTensor", S),
        ("torch", "LongTensor", S),
        ("torch", "load", D),
        ("pandas", "DataFrame.eval", D),
        ("pandas.core.frame", "DataFrame", S),
    ]);
    let mut p = Policy::default();
    p.allow("pcorpus.Point");
    p.allow("mine.*");
    assert_eq!(p.classify("pcorpus", "Point").0, S);
    assert_eq!(p.classify("mine.sub", "X").0, S);
    assert_eq!(p.classify("pcorpus", "Color").0, U);
}

/// One name at least per family, and the published gadgets this policy
/// added (picklescan, fickling and modelscan advisories and reports).
#[test]
fn families_and_published_gadgets() {
    let cases: &[(&str, &str, Verdict)] = &[
        // process execution
        ("subprocess", "run", D),
        ("_posixsubprocess", "fork_exec", D),
        ("pty", "spawn", D),
        ("commands", "getoutput", D),
        ("multiprocessing.util", "spawnv_passfds", D),
        ("asyncio.unix_events", "_UnixSubprocessTransport._start", D),
        ("_osx_support", "_read_output", D),
        ("_osx_support", "_find_build_tool", D),
        ("_aix_support", "_read_cmd_output", D),
        ("platform", "_syscmd_file", D),
        ("platform", "_syscmd_ver", D),
        ("platform", "popen", D),
        ("uuid", "_get_command_stdout", D),
        ("uuid", "getnode", D),
        ("uuid", "uuid1", D),
        ("imaplib", "IMAP4_stream", D),
        ("ctypes.util", "find_library", D),
        ("ctypes.util", "_findLib_gcc", D),
        ("torch.distributed.run", "main", D),
        ("torch.distributed.launch", "main", D),
        (
            "torch.distributed.elastic.multiprocessing",
            "start_processes",
            D,
        ),
        ("torch.backends.xeon.run_cpu", "main", D),
        ("torch.utils.collect_env", "run", D),
        ("torch.utils.collect_env", "run_and_read_all", D),
        ("torch.utils.bottleneck.__main__", "run_cprofile", D),
        ("torch.utils.bottleneck.__main__", "run_autograd_prof", D),
        ("gensim.models.wrappers.ldamallet", "LdaMallet", D),
        ("webbrowser", "open", D),
        ("mailcap", "findmatch", D),
        ("joblib", "Parallel", D),
        // code execution
        ("code", "InteractiveInterpreter.runcode", D),
        ("code", "interact", D),
        ("codeop", "compile_command", D),
        ("runpy", "_run_code", D),
        ("timeit", "timeit", D),
        ("rlcompleter", "Completer.attr_matches", D),
        ("_xxsubinterpreters", "run_string", D),
        ("_interpreters", "run_string", D),
        ("_interpreters", "create", D),
        ("interpreters", "create", D),
        ("test.support.interpreters", "create", D),
        ("concurrent.interpreters", "create", D),
        ("tkinter", "Tcl", D),
        ("jinja2", "Template.render", D),
        ("numexpr", "evaluate", D),
        ("sympy", "sympify", D),
        ("torch.fx.graph_module", "reduce_graph_module", D),
        (
            "torch.fx.experimental.symbolic_shapes",
            "ShapeEnv.evaluate_guards_expression",
            D,
        ),
        ("torch.jit.unsupported_tensor_ops", "execWrapper", D),
        ("torch.jit.annotations", "parse_type_line", D),
        ("torch._dynamo.guards", "GuardBuilder.get", D),
        ("torch._inductor.codecache", "compile_file", D),
        ("torch.utils.cpp_extension", "load_inline", D),
        ("torch.utils.benchmark", "Timer", D),
        ("types", "FunctionType", D),
        ("types", "CodeType", D),
        ("cloudpickle.cloudpickle", "_make_function", D),
        ("cloudpickle.cloudpickle", "subimport", D),
        ("hydra.utils", "instantiate", D),
        ("numba.core.serialize", "_rebuild_reduction", D),
        ("IPython.utils.process", "getoutput", D),
        // code loading and importers
        ("importlib", "import_module", D),
        ("importlib.metadata", "EntryPoint", D),
        ("importlib.metadata", "EntryPoint.load", D),
        ("importlib.util", "spec_from_file_location", D),
        ("pkg_resources", "EntryPoint.load", D),
        ("pkg_resources", "load_entry_point", D),
        ("pkgutil", "resolve_name", D),
        ("pydoc", "locate", D),
        ("imp", "load_source", D),
        ("zipimport", "zipimporter", D),
        ("site", "addsitedir", D),
        ("ensurepip", "_run_pip", D),
        ("pip", "main", D),
        ("venv", "create", D),
        ("setuptools.sandbox", "run_setup", D),
        ("distutils.spawn", "spawn", D),
        ("distutils.file_util", "write_file", D),
        ("numpy.f2py.crackfortran", "getlincoef", D),
        ("numpy.f2py.crackfortran", "_eval_length", D),
        ("numpy.distutils.exec_command", "exec_command", D),
        ("numpy.ctypeslib", "load_library", D),
        ("torch.hub", "load", D),
        ("torch.package", "PackageImporter", D),
        ("torch.ops", "load_library", D),
        (
            "transformers.models.auto.auto_factory",
            "getattribute_from_module",
            D,
        ),
        (
            "transformers.models.auto.tokenization_auto",
            "AutoTokenizer.from_pretrained",
            D,
        ),
        (
            "transformers.dynamic_module_utils",
            "get_class_from_dynamic_module",
            D,
        ),
        ("gensim.downloader", "load", D),
        ("kombu.utils.imports", "symbol_by_name", D),
        ("six.moves", "cPickle.loads", D),
        ("six.moves.builtins", "getattr", D),
        ("past.builtins", "execfile", D),
        ("numpy.lib.utils", "lookfor", D),
        ("numpy", "lookfor", D),
        (
            "keras.saving.pickle_utils",
            "deserialize_model_from_bytecode",
            D,
        ),
        ("keras.src.utils.python_utils", "func_load", D),
        ("numpy.core.multiarray", "fromfile", D),
        ("werkzeug.utils", "import_string", D),
        // nested deserialization
        ("pickle", "loads", D),
        ("_pickle", "Unpickler", D),
        ("marshal", "loads", D),
        ("dill", "loads", D),
        ("shelve", "open", D),
        ("yaml", "unsafe_load", D),
        ("torch.serialization", "load", D),
        ("torch.storage", "_load_from_bytes", D),
        ("torch.utils._config_module", "ConfigModule.load_config", D),
        (
            "torch.utils.data.datapipes.utils.decoder",
            "basichandlers",
            D,
        ),
        ("numpy.lib.format", "read_array", D),
        ("numpy.core", "_ufunc_reconstruct", D),
        ("joblib", "load", D),
        ("joblib.numpy_pickle", "load", D),
        ("pandas", "read_pickle", D),
        ("pandas.io.pickle", "read_pickle", D),
        ("tracemalloc", "Snapshot.load", D),
        ("lib2to3.pgen2.grammar", "Grammar.loads", D),
        ("keras.models", "load_model", D),
        ("datasets", "load_dataset", D),
        // file system
        ("builtins", "open", D),
        ("io", "open", D),
        ("io", "FileIO", D),
        ("_io", "FileIO", D),
        ("_io", "open", D),
        ("_pyio", "open", D),
        ("logging", "FileHandler", D),
        ("logging", "basicConfig", D),
        ("logging.handlers", "RotatingFileHandler", D),
        ("logging.handlers", "SocketHandler", D),
        ("logging.config", "listen", D),
        ("shutil", "rmtree", D),
        ("tempfile", "mkstemp", D),
        ("glob", "glob", D),
        ("fileinput", "input", D),
        ("linecache", "getline", D),
        ("zipfile", "ZipFile", D),
        ("tarfile", "open", D),
        ("gzip", "open", D),
        ("bz2", "open", D),
        ("lzma", "open", D),
        ("tokenize", "open", D),
        ("codecs", "open", D),
        ("compileall", "compile_dir", D),
        ("py_compile", "compile", D),
        ("sqlite3", "connect", D),
        ("mmap", "mmap", D),
        ("pathlib", "Path.write_text", D),
        ("xml.dom.minidom", "parse", D),
        ("xml.etree.ElementTree", "parse", D),
        ("getpass", "getpass", D),
        ("pathlib", "PosixPath.write_bytes", D),
        ("numpy", "save", D),
        ("numpy", "memmap", D),
        ("numpy", "ndarray.tofile", D),
        ("torch", "save", D),
        ("pandas", "HDFStore", D),
        ("pandas", "DataFrame.to_csv", D),
        ("pandas", "read_csv", D),
        ("pandas", "read_html", D),
        ("pandas", "read_sql", D),
        ("pandas", "read_clipboard", D),
        ("tempfile", "_TemporaryFileCloser", D),
        ("uu", "encode", D),
        ("cgitb", "enable", D),
        ("torch.utils.tensorboard.writer", "SummaryWriter", D),
        // network
        ("socket", "create_connection", D),
        ("ssl", "get_server_certificate", D),
        ("http.client", "HTTPSConnection", D),
        ("http.server", "HTTPServer", D),
        ("urllib.request", "urlopen", D),
        ("urllib", "urlretrieve", D),
        ("urllib2", "urlopen", D),
        ("ftplib", "FTP", D),
        ("smtplib", "SMTP", D),
        ("xmlrpc.client", "ServerProxy", D),
        ("requests", "get", D),
        ("requests.api", "request", D),
        ("httpx", "get", D),
        ("aiohttp", "ClientSession", D),
        ("paramiko", "SSHClient", D),
        ("torch.distributed.rpc", "rpc_sync", D),
        ("torch.distributed", "init_process_group", D),
        ("sklearn.datasets", "fetch_openml", D),
        ("huggingface_hub", "hf_hub_download", D),
        // interpreter internals
        ("sys", "exit", D),
        ("gc", "get_objects", D),
        ("gc", "get_referrers", D),
        ("inspect", "getattr_static", D),
        ("inspect", "currentframe", D),
        ("ctypes", "CDLL", D),
        ("cffi", "FFI", D),
        ("atexit", "register", D),
        ("signal", "signal", D),
        ("signal", "setitimer", D),
        ("threading", "Thread", D),
        ("_thread", "start_new_thread", D),
        ("builtins", "globals", D),
        ("builtins", "setattr", D),
        ("builtins", "vars", D),
        ("builtins", "__build_class__", D),
        ("operator", "attrgetter", D),
        ("_operator", "methodcaller", D),
        ("operator", "itemgetter", D),
        ("functools", "reduce", D),
        ("copyreg", "add_extension", D),
        ("copyreg", "_extension_registry.__setitem__", D),
        ("weakref", "finalize", D),
        ("codecs", "register", D),
        ("_sitebuiltins", "_Helper", D),
        ("_pyrepl.pager", "pipe_pager", D),
        ("numpy", "__builtins__", D),
        // debuggers, profilers, pagers
        ("pdb", "run", D),
        ("bdb", "Bdb.run", D),
        ("cProfile", "run", D),
        ("cProfile", "runctx", D),
        ("profile", "run", D),
        ("profile", "Profile.runctx", D),
        ("trace", "Trace.run", D),
        ("trace", "Trace.runctx", D),
        ("pydoc", "pipepager", D),
        ("pydoc", "pager", D),
        ("idlelib.run", "Executive.runcode", D),
        ("idlelib.pyshell", "ModifiedInterpreter.runcommand", D),
        ("idlelib.calltip", "get_entity", D),
        ("lib2to3.pgen2.pgen", "ParserGenerator.make_label", D),
        ("builtins", "breakpoint", D),
        ("builtins", "help", D),
        ("pstats", "Stats", D),
        // test helpers
        ("doctest", "debug_script", D),
        ("doctest", "run_docstring_examples", D),
        ("test.support.script_helper", "assert_python_ok", D),
        ("unittest.mock", "patch", D),
        ("numpy.testing._private.utils", "runstring", D),
        ("numpy", "test", D),
        ("torch.testing._internal.common_utils", "shell", D),
        ("sklearn.utils._testing", "assert_run_python_script", D),
        ("pandas._testing", "makeDataFrame", D),
        // found by red-teaming (tests/fixtures/redteam/attacks)
        ("torch.fx.graph_module", "GraphModule", D),
        (
            "torch.ao.quantization.fx.graph_module",
            "ObservedGraphModule",
            D,
        ),
        ("torch.ao.quantization.fx.tracer", "GraphModule", D),
        ("typing", "get_type_hints", D),
        ("typing", "ForwardRef._evaluate", D),
        ("dataclasses", "_create_fn", D),
        ("warnings", "_getcategory", D),
        ("xml.sax", "make_parser", D),
        ("pandas", "set_option", D),
        ("pandas.compat._optional", "import_optional_dependency", D),
        ("numpy._core.function_base", "add_newdoc", D),
        ("torch.nn.attention._fa3", "_fa3_import_module", D),
        ("torch.cuda._memory_viz", "format_flamegraph", D),
        ("pandas._config.localization", "get_locales", D),
        ("wave", "Wave_write", D),
        ("aifc", "Aifc_write", D),
        ("xml.dom.xmlbuilder", "DOMBuilder.parseURI", D),
        ("sklearn.callback._transport", "Listener", D),
        ("sklearn.callback._transport", "Client", D),
        ("pandas.api.typing", "JsonReader", D),
        ("copyreg", "_inverted_registry", D),
        ("torch._C._nn", "gelu", S),
        ("torch._C", "_VariableFunctionsClass.relu", S),
        ("torch._C", "_VariableFunctionsClass.__globals__", D),
        ("torch._C", "_jit_pass_inline", D),
        ("signal", "SIGINT", S),
        ("socket", "AF_INET", S),
        ("socket", "socket", D),
        ("operator", "or_", S),
        // dangerous last steps in any module
        ("anymodule", "system", D),
        ("somelib", "eval", D),
        ("somelib.models", "Model.from_pretrained", D),
        ("somelib", "urlopen", D),
    ];
    check(cases);
    // every family is exercised by at least one case
    let p = Policy::default();
    let reasons: Vec<String> = cases.iter().map(|&(m, n, _)| p.classify(m, n).1).collect();
    for f in FAMILIES {
        let tag = format!("({})", f.name);
        assert!(
            reasons.iter().any(|r| r.contains(&tag)),
            "no case for family {}",
            f.name
        );
    }
}

/// The false alarms and real files that came out unknown.
#[test]
fn benign_names() {
    check(&[
        ("os", "stat_result", S),
        ("os", "terminal_size", S),
        ("posix", "uname_result", S),
        ("posix", "times_result", S),
        ("time", "struct_time", S),
        ("urllib.parse", "ParseResult", S),
        ("urllib.parse", "SplitResult", S),
        ("urllib.parse", "DefragResult", S),
        ("urllib.parse", "ParseResultBytes", S),
        ("urlparse", "ParseResult", S),
        ("http", "HTTPStatus", S),
        ("http", "HTTPStatus.OK", S),
        ("http", "HTTPMethod", S),
        ("subprocess", "CompletedProcess", S),
        ("subprocess", "CalledProcessError", S),
        ("commands", "CompletedProcess", S),
        ("signal", "Signals", S),
        ("signal", "Signals.SIGINT", S),
        ("signal", "Handlers", S),
        ("signal", "Sigmasks", S),
        ("socket", "AddressFamily", S),
        ("socket", "SocketKind", S),
        ("socket", "AddressInfo", S),
        ("socket", "MsgFlag", S),
        ("socket", "AddressFamily.AF_INET6", S),
        ("ssl", "TLSVersion", S),
        ("re", "RegexFlag", S),
        ("re", "_compile", S),
        ("platform", "uname_result", S),
        ("ssl", "SSLError", S),
        ("tarfile", "TarInfo", S),
        ("zipfile", "ZipInfo", S),
        ("http.cookiejar", "Cookie", S),
        ("http.cookiejar", "FileCookieJar", D),
        ("tarfile", "TarFile", D),
        ("urllib.error", "HTTPError", S),
        ("_pickle", "UnpicklingError", S),
        ("shutil", "SameFileError", S),
        ("requests.exceptions", "ConnectionError", S),
        ("asyncio.exceptions", "CancelledError", S),
        ("concurrent.futures._base", "TimeoutError", S),
        ("ssl", "SSLError.__init__", D),
        ("logging", "getLogger", S),
        ("inspect", "_ParameterKind", S),
        ("inspect", "_empty", S),
        ("joblib.numpy_pickle", "NDArrayWrapper", S),
        ("joblib.numpy_pickle", "NumpyArrayWrapper", S),
        ("joblib.numpy_pickle", "ZNDArrayWrapper", S),
        ("sklearn.externals.joblib.numpy_pickle", "NDArrayWrapper", S),
        (
            "sklearn.externals.joblib.numpy_pickle",
            "NumpyArrayWrapper",
            S,
        ),
        ("pytz", "_p", S),
        ("pytz", "_UTC", S),
        ("pytz.tzinfo", "DstTzInfo", S),
        ("dateutil.tz.tz", "tzutc", S),
        ("dateutil.tz.tz", "tzoffset", S),
        ("dateutil.tz.tz", "tzfile", S),
        ("dateutil.relativedelta", "relativedelta", S),
        ("pandas.tslib", "__nat_unpickle", S),
        ("pandas._libs.tslibs.nattype", "__nat_unpickle", S),
        ("pandas.indexes.base", "_new_Index", S),
        ("pandas.core.indexes.base", "_new_Index", S),
        ("pandas.core.index", "_new_Index", S),
        ("pandas._libs.tslibs.timestamps", "_unpickle_timestamp", S),
        ("pandas._libs.tslibs.timedeltas", "_timedelta_unpickle", S),
        ("pandas._libs.arrays", "__pyx_unpickle_NDArrayBacked", S),
        ("pandas.core.internals.managers", "BlockManager", S),
        ("pandas.core.internals", "BlockManager", S),
        ("pandas._libs.internals", "_unpickle_block", S),
        ("pandas.core.arrays.categorical", "Categorical", S),
        ("pandas.core.dtypes.dtypes", "CategoricalDtype", S),
        ("pandas.sparse.frame", "SparseDataFrame", S),
        ("pandas.tseries.index", "DatetimeIndex", S),
        ("pandas.tseries.period", "PeriodIndex", S),
        ("pandas.tseries.offsets", "Day", S),
        ("pandas", "DataFrame", S),
        ("pandas", "Timestamp", S),
        ("numpy.random", "__RandomState_ctor", S),
        ("numpy.random._pickle", "__randomstate_ctor", S),
        ("numpy.random._pickle", "__bit_generator_ctor", S),
        ("numpy.random._pickle", "__generator_ctor", S),
        ("numpy.random.mtrand", "RandomState", S),
        ("numpy.random._mt19937", "MT19937", S),
        ("numpy.random._pcg64", "PCG64", S),
        ("numpy.random._generator", "Generator", S),
        ("numpy.core.multiarray", "_reconstruct", S),
        ("numpy.core._internal", "_reconstruct", S),
        ("numpy.core._internal", "_ctypes", D),
        ("enum", "Flag", S),
        ("builtins", "hash", S),
        ("gensim.models.phrases", "original_scorer", S),
        ("gensim.models.tfidfmodel", "smartirs_wlocal", S),
        ("gensim.utils", "call_on_class_only", S),
        ("numpy.core.multiarray", "scalar", S),
        ("numpy._core.multiarray", "_reconstruct", S),
        ("numpy.core.numeric", "_frombuffer", S),
        ("numpy.matrixlib.defmatrix", "matrix", S),
        ("numpy.ma.core", "MaskedArray", S),
        ("numpy.ma.core", "_mareconstruct", S),
        ("numpy.core.records", "recarray", S),
        ("numpy.dtypes", "Float64DType", S),
        ("numpy", "float64", S),
        ("numpy", "log1p", S),
        ("numpy.ma", "MaskedArray", S),
        ("numpy.rec", "recarray", S),
        ("numpy", "record", S),
        (
            "numpy.random.bit_generator",
            "__pyx_unpickle_SeedSequence",
            S,
        ),
        ("sklearn.neighbors._kd_tree", "newObj", S),
        ("sklearn.neighbors._ball_tree", "newObj", S),
        ("dateutil.tz.tz", "_ttinfo", S),
        ("numpy", "vectorize", U),
        ("numpy", "dtype", S),
        ("scipy.sparse._csr", "csr_matrix", S),
        ("scipy.sparse.csr", "csr_matrix", S),
        ("scipy.sparse._csc", "csc_matrix", S),
        ("scipy.sparse._coo", "coo_matrix", S),
        ("scipy.sparse._arrays", "csr_array", S),
        ("scipy.sparse._csr", "csr_array", S),
        ("gensim.models.word2vec", "Word2Vec", S),
        ("gensim.models.keyedvectors", "KeyedVectors", S),
        // Held-out real files: gensim 3's test data, sklearn < 0.22's Bunch.
        ("gensim.models.wrappers.fasttext", "FastTextKeyedVectors", S),
        ("gensim.models.wrappers.fasttext", "FastText", D),
        ("sklearn.datasets.base", "Bunch", S),
        ("sklearn.datasets._base", "Bunch", S),
        ("sklearn.datasets._base", "fetch_openml", D),
        ("gensim.models.doc2vec", "Doc2Vec", S),
        ("gensim.corpora.dictionary", "Dictionary", S),
        ("collections", "defaultdict", S),
        ("collections", "deque", S),
        ("datetime", "datetime", S),
        ("decimal", "Decimal", S),
        ("decimal", "InvalidOperation", S),
        ("fractions", "Fraction", S),
        ("uuid", "UUID", S),
        ("ipaddress", "IPv4Address", S),
        ("pathlib", "PurePosixPath", S),
        ("pathlib", "PosixPath", S),
        ("pathlib", "WindowsPath", S),
        ("pathlib._local", "PosixPath", S),
        ("array", "array", S),
        ("array", "_array_reconstructor", S),
        ("builtins", "frozenset", S),
        ("builtins", "bytearray", S),
        ("builtins", "complex", S),
        ("builtins", "slice", S),
        ("builtins", "range", S),
        ("builtins", "object", S),
        ("builtins", "type", S),
        ("builtins", "ValueError", S),
        ("builtins", "UserWarning", S),
        ("copyreg", "_reconstructor", S),
        ("copy_reg", "_reconstructor", S),
        ("__builtin__", "set", S),
        ("_codecs", "encode", S),
        ("zoneinfo", "ZoneInfo._unpickle", S),
        ("argparse", "Namespace", S),
        ("torch._utils", "_rebuild_parameter", S),
        ("torch._utils", "_rebuild_qtensor", S),
        ("torch._utils", "_rebuild_sparse_tensor", S),
        ("torch._utils", "_rebuild_device_tensor_from_numpy", S),
        ("torch._utils", "_rebuild_meta_tensor_no_storage", S),
        ("torch._utils", "_rebuild_wrapper_subclass", S),
        ("torch._utils", "_rebuild_nested_tensor", S),
        ("torch._tensor", "_rebuild_from_type_v2", S),
        ("torch.serialization", "_get_layout", S),
        ("torch", "Size", S),
        ("torch", "device", S),
        ("torch", "bfloat16", S),
        ("torch", "contiguous_format", S),
        ("torch", "BFloat16Storage", S),
        ("torch.cuda", "FloatStorage", S),
        ("torch.storage", "UntypedStorage", S),
        ("torch.nn.parameter", "Parameter", S),
        ("torch.nn.modules.linear", "Linear", S),
        ("torch.nn.modules.conv", "Conv2d", S),
        ("torch.optim.adam", "Adam", S),
        ("sklearn.ensemble._forest", "RandomForestClassifier", S),
        ("sklearn.tree._tree", "Tree", S),
        ("sklearn.metrics._scorer", "_PassthroughScorer", S),
        ("sklearn.metrics._dist_metrics", "newObj", S),
        // unknown, not dangerous
        ("__main__", "MyModel", U),
        ("mylib.models", "Net", U),
        ("collections", "OrderedDict.fromkeys", U),
        ("datetime", "datetime.now", U),
        ("torch", "trace", U),
        ("mylib", "profile", U),
        ("Model", "Outer.code", U),
        ("mylib", "Model.trace", U),
        ("pcorpus", "make.<locals>.Local", U),
        ("builtins", "map", U),
        ("builtins", "memoryview", U),
    ]);
}

/// Exact allows stay exact: nothing dotted under a data type of a denied module.
#[test]
fn exact_allows_are_exact() {
    check(&[
        ("os", "stat_result.__new__", D),
        ("os", "stat_result.x", D),
        ("subprocess", "CompletedProcess.check_returncode", D),
        ("signal", "Signals.__call__", D),
        ("signal", "Signals.from_bytes", D),
        ("socket", "AddressFamily._missing_", D),
        ("urllib.parse", "urlparse", D),
        ("uuid", "UUID.__init__", D),
    ]);
}

#[test]
fn dotted_paths_through_modules() {
    check(&[
        ("pathlib", "os.system", D),
        ("pathlib", "os.anything", D),
        ("pathlib", "os", D),
        ("pathlib", "_PosixFlavour.pathmod.os.system", D),
        ("numpy", "os.system", D),
        ("torch", "os.path.join", D),
        ("numpy", "core._internal.sys.modules", D),
        ("numpy", "prod.os.system", D),
        ("numpy", "f2py.crackfortran.getlincoef", D),
        ("numpy", "testing._private.utils.runstring", D),
        ("numpy", "lib.npyio.load", D),
        ("torch", "hub.load", D),
        ("torch", "serialization.load", D),
        ("torch", "_inductor.codecache.compile_file", D),
        ("torch", "multiprocessing.reductions.rebuild_storage_fd", D),
        ("torch", "_C._jit_script_compile", D),
        ("sklearn", "datasets.fetch_openml", D),
        ("logging", "handlers.SocketHandler", D),
        ("mylib", "logging.FileHandler", D),
        ("mylib", "builtins.getattr", D),
        ("mylib", "__builtins__", D),
        ("mylib", "subprocess.Popen", D),
        ("mylib", "code.InteractiveConsole", D),
        ("mylib", "importlib.import_module", D),
        ("mylib", "shutil.copy", D),
        ("mylib", "socket.socket", D),
        ("mylib", "ctypes.CDLL", D),
        ("mylib", "operator.attrgetter", D),
        ("mylib", "functools.reduce", D),
        ("mylib", "io.FileIO", D),
        ("collections", "_sys", D),
        ("collections", "_sys.modules", D),
        ("tempfile", "_os.system", D),
        ("mylib", "_trace", U),
        ("mylib", "Model._code", U),
        ("mylib", "Config.os", U),
        ("mylib", "Config.logging.FileHandler", D),
        ("__builtin__", "setattr", D),
        ("__builtin__", "getattr", S),
        ("__builtin__", "file", D),
        ("exceptions", "ValueError", S),
        ("UserDict", "IterableUserDict", S),
        ("urlparse", "SplitResult", S),
        ("torch", "compile", D),
        ("mylib", "Config.os.system", D),
        ("mylib", "Config.signal.signal", D),
        ("mylib", "Model.signal", U),
        ("mylib", "pipeline.__main__", D),
        ("mypkg.__main__", "main", D),
        ("collections", "OrderedDict.fromkeys", U),
    ]);
}

#[test]
fn user_allow_overrides_with_reason() {
    let mut p = Policy::default();
    p.allow("os.system");
    p.allow("numpy.*");
    p.allow("pcorpus.Point");
    let (v, why) = p.classify("os", "system");
    assert_eq!(v, S);
    assert!(why.starts_with("allowed by --allow, overriding: "), "{why}");
    assert!(why.contains("process execution"), "{why}");
    let (v, why) = p.classify("numpy", "load");
    assert_eq!(v, S);
    assert!(why.starts_with("allowed by --allow, overriding: "), "{why}");
    assert_eq!(
        p.classify("numpy", "float64"),
        (S, "allowed by --allow".into())
    );
    assert_eq!(
        p.classify("pcorpus", "Point"),
        (S, "allowed by --allow".into())
    );
    // the built-in verdict ignores user allows
    assert_eq!(p.classify_builtin("os", "system").0, D);
    assert_eq!(p.classify_builtin("pcorpus", "Point").0, U);
    assert_eq!(p.classify("os", "popen").0, D);
}

#[test]
fn allow_warnings() {
    for spec in [
        "os.system",
        "builtins.eval",
        "pathlib.os.system",
        "torch.load",
        "torch.hub.load",
        "os.*",
        "os.path.*",
        "logging.handlers.*",
        "torch.*",
        "numpy.*",
        "sklearn.*",
        "a.b.loads",
    ] {
        assert!(allow_warning(spec).is_some(), "no warning for {spec}");
    }
    for spec in [
        "pcorpus.Point",
        "pcorpus.Outer.Inner",
        "mine.*",
        "pcorpus.*",
        "os.stat_result",
        "collections.OrderedDict",
        "sklearn.linear_model._base.LinearRegression",
    ] {
        assert_eq!(allow_warning(spec), None, "{spec}");
    }
    let w = allow_warning("os.system").unwrap();
    assert!(w.contains("os.system"), "{w}");
}

/// Every allow entry is well formed and none is shadowed into danger by
/// accident: an exact entry wins over its module's denial on purpose, so
/// entries in denied modules must be data types, listed here.
#[test]
fn tables_are_well_formed() {
    for e in EXACT {
        assert!(!e.names.is_empty() && !e.why.is_empty() && !e.writers.is_empty());
        for n in e.names {
            assert!(!n.is_empty() && !n.starts_with('.') && !n.ends_with('.'));
        }
    }
    for p in BY_PREFIX {
        assert!(!p.why.is_empty() && !p.writers.is_empty());
        // a prefix entry never re-allows a denied module
        assert!(denied_module(p.module).is_none(), "{}", p.module);
    }
    for f in FAMILIES {
        assert!(!f.name.is_empty() && !f.why.is_empty());
        for m in f.modules {
            assert!(!m.is_empty() && !m.contains(' '), "{m}");
        }
    }
    for w in WEAK_STEP_NAMES {
        assert!(
            is_denied_top(w),
            "weak step name {w} is not a denied module"
        );
    }
}
