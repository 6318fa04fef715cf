//! The maintenance domain: what a maintenance window is ([`MaintenanceSpec`]),
//! how an allowlist is changed during one ([`AllowlistChange`]), what a target
//! looks like ([`TargetStatus`]) and what an operation did ([`Outcome`]).

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::access::{BypassRequest, BypassState, ClientIp};
use crate::allowlist::{Allowlist, AllowlistError, Cidr};
use crate::error::InvalidInput;
use crate::response::{MaintenanceResponse, ResponseRequest};
use crate::scope::{Scope, ScopeParts};
use crate::target::ResourceArn;

/// Why a service is in maintenance, as shown by `status`: 1 to
/// [`Reason::MAX_CHARS`] characters, no control characters, trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Reason(String);

impl Reason {
    /// The longest reason accepted, in characters.
    pub const MAX_CHARS: usize = 200;

    /// Validates a reason.
    pub fn new(text: &str) -> Result<Self, InvalidInput> {
        let text = text.trim();
        let subject = || format!("reason {text:?}");
        if text.is_empty() {
            return Err(InvalidInput::new("reason", "must not be empty"));
        }
        if text.chars().count() > Self::MAX_CHARS {
            return Err(InvalidInput::new(
                subject(),
                format!("longer than {} characters", Self::MAX_CHARS),
            ));
        }
        if let Some(c) = text.chars().find(|c| c.is_control()) {
            return Err(InvalidInput::new(
                subject(),
                format!("contains the control character {c:?}"),
            ));
        }
        Ok(Reason(text.to_string()))
    }

    /// A reason as a window recorded it (validated when it was given;
    /// taken as it is, so a repeated `enter` keeps it unchanged).
    #[cfg(any(test, feature = "testing", feature = "aws"))]
    pub(crate) fn recorded(text: &str) -> Self {
        Reason(text.to_string())
    }

