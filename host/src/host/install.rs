//! `isaac plugins add` and `remove`: check a plugin loads before copying it
//! in, replace by temporary folder and renames, clean up compiled code.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use crate::grants::Grant;
use crate::index::FileStamp;
use crate::loader::{self, PluginFailure, PluginSource};
use crate::manifest::Manifest;
use crate::registry::ResolveError;

use super::{Catalog, GrantError, Host, HostError, InstallError, LoadedPlugin, RemoveError, indexed_entry};

impl Host {
    /// Install the plugin at `path` (a plugin folder, or a `.wasm` file with
    /// a `plugin.toml` beside it): check that it loads, then copy it into
    /// `$ISAAC_HOME/plugins/NAME/`. With `force`, replace an installed
    /// plugin of the same name.
    pub async fn install(&self, path: &Path, force: bool) -> Result<Installed, InstallError> {
        let source = install_source(path)?;
        let name = source.manifest.name.clone();
        let dest = self.home.plugin_dir(&name);
        if dest.exists() && !force {
            return Err(InstallError::Exists(name));
        }
        let failure = |error| InstallError::Invalid(PluginFailure { plugin: name.clone(), error });
        let (_, result) = self.load_sources(vec![source.clone()], &HashMap::new(), &|_| {}).await.remove(0);
        let plugin = result.map_err(failure)?;
        let previous = self.index.all()?.into_iter().find(|(n, _)| *n == name).map(|(_, e)| e);
        let installed_source = copy_plugin(&source, &self.home.plugins_dir(), &dest)
            .map_err(|e| InstallError::Copy { dir: dest.clone(), message: e.to_string() })?;
        if let Some(Ok(old)) = previous.as_ref().map(|e| &e.status)
            && old.sha256 != plugin.meta.sha256
        {
            self.compiled.remove(&old.sha256);
        }
        let (n, e) = indexed_entry(installed_source, Ok(&plugin));
        self.index.update(&[(&n, &e)], &[])?;
        let catalog = self.catalog().await.map_err(|e| match e {
            HostError::State(e) => InstallError::State(e),
            other => InstallError::Copy { dir: dest.clone(), message: other.to_string() },
        })?;
        let shared = shared_commands(&catalog, &name);
        Ok(Installed { plugin, replaced: previous.is_some(), shared_commands: shared })
    }

    /// The manifest of the plugin at `path` (as `install` would read it),
    /// to show its request before installing.
    pub fn inspect(&self, path: &Path) -> Result<Manifest, InstallError> {
        Ok(install_source(path)?.manifest)
    }

    /// Grant installed plugin `name` everything its manifest asks for,
    /// pinned to its current component. Returns the grant.
    pub async fn grant(&self, name: &str) -> Result<Grant, GrantError> {
        let catalog = self.catalog().await.map_err(|e| GrantError::Other(e.to_string()))?;
        let Some(entry) = catalog.entry(name) else {
            if let Some(failure) = catalog.failures.iter().find(|f| f.plugin == name) {
                return Err(GrantError::Other(failure.to_string()));
            }
            return Err(GrantError::NotInstalled(name.to_owned()));
        };
        let meta =
            entry.status.as_ref().map_err(|e| GrantError::Other(format!("plugin `{name}` is not loaded: {e}")))?;
        crate::grants::check_dirs(&entry.manifest.permissions, self.home.root()).map_err(GrantError::Refused)?;
        let grant = Grant {
            sha256: meta.sha256.clone(),
            permissions: entry.manifest.permissions.clone(),
            granted_at_ms: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        };
        self.grants.put(name, &grant).map_err(|e| GrantError::Other(e.to_string()))?;
        Ok(grant)
    }

    /// Uninstall `name`: its folder, its compiled code and its index entry.
    pub fn remove(&self, name: &str) -> Result<(), RemoveError> {
        let dir = self.home.plugin_dir(name);
        if crate::manifest::check_name(name).is_err() || !dir.is_dir() {
            return Err(RemoveError::NotInstalled(name.to_owned()));
        }
        if let Some((_, entry)) = self.index.all()?.into_iter().find(|(n, _)| n == name)
            && let Ok(meta) = &entry.status
        {
            self.compiled.remove(&meta.sha256);
        }
        fs::remove_dir_all(&dir).map_err(|e| RemoveError::Io { dir: dir.clone(), message: e.to_string() })?;
        self.index.update(&[], &[name])?;
        self.grants.remove(name)?;
        Ok(())
    }
}

/// A plugin `isaac plugins add` installed.
pub struct Installed {
    /// The plugin, loaded.
    pub plugin: LoadedPlugin,
    /// Whether it replaced an installed version.
    pub replaced: bool,
    /// Its commands that other plugins offer too (`name:command` runs them).
    pub shared_commands: Vec<String>,
}

fn shared_commands(catalog: &Catalog, name: &str) -> Vec<String> {
    let Some(Ok(meta)) = catalog.entry(name).map(|e| &e.status) else { return Vec::new() };
    meta.commands
        .iter()
        .filter(|c| matches!(catalog.registry.resolve(&c.name), Err(ResolveError::Ambiguous { .. })))
        .map(|c| c.name.clone())
        .collect()
}

/// The source of `isaac plugins add PATH`.
fn install_source(path: &Path) -> Result<PluginSource, InstallError> {
    let bad = |message: &str| InstallError::BadPath { path: path.to_owned(), message: message.to_owned() };
    let invalid = |plugin: String, error| InstallError::Invalid(PluginFailure { plugin, error });
    if path.is_dir() {
        let name = path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        return loader::read_source(path, None).map_err(|e| invalid(name, e));
    }
    if path.extension().is_some_and(|e| e == "wasm") && path.is_file() {
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let name = path.file_stem().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let mut source = loader::read_source(dir, None).map_err(|e| invalid(name.clone(), e))?;
        source.wasm = path.to_owned();
        source.wasm_stamp = FileStamp::of(path).map_err(|e| bad(&e.to_string()))?;
        return Ok(source);
    }
    if !path.exists() {
        return Err(bad("no such file or folder"));
    }
    Err(bad("not a plugin folder (with plugin.toml) or a .wasm component with a plugin.toml beside it"))
}

/// Copy the manifest and component of `source` into `dest` (through a
/// temporary folder and renames, so a failed copy leaves the installed
/// version alone) and return the installed source.
fn copy_plugin(source: &PluginSource, plugins_dir: &Path, dest: &Path) -> std::io::Result<PluginSource> {
    let staging = tempfile::Builder::new().prefix(".installing-").tempdir_in(plugins_dir)?;
    // The file keeps the name the manifest gives it, if any.
    let file_name = match &source.manifest.component {
        Some(name) => name.as_os_str(),
        None => source.wasm.file_name().ok_or_else(|| std::io::Error::other("component has no file name"))?,
    };
    fs::copy(source.dir.join(Manifest::FILE_NAME), staging.path().join(Manifest::FILE_NAME))?;
    fs::copy(&source.wasm, staging.path().join(file_name))?;
    let staged = staging.keep();
    if dest.exists() {
        let old = plugins_dir.join(format!(".replaced-{}", source.manifest.name));
        let _ = fs::remove_dir_all(&old);
        fs::rename(dest, &old)?;
        fs::rename(&staged, dest)?;
        let _ = fs::remove_dir_all(&old);
    } else {
        fs::rename(&staged, dest)?;
    }
    loader::read_source(dest, Some(&source.manifest.name)).map_err(|e| std::io::Error::other(e.to_string()))
}
