//! `isaac ai batch FILE.jsonl`

use std::io::Read;
use std::path::PathBuf;

use clap::Args;

use crate::ai::{AiError, AiRequest, AiResponse};
use crate::cli::{Context, Failure, output};

/// Run every request of FILE at once (at most each provider's
/// `max_concurrency` in flight, fewer after a 429). Each line: `{"messages": [{"role": "user", "content": "..."}]}`
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
    let parsed: Vec<Result<AiRequest, String>> = text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            serde_json::from_str(line).map_err(|e| format!("{}:{}: not a request: {e}", args.file.display(), i + 1))
        })
        .collect();
    let requests: Vec<AiRequest> = parsed.iter().filter_map(|r| r.as_ref().ok().cloned()).collect();
    let host = cx.host()?;
    let router = host.ai()?;
    let runtime = crate::cli::runtime()?;
    let mut answers = runtime.block_on(router.batch(&requests)).into_iter();
    let mut failed = false;
    for item in parsed {
        let result: Result<AiResponse, String> = match item {
            Ok(_) => answers.next().expect("one answer per request").map_err(|e: AiError| e.to_string()),
            Err(e) => Err(e),
        };
        match result {
            Ok(answer) => output::json(&serde_json::to_value(answer).expect("answers serialize")),
            Err(error) => {
                failed = true;
                output::json(&serde_json::json!({ "error": error }));
            }
        }
    }
    Ok(u8::from(failed))
}
