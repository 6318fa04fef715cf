//! Which requests a window covers, and which always pass: a service's
//! scope on a load balancer it shares.
//!
//! One ALB often serves several services by host (`shop.example.com`,
//! `api.example.com`), and inside a window some paths must stay open
//! whoever calls them (an uptime monitor's `/healthz`, a payment provider's
//! webhook). A [`Scope`] says both: a request gets the maintenance
//! response only when its `Host` is one of [`Scope::hosts`] (any host when
//! there are none), its path starts with one of [`Scope::paths`] (any path
//! when there are none), and it is not under one of [`Scope::open_paths`].
//!
//! Hosts are compared as AWS WAF compares them in maint's rules: the `Host`
//! header (HTTP/2's `:authority`) lower-cased, equal to a host, or ending
//! with `.example.com` for `*.example.com`. Paths are compared after WAF's
//! `URL_DECODE` and `NORMALIZE_PATH` ([`normalize_path`]), so
//! `/healthz/../checkout` is `/checkout`, not an open path.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::InvalidInput;

/// The most hosts, paths or open paths a scope holds (each is one match in
/// maint's rule; ten keep the rule well inside a web ACL's capacity).
pub const MAX_SCOPE_ENTRIES: usize = 10;

/// AWS WAF's limit on a byte match's search string.
const MAX_SEARCH_BYTES: usize = 200;

/// A host a service answers for: `shop.example.com`, `*.shop.example.com`
/// (any subdomain, not the domain itself) or `shop.example.com:8443` (a
/// `Host` header that carries a port). Stored in ASCII (IDNA), lower case.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct HostPattern(String);

impl HostPattern {
    /// Parses a host as a user gives it (Unicode names are converted to
    /// their ASCII form); no scheme, path or user.
    pub fn parse(text: &str) -> Result<Self, InvalidInput> {
        let given = text.trim();
        let bad = |reason: &str| InvalidInput::new(format!("host {given:?}"), reason);
        if given.is_empty() {
            return Err(bad("is empty"));
        }
        if given.contains("://") {
            return Err(bad(
                "must be a host name without a scheme (shop.example.com, not https://shop.example.com)",
            ));
        }
        if given.chars().any(|c| {
            matches!(c, '/' | '?' | '#' | '@' | '\\') || c.is_whitespace() || c.is_control()
        }) {
            return Err(bad(
                "must be a host name only (shop.example.com): no path, query, user or spaces",
            ));
        }
        let (name, port) = split_port(given).map_err(|why| bad(&why))?;
        let (wildcard, domain) = match name.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, name),
        };
        if domain.contains('*') {
            return Err(bad(
                "may hold '*' only as its first label ('*.example.com': any subdomain)",
            ));
        }
        let ascii = if domain.starts_with('[') {
            if wildcard {
                return Err(bad("an IPv6 address cannot have subdomains"));
            }
            let inner = domain
                .strip_prefix('[')
                .and_then(|d| d.strip_suffix(']'))
                .filter(|d| d.parse::<std::net::Ipv6Addr>().is_ok())
                .ok_or_else(|| bad("is not a valid IPv6 address in brackets"))?;
            format!("[{}]", inner.to_ascii_lowercase())
        } else {
            ascii_domain(domain).map_err(|why| bad(&why))?
        };
        let mut pattern = if wildcard {
            format!("*.{ascii}")
        } else {
            ascii
        };
        if let Some(port) = port {
            pattern.push_str(&format!(":{port}"));
        }
        if pattern.len() > MAX_SEARCH_BYTES {
            return Err(bad(&format!(
                "is {} bytes in ASCII; AWS WAF matches at most {MAX_SEARCH_BYTES}",
                pattern.len()
            )));
        }
        Ok(Self(pattern))
    }

    /// The host as stored (ASCII, lower case).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether it is `*.domain` (any subdomain).
    pub fn is_wildcard(&self) -> bool {
        self.0.starts_with("*.")
    }

    /// What a lower-cased `Host` must equal (`Exactly`) or end with
    /// (`EndsWith`, for a wildcard: `.domain`).
    pub(crate) fn search(&self) -> (&str, bool) {
        match self.0.strip_prefix('*') {
            Some(suffix) => (suffix, true),
            None => (&self.0, false),
        }
    }

    /// Whether one `Host` header could match both patterns: the same host,
    /// a host under a wildcard's domain, or one wildcard's domain under
    /// the other's.
    pub fn overlaps(&self, other: &HostPattern) -> bool {
        match (self.search(), other.search()) {
            ((a, false), (b, false)) => a == b,
            ((exact, false), (suffix, true)) | ((suffix, true), (exact, false)) => {
                exact.ends_with(suffix)
            }
            ((a, true), (b, true)) => a.ends_with(b) || b.ends_with(a),
        }
    }

    /// Whether a request whose `Host` header is `host` matches.
    pub fn matches(&self, host: &str) -> bool {
        let host = host.to_lowercase();
        match self.search() {
            (suffix, true) => host.ends_with(suffix),
            (exact, false) => host == exact,
        }
    }
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `host[:port]` split; the port, when given, a number 1 to 65535.
fn split_port(given: &str) -> Result<(&str, Option<u16>), String> {
    let (name, port) = if let Some(rest) = given.strip_prefix('[') {
        // [v6] or [v6]:port
        match rest.split_once(']') {
            Some((_, "")) => (given, None),
            Some((v6, tail)) => match tail.strip_prefix(':') {
                Some(port) => (&given[..v6.len() + 2], Some(port)),
                None => return Err("holds something after the IPv6 address".into()),
            },
            None => return Err("opens '[' without closing it".into()),
        }
    } else {
        match given.rsplit_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (given, None),
        }
    };
    let port = match port {
        None => None,
        Some(p) => Some(
            p.parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| format!("has port {p:?}: a port is a number from 1 to 65535"))?,
        ),
    };
    Ok((name, port))
}

