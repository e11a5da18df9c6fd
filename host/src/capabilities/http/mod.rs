//! `wasi:http/outgoing-handler`: outbound HTTP for plugins granted `http`,
//! only to the hosts they list. The host side is wasmtime-wasi-http's,
//! linked for every plugin; isaac's [`Hooks`] decide and send every
//! request:
//!
//! - scheme, host and port must match an `allowed_hosts` entry
//!   ([`crate::allowlist`]: IDNA, lower case, no trailing dot; `*.` only as
//!   the leftmost label);
//! - the name is resolved once, by isaac; every address is checked and the
//!   connection is made to a checked address ([`send`]): an address no name
//!   may lead to (loopback, private, link-local, ...) is reached only through
//!   an entry naming exactly it;
//! - the guest may not set `host` (or any hop-by-hop header); redirects are
//!   not followed; proxy variables are not read;
//! - per call: at most `max_requests` requests, `max_request_kb` of request
//!   bodies and `max_response_kb` of response bodies; the call's deadline
//!   covers connecting, headers and body;
//! - TLS with rustls, SNI set to the host name, the webpki roots (plus
//!   `[http] ca_file`).
//!
//! A refusal is `HTTP-request-denied` (or the matching error code) for the
//! guest, which goes on; `isaac -v` logs a line naming the host and why.

mod permission;
mod send;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use http::uri::Scheme as UriScheme;
use wasmtime::component::Linker;
use wasmtime_wasi_http::p2::bindings::http::{outgoing_handler, types};
use wasmtime_wasi_http::{WasiBody, WasiHttp, WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks};

use super::{CallData, Capability, GrantInputs};
use crate::allowlist::{AllowedHost, Scheme, Target};
use crate::terminal::{self, Lines};

pub use permission::HttpPermission;
pub use send::{HttpConfig, HttpNet, NetError};

/// The most resource-table entries (requests, bodies, streams, fields...) a
/// call may hold at once.
pub const MAX_TABLE_ENTRIES: usize = 10_000;

/// What a plugin was granted: where it may send requests, and how much.
#[derive(Clone)]
pub struct HttpGrant {
    plugin: Arc<str>,
    allowed: Arc<[AllowedHost]>,
    max_requests: u32,
    max_request_bytes: u64,
    max_response_bytes: u64,
    net: Arc<HttpNet>,
}

impl std::fmt::Debug for HttpGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let allowed: Vec<String> = self.allowed.iter().map(ToString::to_string).collect();
        f.debug_struct("HttpGrant").field("allowed", &allowed).field("max_requests", &self.max_requests).finish()
    }
}

/// One call's outbound HTTP: wasi-http's context and isaac's hooks.
pub struct HttpCtx {
    ctx: WasiHttpCtx,
    hooks: Hooks,
}

impl HttpCtx {
    /// The context of a call that may send nothing.
    fn denied() -> Self {
        HttpCtx { ctx: WasiHttpCtx::new(), hooks: Hooks { grant: None, sent: 0, usage: Arc::default() } }
    }
}

