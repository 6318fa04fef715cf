//! What the window rules read and say: an [`Observation`] of a window's
//! members and web ACLs, the [`Request`] asked of them, and the [`Plan`]
//! that answers it (each member's [`Part`] or refusal, and the [`Step`]s a
//! backend applies). The records a step makes or changes
//! ([`WindowRecord::new`], [`WindowRecord::update`], [`Plan::apply`] to
//! [`Records`]) are written here once too, for every backend that keeps
//! records this way; they read the clock, nothing else.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Utc;

use crate::access::BypassState;
use crate::maintenance::{
    AllowlistChange, AllowlistState, Change, MaintenanceInfo, MaintenanceSpec, Mode, Outcome,
    SharedWindow, State, Window,
};
use crate::scope::Scope;
use crate::target::ResourceArn;
use crate::Result;

/// A window of maint's as observed in the web ACL that holds it: its part
/// of that web ACL (a web ACL holds one part per window, so that windows
/// scoped to different hosts can share a load balancer, issue 21).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WindowRecord {
    /// The window's settings, as recorded.
    pub info: MaintenanceInfo,
    /// The config service the window is of, if any.
    pub service: Option<String>,
    /// The load balancers recorded as the window's members.
    pub members: BTreeSet<String>,
    /// Whether it blocks: maint's own web ACL in maintenance (not in
    /// pass-through form), or maint's injected rule still in place.
    pub active: bool,
    /// Whether the window lives in a web ACL maint did not create (its
    /// rule injected there with consent), rather than in maint's own.
    pub injected: bool,
    /// What of maint's rule was changed outside maint (say, "rule
    /// action"), when it was: a repeated `enter` or `arm` writes it again
    /// and reports [`Change::RuleRestored`]. Always `None` where nothing
    /// outside maint can change the rule (the in-memory backend).
    pub damage: Option<String>,
}

/// A web ACL as observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ObservedAcl {
    /// Its ARN.
    pub arn: String,
    /// Its name.
    pub name: String,
    /// The load balancers associated with it now.
    pub associated: BTreeSet<String>,
    /// The windows of maint's it holds, one part each, in the order they
    /// came: none for a web ACL maint did not create that carries no rule
    /// of maint's (foreign). The first window on a load balancer owns
    /// maint's web ACL (its part is not injected); a window scoped apart
    /// from it adds its own part, as an injection.
    pub parts: Vec<WindowRecord>,
    /// Whether maint created it: it is some window's own, even after that
    /// window's part left, and goes with its last part (a web ACL of a
    /// service's own never goes).
    pub maints: bool,
}

impl WindowRecord {
    /// A new window's record as [`Step::Create`] (in maint's own web ACL
    /// `acl_arn`) or [`Step::Inject`] (into `host`, the web ACL `acl_arn`)
    /// makes it: `spec`'s settings, since now; in pass-through form when
    /// `armed`.
    pub(crate) fn new(
        window: &Window,
        acl_arn: &str,
        spec: &MaintenanceSpec,
        host: Option<String>,
        armed: bool,
        members: &BTreeSet<String>,
    ) -> Self {
        let now = Utc::now();
        let info = MaintenanceInfo {
            window: window.name().to_string(),
            web_acl_arn: acl_arn.to_string(),
            reason: spec.reason.as_ref().map(|r| r.as_str().to_string()),
            since: now,
            until: spec.until,
            allowlist: AllowlistState {
                enabled: spec.allowlist_enabled,
                entries: spec.allowlist.clone(),
            },
            response: spec.response.clone(),
            armed_since: armed.then_some(now),
            host_web_acl: host,
            bypass: spec.bypass_state(None),
            client_ip: spec.client_ip.clone(),
            scope: spec.scope.clone(),
            revision: None,
        };
        Self {
            injected: info.host_web_acl.is_some(),
            info,
            service: window.service().map(str::to_string),
            members: members.clone(),
            active: !armed,
            damage: None,
        }
    }

