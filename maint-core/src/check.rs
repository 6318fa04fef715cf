//! "Does this request get through?": `maint check`.
//!
//! A request ([`CheckRequest`]) and what it gets ([`CheckReport`]: a
//! [`Verdict`] and why, [`Why`]). [`decide`] says it from a window's state
//! as maint intends it; the in-memory backend answers with it. On AWS WAF,
//! maint's live rules are evaluated instead, by the WAF JSON evaluator next
//! to the code that reads them (`backend::waf::evaluate`, with the `aws`
//! feature), and the tests hold the two against each other on what the WAF
//! backend wrote.

use std::fmt;
use std::net::IpAddr;

use serde::Serialize;

use crate::access::{
    ClientIp, ClientIpFallback, ClientIpPosition, BYPASS_COOKIE, BYPASS_HEADER, PROBE_HEADER,
};
use crate::allowlist::Cidr;
use crate::error::InvalidInput;
use crate::maintenance::{MaintenanceInfo, State};
use crate::target::ResourceArn;

/// One request to check: the client's address as the load balancer sees
/// the connection, its headers and its path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRequest {
    ip: IpAddr,
    headers: Vec<(String, String)>,
    path: String,
}

impl CheckRequest {
    /// A request from `ip` for `path` (`None`: `/`) with `headers` given
    /// as `Name: value`.
    pub fn new(ip: &str, headers: &[String], path: Option<&str>) -> Result<Self, InvalidInput> {
        let ip = ip.trim().parse::<IpAddr>().map_err(|_| {
            InvalidInput::new(format!("address {ip:?}"), "is not an IPv4 or IPv6 address")
        })?;
        let mut parsed = Vec::with_capacity(headers.len());
        for line in headers {
            let (name, value) = line.split_once(':').ok_or_else(|| {
                InvalidInput::new(format!("header {line:?}"), "must be 'Name: value'")
            })?;
            let name = name.trim();
            let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
            if name.is_empty() || !name.chars().all(token) {
                return Err(InvalidInput::new(
                    format!("header {line:?}"),
                    "has no valid header name before ':'",
                ));
            }
            parsed.push((name.to_string(), value.trim().to_string()));
        }
        let path = path.unwrap_or("/");
        if !path.starts_with('/') || path.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(InvalidInput::new(
                format!("path {path:?}"),
                "must start with '/' and hold no spaces",
            ));
        }
        // WAF's UriPath is the path without the query string.
        let path = path.split(['?', '#']).next().unwrap_or("/").to_string();
        Ok(Self {
            ip,
            headers: parsed,
            path,
        })
    }

    /// The same request for `host` (its `Host` header, which replaces any
    /// given): a host name with an optional port, as a browser sends it.
    pub fn with_host(mut self, host: &str) -> Result<Self, InvalidInput> {
        let host = host.trim();
        if host.is_empty()
            || host
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '/' | '?' | '#' | '@'))
        {
            return Err(InvalidInput::new(
                format!("host {host:?}"),
                "must be a host name with an optional port (shop.example.com), not a URL",
            ));
        }
        self.headers
            .retain(|(n, _)| !n.eq_ignore_ascii_case("host"));
        self.headers.push(("Host".to_string(), host.to_string()));
        Ok(self)
    }

    /// A request from `ip` for `url` (`https://shop.example.com/checkout?x`):
    /// its host (with the port, when not the scheme's default) as the
    /// `Host` header, and its path, with `headers` as in [`CheckRequest::new`].
    pub fn for_url(ip: &str, headers: &[String], url: &str) -> Result<Self, InvalidInput> {
        let bad = |reason: &str| InvalidInput::new(format!("URL {url:?}"), reason);
        let (scheme, rest) = url
            .trim()
            .split_once("://")
            .ok_or_else(|| bad("must start with http:// or https://"))?;
        let default_port = match scheme.to_ascii_lowercase().as_str() {
            "http" => "80",
            "https" => "443",
            _ => return Err(bad("must start with http:// or https://")),
        };
        let cut = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(cut);
        if authority.is_empty() || authority.contains('@') {
            return Err(bad("must name a host (and no user or password)"));
        }
        let host = match authority.rsplit_once(':') {
            Some((name, port)) if port == default_port && !name.ends_with(':') => name,
            _ => authority,
        };
        let path = if path.starts_with('/') { path } else { "/" };
        Self::new(ip, headers, Some(path))?.with_host(host)
    }

    /// The `Host` header (the first, as WAF reads a single header), if any.
    pub fn host(&self) -> Option<&str> {
        self.header("host")
    }

    /// The connection's address.
    pub fn ip(&self) -> IpAddr {
        self.ip
    }

    /// The path (without a query string).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The values of header `name` (compared case-insensitively), in order.
    pub(crate) fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first value of header `name`.
    pub(crate) fn header<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        self.header_values(name).next()
    }

    /// Every cookie of every `Cookie` header, as (name, value).
    pub(crate) fn cookies(&self) -> Vec<(&str, &str)> {
        self.header_values("cookie")
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| {
                let (n, v) = pair.split_once('=')?;
                Some((n.trim(), v.trim()))
            })
            .collect()
    }

    /// The client's address as `client_ip` finds it: `Ok(None)` when the
    /// header is missing, `Err(())` when it holds no valid address there.
    fn client_address(&self, client_ip: &ClientIp) -> Result<Option<IpAddr>, ()> {
        match client_ip {
            ClientIp::Connection => Ok(Some(self.ip)),
            ClientIp::Header { name, position, .. } => {
                let Some(value) = self.header(name) else {
                    return Ok(None);
                };
                let list = forwarded_list(value);
                let pick = match position {
                    ClientIpPosition::First => list.first(),
                    ClientIpPosition::Last | ClientIpPosition::Any => list.last(),
                };
                pick.and_then(|a| a.parse().ok()).map(Some).ok_or(())
            }
        }
    }
}

