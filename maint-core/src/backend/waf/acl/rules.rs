//! maint's rule builder: from a window's record and response
//! ([`AclSpec`]) to the WAF rules (client address label, bypass link,
//! maintenance) and custom response bodies of its web ACL. Pure: no AWS
//! calls.

use std::collections::HashMap;

use aws_sdk_wafv2::types::{
    AllowAction, AndStatement, BlockAction, ByteMatchStatement, ComparisonOperator,
    CookieMatchPattern, Cookies, CountAction, CustomHttpHeader, CustomResponse, CustomResponseBody,
    DefaultAction, FallbackBehavior, FieldToMatch, ForwardedIpPosition, IpSetForwardedIpConfig,
    IpSetReferenceStatement, Label, LabelMatchScope, LabelMatchStatement, MapMatchScope,
    NotStatement, OrStatement, OversizeHandling, PositionalConstraint, ResponseContentType, Rule,
    RuleAction, SingleHeader, SizeConstraintStatement, Statement, TextTransformation,
    TextTransformationType, UriPath, VisibilityConfig,
};
use aws_smithy_types::error::operation::BuildError;
use aws_smithy_types::Blob;

use super::names::{fnv1a, PartNames, SLOTS};
use super::record::{encode, is_connection, state_bodies, StateRecord};
use crate::access::{
    BypassSecret, ClientIp, ClientIpFallback, ClientIpPosition, BYPASS_COOKIE, BYPASS_HEADER,
    PROBE_HEADER,
};
use crate::response::{MaintenanceResponse, MARKER_HEADER};
use crate::scope::{HostPattern, PathPrefix, Scope};

/// The header a window's hosts are matched on (HTTP/2's `:authority`
/// reaches AWS WAF as this header).
const HOST_HEADER: &str = "host";
use crate::{Error, Result};

/// Everything that goes into maint's web ACL.
pub(crate) struct AclSpec<'a> {
    pub record: &'a StateRecord,
    pub response: &'a MaintenanceResponse,
}

pub(super) fn built<T>(what: &str, r: std::result::Result<T, BuildError>) -> Result<T> {
    r.map_err(|e| Error::Unexpected {
        message: format!("could not build the {what} request"),
        source: Some(std::sync::Arc::new(e)),
    })
}

/// The one text transformation maint's matches use: none (the bytes as sent).
fn no_transformation() -> Result<TextTransformation> {
    built(
        "text transformation",
        TextTransformation::builder()
            .priority(0)
            .r#type(TextTransformationType::None)
            .build(),
    )
}

/// Matches every request: a URI path is never shorter than 0 bytes. WAF has
/// no "match all" statement; this one costs 1 WCU.
pub(super) fn match_all() -> Result<Statement> {
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
            .text_transformations(no_transformation()?)
            .build(),
    )?;
    Ok(Statement::builder().size_constraint_statement(size).build())
}

fn ip_set_match(arn: &str, client_ip: &ClientIp) -> Result<Statement> {
    let mut reference = IpSetReferenceStatement::builder().arn(arn);
    if let ClientIp::Header {
        name,
        position,
        fallback,
    } = client_ip
    {
        let position = match position {
            ClientIpPosition::First => ForwardedIpPosition::First,
            ClientIpPosition::Last => ForwardedIpPosition::Last,
            ClientIpPosition::Any => ForwardedIpPosition::Any,
        };
        let fallback = match fallback {
            ClientIpFallback::Match => FallbackBehavior::Match,
            ClientIpFallback::NoMatch => FallbackBehavior::NoMatch,
        };
        reference = reference.ip_set_forwarded_ip_config(built(
            "forwarded IP config",
            IpSetForwardedIpConfig::builder()
                .header_name(name)
                .position(position)
                .fallback_behavior(fallback)
                .build(),
        )?);
    }
    Ok(Statement::builder()
        .ip_set_reference_statement(built("IP set reference", reference.build())?)
        .build())
}

/// One statement, or the OR of several.
fn any_of(mut statements: Vec<Statement>) -> Result<Statement> {
    if statements.len() == 1 {
        return Ok(statements.remove(0));
    }
    Ok(Statement::builder()
        .or_statement(built(
            "OR statement",
            OrStatement::builder()
                .set_statements(Some(statements))
                .build(),
        )?)
        .build())
}

