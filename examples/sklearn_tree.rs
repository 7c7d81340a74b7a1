//! Predict with pickled scikit-learn decision trees in Rust, by walking
//! their nodes: a structured numpy array read field by field.
//!
//! ```text
//! cargo run --example sklearn_tree
//! ```
//!
//! A fitted `DecisionTreeClassifier` / `DecisionTreeRegressor` keeps its
//! tree in `tree_`, a `sklearn.tree._tree.Tree` whose pickled state holds
//! `nodes`, an array of a structured dtype (`left_child`, `right_child`,
//! `feature`, `threshold`, `impurity`, `n_node_samples`,
//! `weighted_n_node_samples`, `missing_go_to_left`, 64 bytes an element),
//! and `values` (`node_count × n_outputs × n_classes`). `NdArray::field`
//! gives each field as an array of its own: no byte offsets in this code.
//!
//! The pickles and the predictions scikit-learn made are committed under
//! tests/fixtures/ml/npy (written by tests/scripts/gen_npy_fixtures.py), so
//! this runs without Python; the predictions must be equal, not close.

use pickle_codec::numpy::NdArray;
use pickle_codec::ValueRef;

type Error = Box<dyn std::error::Error>;

/// The arrays of a `sklearn.tree._tree.Tree` that prediction needs.
struct Tree {
    left: Vec<i64>,
    right: Vec<i64>,
    feature: Vec<i64>,
    threshold: Vec<f64>,
    missing_go_to_left: Vec<u8>,
    /// `values[node]`: the node's `n_outputs × n_classes` values, flattened.
    values: Vec<f64>,
    per_node: usize,
}

/// scikit-learn's `TREE_LEAF`.
const LEAF: i64 = -1;

impl Tree {
    fn from_estimator(estimator: ValueRef<'_>) -> Result<Tree, Error> {
        let tree = estimator
            .get("tree_")
            .ok_or("no tree_: not a fitted tree")?;
        let nodes = NdArray::from_value(tree.get("nodes").ok_or("tree_ without nodes")?)?;
        let names: Vec<&str> = nodes.fields().iter().map(|f| f.name.as_str()).collect();
        println!(
            "  nodes: {} of dtype {} with fields {names:?}",
            nodes.len(),
            nodes.dtype.str()
        );
        let values = NdArray::from_value(tree.get("values").ok_or("tree_ without values")?)?;
        if values.ndim() != 3 || values.shape[0] != nodes.len() {
            return Err(format!(
                "values of shape {:?} for {} nodes",
                values.shape,
                nodes.len()
            )
            .into());
        }
        Ok(Tree {
            left: nodes.field("left_child")?.to_vec()?,
            right: nodes.field("right_child")?.to_vec()?,
            feature: nodes.field("feature")?.to_vec()?,
            threshold: nodes.field("threshold")?.to_vec()?,
            missing_go_to_left: nodes.field("missing_go_to_left")?.to_vec()?,
            per_node: values.shape[1] * values.shape[2],
            values: values.to_vec()?,
        })
    }

    /// The leaf a row lands in. scikit-learn compares float32 features
    /// with float64 thresholds (`X` is cast to float32 first); a missing
    /// value (NaN) goes where `missing_go_to_left` says.
    fn leaf(&self, row: &[f64]) -> Result<usize, Error> {
        let mut node = 0usize;
        for _ in 0..=self.left.len() {
            if *self.left.get(node).ok_or("node index out of range")? == LEAF {
                return Ok(node);
            }
            let f = usize::try_from(self.feature[node])?;
            let x = *row.get(f).ok_or("feature index out of range")?;
            let go_left = if x.is_nan() {
                self.missing_go_to_left[node] != 0
            } else {
                f64::from(x as f32) <= self.threshold[node]
            };
            node = usize::try_from(if go_left {
                self.left[node]
            } else {
                self.right[node]
            })?;
        }
        Err("the tree has a cycle".into())
    }

    /// The first output's values at the row's leaf (class weights, or the
    /// regression value).
    fn output(&self, row: &[f64], n: usize) -> Result<&[f64], Error> {
        let at = self.leaf(row)? * self.per_node;
        Ok(&self.values[at..at + n])
    }
}

/// A `<U…` numpy array's strings (UTF-32, NUL-padded).
fn strings(a: &NdArray<'_>) -> Result<Vec<String>, Error> {
    let bytes = a.to_le_bytes()?;
    bytes
        .chunks_exact(a.dtype.itemsize.max(1))
        .map(|s| {
            s.chunks_exact(4)
                .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
                .take_while(|&c| c != 0)
                .map(|c| char::from_u32(c).ok_or_else(|| "not a code point".into()))
                .collect()
        })
        .collect()
}

/// Public so that tests/npy.rs runs it too.
pub fn main() -> Result<(), Error> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ml/npy");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json"))?)?;
    for case in manifest["sklearn"].as_array().ok_or("no sklearn cases")? {
        let file = case["file"].as_str().ok_or("file")?;
        println!("{file}:");
        let doc = pickle_codec::loads(&std::fs::read(dir.join(file))?)?;
        let tree = Tree::from_estimator(doc.root())?;
        let rows: Vec<Vec<f64>> = case["X"]
            .as_array()
            .ok_or("X")?
            .iter()
            .map(|r| {
                let r = r.as_array().expect("a row");
                r.iter().map(|v| v.as_f64().unwrap_or(f64::NAN)).collect()
            })
            .collect();
        let want = case["predict"].as_array().ok_or("predict")?;
        if case["kind"] == "classifier" {
            let classes = NdArray::from_value(doc.root().get("classes_").ok_or("no classes_")?)?;
            let classes = strings(&classes)?;
            for (row, want) in rows.iter().zip(want) {
                let weights = tree.output(row, classes.len())?;
                // numpy's argmax: the first of equal maxima.
                let best =
                    (0..weights.len()).fold(0, |b, i| if weights[i] > weights[b] { i } else { b });
                let got = &classes[best];
                println!("  {row:?} -> {got:?} (scikit-learn: {want})");
                assert_eq!(
                    Some(got.as_str()),
                    want.as_str(),
                    "classifier prediction differs"
                );
            }
        } else {
            for (row, want) in rows.iter().zip(want) {
                let got = tree.output(row, 1)?[0];
                println!("  {row:?} -> {got} (scikit-learn: {want})");
                assert_eq!(Some(got), want.as_f64(), "regressor prediction differs");
            }
        }
    }
    println!("every prediction equals scikit-learn's");
    Ok(())
}
