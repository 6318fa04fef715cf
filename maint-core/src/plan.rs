//! The window rules, written once: a pure planner.
//!
//! A backend observes what it needs of the world (where each load balancer
//! named is, the web ACLs they are under, the window's own web ACL) into an
//! [`Observation`], asks [`plan`] what a [`Request`] (enter, arm, exit,
//! disarm, an allowlist edit) does, and applies the [`Plan`] it gets back:
//! per member, its refusal (an [`Error`], worded here and nowhere else) or
//! its part (join, leave or stay, and the changes it reports); for the
//! window, the [`Step`]s that create, update, inject, switch, forget or
//! delete. A refusal of the whole request (two services merged, a rule that
//! would reach beyond its window) is the planner's `Err`.
//!
//! Nothing here does I/O or knows a backend: the planner is tested directly
//! (table and property tests), and every backend that asks it answers the
//! same rules in the same words.

use std::collections::{BTreeMap, BTreeSet};

use crate::access::BypassState;
use crate::maintenance::{
    AllowlistChange, Change, ExistingWebAcl, MaintenanceInfo, MaintenanceSpec, State, Window,
};
use crate::scope::Scope;
use crate::target::LoadBalancerArn;
use crate::{Error, Result};

mod changes;
mod model;

pub(crate) use changes::{allowlist_changes, bypass_changes, reentry_spec, spec_changes};

#[cfg(feature = "aws")]
pub(crate) use model::outcome;
pub(crate) use model::{
    Move, Observation, ObservedAcl, Part, Plan, Records, Request, Step, WindowRecord,
};

/// Plans `request` for `lbs`, the members named of `window`, as `seen`
/// observed them. `Err`: the request is refused as a whole.
pub(crate) fn plan(
    window: &Window,
    lbs: &[LoadBalancerArn],
    seen: &Observation,
    request: Request<'_>,
) -> Result<Plan> {
    if seen.members.len() != lbs.len() {
        return Err(Error::unexpected(format!(
            "{} load balancers named, {} observed",
            lbs.len(),
            seen.members.len()
        )));
    }
    let places: Vec<Result<Place<'_>>> = seen
        .members
        .iter()
        .map(|m| {
            let acl = m.clone()?.and_then(|arn| seen.acls.get(&arn));
            Ok(match acl {
                None => Place::Normal,
                Some(acl) => match &acl.window {
                    Some(w) if !w.injected => Place::Own(acl, w),
                    w => Place::Foreign(acl, w.as_ref()),
                },
            })
        })
        .collect();
    let ask = Ask {
        window,
        lbs,
        seen,
        places,
    };
    match request {
        Request::Enter(spec) => ask.enter(spec),
        Request::Arm(spec) => ask.arm(spec),
        Request::Exit => Ok(ask.exit()),
        Request::Disarm => Ok(ask.disarm()),
        Request::Allowlist(change) => ask.allowlist(change),
    }
}

/// The state a load balancer under `acl` (`None`: none) is in.
pub(crate) fn state_of(acl: Option<&ObservedAcl>) -> State {
    let Some(acl) = acl else {
        return State::Normal;
    };
    match &acl.window {
        None => State::Foreign {
            web_acl_arn: acl.arn.clone(),
            web_acl_name: acl.name.clone(),
        },
        Some(w) if w.active => State::Maintenance(Box::new(w.info.clone())),
        Some(w) if w.injected => State::Reverted {
            window: w.info.window.clone(),
            web_acl_arn: acl.arn.clone(),
            web_acl_name: acl.name.clone(),
        },
        Some(w) => State::Armed(Box::new(w.info.clone())),
    }
}

/// The state of a load balancer, found in `state` by its own association,
/// once the window's own web ACL is known (`own`: its ARN and name, and
/// whether its record lists the load balancer as a member): a member the
/// record lists that carries no web ACL, or another's, was detached by
/// another writer ([`State::Detached`]).
pub(crate) fn detached(state: State, window: &Window, own: Option<(&str, &str, bool)>) -> State {
    let Some((arn, name, true)) = own else {
        return state;
    };
    let now = match &state {
        State::Normal => None,
        State::Foreign { web_acl_name, .. } => Some(web_acl_name.clone()),
        _ => return state,
    };
    State::Detached {
        window: window.name().to_string(),
        web_acl_arn: arn.to_string(),
        web_acl_name: name.to_string(),
        now,
    }
}

