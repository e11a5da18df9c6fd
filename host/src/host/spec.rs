//! What a plugin may do: the request its manifest makes, and the call spec
//! its stored grant allows (decided once per load, by [`Granted::decide`]).

use std::sync::Arc;

use super::Host;
use crate::capabilities::{GrantInputs, Granted};
use crate::grants::{self, Request};
use crate::manifest::{Manifest, Permissions};
use crate::sandbox::CallSpec;

impl Host {
    /// What the plugin described by `manifest` asks to be granted.
    pub fn request(&self, manifest: &Manifest) -> Request {
        self.settings.request(manifest)
    }

    /// How calls into the plugin described by `manifest`, whose component
    /// has digest `sha256`, run: its limits, and what its grant allows (or
    /// why it may not run). Everything granted comes from the stored grant.
    pub(super) fn spec(&self, manifest: &Manifest, sha256: &str) -> CallSpec {
        let grant = self.grants.get(&manifest.name).ok().flatten();
        let request = self.request(manifest);
        let refused = grants::refusal(&manifest.name, &request, sha256, grant.as_ref());
        let (granted, dirs) = match grant {
            Some(g) if refused.is_none() && request.asks_anything() => (g.permissions, g.dirs),
            _ => (Permissions::default(), Vec::new()),
        };
        let ai = || self.ai();
        let http = || self.http_net();
        let cache = || self.cache().clone();
        let granted = Granted::decide(&GrantInputs {
            plugin: &manifest.name,
            granted: &granted,
            dirs: &dirs,
            protected: &self.protected,
            settings: &self.settings,
            cache: &cache,
            ai: &ai,
            http: &http,
        });
        CallSpec {
            plugin: Arc::from(manifest.name.as_str()),
            limits: self.settings.limits_for(manifest),
            granted,
            cancel: None,
            max_output_bytes: self.settings.max_output_bytes(),
            refused,
        }
    }
}
