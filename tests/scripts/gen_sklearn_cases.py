"""Train scikit-learn estimators on generated data and write what tests/sklearn.rs
checks: each model pickled at protocols 2-5 and through joblib.dump, and
scikit-learn's predict / predict_proba / decision_function / transform on
held-out rows (other seed, values outside the training range, missing values
and unseen categories where the estimator accepts them).

    python3 gen_sklearn_cases.py OUT_DIR [--compress] [--small]

--compress also writes a zlib-compressed joblib file per case; --small
(used for the committed fixtures of older releases under
tests/fixtures/sklearn/<version>/) writes only a protocol-4 pickle per
case, with fewer and shallower trees. Floats are
written as repr strings ("nan" included), labels as "i:3", "f:1.5",
"b:True" or "s:text".
"""

import json
import os
import pickle
import sys

import joblib
import numpy as np
import sklearn
from sklearn import ensemble, linear_model, pipeline, preprocessing, tree

OUT = sys.argv[1]
COMPRESS = "--compress" in sys.argv
SMALL = "--small" in sys.argv
VERSION = tuple(int(p) for p in sklearn.__version__.split(".")[:2])
os.makedirs(OUT, exist_ok=True)

N_TREES = 4 if SMALL else 12
DEPTH = 4 if SMALL else 7
N_STAGES = 4 if SMALL else 25
N_TEST = 24 if SMALL else 40


def rng_data(seed, n, nan=False, cat=False, wide=1.0):
    r = np.random.RandomState(seed)
    X = r.normal(size=(n, 5)) * wide
    X[:, 1] = r.uniform(-3, 3, n) * wide
    if cat:
        X[:, 4] = r.randint(0, 6, n)
    if nan:
        m = r.rand(n, 5) < 0.08
        if cat:
            m[:, 4] = r.rand(n) < 0.05
        X[m] = np.nan
    return X


def target(X, seed=0):
    r = np.random.RandomState(seed + 100)
    Z = np.nan_to_num(X, nan=0.3)
    return Z[:, 0] * 1.5 - Z[:, 1] ** 2 * 0.4 + np.sin(Z[:, 2] * 2) + Z[:, 3] * Z[:, 0] + r.normal(size=len(X)) * 0.2


def classes_of(y, labels):
    edges = np.quantile(y, np.linspace(0, 1, len(labels) + 1)[1:-1])
    idx = np.searchsorted(edges, y)
    return np.array(labels, dtype=object if isinstance(labels[0], str) else None)[idx]


def label(v):
    if isinstance(v, (bool, np.bool_)):
        return "b:" + repr(bool(v))
    if isinstance(v, (int, np.integer)):
        return "i:" + repr(int(v))
    if isinstance(v, (float, np.floating)):
        return "f:" + repr(float(v))
    return "s:" + str(v)


def floats(a):
    a = np.asarray(a, dtype=np.float64)
    return [repr(float(v)) for v in a.ravel()]


def matrix(a):
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 1:
        a = a.reshape(-1, 1)
    return {"n_cols": a.shape[1], "data": floats(a)}


cases = []
FRAME_COLUMNS = None
FRAME_CATEGORIES = {}


def make_frame(a):
    import pandas as pd

    df = pd.DataFrame(np.asarray(a, dtype=np.float64), columns=FRAME_COLUMNS)
    for c, cats in FRAME_CATEGORIES.items():
        # An unseen category is a missing value in a pandas Categorical.
        col = df[c].where(df[c].isin(cats))
        df[c] = pd.Categorical(col, categories=cats)
    return df


def optional(name, *args, **kwargs):
    """A case this release may not offer (a removed parameter, no pandas)."""
    try:
        case(name, *args, **kwargs)
    except (TypeError, ValueError, ImportError) as e:
        print(f"note: {name} not written: {type(e).__name__}: {e}", file=sys.stderr)


