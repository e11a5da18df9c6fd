//! A small client of the OCI distribution API (the parts isaac uses:
//! manifests, blobs, monolithic uploads) over reqwest, with the fetch rules
//! of [`crate::sources::net`].
//!
//! Every body read is bounded: a manifest at [`MAX_MANIFEST_BYTES`], a
//! token or an error answer at [`MAX_SMALL_BYTES`], a blob by its caller.
//! Authentication follows the registry's challenge (`WWW-Authenticate`):
//! the first request of an operation goes without credentials; on `401`,
//! `Basic` gets the registry's own credentials, `Bearer realm=...` gets a
//! token from the realm (a URL the registry chose, so fetched under the
//! rules of a redirect), with the credentials only when the realm is at the
//! registry's own scheme, host and port (else anonymously). Credentials are only ever sent to
//! the registry they are configured for ([`super::super::auth`]).

use std::sync::Mutex;

use base64::Engine;
use reqwest::header::{AUTHORIZATION, HeaderValue, WWW_AUTHENTICATE};
use reqwest::{Method, RequestBuilder, Response, StatusCode, Url};

use super::super::auth::{self, Credentials};
use super::super::net;
use super::Reference;

/// The largest manifest read (the OCI image spec's own recommendation).
pub const MAX_MANIFEST_BYTES: usize = 4 << 20;
/// The largest token answer or error body read.
pub const MAX_SMALL_BYTES: usize = 64 << 10;

/// Accepted manifest media types.
const ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

/// A request to the registry failed.
#[derive(Debug)]
pub enum Failed {
    /// The registry could not be reached (or the transfer broke off).
    Unreachable(String),
    /// It wants credentials, or refused the ones given.
    Denied(String),
    /// It does not have what was asked for.
    NotFound(String),
    /// Anything else it answered, or a body past its bound.
    Other(String),
}

/// One registry, for one operation.
pub struct Registry {
    /// Follows no redirect: its requests may carry credentials.
    http: reqwest::Client,
    /// Follows redirects: its requests never carry credentials.
    plain: reqwest::Client,
    base: Url,
    credentials: Credentials,
    /// Said with errors (a helper that was not run, an unscoped token).
    pub note: Option<String>,
    /// The `Authorization` earned by answering a challenge.
    earned: Mutex<Option<HeaderValue>>,
}

impl Registry {
    /// A client of `reference`'s registry: https, or plain http for a
    /// loopback registry.
    pub fn new(
        reference: &Reference,
        timeout: std::time::Duration,
        registries: &auth::RegistryAuth,
    ) -> Result<Self, Failed> {
        // Docker Hub's name and the address of its registry differ.
        let host = match reference.registry() {
            "docker.io" | "index.docker.io" => "registry-1.docker.io".to_owned(),
            other => other.to_owned(),
        };
        let scheme = if super::super::is_loopback_host(&host) { "http" } else { "https" };
        let base: Url = format!("{scheme}://{host}/")
            .parse()
            .map_err(|e| Failed::Other(format!("{host} is not a registry address: {e}")))?;
        let client_error = |e: reqwest::Error| Failed::Other(crate::error::one_line(&e));
        let http = net::direct_client(&base, timeout).map_err(client_error)?;
        let plain = net::client(&base, timeout).map_err(client_error)?;
        let (credentials, note) = auth::for_registry(registries, &host);
        Ok(Registry { http, plain, base, credentials, note, earned: Mutex::new(None) })
    }

    fn url(&self, path: &str) -> Url {
        self.base.join(path).unwrap_or_else(|_| self.base.clone())
    }

