//! The shape of maint's web ACL, built from and read back into domain values.
//! Pure functions, no AWS calls: see the module doc of `waf` for the design.

use std::collections::HashMap;

use aws_sdk_wafv2::types::{
    AllowAction, BlockAction, ComparisonOperator, CustomHttpHeader, CustomResponse,
    CustomResponseBody, DefaultAction, FieldToMatch, IpSetReferenceStatement, NotStatement,
    OrStatement, ResponseContentType, Rule, RuleAction, SizeConstraintStatement, Statement, Tag,
    TextTransformation, TextTransformationType, UriPath, VisibilityConfig, WebAcl,
};
use aws_smithy_types::error::operation::BuildError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::allowlist::Family;
use crate::maintenance::Window;
use crate::response::{
    ContentType, MaintenanceResponse, ResponseBody, ResponseHeader, ResponseHeaders, ResponseStatus,
};
use crate::{Error, Result};

/// The one rule of maint's web ACL.
pub(crate) const RULE_NAME: &str = "maint-maintenance";
/// The custom response body the rule sends.
pub(crate) const PAGE_KEY: &str = "maint-page";
/// The custom response body that holds the window's [`StateRecord`]. No rule
/// sends it; it lives in the web ACL so that it changes atomically (under
/// the same lock token) with the rule, and is returned by the same read.
pub(crate) const STATE_KEY: &str = "maint-state";
/// Tag key marking a resource as maint's.
pub(crate) const TAG_MANAGED_BY: &str = "maint:managed-by";
/// Tag value of [`TAG_MANAGED_BY`].
pub(crate) const MANAGED_BY: &str = "maint";
/// Tag key naming the window a resource serves.
pub(crate) const TAG_WINDOW: &str = "maint:window";
/// Tag key naming the load balancer a resource served, on resources made
/// before windows (read only).
pub(crate) const TAG_LOAD_BALANCER: &str = "maint:load-balancer";
/// Tag key holding when maint created the resource (RFC 3339), so `cleanup`
/// can leave alone what a concurrent `enter` is still setting up.
pub(crate) const TAG_CREATED: &str = "maint:created";

/// The deterministic name of a window's IP set of one family.
pub(crate) fn ip_set_name(window: &str, family: Family) -> String {
    let suffix = match family {
        Family::Ipv4 => "ipv4",
        Family::Ipv6 => "ipv6",
    };
    format!("{window}-{suffix}")
}

/// What maint records about a window, inside the web ACL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StateRecord {
    /// Always [`MANAGED_BY`].
    pub managed_by: String,
    /// The window's name: the web ACL's own name.
    #[serde(default)]
    pub window: String,
    /// The config service whose window this is, if any.
    #[serde(default)]
    pub service: Option<String>,
    /// The ARNs of the load balancers that are (or, while an `enter` is
    /// under way, are about to be) in the window, recorded before they are
    /// associated so that an interrupted run can be finished or undone.
    #[serde(default)]
    pub members: Vec<String>,
    /// The one load balancer of a record written before windows (read only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer: Option<String>,
    pub reason: Option<String>,
    pub since: DateTime<Utc>,
    pub until: Option<DateTime<Utc>>,
    /// Whether the allowlist lets its entries through. The rule is written
    /// from it in the same update, and reading checks that they agree.
    pub allowlist_enabled: bool,
    /// The ARN of the IPv4 IP set, once one exists.
    pub ipv4_set: Option<String>,
    /// The ARN of the IPv6 IP set, once one exists.
    pub ipv6_set: Option<String>,
}

impl StateRecord {
    pub fn set(&self, family: Family) -> Option<&str> {
        match family {
            Family::Ipv4 => self.ipv4_set.as_deref(),
            Family::Ipv6 => self.ipv6_set.as_deref(),
        }
    }

    pub fn set_mut(&mut self, family: Family) -> &mut Option<String> {
        match family {
            Family::Ipv4 => &mut self.ipv4_set,
            Family::Ipv6 => &mut self.ipv6_set,
        }
    }

    fn sets(&self) -> impl Iterator<Item = &str> {
        self.ipv4_set
            .iter()
            .chain(self.ipv6_set.iter())
            .map(String::as_str)
    }
}

/// Everything that goes into maint's web ACL.
pub(crate) struct AclSpec<'a> {
    pub record: &'a StateRecord,
    pub response: &'a MaintenanceResponse,
}