/// Whether the record of the window's own web ACL `own` lists `lb`.
fn listed(own: Option<&ObservedAcl>, lb: &LoadBalancerArn) -> bool {
    own.and_then(ObservedAcl::own)
        .is_some_and(|w| w.members.contains(lb.as_str()))
}

/// The refusal of a member under a web ACL maint did not create.
pub(crate) fn foreign(lb: &LoadBalancerArn, web_acl_arn: &str, web_acl_name: &str) -> Error {
    Error::ForeignWebAcl {
        load_balancer: lb.to_string(),
        web_acl_arn: web_acl_arn.to_string(),
        web_acl_name: web_acl_name.to_string(),
    }
}

/// The refusal of a member that is in another window of maint's, in
/// maintenance (`active`) or armed.
pub(crate) fn elsewhere(lb: &LoadBalancerArn, other: &str, active: bool, window: &Window) -> Error {
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
    lb: &LoadBalancerArn,
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
    lb: &LoadBalancerArn,
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

/// The refusal of `lb`, not in `window`, when `arm` finds the window in
/// maintenance: arming would put it into maintenance too.
pub(crate) fn arming_would_enter(lb: &LoadBalancerArn, window: &Window) -> Error {
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
pub(crate) fn rule_removed(lb: &LoadBalancerArn, acl: &str) -> Error {
    Error::Conflict {
        resource: lb.to_string(),
        message: format!(
            "maint's rule was removed from web ACL {acl} (an IaC apply?): the service is not in \
             maintenance; `maint enter` puts the rule back"
        ),
    }
}

/// Where a member is, as the rules see it.
#[derive(Debug, Clone, Copy)]
enum Place<'a> {
    /// Under no web ACL.
    Normal,
    /// Under maint's own web ACL, holding this window or another.
    Own(&'a ObservedAcl, &'a WindowRecord),
    /// Under a web ACL maint did not create, carrying a window of maint's
    /// (injected) or not.
    Foreign(&'a ObservedAcl, Option<&'a WindowRecord>),
}

/// One request being planned.
struct Ask<'a> {
    window: &'a Window,
    lbs: &'a [LoadBalancerArn],
    seen: &'a Observation,
    places: Vec<Result<Place<'a>>>,
}

impl<'a> Ask<'a> {
    /// Whether `w` is this window.
    fn is_this(&self, w: &WindowRecord) -> bool {
        w.info.window == self.window.name()
    }

    /// maint's own web ACL of the window and its record, if there is one.
    fn own(&self) -> Result<Option<(&'a ObservedAcl, &'a WindowRecord)>> {
        let Some(arn) = &self.seen.own else {
            return Ok(None);
        };
        match self.seen.acls.get(arn) {
            Some(acl) => match acl.own() {
                Some(w) => Ok(Some((acl, w))),
                None => Err(Error::unexpected("the window's web ACL has no record")),
            },
            None => Err(Error::unexpected("the window's web ACL was not observed")),
        }
    }

    /// maint's own web ACL of the window, if it exists, after refusing to
    /// merge two unrelated services (see [`Window::check_joins`]).
    fn own_joined(&self) -> Result<Option<(&'a ObservedAcl, &'a WindowRecord)>> {
        let own = self.own()?;
        if let Some((acl, w)) = own {
            self.check_joins(acl, w)?;
        }
        Ok(own)
    }

    fn check_joins(&self, acl: &ObservedAcl, w: &WindowRecord) -> Result<()> {
        self.window.check_joins(
            &acl.arn,
            w.service.as_deref(),
            w.members.iter().map(String::as_str),
            self.lbs,
        )
    }

