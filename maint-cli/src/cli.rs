//! The command line: clap definitions. Values are parsed straight into the
//! core's typed values, so bad input is refused (exit 2) before anything
//! talks to AWS.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand, ValueEnum};
use maint_core::access::{BypassSecret, ClientIpFallback, ClientIpPosition};
use maint_core::response::{ContentType, ResponseHeader, ResponseStatus};
use maint_core::scope::{HostPattern, PathPrefix};
use maint_core::Cidr;

/// Put services behind AWS Application Load Balancers into maintenance mode
/// and back, through AWS WAF.
///
/// Exit codes: 0 success; 1 an operation failed; 2 bad input, nothing
/// changed; 3 from `status --check` (not every target in maintenance) and
/// `check` (the request gets the maintenance response).
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

    /// Do not tell the config's webhooks (`[notify]`) of this change.
    #[arg(long, global = true, help_heading = "Global options")]
    pub no_notify: bool,

    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Put targets into maintenance (again: update in place, adding entries).
    Enter(EnterArgs),
    /// Take targets out of maintenance and delete maint's WAF resources.
    ///
    /// A target in maint's own web ACL leaves it (the last one out deletes
    /// the web ACL and its IP sets). On an armed window, exit is one update
    /// back to pass-through: the window stays armed until `maint disarm`.
    /// With an injected rule (`enter --inject`), exit removes exactly what
    /// maint added to the service's own web ACL. With --expired, only the
    /// windows past their planned end are ended.
    #[command(
        after_long_help = "Ending overdue windows from cron (every minute; quiet when there is nothing to do):\n  * * * * *  maint --config /etc/maint.toml -q exit --expired"
    )]
    Exit(ExitArgs),
    /// Associate maint's web ACL ahead of a planned window, in pass-through
    /// form, so that `enter` and `exit` are one update each (AWS WAF charges
    /// while armed).
    ///
    /// Arming associates maint's web ACL with every target in pass-through
    /// form: nothing is blocked, every request goes on to the load balancer.
    /// It takes the settings `enter` takes (allowlist, reason, end, page,
    /// status, headers) and prepares them, so the window is ready.
    ///
    /// What it costs: AWS WAF charges while the web ACL is associated, about
    /// $5 per web ACL per month plus $1 per rule per month (prorated hourly),
    /// plus $0.60 per million requests inspected, on all the traffic of the
    /// armed load balancers. A service's load balancers share one web ACL.
    ///
    /// When to use it: a planned window on a large fleet. Associations are
    /// paced at one every 2 s per account and Region (AWS WAF's quota), so 50
    /// load balancers take about 100 s to switch. Arm beforehand (say, an
    /// hour before); then `maint enter` and `maint exit` are one update per
    /// window, instant for any number of load balancers; `maint disarm`
    /// afterwards ends the charges. A service that already runs a web ACL of
    /// its own needs no arming: `enter --inject` is one update already.
    #[command(
        after_long_help = "Example:\n  maint arm shop --allowlist office --reason 'release 2.4'   # an hour before\n  maint enter shop    # one update: maintenance on\n  maint exit shop     # one update: pass-through again, still armed\n  maint disarm shop   # disassociate; the charges stop"
    )]
    Arm(ArmArgs),
    /// Disassociate maint's pass-through web ACL from armed targets (ends the
    /// AWS WAF charges of arming).
    ///
    /// Each target leaves the armed window; the last one out deletes maint's
    /// web ACL and IP sets, and with them the AWS WAF charges arming incurs
    /// (about $5 per web ACL per month plus $1 per rule per month, prorated
    /// hourly, plus $0.60 per million requests inspected). Associations are
    /// paced by AWS: one disassociation every 2 s per account and Region.
    ///
    /// A target in maintenance is refused (exit 1, nothing changed): run
    /// `maint exit` first, so a disarm never ends a maintenance by surprise.
    /// A target that is not armed is left unchanged.
    Disarm(TargetsArgs),
    /// Work with the allowlist of targets in maintenance.
    #[command(subcommand)]
    Allowlist(AllowlistCommand),
    /// Show each target's state. No targets: every service of the config file.
    Status(StatusArgs),
    /// Does this request get through? Evaluates maint's rules of each
    /// target's live web ACL (read once, never changed) for a request from
    /// an address, with headers and a path, and says why.
    ///
    /// Exit 0: let through (or the bypass link's redirect); 3: it gets the
    /// maintenance response; 1: the web ACL could not be read.
    #[command(after_long_help = "Examples:
  maint check shop --ip 203.0.113.7
  maint check shop --ip 198.51.100.7 --header 'x-maint-bypass: <secret>'
  maint check shop --ip 198.51.100.7 --header 'Cookie: maint_bypass=<secret>'
  maint check shop --ip 10.0.0.1 --header 'X-Forwarded-For: 198.51.100.7, 203.0.113.7'
  maint check shop --ip 198.51.100.7 --url https://shop.example.com/healthz")]
    Check(CheckArgs),
    /// The bypass of targets in maintenance: print the link for testers.
    #[command(subcommand)]
    Bypass(BypassCommand),
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

