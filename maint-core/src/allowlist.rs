//! IP allowlists: the addresses that get through while a service is in
//! maintenance.
//!
//! An entry is parsed strictly into a [`Cidr`]: a bare address means one host
//! (`/32` or `/128`), a CIDR must have its host bits clear (`10.0.0.5/24` is an
//! error that suggests `10.0.0.0/24`), and `/0` is refused because it would let
//! everyone through. Zone ids, IPv4-mapped IPv6, leading zeros and stray
//! characters are errors rather than guesses.
//!
//! An [`Allowlist`] is the folded form: duplicates and ranges covered by
//! another entry are dropped, adjacent ranges merged, IPv4 and IPv6 kept apart
//! and sorted, each family within the AWS WAF IP-set limit. Parsing reports
//! every bad entry, not just the first, each with its line when read from a
//! file.

use std::collections::BTreeSet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::str::FromStr;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Problem, Problems};

/// An IP address family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// IPv4.
    Ipv4,
    /// IPv6.
    Ipv6,
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Family::Ipv4 => "IPv4",
            Family::Ipv6 => "IPv6",
        })
    }
}

/// Why one allowlist entry is not a valid CIDR.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CidrError {
    /// The entry is empty.
    #[error("empty entry")]
    Empty,
    /// The entry contains a character that has no place in an address.
    #[error("unexpected character {ch:?} at position {position}")]
    UnexpectedChar {
        /// The character.
        ch: char,
        /// Its 1-based position in the entry.
        position: usize,
    },
    /// An IPv6 zone id (`fe80::1%eth0`): meaningless to AWS WAF.
    #[error("zone ids (%...) are not allowed: WAF sees addresses without zones")]
    ZoneId,
    /// An IPv4-mapped IPv6 address or range: WAF matches IPv4 clients as IPv4.
    #[error("IPv4-mapped IPv6 address; write the IPv4 form {ipv4} instead")]
    Ipv4Mapped {
        /// The IPv4 form of the entry.
        ipv4: String,
    },
    /// IPv6 written with an embedded dotted IPv4 part (`::1.2.3.4`).
    #[error("IPv6 with an embedded IPv4 part is not allowed; write it in hexadecimal")]
    EmbeddedIpv4,
    /// A component with a leading zero (`010.0.0.1`, `/024`): ambiguous
    /// (octal in some tools), so refused.
    #[error("leading zeros are ambiguous (octal in some tools); remove them")]
    LeadingZeros,
    /// Not an IPv4 or IPv6 address.
    #[error("not an IPv4 or IPv6 address")]
    BadAddress,
    /// The part after `/` is not a prefix length.
    #[error("prefix length {prefix:?} is not a number")]
    BadPrefix {
        /// The text after the slash.
        prefix: String,
    },
    /// The prefix length is longer than the family allows.
    #[error("prefix length /{prefix} is longer than /{max}, the maximum for {family}")]
    PrefixTooLong {
        /// The prefix length given.
        prefix: u32,
        /// The maximum for the family.
        max: u8,
        /// The address family.
        family: Family,
    },
    /// `/0` matches every address: it would turn maintenance off.
    #[error("/0 matches every address and would turn maintenance off (AWS WAF refuses it too)")]
    ZeroPrefix,
    /// The address has bits set beyond the prefix.
    #[error("host bits are set; did you mean {network}?")]
    HostBitsSet {
        /// The network the entry probably meant.
        network: IpNet,
    },
}

/// One validated allowlist entry: an IPv4 or IPv6 network with clear host bits
/// and a prefix length of at least 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cidr(IpNet);

