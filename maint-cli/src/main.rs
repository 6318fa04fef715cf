//! `maint`: put services behind AWS Application Load Balancers into
//! maintenance mode and back, through AWS WAF.
//!
//! `main` parses arguments and calls [`run`]; `run` returns the exit status.
//! Exit codes: 0 success, 1 an operation failed, 2 bad input (nothing
//! changed), 3 only from `status --check`.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use maint_core::allowlist::AllowlistError;
use maint_core::Allowlist;

/// Exit status for bad input: usage, config, allowlist, page.
const EXIT_BAD_INPUT: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "maint",
    version,
    about = "Put services behind AWS Application Load Balancers into maintenance mode and back, via AWS WAF",
    long_about = None,
)]
struct Cli {
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Work with IP allowlists.
    #[command(subcommand)]
    Allowlist(AllowlistCommand),
}

#[derive(Debug, Subcommand)]
enum AllowlistCommand {
    /// Validate an allowlist offline and print it normalized (folded, IPv4 first).
    Check(CheckArgs),
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// Allowlist file: one address or CIDR per line, `#` comments; `-` or
    /// nothing reads standard input.
    file: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    ExitCode::from(run(cli))
}

/// Runs one command and returns its exit status.
fn run(cli: Cli) -> u8 {
    match cli.command {
        Command::Allowlist(AllowlistCommand::Check(args)) => allowlist_check(&args, cli.json),
    }
}

fn allowlist_check(args: &CheckArgs, json: bool) -> u8 {
    let (origin, text) = match read_input(args.file.as_deref()) {
        Ok(input) => input,
        Err(message) => {
            eprintln!("maint: {message}");
            return EXIT_BAD_INPUT;
        }
    };
    match Allowlist::parse_text(&text, &origin) {
        Ok(list) => {
            let printed = if json {
                match serde_json::to_string_pretty(&list) {
                    Ok(text) => text + "\n",
                    Err(e) => {
                        eprintln!("maint: {e}");
                        return 1;
                    }
                }
            } else {
                list.to_string()
            };
            // A closed pipe (`| head`) is not an error worth reporting.
            let _ = std::io::stdout().write_all(printed.as_bytes());
            0
        }
        Err(error) => {
            print_allowlist_problems(&error, &origin);
            EXIT_BAD_INPUT
        }
    }
}

/// Prints every problem as `FILE:LINE: ENTRY: reason` (`FILE: reason` for a
/// problem of the whole list).
fn print_allowlist_problems(error: &AllowlistError, origin: &str) {
    let mut stderr = std::io::stderr().lock();
    for problem in error.problems() {
        let _ = if problem.location.is_some() {
            writeln!(stderr, "{problem}")
        } else {
            writeln!(stderr, "{origin}: {problem}")
        };
    }
}

/// Reads a file, or standard input for `-` or no path; returns the origin
/// to name in messages and the text.
fn read_input(path: Option<&std::path::Path>) -> Result<(String, String), String> {
    match path {
        None => read_stdin(),
        Some(p) if p.as_os_str() == "-" => read_stdin(),
        Some(p) => std::fs::read_to_string(p)
            .map(|text| (p.display().to_string(), text))
            .map_err(|e| format!("cannot read allowlist file {}: {e}", p.display())),
    }
}

fn read_stdin() -> Result<(String, String), String> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| format!("cannot read standard input: {e}"))?;
    Ok(("-".to_string(), text))
}