/// An IP set's identity, from its ARN
/// (`arn:aws:wafv2:<region>:<account>:regional/ipset/<name>/<id>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IpSetId {
    pub name: String,
    pub id: String,
    pub arn: String,
}

impl IpSetId {
    pub fn from_arn(arn: &str) -> Result<Self> {
        let mut parts = arn.rsplitn(3, '/');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(id), Some(name), Some(rest)) if rest.ends_with(":regional/ipset") => Ok(Self {
                name: name.to_string(),
                id: id.to_string(),
                arn: arn.to_string(),
            }),
            _ => Err(Error::unexpected(format!(
                "maint's state record names {arn:?}, which is not a regional IP set ARN"
            ))),
        }
    }
}

fn built<T>(what: &str, r: std::result::Result<T, BuildError>) -> Result<T> {
    r.map_err(|e| Error::Unexpected {
        message: format!("could not build the {what} request"),
        source: Some(std::sync::Arc::new(e)),
    })
}

/// Matches every request: a URI path is never shorter than 0 bytes. WAF has
/// no "match all" statement; this one costs 1 WCU.
fn match_all() -> Result<Statement> {
    let size = built(
        "size constraint",
        SizeConstraintStatement::builder()
            .field_to_match(
                FieldToMatch::builder()
                    .uri_path(UriPath::builder().build())
                    .build(),
            )
            .comparison_operator(ComparisonOperator::Ge)
            .size(0)
            .text_transformations(built(
                "text transformation",
                TextTransformation::builder()
                    .priority(0)
                    .r#type(TextTransformationType::None)
                    .build(),
            )?)
            .build(),
    )?;
    Ok(Statement::builder().size_constraint_statement(size).build())
}

fn ip_set_match(arn: &str) -> Result<Statement> {
    Ok(Statement::builder()
        .ip_set_reference_statement(built(
            "IP set reference",
            IpSetReferenceStatement::builder().arn(arn).build(),
        )?)
        .build())
}

/// "Not let through": NOT(source address in an allowlist set) when the
/// allowlist is enabled and has a set, otherwise every request.
fn blocked_requests(spec: &AclSpec<'_>) -> Result<Statement> {
    let sets: Vec<&str> = spec.record.sets().collect();
    if !spec.record.allowlist_enabled || sets.is_empty() {
        return match_all();
    }
    let let_through = match sets.as_slice() {
        [one] => ip_set_match(one)?,
        many => {
            let mut or = OrStatement::builder();
            for arn in many {
                or = or.statements(ip_set_match(arn)?);
            }
            Statement::builder()
                .or_statement(built("OR statement", or.build())?)
                .build()
        }
    };
    Ok(Statement::builder()
        .not_statement(NotStatement::builder().statement(let_through).build())
        .build())
}

/// Metrics on, so an SRE can see how many requests got the page
/// (WAF's CloudWatch metrics carry no extra charge).
pub(crate) fn visibility(metric_name: &str) -> Result<VisibilityConfig> {
    built(
        "visibility config",
        VisibilityConfig::builder()
            .sampled_requests_enabled(true)
            .cloud_watch_metrics_enabled(true)
            .metric_name(metric_name)
            .build(),
    )
}

/// The web ACL's default action: Allow (the rule blocks what must be blocked).
pub(crate) fn default_action() -> DefaultAction {
    DefaultAction::builder()
        .allow(AllowAction::builder().build())
        .build()
}

/// The one maintenance rule: block every request not let through, with the
/// maintenance response.
pub(crate) fn rule(spec: &AclSpec<'_>, metric_name: &str) -> Result<Rule> {
    let mut custom = CustomResponse::builder()
        .response_code(i32::from(spec.response.status().code()))
        .custom_response_body_key(PAGE_KEY);
    for header in spec.response.headers() {
        custom = custom.response_headers(built(
            "response header",
            CustomHttpHeader::builder()
                .name(header.name())
                .value(header.value())
                .build(),
        )?);
    }
    let action = RuleAction::builder()
        .block(
            BlockAction::builder()
                .custom_response(built("custom response", custom.build())?)
                .build(),
        )
        .build();
    built(
        "rule",
        Rule::builder()
            .name(RULE_NAME)
            .priority(0)
            .statement(blocked_requests(spec)?)
            .action(action)
            .visibility_config(visibility(&format!("{metric_name}-blocked"))?)
            .build(),
    )
}

