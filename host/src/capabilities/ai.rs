//! `isaac:plugin/ai`: AI queries for plugins that were granted them, within
//! a budget per call (most requests, most tokens) that the host enforces.
//! Going over is an `over-budget` error the guest can handle, as is the
//! user's daily spending cap. The guest blocks while the host awaits the
//! provider on tokio; the call's deadline covers the wait.

use std::sync::Arc;

use crate::ai::{AiError, AiRequest, AiResponse, AiRouter, Message};
use crate::bindings::{AiHost, WitAiError, WitRequest, WitResponse, WitUsage};
use crate::manifest::AiPermission;
use crate::sandbox::HostState;

/// A plugin's access to the AI router for one call, with what it has used.
#[derive(Clone)]
pub struct AiAccess {
    router: Arc<AiRouter>,
    budget: AiPermission,
    requests: u32,
    tokens: u64,
}

impl std::fmt::Debug for AiAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AiAccess").field("budget", &self.budget).finish_non_exhaustive()
    }
}

impl AiAccess {
    /// Access to `router` within `budget` per call.
    pub fn new(router: Arc<AiRouter>, budget: AiPermission) -> Self {
        AiAccess { router, budget, requests: 0, tokens: 0 }
    }

    /// Take `n` requests from the budget, and return the request with its
    /// output capped at the tokens left.
    fn reserve(&mut self, req: WitRequest) -> Result<AiRequest, WitAiError> {
        if self.requests >= self.budget.max_requests {
            return Err(WitAiError::OverBudget(format!(
                "this call may send at most {} AI requests (the plugin's `ai.max_requests`)",
                self.budget.max_requests
            )));
        }
        let left = self.budget.max_tokens.saturating_sub(self.tokens);
        if left == 0 {
            return Err(WitAiError::OverBudget(format!(
                "this call may use at most {} AI tokens (the plugin's `ai.max_tokens`)",
                self.budget.max_tokens
            )));
        }
        self.requests += 1;
        let cap = u32::try_from(left).unwrap_or(u32::MAX);
        Ok(AiRequest {
            messages: req.messages.into_iter().map(|m| Message { role: m.role, content: m.content }).collect(),
            provider: None,
            model: req.model,
            max_tokens: Some(req.max_tokens.map_or(cap, |n| n.min(cap))),
            temperature: req.temperature,
        })
    }

    fn account(&mut self, result: Result<AiResponse, AiError>) -> Result<WitResponse, WitAiError> {
        let answer = result.map_err(to_wit)?;
        if !answer.cached {
            self.tokens += answer.usage.input_tokens + answer.usage.output_tokens;
        }
        let u32_of = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
        Ok(WitResponse {
            text: answer.text,
            provider: answer.provider,
            model: answer.model,
            cached: answer.cached,
            usage: WitUsage {
                input_tokens: u32_of(answer.usage.input_tokens),
                output_tokens: u32_of(answer.usage.output_tokens),
            },
            latency_ms: answer.latency_ms.round() as u32,
        })
    }
}

fn to_wit(error: AiError) -> WitAiError {
    match error {
        AiError::Budget { .. } => WitAiError::OverBudget(error.to_string()),
        other => WitAiError::Provider(other.to_string()),
    }
}

impl HostState {
    fn ai_access(&mut self) -> Result<&mut AiAccess, WitAiError> {
        self.ai.as_mut().ok_or(WitAiError::Denied)
    }
}

impl AiHost for HostState {
    async fn query(&mut self, req: WitRequest) -> Result<WitResponse, WitAiError> {
        let access = self.ai_access()?;
        let req = access.reserve(req)?;
        let result = access.router.clone().query(&req).await;
        access.account(result)
    }

    async fn batch(&mut self, reqs: Vec<WitRequest>) -> Vec<Result<WitResponse, WitAiError>> {
        let Ok(access) = self.ai_access() else { return reqs.iter().map(|_| Err(WitAiError::Denied)).collect() };
        // Requests past the budget fail on their own; the rest run at once.
        let reserved: Vec<Result<AiRequest, WitAiError>> = reqs.into_iter().map(|r| access.reserve(r)).collect();
        let runnable: Vec<AiRequest> = reserved.iter().filter_map(|r| r.as_ref().ok().cloned()).collect();
        let mut answers = access.router.clone().batch(&runnable).await.into_iter();
        reserved
            .into_iter()
            .map(|r| match r {
                Ok(_) => access.account(answers.next().expect("one answer per runnable request")),
                Err(e) => Err(e),
            })
            .collect()
    }

    async fn query_with_fallback(
        &mut self,
        req: WitRequest,
        providers: Vec<String>,
    ) -> Result<WitResponse, WitAiError> {
        let access = self.ai_access()?;
        let req = access.reserve(req)?;
        let result = access.router.clone().query_with_fallback(&req, &providers).await;
        access.account(result)
    }
}