    /// The reason text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The latest planned end maint accepts: the last second of the year 9999.
/// RFC 3339 (`--until`) writes four-digit years, and Python's `datetime`
/// (what `status()` hands a Python caller) ends there too; durations
/// (`--for`) are held to the same limit.
pub fn latest_end() -> DateTime<Utc> {
    // 253402300799 s after the epoch is 9999-12-31T23:59:59Z.
    DateTime::from_timestamp(253_402_300_799, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Checks a planned end given as a time: at most [`latest_end`].
pub fn check_end(until: DateTime<Utc>) -> Result<DateTime<Utc>, InvalidInput> {
    if until > latest_end() {
        return Err(InvalidInput::new(
            format!(
                "planned end {}",
                until.to_rfc3339_opts(SecondsFormat::Secs, true)
            ),
            end_limit(),
        ));
    }
    Ok(until)
}

/// The planned end `duration` after `now`: at most [`latest_end`] (a
/// duration too long for that is invalid input, never an overflow).
pub fn end_after(
    now: DateTime<Utc>,
    duration: std::time::Duration,
) -> Result<DateTime<Utc>, InvalidInput> {
    chrono::TimeDelta::from_std(duration)
        .ok()
        .and_then(|delta| now.checked_add_signed(delta))
        .filter(|end| *end <= latest_end())
        .ok_or_else(|| {
            InvalidInput::new(format!("duration of {} s", duration.as_secs()), end_limit())
        })
}

fn end_limit() -> String {
    format!(
        "it ends after {}, the latest planned end maint accepts",
        latest_end().to_rfc3339_opts(SecondsFormat::Secs, true)
    )
}

/// A maintenance window: load balancers that go into maintenance together,
/// under one web ACL with one allowlist, response, reason and end time. The
/// load balancers of a config service share the service's window; a load
/// balancer named on its own is a window of one.
///
/// The name is deterministic (a rerun after a crash finds what the crashed
/// run made) and within AWS WAF's name rules (1 to 128 of `[A-Za-z0-9_-]`,
/// with room for the `-ipv4`/`-ipv6` of its IP sets).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Window {
    name: String,
    service: Option<String>,
}

impl Window {
    /// The window of a config service: `maint-svc-<service>` (characters
    /// WAF does not allow in names become `-`, and a hash of the service's
    /// name keeps such names apart).
    pub fn of_service(service: &str) -> Self {
        Self {
            name: Self::named("maint-svc-", service),
            service: Some(service.to_string()),
        }
    }

    /// The window of load balancers named together in one command that
    /// share a web ACL of another owner (a security team's), injected into
    /// it: `maint-acl-<web ACL name>`. A later command that names any of
    /// them finds it through their association.
    pub fn of_host_acl(web_acl_name: &str) -> Self {
        Self {
            name: Self::named("maint-acl-", web_acl_name),
            service: None,
        }
    }

    /// `prefix` and `raw`, with characters WAF does not allow in names
    /// made `-` and a hash of `raw` keeping such names (and long ones)
    /// apart.
    fn named(prefix: &str, raw: &str) -> String {
        let clean: String = raw
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '-'
                }
            })
            .take(96)
            .collect();
        if clean == raw {
            format!("{prefix}{clean}")
        } else {
            // FNV-1a: stable across runs and platforms, unlike std's hasher.
            let hash = raw.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            });
            format!("{prefix}{clean}-{:08x}", hash as u32)
        }
    }

    /// The window of one load balancer (or other resource) named on its
    /// own: `maint-<name>-<id>` (for a resource other than a load balancer,
    /// characters WAF does not allow in names made `-`, and a hash keeping
    /// such names apart).
    pub fn of_load_balancer(lb: &ResourceArn) -> Self {
        let name = if lb.is_load_balancer() {
            format!("maint-{}-{}", lb.name(), lb.id())
        } else {
            Self::named("maint-", &format!("{}-{}", lb.name(), lb.id()))
        };
        Self {
            name,
            service: None,
        }
    }

    /// The window's name: its web ACL's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The config service whose window this is, if any.
    pub fn service(&self) -> Option<&str> {
        self.service.as_deref()
    }

    /// A window as a backend recorded it (its name and service), for
    /// windows found in AWS rather than named by the user.
    #[cfg_attr(not(any(feature = "aws", feature = "testing")), allow(dead_code))]
    pub(crate) fn recorded(name: &str, service: Option<&str>) -> Self {
        Self {
            name: name.to_string(),
            service: service.map(str::to_string),
        }
    }

    /// Whether `lbs` may join the window of this name already in place
    /// (`resource`: its web ACL), recorded for `service` with `members`.
    /// Two unrelated services are never merged: a window of another
    /// service, or one whose members are all other load balancers (two
    /// config files that both define the service), is a conflict. Any
    /// shared member means the same service (its config grew, or some of
    /// its members left).
    pub fn check_joins<'a>(
        &self,
        resource: &str,
        service: Option<&str>,
        members: impl IntoIterator<Item = &'a str>,
        lbs: &[ResourceArn],
    ) -> Result<(), crate::Error> {
        let members: Vec<&str> = members.into_iter().collect();
        let shared = lbs.iter().any(|lb| members.contains(&lb.as_str()));
        if service == self.service() && (members.is_empty() || shared) {
            return Ok(());
        }
        Err(crate::Error::Conflict {
            resource: resource.to_string(),
            message: format!(
                "web ACL {} holds the window of other load balancers ({}), none of which is \
                 named here: two services with the same name (say, from two config files) are \
                 never merged; rename one of them",
                self.name,
                members.join(", ")
            ),
        })
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.service {
            Some(service) => write!(f, "{} (service {service})", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// What `enter` does with a load balancer that already carries a web ACL
/// maint did not create (a service's own security ACL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExistingWebAcl {
    /// Refuse, naming the web ACL, and change nothing (the default: maint
    /// never edits a security control without consent).
    #[default]
    Refuse,
    /// With consent: add maint's rule to that web ACL, first in evaluation
    /// order, with the bodies and IP sets it needs; `exit` removes exactly
    /// that. Requests let through continue into the ACL's own rules.
    Inject,
}

impl ExistingWebAcl {
    /// The config file's spelling (`refuse`, `inject`).
    pub fn as_str(self) -> &'static str {
        match self {
            ExistingWebAcl::Refuse => "refuse",
            ExistingWebAcl::Inject => "inject",
        }
    }
}

/// Everything that defines one maintenance window on a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaintenanceSpec {
    /// Who gets through while the allowlist is enabled.
    pub allowlist: Allowlist,
    /// Whether the allowlist lets its entries through (testers in) or not.
    pub allowlist_enabled: bool,
    /// Why, shown by `status`.
    pub reason: Option<Reason>,
    /// The planned end, shown by `status` and on the default page.
    pub until: Option<DateTime<Utc>>,
    /// What everyone else gets.
    pub response: MaintenanceResponse,
    /// What to do with a load balancer under a web ACL maint did not create.
    pub existing_web_acl: ExistingWebAcl,
    /// The bypass secret: kept, set, rotated or removed.
    pub bypass: BypassRequest,
    /// Whether the bypass lets requests through (kept on a repeated
    /// `enter`, like the allowlist's).
    pub bypass_enabled: bool,
    /// Where the allowlist finds a request's address.
    pub client_ip: ClientIp,
    /// The hosts and paths the window covers on its load balancers, and
    /// the paths that always stay open (default: everything, none open).
    pub scope: Scope,
    /// What the caller asked for, as opposed to defaults: a repeated
    /// `enter` or `arm` changes only these and keeps the window's own value
    /// of every other setting (the window rules' re-entry). `None`: this spec
    /// states the whole window (reason, end, response, client address).
    pub given: Option<Given>,
}