    /// Send the request `build` makes, answering one authentication
    /// challenge and following a redirect (of a GET or HEAD) without
    /// credentials; the response, whatever its status.
    async fn send(&self, build: impl Fn(&reqwest::Client) -> RequestBuilder) -> Result<Response, Failed> {
        let earned = self.earned.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let response = self.attach(build(&self.http), earned).send().await.map_err(unreachable)?;
        if response.status() != StatusCode::UNAUTHORIZED {
            return self.follow(response, &build).await;
        }
        let challenge = response.headers().get(WWW_AUTHENTICATE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let Some(header) = self.answer(challenge.as_deref()).await? else { return Ok(response) };
        *self.earned.lock().unwrap_or_else(|e| e.into_inner()) = Some(header.clone());
        let response = self.attach(build(&self.http), Some(header)).send().await.map_err(unreachable)?;
        self.follow(response, &build).await
    }

    /// Where `response` redirects a GET or HEAD (a blob on a CDN), the
    /// same request there, through the client that carries no credentials
    /// and keeps the redirect rules for any further hop.
    async fn follow(
        &self,
        response: Response,
        build: &impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<Response, Failed> {
        let location = response.headers().get(reqwest::header::LOCATION).and_then(|v| v.to_str().ok());
        let Some(location) = location.filter(|_| response.status().is_redirection()) else { return Ok(response) };
        let next = response.url().join(location).map_err(|e| Failed::Other(format!("a bad redirect: {e}")))?;
        net::check_pointed(&self.base, &next)
            .map_err(|why| Failed::Unreachable(format!("redirected to {next}, not followed: {why}")))?;
        let mut request = build(&self.plain).build().map_err(unreachable)?;
        if !matches!(*request.method(), Method::GET | Method::HEAD) {
            return Ok(response);
        }
        *request.url_mut() = next;
        request.headers_mut().remove(AUTHORIZATION);
        self.plain.execute(request).await.map_err(unreachable)
    }

    fn attach(&self, request: RequestBuilder, header: Option<HeaderValue>) -> RequestBuilder {
        match header {
            Some(header) => request.header(AUTHORIZATION, header),
            None => request,
        }
    }

    /// The `Authorization` that answers `challenge`, if any can.
    async fn answer(&self, challenge: Option<&str>) -> Result<Option<HeaderValue>, Failed> {
        let Some(challenge) = challenge else { return Ok(self.direct()) };
        let (scheme, params) = challenge.split_once(' ').unwrap_or((challenge, ""));
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Ok(self.direct());
        }
        if let Credentials::Bearer(_) = self.credentials {
            return Ok(self.direct());
        }
        let params = parse_params(params);
        let Some(realm) = params.iter().find(|(k, _)| k == "realm").map(|(_, v)| v) else { return Ok(None) };
        let mut realm: Url =
            realm.parse().map_err(|_| Failed::Denied(format!("its token service {realm:?} is not a URL")))?;
        // A server-chosen URL: the same rules as a redirect.
        net::check_pointed(&self.base, &realm)
            .map_err(|why| Failed::Denied(format!("its token service {realm} is not fetched: {why}")))?;
        for (key, value) in params.iter().filter(|(k, _)| k == "service" || k == "scope") {
            realm.query_pairs_mut().append_pair(key, value);
        }
        // Credentials go to the token service only at the registry's own
        // scheme, host and port.
        let own_host = realm.origin() == self.base.origin();
        let mut request = self.http.get(realm.clone());
        if own_host && let Some(header) = self.direct() {
            request = request.header(AUTHORIZATION, header);
        }
        let response = request.send().await.map_err(unreachable)?;
        if !response.status().is_success() {
            let status = response.status();
            return Err(Failed::Denied(format!(
                "its token service {} answered {status}",
                realm.origin().ascii_serialization()
            )));
        }
        let body = net::read_capped(response, MAX_SMALL_BYTES)
            .await
            .map_err(|why| Failed::Other(format!("its token answer: {why}")))?;
        #[derive(serde::Deserialize)]
        struct TokenAnswer {
            token: Option<String>,
            access_token: Option<String>,
        }
        let answer: TokenAnswer =
            serde_json::from_slice(&body).map_err(|e| Failed::Other(format!("its token answer is not JSON: {e}")))?;
        let token = answer
            .token
            .or(answer.access_token)
            .ok_or_else(|| Failed::Other("its token answer has no token".into()))?;
        Ok(HeaderValue::from_str(&format!("Bearer {token}")).ok())
    }

    /// The configured credentials as an `Authorization` header.
    fn direct(&self) -> Option<HeaderValue> {
        let text = match &self.credentials {
            Credentials::Anonymous => return None,
            Credentials::Basic(user, password) => {
                format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
            }
            Credentials::Bearer(token) => format!("Bearer {token}"),
        };
        let mut header = HeaderValue::from_str(&text).ok()?;
        header.set_sensitive(true);
        Some(header)
    }

    /// The manifest `version` (a tag or digest) of `repository`: its bytes
    /// (at most [`MAX_MANIFEST_BYTES`]) and their digest.
    pub async fn manifest(&self, repository: &str, version: &str) -> Result<(Vec<u8>, String), Failed> {
        let url = self.url(&format!("v2/{repository}/manifests/{version}"));
        let response = self.send(|c| c.get(url.clone()).header("accept", ACCEPT)).await?;
        let response = self.check(response, &format!("{repository}:{version}")).await?;
        let body = net::read_capped(response, MAX_MANIFEST_BYTES)
            .await
            .map_err(|why| Failed::Other(format!("its manifest is refused: {why}")))?;
        let digest = format!("sha256:{}", crate::digest::sha256_hex(&body));
        Ok((body, digest))
    }

    /// The digest of the manifest `version` of `repository`, as the
    /// registry says it (`HEAD`), else by reading it.
    pub async fn manifest_digest(&self, repository: &str, version: &str) -> Result<String, Failed> {
        let url = self.url(&format!("v2/{repository}/manifests/{version}"));
        let response = self.send(|c| c.head(url.clone()).header("accept", ACCEPT)).await?;
        let response = self.check(response, &format!("{repository}:{version}")).await?;
        let said = response.headers().get("docker-content-digest").and_then(|v| v.to_str().ok());
        match said.filter(|d| super::super::parse_sha256(d).is_ok()) {
            Some(digest) => Ok(digest.to_owned()),
            None => Ok(self.manifest(repository, version).await?.1),
        }
    }

    /// The blob `digest` of `repository`, as a response to stream.
    pub async fn blob(&self, repository: &str, digest: &str) -> Result<Response, Failed> {
        let url = self.url(&format!("v2/{repository}/blobs/{digest}"));
        let response = self.send(|c| c.get(url.clone())).await?;
        self.check(response, digest).await
    }

    /// Upload `data` as the blob `digest` of `repository` (monolithic), unless
    /// the registry has it.
    pub async fn push_blob(&self, repository: &str, digest: &str, data: &[u8]) -> Result<(), Failed> {
        let head = self.url(&format!("v2/{repository}/blobs/{digest}"));
        if self.send(|c| c.head(head.clone())).await?.status().is_success() {
            return Ok(());
        }
        let start = self.url(&format!("v2/{repository}/blobs/uploads/"));
        let response = self.send(|c| c.request(Method::POST, start.clone())).await?;
        let response = self.check(response, "an upload").await?;
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Failed::Other("it started an upload without a Location".into()))?;
        let mut put = self.url(location);
        if put.origin() != self.base.origin() {
            return Err(Failed::Other(format!(
                "it asked for the upload at another host, {}",
                put.origin().ascii_serialization()
            )));
        }
        put.query_pairs_mut().append_pair("digest", digest);
        let body = data.to_vec();
        let response = self
            .send(|c| c.put(put.clone()).header("content-type", "application/octet-stream").body(body.clone()))
            .await?;
        self.check(response, digest).await.map(drop)
    }

