//! Keeps README.md's code sample true: it must be `examples/readme.rs`
//! verbatim (which cargo compiles and clippy lints), and it must run.

mod snippet {
    include!("../examples/readme.rs");

    pub(crate) fn run() -> Result<(), pickle_codec::Error> {
        main()
    }
}

#[test]
fn readme_sample_is_examples_readme_rs() {
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).expect("README.md");
    let example =
        std::fs::read_to_string(format!("{root}/examples/readme.rs")).expect("examples/readme.rs");
    let start = readme
        .find("```rust\n")
        .expect("a ```rust block in README.md")
        + "```rust\n".len();
    let len = readme[start..]
        .find("```")
        .expect("end of the ```rust block");
    assert_eq!(
        readme[start..start + len].trim(),
        example.trim(),
        "README.md's first rust block must be examples/readme.rs verbatim"
    );
}

#[test]
fn readme_sample_runs() {
    snippet::run().expect("the README sample runs");
}
