//! `summarize`: `summarize TEXT...` asks for a one-sentence summary of each
//! text, all at once with one `batch` call, and prints them in order.
//! `summarize` with no arguments summarises what is piped in (`git diff |
//! isaac run summarize`), streaming the answer to stdout as the model
//! writes it.

use std::io::{Read, Write};

use isaac_plugin_sdk::ai::{self, Message, Request};
use isaac_plugin_sdk::{CommandInfo, Error, Plugin, PluginInfo, export_plugin};

struct Summarize;

fn request(text: &str) -> Request {
    Request {
        messages: vec![
            Message { role: "system".into(), content: "You write one-sentence summaries.".into() },
            Message { role: "user".into(), content: format!("Summarize in one sentence: {text}") },
        ],
        model: None,
        max_tokens: Some(200),
        temperature: Some(0.2),
    }
}

/// The most of stdin summarised, in bytes.
const MAX_INPUT: u64 = 256 << 10;

/// Summarise stdin, the answer streamed to stdout.
fn summarize_stdin() -> Result<String, Error> {
    let mut text = String::new();
    let read = std::io::stdin().take(MAX_INPUT).read_to_string(&mut text);
    read.map_err(|e| Error::Failed(format!("cannot read stdin: {e}")))?;
    if text.trim().is_empty() {
        return Err(Error::Usage("usage: summarize TEXT... or pipe a text in (`git diff | isaac run summarize`)".into()));
    }
    let mut out = std::io::stdout().lock();
    let show = |out: &mut std::io::StdoutLock, piece: &str| {
        out.write_all(piece.as_bytes()).and_then(|()| out.flush()).map_err(|e| Error::Failed(e.to_string()))
    };
    for piece in ai::query_stream(&request(&text))? {
        show(&mut out, &piece?)?;
    }
    show(&mut out, "\n")?;
    Ok(String::new())
}

impl Plugin for Summarize {
    fn metadata() -> PluginInfo {
        PluginInfo::new("summarize", env!("CARGO_PKG_VERSION"), "Summarizes several texts at once").command(
            CommandInfo::new(
                "summarize",
                "One-sentence summary of each text, all at once, or of stdin, streamed",
                "summarize [TEXT...]",
            ),
        )
    }

    fn run(command: &str, args: Vec<String>) -> Result<String, Error> {
        if command != "summarize" {
            return Err(Error::Failed(format!("summarize has no command `{command}`")));
        }
        if args.is_empty() {
            return summarize_stdin();
        }
        let requests: Vec<Request> = args.iter().map(|text| request(text)).collect();
        let mut lines = Vec::new();
        for (i, result) in ai::batch(&requests).into_iter().enumerate() {
            match result {
                Ok(answer) => lines.push(format!("{}. {}", i + 1, answer.text)),
                Err(e) => lines.push(format!("{}. (failed: {})", i + 1, ai::explain(&e))),
            }
        }
        Ok(lines.join("\n"))
    }
}

export_plugin!(Summarize);
