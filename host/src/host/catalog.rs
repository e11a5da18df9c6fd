//! The lazy way to a command: [`Host::catalog`] keeps the index fresh (a
//! `stat` of each plugin's two files; only a changed plugin is loaded, here,
//! once), a command is resolved against it, and only the plugin that owns
//! it is loaded. A qualified name (`plugin:command`) needs none of the
//! other plugins: it is checked against its own plugin's entry and files
//! alone, so `isaac run hello:hello` costs the same with 1 or 500 plugins
//! installed.

use std::collections::HashMap;
use std::path::Path;

use super::{Catalog, Host, HostError, LoadedPlugin, RunError};
use crate::error::Source;
use crate::index::{FileStamp, IndexEntry};
use crate::loader::{self, LoadError, PluginFailure, PluginSource};
use crate::manifest::Manifest;
use crate::metrics;

impl Host {
    /// The names of the installed plugins (their folders), sorted.
    pub fn installed(&self) -> Vec<String> {
        loader::plugin_dirs(&self.home.plugins_dir()).into_iter().map(|(name, _)| name).collect()
    }

    /// The installed plugins as indexed, after re-indexing the ones whose
    /// files changed (a `stat` of two files per plugin; only changed plugins
    /// are hashed and compiled).
    pub async fn catalog(&self) -> Result<Catalog, HostError> {
        let mut indexed: HashMap<String, IndexEntry> = self.index.all()?.into_iter().collect();
        let mut fresh = Vec::new();
        let mut stale = Vec::new();
        let mut failures = Vec::new();
        for (name, dir) in loader::plugin_dirs(&self.home.plugins_dir()) {
            match indexed.remove(&name) {
                Some(entry) if is_fresh(&dir, &entry) => fresh.push((name, entry)),
                _ => match loader::read_source(&dir, Some(&name)) {
                    Ok(source) => stale.push(source),
                    Err(error) => failures.push(PluginFailure { plugin: name, error }),
                },
            }
        }
        // What is left in `indexed` was removed from disk, or now fails to read.
        let gone: Vec<&str> = indexed.keys().map(String::as_str).collect();
        let mut new_entries = Vec::new();
        let mut loaded = HashMap::new();
        for (source, result) in self.load_sources(stale, &HashMap::new(), &|_| {}).await {
            new_entries.push(indexed_entry(source, result.as_ref()));
            if let Ok(plugin) = result {
                loaded.insert(plugin.name.clone(), plugin);
            }
        }
        let put: Vec<(&str, &IndexEntry)> = new_entries.iter().map(|(n, e)| (n.as_str(), e)).collect();
        self.index.update(&put, &gone)?;
        fresh.extend(new_entries);
        Ok(Catalog::new(fresh, failures, loaded))
    }

    /// What [`Host::run`] does before the call: resolve `name` and load
    /// the one plugin it needs. Returns the plugin and the command's name.
    pub(super) async fn prepare(&self, name: &str) -> Result<(LoadedPlugin, String), RunError> {
        if let Some((plugin_name, entry)) = self.qualified(name)? {
            let plugin = self.load_indexed(&plugin_name, &entry).await?;
            let command = name.rsplit_once(':').map_or(name, |(_, c)| c).to_owned();
            self.note_load(&plugin);
            return Ok((plugin, command));
        }
        let mut catalog = self.catalog().await?;
        let target = catalog.registry.resolve(name).map_err(|error| RunError::Resolve {
            error,
            unloaded: catalog.failures.iter().map(|f| f.plugin.clone()).collect(),
        })?;
        let (plugin_name, command) = catalog.registry.names(target);
        let (plugin_name, command) = (plugin_name.to_owned(), command.to_owned());
        // A plugin the catalog just re-indexed is loaded already.
        let plugin = match catalog.loaded.remove(&plugin_name) {
            Some(plugin) => plugin,
            None => {
                let (_, entry) = &catalog.entries[catalog.registry_entries[target.plugin]];
                self.load_indexed(&plugin_name, entry).await?
            }
        };
        self.note_load(&plugin);
        Ok((plugin, command))
    }