/// The custom response bodies: the page, and the state record.
pub(crate) fn bodies(spec: &AclSpec<'_>) -> Result<HashMap<String, CustomResponseBody>> {
    let body = spec.response.body();
    let page = built(
        "custom response body",
        CustomResponseBody::builder()
            .content_type(ResponseContentType::from(body.content_type().waf_name()))
            .content(body.content())
            .build(),
    )?;
    let record = serde_json::to_string(spec.record).map_err(|e| Error::Unexpected {
        message: "could not encode maint's state record".into(),
        source: Some(std::sync::Arc::new(e)),
    })?;
    let state = built(
        "custom response body",
        CustomResponseBody::builder()
            .content_type(ResponseContentType::ApplicationJson)
            .content(record)
            .build(),
    )?;
    Ok(HashMap::from([
        (PAGE_KEY.to_string(), page),
        (STATE_KEY.to_string(), state),
    ]))
}

/// The tags every resource of maint's carries.
pub(crate) fn tags(window: &Window) -> Result<Vec<Tag>> {
    let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    Ok(vec![
        built("tag", Tag::builder().key(TAG_CREATED).value(now).build())?,
        built(
            "tag",
            Tag::builder().key(TAG_MANAGED_BY).value(MANAGED_BY).build(),
        )?,
        built(
            "tag",
            Tag::builder().key(TAG_WINDOW).value(window.name()).build(),
        )?,
    ])
}

/// A web ACL of maint's, as read back.
#[derive(Debug, Clone)]
pub(crate) struct ReadAcl {
    pub record: StateRecord,
    pub response: MaintenanceResponse,
}