impl DryRunArgs {
    /// Apply, or only say what would change.
    pub fn mode(&self) -> maint_core::Mode {
        maint_core::Mode::from_dry_run(self.dry_run)
    }
}

/// Targets and `--dry-run`.
#[derive(Debug, Args)]
pub struct TargetsArgs {
    /// Service names (from the config file), ALB names, or ARNs of ALBs (or of other resources AWS WAF protects: API Gateway stages, AppSync APIs, ...).
    #[arg(required = true, value_name = "TARGET")]
    pub targets: Vec<String>,
    #[command(flatten)]
    pub dry_run: DryRunArgs,
}

/// `exit`.
#[derive(Debug, Args)]
pub struct ExitArgs {
    /// Service names (from the config file), ALB names, or ARNs of ALBs (or of other resources AWS WAF protects: API Gateway stages, AppSync APIs, ...).
    #[arg(required_unless_present = "expired", value_name = "TARGET")]
    pub targets: Vec<String>,
    /// End only the windows whose planned end has passed: among the targets,
    /// or, with none, every window of maint's in the config's Regions (or
    /// --region). Safe to run every minute from cron or a scheduler.
    #[arg(long)]
    pub expired: bool,
    #[command(flatten)]
    pub wait: WaitArgs,
    #[command(flatten)]
    pub dry_run: DryRunArgs,
}

/// `--wait`, `--wait-url`, `--wait-timeout`.
#[derive(Debug, Args)]
pub struct WaitArgs {
    /// After AWS accepted the change, probe the service's URL (`url` in the
    /// config) until the public sees it: maint's maintenance page served
    /// (after enter, allowlist enable|disable), or no longer served (after
    /// exit). The probe sees what the public sees even from an allowlisted
    /// address. Exit 1 when the time is up.
    #[arg(long, help_heading = "Waiting")]
    pub wait: bool,
    /// Probe this URL (implies --wait).
    #[arg(long, value_name = "URL", help_heading = "Waiting")]
    pub wait_url: Option<String>,
    /// How long to wait at most [default: 5m; 30m for a CloudFront
    /// distribution, whose changes take minutes to reach every edge].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = "Waiting")]
    pub wait_timeout: Option<Duration>,
}

impl WaitArgs {
    /// The core's wait plan, when asked to wait.
    pub fn plan(&self) -> Option<maint_core::WaitPlan> {
        let wanted = self.wait || self.wait_url.is_some();
        wanted.then(|| maint_core::WaitPlan {
            url: self.wait_url.clone(),
            timeout: self.wait_timeout,
        })
    }
}

/// `allowlist enable`.
#[derive(Debug, Args)]
pub struct EnableArgs {
    #[command(flatten)]
    pub targets: TargetsArgs,
    #[command(flatten)]
    pub wait: WaitArgs,
}

/// `enter`.
#[derive(Debug, Args)]
pub struct EnterArgs {
    /// Service names (from the config file), ALB names, or ARNs of ALBs (or of other resources AWS WAF protects: API Gateway stages, AppSync APIs, ...).
    #[arg(required = true, value_name = "TARGET")]
    pub targets: Vec<String>,

