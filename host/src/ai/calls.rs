//! Tool calls assembled from a stream: both wire formats send a call's id
//! and name first and its arguments in pieces, each piece tagged with the
//! call's index.

use std::collections::BTreeMap;

use super::{ToolCall, WireError};

/// The most calls one answer may hold: a provider asking for more is
/// refused (each index would otherwise cost a call's worth of memory for a
/// few bytes of input).
pub const MAX_CALLS: usize = 128;

/// The calls of one streamed answer, by index.
#[derive(Debug, Default)]
pub struct CallParts {
    calls: BTreeMap<u64, ToolCall>,
}

impl CallParts {
    /// Add what one event says of call `index`: its id and name when it
    /// starts, then pieces of its arguments.
    pub fn add(&mut self, index: u64, id: Option<&str>, name: Option<&str>, arguments: &str) -> Result<(), WireError> {
        if self.calls.len() == MAX_CALLS && !self.calls.contains_key(&index) {
            return Err(WireError::TooManyCalls(MAX_CALLS));
        }
        let call = self.calls.entry(index).or_insert_with(|| ToolCall {
            id: String::new(),
            name: String::new(),
            arguments: String::new(),
        });
        if let Some(id) = id.filter(|s| !s.is_empty()) {
            call.id = id.to_owned();
        }
        if let Some(name) = name.filter(|s| !s.is_empty()) {
            call.name = name.to_owned();
        }
        call.arguments.push_str(arguments);
        Ok(())
    }

    /// The calls, in order; a call with no arguments gets `{}`.
    pub fn finish(self) -> Vec<ToolCall> {
        self.calls
            .into_values()
            .map(|mut call| {
                if call.arguments.trim().is_empty() {
                    call.arguments = "{}".to_owned();
                }
                call
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_join_by_index() {
        let mut parts = CallParts::default();
        parts.add(1, Some("b"), Some("two"), "").unwrap();
        parts.add(0, Some("a"), Some("one"), "{\"args\":").unwrap();
        parts.add(0, None, None, "[\"x\"]}").unwrap();
        let calls = parts.finish();
        assert_eq!(calls[0], ToolCall { id: "a".into(), name: "one".into(), arguments: "{\"args\":[\"x\"]}".into() });
        assert_eq!(calls[1].arguments, "{}");
    }

    #[test]
    fn an_answer_holds_at_most_its_calls() {
        let mut parts = CallParts::default();
        for index in 0..MAX_CALLS as u64 {
            parts.add(index, None, None, "").unwrap();
        }
        parts.add(3, None, None, "{}").unwrap();
        assert!(matches!(parts.add(MAX_CALLS as u64, None, None, ""), Err(WireError::TooManyCalls(_))));
    }
}
