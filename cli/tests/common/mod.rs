//! What the `pickle` binary's test files share (each says `mod common;`).

#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// The binary under test.
pub const PICKLE: &str = env!("CARGO_BIN_EXE_pickle");

/// Run `pickle args`, writing `stdin` to it.
pub fn pickle(args: &[&str], stdin: Option<&[u8]>) -> Output {
    pickle_env(args, stdin, &[])
}

/// [`pickle`] with environment variables set.
pub fn pickle_env(args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(PICKLE)
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run pickle");
    {
        let mut input = child.stdin.take().unwrap();
        if let Some(data) = stdin {
            // A command that fails before reading (a usage error) closes
            // the pipe: that is its answer, not the test's failure.
            if let Err(e) = input.write_all(data) {
                assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
            }
        }
    }
    child.wait_with_output().unwrap()
}

/// Whether python3 can import `modules` (`"pandas, pyarrow"`). Tests that
/// compare with Python call this first: without them they are skipped
/// with a printed reason, except in CI (`CI=true`), where it fails.
pub fn python_with(modules: &str, what: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", &format!("import {modules}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("python3 with {modules} is required for {what} in CI (CI=true)");
        }
        eprintln!(
            "SKIPPED {what}: python3 with {modules} not found (set CI=true to make this a failure)"
        );
    }
    ok
}
