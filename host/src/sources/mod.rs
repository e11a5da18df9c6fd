//! Where plugins come from, and how they are fetched.
//!
//! `isaac plugins add` takes a [`Source`]:
//! - a folder (or a `.wasm` file with a `plugin.toml` beside it);
//! - `https://…/plugin.tar.gz`: a gzip'd tar of a plugin folder, pinned by
//!   the sha256 of the archive (one digest covers the component and its
//!   manifest); see [`archive`] for what an archive may hold;
//! - `oci://REGISTRY/REPO:TAG` or `…@sha256:DIGEST`: the CNCF wasm artifact
//!   layout in an OCI registry (see [`oci`]), every blob checked against its
//!   digest.
//!
//! Plain `http://` (and a registry without TLS) is allowed for loopback
//! hosts only, and redirects are followed only as [`net`] allows (never
//! from https to http, never to a special address the user did not name,
//! credentials never across hosts). Every byte read is bounded
//! ([`DownloadLimits`]: bytes, time, unpacked bytes, entries; a registry's
//! manifests and answers at small fixed caps). What was fetched lands in a temporary folder
//! that the host then reads exactly as it reads a local folder.
//!
//! Each installed plugin's [`Provenance`] (where it came from and the digest
//! of what was fetched) is kept in the home's LMDB environment ([`store`]).

pub use crate::settings::DownloadLimits;

pub mod archive;
pub mod auth;
mod download;
pub(crate) mod net;
pub mod oci;
pub mod store;

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cache::clock::{Clock, SystemClock};

pub use download::download;

/// Where a plugin comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A folder, or a `.wasm` file with a `plugin.toml` beside it.
    Folder(PathBuf),
    /// A `.tar.gz` of a plugin folder.
    Url(reqwest::Url),
    /// An OCI reference (without the `oci://`).
    Oci(oci::Reference),
}

/// Which kind of [`Source`] a plugin came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// A local folder.
    Folder,
    /// An archive at a URL.
    Url,
    /// An OCI registry.
    Oci,
}

/// Where an installed plugin came from, as recorded at install.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// The kind of source.
    pub kind: SourceKind,
    /// The folder's absolute path, the URL, or `oci://REGISTRY/REPO:TAG`
    /// (or `@sha256:…`) as given.
    pub location: String,
    /// `sha256:HEX` of what was fetched: the component (folder), the
    /// archive (URL) or the OCI manifest (registry).
    pub digest: String,
    /// When, ms since the Unix epoch.
    pub fetched_at_ms: u64,
}

/// A fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The text is not a source.
    #[error("{text:?} is not a plugin source: {message}")]
    Parse {
        /// What was given.
        text: String,
        /// What is wrong, and what is accepted.
        message: String,
    },
    /// The server or registry could not be used.
    #[error("{location}: {message}")]
    Fetch {
        /// The URL or reference.
        location: String,
        /// What went wrong, and what to do.
        message: String,
    },
    /// What arrived is not what was pinned.
    #[error("{location}: sha256 mismatch: expected {expected}, got {actual}; nothing was installed")]
    Digest {
        /// The URL or reference.
        location: String,
        /// The pinned digest.
        expected: String,
        /// What the bytes hash to.
        actual: String,
    },
    /// The transfer itself failed.
    #[error("{location}: {what}")]
    Transfer {
        /// The URL.
        location: String,
        /// What was being done.
        what: &'static str,
        /// What the HTTP client said.
        #[source]
        source: reqwest::Error,
    },
    /// More than the limits allow.
    #[error("{location}: {message} (the limits are set in the config file's [downloads] table)")]
    TooBig {
        /// The URL or reference.
        location: String,
        /// Which limit.
        message: String,
    },
    /// The archive or artifact is not a plugin folder.
    #[error("{location}: {message}; nothing was installed")]
    Refused {
        /// The URL or reference.
        location: String,
        /// Why.
        message: String,
    },
    /// A temporary folder could not be written.
    #[error("cannot unpack the download into {}", dir.display())]
    Io {
        /// The folder.
        dir: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
}

