//! Grants: what the user allowed a plugin, pinned to its component's sha256.
//!
//! A plugin asks for permissions in its manifest, and may ask for limits
//! above the defaults (more memory, a longer deadline); nothing is granted by
//! default. `isaac plugins add` shows the request and asks (or `--yes`); the
//! grant is stored in the home's LMDB environment with the sha256 of the
//! component it was given to and, for each directory, its canonical path and
//! identity (device, inode; see [`crate::dirs`]). A plugin that asks for
//! anything runs only with a grant that matches its current component and its
//! current request: if either changed, it does not run until `isaac plugins
//! grant NAME`. A plugin that asks for nothing needs no grant.
//!
//! Directory rules, checked at review, at grant and at every call:
//! - a directory is absolute (or `~/`);
//! - none covers, or lies inside, the isaac home or the config file;
//! - none of a plugin's directories lies inside another of its own (a
//!   nested grant would let the outer one's writes retarget the inner one).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::dirs::DirIdentity;
use crate::error::Source;
use crate::manifest::{Limits, Permissions};
use crate::state::{State, StateError};

/// One plugin's grant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grant {
    /// The sha256 of the component it was given to.
    pub sha256: String,
    /// What was granted.
    pub permissions: Permissions,
    /// The limits above the defaults that were granted.
    #[serde(default)]
    pub limits: Limits,
    /// Each granted directory as it was when granted.
    #[serde(default)]
    pub dirs: Vec<GrantedDir>,
    /// When, ms since the Unix epoch.
    pub granted_at_ms: u64,
}

/// A directory of a grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantedDir {
    /// As the manifest wrote it (`~/notes`): where the guest sees it.
    pub asked: String,
    /// What it was when granted.
    pub identity: DirIdentity,
    /// Read-write (else read-only).
    pub write: bool,
}

/// What a plugin asks to be granted: its permissions and the limits it asks
/// for above the defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// Its permissions.
    pub permissions: Permissions,
    /// Its limits that are above the defaults (the others are `None`).
    pub limits: Limits,
}

impl Request {
    /// Whether it needs a grant at all.
    pub fn asks_anything(&self) -> bool {
        *self != Request::default()
    }

    /// Each asked directory with whether it is read-write.
    pub fn dirs(&self) -> impl Iterator<Item = (&String, bool)> {
        let files = &self.permissions.files;
        files.read.iter().map(|d| (d, false)).chain(files.write.iter().map(|d| (d, true)))
    }

    /// Check the directories (see the module documentation) and record each
    /// one's identity, for a grant.
    /// `~` is `user_home` ([`Settings::user_home`](crate::Settings::user_home)).
    pub fn grant_dirs(&self, protected: &Protected, user_home: Option<&Path>) -> Result<Vec<GrantedDir>, DirRefused> {
        let mut granted: Vec<GrantedDir> = Vec::new();
        for (dir, write) in self.dirs() {
            let path = expand(dir, user_home);
            if !path.is_absolute() {
                return Err(DirRefused::NotAbsolute { dir: dir.clone() });
            }
            let identity = DirIdentity::of(&path).map_err(|e| DirRefused::Unreachable {
                dir: dir.clone(),
                path: path.clone(),
                source: Source::new(e),
            })?;
            protected.check(dir, &identity.path)?;
            if let Some(other) = granted.iter().find(|g| nested(&g.identity.path, &identity.path)) {
                return Err(DirRefused::Nested { outer: other.asked.clone(), dir: dir.clone() });
            }
            granted.push(GrantedDir { asked: dir.clone(), identity, write });
        }
        Ok(granted)
    }
}

