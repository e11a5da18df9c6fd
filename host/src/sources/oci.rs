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
//! A pull reads the image manifest (checked against the reference's digest
//! when it has one), checks the layout and the declared sizes against the
//! [`DownloadLimits`], then streams each blob, refusing more bytes than its
//! descriptor declares, and checks its sha256 against the descriptor.
//! Plain HTTP is used only for a loopback registry.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use futures::StreamExt;
use oci_client::client::{ClientConfig, ClientProtocol, Config, ImageLayer};
use oci_client::manifest::{OciDescriptor, OciImageManifest};
use oci_client::{Client, Reference};

use super::{DownloadLimits, Progress, SourceError, auth, is_loopback_host, temp_dir};
use crate::error::one_line;
use crate::manifest::Manifest;

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
    let (client, auth, note) = client(reference);
    let run = client.fetch_manifest_digest(reference, &auth);
    let digest = timed(reference, limits, run).await?.map_err(|e| registry_error(reference, &e, note.as_deref()))?;
    Ok(digest)
}

/// Pull the plugin at `reference` into a new folder in `parent`.
pub async fn pull(
    reference: &Reference,
    parent: &Path,
    limits: &DownloadLimits,
    progress: Progress<'_>,
) -> Result<Pulled, SourceError> {
    let (client, auth, note) = client(reference);
    let error = |e: oci_client::errors::OciDistributionError| registry_error(reference, &e, note.as_deref());
    let refused = |message: String| SourceError::Refused { location: format!("oci://{reference}"), message };
    let work = async {
        let (manifest, digest) = client.pull_image_manifest(reference, &auth).await.map_err(error)?;
        if manifest.config.media_type != CONFIG_MEDIA_TYPE {
            return Err(refused(format!(
                "not a wasm component artifact: its config's media type is {:?}, not {CONFIG_MEDIA_TYPE:?}",
                manifest.config.media_type
            )));
        }
        let wasm = only_layer(&manifest, WASM_MEDIA_TYPE).map_err(refused)?;
        let toml = only_layer(&manifest, MANIFEST_MEDIA_TYPE).map_err(|why| {
            refused(format!("{why}: a plugin needs its plugin.toml (publish it with `isaac plugins publish`)"))
        })?;
        let total =
            [wasm, toml].iter().map(|d| u64::try_from(d.size).unwrap_or(u64::MAX)).fold(0u64, u64::saturating_add);
        if total > limits.max_bytes {
            return Err(SourceError::TooBig {
                location: format!("oci://{reference}"),
                message: format!("its layers declare {total} bytes, more than {} MiB", limits.max_bytes >> 20),
            });
        }
        let mut done = 0u64;
        let toml_bytes = blob(&client, reference, toml, &mut done, total, progress).await.map_err(error)?;
        let wasm_bytes = blob(&client, reference, wasm, &mut done, total, progress).await.map_err(error)?;
        let text = String::from_utf8(toml_bytes).map_err(|_| refused("its plugin.toml is not UTF-8".into()))?;
        Ok((digest, text, wasm_bytes))
    };
    let (digest, text, wasm_bytes) = timed(reference, limits, work).await??;
    let dir = temp_dir(parent)?;
    let folder = dir.path().to_owned();
    let io = |source| SourceError::Io { dir: folder.clone(), source };
    // The component's file name is the one the manifest names, else the
    // plugin's name; never one the registry chose.
    let wasm_name = Manifest::parse(Path::new(Manifest::FILE_NAME), &text).ok().map_or_else(
        || PathBuf::from("plugin.wasm"),
        |m| m.component.unwrap_or_else(|| format!("{}.wasm", m.name).into()),
    );
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
    let (client, auth, note) = client(reference);
    let error = |e: oci_client::errors::OciDistributionError| registry_error(reference, &e, note.as_deref());
    let title = |name: &str| Some(BTreeMap::from([(TITLE.to_owned(), name.to_owned())]));
    let layers = [
        ImageLayer::new(wasm.to_vec(), WASM_MEDIA_TYPE.to_owned(), title(wasm_name)),
        ImageLayer::new(manifest_text.as_bytes().to_vec(), MANIFEST_MEDIA_TYPE.to_owned(), title(Manifest::FILE_NAME)),
    ];
    let config = serde_json::json!({
        "architecture": "wasm",
        "os": "wasip2",
        "layerDigests": layers.iter().map(ImageLayer::sha256_digest).collect::<Vec<_>>(),
    });
    let config = Config::new(config.to_string().into_bytes(), CONFIG_MEDIA_TYPE.to_owned(), None);
    let mut manifest = OciImageManifest::build(&layers, &config, None);
    manifest.media_type = Some(IMAGE_MANIFEST.to_owned());
    let body = serde_json::to_vec(&manifest).expect("manifests serialize");
    let digest = format!("sha256:{}", crate::digest::sha256_hex(&body));
    let work = async {
        client.store_auth_if_needed(reference.resolve_registry(), &auth).await;
        for (layer, descriptor) in layers.iter().zip(&manifest.layers) {
            client.push_blob(reference, layer.data.clone(), &descriptor.digest).await.map_err(error)?;
        }
        client.push_blob(reference, config.data.clone(), &manifest.config.digest).await.map_err(error)?;
        let content_type = http::HeaderValue::from_static(IMAGE_MANIFEST);
        client.push_manifest_raw(reference, body, content_type).await.map_err(error)?;
        Ok(digest)
    };
    timed(reference, limits, work).await?
}

