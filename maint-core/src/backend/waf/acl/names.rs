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
/// request not let through (the first part's name; see [`PartNames`]).
#[cfg(test)]
pub(crate) const RULE_NAME: &str = "maint-maintenance";
/// maint's rule that labels requests whose address from a proxy's header
/// is on the allowlist (only when the address comes from a header). A
/// rule of its own because WAF does not apply a forwarded-IP rule at all
/// to a request without the header: inside the maintenance rule, that
/// would let such a request through; here it only means no label.
#[cfg(test)]
pub(crate) const CLIENT_IP_RULE: &str = "maint-client-ip";
/// maint's rule that answers the bypass link with a redirect that sets the
/// bypass cookie.
#[cfg(test)]
pub(crate) const LINK_RULE: &str = "maint-bypass-link";
/// The label `maint-client-ip` adds and the maintenance rule lets through.
#[cfg(test)]
pub(crate) const ALLOWLISTED_LABEL: &str = "maint:allowlisted";
/// The priorities maint's rules take at the front of a web ACL: 0 for
/// the client address rule, 1 for the bypass link rule, 2 for the
/// maintenance rule. A window
/// injected before there were three rules holds one (its rule at 0).
pub(crate) const SLOTS: i32 = 3;

/// The 32-bit FNV-1a hash of `text`: stable across runs and platforms,
/// unlike std's hasher, for names and markers that must come out the same
/// every time.
pub(super) fn fnv1a(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// What each of maint's rules and bodies is, by the end of its name.
const RULE_ENDS: [&str; 3] = ["maintenance", "client-ip", "bypass-link"];

/// The names of one window's part of a web ACL: its three rules, its page
/// and state record bodies, and the label its client address rule adds.
///
/// A web ACL holds one part per window in it. The first part's names are
/// the ones maint always used (`maint-maintenance`, `maint-client-ip`,
/// `maint-bypass-link`, bodies `maint-page` and `maint-state`, label
/// `maint:allowlisted`), so every window written before parts reads as
/// one. A window that shares a web ACL with another (services scoped to
/// their hosts on one load balancer) takes names of its own,
/// `maint-<id>-maintenance`... with `<id>` = `p` and 8 hex digits of a
/// hash of its window's name: short enough for AWS WAF's 128 characters
/// whatever the window's name, and each part's label its own, so one
/// service's allowlist never lets anyone into another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PartNames {
    /// `None`: the first part's names.
    id: Option<String>,
}

impl PartNames {
    /// The names of `window`'s part when it shares a web ACL.
    pub(crate) fn sharing(window: &str) -> Self {
        Self {
            id: Some(format!("p{:08x}", fnv1a(window))),
        }
    }

    /// The names of a part whose record says `id` (see
    /// [`StateRecord::part`](super::StateRecord::part)).
    pub(crate) fn of(id: Option<&str>) -> Self {
        Self {
            id: id.map(str::to_string),
        }
    }

    /// The part's id: `None` for the first part.
    pub(crate) fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    fn name(&self, what: &str) -> String {
        match &self.id {
            None => format!("maint-{what}"),
            Some(id) => format!("maint-{id}-{what}"),
        }
    }

    /// The maintenance rule (`maint-maintenance` in the first part).
    pub(crate) fn rule(&self) -> String {
        self.name(RULE_ENDS[0])
    }

    /// The client address rule (`maint-client-ip` in the first part).
    pub(crate) fn client_ip_rule(&self) -> String {
        self.name(RULE_ENDS[1])
    }

    /// The bypass link rule (`maint-bypass-link` in the first part).
    pub(crate) fn link_rule(&self) -> String {
        self.name(RULE_ENDS[2])
    }

    /// The custom response body the maintenance rule sends.
    pub(crate) fn page_key(&self) -> String {
        self.name("page")
    }

    /// The custom response body that holds the window's
    /// [`StateRecord`](super::StateRecord). No rule sends it; it lives in
    /// the web ACL so that it changes atomically (under the same lock
    /// token) with the rule, and is returned by the same read. A record
    /// longer than one body may be
    /// ([`MAX_BODY_BYTES`](crate::response::MAX_BODY_BYTES)) goes on in
    /// `<key>-2`, `<key>-3`...
    pub(crate) fn state_key(&self) -> String {
        self.name("state")
    }

    /// The label the client address rule adds and the maintenance rule
    /// lets through.
    pub(crate) fn label(&self) -> String {
        match &self.id {
            None => "maint:allowlisted".to_string(),
            Some(id) => format!("maint:allowlisted:{id}"),
        }
    }

    /// Whether a rule of this name is this part's.
    pub(crate) fn is_rule(&self, name: &str) -> bool {
        split(name).is_some_and(|(id, what)| id == self.id() && RULE_ENDS.contains(&what))
    }

    /// Whether a custom response body of this key is this part's.
    pub(crate) fn is_body(&self, key: &str) -> bool {
        split(key).is_some_and(|(id, what)| id == self.id() && is_body_end(what))
    }

