//! Login IP addresses from the `ip_addresses` column: parsed, IPv4-mapped IPv6 folded to IPv4, and ranges that
//! never identify anyone dropped (private, loopback, link-local, carrier-grade NAT 100.64.0.0/10, unique-local
//! IPv6, unspecified, multicast, broadcast). Each usable address gives the exact address and its network
//! prefix: /24 for IPv4, /64 for IPv6.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ip {
    /// A public address: its canonical text and its prefix in CIDR notation.
    Public { addr: IpAddr, prefix: IpNet },
    /// A parseable address from a range that is never identity evidence.
    NotPublic,
    /// Not an address.
    Invalid,
}

fn v4_not_public(a: Ipv4Addr) -> bool {
    let o = a.octets();
    a.is_private()
        || a.is_loopback()
        || a.is_link_local()
        || a.is_unspecified()
        || a.is_broadcast()
        || a.is_multicast()
        || o[0] == 0
        || (o[0] == 100 && (o[1] & 0xC0) == 64) // 100.64.0.0/10 carrier-grade NAT
        || o[0] >= 240
}

fn v6_not_public(a: Ipv6Addr) -> bool {
    let s = a.segments();
    a.is_loopback()
        || a.is_unspecified()
        || a.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // fc00::/7 unique local
        || (s[0] & 0xffc0) == 0xfe80 // fe80::/10 link-local
}

/// Classifies and canonicalizes one address.
pub fn normalize(raw: &str) -> Option<Ip> {
    let s = raw.trim();
    if s.is_empty() {
        return None;
    }
    let s = s.trim_start_matches('[').trim_end_matches(']');
    let Ok(addr) = s.parse::<IpAddr>() else {
        return Some(Ip::Invalid);
    };
    let addr = match addr {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    };
    Some(match addr {
        IpAddr::V4(a) if v4_not_public(a) => Ip::NotPublic,
        IpAddr::V6(a) if v6_not_public(a) => Ip::NotPublic,
        IpAddr::V4(a) => Ip::Public {
            addr,
            prefix: IpNet::V4(
                Ipv4Net::new(a, 24)
                    .expect("24 is a valid IPv4 prefix")
                    .trunc(),
            ),
        },
        IpAddr::V6(a) => Ip::Public {
            addr,
            prefix: IpNet::V6(
                Ipv6Net::new(a, 64)
                    .expect("64 is a valid IPv6 prefix")
                    .trunc(),
            ),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(s: &str) -> (String, String) {
        match normalize(s) {
            Some(Ip::Public { addr, prefix }) => (addr.to_string(), prefix.to_string()),
            other => panic!("{s:?} gave {other:?}"),
        }
    }

    #[test]
    fn public_addresses() {
        let cases = [
            ("81.2.69.160", "81.2.69.160", "81.2.69.0/24"),
            (" 8.8.8.8 ", "8.8.8.8", "8.8.8.0/24"),
            ("::ffff:81.2.69.160", "81.2.69.160", "81.2.69.0/24"),
            (
                "2001:4860:4860::8888",
                "2001:4860:4860::8888",
                "2001:4860:4860::/64",
            ),
            (
                "2001:DB8:0:1:0:0:0:1",
                "2001:db8:0:1::1",
                "2001:db8:0:1::/64",
            ),
            ("[2a00:1450::1]", "2a00:1450::1", "2a00:1450::/64"),
            ("203.0.113.7", "203.0.113.7", "203.0.113.0/24"),
        ];
        for (raw, addr, prefix) in cases {
            assert_eq!(
                public(raw),
                (addr.to_string(), prefix.to_string()),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn never_evidence() {
        for raw in [
            "10.1.2.3",
            "192.168.0.10",
            "172.16.5.4",
            "127.0.0.1",
            "169.254.1.1",
            "100.64.0.1",
            "100.127.255.254",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd12:3456::1",
            "::ffff:192.168.1.1",
        ] {
            assert_eq!(normalize(raw), Some(Ip::NotPublic), "{raw:?}");
        }
        assert!(matches!(normalize("100.128.0.1"), Some(Ip::Public { .. })));
    }

    #[test]
    fn invalid_and_empty() {
        assert_eq!(normalize(""), None);
        assert_eq!(normalize("  "), None);
        for raw in ["999.1.1.1", "1.2.3", "hello", "1.2.3.4.5", "gggg::1"] {
            assert_eq!(normalize(raw), Some(Ip::Invalid), "{raw:?}");
        }
    }
}
