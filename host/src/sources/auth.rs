//! Registry credentials, each scoped to the registry it was issued for:
//!
//! - `ISAAC_REGISTRY_TOKEN=HOST=TOKEN` (several as `HOST=TOKEN,HOST=TOKEN`):
//!   a bearer token for the registry `HOST` (`ghcr.io`, `localhost:5000`)
//!   and no other. A value that names no registry is ignored, with a
//!   warning: a token must say where it may go;
//! - else the Docker credentials file (`$DOCKER_CONFIG/config.json`, else
//!   `~/.docker/config.json`, as `docker login` writes it): its `auths`
//!   entry for exactly that registry;
//! - else anonymous.
//!
//! A credential is attached only to requests for its registry's own host
//! and port (and to its token service when that is at the same scheme,
//! host and port); a
//! redirect elsewhere carries none ([`super::net`]). Credential helpers
//! (`credsStore`, `credHelpers`) are never run: isaac does not start
//! programs a config file names. A registry whose credentials live only in
//! a helper is reached anonymously, and an authentication error says how to
//! give a token instead.

use base64::Engine;
use serde::Deserialize;

pub use crate::settings::{RegistryAuth, TOKEN_VAR};

/// How to authenticate to one registry.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// Nothing configured.
    Anonymous,
    /// A user name and password (Docker's `auths`).
    Basic(String, String),
    /// A bearer token (`ISAAC_REGISTRY_TOKEN`).
    Bearer(String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Credentials::Anonymous => "Anonymous",
            Credentials::Basic(..) => "Basic(..)",
            Credentials::Bearer(_) => "Bearer(..)",
        })
    }
}

/// The credentials of `registry` (`host[:port]`), and a note for errors
/// (credentials in a helper that is not run, a token naming no registry).
pub fn for_registry(auth: &RegistryAuth, registry: &str) -> (Credentials, Option<String>) {
    let (token, mut note) = match auth.tokens.read() {
        Some(value) => token_for(&value, registry),
        None => (None, None),
    };
    if let Some(token) = token {
        return (Credentials::Bearer(token), None);
    }
    let Some(file) = &auth.docker_config else { return (Credentials::Anonymous, note) };
    let Ok(text) = std::fs::read_to_string(file) else { return (Credentials::Anonymous, note) };
    match serde_json::from_str::<DockerConfig>(&text) {
        Ok(config) => {
            let (credentials, helper) = config.auth_for(registry, file);
            (credentials, helper.or(note))
        }
        Err(e) => {
            note =
                Some(format!("{} could not be read ({e}); set {TOKEN_VAR}={registry}=TOKEN instead", file.display()));
            (Credentials::Anonymous, note)
        }
    }
}

/// The token `value` (`HOST=TOKEN[,HOST=TOKEN...]`) gives `registry`, and
/// a note when part of it names no registry.
fn token_for(value: &str, registry: &str) -> (Option<String>, Option<String>) {
    let mut token = None;
    let mut unscoped = false;
    for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        match entry.split_once('=') {
            Some((host, secret)) if !host.is_empty() && !host.contains(['/', ' ']) && !secret.is_empty() => {
                if same_registry(host, registry) && token.is_none() {
                    token = Some(secret.to_owned());
                }
            }
            _ => unscoped = true,
        }
    }
    let note = unscoped.then(|| {
        format!("{TOKEN_VAR} holds a token that names no registry, which is never sent anywhere: write it as {TOKEN_VAR}=REGISTRY=TOKEN")
    });
    (token, note)
}

/// Whether two `host[:port]` spellings name the same registry.
fn same_registry(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DockerConfig {
    auths: std::collections::BTreeMap<String, DockerAuth>,
    #[serde(rename = "credsStore")]
    creds_store: Option<String>,
    #[serde(rename = "credHelpers")]
    cred_helpers: std::collections::BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DockerAuth {
    auth: Option<String>,
    username: Option<String>,
    password: Option<String>,
}

impl DockerConfig {
    fn auth_for(&self, registry: &str, file: &std::path::Path) -> (Credentials, Option<String>) {
        // `docker login` keys an entry by the registry, sometimes as a URL:
        // the host and port must be exactly the registry's.
        let host_of = |key: &str| {
            let rest = key.strip_prefix("https://").or_else(|| key.strip_prefix("http://")).unwrap_or(key);
            rest.split('/').next().unwrap_or_default().to_owned()
        };
        let entry = self.auths.iter().find(|(key, _)| same_registry(&host_of(key), registry)).map(|(_, e)| e);
        if let Some((user, password)) = entry.and_then(DockerAuth::credentials) {
            return (Credentials::Basic(user, password), None);
        }
        let helper = self.cred_helpers.get(registry).or(self.creds_store.as_ref());
        let note = helper.map(|h| {
            format!(
                "{} keeps the credentials of {registry} in the helper `docker-credential-{h}`, which isaac does not run",
                file.display()
            )
        });
        (Credentials::Anonymous, note)
    }
}

impl DockerAuth {
    fn credentials(&self) -> Option<(String, String)> {
        if let (Some(user), Some(password)) = (&self.username, &self.password) {
            return Some((user.clone(), password.clone()));
        }
        let decoded = base64::engine::general_purpose::STANDARD.decode(self.auth.as_ref()?.trim()).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (user, password) = text.split_once(':')?;
        Some((user.to_owned(), password.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_config_entries_are_by_exact_host() {
        let config: DockerConfig = serde_json::from_str(
            r#"{"auths": {"https://reg.example:5000": {"auth": "dXNlcjpwYXNz"}}, "credHelpers": {"ghcr.io": "gh"}}"#,
        )
        .unwrap();
        let file = std::path::Path::new("/x/config.json");
        let (auth, note) = config.auth_for("reg.example:5000", file);
        assert_eq!(auth, Credentials::Basic("user".into(), "pass".into()));
        assert!(note.is_none());
        for other in ["reg.example", "reg.example:5001", "evil.reg.example:5000", "reg.example:5000.evil"] {
            assert_eq!(config.auth_for(other, file).0, Credentials::Anonymous, "{other}");
        }
        let (auth, note) = config.auth_for("ghcr.io", file);
        assert_eq!(auth, Credentials::Anonymous);
        assert!(note.unwrap().contains("docker-credential-gh"));
        assert!(config.auth_for("other.example", file).1.is_none());
    }

    #[test]
    fn a_token_goes_only_to_the_registry_it_names() {
        assert_eq!(token_for("ghcr.io=t1", "ghcr.io").0.as_deref(), Some("t1"));
        assert_eq!(token_for("ghcr.io=t1", "attacker.example").0, None);
        assert_eq!(token_for("ghcr.io=t1", "ghcr.io:443").0, None);
        assert_eq!(token_for("a.io=t1, localhost:5000=t2==", "localhost:5000").0.as_deref(), Some("t2=="));
        let (token, note) = token_for("bare-token-without-host", "ghcr.io");
        assert_eq!(token, None);
        assert!(note.unwrap().contains("names no registry"));
        assert_eq!(token_for("https://ghcr.io=t", "ghcr.io").0, None, "a URL is not a registry name");
    }
}
