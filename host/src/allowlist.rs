//! Outbound HTTP allow-lists: the `allowed_hosts` of a plugin's `http`
//! permission, and the addresses no name may lead to.
//!
//! An entry is `scheme://host[:port]`: the scheme `http` or `https`, a host
//! name, `*.` then a name (any name below it, not the name itself), or an IP
//! literal (`[::1]` for IPv6); the port defaults to the scheme's. Nothing
//! else: no path, no user, no query. Host names are compared after IDNA
//! (`bücher.example` is `xn--bcher-kva.example`), lower-casing and dropping
//! one trailing dot, so `API.Example.com.` is `api.example.com`.
//!
//! A name may resolve anywhere, so the addresses it resolves to are checked
//! too ([`is_special`]): loopback, private and shared ranges, link-local
//! (cloud metadata at 169.254.169.254), multicast, broadcast and reserved
//! ones, `::`, unique-local and link-local IPv6, IPv4-mapped IPv6 and NAT64
//! are reached only through an entry naming exactly that address.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// `http` or `https`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Plain HTTP.
    Http,
    /// HTTP over TLS.
    Https,
}

impl Scheme {
    /// The scheme named `name` (lower case), if supported.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "http" => Some(Scheme::Http),
            "https" => Some(Scheme::Https),
            _ => None,
        }
    }

    /// Its default port.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        })
    }
}

/// What a request names as its host: a normalised name or an IP literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A host name: ASCII (after IDNA), lower case, no trailing dot.
    Name(String),
    /// An IP literal.
    Ip(IpAddr),
}

impl Target {
    /// Parse a host as a URL carries it (`[::1]` for IPv6).
    pub fn parse(host: &str) -> Result<Self, BadHost> {
        if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            return v6.parse::<Ipv6Addr>().map(|ip| Target::Ip(IpAddr::V6(ip))).map_err(|_| BadHost(host.to_owned()));
        }
        if let Ok(ip) = host.parse::<Ipv4Addr>() {
            return Ok(Target::Ip(IpAddr::V4(ip)));
        }
        normalize_name(host).map(Target::Name)
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Name(name) => f.write_str(name),
            Target::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]"),
            Target::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

/// A host that is neither a host name nor an IP address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a host name or an IP address")]
pub struct BadHost(pub String);

/// An `allowed_hosts` entry that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("allowed host {entry:?}: {why} (write e.g. \"https://api.example.com\")")]
pub struct BadEntry {
    /// The entry as written.
    pub entry: String,
    /// What is wrong with it.
    pub why: EntryProblem,
}

/// What is wrong with an `allowed_hosts` entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryProblem {
    /// No `scheme://`.
    #[error("a scheme is required")]
    NoScheme,
    /// Another scheme than `http` and `https`.
    #[error("the scheme must be http or https")]
    Scheme,
    /// A path, a query, a fragment or user information.
    #[error("only a scheme, a host and a port: no path, query or user")]
    Extra,
    /// A `*` elsewhere than as the whole leftmost label.
    #[error("`*` may only be the whole leftmost label, as in *.example.com")]
    Star,
    /// No host.
    #[error("a host is required")]
    NoHost,
    /// `*.` before a name without a dot.
    #[error("a wildcard must stand below a domain with a dot, as in *.example.com")]
    Wildcard,
    /// A port that is not 1 to 65535.
    #[error("{0:?} is not a port")]
    Port(String),
    /// A host that is not one.
    #[error(transparent)]
    Host(#[from] BadHost),
}

/// A host name as compared: IDNA to ASCII, lower case, without one trailing
/// dot; every label non-empty.
pub fn normalize_name(host: &str) -> Result<String, BadHost> {
    let trimmed = host.strip_suffix('.').unwrap_or(host);
    let ascii = idna::domain_to_ascii(trimmed).map_err(|_| BadHost(host.to_owned()))?;
    let valid = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    if ascii.is_empty() || ascii.len() > 253 || !ascii.split('.').all(valid) {
        return Err(BadHost(host.to_owned()));
    }
    Ok(ascii)
}

/// The host part of an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    /// Exactly this target.
    Exact(Target),
    /// Any name below this one (`*.example.com`: `a.example.com`,
    /// `a.b.example.com`, not `example.com`).
    Below(String),
}

/// One parsed `allowed_hosts` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost {
    scheme: Scheme,
    host: HostPattern,
    port: u16,
}

impl AllowedHost {
    /// Parse `scheme://host[:port]`; the error says what is wrong.
    pub fn parse(entry: &str) -> Result<Self, BadEntry> {
        Self::parts(entry).map_err(|why| BadEntry { entry: entry.to_owned(), why })
    }

