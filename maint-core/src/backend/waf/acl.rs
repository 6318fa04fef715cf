//! The shape of maint's web ACL, built from and read back into domain values.
//! Pure functions, no AWS calls: see the module doc of `waf` for the design.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_wafv2::types::{
    AllowAction, BlockAction, ByteMatchStatement, ComparisonOperator, CookieMatchPattern, Cookies,
    CountAction, CustomHttpHeader, CustomResponse, CustomResponseBody, DefaultAction,
    FallbackBehavior, FieldToMatch, ForwardedIpPosition, IpSetForwardedIpConfig,
    IpSetReferenceStatement, Label, LabelMatchScope, LabelMatchStatement, MapMatchScope,
    NotStatement, OrStatement, OversizeHandling, PositionalConstraint, ResponseContentType, Rule,
    RuleAction, SingleHeader, SizeConstraintStatement, Statement, Tag, TextTransformation,
    TextTransformationType, UriPath, VisibilityConfig, WebAcl,
};
use aws_smithy_types::error::operation::BuildError;
use aws_smithy_types::Blob;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::access::{
    BypassSecret, BypassState, ClientIp, ClientIpFallback, ClientIpPosition, BYPASS_COOKIE,
    BYPASS_HEADER, PROBE_HEADER,
};
use crate::allowlist::Family;
use crate::maintenance::Window;
use crate::response::{
    ContentType, MaintenanceResponse, ResponseBody, ResponseHeader, ResponseHeaders,
    ResponseStatus, MARKER_HEADER,
};
use crate::{Error, Result};

/// maint's maintenance rule: blocks with the maintenance response every
/// request not let through.
pub(crate) const RULE_NAME: &str = "maint-maintenance";
/// maint's rule that labels requests whose address from a proxy's header
/// is on the allowlist (only when the address comes from a header). A
/// rule of its own because WAF does not apply a forwarded-IP rule at all
/// to a request without the header: inside the maintenance rule, that
/// would let such a request through; here it only means no label.
pub(crate) const CLIENT_IP_RULE: &str = "maint-client-ip";
/// maint's rule that answers the bypass link with a redirect that sets the
/// bypass cookie.
pub(crate) const LINK_RULE: &str = "maint-bypass-link";
/// The label [`CLIENT_IP_RULE`] adds and the maintenance rule lets through.
pub(crate) const ALLOWLISTED_LABEL: &str = "maint:allowlisted";
/// The priorities maint's rules take at the front of a web ACL: 0 for
/// [`CLIENT_IP_RULE`], 1 for [`LINK_RULE`], 2 for [`RULE_NAME`]. A window
/// injected before there were three rules holds one (its rule at 0).
pub(crate) const SLOTS: i32 = 3;

/// Whether a rule of this name is one of maint's.
pub(crate) fn is_maint_rule(name: &str) -> bool {
    name == RULE_NAME || name == CLIENT_IP_RULE || name == LINK_RULE
}
/// The custom response body the rule sends.
pub(crate) const PAGE_KEY: &str = "maint-page";
/// The custom response body that holds the window's [`StateRecord`]. No rule
/// sends it; it lives in the web ACL so that it changes atomically (under
/// the same lock token) with the rule, and is returned by the same read.
/// A record longer than one body may be ([`MAX_BODY_BYTES`]) goes on in
/// `maint-state-2`, `maint-state-3`...
pub(crate) const STATE_KEY: &str = "maint-state";
/// The most one custom response body may hold: 4 KB (AWS WAF quotas; the
/// API's own limit, 10,240 characters, is looser).
pub(crate) const MAX_BODY_BYTES: usize = 4096;

/// Whether a custom response body of this key is one of maint's.
pub(crate) fn is_maint_body(key: &str) -> bool {
    key == PAGE_KEY
        || key == STATE_KEY
        || key
            .strip_prefix(STATE_KEY)
            .and_then(|rest| rest.strip_prefix('-'))
            .is_some_and(|n| n.parse::<u16>().is_ok_and(|n| n >= 2))
}
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
    /// The bypass secret, if the window has one (it is in the rules too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bypass: Option<String>,
    /// Whether the bypass lets requests through.
    #[serde(default = "on")]
    pub bypass_enabled: bool,
    /// Where the allowlist finds a request's address.
    #[serde(default, skip_serializing_if = "is_connection")]
    pub client_ip: ClientIp,
    /// Read only: in a record written compact (a window of many load
    /// balancers), the common prefix of the members' ARNs, which the
    /// members are written without.
    #[serde(default, skip_serializing)]
    pub member_prefix: Option<String>,
}

