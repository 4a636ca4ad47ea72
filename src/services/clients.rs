//! Who is calling: the client's address when Baton runs behind trusted reverse proxies, and the
//! key an address's limits count under (an IPv4 address, or an IPv6 /64: one subscriber's
//! network, which hands out addresses by the billion).

use std::net::{IpAddr, Ipv6Addr};
use std::str::FromStr;

/// An address range: `10.0.0.0/8`, `fd00::/8`, or one address (`127.0.0.1`, `::1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    bits: u8,
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (addr, bits) = match s.split_once('/') {
            Some((a, b)) => (a, Some(b)),
            None => (s, None),
        };
        let net: IpAddr = addr.parse().map_err(|_| format!("{s:?} is not an address or an address range (like 10.0.0.0/8)"))?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let bits = match bits {
            None => max,
            Some(b) => b.parse::<u8>().ok().filter(|b| *b <= max).ok_or_else(|| format!("{s:?}: the prefix length must be 0 to {max}"))?,
        };
        // An IPv4 range written in IPv6 (`::ffff:10.0.0.0/104`) is that IPv4 range (`/8`).
        match (net, canonical(net)) {
            (IpAddr::V6(_), v4 @ IpAddr::V4(_)) if bits >= 96 => Ok(Self { net: v4, bits: bits - 96 }),
            (IpAddr::V6(_), IpAddr::V4(_)) => Err(format!("{s:?}: an IPv4-mapped range needs a prefix of at least 96")),
            _ => Ok(Self { net, bits }),
        }
    }
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.net, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => prefix_eq(u128::from(u32::from(net)) << 96, u128::from(u32::from(ip)) << 96, self.bits),
            (IpAddr::V6(net), IpAddr::V6(ip)) => prefix_eq(u128::from(net), u128::from(ip), self.bits),
            _ => false,
        }
    }
}

fn prefix_eq(a: u128, b: u128, bits: u8) -> bool {
    bits == 0 || (a ^ b) >> (128 - u32::from(bits)) == 0
}

/// An IPv4 address written in IPv6 (`::ffff:1.2.3.4`) is that IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The proxies whose `X-Forwarded-For` is believed. Empty (the default): the connection's own
/// address is the client's, and the header is ignored: anyone can write it.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    pub fn new(ranges: Vec<Cidr>) -> Self {
        Self(ranges)
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|c| c.contains(ip))
    }

    /// The client's address: the connection's, unless that is a trusted proxy; then the
    /// `X-Forwarded-For` hops are read from the right (the nearest) and the first one that is
    /// not a trusted proxy is the client. A hop that does not read as an address stops the walk
    /// at the last address known: a client cannot pick its own bucket by writing garbage.
    pub fn client<'a>(&self, peer: IpAddr, forwarded_for: impl IntoIterator<Item = &'a str>) -> IpAddr {
        let mut client = canonical(peer);
        if !self.trusts(client) {
            return client;
        }
        let hops: Vec<&str> = forwarded_for.into_iter().flat_map(|v| v.split(',')).collect();
        for hop in hops.into_iter().rev() {
            let Some(ip) = parse_hop(hop) else { return client };
            client = ip;
            if !self.trusts(ip) {
                return ip;
            }
        }
        client
    }
}

/// One `X-Forwarded-For` entry: an address, maybe with a port (`1.2.3.4:5678`, `[::1]:80`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>().ok().or_else(|| hop.parse::<std::net::SocketAddr>().ok().map(|s| s.ip())).map(canonical)
}

/// The key an address's limits count under: the IPv4 address itself, or the IPv6 /64 it is in.
pub fn address_key(ip: IpAddr) -> String {
    match canonical(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{}/64", Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ranges_parse_and_match() {
        let table = [
            ("10.0.0.0/8", "10.200.1.2", true),
            ("10.0.0.0/8", "11.0.0.1", false),
            ("127.0.0.1", "127.0.0.1", true),
            ("127.0.0.1", "127.0.0.2", false),
            ("0.0.0.0/0", "8.8.8.8", true),
            ("0.0.0.0/0", "::1", false),
            ("fd00::/8", "fd12::1", true),
            ("fd00::/8", "fe80::1", false),
            ("::/0", "2001:db8::1", true),
            ("192.168.1.0/24", "::ffff:192.168.1.7", true),
            ("::ffff:10.0.0.1", "10.0.0.1", true),
            // Found by fuzzing: a mapped range keeps its prefix.
            ("::ffff:10.0.0.0/104", "10.1.2.3", true),
            ("::ffff:10.0.0.0/104", "::ffff:10.200.0.1", true),
            ("::ffff:10.0.0.0/104", "11.0.0.1", false),
        ];
        for (range, addr, expected) in table {
            let c: Cidr = range.parse().unwrap();
            assert_eq!(c.contains(ip(addr)), expected, "{range} contains {addr}");
        }
        for bad in ["", "::ffff:10.0.0.0/95", "10.0.0.0/33", "::/129", "10.0.0/8", "example.com", "10.0.0.0/x", "1.2.3.4/-1"] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad:?} refused");
        }
    }

    #[test]
    fn the_client_is_the_first_untrusted_hop_from_the_right() {
        let trusted = TrustedProxies::new(vec!["10.0.0.0/8".parse().unwrap(), "127.0.0.1".parse().unwrap()]);
        let table: [(&str, &[&str], &str); 9] = [
            // An untrusted peer's header is ignored.
            ("203.0.113.9", &["1.1.1.1"], "203.0.113.9"),
            // A trusted peer with no header is the client.
            ("127.0.0.1", &[], "127.0.0.1"),
            ("127.0.0.1", &["198.51.100.4"], "198.51.100.4"),
            // A client cannot choose its address by writing hops in front of the real one.
            ("127.0.0.1", &["1.1.1.1, 198.51.100.4"], "198.51.100.4"),
            // Chains of trusted proxies are walked, across several header lines too.
            ("127.0.0.1", &["198.51.100.4, 10.1.1.1", "10.2.2.2"], "198.51.100.4"),
            ("127.0.0.1", &["10.1.1.1"], "10.1.1.1"),
            ("127.0.0.1", &["[2001:db8::5]:443"], "2001:db8::5"),
            ("127.0.0.1", &["198.51.100.4:5000"], "198.51.100.4"),
            // Garbage stops the walk at the last known address.
            ("127.0.0.1", &["198.51.100.4, garbage"], "127.0.0.1"),
        ];
        for (peer, header, expected) in table {
            assert_eq!(trusted.client(ip(peer), header.iter().copied()), ip(expected), "{peer} {header:?}");
        }
        assert_eq!(TrustedProxies::default().client(ip("127.0.0.1"), ["1.1.1.1"]), ip("127.0.0.1"));
    }

    #[test]
    fn keys_group_ipv6_by_64() {
        assert_eq!(address_key(ip("198.51.100.4")), "198.51.100.4");
        assert_eq!(address_key(ip("::ffff:198.51.100.4")), "198.51.100.4");
        assert_eq!(address_key(ip("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
        assert_eq!(address_key(ip("2001:db8:1:2:bbbb::9")), address_key(ip("2001:db8:1:2::1")));
        assert_ne!(address_key(ip("2001:db8:1:3::1")), address_key(ip("2001:db8:1:2::1")));
    }
}
