//! Which network addresses a harvester may connect to.
//!
//! A URL registered by a user must not become a way to reach the machines behind our
//! firewall (SSRF). Checking the host name is not enough: `evil.example` can resolve to
//! `127.0.0.1`, and a public server can redirect to `http://10.0.0.5/`. So under
//! [`AddressPolicy::PublicOnly`] the check happens where the connection is made: a custom
//! DNS resolver returns only public addresses (and reqwest connects to exactly the addresses
//! it returns, so a second, different DNS answer cannot sneak in), literal IP hosts are
//! checked before each request, and every redirect target is checked again.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// Which addresses the harvester may connect to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AddressPolicy {
    /// Any address, including loopback and private networks: for sources configured by an
    /// administrator (and the loopback demo).
    #[default]
    AllowAll,
    /// Only public unicast addresses: for URLs registered by users. Refuses loopback,
    /// private, shared (CGNAT), link-local, unique-local, multicast, unspecified, reserved
    /// and documentation ranges, IPv4 and IPv6 (including IPv4-mapped, NAT64 and 6to4
    /// forms of refused IPv4 addresses), checked after DNS resolution and on redirects.
    PublicOnly,
}

impl AddressPolicy {
    /// Whether the policy lets the harvester connect to `ip`.
    pub fn allows(self, ip: IpAddr) -> bool {
        match self {
            AddressPolicy::AllowAll => true,
            AddressPolicy::PublicOnly => is_public(ip),
        }
    }

    /// Checks a URL before a request or redirect: an `http`/`https` scheme, and for a
    /// literal IP host, an allowed address (host names are checked by the resolver).
    pub(crate) fn check_url(self, url: &Url) -> Result<(), String> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("scheme {:?} is not http or https", url.scheme()));
        }
        let ip = match url.host() {
            Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
            Some(Host::Domain(_)) => return Ok(()),
            None => return Err("URL has no host".into()),
        };
        if self.allows(ip) {
            Ok(())
        } else {
            Err(format!("address {ip} is not a public address"))
        }
    }
}

/// True for addresses on the public internet.
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let refused = a == 0 // "this network", includes the unspecified address
        || a == 10 // private
        || a == 127 // loopback
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 169 && b == 254) // link-local
        || (a == 172 && (16..32).contains(&b)) // private
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // TEST-NET-1
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || (a == 192 && b == 168) // private
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // TEST-NET-2
        || (a == 203 && b == 0 && c == 113) // TEST-NET-3
        || a >= 224; // multicast, reserved and broadcast
    !refused
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let segments = ip.segments();
    let [s0, s1, ..] = segments;
    // Forms that carry an IPv4 address are judged by that address.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    if s0 == 0x0064 && s1 == 0xff9b && segments[2..6] == [0, 0, 0, 0] {
        // NAT64 well-known prefix 64:ff9b::/96.
        let [.., a, b, c, d] = ip.octets();
        return is_public_v4(Ipv4Addr::new(a, b, c, d));
    }
    if s0 == 0x2002 {
        // 6to4: 2002:AABB:CCDD::/48 embeds AA.BB.CC.DD.
        let [_, _, a, b, c, d, ..] = ip.octets();
        return is_public_v4(Ipv4Addr::new(a, b, c, d));
    }
    // Everything public is global unicast, 2000::/3; this refuses ::, ::1, the deprecated
    // IPv4-compatible ::a.b.c.d, fc00::/7, fe80::/10, fec0::/10 and ff00::/8.
    let global_unicast = (s0 & 0xe000) == 0x2000;
    let documentation = (s0 == 0x2001 && s1 == 0x0db8) || (s0 == 0x3fff && s1 < 0x1000);
    // 2001::/23 holds IETF protocol assignments (Teredo, ORCHID, benchmarking, …).
    let protocol_assignments = s0 == 0x2001 && s1 < 0x0200;
    global_unicast && !documentation && !protocol_assignments
}

/// The DNS resolver used under [`AddressPolicy::PublicOnly`]: the system resolver, keeping
/// only public addresses.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PublicOnlyResolver;

/// Returned by [`PublicOnlyResolver`] when a name has no public address; recognised in the
/// reqwest error chain so it is reported as a refusal, not retried as a network failure.
#[derive(Debug, thiserror::Error)]
#[error("{host} resolves only to addresses the policy refuses ({addresses})")]
pub(crate) struct RefusedAddress {
    pub(crate) host: String,
    pub(crate) addresses: String,
}

impl Resolve for PublicOnlyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = resolved.iter().copied().filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                let addresses = resolved
                    .iter()
                    .map(|a| a.ip().to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(Box::new(RefusedAddress { host, addresses }) as _);
            }
            let addrs: Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_only_refuses_internal_ranges() {
        let refused = [
            "127.0.0.1",
            "127.255.0.9",
            "0.0.0.0",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "192.0.2.10",
            "198.51.100.7",
            "203.0.113.99",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::7f00:1",
            "2002:c0a8:0101::1",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "3fff::1",
            "2001::1",
        ];
        for text in refused {
            let ip: IpAddr = text.parse().unwrap();
            assert!(!AddressPolicy::PublicOnly.allows(ip), "{text} should be refused");
            assert!(AddressPolicy::AllowAll.allows(ip));
        }
    }

    #[test]
    fn public_only_allows_public_addresses() {
        for text in [
            "1.1.1.1",
            "8.8.8.8",
            "202.96.128.86",
            "172.32.0.1",
            "100.128.0.1",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:0808:0808::1",
            "2400:3200::1",
            "2606:4700:4700::1111",
        ] {
            let ip: IpAddr = text.parse().unwrap();
            assert!(AddressPolicy::PublicOnly.allows(ip), "{text} should be allowed");
        }
    }

    #[test]
    fn urls_are_checked_by_scheme_and_literal_host() {
        let check = |u: &str| AddressPolicy::PublicOnly.check_url(&Url::parse(u).unwrap());
        assert!(check("http://127.0.0.1:8080/oai").is_err());
        assert!(check("http://[::1]/oai").is_err());
        assert!(check("http://[::ffff:127.0.0.1]/oai").is_err());
        assert!(check("https://[fe80::1]/oai").is_err());
        assert!(check("http://192.168.0.10/oai").is_err());
        assert!(check("file:///etc/passwd").is_err());
        assert!(check("http://8.8.8.8/oai").is_ok());
        // Names are left to the resolver, which sees what they resolve to.
        assert!(check("https://oai.example.org/oai").is_ok());
        assert!(
            AddressPolicy::AllowAll
                .check_url(&Url::parse("http://127.0.0.1/").unwrap())
                .is_ok()
        );
    }

    #[tokio::test]
    async fn the_resolver_refuses_names_of_internal_addresses() {
        let name: Name = "localhost".parse().unwrap();
        let err = match PublicOnlyResolver.resolve(name).await {
            Ok(addrs) => panic!("localhost resolved to {:?}", addrs.collect::<Vec<_>>()),
            Err(err) => err,
        };
        assert!(err.downcast_ref::<RefusedAddress>().is_some(), "{err}");
    }
}
