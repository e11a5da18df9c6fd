//! Grants: what the user allowed a plugin, pinned to its component's sha256.
//!
//! A plugin asks for permissions in its manifest; nothing is granted by
//! default. `isaac plugins add` shows the request and asks (or `--yes`);
//! the grant is stored in the home's LMDB environment with the sha256 of the
//! component it was given to. A plugin that asks for anything runs only with
//! a grant that matches both its current component and its current request:
//! if either changed, it does not run until `isaac plugins grant NAME`. A
//! plugin that asks for nothing needs no grant.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::manifest::Permissions;
use crate::state::{State, StateError};

/// One plugin's grant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grant {
    /// The sha256 of the component it was given to.
    pub sha256: String,
    /// What was granted.
    pub permissions: Permissions,
    /// When, ms since the Unix epoch.
    pub granted_at_ms: u64,
}

/// The grants of a home.
pub struct Grants {
    state: Arc<State>,
}

impl Grants {
    /// The grants in `state`.
    pub fn new(state: Arc<State>) -> Self {
        Grants { state }
    }

    /// Plugin `name`'s grant.
    pub fn get(&self, name: &str) -> Result<Option<Grant>, StateError> {
        let err = |e| self.state.error(e);
        let txn = self.state.env().read_txn().map_err(err)?;
        let raw = self.state.grants.get(&txn, name).map_err(err)?;
        Ok(raw.and_then(|r| serde_json::from_slice(r).ok()))
    }

    /// Store plugin `name`'s grant.
    pub fn put(&self, name: &str, grant: &Grant) -> Result<(), StateError> {
        let err = |e| self.state.error(e);
        let mut txn = self.state.env().write_txn().map_err(err)?;
        let json = serde_json::to_vec(grant).expect("grants serialize");
        self.state.grants.put(&mut txn, name, &json).map_err(err)?;
        txn.commit().map_err(err)
    }

    /// Forget plugin `name`'s grant.
    pub fn remove(&self, name: &str) -> Result<(), StateError> {
        let err = |e| self.state.error(e);
        let mut txn = self.state.env().write_txn().map_err(err)?;
        self.state.grants.delete(&mut txn, name).map_err(err)?;
        txn.commit().map_err(err)
    }
}

/// Whether `asked` needs a grant at all.
pub fn asks_anything(asked: &Permissions) -> bool {
    *asked != Permissions::default()
}

/// Why a plugin asking `asked`, whose component has digest `sha256`, may
/// not run with `grant`; `None` when it may.
pub fn refusal(name: &str, asked: &Permissions, sha256: &str, grant: Option<&Grant>) -> Option<String> {
    if !asks_anything(asked) {
        return None;
    }
    let fix = format!("review and grant it with `isaac plugins grant {name}`");
    match grant {
        None => Some(format!("plugin `{name}` asks for permissions that were never granted; {fix}")),
        Some(g) if g.sha256 != sha256 => Some(format!(
            "plugin `{name}` changed since its permissions were granted (its component is not the one that was granted); {fix}"
        )),
        Some(g) if g.permissions != *asked => {
            Some(format!("plugin `{name}` now asks for other permissions than were granted; {fix}"))
        }
        Some(_) => None,
    }
}

/// Whether an environment variable's name looks like a secret.
pub fn looks_secret(var: &str) -> bool {
    let v = var.to_ascii_uppercase();
    v.ends_with("_KEY") || v.ends_with("_TOKEN") || v.contains("SECRET") || v.contains("PASSWORD")
}

/// `~/x` → `$HOME/x`; other paths as they are.
pub fn expand(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ if path == "~" => std::env::var_os("HOME").map_or_else(|| PathBuf::from(path), PathBuf::from),
        _ => PathBuf::from(path),
    }
}

/// Check the directories of a request: absolute (or `~/`), and none
/// covering the isaac home (or inside it).
pub fn check_dirs(asked: &Permissions, isaac_home: &Path) -> Result<(), String> {
    let home = isaac_home.canonicalize().unwrap_or_else(|_| isaac_home.to_owned());
    for dir in asked.files.read.iter().chain(&asked.files.write) {
        let path = expand(dir);
        if !path.is_absolute() {
            return Err(format!("file permission {dir:?} must be an absolute path (or start with ~/)"));
        }
        let real = path.canonicalize().unwrap_or(path);
        if home.starts_with(&real) || real.starts_with(&home) {
            return Err(format!(
                "file permission {dir:?} covers the isaac home {}: no plugin may reach isaac's own state",
                home.display()
            ));
        }
    }
    Ok(())
}

/// One line per permission, for showing a request or a grant; warnings
/// (secret-looking variables) are marked.
pub fn describe(p: &Permissions) -> Vec<String> {
    let mut lines = Vec::new();
    if p.cache {
        lines.push("cache: its own namespace of the cache".to_owned());
    }
    if let Some(ai) = p.ai {
        lines.push(format!("ai: up to {} requests and {} tokens per call", ai.max_requests, ai.max_tokens));
    }
    for dir in &p.files.read {
        lines.push(format!("read files in {dir}"));
    }
    for dir in &p.files.write {
        lines.push(format!("read and write files in {dir}"));
    }
    for var in &p.env {
        if looks_secret(var) {
            lines.push(format!("environment variable {var}  (warning: this looks like a secret)"));
        } else {
            lines.push(format!("environment variable {var}"));
        }
    }
    if p.stdout {
        lines.push("print to the terminal (on stderr)".to_owned());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::FilePermissions;

    fn asking_cache() -> Permissions {
        Permissions { cache: true, ..Permissions::default() }
    }

    #[test]
    fn refusals() {
        let none = Permissions::default();
        assert_eq!(refusal("p", &none, "a", None), None);
        let asked = asking_cache();
        assert!(refusal("p", &asked, "a", None).unwrap().contains("never granted"));
        let grant = Grant { sha256: "a".into(), permissions: asked.clone(), granted_at_ms: 0 };
        assert_eq!(refusal("p", &asked, "a", Some(&grant)), None);
        assert!(refusal("p", &asked, "b", Some(&grant)).unwrap().contains("changed since"));
        let more = Permissions { stdout: true, ..asked };
        assert!(refusal("p", &more, "a", Some(&grant)).unwrap().contains("other permissions"));
    }

    #[test]
    fn secrets_and_dirs() {
        assert!(looks_secret("OPENAI_API_KEY") && looks_secret("GH_TOKEN") && looks_secret("my_secret"));
        assert!(!looks_secret("LANG") && !looks_secret("HOME"));
        let home = tempfile::tempdir().unwrap();
        let asked = |dir: &str| Permissions {
            files: FilePermissions { read: vec![dir.into()], write: vec![] },
            ..Permissions::default()
        };
        assert!(check_dirs(&asked("/tmp/elsewhere-isaac-test"), home.path()).is_ok());
        assert!(
            check_dirs(&asked(home.path().to_str().unwrap()), home.path())
                .unwrap_err()
                .contains("covers the isaac home")
        );
        assert!(check_dirs(&asked("/"), home.path()).unwrap_err().contains("covers the isaac home"));
        assert!(check_dirs(&asked("relative/dir"), home.path()).unwrap_err().contains("absolute"));
        let inside = home.path().join("plugins");
        assert!(check_dirs(&asked(inside.to_str().unwrap()), home.path()).is_err());
    }
}
