//! The names maint gives its rules, bodies, tags and IP sets, and the
//! tags every resource of maint's carries: how maint tells its own from
//! everyone else's.

use aws_sdk_wafv2::types::Tag;
use chrono::Utc;

use super::rules::built;
use crate::allowlist::Family;
use crate::maintenance::Window;
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
/// A record longer than one body may be
/// ([`MAX_BODY_BYTES`](crate::response::MAX_BODY_BYTES)) goes on in
/// `maint-state-2`, `maint-state-3`...
pub(crate) const STATE_KEY: &str = "maint-state";

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
        match name_and_id(arn, "ipset") {
            Some((name, id)) => Ok(Self {
                name: name.to_string(),
                id: id.to_string(),
                arn: arn.to_string(),
            }),
            None => Err(Error::unexpected(format!(
                "maint's state record names {arn:?}, which is not a regional IP set ARN"
            ))),
        }
    }
}

/// The name and id in a regional AWS WAF ARN of `kind` (`ipset`,
/// `webacl`): `arn:aws:wafv2:<region>:<account>:regional/<kind>/<name>/<id>`.
pub(crate) fn name_and_id<'a>(arn: &'a str, kind: &str) -> Option<(&'a str, &'a str)> {
    let mut parts = arn.rsplitn(3, '/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(id), Some(name), Some(rest))
            if rest
                .strip_suffix(kind)
                .is_some_and(|r| r.ends_with(":regional/")) =>
        {
            Some((name, id))
        }
        _ => None,
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
