//! "Does this request get through?": `maint check`.
//!
//! [`evaluate`] runs maint's rules of a live web ACL, as read back from AWS
//! in WAF's JSON form (the shapes of the WAFv2 API: `Rules`, `Statement`,
//! `IPSetReferenceStatement`...), against one request ([`CheckRequest`]),
//! with WAF's semantics for the statements maint writes: IP sets (from the
//! connection or a forwarded-IP header, IPv4 and IPv6), byte matches on a
//! header, the cookies or the path, size constraints, labels, and NOT, OR,
//! AND. It says what the request gets ([`Verdict`]) and why ([`Why`]).
//! Only maint's rules are evaluated: in a service's own web ACL, a request
//! they let through goes on into that ACL's rules, which `check` names but
//! does not judge.
//!
//! [`decide`] says the same from a window's state as maint intends it; the
//! in-memory backend answers with it, and the tests hold the two against
//! each other on what the WAF backend wrote.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::IpAddr;

use base64::Engine as _;
use ipnet::IpNet;
use serde::Serialize;
use serde_json::Value;

use crate::access::{
    ClientIp, ClientIpFallback, ClientIpPosition, BYPASS_COOKIE, BYPASS_HEADER, PROBE_HEADER,
};
use crate::allowlist::Cidr;
use crate::error::InvalidInput;
use crate::maintenance::{MaintenanceInfo, State};
use crate::target::LoadBalancerArn;

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

    /// The connection's address.
    pub fn ip(&self) -> IpAddr {
        self.ip
    }

    /// The path (without a query string).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The values of header `name` (compared case-insensitively), in order.
    fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first value of header `name`.
    fn header<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        self.header_values(name).next()
    }

    /// Every cookie of every `Cookie` header, as (name, value).
    fn cookies(&self) -> Vec<(&str, &str)> {
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
fn forwarded_list(value: &str) -> Vec<&str> {
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
    pub load_balancer: LoadBalancerArn,
    /// The web ACL read (maint's, or the service's own), if any.
    pub web_acl: Option<String>,
    /// What the request gets.
    pub verdict: Verdict,
    /// Why, most decisive first.
    pub why: Vec<Why>,
    /// The response WAF sends, unless let through.
    pub response: Option<CheckResponse>,
}

/// A web ACL as read from AWS, in WAF's JSON form, with the contents of
/// the IP sets its rules reference.
#[derive(Debug, Clone, Default)]
pub struct LiveAcl {
    /// Its name.
    pub name: String,
    /// Its rules (`Rule` objects of the WAFv2 API).
    pub rules: Vec<Value>,
    /// Its custom response bodies: key -> (WAF content type, content).
    pub bodies: BTreeMap<String, (String, String)>,
    /// IP set ARN -> its addresses.
    pub ip_sets: HashMap<String, Vec<IpNet>>,
}

/// Why a web ACL could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot evaluate rule {rule} of web ACL {acl}: {problem}")]
pub struct EvalError {
    /// The web ACL.
    pub acl: String,
    /// The rule.
    pub rule: String,
    /// What is wrong.
    pub problem: String,
}

/// What one statement found, for the explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leaf {
    /// An IP set matched.
    IpSet {
        /// The set's ARN.
        arn: String,
        /// The entry.
        entry: IpNet,
        /// The address.
        address: IpAddr,
        /// Where the address came from.
        from: String,
    },
    /// A forwarded-IP header held no valid address: the fallback applied.
    Fallback {
        /// The header.
        header: String,
        /// Whether the fallback matched.
        matched: bool,
    },
    /// A byte match on a header matched.
    Header(String),
    /// A byte match on cookies matched.
    Cookie,
    /// A byte match on the path matched.
    Path,
    /// A label match matched.
    Label(String),
}

/// A statement's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// Matched (or not), with the leaves that matched.
    Done(bool, Vec<Leaf>),
    /// A forwarded-IP statement whose header is missing: AWS "doesn't
    /// apply the rule at all" (the API reference, IPSetForwardedIPConfig).
    NotApplied(String),
}