    /// Makes a [`Step::Update`] of the window so: `settings` (see
    /// [`reentry_spec`](crate::plan::reentry_spec)), members joining the record, switched on (since
    /// now) or off, marked armed.
    pub(crate) fn update(
        &mut self,
        settings: Option<&MaintenanceSpec>,
        join: &[String],
        switch: Option<bool>,
        arm: bool,
    ) {
        let now = Utc::now();
        let info = &mut self.info;
        if let Some(wanted) = settings {
            info.reason = wanted.reason.as_ref().map(|r| r.as_str().to_string());
            info.until = wanted.until;
            info.allowlist = AllowlistState {
                enabled: wanted.allowlist_enabled,
                entries: wanted.allowlist.clone(),
            };
            info.response = wanted.response.clone();
            info.bypass = wanted.bypass_state(info.bypass.as_ref());
            info.client_ip = wanted.client_ip.clone();
            info.scope = wanted.scope.clone();
            // The rule is written again from the record.
            self.damage = None;
        }
        if switch == Some(true) && !self.active {
            info.since = now;
        }
        if let Some(on) = switch {
            self.active = on;
        }
        if arm {
            info.armed_since.get_or_insert(now);
        }
        self.members.extend(join.iter().cloned());
    }
}

impl ObservedAcl {
    /// The part of window `window`, if it holds one.
    pub(crate) fn part(&self, window: &str) -> Option<&WindowRecord> {
        self.parts.iter().find(|w| w.info.window == window)
    }

    /// The part of the window whose own web ACL it is (the one part not
    /// injected), if that window is still in it.
    pub(crate) fn own(&self) -> Option<&WindowRecord> {
        self.parts.iter().find(|w| !w.injected)
    }

    /// The part that answers for a load balancer under it when window
    /// `window` asks: that window's own part; else the owner's (the window
    /// the load balancer is in first); else the first; `None`: no part
    /// (foreign).
    pub(crate) fn part_for(&self, window: &str) -> Option<&WindowRecord> {
        self.part(window)
            .or_else(|| self.own())
            .or_else(|| self.parts.first())
    }

    /// The parts of windows other than `window`.
    pub(crate) fn others<'s>(&'s self, window: &'s str) -> impl Iterator<Item = &'s WindowRecord> {
        self.parts.iter().filter(move |w| w.info.window != window)
    }
}

/// Whether a load balancer whose web ACL holds the windows `parts` (name
/// and scope each) is beside `window` rather than in another window:
/// `window` has no part there and every part is scoped to hosts or paths
/// of its own (requests outside them are untouched). `status` of `window`
/// then shows it normal, the others listed as sharing it.
pub(crate) fn beside<'a>(
    window: &str,
    parts: impl IntoIterator<Item = (&'a str, &'a Scope)>,
) -> bool {
    let mut any = false;
    for (name, scope) in parts {
        if name == window || scope.is_everything() {
            return false;
        }
        any = true;
    }
    any
}

/// What `status` of `window` shows for a load balancer under `acl`
/// (`None`: none): its state (see [`state_of`], or normal when it is
/// [`beside`] the windows there) and the other windows in `acl`.
pub(crate) fn status_of(acl: Option<&ObservedAcl>, window: &str) -> (State, Vec<SharedWindow>) {
    let Some(acl) = acl else {
        return (State::Normal, Vec::new());
    };
    let parts = acl
        .parts
        .iter()
        .map(|w| (w.info.window.as_str(), &w.info.scope));
    let (state, shown) = if beside(window, parts) {
        (State::Normal, "")
    } else {
        let shown = acl.part_for(window).map_or("", |w| w.info.window.as_str());
        (state_of(Some(acl), window), shown)
    };
    let sharing = acl
        .others(shown)
        .map(|w| SharedWindow {
            window: w.info.window.clone(),
            in_maintenance: w.active,
            scope: w.info.scope.clone(),
        })
        .collect();
    (state, sharing)
}