    #[command(flatten)]
    pub window: WindowArgs,

    /// Consent to add maint's rule to a target's own web ACL, when it already
    /// has one (else refused). maint's rule goes first in that web ACL;
    /// requests it lets through continue into the ACL's own rules; exit
    /// removes exactly what maint added. Config: existing_web_acl = "inject".
    #[arg(long)]
    pub inject: bool,

    #[command(flatten)]
    pub wait: WaitArgs,

    #[command(flatten)]
    pub dry_run: DryRunArgs,
}

/// `arm`: the settings of `enter`, prepared ahead of time.
#[derive(Debug, Args)]
pub struct ArmArgs {
    /// Service names (from the config file), ALB names, or ARNs of ALBs (or of other resources AWS WAF protects: API Gateway stages, AppSync APIs, ...).
    #[arg(required = true, value_name = "TARGET")]
    pub targets: Vec<String>,

    #[command(flatten)]
    pub window: WindowArgs,

    #[command(flatten)]
    pub dry_run: DryRunArgs,
}

/// What a maintenance window holds: the allowlist and the response (`enter`
/// and `arm`).
#[derive(Debug, Args)]
pub struct WindowArgs {
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

    /// Give the window a bypass secret (random, 192 bits; kept when the
    /// window has one): requests with the header `x-maint-bypass: <secret>`
    /// or the cookie `maint_bypass=<secret>` get through, and the link
    /// `maint bypass link` prints sets that cookie. Config: bypass = true.
    #[arg(long, help_heading = "Bypass", group = "bypass_choice")]
    pub bypass: bool,

    /// Use this bypass secret (22 to 64 of A-Z a-z 0-9 - _). Other users
    /// of the machine can see it in the process list: prefer
    /// --bypass-secret-file.
    #[arg(long, value_name = "SECRET", value_parser = SecretParser, help_heading = "Bypass", group = "bypass_choice")]
    pub bypass_secret: Option<BypassSecret>,

    /// Read the bypass secret from this file (`-`: standard input): one
    /// line, its line ending ignored.
    #[arg(long, value_name = "PATH")]
    #[arg(help_heading = "Bypass", group = "bypass_choice")]
    pub bypass_secret_file: Option<PathBuf>,

    /// Replace the bypass secret with a new random one: old links and
    /// cookies stop working.
    #[arg(long, help_heading = "Bypass", group = "bypass_choice")]
    pub rotate_bypass: bool,

    /// Remove the bypass. (Without any bypass flag, a repeated enter keeps
    /// what the window has.)
    #[arg(long, help_heading = "Bypass", group = "bypass_choice")]
    pub no_bypass: bool,

    /// Match the allowlist against the client address in this request
    /// header (set by CloudFront or a proxy) instead of the connection's.
    /// Only safe when the load balancer accepts traffic from that proxy
    /// alone (see the README). Config: client_ip = { header = ..., position = ... }.
    #[arg(
        long,
        value_name = "NAME",
        requires = "client_ip_position",
        help_heading = "Client address"
    )]
    pub client_ip_header: Option<String>,

    /// Which address of the header's list: last (behind CloudFront or one
    /// proxy that appends), first or any (both spoofable by the client).
    #[arg(long, value_name = "POS", value_parser = parse_position, requires = "client_ip_header", help_heading = "Client address")]
    pub client_ip_position: Option<ClientIpPosition>,

    /// What a request without a valid address there gets: no_match (the
    /// maintenance response; default) or match (let through).
    #[arg(long, value_name = "FALLBACK", value_parser = parse_fallback, requires = "client_ip_header", help_heading = "Client address")]
    pub client_ip_fallback: Option<ClientIpFallback>,

    /// Cover only requests for this host, on a load balancer shared with
    /// other services (repeatable; at most 10): shop.example.com,
    /// *.shop.example.com (any subdomain, not the domain itself), or
    /// shop.example.com:8443 (a Host header with that port). Compared
    /// case-insensitively. Without it: the service's `hosts`, else every
    /// host; a repeated enter keeps the window's. Config: hosts = [...].
    #[arg(long = "host", value_name = "HOST", value_parser = parse_host, help_heading = "Scope")]
    pub hosts: Vec<HostPattern>,

    /// Cover only paths that start with this prefix (repeatable; at most
    /// 10): /checkout also covers /checkout-v2; end it with / for a
    /// directory. Without it: the service's `paths`, else every path; a
    /// repeated enter keeps the window's. Config: paths = [...].
    #[arg(long = "path-prefix", value_name = "PREFIX", value_parser = parse_path_prefix, help_heading = "Scope")]
    pub paths: Vec<PathPrefix>,

    /// Always let requests under this path prefix through, whoever sends
    /// them (repeatable; at most 10): an uptime monitor's /healthz, a
    /// payment provider's webhook. Without it: the service's `open_paths`;
    /// a repeated enter keeps the window's. Config: open_paths = [...].
    #[arg(long = "open-path", value_name = "PREFIX", value_parser = parse_path_prefix, help_heading = "Scope")]
    pub open_paths: Vec<PathPrefix>,
}

