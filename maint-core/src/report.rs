//! What a command reports, per target and in all: the shapes the CLI prints
//! with `--json` and the Python package returns, defined once.
//!
//! `status` gives a [`StatusRun`] of [`StatusReport`]s; changing commands
//! give a [`ChangeRun`] of [`ChangeReport`]s; `cleanup` gives a
//! [`CleanupRun`]. A target that failed carries an [`ErrorReport`], which
//! keeps the [`Error`] itself for front ends that need more than its JSON
//! (the Python exception's attributes). Every field that has a fixed set of
//! values is an enum, serialized to the strings the README documents.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};

use crate::access::BypassSecret;
use crate::backend::Leftover;
use crate::check::{CheckReport, CheckResponse, Verdict, Why};
use crate::error::{chain, Error, ErrorKind};
use crate::maintenance::{Change, Mode, Outcome, SharedWindow, State, TargetStatus};
use crate::scope::Scope;
use crate::target::{ResourceArn, ResourceKind, TargetRef};

/// One target's error, for reports.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorReport {
    /// What kind of error it is.
    pub kind: ErrorKind,
    /// The message, with its cause chain.
    pub message: String,
    /// The AWS error code, for AWS errors (and timeouts waiting out one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The error itself.
    #[serde(skip)]
    pub error: Error,
}

impl ErrorReport {
    /// Describes an error.
    pub fn new(error: &Error) -> Self {
        Self {
            kind: error.kind(),
            message: chain(error),
            code: error.aws_code().map(str::to_string),
            error: error.clone(),
        }
    }
}

/// RFC 3339 in UTC to the second (`2026-11-29T09:26:15Z`), as in JSON output.
pub fn rfc3339(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn serialize_time<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&rfc3339(t)),
        None => s.serialize_none(),
    }
}

/// A target's state, as `status` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetState {
    /// No web ACL: the service serves traffic as usual.
    Normal,
    /// In maintenance under maint's web ACL.
    Maintenance,
    /// A web ACL that maint did not create is associated.
    Foreign,
    /// maint's web ACL is associated in pass-through form, ready for an
    /// instant `enter`.
    Armed,
    /// maint's rule, injected into the service's own web ACL, was removed by
    /// someone else: NOT in maintenance.
    Reverted,
    /// The state could not be read (see the report's `error`).
    Error,
}

impl TargetState {
    /// `normal`, `maintenance`, `foreign`, `armed`, `reverted` or `error`,
    /// as in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetState::Normal => "normal",
            TargetState::Maintenance => "maintenance",
            TargetState::Foreign => "foreign",
            TargetState::Armed => "armed",
            TargetState::Reverted => "reverted",
            TargetState::Error => "error",
        }
    }
}

/// Whether a changing command succeeded for a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ResultKind {
    /// It did (or, in a dry run, would).
    Ok,
    /// It failed (see the report's `error`).
    Error,
}

impl ResultKind {
    /// `ok` or `error`, as in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            ResultKind::Ok => "ok",
            ResultKind::Error => "error",
        }
    }
}

/// The account a target is in, for output: its config account's name,
/// else the account ID of its ARN (`arn`, once found, else the one named).
fn account_label(target: &TargetRef, arn: Option<&ResourceArn>) -> Option<String> {
    target.account.clone().or_else(|| {
        arn.or_else(|| target.load_balancer.arn())
            .map(|a| a.account_id().to_string())
            .filter(|id| !id.is_empty())
    })
}