def case(name, make, X, y, Xt, nan_ok=True, methods=None):
    """Fit make() on (X, y) (without the missing values if this release
    refuses them) and record its outputs on Xt."""
    est = make()
    try:
        est.fit(X, y) if y is not None else est.fit(X)
        used_nan = bool(np.isnan(np.asarray(X, dtype=np.float64)).any())
    except ValueError:
        if not nan_ok:
            raise
        X = np.nan_to_num(X, nan=0.25)
        Xt = np.nan_to_num(Xt, nan=0.25)
        est = make()
        est.fit(X, y) if y is not None else est.fit(X)
        used_nan = False
    if used_nan:
        try:
            est.predict(Xt[:2]) if hasattr(est, "predict") else est.transform(Xt[:2])
        except ValueError:
            Xt = np.nan_to_num(Xt, nan=0.25)
    names = getattr(est, "feature_names_in_", None)
    Xt = np.asarray(Xt, dtype=np.float64)
    out = {"name": name, "class": type(est).__name__, "X": floats(Xt), "n_rows": len(Xt), "n_features": Xt.shape[1]}
    if names is not None:
        out["feature_names"] = [str(n) for n in names]
    methods = methods or ["predict", "predict_proba", "decision_function", "transform"]
    for m in methods:
        if not hasattr(est, m):
            continue
        try:
            r = getattr(est, m)(make_frame(Xt) if names is not None else Xt)
        except (AttributeError, NotImplementedError):
            continue
        if m == "predict" and hasattr(est, "classes_"):
            r = np.asarray(r)
            out["labels"] = [label(v) for v in r.ravel()]
            out["n_outputs"] = 1 if r.ndim == 1 else r.shape[1]
        elif m == "predict_proba" and isinstance(r, list):
            out["predict_proba"] = [matrix(p) for p in r]
        elif m == "predict_proba":
            out["predict_proba"] = [matrix(r)]
        else:
            out[m] = matrix(r.toarray() if hasattr(r, "toarray") else r)
    # Which non-finite inputs scikit-learn refuses here (first held-out
    # row, feature 0 set to NaN, infinity, or a value float32 cannot hold).
    method = est.predict if hasattr(est, "predict") else est.transform
    if names is not None:
        frame = make_frame
        method = (lambda f: lambda a: f(frame(a)))(method)
    out["refuses"] = {}
    for tag, val in (("nan", np.nan), ("inf", np.inf), ("big", 1e39)):
        row = Xt[:1].copy()
        row[0, 0] = val
        try:
            method(row)
            out["refuses"][tag] = False
        except ValueError:
            out["refuses"][tag] = True
    files = []
    protocols = [4] if SMALL else [2, 3, 4, 5]
    for p in protocols:
        f = f"{name}.p{p}.pkl"
        with open(os.path.join(OUT, f), "wb") as fh:
            pickle.dump(est, fh, protocol=p)
        files.append(f)
    if not SMALL:
        f = f"{name}.joblib"
        joblib.dump(est, os.path.join(OUT, f))
        files.append(f)
    if COMPRESS:
        f = f"{name}.z.joblib"
        joblib.dump(est, os.path.join(OUT, f), compress=3)
        files.append(f)
    out["files"] = files
    cases.append(out)


X = rng_data(1, 300, nan=True)
Xt = rng_data(2, N_TEST, nan=True, wide=1.3)
Xc = rng_data(3, 300, nan=True, cat=True)
Xct = rng_data(4, N_TEST, nan=True, cat=True, wide=1.3)
Xct[::9, 4] = 7.0  # a category never seen in training
Xf = np.nan_to_num(X, nan=0.1)
Xft = np.nan_to_num(Xt, nan=-0.2)
y = target(X)
yb = (y > np.median(y)).astype(int)
ys = classes_of(y, ["cat", "dog", "emu"])
y4 = classes_of(y, [3, 5, 8, 13])
ymo_c = np.stack([yb, classes_of(target(X, 1), [0, 1, 2])], axis=1)
ymo_r = np.stack([y, target(X, 2) * 10], axis=1)
yc = target(Xc)
ycb = classes_of(yc, ["no", "yes"])
ycs = classes_of(yc, ["a", "b", "c"])

DT = dict(max_depth=DEPTH, random_state=0)
case("dt_clf_binary", lambda: tree.DecisionTreeClassifier(**DT), X, yb, Xt)
case("dt_clf_str", lambda: tree.DecisionTreeClassifier(max_features=3, **DT), X, ys, Xt)
case("dt_clf_multioutput", lambda: tree.DecisionTreeClassifier(**DT), X, ymo_c, Xt)
case("dt_reg", lambda: tree.DecisionTreeRegressor(**DT), X, y, Xt)
case("dt_reg_multioutput", lambda: tree.DecisionTreeRegressor(**DT), X, ymo_r, Xt)
case("extra_tree_reg", lambda: tree.ExtraTreeRegressor(**DT), X, y, Xt)