impl Cidr {
    /// Parses one entry: an address (one host) or a CIDR, strictly.
    pub fn parse(entry: &str) -> Result<Self, CidrError> {
        let entry = entry.trim();
        if entry.is_empty() {
            return Err(CidrError::Empty);
        }
        if entry.contains('%') {
            return Err(CidrError::ZoneId);
        }
        if let Some((position, ch)) = entry
            .chars()
            .enumerate()
            .find(|(_, c)| !(c.is_ascii_hexdigit() || matches!(c, '.' | ':' | '/')))
        {
            return Err(CidrError::UnexpectedChar {
                ch,
                position: position + 1,
            });
        }
        let (addr_text, prefix_text) = match entry.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (entry, None),
        };
        let addr = parse_address(addr_text)?;
        let max = match addr {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        };
        let prefix = match prefix_text {
            None => max,
            Some(p) => parse_prefix(p, max, family_of(&addr))?,
        };
        if prefix == 0 {
            return Err(CidrError::ZeroPrefix);
        }
        let net = IpNet::new(addr, prefix).map_err(|_| CidrError::BadPrefix {
            prefix: prefix.to_string(),
        })?;
        if let IpNet::V6(v6) = net {
            if let Some(ipv4) = mapped_ipv4(&v6) {
                return Err(CidrError::Ipv4Mapped { ipv4 });
            }
        }
        if net.trunc() != net {
            return Err(CidrError::HostBitsSet {
                network: net.trunc(),
            });
        }
        Ok(Cidr(net))
    }

    /// The network.
    pub fn net(&self) -> IpNet {
        self.0
    }

    /// The address family.
    pub fn family(&self) -> Family {
        match self.0 {
            IpNet::V4(_) => Family::Ipv4,
            IpNet::V6(_) => Family::Ipv6,
        }
    }

    /// True when `ip` lies within this network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.contains(&normalize_ip(ip))
    }
}

impl From<Ipv4Net> for Cidr {
    /// Wraps an already-valid network (host bits are cleared; a `/0` is kept,
    /// so only use this for networks that came out of an [`Allowlist`]).
    fn from(net: Ipv4Net) -> Self {
        Cidr(IpNet::V4(net.trunc()))
    }
}

impl From<Ipv6Net> for Cidr {
    /// Wraps an already-valid network, as for IPv4.
    fn from(net: Ipv6Net) -> Self {
        Cidr(IpNet::V6(net.trunc()))
    }
}

impl fmt::Display for Cidr {
    /// Always prints the prefix length, e.g. `192.0.2.1/32`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for Cidr {
    type Err = CidrError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Cidr::parse(s)
    }
}

impl Serialize for Cidr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Cidr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Cidr::parse(&text).map_err(|e| serde::de::Error::custom(format!("{text}: {e}")))
    }
}

fn family_of(addr: &IpAddr) -> Family {
    match addr {
        IpAddr::V4(_) => Family::Ipv4,
        IpAddr::V6(_) => Family::Ipv6,
    }
}

/// An IPv4-mapped IPv6 client address is matched as the IPv4 address it maps.
fn normalize_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => ip,
        },
        v4 => v4,
    }
}

/// The IPv4 form of a network inside `::ffff:0:0/96`, if it is one.
fn mapped_ipv4(net: &Ipv6Net) -> Option<String> {
    let mapped_range = Ipv6Net::new(Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0, 0), 96).ok()?;
    if !mapped_range.contains(net) {
        return None;
    }
    let v4 = net.addr().to_ipv4_mapped()?;
    let prefix = net.prefix_len().saturating_sub(96);
    Some(if prefix == 32 {
        v4.to_string()
    } else {
        format!("{v4}/{prefix}")
    })
}

fn parse_address(text: &str) -> Result<IpAddr, CidrError> {
    if text.contains(':') {
        if text.contains('.') {
            // Could be ::ffff:1.2.3.4; say the more useful thing when it is.
            if let Ok(v6) = Ipv6Addr::from_str(text) {
                if let Some(v4) = v6.to_ipv4_mapped() {
                    return Err(CidrError::Ipv4Mapped {
                        ipv4: v4.to_string(),
                    });
                }
            }
            return Err(CidrError::EmbeddedIpv4);
        }
        // Leading zeros inside IPv6 groups (`0db8`) are standard, not ambiguous.
        return Ipv6Addr::from_str(text)
            .map(IpAddr::V6)
            .map_err(|_| CidrError::BadAddress);
    }
    if text
        .split('.')
        .any(|octet| octet.len() > 1 && octet.starts_with('0'))
    {
        return Err(CidrError::LeadingZeros);
    }
    Ipv4Addr::from_str(text)
        .map(IpAddr::V4)
        .map_err(|_| CidrError::BadAddress)
}

fn parse_prefix(text: &str, max: u8, family: Family) -> Result<u8, CidrError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CidrError::BadPrefix {
            prefix: text.to_string(),
        });
    }
    if text.len() > 1 && text.starts_with('0') {
        return Err(CidrError::LeadingZeros);
    }
    let value: u32 = text.parse().map_err(|_| CidrError::BadPrefix {
        prefix: text.to_string(),
    })?;
    if value > u32::from(max) {
        return Err(CidrError::PrefixTooLong {
            prefix: value,
            max,
            family,
        });
    }
    u8::try_from(value).map_err(|_| CidrError::BadPrefix {
        prefix: text.to_string(),
    })
}

