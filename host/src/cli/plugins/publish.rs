//! `isaac plugins publish FOLDER oci://REGISTRY/REPO:TAG`

use std::path::PathBuf;

use clap::Args;

use crate::cli::{Context, Failure, output};
use crate::host::PluginFiles;
use crate::sources::{Source, oci};

/// Push a plugin folder to an OCI registry, in the CNCF wasm artifact
/// layout (the component as an `application/wasm` layer, its plugin.toml as
/// a layer of its own), and print the digest to pin it by.
///
/// The plugin is checked first exactly as `plugins add` checks it. Registry
/// credentials come from ISAAC_REGISTRY_TOKEN or the Docker credentials
/// file; plain HTTP only for a loopback registry.
#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The plugin folder (or a .wasm component with a plugin.toml beside it).
    folder: PathBuf,
    /// Where to push it: oci://REGISTRY/REPO:TAG.
    reference: String,
}

pub fn run(cx: &Context, args: PublishArgs) -> Result<u8, Failure> {
    let runtime = crate::cli::runtime()?;
    let host = cx.host()?;
    let Source::Oci(reference) = Source::parse(&args.reference)? else {
        return Err(anyhow::anyhow!("{}: publish to an OCI reference, oci://REGISTRY/REPO:TAG", args.reference).into());
    };
    if reference.digest().is_some() {
        return Err(
            anyhow::anyhow!("oci://{reference}: publish to a tag; the digest is what the registry answers").into()
        );
    }
    let files = PluginFiles::read(&args.folder)?;
    let plugin = runtime.block_on(host.preview(&files))?.plugin;
    let limits = host.settings().downloads();
    let wasm_name = files.wasm_name();
    let digest = runtime.block_on(oci::push(&reference, files.manifest_text(), files.wasm(), &wasm_name, limits))?;
    let pinned = format!("oci://{}/{}@{digest}", reference.registry(), reference.repository());
    if cx.json {
        output::json(&serde_json::json!({
            "name": plugin.name,
            "version": plugin.manifest.version,
            "reference": format!("oci://{reference}"),
            "digest": digest,
            "pinned": pinned,
        }));
    } else {
        output::line(&format!(
            "published {} {} to oci://{reference}\ndigest: {digest}\ninstall it with: isaac plugins add {pinned}",
            plugin.name, plugin.manifest.version
        ));
    }
    Ok(0)
}