F = dict(n_estimators=N_TREES, max_depth=DEPTH, random_state=0)
case("rf_clf_str", lambda: ensemble.RandomForestClassifier(max_features="sqrt", **F), X, ys, Xt)
case("rf_clf_int4", lambda: ensemble.RandomForestClassifier(max_features=0.6, class_weight="balanced", **F), X, y4, Xt)
case("rf_clf_multioutput", lambda: ensemble.RandomForestClassifier(**F), X, ymo_c, Xt)
case("rf_reg", lambda: ensemble.RandomForestRegressor(**F), X, y, Xt)
case("rf_reg_multioutput", lambda: ensemble.RandomForestRegressor(**F), X, ymo_r, Xt)
case("et_clf_binary", lambda: ensemble.ExtraTreesClassifier(**F), X, yb, Xt)
case("et_reg", lambda: ensemble.ExtraTreesRegressor(**F), X, y, Xt)

G = dict(n_estimators=N_STAGES, max_depth=3, random_state=0)
case("gb_clf_binary", lambda: ensemble.GradientBoostingClassifier(**G), Xf, yb, Xft)
case("gb_clf_str3", lambda: ensemble.GradientBoostingClassifier(subsample=0.8, **G), Xf, ys, Xft)
case("gb_clf_exponential", lambda: ensemble.GradientBoostingClassifier(loss="exponential", **G), Xf, yb, Xft)
case("gb_clf_zero_init", lambda: ensemble.GradientBoostingClassifier(init="zero", **G), Xf, y4, Xft)
case("gb_reg", lambda: ensemble.GradientBoostingRegressor(learning_rate=0.3, **G), Xf, y, Xft)
case("gb_reg_huber", lambda: ensemble.GradientBoostingRegressor(loss="huber", **G), Xf, y, Xft)
case("gb_reg_quantile", lambda: ensemble.GradientBoostingRegressor(loss="quantile", alpha=0.7, **G), Xf, y, Xft)
case("gb_reg_absolute_zero", lambda: ensemble.GradientBoostingRegressor(loss="absolute_error", init="zero", **G), Xf, y, Xft)

H = dict(max_iter=N_STAGES, random_state=0, categorical_features=[4])
case("hgb_clf_binary_cat", lambda: ensemble.HistGradientBoostingClassifier(**H), Xc, ycb, Xct)
case("hgb_clf_str3_cat", lambda: ensemble.HistGradientBoostingClassifier(max_leaf_nodes=15, **H), Xc, ycs, Xct)
case("hgb_clf_numeric", lambda: ensemble.HistGradientBoostingClassifier(max_iter=N_STAGES, random_state=0), X, y4, Xt)
case("hgb_reg_cat", lambda: ensemble.HistGradientBoostingRegressor(**H), Xc, yc, Xct)
case("hgb_reg_poisson", lambda: ensemble.HistGradientBoostingRegressor(loss="poisson", max_iter=N_STAGES, random_state=0), X, np.exp(y / 3), Xt)

case("linreg", linear_model.LinearRegression, Xf, y, Xft)
case("linreg_multitarget", linear_model.LinearRegression, Xf, ymo_r, Xft)
case("ridge", lambda: linear_model.Ridge(alpha=2.0), Xf, y, Xft)
case("lasso", lambda: linear_model.Lasso(alpha=0.05), Xf, y, Xft)
case("elasticnet", lambda: linear_model.ElasticNet(alpha=0.05, l1_ratio=0.3), Xf, y, Xft)
case("logreg_binary", lambda: linear_model.LogisticRegression(C=0.5), Xf, yb, Xft)
case("logreg_multinomial_str", lambda: linear_model.LogisticRegression(max_iter=500), Xf, ys, Xft)
if VERSION < (1, 8):
    case("logreg_ovr", lambda: linear_model.LogisticRegression(multi_class="ovr", max_iter=500), Xf, y4, Xft)
    case("logreg_multinomial_binary", lambda: linear_model.LogisticRegression(multi_class="multinomial"), Xf, yb, Xft)