/// One of maint's rules that decided, as evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    /// The rule whose terminating action applied, if any (else the request
    /// goes past maint's rules).
    pub decided_by: Option<String>,
    /// The response that rule sends.
    pub response: Option<CheckResponse>,
    /// Per rule evaluated, in order: its name, whether it matched, and the
    /// leaves that matched anywhere in its statement (for a NOT, those of
    /// the statement inside).
    pub trace: Vec<(String, bool, Vec<Leaf>)>,
    /// A rule not applied because its forwarded-IP header was missing.
    pub not_applied: Vec<(String, String)>,
}

/// Evaluates the rules of `acl` that `maint` names (see `is_maints`) in
/// priority order for `request`, as WAF does: a Count rule adds its labels
/// and goes on; a Block or Allow rule that matches decides.
pub fn evaluate(
    acl: &LiveAcl,
    request: &CheckRequest,
    is_maints: impl Fn(&str) -> bool,
) -> Result<Evaluation, EvalError> {
    let mut rules: Vec<&Value> = acl
        .rules
        .iter()
        .filter(|r| is_maints(str_at(r, "Name")))
        .collect();
    rules.sort_by_key(|r| {
        r.get("Priority")
            .and_then(Value::as_i64)
            .unwrap_or(i64::MAX)
    });
    let mut labels: Vec<String> = Vec::new();
    let mut eval = Evaluation {
        decided_by: None,
        response: None,
        trace: Vec::new(),
        not_applied: Vec::new(),
    };
    for rule in rules {
        let name = str_at(rule, "Name").to_string();
        let fail = |problem: String| EvalError {
            acl: acl.name.clone(),
            rule: name.clone(),
            problem,
        };
        let statement = rule
            .get("Statement")
            .ok_or_else(|| fail("it has no statement".into()))?;
        let (matched, leaves) =
            match statement_matches(statement, request, acl, &labels).map_err(&fail)? {
                Outcome::Done(m, leaves) => (m, leaves),
                Outcome::NotApplied(header) => {
                    eval.not_applied.push((name.clone(), header));
                    (false, Vec::new())
                }
            };
        eval.trace.push((name.clone(), matched, leaves));
        if !matched {
            continue;
        }
        let action = rule
            .get("Action")
            .and_then(Value::as_object)
            .ok_or_else(|| fail("it has no action".into()))?;
        if action.contains_key("Count") {
            for label in rule
                .get("RuleLabels")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                // A rule's label is namespaced by its web ACL.
                labels.push(format!(
                    "awswaf:webacl:{}:{}",
                    acl.name,
                    str_at(label, "Name")
                ));
            }
        } else if let Some(block) = action.get("Block") {
            eval.decided_by = Some(name.clone());
            eval.response = Some(block_response(block, acl));
            return Ok(eval);
        } else if action.contains_key("Allow") {
            eval.decided_by = Some(name.clone());
            return Ok(eval);
        } else {
            return Err(fail(format!(
                "its action {:?} is not Block, Allow or Count",
                action.keys().collect::<Vec<_>>()
            )));
        }
    }
    Ok(eval)
}

fn str_at<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// The response a Block action sends: its custom response, or WAF's plain
/// 403.
fn block_response(block: &Value, acl: &LiveAcl) -> CheckResponse {
    let Some(custom) = block.get("CustomResponse") else {
        return CheckResponse {
            status: 403,
            headers: Vec::new(),
            content_type: None,
            body: None,
        };
    };
    let status = custom
        .get("ResponseCode")
        .and_then(Value::as_u64)
        .and_then(|c| u16::try_from(c).ok())
        .unwrap_or(403);
    let headers = custom
        .get("ResponseHeaders")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|h| {
            (
                str_at(h, "Name").to_string(),
                str_at(h, "Value").to_string(),
            )
        })
        .collect();
    let body = custom
        .get("CustomResponseBodyKey")
        .and_then(Value::as_str)
        .and_then(|key| acl.bodies.get(key));
    CheckResponse {
        status,
        headers,
        content_type: body.map(|(ct, _)| mime_of(ct).to_string()),
        body: body.map(|(_, content)| content.clone()),
    }
}