pub(super) fn not(statement: Statement) -> Statement {
    Statement::builder()
        .not_statement(NotStatement::builder().statement(statement).build())
        .build()
}

/// An exact, case-sensitive match of `value` against `field`.
fn exactly(field: FieldToMatch, value: &str) -> Result<Statement> {
    byte_match(
        field,
        value,
        PositionalConstraint::Exactly,
        vec![no_transformation()?],
    )
}

/// A byte match of `value` against `field` after `transformations`.
fn byte_match(
    field: FieldToMatch,
    value: &str,
    position: PositionalConstraint,
    transformations: Vec<TextTransformation>,
) -> Result<Statement> {
    Ok(Statement::builder()
        .byte_match_statement(built(
            "byte match",
            ByteMatchStatement::builder()
                .search_string(Blob::new(value.as_bytes()))
                .field_to_match(field)
                .set_text_transformations(Some(transformations))
                .positional_constraint(position)
                .build(),
        )?)
        .build())
}

/// A text transformation at `priority`.
fn transformation(priority: i32, kind: TextTransformationType) -> Result<TextTransformation> {
    built(
        "text transformation",
        TextTransformation::builder()
            .priority(priority)
            .r#type(kind)
            .build(),
    )
}

/// The request is for one of `hosts`: its `Host` header (HTTP/2's
/// `:authority`), lower-cased, equals a host or ends with `.domain` for
/// `*.domain`.
fn host_is_one_of(hosts: &[HostPattern]) -> Result<Statement> {
    let mut matches = Vec::with_capacity(hosts.len());
    for host in hosts {
        let field = FieldToMatch::builder()
            .single_header(built(
                "single header",
                SingleHeader::builder().name(HOST_HEADER).build(),
            )?)
            .build();
        let (search, suffix) = host.search();
        let position = if suffix {
            PositionalConstraint::EndsWith
        } else {
            PositionalConstraint::Exactly
        };
        let lower = vec![transformation(0, TextTransformationType::Lowercase)?];
        matches.push(byte_match(field, search, position, lower)?);
    }
    any_of(matches)
}

/// The request's path, URL-decoded and normalized (so `/healthz/../x` is
/// `/x`), starts with one of `prefixes`.
fn path_starts_with(prefixes: &[PathPrefix]) -> Result<Statement> {
    let mut matches = Vec::with_capacity(prefixes.len());
    for prefix in prefixes {
        let field = FieldToMatch::builder()
            .uri_path(UriPath::builder().build())
            .build();
        let normal = vec![
            transformation(0, TextTransformationType::UrlDecode)?,
            transformation(1, TextTransformationType::NormalizePath)?,
        ];
        matches.push(byte_match(
            field,
            prefix.as_str(),
            PositionalConstraint::StartsWith,
            normal,
        )?);
    }
    any_of(matches)
}

/// Every one of `statements` (one: itself).
fn all_of(mut statements: Vec<Statement>) -> Result<Statement> {
    if statements.len() == 1 {
        return Ok(statements.remove(0));
    }
    Ok(Statement::builder()
        .and_statement(built(
            "AND statement",
            AndStatement::builder()
                .set_statements(Some(statements))
                .build(),
        )?)
        .build())
}

/// What a window's scope asks of a request before maint's rule answers it:
/// one of its hosts, one of its paths, none of its open paths (each only
/// when the scope has some).
pub(super) fn in_scope(scope: &Scope) -> Result<Vec<Statement>> {
    let mut parts = Vec::new();
    if !scope.hosts().is_empty() {
        parts.push(host_is_one_of(scope.hosts())?);
    }
    if !scope.paths().is_empty() {
        parts.push(path_starts_with(scope.paths())?);
    }
    if !scope.open_paths().is_empty() {
        parts.push(not(path_starts_with(scope.open_paths())?));
    }
    Ok(parts)
}

/// The bypass header or cookie carries the secret.
fn bypass_matches(secret: &BypassSecret) -> Result<Vec<Statement>> {
    let header = FieldToMatch::builder()
        .single_header(built(
            "single header",
            SingleHeader::builder().name(BYPASS_HEADER).build(),
        )?)
        .build();
    let cookie = FieldToMatch::builder()
        .cookies(built(
            "cookies",
            Cookies::builder()
                .match_pattern(
                    CookieMatchPattern::builder()
                        .included_cookies(BYPASS_COOKIE)
                        .build(),
                )
                .match_scope(MapMatchScope::Value)
                .oversize_handling(OversizeHandling::NoMatch)
                .build(),
        )?)
        .build();
    Ok(vec![
        exactly(header, secret.expose())?,
        exactly(cookie, secret.expose())?,
    ])
}

