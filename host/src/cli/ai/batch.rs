//! `isaac ai batch FILE.jsonl`

use std::io::Read;
use std::path::PathBuf;

use clap::Args;

use serde::Deserialize;

use crate::ai::{AiRequest, Message};
use crate::cli::{Context, Failure, output};

/// Run every request of FILE at once (at most each provider's
/// `max_concurrency` in flight, fewer after a 429). Each line:
/// `{"prompt": "..."}` or `{"messages": [{"role": "user", "content": "..."}]}`,
/// with optional `provider`, `model`, `max_tokens`, `temperature`. Prints one
/// JSON object per line, in input order: an answer as `isaac ai query --json`
/// prints it, or `{"error": "..."}`. Exit status 1 if any failed.
#[derive(Debug, Args)]
pub struct BatchArgs {
    /// The JSON-lines file; `-` for stdin.
    file: PathBuf,
}

pub fn run(cx: &Context, args: BatchArgs) -> Result<u8, Failure> {
    let mut text = String::new();
    if args.file.as_os_str() == "-" {
        std::io::stdin().read_to_string(&mut text)?;
    } else {
        text = std::fs::read_to_string(&args.file)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", args.file.display()))?;
    }
    let parsed: Vec<Result<AiRequest, anyhow::Error>> = text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            let request = serde_json::from_str::<Line>(line).map_err(anyhow::Error::from);
            let request = request.and_then(|l| Ok(l.request()?));
            request.map_err(|e| e.context(format!("{}:{}: not a request", args.file.display(), i + 1)))
        })
        .collect();
    let requests: Vec<AiRequest> = parsed.iter().filter_map(|r| r.as_ref().ok().cloned()).collect();
    let host = cx.host()?;
    let router = host.ai()?;
    let runtime = crate::cli::runtime()?;
    let mut answers = runtime.block_on(router.batch(&requests)).into_iter();
    let mut failed = false;
    for item in parsed {
        // Each error as one line, its causes included: what the line's reader sees.
        let error = match item.map(|_| answers.next().expect("one answer per request")) {
            Ok(Ok(answer)) => {
                output::json(&serde_json::to_value(answer).expect("answers serialize"));
                continue;
            }
            Ok(Err(e)) => crate::error::one_line(&e),
            Err(e) => format!("{e:#}"),
        };
        failed = true;
        output::json(&serde_json::json!({ "error": error }));
    }
    Ok(u8::from(failed))
}

/// One line of the file: a prompt or a conversation, and the options.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    prompt: Option<String>,
    messages: Option<Vec<Message>>,
    provider: Option<String>,
    model: Option<String>,
    max_tokens: Option<u32>,
    temperature: Option<f32>,
}

/// A line that is JSON but no request.
#[derive(Debug, thiserror::Error)]
enum LineError {
    #[error("give `prompt` or `messages`, not both")]
    Both,
    #[error("give `prompt` (text) or `messages` (a conversation)")]
    Neither,
}

impl Line {
    fn request(self) -> Result<AiRequest, LineError> {
        let messages = match (self.prompt, self.messages) {
            (Some(prompt), None) => vec![Message::user(prompt)],
            (None, Some(messages)) => messages,
            (Some(_), Some(_)) => return Err(LineError::Both),
            (None, None) => return Err(LineError::Neither),
        };
        let Line { provider, model, max_tokens, temperature, .. } = self;
        Ok(AiRequest { messages, provider, model, max_tokens, temperature, tools: Vec::new() })
    }
}
