//! `isaac:plugin/ai`: AI queries for plugins that were granted them, within
//! a budget per call (most requests, most tokens) that the host enforces by
//! reservations on every HTTP request sent (see [`crate::ai::caller`]).
//! Going over is an `over-budget` error the guest can handle, as is the
//! user's daily spending cap; a model the provider's config does not list is
//! `denied`. Answers are cached per plugin unless the config shares them.
//! The guest blocks while the host awaits the provider on tokio; the call's
//! deadline covers the wait. A streamed answer ([`answer`]) is pulled piece
//! by piece through a resource.

mod answer;

use std::collections::HashMap;
use std::sync::Arc;

use wasmtime::component::{Linker, Resource};

use super::{CallData, Capability, GrantInputs, NoConfig, Refusal, View, Viewed, view};
use crate::ai::caller::AiPermission;
use crate::ai::{AiError, AiRequest, AiResponse, AiRouter, Caller, Message};
use crate::bindings::{
    self, AiAnswerHost, AiHost, WitAiError, WitAnswer, WitRequest, WitResponse, WitSummary, WitUsage,
};
use answer::Answer;

/// The most streamed answers one call may hold open at once.
pub const MAX_OPEN_ANSWERS: usize = 16;

/// What a plugin was granted: the router, its budget per call, and the
/// scope its answers are cached in. Each call opens a fresh [`AiCtx`].
#[derive(Clone)]
pub struct AiGrant {
    router: Arc<AiRouter>,
    budget: AiPermission,
    scope: String,
}

impl std::fmt::Debug for AiGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AiGrant").field("budget", &self.budget).field("scope", &self.scope).finish_non_exhaustive()
    }
}

impl AiGrant {
    /// Plugin `plugin`'s access to `router` within `budget` per call.
    pub fn new(router: Arc<AiRouter>, plugin: &str, budget: AiPermission) -> Self {
        AiGrant { router, budget, scope: format!("plugin/{plugin}") }
    }
}

/// One call's access: every request it sends is reserved from its budget.
/// Its open streamed answers end with it (each cancels its request).
pub struct AiCtx {
    router: Arc<AiRouter>,
    caller: Arc<Caller>,
    answers: HashMap<u32, Answer>,
    next_answer: u32,
}

fn request(req: WitRequest) -> AiRequest {
    AiRequest {
        messages: req.messages.into_iter().map(|m| Message::new(m.role, m.content)).collect(),
        provider: None,
        model: req.model,
        max_tokens: req.max_tokens,
        temperature: req.temperature,
        tools: Vec::new(),
    }
}

fn response(result: Result<AiResponse, AiError>) -> Result<WitResponse, WitAiError> {
    let answer = result.map_err(to_wit)?;
    let summary = summary(&answer);
    Ok(WitResponse {
        text: answer.text,
        provider: summary.provider,
        model: summary.model,
        cached: summary.cached,
        usage: summary.usage,
        latency_ms: summary.latency_ms,
    })
}

/// Everything of `answer` but its text.
fn summary(answer: &AiResponse) -> WitSummary {
    let u32_of = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
    WitSummary {
        provider: answer.provider.clone(),
        model: answer.model.clone(),
        cached: answer.cached,
        usage: WitUsage {
            input_tokens: u32_of(answer.usage.input_tokens),
            output_tokens: u32_of(answer.usage.output_tokens),
        },
        latency_ms: answer.latency_ms.round() as u32,
    }
}

fn to_wit(error: AiError) -> WitAiError {
    match error {
        AiError::Budget { .. } | AiError::CallBudget(_) => WitAiError::OverBudget(error.to_string()),
        AiError::ModelNotAllowed { .. } => WitAiError::Denied,
        other => WitAiError::Provider(crate::error::one_line(&other)),
    }
}

