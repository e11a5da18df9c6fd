//! The interactive shell: a line editor over the session.

use std::borrow::Cow;
use std::path::Path;

use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{CompletionType, Config, Context, Editor, Helper, Highlighter, Hinter};

use super::{Outcome, execute};
use crate::cli::{Failure, output};
use crate::session::Session;

const COLON_COMMANDS: [&str; 6] = [":help", ":plugins", ":stats", ":reload", ":time", ":quit"];

/// Completion of the first word (commands, `plugin:command`, `:commands`)
/// and continuation lines.
#[derive(Helper, Highlighter, Hinter)]
struct ShellHelper {
    names: Vec<String>,
}

impl Completer for ShellHelper {
    type Candidate = Pair;

    fn complete(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        // Only the command word is completed; arguments belong to the plugin.
        let start = before.rfind(char::is_whitespace).map_or(0, |i| i + 1);
        if before[..start].trim().is_empty() || before[..start].trim() == ":time" {
            let word = &before[start..];
            let names = self.names.iter().map(String::as_str).chain(COLON_COMMANDS);
            let candidates = names
                .filter(|n| n.starts_with(word))
                .map(|n| Pair { display: n.to_owned(), replacement: n.to_owned() })
                .collect();
            return Ok((start, candidates));
        }
        Ok((pos, Vec::new()))
    }
}

impl Validator for ShellHelper {
    fn validate(&self, ctx: &mut ValidationContext<'_>) -> rustyline::Result<ValidationResult> {
        Ok(if ctx.input().ends_with('\\') { ValidationResult::Incomplete } else { ValidationResult::Valid(None) })
    }
}

pub fn run(runtime: &tokio::runtime::Runtime, history: &Path, mut session: Session<'_>) -> Result<u8, Failure> {
    let config =
        Config::builder().completion_type(CompletionType::List).max_history_size(1000)?.auto_add_history(true).build();
    let mut editor: Editor<ShellHelper, FileHistory> = Editor::with_config(config)?;
    editor.set_helper(Some(ShellHelper { names: session.command_names() }));
    let _ = editor.load_history(history);
    let loaded = session.loaded();
    crate::say!(
        "isaac shell: {} plugin(s) loaded in {:.1} ms{}; :help for help, Ctrl-D to leave",
        loaded.plugins.len(),
        session.load_time().as_secs_f64() * 1e3,
        if loaded.failures.is_empty() {
            Cow::Borrowed("")
        } else {
            Cow::Owned(format!(", {} not loaded (:plugins)", loaded.failures.len()))
        }
    );
    loop {
        match editor.readline("isaac> ") {
            Ok(line) => match runtime.block_on(execute(&mut session, &line, true)) {
                Outcome::Nothing => {}
                Outcome::Output(text) => {
                    output::line(&text);
                    if line.trim_start().starts_with(":reload") {
                        editor.set_helper(Some(ShellHelper { names: session.command_names() }));
                    }
                }
                Outcome::Failed(_, message) => crate::say!("error: {message}"),
                Outcome::Quit => break,
            },
            // Ctrl-C at the prompt clears the line.
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                let _ = editor.save_history(history);
                return Err(e.into());
            }
        }
    }
    if let Err(e) = editor.save_history(history) {
        tracing::warn!("shell history not saved to {}: {e}", history.display());
    }
    Ok(0)
}
