//! `isaac plugins add` and `remove`: read a plugin once, check that those
//! bytes load, then install those same bytes (through a staging folder and
//! renames) and grant what was reviewed; clean up compiled code on removal.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs;
use std::path::Path;

use crate::cache::Namespace;
use crate::cache::clock::{Clock, SystemClock};
use crate::grants::{DirRefused, Grant};
use crate::loader::{self, LoadError, PluginFailure, PluginSource};
use crate::manifest::Manifest;
use crate::registry::ResolveError;
use crate::sources::{Provenance, Source, SourceError};
use crate::state::StateError;
use crate::tiers::{self, Tier};

use super::catalog::indexed_entry;
use super::{Catalog, GrantError, Host, HostError, InstallError, LoadedPlugin, RemoveError};

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

impl PluginFiles {
    /// Read the plugin at `path` (a plugin folder, or a `.wasm` file with a
    /// `plugin.toml` beside it) into memory, once, checking its manifest.
    pub fn read(path: &Path) -> Result<PluginFiles, InstallError> {
        read_plugin(path)
    }

    /// The text of its `plugin.toml`.
    pub fn manifest_text(&self) -> &str {
        &self.manifest_text
    }

    /// The component's bytes.
    pub fn wasm(&self) -> &[u8] {
        &self.wasm
    }

    /// The component's file name.
    pub fn wasm_name(&self) -> String {
        self.wasm_name.to_string_lossy().into_owned()
    }
}

/// What an install does about the plugin's grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantAction {
    /// Grant nothing: a plugin that asks for anything waits for `isaac
    /// plugins grant`.
    Nothing,
    /// Grant what the manifest asks for: the user reviewed it.
    Reviewed,
    /// Move the installed version's grant to the new component when this
    /// is an update ([`InstallOptions::updating`]), the new one comes from
    /// the same origin and asks for exactly what was granted; else grant
    /// nothing.
    Carry,
}

/// How to install.
#[derive(Debug, Clone, Copy)]
pub struct InstallOptions<'a> {
    /// Replace an installed plugin of the same name.
    pub force: bool,
    /// The installed plugin this install updates, if it is an update: the
    /// new files must carry its name and may not add a command another
    /// installed plugin offers.
    pub updating: Option<&'a str>,
    /// What to do about its grant.
    pub grant: GrantAction,
    /// Where it came from (recorded, shown by `plugins info`).
    pub provenance: &'a Provenance,
}

impl Host {
    /// Read the plugin at `path` into memory, once ([`PluginFiles::read`]).
    pub fn read_plugin(&self, path: &Path) -> Result<PluginFiles, InstallError> {
        read_plugin(path)
    }

    /// Fetch the plugin `source` names into memory: read a folder, or
    /// download an archive or an OCI artifact (within the `[downloads]`
    /// limits) and read what it unpacks to exactly as a folder is read. A
    /// URL's archive must hash to `pin` when one is given (hex).
    pub async fn fetch(
        &self,
        source: &Source,
        pin: Option<&str>,
        progress: crate::sources::Progress<'_>,
    ) -> Result<(PluginFiles, Provenance), InstallError> {
        let limits = self.settings.downloads();
        let parent = self.home.plugins_dir();
        match source {
            Source::Folder(path) => {
                let files = read_plugin(path)?;
                let provenance = Provenance::new(source, &files.sha256);
                Ok((files, provenance))
            }
            Source::Url(url) => {
                let (bytes, digest) = crate::sources::download(url, limits, progress).await?;
                if let Some(expected) = pin
                    && expected != digest
                {
                    let location = url.to_string();
                    return Err(SourceError::Digest { location, expected: expected.to_owned(), actual: digest }.into());
                }
                let dir = crate::sources::temp_dir(&parent)?;
                let folder = crate::sources::archive::unpack(&bytes, dir.path(), url.as_str(), limits)?;
                Ok((read_plugin(&folder)?, Provenance::new(source, &digest)))
            }
            Source::Oci(reference) => {
                let pulled = crate::sources::oci::pull(reference, &parent, limits, progress).await?;
                Ok((read_plugin(&pulled.folder)?, Provenance::new(source, &pulled.digest)))
            }
        }
    }

    /// Install the plugin at `path`: [`read_plugin`](Self::read_plugin),
    /// then [`install_files`](Self::install_files) without granting.
    pub async fn install(&self, path: &Path, force: bool) -> Result<Installed, InstallError> {
        let files = self.read_plugin(path)?;
        let provenance = Provenance::new(&Source::Folder(path.to_owned()), &files.sha256);
        let options = InstallOptions { force, updating: None, grant: GrantAction::Nothing, provenance: &provenance };
        self.install_files(&files, &options).await
    }