Xcat = np.random.RandomState(5).randint(0, 4, size=(200, 3)).astype(float)
Xcat_t = np.random.RandomState(6).randint(0, 5, size=(N_TEST, 3)).astype(float)
ycat = (Xcat[:, 0] + Xcat[:, 1] * 2 - Xcat[:, 2] > 2).astype(int)
case("standard_scaler", preprocessing.StandardScaler, X, None, Xt)
case("standard_scaler_no_mean", lambda: preprocessing.StandardScaler(with_mean=False), Xf, None, Xft)
case("minmax_scaler_clip", lambda: preprocessing.MinMaxScaler(feature_range=(-1, 2), clip=True), Xf, None, Xft)
case("onehot_ignore_drop_first", lambda: preprocessing.OneHotEncoder(handle_unknown="ignore", drop="first"), Xcat, None, Xcat_t)
case("onehot_if_binary", lambda: preprocessing.OneHotEncoder(drop="if_binary"), np.c_[Xcat[:, :2], Xcat[:, 2] % 2], None, np.c_[Xcat_t[:, :2] % 4, Xcat_t[:, 2] % 2])
case("pipeline_scaler_logreg", lambda: pipeline.make_pipeline(preprocessing.StandardScaler(), linear_model.LogisticRegression(max_iter=500)), Xf, ys, Xft)
case("pipeline_onehot_logreg", lambda: pipeline.make_pipeline(preprocessing.OneHotEncoder(handle_unknown="ignore"), linear_model.LogisticRegression()), Xcat, ycat, Xcat_t)
case("pipeline_minmax_passthrough_ridge", lambda: pipeline.Pipeline([("mm", preprocessing.MinMaxScaler()), ("nothing", "passthrough"), ("ridge", linear_model.Ridge())]), Xf, y, Xft)
case("pipeline_scaler_forest", lambda: pipeline.make_pipeline(preprocessing.StandardScaler(), ensemble.RandomForestClassifier(**F)), X, ys, Xt)

# Multi-output string labels of different lengths (one '<U6' array for
# both outputs, as scikit-learn makes it).
ymo_mixed = np.stack([classes_of(y, ["lo", "hi"]), classes_of(target(X, 1), ["small", "medium", "large"])], axis=1).astype(str)
optional("dt_clf_multioutput_str_widths", lambda: tree.DecisionTreeClassifier(**DT), X, ymo_mixed, Xt)

# Labels of other types, hyperparameters held-out models may use.
optional("dt_clf_bool_labels", lambda: tree.DecisionTreeClassifier(class_weight="balanced", **DT), X, yb == 1, Xt)
optional("logreg_float_labels", lambda: linear_model.LogisticRegression(fit_intercept=False), Xf, yb * 2.0 + 1.0, Xft)
optional("ridge_multitarget_no_intercept", lambda: linear_model.Ridge(fit_intercept=False), Xf, ymo_r, Xft)
optional("rf_reg_no_bootstrap", lambda: ensemble.RandomForestRegressor(bootstrap=False, max_features=2, min_samples_leaf=3, **F), X, y, Xt)
optional("hgb_clf_weighted_l2", lambda: ensemble.HistGradientBoostingClassifier(class_weight="balanced", l2_regularization=1.0, **H), Xc, ycs, Xct)
optional("hgb_reg_absolute", lambda: ensemble.HistGradientBoostingRegressor(loss="absolute_error", **H), Xc, yc, Xct)
optional("hgb_reg_quantile", lambda: ensemble.HistGradientBoostingRegressor(loss="quantile", quantile=0.8, **H), Xc, yc, Xct)
optional("hgb_reg_gamma", lambda: ensemble.HistGradientBoostingRegressor(loss="gamma", max_iter=N_STAGES, random_state=0), X, np.exp(y / 3), Xt)
optional("pipeline_scaler_hgb", lambda: pipeline.make_pipeline(preprocessing.MinMaxScaler(), ensemble.HistGradientBoostingClassifier(max_iter=N_STAGES, random_state=0)), X, y4, Xt)
if VERSION < (1, 8):
    optional("logreg_liblinear_ovr", lambda: linear_model.LogisticRegression(solver="liblinear"), Xf, ys, Xft)

# Fitted on a DataFrame: feature names, and pandas categorical columns
# (categorical_features="from_dtype", scikit-learn >= 1.4).
try:
    import pandas  # noqa: F401

    FRAME_COLUMNS = ["alpha", "beta", "gamma", "delta", "kind"]
    optional("rf_clf_dataframe", lambda: ensemble.RandomForestClassifier(**F), make_frame(Xf), ys, Xft)
    if VERSION >= (1, 4):
        FRAME_CATEGORIES = {"kind": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]}
        optional("hgb_clf_from_dtype", lambda: ensemble.HistGradientBoostingClassifier(categorical_features="from_dtype", max_iter=N_STAGES, random_state=0), make_frame(Xc), ycb, Xct)
