//! `maint`: put services behind AWS Application Load Balancers into
//! maintenance mode and back, through AWS WAF.
//!
//! `main` parses arguments and calls [`commands::run`], which returns an
//! [`ExitStatus`] or the error that stopped the command; the error is
//! printed here, once, with its cause chain. Every decision about targets is
//! maint-core's [`Fleet`](maint_core::Fleet); this crate converts arguments
//! and prints.

mod cli;
mod commands;
mod output;

use std::process::ExitCode;

use clap::Parser;
use maint_core::ErrorKind;

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

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    output::init_logging(cli.verbose, cli.quiet);
    match commands::run(cli) {
        Ok(status) => status.into(),
        Err(error) => {
            output::error(&error);
            ExitStatus::of(error.kind()).into()
        }
    }
}
