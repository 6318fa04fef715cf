//! What a window's rules report: the changes, the refusals (worded here
//! and nowhere else), and what a repeated `enter` or `arm` asks of a
//! window already in place: written once, for both backends (the planner,
//! and the WAF backend's own rules and allowlist edits).

use crate::access::{BypassRequest, BypassState};
use crate::maintenance::{
    AllowlistState, Change, MaintenanceInfo, MaintenanceSpec, Reason, Window,
};
use crate::scope::Scope;
use crate::target::ResourceArn;
use crate::{Error, Result};

/// What a repeated `enter` (or `arm`) asks of a window already in place:
/// the allowlist entries already there kept and `spec`'s added, the
/// allowlist's and the bypass's enabled states kept, and of the reason, the
/// end, the response and the client address only what `spec` was
/// [given](MaintenanceSpec::given) changed; every other setting stays as
/// the window has it. A rerun of `enter` (to finish a crashed run, or to
/// change the reason) never drops an entry a teammate added, nor lets
/// testers back in while the allowlist was disabled on purpose, nor drops
/// the end time that `exit --expired` needs; `allowlist
/// set/remove/enable/disable` do those. Fails when the kept response and
/// the given parts together break a WAF rule (too many headers).
pub(crate) fn reentry_spec(
    current: &MaintenanceInfo,
    spec: &MaintenanceSpec,
) -> Result<MaintenanceSpec, crate::Error> {
    let bypass = match spec
        .bypass
        .resolve(current.bypass.as_ref().map(|b| &b.secret))
    {
        Some(secret) => BypassRequest::Set(secret),
        None => BypassRequest::Off,
    };
    let bypass_enabled = current
        .bypass
        .as_ref()
        .map_or(current.allowlist.enabled, |b| b.enabled);
    let mut wanted = MaintenanceSpec {
        allowlist: current.allowlist.entries.union(&spec.allowlist)?,
        allowlist_enabled: current.allowlist.enabled,
        bypass,
        bypass_enabled,
        ..spec.clone()
    };
    if let Some(given) = &spec.given {
        if !given.reason {
            wanted.reason = current.reason.as_deref().map(Reason::recorded);
        }
        if !given.until {
            wanted.until = current.until;
        }
        wanted.response = given
            .response
            .over(&current.response, current.until, wanted.until)?;
        if !given.client_ip {
            wanted.client_ip = current.client_ip.clone();
        }
        wanted.scope = spec.scope.over(&current.scope, given.scope);
    }
    Ok(wanted)
}

/// The changes from one bypass to another.
pub(crate) fn bypass_changes(
    before: Option<&BypassState>,
    after: Option<&BypassState>,
) -> Vec<Change> {
    match (before, after) {
        (None, None) => Vec::new(),
        (None, Some(_)) => vec![Change::BypassOn],
        (Some(_), None) => vec![Change::BypassOff],
        (Some(b), Some(a)) => {
            let mut changes = Vec::new();
            if b.secret != a.secret {
                changes.push(Change::BypassRotated);
            }
            match (b.enabled, a.enabled) {
                (false, true) => changes.push(Change::BypassEnabled),
                (true, false) => changes.push(Change::BypassDisabled),
                _ => {}
            }
            changes
        }
    }
}

/// The changes between an existing window and a requested one, in the order
/// `status` shows them. Used by every backend's repeated `enter`, with the
/// spec from [`reentry_spec`].
pub(crate) fn spec_changes(current: &MaintenanceInfo, spec: &MaintenanceSpec) -> Vec<Change> {
    let wanted = AllowlistState {
        enabled: spec.allowlist_enabled,
        entries: spec.allowlist.clone(),
    };
    let mut changes = allowlist_changes(&current.allowlist, &wanted);
    let reason = spec.reason.as_ref().map(|r| r.as_str().to_string());
    if current.reason != reason {
        changes.push(Change::ReasonChanged { reason });
    }
    if current.until != spec.until {
        changes.push(Change::UntilChanged { until: spec.until });
    }
    if current.response != spec.response {
        changes.push(Change::ResponseChanged);
    }
    changes.extend(bypass_changes(
        current.bypass.as_ref(),
        spec.bypass_state(current.bypass.as_ref()).as_ref(),
    ));
    if current.client_ip != spec.client_ip {
        changes.push(Change::ClientIpChanged {
            source: spec.client_ip.describe(),
        });
    }
    if current.scope != spec.scope {
        changes.push(Change::ScopeChanged {
            scope: spec.scope.describe(),
        });
    }
    changes
}

/// The changes an allowlist edit makes, from the state before to after.
pub(crate) fn allowlist_changes(before: &AllowlistState, after: &AllowlistState) -> Vec<Change> {
    let mut changes = Vec::new();
    let diff = before.entries.diff(&after.entries);
    if !diff.added.is_empty() {
        changes.push(Change::AllowlistAdded {
            entries: diff.added,
        });
    }
    if !diff.removed.is_empty() {
        changes.push(Change::AllowlistRemoved {
            entries: diff.removed,
        });
    }
    match (before.enabled, after.enabled) {
        (false, true) => changes.push(Change::AllowlistEnabled),
        (true, false) => changes.push(Change::AllowlistDisabled),
        _ => {}
    }
    changes
}

/// The refusal of a member under a web ACL maint did not create.
pub(crate) fn foreign(lb: &ResourceArn, web_acl_arn: &str, web_acl_name: &str) -> Error {
    Error::ForeignWebAcl {
        load_balancer: lb.to_string(),
        web_acl_arn: web_acl_arn.to_string(),
        web_acl_name: web_acl_name.to_string(),
    }
}

