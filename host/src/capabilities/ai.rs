//! `isaac:plugin/ai`: AI queries for plugins that were granted them, within
//! a budget per call (most requests, most tokens) that the host enforces by
//! reservations on every HTTP request sent (see [`crate::ai::caller`]).
//! Going over is an `over-budget` error the guest can handle, as is the
//! user's daily spending cap; a model the provider's config does not list is
//! `denied`. Answers are cached per plugin unless the config shares them. The guest blocks while the host awaits the
//! provider on tokio; the call's deadline covers the wait.

use std::sync::Arc;

use wasmtime::component::Linker;

use super::{CallData, Capability, GrantInputs, NoConfig, Refusal, View, Viewed, view};
use crate::ai::caller::AiPermission;
use crate::ai::{AiError, AiRequest, AiResponse, AiRouter, Caller, Message};
use crate::bindings::{self, AiHost, WitAiError, WitRequest, WitResponse, WitUsage};

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
pub struct AiCtx {
    router: Arc<AiRouter>,
    caller: Caller,
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

fn to_wit(error: AiError) -> WitAiError {
    match error {
        AiError::Budget { .. } | AiError::CallBudget(_) => WitAiError::OverBudget(error.to_string()),
        AiError::ModelNotAllowed { .. } => WitAiError::Denied,
        other => WitAiError::Provider(crate::error::one_line(&other)),
    }
}

impl Capability for AiCtx {
    const NAME: &'static str = "ai";
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
        AiCtx { router: grant.router.clone(), caller: Caller::plugin(grant.scope.clone(), grant.budget) }
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
}
