//! Plugins in OCI registries, in the CNCF wasm artifact layout that `wkg`
//! and Spin use, through `oci-client`:
//!
//! - config: media type [`CONFIG_MEDIA_TYPE`]
//!   (`application/vnd.wasm.config.v0+json`), `{"architecture": "wasm",
//!   "os": "wasip2", "layerDigests": [...]}`;
//! - the component: a layer of media type [`WASM_MEDIA_TYPE`]
//!   (`application/wasm`), titled with its file name;
//! - its `plugin.toml`: a layer of media type [`MANIFEST_MEDIA_TYPE`]
//!   (`application/vnd.isaac.plugin.manifest.v1+toml`), which other tools
//!   ignore.
//!
//! A pull reads the image manifest (at most 4 MiB, checked against the
//! reference's digest when it has one), checks the layout and the declared
//! sizes against the [`DownloadLimits`], then streams each blob, refusing
//! more bytes than its descriptor declares, and checks its sha256 against
//! the descriptor. Plain HTTP is used only for a loopback registry. The
//! client ([`client`]) keeps the fetch rules of [`super::net`] and sends a
//! registry's credentials to it alone.

mod client;
mod reference;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use reference::{Reference, ReferenceError};

use super::{DownloadLimits, Progress, SourceError, auth, temp_dir};
use crate::manifest::{self, Manifest};
use client::{Failed, Registry};

/// The config media type of a wasm component artifact.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.wasm.config.v0+json";
/// The media type of the component layer.
pub const WASM_MEDIA_TYPE: &str = "application/wasm";
/// The media type of the `plugin.toml` layer.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.isaac.plugin.manifest.v1+toml";
/// The annotation naming a layer's file.
const TITLE: &str = "org.opencontainers.image.title";
/// The media type of the image manifest pushed.
const IMAGE_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// An OCI image manifest (the fields isaac reads and writes).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ImageManifest {
    schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    media_type: Option<String>,
    config: Descriptor,
    layers: Vec<Descriptor>,
}

/// A content descriptor.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor {
    media_type: String,
    digest: String,
    size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    annotations: Option<BTreeMap<String, String>>,
}

impl Descriptor {
    fn of(bytes: &[u8], media_type: &str, title: Option<&str>) -> Self {
        Descriptor {
            media_type: media_type.to_owned(),
            digest: format!("sha256:{}", crate::digest::sha256_hex(bytes)),
            size: bytes.len() as u64,
            annotations: title.map(|t| BTreeMap::from([(TITLE.to_owned(), t.to_owned())])),
        }
    }
}

/// A plugin pulled into a temporary folder.
pub struct Pulled {
    /// The temporary folder (deleted when dropped).
    pub dir: tempfile::TempDir,
    /// The plugin folder in it.
    pub folder: PathBuf,
    /// `sha256:HEX` of the image manifest.
    pub digest: String,
}

/// The digest `reference` resolves to now (a HEAD request), to tell
/// whether an update has anything new.
pub async fn resolve(reference: &Reference, limits: &DownloadLimits) -> Result<String, SourceError> {
    let registry = registry(reference, limits)?;
    let work = registry.manifest_digest(reference.repository(), reference.version());
    timed(reference, limits, work).await?.map_err(|e| registry_error(reference, &registry, e))
}

