//! The simulator's OpenAI-compatible chat completions: `POST
//! /v1/chat/completions`, the key as `Authorization: Bearer`, tools as
//! `tools` / `tool_calls`, streams as `data:` chunks ending in `[DONE]`.

use axum::http::{HeaderMap, header};
use serde_json::{Value, json};

use super::format::{Answer, Format, Reply, data};
use super::script::text_of;

/// `created` of every answer and model (a fixed time: answers are simulated).
const CREATED: u64 = 1_767_225_600;

/// OpenAI's wire format.
pub(super) struct OpenAi;

impl OpenAi {
    fn usage(answer: &Answer) -> Value {
        let (input, output) = (answer.input, answer.output);
        json!({ "prompt_tokens": input, "completion_tokens": output, "total_tokens": input + output })
    }
}

impl Format for OpenAi {
    fn paths(&self) -> &'static [&'static str] {
        &["/v1/chat/completions", "/chat/completions"]
    }

    fn api_key<'h>(&self, headers: &'h HeaderMap) -> Option<&'h str> {
        let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
        Some(value.trim_start_matches("Bearer "))
    }

    fn tools<'r>(&self, request: &'r Value) -> Vec<&'r str> {
        request["tools"].as_array().into_iter().flatten().filter_map(|t| t["function"]["name"].as_str()).collect()
    }

    fn tool_results(&self, message: &Value) -> Vec<String> {
        match message["role"] == "tool" {
            true => vec![text_of(&message["content"])],
            false => Vec::new(),
        }
    }

    fn call_prefix(&self) -> &'static str {
        "call"
    }

    fn whole(&self, answer: &Answer) -> Value {
        let (message, finish) = match &answer.reply {
            Reply::Text(text) => (json!({ "role": "assistant", "content": text, "refusal": null }), "stop"),
            Reply::Call(call) => (
                json!({ "role": "assistant", "content": null, "refusal": null, "tool_calls": [{
                    "id": call.id, "type": "function",
                    "function": { "name": call.name, "arguments": call.arguments } }] }),
                "tool_calls",
            ),
        };
        json!({
            "id": "chatcmpl-sim", "object": "chat.completion", "created": CREATED, "model": answer.model,
            "choices": [{ "index": 0, "message": message, "logprobs": null, "finish_reason": finish }],
            "usage": Self::usage(answer),
        })
    }

    fn events(&self, answer: &Answer) -> Vec<String> {
        let chunk = |choices: Value| {
            json!({ "id": "chatcmpl-sim", "object": "chat.completion.chunk", "created": CREATED,
                    "model": answer.model, "system_fingerprint": "fp_sim", "choices": choices })
        };
        let choice = |delta: Value, finish: Value| json!([{ "index": 0, "delta": delta, "logprobs": null, "finish_reason": finish }]);
        let mut events = Vec::new();
        let finish = match answer.reply.call() {
            None => {
                events.push(data(&chunk(choice(json!({ "role": "assistant", "content": "" }), Value::Null))));
                for piece in answer.reply.pieces() {
                    events.push(data(&chunk(choice(json!({ "content": piece }), Value::Null))));
                }
                "stop"
            }
            Some(call) => {
                let start = json!({ "role": "assistant", "content": null, "tool_calls": [{ "index": 0,
                    "id": call.id, "type": "function", "function": { "name": call.name, "arguments": "" } }] });
                events.push(data(&chunk(choice(start, Value::Null))));
                for piece in answer.reply.pieces() {
                    let delta = json!({ "tool_calls": [{ "index": 0, "function": { "arguments": piece } }] });
                    events.push(data(&chunk(choice(delta, Value::Null))));
                }
                "tool_calls"
            }
        };
        events.push(data(&chunk(choice(json!({}), json!(finish)))));
        let mut usage = chunk(json!([]));
        usage["usage"] = Self::usage(answer);
        events.push(data(&usage));
        events.push("data: [DONE]\n\n".to_owned());
        events
    }

    /// OpenAI's list is the default: it claims every models request.
    fn lists_models(&self, _headers: &HeaderMap) -> bool {
        true
    }

    fn models(&self, models: &[&str]) -> Value {
        let data: Vec<Value> = models
            .iter()
            .map(|id| json!({ "id": id, "object": "model", "created": CREATED, "owned_by": "isaac-simulator" }))
            .collect();
        json!({ "object": "list", "data": data })
    }
}
