//! Which addresses and ports a fetch may reach.
//!
//! Everything that is not the public internet is refused: loopback, private and shared
//! (CGNAT) ranges, link-local (which holds the cloud metadata address 169.254.169.254),
//! unspecified, broadcast, multicast, documentation, benchmarking and reserved ranges, and
//! their IPv6 counterparts. IPv6 forms that carry an IPv4 address (mapped `::ffff:a.b.c.d`,
//! compatible `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) are judged by the IPv4
//! address inside, so `[::ffff:127.0.0.1]` is loopback. Teredo (`2001::/32`) hides its
//! IPv4 address and is refused. Configured networks (`fetch.allow_networks`) open a range
//! on purpose, e.g. an intranet wiki.

use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Addresses and ports a fetch may reach.
#[derive(Debug, Clone)]
pub struct AddressPolicy {
    allowed_networks: Vec<IpNet>,
    allowed_ports: Vec<u16>,
}

impl AddressPolicy {
    /// `allowed_networks` are CIDRs (`10.1.0.0/16`) or single addresses opened on purpose;
    /// `allowed_ports` the ports URLs may name (80 and 443 by default in the settings).
    pub fn new(allowed_networks: &[String], allowed_ports: &[u16]) -> Result<Self, String> {
        let allowed_networks = allowed_networks
            .iter()
            .map(|text| {
                text.parse::<IpNet>()
                    .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("{text:?} is not a network (like 10.0.0.0/8) or address"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            allowed_networks,
            allowed_ports: allowed_ports.to_vec(),
        })
    }

    /// Whether a connection to `ip` is allowed.
    pub fn allows(&self, ip: IpAddr) -> bool {
        !is_internal(ip) || self.allowed_networks.iter().any(|net| net.contains(&ip))
    }

    pub fn allows_port(&self, port: u16) -> bool {
        self.allowed_ports.contains(&port)
    }
}

/// Whether `ip` is anything but a public internet address.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => is_internal_v6(v6),
    }
}

fn is_internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    a == 0 // "this network", including 0.0.0.0
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 169 && b == 254) // link-local, cloud metadata
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // TEST-NET-1
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || (a == 192 && b == 168)
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // TEST-NET-2
        || (a == 203 && b == 0 && c == 113) // TEST-NET-3
        || a >= 224 // multicast, reserved, broadcast
}

fn is_internal_v6(ip: Ipv6Addr) -> bool {
    let segments = ip.segments();
    if let Some(v4) = embedded_v4(ip) {
        return is_internal_v4(v4);
    }
    ip.is_unspecified()
        || ip.is_loopback()
        || (segments[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (segments[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (segments[0] & 0xffc0) == 0xfec0 // site-local fec0::/10 (deprecated)
        || (segments[0] & 0xff00) == 0xff00 // multicast
        || (segments[0] == 0x2001 && segments[1] == 0x0db8) // documentation
        || (segments[0] == 0x2001 && segments[1] == 0) // Teredo: the IPv4 inside is hidden
        || (segments[0] == 0x0064 && segments[1] == 0xff9b && segments[2] == 1) // local NAT64
        || (segments[0] == 0x0100 && segments[1..4] == [0, 0, 0]) // discard-only 100::/64
        || segments[0] == 0 // the rest of ::/16 (reserved)
}

/// The IPv4 address an IPv6 address carries: mapped, compatible, NAT64 or 6to4.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let from = |high: u16, low: u16| {
        Some(Ipv4Addr::new(
            (high >> 8) as u8,
            high as u8,
            (low >> 8) as u8,
            low as u8,
        ))
    };
    match s {
        // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible; not :: or ::1)
        [0, 0, 0, 0, 0, 0xffff, high, low] => from(high, low),
        [0, 0, 0, 0, 0, 0, high, low] if high != 0 => from(high, low),
        // 64:ff9b::a.b.c.d (well-known NAT64 prefix)
        [0x0064, 0xff9b, 0, 0, 0, 0, high, low] => from(high, low),
        // 2002:aabb:ccdd::/48 (6to4)
        [0x2002, high, low, ..] => from(high, low),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn internal(text: &str) -> bool {
        is_internal(text.parse().unwrap())
    }

    #[test]
    fn every_internal_ipv4_range_is_refused_at_both_ends() {
        for (first, last, after) in [
            ("0.0.0.0", "0.255.255.255", "1.0.0.0"),
            ("10.0.0.0", "10.255.255.255", "11.0.0.0"),
            ("100.64.0.0", "100.127.255.255", "100.128.0.0"),
            ("127.0.0.0", "127.255.255.255", "128.0.0.0"),
            ("169.254.0.0", "169.254.255.255", "169.255.0.0"),
            ("172.16.0.0", "172.31.255.255", "172.32.0.0"),
            ("192.0.0.0", "192.0.0.255", "192.0.1.0"),
            ("192.0.2.0", "192.0.2.255", "192.0.3.0"),
            ("192.88.99.0", "192.88.99.255", "192.88.100.0"),
            ("192.168.0.0", "192.168.255.255", "192.169.0.0"),
            ("198.18.0.0", "198.19.255.255", "198.20.0.0"),
            ("198.51.100.0", "198.51.100.255", "198.51.101.0"),
            ("203.0.113.0", "203.0.113.255", "203.0.114.0"),
        ] {
            assert!(internal(first), "{first}");
            assert!(internal(last), "{last}");
            assert!(!internal(after), "{after} is public");
        }
        for before in [
            "9.255.255.255",
            "100.63.255.255",
            "172.15.255.255",
            "169.253.255.255",
        ] {
            assert!(!internal(before), "{before} is public");
        }
        for special in [
            "169.254.169.254",
            "224.0.0.1",
            "239.255.255.255",
            "240.0.0.1",
            "255.255.255.255",
        ] {
            assert!(internal(special), "{special}");
        }
        for public in ["1.1.1.1", "8.8.8.8", "93.184.215.14", "223.255.255.255"] {
            assert!(!internal(public), "{public}");
        }
    }

    #[test]
    fn ipv6_internal_ranges_and_ipv4_carried_inside_are_refused() {
        for text in [
            "::",
            "::1",
            "fc00::1",
            "fdff:ffff::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "2001:0:4136:e378::1",
            "64:ff9b:1::1",
            "100::1",
            "::ffff:127.0.0.1",
            "::ffff:7f00:1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "2002:c0a8:101::1",
        ] {
            assert!(internal(text), "{text}");
        }
        for text in [
            "2606:4700:4700::1111",
            "2a00:1450:4001:80b::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "fbff::1",
            "fe7f::1",
        ] {
            assert!(!internal(text), "{text} is public");
        }
    }

    #[test]
    fn allowed_networks_open_exactly_their_range() {
        let policy =
            AddressPolicy::new(&["127.0.0.1/32".into(), "10.1.0.0/16".into()], &[80]).unwrap();
        assert!(policy.allows("127.0.0.1".parse().unwrap()));
        assert!(!policy.allows("127.0.0.2".parse().unwrap()));
        assert!(policy.allows("10.1.200.3".parse().unwrap()));
        assert!(!policy.allows("10.2.0.1".parse().unwrap()));
        assert!(policy.allows("8.8.8.8".parse().unwrap()));
        assert!(policy.allows_port(80) && !policy.allows_port(8080));
        let single = AddressPolicy::new(&["192.168.1.5".into()], &[]).unwrap();
        assert!(single.allows("192.168.1.5".parse().unwrap()));
        assert!(AddressPolicy::new(&["localhost".into()], &[]).is_err());
    }
}
