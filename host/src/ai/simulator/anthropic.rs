//! The simulator's Anthropic Messages: `POST /v1/messages`, the key as
//! `x-api-key`, tools as `tools` / `tool_use` blocks and their results as
//! `tool_result` blocks, streams as named events ending in `message_stop`.

use axum::http::HeaderMap;
use serde_json::{Value, json};

use super::format::{Answer, Format, Reply, event};
use super::script::text_of;

/// Anthropic's wire format.
pub(super) struct Anthropic;

impl Format for Anthropic {
    fn paths(&self) -> &'static [&'static str] {
        &["/v1/messages"]
    }

    fn api_key<'h>(&self, headers: &'h HeaderMap) -> Option<&'h str> {
        headers.get("x-api-key")?.to_str().ok()
    }

    fn tools<'r>(&self, request: &'r Value) -> Vec<&'r str> {
        request["tools"].as_array().into_iter().flatten().filter_map(|t| t["name"].as_str()).collect()
    }

    fn tool_results(&self, message: &Value) -> Vec<String> {
        message["content"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|b| b["type"] == "tool_result")
            .map(|b| text_of(&b["content"]))
            .collect()
    }

    fn call_prefix(&self) -> &'static str {
        "toolu"
    }

    fn whole(&self, answer: &Answer) -> Value {
        let (block, stop) = match &answer.reply {
            Reply::Text(text) => (json!({ "type": "text", "text": text }), "end_turn"),
            Reply::Call(call) => {
                (json!({ "type": "tool_use", "id": call.id, "name": call.name, "input": call.input() }), "tool_use")
            }
        };
        json!({
            "id": "msg_sim", "type": "message", "role": "assistant", "model": answer.model,
            "content": [block], "stop_reason": stop, "stop_sequence": null,
            "usage": { "input_tokens": answer.input, "output_tokens": answer.output },
        })
    }

    fn events(&self, answer: &Answer) -> Vec<String> {
        let call = answer.reply.call();
        let mut events = vec![event(
            "message_start",
            &json!({ "type": "message_start", "message": {
                "id": "msg_sim", "type": "message", "role": "assistant", "content": [], "model": answer.model,
                "stop_reason": null, "stop_sequence": null,
                "usage": { "input_tokens": answer.input, "output_tokens": 1 } } }),
        )];
        let (block, stop) = match call {
            None => (json!({ "type": "text", "text": "" }), "end_turn"),
            Some(call) => (json!({ "type": "tool_use", "id": call.id, "name": call.name, "input": {} }), "tool_use"),
        };
        events.push(event(
            "content_block_start",
            &json!({ "type": "content_block_start", "index": 0, "content_block": block }),
        ));
        events.push(event("ping", &json!({ "type": "ping" })));
        for piece in answer.reply.pieces() {
            let delta = match call {
                None => json!({ "type": "text_delta", "text": piece }),
                Some(_) => json!({ "type": "input_json_delta", "partial_json": piece }),
            };
            events.push(event(
                "content_block_delta",
                &json!({ "type": "content_block_delta", "index": 0, "delta": delta }),
            ));
        }
        events.push(event("content_block_stop", &json!({ "type": "content_block_stop", "index": 0 })));
        events.push(event(
            "message_delta",
            &json!({ "type": "message_delta", "delta": { "stop_reason": stop, "stop_sequence": null },
                    "usage": { "output_tokens": answer.output } }),
        ));
        events.push(event("message_stop", &json!({ "type": "message_stop" })));
        events
    }

    /// Both SDKs ask for models at the same path; Anthropic's sends
    /// `anthropic-version`.
    fn lists_models(&self, headers: &HeaderMap) -> bool {
        headers.contains_key("anthropic-version")
    }

    fn models(&self, models: &[&str]) -> Value {
        let data: Vec<Value> = models
            .iter()
            .map(|id| json!({ "type": "model", "id": id, "display_name": id, "created_at": "2026-01-01T00:00:00Z" }))
            .collect();
        let (first, last) = (models.first(), models.last());
        json!({ "data": data, "has_more": false, "first_id": first, "last_id": last })
    }
}
