//! The client's address behind a reverse proxy. `X-Forwarded-For` is read
//! only when the peer is one of the configured proxies
//! (`CITYKPI_TRUSTED_PROXIES`), and then from the right: each proxy appends
//! the address it was called from, so the rightmost address that is not a
//! trusted proxy is the client. Anything a client writes into the header
//! itself stands left of that and is never taken.

use std::net::IpAddr;

use axum::http::HeaderMap;

/// An address range in CIDR notation (`10.0.0.0/8`, `::1/128`); a bare
/// address is the range of that one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    addr: IpAddr,
    prefix: u8,
}

impl IpRange {
    pub fn parse(s: &str) -> Option<IpRange> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (
                a.trim().parse::<IpAddr>().ok()?,
                Some(p.trim().parse::<u8>().ok()?),
            ),
            None => (s.parse::<IpAddr>().ok()?, None),
        };
        let addr = addr.to_canonical();
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(IpRange { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// The ranges of a comma-separated list; an entry that is not an address
/// or a range is an error naming it.
pub fn parse_ranges(list: &str) -> Result<Vec<IpRange>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| IpRange::parse(s).ok_or_else(|| s.to_string()))
        .collect()
}

/// The address the request comes from: the peer, or, when the peer is a
/// trusted proxy, the rightmost untrusted address of `X-Forwarded-For`.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpRange]) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |ip: IpAddr| trusted.iter().any(|r| r.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in forwarded.iter().rev() {
        // A hop that is not an address was not written by a proxy we trust:
        // stop at the last address we could vouch for.
        let Ok(ip) = hop.parse::<IpAddr>() else {
            break;
        };
        client = ip.to_canonical();
        if !is_trusted(client) {
            break;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn ranges() {
        let r = IpRange::parse("10.0.0.0/8").unwrap();
        assert!(r.contains("10.200.3.4".parse().unwrap()));
        assert!(!r.contains("11.0.0.1".parse().unwrap()));
        assert!(r.contains("::ffff:10.0.0.1".parse().unwrap()));
        assert!(
            IpRange::parse("127.0.0.1")
                .unwrap()
                .contains("127.0.0.1".parse().unwrap())
        );
        assert!(
            !IpRange::parse("127.0.0.1")
                .unwrap()
                .contains("127.0.0.2".parse().unwrap())
        );
        assert!(
            IpRange::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
        assert!(
            IpRange::parse("fd00::/8")
                .unwrap()
                .contains("fd12::1".parse().unwrap())
        );
        assert!(IpRange::parse("10.0.0.0/33").is_none());
        assert_eq!(parse_ranges("127.0.0.1, 10.0.0.0/8").unwrap().len(), 2);
        assert_eq!(
            parse_ranges("127.0.0.1,proxy.local"),
            Err("proxy.local".into())
        );
        assert!(parse_ranges("").unwrap().is_empty());
    }

    #[test]
    fn forwarded_for_only_from_trusted_proxies() {
        let trusted = parse_ranges("127.0.0.1,10.0.0.0/8").unwrap();
        let proxy: IpAddr = "127.0.0.1".parse().unwrap();
        let outsider: IpAddr = "203.0.113.9".parse().unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        // From an untrusted peer the header is ignored.
        assert_eq!(
            client_ip(outsider, &headers(&["198.51.100.1"]), &trusted),
            outsider
        );
        // Behind the proxy: the rightmost untrusted address.
        assert_eq!(
            client_ip(proxy, &headers(&["198.51.100.1"]), &trusted),
            ip("198.51.100.1")
        );
        assert_eq!(
            client_ip(
                proxy,
                &headers(&["6.6.6.6, 198.51.100.1, 10.1.2.3"]),
                &trusted
            ),
            ip("198.51.100.1"),
            "a forged left part is not taken"
        );
        assert_eq!(
            client_ip(proxy, &headers(&["6.6.6.6", "198.51.100.2"]), &trusted),
            ip("198.51.100.2")
        );
        assert_eq!(client_ip(proxy, &headers(&[]), &trusted), proxy);
        assert_eq!(client_ip(proxy, &headers(&["garbage"]), &trusted), proxy);
        // Nothing configured: the peer, always.
        assert_eq!(client_ip(proxy, &headers(&["198.51.100.1"]), &[]), proxy);
    }
}