/// The MIME type WAF sends for a body's content type.
fn mime_of(waf: &str) -> &str {
    match waf {
        "TEXT_HTML" => "text/html",
        "APPLICATION_JSON" => "application/json",
        "TEXT_PLAIN" => "text/plain",
        other => other,
    }
}

fn statement_matches(
    s: &Value,
    req: &CheckRequest,
    acl: &LiveAcl,
    labels: &[String],
) -> Result<Outcome, String> {
    let obj = s
        .as_object()
        .filter(|o| o.len() == 1)
        .ok_or_else(|| format!("a statement must hold exactly one kind: {s}"))?;
    let (kind, body) = obj.iter().next().ok_or("an empty statement")?;
    match kind.as_str() {
        "NotStatement" => {
            let inner = body.get("Statement").ok_or("NOT without a statement")?;
            Ok(match statement_matches(inner, req, acl, labels)? {
                Outcome::Done(m, leaves) => Outcome::Done(!m, leaves),
                not_applied => not_applied,
            })
        }
        "OrStatement" | "AndStatement" => {
            let parts = body
                .get("Statements")
                .and_then(Value::as_array)
                .ok_or("OR/AND without statements")?;
            let or = kind == "OrStatement";
            let mut leaves = Vec::new();
            let mut result = !or;
            for part in parts {
                match statement_matches(part, req, acl, labels)? {
                    Outcome::NotApplied(h) => return Ok(Outcome::NotApplied(h)),
                    Outcome::Done(m, mut l) => {
                        // Every part's findings: in OR(probe, NOT(let
                        // through)) the reasons a request is let through
                        // are those of the NOT's statement, which matched.
                        leaves.append(&mut l);
                        if or {
                            result |= m;
                        } else {
                            result &= m;
                        }
                    }
                }
            }
            Ok(Outcome::Done(result, leaves))
        }
        "IPSetReferenceStatement" => ip_set_matches(body, req, acl),
        "ByteMatchStatement" => byte_match(body, req),
        "SizeConstraintStatement" => {
            let value = field_values(body, req)?
                .into_iter()
                .next()
                .unwrap_or_default();
            let size = body.get("Size").and_then(Value::as_i64).ok_or("no Size")?;
            let len = i64::try_from(transform(body, &value)?.len()).unwrap_or(i64::MAX);
            let m = match str_at(body, "ComparisonOperator") {
                "EQ" => len == size,
                "NE" => len != size,
                "LE" => len <= size,
                "LT" => len < size,
                "GE" => len >= size,
                "GT" => len > size,
                other => return Err(format!("unknown comparison operator {other:?}")),
            };
            Ok(Outcome::Done(m, Vec::new()))
        }
        "LabelMatchStatement" => {
            let key = str_at(body, "Key");
            if str_at(body, "Scope") != "LABEL" {
                return Err("only label (not namespace) matches are evaluated".into());
            }
            // A key matches a label it equals, or that ends with it after a
            // namespace separator.
            let m = labels
                .iter()
                .any(|l| l == key || l.ends_with(&format!(":{key}")));
            let leaves = if m {
                vec![Leaf::Label(key.to_string())]
            } else {
                Vec::new()
            };
            Ok(Outcome::Done(m, leaves))
        }
        other => Err(format!(
            "maint check evaluates the statements maint writes, not a {other}"
        )),
    }
}