/// `allowlist ...`.
#[derive(Debug, Subcommand)]
pub enum AllowlistCommand {
    /// Let the allowlist through again (testers in), and the bypass, if the
    /// window has one.
    Enable(EnableArgs),
    /// Stop letting the allowlist through, keeping its entries. The bypass
    /// (header, cookie, link) is shut too, unless --keep-bypass: testing
    /// found a problem, so nobody gets in.
    Disable(DisableArgs),
    /// Add entries.
    Add(EditArgs),
    /// Take addresses out (a range inside a larger entry splits it).
    Remove(EditArgs),
    /// Replace all entries.
    Set(EditArgs),
    /// Print the allowlist of targets in maintenance.
    Show {
        /// Service names, ALB names, or ARNs of ALBs or other resources AWS WAF protects.
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

/// `allowlist disable`.
#[derive(Debug, Args)]
pub struct DisableArgs {
    #[command(flatten)]
    pub targets: TargetsArgs,
    /// Keep the bypass open (only the allowlist's entries are shut out).
    #[arg(long)]
    pub keep_bypass: bool,
    #[command(flatten)]
    pub wait: WaitArgs,
}

/// `bypass ...`.
#[derive(Debug, Subcommand)]
pub enum BypassCommand {
    /// Print the bypass link of each target, for sharing with testers. The
    /// link holds the secret: share it like a password.
    ///
    /// Opening it sets the bypass cookie and redirects to the site; requests
    /// with the cookie (or the header `x-maint-bypass: <secret>`) get
    /// through. The link's host is --base-url, else the service's `url` in
    /// the config file; without either, the path is printed.
    Link {
        /// Service names, ALB names, or ARNs of ALBs or other resources AWS WAF protects.
        #[arg(required = true, value_name = "TARGET")]
        targets: Vec<String>,
        /// The site's address, e.g. `https://shop.example.com`.
        #[arg(long, value_name = "URL")]
        base_url: Option<String>,
    },
}

/// `check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Service names (from the config file), ALB names, or ARNs of ALBs (or of other resources AWS WAF protects: API Gateway stages, AppSync APIs, ...).
    #[arg(required = true, value_name = "TARGET")]
    pub targets: Vec<String>,
    /// The client's address as the load balancer sees the connection.
    #[arg(long, value_name = "ADDR")]
    pub ip: String,
    /// A request header, 'Name: value' (repeatable).
    #[arg(long = "header", value_name = "'NAME: VALUE'")]
    pub headers: Vec<String>,
    /// The request's path [default: /].
    #[arg(long, value_name = "PATH")]
    pub path: Option<String>,
    /// The request's Host header (host, or host:port), for a window that
    /// covers some hosts only.
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,
    /// The request's URL: its host (the Host header) and its path at once,
    /// e.g. `https://shop.example.com/checkout`.
    #[arg(long, value_name = "URL", conflicts_with_all = ["path", "host"])]
    pub url: Option<String>,
}

/// `allowlist add|remove|set`.
#[derive(Debug, Args)]
pub struct EditArgs {
    /// A service name, ALB name, or ARN of an ALB or other resource AWS WAF protects.
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
    /// Service names, ALB names or resource ARNs [default: every service of the config file].
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

/// Parses `--bypass-secret` without ever echoing a refused value (clap's
/// own messages quote it).
#[derive(Debug, Clone, Copy)]
struct SecretParser;

impl clap::builder::TypedValueParser for SecretParser {
    type Value = BypassSecret;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<BypassSecret, clap::Error> {
        let name = arg.map_or_else(|| "--bypass-secret".to_string(), ToString::to_string);
        let refused = |reason: &str| {
            clap::Error::raw(
                clap::error::ErrorKind::ValueValidation,
                format!("invalid value for '{name}' (not shown): {reason}\n"),
            )
            .with_cmd(cmd)
        };
        let text = value.to_str().ok_or_else(|| refused("it is not UTF-8"))?;
        BypassSecret::new(text).map_err(|e| refused(&e.reason))
    }
}

fn parse_host(s: &str) -> Result<HostPattern, String> {
    HostPattern::parse(s).map_err(|e| e.reason)
}

fn parse_path_prefix(s: &str) -> Result<PathPrefix, String> {
    PathPrefix::parse(s).map_err(|e| e.reason)
}

fn parse_position(s: &str) -> Result<ClientIpPosition, String> {
    ClientIpPosition::parse(s).map_err(|e| e.reason)
}

fn parse_fallback(s: &str) -> Result<ClientIpFallback, String> {
    ClientIpFallback::parse(s).map_err(|e| e.reason)
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
    maint_core::maintenance::check_end(t).map_err(|e| e.reason)
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| format!("{e}; e.g. 90m, 2h, 1h30m"))?;
    if d.is_zero() {
        return Err("the duration must be more than zero".into());
    }
    Ok(d)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn long_help(name: &str) -> String {
        let mut cli = Cli::command();
        let command = cli
            .find_subcommand_mut(name)
            .unwrap_or_else(|| panic!("no subcommand {name}"));
        // Words only: where clap wraps the lines depends on the width.
        let help = command.render_long_help().to_string();
        help.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("maint").chain(args.iter().copied()))
    }

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn arm_help_says_what_it_costs_and_when_to_use_it() {
        let help = long_help("arm");
        for needle in [
            "pass-through",
            "nothing is blocked",
            "$5 per web ACL per month",
            "$1 per rule per month",
            "prorated hourly",
            "$0.60 per million requests",
            "one every 2 s per account and Region",
            "maint disarm",
            "--allow <CIDR>",
            "--until <TIME>",
            "--dry-run",
        ] {
            assert!(
                help.contains(needle),
                "arm --help lacks {needle:?}:\n{help}"
            );
        }
    }