/// One target's state, as `status --json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    /// The target as the user named it (`service/lb` for a service's).
    pub target: String,
    /// The config service, if the target came from one.
    pub service: Option<String>,
    /// The account it is in: the config account's name, else the account
    /// ID its ARN carries (null when neither is known).
    pub account: Option<String>,
    /// The load balancer's ARN (null when it could not be found).
    pub load_balancer_arn: Option<String>,
    /// What kind of resource that ARN names (`load_balancer`,
    /// `api_gateway_stage`, ...; null when it could not be found).
    pub resource_kind: Option<ResourceKind>,
    /// The target's state.
    pub state: TargetState,
    /// The maintenance window it is in (its web ACL's name), when in
    /// maintenance.
    pub window: Option<String>,
    /// The associated web ACL (maint's or foreign).
    pub web_acl_arn: Option<String>,
    /// The web ACL's name, when foreign, or when maint's rule is (or was)
    /// injected into the service's own web ACL.
    pub web_acl_name: Option<String>,
    /// Whether maint's rule lives in the service's own web ACL (injected)
    /// rather than in a web ACL of maint's.
    pub injected: bool,
    /// When the window was armed, if it was.
    #[serde(serialize_with = "serialize_time")]
    pub armed_since: Option<DateTime<Utc>>,
    /// Whether the allowlist lets its entries through (null unless in
    /// maintenance).
    pub allowlist_enabled: Option<bool>,
    /// The allowlist, normalized CIDR strings, IPv4 first.
    pub allowlist: Vec<String>,
    /// Why, as given on `enter`.
    pub reason: Option<String>,
    /// When maintenance was entered.
    #[serde(serialize_with = "serialize_time")]
    pub since: Option<DateTime<Utc>>,
    /// The planned end.
    #[serde(serialize_with = "serialize_time")]
    pub until: Option<DateTime<Utc>>,
    /// The maintenance response status code.
    pub response_status: Option<u16>,
    /// In maintenance past its planned end (`maint exit --expired` ends
    /// it).
    pub overdue: bool,
    /// The revision of the window's rules that its maintenance responses
    /// carry (header `x-maint-window: <window>; rev=<revision>`).
    pub revision: Option<String>,
    /// The window's bypass: `enabled`, `disabled`, or null without one.
    /// The secret itself is never part of a report's JSON.
    pub bypass: Option<&'static str>,
    /// The bypass secret, for an explicit request to show the link
    /// (`maint bypass link`); never serialized.
    #[serde(skip)]
    pub bypass_secret: Option<BypassSecret>,
    /// Where the allowlist finds a request's address (`the connection`,
    /// `header X-Forwarded-For (last address)`), when in a window.
    pub client_ip_from: Option<String>,
    /// What the window covers on a shared load balancer: `{"hosts": [..],
    /// "paths": [..], "open_paths": [..]}` (empty lists left out); null
    /// outside a window, or when it covers every request and opens no path.
    pub scope: Option<Scope>,
    /// For a member another writer detached from its window (state
    /// `reverted`, not `injected`): the web ACL it carries now (null: none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub now_under: Option<String>,
    /// maint's resources for this target left by an interrupted run.
    pub leftovers: Vec<String>,
    /// The other windows on its load balancer, each in its own part of
    /// the one web ACL there: `[{"window", "in_maintenance", "scope"}]`,
    /// empty unless services share the load balancer.
    pub sharing: Vec<SharedWindow>,
    /// A CloudFront distribution's status: `Deployed`, or `InProgress`
    /// while a change reaches CloudFront's edge locations (minutes); null
    /// for other kinds.
    pub deployment: Option<String>,
    /// Why the state could not be read, when `state` is `error`.
    pub error: Option<ErrorReport>,
}

impl StatusReport {
    /// A report of `target` in `state` that says nothing else (each
    /// field empty): what [`StatusReport::new`] fills in, and a start for
    /// a front end's own tests.
    pub fn empty(target: String, state: TargetState) -> Self {
        StatusReport {
            target,
            service: None,
            account: None,
            load_balancer_arn: None,
            resource_kind: None,
            state,
            window: None,
            web_acl_arn: None,
            web_acl_name: None,
            injected: false,
            armed_since: None,
            allowlist_enabled: None,
            allowlist: Vec::new(),
            reason: None,
            since: None,
            until: None,
            response_status: None,
            overdue: false,
            revision: None,
            bypass: None,
            bypass_secret: None,
            client_ip_from: None,
            scope: None,
            now_under: None,
            leftovers: Vec::new(),
            sharing: Vec::new(),
            deployment: None,
            error: None,
        }
    }

