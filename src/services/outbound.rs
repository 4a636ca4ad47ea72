//! Where Baton may send requests on a team's behalf. A bot's webhook is a URL an admin typed:
//! left unchecked it would let them make Baton call its own machine or the private network it
//! runs in, and read the answer back through the bot. So webhook targets must be public
//! addresses, by name (checked when the bot is saved) and by what the name resolves to (checked
//! at every call, so a name cannot be pointed at a private address later), unless the operator
//! allows private targets (`--allow-private-webhooks`).

use std::net::{IpAddr, SocketAddr};

/// Whether `ip` is reachable across the internet (not loopback, private, link-local, shared,
/// unspecified, multicast, reserved or documentation space). IPv6 addresses that carry an IPv4
/// one (mapped, compatible, NAT64, 6to4) are judged by the IPv4 address they carry.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                // 100.64.0.0/10 carrier-grade NAT; 0.0.0.0/8; 198.18.0.0/15 benchmarking;
                // 192.0.0.0/24 protocol assignments; 240.0.0.0/4 reserved.
                || (a == 100 && (64..128).contains(&b))
                || a == 0
                || (a == 198 && (b == 18 || b == 19))
                || (a == 192 && b == 0 && c == 0)
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let o = v6.octets();
            let embedded = |i: usize| IpAddr::V4(std::net::Ipv4Addr::new(o[i], o[i + 1], o[i + 2], o[i + 3]));
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            if v6.is_loopback() || v6.is_unspecified() {
                return false;
            }
            // ::a.b.c.d (IPv4-compatible), 64:ff9b::/96 and 64:ff9b:1::/48 (NAT64).
            if s[..6] == [0; 6] || (s[0] == 0x64 && s[1] == 0xff9b) {
                return is_public(embedded(12));
            }
            // 2002::/16 (6to4) carries the IPv4 address in its next 32 bits.
            if s[0] == 0x2002 {
                return is_public(embedded(2));
            }
            !(v6.is_multicast()
                // fc00::/7 unique local, fe80::/10 link local, fec0::/10 site local.
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] & 0xffc0) == 0xfec0)
        }
    }
}

/// `localhost` and its subdomains, however written (any case, with the root's trailing dot).
fn is_localhost(domain: &str) -> bool {
    let d = domain.trim_end_matches('.').to_ascii_lowercase();
    d == "localhost" || d.ends_with(".localhost")
}

/// Why a webhook URL is refused, in words for the admin; `None` when it may be called.
pub fn refuse_url(url: &reqwest::Url) -> Option<&'static str> {
    match url.host() {
        Some(url::Host::Ipv4(ip)) if !is_public(IpAddr::V4(ip)) => Some("points at a private or loopback address"),
        Some(url::Host::Ipv6(ip)) if !is_public(IpAddr::V6(ip)) => Some("points at a private or loopback address"),
        Some(url::Host::Domain(d)) if is_localhost(d) => Some("points at this machine"),
        None => Some("has no host"),
        _ => None,
    }
}

/// The addresses of a webhook's host that may be called: all of them must be public (a name
/// that also resolves to a private address is refused whole).
pub async fn public_addresses(host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port)).await.map_err(|e| format!("cannot resolve {host}: {e}"))?.collect();
    check_resolved(host, addrs)
}

/// A DNS resolver for Baton's outbound client that hands out public addresses only, so the
/// address checked is the address connected to (a name cannot resolve differently in between).
#[derive(Debug, Clone, Copy)]
pub struct PublicResolver;

impl reqwest::dns::Resolve for PublicResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs = public_addresses(&host, 0).await?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

fn check_resolved(host: &str, addrs: Vec<SocketAddr>) -> Result<Vec<SocketAddr>, String> {
    if addrs.is_empty() {
        return Err(format!("{host} resolves to no address"));
    }
    if addrs.iter().any(|a| !is_public(a.ip())) {
        return Err(format!("{host} resolves to a private or loopback address"));
    }
    Ok(addrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_ranges_are_not_public() {
        for ip in ["192.0.0.8", "250.1.1.1", "fec0::1", "::127.0.0.1", "64:ff9b::10.0.0.1", "64:ff9b:1::a00:1", "2002:0a00:0001::1"] {
            assert!(!is_public(ip.parse().unwrap()), "{ip} carries or is a private address");
        }
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "198.18.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "100.128.0.1"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn urls_naming_this_machine_or_a_private_address_are_refused() {
        for u in [
            "http://127.0.0.1:9/bot",
            "http://localhost/x",
            "http://api.localhost/x",
            // Found by fuzzing: the root's trailing dot.
            "http://localhost./x",
            "http://API.LocalHost./x",
            "http://[::1]/",
            "http://10.0.0.5/hook",
            "http://169.254.169.254/latest",
        ] {
            assert!(refuse_url(&reqwest::Url::parse(u).unwrap()).is_some(), "{u}");
        }
        assert!(refuse_url(&reqwest::Url::parse("https://bots.example.com/hook").unwrap()).is_none());
    }

    #[test]
    fn a_name_resolving_to_any_private_address_is_refused() {
        let public: SocketAddr = "93.184.216.34:443".parse().unwrap();
        let private: SocketAddr = "10.0.0.1:443".parse().unwrap();
        assert!(check_resolved("x", vec![public]).is_ok());
        assert!(check_resolved("x", vec![public, private]).is_err());
        assert!(check_resolved("x", vec![]).is_err());
    }
}
