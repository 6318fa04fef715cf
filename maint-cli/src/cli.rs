//! The command line: clap definitions. Values are parsed straight into the
//! core's typed values, so bad input is refused (exit 2) before anything
//! talks to AWS.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand, ValueEnum};
use maint_core::response::{ContentType, ResponseHeader, ResponseStatus};
use maint_core::Cidr;

/// Put services behind AWS Application Load Balancers into maintenance mode
/// and back, through AWS WAF.
///
/// Exit codes: 0 success; 1 an operation failed; 2 bad input, nothing
/// changed; 3 only from `status --check` (not every target in maintenance).
#[derive(Debug, Parser)]
#[command(name = "maint", version, max_term_width = 100)]
pub struct Cli {
    /// Config file with named services and allowlists [default: ./maint.toml when it exists].
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        env = "MAINT_CONFIG",
        value_name = "FILE"
    )]
    pub config: Option<PathBuf>,

    /// AWS region (else AWS_REGION, the profile, or the config file's region).
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "REGION"
    )]
    pub region: Option<String>,

    /// AWS named profile (else AWS_PROFILE).
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "PROFILE"
    )]
    pub profile: Option<String>,

    /// Endpoint URL for every AWS API, e.g. a local emulator (else AWS_ENDPOINT_URL).
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "URL"
    )]
    pub endpoint_url: Option<String>,

    /// Print machine-readable JSON (schema in the README).
    #[arg(long, global = true, help_heading = "Global options")]
    pub json: bool,

    /// How many windows (services, or load balancers named alone) to act on at once.
    #[arg(long, global = true, help_heading = "Global options", default_value_t = maint_core::fleet::DEFAULT_CONCURRENCY, value_parser = parse_concurrency)]
    pub concurrency: usize,

    /// More log output (-v: each AWS step, -vv: debug).
    #[arg(short, long, global = true, help_heading = "Global options", action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Only errors.
    #[arg(short, long, global = true, help_heading = "Global options")]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Put targets into maintenance (again: update in place, adding entries).
    Enter(EnterArgs),
    /// Take targets out of maintenance and delete maint's WAF resources.
    Exit(TargetsArgs),
    /// Work with the allowlist of targets in maintenance.
    #[command(subcommand)]
    Allowlist(AllowlistCommand),
    /// Show each target's state. No targets: every service of the config file.
    Status(StatusArgs),
    /// Delete maint's WAF resources that no load balancer uses (left by crashes).
    Cleanup(DryRunArgs),
    /// Print a shell completion script.
    Completions {
        /// The shell.
        shell: Shell,
    },
}

/// Shells with completion scripts.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Shell {
    /// Bash.
    Bash,
    /// Zsh.
    Zsh,
    /// Fish.
    Fish,
}

/// `--dry-run`.
#[derive(Debug, Args)]
pub struct DryRunArgs {
    /// Print what would change, change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Targets and `--dry-run`.
#[derive(Debug, Args)]
pub struct TargetsArgs {
    /// Service names (from the config file), ALB names or ALB ARNs.
    #[arg(required = true, value_name = "TARGET")]
    pub targets: Vec<String>,
    #[command(flatten)]
    pub dry_run: DryRunArgs,
}

/// `enter`.
#[derive(Debug, Args)]
pub struct EnterArgs {
    /// Service names (from the config file), ALB names or ALB ARNs.
    #[arg(required = true, value_name = "TARGET")]
    pub targets: Vec<String>,

    /// Let this address or CIDR through (repeatable).
    #[arg(long = "allow", value_name = "CIDR", value_parser = parse_cidr)]
    pub allow: Vec<Cidr>,

    /// Let the entries of this allowlist file through (repeatable).
    #[arg(long, value_name = "FILE")]
    pub allowlist_file: Vec<PathBuf>,

    /// Let a named allowlist of the config file through (repeatable).
    #[arg(long = "allowlist", value_name = "NAME")]
    pub allowlist_names: Vec<String>,

    /// Why (shown by `status`).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,