fn ip_set_matches(body: &Value, req: &CheckRequest, acl: &LiveAcl) -> Result<Outcome, String> {
    let arn = str_at(body, "ARN");
    let set = acl
        .ip_sets
        .get(arn)
        .ok_or_else(|| format!("IP set {arn} was not read"))?;
    let find = |address: IpAddr| set.iter().find(|n| n.contains(&address)).copied();
    let Some(fwd) = body.get("IPSetForwardedIPConfig") else {
        return Ok(match find(req.ip) {
            Some(entry) => Outcome::Done(
                true,
                vec![Leaf::IpSet {
                    arn: arn.to_string(),
                    entry,
                    address: req.ip,
                    from: "the connection".into(),
                }],
            ),
            None => Outcome::Done(false, Vec::new()),
        });
    };
    let header = str_at(fwd, "HeaderName");
    let Some(value) = req.header(header) else {
        return Ok(Outcome::NotApplied(header.to_string()));
    };
    let from = format!("header {header}");
    let list = forwarded_list(value);
    let candidates: Vec<&str> = match str_at(fwd, "Position") {
        "FIRST" => list.first().copied().into_iter().collect(),
        "LAST" => list.last().copied().into_iter().collect(),
        // WAF inspects at most the last 10 addresses.
        "ANY" => list.iter().rev().take(10).copied().collect(),
        other => return Err(format!("unknown forwarded IP position {other:?}")),
    };
    let valid: Vec<IpAddr> = candidates.iter().filter_map(|a| a.parse().ok()).collect();
    if valid.is_empty() || valid.len() < candidates.len() && str_at(fwd, "Position") != "ANY" {
        let matched = str_at(fwd, "FallbackBehavior") == "MATCH";
        return Ok(Outcome::Done(
            matched,
            vec![Leaf::Fallback {
                header: header.to_string(),
                matched,
            }],
        ));
    }
    for address in valid {
        if let Some(entry) = find(address) {
            return Ok(Outcome::Done(
                true,
                vec![Leaf::IpSet {
                    arn: arn.to_string(),
                    entry,
                    address,
                    from,
                }],
            ));
        }
    }
    Ok(Outcome::Done(false, Vec::new()))
}

/// The values a statement's `FieldToMatch` selects (a byte match matches
/// when any of them does).
fn field_values(body: &Value, req: &CheckRequest) -> Result<Vec<String>, String> {
    let field = body
        .get("FieldToMatch")
        .and_then(Value::as_object)
        .ok_or("no FieldToMatch")?;
    if field.contains_key("UriPath") {
        return Ok(vec![req.path.clone()]);
    }
    if let Some(h) = field.get("SingleHeader") {
        return Ok(req
            .header_values(str_at(h, "Name"))
            .map(str::to_string)
            .collect());
    }
    if let Some(c) = field.get("Cookies") {
        let pattern = c
            .get("MatchPattern")
            .ok_or("Cookies without MatchPattern")?;
        let included: Option<Vec<&str>> = pattern
            .get("IncludedCookies")
            .and_then(Value::as_array)
            .map(|names| names.iter().filter_map(Value::as_str).collect());
        let cookies = req.cookies();
        let chosen = cookies
            .iter()
            .filter(|(n, _)| included.as_ref().is_none_or(|names| names.contains(n)));
        return Ok(match str_at(c, "MatchScope") {
            "VALUE" => chosen.map(|(_, v)| v.to_string()).collect(),
            "KEY" => chosen.map(|(n, _)| n.to_string()).collect(),
            _ => chosen
                .flat_map(|(n, v)| [n.to_string(), v.to_string()])
                .collect(),
        });
    }
    Err(format!(
        "maint check evaluates matches on a header, the cookies or the path, not {:?}",
        field.keys().collect::<Vec<_>>()
    ))
}

/// Applies a statement's text transformations (maint writes NONE).
fn transform(body: &Value, value: &str) -> Result<String, String> {
    let mut out = value.to_string();
    for t in body
        .get("TextTransformations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match str_at(t, "Type") {
            "NONE" => {}
            "LOWERCASE" => out = out.to_lowercase(),
            other => return Err(format!("text transformation {other} is not evaluated")),
        }
    }
    Ok(out)
}

fn byte_match(body: &Value, req: &CheckRequest) -> Result<Outcome, String> {
    let encoded = str_at(body, "SearchString");
    let search = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or("SearchString is not base64 of UTF-8 text")?;
    let field = body.get("FieldToMatch").and_then(Value::as_object);
    let leaf = match field {
        Some(f) if f.contains_key("UriPath") => Leaf::Path,
        Some(f) if f.contains_key("Cookies") => Leaf::Cookie,
        Some(f) => Leaf::Header(
            f.get("SingleHeader")
                .map(|h| str_at(h, "Name").to_ascii_lowercase())
                .unwrap_or_default(),
        ),
        None => return Err("no FieldToMatch".into()),
    };
    let constraint = str_at(body, "PositionalConstraint");
    for value in field_values(body, req)? {
        let value = transform(body, &value)?;
        let m = match constraint {
            "EXACTLY" => value == search,
            "STARTS_WITH" => value.starts_with(&search),
            "ENDS_WITH" => value.ends_with(&search),
            "CONTAINS" => value.contains(&search),
            other => return Err(format!("positional constraint {other} is not evaluated")),
        };
        if m {
            return Ok(Outcome::Done(true, vec![leaf]));
        }
    }
    Ok(Outcome::Done(false, Vec::new()))
}

