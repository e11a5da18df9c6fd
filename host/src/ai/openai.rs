//! OpenAI-compatible chat completions: `POST {base_url}/chat/completions`,
//! tools as `tools` / `tool_calls`.

use serde_json::{Value, json};

use super::calls::CallParts;
use super::{AiRequest, Message, ToolCall, Usage, WireError};
use crate::error::Source;

/// The request body (`model` is the one the request runs on).
pub fn body(model: &str, req: &AiRequest, max_tokens: Option<u32>, stream: bool) -> Value {
    let messages: Vec<Value> = req.messages.iter().map(message).collect();
    let mut body = json!({ "model": model, "messages": messages, "stream": stream });
    if let Some(n) = max_tokens {
        body["max_tokens"] = json!(n);
    }
    if let Some(t) = req.temperature {
        body["temperature"] = json!(t);
    }
    if !req.tools.is_empty() {
        let tools: Vec<Value> = req
            .tools
            .iter()
            .map(|t| {
                json!({ "type": "function", "function": {
                "name": t.name, "description": t.description, "parameters": t.parameters } })
            })
            .collect();
        body["tools"] = json!(tools);
    }
    if stream {
        // Streams report usage only when asked.
        body["stream_options"] = json!({ "include_usage": true });
    }
    body
}

fn message(m: &Message) -> Value {
    if let Some(id) = &m.tool_call_id {
        return json!({ "role": "tool", "tool_call_id": id, "content": m.content });
    }
    if m.tool_calls.is_empty() {
        return json!({ "role": m.role, "content": m.content });
    }
    let calls: Vec<Value> = m
        .tool_calls
        .iter()
        .map(|c| json!({ "id": c.id, "type": "function", "function": { "name": c.name, "arguments": c.arguments } }))
        .collect();
    let content = if m.content.is_empty() { Value::Null } else { json!(m.content) };
    json!({ "role": m.role, "content": content, "tool_calls": calls })
}

/// Text, tool calls, model and usage of a whole response.
pub fn parse(v: &Value) -> Result<(String, Vec<ToolCall>, Option<String>, Usage), WireError> {
    let message = &v["choices"][0]["message"];
    let calls: Vec<ToolCall> = message["tool_calls"]
        .as_array()
        .map(|calls| {
            calls
                .iter()
                .map(|c| ToolCall {
                    id: c["id"].as_str().unwrap_or_default().to_owned(),
                    name: c["function"]["name"].as_str().unwrap_or_default().to_owned(),
                    arguments: c["function"]["arguments"].as_str().unwrap_or("{}").to_owned(),
                })
                .collect()
        })
        .unwrap_or_default();
    let text = match message["content"].as_str() {
        Some(text) => text,
        None if !calls.is_empty() => "",
        None => return Err(WireError::NoMessage),
    };
    Ok((text.to_owned(), calls, v["model"].as_str().map(str::to_owned), usage(v)))
}

fn usage(v: &Value) -> Usage {
    Usage {
        input_tokens: v["usage"]["prompt_tokens"].as_u64().unwrap_or(0),
        output_tokens: v["usage"]["completion_tokens"].as_u64().unwrap_or(0),
    }
}

/// What one stream event adds: a text delta, pieces of tool calls (into
/// `calls`), and usage in the last chunk. `None` for the final `[DONE]`.
pub fn stream_event(data: &str, calls: &mut CallParts) -> Result<Option<(String, Option<Usage>)>, WireError> {
    if data.trim() == "[DONE]" {
        return Ok(None);
    }
    let v: Value = serde_json::from_str(data).map_err(|e| WireError::Event(Source::new(e)))?;
    let delta = &v["choices"][0]["delta"];
    for call in delta["tool_calls"].as_array().into_iter().flatten() {
        let index = call["index"].as_u64().unwrap_or(0);
        let function = &call["function"];
        calls.add(
            index,
            call["id"].as_str(),
            function["name"].as_str(),
            function["arguments"].as_str().unwrap_or(""),
        )?;
    }
    let text = delta["content"].as_str().unwrap_or("").to_owned();
    let usage = v.get("usage").filter(|u| !u.is_null()).map(|_| usage(&v));
    Ok(Some((text, usage)))
}
