//! How `maint` exits: the exit status of every command, decided here in
//! one place from what the command reports (the README's exit-code table
//! lists the same codes).

use std::process::ExitCode;

use maint_core::check::{CheckReport, Verdict};
use maint_core::report::{BypassLinkRun, ChangeRun, CleanupRun, StatusRun};
use maint_core::{ErrorKind, Result, TargetRef};

/// How `maint` exits; the README's exit-code table lists the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: the command did what was asked.
    Success,
    /// 1: an operation failed (an AWS error, a conflict, a foreign web ACL).
    Failure,
    /// 2: bad input (flags, config, allowlist, page, unknown targets);
    /// nothing was changed.
    BadInput,
    /// 3: from `status --check` (not every target is in maintenance) and
    /// `check` (the request gets the maintenance response).
    NotInMaintenance,
}

impl ExitStatus {
    /// The exit status for a command that failed with an error of `kind`.
    pub fn of(kind: ErrorKind) -> Self {
        if kind.is_bad_input() {
            ExitStatus::BadInput
        } else {
            ExitStatus::Failure
        }
    }

    /// The status of a command whose first failure (in target order) is
    /// `first`: success when there was none.
    pub fn of_first(first: Option<ErrorKind>) -> Self {
        first.map_or(ExitStatus::Success, ExitStatus::of)
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        ExitCode::from(match status {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::BadInput => 2,
            ExitStatus::NotInMaintenance => 3,
        })
    }
}

/// A changing command: its first failure's, else success.
pub fn of_change(run: &ChangeRun) -> ExitStatus {
    ExitStatus::of_first(run.failures().next().map(|(_, e)| e.kind()))
}

/// `status` (with `check`: 3 when every target could be read but not all
/// are in maintenance) and `allowlist show` (no `check`).
pub fn of_status(run: &StatusRun, check: bool) -> ExitStatus {
    match run.failures().next() {
        Some((_, e)) => ExitStatus::of(e.kind()),
        None if check && !run.all_in_maintenance() => ExitStatus::NotInMaintenance,
        None => ExitStatus::Success,
    }
}

/// `check`: the first error's, else 3 when a request gets the maintenance
/// response, else success (every target lets it through, or answers the
/// bypass link).
pub fn of_check(answers: &[(TargetRef, Result<CheckReport>)]) -> ExitStatus {
    let failed = answers.iter().find_map(|(_, r)| r.as_ref().err());
    let maintenance = answers
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok())
        .any(|r| r.verdict == Verdict::Maintenance);
    match failed {
        Some(e) => ExitStatus::of(e.kind()),
        None if maintenance => ExitStatus::NotInMaintenance,
        None => ExitStatus::Success,
    }
}

/// `bypass link`: the first target that could not be read, else 1 when a
/// target has no bypass, else success.
pub fn of_bypass_links(run: &BypassLinkRun) -> ExitStatus {
    let missing = run
        .status
        .targets
        .iter()
        .zip(&run.links)
        .any(|(r, l)| l.link.is_none() && r.error.is_none());
    match run.status.failures().next() {
        Some((_, e)) => ExitStatus::of(e.kind()),
        None if missing => ExitStatus::Failure,
        None => ExitStatus::Success,
    }
}

/// `cleanup`: the first region that failed, else success.
pub fn of_cleanup(run: &CleanupRun) -> ExitStatus {
    ExitStatus::of_first(run.failures().next().map(|(_, e)| e.kind()))
}
