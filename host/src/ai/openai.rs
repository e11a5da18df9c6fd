//! OpenAI-compatible chat completions: `POST {base_url}/chat/completions`.

use serde_json::{Value, json};

use super::{Message, Usage};

/// The request body.
pub fn body(
    model: &str,
    messages: &[Message],
    max_tokens: Option<u32>,
    temperature: Option<f32>,
    stream: bool,
) -> Value {
    let mut body = json!({ "model": model, "messages": messages, "stream": stream });
    if let Some(n) = max_tokens {
        body["max_tokens"] = json!(n);
    }
    if let Some(t) = temperature {
        body["temperature"] = json!(t);
    }
    if stream {
        // Streams report usage only when asked.
        body["stream_options"] = json!({ "include_usage": true });
    }
    body
}

/// Text, model and usage of a whole response.
pub fn parse(v: &Value) -> Result<(String, Option<String>, Usage), String> {
    let text = v["choices"][0]["message"]["content"].as_str().ok_or("no choices[0].message.content")?;
    Ok((text.to_owned(), v["model"].as_str().map(str::to_owned), usage(v)))
}

fn usage(v: &Value) -> Usage {
    Usage {
        input_tokens: v["usage"]["prompt_tokens"].as_u64().unwrap_or(0),
        output_tokens: v["usage"]["completion_tokens"].as_u64().unwrap_or(0),
    }
}

/// What one stream event adds: a text delta, and usage in the last chunk.
/// `None` for the final `[DONE]`.
pub fn stream_event(data: &str) -> Result<Option<(String, Option<Usage>)>, String> {
    if data.trim() == "[DONE]" {
        return Ok(None);
    }
    let v: Value = serde_json::from_str(data).map_err(|e| format!("bad stream chunk: {e}"))?;
    let delta = v["choices"][0]["delta"]["content"].as_str().unwrap_or("").to_owned();
    let usage = v.get("usage").filter(|u| !u.is_null()).map(|_| usage(&v));
    Ok(Some((delta, usage)))
}