except ImportError:
    print("note: no pandas: the DataFrame cases are not written", file=sys.stderr)


# String (object) categories, mixed with numeric columns and missing values,
# and infrequent categories (min_frequency / max_categories): the input is a
# table of number and text columns ("columns" in the manifest: {"num":
# [floats]} or {"text": [str or null]}, null a missing value, NaN to
# scikit-learn). The held-out rows hold unknown strings and missing cells.
COLORS = np.array(["red", "green", "blue", "teal", "plum", "gold", "rust", "sand"], dtype=object)
SIZES = np.array(["S", "M", "L", "XL"], dtype=object)


def colour_column(r, n, unseen=False, missing=0.0, none=False):
    # Skewed frequencies, so min_frequency / max_categories leave some out.
    p = np.array([30, 22, 15, 10, 8, 6, 5, 4], dtype=float)
    col = COLORS[r.choice(len(COLORS), n, p=p / p.sum())].astype(object)
    if unseen:
        col[::7] = "violet"
    col[r.rand(n) < missing] = np.nan
    if none:
        col[r.rand(n) < 0.04] = None
    return col


def cell_table(seed, n, unseen=False):
    import pandas as pd

    r = np.random.RandomState(seed)
    x = r.normal(size=n) * (1.3 if unseen else 1.0)
    sizes = SIZES[r.randint(0, 4, n)].astype(object)
    if unseen:
        sizes[3::11] = "XXL"
    return pd.DataFrame({"x": x, "colour": colour_column(r, n, unseen, missing=0.08), "size": sizes})


def cell_columns(df):
    cols = []
    for c in df.columns:
        v = df[c]
        if v.dtype.kind == "f":
            cols.append({"num": floats(v)})
        else:
            vals = np.asarray(v.astype(object))
            cols.append({"text": [None if (x is None or (isinstance(x, float) and np.isnan(x))) else str(x) for x in vals]})
    return cols


def cell_case(name, make, X, y, Xt, numpy_input=False, methods=None):
    """Like case(), for a table with text columns (a DataFrame, or with
    numpy_input its object array)."""
    est = make()
    fit_X = X.to_numpy(dtype=object) if numpy_input else X
    est.fit(fit_X, y) if y is not None else est.fit(fit_X)
    test_X = Xt.to_numpy(dtype=object) if numpy_input else Xt
    out = {"name": name, "class": type(est).__name__, "columns": cell_columns(Xt), "n_rows": len(Xt), "n_features": Xt.shape[1]}
    for m in methods or ["predict", "predict_proba", "decision_function", "transform"]:
        if not hasattr(est, m):
            continue
        try:
            r = getattr(est, m)(test_X)
        except (AttributeError, NotImplementedError):
            continue
        if m == "predict" and hasattr(est, "classes_"):
            r = np.asarray(r)
            out["labels"] = [label(v) for v in r.ravel()]
            out["n_outputs"] = 1 if r.ndim == 1 else r.shape[1]
        elif m == "predict_proba":
            out["predict_proba"] = [matrix(r)]
        else:
            out[m] = matrix(r.toarray() if hasattr(r, "toarray") else r)
    files = []
    for p in [4] if SMALL else [2, 3, 4, 5]:
        f = f"{name}.p{p}.pkl"
        with open(os.path.join(OUT, f), "wb") as fh:
            pickle.dump(est, fh, protocol=p)
        files.append(f)
    if not SMALL:
        f = f"{name}.joblib"
        joblib.dump(est, os.path.join(OUT, f))
        files.append(f)
    out["files"] = files
    cases.append(out)


def optional_cells(name, *args, **kwargs):
    try:
        cell_case(name, *args, **kwargs)
    except (TypeError, ValueError, ImportError) as e:
        print(f"note: {name} not written: {type(e).__name__}: {e}", file=sys.stderr)


