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
        let written = match runtime.block_on(execute(&mut session, &text, false)) {
            Outcome::Nothing => Ok(()),
            Outcome::Output(result) => write_result(&mut out, &result),
            Outcome::Failed(code, message) => {
                status = code;
                out.flush().inspect(|()| eprintln!("error: {message}"))
            }
            Outcome::Quit => break,
        };
        if !still_open(written)? {
            return Ok(status);
        }
    }
    still_open(out.flush())?;
    Ok(status)
}

fn write_result(out: &mut impl Write, result: &str) -> std::io::Result<()> {
    let result = if std::io::stdout().is_terminal() {
        crate::terminal::sanitize(result, crate::terminal::Lines::Keep)
    } else {
        std::borrow::Cow::Borrowed(result)
    };
    out.write_all(result.as_bytes())?;
    if !result.ends_with('\n') {
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// Whether stdout still has a reader. A reader that went away ends the
/// script quietly, through the normal exit path (so the run is recorded).
fn still_open(written: std::io::Result<()>) -> Result<bool, Failure> {
    match written {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(e.into()),
    }
}
