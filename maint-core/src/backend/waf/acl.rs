//! The shape of maint's web ACL, built from and read back into domain values.
//! Pure functions, no AWS calls: see the module doc of `waf` for the design.

use std::collections::{BTreeMap, HashMap};

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
/// Tag key naming the service's own web ACL (its ARN) that a window's IP
/// set serves when maint's rule is injected there, so `cleanup` can tell
/// such a set in use.
pub(crate) const TAG_HOST: &str = "maint:host-web-acl";
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
    /// Whether the rule blocks (maintenance on) or is in pass-through form
    /// (an armed window out of maintenance). Records written before arming
    /// existed are always on.
    #[serde(default = "on")]
    pub active: bool,
    /// When the window was armed, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub armed_since: Option<DateTime<Utc>>,
    /// Present when the record lives in a service's own web ACL, into which
    /// maint's rule was injected: what `exit` must undo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub injected: Option<Injection>,
}

fn on() -> bool {
    true
}

/// What maint did to a service's own web ACL beyond adding its rule and
/// bodies: the priorities it shifted to put its rule first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Injection {
    /// Rule name -> its priority before maint shifted it up by one.
    #[serde(default)]
    pub renumbered: BTreeMap<String, i32>,
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

/// Matches no request: the pass-through form of an armed window's rule.
fn match_none() -> Result<Statement> {
    Ok(Statement::builder()
        .not_statement(NotStatement::builder().statement(match_all()?).build())
        .build())
}

