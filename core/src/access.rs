//! Which remote addresses may log on to a session: the `AllowedRemoteAddresses` setting
//! (QuickFIX/J's name), a list of IP addresses and CIDR blocks.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// One entry of `AllowedRemoteAddresses`: an IP address (`10.0.0.7`, `::1`) or a CIDR block
/// (`10.0.0.0/8`, `fd00::/8`). IPv4 entries also match IPv4-mapped IPv6 peers
/// (`::ffff:10.0.0.7`), which a dual-stack listener reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IpRange {
    network: IpAddr,
    prefix: u8,
}

/// An `AllowedRemoteAddresses` entry that is neither an IP address nor a CIDR block.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not an IP address or CIDR block: {0:?}")]
pub struct InvalidIpRange(pub String);

impl IpRange {
    /// The block of addresses whose first `prefix` bits are those of `network`; `None` when the
    /// prefix is longer than the address (32 for IPv4, 128 for IPv6).
    pub fn new(network: IpAddr, prefix: u8) -> Option<Self> {
        let bits = match network {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        };
        (prefix <= bits).then_some(Self { network, prefix })
    }

    /// Whether `addr` is in the block.
    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self.network, addr.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(addr)) => masked(
                u128::from(net.to_bits()),
                u128::from(addr.to_bits()),
                32,
                self.prefix,
            ),
            (IpAddr::V6(net), IpAddr::V6(addr)) => {
                masked(net.to_bits(), addr.to_bits(), 128, self.prefix)
            }
            _ => false,
        }
    }

    /// Parses a comma-separated list (`127.0.0.1, 10.0.0.0/8`), ignoring empty items.
    pub fn parse_list(list: &str) -> Result<Vec<Self>, InvalidIpRange> {
        list.split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(str::parse)
            .collect()
    }
}

/// Whether the first `prefix` of `width` bits of `a` and `b` agree.
fn masked(a: u128, b: u128, width: u32, prefix: u8) -> bool {
    let shift = width - u32::from(prefix);
    // A shift by the full width (prefix 0, IPv6) would overflow: everything matches then.
    a.checked_shr(shift).unwrap_or(0) == b.checked_shr(shift).unwrap_or(0)
}

impl FromStr for IpRange {
    type Err = InvalidIpRange;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidIpRange(s.to_owned());
        let (addr, prefix) = match s.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (s, None),
        };
        let network: IpAddr = addr.trim().parse().map_err(|_| invalid())?;
        let prefix = match prefix {
            Some(prefix) => prefix.trim().parse::<u8>().map_err(|_| invalid())?,
            None if network.is_ipv4() => 32,
            None => 128,
        };
        Self::new(network, prefix).ok_or_else(invalid)
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn single_addresses_and_blocks() {
        let one: IpRange = "127.0.0.1".parse().unwrap();
        assert!(one.contains(ip("127.0.0.1")));
        assert!(!one.contains(ip("127.0.0.2")));
        let block: IpRange = "10.1.0.0/16".parse().unwrap();
        assert!(block.contains(ip("10.1.255.3")));
        assert!(!block.contains(ip("10.2.0.1")));
        let any: IpRange = "0.0.0.0/0".parse().unwrap();
        assert!(any.contains(ip("192.0.2.1")));
        assert!(!any.contains(ip("2001:db8::1")), "families do not mix");
        let v6: IpRange = "fd00::/8".parse().unwrap();
        assert!(v6.contains(ip("fd12::1")));
        assert!(!v6.contains(ip("fe80::1")));
        let all_v6: IpRange = "::/0".parse().unwrap();
        assert!(all_v6.contains(ip("2001:db8::1")));
    }

    #[test]
    fn ipv4_entries_match_ipv4_mapped_peers() {
        let one: IpRange = "127.0.0.1".parse().unwrap();
        assert!(one.contains(ip("::ffff:127.0.0.1")));
    }

    #[test]
    fn lists_and_bad_entries() {
        let list = IpRange::parse_list(" 127.0.0.1, 10.0.0.0/8 ,").unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[1].to_string(), "10.0.0.0/8");
        for bad in [
            "localhost",
            "10.0.0.0/33",
            "::/129",
            "1.2.3.4/x",
            "1.2.3/8",
            "",
        ] {
            assert!(bad.parse::<IpRange>().is_err(), "{bad}");
        }
    }
}