/// Matches no request: the pass-through form of an armed window's rule.
fn match_none() -> Result<Statement> {
    Ok(not(match_all()?))
}

/// Whether the allowlist takes part (enabled, with entries, in force).
pub(super) fn allowlist_on(record: &StateRecord) -> bool {
    record.active && record.allowlist_enabled && record.sets().next().is_some()
}

/// The bypass that takes part, if any.
pub(super) fn bypass_on(record: &StateRecord) -> Option<BypassSecret> {
    record
        .bypass_state()
        .filter(|b| record.active && b.enabled)
        .map(|b| b.secret)
}

/// "Not let through": NOT(an allowlisted address, or the label the client
/// address rule gives one, or the bypass header or cookie) when any of
/// them is on, otherwise every request; nothing while the window is in
/// pass-through form.
pub(super) fn blocked_requests(spec: &AclSpec<'_>) -> Result<Statement> {
    let record = spec.record;
    if !record.active {
        return match_none();
    }
    let mut parts = in_scope(&record.scope)?;
    parts.push(unscoped_blocked(record)?);
    all_of(parts)
}

/// [`blocked_requests`] of a window in maintenance, its scope aside.
fn unscoped_blocked(record: &StateRecord) -> Result<Statement> {
    let mut let_through = Vec::new();
    if allowlist_on(record) {
        match record.client_ip {
            ClientIp::Connection => {
                for arn in record.sets() {
                    let_through.push(ip_set_match(arn, &ClientIp::Connection)?);
                }
            }
            ClientIp::Header { .. } => let_through.push(
                Statement::builder()
                    .label_match_statement(built(
                        "label match",
                        LabelMatchStatement::builder()
                            .scope(LabelMatchScope::Label)
                            .key(PartNames::of(record.part.as_deref()).label())
                            .build(),
                    )?)
                    .build(),
            ),
        }
    }
    if let Some(secret) = bypass_on(record) {
        let_through.extend(bypass_matches(&secret)?);
    }
    if let_through.is_empty() {
        return match_all();
    }
    // A probe (`--wait`) sees what the public sees, even from an
    // allowlisted address or with the bypass.
    let probe = FieldToMatch::builder()
        .single_header(built(
            "single header",
            SingleHeader::builder().name(PROBE_HEADER).build(),
        )?)
        .build();
    any_of(vec![
        exactly(probe, &record.window)?,
        not(any_of(let_through)?),
    ])
}