/// The entries of a forwarded-IP header (comma-separated, WAF's only
/// separator).
pub(crate) fn forwarded_list(value: &str) -> Vec<&str> {
    value.split(',').map(str::trim).collect()
}

/// What a request gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// It goes on to the service (through the rest of a service's own web
    /// ACL, when maint's rule is injected there).
    LetThrough,
    /// It gets the maintenance response.
    Maintenance,
    /// It is the bypass link: a redirect to `/` that sets the bypass
    /// cookie.
    BypassLink,
}

impl Verdict {
    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::LetThrough => "let_through",
            Verdict::Maintenance => "maintenance",
            Verdict::BypassLink => "bypass_link",
        }
    }
}

/// One reason for a verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Why {
    /// The target is not in maintenance: no web ACL of maint's, or none at
    /// all.
    NotInMaintenance,
    /// The window is armed: its rule matches nothing until `enter`.
    Armed,
    /// maint's rule was removed from the service's own web ACL.
    Reverted {
        /// That web ACL.
        web_acl: String,
    },
    /// A web ACL maint did not create is associated; maint has no rule
    /// there.
    Foreign {
        /// That web ACL.
        web_acl: String,
    },
    /// The client's address is on the allowlist.
    AllowlistEntry {
        /// The entry it falls in.
        entry: String,
        /// The address.
        address: String,
        /// Where the address came from.
        from: String,
    },
    /// The request carries the bypass header with the secret.
    BypassHeader,
    /// The request carries the bypass cookie with the secret.
    BypassCookie,
    /// The request is for the bypass link.
    BypassLink,
    /// The allowlist is disabled: no entry is let through.
    AllowlistDisabled,
    /// The bypass is disabled (`allowlist disable` shut it).
    BypassDisabled,
    /// The client's address is not on the allowlist.
    NotAllowlisted {
        /// The address.
        address: String,
        /// Where it came from.
        from: String,
    },
    /// The header the allowlist takes the address from is missing or holds
    /// no valid address where configured.
    NoClientAddress {
        /// The header.
        header: String,
        /// What WAF does with such a request.
        fallback: String,
    },
    /// No bypass header or cookie with the right secret.
    NoBypass,
    /// A probe (`--wait`): maint's rule answers it as it answers the
    /// public, whatever its address or bypass.
    Probe,
    /// The request is outside the window's hosts or paths: maint's rules
    /// leave it alone.
    OutOfScope {
        /// The window's scope, in words.
        scope: String,
    },
    /// The request is for a path that stays open during the window.
    OpenPath {
        /// The open path prefix it is under.
        path: String,
    },
    /// The request goes on into the service's own web ACL's rules, which
    /// `check` does not judge.
    ContinuesInto {
        /// That web ACL.
        web_acl: String,
    },
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Why::NotInMaintenance => f.write_str("not in maintenance"),
            Why::Armed => f.write_str("armed, not in maintenance: maint's rule matches nothing"),
            Why::Reverted { web_acl } => write!(
                f,
                "maint's rule was removed from web ACL {web_acl}: not in maintenance"
            ),
            Why::Foreign { web_acl } => write!(
                f,
                "web ACL {web_acl} is not maint's: not in maintenance (its own rules decide)"
            ),
            Why::AllowlistEntry {
                entry,
                address,
                from,
            } => write!(
                f,
                "{address} (from {from}) is on the allowlist: entry {entry}"
            ),
            Why::BypassHeader => write!(f, "the {BYPASS_HEADER} header carries the bypass secret"),
            Why::BypassCookie => write!(f, "the {BYPASS_COOKIE} cookie carries the bypass secret"),
            Why::BypassLink => {
                f.write_str("this is the bypass link: a redirect to / that sets the bypass cookie")
            }
            Why::AllowlistDisabled => f.write_str("the allowlist is disabled"),
            Why::BypassDisabled => f.write_str("the bypass is disabled"),
            Why::NotAllowlisted { address, from } => {
                write!(f, "{address} (from {from}) is not on the allowlist")
            }
            Why::NoClientAddress { header, fallback } => {
                write!(f, "no valid client address in header {header}: {fallback}")
            }
            Why::NoBypass => f.write_str("no bypass header or cookie with the secret"),
            Why::Probe => write!(
                f,
                "a probe ({PROBE_HEADER}): answered as the public is, whatever its address or bypass"
            ),
            Why::OutOfScope { scope } => write!(
                f,
                "outside the window's scope ({scope}): maint's rules leave it alone"
            ),
            Why::OpenPath { path } => write!(f, "an open path: {path} is always let through"),
            Why::ContinuesInto { web_acl } => {
                write!(f, "continues into web ACL {web_acl}'s own rules")
            }
        }
    }
}