/// A domain name in ASCII (IDNA), lower case, each label 1 to 63 of
/// `[a-z0-9_-]`, at most 253 characters.
fn ascii_domain(domain: &str) -> Result<String, String> {
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    let ascii = idna::domain_to_ascii_cow(domain.as_bytes(), idna::AsciiDenyList::URL)
        .map_err(|_| "is not a valid host name (IDNA)".to_string())?
        .into_owned();
    if ascii.is_empty() || ascii.len() > 253 {
        return Err("is not a valid host name: 1 to 253 characters".into());
    }
    for label in ascii.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err("is not a valid host name: each label is 1 to 63 characters".into());
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        {
            return Err(format!(
                "is not a valid host name: label {label:?} holds more than letters, digits, '-' and '_'"
            ));
        }
    }
    Ok(ascii)
}

/// A path prefix: `/checkout`, `/api/orders/`. A request's path (without its
/// query string, decoded and normalized as AWS WAF's `URL_DECODE` and
/// `NORMALIZE_PATH` do) starts with it, byte for byte: `/checkout` also
/// covers `/checkout-v2`; end it with `/` to cover a directory only.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct PathPrefix(String);

impl PathPrefix {
    /// Parses a path prefix: it starts with `/` and holds no query,
    /// fragment, spaces or control characters. It is stored decoded and
    /// normalized, as requests are compared.
    pub fn parse(text: &str) -> Result<Self, InvalidInput> {
        let given = text.trim();
        let bad = |reason: &str| InvalidInput::new(format!("path {given:?}"), reason);
        if !given.starts_with('/') {
            return Err(bad(
                "must start with '/' (a path such as /healthz, not a URL)",
            ));
        }
        if given.contains(['?', '#']) {
            return Err(bad(
                "must be a path without a query or fragment ('?', '#'): maint matches paths",
            ));
        }
        if given.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("must hold no spaces or control characters"));
        }
        let normal = normalize_path(given);
        if normal.len() > MAX_SEARCH_BYTES {
            return Err(bad(&format!(
                "is {} bytes; AWS WAF matches at most {MAX_SEARCH_BYTES}",
                normal.len()
            )));
        }
        Ok(Self(normal))
    }

    /// The prefix as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether a request for `path` (as sent, without a query) is under it.
    pub fn matches(&self, path: &str) -> bool {
        normalize_path(path).starts_with(&self.0)
    }

    /// Whether one path could start with both prefixes: one of them
    /// starts with the other.
    pub fn overlaps(&self, other: &PathPrefix) -> bool {
        self.0.starts_with(&other.0) || other.0.starts_with(&self.0)
    }
}

impl fmt::Display for PathPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A path as AWS WAF's text transformations `URL_DECODE` then
/// `NORMALIZE_PATH` make it: `%XX` decoded (invalid sequences kept as
/// sent); then repeated slashes, `.` segments and `..` segments (with the
/// segment before them) removed, except at the beginning. A trailing `/`
/// stays.
pub fn normalize_path(path: &str) -> String {
    normalized(&url_decode(path))
}