/// Reads a web ACL as a window of maint's. `None` when it is not one (a name
/// not of maint's, no state record, or a record naming another window):
/// such an ACL is never touched. A record written before windows (one load
/// balancer) reads as a window of one.
pub(crate) fn read_acl(acl: &WebAcl) -> Result<Option<ReadAcl>> {
    if !acl.name().starts_with("maint-") {
        return Ok(None);
    }
    let bodies = acl.custom_response_bodies();
    let Some(state) = bodies.and_then(|b| b.get(STATE_KEY)) else {
        return Ok(None);
    };
    let Ok(mut record) = serde_json::from_str::<StateRecord>(state.content()) else {
        return Ok(None);
    };
    if record.window.is_empty() {
        record.window = acl.name().to_string();
    }
    if let Some(lb) = record.load_balancer.take() {
        if !record.members.contains(&lb) {
            record.members.push(lb);
        }
    }
    if record.managed_by != MANAGED_BY || record.window != acl.name() {
        return Ok(None);
    }
    let damaged = |what: &str| {
        Error::unexpected(format!(
            "web ACL {} is maint's but its {what} was changed outside maint; \
             run `maint enter` again to restore it, or `maint exit`",
            acl.name()
        ))
    };
    let rule = acl
        .rules()
        .iter()
        .find(|r| r.name() == RULE_NAME)
        .ok_or_else(|| damaged("maintenance rule"))?;
    let custom = rule
        .action()
        .and_then(|a| a.block())
        .and_then(|b| b.custom_response())
        .ok_or_else(|| damaged("rule action"))?;
    let status = u16::try_from(custom.response_code())
        .ok()
        .and_then(|c| ResponseStatus::new(c).ok())
        .ok_or_else(|| damaged("response status"))?;
    let page = custom
        .custom_response_body_key()
        .and_then(|key| bodies.and_then(|b| b.get(key)))
        .ok_or_else(|| damaged("response body"))?;
    let content_type = ContentType::from_waf_name(page.content_type().as_str())
        .ok_or_else(|| damaged("response content type"))?;
    let body = ResponseBody::new(content_type, page.content().to_string())
        .map_err(|_| damaged("response body"))?;
    let headers = custom
        .response_headers()
        .iter()
        .map(|h| ResponseHeader::new(h.name(), h.value()))
        .collect::<std::result::Result<Vec<_>, _>>()
        .and_then(ResponseHeaders::new)
        .map_err(|_| damaged("response headers"))?;
    let lets_through = rule
        .statement()
        .is_some_and(|s| s.not_statement().is_some());
    let should_let_through = record.allowlist_enabled && record.sets().next().is_some();
    if lets_through != should_let_through {
        return Err(damaged("rule statement"));
    }
    Ok(Some(ReadAcl {
        record,
        response: MaintenanceResponse::from_parts(status, body, headers),
    }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use aws_sdk_wafv2::types::WebAcl;

    const LB: &str =
        "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/shop/0123456789abcdef";

    fn record(sets: &[&str]) -> StateRecord {
        StateRecord {
            managed_by: MANAGED_BY.into(),
            window: "maint-shop-0123456789abcdef".into(),
            service: None,
            members: vec![LB.to_string()],
            load_balancer: None,
            reason: Some("release".into()),
            since: Utc::now(),
            until: None,
            allowlist_enabled: true,
            ipv4_set: sets.first().map(|s| s.to_string()),
            ipv6_set: sets.get(1).map(|s| s.to_string()),
        }
    }

    fn acl(spec: &AclSpec<'_>, name: &str) -> WebAcl {
        let mut b = WebAcl::builder()
            .name(name)
            .id("id")
            .arn("arn")
            .default_action(default_action())
            .rules(rule(spec, "m").unwrap())
            .visibility_config(visibility("m").unwrap());
        for (k, v) in bodies(spec).unwrap() {
            b = b.custom_response_bodies(k, v);
        }
        b.build().unwrap()
    }

    const V4: &str =
        "arn:aws:wafv2:eu-west-1:123456789012:regional/ipset/maint-shop-0123456789abcdef-ipv4/aaaa";
    const V6: &str =
        "arn:aws:wafv2:eu-west-1:123456789012:regional/ipset/maint-shop-0123456789abcdef-ipv6/bbbb";

    #[test]
    fn round_trips_through_the_acl() {
        let response = MaintenanceResponse::default();
        for (sets, enabled) in [
            (vec![V4], true),
            (vec![V4, V6], true),
            (vec![V4], false),
            (vec![], true),
        ] {
            let mut rec = record(&sets);
            rec.allowlist_enabled = enabled;
            let spec = AclSpec {
                record: &rec,
                response: &response,
            };
            let acl = acl(&spec, "maint-shop-0123456789abcdef");
            let read = read_acl(&acl).unwrap().expect("ours");
            assert_eq!(read.record, rec);
            assert_eq!(read.response, response);
        }
    }

    #[test]
    fn the_rule_statement_has_the_expected_shape() {
        let response = MaintenanceResponse::default();
        let mut rec = record(&[V4, V6]);
        let spec = AclSpec {
            record: &rec,
            response: &response,
        };
        let s = blocked_requests(&spec).unwrap();
        let inner = s.not_statement().unwrap().statement().unwrap();
        assert_eq!(inner.or_statement().unwrap().statements().len(), 2);
        rec.allowlist_enabled = false;
        let disabled = AclSpec {
            record: &rec,
            response: &response,
        };
        assert!(blocked_requests(&disabled)
            .unwrap()
            .size_constraint_statement()
            .is_some());
    }

    #[test]
    fn acls_that_are_not_ours_are_not_read() {
        let response = MaintenanceResponse::default();
        let rec = record(&[]);
        let spec = AclSpec {
            record: &rec,
            response: &response,
        };
        assert!(read_acl(&acl(&spec, "security-acl")).unwrap().is_none());
        let mut other = rec.clone();
        other.window = "maint-svc-other".into();
        let spec = AclSpec {
            record: &other,
            response: &response,
        };
        assert!(read_acl(&acl(&spec, "maint-shop-0123456789abcdef"))
            .unwrap()
            .is_none());
    }

    #[test]
    fn a_record_from_before_windows_reads_as_a_window_of_one() {
        let response = MaintenanceResponse::default();
        let mut old = record(&[V4]);
        old.window = String::new();
        old.members = Vec::new();
        old.load_balancer = Some(LB.to_string());
        let spec = AclSpec {
            record: &old,
            response: &response,
        };
        let read = read_acl(&acl(&spec, "maint-shop-0123456789abcdef"))
            .unwrap()
            .expect("ours");
        assert_eq!(read.record.window, "maint-shop-0123456789abcdef");
        assert_eq!(read.record.members, [LB]);
        assert_eq!(read.record.load_balancer, None);
    }

    #[test]
    fn ip_set_ids_parse_from_arns() {
        let id = IpSetId::from_arn(V4).unwrap();
        assert_eq!(id.name, "maint-shop-0123456789abcdef-ipv4");
        assert_eq!(id.id, "aaaa");
        assert!(IpSetId::from_arn("arn:aws:wafv2:x:y:regional/webacl/a/b").is_err());
    }
}