/// Told how a download goes: bytes so far, and the total when known.
pub type Progress<'a> = &'a (dyn Fn(u64, Option<u64>) + Sync);

impl Source {
    /// Read a source as the user wrote it.
    pub fn parse(text: &str) -> Result<Source, SourceError> {
        let bad = |message: String| SourceError::Parse { text: text.to_owned(), message };
        if let Some(rest) = text.strip_prefix("oci://") {
            // The registry is named, never implied (no silent Docker Hub).
            let named = rest.split_once('/').is_some_and(|(r, _)| r.contains(['.', ':']) || r == "localhost");
            if !named {
                return Err(
                    bad("name the registry: oci://REGISTRY/REPO:TAG (e.g. oci://ghcr.io/me/plugin:1.0)".into()),
                );
            }
            let reference: oci::Reference = rest.parse().map_err(|e: oci::ReferenceError| {
                bad(format!("{e}; expected oci://REGISTRY/REPO:TAG or …@sha256:DIGEST"))
            })?;
            return Ok(Source::Oci(reference));
        }
        if text.starts_with("https://") || text.starts_with("http://") {
            let url = reqwest::Url::parse(text).map_err(|e| bad(e.to_string()))?;
            check_scheme(&url).map_err(|e| bad(e.to_string()))?;
            return Ok(Source::Url(url));
        }
        if let Some((scheme, _)) = text.split_once("://") {
            return Err(bad(format!(
                "unknown scheme `{scheme}://`: give a folder, an https:// URL of a .tar.gz, or oci://REGISTRY/REPO:TAG"
            )));
        }
        Ok(Source::Folder(PathBuf::from(text)))
    }

    /// The kind of source.
    pub fn kind(&self) -> SourceKind {
        match self {
            Source::Folder(_) => SourceKind::Folder,
            Source::Url(_) => SourceKind::Url,
            Source::Oci(_) => SourceKind::Oci,
        }
    }

    /// The source of what `provenance` records.
    pub fn of(provenance: &Provenance) -> Result<Source, SourceError> {
        match provenance.kind {
            SourceKind::Folder => Ok(Source::Folder(PathBuf::from(&provenance.location))),
            SourceKind::Url | SourceKind::Oci => Source::parse(&provenance.location),
        }
    }

    /// Who publishes what this source names: the folder, the URL, or the
    /// registry and repository (any tag or digest of one repository is the
    /// same origin). A plugin keeps its grant and its cached data only
    /// across updates from the same origin.
    pub fn origin(&self) -> String {
        match self {
            Source::Folder(path) => path.display().to_string(),
            Source::Url(url) => url.to_string(),
            Source::Oci(r) => format!("oci://{}/{}", r.registry(), r.repository()),
        }
    }

    /// Whether the source names fixed bytes: an OCI digest. (A URL is pinned
    /// by the `--sha256` given with it, not by itself.)
    pub fn pinned(&self) -> bool {
        matches!(self, Source::Oci(r) if r.digest().is_some())
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Folder(path) => write!(f, "{}", path.display()),
            Source::Url(url) => write!(f, "{url}"),
            Source::Oci(r) => write!(f, "oci://{r}"),
        }
    }
}

impl Provenance {
    /// A record of `source`, fetched now, whose bytes hash to `sha256_hex`.
    pub fn new(source: &Source, sha256_hex: &str) -> Self {
        let location = match source {
            Source::Folder(path) => std::path::absolute(path).unwrap_or_else(|_| path.clone()).display().to_string(),
            other => other.to_string(),
        };
        let digest = match sha256_hex.strip_prefix("sha256:") {
            Some(_) => sha256_hex.to_owned(),
            None => format!("sha256:{sha256_hex}"),
        };
        Provenance { kind: source.kind(), location, digest, fetched_at_ms: SystemClock.now_ms() }
    }

    /// The origin of the source (see [`Source::origin`]); the location
    /// itself when it no longer parses.
    pub fn origin(&self) -> String {
        Source::of(self).map_or_else(|_| self.location.clone(), |s| s.origin())
    }
}

