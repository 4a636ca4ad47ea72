//! Client addresses and outbound targets (`baton::services::clients`, `baton::services::outbound`).
//!
//! Input, as lines: trusted proxy ranges (comma-separated), the connection's address, then the
//! `X-Forwarded-For` header lines. Every line and comma-separated piece is also tried as a
//! range, an address and a URL. Nothing may panic, and:
//! - ranges: a single address contains itself; `contains` does not care whether an IPv4
//!   address is written as IPv4 or as IPv6 (`::ffff:a.b.c.d`); a shorter prefix of the same
//!   address contains everything a longer one does; `/0` contains its whole family;
//! - `TrustedProxies::client`: an untrusted peer's header is ignored; the answer is the peer or
//!   one of the hops, always in canonical form; header lines behave as one comma-joined line;
//!   once the answer is an untrusted address, hops written in front of it change nothing;
//! - `address_key`: IPv4 is the address itself, IPv6 its /64; the key read as a range contains
//!   the address; both spellings of an IPv4 address share a key;
//! - `is_public`: nothing in the private or special ranges listed in outbound.rs is public, and
//!   an IPv6 address carrying an IPv4 one (mapped, compatible, NAT64, 6to4) is judged by it;
//! - `refuse_url`: URLs without a host, naming a non-public address, or `localhost` are refused.
//!
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

use baton::services::clients::{Cidr, TrustedProxies, address_key};
use baton::services::outbound::{is_public, refuse_url};
use libfuzzer_sys::{Corpus, fuzz_target};

/// Ranges outbound.rs's `is_public` documents as not public (loopback, private, link-local,
/// shared, unspecified, multicast, reserved, documentation; IPv6 unique/link/site local).
const NOT_PUBLIC: &[&str] = &[
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "::/128",
    "::1/128",
    "fc00::/7",
    "fe80::/10",
    "fec0::/10",
    "ff00::/8",
];


fuzz_target!(|data: &[u8]| -> Corpus {
    let Ok(s) = std::str::from_utf8(data) else { return Corpus::Reject };
    let mut lines = s.split('\n');
    let ranges_line = lines.next().unwrap_or_default();
    let peer_line = lines.next().unwrap_or_default();
    let headers: Vec<&str> = lines.collect();

    // Every address anywhere in the input, in both spellings, plus a few fixed ones.
    let mut ips: Vec<IpAddr> = ["127.0.0.1", "10.1.2.3", "8.8.8.8", "::1", "2001:db8::1", "fd00::1"].iter().map(|a| a.parse().unwrap()).collect();
    let pieces: Vec<&str> = s.split(['\n', ',']).collect();
    for p in &pieces {
        if let Some(ip) = parse_ip(p) {
            ips.push(ip);
            ips.push(twin(ip));
        }
    }
    let ips = &ips[..ips.len().min(64)];

    let mut ranges = Vec::new();
    for p in ranges_line.split(',') {
        if let Ok(c) = p.parse::<Cidr>() {
            ranges.push(c);
        }
    }
    for p in &pieces {
        check_range(p, ips);
        check_url(p);
    }
    check_url(s);
    for &ip in ips {
        check_key(ip);
        check_public(ip);
    }

    let peer = parse_ip(peer_line).unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    check_client(&TrustedProxies::new(ranges), peer, &headers);
    Corpus::Keep
});

