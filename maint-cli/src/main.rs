//! `maint`: put services behind AWS Application Load Balancers into
//! maintenance mode and back, through AWS WAF.
//!
//! `main` parses arguments and calls [`commands::run`], which returns the
//! exit status: 0 success, 1 an operation failed, 2 bad input (nothing
//! changed), 3 only from `status --check`.

mod cli;
mod commands;
mod output;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    init_logging(cli.verbose, cli.quiet);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("maint: cannot start the async runtime: {e}");
            return ExitCode::from(commands::EXIT_FAILED);
        }
    };
    ExitCode::from(runtime.block_on(commands::run(cli)))
}

/// Logs go to stderr: warnings (AWS retries and waits) by default, each AWS
/// step with -v, debug with -vv, errors only with -q. `RUST_LOG` overrides.
fn init_logging(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, _) => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        // The AWS SDK's own warnings only from -v on: without a region or
        // credentials it warns once per provider it tried, which buries
        // maint's one clear error.
        let sdk = if verbose > 0 { "warn" } else { "error" };
        tracing_subscriber::EnvFilter::new(format!("{sdk},maint_core={level},maint={level}"))
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .init();
}