/// Which settings of a [`MaintenanceSpec`] its caller gave (a flag, a
/// keyword argument or the service's config). A repeated `enter` or `arm`
/// keeps every setting it is not given, as it keeps the allowlist and the
/// bypass: `maint arm shop --reason R --for 1h` then `maint enter shop`
/// keeps the reason and the end.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Given {
    /// The reason was given.
    pub reason: bool,
    /// The planned end was given.
    pub until: bool,
    /// The parts of the response asked for.
    pub response: ResponseRequest,
    /// Where the client address comes from was given.
    pub client_ip: bool,
    /// The parts of the scope (hosts, paths, open paths) given.
    pub scope: ScopeParts,
}

impl MaintenanceSpec {
    /// The bypass a window gets from this spec, given the one it has.
    pub fn bypass_state(&self, current: Option<&BypassState>) -> Option<BypassState> {
        self.bypass
            .resolve(current.map(|b| &b.secret))
            .map(|secret| BypassState {
                secret,
                enabled: self.bypass_enabled,
            })
    }
}

impl Default for MaintenanceSpec {
    /// An empty, enabled allowlist, no reason or end, the default response,
    /// refusing foreign web ACLs.
    fn default() -> Self {
        Self {
            allowlist: Allowlist::new(),
            allowlist_enabled: true,
            reason: None,
            until: None,
            response: MaintenanceResponse::default(),
            existing_web_acl: ExistingWebAcl::Refuse,
            bypass: BypassRequest::Keep,
            bypass_enabled: true,
            client_ip: ClientIp::Connection,
            scope: Scope::everything(),
            given: None,
        }
    }
}

/// Whether a changing operation applies its changes or only reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Make the changes.
    #[default]
    Apply,
    /// Make no write call; the [`Outcome`] lists what would change.
    DryRun,
}

impl Mode {
    /// [`Mode::DryRun`] when `dry_run`, else [`Mode::Apply`] (a `--dry-run`
    /// flag or a `dry_run=` argument).
    pub fn from_dry_run(dry_run: bool) -> Self {
        if dry_run {
            Mode::DryRun
        } else {
            Mode::Apply
        }
    }

    /// True for [`Mode::DryRun`].
    pub fn is_dry_run(self) -> bool {
        self == Mode::DryRun
    }
}

