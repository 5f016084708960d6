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

/// An IPv4 address in the only spelling the standard parser takes (four decimal octets of one to three digits,
/// no leading zero, at most 255, dots between), read in one pass; `None` for anything else, which the standard
/// parser then reads (or refuses). Most cells of an export are such addresses.
fn dotted_quad(s: &str) -> Option<Ipv4Addr> {
    let b = s.as_bytes();
    if !(7..=15).contains(&b.len()) {
        return None;
    }
    let (mut octets, mut k, mut value, mut digits) = ([0u8; 4], 0, 0u32, 0);
    for &c in b.iter().chain(std::iter::once(&b'.')) {
        if c == b'.' {
            if digits == 0 || k == 4 || value > 255 {
                return None;
            }
            octets[k] = value as u8;
            (k, value, digits) = (k + 1, 0, 0);
        } else if c.is_ascii_digit() && digits < 3 && !(digits == 1 && value == 0) {
            value = value * 10 + u32::from(c - b'0');
            digits += 1;
        } else {
            return None;
        }
    }
    (k == 4).then(|| Ipv4Addr::from(octets))
}

/// Classifies and canonicalizes one address.
pub fn normalize(raw: &str) -> Option<Ip> {
    let s = raw.trim();
    if s.is_empty() {
        return None;
    }
    let s = s.trim_start_matches('[').trim_end_matches(']');
    let addr = match dotted_quad(s) {
        Some(v4) => IpAddr::V4(v4),
        None => match s.parse::<IpAddr>() {
            Ok(a) => a,
            Err(_) => return Some(Ip::Invalid),
        },
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

    /// The one-pass reading of dotted quads gives exactly what the standard IPv4 parser gives: over every
    /// string of up to seven characters from digits and dots, and random longer ones with other bytes.
    #[test]
    fn dotted_quads_read_as_the_standard_parser_reads_them() {
        let check = |s: &str| {
            let std = s.parse::<Ipv4Addr>().ok();
            let fast = dotted_quad(s);
            assert_eq!(fast, std, "{s:?}");
            fast.is_some()
        };
        // Every string of up to 7 characters from `0`, `1`, `9`, `.`, `5`: leading zeros, empty parts, lengths.
        let alphabet = [b'0', b'1', b'9', b'.', b'5'];
        let mut read = 0;
        for len in 1..=7u32 {
            for code in 0..alphabet.len().pow(len) {
                let (mut c, mut s) = (code, Vec::new());
                for _ in 0..len {
                    s.push(alphabet[c % alphabet.len()]);
                    c /= alphabet.len();
                }
                read += usize::from(check(std::str::from_utf8(&s).unwrap()));
            }
        }
        // The single-digit quads of the alphabet's four digits.
        assert_eq!(read, 256);
        let mut next = crate::testing::below(0x2545_F491_4F6C_DD1D);
        // Three to five octet-like parts, now and then with something else in place of a dot.
        let parts = [
            "0", "1", "25", "255", "256", "300", "09", "99", "100", "1000", "",
        ];
        let joints = [".", ".", ".", ".", ".", ".", "..", ":", " ", "a", "-"];
        let mut quads = 0;
        for _ in 0..200_000 {
            let mut s = String::new();
            for k in 0..3 + next(3) {
                if k > 0 {
                    s.push_str(joints[next(11) as usize]);
                }
                s.push_str(parts[next(11) as usize]);
            }
            quads += usize::from(check(&s));
        }
        assert!(quads > 500, "{quads}");
        for s in ["255.255.255.255", "0.0.0.0", "1.2.3.4", "10.0.0.1"] {
            assert!(check(s), "{s}");
        }
    }

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