/// The revision of what a window's web ACL enforces: a hash of maint's
/// record and response, carried in the maintenance response's
/// [`MARKER_HEADER`] so a probe sees when a change has reached traffic.
pub(crate) fn revision(spec: &AclSpec<'_>) -> Result<String> {
    let mut text = encode(spec.record)?;
    text.push_str(&format!("\n{}", spec.response.status().code()));
    for h in spec.response.headers() {
        text.push_str(&format!("\n{}: {}", h.name(), h.value()));
    }
    text.push('\n');
    text.push_str(spec.response.body().content());
    Ok(format!("{:08x}", fnv1a(&text)))
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

/// A Block action with a custom response.
fn block_with(status: u16, body_key: Option<&str>, headers: &[(&str, &str)]) -> Result<RuleAction> {
    let mut custom = CustomResponse::builder()
        .response_code(i32::from(status))
        .set_custom_response_body_key(body_key.map(str::to_string));
    for (name, value) in headers {
        custom = custom.response_headers(built(
            "response header",
            CustomHttpHeader::builder()
                .name(*name)
                .value(*value)
                .build(),
        )?);
    }
    Ok(RuleAction::builder()
        .block(
            BlockAction::builder()
                .custom_response(built("custom response", custom.build())?)
                .build(),
        )
        .build())
}

/// What maint's metric names start with in web ACL `acl_name`: its name,
/// and a part of its own's id (`id`), cut short so that the longest name
/// (`...-bypass-link`, `...-allowlisted`) keeps within the 128 characters
/// AWS WAF allows a metric name: a web ACL's name may have 128 itself.
pub(crate) fn metric_base(acl_name: &str, id: Option<&str>) -> String {
    const MAX: usize = 128 - "-bypass-link".len();
    let tail = id.map(|id| format!("-{id}")).unwrap_or_default();
    let mut keep = MAX.saturating_sub(tail.len()).min(acl_name.len());
    while !acl_name.is_char_boundary(keep) {
        keep -= 1;
    }
    format!("{}{tail}", &acl_name[..keep])
}

/// maint's rules for a web ACL, in priority order, at priorities below
/// the record's [`slots`](StateRecord::slots):
/// - the client address rule (Count, adding the part's label) when the
///   allowlist takes part and its address comes from a header;
/// - the bypass link rule (302 to `/` setting the bypass cookie) when the
///   bypass takes part;
/// - the maintenance rule: every request not let through gets the
///   maintenance response.
///
/// Each named as the record's part says ([`PartNames`]), metrics too.
///
/// A window injected with one slot has room for the last only: a bypass or
/// a header address there is refused (exit and enter again to get room).
pub(crate) fn rules(spec: &AclSpec<'_>, acl_name: &str) -> Result<Vec<Rule>> {
    let record = spec.record;
    let names = PartNames::of(record.part.as_deref());
    let metric_name = metric_base(acl_name, names.id());
    let metric_name = metric_name.as_str();
    let slots = record.slots();
    let mut rules = Vec::new();
    let header_ip = !is_connection(&record.client_ip) && allowlist_on(record);
    let link = bypass_on(record);
    if slots < SLOTS && (header_ip || link.is_some()) {
        return Err(Error::Conflict {
            resource: acl_name.to_string(),
            message: format!(
                "maint's window in web ACL {acl_name} was injected by an earlier maint, with \
                 room for one rule: a bypass or a client address from a header needs three; run \
                 `maint exit`, then `maint enter` again"
            ),
        });
    }
    if header_ip {
        let sets = record
            .sets()
            .map(|arn| ip_set_match(arn, &record.client_ip))
            .collect::<Result<Vec<_>>>()?;
        let count = RuleAction::builder()
            .count(CountAction::builder().build())
            .build();
        rules.push(built(
            "rule",
            Rule::builder()
                .name(names.client_ip_rule())
                .priority(slots - 3)
                .statement(any_of(sets)?)
                .action(count)
                .rule_labels(built(
                    "label",
                    Label::builder().name(names.label()).build(),
                )?)
                .visibility_config(visibility(&format!("{metric_name}-allowlisted"))?)
                .build(),
        )?);
    }
    if let Some(secret) = link {
        let path = FieldToMatch::builder()
            .uri_path(UriPath::builder().build())
            .build();
        let owned = secret.link_response_headers(record.until);
        let headers: Vec<(&str, &str)> = owned
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        // The link answers on the window's hosts only.
        let mut link_match = Vec::new();
        if !record.scope.hosts().is_empty() {
            link_match.push(host_is_one_of(record.scope.hosts())?);
        }
        link_match.push(exactly(path, &secret.link_path())?);
        rules.push(built(
            "rule",
            Rule::builder()
                .name(names.link_rule())
                .priority(slots - 2)
                .statement(all_of(link_match)?)
                .action(block_with(302, None, &headers)?)
                .visibility_config(visibility(&format!("{metric_name}-bypass-link"))?)
                .build(),
        )?);
    }
    let marker = format!("{}; rev={}", record.window, revision(spec)?);
    let headers: Vec<(&str, &str)> = spec
        .response
        .headers()
        .iter()
        .map(|h| (h.name(), h.value()))
        .chain([(MARKER_HEADER, marker.as_str())])
        .collect();
    let page_key = names.page_key();
    let action = block_with(spec.response.status().code(), Some(&page_key), &headers)?;
    rules.push(built(
        "rule",
        Rule::builder()
            .name(names.rule())
            .priority(slots - 1)
            .statement(blocked_requests(spec)?)
            .action(action)
            .visibility_config(visibility(&format!("{metric_name}-blocked"))?)
            .build(),
    )?);
    Ok(rules)
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
    let page_key = PartNames::of(spec.record.part.as_deref()).page_key();
    let mut all = HashMap::from([(page_key, page)]);
    for (key, content_type, content) in state_bodies(spec.record)? {
        let body = CustomResponseBody::builder()
            .content_type(content_type)
            .content(content)
            .build();
        all.insert(key, built("custom response body", body)?);
    }
    Ok(all)
}
