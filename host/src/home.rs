//! `$ISAAC_HOME`: where isaac keeps installed plugins, compiled code and its
//! LMDB state.
//!
//! ```text
//! $ISAAC_HOME/
//!   config.toml       the user's settings (optional)
//!   plugins/NAME/     one folder per installed plugin: plugin.toml + NAME.wasm
//!   compiled/         compiled code, content-addressed; delete it to start cold
//!   state/            the LMDB environment (plugin index; later the cache tiers)
//! ```
//!
//! The home is created readable by its owner only: it will hold cached
//! prompts and answers, which are private data.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The layout of one isaac home directory.
#[derive(Debug, Clone)]
pub struct Home {
    root: PathBuf,
}

/// A home directory that could not be created or opened.
#[derive(Debug, thiserror::Error)]
#[error("cannot use {path} as the isaac home (pick another with --home DIR or ISAAC_HOME)")]
pub struct HomeError {
    /// The folder that failed.
    pub path: PathBuf,
    /// Why.
    #[source]
    pub source: io::Error,
}

impl Home {
    /// Open `root` as an isaac home, creating it and its folders if needed.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, HomeError> {
        let home = Home { root: root.into() };
        for dir in [home.root.clone(), home.plugins_dir(), home.compiled_dir(), home.state_dir()] {
            create_private_dir(&dir).map_err(|source| HomeError { path: dir.clone(), source })?;
        }
        Ok(home)
    }

    /// The home folder itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Installed plugins, one folder each.
    pub fn plugins_dir(&self) -> PathBuf {
        self.root.join("plugins")
    }

    /// The folder of the installed plugin `name`.
    pub fn plugin_dir(&self, name: &str) -> PathBuf {
        self.plugins_dir().join(name)
    }

    /// Compiled code, named by content hash.
    pub fn compiled_dir(&self) -> PathBuf {
        self.root.join("compiled")
    }

    /// Compiled functions shared between plugins ([`crate::functions`]).
    pub fn functions_dir(&self) -> PathBuf {
        self.compiled_dir().join("functions")
    }

    /// The LMDB environment.
    pub fn state_dir(&self) -> PathBuf {
        self.root.join("state")
    }

    /// The bearer token of the running `isaac mcp --http` (owner-only).
    pub fn mcp_token_file(&self) -> PathBuf {
        self.root.join("mcp-token")
    }

    /// The default config file.
    pub fn config_file(&self) -> PathBuf {
        self.root.join("config.toml")
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    match fs::DirBuilder::new().recursive(true).mode(0o700).create(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_the_layout_private() {
        let tmp = tempfile::tempdir().unwrap();
        let home = Home::open(tmp.path().join("h")).unwrap();
        assert!(home.plugins_dir().is_dir());
        assert!(home.compiled_dir().is_dir());
        assert!(home.state_dir().is_dir());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(home.root()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
    }

    #[test]
    fn a_file_in_the_way_is_a_clear_error() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("file");
        fs::write(&file, b"x").unwrap();
        let err = Home::open(&file).unwrap_err();
        assert!(err.to_string().contains("--home"), "{err}");
    }
}