/// AWS WAF's `NORMALIZE_PATH` alone (see [`normalize_path`]).
pub(crate) fn normalized(decoded: &str) -> String {
    let absolute = decoded.starts_with('/');
    let trailing = decoded.ends_with('/') || decoded.ends_with("/.") || decoded.ends_with("/..");
    let mut kept: Vec<&str> = Vec::new();
    let mut leading_up = 0usize;
    for segment in decoded.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                if kept.pop().is_none() {
                    // Not removed at the beginning of the input.
                    leading_up += 1;
                }
            }
            s => kept.push(s),
        }
    }
    let mut out = String::with_capacity(decoded.len());
    if absolute {
        out.push('/');
    }
    let parts: Vec<&str> = std::iter::repeat_n("..", leading_up)
        .chain(kept.iter().copied())
        .collect();
    out.push_str(&parts.join("/"));
    if trailing && !parts.is_empty() {
        out.push('/');
    }
    out
}

/// `%XX` decoded; a `%` not followed by two hex digits is kept as sent;
/// bytes that are not UTF-8 after decoding are replaced (U+FFFD).
pub(crate) fn url_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What a window covers on its load balancers, and what always passes.
/// Empty lists: every host, every path, no open path (a window as before
/// scopes existed).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawScope")]
pub struct Scope {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hosts: Vec<HostPattern>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    paths: Vec<PathPrefix>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    open_paths: Vec<PathPrefix>,
}

/// A scope as written in a record: parsed again when read, so a record
/// edited by hand cannot carry a host or path maint would refuse.
#[derive(Deserialize)]
struct RawScope {
    #[serde(default)]
    hosts: Vec<String>,
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    open_paths: Vec<String>,
}

impl TryFrom<RawScope> for Scope {
    type Error = InvalidInput;

    fn try_from(raw: RawScope) -> Result<Self, InvalidInput> {
        Scope::parse(&raw.hosts, &raw.paths, &raw.open_paths)
    }
}

impl Scope {
    /// Every request, nothing open.
    pub fn everything() -> Self {
        Self::default()
    }

    /// A scope of `hosts` and `paths` (empty: all) with `open_paths`, each
    /// as a user writes it. Repeats are dropped; at most
    /// [`MAX_SCOPE_ENTRIES`] of each.
    pub fn parse(
        hosts: &[impl AsRef<str>],
        paths: &[impl AsRef<str>],
        open_paths: &[impl AsRef<str>],
    ) -> Result<Self, InvalidInput> {
        let hosts = parse_list("hosts", hosts, HostPattern::parse)?;
        let paths = parse_list("paths", paths, PathPrefix::parse)?;
        let open_paths = parse_list("open paths", open_paths, PathPrefix::parse)?;
        Ok(Self {
            hosts,
            paths,
            open_paths,
        })
    }

    /// A scope of values already parsed (repeats dropped).
    pub fn new(
        hosts: Vec<HostPattern>,
        paths: Vec<PathPrefix>,
        open_paths: Vec<PathPrefix>,
    ) -> Result<Self, InvalidInput> {
        Ok(Self {
            hosts: checked("hosts", hosts)?,
            paths: checked("paths", paths)?,
            open_paths: checked("open paths", open_paths)?,
        })
    }

    /// The hosts covered (empty: every host).
    pub fn hosts(&self) -> &[HostPattern] {
        &self.hosts
    }

    /// The path prefixes covered (empty: every path).
    pub fn paths(&self) -> &[PathPrefix] {
        &self.paths
    }

    /// The path prefixes always let through.
    pub fn open_paths(&self) -> &[PathPrefix] {
        &self.open_paths
    }

    /// Whether it covers every request and opens none (no scope given).
    pub fn is_everything(&self) -> bool {
        self.hosts.is_empty() && self.paths.is_empty() && self.open_paths.is_empty()
    }

    /// Whether a request for `host` (its `Host` header; `None`: none) and
    /// `path` is within the hosts and paths (open paths aside).
    pub fn covers(&self, host: Option<&str>, path: &str) -> bool {
        let host_in = self.covers_host(host);
        let path_in = self.paths.is_empty() || self.paths.iter().any(|p| p.matches(path));
        host_in && path_in
    }

