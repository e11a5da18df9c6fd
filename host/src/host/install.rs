//! `isaac plugins add` and `remove`: read a plugin once, check that those
//! bytes load, then install those same bytes (through a staging folder and
//! renames) and grant what was reviewed; clean up compiled code on removal.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use crate::error::Source;
use crate::grants::Grant;
use crate::loader::{self, LoadError, PluginFailure};
use crate::manifest::Manifest;
use crate::registry::ResolveError;

use super::{Catalog, GrantError, Host, HostError, InstallError, LoadedPlugin, RemoveError, indexed_entry};

/// A plugin read once from where the user named it: the bytes that are
/// reviewed, checked, installed and granted. Nothing is read from the
/// source again after this.
#[derive(Debug, Clone)]
pub struct PluginFiles {
    /// Its manifest, parsed from `manifest_text`.
    pub manifest: Manifest,
    /// The sha256 of `wasm`.
    pub sha256: String,
    manifest_text: String,
    wasm: Vec<u8>,
    wasm_name: OsString,
}

impl Host {
    /// Read the plugin at `path` (a plugin folder, or a `.wasm` file with a
    /// `plugin.toml` beside it) into memory, once.
    pub fn read_plugin(&self, path: &Path) -> Result<PluginFiles, InstallError> {
        read_plugin(path)
    }

    /// Install the plugin at `path`: [`read_plugin`](Self::read_plugin),
    /// then [`install_files`](Self::install_files) without granting.
    pub async fn install(&self, path: &Path, force: bool) -> Result<Installed, InstallError> {
        let files = self.read_plugin(path)?;
        self.install_files(&files, force, false).await
    }

    /// Install `files` into `$ISAAC_HOME/plugins/NAME/`: write those bytes
    /// to a staging folder, check that they load, and move them in place.
    /// With `force`, replace an installed plugin of the same name. With
    /// `grant`, grant what `files.manifest` asks for, pinned to `files`'
    /// component (the request the user reviewed, on the bytes installed).
    pub async fn install_files(
        &self,
        files: &PluginFiles,
        force: bool,
        grant: bool,
    ) -> Result<Installed, InstallError> {
        let name = files.manifest.name.clone();
        let dest = self.home.plugin_dir(&name);
        if dest.exists() && !force {
            return Err(InstallError::Exists(name));
        }
        let plugins_dir = self.home.plugins_dir();
        let copy_err = |source: std::io::Error| InstallError::Copy { dir: dest.clone(), source };
        let staging = stage(files, &plugins_dir).map_err(copy_err)?;
        let failure = |error| InstallError::Invalid(PluginFailure { plugin: name.clone(), error });
        let staged = loader::read_source(staging.path(), Some(&name)).map_err(failure)?;
        let (_, result) = self.load_sources(vec![staged], &HashMap::new(), &|_| {}).await.remove(0);
        let plugin = result.map_err(failure)?;
        if plugin.meta.sha256 != files.sha256 {
            return Err(InstallError::Changed { dir: staging.path().to_owned() });
        }
        let grant = match grant {
            true => Some(self.grant_for(&files.manifest, &files.sha256).map_err(|e| failure(LoadError::Grant(e)))?),
            false => None,
        };
        let previous = self.index.all()?.into_iter().find(|(n, _)| *n == name).map(|(_, e)| e);
        swap_in(staging, &plugins_dir, &dest, &name).map_err(copy_err)?;
        let installed_source = loader::read_source(&dest, Some(&name)).map_err(failure)?;
        if let Some(Ok(old)) = previous.as_ref().map(|e| &e.status)
            && old.sha256 != plugin.meta.sha256
        {
            self.compiled.remove(&old.sha256);
        }
        let (n, e) = indexed_entry(installed_source, Ok(&plugin));
        self.index.update(&[(&n, &e)], &[])?;
        if let Some(grant) = &grant {
            self.grants.put(&name, grant)?;
        }
        let catalog = self.catalog().await.map_err(|e| match e {
            HostError::State(e) => InstallError::State(e),
            other => InstallError::Reindex(Box::new(other)),
        })?;
        let shared = shared_commands(&catalog, &name);
        Ok(Installed { plugin, replaced: previous.is_some(), shared_commands: shared })
    }