/// Turns an evaluation of maint's rules into a report: what the request
/// gets and why, in maint's terms. `names`: maint's rule names (client
/// address, link, maintenance); `host`: the service's own web ACL when
/// maint's rules are injected there; `info`: the window as recorded, for
/// wording only (what is disabled).
pub fn explain(
    lb: &LoadBalancerArn,
    acl_name: &str,
    eval: &Evaluation,
    names: [&str; 3],
    host: Option<&str>,
    info: &MaintenanceInfo,
    request: &CheckRequest,
) -> CheckReport {
    let [client_rule, link_rule, maint_rule] = names;
    let mut why = Vec::new();
    let traced = |rule: &str| eval.trace.iter().find(|(n, _, _)| n == rule);
    let verdict = match eval.decided_by.as_deref() {
        Some(r) if r == link_rule => {
            why.push(Why::BypassLink);
            Verdict::BypassLink
        }
        Some(r) if r == maint_rule => {
            why.extend(blocked_because(info, request));
            Verdict::Maintenance
        }
        _ => {
            let leaves = traced(maint_rule)
                .map(|(_, _, l)| l.clone())
                .unwrap_or_default();
            if leaves.is_empty() && traced(maint_rule).is_some() {
                why.push(Why::Armed);
            }
            for leaf in leaves {
                match leaf {
                    Leaf::IpSet {
                        entry,
                        address,
                        from,
                        ..
                    } => why.push(Why::AllowlistEntry {
                        entry: entry.to_string(),
                        address: address.to_string(),
                        from,
                    }),
                    Leaf::Label(_) => {
                        let from_header = traced(client_rule)
                            .map(|(_, _, l)| l.clone())
                            .unwrap_or_default();
                        for l in from_header {
                            if let Leaf::IpSet {
                                entry,
                                address,
                                from,
                                ..
                            } = l
                            {
                                why.push(Why::AllowlistEntry {
                                    entry: entry.to_string(),
                                    address: address.to_string(),
                                    from,
                                });
                            }
                        }
                    }
                    Leaf::Header(_) => why.push(Why::BypassHeader),
                    Leaf::Cookie => why.push(Why::BypassCookie),
                    Leaf::Path | Leaf::Fallback { .. } => {}
                }
            }
            if let Some(host) = host {
                why.push(Why::ContinuesInto {
                    web_acl: host.to_string(),
                });
            }
            Verdict::LetThrough
        }
    };
    CheckReport {
        load_balancer: lb.clone(),
        web_acl: Some(acl_name.to_string()),
        verdict,
        why,
        response: eval.response.clone(),
    }
}

/// Whether `request` is a probe of `window` (see [`PROBE_HEADER`]).
fn is_probe(request: &CheckRequest, window: &str) -> bool {
    request.header_values(PROBE_HEADER).any(|v| v == window)
}

/// Why a request gets the maintenance response, from the window's state.
fn blocked_because(info: &MaintenanceInfo, request: &CheckRequest) -> Vec<Why> {
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
pub fn decide(lb: &LoadBalancerArn, state: &State, request: &CheckRequest) -> CheckReport {
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
        State::Foreign { web_acl_name, .. } => {
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
    let bypass = info.bypass.as_ref().filter(|b| b.enabled);
    if let Some(b) = bypass {
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
    if let Some(host) = &info.host_web_acl {
        why.push(Why::ContinuesInto {
            web_acl: host.clone(),
        });
    }
    report(Some(acl), Verdict::LetThrough, why, None)
}

#[cfg(test)]
#[path = "check_tests.rs"]
mod tests;