    /// The report for one target's status (or its error).
    pub fn new(target: &TargetRef, result: &Result<TargetStatus, Error>) -> Self {
        let mut report = StatusReport::empty(target.label(), TargetState::Error);
        report.service = target.service.clone();
        report.account = account_label(target, None);
        match result {
            Err(e) => report.error = Some(ErrorReport::new(e)),
            Ok(status) => {
                report.account = account_label(target, Some(&status.load_balancer));
                report.load_balancer_arn = Some(status.load_balancer.to_string());
                report.resource_kind = Some(status.load_balancer.kind());
                report.leftovers = status.leftovers.clone();
                report.sharing = status.sharing.clone();
                report.deployment = status.deployment.clone();
                match &status.state {
                    State::Normal => report.state = TargetState::Normal,
                    State::Foreign {
                        web_acl_arn,
                        web_acl_name,
                    } => {
                        report.state = TargetState::Foreign;
                        report.web_acl_arn = Some(web_acl_arn.clone());
                        report.web_acl_name = Some(web_acl_name.clone());
                    }
                    State::Reverted {
                        window,
                        web_acl_arn,
                        web_acl_name,
                    } => {
                        report.state = TargetState::Reverted;
                        report.window = Some(window.clone());
                        report.web_acl_arn = Some(web_acl_arn.clone());
                        report.web_acl_name = Some(web_acl_name.clone());
                        report.injected = true;
                    }
                    State::Detached {
                        window,
                        web_acl_arn,
                        web_acl_name,
                        now,
                    } => {
                        report.state = TargetState::Reverted;
                        report.window = Some(window.clone());
                        report.web_acl_arn = Some(web_acl_arn.clone());
                        report.web_acl_name = Some(web_acl_name.clone());
                        report.now_under = now.clone();
                    }
                    State::Maintenance(info) | State::Armed(info) => {
                        report.state = match &status.state {
                            State::Armed(_) => TargetState::Armed,
                            _ => TargetState::Maintenance,
                        };
                        report.window = Some(info.window.clone());
                        report.web_acl_arn = Some(info.web_acl_arn.clone());
                        report.web_acl_name = info.host_web_acl.clone();
                        report.injected = info.host_web_acl.is_some();
                        report.armed_since = info.armed_since;
                        report.allowlist_enabled = Some(info.allowlist.enabled);
                        report.allowlist = info
                            .allowlist
                            .entries
                            .iter()
                            .map(|c| c.to_string())
                            .collect();
                        report.reason = info.reason.clone();
                        report.since = Some(info.since);
                        report.until = info.until;
                        report.response_status = Some(info.response.status().code());
                        report.revision = info.revision.clone();
                        report.overdue = report.state == TargetState::Maintenance
                            && info.until.is_some_and(|u| u <= Utc::now());
                        report.bypass = info.bypass.as_ref().map(|b| {
                            if b.enabled {
                                "enabled"
                            } else {
                                "disabled"
                            }
                        });
                        report.bypass_secret = info.bypass.as_ref().map(|b| b.secret.clone());
                        report.client_ip_from = Some(info.client_ip.describe());
                        report.scope = (!info.scope.is_everything()).then(|| info.scope.clone());
                    }
                }
            }
        }
        report
    }
}

/// One target's answer of `check`, as `check --json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct CheckTargetReport {
    /// The target as the user named it (`service/lb` for a service's).
    pub target: String,
    /// The config service, if the target came from one.
    pub service: Option<String>,
    /// The account it is in: the config account's name, else the account
    /// ID its ARN carries (null when neither is known).
    pub account: Option<String>,
    /// The load balancer's ARN (null when it could not be found).
    pub load_balancer_arn: Option<String>,
    /// What kind of resource that ARN names (`load_balancer`,
    /// `api_gateway_stage`, ...; null when it could not be found).
    pub resource_kind: Option<ResourceKind>,
    /// The web ACL read (maint's, or the service's own).
    pub web_acl: Option<String>,
    /// `let_through`, `maintenance`, `bypass_link`; null on error.
    pub verdict: Option<Verdict>,
    /// Why, most decisive first: objects with a `reason` tag and its
    /// details.
    pub why: Vec<Why>,
    /// The same reasons, in words.
    pub reasons: Vec<String>,
    /// The response WAF sends instead of passing the request on (status,
    /// headers as `[name, value]` pairs, content type, body).
    pub response: Option<CheckResponse>,
    /// Why there is no answer.
    pub error: Option<ErrorReport>,
}

