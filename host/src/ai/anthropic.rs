//! Anthropic Messages: `POST {base_url}/v1/messages`.

use serde_json::{Value, json};

use super::{Message, Usage};

/// The API version sent with every request.
pub const VERSION: &str = "2023-06-01";

/// The request body. System messages go to the top-level `system` field;
/// `max_tokens` is required.
pub fn body(model: &str, messages: &[Message], max_tokens: u32, temperature: Option<f32>, stream: bool) -> Value {
    let system: Vec<&str> = messages.iter().filter(|m| m.role == "system").map(|m| m.content.as_str()).collect();
    let turns: Vec<&Message> = messages.iter().filter(|m| m.role != "system").collect();
    let mut body = json!({ "model": model, "messages": turns, "max_tokens": max_tokens, "stream": stream });
    if !system.is_empty() {
        body["system"] = json!(system.join("\n"));
    }
    if let Some(t) = temperature {
        body["temperature"] = json!(t);
    }
    body
}

/// Text, model and usage of a whole response.
pub fn parse(v: &Value) -> Result<(String, Option<String>, Usage), String> {
    let blocks = v["content"].as_array().ok_or("no content array")?;
    let text: String = blocks.iter().filter_map(|b| b["text"].as_str()).collect();
    let usage = Usage {
        input_tokens: v["usage"]["input_tokens"].as_u64().unwrap_or(0),
        output_tokens: v["usage"]["output_tokens"].as_u64().unwrap_or(0),
    };
    Ok((text, v["model"].as_str().map(str::to_owned), usage))
}

/// What one stream event adds to the answer.
pub enum StreamPart {
    /// Text.
    Text(String),
    /// Input tokens (from `message_start`).
    Input(u64),
    /// Output tokens so far (from `message_delta`).
    Output(u64),
    /// `message_stop`: the answer is complete.
    Stop,
    /// Anything else (pings, block starts).
    Other,
}

/// Read one stream event.
pub fn stream_event(event: Option<&str>, data: &str) -> Result<StreamPart, String> {
    let v: Value = serde_json::from_str(data).map_err(|e| format!("bad stream event: {e}"))?;
    let kind = event.map(str::to_owned).or_else(|| v["type"].as_str().map(str::to_owned)).unwrap_or_default();
    Ok(match kind.as_str() {
        "message_start" => StreamPart::Input(v["message"]["usage"]["input_tokens"].as_u64().unwrap_or(0)),
        "content_block_delta" => StreamPart::Text(v["delta"]["text"].as_str().unwrap_or("").to_owned()),
        "message_delta" => StreamPart::Output(v["usage"]["output_tokens"].as_u64().unwrap_or(0)),
        "message_stop" => StreamPart::Stop,
        "error" => return Err(v["error"]["message"].as_str().unwrap_or("error event").to_owned()),
        _ => StreamPart::Other,
    })
}
