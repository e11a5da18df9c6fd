//! Registry credentials: `ISAAC_REGISTRY_TOKEN` (a bearer token), else the
//! Docker credentials file (`$DOCKER_CONFIG/config.json`, else
//! `~/.docker/config.json`, as `docker login` writes it), else anonymous.
//!
//! Credential helpers (`credsStore`, `credHelpers`) are never run: isaac
//! does not start programs a config file names. A registry whose
//! credentials live only in a helper is reached anonymously, and an
//! authentication error says how to give a token instead.

use std::path::PathBuf;

use base64::Engine;
use oci_client::secrets::RegistryAuth;
use serde::Deserialize;

/// The environment variable holding a registry token.
pub const TOKEN_VAR: &str = "ISAAC_REGISTRY_TOKEN";

/// How to authenticate to `registry` (`host[:port]`), and a note for errors
/// when the credentials are in a helper that is not run.
pub fn for_registry(registry: &str) -> (RegistryAuth, Option<String>) {
    if let Some(token) = std::env::var(TOKEN_VAR).ok().filter(|t| !t.is_empty()) {
        return (RegistryAuth::Bearer(token), None);
    }
    let Some(file) = docker_config_file() else { return (RegistryAuth::Anonymous, None) };
    let Ok(text) = std::fs::read_to_string(&file) else { return (RegistryAuth::Anonymous, None) };
    match serde_json::from_str::<DockerConfig>(&text) {
        Ok(config) => config.auth_for(registry, &file),
        Err(e) => (
            RegistryAuth::Anonymous,
            Some(format!("{} could not be read ({e}); set {TOKEN_VAR} instead", file.display())),
        ),
    }
}

fn docker_config_file() -> Option<PathBuf> {
    let dir = match std::env::var_os("DOCKER_CONFIG") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME")?).join(".docker"),
    };
    Some(dir.join("config.json"))
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
    fn auth_for(&self, registry: &str, file: &std::path::Path) -> (RegistryAuth, Option<String>) {
        let keys = [
            registry.to_owned(),
            format!("https://{registry}"),
            format!("http://{registry}"),
            format!("https://{registry}/v1/"),
            format!("https://{registry}/v2/"),
        ];
        if let Some(entry) = keys.iter().find_map(|k| self.auths.get(k))
            && let Some((user, password)) = entry.credentials()
        {
            return (RegistryAuth::Basic(user, password), None);
        }
        let helper = self.cred_helpers.get(registry).or(self.creds_store.as_ref());
        let note = helper.map(|h| {
            format!(
                "{} keeps the credentials of {registry} in the helper `docker-credential-{h}`, which isaac does not run",
                file.display()
            )
        });
        (RegistryAuth::Anonymous, note)
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
    fn docker_config_entries() {
        let config: DockerConfig = serde_json::from_str(
            r#"{"auths": {"https://reg.example:5000": {"auth": "dXNlcjpwYXNz"}}, "credHelpers": {"ghcr.io": "gh"}}"#,
        )
        .unwrap();
        let file = std::path::Path::new("/x/config.json");
        let (auth, note) = config.auth_for("reg.example:5000", file);
        assert!(matches!(auth, RegistryAuth::Basic(u, p) if u == "user" && p == "pass"));
        assert!(note.is_none());
        let (auth, note) = config.auth_for("ghcr.io", file);
        assert!(matches!(auth, RegistryAuth::Anonymous));
        assert!(note.unwrap().contains("docker-credential-gh"));
        assert!(config.auth_for("other.example", file).1.is_none());
    }
}
