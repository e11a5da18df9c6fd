//! Every installed plugin loaded, for `isaac plugins list` and long-lived
//! sessions: [`Host::load_all`], and [`Host::reload`], which loads again
//! only what changed since a previous load.

use std::collections::HashMap;
use std::time::Instant;

use super::catalog::indexed_entry;
use super::{Host, HostError, LoadReport, LoadedPlugin, ReloadSummary};
use crate::index::IndexEntry;
use crate::loader::{self, PluginFailure, Progress};
use crate::metrics;
use crate::registry::Registry;

impl Host {
    /// Load every installed plugin: compile what the compiled-code cache
    /// lacks, in parallel with [`Host::jobs`] threads, link each and index
    /// them all. `progress` is called as each plugin's code is ready.
    pub async fn load_all(&self, progress: Progress<'_>) -> Result<LoadReport, HostError> {
        Ok(self.reload(None, progress).await?.0)
    }

    /// Re-scan the installed plugins and load what changed since `previous`
    /// was loaded (new plugins, and plugins whose files changed), keeping the
    /// rest as they are.
    pub async fn reload(
        &self,
        previous: Option<LoadReport>,
        progress: Progress<'_>,
    ) -> Result<(LoadReport, ReloadSummary), HostError> {
        let start = Instant::now();
        let mut before: HashMap<String, LoadedPlugin> =
            previous.map(|p| p.plugins.into_iter().map(|p| (p.name.clone(), p)).collect()).unwrap_or_default();
        let known: HashMap<String, IndexEntry> = self.index.all()?.into_iter().collect();
        let mut summary = ReloadSummary::default();
        let (mut plugins, mut failures, mut sources) = (Vec::new(), Vec::new(), Vec::new());
        let mut installed = Vec::new();
        for found in loader::discover(&self.home.plugins_dir()) {
            installed.push(match &found {
                Ok(source) => source.manifest.name.clone(),
                Err(failure) => failure.plugin.clone(),
            });
            match found {
                Ok(source) => match before.remove(&source.manifest.name) {
                    Some(plugin) if plugin.stamps == (source.manifest_stamp, source.wasm_stamp) => {
                        summary.kept += 1;
                        plugins.push(plugin);
                    }
                    Some(_) => {
                        summary.changed.push(source.manifest.name.clone());
                        sources.push(source);
                    }
                    None => {
                        summary.added.push(source.manifest.name.clone());
                        sources.push(source);
                    }
                },
                Err(failure) => failures.push(failure),
            }
        }
        summary.removed = before.into_keys().collect();
        summary.removed.sort();
        let mut entries = Vec::new();
        for (source, result) in self.load_sources(sources, &known, progress).await {
            entries.push(indexed_entry(source.clone(), result.as_ref()));
            match result {
                Ok(plugin) => plugins.push(plugin),
                Err(error) => failures.push(PluginFailure { plugin: source.manifest.name, error }),
            }
        }
        let put: Vec<(&str, &IndexEntry)> = entries.iter().map(|(n, e)| (n.as_str(), e)).collect();
        let gone: Vec<&str> = known.keys().filter(|k| !installed.contains(k)).map(String::as_str).collect();
        self.index.update(&put, &gone)?;
        plugins.sort_by(|a, b| a.name.cmp(&b.name));
        failures.sort_by(|a, b| a.plugin.cmp(&b.plugin));
        summary.failed = failures.iter().map(|f| f.plugin.clone()).collect();
        let registry = Registry::new(
            plugins
                .iter()
                .map(|p| (p.name.clone(), p.meta.commands.iter().map(|c| c.name.clone()).collect()))
                .collect(),
        );
        let elapsed = start.elapsed();
        self.note(|r| {
            r.load_ms += elapsed.as_secs_f64() * 1e3;
            r.plugins_loaded = plugins.len() as u64;
            r.startup_ms = metrics::process_start().elapsed().as_secs_f64() * 1e3;
        });
        Ok((LoadReport { plugins, failures, registry, elapsed }, summary))
    }
}