/// Where an allowlist entry came from: a file (or `-` for stdin) and a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file's path as given, or `-` for standard input.
    pub origin: String,
    /// The 1-based line number.
    pub line: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.origin, self.line)
    }
}

/// One problem found in an allowlist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowlistProblem {
    /// The file and line, when the allowlist was read from a file.
    pub location: Option<Location>,
    /// The offending entry as written, when the problem is about one entry.
    pub entry: Option<String>,
    /// What is wrong.
    pub kind: AllowlistProblemKind,
}

/// What is wrong in an [`AllowlistProblem`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AllowlistProblemKind {
    /// The entry is not a valid CIDR.
    #[error(transparent)]
    Entry(#[from] CidrError),
    /// Even after folding, a family has more entries than one AWS WAF IP set
    /// can hold.
    #[error(
        "{count} {family} entries after folding; an AWS WAF IP set holds at most {}",
        Allowlist::MAX_ENTRIES_PER_FAMILY
    )]
    TooMany {
        /// The family that is over the limit.
        family: Family,
        /// How many entries it has after folding.
        count: usize,
    },
    /// The entries together cover every address of a family, which would
    /// turn maintenance off for it.
    #[error("the {family} entries together cover every {family} address, which would turn maintenance off")]
    CoversEverything {
        /// The family that is fully covered.
        family: Family,
    },
}

impl fmt::Display for AllowlistProblem {
    /// `FILE:LINE: ENTRY: reason`, leaving out the parts that are unknown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(location) = &self.location {
            write!(f, "{location}: ")?;
        }
        if let Some(entry) = &self.entry {
            write!(f, "{entry}: ")?;
        }
        write!(f, "{}", self.kind)
    }
}

/// An allowlist that could not be built, with every problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowlistError {
    problems: Vec<AllowlistProblem>,
}

impl AllowlistError {
    /// Every problem found, in input order. Never empty.
    pub fn problems(&self) -> &[AllowlistProblem] {
        &self.problems
    }
}

impl fmt::Display for AllowlistError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.problems.as_slice() {
            [one] => write!(f, "invalid allowlist entry: {one}"),
            many => {
                write!(f, "invalid allowlist ({} problems):", many.len())?;
                for problem in many {
                    write!(f, "\n  {problem}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for AllowlistError {}

impl From<AllowlistError> for Error {
    fn from(e: AllowlistError) -> Self {
        let problems = e
            .problems
            .into_iter()
            .map(|p| Problem {
                file: p.location.as_ref().map(|l| l.origin.clone()),
                line: p.location.as_ref().map(|l| l.line),
                column: None,
                key: None,
                entry: p.entry,
                message: p.kind.to_string(),
            })
            .collect();
        Error::InvalidAllowlist(Problems::new("allowlist", problems))
    }
}

/// One entry as read from an allowlist file, before folding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListedEntry {
    /// The entry.
    pub cidr: Cidr,
    /// Its 1-based line number.
    pub line: usize,
}

/// Parses allowlist text: one entry per line, `#` starts a comment (on its own
/// line, or after an entry), blank lines are
/// skipped. `origin` names the source in errors (a path, or `-` for stdin).
/// Every bad line is reported, not only the first.
pub(crate) fn parse_listed_entries(
    text: &str,
    origin: &str,
) -> Result<Vec<ListedEntry>, AllowlistError> {
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let entry_text = raw.split_once('#').map_or(raw, |(entry, _)| entry).trim();
        if entry_text.is_empty() {
            continue;
        }
        match Cidr::parse(entry_text) {
            Ok(cidr) => entries.push(ListedEntry { cidr, line }),
            Err(error) => problems.push(AllowlistProblem {
                location: Some(Location {
                    origin: origin.to_string(),
                    line,
                }),
                entry: Some(entry_text.to_string()),
                kind: error.into(),
            }),
        }
    }
    if problems.is_empty() {
        Ok(entries)
    } else {
        Err(AllowlistError { problems })
    }
}

/// The added and removed entries between two allowlists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AllowlistDiff {
    /// Entries in the new allowlist that the old one did not have.
    pub added: Vec<Cidr>,
    /// Entries in the old allowlist that the new one does not have.
    pub removed: Vec<Cidr>,
}

impl AllowlistDiff {
    /// True when nothing was added or removed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }
}

/// A folded, validated allowlist: IPv4 and IPv6 networks, each family sorted,
/// free of duplicates and covered ranges, adjacent ranges merged, at most
/// [`Allowlist::MAX_ENTRIES_PER_FAMILY`] per family, never covering a whole
/// family.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Allowlist {
    ipv4: Vec<Ipv4Net>,
    ipv6: Vec<Ipv6Net>,
}