    fn parts(entry: &str) -> Result<Self, EntryProblem> {
        let (scheme, rest) = entry.split_once("://").ok_or(EntryProblem::NoScheme)?;
        let scheme = Scheme::parse(scheme).ok_or(EntryProblem::Scheme)?;
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#', '@']) {
            return Err(EntryProblem::Extra);
        }
        let (host, port) = split_port(rest)?;
        let host = match host.strip_prefix("*.") {
            Some(below) => HostPattern::Below(normalize_name(below)?),
            None if host.contains('*') => return Err(EntryProblem::Star),
            None if host.is_empty() => return Err(EntryProblem::NoHost),
            None => HostPattern::Exact(Target::parse(host)?),
        };
        if matches!(&host, HostPattern::Below(name) if !name.contains('.')) {
            return Err(EntryProblem::Wildcard);
        }
        Ok(AllowedHost { scheme, host, port: port.unwrap_or(scheme.default_port()) })
    }

    /// Whether a request to `scheme://target:port` is allowed by this entry.
    pub fn allows(&self, scheme: Scheme, target: &Target, port: u16) -> bool {
        if scheme != self.scheme || port != self.port {
            return false;
        }
        match (&self.host, target) {
            (HostPattern::Exact(allowed), target) => allowed == target,
            (HostPattern::Below(domain), Target::Name(name)) => {
                name.strip_suffix(domain.as_str()).is_some_and(|head| head.len() > 1 && head.ends_with('.'))
            }
            (HostPattern::Below(_), Target::Ip(_)) => false,
        }
    }

    /// Whether this entry names exactly the address `ip` (then that
    /// address may be reached even if [`is_special`]).
    pub fn names_address(&self, ip: IpAddr) -> bool {
        self.host == HostPattern::Exact(Target::Ip(ip))
    }
}

impl fmt::Display for AllowedHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            HostPattern::Exact(target) => write!(f, "{}://{target}:{}", self.scheme, self.port),
            HostPattern::Below(domain) => write!(f, "{}://*.{domain}:{}", self.scheme, self.port),
        }
    }
}