impl CheckTargetReport {
    /// The report for one target's answer (or its error).
    pub fn new(target: &TargetRef, result: &Result<CheckReport, Error>) -> Self {
        let mut report = CheckTargetReport {
            target: target.label(),
            service: target.service.clone(),
            account: account_label(target, None),
            load_balancer_arn: None,
            resource_kind: None,
            web_acl: None,
            verdict: None,
            why: Vec::new(),
            reasons: Vec::new(),
            response: None,
            error: None,
        };
        match result {
            Ok(answer) => {
                report.account = account_label(target, Some(&answer.load_balancer));
                report.load_balancer_arn = Some(answer.load_balancer.to_string());
                report.resource_kind = Some(answer.load_balancer.kind());
                report.web_acl = answer.web_acl.clone();
                report.verdict = Some(answer.verdict);
                report.reasons = answer.why.iter().map(ToString::to_string).collect();
                report.why = answer.why.clone();
                report.response = answer.response.clone();
            }
            Err(e) => report.error = Some(ErrorReport::new(e)),
        }
        report
    }
}

/// One target's result of a changing command.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeReport {
    /// The target as the user named it.
    pub target: String,
    /// The config service, if the target came from one.
    pub service: Option<String>,
    /// The account it is in: the config account's name, else the account
    /// ID its ARN carries (null when neither is known).
    pub account: Option<String>,
    /// The load balancer's ARN (null when it could not be found).
    pub load_balancer_arn: Option<String>,
    /// What kind of resource that ARN names (`load_balancer`,
    /// `api_gateway_stage`, ...; null when it could not be found).
    pub resource_kind: Option<ResourceKind>,
    /// Whether the command succeeded for this target.
    pub result: ResultKind,
    /// Whether anything changed (in a dry run: would change).
    pub changed: bool,
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// Each change, in words, in the order made.
    pub changes: Vec<String>,
    /// Each change, structured.
    pub details: Vec<Change>,
    /// Why the command failed for this target.
    pub error: Option<ErrorReport>,
}

impl ChangeReport {
    /// The report for one target's outcome (or its error).
    pub fn new(target: &TargetRef, result: &Result<Outcome, Error>, mode: Mode) -> Self {
        match result {
            Ok(outcome) => ChangeReport {
                target: target.label(),
                service: target.service.clone(),
                account: account_label(target, Some(&outcome.load_balancer)),
                load_balancer_arn: Some(outcome.load_balancer.to_string()),
                resource_kind: Some(outcome.load_balancer.kind()),
                result: ResultKind::Ok,
                changed: outcome.changed(),
                dry_run: outcome.mode.is_dry_run(),
                changes: outcome.changes.iter().map(ToString::to_string).collect(),
                details: outcome.changes.clone(),
                error: None,
            },
            Err(e) => ChangeReport {
                target: target.label(),
                service: target.service.clone(),
                account: account_label(target, None),
                load_balancer_arn: None,
                resource_kind: None,
                result: ResultKind::Error,
                changed: false,
                dry_run: mode.is_dry_run(),
                changes: Vec::new(),
                details: Vec::new(),
                error: Some(ErrorReport::new(e)),
            },
        }
    }
}

/// A changing command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    /// `enter`.
    Enter,
    /// `exit`.
    Exit,
    /// `allowlist enable|disable|add|remove|set`.
    Allowlist,
    /// `arm`.
    Arm,
    /// `disarm`.
    Disarm,
}

impl Operation {
    /// `enter`, `exit` or `allowlist`, as in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Enter => "enter",
            Operation::Exit => "exit",
            Operation::Allowlist => "allowlist",
            Operation::Arm => "arm",
            Operation::Disarm => "disarm",
        }
    }
}

/// Counts over a changing command's targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Targets acted on.
    pub targets: usize,
    /// Targets that changed (in a dry run: would change).
    pub changed: usize,
    /// Targets that already were as asked.
    pub unchanged: usize,
    /// Targets that failed.
    pub failed: usize,
}

/// Everything a changing command did, as `--json` prints it: one result per
/// target in the order the targets were given.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeRun {
    /// The command.
    pub command: Operation,
    /// Whether it was a dry run.
    pub dry_run: bool,
    /// One result per target.
    pub results: Vec<ChangeReport>,
    /// Counts over the results.
    pub summary: Summary,
    /// With `--wait`: how long each window took to reach the public.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub waited: Vec<WaitReport>,
    /// Why waiting for the change to reach the public failed, when it did
    /// (the change itself was made, and the webhooks were told). Not in
    /// the JSON: front ends report it as the command's error.
    #[serde(skip)]
    pub wait_error: Option<Error>,
    /// Warnings for the user, in the order they arose: a client address
    /// taken from a spoofable header, a webhook that failed. Not in the
    /// JSON: front ends print them (the CLI) or warn (Python).
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// How long a change took to reach traffic at one URL (`--wait`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WaitReport {
    /// The URL probed.
    pub url: String,
    /// The window.
    pub window: String,
    /// Seconds from the change to the public seeing it.
    pub seconds: f64,
    /// Probes it took.
    pub probes: u32,
    /// What the last probe saw, in words.
    pub seen: String,
}

