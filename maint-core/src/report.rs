//! The per-target reports that the CLI prints with `--json` and the Python
//! package returns: one shape, defined once.
//!
//! `status` gives a [`StatusReport`] per target; changing commands give a
//! [`ChangeReport`] per target. A target that failed carries an `error`.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::fleet::TargetRef;
use crate::maintenance::{Change, Mode, Outcome, State, TargetStatus};
use crate::Error;

/// One target's error, for reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorReport {
    /// The kind of error: `invalid_input`, `target_not_found`,
    /// `foreign_web_acl`, `not_in_maintenance`, `conflict`, `aws`,
    /// `timeout` or `unexpected`.
    pub kind: &'static str,
    /// The message, with its cause chain.
    pub message: String,
    /// The AWS error code, for AWS errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl ErrorReport {
    /// Describes an error.
    pub fn new(error: &Error) -> Self {
        Self {
            kind: error_kind(error),
            message: chain(error),
            code: error.aws_code().map(str::to_string),
        }
    }
}

/// The kind name of an error (see [`ErrorReport::kind`]).
pub fn error_kind(error: &Error) -> &'static str {
    match error {
        Error::InvalidInput(_) | Error::InvalidAllowlist(_) | Error::InvalidConfig(_) => {
            "invalid_input"
        }
        Error::TargetNotFound { .. } => "target_not_found",
        Error::ForeignWebAcl { .. } => "foreign_web_acl",
        Error::NotInMaintenance { .. } => "not_in_maintenance",
        Error::Conflict { .. } => "conflict",
        Error::Aws(_) => "aws",
        Error::Timeout { .. } => "timeout",
        _ => "unexpected",
    }
}

/// An error's message followed by each distinct cause: `a: b: c`.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

fn time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// One target's state, as `status --json` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusReport {
    /// The target as the user named it (`service/lb` for a service's).
    pub target: String,
    /// The config service, if the target came from one.
    pub service: Option<String>,
    /// The load balancer's ARN (null when it could not be found).
    pub load_balancer_arn: Option<String>,
    /// `normal`, `maintenance`, `foreign`, or `error`.
    pub state: &'static str,
    /// The associated web ACL (maint's or foreign).
    pub web_acl_arn: Option<String>,
    /// The foreign web ACL's name, when foreign.
    pub web_acl_name: Option<String>,
    /// Whether the allowlist lets its entries through (null unless in
    /// maintenance).
    pub allowlist_enabled: Option<bool>,
    /// The allowlist, normalized CIDR strings, IPv4 first.
    pub allowlist: Vec<String>,
    /// Why, as given on `enter`.
    pub reason: Option<String>,
    /// When maintenance was entered (RFC 3339, UTC).
    pub since: Option<String>,
    /// The planned end (RFC 3339, UTC).
    pub until: Option<String>,
    /// The maintenance response status code.
    pub response_status: Option<u16>,
    /// maint's resources for this target left by an interrupted run.
    pub leftovers: Vec<String>,
    /// Why the state could not be read, when `state` is `error`.
    pub error: Option<ErrorReport>,
}

impl StatusReport {
    /// The report for one target's status (or its error).
    pub fn new(target: &TargetRef, result: &Result<TargetStatus, Error>) -> Self {
        let mut report = StatusReport {
            target: target.label(),
            service: target.service.clone(),
            load_balancer_arn: None,
            state: "error",
            web_acl_arn: None,
            web_acl_name: None,
            allowlist_enabled: None,
            allowlist: Vec::new(),
            reason: None,
            since: None,
            until: None,
            response_status: None,
            leftovers: Vec::new(),
            error: None,
        };
        match result {
            Err(e) => report.error = Some(ErrorReport::new(e)),
            Ok(status) => {
                report.load_balancer_arn = Some(status.load_balancer.to_string());
                report.state = status.state.name();
                report.leftovers = status.leftovers.clone();
                match &status.state {
                    State::Normal => {}
                    State::Foreign {
                        web_acl_arn,
                        web_acl_name,
                    } => {
                        report.web_acl_arn = Some(web_acl_arn.clone());
                        report.web_acl_name = Some(web_acl_name.clone());
                    }
                    State::Maintenance(info) => {
                        report.web_acl_arn = Some(info.web_acl_arn.clone());
                        report.allowlist_enabled = Some(info.allowlist.enabled);
                        report.allowlist = info
                            .allowlist
                            .entries
                            .iter()
                            .map(|c| c.to_string())
                            .collect();
                        report.reason = info.reason.clone();
                        report.since = Some(time(&info.since));
                        report.until = info.until.as_ref().map(time);
                        report.response_status = Some(info.response.status().code());
                    }
                }
            }
        }
        report
    }
}

/// One target's result of a changing command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeReport {
    /// The target as the user named it.
    pub target: String,
    /// The config service, if the target came from one.
    pub service: Option<String>,
    /// The load balancer's ARN (null when it could not be found).
    pub load_balancer_arn: Option<String>,
    /// `ok` or `error`.
    pub result: &'static str,
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
                load_balancer_arn: Some(outcome.load_balancer.to_string()),
                result: "ok",
                changed: outcome.changed(),
                dry_run: outcome.mode == Mode::DryRun,
                changes: outcome.changes.iter().map(ToString::to_string).collect(),
                details: outcome.changes.clone(),
                error: None,
            },
            Err(e) => ChangeReport {
                target: target.label(),
                service: target.service.clone(),
                load_balancer_arn: None,
                result: "error",
                changed: false,
                dry_run: mode == Mode::DryRun,
                changes: Vec::new(),
                details: Vec::new(),
                error: Some(ErrorReport::new(e)),
            },
        }
    }
}