fn parse_ip(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    s.parse().ok().or_else(|| s.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
}

/// The other spelling of an IPv4 address (`a.b.c.d` <-> `::ffff:a.b.c.d`); others unchanged.
fn twin(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V6(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn check_range(piece: &str, ips: &[IpAddr]) {
    let Ok(c) = piece.parse::<Cidr>() else { return };
    let t = piece.trim();
    let (addr, bits) = match t.split_once('/') {
        Some((a, b)) => (a, Some(b.parse::<u8>().expect("a range that parsed has a numeric prefix"))),
        None => (t, None),
    };
    let net: IpAddr = addr.parse().expect("a range that parsed has an address");
    let max = if net.is_ipv4() { 32 } else { 128 };
    assert!(bits.is_none_or(|b| b <= max));
    if bits.is_none() {
        assert!(c.contains(net) && c.contains(twin(net)), "{t:?} does not contain itself");
        assert_eq!(Some(c), format!("{net}/{max}").parse::<Cidr>().ok(), "{t:?} is not {net}/{max}");
    }
    let bits = bits.unwrap_or(max);
    assert!(c.contains(net), "{t:?} does not contain its own address");
    for &ip in ips {
        let inside = c.contains(ip);
        assert_eq!(inside, c.contains(twin(ip)), "{t:?} contains {ip} but not {} (or the reverse)", twin(ip));
        if bits == 0 {
            assert_eq!(inside, canonical(ip).is_ipv4() == canonical(net).is_ipv4(), "{t:?} and {ip}");
        }
        if inside {
            // Every shorter prefix of the same address contains it too (an IPv4-mapped range
            // is written with a prefix of at least 96).
            let floor = if matches!(net, IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some()) { 96 } else { 0 };
            for shorter in [floor, floor + (bits - floor) / 2, bits.saturating_sub(1).max(floor)] {
                let wider: Cidr = format!("{addr}/{shorter}").parse().expect("a shorter prefix parses");
                assert!(wider.contains(ip), "{t:?} contains {ip} but {addr}/{shorter} does not");
            }
        }
        // `::ffff:a.b.c.d/n` is the IPv4 range `a.b.c.d/(n - 96)` (n >= 96).
        if let (IpAddr::V6(v6), true) = (net, bits >= 96) {
            if let Some(v4) = v6.to_ipv4_mapped() {
                let same: Cidr = format!("{v4}/{}", bits - 96).parse().expect("parses");
                assert_eq!(inside, same.contains(ip), "{t:?} and {v4}/{} disagree about {ip}", bits - 96);
            }
        }
    }
}

fn check_key(ip: IpAddr) {
    let key = address_key(ip);
    assert_eq!(key, address_key(twin(ip)), "{ip} and {} have different keys", twin(ip));
    match canonical(ip) {
        IpAddr::V4(v4) => assert_eq!(key, v4.to_string()),
        IpAddr::V6(v6) => {
            assert!(key.ends_with("/64"), "{key:?}");
            let s = v6.segments();
            let net = Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
            assert_eq!(key, format!("{net}/64"));
        }
    }
    let range: Cidr = key.parse().unwrap_or_else(|e| panic!("key {key:?} of {ip} does not read as a range: {e}"));
    assert!(range.contains(ip), "key {key:?} does not contain {ip}");
}

fn check_public(ip: IpAddr) {
    let public = is_public(ip);
    assert_eq!(public, is_public(twin(ip)), "{ip} and {} judged differently", twin(ip));
    static RANGES: OnceLock<Vec<Cidr>> = OnceLock::new();
    let ranges = RANGES.get_or_init(|| NOT_PUBLIC.iter().map(|r| r.parse().expect("a valid range")).collect());
    for (r, c) in NOT_PUBLIC.iter().zip(ranges) {
        assert!(!(public && c.contains(ip)), "{ip} is in {r} but is_public says it is public");
    }
    if let IpAddr::V4(v4) = canonical(ip) {
        let [a, b, c, d] = v4.octets();
        let carriers = [
            Ipv6Addr::new(0, 0, 0, 0, 0, 0, u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d])), // compatible
            Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d])), // NAT64
            Ipv6Addr::new(0x2002, u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d]), 0, 0, 0, 0, 1), // 6to4
        ];
        for v6 in carriers {
            assert_eq!(is_public(IpAddr::V6(v6)), public, "{v6} carries {v4} but is judged differently");
        }
    }
}

fn check_url(s: &str) {
    let Ok(url) = reqwest::Url::parse(s) else { return };
    let refused = refuse_url(&url);
    match url.host() {
        None => assert!(refused.is_some(), "{url} has no host but is allowed"),
        Some(url::Host::Ipv4(v4)) => assert_eq!(refused.is_some(), !is_public(IpAddr::V4(v4)), "{url}"),
        Some(url::Host::Ipv6(v6)) => assert_eq!(refused.is_some(), !is_public(IpAddr::V6(v6)), "{url}"),
        Some(url::Host::Domain(d)) => {
            let d = d.to_ascii_lowercase();
            if d == "localhost" || d.ends_with(".localhost") {
                assert!(refused.is_some(), "{url} names this machine but is allowed");
            }
            let d = d.trim_end_matches('.');
            if d == "localhost" || d.ends_with(".localhost") {
                assert!(refused.is_some(), "{url} names this machine (with a trailing dot) but is allowed");
            }
        }
    }
}

fn check_client(proxies: &TrustedProxies, peer: IpAddr, headers: &[&str]) {
    let client = proxies.client(peer, headers.iter().copied());
    assert_eq!(client, canonical(client), "{client} is not in canonical form");
    if !proxies.trusts(peer) {
        assert_eq!(client, canonical(peer), "an untrusted peer's header was believed");
        return;
    }
    let hops: Vec<IpAddr> = headers.iter().flat_map(|h| h.split(',')).filter_map(parse_ip).map(canonical).collect();
    assert!(client == canonical(peer) || hops.contains(&client), "{client} is neither the peer nor a hop");
    let joined = headers.join(",");
    let one_line = if headers.is_empty() { Vec::new() } else { vec![joined.as_str()] };
    assert_eq!(proxies.client(peer, one_line.iter().copied()), client, "header lines and one joined line disagree");
    if !proxies.trusts(client) {
        for extra in ["garbage", "1.1.1.1", "10.0.0.1", "[::ffff:127.0.0.1]:80", ""] {
            let more = std::iter::once(extra).chain(headers.iter().copied());
            assert_eq!(proxies.client(peer, more), client, "a hop written in front ({extra:?}) changed the client");
        }
    }
}