/// The allowlist of a target in maintenance.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct AllowlistState {
    /// Whether the entries are let through.
    pub enabled: bool,
    /// The entries.
    pub entries: Allowlist,
}

/// One change to the allowlist of a target in maintenance. Backends apply the
/// *change* to the freshly read state, so when two operators edit at once,
/// both edits survive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowlistChange {
    /// Let the entries through.
    Enable,
    /// Stop letting the entries through, keeping them; the bypass (if
    /// any) is shut too.
    Disable,
    /// Stop letting the entries through but keep the bypass open
    /// (`allowlist disable --keep-bypass`).
    DisableKeepingBypass,
    /// Add entries.
    Add(Allowlist),
    /// Take addresses out (a removed range inside a larger entry splits it).
    Remove(Allowlist),
    /// Replace all entries.
    Set(Allowlist),
}

impl AllowlistChange {
    /// The state after this change. Fails only when adding would exceed the
    /// per-family limit or cover a whole family.
    pub fn apply(&self, state: &AllowlistState) -> Result<AllowlistState, AllowlistError> {
        let mut next = state.clone();
        match self {
            AllowlistChange::Enable => next.enabled = true,
            AllowlistChange::Disable | AllowlistChange::DisableKeepingBypass => {
                next.enabled = false
            }
            AllowlistChange::Add(entries) => next.entries = state.entries.union(entries)?,
            AllowlistChange::Remove(entries) => next.entries = state.entries.subtract(entries),
            AllowlistChange::Set(entries) => next.entries = entries.clone(),
        }
        Ok(next)
    }

    /// Whether a window's bypass is open after this change, given whether
    /// it is now: `enable` opens it, `disable` shuts it, the rest keep it.
    pub fn bypass_enabled(&self, now: bool) -> bool {
        match self {
            AllowlistChange::Enable => true,
            AllowlistChange::Disable => false,
            _ => now,
        }
    }
}

/// What a target's state is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// No web ACL: the service serves traffic as usual.
    Normal,
    /// In maintenance: under maint's own web ACL, or through maint's rule in
    /// the service's own web ACL ([`MaintenanceInfo::host_web_acl`]).
    Maintenance(Box<MaintenanceInfo>),
    /// Armed: maint's own web ACL is associated in pass-through form
    /// (nothing blocked), so that `enter` and `exit` are one update each.
    /// The info holds what is prepared (allowlist, response) and
    /// [`MaintenanceInfo::armed_since`].
    Armed(Box<MaintenanceInfo>),
    /// maint's rule was injected into the service's own web ACL for a
    /// window and has since been removed by someone else (an IaC apply, a
    /// console edit): the service is NOT in maintenance. `enter` puts the
    /// rule back; `exit` removes what is left of maint's.
    Reverted {
        /// The window whose rule went.
        window: String,
        /// The service's web ACL.
        web_acl_arn: String,
        /// Its name.
        web_acl_name: String,
    },
    /// maint's record puts the load balancer in the window, but it no
    /// longer carries the window's web ACL: another writer (the AWS Load
    /// Balancer Controller, an IaC apply, a person) removed the association
    /// or put its own web ACL back. The service is NOT in maintenance;
    /// `enter` associates it again (where no other web ACL holds it),
    /// `exit` ends the window.
    Detached {
        /// The window that lost it.
        window: String,
        /// maint's web ACL of the window.
        web_acl_arn: String,
        /// Its name.
        web_acl_name: String,
        /// The name of the web ACL the load balancer carries now, if any.
        now: Option<String>,
    },
    /// A web ACL that maint did not create is associated.
    Foreign {
        /// That ACL's ARN.
        web_acl_arn: String,
        /// That ACL's name.
        web_acl_name: String,
    },
}