impl ChangeRun {
    /// A run of `command` from its results, in target order.
    pub fn new(command: Operation, mode: Mode, results: Vec<ChangeReport>) -> Self {
        let failed = results.iter().filter(|r| r.error.is_some()).count();
        let changed = results.iter().filter(|r| r.changed).count();
        let summary = Summary {
            targets: results.len(),
            changed,
            unchanged: results.len() - failed - changed,
            failed,
        };
        Self {
            command,
            dry_run: mode.is_dry_run(),
            results,
            summary,
            waited: Vec::new(),
            wait_error: None,
            warnings: Vec::new(),
        }
    }

    /// The failures, in target order: the first decides the CLI's exit
    /// code and the exception Python raises.
    pub fn failures(&self) -> impl Iterator<Item = (&str, &Error)> {
        self.results
            .iter()
            .filter_map(|r| r.error.as_ref().map(|e| (r.target.as_str(), &e.error)))
    }
}

/// Every target's state, as `status --json` prints it, in the order the
/// targets were given.
#[derive(Debug, Clone, Serialize)]
pub struct StatusRun {
    /// One report per target.
    pub targets: Vec<StatusReport>,
}

impl StatusRun {
    /// The targets whose state could not be read, in target order.
    pub fn failures(&self) -> impl Iterator<Item = (&str, &Error)> {
        self.targets
            .iter()
            .filter_map(|r| r.error.as_ref().map(|e| (r.target.as_str(), &e.error)))
    }

    /// True when every target is in maintenance (what `status --check`
    /// asks).
    pub fn all_in_maintenance(&self) -> bool {
        self.targets
            .iter()
            .all(|r| r.state == TargetState::Maintenance)
    }
}

/// A resource `cleanup` deleted (or would delete), with its region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CleanedUp {
    /// The region (null: the AWS configuration's default).
    pub region: Option<String>,
    /// The resource.
    #[serde(flatten)]
    pub resource: Leftover,
    /// The config account (null: the credentials' own).
    pub account: Option<String>,
}

/// A region `cleanup` could not clean.
#[derive(Debug, Clone, Serialize)]
pub struct RegionError {
    /// The region (null: the AWS configuration's default).
    pub region: Option<String>,
    /// The config account (null: the credentials' own).
    pub account: Option<String>,
    /// Why.
    pub error: ErrorReport,
}

/// What `cleanup` did in every region it covered, as `--json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct CleanupRun {
    /// Whether it was a dry run.
    pub dry_run: bool,
    /// The regions covered, in order (null: the AWS configuration's default).
    pub regions: Vec<Option<String>>,
    /// What was (or would be) deleted.
    pub resources: Vec<CleanedUp>,
    /// Resources of maint's that no window uses but that were left in
    /// place, each with why ([`Leftover::kept`]): e.g. an IP set another
    /// web ACL references.
    pub kept: Vec<CleanedUp>,
    /// The regions that failed.
    pub errors: Vec<RegionError>,
}

impl CleanupRun {
    /// The failures, in region order.
    pub fn failures(&self) -> impl Iterator<Item = (Option<&str>, &Error)> {
        self.errors
            .iter()
            .map(|e| (e.region.as_deref(), &e.error.error))
    }
}

/// Each target's bypass link (`bypass link`), from its state: read by
/// [`Fleet::bypass_links`](crate::Fleet::bypass_links).
#[derive(Debug, Clone)]
pub struct BypassLinkRun {
    /// Every target's state, in the order the targets were given.
    pub status: StatusRun,
    /// One link per target of `status`, in the same order.
    pub links: Vec<BypassLink>,
}

/// One target's bypass link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BypassLink {
    /// The site's address the link starts with (the one given, else the
    /// service's `url`), without a trailing `/`; `None`: neither, and the
    /// link is a path.
    pub base_url: Option<String>,
    /// The link: the base URL and `/maint-bypass/<secret>` (it holds the
    /// secret); `None` when the window has no bypass.
    pub link: Option<String>,
}