    /// The members named, by ARN.
    fn named(&self) -> BTreeSet<&'a str> {
        self.lbs.iter().map(LoadBalancerArn::as_str).collect()
    }

    /// Who joins the window as `enter` and `arm` see it: `Ok(true)` to be
    /// associated, `Ok(false)` a member already. A member under another
    /// window's rule in force (injected included) is refused as in that
    /// window.
    fn joining(&self) -> Vec<Result<bool>> {
        self.lbs
            .iter()
            .zip(&self.places)
            .map(|(lb, place)| match place.clone()? {
                Place::Normal => Ok(true),
                Place::Own(_, w) if self.is_this(w) => Ok(false),
                Place::Own(_, w) => Err(elsewhere(lb, &w.info.window, w.active, self.window)),
                Place::Foreign(_, Some(w)) if w.active && !self.is_this(w) => {
                    Err(elsewhere(lb, &w.info.window, true, self.window))
                }
                Place::Foreign(acl, _) => Err(foreign(lb, &acl.arn, &acl.name)),
            })
            .collect()
    }

    /// The members of `joining` to be associated.
    fn new_members(&self, joining: &[Result<bool>]) -> BTreeSet<String> {
        self.lbs
            .iter()
            .zip(joining)
            .filter(|(_, j)| matches!(j, Ok(true)))
            .map(|(lb, _)| lb.to_string())
            .collect()
    }

    /// Each member's part: the window's changes, plus `joined` (and an
    /// association) for those who join.
    fn join_parts(
        joining: Vec<Result<bool>>,
        window_changes: &[Change],
        joined: Option<Change>,
    ) -> Vec<Result<Part>> {
        joining
            .into_iter()
            .map(|j| {
                let join = j?;
                let mut changes = window_changes.to_vec();
                if join {
                    changes.extend(joined.clone());
                }
                let moves = if join { Move::Join } else { Move::Stay };
                Ok(Part { moves, changes })
            })
            .collect()
    }

    fn enter(&self, spec: &MaintenanceSpec) -> Result<Plan> {
        // Through a foreign web ACL: with consent, or to update (or put
        // back) this window's rule already in one.
        let consent = spec.existing_web_acl == ExistingWebAcl::Inject;
        let injected = self.places.iter().any(|p| match p {
            Ok(Place::Foreign(_, w)) => consent || w.is_some_and(|w| self.is_this(w)),
            _ => false,
        });
        if injected {
            return self.enter_injected(spec);
        }
        let joining = self.joining();
        let new = self.new_members(&joining);
        let mut steps = Vec::new();
        // The window's own changes, reported by every member.
        let window_changes = match self.own_joined()? {
            Some((acl, w)) => {
                // An armed window in pass-through form is switched on, in
                // the same one update.
                let switch_on = !w.active;
                let (wanted, changes) = reentry(w, spec, switch_on.then_some(Change::SwitchedOn))?;
                steps.push(Step::Update {
                    acl: acl.arn.clone(),
                    settings: Some(wanted),
                    join: new.into_iter().collect(),
                    switch: switch_on.then_some(true),
                    arm: false,
                });
                changes
            }
            None if new.is_empty() => Vec::new(),
            None => {
                steps.push(Step::Create {
                    members: new,
                    spec: spec.clone(),
                    armed: false,
                });
                vec![Change::CreatedWebAcl {
                    name: self.window.name().to_string(),
                }]
            }
        };
        let members = Self::join_parts(joining, &window_changes, Some(Change::Associated));
        Ok(Plan { members, steps })
    }

    /// `enter` through a foreign web ACL: maint's rule injected into (or
    /// updated in, or put back into) the one web ACL every member is under.
    /// Refused as a whole, nothing changed, unless every member is under
    /// that one web ACL and every load balancer under it is a member.
    fn enter_injected(&self, spec: &MaintenanceSpec) -> Result<Plan> {
        let Some(host) = self.places.iter().find_map(|p| match p {
            Ok(Place::Foreign(acl, _)) => Some(*acl),
            _ => None,
        }) else {
            return Err(Error::unexpected("no foreign web ACL to inject into"));
        };
        let conflict = |message: String| Error::Conflict {
            resource: host.arn.clone(),
            message,
        };
        for (lb, place) in self.lbs.iter().zip(&self.places) {
            match place {
                Ok(Place::Foreign(acl, _)) if acl.arn == host.arn => {}
                Ok(_) => {
                    return Err(conflict(format!(
                        "window {} would go into maintenance through web ACL {}, but {lb} is not \
                         under it; the members of a window maint injects its rule for must all \
                         be under that one web ACL",
                        self.window.name(),
                        host.name
                    )))
                }
                Err(_) => {}
            }
        }
        let named = self.named();
        let others: Vec<&str> = host
            .associated
            .iter()
            .map(String::as_str)
            .filter(|lb| !named.contains(lb))
            .collect();
        if !others.is_empty() {
            return Err(conflict(format!(
                "maintenance through web ACL {} would reach {} too; name them together in one \
                 service",
                host.name,
                others.join(", ")
            )));
        }
        if let Some((own, _)) = self.own()? {
            if !own.associated.is_empty() {
                return Err(Error::Conflict {
                    resource: own.arn.clone(),
                    message: format!(
                        "window {} is under maint's own web ACL for other load balancers; a \
                         window is either injected into one web ACL or under maint's own",
                        self.window.name()
                    ),
                });
            }
        }
        let parts: Vec<Result<()>> = self
            .places
            .iter()
            .map(|p| p.as_ref().map(|_| ()).map_err(Clone::clone))
            .collect();
        let joining: BTreeSet<String> = self
            .lbs
            .iter()
            .zip(&parts)
            .filter(|(_, p)| p.is_ok())
            .map(|(lb, _)| lb.to_string())
            .collect();
        let injected = Change::RuleInjected {
            web_acl: host.name.clone(),
        };
        match &host.window {
            Some(w) if !self.is_this(w) => Err(conflict(format!(
                "web ACL {} carries maint's rule for window {}, not {}; act on it through that \
                 window",
                host.name,
                w.info.window,
                self.window.name()
            ))),
            Some(w) if !w.active && spec.existing_web_acl != ExistingWebAcl::Inject => {
                // Someone removed maint's rule: putting it back takes
                // consent again.
                let members = self
                    .lbs
                    .iter()
                    .zip(parts)
                    .map(|(lb, p)| p.and_then(|()| Err(foreign(lb, &host.arn, &host.name))))
                    .collect();
                Ok(Plan {
                    members,
                    steps: Vec::new(),
                })
            }
            Some(w) => {
                self.check_joins(host, w)?;
                let (wanted, changes) = reentry(w, spec, (!w.active).then_some(injected))?;
                let step = Step::Update {
                    acl: host.arn.clone(),
                    settings: Some(wanted),
                    join: joining.into_iter().collect(),
                    switch: (!w.active).then_some(true),
                    arm: false,
                };
                Ok(Plan::each(parts, Move::Stay, &changes, vec![step]))
            }
            None => {
                let step = Step::Inject {
                    host: host.arn.clone(),
                    members: joining,
                    spec: spec.clone(),
                };
                Ok(Plan::each(parts, Move::Stay, &[injected], vec![step]))
            }
        }
    }

    fn arm(&self, spec: &MaintenanceSpec) -> Result<Plan> {
        // Injected or not, a service with a web ACL of its own needs no
        // arming.
        let mut joining = self.joining();
        let mut steps = Vec::new();
        let mut window_changes = Vec::new();
        // What each member associated reports.
        let mut joined = Some(Change::Armed);
        match self.own_joined()? {
            Some((acl, w)) if w.active && !acl.associated.is_empty() => {
                // In maintenance: marked armed, nothing else changes, and
                // nobody joins (that would be maintenance for them).
                if w.info.armed_since.is_none() {
                    window_changes.push(Change::Armed);
                    steps.push(Step::Update {
                        acl: acl.arn.clone(),
                        settings: None,
                        join: Vec::new(),
                        switch: None,
                        arm: true,
                    });
                }
                joined = None;
                for (lb, j) in self.lbs.iter().zip(&mut joining) {
                    if matches!(j, Ok(true)) {
                        *j = Err(arming_would_enter(lb, self.window));
                    }
                }
            }
            Some((acl, w)) => {
                // Armed already (or left by an interrupted run): brought to
                // the spec as a repeated `enter` does, in pass-through form.
                let (wanted, changes) = reentry(w, spec, None)?;
                window_changes = changes;
                steps.push(Step::Update {
                    acl: acl.arn.clone(),
                    settings: Some(wanted),
                    join: self.new_members(&joining).into_iter().collect(),
                    switch: Some(false),
                    arm: true,
                });
            }
            None => {
                let new = self.new_members(&joining);
                if !new.is_empty() {
                    window_changes.push(Change::CreatedWebAcl {
                        name: self.window.name().to_string(),
                    });
                    steps.push(Step::Create {
                        members: new,
                        spec: spec.clone(),
                        armed: true,
                    });
                }
            }
        }
        let members = Self::join_parts(joining, &window_changes, joined);
        Ok(Plan { members, steps })
    }

    fn exit(&self) -> Plan {
        /// What a member leaves.
        enum Leave<'a> {
            /// Nothing: normal, or armed in pass-through form.
            Nothing,
            /// maint's own web ACL (blocking).
            Own(&'a ObservedAcl),
            /// maint's rule in this foreign web ACL.
            Injected(&'a ObservedAcl),
        }
        let own = self.seen.own.as_ref().and_then(|a| self.seen.acls.get(a));
        let mut leaving: Vec<Result<Leave<'a>>> = self
            .lbs
            .iter()
            .zip(&self.places)
            .map(|(lb, place)| match place.clone()? {
                Place::Normal => Ok(Leave::Nothing),
                // A member of another window of maint's own leaves that
                // window (`maint exit <lb>` names the load balancer alone).
                Place::Own(_, w) if !w.active => Ok(Leave::Nothing),
                Place::Own(acl, _) => Ok(Leave::Own(acl)),
                Place::Foreign(acl, Some(w)) if self.is_this(w) => Ok(Leave::Injected(acl)),
                // Another window's injected rule is that window's to
                // remove, as a whole.
                Place::Foreign(acl, Some(w)) if w.active => Err(injected_elsewhere(
                    lb,
                    &w.info.window,
                    &acl.name,
                    &w.members,
                )),
                // Detached from the window by another writer, who put its
                // own web ACL on: the window ends, that web ACL stays.
                Place::Foreign(..) if listed(own, lb) => Ok(Leave::Nothing),
                Place::Foreign(acl, _) => Err(foreign(lb, &acl.arn, &acl.name)),
            })
            .collect();
        let named = self.named();
        let mut steps = Vec::new();

        // Injected windows: the rule is shared by every load balancer under
        // the web ACL, so they leave together or not at all.
        let mut removed: BTreeSet<&str> = BTreeSet::new();
        let hosts: BTreeMap<&str, &ObservedAcl> = leaving
            .iter()
            .filter_map(|l| match l {
                Ok(Leave::Injected(acl)) => Some((acl.arn.as_str(), *acl)),
                _ => None,
            })
            .collect();
        for (arn, host) in hosts {
            let Some(w) = &host.window else { continue };
            let sharing: BTreeSet<&str> = host
                .associated
                .iter()
                .chain(&w.members)
                .map(String::as_str)
                .collect();
            let missing: Vec<&str> = sharing.difference(&named).copied().collect();
            if missing.is_empty() {
                steps.push(Step::RemoveInjection {
                    host: arn.to_string(),
                });
                removed.insert(arn);
                continue;
            }
            let conflict = Error::Conflict {
                resource: arn.to_string(),
                message: format!(
                    "maint's rule in web ACL {} (window {}) is shared by every load balancer \
                     under it; exit them together (also {})",
                    host.name,
                    w.info.window,
                    missing.join(", ")
                ),
            };
            for l in &mut leaving {
                if matches!(l, Ok(Leave::Injected(a)) if a.arn == arn) {
                    *l = Err(conflict.clone());
                }
            }
        }

        // maint's own windows touched: those members leave, and the
        // window's own (leftovers of an interrupted run).
        let own_leaving: Vec<Option<&ObservedAcl>> = leaving
            .iter()
            .map(|l| match l {
                Ok(Leave::Own(acl)) => Some(*acl),
                _ => None,
            })
            .collect();
        let mut windows = self.by_acl(&own_leaving);
        if let Some(acl) = own {
            windows
                .entry(acl.arn.as_str())
                .or_insert_with(|| (acl, BTreeSet::new()));
        }
        let mut deleted: BTreeSet<&str> = BTreeSet::new();
        let mut switched_off: BTreeSet<&str> = BTreeSet::new();
        for (arn, (acl, leavers)) in windows {
            let armed = acl.own().is_some_and(|w| w.info.armed_since.is_some());
            if armed && !leavers.is_empty() && all_leave(acl, &leavers) {
                // Every member leaves an armed window: switched back to
                // pass-through, still associated, still armed.
                switched_off.insert(arn);
                steps.push(Step::Update {
                    acl: arn.to_string(),
                    settings: None,
                    join: Vec::new(),
                    switch: Some(false),
                    arm: false,
                });
            } else if leave(acl, &leavers, &named, &mut steps) {
                deleted.insert(arn);
            }
        }
        let members = leaving
            .into_iter()
            .map(|left| {
                let (moves, changes) = match left? {
                    Leave::Injected(host) => {
                        let rule =
                            removed
                                .contains(host.arn.as_str())
                                .then(|| Change::RuleRemoved {
                                    web_acl: host.name.clone(),
                                });
                        (Move::Stay, rule.into_iter().collect())
                    }
                    Leave::Own(acl) if switched_off.contains(acl.arn.as_str()) => {
                        (Move::Stay, vec![Change::SwitchedOff])
                    }
                    Leave::Own(acl) => {
                        let mut changes = vec![Change::Disassociated];
                        changes.extend(deleted_acl(acl, &deleted));
                        (Move::Leave, changes)
                    }
                    // A normal member reports its window's leftovers going.
                    Leave::Nothing => {
                        let gone = own.and_then(|acl| deleted_acl(acl, &deleted));
                        (Move::Stay, gone.into_iter().collect())
                    }
                };
                Ok(Part { moves, changes })
            })
            .collect();
        Plan { members, steps }
    }

    fn disarm(&self) -> Plan {
        // Each member: the armed window it leaves, if any.
        let leaving: Vec<Result<Option<&ObservedAcl>>> = self
            .lbs
            .iter()
            .zip(&self.places)
            .map(|(lb, place)| {
                let refused = |message: &str| Error::Conflict {
                    resource: lb.to_string(),
                    message: message.to_string(),
                };
                match place.clone()? {
                    Place::Normal => Ok(None),
                    Place::Own(_, w) | Place::Foreign(_, Some(w))
                        if !self.is_this(w) && (w.active || !w.injected) =>
                    {
                        Err(elsewhere(lb, &w.info.window, w.active, self.window))
                    }
                    Place::Own(acl, w) if !w.active => Ok(Some(acl)),
                    Place::Own(_, w) if w.info.armed_since.is_some() => Err(refused(
                        "it is in maintenance; `maint exit` first (it stays armed), then disarm",
                    )),
                    Place::Own(..) => Err(refused(
                        "it is in maintenance and was never armed; `maint exit` ends it",
                    )),
                    Place::Foreign(_, Some(w)) if self.is_this(w) => Err(refused(
                        "its window lives in the service's own web ACL: nothing is armed; \
                         `maint exit` ends the maintenance",
                    )),
                    Place::Foreign(acl, _) => Err(foreign(lb, &acl.arn, &acl.name)),
                }
            })
            .collect();
        let armed: Vec<Option<&ObservedAcl>> = leaving
            .iter()
            .map(|l| l.as_ref().ok().copied().flatten())
            .collect();
        let mut steps = Vec::new();
        let mut deleted: BTreeSet<&str> = BTreeSet::new();
        for (arn, (acl, leavers)) in self.by_acl(&armed) {
            if leave(acl, &leavers, &leavers, &mut steps) {
                deleted.insert(arn);
            }
        }
        let members = leaving
            .into_iter()
            .map(|left| {
                Ok(match left? {
                    Some(acl) => {
                        let mut changes = vec![Change::Disarmed];
                        changes.extend(deleted_acl(acl, &deleted));
                        Part {
                            moves: Move::Leave,
                            changes,
                        }
                    }
                    None => Part {
                        moves: Move::Stay,
                        changes: Vec::new(),
                    },
                })
            })
            .collect();
        Plan { members, steps }
    }

    /// The web ACLs of maint's members leave (`leaving[i]`: the one
    /// member `i` leaves), each with who leaves it, by ARN.
    fn by_acl(
        &self,
        leaving: &[Option<&'a ObservedAcl>],
    ) -> BTreeMap<&'a str, (&'a ObservedAcl, BTreeSet<&'a str>)> {
        let mut out: BTreeMap<&str, (&ObservedAcl, BTreeSet<&str>)> = BTreeMap::new();
        for (lb, acl) in self.lbs.iter().zip(leaving) {
            if let Some(acl) = acl {
                out.entry(acl.arn.as_str())
                    .or_insert_with(|| (*acl, BTreeSet::new()))
                    .1
                    .insert(lb.as_str());
            }
        }
        out
    }

    fn allowlist(&self, change: &AllowlistChange) -> Result<Plan> {
        let members: Vec<Result<&ObservedAcl>> = self
            .lbs
            .iter()
            .zip(&self.places)
            .map(|(lb, place)| {
                let not_in = || Error::NotInMaintenance {
                    load_balancer: lb.to_string(),
                };
                match place.clone()? {
                    Place::Normal => Err(not_in()),
                    // Armed windows are edited in pass-through form too.
                    Place::Own(acl, w) if self.is_this(w) => Ok(acl),
                    Place::Own(_, w) => Err(elsewhere(lb, &w.info.window, w.active, self.window)),
                    Place::Foreign(acl, Some(w)) if w.active && self.is_this(w) => Ok(acl),
                    Place::Foreign(_, Some(w)) if w.active => {
                        Err(elsewhere(lb, &w.info.window, true, self.window))
                    }
                    // maint's rule was removed: not in maintenance.
                    Place::Foreign(acl, Some(w)) if self.is_this(w) => {
                        Err(rule_removed(lb, &acl.name))
                    }
                    Place::Foreign(_, Some(_)) => Err(not_in()),
                    Place::Foreign(acl, None) => Err(foreign(lb, &acl.arn, &acl.name)),
                }
            })
            .collect();
        let parts: Vec<Result<()>> = members.iter().map(|m| m.clone().map(|_| ())).collect();
        // No member in the window's maintenance: each says why.
        let Some(acl) = members.into_iter().find_map(Result::ok) else {
            return Ok(Plan::each(parts, Move::Stay, &[], Vec::new()));
        };
        let Some(w) = &acl.window else {
            return Err(Error::unexpected("the window's web ACL has no record"));
        };
        let info = &w.info;
        let after = change.apply(&info.allowlist)?;
        let bypass = info.bypass.clone().map(|b| BypassState {
            enabled: change.bypass_enabled(b.enabled),
            ..b
        });
        let mut changes = allowlist_changes(&info.allowlist, &after);
        changes.extend(bypass_changes(info.bypass.as_ref(), bypass.as_ref()));
        // Nothing to change: nothing written.
        let steps = if changes.is_empty() {
            Vec::new()
        } else {
            vec![Step::SetAccess {
                acl: acl.arn.clone(),
                allowlist: after,
                bypass,
            }]
        };
        Ok(Plan::each(parts, Move::Stay, &changes, steps))
    }
}