    /// Whether a request whose `Host` header is `host` (`None`: none) is
    /// for one of the hosts (any, when there are none).
    pub fn covers_host(&self, host: Option<&str>) -> bool {
        self.hosts.is_empty() || host.is_some_and(|h| self.hosts.iter().any(|p| p.matches(h)))
    }

    /// Whether one request could be within both scopes' hosts and paths
    /// (open paths aside): two windows of such scopes could not tell whose
    /// maintenance a request gets, so they cannot share a load balancer.
    /// A scope of everything overlaps every scope.
    pub fn overlaps(&self, other: &Scope) -> bool {
        fn any<T>(a: &[T], b: &[T], overlap: impl Fn(&T, &T) -> bool) -> bool {
            a.is_empty() || b.is_empty() || a.iter().any(|x| b.iter().any(|y| overlap(x, y)))
        }
        any(&self.hosts, &other.hosts, HostPattern::overlaps)
            && any(&self.paths, &other.paths, PathPrefix::overlaps)
    }

    /// The open path a request for `path` is under, if any.
    pub fn open_path(&self, path: &str) -> Option<&PathPrefix> {
        self.open_paths.iter().find(|p| p.matches(path))
    }

    /// One line for `status`: `hosts shop.example.com; paths /checkout; open
    /// /healthz` (parts left out when empty); `None` for no scope.
    pub fn describe(&self) -> Option<String> {
        fn join<T: fmt::Display>(v: &[T]) -> String {
            v.iter().map(T::to_string).collect::<Vec<_>>().join(", ")
        }
        let mut parts = Vec::new();
        if !self.hosts.is_empty() {
            parts.push(format!("hosts {}", join(&self.hosts)));
        }
        if !self.paths.is_empty() {
            parts.push(format!("paths {}", join(&self.paths)));
        }
        if !self.open_paths.is_empty() {
            parts.push(format!("open paths {}", join(&self.open_paths)));
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

impl Scope {
    /// The URL to probe for a window of this scope, from a service's `url`:
    /// `url` itself when the scope covers it (and it is not open), else
    /// `url`'s origin with the first path prefix that is not open; `None`
    /// when `url`'s host is outside the scope or no covered path is left.
    pub fn probe_url(&self, url: &str) -> Option<String> {
        let after_scheme = url.find("://").map_or(0, |i| i + 3);
        let (origin, path) = match url[after_scheme..].find(['/', '?', '#']) {
            Some(i) => url.split_at(after_scheme + i),
            None => (url, ""),
        };
        let path = if path.is_empty() { "/" } else { path };
        let host = &origin[after_scheme..];
        if !self.covers_host(Some(host)) {
            return None;
        }
        if self.covers(Some(host), path) && self.open_path(path).is_none() {
            return Some(url.to_string());
        }
        let inside = self
            .paths
            .iter()
            .find(|p| self.open_path(p.as_str()).is_none())?;
        Some(format!("{origin}{inside}"))
    }
}

/// Which parts of a [`Scope`] a request gave (a flag, a keyword argument or
/// the service's config): a repeated `enter` or `arm` changes only those and
/// keeps the window's own value of the others.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScopeParts {
    /// The hosts were given.
    pub hosts: bool,
    /// The paths were given.
    pub paths: bool,
    /// The open paths were given.
    pub open_paths: bool,
}

impl ScopeParts {
    /// Whether any part was given.
    pub fn any(self) -> bool {
        self.hosts || self.paths || self.open_paths
    }
}

impl Scope {
    /// This scope's given parts laid over `current`'s (a window's own):
    /// what was not given is kept.
    #[cfg(any(test, feature = "testing", feature = "aws"))]
    pub(crate) fn over(&self, current: &Scope, given: ScopeParts) -> Scope {
        fn pick<T: Clone>(mine: &[T], theirs: &[T], given: bool) -> Vec<T> {
            if given { mine } else { theirs }.to_vec()
        }
        Scope {
            hosts: pick(&self.hosts, &current.hosts, given.hosts),
            paths: pick(&self.paths, &current.paths, given.paths),
            open_paths: pick(&self.open_paths, &current.open_paths, given.open_paths),
        }
    }
}

fn parse_list<T: PartialEq>(
    what: &str,
    given: &[impl AsRef<str>],
    parse: impl Fn(&str) -> Result<T, InvalidInput>,
) -> Result<Vec<T>, InvalidInput> {
    let parsed = given
        .iter()
        .map(|g| parse(g.as_ref()))
        .collect::<Result<Vec<T>, _>>()?;
    checked(what, parsed)
}

fn checked<T: PartialEq>(what: &str, values: Vec<T>) -> Result<Vec<T>, InvalidInput> {
    let mut kept: Vec<T> = Vec::with_capacity(values.len());
    for v in values {
        if !kept.contains(&v) {
            kept.push(v);
        }
    }
    if kept.len() > MAX_SCOPE_ENTRIES {
        return Err(InvalidInput::new(
            format!("{} {what}", kept.len()),
            format!("a service may have at most {MAX_SCOPE_ENTRIES} {what}"),
        ));
    }
    Ok(kept)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HOSTS: [&str; 6] = [
        "a.com",
        "b.a.com",
        "*.a.com",
        "c.b.a.com",
        "*.b.a.com",
        "x.org",
    ];
    const PATHS: [&str; 4] = ["/", "/a", "/a/b", "/b"];
    const REQUEST_HOSTS: [&str; 6] = [
        "a.com",
        "b.a.com",
        "c.b.a.com",
        "d.c.b.a.com",
        "x.org",
        "y.x.org",
    ];
    const REQUEST_PATHS: [&str; 5] = ["/", "/a", "/a/b/c", "/b/x", "/c"];

    #[test]
    fn hosts_are_ascii_lower_case_and_refuse_urls() {
        let ok = |s: &str| HostPattern::parse(s).unwrap().to_string();
        assert_eq!(ok("Shop.Example.COM"), "shop.example.com");
        assert_eq!(ok("*.shop.example.com"), "*.shop.example.com");
        assert_eq!(ok("bücher.example"), "xn--bcher-kva.example");
        assert_eq!(ok("shop.example.com:8443"), "shop.example.com:8443");
        assert_eq!(ok("shop.example.com."), "shop.example.com");
        assert_eq!(ok("[2001:DB8::1]:8080"), "[2001:db8::1]:8080");
        assert_eq!(ok("203.0.113.9"), "203.0.113.9");
        for (bad, says) in [
            ("https://shop.example.com", "without a scheme"),
            ("shop.example.com/checkout", "no path"),
            ("shop.example.com:0", "port"),
            ("shop.example.com:99999", "port"),
            ("shop.example.com:https", "port"),
            ("shop.*.example.com", "'*' only as its first label"),
            ("*", "'*' only as its first label"),
            ("", "is empty"),
            ("a..b", "each label"),
            ("[::1", "'['"),
            ("exa mple.com", "spaces"),
        ] {
            let e = HostPattern::parse(bad).unwrap_err();
            assert!(e.reason.contains(says), "{bad}: {e}");
            assert!(e.subject.starts_with("host "), "{e}");
        }
    }

    #[test]
    fn a_wildcard_covers_subdomains_not_the_domain() {
        let w = HostPattern::parse("*.shop.example.com").unwrap();
        assert!(w.matches("eu.shop.example.com"));
        assert!(w.matches("A.B.Shop.Example.Com"));
        assert!(!w.matches("shop.example.com"));
        assert!(!w.matches("evilshop.example.com"));
        let exact = HostPattern::parse("shop.example.com").unwrap();
        assert!(exact.matches("SHOP.example.com"));
        assert!(!exact.matches("shop.example.com:8443"));
    }

    #[test]
    fn paths_refuse_urls_and_queries() {
        for (bad, says) in [
            ("healthz", "start with '/'"),
            ("https://x/healthz", "start with '/'"),
            ("/a?b=1", "query"),
            ("/a#top", "fragment"),
            ("/a b", "spaces"),
        ] {
            let e = PathPrefix::parse(bad).unwrap_err();
            assert!(e.reason.contains(says), "{bad}: {e}");
        }
        assert_eq!(
            PathPrefix::parse("/api//orders/").unwrap().as_str(),
            "/api/orders/"
        );
    }

    #[test]
    fn normalization_is_wafs() {
        for (raw, normal) in [
            ("/", "/"),
            ("/healthz", "/healthz"),
            ("//healthz", "/healthz"),
            ("/a/./b", "/a/b"),
            ("/healthz/../checkout", "/checkout"),
            ("/%2e%2e/x", "/../x"),
            ("/a/%2E%2E/b", "/b"),
            ("/api/orders/", "/api/orders/"),
            ("/a/b/..", "/a/"),
            ("/%zz", "/%zz"),
            ("/caf%C3%A9", "/café"),
        ] {
            assert_eq!(normalize_path(raw), normal, "{raw}");
        }
    }

    #[test]
    fn a_scope_covers_its_hosts_and_paths_and_opens_its_open_paths() {
        let s = Scope::parse(
            &["shop.example.com", "*.shop.example.com"],
            &["/checkout", "/api/orders/"],
            &["/checkout/healthz"],
        )
        .unwrap();
        assert!(s.covers(Some("shop.example.com"), "/checkout/pay"));
        assert!(s.covers(Some("eu.shop.example.com"), "/api/orders/1"));
        assert!(!s.covers(Some("api.example.com"), "/checkout"));
        assert!(!s.covers(None, "/checkout"));
        assert!(!s.covers(Some("shop.example.com"), "/api/orders"));
        assert!(s.open_path("/checkout/healthz/deep").is_some());
        assert!(s.open_path("/checkout/healthz/../pay").is_none());
        assert!(Scope::everything().covers(None, "/anything"));
        assert_eq!(
            s.describe().unwrap(),
            "hosts shop.example.com, *.shop.example.com; paths /checkout, /api/orders/; open paths /checkout/healthz"
        );
        let many: Vec<String> = (0..11).map(|i| format!("/p{i}")).collect();
        let e = Scope::parse(&[] as &[&str], &many, &[] as &[&str]).unwrap_err();
        assert!(e.reason.contains("at most 10 paths"), "{e}");
    }

    #[test]
    fn scopes_overlap_when_one_request_could_be_in_both() {
        let scope =
            |hosts: &[&str], paths: &[&str]| Scope::parse(hosts, paths, &[] as &[&str]).unwrap();
        let shop = scope(&["shop.example.com", "*.shop.example.com"], &[]);
        for (other, overlaps) in [
            (scope(&["api.example.com"], &[]), false),
            (scope(&["SHOP.example.com"], &["/admin"]), true),
            (scope(&["eu.shop.example.com"], &[]), true),
            (scope(&["*.example.com"], &[]), true),
            // `*.x` does not cover `x`.
            (scope(&["*.api.example.com", "example.com"], &[]), false),
            (scope(&["shop.example.com:8443"], &[]), false),
            (scope(&[], &["/checkout"]), true),
            (Scope::everything(), true),
        ] {
            assert_eq!(shop.overlaps(&other), overlaps, "{other:?}");
            assert_eq!(other.overlaps(&shop), overlaps, "{other:?}");
        }
        let checkout = scope(&["shop.example.com"], &["/checkout"]);
        assert!(!checkout.overlaps(&scope(&["shop.example.com"], &["/api/", "/admin"])));
        assert!(checkout.overlaps(&scope(&["shop.example.com"], &["/check"])));
        assert!(checkout.overlaps(&scope(&["shop.example.com"], &["/checkout/pay"])));
    }

    proptest! {
        /// Sound: two scopes that both cover one request overlap.
        #[test]
        fn scopes_that_both_cover_a_request_overlap(
            a_hosts in proptest::sample::subsequence(HOSTS.to_vec(), 0..3),
            b_hosts in proptest::sample::subsequence(HOSTS.to_vec(), 0..3),
            a_paths in proptest::sample::subsequence(PATHS.to_vec(), 0..3),
            b_paths in proptest::sample::subsequence(PATHS.to_vec(), 0..3),
        ) {
            let a = Scope::parse(&a_hosts, &a_paths, &[] as &[&str]).unwrap();
            let b = Scope::parse(&b_hosts, &b_paths, &[] as &[&str]).unwrap();
            prop_assert_eq!(a.overlaps(&b), b.overlaps(&a));
            for host in REQUEST_HOSTS {
                for path in REQUEST_PATHS {
                    if a.covers(Some(host), path) && b.covers(Some(host), path) {
                        prop_assert!(a.overlaps(&b), "{:?} {:?} both cover {} {}", a, b, host, path);
                    }
                }
            }
        }

        #[test]
        fn normalizing_is_idempotent_and_keeps_a_leading_slash(path in "/[a-z./%0-9]{0,24}") {
            let once = normalize_path(&path);
            prop_assert!(once.starts_with('/'));
            // A decoded '%' may start a new sequence; without one, a second
            // pass changes nothing.
            if !once.contains('%') {
                prop_assert_eq!(normalize_path(&once), once.clone());
            }
            prop_assert!(!once.contains("//"));
            prop_assert!(!once.contains("/./"));
        }
    }
}