/// A client for `reference`'s registry, its credentials, and a note on them.
fn client(reference: &Reference) -> (Client, oci_client::secrets::RegistryAuth, Option<String>) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let registry = reference.resolve_registry().to_owned();
    let protocol = match is_loopback_host(&registry) {
        true => ClientProtocol::HttpsExcept(vec![registry.clone()]),
        false => ClientProtocol::Https,
    };
    let config = ClientConfig {
        protocol,
        connect_timeout: Some(std::time::Duration::from_secs(10)),
        read_timeout: Some(std::time::Duration::from_secs(30)),
        user_agent: concat!("isaac/", env!("CARGO_PKG_VERSION")),
        ..ClientConfig::default()
    };
    let (auth, note) = auth::for_registry(&registry);
    (Client::new(config), auth, note)
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

/// The one layer of `media_type`.
fn only_layer<'m>(manifest: &'m OciImageManifest, media_type: &str) -> Result<&'m OciDescriptor, String> {
    let mut found = manifest.layers.iter().filter(|l| l.media_type == media_type);
    match (found.next(), found.next()) {
        (Some(layer), None) => Ok(layer),
        (None, _) => Err(format!("it has no layer of media type {media_type:?}")),
        (Some(_), Some(_)) => Err(format!("it has several layers of media type {media_type:?}")),
    }
}

/// The blob of `descriptor`: no more bytes than it declares, hashed to its
/// digest.
async fn blob(
    client: &Client,
    reference: &Reference,
    descriptor: &OciDescriptor,
    done: &mut u64,
    total: u64,
    progress: Progress<'_>,
) -> Result<Vec<u8>, oci_client::errors::OciDistributionError> {
    use oci_client::errors::OciDistributionError as E;
    let declared = u64::try_from(descriptor.size).unwrap_or(0);
    let mut stream = client.pull_blob_stream(reference, descriptor).await?;
    let mut bytes = Vec::with_capacity(usize::try_from(declared).unwrap_or(0));
    let mismatch = |what: String| {
        E::GenericError(Some(format!("blob {} does not match its descriptor: {what}", descriptor.digest)))
    };
    while let Some(chunk) = stream.next().await {
        // The stream checks the digest too, and fails at its end.
        let chunk =
            chunk.map_err(|e| match e.get_ref().and_then(|i| i.downcast_ref::<oci_client::errors::DigestError>()) {
                Some(digest) => mismatch(digest.to_string()),
                None => E::IoError(e),
            })?;
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
fn registry_error(
    reference: &Reference,
    e: &oci_client::errors::OciDistributionError,
    note: Option<&str>,
) -> SourceError {
    use oci_client::errors::OciDistributionError as E;
    use oci_client::errors::OciErrorCode as C;
    let registry = reference.resolve_registry();
    let denied = |what: String| {
        format!(
            "the registry {registry} wants credentials, or refused the ones given ({what}); log in with `docker login {registry}` (isaac reads the credentials file it writes) or set {}",
            auth::TOKEN_VAR
        )
    };
    let mut message = match e {
        E::RequestError(r) if r.is_connect() || r.is_timeout() => {
            format!("cannot reach the registry {registry}: {}", one_line(r))
        }
        E::AuthenticationFailure(_) | E::UnauthorizedError { .. } => denied(one_line(e)),
        E::ServerError { code: 401 | 403, .. } => denied(format!("HTTP {}", one_line(e))),
        E::ImageManifestNotFoundError(_) => format!("no such tag or digest in {registry}: {}", one_line(e)),
        E::DigestError(_) => format!("a digest does not match: {}; nothing was installed", one_line(e)),
        E::RegistryError { envelope, .. } => {
            let said: Vec<String> = envelope.errors.iter().map(|e| format!("{:?}: {}", e.code, e.message)).collect();
            let said = said.join("; ");
            match envelope.errors.first().map(|e| &e.code) {
                Some(C::ManifestUnknown | C::NameUnknown) => format!(
                    "the registry {registry} has no such repository, tag or digest ({said}); check the reference, or publish it with `isaac plugins publish`"
                ),
                Some(C::Denied | C::Unauthorized) => denied(said),
                _ => format!("the registry {registry} answered: {said}"),
            }
        }
        other => one_line(other),
    };
    if let Some(note) = note {
        message.push_str(&format!(" ({note})"));
    }
    SourceError::Fetch { location: format!("oci://{reference}"), message }
}