impl Allowlist {
    /// The most entries one AWS WAF IP set holds (AWS WAF quotas page:
    /// "Maximum number of IP addresses in CIDR notation per IP set": 10,000).
    pub const MAX_ENTRIES_PER_FAMILY: usize = 10_000;

    /// An empty allowlist: nobody gets through.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses entries (addresses or CIDRs) and folds them. Every bad entry is
    /// reported.
    pub fn parse<I, S>(entries: I) -> Result<Self, AllowlistError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut cidrs = Vec::new();
        let mut problems = Vec::new();
        for entry in entries {
            let entry = entry.as_ref();
            match Cidr::parse(entry) {
                Ok(cidr) => cidrs.push(cidr),
                Err(error) => problems.push(AllowlistProblem {
                    location: None,
                    entry: Some(entry.trim().to_string()),
                    kind: error.into(),
                }),
            }
        }
        if !problems.is_empty() {
            return Err(AllowlistError { problems });
        }
        Self::from_cidrs(cidrs)
    }

    /// Parses allowlist file text (one entry a line, `#` comments) and folds it.
    pub fn parse_text(text: &str, origin: &str) -> Result<Self, AllowlistError> {
        let entries = parse_listed_entries(text, origin)?;
        Self::from_cidrs(entries.into_iter().map(|e| e.cidr))
    }

    /// Reads and parses an allowlist file. A file that cannot be read is an
    /// invalid-input error naming the path.
    pub fn from_file(path: &Path) -> crate::Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            crate::Error::invalid(format!("allowlist file {}", path.display()), e.to_string())
        })?;
        Ok(Self::parse_text(&text, &path.display().to_string())?)
    }

    /// Folds validated entries into an allowlist, checking the per-family
    /// limit and that no family is covered entirely.
    pub fn from_cidrs(cidrs: impl IntoIterator<Item = Cidr>) -> Result<Self, AllowlistError> {
        let mut ipv4 = Vec::new();
        let mut ipv6 = Vec::new();
        for cidr in cidrs {
            match cidr.0 {
                IpNet::V4(net) => ipv4.push(net),
                IpNet::V6(net) => ipv6.push(net),
            }
        }
        let mut ipv4 = Ipv4Net::aggregate(&ipv4);
        let mut ipv6 = Ipv6Net::aggregate(&ipv6);
        ipv4.sort_unstable();
        ipv6.sort_unstable();
        let mut problems = Vec::new();
        for (family, count, whole) in [
            (
                Family::Ipv4,
                ipv4.len(),
                ipv4.iter().any(|n| n.prefix_len() == 0),
            ),
            (
                Family::Ipv6,
                ipv6.len(),
                ipv6.iter().any(|n| n.prefix_len() == 0),
            ),
        ] {
            if whole {
                problems.push(AllowlistProblem {
                    location: None,
                    entry: None,
                    kind: AllowlistProblemKind::CoversEverything { family },
                });
            }
            if count > Self::MAX_ENTRIES_PER_FAMILY {
                problems.push(AllowlistProblem {
                    location: None,
                    entry: None,
                    kind: AllowlistProblemKind::TooMany { family, count },
                });
            }
        }
        if problems.is_empty() {
            Ok(Self { ipv4, ipv6 })
        } else {
            Err(AllowlistError { problems })
        }
    }

    /// The IPv4 networks, sorted.
    pub fn ipv4(&self) -> &[Ipv4Net] {
        &self.ipv4
    }

    /// The IPv6 networks, sorted.
    pub fn ipv6(&self) -> &[Ipv6Net] {
        &self.ipv6
    }

    /// Every entry, IPv4 first, each family sorted.
    pub fn iter(&self) -> impl Iterator<Item = Cidr> + '_ {
        self.ipv4
            .iter()
            .map(|n| Cidr(IpNet::V4(*n)))
            .chain(self.ipv6.iter().map(|n| Cidr(IpNet::V6(*n))))
    }

    /// The number of entries after folding.
    pub fn len(&self) -> usize {
        self.ipv4.len() + self.ipv6.len()
    }

    /// True when nobody gets through.
    pub fn is_empty(&self) -> bool {
        self.ipv4.is_empty() && self.ipv6.is_empty()
    }

    /// True when `ip` is let through. An IPv4-mapped IPv6 address is checked
    /// as its IPv4 address.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match normalize_ip(ip) {
            IpAddr::V4(ip) => covering(&self.ipv4, |n| n.network() <= ip, |n| n.contains(&ip)),
            IpAddr::V6(ip) => covering(&self.ipv6, |n| n.network() <= ip, |n| n.contains(&ip)),
        }
    }

    /// This allowlist with `other`'s entries added (and folded again).
    pub fn union(&self, other: &Allowlist) -> Result<Allowlist, AllowlistError> {
        Self::from_cidrs(self.iter().chain(other.iter()))
    }

    /// This allowlist with every address in `other` taken out. A removed
    /// range inside a larger entry splits that entry.
    pub fn subtract(&self, other: &Allowlist) -> Allowlist {
        let ipv4 = subtract_family(&self.ipv4, &other.ipv4, |n| n.subnets(n.prefix_len() + 1));
        let ipv6 = subtract_family(&self.ipv6, &other.ipv6, |n| n.subnets(n.prefix_len() + 1));
        Allowlist {
            ipv4: Ipv4Net::aggregate(&ipv4),
            ipv6: Ipv6Net::aggregate(&ipv6),
        }
    }

    /// The entries that going from `self` to `new` adds and removes.
    pub fn diff(&self, new: &Allowlist) -> AllowlistDiff {
        let old: BTreeSet<Cidr> = self.iter().collect();
        let new: BTreeSet<Cidr> = new.iter().collect();
        AllowlistDiff {
            added: new.difference(&old).copied().collect(),
            removed: old.difference(&new).copied().collect(),
        }
    }
}

