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
use crate::maintenance::{AllowlistChange, Change, ExistingWebAcl, MaintenanceSpec, Window};
use crate::scope::Scope;
use crate::target::ResourceArn;
use crate::{Error, Result};

mod changes;
mod model;

pub(crate) use changes::{
    allowlist_changes, arming_would_enter, bypass_changes, elsewhere, foreign, injected_elsewhere,
    into_shared, may_share, reentry_changes, rule_removed,
};
// The path the docs of both backends link to.
#[allow(unused_imports)]
pub(crate) use changes::reentry_spec;

#[cfg(feature = "aws")]
pub(crate) use model::{beside, outcome};
pub(crate) use model::{
    detached, state_of, status_of, Move, Observation, ObservedAcl, Part, Plan, Records, Request,
    Step, WindowRecord,
};

/// Plans `request` for `lbs`, the members named of `window`, as `seen`
/// observed them. `Err`: the request is refused as a whole.
pub(crate) fn plan(
    window: &Window,
    lbs: &[ResourceArn],
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
                Some(acl) => match acl.part_for(window.name()) {
                    Some(w) if !w.injected => Place::Own(acl, w),
                    w => Place::Foreign(acl, w),
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

/// Whether the record of the window's own web ACL `own` lists `lb`.
fn listed(own: Option<&ObservedAcl>, lb: &ResourceArn) -> bool {
    own.and_then(ObservedAcl::own)
        .is_some_and(|w| w.members.contains(lb.as_str()))
}

/// Where a member is, as the rules see it: under a web ACL, by the part
/// of it that answers this window (see [`ObservedAcl::part_for`]).
#[derive(Debug, Clone, Copy)]
enum Place<'a> {
    /// Under no web ACL.
    Normal,
    /// Under a web ACL whose own window (its part not injected) is this
    /// window, or, when this window has no part in it, another.
    Own(&'a ObservedAcl, &'a WindowRecord),
    /// Under a web ACL where the part that answers is injected (this
    /// window's or another's), or that holds no part at all: one maint did
    /// not create, or maint's whose own window left it.
    Foreign(&'a ObservedAcl, Option<&'a WindowRecord>),
}

impl<'a> Place<'a> {
    /// The web ACL it is under, if any.
    fn acl(&self) -> Option<&'a ObservedAcl> {
        match self {
            Place::Normal => None,
            Place::Own(acl, _) | Place::Foreign(acl, _) => Some(acl),
        }
    }
}

/// One request being planned.
struct Ask<'a> {
    window: &'a Window,
    lbs: &'a [ResourceArn],
    seen: &'a Observation,
    places: Vec<Result<Place<'a>>>,
}

impl<'a> Ask<'a> {
    /// Whether `w` is this window.
    fn is_this(&self, w: &WindowRecord) -> bool {
        w.info.window == self.window.name()
    }

    /// maint's own web ACL of the window and its record (its part, not
    /// injected), if there is one. A web ACL found for the window that
    /// holds no such part (its part left while other windows' parts stay)
    /// is none: the window joins it again as a sharing part.
    fn own(&self) -> Result<Option<(&'a ObservedAcl, &'a WindowRecord)>> {
        let Some(arn) = &self.seen.own else {
            return Ok(None);
        };
        match self.seen.acls.get(arn) {
            Some(acl) => Ok(acl
                .part(self.window.name())
                .filter(|w| !w.injected)
                .map(|w| (acl, w))),
            None => Err(Error::unexpected("the window's web ACL was not observed")),
        }
    }