    #[test]
    fn disarm_help_says_it_ends_the_charges_and_refuses_maintenance() {
        let help = long_help("disarm");
        for needle in [
            "$5 per web ACL per month",
            "$0.60 per million",
            "maint exit",
            "--dry-run",
        ] {
            assert!(
                help.contains(needle),
                "disarm --help lacks {needle:?}:\n{help}"
            );
        }
    }

    #[test]
    fn enter_inject_help_says_what_it_does() {
        let help = long_help("enter");
        for needle in [
            "--inject",
            "first",
            "continue into the ACL's own rules",
            "exactly what maint added",
        ] {
            assert!(
                help.contains(needle),
                "enter --help lacks {needle:?}:\n{help}"
            );
        }
    }

    #[test]
    fn arm_takes_enters_flags_and_disarm_only_targets_and_dry_run() {
        let cli = parse(&[
            "arm",
            "shop",
            "api",
            "--allow",
            "192.0.2.1",
            "--reason",
            "release",
            "--for",
            "2h",
            "--status",
            "503",
            "--header",
            "X-Why: release",
            "--dry-run",
        ])
        .unwrap();
        let Command::Arm(args) = cli.command else {
            panic!("not arm: {:?}", cli.command)
        };
        assert_eq!(args.targets, ["shop", "api"]);
        assert_eq!(args.window.allow.len(), 1);
        assert_eq!(args.window.reason.as_deref(), Some("release"));
        assert!(args.window.duration.is_some());
        assert!(args.dry_run.dry_run);

        let cli = parse(&["disarm", "shop", "--dry-run"]).unwrap();
        assert!(matches!(cli.command, Command::Disarm(ref a) if a.dry_run.dry_run));
        let cli = parse(&["enter", "shop", "--inject"]).unwrap();
        assert!(matches!(cli.command, Command::Enter(ref a) if a.inject));
        let cli = parse(&["enter", "shop"]).unwrap();
        assert!(matches!(cli.command, Command::Enter(ref a) if !a.inject));
    }