/// Binary search in sorted, disjoint networks: the last one starting at or
/// before the address is the only one that can contain it.
fn covering<N>(
    nets: &[N],
    starts_before: impl Fn(&N) -> bool,
    contains: impl Fn(&N) -> bool,
) -> bool {
    let after = nets.partition_point(starts_before);
    after > 0 && contains(&nets[after - 1])
}

/// Subtracts every network of `holes` from `nets`, splitting a network in
/// halves until the hole is isolated.
fn subtract_family<N, S, I>(nets: &[N], holes: &[N], split: S) -> Vec<N>
where
    N: Copy + Ord + ContainsNet,
    S: Fn(&N) -> Result<I, ipnet::PrefixLenError>,
    I: Iterator<Item = N>,
{
    let mut current: Vec<N> = nets.to_vec();
    for hole in holes {
        let mut next = Vec::with_capacity(current.len() + 1);
        let mut pending: Vec<N> = current;
        while let Some(net) = pending.pop() {
            if hole.contains_net(&net) {
                continue; // fully removed
            }
            if !net.contains_net(hole) {
                next.push(net); // disjoint (CIDRs either nest or are disjoint)
                continue;
            }
            match split(&net) {
                Ok(halves) => pending.extend(halves),
                Err(_) => next.push(net),
            }
        }
        next.sort_unstable();
        current = next;
    }
    current
}

/// Network containment over both ipnet families.
trait ContainsNet {
    fn contains_net(&self, other: &Self) -> bool;
}

impl ContainsNet for Ipv4Net {
    fn contains_net(&self, other: &Self) -> bool {
        self.contains(other)
    }
}

impl ContainsNet for Ipv6Net {
    fn contains_net(&self, other: &Self) -> bool {
        self.contains(other)
    }
}

impl fmt::Display for Allowlist {
    /// One entry per line, IPv4 first; text that [`Allowlist::parse_text`]
    /// reads back into the same allowlist.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for cidr in self.iter() {
            writeln!(f, "{cidr}")?;
        }
        Ok(())
    }
}