/// A directory a plugin asks for that cannot be granted.
#[derive(Debug, Clone, thiserror::Error, Serialize, Deserialize)]
pub enum DirRefused {
    /// A relative path.
    #[error("file permission {dir:?} must be an absolute path (or start with ~/)")]
    NotAbsolute {
        /// The permission as asked.
        dir: String,
    },
    /// It cannot be opened as a directory.
    #[error("file permission {dir:?}: {} cannot be granted", path.display())]
    Unreachable {
        /// The permission as asked.
        dir: String,
        /// Where it leads.
        path: PathBuf,
        /// Why it cannot be opened.
        #[source]
        source: Source,
    },
    /// It reaches isaac's own files.
    #[error(transparent)]
    Covers(#[from] Covers),
    /// Two of the plugin's directories lie one inside the other.
    #[error(
        "file permissions {outer:?} and {dir:?} are nested (one lies inside the other); a plugin may be granted each directory once: ask for the outer one alone"
    )]
    Nested {
        /// The one asked first.
        outer: String,
        /// The other.
        dir: String,
    },
}

/// A directory that covers, or lies inside, what no grant may reach.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("file permission {dir:?} covers {what} {}: no plugin may reach isaac's own state or settings", path.display())]
pub struct Covers {
    /// The permission as asked.
    pub dir: String,
    /// What it reaches (`the isaac home`, `the config file`).
    pub what: String,
    /// Its path.
    pub path: PathBuf,
}

/// Whether one of `a` and `b` lies inside the other (or they are equal).
fn nested(a: &Path, b: &Path) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

/// What no grant may reach: the isaac home and the config file.
#[derive(Debug, Clone, Default)]
pub struct Protected {
    paths: Vec<(&'static str, PathBuf)>,
}

impl Protected {
    /// The home `home` and the config file `config`, canonical where they exist.
    pub fn new(home: &Path, config: &Path) -> Self {
        let real = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_owned());
        Protected { paths: vec![("the isaac home", real(home)), ("the config file", real(config))] }
    }

    /// Refuse `real` (the canonical form of the permission `dir`) when it
    /// covers or lies inside a protected path.
    pub fn check(&self, dir: &str, real: &Path) -> Result<(), Covers> {
        match self.paths.iter().find(|(_, p)| nested(p, real)) {
            Some((what, p)) => Err(Covers { dir: dir.to_owned(), what: (*what).to_owned(), path: p.clone() }),
            None => Ok(()),
        }
    }
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
        self.state.get_json(self.state.grants, name)
    }

    /// Store plugin `name`'s grant.
    pub fn put(&self, name: &str, grant: &Grant) -> Result<(), StateError> {
        self.state.put_json(self.state.grants, name, Some(grant))
    }

    /// Forget plugin `name`'s grant.
    pub fn remove(&self, name: &str) -> Result<(), StateError> {
        self.state.put_json::<Grant>(self.state.grants, name, None)
    }
}

/// Why a plugin asking `asked`, whose component has digest `sha256`, may
/// not run with `grant`; `None` when it may.
pub fn refusal(name: &str, asked: &Request, sha256: &str, grant: Option<&Grant>) -> Option<String> {
    if !asked.asks_anything() {
        return None;
    }
    let fix = format!("review and grant it with `isaac plugins grant {name}`");
    match grant {
        None => Some(format!("plugin `{name}` asks for permissions that were never granted; {fix}")),
        Some(g) if g.sha256 != sha256 => Some(format!(
            "plugin `{name}` changed since its permissions were granted (its component is not the one that was granted); {fix}"
        )),
        Some(g) if g.permissions != asked.permissions || g.limits != asked.limits => {
            Some(format!("plugin `{name}` now asks for other permissions than were granted; {fix}"))
        }
        Some(g) if asked.dirs().count() != g.dirs.len() => Some(format!(
            "plugin `{name}` has a grant without the identity of its directories (made by an older isaac); {fix}"
        )),
        Some(_) => None,
    }
}

/// Whether an environment variable's name looks like a secret.
pub fn looks_secret(var: &str) -> bool {
    let v = var.to_ascii_uppercase();
    v.ends_with("_KEY") || v.ends_with("_TOKEN") || v.contains("SECRET") || v.contains("PASSWORD")
}

