//! Anthropic Messages: `POST {base_url}/v1/messages`, tools as `tools` /
//! `tool_use` blocks, their results as `tool_result` blocks.

use serde_json::{Value, json};

use super::calls::CallParts;
use super::{AiRequest, Message, ToolCall, Usage, WireError};
use crate::error::Source;

/// The API version sent with every request.
pub const VERSION: &str = "2023-06-01";

/// The request body. System messages go to the top-level `system` field;
/// the results of one turn's tool calls go together in one user message;
/// `max_tokens` is required.
pub fn body(model: &str, req: &AiRequest, max_tokens: u32, stream: bool) -> Value {
    let messages = &req.messages;
    let system: Vec<&str> = messages.iter().filter(|m| m.role == "system").map(|m| m.content.as_str()).collect();
    let mut turns: Vec<Value> = Vec::new();
    for m in messages.iter().filter(|m| m.role != "system") {
        match (&m.tool_call_id, turns.last_mut()) {
            (Some(_), Some(last)) if is_tool_results(last) => {
                if let Some(blocks) = last["content"].as_array_mut() {
                    blocks.push(tool_result(m));
                }
            }
            (Some(_), _) => turns.push(json!({ "role": "user", "content": [tool_result(m)] })),
            (None, _) => turns.push(turn(m)),
        }
    }
    let mut body = json!({ "model": model, "messages": turns, "max_tokens": max_tokens, "stream": stream });
    if !system.is_empty() {
        body["system"] = json!(system.join("\n"));
    }
    if let Some(t) = req.temperature {
        body["temperature"] = json!(t);
    }
    if !req.tools.is_empty() {
        let tools: Vec<Value> = req
            .tools
            .iter()
            .map(|t| json!({ "name": t.name, "description": t.description, "input_schema": t.parameters }))
            .collect();
        body["tools"] = json!(tools);
    }
    body
}

fn is_tool_results(turn: &Value) -> bool {
    turn["content"].as_array().is_some_and(|b| b.first().is_some_and(|b| b["type"] == "tool_result"))
}

fn tool_result(m: &Message) -> Value {
    json!({ "type": "tool_result", "tool_use_id": m.tool_call_id, "content": m.content })
}

fn turn(m: &Message) -> Value {
    if m.tool_calls.is_empty() {
        return json!({ "role": m.role, "content": m.content });
    }
    let mut blocks = Vec::new();
    if !m.content.is_empty() {
        blocks.push(json!({ "type": "text", "text": m.content }));
    }
    for call in &m.tool_calls {
        let input: Value = serde_json::from_str(&call.arguments).unwrap_or_else(|_| json!({}));
        blocks.push(json!({ "type": "tool_use", "id": call.id, "name": call.name, "input": input }));
    }
    json!({ "role": m.role, "content": blocks })
}

/// Text, tool calls, model and usage of a whole response.
pub fn parse(v: &Value) -> Result<(String, Vec<ToolCall>, Option<String>, Usage), WireError> {
    let blocks = v["content"].as_array().ok_or(WireError::NoContent)?;
    let text: String = blocks.iter().filter(|b| b["type"] == "text").filter_map(|b| b["text"].as_str()).collect();
    let calls = blocks
        .iter()
        .filter(|b| b["type"] == "tool_use")
        .map(|b| ToolCall {
            id: b["id"].as_str().unwrap_or_default().to_owned(),
            name: b["name"].as_str().unwrap_or_default().to_owned(),
            arguments: b["input"].to_string(),
        })
        .collect();
    let usage = Usage {
        input_tokens: v["usage"]["input_tokens"].as_u64().unwrap_or(0),
        output_tokens: v["usage"]["output_tokens"].as_u64().unwrap_or(0),
    };
    Ok((text, calls, v["model"].as_str().map(str::to_owned), usage))
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
    /// Anything else (pings, block starts and ends, pieces of tool calls,
    /// which go into `calls`).
    Other,
}

/// Read one stream event; pieces of tool calls go into `calls`.
pub fn stream_event(event: Option<&str>, data: &str, calls: &mut CallParts) -> Result<StreamPart, WireError> {
    let v: Value = serde_json::from_str(data).map_err(|e| WireError::Event(Source::new(e)))?;
    let kind = event.map(str::to_owned).or_else(|| v["type"].as_str().map(str::to_owned)).unwrap_or_default();
    let index = v["index"].as_u64().unwrap_or(0);
    Ok(match kind.as_str() {
        "message_start" => StreamPart::Input(v["message"]["usage"]["input_tokens"].as_u64().unwrap_or(0)),
        "content_block_start" => {
            let block = &v["content_block"];
            if block["type"] == "tool_use" {
                calls.add(index, block["id"].as_str(), block["name"].as_str(), "")?;
            }
            StreamPart::Other
        }
        "content_block_delta" => match v["delta"]["type"].as_str() {
            Some("input_json_delta") => {
                calls.add(index, None, None, v["delta"]["partial_json"].as_str().unwrap_or(""))?;
                StreamPart::Other
            }
            _ => StreamPart::Text(v["delta"]["text"].as_str().unwrap_or("").to_owned()),
        },
        "message_delta" => StreamPart::Output(v["usage"]["output_tokens"].as_u64().unwrap_or(0)),
        "message_stop" => StreamPart::Stop,
        "error" => return Err(WireError::Reported(v["error"]["message"].as_str().unwrap_or("error event").to_owned())),
        _ => StreamPart::Other,
    })
}