    /// Planned end, RFC 3339 (e.g. 2026-11-29T14:00:00Z); shown on the page.
    #[arg(long, value_name = "TIME", value_parser = parse_time, conflicts_with = "duration")]
    pub until: Option<DateTime<Utc>>,

    /// Planned duration from now (e.g. 90m, 2h).
    #[arg(long = "for", value_name = "DURATION", value_parser = parse_duration)]
    pub duration: Option<Duration>,

    /// Maintenance page file (.html, .json or .txt; at most 4 KB).
    #[arg(long, value_name = "FILE")]
    pub page: Option<PathBuf>,

    /// Content type of the page, or of the built-in one.
    #[arg(long, value_name = "TYPE", value_parser = parse_content_type)]
    pub content_type: Option<ContentType>,

    /// Response status code [default: 503].
    #[arg(long, value_name = "CODE", value_parser = parse_status)]
    pub status: Option<ResponseStatus>,

    /// Extra response header, 'Name: value' (repeatable).
    #[arg(long = "header", value_name = "'NAME: VALUE'", value_parser = parse_header)]
    pub headers: Vec<ResponseHeader>,

    #[command(flatten)]
    pub dry_run: DryRunArgs,
}

/// `allowlist ...`.
#[derive(Debug, Subcommand)]
pub enum AllowlistCommand {
    /// Let the allowlist through again (testers in).
    Enable(TargetsArgs),
    /// Stop letting the allowlist through, keeping its entries.
    Disable(TargetsArgs),
    /// Add entries.
    Add(EditArgs),
    /// Take addresses out (a range inside a larger entry splits it).
    Remove(EditArgs),
    /// Replace all entries.
    Set(EditArgs),
    /// Print the allowlist of targets in maintenance.
    Show {
        /// Service names, ALB names or ALB ARNs.
        #[arg(required = true, value_name = "TARGET")]
        targets: Vec<String>,
    },
    /// Validate an allowlist offline and print it normalized (folded, IPv4 first).
    Check {
        /// Allowlist file: one address or CIDR per line, `#` comments; `-` or
        /// nothing reads standard input.
        file: Option<PathBuf>,
    },
}

/// `allowlist add|remove|set`.
#[derive(Debug, Args)]
pub struct EditArgs {
    /// A service name, ALB name or ALB ARN.
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// Addresses or CIDRs.
    #[arg(value_name = "CIDR", value_parser = parse_cidr, required_unless_present = "file")]
    pub entries: Vec<Cidr>,
    /// Also read entries from an allowlist file.
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub dry_run: DryRunArgs,
}

/// `status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Service names, ALB names or ALB ARNs [default: every service of the config file].
    #[arg(value_name = "TARGET")]
    pub targets: Vec<String>,
    /// Exit 0 if every target is in maintenance, 3 if not.
    #[arg(long)]
    pub check: bool,
}

fn parse_concurrency(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (1..=256).contains(&n) => Ok(n),
        _ => Err("expected a number from 1 to 256".into()),
    }
}

fn parse_cidr(s: &str) -> Result<Cidr, String> {
    Cidr::parse(s).map_err(|e| e.to_string())
}

fn parse_status(s: &str) -> Result<ResponseStatus, String> {
    s.parse::<ResponseStatus>().map_err(|e| e.reason)
}

fn parse_header(s: &str) -> Result<ResponseHeader, String> {
    s.parse::<ResponseHeader>().map_err(|e| e.to_string())
}

fn parse_content_type(s: &str) -> Result<ContentType, String> {
    s.parse::<ContentType>().map_err(|e| e.reason)
}

fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    let t = DateTime::parse_from_rfc3339(s)
        .map_err(|e| format!("{e}; expected RFC 3339, e.g. 2026-11-29T14:00:00Z"))?
        .with_timezone(&Utc);
    if t <= Utc::now() {
        return Err("the planned end is in the past".into());
    }
    Ok(t)
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| format!("{e}; e.g. 90m, 2h, 1h30m"))?;
    if d.is_zero() {
        return Err("the duration must be more than zero".into());
    }
    Ok(d)
}