/// What a repeated `enter` or `arm` asks of window `w` (see
/// [`reentry_spec`]) and the changes it reports (see [`reentry_changes`]).
fn reentry(
    w: &WindowRecord,
    spec: &MaintenanceSpec,
    first: Option<Change>,
) -> Result<(MaintenanceSpec, Vec<Change>)> {
    reentry_changes(&w.info, w.damage.as_deref(), spec, first)
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

/// Whether `leavers` are every load balancer associated with `acl`.
fn all_leave(acl: &ObservedAcl, leavers: &BTreeSet<&str>) -> bool {
    acl.associated.iter().all(|a| leavers.contains(a.as_str()))
}

/// `leavers` leave maint's own web ACL `acl`: it is deleted with its last
/// member (returns true), else `leaving` leave its record.
fn leave(
    acl: &ObservedAcl,
    leavers: &BTreeSet<&str>,
    leaving: &BTreeSet<&str>,
    steps: &mut Vec<Step>,
) -> bool {
    if all_leave(acl, leavers) {
        steps.push(Step::Delete {
            acl: acl.arn.clone(),
        });
        return true;
    }
    steps.extend(forget(acl, leaving));
    false
}

/// The step taking `leaving` out of the record of the window in `acl`,
/// when any of them is recorded.
fn forget(acl: &ObservedAcl, leaving: &BTreeSet<&str>) -> Option<Step> {
    let w = acl.window.as_ref()?;
    let members: Vec<String> = w
        .members
        .iter()
        .filter(|m| leaving.contains(m.as_str()))
        .cloned()
        .collect();
    (!members.is_empty()).then(|| Step::Forget {
        acl: acl.arn.clone(),
        members,
    })
}

/// The deletion a member of `acl` reports, when `acl` is among `deleted`.
fn deleted_acl(acl: &ObservedAcl, deleted: &BTreeSet<&str>) -> Option<Change> {
    deleted
        .contains(acl.arn.as_str())
        .then(|| Change::DeletedWebAcl {
            name: acl.name.clone(),
        })
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
