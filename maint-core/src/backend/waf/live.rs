//! `maint check` on AWS WAF: the target's live web ACL (one
//! `GetWebACLForResource`, which returns the whole ACL), maint's rules in
//! WAF's JSON form, the IP sets they reference, evaluated by
//! [`super::evaluate`].
use aws_sdk_wafv2::types::{FieldToMatch, Rule, RuleAction, Statement};
use base64::Engine as _;
use serde_json::{json, Value};

use super::acl::{self, IpSetId};
use super::associations::Observed;
use super::evaluate::{evaluate, explain, LiveAcl};
use super::store::WafStore;
use crate::allowlist::{Allowlist, Cidr, Family};
use crate::check::{self, CheckReport, CheckRequest};
use crate::maintenance::State;
use crate::target::ResourceArn;
use crate::{Error, Result};

/// A rule in WAF's JSON form (the shapes the WAFv2 API sends), as far as
/// [`crate::check`] evaluates it.
pub(super) fn rule_json(rule: &Rule) -> Value {
    let labels: Vec<Value> = rule
        .rule_labels()
        .iter()
        .map(|l| json!({ "Name": l.name() }))
        .collect();
    json!({
        "Name": rule.name(),
        "Priority": rule.priority(),
        "Statement": rule.statement().map_or(Value::Null, statement_json),
        "Action": rule.action().map_or(Value::Null, action_json),
        "RuleLabels": labels,
    })
}

fn action_json(action: &RuleAction) -> Value {
    if let Some(block) = action.block() {
        let Some(custom) = block.custom_response() else {
            return json!({ "Block": {} });
        };
        let headers: Vec<Value> = custom
            .response_headers()
            .iter()
            .map(|h| json!({ "Name": h.name(), "Value": h.value() }))
            .collect();
        return json!({ "Block": { "CustomResponse": {
            "ResponseCode": custom.response_code(),
            "CustomResponseBodyKey": custom.custom_response_body_key(),
            "ResponseHeaders": headers,
        }}});
    }
    if action.count().is_some() {
        return json!({ "Count": {} });
    }
    if action.allow().is_some() {
        return json!({ "Allow": {} });
    }
    json!({ "Other": {} })
}

fn statement_json(s: &Statement) -> Value {
    if let Some(not) = s.not_statement() {
        let inner = not.statement().map_or(Value::Null, statement_json);
        return json!({ "NotStatement": { "Statement": inner } });
    }
    if let Some(or) = s.or_statement() {
        let parts: Vec<Value> = or.statements().iter().map(statement_json).collect();
        return json!({ "OrStatement": { "Statements": parts } });
    }
    if let Some(and) = s.and_statement() {
        let parts: Vec<Value> = and.statements().iter().map(statement_json).collect();
        return json!({ "AndStatement": { "Statements": parts } });
    }
    if let Some(ip) = s.ip_set_reference_statement() {
        let mut body = json!({ "ARN": ip.arn() });
        if let Some(f) = ip.ip_set_forwarded_ip_config() {
            body["IPSetForwardedIPConfig"] = json!({
                "HeaderName": f.header_name(),
                "FallbackBehavior": f.fallback_behavior().as_str(),
                "Position": f.position().as_str(),
            });
        }
        return json!({ "IPSetReferenceStatement": body });
    }
    if let Some(b) = s.byte_match_statement() {
        let search = base64::engine::general_purpose::STANDARD.encode(b.search_string().as_ref());
        return json!({ "ByteMatchStatement": {
            "SearchString": search,
            "FieldToMatch": b.field_to_match().map_or(Value::Null, field_json),
            "TextTransformations": transformations(b.text_transformations()),
            "PositionalConstraint": b.positional_constraint().as_str(),
        }});
    }
    if let Some(size) = s.size_constraint_statement() {
        return json!({ "SizeConstraintStatement": {
            "FieldToMatch": size.field_to_match().map_or(Value::Null, field_json),
            "ComparisonOperator": size.comparison_operator().as_str(),
            "Size": size.size(),
            "TextTransformations": transformations(size.text_transformations()),
        }});
    }
    if let Some(label) = s.label_match_statement() {
        return json!({ "LabelMatchStatement": {
            "Scope": label.scope().as_str(),
            "Key": label.key(),
        }});
    }
    // The evaluator names what it cannot evaluate; maint writes none.
    json!({ "UnsupportedStatement": {} })
}