impl Capability for HttpCtx {
    const NAME: &'static str = "http";
    const INTERFACES: &'static [&'static str] = &["wasi:http/outgoing-handler", "wasi:http/types"];
    const NEEDS_IO: bool = true;
    /// Requests go to servers.
    const OFF_MACHINE: bool = true;
    /// `http = { allowed_hosts, max_requests, max_request_kb, max_response_kb }`.
    type Permission = Option<HttpPermission>;
    /// `[http]`: TLS roots and fixed name resolutions.
    type Config = HttpConfig;
    type Grant = HttpGrant;

    fn describe(asked: &Option<HttpPermission>) -> Vec<String> {
        let Some(http) = asked else { return Vec::new() };
        let mut lines: Vec<String> =
            http.allowed_hosts.iter().map(|h| format!("send requests to {}", shown(h))).collect();
        lines.push(format!(
            "up to {} requests, {} KiB sent and {} KiB received per call",
            http.max_requests, http.max_request_kb, http.max_response_kb
        ));
        lines
    }

    /// Granted `http`: its allow-list and caps, sent through the host's
    /// network settings. A list that does not parse (the manifest was
    /// checked when read) or no network settings is no access, with a
    /// warning.
    fn grant(asked: &Option<HttpPermission>, inputs: &GrantInputs<'_>) -> Option<HttpGrant> {
        let asked = asked.as_ref()?;
        let warn = |why: String| tracing::warn!("plugin `{}` gets no HTTP access: {why}", inputs.plugin);
        let allowed: Result<Vec<AllowedHost>, _> = asked.allowed_hosts.iter().map(|h| AllowedHost::parse(h)).collect();
        let allowed = allowed.map_err(|e| warn(e.to_string())).ok()?;
        let net = (inputs.http)().map_err(|e| warn(crate::error::one_line(&e))).ok()?;
        Some(HttpGrant {
            plugin: Arc::from(inputs.plugin),
            allowed: allowed.into(),
            max_requests: asked.max_requests,
            max_request_bytes: asked.max_request_kb.saturating_mul(1024),
            max_response_bytes: asked.max_response_kb.saturating_mul(1024),
            net,
        })
    }

    fn open(grant: &HttpGrant) -> Self {
        HttpCtx { ctx: WasiHttpCtx::new(), hooks: Hooks { grant: Some(grant.clone()), sent: 0, usage: Arc::default() } }
    }

    /// wasi-http is linked for every plugin: a call without the grant gets
    /// a context that refuses every request.
    fn add_to_linker<T: CallData>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
        outgoing_handler::add_to_linker::<T, WasiHttp>(linker, view::<T>)?;
        types::add_to_linker::<T, WasiHttp>(linker, &Default::default(), view::<T>)
    }
}

/// An `allowed_hosts` entry as the review shows it: as written when it is
/// ASCII, else as enforced (its IDNA form) with what was written beside it,
/// so a look-alike (a Cyrillic `а` in `аpple.com`) shows as the name it
/// really allows.
fn shown(entry: &str) -> String {
    match AllowedHost::parse(entry) {
        Ok(host) if !entry.is_ascii() => format!("{host} (written {entry:?})"),
        _ => entry.to_owned(),
    }
}

/// The call's wasi-http view: its context (a refusing one if not granted)
/// and resource table.
fn view<T: CallData>(data: &mut T) -> WasiHttpCtxView<'_> {
    let (contexts, table) = data.parts();
    let http = contexts.http.get_or_insert_with(HttpCtx::denied);
    WasiHttpCtxView { ctx: &mut http.ctx, table, hooks: &mut http.hooks }
}

/// Bytes one call has sent and received in bodies.
#[derive(Debug, Default)]
pub(crate) struct Usage {
    pub(crate) sent: AtomicU64,
    pub(crate) received: AtomicU64,
}

/// isaac's decisions for one call.
struct Hooks {
    grant: Option<HttpGrant>,
    sent: u32,
    usage: Arc<Usage>,
}

/// Why a request was refused before anything was sent, logged (`-v`).
fn denied(plugin: &str, target: &str, why: &str) -> wasmtime_wasi_http::Error {
    let target = terminal::clean(target, Lines::One);
    match plugin {
        "" => tracing::info!("HTTP request to {target} denied: {why}"),
        plugin => tracing::info!("plugin `{plugin}`: HTTP request to {target} denied: {why}"),
    }
    wasmtime_wasi_http::Error::HttpRequestDenied
}