impl Serialize for Allowlist {
    /// `{"ipv4": [...], "ipv6": [...]}` with CIDR strings.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Families {
            ipv4: Vec<String>,
            ipv6: Vec<String>,
        }
        Families {
            ipv4: self.ipv4.iter().map(ToString::to_string).collect(),
            ipv6: self.ipv6.iter().map(ToString::to_string).collect(),
        }
        .serialize(s)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn cidr(s: &str) -> Cidr {
        Cidr::parse(s).unwrap()
    }

    #[test]
    fn bare_addresses_are_single_hosts() {
        assert_eq!(cidr("192.0.2.1").to_string(), "192.0.2.1/32");
        assert_eq!(cidr("2001:db8::1").to_string(), "2001:db8::1/128");
        assert_eq!(cidr(" 10.0.0.0/8 ").to_string(), "10.0.0.0/8");
    }

    #[test]
    fn host_bits_suggest_the_network() {
        let err = Cidr::parse("10.0.0.5/24").unwrap_err();
        assert_eq!(
            err.to_string(),
            "host bits are set; did you mean 10.0.0.0/24?"
        );
        let err = Cidr::parse("2001:db8::1/32").unwrap_err();
        assert!(err.to_string().contains("2001:db8::/32"), "{err}");
    }

    #[test]
    fn strict_parsing_rejects_malformed_input() {
        let cases = [
            ("", CidrError::Empty),
            ("0.0.0.0/0", CidrError::ZeroPrefix),
            ("::/0", CidrError::ZeroPrefix),
            ("fe80::1%eth0", CidrError::ZoneId),
            ("010.0.0.1", CidrError::LeadingZeros),
            ("10.0.0.0/08", CidrError::LeadingZeros),
            ("::1.2.3.4", CidrError::EmbeddedIpv4),
            ("1.2.3", CidrError::BadAddress),
            ("256.0.0.1", CidrError::BadAddress),
            (
                "1.2.3.4/",
                CidrError::BadPrefix {
                    prefix: String::new(),
                },
            ),
            (
                "1.2.3.4/2/3",
                CidrError::BadPrefix {
                    prefix: "2/3".into(),
                },
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(Cidr::parse(input).unwrap_err(), expected, "{input}");
        }
        assert!(matches!(
            Cidr::parse("1.2.3.4/33").unwrap_err(),
            CidrError::PrefixTooLong {
                prefix: 33,
                max: 32,
                ..
            }
        ));
        assert!(matches!(
            Cidr::parse("::1/129").unwrap_err(),
            CidrError::PrefixTooLong {
                prefix: 129,
                max: 128,
                ..
            }
        ));
        assert!(matches!(
            Cidr::parse("1.2.3.4x").unwrap_err(),
            CidrError::UnexpectedChar {
                ch: 'x',
                position: 8
            }
        ));
        assert!(matches!(
            Cidr::parse("1.2.3.4 /24").unwrap_err(),
            CidrError::UnexpectedChar { ch: ' ', .. }
        ));
        assert_eq!(
            Cidr::parse("::ffff:1.2.3.4").unwrap_err(),
            CidrError::Ipv4Mapped {
                ipv4: "1.2.3.4".into()
            }
        );
        assert_eq!(
            Cidr::parse("::ffff:102:300/120").unwrap_err(),
            CidrError::Ipv4Mapped {
                ipv4: "1.2.3.0/24".into()
            }
        );
    }

    #[test]
    fn folding_drops_duplicates_and_covered_and_merges_adjacent() {
        let list = Allowlist::parse([
            "1.2.3.4",
            "1.2.3.0/24",
            "1.2.3.0/24",
            "10.0.0.0/24",
            "10.0.1.0/24",
            "2001:db8::1",
        ])
        .unwrap();
        let printed: Vec<String> = list.iter().map(|c| c.to_string()).collect();
        assert_eq!(printed, ["1.2.3.0/24", "10.0.0.0/23", "2001:db8::1/128"]);
    }

    #[test]
    fn unaligned_neighbours_are_not_merged_into_a_wider_range() {
        let list = Allowlist::parse(["10.0.1.0/24", "10.0.2.0/24"]).unwrap();
        assert_eq!(list.len(), 2);
    }

    #[test]
    fn every_bad_entry_is_reported_with_its_line() {
        let text = "# office\n1.2.3.4 # alice\n\n10.0.0.5/24\nbogus # bob\n::/0\n";
        let err = Allowlist::parse_text(text, "list.txt").unwrap_err();
        let lines: Vec<String> = err.problems().iter().map(|p| p.to_string()).collect();
        assert_eq!(
            lines,
            [
                "list.txt:4: 10.0.0.5/24: host bits are set; did you mean 10.0.0.0/24?",
                "list.txt:5: bogus: unexpected character 'o' at position 2",
                "list.txt:6: ::/0: /0 matches every address and would turn maintenance off (AWS WAF refuses it too)",
            ]
        );
    }

    #[test]
    fn a_trailing_comment_is_not_part_of_the_entry() {
        let entries = parse_listed_entries("1.2.3.4 # alice\n5.6.7.8\n", "-").unwrap();
        assert_eq!(entries[0].cidr.to_string(), "1.2.3.4/32");
        assert_eq!(entries[0].line, 1);
        assert_eq!(entries[1].line, 2);
    }

    #[test]
    fn halves_that_cover_a_family_are_refused() {
        let err = Allowlist::parse(["0.0.0.0/1", "128.0.0.0/1"]).unwrap_err();
        assert!(matches!(
            err.problems()[0].kind,
            AllowlistProblemKind::CoversEverything {
                family: Family::Ipv4
            }
        ));
    }

    #[test]
    fn limit_is_per_family_after_folding() {
        // 10,001 non-adjacent /32s (every other address) cannot be folded.
        let many: Vec<String> = (0..=10_000u32)
            .map(|i| Ipv4Addr::from(0x0a00_0000 + i * 2).to_string())
            .collect();
        let err = Allowlist::parse(&many).unwrap_err();
        assert!(
            err.to_string().contains("10001 IPv4 entries after folding"),
            "{err}"
        );
        assert!(err.to_string().contains("at most 10000"), "{err}");
        // The same count of adjacent addresses folds to a handful of ranges.
        let adjacent: Vec<String> = (0..=10_000u32)
            .map(|i| Ipv4Addr::from(0x0a00_0000 + i).to_string())
            .collect();
        assert!(Allowlist::parse(&adjacent).unwrap().len() < 20);
    }

    #[test]
    fn contains_checks_membership() {
        let list = Allowlist::parse(["10.0.0.0/8", "192.0.2.7", "2001:db8::/32"]).unwrap();
        assert!(list.contains("10.255.0.1".parse().unwrap()));
        assert!(list.contains("192.0.2.7".parse().unwrap()));
        assert!(!list.contains("192.0.2.8".parse().unwrap()));
        assert!(!list.contains("9.255.255.255".parse().unwrap()));
        assert!(list.contains("2001:db8:1::5".parse().unwrap()));
        assert!(list.contains("::ffff:10.1.2.3".parse().unwrap()));
        assert!(!Allowlist::new().contains("10.0.0.1".parse().unwrap()));
    }

    #[test]
    fn subtract_splits_ranges() {
        let list = Allowlist::parse(["10.0.0.0/23", "192.0.2.1"]).unwrap();
        let hole = Allowlist::parse(["10.0.0.0/24", "192.0.2.1"]).unwrap();
        let rest = list.subtract(&hole);
        assert_eq!(rest.to_string(), "10.0.1.0/24\n");
        let inner = Allowlist::parse(["10.0.0.128/25"]).unwrap();
        let rest = Allowlist::parse(["10.0.0.0/24"]).unwrap().subtract(&inner);
        assert_eq!(rest.to_string(), "10.0.0.0/25\n");
        assert!(!rest.contains("10.0.0.200".parse().unwrap()));
    }

    #[test]
    fn diff_lists_added_and_removed() {
        let old = Allowlist::parse(["1.1.1.1", "2.2.2.2"]).unwrap();
        let new = Allowlist::parse(["2.2.2.2", "3.3.3.3"]).unwrap();
        let diff = old.diff(&new);
        assert_eq!(diff.added, [cidr("3.3.3.3")]);
        assert_eq!(diff.removed, [cidr("1.1.1.1")]);
        assert!(old.diff(&old).is_empty());
    }

    #[test]
    fn serializes_as_families() {
        let list = Allowlist::parse(["2001:db8::1", "1.2.3.4"]).unwrap();
        assert_eq!(
            serde_json::to_string(&list).unwrap(),
            r#"{"ipv4":["1.2.3.4/32"],"ipv6":["2001:db8::1/128"]}"#
        );
        let c: Cidr = serde_json::from_str("\"10.0.0.0/8\"").unwrap();
        assert_eq!(c, cidr("10.0.0.0/8"));
        assert!(serde_json::from_str::<Cidr>("\"10.0.0.5/8\"").is_err());
    }
}
