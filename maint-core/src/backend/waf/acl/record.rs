//! The state record a window keeps inside its web ACL ([`StateRecord`]),
//! and its codec: one JSON custom response body, or (for a window of
//! dozens of load balancers) a compact form cut into several bodies of at
//! most [`MAX_BODY_BYTES`] each, read back joined.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_wafv2::types::{CustomResponseBody, ResponseContentType};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::names::{PartNames, SLOTS};
use crate::access::{BypassSecret, BypassState, ClientIp};
use crate::allowlist::Family;
use crate::response::MAX_BODY_BYTES;
use crate::scope::Scope;
use crate::{Error, Result};

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
    /// The hosts and paths the window covers, and the paths always open
    /// (absent: everything, none open).
    #[serde(default, skip_serializing_if = "Scope::is_everything")]
    pub scope: Scope,
    /// Which part of the web ACL the window is (see [`PartNames`]): `None`
    /// for the first part, with maint's names as they always were; an id
    /// for a window that shares the web ACL with another, whose rules and
    /// bodies carry it in their names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part: Option<String>,
    /// Read only: in a record written compact (a window of many load
    /// balancers), the common prefix of the members' ARNs, which the
    /// members are written without.
    #[serde(default, skip_serializing)]
    pub member_prefix: Option<String>,
}

fn on() -> bool {
    true
}

pub(super) fn is_connection(c: &ClientIp) -> bool {
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
    /// (a spec from [`reentry_spec`](crate::plan::reentry_spec) or
    /// a new window's).
    pub fn set_access(&mut self, spec: &crate::maintenance::MaintenanceSpec) {
        let bypass = spec.bypass_state(self.bypass_state().as_ref());
        self.bypass = bypass.as_ref().map(|b| b.secret.expose().to_string());
        self.bypass_enabled = bypass.is_none_or(|b| b.enabled);
        self.client_ip = spec.client_ip.clone();
        self.scope = spec.scope.clone();
    }

    /// The priorities maint's rules hold at the front of the web ACL.
    pub fn slots(&self) -> i32 {
        self.injected.as_ref().map_or(SLOTS, |i| i.slots)
    }

    pub(super) fn sets(&self) -> impl Iterator<Item = &str> {
        self.ipv4_set
            .iter()
            .chain(self.ipv6_set.iter())
            .map(String::as_str)
    }
}

/// The state record as custom response bodies of at most
/// [`MAX_BODY_BYTES`] each: one JSON body as it always was when it fits;
/// else with the members' common ARN prefix written once
/// (`member_prefix`), and, when that is still too long (a window of
/// dozens of load balancers), cut into `maint-state`, `maint-state-2`...
/// (plain text: a piece is not JSON on its own), read back joined.
pub(super) fn state_bodies(
    record: &StateRecord,
) -> Result<Vec<(String, ResponseContentType, String)>> {
    let state_key = PartNames::of(record.part.as_deref()).state_key();
    let full = encode(record)?;
    if full.len() <= MAX_BODY_BYTES {
        return Ok(vec![(
            state_key,
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
            0 => state_key.clone(),
            n => format!("{state_key}-{}", n + 1),
        };
        pieces.push((key, ResponseContentType::TextPlain, piece.to_string()));
        rest = tail;
    }
    Ok(pieces)
}

/// The text of the state record of the part `names`, from its body or
/// its pieces, in order.
pub(super) fn state_text(
    bodies: &HashMap<String, CustomResponseBody>,
    names: &PartNames,
) -> Option<String> {
    let key = names.state_key();
    let mut text = bodies.get(&key)?.content().to_string();
    for n in 2.. {
        match bodies.get(&format!("{key}-{n}")) {
            Some(piece) => text.push_str(piece.content()),
            None => break,
        }
    }
    Some(text)
}

pub(super) fn encode<T: Serialize>(value: &T) -> Result<String> {
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
