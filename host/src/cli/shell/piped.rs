//! `isaac shell < script`: one command per line, results only.

use std::io::{BufRead, BufWriter, IsTerminal, Write};

use super::{Outcome, execute};
use crate::cli::Failure;
use crate::session::Session;

pub fn run(runtime: &tokio::runtime::Runtime, mut session: Session<'_>) -> Result<u8, Failure> {
    let stdin = std::io::stdin().lock();
    let mut out = BufWriter::new(std::io::stdout().lock());
    let mut status = 0;
    let mut pending = String::new();
    for line in stdin.lines() {
        let line = line?;
        // A trailing `\` continues the line.
        if let Some(head) = line.strip_suffix('\\') {
            pending.push_str(head);
            pending.push(' ');
            continue;
        }
        pending.push_str(&line);
        let text = std::mem::take(&mut pending);
        match runtime.block_on(execute(&mut session, &text, false)) {
            Outcome::Nothing => {}
            Outcome::Output(result) => write_result(&mut out, &result)?,
            Outcome::Failed(code, message) => {
                out.flush().map_err(broken_pipe)?;
                eprintln!("error: {message}");
                status = code;
            }
            Outcome::Quit => break,
        }
    }
    out.flush().map_err(broken_pipe)?;
    Ok(status)
}

fn write_result(out: &mut impl Write, result: &str) -> Result<(), Failure> {
    let result = if std::io::stdout().is_terminal() {
        crate::terminal::sanitize(result, crate::terminal::Lines::Keep)
    } else {
        std::borrow::Cow::Borrowed(result)
    };
    out.write_all(result.as_bytes()).map_err(broken_pipe)?;
    if !result.ends_with('\n') {
        out.write_all(b"\n").map_err(broken_pipe)?;
    }
    Ok(())
}

/// A reader that went away ends the script quietly.
fn broken_pipe(e: std::io::Error) -> Failure {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    e.into()
}
