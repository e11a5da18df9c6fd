//! `summarize`: `summarize TEXT...` asks for a one-sentence summary of each
//! text, all at once with one `batch` call, and prints them in order.

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

impl Plugin for Summarize {
    fn metadata() -> PluginInfo {
        PluginInfo::new("summarize", env!("CARGO_PKG_VERSION"), "Summarizes several texts at once").command(
            CommandInfo::new("summarize", "One-sentence summary of each text, all at once", "summarize TEXT..."),
        )
    }

    fn run(command: &str, args: Vec<String>) -> Result<String, Error> {
        if command != "summarize" {
            return Err(Error::Failed(format!("summarize has no command `{command}`")));
        }
        if args.is_empty() {
            return Err(Error::Usage("usage: summarize TEXT... (each argument is one text)".into()));
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