/// The state a load balancer under `acl` (`None`: none) is in, as window
/// `window` sees it: the part of `acl` that answers it (see
/// [`ObservedAcl::part_for`]: its own, else the owner's, else the first).
pub(crate) fn state_of(acl: Option<&ObservedAcl>, window: &str) -> State {
    let Some(acl) = acl else {
        return State::Normal;
    };
    match acl.part_for(window) {
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

/// What a backend observed before a request.
#[derive(Debug, Clone, Default)]
pub(crate) struct Observation {
    /// Per member named, in order: the ARN of the web ACL it is under
    /// (`None`: none), or why it could not be observed (that member's
    /// refusal). A backend that reads a member again right before
    /// associating it, and refuses it then in the planner's words, may
    /// give `None` for a member it has not read yet (the WAF backend's
    /// `enter` and `arm`, to spare AWS's slowest call).
    pub members: Vec<Result<Option<String>>>,
    /// The web ACLs the members are under and the window's own, by ARN.
    pub acls: BTreeMap<String, ObservedAcl>,
    /// The ARN of maint's own web ACL of the window (found by its name),
    /// if there is one.
    pub own: Option<String>,
}

/// What is asked of a window's members.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Request<'a> {
    /// Put them into maintenance (`enter`).
    Enter(&'a MaintenanceSpec),
    /// Associate them in pass-through form, ready to switch (`arm`).
    Arm(&'a MaintenanceSpec),
    /// Take them out of maintenance (`exit`).
    Exit,
    /// Take an armed window away (`disarm`).
    Disarm,
    /// Edit the allowlist (or the bypass) of the window in maintenance.
    Allowlist(&'a AllowlistChange),
}

/// What a member's association does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Move {
    /// Nothing.
    Stay,
    /// Associated with the window's own web ACL: the one observed, or the
    /// one [`Step::Create`] makes.
    Join,
    /// Disassociated from the web ACL it is under.
    Leave,
}

/// A member's part in a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Part {
    /// What its association does.
    pub moves: Move,
    /// What it reports.
    pub changes: Vec<Change>,
}

/// A change of a web ACL (a window), in the order a plan lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// maint's own web ACL of the window is created, recording `members`,
    /// as `spec` says; in pass-through form when `armed`.
    Create {
        /// The members recorded.
        members: BTreeSet<String>,
        /// What the window is.
        spec: MaintenanceSpec,
        /// Created armed, in pass-through form.
        armed: bool,
    },
    /// maint's rule for the window is injected into web ACL `host` (one
    /// maint did not create), recording `members`.
    Inject {
        /// The ARN of the web ACL.
        host: String,
        /// The members recorded.
        members: BTreeSet<String>,
        /// What the window is.
        spec: MaintenanceSpec,
    },
    /// The window's part of web ACL `acl` is changed in place, in one
    /// write.
    Update {
        /// The ARN of the web ACL holding the window.
        acl: String,
        /// The window whose part it is (the one asked about, or the owner
        /// of the web ACL a member of another window leaves).
        window: String,
        /// Its settings brought to this (a repeated `enter` or `arm`, see
        /// [`reentry_spec`](crate::plan::reentry_spec)).
        settings: Option<MaintenanceSpec>,
        /// Members joining its record.
        join: Vec<String>,
        /// Switched into maintenance (`Some(true)`: since now; an
        /// injected rule put back) or to pass-through form (`Some(false)`).
        switch: Option<bool>,
        /// Marked armed (since now, unless it is already).
        arm: bool,
    },
    /// Members leave the record of a window's part of web ACL `acl`.
    Forget {
        /// The ARN of the web ACL holding the window.
        acl: String,
        /// The window whose part it is (as in [`Step::Update`]).
        window: String,
        /// The members leaving its record.
        members: Vec<String>,
    },
    /// maint's own web ACL `acl` is deleted: its last member, or its last
    /// part, left.
    Delete {
        /// The ARN of the web ACL.
        acl: String,
    },
    /// The window's part (its rule and record) leaves web ACL `host`: one
    /// maint did not create, which stays as it was before maint, or one
    /// shared with other windows, whose parts stay as they are.
    RemoveInjection {
        /// The ARN of the web ACL.
        host: String,
    },
    /// The allowlist and bypass of the window's part of web ACL `acl`
    /// become these (no other window's part changes).
    SetAccess {
        /// The ARN of the web ACL holding the window.
        acl: String,
        /// The allowlist after the edit.
        allowlist: AllowlistState,
        /// The bypass after the edit.
        bypass: Option<BypassState>,
    },
}

impl Step {
    /// The step switching the part of window `window` in web ACL `acl`
    /// back to pass-through form (an armed window every member leaves).
    pub(crate) fn switch_off(acl: &str, window: &str) -> Self {
        Step::Update {
            acl: acl.to_string(),
            window: window.to_string(),
            settings: None,
            join: Vec::new(),
            switch: Some(false),
            arm: false,
        }
    }
}

/// What a request does: per member, its refusal or its part; for the
/// windows, the steps, in order.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// Per member named, in order.
    pub members: Vec<Result<Part>>,
    /// What happens to web ACLs, before any member's association moves.
    pub steps: Vec<Step>,
}