fn on() -> bool {
    true
}

fn is_connection(c: &ClientIp) -> bool {
    *c == ClientIp::Connection
}

fn one() -> i32 {
    1
}

/// What maint did to a service's own web ACL beyond adding its rule and
/// bodies: the priorities it shifted to put its rule first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Injection {
    /// Rule name -> its priority before maint shifted it up by one.
    #[serde(default)]
    pub renumbered: BTreeMap<String, i32>,
    /// How many priorities maint's rules hold at the front (the shift):
    /// [`SLOTS`]; 1 in windows injected before there were three rules.
    #[serde(default = "one")]
    pub slots: i32,
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

    /// The window's bypass, as recorded. A secret that no longer parses
    /// (edited by hand) counts as none.
    pub fn bypass_state(&self) -> Option<BypassState> {
        let secret = BypassSecret::new(self.bypass.as_deref()?).ok()?;
        Some(BypassState {
            secret,
            enabled: self.bypass_enabled,
        })
    }

    /// Records the bypass and the client address source `spec` asks for
    /// (a spec from [`reentry_spec`](crate::maintenance::reentry_spec) or
    /// a new window's).
    pub fn set_access(&mut self, spec: &crate::maintenance::MaintenanceSpec) {
        let bypass = spec.bypass_state(self.bypass_state().as_ref());
        self.bypass = bypass.as_ref().map(|b| b.secret.expose().to_string());
        self.bypass_enabled = bypass.is_none_or(|b| b.enabled);
        self.client_ip = spec.client_ip.clone();
    }

    /// The priorities maint's rules hold at the front of the web ACL.
    pub fn slots(&self) -> i32 {
        self.injected.as_ref().map_or(SLOTS, |i| i.slots)
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

fn not(statement: Statement) -> Statement {
    Statement::builder()
        .not_statement(NotStatement::builder().statement(statement).build())
        .build()
}

/// An exact, case-sensitive match of `value` against `field`.
fn exactly(field: FieldToMatch, value: &str) -> Result<Statement> {
    Ok(Statement::builder()
        .byte_match_statement(built(
            "byte match",
            ByteMatchStatement::builder()
                .search_string(Blob::new(value.as_bytes()))
                .field_to_match(field)
                .text_transformations(no_transformation()?)
                .positional_constraint(PositionalConstraint::Exactly)
                .build(),
        )?)
        .build())
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
fn allowlist_on(record: &StateRecord) -> bool {
    record.active && record.allowlist_enabled && record.sets().next().is_some()
}

/// The bypass that takes part, if any.
fn bypass_on(record: &StateRecord) -> Option<BypassSecret> {
    record
        .bypass_state()
        .filter(|b| record.active && b.enabled)
        .map(|b| b.secret)
}

/// "Not let through": NOT(an allowlisted address, or the label the client
/// address rule gives one, or the bypass header or cookie) when any of
/// them is on, otherwise every request; nothing while the window is in
/// pass-through form.
fn blocked_requests(spec: &AclSpec<'_>) -> Result<Statement> {
    let record = spec.record;
    if !record.active {
        return match_none();
    }
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
                            .key(ALLOWLISTED_LABEL)
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
    // FNV-1a: stable across runs and platforms, unlike std's hasher.
    let hash = text.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    Ok(format!("{hash:08x}"))
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

/// maint's rules for a web ACL, in priority order, at priorities below
/// the record's [`slots`](StateRecord::slots):
/// - [`CLIENT_IP_RULE`] (Count, adding [`ALLOWLISTED_LABEL`]) when the
///   allowlist takes part and its address comes from a header;
/// - [`LINK_RULE`] (302 to `/` setting the bypass cookie) when the bypass
///   takes part;
/// - [`RULE_NAME`]: every request not let through gets the maintenance
///   response.
///
/// A window injected with one slot has room for the last only: a bypass or
/// a header address there is refused (exit and enter again to get room).
pub(crate) fn rules(spec: &AclSpec<'_>, metric_name: &str) -> Result<Vec<Rule>> {
    let record = spec.record;
    let slots = record.slots();
    let mut rules = Vec::new();
    let header_ip = !is_connection(&record.client_ip) && allowlist_on(record);
    let link = bypass_on(record);
    if slots < SLOTS && (header_ip || link.is_some()) {
        return Err(Error::Conflict {
            resource: metric_name.to_string(),
            message: format!(
                "maint's window in web ACL {metric_name} was injected by an earlier maint, with \
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
                .name(CLIENT_IP_RULE)
                .priority(slots - 3)
                .statement(any_of(sets)?)
                .action(count)
                .rule_labels(built(
                    "label",
                    Label::builder().name(ALLOWLISTED_LABEL).build(),
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
        rules.push(built(
            "rule",
            Rule::builder()
                .name(LINK_RULE)
                .priority(slots - 2)
                .statement(exactly(path, &secret.link_path())?)
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
    let action = block_with(spec.response.status().code(), Some(PAGE_KEY), &headers)?;
    rules.push(built(
        "rule",
        Rule::builder()
            .name(RULE_NAME)
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
    let mut all = HashMap::from([(PAGE_KEY.to_string(), page)]);
    for (key, content_type, content) in state_bodies(spec.record)? {
        let body = CustomResponseBody::builder()
            .content_type(content_type)
            .content(content)
            .build();
        all.insert(key, built("custom response body", body)?);
    }
    Ok(all)
}

/// The state record as custom response bodies of at most
/// [`MAX_BODY_BYTES`] each: one JSON body as it always was when it fits;
/// else with the members' common ARN prefix written once
/// (`member_prefix`), and, when that is still too long (a window of
/// dozens of load balancers), cut into `maint-state`, `maint-state-2`...
/// (plain text: a piece is not JSON on its own), read back joined.
fn state_bodies(record: &StateRecord) -> Result<Vec<(String, ResponseContentType, String)>> {
    let full = encode(record)?;
    if full.len() <= MAX_BODY_BYTES {
        return Ok(vec![(
            STATE_KEY.to_string(),
            ResponseContentType::ApplicationJson,
            full,
        )]);
    }
    let text = encode(&CompactRecord::of(record))?;
    let mut pieces = Vec::new();
    let mut rest = text.as_str();
    while !rest.is_empty() {
        let mut end = rest.len().min(MAX_BODY_BYTES);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        let (piece, tail) = rest.split_at(end);
        let key = match pieces.len() {
            0 => STATE_KEY.to_string(),
            n => format!("{STATE_KEY}-{}", n + 1),
        };
        pieces.push((key, ResponseContentType::TextPlain, piece.to_string()));
        rest = tail;
    }
    Ok(pieces)
}

/// The state record's text, from its body or its pieces, in order.
fn state_text(bodies: &HashMap<String, CustomResponseBody>) -> Option<String> {
    let mut text = bodies.get(STATE_KEY)?.content().to_string();
    for n in 2.. {
        match bodies.get(&format!("{STATE_KEY}-{n}")) {
            Some(piece) => text.push_str(piece.content()),
            None => break,
        }
    }
    Some(text)
}

fn encode<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::Unexpected {
        message: "could not encode maint's state record".into(),
        source: Some(std::sync::Arc::new(e)),
    })
}

/// A record written with its members' common prefix once.
#[derive(Serialize)]
struct CompactRecord {
    #[serde(flatten)]
    record: StateRecord,
    member_prefix: String,
}

impl CompactRecord {
    fn of(record: &StateRecord) -> Self {
        // Every member of a window is in one account and Region: their ARNs
        // share everything up to `loadbalancer/`.
        let prefix = record
            .members
            .first()
            .and_then(|m| {
                m.find("loadbalancer/")
                    .map(|i| &m[..i + "loadbalancer/".len()])
            })
            .filter(|p| record.members.iter().all(|m| m.starts_with(p)))
            .unwrap_or_default()
            .to_string();
        let mut compact = record.clone();
        for m in &mut compact.members {
            *m = m[prefix.len()..].to_string();
        }
        CompactRecord {
            record: compact,
            member_prefix: prefix,
        }
    }
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
    /// The revision in the maintenance rule's marker header (see
    /// [`revision`]); `None` in rules written before markers.
    pub revision: Option<String>,
    /// What of maint's rule was changed outside maint (set to Count in the
    /// console, its statement or response edited, removed from maint's own
    /// web ACL), when it was: the window is damaged. `status` reports it as
    /// an error; `enter` writes maint's rule again from the record, `exit`
    /// ends the window; `response` is then what could be recovered (the
    /// page body, else maint's default).
    pub damage: Option<&'static str>,
}

impl ReadAcl {
    /// Whether this is a window injected into a service's own web ACL.
    pub fn injected(&self) -> bool {
        self.record.injected.is_some()
    }

    /// The error `status` reports for a damaged window in `acl`, with how
    /// to recover it; `None` when the window is whole.
    pub fn damage_error(&self, acl: &WebAcl) -> Option<Error> {
        let what = self.damage?;
        let fix = if self.injected() {
            "run `maint enter` again to restore maint's rule, or `maint exit` to remove \
             maint's part of it"
        } else {
            "run `maint enter` again to restore it, or `maint exit` to end the window"
        };
        Some(Error::unexpected(format!(
            "web ACL {} holds maint's window {} but its {what} was changed outside maint; {fix}",
            acl.name(),
            self.record.window
        )))
    }
}

/// Reads a web ACL as a window of maint's. `None` when it is not one (a name
/// not of maint's, no state record, or a record naming another window):
/// such an ACL is never touched. A service's own web ACL holding a record
/// of an injected window reads as that window. A record written before
/// windows (one load balancer) reads as a window of one.
pub(crate) fn read_acl(acl: &WebAcl) -> Result<Option<ReadAcl>> {
    let bodies = acl.custom_response_bodies();
    let Some(state) = bodies.and_then(state_text) else {
        return Ok(None);
    };
    let Ok(mut record) = serde_json::from_str::<StateRecord>(&state) else {
        return Ok(None);
    };
    if let Some(prefix) = record.member_prefix.take() {
        for m in &mut record.members {
            m.insert_str(0, &prefix);
        }
    }
    let own = acl.name().starts_with("maint-") && record.injected.is_none();
    if own && record.window.is_empty() {
        record.window = acl.name().to_string();
    }
    if let Some(lb) = record.load_balancer.take() {
        if !record.members.contains(&lb) {
            record.members.push(lb);
        }
    }
    // maint injects only into a service's own web ACL, never into one
    // named like maint's: a record saying "injected" in a web ACL named
    // `maint-...` is a copy (or a forgery), not a window maint can trust.
    let named_right = if own {
        record.window == acl.name()
    } else {
        record.injected.is_some()
            && record.window.starts_with("maint-")
            && !acl.name().starts_with("maint-")
    };
    if record.managed_by != MANAGED_BY || !named_right {
        return Ok(None);
    }
    let Some(rule) = acl.rules().iter().find(|r| r.name() == RULE_NAME) else {
        return Ok(Some(ReadAcl {
            record,
            response: recovered_response(bodies),
            rule_present: false,
            revision: None,
            // In a service's own web ACL a missing rule is a reverted
            // window (an IaC apply); in maint's own, damage.
            damage: own.then_some("maintenance rule"),
        }));
    };
    Ok(Some(match read_rule(rule, bodies, &record) {
        Ok((response, revision)) => ReadAcl {
            record,
            response,
            rule_present: true,
            revision,
            damage: None,
        },
        Err(what) => ReadAcl {
            record,
            response: recovered_response(bodies),
            rule_present: true,
            revision: None,
            damage: Some(what),
        },
    }))
}

/// The response of a damaged window: its page, as maint last wrote it,
/// with maint's default status and headers; maint's default response when
/// the page cannot be read either.
fn recovered_response(bodies: Option<&HashMap<String, CustomResponseBody>>) -> MaintenanceResponse {
    bodies
        .and_then(|b| b.get(PAGE_KEY))
        .and_then(|page| {
            let content_type = ContentType::from_waf_name(page.content_type().as_str())?;
            ResponseBody::new(content_type, page.content().to_string()).ok()
        })
        .and_then(|body| {
            let content_type = body.content_type();
            MaintenanceResponse::build(None, None, Some(body), content_type, Vec::new()).ok()
        })
        .unwrap_or_default()
}

/// maint's rule as maint writes it for `record`: its response and the
/// revision in its marker; else what of it was changed outside maint.
fn read_rule(
    rule: &Rule,
    bodies: Option<&HashMap<String, CustomResponseBody>>,
    record: &StateRecord,
) -> std::result::Result<(MaintenanceResponse, Option<String>), &'static str> {
    let custom = rule
        .action()
        .and_then(|a| a.block())
        .and_then(|b| b.custom_response())
        .ok_or("rule action")?;
    let status = u16::try_from(custom.response_code())
        .ok()
        .and_then(|c| ResponseStatus::new(c).ok())
        .ok_or("response status")?;
    let page = custom
        .custom_response_body_key()
        .and_then(|key| bodies.and_then(|b| b.get(key)))
        .ok_or("response body")?;
    let content_type =
        ContentType::from_waf_name(page.content_type().as_str()).ok_or("response content type")?;
    let body =
        ResponseBody::new(content_type, page.content().to_string()).map_err(|_| "response body")?;
    let is_marker = |h: &&CustomHttpHeader| h.name().eq_ignore_ascii_case(MARKER_HEADER);
    let revision = custom
        .response_headers()
        .iter()
        .find(is_marker)
        .and_then(|h| h.value().rsplit_once("rev="))
        .map(|(_, rev)| rev.to_string());
    let headers = custom
        .response_headers()
        .iter()
        .filter(|h| !is_marker(h))
        .map(|h| ResponseHeader::new(h.name(), h.value()))
        .collect::<std::result::Result<Vec<_>, _>>()
        .and_then(ResponseHeaders::new)
        .map_err(|_| "response headers")?;
    // The statement's shape must agree with the record: pass-through
    // NOT(match all), letting requests through OR(probe, NOT(...)) (or,
    // written before probes, NOT(...)), else all.
    let top = rule.statement();
    let negated = top.and_then(|s| {
        s.not_statement().or_else(|| {
            s.or_statement()
                .and_then(|o| o.statements().last())
                .and_then(|last| last.not_statement())
        })
    });
    let inner = negated.and_then(|n| n.statement());
    let passes_all = inner.is_some_and(|s| s.size_constraint_statement().is_some());
    let lets_through = inner.is_some() && !passes_all;
    let should_let_through = allowlist_on(record) || bypass_on(record).is_some();
    if passes_all == record.active || lets_through != should_let_through {
        return Err("rule statement");
    }
    Ok((
        MaintenanceResponse::from_parts(status, body, headers),
        revision,
    ))
}

/// WAF's limits on one web ACL that maint's additions must fit in.
pub(crate) const MAX_WCU: i64 = 5_000;
/// IP sets, regex pattern sets and rule groups one web ACL may reference.
pub(crate) const MAX_REFERENCES: usize = 50;
/// Custom response bodies in one web ACL.
pub(crate) const MAX_BODIES: usize = 50;
/// Custom response headers in one web ACL.
pub(crate) const MAX_HEADERS: usize = 100;

/// Which rules of a service's own web ACL must move up by `slots` for
/// maint's rules to go first, at priorities 0 to `slots - 1`: the rules
/// below the first run of `slots` free priorities (none when 0 to
/// `slots - 1` are free). Rule name -> priority now.
pub(crate) fn first_place(acl: &WebAcl, slots: i32) -> BTreeMap<String, i32> {
    let rules: Vec<&Rule> = acl
        .rules()
        .iter()
        .filter(|r| !is_maint_rule(r.name()))
        .collect();
    let taken = |p: i32| rules.iter().any(|r| r.priority() == p);
    // Shifted by `slots`, the rules below `run` land on priorities below
    // `run + slots`, which the others (all at `run + slots` or above) leave
    // free.
    let mut run = 0;
    while (run..run + slots).any(taken) {
        run += 1;
    }
    rules
        .iter()
        .filter(|r| r.priority() < run)
        .map(|r| (r.name().to_string(), r.priority()))
        .collect()
}

/// The rules and bodies of `acl` with maint's rule and bodies from `spec`
/// in place of any maint put there before: maint's rules first (see
/// [`rules`]), every other rule and body as it is, except that when
/// maint's rule is not there yet, the rules the record's injection says to
/// shift (see [`first_place`]) move up by its slots.
pub(crate) fn compose(
    acl: &WebAcl,
    spec: &AclSpec<'_>,
) -> Result<(Vec<Rule>, HashMap<String, CustomResponseBody>)> {
    let present = acl.rules().iter().any(|r| r.name() == RULE_NAME);
    let slots = spec.record.slots();
    let mut rules: Vec<Rule> = acl
        .rules()
        .iter()
        .filter(|r| !is_maint_rule(r.name()))
        .cloned()
        .collect();
    if let (false, Some(injection)) = (present, &spec.record.injected) {
        for rule in &mut rules {
            if injection.renumbered.get(rule.name()) == Some(&rule.priority()) {
                rule.priority += slots;
            }
        }
    }
    if let Some(r) = rules.iter().find(|r| r.priority() < slots) {
        return Err(Error::Conflict {
            resource: acl.arn().to_string(),
            message: format!(
                "rule {} of web ACL {} took priority {}, where maint's rules go",
                r.name(),
                acl.name(),
                r.priority()
            ),
        });
    }
    let mut mine = self::rules(spec, acl.name())?;
    mine.append(&mut rules);
    let rules = mine;
    let mut all = foreign_bodies(acl);
    all.extend(bodies(spec)?);
    Ok((rules, all))
}

/// The custom response bodies of `acl` that are not maint's.
fn foreign_bodies(acl: &WebAcl) -> HashMap<String, CustomResponseBody> {
    acl.custom_response_bodies()
        .map(|b| {
            b.iter()
                .filter(|(k, _)| !is_maint_body(k))
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
        .filter(|r| !is_maint_rule(r.name()))
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
        if rules[i].priority() == old + injection.slots && free {
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
    if let Some(r) = acl.rules().iter().find(|r| is_maint_rule(r.name())) {
        return Some(format!(
            "web ACL {name} already has a rule named {} that maint did not record",
            r.name()
        ));
    }
    if let Some(b) = acl.custom_response_bodies() {
        if let Some(key) = b.keys().find(|k| is_maint_body(k)) {
            return Some(format!(
                "web ACL {name} already has a custom response body named {key}"
            ));
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
    let mut count = 0;
    each_statement(s, &mut |s| {
        count += usize::from(s.ip_set_reference_statement().is_some())
            + usize::from(s.regex_pattern_set_reference_statement().is_some())
            + usize::from(s.rule_group_reference_statement().is_some());
    });
    count
}

/// Calls `visit` with `s` and with every statement nested in it: in AND,
/// OR and NOT statements, and the scope-down statements of rate-based and
/// managed rule group statements.
pub(super) fn each_statement<'a>(s: &'a Statement, visit: &mut impl FnMut(&'a Statement)) {
    visit(s);
    let nested = s
        .and_statement()
        .map(|a| a.statements())
        .into_iter()
        .chain(s.or_statement().map(|o| o.statements()))
        .flatten()
        .chain(s.not_statement().and_then(|n| n.statement()))
        .chain(
            s.rate_based_statement()
                .and_then(|r| r.scope_down_statement()),
        )
        .chain(
            s.managed_rule_group_statement()
                .and_then(|m| m.scope_down_statement()),
        );
    for inner in nested {
        each_statement(inner, visit);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use aws_sdk_wafv2::types::WebAcl;

    const LB: &str =
        "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/shop/0123456789abcdef";

    /// What the maintenance rule lets through: X in OR(probe, NOT(X)).
    pub(super) fn let_through(s: &Statement) -> &Statement {
        let or = s.or_statement().expect("OR(probe, NOT(let through))");
        or.statements()[1]
            .not_statement()
            .and_then(|n| n.statement())
            .expect("NOT(let through)")
    }

    pub(super) fn record(sets: &[&str]) -> StateRecord {
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
            bypass: None,
            bypass_enabled: true,
            client_ip: ClientIp::Connection,
            member_prefix: None,
        }
    }

    pub(super) fn acl(spec: &AclSpec<'_>, name: &str) -> WebAcl {
        let mut b = WebAcl::builder()
            .name(name)
            .id("id")
            .arn("arn")
            .default_action(default_action())
            .set_rules(Some(rules(spec, "m").unwrap()))
            .visibility_config(visibility("m").unwrap());
        for (k, v) in bodies(spec).unwrap() {
            b = b.custom_response_bodies(k, v);
        }
        b.build().unwrap()
    }

    pub(super) const V4: &str =
        "arn:aws:wafv2:eu-west-1:123456789012:regional/ipset/maint-shop-0123456789abcdef-ipv4/aaaa";
    pub(super) const V6: &str =
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
        let inner = let_through(&s);
        assert_eq!(inner.or_statement().unwrap().statements().len(), 2);
        // A probe of the window gets the page whatever its address.
        let probe = s.or_statement().unwrap().statements()[0]
            .byte_match_statement()
            .unwrap();
        assert_eq!(probe.search_string().as_ref(), rec.window.as_bytes());
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
            renumbered: first_place(acl, SLOTS),
            slots: SLOTS,
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
            first_place(&acl, SLOTS),
            BTreeMap::from([("managed".to_string(), 0), ("rate".to_string(), 1)]),
            "only the rules below the first three free priorities move"
        );
        assert_eq!(
            first_place(&acl, 1),
            BTreeMap::from([("managed".to_string(), 0), ("rate".to_string(), 1)]),
        );
        let gap_of_two = host(&[("a", 0), ("b", 3), ("c", 4), ("d", 8)]);
        assert_eq!(
            first_place(&gap_of_two, SLOTS),
            BTreeMap::from([
                ("a".to_string(), 0),
                ("b".to_string(), 3),
                ("c".to_string(), 4)
            ]),
            "a gap of two is too small for three rules"
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
                ("maint-maintenance".to_string(), 2),
                ("managed".to_string(), 3),
                ("rate".to_string(), 4),
                ("geo".to_string(), 5),
                ("Shield".to_string(), 10_000_000)
            ]
        );
        assert_eq!(bodies.len(), 3, "its own body and maint's two");
        assert!(will_not_fit(&acl, &rules, &bodies).is_none());
        let during = with_rules(&acl, rules, bodies);
        let read = read_acl(&during).unwrap().expect("the injected window");
        assert!(read.injected() && read.rule_present);
        // The same rules and record in a web ACL named like a window of
        // maint's (a copy): not trusted, so never changed or emptied.
        let mut copy = during.clone();
        copy.name = "maint-svc-z".into();
        assert!(read_acl(&copy).unwrap().is_none());
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
        let mut extra = host(&[("new", 6)]).rules().to_vec();
        rules.append(&mut extra);
        let during = with_rules(&acl, rules, bodies);
        let (rules, _) = restore(&during, rec.injected.as_ref().unwrap());
        assert_eq!(
            priorities(&rules),
            [
                ("managed".to_string(), 0),
                ("new".to_string(), 6),
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod access_tests {
    use super::tests::{acl, let_through, record, V4, V6};
    use super::*;

    #[test]
    fn a_bypass_adds_its_header_and_cookie_and_a_link_rule_before_the_page() {
        let response = MaintenanceResponse::default();
        let mut rec = record(&[V4]);
        rec.bypass = Some(BypassSecret::random().expose().to_string());
        rec.until = Some(Utc::now() + chrono::Duration::hours(2));
        let spec = AclSpec {
            record: &rec,
            response: &response,
        };
        let rules = rules(&spec, "m").unwrap();
        let names: Vec<(&str, i32)> = rules.iter().map(|r| (r.name(), r.priority())).collect();
        assert_eq!(names, [(LINK_RULE, 1), (RULE_NAME, 2)]);
        let link = rules[0].action().unwrap().block().unwrap();
        let custom = link.custom_response().unwrap();
        assert_eq!(custom.response_code(), 302);
        let cookie = custom
            .response_headers()
            .iter()
            .find(|h| h.name() == "Set-Cookie")
            .unwrap()
            .value();
        assert!(cookie.starts_with(&format!(
            "maint_bypass={}; Path=/; Expires=",
            rec.bypass.as_deref().unwrap()
        )));
        assert!(
            cookie.ends_with("GMT; Secure; HttpOnly; SameSite=Lax"),
            "{cookie}"
        );
        assert!(cookie.len() <= 255, "AWS's limit on a header value");
        let or = let_through(rules[1].statement().unwrap())
            .or_statement()
            .unwrap();
        assert_eq!(
            or.statements().len(),
            3,
            "the IP set, the header, the cookie"
        );
        let read = read_acl(&acl(&spec, "maint-shop-0123456789abcdef"))
            .unwrap()
            .unwrap();
        assert_eq!(read.record, rec);
        // A disabled bypass takes no part: no link, nothing let through.
        rec.bypass_enabled = false;
        rec.allowlist_enabled = false;
        let spec = AclSpec {
            record: &rec,
            response: &response,
        };
        let rules = self::rules(&spec, "m").unwrap();
        assert_eq!(rules.len(), 1);
        assert!(rules[0]
            .statement()
            .unwrap()
            .size_constraint_statement()
            .is_some());
    }

    #[test]
    fn a_client_address_from_a_header_is_labelled_by_a_count_rule_of_its_own() {
        let response = MaintenanceResponse::default();
        let mut rec = record(&[V4, V6]);
        rec.client_ip = ClientIp::header(
            "X-Forwarded-For",
            ClientIpPosition::Last,
            ClientIpFallback::NoMatch,
        )
        .unwrap();
        let spec = AclSpec {
            record: &rec,
            response: &response,
        };
        let rules = rules(&spec, "m").unwrap();
        assert_eq!(rules[0].name(), CLIENT_IP_RULE);
        assert_eq!(rules[0].priority(), 0);
        assert!(rules[0].action().unwrap().count().is_some());
        assert_eq!(rules[0].rule_labels()[0].name(), ALLOWLISTED_LABEL);
        let sets = rules[0]
            .statement()
            .unwrap()
            .or_statement()
            .unwrap()
            .statements();
        let fwd = sets[0]
            .ip_set_reference_statement()
            .unwrap()
            .ip_set_forwarded_ip_config()
            .unwrap();
        assert_eq!(fwd.header_name(), "X-Forwarded-For");
        assert_eq!(fwd.position(), &ForwardedIpPosition::Last);
        assert_eq!(fwd.fallback_behavior(), &FallbackBehavior::NoMatch);
        let inner = let_through(rules[1].statement().unwrap());
        assert_eq!(
            inner.label_match_statement().unwrap().key(),
            ALLOWLISTED_LABEL
        );
        let read = read_acl(&acl(&spec, "maint-shop-0123456789abcdef"))
            .unwrap()
            .unwrap();
        assert_eq!(read.record, rec);
    }

    #[test]
    fn a_window_injected_with_one_slot_refuses_what_needs_three() {
        let response = MaintenanceResponse::default();
        let mut rec = record(&[V4]);
        rec.injected = Some(Injection {
            renumbered: BTreeMap::new(),
            slots: 1,
        });
        let spec = AclSpec {
            record: &rec,
            response: &response,
        };
        let only = rules(&spec, "security").unwrap();
        assert_eq!((only[0].name(), only[0].priority()), (RULE_NAME, 0));
        rec.bypass = Some(BypassSecret::random().expose().to_string());
        let spec = AclSpec {
            record: &rec,
            response: &response,
        };
        let err = rules(&spec, "security").unwrap_err();
        assert!(err.to_string().contains("maint exit"), "{err}");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod state_body_tests {
    use super::tests::{acl, record};
    use super::*;

    fn members(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| {
                format!(
                    "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/\
                     shop-frontend-production-{i:07}/{i:016x}"
                )
            })
            .collect()
    }

    #[test]
    fn a_small_record_is_one_json_body_as_before() {
        let mut rec = record(&[]);
        rec.members = members(20);
        let bodies = state_bodies(&rec).unwrap();
        assert_eq!(bodies.len(), 1);
        assert_eq!(bodies[0].1, ResponseContentType::ApplicationJson);
        assert!(!bodies[0].2.contains("member_prefix"));
    }

    #[test]
    fn a_window_of_a_hundred_load_balancers_fits_wafs_body_limit_and_reads_back() {
        let response = MaintenanceResponse::default();
        for n in [40, 60, 100] {
            let mut rec = record(&[]);
            rec.members = members(n);
            rec.bypass = Some(crate::access::BypassSecret::random().expose().to_string());
            let pieces = state_bodies(&rec).unwrap();
            for (key, _, content) in &pieces {
                assert!(content.len() <= MAX_BODY_BYTES, "{key}: {}", content.len());
                assert!(is_maint_body(key), "{key}");
            }
            let spec = AclSpec {
                record: &rec,
                response: &response,
            };
            let read = read_acl(&acl(&spec, "maint-shop-0123456789abcdef"))
                .unwrap()
                .expect("ours");
            assert_eq!(read.record, rec, "{n} members");
        }
        let mut rec = record(&[]);
        rec.members = members(100);
        assert!(state_bodies(&rec).unwrap().len() >= 2, "cut into pieces");
    }

    #[test]
    fn maints_bodies_are_told_from_others() {
        for key in [
            "maint-page",
            "maint-state",
            "maint-state-2",
            "maint-state-17",
        ] {
            assert!(is_maint_body(key), "{key}");
        }
        for key in [
            "maint-state-1",
            "maint-state-x",
            "maint-statey",
            "blocked",
            "maint-pages",
        ] {
            assert!(!is_maint_body(key), "{key}");
        }
    }
}