    /// Install `files` into `$ISAAC_HOME/plugins/NAME/`: write those bytes
    /// to a staging folder, check that they load, and move them in place;
    /// record where they came from.
    ///
    /// Replacing an installed plugin needs `force`. A plugin from another
    /// origin than the installed one (see [`Source::origin`]) inherits
    /// neither its grant nor its cache namespace: both are dropped when it
    /// replaces it. The grant is then what [`GrantAction`] says, pinned to
    /// `files`' component (the request the user reviewed, on the bytes
    /// installed).
    pub async fn install_files(
        &self,
        files: &PluginFiles,
        options: &InstallOptions<'_>,
    ) -> Result<Installed, InstallError> {
        let staged = self.preview(files).await?;
        self.install_staged(files, staged, options).await
    }

    /// [`install_files`](Self::install_files) with `files` already staged
    /// and loaded by [`preview`](Self::preview) (an update shows what it
    /// would install first): they are not loaded again.
    pub async fn install_staged(
        &self,
        files: &PluginFiles,
        staged: Staged,
        options: &InstallOptions<'_>,
    ) -> Result<Installed, InstallError> {
        let Staged { dir: staging, plugin } = staged;
        if plugin.meta.sha256 != files.sha256 {
            return Err(InstallError::Changed { dir: staging.path().to_owned() });
        }
        let name = files.manifest.name.clone();
        if let Some(installed) = options.updating
            && installed != name
        {
            return Err(InstallError::NameChanged { installed: installed.to_owned(), new: name });
        }
        let dest = self.home.plugin_dir(&name);
        let previous_source = self.sources.get(&name)?;
        let installed = dest.exists();
        let new_origin = options.provenance.origin();
        let other_origin = previous_source.map(|p| p.origin()).filter(|old| installed && *old != new_origin);
        if installed && !options.force {
            return Err(match other_origin {
                Some(installed) => InstallError::OtherOrigin { name, installed, new: new_origin },
                None => InstallError::Exists(name),
            });
        }
        let plugins_dir = self.home.plugins_dir();
        let copy_err = |source: std::io::Error| InstallError::Copy { dir: dest.clone(), source };
        let failure = |error| InstallError::Invalid(PluginFailure { plugin: name.clone(), error });
        if options.updating.is_some() {
            let catalog = self.catalog().await.map_err(|e| InstallError::Reindex(Box::new(e)))?;
            let taken = taken_commands(&catalog, &name, &plugin);
            if !taken.is_empty() {
                return Err(InstallError::TakesCommands { name, commands: taken });
            }
        }
        let grant = match options.grant {
            GrantAction::Reviewed => {
                Some(self.grant_for(&files.manifest, &files.sha256).map_err(|e| failure(LoadError::Grant(e)))?)
            }
            GrantAction::Carry if other_origin.is_none() && options.updating.is_some() => {
                self.carried(&name, &files.manifest, &files.sha256)?
            }
            GrantAction::Carry | GrantAction::Nothing => None,
        };
        let previous = self.index.all()?.into_iter().find(|(n, _)| *n == name).map(|(_, e)| e);
        swap_in(staging, &plugins_dir, &dest, &name).map_err(copy_err)?;
        // The staged files, renamed in place: the same manifest, the same
        // inodes (a rename stamps neither file anew).
        let (manifest_stamp, wasm_stamp) = plugin.stamps;
        let wasm = dest.join(&files.wasm_name);
        let installed_source =
            PluginSource { dir: dest.clone(), manifest: files.manifest.clone(), wasm, manifest_stamp, wasm_stamp };
        if let Some(Ok(old)) = previous.as_ref().map(|e| &e.status)
            && old.sha256 != plugin.meta.sha256
        {
            self.compiled.remove(&old.sha256);
        }
        if plugin.meta.tier == Tier::Baseline {
            // Runs on Winch code now; the optimised code is compiled from
            // the installed file (the staged one is gone).
            tiers::spawn_optimizer(&self.settings, &installed_source.wasm, &plugin.meta.sha256);
        }
        let (n, e) = indexed_entry(installed_source, Ok(&plugin));
        self.index.update(&[(&n, &e)], &[])?;
        if other_origin.is_some() {
            self.grants.remove(&name)?;
            self.cache()
                .purge(&Namespace::plugin(&name))
                .map_err(|e| InstallError::Purge { name: name.clone(), error: e })?;
        }
        if let Some(grant) = &grant {
            self.grants.put(&name, grant)?;
        }
        self.sources.put(&name, options.provenance)?;
        let catalog = self.catalog().await.map_err(|e| match e {
            HostError::State(e) => InstallError::State(e),
            other => InstallError::Reindex(Box::new(other)),
        })?;
        let shared = shared_commands(&catalog, &name);
        Ok(Installed {
            plugin,
            replaced: installed,
            shared_commands: shared,
            replaced_origin: other_origin,
            granted: grant.is_some(),
        })
    }

