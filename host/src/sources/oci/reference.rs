//! `REGISTRY/REPOSITORY[:TAG][@sha256:DIGEST]`, as the distribution spec
//! and Docker write it, with the registry always named (no implied Docker
//! Hub).

use std::fmt;
use std::str::FromStr;

/// An OCI reference (without the `oci://`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<String>,
}

impl Reference {
    /// The registry, `host[:port]`, lower case.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository path (`team/plugin`).
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag, if one was given.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest (`sha256:HEX`), if one was given.
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    /// What to ask the registry for: the digest when there is one, else
    /// the tag, else `latest`.
    pub fn version(&self) -> &str {
        self.digest.as_deref().or(self.tag.as_deref()).unwrap_or("latest")
    }
}

/// Text that is not a `REGISTRY/REPO[:TAG][@sha256:DIGEST]` reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    /// A digest of another algorithm.
    #[error("only sha256 digests are supported")]
    Algorithm,
    /// A sha256 digest that is not 64 lowercase hex digits.
    #[error("{0:?} is not a digest (sha256: and 64 lowercase hex digits)")]
    Digest(String),
    /// A registry alone.
    #[error("no repository after the registry")]
    NoRepository,
    /// A registry that is not `host[:port]`.
    #[error("{0:?} is not a registry host[:port]")]
    Registry(String),
    /// A repository that is not lower-case path components.
    #[error("{0:?} is not a repository (lower-case path components)")]
    Repository(String),
    /// A tag that is not one.
    #[error("{0:?} is not a tag")]
    Tag(String),
}

impl FromStr for Reference {
    type Err = ReferenceError;

    fn from_str(text: &str) -> Result<Self, ReferenceError> {
        let (rest, digest) = match text.split_once('@') {
            Some((rest, digest)) => (rest, Some(digest)),
            None => (text, None),
        };
        if let Some(digest) = digest {
            let hex = digest.strip_prefix("sha256:").ok_or(ReferenceError::Algorithm)?;
            if hex.len() != 64 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
                return Err(ReferenceError::Digest(digest.to_owned()));
            }
        }
        let (registry, path) = rest.split_once('/').ok_or(ReferenceError::NoRepository)?;
        let registry_ok = !registry.is_empty()
            && registry.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
        if !registry_ok {
            return Err(ReferenceError::Registry(registry.to_owned()));
        }
        // A tag follows the last `:` after the last `/`.
        let (repository, tag) = match path.rsplit_once(':') {
            Some((repo, tag)) if !tag.contains('/') => (repo, Some(tag)),
            _ => (path, None),
        };
        let component_ok = |c: &str| {
            !c.is_empty()
                && c.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'))
                && c.as_bytes()[0].is_ascii_alphanumeric()
                && c.as_bytes()[c.len() - 1].is_ascii_alphanumeric()
        };
        if repository.len() > 255 || !repository.split('/').all(component_ok) {
            return Err(ReferenceError::Repository(repository.to_owned()));
        }
        if let Some(tag) = tag {
            let tag_ok = tag.len() <= 128
                && tag.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
                && tag.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
            if !tag_ok {
                return Err(ReferenceError::Tag(tag.to_owned()));
            }
        }
        Ok(Reference {
            registry: registry.to_ascii_lowercase(),
            repository: repository.to_owned(),
            tag: tag.map(str::to_owned),
            digest: digest.map(str::to_owned),
        })
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_and_print_back() {
        let digest = format!("sha256:{}", "a".repeat(64));
        for (text, registry, repo, tag, has_digest) in [
            ("ghcr.io/me/p:1.0", "ghcr.io", "me/p", Some("1.0"), false),
            ("localhost:5000/isaac/hello:1.0", "localhost:5000", "isaac/hello", Some("1.0"), false),
            ("127.0.0.1:5000/a/b/c", "127.0.0.1:5000", "a/b/c", None, false),
            (&format!("reg.example/p@{digest}") as &str, "reg.example", "p", None, true),
            (&format!("reg.example/p:v2@{digest}"), "reg.example", "p", Some("v2"), true),
        ] {
            let r: Reference = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(
                (r.registry(), r.repository(), r.tag(), r.digest().is_some()),
                (registry, repo, tag, has_digest)
            );
            assert_eq!(r.to_string(), text);
        }
        for bad in
            ["ghcr.io", "ghcr.io/Me/p", "ghcr.io/p:", "ghcr.io/p@sha256:abc", "ghcr.io/p@md5:00", "a b/p", "x/../p"]
        {
            assert!(bad.parse::<Reference>().is_err(), "{bad}");
        }
        assert_eq!("r.io/p".parse::<Reference>().unwrap().version(), "latest");
    }
}
