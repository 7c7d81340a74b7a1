//! The `pickle` command.
//!
//! Only `scan` is wired here; the other subcommands (dis, convert, json, ...)
//! come from the infra branch and are merged by hand.

use clap::{Parser, Subcommand};

mod scan_cmd;

#[derive(Parser)]
#[command(
    name = "pickle",
    version,
    about = "Inspect Python pickles without Python"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Tell whether loading pickles would run code, without loading them.
    Scan(scan_cmd::ScanArgs),
}

fn main() {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Scan(args) => scan_cmd::run(args),
    };
    std::process::exit(code);
}