/// The response WAF sends instead of passing the request on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckResponse {
    /// The status code.
    pub status: u16,
    /// The response headers, in order.
    pub headers: Vec<(String, String)>,
    /// The body's content type (`text/html`...), when there is a body.
    pub content_type: Option<String>,
    /// The body.
    pub body: Option<String>,
}

/// What `check` found for one load balancer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    /// The load balancer.
    pub load_balancer: ResourceArn,
    /// The web ACL read (maint's, or the service's own), if any.
    pub web_acl: Option<String>,
    /// What the request gets.
    pub verdict: Verdict,
    /// Why, most decisive first.
    pub why: Vec<Why>,
    /// The response WAF sends, unless let through.
    pub response: Option<CheckResponse>,
}

/// Whether `request` is a probe of `window` (see [`PROBE_HEADER`]).
fn is_probe(request: &CheckRequest, window: &str) -> bool {
    request.header_values(PROBE_HEADER).any(|v| v == window)
}

/// Why a request gets the maintenance response, from the window's state.
pub(crate) fn blocked_because(info: &MaintenanceInfo, request: &CheckRequest) -> Vec<Why> {
    if is_probe(request, &info.window) {
        return vec![Why::Probe];
    }
    let mut why = Vec::new();
    if !info.allowlist.enabled {
        why.push(Why::AllowlistDisabled);
    } else {
        let from = info.client_ip.describe();
        match request.client_address(&info.client_ip) {
            Ok(Some(address)) => why.push(Why::NotAllowlisted {
                address: address.to_string(),
                from,
            }),
            Ok(None) | Err(()) => {
                if let ClientIp::Header { name, fallback, .. } = &info.client_ip {
                    why.push(Why::NoClientAddress {
                        header: name.clone(),
                        fallback: match fallback {
                            ClientIpFallback::NoMatch => "not let through".into(),
                            ClientIpFallback::Match => "let through by the fallback".into(),
                        },
                    });
                }
            }
        }
    }
    match &info.bypass {
        Some(b) if !b.enabled => why.push(Why::BypassDisabled),
        Some(_) => why.push(Why::NoBypass),
        None => {}
    }
    why
}