/// Pull the plugin at `reference` into a new folder in `parent`.
pub async fn pull(
    reference: &Reference,
    parent: &Path,
    limits: &DownloadLimits,
    progress: Progress<'_>,
) -> Result<Pulled, SourceError> {
    let registry = registry(reference, limits)?;
    let error = |e: Failed| registry_error(reference, &registry, e);
    let refused = |message: String| SourceError::Refused { location: format!("oci://{reference}"), message };
    let work = async {
        let (body, digest) = registry.manifest(reference.repository(), reference.version()).await.map_err(error)?;
        if let Some(pinned) = reference.digest()
            && pinned != digest
        {
            let location = format!("oci://{reference}");
            return Err(SourceError::Digest { location, expected: pinned.to_owned(), actual: digest });
        }
        let manifest: ImageManifest = serde_json::from_slice(&body)
            .map_err(|e| refused(format!("its manifest is not an OCI image manifest: {e}")))?;
        if manifest.config.media_type != CONFIG_MEDIA_TYPE {
            return Err(refused(format!(
                "not a wasm component artifact: its config's media type is {:?}, not {CONFIG_MEDIA_TYPE:?}",
                manifest.config.media_type
            )));
        }
        let wasm = only_layer(&manifest, WASM_MEDIA_TYPE).map_err(|why| refused(why.to_string()))?;
        let toml = only_layer(&manifest, MANIFEST_MEDIA_TYPE).map_err(|why| {
            refused(format!("{why}: a plugin needs its plugin.toml (publish it with `isaac plugins publish`)"))
        })?;
        let total = wasm.size.saturating_add(toml.size);
        if total > limits.max_bytes {
            return Err(SourceError::TooBig {
                location: format!("oci://{reference}"),
                message: format!("its layers declare {total} bytes, more than {} MiB", limits.max_bytes >> 20),
            });
        }
        let mut done = 0u64;
        let toml_bytes = blob(&registry, reference, toml, &mut done, total, progress).await.map_err(error)?;
        let wasm_bytes = blob(&registry, reference, wasm, &mut done, total, progress).await.map_err(error)?;
        let text = String::from_utf8(toml_bytes).map_err(|_| refused("its plugin.toml is not UTF-8".into()))?;
        Ok((digest, text, wasm_bytes))
    };
    let (digest, text, wasm_bytes) = timed(reference, limits, work).await??;
    let dir = temp_dir(parent)?;
    let folder = dir.path().to_owned();
    let io = |source| SourceError::Io { dir: folder.clone(), source };
    // The component's file name is the one the manifest names, else the
    // plugin's name; never one the registry chose.
    let wasm_name = manifest::component_file(&text).unwrap_or_else(|| PathBuf::from("plugin.wasm"));
    std::fs::write(folder.join(Manifest::FILE_NAME), &text).map_err(io)?;
    std::fs::write(folder.join(wasm_name), &wasm_bytes).map_err(io)?;
    Ok(Pulled { dir, folder, digest })
}

/// Push a plugin (its `plugin.toml` text, its component's bytes and file
/// name) to `reference`; returns the manifest's digest, `sha256:HEX`.
pub async fn push(
    reference: &Reference,
    manifest_text: &str,
    wasm: &[u8],
    wasm_name: &str,
    limits: &DownloadLimits,
) -> Result<String, SourceError> {
    let registry = registry(reference, limits)?;
    let error = |e: Failed| registry_error(reference, &registry, e);
    let layers = [
        (wasm, Descriptor::of(wasm, WASM_MEDIA_TYPE, Some(wasm_name))),
        (
            manifest_text.as_bytes(),
            Descriptor::of(manifest_text.as_bytes(), MANIFEST_MEDIA_TYPE, Some(Manifest::FILE_NAME)),
        ),
    ];
    let config = serde_json::json!({
        "architecture": "wasm",
        "os": "wasip2",
        "layerDigests": layers.iter().map(|(_, d)| d.digest.clone()).collect::<Vec<_>>(),
    })
    .to_string();
    let config_descriptor = Descriptor::of(config.as_bytes(), CONFIG_MEDIA_TYPE, None);
    let manifest = ImageManifest {
        schema_version: 2,
        media_type: Some(IMAGE_MANIFEST.to_owned()),
        config: config_descriptor.clone(),
        layers: layers.iter().map(|(_, d)| d.clone()).collect(),
    };
    let body = serde_json::to_vec(&manifest).expect("manifests serialize");
    let digest = format!("sha256:{}", crate::digest::sha256_hex(&body));
    let repository = reference.repository();
    let work = async {
        for (bytes, descriptor) in &layers {
            registry.push_blob(repository, &descriptor.digest, bytes).await.map_err(error)?;
        }
        registry.push_blob(repository, &config_descriptor.digest, config.as_bytes()).await.map_err(error)?;
        registry.put_manifest(repository, reference.version(), &body, IMAGE_MANIFEST).await.map_err(error)?;
        Ok(digest)
    };
    timed(reference, limits, work).await?
}

