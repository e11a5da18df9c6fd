//! The HTTP client of every fetch (archives, registries), and the rules it
//! keeps for the hosts a server can send it to:
//!
//! - `https`, or plain `http` to a loopback host that the user named; a
//!   redirect never goes from `https` to `http`;
//! - no loopback, private or otherwise special address (see
//!   [`crate::allowlist::is_special`]) unless the user named it: a redirect
//!   to such an address literal, or to a name that resolves to one, is
//!   refused (the name the user gave may resolve to anything: that is their
//!   choice);
//! - at most [`MAX_REDIRECTS`] redirects, and credentials never cross to
//!   another host: a request with credentials goes through a client that
//!   follows no redirect ([`direct_client`]), and its caller follows a
//!   redirect with a new request that carries none;
//! - a proxy from the environment (`HTTPS_PROXY`, ...) is used as reqwest
//!   uses it: the user's own choice of route (the proxy then resolves the
//!   names).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::allowlist::is_special;

/// Most redirects followed.
pub const MAX_REDIRECTS: usize = 5;

/// What the user named: the special addresses it may reach.
#[derive(Debug, Clone)]
struct Named {
    /// The host as given (a name, lower case, or an address).
    host: String,
    /// Whether it is this machine's loopback.
    loopback: bool,
}

impl Named {
    fn of(url: &Url) -> Self {
        let host = url.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_owned();
        let loopback = super::is_loopback_host(&host);
        Named { host: host.to_ascii_lowercase(), loopback }
    }

    /// Whether `ip`, reached through `host`, is allowed.
    fn allows(&self, host: &str, ip: IpAddr) -> bool {
        !is_special(ip) || host.eq_ignore_ascii_case(&self.host) || (self.loopback && ip.is_loopback())
    }
}

/// Why a redirect, or a URL a server pointed to, is not followed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HopRefused {
    /// From `https` to something else.
    #[error("it leaves https")]
    LeavesHttps,
    /// Neither `https` nor `http` to the loopback host named.
    #[error("only https (or http to the loopback host named) is followed")]
    Scheme,
    /// `user:password@`.
    #[error("it carries user information")]
    UserInfo,
    /// A special address literal that was not named.
    #[error("{0} is a local, private or reserved address that was not named")]
    Special(IpAddr),
}

/// Why a redirect may not be followed, if so.
fn check_hop(named: &Named, previous: &Url, next: &Url) -> Result<(), HopRefused> {
    if previous.scheme() == "https" && next.scheme() != "https" {
        return Err(HopRefused::LeavesHttps);
    }
    match next.scheme() {
        "https" => {}
        "http" if named.loopback && next.host_str().is_some_and(super::is_loopback_host) => {}
        _ => return Err(HopRefused::Scheme),
    }
    if !next.username().is_empty() || next.password().is_some() {
        return Err(HopRefused::UserInfo);
    }
    let host = next.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = host.parse::<IpAddr>()
        && !named.allows(host, ip)
    {
        return Err(HopRefused::Special(ip));
    }
    Ok(())
}

/// Why a URL a server pointed to (a token service, say) may not be fetched
/// by a fetch that began at `first`, if so: the rules of a redirect.
pub fn check_pointed(first: &Url, next: &Url) -> Result<(), HopRefused> {
    check_hop(&Named::of(first), first, next)
}

/// Resolves names through the system, refusing special addresses for any
/// name but the one the user gave.
struct Guarded(Named);