/// Split `host[:port]` (`[v6]:port` for IPv6).
fn split_port(authority: &str) -> Result<(&str, Option<u16>), EntryProblem> {
    let (host, port) = match authority.strip_prefix('[').and_then(|rest| rest.split_once(']')) {
        Some((v6, rest)) => match rest.strip_prefix(':') {
            Some(port) => (&authority[..v6.len() + 2], Some(port)),
            None if rest.is_empty() => (authority, None),
            None => return Err(BadHost(authority.to_owned()).into()),
        },
        None => match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    let port = match port {
        Some(p) => Some(p.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(|| EntryProblem::Port(p.to_owned()))?),
        None => None,
    };
    Ok((host, port))
}

/// Whether `ip` is an address no name may lead to.
///
/// IPv4: "this network" (0.0.0.0/8), loopback, private, shared
/// (100.64.0.0/10), link-local, the IETF's own (192.0.0.0/24), the
/// documentation and benchmarking ranges, multicast, reserved and broadcast
/// (240.0.0.0/4).
///
/// IPv6: every address whose first 96 bits are zero (`::`, `::1` and the
/// deprecated IPv4-compatible `::a.b.c.d`), IPv4-mapped (::ffff:0:0/96) and
/// IPv4-translated (::ffff:0:0:0/96),
/// NAT64 (64:ff9b::/96 and the local-use 64:ff9b:1::/48), discard-only
/// (100::/64), Teredo (2001::/32) and 6to4 (2002::/16), which both embed an
/// IPv4 address a relay would reach (and the 6to4 relays' 192.88.99.0/24),
/// benchmarking (2001:2::/48), ORCHID (2001:10::/28, 2001:20::/28),
/// documentation (2001:db8::/32, 3fff::/20),
/// unique-local (fc00::/7), site-local (fec0::/10, deprecated but still
/// routed by some stacks), link-local (fe80::/10) and multicast. A form that
/// embeds an IPv4 address is refused whatever the address: the embedded
/// one is what a translator reaches.
pub fn is_special(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            a == 0
                || v4.is_loopback()
                || v4.is_private()
                || (a == 100 && (b & 0xc0) == 64)
                || v4.is_link_local()
                || (a == 192 && b == 0 && (c == 0 || c == 2))
                || (a == 192 && b == 88 && c == 99)
                || (a == 198 && (b & 0xfe) == 18)
                || (a == 198 && b == 51 && c == 100)
                || (a == 203 && b == 0 && c == 113)
                || v4.is_multicast()
                || a >= 240
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            s[..6] == [0; 6]
                || v6.to_ipv4_mapped().is_some()
                || (s[..4] == [0; 4] && s[4] == 0xffff && s[5] == 0)
                || (s[0] == 0x64 && s[1] == 0xff9b && (s[2..6] == [0; 4] || s[2] == 1))
                || (s[0] == 0x100 && s[1..4] == [0; 3])
                || (s[0] == 0x2001 && (s[1] == 0 || s[1] == 0xdb8 || (s[1] == 2 && s[2] == 0)))
                || (s[0] == 0x2001 && matches!(s[1] & 0xfff0, 0x10 | 0x20))
                || (s[0] == 0x3fff && s[1] < 0x1000)
                || s[0] == 0x2002
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfec0
                || (s[0] & 0xffc0) == 0xfe80
                || v6.is_multicast()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allows(entry: &str, scheme: Scheme, host: &str, port: u16) -> bool {
        AllowedHost::parse(entry).unwrap().allows(scheme, &Target::parse(host).unwrap(), port)
    }

    #[test]
    fn entries_parse_or_say_why() {
        for ok in [
            "https://api.github.com",
            "https://*.example.com",
            "http://127.0.0.1:8080",
            "https://[::1]:8443",
            "https://bücher.example/",
        ] {
            AllowedHost::parse(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for (bad, why) in [
            ("api.github.com", "scheme is required"),
            ("ftp://example.com", "http or https"),
            ("https://example.com/path", "no path"),
            ("https://user@example.com", "no path"),
            ("https://a.*.example.com", "leftmost label"),
            ("https://*example.com", "leftmost label"),
            ("https://*.com", "with a dot"),
            ("https://", "host is required"),
            ("https://example.com:0", "not a port"),
            ("https://example.com:99999", "not a port"),
            ("https://exa mple.com", "not a host name"),
        ] {
            let err = AllowedHost::parse(bad).unwrap_err().to_string();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn matching_is_by_scheme_normalised_host_and_port() {
        use Scheme::*;
        assert!(allows("https://api.github.com", Https, "API.GitHub.com.", 443));
        assert!(!allows("https://api.github.com", Http, "api.github.com", 443), "another scheme");
        assert!(!allows("https://api.github.com", Https, "api.github.com", 8443), "another port");
        assert!(!allows("https://api.github.com", Https, "api.github.com.evil.com", 443));
        assert!(!allows("https://api.github.com", Https, "evilapi.github.com", 443));
        assert!(allows("https://*.example.com", Https, "a.example.com", 443));
        assert!(allows("https://*.example.com", Https, "a.b.example.com", 443));
        assert!(!allows("https://*.example.com", Https, "example.com", 443), "not the domain itself");
        assert!(!allows("https://*.example.com", Https, "badexample.com", 443));
        assert!(allows("https://bücher.example", Https, "xn--bcher-kva.example", 443), "IDNA");
        assert!(allows("http://127.0.0.1:8080", Http, "127.0.0.1", 8080));
        assert!(!allows("http://127.0.0.1:8080", Http, "localhost", 8080), "a name is not an address");
        assert!(allows("https://[::1]:8443", Https, "[::1]", 8443));
    }

    #[test]
    fn special_addresses() {
        for special in [
            "127.0.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "169.254.169.254",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fd00::1",
            "fe80::1",
            "ff02::1",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "64:ff9b:1::a00:1",
            "64:ff9b:1:ffff::1",
            "::127.0.0.1",
            "::8.8.8.8",
            "::a00:1",
            "2002:c0a8:101::1",
            "2002:7f00:1::",
            "2002:a00:1::1",
            "2002:808:808::1",
            "2001:0:4136:e378::1",
            "2001:db8::1",
            "100::1",
            "fec0::1",
            "feff::1",
            "192.0.0.8",
            "192.0.2.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "192.88.99.1",
            "::ffff:0:7f00:1",
            "2001:2::1",
            "2001:10::1",
            "2001:20::1",
            "2001:2f::1",
            "3fff::1",
            "3fff:fff::1",
            "203.0.113.9",
        ] {
            assert!(is_special(special.parse().unwrap()), "{special}");
        }
        for public in [
            "8.8.8.8",
            "1.1.1.1",
            "100.128.0.1",
            "198.20.0.1",
            "192.0.3.1",
            "2606:4700::1111",
            "2001:4860:4860::8888",
            "64:ff9b:2::1",
            "2003::1",
            "3fff:1000::1",
            "2a00::1:0:0",
        ] {
            assert!(!is_special(public.parse().unwrap()), "{public}");
        }
        let entry = AllowedHost::parse("http://127.0.0.1:8080").unwrap();
        assert!(entry.names_address("127.0.0.1".parse().unwrap()));
        assert!(!AllowedHost::parse("http://localhost:8080").unwrap().names_address("127.0.0.1".parse().unwrap()));
    }
}