impl Hooks {
    /// The checks that need no network: the grant, the count, the allow-list.
    fn check(&mut self, request: &http::Request<WasiBody>) -> Result<Checked, wasmtime_wasi_http::Error> {
        let uri = request.uri();
        let shown = uri.to_string();
        let Some(grant) = &self.grant else { return Err(denied("", &shown, "the plugin was not granted `http`")) };
        let plugin = &grant.plugin;
        let scheme = match uri.scheme() {
            Some(s) if *s == UriScheme::HTTP => Scheme::Http,
            Some(s) if *s == UriScheme::HTTPS => Scheme::Https,
            _ => return Err(denied(plugin, &shown, "only http and https")),
        };
        let authority = uri.authority().ok_or_else(|| denied(plugin, &shown, "no host"))?;
        // `user@host`: a front that splits the authority otherwise than we
        // do would route by the part before the `@`.
        if authority.as_str().contains('@') {
            return Err(denied(plugin, &shown, "a URL with user information (`user@`) is refused"));
        }
        let target = Target::parse(authority.host()).map_err(|why| denied(plugin, &shown, &why.to_string()))?;
        let port = authority.port_u16().unwrap_or(scheme.default_port());
        let Some(entry) = grant.allowed.iter().find(|a| a.allows(scheme, &target, port)) else {
            return Err(denied(plugin, &shown, "not in its allowed_hosts"));
        };
        // The body's declared length: a guest's `content-length`.
        let length = request.headers().get(http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse().ok());
        if length
            .is_some_and(|n: u64| n.saturating_add(self.usage.sent.load(Ordering::Relaxed)) > grant.max_request_bytes)
        {
            denied(
                plugin,
                &shown,
                &format!("its body would pass {} KiB of requests per call", grant.max_request_bytes >> 10),
            );
            return Err(wasmtime_wasi_http::Error::HttpRequestBodySize(Some(grant.max_request_bytes)));
        }
        if self.sent >= grant.max_requests {
            return Err(denied(plugin, &shown, &format!("its {} requests per call are used", grant.max_requests)));
        }
        self.sent += 1;
        Ok(Checked { grant: grant.clone(), entry: entry.clone(), scheme, target, port, shown })
    }
}

/// A request that passed the checks that need no network.
struct Checked {
    grant: HttpGrant,
    entry: AllowedHost,
    scheme: Scheme,
    target: Target,
    port: u16,
    shown: String,
}

type SendFuture = Box<
    dyn Future<
            Output = Result<
                (http::Response<WasiBody>, Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>),
                wasmtime_wasi_http::Error,
            >,
        > + Send,
>;

impl WasiHttpHooks for Hooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<wasmtime_wasi_http::RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
    ) -> SendFuture {
        let checked = self.check(&request);
        let usage = self.usage.clone();
        Box::new(async move {
            let checked = checked?;
            send::send(request, options, &checked, usage).await
        })
    }
}

impl Checked {
    /// The `Host` header: the checked target, and its port unless it is
    /// the scheme's default.
    fn host_header(&self) -> String {
        match self.port == self.scheme.default_port() {
            true => self.target.to_string(),
            false => format!("{}:{}", self.target, self.port),
        }
    }

    fn deny(&self, why: &str) -> wasmtime_wasi_http::Error {
        denied(&self.grant.plugin, &self.shown, why)
    }
}

/// Add `more` bytes to `usage`; whether that passes `cap`.
pub(crate) fn over(usage: &AtomicU64, more: u64, cap: u64) -> bool {
    usage.fetch_add(more, Ordering::Relaxed).saturating_add(more) > cap
}

/// Whether a request to `uri`, sent by a call not granted `http`, is
/// refused before anything is sent.
#[cfg(test)]
pub(crate) async fn ungranted_refuses(uri: &'static str) -> bool {
    use http_body_util::BodyExt;
    let body = http_body_util::Empty::new().map_err(|never: std::convert::Infallible| match never {}).boxed_unsync();
    let request = http::Request::get(uri).body(body).unwrap();
    let mut ctx = HttpCtx::denied();
    let sent = WasiHttpHooks::send_request(&mut ctx.hooks, request, None, Box::new(async { Ok(()) }));
    matches!(Box::into_pin(sent).await, Err(wasmtime_wasi_http::Error::HttpRequestDenied))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_review_shows_a_look_alike_host_as_the_name_it_allows() {
        assert_eq!(super::shown("https://apple.com"), "https://apple.com");
        let shown = super::shown("https://\u{430}pple.com");
        assert!(shown.starts_with("https://xn--pple-43d.com:443 (written"), "{shown}");
    }
}