    /// For `plugin:command`, the plugin's index entry when it alone decides
    /// how the name resolves: the plugin is installed (a folder of that
    /// name, not a symlink), indexed, unchanged since (a `stat` of its two
    /// files) and loaded fine, and offers `command`. Command names have no
    /// `:`, so the qualified name is unique in the registry whatever the
    /// other plugins offer: they are neither read nor checked. `None`: let
    /// the full catalog decide (and re-index what changed).
    fn qualified(&self, name: &str) -> Result<Option<(String, IndexEntry)>, HostError> {
        let Some((plugin, command)) = name.rsplit_once(':') else { return Ok(None) };
        if plugin.is_empty() || plugin.starts_with('.') || plugin.contains('/') {
            return Ok(None);
        }
        let dir = self.home.plugin_dir(plugin);
        if !std::fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir()) {
            return Ok(None);
        }
        let Some(entry) = self.index.get(plugin)? else { return Ok(None) };
        let offers = entry.status.as_ref().is_ok_and(|meta| meta.commands.iter().any(|c| c.name == command));
        Ok((offers && is_fresh(&dir, &entry)).then(|| (plugin.to_owned(), entry)))
    }

    /// Note in the run record that `plugin` was loaded, and that start-up
    /// ends here.
    fn note_load(&self, plugin: &LoadedPlugin) {
        self.note(|r| {
            r.load_ms += plugin.load_time.as_secs_f64() * 1e3;
            r.plugins_loaded += 1;
            r.startup_ms = metrics::process_start().elapsed().as_secs_f64() * 1e3;
        });
    }

    /// Load one indexed plugin: hash its component, take its code from the
    /// cache (or compile it) and link it. Its metadata is asked again only if
    /// the component is not the one that was indexed.
    async fn load_indexed(&self, name: &str, entry: &IndexEntry) -> Result<LoadedPlugin, PluginFailure> {
        let source = PluginSource {
            dir: self.home.plugin_dir(name),
            manifest: entry.manifest.clone(),
            wasm: entry.wasm.clone(),
            manifest_stamp: entry.manifest_stamp,
            wasm_stamp: entry.wasm_stamp,
        };
        let known = HashMap::from([(name.to_owned(), entry.clone())]);
        let (source, result) = self.load_sources(vec![source], &known, &|_| {}).await.remove(0);
        // A new component, or newly compiled code: record its digests.
        if let Ok(plugin) = &result
            && entry.status.as_ref().is_ok_and(|m| *m != plugin.meta)
        {
            let (n, e) = indexed_entry(source, Ok(plugin));
            self.index.update(&[(&n, &e)], &[]).map_err(|e| PluginFailure {
                plugin: name.to_owned(),
                error: LoadError::Io { path: self.home.state_dir(), source: Source::new(e) },
            })?;
        }
        result.map_err(|error| PluginFailure { plugin: name.to_owned(), error })
    }
}

/// Whether the plugin in `dir` is as `entry` indexed it: both files have
/// the identities recorded then.
fn is_fresh(dir: &Path, entry: &IndexEntry) -> bool {
    FileStamp::of(&dir.join(Manifest::FILE_NAME)).is_ok_and(|s| s == entry.manifest_stamp)
        && FileStamp::of(&entry.wasm).is_ok_and(|s| s == entry.wasm_stamp)
}

/// The index entry of `source` after loading it: its metadata, or why it
/// did not load.
pub(super) fn indexed_entry(source: PluginSource, result: Result<&LoadedPlugin, &LoadError>) -> (String, IndexEntry) {
    let status = match result {
        Ok(plugin) => Ok(plugin.meta.clone()),
        Err(error) => Err(error.clone()),
    };
    let entry = IndexEntry {
        manifest: source.manifest.clone(),
        wasm: source.wasm,
        manifest_stamp: source.manifest_stamp,
        wasm_stamp: source.wasm_stamp,
        status,
    };
    (source.manifest.name, entry)
}