/// A maintenance window as read back from the backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaintenanceInfo {
    /// The window's name (its web ACL's name).
    pub window: String,
    /// The web ACL carrying the window.
    pub web_acl_arn: String,
    /// Why, as given on `enter`.
    pub reason: Option<String>,
    /// When maintenance was entered (kept across repeated `enter`s).
    pub since: DateTime<Utc>,
    /// The planned end, if one was given.
    pub until: Option<DateTime<Utc>>,
    /// The allowlist and whether it is enabled.
    pub allowlist: AllowlistState,
    /// What blocked requests get.
    pub response: MaintenanceResponse,
    /// When the window was armed (maint's web ACL associated ahead of time
    /// in pass-through form); `None` when it was not.
    pub armed_since: Option<DateTime<Utc>>,
    /// The name of the service's own web ACL when maint's rule is injected
    /// into it; `None` under maint's own web ACL.
    pub host_web_acl: Option<String>,
    /// The bypass, if the window has one.
    pub bypass: Option<BypassState>,
    /// Where the allowlist finds a request's address.
    pub client_ip: ClientIp,
    /// The hosts and paths the window covers, and the paths always open.
    pub scope: Scope,
    /// The revision of the window's rules as its maintenance responses
    /// carry it (the `x-maint-window` marker), when the backend serves
    /// HTTP; `--wait` probes for it.
    pub revision: Option<String>,
}

/// A window of maint's found in a backend's region (see
/// [`MaintenanceBackend::windows`](crate::MaintenanceBackend::windows)).
#[derive(Debug, Clone)]
pub struct WindowSummary {
    /// The window.
    pub window: Window,
    /// Its recorded members.
    pub members: Vec<ResourceArn>,
    /// Its planned end.
    pub until: Option<DateTime<Utc>>,
    /// Whether it is in maintenance (an armed window in pass-through form
    /// is not).
    pub in_maintenance: bool,
    /// Why the window cannot be acted on as it is (maint's rule changed
    /// outside maint, its web ACL unreadable), when it cannot: such a
    /// window is reported, never switched, and never stops the others.
    pub problem: Option<crate::Error>,
}

impl WindowSummary {
    /// Whether it is in maintenance past its planned end (at `now`).
    pub fn overdue(&self, now: DateTime<Utc>) -> bool {
        self.in_maintenance && self.until.is_some_and(|u| u <= now)
    }

    /// Whether it has a [problem](Self::problem) and may be past its end
    /// (its end passed, or is not known): what `exit --expired` reports.
    pub fn stuck(&self, now: DateTime<Utc>) -> bool {
        self.problem.is_some() && self.until.is_none_or(|u| u <= now)
    }
}

/// The state of one load balancer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetStatus {
    /// The load balancer.
    pub load_balancer: ResourceArn,
    /// Its state.
    pub state: State,
    /// Names of maint's resources for this load balancer that exist but are
    /// not in use (left by an interrupted run): rerun the command, or `exit`
    /// to remove them. Empty in the common case.
    pub leftovers: Vec<String>,
    /// The other windows on this load balancer, sharing its one web ACL
    /// (each scoped to hosts or paths of its own; issue 21): empty unless
    /// services share it.
    pub sharing: Vec<SharedWindow>,
    /// A CloudFront distribution's status: `Deployed`, or `InProgress`
    /// while a change (maint's web ACL set or cleared) reaches CloudFront's
    /// edge locations, which takes minutes; `None` for other kinds.
    pub deployment: Option<String>,
}

/// Another window on a load balancer, in the same web ACL (its own part
/// of it), as `status` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SharedWindow {
    /// The window's name.
    pub window: String,
    /// Whether it is in maintenance now (else armed, in pass-through form,
    /// or its rule was removed).
    pub in_maintenance: bool,
    /// The hosts and paths it covers.
    pub scope: Scope,
}

impl TargetStatus {
    /// The maintenance details when in maintenance.
    pub fn maintenance(&self) -> Option<&MaintenanceInfo> {
        match &self.state {
            State::Maintenance(info) => Some(info),
            _ => None,
        }
    }

    /// The window's details when in maintenance or armed.
    pub fn window_info(&self) -> Option<&MaintenanceInfo> {
        match &self.state {
            State::Maintenance(info) | State::Armed(info) => Some(info),
            _ => None,
        }
    }
}

