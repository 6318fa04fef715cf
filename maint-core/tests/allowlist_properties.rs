//! Property tests of allowlist folding.
#![allow(clippy::unwrap_used, missing_docs)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use maint_core::{Allowlist, Cidr};
use proptest::prelude::*;

/// Networks inside a small space (10.0.0.0/20 and 2001:db8::/116), so that
/// random entries overlap, nest and touch often.
fn cidr() -> impl Strategy<Value = Cidr> {
    prop_oneof![
        3 => (0u32..4096, 20u8..=32).prop_map(|(host, prefix)| {
            let net = Ipv4Net::new(Ipv4Addr::from(0x0a00_0000 + host), prefix).unwrap();
            Cidr::from(net.trunc())
        }),
        1 => (0u128..4096, 116u8..=128).prop_map(|(host, prefix)| {
            let base = u128::from("2001:db8::".parse::<Ipv6Addr>().unwrap());
            let net = Ipv6Net::new(Ipv6Addr::from(base + host), prefix).unwrap();
            Cidr::from(net.trunc())
        }),
    ]
}

fn address() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        (0u32..4200).prop_map(|h| IpAddr::V4(Ipv4Addr::from(0x0a00_0000 - 50 + h))),
        (0u128..4200).prop_map(|h| {
            let base = u128::from("2001:db8::".parse::<Ipv6Addr>().unwrap());
            IpAddr::V6(Ipv6Addr::from(base - 50 + h))
        }),
    ]
}

proptest! {
    #[test]
    fn folding_is_idempotent(entries in prop::collection::vec(cidr(), 0..60)) {
        let once = Allowlist::from_cidrs(entries).unwrap();
        let twice = Allowlist::from_cidrs(once.iter()).unwrap();
        prop_assert_eq!(once, twice);
    }

    #[test]
    fn print_then_parse_gives_the_same_allowlist(entries in prop::collection::vec(cidr(), 0..60)) {
        let list = Allowlist::from_cidrs(entries).unwrap();
        let text = list.to_string();
        prop_assert_eq!(Allowlist::parse_text(&text, "-").unwrap(), list.clone());
        let strings: Vec<String> = list.iter().map(|c| c.to_string()).collect();
        prop_assert_eq!(Allowlist::parse(&strings).unwrap(), list);
    }

    #[test]
    fn folding_preserves_coverage(
        entries in prop::collection::vec(cidr(), 0..60),
        probes in prop::collection::vec(address(), 50),
    ) {
        let list = Allowlist::from_cidrs(entries.clone()).unwrap();
        for ip in probes {
            let before = entries.iter().any(|c| c.contains(ip));
            prop_assert_eq!(list.contains(ip), before, "{} in {:?}", ip, entries);
        }
    }

    #[test]
    fn folded_entries_are_disjoint_and_sorted(entries in prop::collection::vec(cidr(), 0..60)) {
        let list = Allowlist::from_cidrs(entries).unwrap();
        let nets: Vec<IpNet> = list.iter().map(|c| c.net()).collect();
        for pair in nets.windows(2) {
            prop_assert!(pair[0] < pair[1]);
            prop_assert!(!pair[0].contains(&pair[1]) && !pair[1].contains(&pair[0]));
        }
    }

    #[test]
    fn subtract_removes_exactly_the_hole(
        entries in prop::collection::vec(cidr(), 0..30),
        holes in prop::collection::vec(cidr(), 0..5),
        probes in prop::collection::vec(address(), 50),
    ) {
        let list = Allowlist::from_cidrs(entries).unwrap();
        let hole = Allowlist::from_cidrs(holes).unwrap();
        let rest = list.subtract(&hole);
        for ip in probes {
            prop_assert_eq!(rest.contains(ip), list.contains(ip) && !hole.contains(ip));
        }
    }
}
