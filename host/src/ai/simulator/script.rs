//! What the simulator answers, in any wire format: the prompt echoed, or the
//! plan of tool calls the prompt spells out.

use serde_json::{Value, json};

use super::format::{Format, Reply, SimCall};

/// The input tokens of `request`: the words of its messages, at least one.
pub(super) fn input_tokens(request: &Value) -> u64 {
    let messages = request["messages"].as_array().map(Vec::as_slice).unwrap_or_default();
    messages.iter().map(|m| text_of(&m["content"]).split_whitespace().count() as u64).sum::<u64>().max(1)
}

/// The text of a message's content: a string, or blocks (text and
/// Anthropic's tool results).
pub(super) fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .map(|b| match b["type"].as_str() {
                Some("text") => b["text"].as_str().unwrap_or("").to_owned(),
                Some("tool_result") => text_of(&b["content"]),
                _ => String::new(),
            })
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}

/// The answer to `request`, the `n`th. Without tools: "Simulated answer to:
/// PROMPT". With tools, the last prompt is read as a plan: each word that
/// names an offered tool is a call, its arguments the words up to the next
/// tool's name. The calls are made one per answer, in order; once each has
/// its result, the answer quotes the results.
pub(super) fn reply(format: &dyn Format, request: &Value, n: u64) -> Reply {
    let messages = request["messages"].as_array().map(Vec::as_slice).unwrap_or_default();
    let is_prompt = |m: &Value| m["role"] == "user" && format.tool_results(m).is_empty();
    let at = messages.iter().rposition(is_prompt);
    let prompt = at.map(|i| text_of(&messages[i]["content"])).unwrap_or_default();
    let tools = format.tools(request);
    let mut plan: Vec<(&str, Vec<&str>)> = Vec::new();
    for word in prompt.split_whitespace() {
        match (tools.contains(&word), plan.last_mut()) {
            (true, _) => plan.push((word, Vec::new())),
            (false, Some((_, args))) => args.push(word),
            (false, None) => {}
        }
    }
    if plan.is_empty() {
        return Reply::Text(format!("Simulated answer to: {prompt}"));
    }
    let after = at.map_or(messages, |i| &messages[i + 1..]);
    let results: Vec<String> = after.iter().flat_map(|m| format.tool_results(m)).collect();
    match plan.get(results.len()) {
        Some((name, args)) => Reply::Call(SimCall {
            id: format!("{}_sim_{n}_{}", format.call_prefix(), results.len()),
            name: (*name).to_owned(),
            arguments: json!({ "args": args }).to_string(),
        }),
        None => {
            let quoted: Vec<String> = results.iter().map(|r| format!("\"{}\"", r.trim())).collect();
            Reply::Text(format!("The tools answered: {}.", quoted.join(" then ")))
        }
    }
}
