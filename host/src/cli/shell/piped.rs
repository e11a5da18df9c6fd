//! `isaac shell < script`: one command per line, results only.

use std::io::BufRead;

use super::{Outcome, execute};
use crate::cli::Failure;
use crate::console;
use crate::session::Session;

pub fn run(runtime: &tokio::runtime::Runtime, mut session: Session<'_>) -> Result<u8, Failure> {
    let stdin = std::io::stdin().lock();
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
            // Sanitised on a terminal, exact to a pipe (crate::console).
            Outcome::Output(result) => console::line(&result),
            Outcome::Failed(code, message) => {
                status = code;
                crate::say!("error: {message}");
            }
            Outcome::Quit => break,
        }
        // A reader that went away ends the script quietly, through the
        // normal exit path (so the run is recorded).
        if console::closed() {
            break;
        }
    }
    Ok(status)
}
