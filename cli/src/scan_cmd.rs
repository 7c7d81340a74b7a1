//! `pickle scan`: report what loading pickles would import and call, without loading them.
//!
//! Exit status, as picklescan's users expect it:
//! * 0: every file was read to its end and none is dangerous (nor, with
//!   `--strict`, unknown);
//! * 1: a file is dangerous, or with `--strict` one is unknown and none
//!   could not be scanned;
//! * 2: a file could not be scanned (missing, malformed, truncated, a
//!   container or compression the scanner cannot open) and none is
//!   dangerous: such a file is never reported clean.
//!
//! A non-zero status always comes with one summary line on stderr that
//! starts with `error: `; the files that could not be scanned and the
//! `--allow`s that silence a dangerous name are `warning: ` lines before it.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::ValueEnum;
use pickle_codec::scan::{scan_path, Finding, Policy, Report, Verdict};
use serde_json::{json, Value as Json};

/// Examples printed by `pickle scan --help`.
pub const EXAMPLES: &str = "\
Examples:
  pickle scan model.pt                      # the findings that matter and a verdict
  pickle scan -q models/                    # only files that are not clean
  pickle scan --format sarif models/ > scan.sarif
  pickle scan --strict --allow mylib.Config data.pkl

Exit status: 0 clean, 1 dangerous (or unknown with --strict), 2 could not scan.";

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ScanFormat {
    /// Lines for people.
    Text,
    /// One JSON object per file, one per line.
    Json,
    /// One SARIF 2.1.0 log for all files (one result per finding that is not safe).
    Sarif,
}

/// Arguments of `pickle scan`.
#[derive(clap::Args, Debug)]
pub struct ScanArgs {
    /// Files or folders (folders are searched recursively for pickle-like files).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: ScanFormat,
    /// Same as `--format json`.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Print only the files that are not clean, with the findings that make them so.
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Also print the safe findings and the notes (skipped array data, storages).
    #[arg(short, long)]
    pub verbose: bool,
    /// Treat unknown globals (not on either list) as a failure.
    #[arg(long)]
    pub strict: bool,
    /// Treat MODULE.NAME (or MODULE.* for a whole module) as safe; repeatable.
    /// A warning is printed when it silences something the policy calls dangerous.
    #[arg(long = "allow", value_name = "MODULE.NAME")]
    pub allow: Vec<String>,
}

/// Whether a folder walk scans a file: by its name, or, whatever the name
/// (a loader does not care what a file is called: picklescan's
/// CVE-2025-1889), by its first bytes: a protocol 2+ pickle, a zip, a tar,
/// a `.npy`, or a compressed stream joblib reads.
fn looks_scannable(path: &Path) -> bool {
    let by_name = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|ext| {
            matches!(
                ext.to_ascii_lowercase().as_str(),
                "pkl" | "pickle" | "pt" | "pth" | "ckpt" | "joblib" | "p" | "npy" | "npz" | "pyd"
            )
        });
    by_name || sniff(path)
}

fn sniff(path: &Path) -> bool {
    let mut head = [0u8; 512];
    let n = match std::fs::File::open(path).and_then(|mut f| {
        let mut n = 0;
        while n < head.len() {
            match std::io::Read::read(&mut f, &mut head[n..])? {
                0 => break,
                k => n += k,
            }
        }
        Ok(n)
    }) {
        Ok(n) => n,
        Err(_) => return true, // unreadable: report it rather than skip it
    };
    let h = &head[..n];
    let zlib = h.len() >= 2 && h[0] == 0x78 && (u16::from(h[0]) << 8 | u16::from(h[1])) % 31 == 0;
    (h.len() >= 2 && h[0] == 0x80 && (2..=5).contains(&h[1]))
        || h.starts_with(b"PK\x03\x04")
        || h.starts_with(b"\x93NUMPY")
        || h.starts_with(b"\x1f\x8b")
        || h.starts_with(b"BZh")
        || h.starts_with(b"\xfd7zXZ\x00")
        || h.starts_with(b"\x5d\x00\x00")
        || h.starts_with(b"\x04\x22\x4d\x18")
        || h.starts_with(b"ZF")
        || h.starts_with(b"\x28\xb5\x2f\xfd")
        || zlib
        || h.get(257..262) == Some(b"ustar")
}

