//! The WAF JSON evaluator behind `maint check` on AWS WAF: [`evaluate`]
//! runs maint's rules of a live web ACL, as read back from AWS in WAF's
//! JSON form (the shapes of the WAFv2 API: `Rules`, `Statement`,
//! `IPSetReferenceStatement`...), against one request ([`CheckRequest`]),
//! with WAF's semantics for the statements maint writes: IP sets (from the
//! connection or a forwarded-IP header, IPv4 and IPv6), byte matches on a
//! header, the cookies or the path, size constraints, labels, and NOT, OR,
//! AND. [`explain`] turns what it found into a [`CheckReport`] in maint's
//! terms ([`Verdict`], [`Why`]). Only maint's rules are evaluated: in a
//! service's own web ACL, a request they let through goes on into that
//! ACL's rules, which `check` names but does not judge.
//!
//! It lives next to the code that feeds it (the live ACL read in
//! `live.rs`); [`crate::check::decide`] says the same from a window's state
//! as maint intends it, and the tests hold the two against each other.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use base64::Engine as _;
use ipnet::IpNet;
use serde_json::Value;

use crate::access::BYPASS_HEADER;
use crate::check::{
    blocked_because, forwarded_list, scope_why, CheckReport, CheckRequest, CheckResponse, Verdict,
    Why,
};
use crate::maintenance::MaintenanceInfo;
use crate::scope::{normalized, url_decode};
use crate::target::ResourceArn;

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

/// What evaluating one statement gives.
#[derive(Debug, Clone, PartialEq, Eq)]
enum StatementResult {
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

/// Evaluates the rules of `acl` that are maint's (those `is_maints` accepts) in
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
                StatementResult::Done(m, leaves) => (m, leaves),
                StatementResult::NotApplied(header) => {
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
) -> Result<StatementResult, String> {
    let obj = s
        .as_object()
        .filter(|o| o.len() == 1)
        .ok_or_else(|| format!("a statement must hold exactly one kind: {s}"))?;
    let (kind, body) = obj.iter().next().ok_or("an empty statement")?;
    match kind.as_str() {
        "NotStatement" => {
            let inner = body.get("Statement").ok_or("NOT without a statement")?;
            Ok(match statement_matches(inner, req, acl, labels)? {
                StatementResult::Done(m, leaves) => StatementResult::Done(!m, leaves),
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
                    StatementResult::NotApplied(h) => return Ok(StatementResult::NotApplied(h)),
                    StatementResult::Done(m, mut l) => {
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
            Ok(StatementResult::Done(result, leaves))
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
            Ok(StatementResult::Done(m, Vec::new()))
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
            Ok(StatementResult::Done(m, leaves))
        }
        other => Err(format!(
            "maint check evaluates the statements maint writes, not a {other}"
        )),
    }
}

fn ip_set_matches(
    body: &Value,
    req: &CheckRequest,
    acl: &LiveAcl,
) -> Result<StatementResult, String> {
    let arn = str_at(body, "ARN");
    let set = acl
        .ip_sets
        .get(arn)
        .ok_or_else(|| format!("IP set {arn} was not read"))?;
    let find = |address: IpAddr| set.iter().find(|n| n.contains(&address)).copied();
    let Some(fwd) = body.get("IPSetForwardedIPConfig") else {
        return Ok(match find(req.ip()) {
            Some(entry) => StatementResult::Done(
                true,
                vec![Leaf::IpSet {
                    arn: arn.to_string(),
                    entry,
                    address: req.ip(),
                    from: "the connection".into(),
                }],
            ),
            None => StatementResult::Done(false, Vec::new()),
        });
    };
    let header = str_at(fwd, "HeaderName");
    let Some(value) = req.header(header) else {
        return Ok(StatementResult::NotApplied(header.to_string()));
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
        return Ok(StatementResult::Done(
            matched,
            vec![Leaf::Fallback {
                header: header.to_string(),
                matched,
            }],
        ));
    }
    for address in valid {
        if let Some(entry) = find(address) {
            return Ok(StatementResult::Done(
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
    Ok(StatementResult::Done(false, Vec::new()))
}

/// The values a statement's `FieldToMatch` selects (a byte match matches
/// when any of them does).
fn field_values(body: &Value, req: &CheckRequest) -> Result<Vec<String>, String> {
    let field = body
        .get("FieldToMatch")
        .and_then(Value::as_object)
        .ok_or("no FieldToMatch")?;
    if field.contains_key("UriPath") {
        return Ok(vec![req.path().to_string()]);
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

/// Applies a statement's text transformations, in priority order (maint
/// writes NONE; LOWERCASE on a host; URL_DECODE then NORMALIZE_PATH on a
/// path).
fn transform(body: &Value, value: &str) -> Result<String, String> {
    let mut out = value.to_string();
    let mut steps: Vec<&Value> = body
        .get("TextTransformations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .collect();
    steps.sort_by_key(|t| t.get("Priority").and_then(Value::as_i64).unwrap_or(0));
    for t in steps {
        match str_at(t, "Type") {
            "NONE" => {}
            "LOWERCASE" => out = out.to_lowercase(),
            "URL_DECODE" => out = url_decode(&out),
            "NORMALIZE_PATH" => out = normalized(&out),
            other => return Err(format!("text transformation {other} is not evaluated")),
        }
    }
    Ok(out)
}

fn byte_match(body: &Value, req: &CheckRequest) -> Result<StatementResult, String> {
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
            return Ok(StatementResult::Done(true, vec![leaf]));
        }
    }
    Ok(StatementResult::Done(false, Vec::new()))
}

/// Turns an evaluation of maint's rules into a report: what the request
/// gets and why, in maint's terms. `names`: maint's rule names (client
/// address, link, maintenance); `host`: the service's own web ACL when
/// maint's rules are injected there; `active`: the window is in
/// maintenance (not armed, in pass-through form); `info`: the window as recorded, for
/// wording only (what is disabled).
#[allow(clippy::too_many_arguments)]
pub fn explain(
    lb: &ResourceArn,
    acl_name: &str,
    eval: &Evaluation,
    names: [&str; 3],
    host: Option<&str>,
    active: bool,
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
            let mut leaves = traced(maint_rule)
                .map(|(_, _, l)| l.clone())
                .unwrap_or_default();
            if !active && traced(maint_rule).is_some() {
                why.push(Why::Armed);
                leaves.clear();
            } else if let Some(scoped) = scope_why(info, request) {
                // Outside the window's hosts or paths, or an open path:
                // whatever else the request carries does not matter.
                why.push(scoped);
                leaves.clear();
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
                    Leaf::Header(name) if name.eq_ignore_ascii_case(BYPASS_HEADER) => {
                        why.push(Why::BypassHeader)
                    }
                    // The window's hosts (its scope), not a reason to pass.
                    Leaf::Header(_) => {}
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

#[cfg(test)]
#[path = "evaluate_tests.rs"]
mod tests;