try:
    import pandas as pd

    T = cell_table(11, 400)
    Tt = cell_table(12, N_TEST, unseen=True)
    yT = ((T["x"] > 0) ^ T["colour"].isin(["red", "teal", "gold"])).astype(int).to_numpy()
    yT3 = np.where(T["size"].isin(["S", "M"]), "small", np.where(T["x"] > 0.5, "big", "mid"))
    Tc = T[["colour", "size"]]
    Tct = Tt[["colour", "size"]]
    OHE = preprocessing.OneHotEncoder
    ORD = preprocessing.OrdinalEncoder
    optional_cells("onehot_str_ignore", lambda: OHE(handle_unknown="ignore"), T, None, Tt)
    optional_cells("onehot_str_numpy_drop_first", lambda: OHE(handle_unknown="ignore", drop="first"), Tc, None, Tct, numpy_input=True)
    optional_cells("onehot_infrequent_if_exist_max3", lambda: OHE(handle_unknown="infrequent_if_exist", max_categories=3), Tc, None, Tct)
    optional_cells("onehot_infrequent_min_freq_drop_first", lambda: OHE(handle_unknown="infrequent_if_exist", min_frequency=40, drop="first"), Tc, None, Tct)
    optional_cells("onehot_infrequent_ignore_drop_list", lambda: OHE(handle_unknown="ignore", min_frequency=0.1, drop=["green", "L"]), Tc, None, Tct)
    optional_cells("onehot_infrequent_numeric_if_binary", lambda: OHE(handle_unknown="infrequent_if_exist", max_categories=2, drop="if_binary"), pd.DataFrame({"n": T["x"].round().clip(-2, 2), "s": T["size"]}), None, pd.DataFrame({"n": Tt["x"].round().clip(-3, 3), "s": Tt["size"]}))
    optional_cells("pipeline_onehot_str_logreg", lambda: pipeline.make_pipeline(OHE(handle_unknown="infrequent_if_exist", min_frequency=20), linear_model.LogisticRegression(max_iter=500)), T, yT3, Tt)
    optional_cells("pipeline_onehot_str_numpy_logreg", lambda: pipeline.make_pipeline(OHE(handle_unknown="ignore"), linear_model.LogisticRegression()), Tc, yT, Tct, numpy_input=True)
    optional_cells("ordinal_str_encoded", lambda: ORD(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-2), Tc, None, Tct)
    optional_cells("ordinal_infrequent_nan_unknown", lambda: ORD(handle_unknown="use_encoded_value", unknown_value=np.nan, max_categories=4), Tc, None, Tct)
    optional_cells("pipeline_ordinal_str_tree", lambda: pipeline.make_pipeline(ORD(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1, min_frequency=15), tree.DecisionTreeClassifier(**DT)), T, yT3, Tt)
    # None and NaN both seen at fit (categories_ ends [..., None, nan]).
    Tn = T.copy()
    Tn["colour"] = colour_column(np.random.RandomState(13), len(T), missing=0.06, none=True)
    optional_cells("onehot_str_none_nan", lambda: OHE(handle_unknown="ignore"), Tn[["colour"]], None, Tct[["colour"]])
    if VERSION >= (1, 4):
        def category_frame(df, cats=None):
            df = df.copy()
            for c in ("colour", "size"):
                df[c] = pd.Categorical(df[c]) if cats is None else pd.Categorical(df[c], categories=cats[c])
            return df

        Hf = category_frame(T)
        # Held out: categories of its own, so unseen strings reach the encoder.
        Hft = category_frame(Tt)
        optional_cells("hgb_clf_from_dtype_str", lambda: ensemble.HistGradientBoostingClassifier(categorical_features="from_dtype", max_iter=N_STAGES, random_state=0), Hf, yT, Hft)
        optional_cells("hgb_reg_from_dtype_str", lambda: ensemble.HistGradientBoostingRegressor(categorical_features="from_dtype", max_iter=N_STAGES, random_state=0), Hf, T["x"].to_numpy() * 2 + T["size"].isin(["L", "XL"]), Hft)
        optional_cells("hgb_clf3_from_dtype_str", lambda: ensemble.HistGradientBoostingClassifier(categorical_features="from_dtype", max_iter=N_STAGES, random_state=0), Hf, yT3, Hft)
except ImportError:
    print("note: no pandas: the string category cases are not written", file=sys.stderr)

with open(os.path.join(OUT, "manifest.json"), "w") as fh:
    json.dump({"sklearn_version": sklearn.__version__, "numpy_version": np.__version__, "cases": cases}, fh, indent=None)
print(f"{len(cases)} cases for scikit-learn {sklearn.__version__} in {OUT}")