fn transformations(list: &[aws_sdk_wafv2::types::TextTransformation]) -> Vec<Value> {
    list.iter()
        .map(|t| json!({ "Priority": t.priority(), "Type": t.r#type().as_str() }))
        .collect()
}

fn field_json(f: &FieldToMatch) -> Value {
    if f.uri_path().is_some() {
        return json!({ "UriPath": {} });
    }
    if let Some(h) = f.single_header() {
        return json!({ "SingleHeader": { "Name": h.name() } });
    }
    if let Some(c) = f.cookies() {
        let pattern = match c.match_pattern() {
            Some(p) if !p.included_cookies().is_empty() => {
                json!({ "IncludedCookies": p.included_cookies() })
            }
            _ => json!({ "All": {} }),
        };
        return json!({ "Cookies": {
            "MatchPattern": pattern,
            "MatchScope": c.match_scope().as_str(),
            "OversizeHandling": c.oversize_handling().as_str(),
        }});
    }
    json!({ "Unsupported": {} })
}

/// The IP set ARNs a statement references.
fn referenced_sets(s: &Statement, out: &mut Vec<String>) {
    if let Some(ip) = s.ip_set_reference_statement() {
        if !out.iter().any(|a| a == ip.arn()) {
            out.push(ip.arn().to_string());
        }
    }
    if let Some(inner) = s.not_statement().and_then(|n| n.statement()) {
        referenced_sets(inner, out);
    }
    for part in s
        .or_statement()
        .map(|o| o.statements())
        .into_iter()
        .chain(s.and_statement().map(|a| a.statements()))
        .flatten()
    {
        referenced_sets(part, out);
    }
}

impl WafStore {
    /// What `request` gets from `lb` now: maint's rules of its live web
    /// ACL evaluated (see [`crate::check`]).
    pub(super) async fn check_live(
        &self,
        lb: &ResourceArn,
        request: &CheckRequest,
    ) -> Result<CheckReport> {
        let (acl, read) = match self.observe(lb, None).await? {
            Observed::Normal => return Ok(check::decide(lb, &State::Normal, request)),
            Observed::Foreign { arn, name } => {
                let state = State::Foreign {
                    web_acl_arn: arn,
                    web_acl_name: name,
                };
                return Ok(check::decide(lb, &state, request));
            }
            // Several windows' parts: the one whose scope the request is
            // in explains it (they never overlap); else the first.
            Observed::Ours { acl, read } => {
                let covering = acl::read_parts(&acl)?
                    .into_iter()
                    .find(|p| p.record.scope.covers(request.host(), request.path()));
                (acl, covering.map_or(read, Box::new))
            }
        };
        if !read.rule_present {
            let info = Self::info(&acl, &read, Allowlist::new());
            return Ok(check::decide(lb, &Self::state(&acl, &read, info), request));
        }
        let mine: Vec<&Rule> = acl
            .rules()
            .iter()
            .filter(|r| acl::is_maint_rule(r.name()))
            .collect();
        let mut arns = Vec::new();
        for rule in &mine {
            if let Some(s) = rule.statement() {
                referenced_sets(s, &mut arns);
            }
        }
        let mut live = LiveAcl {
            name: acl.name().to_string(),
            rules: mine.iter().map(|r| rule_json(r)).collect(),
            ..LiveAcl::default()
        };
        for (key, body) in acl.custom_response_bodies().into_iter().flatten() {
            live.bodies.insert(
                key.clone(),
                (
                    body.content_type().as_str().to_string(),
                    body.content().to_string(),
                ),
            );
        }
        let mut entries = Allowlist::new();
        for arn in arns {
            let family = if IpSetId::from_arn(&arn)?.name.ends_with("-ipv6") {
                Family::Ipv6
            } else {
                Family::Ipv4
            };
            let set = self.get_ip_set(family, &arn).await?;
            entries = entries.union(&Allowlist::from_cidrs(set.entries.iter().copied())?)?;
            live.ip_sets
                .insert(arn, set.entries.iter().map(Cidr::net).collect());
        }
        let eval = evaluate(&live, request, acl::is_maint_rule)
            .map_err(|e| Error::unexpected(e.to_string()))?;
        let info = Self::info(&acl, &read, entries);
        let host = read.injected().then(|| acl.name().to_string());
        let names = acl::PartNames::of(read.record.part.as_deref());
        Ok(explain(
            lb,
            acl.name(),
            &eval,
            [&names.client_ip_rule(), &names.link_rule(), &names.rule()],
            host.as_deref(),
            read.record.active,
            &info,
            request,
        ))
    }
}
