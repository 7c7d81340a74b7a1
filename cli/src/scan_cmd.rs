//! `pickle scan`: report what loading pickles would import and call, without loading them.
//!
//! Exit status: 0 when no file is dangerous (nor, with `--strict`, unknown);
//! 1 when a file is dangerous, or with `--strict` when one is unknown and
//! none could not be read; 2 when a file could not be read or parsed and
//! none is dangerous. A non-zero status always comes with a line on stderr.

use std::io::Write;
use std::path::{Path, PathBuf};

use pickle_codec::scan::{scan_path, Finding, Policy, Report, Verdict};

/// Arguments of `pickle scan`.
#[derive(clap::Args, Debug)]
pub struct ScanArgs {
    /// Files or folders (folders are searched recursively for pickle-like files).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Print one JSON object per file, one per line.
    #[arg(long)]
    pub json: bool,
    /// Treat unknown globals (not on either list) as a failure.
    #[arg(long)]
    pub strict: bool,
    /// Treat MODULE.NAME (or MODULE.* for a whole module) as safe; repeatable.
    #[arg(long = "allow", value_name = "MODULE.NAME")]
    pub allow: Vec<String>,
}

/// File names a folder walk picks up. `.bin` only counts when it looks like
/// a zip or a protocol 2+ pickle (it is also the name of raw buffer dumps).
fn looks_scannable(path: &Path) -> bool {
    let Some(ext) = path.extension().and_then(|e| e.to_str()) else {
        return false;
    };
    match ext.to_ascii_lowercase().as_str() {
        "pkl" | "pickle" | "pt" | "pth" | "ckpt" | "joblib" | "p" => true,
        "bin" => {
            let mut head = [0u8; 2];
            std::fs::File::open(path)
                .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
                .map(|_| &head == b"PK" || head[0] == 0x80)
                .unwrap_or(false)
        }
        _ => false,
    }
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

fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn finding_json(f: &Finding) -> String {
    format!(
        "{{\"offset\":{},\"opcode\":{},\"kind\":{},\"module\":{},\"name\":{},\"verdict\":{},\"reason\":{}{}}}",
        f.offset,
        json_str(f.opcode.name()),
        json_str(f.kind.as_str()),
        json_str(&f.module),
        json_str(&f.name),
        json_str(f.verdict.as_str()),
        json_str(&f.reason),
        f.member
            .as_ref()
            .map(|m| format!(",\"member\":{}", json_str(m)))
            .unwrap_or_default()
    )
}

fn report_json(path: &Path, r: &Report) -> String {
    let findings: Vec<String> = r.findings.iter().map(finding_json).collect();
    let notes: Vec<String> = r.notes.iter().map(|n| json_str(n)).collect();
    format!(
        "{{\"path\":{},\"verdict\":{},\"format\":{},\"pickles\":{},\"error\":{},\"findings\":[{}],\"notes\":[{}]}}",
        json_str(&path.display().to_string()),
        json_str(file_verdict(r)),
        json_str(&format!("{:?}", r.format).to_ascii_lowercase()),
        r.pickles,
        r.error
            .as_ref()
            .map(|e| json_str(&e.to_string()))
            .unwrap_or_else(|| "null".into()),
        findings.join(","),
        notes.join(",")
    )
}

fn file_verdict(r: &Report) -> &'static str {
    match (r.verdict(), &r.error) {
        (Verdict::Dangerous, _) => "dangerous",
        (_, Some(_)) => "error",
        (v, None) => v.as_str(),
    }
}

fn print_text(out: &mut impl Write, path: &Path, r: &Report) -> std::io::Result<()> {
    let p = path.display();
    for f in &r.findings {
        let at = match &f.member {
            Some(m) => format!("{p}:{m}"),
            None => p.to_string(),
        };
        let name = if f.module.is_empty() {
            f.name.clone()
        } else {
            format!("{}.{}", f.module, f.name)
        };
        writeln!(
            out,
            "{at}: {} {} {} {name}: {} ({})",
            f.offset,
            f.opcode.name(),
            f.kind.as_str(),
            f.verdict.as_str().to_ascii_uppercase(),
            f.reason
        )?;
    }
    for n in &r.notes {
        writeln!(out, "{p}: note: {n}")?;
    }
    if let Some(e) = &r.error {
        writeln!(out, "{p}: error: {e}")?;
    }
    writeln!(
        out,
        "{p}: verdict {} ({} pickles, {} findings)",
        file_verdict(r).to_ascii_uppercase(),
        r.pickles,
        r.findings.len()
    )
}

/// Run `pickle scan`; returns the exit status.
pub fn run(args: ScanArgs) -> i32 {
    let mut policy = Policy::default();
    for a in &args.allow {
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
    for (path, why) in &unreadable {
        eprintln!("pickle scan: {}: {why}", path.display());
    }
    for path in &files {
        let r = scan_path(path, &policy);
        match r.verdict() {
            Verdict::Dangerous => dangerous += 1,
            Verdict::Unknown => unknown += 1,
            Verdict::Safe => {}
        }
        if let Some(e) = &r.error {
            errors += 1;
            eprintln!("pickle scan: {}: {e}", path.display());
        }
        let res = if args.json {
            writeln!(out, "{}", report_json(path, &r))
        } else {
            print_text(&mut out, path, &r)
        };
        if res.is_err() {
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
            "pickle scan: {} files: {dangerous} dangerous, {unknown} unknown, {errors} unreadable or malformed",
            files.len()
        );
    }
    code
}
