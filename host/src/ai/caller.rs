//! Who is asking: the user (`isaac ai`) or a plugin's call, with what that
//! caller may spend.
//!
//! A plugin's budget per call is kept as reservations: before each HTTP
//! request is sent (a retry is a request too) it takes one request and the
//! tokens that request may use (its estimated input and all the output it
//! is allowed, which is what is sent as `max_tokens`), and when the answer
//! arrives the reservation is settled to the usage the provider reported.
//! Concurrent requests (a batch, a fallback race) therefore can never
//! together pass the budget. A request that is cancelled in flight (a
//! fallback loser) keeps its reservation: the provider may bill it.

use std::sync::{Mutex, MutexGuard};

use super::{AiError, AiRequest, Usage};

/// The AI budget a plugin asks for, `[permissions] ai`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AiPermission {
    /// Most requests per call.
    pub max_requests: u32,
    /// Most tokens (in and out) per call.
    pub max_tokens: u64,
}

/// Tokens counted for each message besides its text (role, framing).
pub const MESSAGE_OVERHEAD_TOKENS: u64 = 8;

/// The input tokens `req` may use, at most: one per UTF-8 byte of its
/// messages (tool calls included) and of the tools it offers, plus
/// [`MESSAGE_OVERHEAD_TOKENS`] each. Tokenisers put several bytes in a
/// token, so this overestimates; settling corrects it.
pub fn input_estimate(req: &AiRequest) -> u64 {
    let calls = |m: &super::Message| -> usize {
        m.tool_calls.iter().map(|c| c.id.len() + c.name.len() + c.arguments.len()).sum()
    };
    let messages: u64 =
        req.messages.iter().map(|m| (m.content.len() + m.role.len() + calls(m)) as u64 + MESSAGE_OVERHEAD_TOKENS).sum();
    let tools: u64 = req
        .tools
        .iter()
        .map(|t| (t.name.len() + t.description.len() + t.parameters.to_string().len()) as u64 + MESSAGE_OVERHEAD_TOKENS)
        .sum();
    messages + tools
}

/// Who sends a query.
#[derive(Debug)]
pub struct Caller {
    /// The response-cache scope: answers are shared only within one scope.
    pub(crate) scope: String,
    /// The budget of a plugin's call; `None` for the user.
    pub(crate) budget: Option<CallBudget>,
}

impl Caller {
    /// The user, from the CLI: no per-call budget, any model.
    pub fn user() -> Self {
        Caller { scope: "user".to_owned(), budget: None }
    }

    /// One call of plugin `name`, within `budget`, its answers cached in
    /// `scope` (its own, unless the config shares the response cache).
    pub fn plugin(scope: String, budget: AiPermission) -> Self {
        Caller { scope, budget: Some(CallBudget::new(budget)) }
    }

    /// Whether the caller may name a model its provider's config does not
    /// list (only the user may).
    pub fn any_model(&self) -> bool {
        self.budget.is_none()
    }
}

/// What one request took from a budget.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reservation {
    /// Input tokens reserved (the estimate).
    pub input: u64,
    /// Output tokens reserved: the request's `max_tokens`.
    pub output: u64,
}

impl Reservation {
    /// Both together.
    pub fn tokens(&self) -> u64 {
        self.input + self.output
    }
}

/// A plugin call's AI budget, as reservations.
#[derive(Debug)]
pub struct CallBudget {
    limit: AiPermission,
    used: Mutex<Used>,
}

#[derive(Debug, Default)]
struct Used {
    requests: u32,
    tokens: u64,
}

impl CallBudget {
    /// A fresh budget of `limit`.
    pub fn new(limit: AiPermission) -> Self {
        CallBudget { limit, used: Mutex::new(Used::default()) }
    }

    fn used(&self) -> MutexGuard<'_, Used> {
        self.used.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Requests still allowed.
    pub fn requests_left(&self) -> u32 {
        self.limit.max_requests.saturating_sub(self.used().requests)
    }

    /// Take one request and its tokens for `req`, whose output would be
    /// `wanted` tokens at most: the output reserved is cut to what is left
    /// after the input estimate.
    pub fn reserve(&self, req: &AiRequest, wanted: u32) -> Result<Reservation, AiError> {
        let mut used = self.used();
        if used.requests >= self.limit.max_requests {
            return Err(AiError::CallBudget(format!(
                "this call may send at most {} AI requests (the plugin's `ai.max_requests`)",
                self.limit.max_requests
            )));
        }
        let left = self.limit.max_tokens.saturating_sub(used.tokens);
        let input = input_estimate(req);
        if input >= left {
            return Err(AiError::CallBudget(format!(
                "this call may use at most {} AI tokens (the plugin's `ai.max_tokens`), and this request may need {input} of the {left} left",
                self.limit.max_tokens
            )));
        }
        let output = u64::from(wanted).min(left - input);
        used.requests += 1;
        used.tokens += input + output;
        Ok(Reservation { input, output })
    }

    /// Give back all of `reservation`, the request too: it was never sent.
    pub fn release(&self, reservation: Reservation) {
        let mut used = self.used();
        used.requests = used.requests.saturating_sub(1);
        used.tokens = used.tokens.saturating_sub(reservation.tokens());
    }

    /// Settle `reservation` to what the provider reported (`None`: no
    /// answer, nothing used besides the request).
    pub fn settle(&self, reservation: Reservation, usage: Option<Usage>) {
        let mut used = self.used();
        let actual = usage.map_or(0, |u| u.input_tokens + u.output_tokens);
        used.tokens = used.tokens.saturating_sub(reservation.tokens()).saturating_add(actual);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_bound_concurrent_requests() {
        let budget = CallBudget::new(AiPermission { max_requests: 3, max_tokens: 1000 });
        let req = AiRequest::prompt("hello"); // 5 + 4 + 8 = 17 input tokens
        let a = budget.reserve(&req, 600).unwrap();
        assert_eq!(a, Reservation { input: 17, output: 600 });
        // The second may only have what is left.
        let b = budget.reserve(&req, 600).unwrap();
        assert_eq!(b.output, 1000 - 617 - 17);
        assert!(budget.reserve(&req, 600).unwrap_err().to_string().contains("ai.max_tokens"));
        // Settling to the real usage frees the rest.
        budget.settle(a, Some(Usage { input_tokens: 5, output_tokens: 20 }));
        budget.settle(b, None);
        let c = budget.reserve(&req, 600).unwrap();
        assert_eq!(c.output, 600);
        assert!(budget.reserve(&req, 1).unwrap_err().to_string().contains("at most 3 AI requests"));
        assert_eq!(budget.requests_left(), 0);
    }
}