fn collect(path: &Path, out: &mut Vec<PathBuf>, errors: &mut Vec<(PathBuf, String)>) {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = match std::fs::read_dir(path) {
            Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(e) => {
                errors.push((path.to_path_buf(), e.to_string()));
                return;
            }
        };
        entries.sort();
        for p in entries {
            if p.is_dir() {
                collect(&p, out, errors);
            } else if looks_scannable(&p) {
                out.push(p);
            }
        }
    } else {
        out.push(path.to_path_buf());
    }
}

fn qualified(f: &Finding) -> String {
    if f.module.is_empty() {
        f.name.clone()
    } else {
        format!("{}.{}", f.module, f.name)
    }
}

/// An `--allow` that turned a dangerous built-in verdict into safe.
fn overridden(f: &Finding) -> bool {
    f.verdict == Verdict::Safe && f.reason.starts_with("allowed by --allow, overriding")
}

fn finding_json(f: &Finding) -> Json {
    let mut o = json!({
        "offset": f.offset,
        "opcode": f.opcode.name(),
        "kind": f.kind.as_str(),
        "module": f.module,
        "name": f.name,
        "verdict": f.verdict.as_str(),
        "reason": f.reason,
    });
    if let Some(m) = &f.member {
        o["member"] = json!(m);
    }
    o
}

fn report_json(path: &Path, r: &Report, quiet: bool) -> Json {
    let findings: Vec<Json> = r
        .findings
        .iter()
        .filter(|f| !quiet || f.verdict != Verdict::Safe)
        .map(finding_json)
        .collect();
    json!({
        "path": path.display().to_string(),
        "verdict": r.verdict().as_str(),
        "format": format!("{:?}", r.format).to_ascii_lowercase(),
        "pickles": r.pickles,
        "error": r.error.as_ref().map(|e| e.to_string()),
        "findings": findings,
        "notes": r.notes,
    })
}

fn print_text(
    out: &mut impl Write,
    path: &Path,
    r: &Report,
    args: &ScanArgs,
) -> std::io::Result<()> {
    let p = path.display();
    for f in &r.findings {
        if f.verdict == Verdict::Safe && !args.verbose && !overridden(f) {
            continue;
        }
        let at = match &f.member {
            Some(m) => format!("{p}:{m}"),
            None => p.to_string(),
        };
        writeln!(
            out,
            "{at}: {} {} {} {}: {} ({})",
            f.offset,
            f.opcode.name(),
            f.kind.as_str(),
            qualified(f),
            f.verdict.as_str().to_ascii_uppercase(),
            f.reason
        )?;
    }
    if args.verbose {
        for n in &r.notes {
            writeln!(out, "{p}: note: {n}")?;
        }
    }
    if let Some(e) = &r.error {
        writeln!(out, "{p}: error: {e}")?;
    }
    writeln!(
        out,
        "{p}: verdict {} ({} pickles, {} findings)",
        r.verdict().as_str().to_ascii_uppercase(),
        r.pickles,
        r.findings.len()
    )
}

/// The SARIF rule a finding falls under: its verdict and kind.
fn rule_id(f: &Finding) -> String {
    format!("{}-{}", f.verdict.as_str(), f.kind.as_str())
}

const RULES: &[(&str, &str)] = &[
    (
        "dangerous-import",
        "Imports a global that runs code, touches the system or loads more data",
    ),
    (
        "dangerous-call",
        "Calls something that runs code, touches the system or loads more data",
    ),
    (
        "dangerous-build",
        "Sets state on an object in a way that can run code",
    ),
    (
        "dangerous-ext",
        "Resolves a copyreg extension code to something dangerous",
    ),
    (
        "dangerous-persid",
        "Hands a dangerous value to the loader's persistent_load",
    ),
    (
        "unknown-import",
        "Imports a global on neither list: its module's code runs on import",
    ),
    ("unknown-call", "Calls something on neither list"),
    (
        "unknown-build",
        "Sets the state of an object of a class on neither list",
    ),
    (
        "unknown-ext",
        "Uses the copyreg extension registry of the loading process",
    ),
    (
        "unknown-persid",
        "Hands an id to the loader's persistent_load",
    ),
    (
        "scan-error",
        "The file could not be read to its end: it is not known to be safe",
    ),
];