    /// maint's own web ACL of the window, if there is one (see
    /// [`Ask::own`]).
    fn own_acl(&self) -> Option<&'a ObservedAcl> {
        self.own().ok().flatten().map(|(acl, _)| acl)
    }

    /// The web ACL this window would add its part to: one a member is
    /// under that holds other windows' parts and none of this window's,
    /// when [`may_share`] allows it (no scope overlaps). `Err`: a scope
    /// overlaps, and the request is refused as a whole, nothing changed.
    fn shared_host(&self, spec: &MaintenanceSpec) -> Result<Option<&'a ObservedAcl>> {
        // A window of everything never shares: the usual refusals say why.
        if spec.scope.is_everything() {
            return Ok(None);
        }
        let mut host = None;
        for (lb, place) in self.lbs.iter().zip(&self.places) {
            let Some(acl) = place.as_ref().ok().and_then(Place::acl) else {
                continue;
            };
            if acl.part(self.window.name()).is_some() {
                continue;
            }
            let others = acl
                .parts
                .iter()
                .map(|w| (w.info.window.as_str(), &w.info.scope));
            if may_share(lb, self.window, &spec.scope, others)? {
                host.get_or_insert(acl);
            }
        }
        Ok(host)
    }

    /// Refuses this window's part of `acl` brought to `scope` (a repeated
    /// `enter` or `arm`) when it would overlap another window's part there
    /// (see [`may_share`]).
    fn keeps_apart(&self, acl: &ObservedAcl, scope: &Scope) -> Result<()> {
        let (Some(lb), Some(_)) = (self.lbs.first(), acl.others(self.window.name()).next()) else {
            return Ok(());
        };
        let others = acl
            .others(self.window.name())
            .map(|w| (w.info.window.as_str(), &w.info.scope));
        may_share(lb, self.window, scope, others).map(|_| ())
    }

    /// Members of `joining` to be associated with the window's own web ACL
    /// `acl` are refused while it holds other windows' parts: their rules
    /// would reach them too.
    fn not_into_shared(&self, acl: &ObservedAcl, joining: &mut [Result<bool>]) {
        let Some(other) = acl.others(self.window.name()).next() else {
            return;
        };
        for (lb, j) in self.lbs.iter().zip(joining) {
            if matches!(j, Ok(true)) {
                *j = Err(into_shared(lb, &acl.name, &other.info.window));
            }
        }
    }

    /// Whether this window's part of `host`, a web ACL its rule shares with
    /// every load balancer under it, may leave: only when every member its
    /// record lists is `named` (the part's rule keeps them all in
    /// maintenance); else the conflict naming the others (the command to
    /// repeat with them: `what`). A load balancer under `host` that is no
    /// member (associated with it since, by another writer) does not hold
    /// the part back: taking maint's rule out only ever lets more through.
    /// Without a part of this window there, every load balancer under it.
    fn together(&self, host: &ObservedAcl, named: &BTreeSet<&str>, what: &str) -> Result<()> {
        let sharing: BTreeSet<&str> = match host.part(self.window.name()) {
            Some(w) => w.members.iter().map(String::as_str).collect(),
            None => host.associated.iter().map(String::as_str).collect(),
        };
        let missing: Vec<&str> = sharing.difference(named).copied().collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(Error::Conflict {
            resource: host.arn.clone(),
            message: format!(
                "maint's rule in web ACL {} (window {}) is shared by every load balancer \
                 under it; {what} them together (also {})",
                host.name,
                self.window.name(),
                missing.join(", ")
            ),
        })
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
        self.lbs.iter().map(ResourceArn::as_str).collect()
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
        // Into a web ACL other windows hold, as a part of its own, when
        // their scopes and this one's are apart.
        if let Some(host) = self.shared_host(spec)? {
            return self.enter_injected(spec, host, true);
        }
        // Through a foreign web ACL: with consent, or to update (or put
        // back) this window's rule already in one.
        let consent = spec.existing_web_acl == ExistingWebAcl::Inject;
        let injected = self.places.iter().any(|p| match p {
            Ok(Place::Foreign(_, w)) => consent || w.is_some_and(|w| self.is_this(w)),
            _ => false,
        });
        let host = self.places.iter().find_map(|p| match p {
            Ok(Place::Foreign(acl, _)) => Some(*acl),
            _ => None,
        });
        if let (true, Some(host)) = (injected, host) {
            return self.enter_injected(spec, host, false);
        }
        let mut joining = self.joining();
        let own = self.own_joined()?;
        if let Some((acl, _)) = own {
            self.not_into_shared(acl, &mut joining);
        }
        let new = self.new_members(&joining);
        let mut steps = Vec::new();
        // The window's own changes, reported by every member.
        let window_changes = match own {
            Some((acl, w)) => {
                // An armed window in pass-through form is switched on, in
                // the same one update.
                let switch_on = !w.active;
                let (wanted, changes) = reentry(w, spec, switch_on.then_some(Change::SwitchedOn))?;
                self.keeps_apart(acl, &wanted.scope)?;
                steps.push(Step::Update {
                    acl: acl.arn.clone(),
                    window: self.window.name().to_string(),
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

    /// `enter` through web ACL `host`, one maint did not create or one
    /// other windows hold (`shares`: [`may_share`] allowed this window's
    /// part beside theirs): maint's rule injected into (or updated in, or
    /// put back into) the one web ACL every member is under. Refused as a
    /// whole, nothing changed, unless every member is under that one web
    /// ACL and every load balancer under it is a member (a part's rule
    /// reaches every load balancer under its web ACL).
    fn enter_injected(
        &self,
        spec: &MaintenanceSpec,
        host: &'a ObservedAcl,
        shares: bool,
    ) -> Result<Plan> {
        let conflict = |message: String| Error::Conflict {
            resource: host.arn.clone(),
            message,
        };
        for (lb, place) in self.lbs.iter().zip(&self.places) {
            match place {
                Ok(p) if p.acl().is_some_and(|acl| acl.arn == host.arn) => {}
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
        // Each member refused, for a web ACL maint did not create: nothing
        // is injected into it without consent.
        let refuse = |parts: Vec<Result<()>>| {
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
        };
        // maint's own web ACL (another window's) takes no consent.
        let consent = spec.existing_web_acl == ExistingWebAcl::Inject || host.maints;
        match host.part(self.window.name()) {
            None if !shares && !host.parts.is_empty() => Err(conflict(format!(
                "web ACL {} carries maint's rule for window {}, not {}; act on it through that \
                 window",
                host.name,
                host.parts[0].info.window,
                self.window.name()
            ))),
            // Someone removed maint's rule: putting it back takes consent
            // again.
            Some(w) if !w.active && !consent => refuse(parts),
            None if !consent => refuse(parts),
            Some(w) => {
                self.check_joins(host, w)?;
                let (wanted, changes) = reentry(w, spec, (!w.active).then_some(injected))?;
                self.keeps_apart(host, &wanted.scope)?;
                let step = Step::Update {
                    acl: host.arn.clone(),
                    window: self.window.name().to_string(),
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
        let own = self.own_joined()?;
        if let Some((acl, _)) = own {
            self.not_into_shared(acl, &mut joining);
        }
        match own {
            Some((acl, w)) if w.active && !acl.associated.is_empty() => {
                // In maintenance: marked armed, nothing else changes, and
                // nobody joins (that would be maintenance for them).
                if w.info.armed_since.is_none() {
                    window_changes.push(Change::Armed);
                    steps.push(Step::Update {
                        acl: acl.arn.clone(),
                        window: self.window.name().to_string(),
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
                self.keeps_apart(acl, &wanted.scope)?;
                window_changes = changes;
                steps.push(Step::Update {
                    acl: acl.arn.clone(),
                    window: self.window.name().to_string(),
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
            /// maint's own web ACL (blocking), held by its window alone.
            Own(&'a ObservedAcl),
            /// This window's part of this web ACL: injected into it, or
            /// its own beside other windows' parts.
            Part(&'a ObservedAcl),
        }
        let own = self.own_acl();
        let mut leaving: Vec<Result<Leave<'a>>> = self
            .lbs
            .iter()
            .zip(&self.places)
            .map(|(lb, place)| match place.clone()? {
                Place::Normal => Ok(Leave::Nothing),
                // A member of another window of maint's own leaves that
                // window (`maint exit <lb>` names the load balancer alone).
                Place::Own(_, w) if !w.active => Ok(Leave::Nothing),
                // Other windows' parts stay: only this window's leaves.
                Place::Own(acl, w) if self.is_this(w) && acl.parts.len() > 1 => {
                    Ok(Leave::Part(acl))
                }
                // Leaving another window's web ACL that others share would
                // end their maintenance too.
                Place::Own(acl, w) if acl.parts.len() > 1 => {
                    Err(elsewhere(lb, &w.info.window, true, self.window))
                }
                Place::Own(acl, _) => Ok(Leave::Own(acl)),
                Place::Foreign(acl, Some(w)) if self.is_this(w) => Ok(Leave::Part(acl)),
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
        let mut deleted: BTreeSet<&str> = BTreeSet::new();
        let mut switched_off: BTreeSet<&str> = BTreeSet::new();

        // This window's parts of web ACLs it shares (with the load
        // balancers under it, and other windows): the rule reaches every
        // load balancer under the web ACL, so they leave together or not
        // at all. The window's own web ACL shared with others (leftovers of
        // an interrupted run) loses its part the same way.
        let mut removed: BTreeSet<&str> = BTreeSet::new();
        let mut hosts: BTreeMap<&str, &ObservedAcl> = leaving
            .iter()
            .filter_map(|l| match l {
                Ok(Leave::Part(acl)) => Some((acl.arn.as_str(), *acl)),
                _ => None,
            })
            .collect();
        if let Some(acl) = own.filter(|a| a.parts.len() > 1) {
            hosts.entry(acl.arn.as_str()).or_insert(acl);
        }
        for (arn, host) in hosts {
            let Some(w) = host.part(self.window.name()) else {
                continue;
            };
            if let Err(conflict) = self.together(host, &named, "exit") {
                for l in &mut leaving {
                    if matches!(l, Ok(Leave::Part(a)) if a.arn == arn) {
                        *l = Err(conflict.clone());
                    }
                }
                continue;
            }
            if !w.injected && w.info.armed_since.is_some() {
                // An armed window, its own beside others: switched back to
                // pass-through, as it would be alone.
                if w.active {
                    switched_off.insert(arn);
                    steps.push(Step::switch_off(arn, self.window.name()));
                }
                continue;
            }
            steps.push(Step::RemoveInjection {
                host: arn.to_string(),
            });
            // maint's web ACL goes with its last part.
            if host.maints && host.others(self.window.name()).next().is_none() {
                steps.push(Step::Delete {
                    acl: arn.to_string(),
                });
                deleted.insert(arn);
            } else {
                removed.insert(arn);
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
        if let Some(acl) = own.filter(|a| a.parts.len() <= 1) {
            windows
                .entry(acl.arn.as_str())
                .or_insert_with(|| (acl, BTreeSet::new()));
        }
        for (arn, (acl, leavers)) in windows {
            let armed = acl.own().filter(|w| w.info.armed_since.is_some());
            if let (Some(w), false) = (armed, leavers.is_empty()) {
                if all_leave(acl, &leavers) {
                    // Every member leaves an armed window: switched back to
                    // pass-through, still associated, still armed.
                    switched_off.insert(arn);
                    steps.push(Step::switch_off(arn, &w.info.window));
                    continue;
                }
            }
            if leave(acl, &leavers, &named, &mut steps) {
                deleted.insert(arn);
            }
        }
        let members = leaving
            .into_iter()
            .map(|left| {
                let (moves, changes) = match left? {
                    Leave::Own(acl) | Leave::Part(acl)
                        if switched_off.contains(acl.arn.as_str()) =>
                    {
                        (Move::Stay, vec![Change::SwitchedOff])
                    }
                    Leave::Part(host) if !deleted.contains(host.arn.as_str()) => {
                        let rule =
                            removed
                                .contains(host.arn.as_str())
                                .then(|| Change::RuleRemoved {
                                    web_acl: host.name.clone(),
                                });
                        (Move::Stay, rule.into_iter().collect())
                    }
                    Leave::Own(acl) | Leave::Part(acl) => {
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
        let mut leaving: Vec<Result<Option<&ObservedAcl>>> = self
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
        let named = self.named();
        let mut steps = Vec::new();
        let mut deleted: BTreeSet<&str> = BTreeSet::new();
        // Web ACLs other windows share: only this window's part leaves,
        // with every load balancer under them.
        let mut kept: BTreeSet<&str> = BTreeSet::new();
        for (arn, (acl, leavers)) in self.by_acl(&armed) {
            if acl.parts.len() <= 1 {
                if leave(acl, &leavers, &leavers, &mut steps) {
                    deleted.insert(arn);
                }
                continue;
            }
            match self.together(acl, &named, "disarm") {
                Ok(()) => {
                    steps.push(Step::RemoveInjection {
                        host: arn.to_string(),
                    });
                    kept.insert(arn);
                }
                Err(conflict) => {
                    for l in &mut leaving {
                        if matches!(l, Ok(Some(a)) if a.arn == arn) {
                            *l = Err(conflict.clone());
                        }
                    }
                }
            }
        }
        let members = leaving
            .into_iter()
            .map(|left| {
                Ok(match left? {
                    Some(acl) if kept.contains(acl.arn.as_str()) => Part {
                        moves: Move::Stay,
                        changes: vec![Change::Disarmed],
                    },
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
        let Some(w) = acl.part(self.window.name()) else {
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

/// Whether `leavers` are every load balancer associated with `acl`.
fn all_leave(acl: &ObservedAcl, leavers: &BTreeSet<&str>) -> bool {
    acl.associated.iter().all(|a| leavers.contains(a.as_str()))
}

/// `leavers` leave maint's own web ACL `acl`: it is deleted with its last
/// member (returns true), else `leaving` leave its record. A web ACL that
/// holds another window's part too is never deleted here: that would end
/// the other window's maintenance.
fn leave(
    acl: &ObservedAcl,
    leavers: &BTreeSet<&str>,
    leaving: &BTreeSet<&str>,
    steps: &mut Vec<Step>,
) -> bool {
    if all_leave(acl, leavers) && acl.parts.len() <= 1 {
        steps.push(Step::Delete {
            acl: acl.arn.clone(),
        });
        return true;
    }
    steps.extend(forget(acl, leaving));
    false
}

/// The step taking `leaving` out of the record of the window whose own
/// web ACL `acl` is, when any of them is recorded.
fn forget(acl: &ObservedAcl, leaving: &BTreeSet<&str>) -> Option<Step> {
    let w = acl.own()?;
    let members: Vec<String> = w
        .members
        .iter()
        .filter(|m| leaving.contains(m.as_str()))
        .cloned()
        .collect();
    (!members.is_empty()).then(|| Step::Forget {
        acl: acl.arn.clone(),
        window: w.info.window.clone(),
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