/// A URL source whose scheme is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemeRefused {
    /// `http://` to a host that is not this machine.
    #[error("plain http:// is allowed only for loopback hosts (localhost, 127.0.0.1, [::1]): use https://")]
    PlainHttp,
    /// Neither `https` nor `http`.
    #[error("unsupported scheme `{0}`")]
    Unsupported(String),
}

/// `https`, or `http` to a loopback host.
fn check_scheme(url: &reqwest::Url) -> Result<(), SchemeRefused> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if url.host_str().is_some_and(is_loopback_host) => Ok(()),
        "http" => Err(SchemeRefused::PlainHttp),
        other => Err(SchemeRefused::Unsupported(other.to_owned())),
    }
}

/// Whether `host` (a name or an address, with or without a port or
/// brackets) is this machine's loopback.
pub fn is_loopback_host(host: &str) -> bool {
    let host = match host.rsplit_once(':') {
        // `[::1]:5000`, `127.0.0.1:5000`, `localhost:5000`; not a bare IPv6.
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) && (!h.contains(':') || h.ends_with(']')) => h,
        _ => host,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Text that is not a sha256 digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a sha256 digest (64 hex digits, optionally after `sha256:`)")]
pub struct NotASha256(pub String);

/// `sha256:HEX` or `HEX`, 64 lowercase hex digits, as `HEX`.
pub fn parse_sha256(text: &str) -> Result<String, NotASha256> {
    let hex = text.strip_prefix("sha256:").unwrap_or(text).to_ascii_lowercase();
    if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(hex)
    } else {
        Err(NotASha256(text.to_owned()))
    }
}

/// A new temporary folder for a download, in `parent`.
pub(crate) fn temp_dir(parent: &Path) -> Result<tempfile::TempDir, SourceError> {
    tempfile::Builder::new()
        .prefix(".downloading-")
        .tempdir_in(parent)
        .map_err(|source| SourceError::Io { dir: parent.to_owned(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_parse() {
        assert_eq!(Source::parse("plugins/hello").unwrap(), Source::Folder("plugins/hello".into()));
        assert!(matches!(Source::parse("https://example.com/p.tar.gz").unwrap(), Source::Url(_)));
        assert!(matches!(Source::parse("http://127.0.0.1:8080/p.tar.gz").unwrap(), Source::Url(_)));
        let err = Source::parse("http://example.com/p.tar.gz").unwrap_err().to_string();
        assert!(err.contains("only for loopback"), "{err}");
        let err = Source::parse("ftp://example.com/p.tar.gz").unwrap_err().to_string();
        assert!(err.contains("unknown scheme"), "{err}");
        let Source::Oci(r) = Source::parse("oci://localhost:5000/isaac/hello:1.0").unwrap() else { panic!() };
        assert_eq!((r.registry(), r.repository(), r.tag()), ("localhost:5000", "isaac/hello", Some("1.0")));
        assert!(Source::parse("oci://hello:1.0").unwrap_err().to_string().contains("name the registry"));
        let pinned = format!("oci://ghcr.io/me/p@sha256:{}", "a".repeat(64));
        assert!(Source::parse(&pinned).unwrap().pinned());
    }

    #[test]
    fn origins_ignore_tags() {
        let a = Source::parse("oci://ghcr.io/me/p:1.0").unwrap();
        let b = Source::parse(&format!("oci://ghcr.io/me/p@sha256:{}", "b".repeat(64))).unwrap();
        assert_eq!(a.origin(), b.origin());
        assert_ne!(a.origin(), Source::parse("oci://ghcr.io/other/p:1.0").unwrap().origin());
    }

    #[test]
    fn loopback_hosts() {
        for host in ["localhost", "LOCALHOST:5000", "127.0.0.1", "127.8.0.1:80", "[::1]:5000", "::1"] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in ["example.com", "10.0.0.1:5000", "localhost.example.com", "[::2]:5000"] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }

    #[test]
    fn digests_parse() {
        let hex = "ab".repeat(32);
        assert_eq!(parse_sha256(&format!("sha256:{}", hex.to_uppercase())).unwrap(), hex);
        assert_eq!(parse_sha256("abc"), Err(NotASha256("abc".into())));
    }
}