/// What a request gets from a target in `state`, as maint intends its
/// rules to decide (the in-memory backend's answer; the WAF backend
/// evaluates the live rules instead, and the tests hold the two against
/// each other).
pub fn decide(lb: &ResourceArn, state: &State, request: &CheckRequest) -> CheckReport {
    let report = |web_acl: Option<String>, verdict, why, response| CheckReport {
        load_balancer: lb.clone(),
        web_acl,
        verdict,
        why,
        response,
    };
    let info = match state {
        State::Normal => {
            return report(None, Verdict::LetThrough, vec![Why::NotInMaintenance], None)
        }
        State::Detached { now: None, .. } => {
            return report(None, Verdict::LetThrough, vec![Why::NotInMaintenance], None)
        }
        State::Detached {
            now: Some(web_acl_name),
            ..
        }
        | State::Foreign { web_acl_name, .. } => {
            let why = vec![Why::Foreign {
                web_acl: web_acl_name.clone(),
            }];
            return report(Some(web_acl_name.clone()), Verdict::LetThrough, why, None);
        }
        State::Reverted { web_acl_name, .. } => {
            let why = vec![
                Why::Reverted {
                    web_acl: web_acl_name.clone(),
                },
                Why::ContinuesInto {
                    web_acl: web_acl_name.clone(),
                },
            ];
            return report(Some(web_acl_name.clone()), Verdict::LetThrough, why, None);
        }
        State::Armed(info) => {
            let mut why = vec![Why::Armed];
            if let Some(host) = &info.host_web_acl {
                why.push(Why::ContinuesInto {
                    web_acl: host.clone(),
                });
            }
            return report(Some(info.window.clone()), Verdict::LetThrough, why, None);
        }
        State::Maintenance(info) => info,
    };
    let acl = info
        .host_web_acl
        .clone()
        .unwrap_or_else(|| info.window.clone());
    let continues = |mut why: Vec<Why>| {
        if let Some(host) = &info.host_web_acl {
            why.push(Why::ContinuesInto {
                web_acl: host.clone(),
            });
        }
        why
    };
    let bypass = info.bypass.as_ref().filter(|b| b.enabled);
    // The bypass link answers on the window's hosts only (its path is the
    // secret's, whatever the window's paths).
    let host_in = info.scope.covers_host(request.host());
    if let Some(b) = bypass.filter(|_| host_in) {
        if request.path() == b.secret.link_path() {
            let response = CheckResponse {
                status: 302,
                headers: b.secret.link_response_headers(info.until),
                content_type: None,
                body: None,
            };
            return report(
                Some(acl),
                Verdict::BypassLink,
                vec![Why::BypassLink],
                Some(response),
            );
        }
    }
    if let Some(why) = scope_why(info, request) {
        return report(Some(acl), Verdict::LetThrough, continues(vec![why]), None);
    }
    let mut why = Vec::new();
    let probe = is_probe(request, &info.window);
    if info.allowlist.enabled && !probe {
        if let Ok(Some(address)) = request.client_address(&info.client_ip) {
            if let Some(entry) = info
                .allowlist
                .entries
                .iter()
                .find(|c: &Cidr| c.contains(address))
            {
                why.push(Why::AllowlistEntry {
                    entry: entry.to_string(),
                    address: address.to_string(),
                    from: info.client_ip.describe(),
                });
            }
        }
    }
    if let Some(b) = bypass.filter(|_| !probe) {
        let secret = b.secret.expose();
        if request.header_values(BYPASS_HEADER).any(|v| v == secret) {
            why.push(Why::BypassHeader);
        }
        if request
            .cookies()
            .iter()
            .any(|(n, v)| *n == BYPASS_COOKIE && *v == secret)
        {
            why.push(Why::BypassCookie);
        }
    }
    if why.is_empty() {
        let response = CheckResponse {
            status: info.response.status().code(),
            headers: info
                .response
                .headers()
                .iter()
                .map(|h| (h.name().to_string(), h.value().to_string()))
                .collect(),
            content_type: Some(info.response.body().content_type().mime().to_string()),
            body: Some(info.response.body().content().to_string()),
        };
        return report(
            Some(acl),
            Verdict::Maintenance,
            blocked_because(info, request),
            Some(response),
        );
    }
    report(Some(acl), Verdict::LetThrough, continues(why), None)
}

/// Why a request is let through by the window's scope, whoever sends it:
/// outside its hosts or paths, or under an open path.
pub(crate) fn scope_why(info: &MaintenanceInfo, request: &CheckRequest) -> Option<Why> {
    if !info.scope.covers(request.host(), request.path()) {
        return Some(Why::OutOfScope {
            scope: info.scope.describe().unwrap_or_default(),
        });
    }
    info.scope.open_path(request.path()).map(|p| Why::OpenPath {
        path: p.to_string(),
    })
}