    #[test]
    fn bad_arm_and_disarm_arguments_are_usage_errors() {
        for args in [
            &["arm", "shop", "--allow", "10.0.0.5/24"][..],
            &["arm", "shop", "--allow", "0.0.0.0/0"],
            &["arm", "shop", "--inject"],
            &["arm", "shop", "--until", "2001-01-01T00:00:00Z"],
            &[
                "arm",
                "shop",
                "--for",
                "1h",
                "--until",
                "2099-01-01T00:00:00Z",
            ],
            &["arm"],
            &["disarm"],
            &["disarm", "shop", "--allow", "192.0.2.1"],
        ] {
            let err = parse(args).expect_err(&format!("{args:?} should be refused"));
            // clap exits 2 on usage errors: the code of bad input.
            assert_eq!(err.exit_code(), 2, "{args:?}: {err}");
        }
        let err = parse(&["arm", "shop", "--allow", "10.0.0.5/24"]).unwrap_err();
        assert!(
            err.to_string().contains("did you mean 10.0.0.0/24?"),
            "{err}"
        );
    }

    #[test]
    fn enter_and_arm_take_a_scope_and_check_a_host_or_url() {
        for command in ["enter", "arm"] {
            let cli = parse(&[
                command,
                "shop",
                "--host",
                "Shop.Example.com",
                "--host",
                "*.shop.example.com",
                "--path-prefix",
                "/checkout//",
                "--open-path",
                "/healthz",
                "--open-path",
                "/webhooks/stripe",
            ])
            .unwrap();
            let window = match cli.command {
                Command::Enter(a) => a.window,
                Command::Arm(a) => a.window,
                other => panic!("not {command}: {other:?}"),
            };
            let strings = |v: &[PathPrefix]| v.iter().map(ToString::to_string).collect::<Vec<_>>();
            assert_eq!(
                window
                    .hosts
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>(),
                ["shop.example.com", "*.shop.example.com"]
            );
            assert_eq!(strings(&window.paths), ["/checkout/"]);
            assert_eq!(
                strings(&window.open_paths),
                ["/healthz", "/webhooks/stripe"]
            );
        }
        let cli = parse(&[
            "check",
            "shop",
            "--ip",
            "192.0.2.1",
            "--host",
            "shop.example.com",
        ])
        .unwrap();
        assert!(
            matches!(cli.command, Command::Check(ref a) if a.host.as_deref() == Some("shop.example.com"))
        );
        let cli = parse(&[
            "check",
            "shop",
            "--ip",
            "192.0.2.1",
            "--url",
            "https://shop.example.com/x",
        ])
        .unwrap();
        assert!(
            matches!(cli.command, Command::Check(ref a) if a.url.is_some() && a.path.is_none())
        );
        for args in [
            &["enter", "shop", "--host", "https://shop.example.com"][..],
            &["arm", "shop", "--path-prefix", "checkout"],
            &["enter", "shop", "--open-path", "/healthz?x"],
            &[
                "check",
                "shop",
                "--ip",
                "192.0.2.1",
                "--url",
                "https://a/",
                "--path",
                "/x",
            ],
            &[
                "check",
                "shop",
                "--ip",
                "192.0.2.1",
                "--url",
                "https://a/",
                "--host",
                "a",
            ],
            &["disarm", "shop", "--host", "a.example.com"],
        ] {
            let err = parse(args).expect_err(&format!("{args:?} should be refused"));
            assert_eq!(err.exit_code(), 2, "{args:?}: {err}");
        }
    }
}