/// One change an operation made (or, in a dry run, would make).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Change {
    /// A web ACL (and its IP sets) was created for the target.
    CreatedWebAcl {
        /// The web ACL's name.
        name: String,
    },
    /// The web ACL was associated with the load balancer: maintenance is on.
    Associated,
    /// Entries were added to the allowlist.
    AllowlistAdded {
        /// The entries.
        entries: Vec<Cidr>,
    },
    /// Entries were removed from the allowlist.
    AllowlistRemoved {
        /// The entries.
        entries: Vec<Cidr>,
    },
    /// The allowlist now lets its entries through.
    AllowlistEnabled,
    /// The allowlist no longer lets its entries through.
    AllowlistDisabled,
    /// The reason changed.
    ReasonChanged {
        /// The new reason.
        reason: Option<String>,
    },
    /// The planned end changed.
    UntilChanged {
        /// The new planned end.
        until: Option<DateTime<Utc>>,
    },
    /// The maintenance response (status, body or headers) changed.
    ResponseChanged,
    /// The web ACL was disassociated: the service serves traffic again.
    Disassociated,
    /// A web ACL of maint's was deleted.
    DeletedWebAcl {
        /// Its name.
        name: String,
    },
    /// An IP set of maint's was deleted.
    DeletedIpSet {
        /// Its name.
        name: String,
    },
    /// maint's rule was added to the service's own web ACL: maintenance is
    /// on.
    RuleInjected {
        /// That web ACL's name.
        web_acl: String,
    },
    /// maint's rule (and everything else maint added) was removed from the
    /// service's own web ACL: maintenance is off.
    RuleRemoved {
        /// That web ACL's name.
        web_acl: String,
    },
    /// maint's web ACL was associated in pass-through form: armed.
    Armed,
    /// An armed window was switched to maintenance (one update).
    SwitchedOn,
    /// An armed window was switched back to pass-through (one update); it
    /// stays armed.
    SwitchedOff,
    /// maint's pass-through web ACL was disassociated: disarmed.
    Disarmed,
    /// A bypass secret was set: its header, cookie and link let requests
    /// through.
    BypassOn,
    /// The bypass was removed.
    BypassOff,
    /// The bypass secret was replaced: old links and cookies stop working.
    BypassRotated,
    /// The bypass lets requests through again.
    BypassEnabled,
    /// The bypass no longer lets requests through (it is kept).
    BypassDisabled,
    /// Where the allowlist finds a request's address changed.
    ClientIpChanged {
        /// Where it finds it now, in words.
        source: String,
    },
    /// The hosts, paths or open paths of the window changed.
    ScopeChanged {
        /// The scope now, in words (`None`: every request, nothing open).
        scope: Option<String>,
    },
    /// maint's rule, changed outside maint (set to Count, edited, removed
    /// from maint's own web ACL), was written again from the window's
    /// record.
    RuleRestored {
        /// What had been changed, e.g. "rule action".
        what: String,
    },
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |entries: &[Cidr]| {
            entries
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            Change::CreatedWebAcl { name } => write!(f, "create web ACL {name}"),
            Change::Associated => f.write_str("associate web ACL (maintenance on)"),
            Change::AllowlistAdded { entries } => write!(f, "allowlist add {}", list(entries)),
            Change::AllowlistRemoved { entries } => {
                write!(f, "allowlist remove {}", list(entries))
            }
            Change::AllowlistEnabled => f.write_str("allowlist enabled"),
            Change::AllowlistDisabled => f.write_str("allowlist disabled"),
            Change::ReasonChanged { reason: Some(r) } => write!(f, "reason set to {r:?}"),
            Change::ReasonChanged { reason: None } => f.write_str("reason cleared"),
            Change::UntilChanged { until: Some(t) } => write!(
                f,
                "planned end set to {}",
                t.to_rfc3339_opts(SecondsFormat::Secs, true)
            ),
            Change::UntilChanged { until: None } => f.write_str("planned end cleared"),
            Change::ResponseChanged => f.write_str("maintenance response updated"),
            Change::Disassociated => f.write_str("disassociate web ACL (maintenance off)"),
            Change::DeletedWebAcl { name } => write!(f, "delete web ACL {name}"),
            Change::DeletedIpSet { name } => write!(f, "delete IP set {name}"),
            Change::RuleInjected { web_acl } => {
                write!(f, "add maint's rule to web ACL {web_acl} (maintenance on)")
            }
            Change::RuleRemoved { web_acl } => {
                write!(
                    f,
                    "remove maint's rule from web ACL {web_acl} (maintenance off)"
                )
            }
            Change::Armed => f.write_str("associate web ACL in pass-through form (armed)"),
            Change::SwitchedOn => f.write_str("switch the armed web ACL to maintenance"),
            Change::SwitchedOff => f.write_str(
                "switch the armed web ACL to pass-through (maintenance off, still armed)",
            ),
            Change::Disarmed => f.write_str("disassociate the pass-through web ACL (disarmed)"),
            Change::BypassOn => f.write_str("bypass on (header, cookie and link)"),
            Change::BypassOff => f.write_str("bypass removed"),
            Change::BypassRotated => {
                f.write_str("bypass secret rotated (old links and cookies stop working)")
            }
            Change::BypassEnabled => f.write_str("bypass enabled"),
            Change::BypassDisabled => f.write_str("bypass disabled"),
            Change::ClientIpChanged { source } => {
                write!(f, "allowlist matches the client address from {source}")
            }
            Change::ScopeChanged { scope: Some(scope) } => write!(f, "scope now {scope}"),
            Change::ScopeChanged { scope: None } => {
                f.write_str("scope now every host and path, no open path")
            }
            Change::RuleRestored { what } => {
                write!(
                    f,
                    "restore maint's rule (its {what} was changed outside maint)"
                )
            }
        }
    }
}