    /// The parts whose state records `bodies` hold: the first part's
    /// first, then the others by id.
    pub(crate) fn in_bodies<'a>(keys: impl Iterator<Item = &'a String>) -> Vec<Self> {
        let mut parts: Vec<Self> = keys
            .filter_map(|k| split(k))
            .filter(|(_, what)| *what == "state")
            .map(|(id, _)| Self::of(id))
            .collect();
        parts.sort_by(|a, b| a.id.cmp(&b.id));
        parts.dedup();
        parts
    }
}

/// A name of maint's split into its part's id (`None`: the first part's)
/// and what it names (`maintenance`, `page`, `state-2`...); `None` when
/// it is not a name of maint's form.
fn split(name: &str) -> Option<(Option<&str>, &str)> {
    let rest = name.strip_prefix("maint-")?;
    let id = rest.get(..9).filter(|id| {
        id.starts_with('p')
            && id[1..]
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    });
    match id {
        Some(id) if rest[9..].starts_with('-') => Some((Some(id), &rest[10..])),
        _ => Some((None, rest)),
    }
}

/// Whether a body's name ends as one of maint's: its page, its state
/// record or a piece of it (`state-2`...).
fn is_body_end(what: &str) -> bool {
    what == "page"
        || what == "state"
        || what
            .strip_prefix("state-")
            .is_some_and(|n| n.parse::<u16>().is_ok_and(|n| n >= 2))
}

/// Whether a rule of this name is one of maint's, of any part.
pub(crate) fn is_maint_rule(name: &str) -> bool {
    split(name).is_some_and(|(_, what)| RULE_ENDS.contains(&what))
}

/// Whether a custom response body of this key is one of maint's, of any
/// part.
#[cfg(test)]
pub(crate) fn is_maint_body(key: &str) -> bool {
    split(key).is_some_and(|(_, what)| is_body_end(what))
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
                "maint's state record names {arn:?}, which is not an AWS WAF IP set ARN"
            ))),
        }
    }
}

/// The name and id in an AWS WAF ARN of `kind` (`ipset`, `webacl`):
/// `arn:aws:wafv2:<region>:<account>:regional/<kind>/<name>/<id>`, or
/// `global/` for scope CLOUDFRONT.
pub(crate) fn name_and_id<'a>(arn: &'a str, kind: &str) -> Option<(&'a str, &'a str)> {
    let mut parts = arn.rsplitn(3, '/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(id), Some(name), Some(rest))
            if rest
                .strip_suffix(kind)
                .is_some_and(|r| r.ends_with(":regional/") || r.ends_with(":global/")) =>
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_parts_names_are_maints_names_as_they_always_were() {
        let first = PartNames::of(None);
        assert_eq!(first.rule(), RULE_NAME);
        assert_eq!(first.client_ip_rule(), CLIENT_IP_RULE);
        assert_eq!(first.link_rule(), LINK_RULE);
        assert_eq!(first.page_key(), "maint-page");
        assert_eq!(first.state_key(), "maint-state");
        assert_eq!(first.label(), ALLOWLISTED_LABEL);
    }

    #[test]
    fn a_sharing_part_has_names_of_its_own_that_no_other_part_claims() {
        let long = format!("maint-svc-{}", "s".repeat(96));
        let (shop, api) = (
            PartNames::sharing("maint-svc-shop"),
            PartNames::sharing(&long),
        );
        assert_ne!(shop, api);
        let id = shop.id().expect("an id").to_string();
        assert_eq!(shop.rule(), format!("maint-{id}-maintenance"));
        assert_eq!(shop.label(), format!("maint:allowlisted:{id}"));
        // Within AWS WAF's 128 characters whatever the window's name.
        assert!(api.client_ip_rule().len() <= 128);
        let first = PartNames::of(None);
        for names in [&first, &shop, &api] {
            for rule in [names.rule(), names.client_ip_rule(), names.link_rule()] {
                assert!(is_maint_rule(&rule), "{rule}");
                assert!(names.is_rule(&rule), "{rule}");
                for other in [&first, &shop, &api].into_iter().filter(|o| *o != names) {
                    assert!(!other.is_rule(&rule), "{rule}");
                }
            }
            for body in [
                names.page_key(),
                names.state_key(),
                format!("{}-2", names.state_key()),
            ] {
                assert!(is_maint_body(&body), "{body}");
                assert!(names.is_body(&body), "{body}");
                for other in [&first, &shop, &api].into_iter().filter(|o| *o != names) {
                    assert!(!other.is_body(&body), "{body}");
                }
            }
        }
        // Someone else's rules are nobody's part.
        for foreign in [
            "AWS-AWSManagedRulesCommonRuleSet",
            "maint",
            "maint-p1234-page",
        ] {
            assert!(!is_maint_rule(foreign), "{foreign}");
            assert!(
                !shop.is_rule(foreign) && !first.is_rule(foreign),
                "{foreign}"
            );
        }
    }

    #[test]
    fn the_parts_in_a_web_acls_bodies_are_found_first_part_first() {
        let shop = PartNames::sharing("maint-svc-shop");
        let keys: Vec<String> = vec![
            format!("{}-2", shop.state_key()),
            shop.page_key(),
            shop.state_key(),
            "maint-page".into(),
            "maint-state".into(),
            "team-page".into(),
        ];
        assert_eq!(
            PartNames::in_bodies(keys.iter()),
            vec![PartNames::of(None), shop]
        );
    }
}