/// What `lb` reports of an operation (in `mode`): `changes`.
pub(crate) fn outcome(lb: &ResourceArn, mode: Mode, changes: Vec<Change>) -> Outcome {
    Outcome {
        load_balancer: lb.clone(),
        mode,
        changes,
    }
}

/// Web ACLs and associations a plan is applied to, for a backend that
/// keeps windows as [`WindowRecord`]s (the in-memory one, and the tests'
/// model of a world).
pub(crate) trait Records {
    /// Creates maint's own web ACL of `window`, holding `record` (made for
    /// the ARN it is given by `record`); returns its ARN.
    fn create(&mut self, window: &Window, record: &dyn Fn(&str) -> WindowRecord) -> Result<String>;
    /// The name of web ACL `acl`.
    fn name(&self, acl: &str) -> Result<String>;
    /// The part of window `window` in web ACL `acl`, added or replaced
    /// (or taken away: `None`); the other windows' parts stay.
    fn set(&mut self, acl: &str, window: &str, record: Option<WindowRecord>) -> Result<()>;
    /// The part of window `window` in web ACL `acl`.
    fn record(&mut self, acl: &str, window: &str) -> Result<&mut WindowRecord>;
    /// Deletes web ACL `acl`.
    fn delete(&mut self, acl: &str);
    /// Associates `lb` with web ACL `acl` (`None`: disassociates it).
    fn associate(&mut self, lb: &ResourceArn, acl: Option<&str>);
}

impl Plan {
    /// Makes the plan so in `records`: its steps, then each member's
    /// association. `own`: the window's own web ACL, if there is one
    /// already (the one [`Step::Create`] makes, else).
    pub(crate) fn apply(
        &self,
        window: &Window,
        lbs: &[ResourceArn],
        mut own: Option<String>,
        records: &mut dyn Records,
    ) -> Result<()> {
        for step in &self.steps {
            match step {
                Step::Create {
                    members,
                    spec,
                    armed,
                } => {
                    let record =
                        |arn: &str| WindowRecord::new(window, arn, spec, None, *armed, members);
                    own = Some(records.create(window, &record)?);
                }
                Step::Inject {
                    host,
                    members,
                    spec,
                } => {
                    let name = Some(records.name(host)?);
                    let record = WindowRecord::new(window, host, spec, name, false, members);
                    records.set(host, window.name(), Some(record))?;
                }
                Step::Update {
                    acl,
                    window,
                    settings,
                    join,
                    switch,
                    arm,
                } => records
                    .record(acl, window)?
                    .update(settings.as_ref(), join, *switch, *arm),
                Step::Forget {
                    acl,
                    window,
                    members,
                } => {
                    records
                        .record(acl, window)?
                        .members
                        .retain(|m| !members.contains(m));
                }
                Step::Delete { acl } => records.delete(acl),
                Step::RemoveInjection { host } => records.set(host, window.name(), None)?,
                Step::SetAccess {
                    acl,
                    allowlist,
                    bypass,
                } => {
                    let info = &mut records.record(acl, window.name())?.info;
                    info.allowlist = allowlist.clone();
                    info.bypass = bypass.clone();
                }
            }
        }
        for (lb, part) in lbs.iter().zip(&self.members) {
            match part.as_ref().map(|p| p.moves) {
                Ok(Move::Join) => {
                    if let Some(arn) = &own {
                        records.associate(lb, Some(arn));
                    }
                }
                Ok(Move::Leave) => records.associate(lb, None),
                _ => {}
            }
        }
        Ok(())
    }

    /// Each member's outcome (in `mode`) or refusal.
    pub(crate) fn outcomes(&self, lbs: &[ResourceArn], mode: Mode) -> Vec<Result<Outcome>> {
        lbs.iter()
            .zip(&self.members)
            .map(|(lb, part)| part.clone().map(|part| outcome(lb, mode, part.changes)))
            .collect()
    }

    /// Every member takes the same part or its own refusal.
    pub(crate) fn each(
        parts: Vec<Result<()>>,
        moves: Move,
        changes: &[Change],
        steps: Vec<Step>,
    ) -> Self {
        let members = parts
            .into_iter()
            .map(|p| {
                p.map(|()| Part {
                    moves,
                    changes: changes.to_vec(),
                })
            })
            .collect();
        Self { members, steps }
    }
}