impl Resolve for Guarded {
    fn resolve(&self, name: Name) -> Resolving {
        let named = self.0.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if let Some(bad) = found.iter().find(|a| !named.allows(&host, a.ip())) {
                let message = format!("{host} resolves to {}, a local, private or reserved address", bad.ip());
                return Err(message.into());
            }
            let addrs: Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

/// A client for fetches that begin at `first`, bounded by `timeout`, that
/// follows redirects under the rules above. Never give it a request that
/// carries credentials: reqwest restores a request's first headers at every
/// hop and drops `Authorization` only when a hop changes the host, so a
/// second hop on the new host would get them back. Credentials go through
/// [`direct_client`].
pub fn client(first: &Url, timeout: Duration) -> reqwest::Result<reqwest::Client> {
    builder(first, timeout, true).build()
}

/// A client like [`client`] that follows no redirect: for requests that
/// carry credentials; the caller follows a redirect itself, without them.
pub fn direct_client(first: &Url, timeout: Duration) -> reqwest::Result<reqwest::Client> {
    builder(first, timeout, false).build()
}

fn builder(first: &Url, timeout: Duration, follow: bool) -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let named = Named::of(first);
    let policy = if !follow {
        reqwest::redirect::Policy::none()
    } else {
        let named = named.clone();
        reqwest::redirect::Policy::custom(move |attempt| {
            let previous = attempt.previous().last().cloned();
            if attempt.previous().len() > MAX_REDIRECTS {
                return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
            }
            let next = attempt.url().clone();
            match previous.map(|p| check_hop(&named, &p, &next)) {
                Some(Err(why)) => attempt.error(format!("redirected to {next}, not followed: {why}")),
                _ => attempt.follow(),
            }
        })
    };
    reqwest::Client::builder()
        .redirect(policy)
        .dns_resolver(Arc::new(Guarded(named)))
        .connect_timeout(Duration::from_secs(10))
        .timeout(timeout)
        .user_agent(concat!("isaac/", env!("CARGO_PKG_VERSION")))
}

/// A body could not be read whole.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// It holds more than the cap.
    #[error("it is larger than {0} bytes")]
    TooLarge(usize),
    /// The transfer failed (timed out, broke off).
    #[error(transparent)]
    Transfer(#[from] reqwest::Error),
}

/// Read at most `cap` bytes of `response`'s body.
pub async fn read_capped(mut response: reqwest::Response, cap: usize) -> Result<Vec<u8>, ReadError> {
    if response.content_length().is_some_and(|n| n > cap as u64) {
        return Err(ReadError::TooLarge(cap));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > cap {
            return Err(ReadError::TooLarge(cap));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hop(first: &str, previous: &str, next: &str) -> Result<(), HopRefused> {
        let named = Named::of(&first.parse().unwrap());
        check_hop(&named, &previous.parse().unwrap(), &next.parse().unwrap())
    }

    #[test]
    fn redirects_keep_to_https_and_to_what_was_named() {
        let pub_ = "https://reg.example/v2/";
        assert!(hop(pub_, pub_, "https://cdn.example/blob").is_ok());
        assert_eq!(hop(pub_, pub_, "http://cdn.example/blob"), Err(HopRefused::LeavesHttps));
        for special in ["127.0.0.1", "::1", "10.0.0.5", "169.254.169.254"] {
            let url =
                format!("https://{}/x", if special.contains(':') { format!("[{special}]") } else { special.into() });
            assert_eq!(hop(pub_, pub_, &url), Err(HopRefused::Special(special.parse().unwrap())), "{url}");
        }
        assert_eq!(hop(pub_, pub_, "https://u:p@cdn.example/x"), Err(HopRefused::UserInfo));
        // http to loopback only when loopback was named, and never from https.
        let local = "http://127.0.0.1:5000/v2/";
        assert!(hop(local, local, "http://127.0.0.1:6000/blob").is_ok());
        assert!(hop(local, local, "http://localhost:6000/blob").is_ok());
        assert!(hop(local, local, "http://10.0.0.5/blob").is_err());
        assert!(hop(pub_, pub_, "http://127.0.0.1/blob").is_err());
        // A private address the user named is theirs to reach.
        let private = "https://10.1.2.3/v2/";
        assert!(hop(private, private, "https://10.1.2.3:8443/blob").is_ok());
        assert!(hop(private, private, "https://10.1.2.4/blob").is_err());
        // A URL a server points to (a token service) keeps the same rules.
        let first: Url = pub_.parse().unwrap();
        assert!(check_pointed(&first, &"https://auth.example/token".parse().unwrap()).is_ok());
        assert!(check_pointed(&first, &"http://auth.example/token".parse().unwrap()).is_err());
        assert!(check_pointed(&first, &"https://169.254.169.254/token".parse().unwrap()).is_err());
    }
}
