//! Upper-cases stdin, or each FILE named in turn (`-` is stdin), onto
//! stdout, a line as soon as it is read; `--lower` lower-cases instead. A
//! missing file is named on stderr and the others still go through; the
//! exit status is then 1, and 2 for an unknown option (Rust's standard
//! library exits through WASI 0.2's `exit`, which carries success or failure
//! only: isaac, like `wasmtime run`, reports any failure as 1).
//!
//! A plain program: `fn main`, the standard library, no isaac crate.
//! `cargo build --release --target wasm32-wasip2` makes it a WASI 0.2
//! command component, which isaac runs with its arguments (`argv[0]` is the
//! name of the command run: the `upper` example offers it as `upper`, and
//! as `lower`, which its manifest runs as `lower --lower ...`), the pipes,
//! and the directories the user granted (`isaac run --allow-read ~/notes
//! upper ~/notes/todo.txt`).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args();
    let name = args.next().unwrap_or_else(|| "upper".into());
    let usage = format!("usage: {name} [--lower] [FILE...]");
    let (mut lower, mut options, mut files) = (false, true, Vec::new());
    for arg in args {
        match arg.as_str() {
            "--" if options => options = false,
            "--lower" if options => lower = true,
            "-h" | "--help" if options => {
                println!("{usage}");
                return ExitCode::SUCCESS;
            }
            option if options && option.starts_with('-') && option != "-" => {
                eprintln!("{name}: unknown option `{option}`\n{usage}");
                return ExitCode::from(2);
            }
            _ => files.push(arg),
        }
    }
    if files.is_empty() {
        files.push("-".into());
    }

    let mut out = io::stdout().lock();
    let mut status = ExitCode::SUCCESS;
    for file in &files {
        let input: Box<dyn BufRead> = if file == "-" {
            Box::new(io::stdin().lock())
        } else {
            match File::open(file) {
                Ok(f) => Box::new(BufReader::new(f)),
                Err(e) => {
                    eprintln!("{name}: {file}: {e}");
                    status = ExitCode::FAILURE;
                    continue;
                }
            }
        };
        if let Err(e) = convert(input, &mut out, lower) {
            // The reader went away (`isaac run upper | head -1`): stop quietly.
            if e.kind() == io::ErrorKind::BrokenPipe {
                break;
            }
            eprintln!("{name}: {file}: {e}");
            status = ExitCode::FAILURE;
        }
    }
    status
}

/// Copy `input` to `out` a line at a time, each line's case changed
/// (bytes that are not UTF-8 become U+FFFD). Stdout is line-buffered: each
/// line reaches the reader as soon as it is written.
fn convert(mut input: impl BufRead, out: &mut impl Write, lower: bool) -> io::Result<()> {
    let mut line = Vec::new();
    while input.read_until(b'\n', &mut line)? > 0 {
        let text = String::from_utf8_lossy(&line);
        let changed = if lower { text.to_lowercase() } else { text.to_uppercase() };
        out.write_all(changed.as_bytes())?;
        line.clear();
    }
    out.flush()
}