/// The refusal of a member that is in another window of maint's, in
/// maintenance (`active`) or armed.
pub(crate) fn elsewhere(lb: &ResourceArn, other: &str, active: bool, window: &Window) -> Error {
    let what = if active { "in maintenance" } else { "armed" };
    Error::Conflict {
        resource: lb.to_string(),
        message: format!(
            "it is {what} in window {other}, not {}; act on it through that window (name all \
             its load balancers together, or its config service)",
            window.name()
        ),
    }
}

/// The refusal of a member under another window's rule, `window`,
/// injected into web ACL `acl` (one maint did not create) for `members`:
/// it leaves with that whole window.
pub(crate) fn injected_elsewhere<'m>(
    lb: &ResourceArn,
    window: &str,
    acl: &str,
    members: impl IntoIterator<Item = &'m String>,
) -> Error {
    Error::Conflict {
        resource: lb.to_string(),
        message: format!(
            "it is in maintenance in window {window}, injected into web ACL {acl}, whose rule \
             reaches all of {}: exit them together (name all its load balancers together, or \
             its config service)",
            members.into_iter().cloned().collect::<Vec<_>>().join(", ")
        ),
    }
}

/// Whether window `window` (of `scope`) may add its part to the web ACL
/// that `lb` is under, which holds the windows `others` (name and scope
/// each): only when none of their scopes overlaps its own (see
/// [`Scope::overlaps`]); else the refusal naming the first it overlaps
/// and both scopes. Two windows of everything are left to the usual
/// refusal (`None` here with `Ok(false)`): they were never meant to share.
pub(crate) fn may_share<'s>(
    lb: &ResourceArn,
    window: &Window,
    scope: &Scope,
    others: impl IntoIterator<Item = (&'s str, &'s Scope)>,
) -> Result<bool> {
    let mut shares = false;
    for (other, other_scope) in others {
        if scope.is_everything() && other_scope.is_everything() {
            return Ok(false);
        }
        if scope.overlaps(other_scope) {
            let says = |s: &Scope| s.describe().unwrap_or_else(|| "every request".into());
            return Err(Error::Conflict {
                resource: lb.to_string(),
                message: format!(
                    "window {} ({}) and window {other} ({}) would both answer some request to \
                     it: windows share a load balancer only when each is scoped to hosts or \
                     paths the other does not cover; nothing was changed",
                    window.name(),
                    says(scope),
                    says(other_scope),
                ),
            });
        }
        shares = true;
    }
    Ok(shares)
}

/// The refusal of `lb` joining web ACL `acl`, which also holds window
/// `other`'s part: that window's rule would reach it too.
pub(crate) fn into_shared(lb: &ResourceArn, acl: &str, other: &str) -> Error {
    Error::Conflict {
        resource: lb.to_string(),
        message: format!(
            "web ACL {acl} also holds window {other}, whose rule would reach it too; a load \
             balancer joins a web ACL windows share only with all of them"
        ),
    }
}

/// The refusal of `lb`, not in `window`, when `arm` finds the window in
/// maintenance: arming would put it into maintenance too.
pub(crate) fn arming_would_enter(lb: &ResourceArn, window: &Window) -> Error {
    Error::Conflict {
        resource: lb.to_string(),
        message: format!(
            "window {} is in maintenance: arming would put {lb} into maintenance too; \
             `maint enter` it, or arm it after `maint exit`",
            window.name()
        ),
    }
}

/// The refusal of an allowlist edit of `lb`, whose window's rule someone
/// removed from web ACL `acl` (one maint did not create).
pub(crate) fn rule_removed(lb: &ResourceArn, acl: &str) -> Error {
    Error::Conflict {
        resource: lb.to_string(),
        message: format!(
            "maint's rule was removed from web ACL {acl} (an IaC apply?): the service is not in \
             maintenance; `maint enter` puts the rule back"
        ),
    }
}

/// What a repeated `enter` or `arm` asks of a window now as `current` (see
/// [`reentry_spec`]) and the changes it reports: `first` (switched on, a
/// rule put back), then maint's rule restored when `damage` says it was
/// changed outside maint, then the settings changed.
pub(crate) fn reentry_changes(
    current: &MaintenanceInfo,
    damage: Option<&str>,
    spec: &MaintenanceSpec,
    first: Option<Change>,
) -> Result<(MaintenanceSpec, Vec<Change>)> {
    let wanted = reentry_spec(current, spec)?;
    let mut changes: Vec<Change> = first.into_iter().collect();
    if let Some(what) = damage {
        changes.push(Change::RuleRestored { what: what.into() });
    }
    changes.extend(spec_changes(current, &wanted));
    Ok((wanted, changes))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::allowlist_changes;
    use crate::allowlist::Allowlist;
    use crate::maintenance::{AllowlistChange, AllowlistState, Change};

    #[test]
    fn allowlist_changes_apply_to_fresh_state() {
        let state = AllowlistState {
            enabled: false,
            entries: Allowlist::parse(["10.0.0.0/24"]).unwrap(),
        };
        let add = AllowlistChange::Add(Allowlist::parse(["10.0.1.0/24"]).unwrap());
        let after = add.apply(&state).unwrap();
        assert_eq!(after.entries.to_string(), "10.0.0.0/23\n");
        let changes = allowlist_changes(&state, &after);
        assert_eq!(changes.len(), 2, "{changes:?}");
        let enabled = AllowlistChange::Enable.apply(&after).unwrap();
        assert_eq!(
            allowlist_changes(&after, &enabled),
            [Change::AllowlistEnabled]
        );
        assert!(allowlist_changes(&enabled, &enabled).is_empty());
    }
}
