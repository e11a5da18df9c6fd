//! `isaac ai query PROMPT`

use clap::Args;

use crate::ai::{AiRequest, AiResponse, Message};
use crate::cli::{Context, Failure, output};

/// Ask one question. Prints the answer; with --json one object with `text`,
/// `provider`, `model`, `cached`, `usage` (`input_tokens`, `output_tokens`),
/// `latency_ms` and `cost_usd`.
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// The question.
    prompt: String,
    /// The provider [default: [ai] default_provider, or the only one].
    #[arg(long)]
    provider: Option<String>,
    /// The model [default: the provider's].
    #[arg(long)]
    model: Option<String>,
    /// A system message before the question.
    #[arg(long)]
    system: Option<String>,
    /// The most output tokens.
    #[arg(long)]
    max_tokens: Option<u32>,
    /// Sampling temperature.
    #[arg(long)]
    temperature: Option<f32>,
    /// Ask these providers at once; the first answer wins, the others are cancelled.
    #[arg(long, value_delimiter = ',', value_name = "P1,P2,...", conflicts_with_all = ["provider", "stream"])]
    fallback: Vec<String>,
    /// With --fallback: ask them one after another, in order, until one answers.
    #[arg(long, requires = "fallback")]
    sequential: bool,
    /// Print the answer as it arrives.
    #[arg(long)]
    stream: bool,
}

pub fn run(cx: &Context, args: QueryArgs) -> Result<u8, Failure> {
    let host = cx.host()?;
    let router = host.ai()?;
    let mut messages = Vec::new();
    if let Some(system) = args.system {
        messages.push(Message::new("system", system));
    }
    messages.push(Message::user(args.prompt));
    let req = AiRequest {
        messages,
        provider: args.provider,
        model: args.model,
        max_tokens: args.max_tokens,
        temperature: args.temperature,
        tools: Vec::new(),
    };
    let runtime = crate::cli::runtime()?;
    let streaming = args.stream && !cx.json;
    let answer = runtime.block_on(async {
        if !args.fallback.is_empty() && args.sequential {
            router.query_sequential(&req, &args.fallback).await
        } else if !args.fallback.is_empty() {
            router.query_with_fallback(&req, &args.fallback).await
        } else if args.stream {
            let mut print = |piece: &str| {
                if streaming {
                    // The model's words: sanitised on a terminal, exact to a pipe.
                    crate::console::part(piece);
                }
            };
            router.stream(&req, &mut print).await
        } else {
            router.query(&req).await
        }
    })?;
    print(cx, &answer, streaming);
    Ok(0)
}

fn print(cx: &Context, answer: &AiResponse, streamed: bool) {
    if cx.json {
        output::json(&serde_json::to_value(answer).expect("answers serialize"));
        return;
    }
    if streamed {
        output::line("");
    } else {
        output::line(&answer.text);
    }
    if !cx.quiet() {
        crate::say!(
            "[{} {} | {} in, {} out | {:.0} ms | ${:.6}{}]",
            answer.provider,
            answer.model,
            answer.usage.input_tokens,
            answer.usage.output_tokens,
            answer.latency_ms,
            answer.cost_usd,
            if answer.cached { " | cached" } else { "" }
        );
    }
}
