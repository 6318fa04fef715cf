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
mod exit;
mod logging;
mod output;
mod screen;

use std::process::ExitCode;

use clap::Parser;

pub use exit::ExitStatus;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    maint_core::error::set_words(maint_core::error::Flags);
    let screen = screen::Screen::default();
    logging::init(cli.verbose, cli.quiet, &screen);
    match commands::run(cli, &screen) {
        Ok(status) => status.into(),
        Err(error) => {
            screen.error(&error);
            ExitStatus::of(error.kind()).into()
        }
    }
}