fn sarif_log(results: Vec<Json>) -> Json {
    let rules: Vec<Json> = RULES
        .iter()
        .map(|(id, text)| {
            json!({
                "id": id,
                "shortDescription": {"text": text},
                "defaultConfiguration": {
                    "level": if id.starts_with("unknown") { "warning" } else { "error" }
                },
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "pickle scan",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

fn sarif_location(path: &Path, member: Option<&str>, offset: Option<u64>) -> Json {
    let uri = path.to_string_lossy().replace('\\', "/");
    let mut phys = json!({"artifactLocation": {"uri": uri}});
    // The offset is into the file, or into a zip member's data: SARIF's
    // region is file-relative, so a member's offset goes in the properties.
    match (member, offset) {
        (None, Some(o)) => phys["region"] = json!({"byteOffset": o, "byteLength": 1}),
        (Some(m), o) => {
            let mut props = json!({"member": m});
            if let Some(o) = o {
                props["memberByteOffset"] = json!(o);
            }
            return json!({"physicalLocation": phys, "properties": props});
        }
        (None, None) => {}
    }
    json!({"physicalLocation": phys})
}

fn sarif_results(path: &Path, r: &Report, out: &mut Vec<Json>) {
    for f in r.findings.iter().filter(|f| f.verdict != Verdict::Safe) {
        let level = if f.verdict == Verdict::Dangerous {
            "error"
        } else {
            "warning"
        };
        out.push(json!({
            "ruleId": rule_id(f),
            "level": level,
            "message": {"text": format!(
                "{} {} {}: {}", f.opcode.name(), f.kind.as_str(), qualified(f), f.reason
            )},
            "locations": [sarif_location(path, f.member.as_deref(), Some(f.offset))],
        }));
    }
    if let Some(e) = &r.error {
        out.push(json!({
            "ruleId": "scan-error",
            "level": "error",
            "message": {"text": format!("could not scan: {e}")},
            "locations": [sarif_location(path, None, e.offset())],
        }));
    }
}

/// Run `pickle scan`; returns the exit status.
pub fn run(mut args: ScanArgs) -> i32 {
    if args.json {
        args.format = ScanFormat::Json;
    }
    let mut policy = Policy::default();
    for a in &args.allow {
        if let Some(w) = pickle_codec::scan::policy::allow_warning(a) {
            eprintln!("warning: --allow {a}: {w}");
        }
        policy.allow(a);
    }
    let mut files = Vec::new();
    let mut unreadable = Vec::new();
    for p in &args.paths {
        if !p.exists() {
            unreadable.push((p.clone(), "no such file or directory".to_string()));
            continue;
        }
        collect(p, &mut files, &mut unreadable);
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let (mut dangerous, mut unknown, mut errors) = (0usize, 0usize, unreadable.len());
    let mut sarif = Vec::new();
    for (path, why) in &unreadable {
        eprintln!("warning: {}: could not scan: {why}", path.display());
        if args.format == ScanFormat::Sarif {
            sarif.push(json!({
                "ruleId": "scan-error",
                "level": "error",
                "message": {"text": format!("could not scan: {why}")},
                "locations": [sarif_location(path, None, None)],
            }));
        }
    }
    for path in &files {
        let r = scan_path(path, &policy);
        let verdict = r.verdict();
        match verdict {
            Verdict::Dangerous => dangerous += 1,
            Verdict::Error => errors += 1,
            Verdict::Unknown => unknown += 1,
            Verdict::Safe => {}
        }
        if let Some(e) = &r.error {
            if verdict == Verdict::Dangerous {
                errors += 1;
            }
            eprintln!("warning: {}: could not scan: {e}", path.display());
        }
        for f in r.findings.iter().filter(|f| overridden(f)) {
            eprintln!(
                "warning: {}: {} at byte {} is dangerous by policy, allowed by --allow",
                path.display(),
                qualified(f),
                f.offset
            );
        }
        let clean = verdict == Verdict::Safe || (verdict == Verdict::Unknown && !args.strict);
        if args.quiet && clean {
            continue;
        }
        let res = match args.format {
            ScanFormat::Json => writeln!(out, "{}", report_json(path, &r, args.quiet)),
            ScanFormat::Text => print_text(&mut out, path, &r, &args),
            ScanFormat::Sarif => {
                sarif_results(path, &r, &mut sarif);
                Ok(())
            }
        };
        if res.is_err() {
            return 2;
        }
    }
    if args.format == ScanFormat::Sarif {
        let log = sarif_log(sarif);
        if writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&log).unwrap_or_default()
        )
        .is_err()
        {
            return 2;
        }
    }
    let _ = out.flush();
    let code = if dangerous > 0 {
        1
    } else if errors > 0 {
        2
    } else if args.strict && unknown > 0 {
        1
    } else {
        0
    };
    if code != 0 {
        eprintln!(
            "error: {} files: {dangerous} dangerous, {unknown} unknown, {errors} could not be scanned",
            files.len() + unreadable.len()
        );
    }
    code
}