    /// Store `body` as the manifest `tag` of `repository`.
    pub async fn put_manifest(&self, repository: &str, tag: &str, body: &[u8], media_type: &str) -> Result<(), Failed> {
        let url = self.url(&format!("v2/{repository}/manifests/{tag}"));
        let body = body.to_vec();
        let response = self.send(|c| c.put(url.clone()).header("content-type", media_type).body(body.clone())).await?;
        self.check(response, &format!("{repository}:{tag}")).await.map(drop)
    }

    /// `response` if it succeeded; else what went wrong, from its status and
    /// (bounded) error body.
    async fn check(&self, response: Response, what: &str) -> Result<Response, Failed> {
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = net::read_capped(response, MAX_SMALL_BYTES).await.unwrap_or_default();
        let said = said(&body).unwrap_or_else(|| format!("HTTP {status}"));
        Err(match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Failed::Denied(said),
            StatusCode::NOT_FOUND => Failed::NotFound(format!("{what}: {said}")),
            _ => Failed::Other(format!("{what}: {said}")),
        })
    }
}

fn unreachable(e: reqwest::Error) -> Failed {
    Failed::Unreachable(crate::error::one_line(&e))
}

/// The errors of a distribution-spec error body: `CODE: message; ...`.
fn said(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Envelope {
        errors: Vec<Entry>,
    }
    #[derive(serde::Deserialize)]
    struct Entry {
        code: String,
        #[serde(default)]
        message: String,
    }
    let envelope: Envelope = serde_json::from_slice(body).ok()?;
    let said: Vec<String> = envelope.errors.iter().map(|e| format!("{}: {}", e.code, e.message)).collect();
    (!said.is_empty()).then(|| said.join("; "))
}

/// `key="value", key=value` pairs of a challenge.
fn parse_params(text: &str) -> Vec<(String, String)> {
    let mut params = Vec::new();
    let mut rest = text.trim();
    while let Some((key, after)) = rest.split_once('=') {
        let key = key.trim().trim_start_matches(',').trim().to_ascii_lowercase();
        let after = after.trim_start();
        let (value, next) = match after.strip_prefix('"') {
            Some(quoted) => match quoted.split_once('"') {
                Some((value, next)) => (value, next),
                None => (quoted, ""),
            },
            None => after.split_once(',').map_or((after, ""), |(v, n)| (v.trim(), n)),
        };
        params.push((key, value.to_owned()));
        rest = next.trim_start().trim_start_matches(',');
    }
    params
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_parse() {
        let params = parse_params(
            r#"realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#,
        );
        assert_eq!(
            params,
            vec![
                ("realm".to_owned(), "https://auth.example/token".to_owned()),
                ("service".to_owned(), "registry.example".to_owned()),
                ("scope".to_owned(), "repository:a/b:pull,push".to_owned()),
            ]
        );
        assert_eq!(
            parse_params("realm=x, service=y"),
            vec![("realm".into(), "x".into()), ("service".into(), "y".into())]
        );
    }

    #[test]
    fn error_bodies_are_read_as_the_spec_writes_them() {
        let body = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#;
        assert_eq!(said(body).unwrap(), "MANIFEST_UNKNOWN: manifest unknown");
        assert_eq!(said(b"<html>"), None);
    }
}