/// A client of `reference`'s registry.
fn registry(reference: &Reference, limits: &DownloadLimits) -> Result<Registry, SourceError> {
    Registry::new(reference, limits.timeout, &limits.registries).map_err(|e| registry_error_bare(reference, e))
}

/// `work`, within the time limit.
async fn timed<T>(
    reference: &Reference,
    limits: &DownloadLimits,
    work: impl Future<Output = T>,
) -> Result<T, SourceError> {
    tokio::time::timeout(limits.timeout, work).await.map_err(|_| SourceError::Fetch {
        location: format!("oci://{reference}"),
        message: format!("the registry did not finish within {} s", limits.timeout.as_secs()),
    })
}

/// An artifact without exactly one layer of a media type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum LayerProblem {
    /// None.
    #[error("it has no layer of media type {0:?}")]
    Missing(String),
    /// Several.
    #[error("it has several layers of media type {0:?}")]
    Several(String),
}

/// The one layer of `media_type`.
fn only_layer<'m>(manifest: &'m ImageManifest, media_type: &str) -> Result<&'m Descriptor, LayerProblem> {
    let mut found = manifest.layers.iter().filter(|l| l.media_type == media_type);
    match (found.next(), found.next()) {
        (Some(layer), None) => Ok(layer),
        (None, _) => Err(LayerProblem::Missing(media_type.to_owned())),
        (Some(_), Some(_)) => Err(LayerProblem::Several(media_type.to_owned())),
    }
}

/// The blob of `descriptor`: no more bytes than it declares, hashed to its
/// digest.
async fn blob(
    registry: &Registry,
    reference: &Reference,
    descriptor: &Descriptor,
    done: &mut u64,
    total: u64,
    progress: Progress<'_>,
) -> Result<Vec<u8>, Failed> {
    let declared = descriptor.size;
    let mismatch =
        |what: String| Failed::Other(format!("blob {} does not match its descriptor: {what}", descriptor.digest));
    if super::parse_sha256(&descriptor.digest).is_err() || !descriptor.digest.starts_with("sha256:") {
        return Err(mismatch("its digest is not sha256:HEX".into()));
    }
    let mut response = registry.blob(reference.repository(), &descriptor.digest).await?;
    let mut bytes = Vec::with_capacity(usize::try_from(declared).unwrap_or(0));
    while let Some(chunk) = response.chunk().await.map_err(|e| Failed::Unreachable(crate::error::one_line(&e)))? {
        if (bytes.len() + chunk.len()) as u64 > declared {
            return Err(mismatch(format!("more than the {declared} bytes it declares")));
        }
        bytes.extend_from_slice(&chunk);
        *done += chunk.len() as u64;
        progress(*done, Some(total));
    }
    let actual = format!("sha256:{}", crate::digest::sha256_hex(&bytes));
    if actual != descriptor.digest || bytes.len() as u64 != declared {
        return Err(mismatch(format!("{} bytes hashing to {actual}", bytes.len())));
    }
    Ok(bytes)
}

/// What went wrong at the registry, in words that say what to do.
fn registry_error(reference: &Reference, registry: &Registry, e: Failed) -> SourceError {
    let mut error = registry_error_bare(reference, e);
    if let (SourceError::Fetch { message, .. }, Some(note)) = (&mut error, &registry.note) {
        message.push_str(&format!(" ({note})"));
    }
    error
}

fn registry_error_bare(reference: &Reference, e: Failed) -> SourceError {
    let registry = reference.registry();
    let message = match e {
        Failed::Unreachable(why) => format!("cannot reach the registry {registry}: {why}"),
        Failed::Denied(why) => format!(
            "the registry {registry} wants credentials, or refused the ones given ({why}); log in with `docker login {registry}` (isaac reads the credentials file it writes) or set {}={registry}=TOKEN",
            auth::TOKEN_VAR
        ),
        Failed::NotFound(why) => format!(
            "the registry {registry} has no such repository, tag or digest ({why}); check the reference, or publish it with `isaac plugins publish`"
        ),
        Failed::Other(why) => format!("the registry {registry}: {why}"),
    };
    SourceError::Fetch { location: format!("oci://{reference}"), message }
}