/// `~/x` → `user_home/x`, `~` → `user_home`; other paths as they are.
pub fn expand(path: &str, user_home: Option<&Path>) -> PathBuf {
    match (path.strip_prefix("~/"), user_home) {
        (Some(rest), Some(home)) => home.join(rest),
        (None, Some(home)) if path == "~" => home.to_path_buf(),
        _ => PathBuf::from(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::FilePermissions;

    fn asking(permissions: Permissions) -> Request {
        Request { permissions, limits: Limits::default() }
    }

    fn reading(dirs: &[&Path]) -> Request {
        let read = dirs.iter().map(|d| d.display().to_string()).collect();
        asking(Permissions { files: FilePermissions { read, write: vec![] }, ..Permissions::default() })
    }

    #[test]
    fn refusals() {
        assert_eq!(refusal("p", &Request::default(), "a", None), None);
        let asked = asking(Permissions { env: vec!["LANG".into()], ..Permissions::default() });
        assert!(refusal("p", &asked, "a", None).unwrap().contains("never granted"));
        let grant = Grant {
            sha256: "a".into(),
            permissions: asked.permissions.clone(),
            limits: Limits::default(),
            dirs: vec![],
            granted_at_ms: 0,
        };
        assert_eq!(refusal("p", &asked, "a", Some(&grant)), None);
        assert!(refusal("p", &asked, "b", Some(&grant)).unwrap().contains("changed since"));
        let more = asking(Permissions { stdout: true, ..asked.permissions.clone() });
        assert!(refusal("p", &more, "a", Some(&grant)).unwrap().contains("other permissions"));
        let longer = Request { limits: Limits { deadline_ms: Some(99_000), memory_mb: None }, ..asked };
        assert!(refusal("p", &longer, "a", Some(&grant)).unwrap().contains("other permissions"));
    }

    #[test]
    fn secrets_and_dirs() {
        assert!(looks_secret("OPENAI_API_KEY") && looks_secret("GH_TOKEN") && looks_secret("my_secret"));
        assert!(!looks_secret("LANG") && !looks_secret("HOME"));
        let home = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let protected = Protected::new(home.path(), &home.path().join("config.toml"));
        let granted = reading(&[outside.path()]).grant_dirs(&protected, None).unwrap();
        assert_eq!(granted[0].identity.path, outside.path().canonicalize().unwrap());
        std::fs::create_dir(home.path().join("plugins")).unwrap();
        let refused = |r: Request| r.grant_dirs(&protected, None).unwrap_err();
        let covers = |r: Request| match refused(r) {
            DirRefused::Covers(c) => c.what,
            other => panic!("{other}"),
        };
        assert_eq!(covers(reading(&[home.path()])), "the isaac home");
        assert_eq!(covers(reading(&[Path::new("/")])), "the isaac home");
        assert_eq!(covers(reading(&[&home.path().join("plugins")])), "the isaac home");
        assert!(matches!(refused(reading(&[Path::new("relative/dir")])), DirRefused::NotAbsolute { .. }));
        let config_elsewhere = Protected::new(home.path(), &outside.path().join("config.toml"));
        let refused_elsewhere = reading(&[outside.path()]).grant_dirs(&config_elsewhere, None).unwrap_err();
        assert!(matches!(refused_elsewhere, DirRefused::Covers(Covers { ref what, .. }) if what == "the config file"));
        std::fs::create_dir(outside.path().join("sub")).unwrap();
        let nested = reading(&[outside.path(), &outside.path().join("sub")]);
        assert!(matches!(refused(nested), DirRefused::Nested { .. }));
        let gone = reading(&[&outside.path().join("missing")]);
        let DirRefused::Unreachable { source, .. } = refused(gone) else {
            panic!("a missing directory is unreachable")
        };
        let io = Source::peel(&source).downcast_ref::<std::io::Error>().map(std::io::Error::kind);
        assert_eq!(io, Some(std::io::ErrorKind::NotFound));
    }
}
