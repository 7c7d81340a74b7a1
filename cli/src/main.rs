// Wired into the clap command enum when the CLI lands:
// `Arrays(arrays_cmd::ArraysArgs)` => `std::process::exit(arrays_cmd::run(args))`.
#[allow(dead_code)]
mod arrays_cmd;

fn main() {}