/// "Not let through": NOT(source address in an allowlist set) when the
/// allowlist is enabled and has a set, otherwise every request; nothing
/// while the window is in pass-through form.
fn blocked_requests(spec: &AclSpec<'_>) -> Result<Statement> {
    if !spec.record.active {
        return match_none();
    }
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
pub(crate) fn tags(window: &Window, host: Option<&str>) -> Result<Vec<Tag>> {
    let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let host = match host {
        Some(arn) => vec![built(
            "tag",
            Tag::builder().key(TAG_HOST).value(arn).build(),
        )?],
        None => Vec::new(),
    };
    Ok(host
        .into_iter()
        .chain([
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
        .collect())
}

/// A web ACL of maint's, or a service's own web ACL with maint's rule
/// injected, as read back.
#[derive(Debug, Clone)]
pub(crate) struct ReadAcl {
    pub record: StateRecord,
    pub response: MaintenanceResponse,
    /// False when the record is there but maint's rule is gone: in a
    /// service's own web ACL, someone removed it (an IaC apply).
    pub rule_present: bool,
}

impl ReadAcl {
    /// Whether this is a window injected into a service's own web ACL.
    pub fn injected(&self) -> bool {
        self.record.injected.is_some()
    }
}

/// Reads a web ACL as a window of maint's. `None` when it is not one (a name
/// not of maint's, no state record, or a record naming another window):
/// such an ACL is never touched. A service's own web ACL holding a record
/// of an injected window reads as that window. A record written before
/// windows (one load balancer) reads as a window of one.
pub(crate) fn read_acl(acl: &WebAcl) -> Result<Option<ReadAcl>> {
    let bodies = acl.custom_response_bodies();
    let Some(state) = bodies.and_then(|b| b.get(STATE_KEY)) else {
        return Ok(None);
    };
    let Ok(mut record) = serde_json::from_str::<StateRecord>(state.content()) else {
        return Ok(None);
    };
    let own = acl.name().starts_with("maint-") && record.injected.is_none();
    if own && record.window.is_empty() {
        record.window = acl.name().to_string();
    }
    if let Some(lb) = record.load_balancer.take() {
        if !record.members.contains(&lb) {
            record.members.push(lb);
        }
    }
    let named_right = if own {
        record.window == acl.name()
    } else {
        record.injected.is_some() && record.window.starts_with("maint-")
    };
    if record.managed_by != MANAGED_BY || !named_right {
        return Ok(None);
    }
    let damaged = |what: &str| {
        let fix = if own {
            "run `maint enter` again to restore it, or `maint exit`"
        } else {
            "run `maint exit` to remove maint's part of it, then `maint enter` again"
        };
        Error::unexpected(format!(
            "web ACL {} holds maint's window {} but its {what} was changed outside maint; {fix}",
            acl.name(),
            record.window
        ))
    };
    let Some(rule) = acl.rules().iter().find(|r| r.name() == RULE_NAME) else {
        if own {
            return Err(damaged("maintenance rule"));
        }
        return Ok(Some(ReadAcl {
            record,
            response: MaintenanceResponse::default(),
            rule_present: false,
        }));
    };
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
    // The statement's shape must agree with the record: pass-through
    // NOT(match all), letting the allowlist through NOT(sets), else all.
    let inner = rule
        .statement()
        .and_then(|s| s.not_statement())
        .and_then(|n| n.statement());
    let passes_all = inner.is_some_and(|s| s.size_constraint_statement().is_some());
    let lets_through = inner.is_some() && !passes_all;
    let should_let_through =
        record.active && record.allowlist_enabled && record.sets().next().is_some();
    if passes_all == record.active || lets_through != should_let_through {
        return Err(damaged("rule statement"));
    }
    Ok(Some(ReadAcl {
        record,
        response: MaintenanceResponse::from_parts(status, body, headers),
        rule_present: true,
    }))
}

/// WAF's limits on one web ACL that maint's additions must fit in.
pub(crate) const MAX_WCU: i64 = 5_000;
/// IP sets, regex pattern sets and rule groups one web ACL may reference.
pub(crate) const MAX_REFERENCES: usize = 50;
/// Custom response bodies in one web ACL.
pub(crate) const MAX_BODIES: usize = 50;
/// Custom response headers in one web ACL.
pub(crate) const MAX_HEADERS: usize = 100;

/// Which rules of a service's own web ACL must move up by one for maint's
/// rule to go first at priority 0: the run of rules from priority 0 up to
/// the first free priority (none when 0 is free). Rule name -> priority now.
pub(crate) fn first_place(acl: &WebAcl) -> BTreeMap<String, i32> {
    let rules: Vec<&Rule> = acl
        .rules()
        .iter()
        .filter(|r| r.name() != RULE_NAME)
        .collect();
    let taken = |p: i32| rules.iter().any(|r| r.priority() == p);
    let mut run = 0;
    while taken(run) {
        run += 1;
    }
    rules
        .iter()
        .filter(|r| r.priority() < run)
        .map(|r| (r.name().to_string(), r.priority()))
        .collect()
}

/// The rules and bodies of `acl` with maint's rule and bodies from `spec`
/// in place of any maint put there before: maint's rule at priority 0,
/// every other rule and body as it is, except that when maint's rule is
/// not there yet, the rules the record's injection says to shift (see
/// [`first_place`]) move up by one.
pub(crate) fn compose(
    acl: &WebAcl,
    spec: &AclSpec<'_>,
) -> Result<(Vec<Rule>, HashMap<String, CustomResponseBody>)> {
    let present = acl.rules().iter().any(|r| r.name() == RULE_NAME);
    let mut rules: Vec<Rule> = acl
        .rules()
        .iter()
        .filter(|r| r.name() != RULE_NAME)
        .cloned()
        .collect();
    if let (false, Some(injection)) = (present, &spec.record.injected) {
        for rule in &mut rules {
            if injection.renumbered.get(rule.name()) == Some(&rule.priority()) {
                rule.priority += 1;
            }
        }
    }
    if let Some(r) = rules.iter().find(|r| r.priority() == 0) {
        return Err(Error::Conflict {
            resource: acl.arn().to_string(),
            message: format!(
                "rule {} of web ACL {} took priority 0, where maint's rule goes",
                r.name(),
                acl.name()
            ),
        });
    }
    rules.insert(0, self::rule(spec, acl.name())?);
    let mut all = foreign_bodies(acl);
    all.extend(bodies(spec)?);
    Ok((rules, all))
}

/// The custom response bodies of `acl` that are not maint's.
fn foreign_bodies(acl: &WebAcl) -> HashMap<String, CustomResponseBody> {
    acl.custom_response_bodies()
        .map(|b| {
            b.iter()
                .filter(|(k, _)| k.as_str() != PAGE_KEY && k.as_str() != STATE_KEY)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// The rules and bodies of a service's own web ACL with everything maint
/// added taken out: its rule and bodies, and the priorities it shifted put
/// back (where the old priority is still free; a rule someone moved
/// meanwhile keeps where they put it). Rules and bodies others added
/// during the window stay.
pub(crate) fn restore(
    acl: &WebAcl,
    injection: &Injection,
) -> (Vec<Rule>, HashMap<String, CustomResponseBody>) {
    let mut rules: Vec<Rule> = acl
        .rules()
        .iter()
        .filter(|r| r.name() != RULE_NAME)
        .cloned()
        .collect();
    // Lowest first, so each old priority is freed before it is wanted.
    let mut order: Vec<usize> = (0..rules.len()).collect();
    order.sort_by_key(|&i| rules[i].priority());
    for i in order {
        let Some(&old) = injection.renumbered.get(rules[i].name()) else {
            continue;
        };
        let free = !rules.iter().any(|r| r.priority() == old);
        if rules[i].priority() == old + 1 && free {
            rules[i].priority = old;
        } else if rules[i].priority() != old {
            tracing::warn!(
                rule = rules[i].name(),
                priority = rules[i].priority(),
                "left at its current priority: it was moved while maint's rule was there"
            );
        }
    }
    (rules, foreign_bodies(acl))
}

/// Why maint's rule and bodies cannot go into a service's own web ACL
/// (`None`: they fit): a rule or body of the ACL already has maint's name,
/// or one of WAF's per-ACL limits would be exceeded.
pub(crate) fn will_not_fit(
    acl: &WebAcl,
    rules: &[Rule],
    bodies: &HashMap<String, CustomResponseBody>,
) -> Option<String> {
    let name = acl.name();
    if acl.rules().iter().any(|r| r.name() == RULE_NAME) {
        return Some(format!(
            "web ACL {name} already has a rule named {RULE_NAME} that maint did not record"
        ));
    }
    if let Some(b) = acl.custom_response_bodies() {
        for key in [PAGE_KEY, STATE_KEY] {
            if b.contains_key(key) {
                return Some(format!(
                    "web ACL {name} already has a custom response body named {key}"
                ));
            }
        }
    }
    let references: usize = rules
        .iter()
        .filter_map(Rule::statement)
        .map(count_references)
        .sum();
    if references > MAX_REFERENCES {
        return Some(format!(
            "with maint's IP sets, web ACL {name} would reference {references} IP sets, regex \
             pattern sets and rule groups; AWS WAF allows {MAX_REFERENCES}"
        ));
    }
    if bodies.len() > MAX_BODIES {
        return Some(format!(
            "with maint's 2 custom response bodies, web ACL {name} would have {}; AWS WAF \
             allows {MAX_BODIES}",
            bodies.len()
        ));
    }
    let headers: usize = rules
        .iter()
        .filter_map(|r| r.action())
        .filter_map(|a| a.block())
        .filter_map(|b| b.custom_response())
        .map(|c| c.response_headers().len())
        .sum::<usize>()
        + acl
            .default_action()
            .and_then(|d| d.block())
            .and_then(|b| b.custom_response())
            .map_or(0, |c| c.response_headers().len());
    if headers > MAX_HEADERS {
        return Some(format!(
            "with maint's response headers, web ACL {name} would have {headers} custom \
             response headers; AWS WAF allows {MAX_HEADERS}"
        ));
    }
    None
}

/// How many IP sets, regex pattern sets and rule groups a statement
/// references, nested statements included.
fn count_references(s: &Statement) -> usize {
    let nested = |list: &[Statement]| list.iter().map(count_references).sum::<usize>();
    let own = usize::from(s.ip_set_reference_statement().is_some())
        + usize::from(s.regex_pattern_set_reference_statement().is_some())
        + usize::from(s.rule_group_reference_statement().is_some());
    own + s.and_statement().map_or(0, |a| nested(a.statements()))
        + s.or_statement().map_or(0, |o| nested(o.statements()))
        + s.not_statement()
            .and_then(|n| n.statement())
            .map_or(0, count_references)
        + s.rate_based_statement()
            .and_then(|r| r.scope_down_statement())
            .map_or(0, count_references)
        + s.managed_rule_group_statement()
            .and_then(|m| m.scope_down_statement())
            .map_or(0, count_references)
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
            active: true,
            armed_since: None,
            injected: None,
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

    /// A service's own web ACL with rules at the given priorities.
    fn host(priorities: &[(&str, i32)]) -> WebAcl {
        let mut b = WebAcl::builder()
            .name("security")
            .id("id")
            .arn("arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/security/id")
            .default_action(default_action())
            .visibility_config(visibility("security").unwrap())
            .custom_response_bodies(
                "blocked",
                CustomResponseBody::builder()
                    .content_type(ResponseContentType::TextPlain)
                    .content("no")
                    .build()
                    .unwrap(),
            );
        for (name, priority) in priorities {
            b = b.rules(
                Rule::builder()
                    .name(*name)
                    .priority(*priority)
                    .statement(match_all().unwrap())
                    .action(
                        RuleAction::builder()
                            .block(BlockAction::builder().build())
                            .build(),
                    )
                    .visibility_config(visibility(name).unwrap())
                    .build()
                    .unwrap(),
            );
        }
        b.build().unwrap()
    }

    fn injected(acl: &WebAcl) -> StateRecord {
        let mut rec = record(&[V4]);
        rec.injected = Some(Injection {
            renumbered: first_place(acl),
        });
        rec
    }

    fn priorities(rules: &[Rule]) -> Vec<(String, i32)> {
        let mut p: Vec<(String, i32)> = rules
            .iter()
            .map(|r| (r.name().to_string(), r.priority()))
            .collect();
        p.sort_by_key(|(_, p)| *p);
        p
    }

    fn with_rules(
        acl: &WebAcl,
        rules: Vec<Rule>,
        bodies: HashMap<String, CustomResponseBody>,
    ) -> WebAcl {
        let mut acl = acl.clone();
        acl.rules = Some(rules);
        acl.custom_response_bodies = Some(bodies);
        acl
    }

    #[test]
    fn maints_rule_goes_first_and_exit_restores_exactly() {
        let response = MaintenanceResponse::default();
        let acl = host(&[
            ("managed", 0),
            ("rate", 1),
            ("geo", 5),
            ("Shield", 10_000_000),
        ]);
        assert_eq!(
            first_place(&acl),
            BTreeMap::from([("managed".to_string(), 0), ("rate".to_string(), 1)]),
            "only the run from 0 up to the first gap moves"
        );
        let rec = injected(&acl);
        let spec = AclSpec {
            record: &rec,
            response: &response,
        };
        let (rules, bodies) = compose(&acl, &spec).unwrap();
        assert_eq!(
            priorities(&rules),
            [
                ("maint-maintenance".to_string(), 0),
                ("managed".to_string(), 1),
                ("rate".to_string(), 2),
                ("geo".to_string(), 5),
                ("Shield".to_string(), 10_000_000)
            ]
        );
        assert_eq!(bodies.len(), 3, "its own body and maint's two");
        assert!(will_not_fit(&acl, &rules, &bodies).is_none());
        let during = with_rules(&acl, rules, bodies);
        let read = read_acl(&during).unwrap().expect("the injected window");
        assert!(read.injected() && read.rule_present);
        // Composing again (an allowlist edit) moves nothing further.
        let (again, _) = compose(&during, &spec).unwrap();
        assert_eq!(priorities(&again), priorities(during.rules()));

        let (rules, bodies) = restore(&during, rec.injected.as_ref().unwrap());
        let after = with_rules(&acl, rules, bodies);
        assert_eq!(priorities(after.rules()), priorities(acl.rules()));
        assert_eq!(after.custom_response_bodies(), acl.custom_response_bodies());
    }

    #[test]
    fn a_rule_someone_moved_during_the_window_keeps_its_new_place() {
        let response = MaintenanceResponse::default();
        let acl = host(&[("managed", 0), ("rate", 1)]);
        let rec = injected(&acl);
        let spec = AclSpec {
            record: &rec,
            response: &response,
        };
        let (mut rules, bodies) = compose(&acl, &spec).unwrap();
        // Meanwhile another team moves "rate" to 7 and adds "new" at 3.
        for r in &mut rules {
            if r.name() == "rate" {
                r.priority = 7;
            }
        }
        let mut extra = host(&[("new", 3)]).rules().to_vec();
        rules.append(&mut extra);
        let during = with_rules(&acl, rules, bodies);
        let (rules, _) = restore(&during, rec.injected.as_ref().unwrap());
        assert_eq!(
            priorities(&rules),
            [
                ("managed".to_string(), 0),
                ("new".to_string(), 3),
                ("rate".to_string(), 7)
            ]
        );
    }

    #[test]
    fn name_clashes_and_limits_are_refused() {
        let response = MaintenanceResponse::default();
        let clash = host(&[(RULE_NAME, 3)]);
        let rec = injected(&clash);
        let spec = AclSpec {
            record: &rec,
            response: &response,
        };
        let (rules, bodies) = compose(&clash, &spec).unwrap();
        assert!(will_not_fit(&clash, &rules, &bodies)
            .unwrap()
            .contains("already has a rule named"));

        let acl = host(&[("a", 0)]);
        let many: HashMap<String, CustomResponseBody> = (0..49)
            .map(|i| {
                (
                    format!("b{i}"),
                    acl.custom_response_bodies().unwrap()["blocked"].clone(),
                )
            })
            .collect();
        let crowded = with_rules(&acl, acl.rules().to_vec(), many);
        let rec = injected(&crowded);
        let spec = AclSpec {
            record: &rec,
            response: &response,
        };
        let (rules, bodies) = compose(&crowded, &spec).unwrap();
        assert!(will_not_fit(&crowded, &rules, &bodies)
            .unwrap()
            .contains("custom response bodies"));
    }

    #[test]
    fn an_armed_window_passes_everything_and_reads_back() {
        let response = MaintenanceResponse::default();
        let mut rec = record(&[V4]);
        rec.active = false;
        rec.armed_since = Some(rec.since);
        let spec = AclSpec {
            record: &rec,
            response: &response,
        };
        let s = blocked_requests(&spec).unwrap();
        let inner = s.not_statement().unwrap().statement().unwrap();
        assert!(
            inner.size_constraint_statement().is_some(),
            "matches nothing"
        );
        let read = read_acl(&acl(&spec, "maint-shop-0123456789abcdef"))
            .unwrap()
            .expect("ours");
        assert_eq!(read.record, rec);
    }
}