/// What one changing operation did to one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The load balancer acted on.
    pub load_balancer: ResourceArn,
    /// Whether the changes were applied or only planned.
    pub mode: Mode,
    /// The changes, in the order made. Empty when the target already was as
    /// asked.
    pub changes: Vec<Change>,
}

impl Outcome {
    /// True when something changed (or, in a dry run, would change).
    pub fn changed(&self) -> bool {
        !self.changes.is_empty()
    }
}

/// Where a load balancer named on its own stands, as a backend read it,
/// for [`shared_windows`].
#[derive(Debug, Clone)]
pub enum Standing {
    /// In a window of maint's (its own web ACL's, or injected).
    Window(Window),
    /// Under a web ACL maint did not create (and holding no window).
    Foreign {
        /// That web ACL's name.
        web_acl: String,
    },
    /// Normal, or not readable (the operation reports it).
    Other,
}

/// The windows load balancers named on their own in one command are acted
/// on in (`None`: its window of one): the window each is in already (a
/// config service's, or one injected into a shared web ACL), so that
/// naming them finds it; and, with `consent` to inject, a web ACL of
/// another owner that two or more of them share is one window named after
/// it ([`Window::of_host_acl`]): a rule there reaches all of them, so they
/// go into maintenance together, with one update.
pub fn shared_windows(
    lbs: &[ResourceArn],
    standings: &[Standing],
    consent: bool,
) -> Vec<Option<Window>> {
    let sharing = |name: &str| {
        standings
            .iter()
            .filter(|s| matches!(s, Standing::Foreign { web_acl } if web_acl == name))
            .count()
    };
    lbs.iter()
        .zip(standings)
        .map(|(lb, standing)| match standing {
            Standing::Window(w) if w.name() != Window::of_load_balancer(lb).name() => {
                Some(w.clone())
            }
            Standing::Foreign { web_acl } if consent && sharing(web_acl) > 1 => {
                Some(Window::of_host_acl(web_acl))
            }
            _ => None,
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_end_times_share_the_year_9999_limit() {
        let now = "2026-01-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let hours = |h: u64| std::time::Duration::from_secs(h * 3600);
        assert_eq!(
            end_after(now, hours(2)).unwrap(),
            "2026-01-01T02:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(latest_end().to_rfc3339(), "9999-12-31T23:59:59+00:00");
        let to_the_limit = (latest_end() - now).to_std().unwrap();
        assert_eq!(end_after(now, to_the_limit).unwrap(), latest_end());
        assert!(end_after(now, to_the_limit + std::time::Duration::from_secs(1)).is_err());
        // Year 11153; and so long that adding it to a time overflows.
        for h in [80_000_000, 2_300_000_000, u64::MAX / 3600] {
            let err = end_after(now, hours(h)).unwrap_err();
            assert!(err.subject.starts_with("duration of "), "{err}");
            assert!(err.reason.contains("after 9999-12-31T23:59:59Z"), "{err}");
        }
        assert!(check_end(latest_end()).is_ok());
        let err = check_end(latest_end() + chrono::Duration::seconds(1)).unwrap_err();
        assert_eq!(err.subject, "planned end +10000-01-01T00:00:00Z");
    }

    #[test]
    fn a_reason_is_trimmed_and_bounded() {
        assert!(Reason::new("  ").is_err());
        assert!(Reason::new(&"x".repeat(200)).is_ok());
        assert!(Reason::new(&"x".repeat(201)).is_err());
        assert!(Reason::new("line\nbreak").is_err());
        assert_eq!(
            Reason::new(" Wartung: Datenbank-Umzug über Nacht (50%!) ")
                .unwrap()
                .as_str(),
            "Wartung: Datenbank-Umzug über Nacht (50%!)"
        );
    }
}

#[cfg(test)]
mod window_tests {
    use super::*;

    #[test]
    fn window_names_are_deterministic_and_within_wafs_rules() {
        assert_eq!(Window::of_service("shop").name(), "maint-svc-shop");
        let odd = Window::of_service("shop.eu west");
        assert!(odd.name().starts_with("maint-svc-shop-eu-west-"), "{odd}");
        assert_ne!(odd, Window::of_service("shop-eu-west"));
        assert_eq!(odd, Window::of_service("shop.eu west"));
        let long = Window::of_service(&"x".repeat(300));
        assert!(long.name().len() + "-ipv4".len() <= 128);
        let lb = ResourceArn::parse(
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/0123456789abcdef",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let single = Window::of_load_balancer(&lb);
        assert_eq!(single.name(), "maint-web-0123456789abcdef");
        assert_eq!(single.service(), None);
        for w in [Window::of_service("shop.eu west"), single] {
            assert!(w
                .name()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        }
    }

    #[test]
    fn load_balancers_named_together_share_the_windows_they_are_in_or_their_host() {
        let lb = |name: &str| {
            ResourceArn::parse(&format!(
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/{name}/0123456789abcdef"
            ))
            .unwrap_or_else(|e| panic!("{e}"))
        };
        let lbs = [lb("a"), lb("b"), lb("c"), lb("d"), lb("e")];
        let foreign = |name: &str| Standing::Foreign {
            web_acl: name.into(),
        };
        let standings = [
            foreign("security"),
            foreign("security"),
            Standing::Window(Window::of_service("shop")),
            Standing::Window(Window::of_load_balancer(&lbs[3])),
            foreign("alone"),
        ];
        let host = Some(Window::of_host_acl("security"));
        let shop = Some(Window::of_service("shop"));
        // With consent: a shared foreign web ACL is one window; one that
        // only one of them is under stays a window of one.
        assert_eq!(
            shared_windows(&lbs, &standings, true),
            [host.clone(), host, shop.clone(), None, None]
        );
        // Without: only windows already in place.
        assert_eq!(
            shared_windows(&lbs, &standings, false),
            [None, None, shop, None, None]
        );
        let odd = Window::of_host_acl("web acl/prod");
        assert!(odd.name().starts_with("maint-acl-web-acl-prod-"), "{odd}");
        assert!(Window::of_host_acl(&"s".repeat(128)).name().len() + "-ipv4".len() <= 128);
    }
}