impl Capability for AiCtx {
    const NAME: &'static str = "ai";
    const INTERFACES: &'static [&'static str] = &["isaac:plugin/ai"];
    const NEEDS_IO: bool = true;
    /// Prompts go to a provider.
    const OFF_MACHINE: bool = true;
    /// `ai = { max_requests, max_tokens }`.
    type Permission = Option<AiPermission>;
    type Config = NoConfig;
    type Grant = AiGrant;

    fn describe(asked: &Option<AiPermission>) -> Vec<String> {
        let line =
            |ai: &AiPermission| format!("up to {} requests and {} tokens per call", ai.max_requests, ai.max_tokens);
        asked.iter().map(line).collect()
    }

    /// Granted `ai`: the router, within the granted budget per call. No
    /// router (a config that cannot build one) is no access, with a warning.
    fn grant(asked: &Option<AiPermission>, inputs: &GrantInputs<'_>) -> Option<AiGrant> {
        let budget = (*asked)?;
        match (inputs.ai)() {
            Ok(router) => Some(AiGrant::new(router, inputs.plugin, budget)),
            Err(e) => {
                tracing::warn!("plugin `{}` gets no AI access: {}", inputs.plugin, crate::error::OneLine(&e));
                None
            }
        }
    }

    /// A fresh budget for each call.
    fn open(grant: &AiGrant) -> Self {
        AiCtx {
            router: grant.router.clone(),
            caller: Arc::new(Caller::plugin(grant.scope.clone(), grant.budget)),
            answers: HashMap::new(),
            next_answer: 0,
        }
    }

    fn add_to_linker<T: CallData>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
        bindings::add_ai::<T, Viewed<Self>>(linker, view::<T, Self>)
    }
}

impl Refusal for WitAiError {
    fn refused() -> Self {
        WitAiError::Denied
    }
}

impl AiHost for View<'_, AiCtx> {
    async fn query(&mut self, req: WitRequest) -> Result<WitResponse, WitAiError> {
        let access = self.access::<WitAiError>()?;
        response(access.router.query_for(&request(req), &access.caller).await)
    }

    async fn batch(&mut self, reqs: Vec<WitRequest>) -> Vec<Result<WitResponse, WitAiError>> {
        let access = match self.access::<WitAiError>() {
            Ok(access) => access,
            Err(refused) => return reqs.iter().map(|_| Err(refused.clone())).collect(),
        };
        let reqs: Vec<AiRequest> = reqs.into_iter().map(request).collect();
        access.router.batch_for(&reqs, &access.caller).await.into_iter().map(response).collect()
    }

    async fn query_with_fallback(
        &mut self,
        req: WitRequest,
        providers: Vec<String>,
    ) -> Result<WitResponse, WitAiError> {
        let access = self.access::<WitAiError>()?;
        response(access.router.query_with_fallback_for(&request(req), &providers, &access.caller).await)
    }

    async fn query_stream(&mut self, req: WitRequest) -> Result<Resource<WitAnswer>, WitAiError> {
        let access = self.access::<WitAiError>()?;
        if access.answers.len() >= MAX_OPEN_ANSWERS {
            return Err(WitAiError::OverBudget(format!(
                "more than {MAX_OPEN_ANSWERS} streamed answers open at once (drop one first)"
            )));
        }
        let id = access.next_answer;
        access.next_answer = access.next_answer.wrapping_add(1);
        access.answers.insert(id, Answer::start(access.router.clone(), request(req), access.caller.clone()));
        Ok(Resource::new_own(id))
    }
}

impl AiAnswerHost for View<'_, AiCtx> {
    async fn next(&mut self, answer: Resource<WitAnswer>) -> Result<Option<String>, WitAiError> {
        let access = self.access::<WitAiError>()?;
        match access.answers.get_mut(&answer.rep()) {
            Some(answer) => answer.next().await,
            None => Err(WitAiError::Provider("this answer is closed".to_owned())),
        }
    }

    async fn summary(&mut self, answer: Resource<WitAnswer>) -> Option<WitSummary> {
        let access = self.get()?;
        access.answers.get(&answer.rep()).and_then(Answer::summary)
    }

    /// Dropping an answer cancels its request if it is still running.
    async fn drop(&mut self, answer: Resource<WitAnswer>) -> wasmtime::Result<()> {
        if let Some(access) = self.get() {
            access.answers.remove(&answer.rep());
        }
        Ok(())
    }
}