    /// The grant of what `manifest` asks for, pinned to the component with
    /// digest `sha256`, its directories checked and their identities taken now.
    fn grant_for(&self, manifest: &Manifest, sha256: &str) -> Result<Grant, String> {
        let request = self.request(manifest);
        let dirs = request.grant_dirs(&self.protected)?;
        Ok(Grant {
            sha256: sha256.to_owned(),
            permissions: request.permissions,
            limits: request.limits,
            dirs,
            granted_at_ms: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        })
    }

    /// Grant installed plugin `name` everything its manifest asks for,
    /// pinned to its current component. Returns the grant.
    pub async fn grant(&self, name: &str) -> Result<Grant, GrantError> {
        let catalog = self.catalog().await.map_err(Box::new)?;
        if let Some(failure) = catalog.failures.iter().find(|f| f.plugin == name) {
            return Err(failure.clone().into());
        }
        // (A plugin indexed with an error is among the failures.)
        let Some((entry, Ok(meta))) = catalog.entry(name).map(|e| (e, &e.status)) else {
            return Err(GrantError::NotInstalled(name.to_owned()));
        };
        let grant = self.grant_for(&entry.manifest, &meta.sha256).map_err(GrantError::Refused)?;
        self.grants.put(name, &grant)?;
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
        fs::remove_dir_all(&dir).map_err(|source| RemoveError::Io { dir: dir.clone(), source })?;
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

/// Read the plugin at `path` once: its manifest's text and its component's bytes.
fn read_plugin(path: &Path) -> Result<PluginFiles, InstallError> {
    let bad = |message: &str| InstallError::BadPath { path: path.to_owned(), message: message.to_owned() };
    let stem = |p: &Path| p.file_stem().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let (dir, named_wasm) = if path.is_dir() {
        (path.to_owned(), None)
    } else if path.extension().is_some_and(|e| e == "wasm") && path.is_file() {
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        (dir.to_owned(), Some(path.to_owned()))
    } else if !path.exists() {
        return Err(bad("no such file or folder"));
    } else {
        return Err(bad("not a plugin folder (with plugin.toml) or a .wasm component with a plugin.toml beside it"));
    };
    let invalid = |error| InstallError::Invalid(PluginFailure { plugin: stem(path), error });
    let io = |p: &Path, e: std::io::Error| invalid(LoadError::Io { path: p.to_owned(), source: Source::new(e) });
    let manifest_path = dir.join(Manifest::FILE_NAME);
    let manifest_text = fs::read_to_string(&manifest_path).map_err(|e| io(&manifest_path, e))?;
    let manifest = Manifest::parse(&manifest_path, &manifest_text).map_err(|e| invalid(LoadError::Manifest(e)))?;
    let wasm_path: PathBuf = match (named_wasm, &manifest.component) {
        (Some(file), _) => file,
        (None, Some(file)) => dir.join(file),
        (None, None) => loader::only_wasm_file(&dir).map_err(invalid)?,
    };
    let wasm = fs::read(&wasm_path).map_err(|e| io(&wasm_path, e))?;
    // The installed file keeps the name the manifest gives it, if any.
    let wasm_name = match &manifest.component {
        Some(name) => name.as_os_str().to_owned(),
        None => wasm_path.file_name().map(ToOwned::to_owned).ok_or_else(|| bad("the component has no file name"))?,
    };
    Ok(PluginFiles { sha256: crate::digest::sha256_hex(&wasm), manifest, manifest_text, wasm, wasm_name })
}

/// Write `files` into a new staging folder in `plugins_dir`.
fn stage(files: &PluginFiles, plugins_dir: &Path) -> std::io::Result<tempfile::TempDir> {
    let staging = tempfile::Builder::new().prefix(".installing-").tempdir_in(plugins_dir)?;
    fs::write(staging.path().join(Manifest::FILE_NAME), &files.manifest_text)?;
    fs::write(staging.path().join(&files.wasm_name), &files.wasm)?;
    Ok(staging)
}

/// Move the staging folder to `dest` by renames, so a failure leaves the
/// installed version alone.
fn swap_in(staging: tempfile::TempDir, plugins_dir: &Path, dest: &Path, name: &str) -> std::io::Result<()> {
    let staged = staging.keep();
    if dest.exists() {
        let old = plugins_dir.join(format!(".replaced-{name}"));
        let _ = fs::remove_dir_all(&old);
        fs::rename(dest, &old)?;
        fs::rename(&staged, dest)?;
        let _ = fs::remove_dir_all(&old);
    } else {
        fs::rename(&staged, dest)?;
    }
    Ok(())
}
