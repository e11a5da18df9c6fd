//! `[permissions] http`: where a plugin's requests may go, and how much.

/// The outbound HTTP a plugin asks for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpPermission {
    /// Where requests may go: `scheme://host[:port]`, `*.` only as the whole
    /// leftmost label (see [`crate::allowlist`]).
    #[serde(deserialize_with = "allowed_hosts")]
    pub allowed_hosts: Vec<String>,
    /// Most requests per call.
    #[serde(default = "HttpPermission::default_max_requests")]
    pub max_requests: u32,
    /// Most response body bytes per call, in KiB.
    #[serde(default = "HttpPermission::default_max_response_kb")]
    pub max_response_kb: u64,
    /// Most request body bytes per call, in KiB.
    #[serde(default = "HttpPermission::default_max_request_kb")]
    pub max_request_kb: u64,
}

impl HttpPermission {
    fn default_max_requests() -> u32 {
        20
    }

    fn default_max_response_kb() -> u64 {
        4096
    }

    fn default_max_request_kb() -> u64 {
        1024
    }
}

fn allowed_hosts<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let list = crate::manifest::plain_list(d)?;
    if list.is_empty() {
        return Err(serde::de::Error::custom("`allowed_hosts` is empty; list where requests may go"));
    }
    for entry in &list {
        crate::allowlist::AllowedHost::parse(entry).map_err(serde::de::Error::custom)?;
    }
    Ok(list)
}