    /// Check that `files` load (compiled, asked for their metadata) without
    /// installing them: written to a staging folder in the plugins folder
    /// and loaded from there, the plugin as it would be installed.
    pub async fn preview(&self, files: &PluginFiles) -> Result<Staged, InstallError> {
        let name = &files.manifest.name;
        let plugins_dir = self.home.plugins_dir();
        let staging =
            stage(files, &plugins_dir).map_err(|source| InstallError::Copy { dir: plugins_dir.clone(), source })?;
        let failure = |error| InstallError::Invalid(PluginFailure { plugin: name.clone(), error });
        let staged = loader::read_source(staging.path(), Some(name)).map_err(failure)?;
        let (_, result) = self.load_sources(vec![staged], &HashMap::new(), &|_| {}).await.remove(0);
        let plugin = result.map_err(failure)?;
        if plugin.meta.sha256 != files.sha256 {
            return Err(InstallError::Changed { dir: staging.path().to_owned() });
        }
        Ok(Staged { dir: staging, plugin })
    }

    /// The installed plugin `name`'s grant moved to the component `sha256`
    /// of `manifest`, when that asks for exactly what was granted.
    fn carried(&self, name: &str, manifest: &Manifest, sha256: &str) -> Result<Option<Grant>, StateError> {
        let request = self.request(manifest);
        Ok(self
            .grants
            .get(name)?
            .filter(|g| g.permissions == request.permissions && g.limits == request.limits)
            .map(|g| Grant { sha256: sha256.to_owned(), ..g }))
    }

    /// The grant of what `manifest` asks for, pinned to the component with
    /// digest `sha256`, its directories checked and their identities taken now.
    fn grant_for(&self, manifest: &Manifest, sha256: &str) -> Result<Grant, DirRefused> {
        let request = self.request(manifest);
        let dirs = request.grant_dirs(&self.protected, self.settings.user_home())?;
        Ok(Grant {
            sha256: sha256.to_owned(),
            permissions: request.permissions,
            limits: request.limits,
            dirs,
            granted_at_ms: SystemClock.now_ms(),
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
        self.sources.remove(name)?;
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
    /// The origin of the installed plugin it replaced, when that was
    /// another one (its grant and cached data were dropped).
    pub replaced_origin: Option<String>,
    /// Whether it was granted (reviewed, or carried over).
    pub granted: bool,
}

/// The commands `new` offers that the installed plugin `name` did not and
/// another installed plugin does, each with that plugin.
pub fn taken_commands(catalog: &Catalog, name: &str, new: &LoadedPlugin) -> Vec<(String, String)> {
    let had = |command: &str| {
        catalog
            .entry(name)
            .and_then(|e| e.status.as_ref().ok())
            .is_some_and(|m| m.commands.iter().any(|c| c.name == command))
    };
    let owner = |command: &str| {
        catalog.entries.iter().find_map(|(other, entry)| {
            let offers = entry.status.as_ref().is_ok_and(|m| m.commands.iter().any(|c| c.name == command));
            (other != name && offers).then(|| other.clone())
        })
    };
    new.meta
        .commands
        .iter()
        .filter(|c| !had(&c.name))
        .filter_map(|c| owner(&c.name).map(|other| (c.name.clone(), other)))
        .collect()
}

fn shared_commands(catalog: &Catalog, name: &str) -> Vec<String> {
    let Some(Ok(meta)) = catalog.entry(name).map(|e| &e.status) else { return Vec::new() };
    meta.commands
        .iter()
        .filter(|c| matches!(catalog.registry.resolve(&c.name), Err(ResolveError::Ambiguous { .. })))
        .map(|c| c.name.clone())
        .collect()
}

/// A plugin written to a staging folder and loaded from there
/// ([`Host::preview`]); [`Host::install_staged`] moves it in place. Dropped,
/// the staging folder is removed.
pub struct Staged {
    dir: tempfile::TempDir,
    /// The plugin as it would be installed.
    pub plugin: LoadedPlugin,
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
    let io = |p: &Path, e: std::io::Error| {
        invalid(LoadError::Io { path: p.to_owned(), source: crate::error::Source::new(e) })
    };
    let loader::Folder { manifest, manifest_text, wasm: wasm_path } =
        loader::read_folder(&dir, named_wasm).map_err(invalid)?;
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
