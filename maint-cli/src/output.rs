//! Everything the CLI prints, from one place: lines and tables for people,
//! JSON for scripts, and errors with their causes. The terminal and its
//! progress line are the [`Screen`] the [`Printer`] owns; logs are
//! `logging`'s; exit codes are decided in `exit`.
//!
//! Colours are written as ANSI styles (anstyle) to anstream's streams, which
//! strip them unless the stream is a terminal, and honour `NO_COLOR`,
//! `CLICOLOR` and `CLICOLOR_FORCE`: piped or logged output never carries
//! escape codes. The progress line (indicatif) is drawn on stderr only on a
//! terminal; log lines and results are printed around it, never through it.

use std::io::Write;
use std::sync::{Mutex, PoisonError};

use anstyle::{AnsiColor, Style};
use maint_core::check::{CheckReport, Verdict, Why};
use maint_core::config::Config;
use maint_core::error::{causes, chain};
use maint_core::fleet::{Event, Observer};
use maint_core::report::{
    rfc3339, BypassLinkRun, ChangeReport, ChangeRun, CheckTargetReport, CleanupRun, StatusRun,
    TargetState,
};
use maint_core::TargetRef;
use maint_core::{Allowlist, Error};
use tabwriter::TabWriter;

use crate::exit::{self, ExitStatus};
use crate::screen::{Progress, Screen};

const GOOD: Style = AnsiColor::Green.on_default();
const WARN: Style = AnsiColor::Yellow.on_default();
const BAD: Style = AnsiColor::Red.on_default().bold();
const DIM: Style = Style::new().dimmed();

fn paint(style: Style, text: &str) -> String {
    format!("{style}{text}{style:#}")
}

/// Writes an error as `maint: message`, then each distinct cause on a line
/// of its own. Bad input lists every problem on a line of its own (each with
/// its file and line when known); a lookup that failed lists every target.
/// `context` (e.g. `cleanup in us-east-1`) goes before the message.
pub fn write_error(w: &mut impl Write, context: Option<&str>, error: &Error) {
    let prefix = match context {
        Some(context) => format!("maint: {context}: "),
        None => "maint: ".to_string(),
    };
    let _ = match error {
        Error::InvalidAllowlist(problems) | Error::InvalidConfig(problems) => problems
            .problems()
            .iter()
            .try_for_each(|p| writeln!(w, "{prefix}{p}")),
        Error::Unresolved { failures } => {
            let head = writeln!(
                w,
                "{prefix}{}:",
                maint_core::error::unresolved_heading(failures)
            );
            head.and_then(|()| {
                failures
                    .iter()
                    .try_for_each(|(target, e)| writeln!(w, "  {target}: {}", chain(e)))
            })
        }
        other => writeln!(w, "{prefix}{other}").and_then(|()| {
            causes(other)
                .iter()
                .try_for_each(|cause| writeln!(w, "  caused by: {cause}"))
        }),
    };
}

/// How this run prints: JSON or text, with or without a progress line.
pub struct Printer {
    json: bool,
    progress: bool,
    screen: Screen,
}

impl Printer {
    /// A printer; `progress` asks for a progress line (shown on a terminal
    /// only).
    pub fn new(json: bool, progress: bool, screen: Screen) -> Self {
        Self {
            json,
            progress,
            screen,
        }
    }

    /// A progress line for a command that has no targets to count.
    pub fn progress(&self, what: &str) -> Progress {
        Progress::start(&self.screen, what, None, self.progress)
    }

    /// An observer that prints each target's result of a changing command
    /// as it completes (`verb`: what success is called, e.g. `entered
    /// maintenance`) and keeps the progress line.
    /// `command` names it on the progress line.
    pub fn changes(&self, command: &'static str, verb: &'static str) -> ChangeLines {
        ChangeLines {
            screen: self.screen.clone(),
            json: self.json,
            progress: self.progress,
            command,
            verb,
            state: Mutex::new(None),
        }
    }

    /// An observer that keeps the progress line of `command`, which reads.
    pub fn reads(&self, command: &'static str) -> ChangeLines {
        ChangeLines {
            screen: self.screen.clone(),
            json: true,
            progress: self.progress,
            command,
            verb: "read",
            state: Mutex::new(None),
        }
    }

    /// Prints a changing command's result (JSON, or a summary after the
    /// per-target lines) and returns its exit status.
    pub fn change_run(&self, run: &ChangeRun) -> ExitStatus {
        if self.json {
            self.screen.json(run);
        } else {
            let s = &run.summary;
            let summary = format!(
                "{} target{}: {} {}, {} unchanged, {} failed{}",
                s.targets,
                if s.targets == 1 { "" } else { "s" },
                s.changed,
                if run.dry_run {
                    "would change"
                } else {
                    "changed"
                },
                s.unchanged,
                s.failed,
                if run.dry_run {
                    " (dry run: nothing was changed)"
                } else {
                    ""
                },
            );
            self.screen.line(&if s.failed > 0 {
                paint(BAD, &summary)
            } else {
                summary
            });
            for w in &run.waited {
                let what = if run.command == maint_core::report::Operation::Exit {
                    "maintenance page gone"
                } else {
                    "maintenance page live"
                };
                self.screen.line(&paint(
                    GOOD,
                    &format!(
                        "{}: {what} after {:.0} s ({} probe{})",
                        w.url,
                        w.seconds,
                        w.probes,
                        if w.probes == 1 { "" } else { "s" }
                    ),
                ));
            }
        }
        exit::of_change(run)
    }

    /// Prints `status` and returns its exit status (with `check`: 3 when
    /// every target could be read but not all are in maintenance).
    pub fn status(&self, run: &StatusRun, check: bool) -> ExitStatus {
        if self.json {
            self.screen.json(run);
        } else {
            self.screen.out(&status_table(run));
            for note in status_notes(run) {
                self.screen.line(&note);
            }
        }
        exit::of_status(run, check)
    }

    /// A line of advice after a command's results (not with `--json`).
    pub fn note(&self, message: &str) {
        if !self.json {
            self.screen.line(message);
        }
    }

    /// Prints `check`'s answers and returns its exit status: 3 when a
    /// request gets the maintenance response, 0 when every target lets it
    /// through (or answers the bypass link), else the first error's.
    pub fn check(
        &self,
        answers: &[(TargetRef, maint_core::Result<CheckReport>)],
        config: Option<&Config>,
    ) -> ExitStatus {
        let reports: Vec<CheckTargetReport> = answers
            .iter()
            .map(|(t, r)| CheckTargetReport::new(t, r))
            .collect();
        if self.json {
            self.screen.json(&serde_json::json!({ "targets": reports }));
        } else {
            for line in check_lines(&reports, config) {
                self.screen.line(&line);
            }
        }
        exit::of_check(answers)
    }

    /// Prints each target's bypass link (`bypass link`), on explicit
    /// request only: the link holds the secret.
    pub fn bypass_links(&self, links: &BypassLinkRun) -> ExitStatus {
        let rows: Vec<_> = links
            .status
            .targets
            .iter()
            .zip(&links.links)
            .map(|(r, l)| (r, &l.link, &l.base_url))
            .collect();
        if self.json {
            let targets: Vec<serde_json::Value> = rows
                .iter()
                .map(|(r, link, _)| {
                    serde_json::json!({
                        "target": r.target,
                        "service": r.service,
                        "state": r.state.as_str(),
                        "bypass": r.bypass,
                        "link": link,
                        "header": maint_core::access::BYPASS_HEADER,
                        "cookie": maint_core::access::BYPASS_COOKIE,
                        "secret": r.bypass_secret.as_ref().map(|s| s.expose()),
                        "error": r.error,
                    })
                })
                .collect();
            self.screen.json(&serde_json::json!({ "targets": targets }));
        } else {
            for (r, link, base) in &rows {
                let text = match (&r.error, link) {
                    (Some(e), _) => paint(BAD, &format!("error: {}", e.message)),
                    (None, Some(link)) => {
                        let mut text = link.to_string();
                        if r.bypass == Some("disabled") {
                            text.push_str(&paint(
                                WARN,
                                "  (bypass disabled: `maint allowlist enable` opens it)",
                            ));
                        }
                        if base.is_none() {
                            text.push_str("  (add your site's address in front: --base-url)");
                        }
                        if base.as_deref().is_some_and(|b| b.starts_with("http://")) {
                            text.push_str(&paint(
                                WARN,
                                "  (the cookie is Secure: browsers keep it over https:// only)",
                            ));
                        }
                        text
                    }
                    (None, None) => paint(WARN, "no bypass (`maint enter --bypass` adds one)"),
                };
                self.screen.line(&format!("{}: {text}", r.target));
            }
        }
        exit::of_bypass_links(links)
    }

    /// Prints `allowlist show` and returns its exit status.
    pub fn allowlists(&self, run: &StatusRun) -> ExitStatus {
        if self.json {
            self.screen.json(run);
        } else {
            for r in &run.targets {
                let state = match (&r.error, r.allowlist_enabled) {
                    (Some(e), _) => paint(BAD, &format!("error: {}", e.message)),
                    (None, Some(on)) => format!(
                        "{}, allowlist {} ({} entries)",
                        r.state.as_str(),
                        if on {
                            paint(GOOD, "on")
                        } else {
                            paint(WARN, "off")
                        },
                        r.allowlist.len()
                    ),
                    (None, None) => {
                        format!("{} (no allowlist: not in maintenance)", r.state.as_str())
                    }
                };
                self.screen.line(&format!("{}: {state}", r.target));
                for entry in &r.allowlist {
                    self.screen.line(&format!("  {entry}"));
                }
            }
        }
        exit::of_status(run, false)
    }

    /// Prints `cleanup` and returns its exit status.
    pub fn cleanup(&self, run: &CleanupRun) -> ExitStatus {
        for e in &run.errors {
            let region = e.region.as_deref().unwrap_or("the default region");
            let mut text = Vec::new();
            write_error(
                &mut text,
                Some(&format!("cleanup in {region}")),
                &e.error.error,
            );
            let _ = anstream::stderr().lock().write_all(&text);
        }
        if self.json {
            self.screen.json(run);
        } else {
            let verb = if run.dry_run {
                "would delete"
            } else {
                "deleted"
            };
            for r in &run.resources {
                let l = &r.resource;
                self.screen
                    .line(&format!("{verb} {} {} ({})", l.kind, l.name, l.arn));
            }
            for r in &run.kept {
                let l = &r.resource;
                let why = l.kept.as_deref().unwrap_or_default();
                self.screen
                    .line(&format!("kept {} {}: {why} ({})", l.kind, l.name, l.arn));
            }
            let n = run.resources.len();
            self.screen.line(&format!(
                "{n} unused resource{} of maint's {}",
                if n == 1 { "" } else { "s" },
                if run.dry_run {
                    "found (dry run: nothing was deleted)"
                } else {
                    "deleted"
                }
            ));
        }
        exit::of_cleanup(run)
    }
}

/// Prints results as they complete and keeps the progress line: a
/// [`Printer`]'s observer.
pub struct ChangeLines {
    screen: Screen,
    json: bool,
    progress: bool,
    command: &'static str,
    verb: &'static str,
    /// The progress line, the width of the target column and (for a run
    /// across accounts or Regions) of the place column, once started.
    state: Mutex<Option<(Progress, usize, PlaceColumns)>>,
}

impl Observer for ChangeLines {
    fn event(&self, event: &Event<'_>) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        match event {
            Event::Started { targets } => {
                let width = targets
                    .iter()
                    .map(|t| t.label().chars().count())
                    .max()
                    .unwrap_or(0);
                *state = Some((
                    Progress::start(
                        &self.screen,
                        self.command,
                        Some(targets.len()),
                        self.progress,
                    ),
                    width,
                    PlaceColumns::of_targets(targets),
                ));
            }
            Event::ChangeDone { report, .. } => {
                if let Some((progress, width, places)) = state.as_ref() {
                    progress.tick();
                    if !self.json {
                        self.screen.line(&format!(
                            "{}{}",
                            places.prefix(
                                report.account.as_deref(),
                                report.load_balancer_arn.as_deref()
                            ),
                            change_line(self.verb, report, *width)
                        ));
                    }
                }
            }
            Event::StatusDone { .. } => {
                if let Some((progress, _, _)) = state.as_ref() {
                    progress.tick();
                }
            }
            Event::Waiting { .. } => {
                // The targets are done: the line says what the wait sees.
                let (width, places) = state
                    .as_ref()
                    .map_or((0, PlaceColumns::default()), |(_, w, p)| (*w, *p));
                *state = None;
                *state = Some((
                    Progress::start(&self.screen, "wait", None, self.progress),
                    width,
                    places,
                ));
            }
            Event::Probed {
                url,
                window,
                seen,
                elapsed,
                cloudfront,
            } => {
                let edge = if *cloudfront {
                    " (CloudFront: minutes until every edge location has the change)"
                } else {
                    ""
                };
                tracing::info!(
                    target: "maint::progress",
                    "waiting for {url} ({window}): {seen} after {} s{edge}",
                    elapsed.as_secs()
                );
            }
            Event::Warning { message } => tracing::warn!("{message}"),
            _ => {}
        }
    }
}

/// `check`'s answers for people: per target, what the request gets, then
/// each reason on a line of its own.
fn check_lines(reports: &[CheckTargetReport], config: Option<&Config>) -> Vec<String> {
    let mut lines = Vec::new();
    for r in reports {
        let head = match (&r.error, r.verdict, &r.response) {
            (Some(e), _, _) => paint(BAD, &format!("error: {}", e.message)),
            (None, Some(Verdict::Maintenance), Some(resp)) => paint(
                WARN,
                &format!("gets the maintenance response ({})", resp.status),
            ),
            (None, Some(Verdict::BypassLink), Some(resp)) => paint(
                GOOD,
                &format!(
                    "bypass link: {} redirect to / that sets the bypass cookie",
                    resp.status
                ),
            ),
            _ => paint(GOOD, "let through"),
        };
        lines.push(format!("{}: {head}", r.target));
        for (reason, why) in r.reasons.iter().zip(&r.why) {
            let names = allowlist_names(why, r.service.as_deref(), config);
            lines.push(format!("  {reason}{names}"));
        }
    }
    lines
}

/// A change report as one line for people.
fn change_line(verb: &str, r: &ChangeReport, width: usize) -> String {
    let target = format!("{:<width$}", r.target);
    match (&r.error, r.changed, r.dry_run) {
        (Some(e), _, _) => format!("{target}  {}: {}", paint(BAD, "FAILED"), e.message),
        (None, false, _) => format!("{target}  {}", paint(DIM, "unchanged")),
        (None, true, true) => format!(
            "{target}  {} {}",
            paint(WARN, "would"),
            r.changes.join("; ")
        ),
        (None, true, false) => format!("{target}  {}: {}", paint(GOOD, verb), r.changes.join("; ")),
    }
}

/// The config's named allowlists (of the target's service) that hold the
/// address an allowlist entry let through, as ` (office, qa-vpn)`: the
/// entries in AWS are folded, the names live only in the config.
fn allowlist_names(why: &Why, service: Option<&str>, config: Option<&Config>) -> String {
    let Why::AllowlistEntry { address, .. } = why else {
        return String::new();
    };
    let (Some(config), Some(service), Ok(ip)) = (config, service, address.parse()) else {
        return String::new();
    };
    let Some(service) = config.service(service) else {
        return String::new();
    };
    let names: Vec<&str> = service
        .allowlist_names
        .iter()
        .filter(|n| config.allowlists.get(*n).is_some_and(|l| l.contains(ip)))
        .map(String::as_str)
        .collect();
    if names.is_empty() {
        String::new()
    } else {
        format!(" ({})", names.join(", "))
    }
}

/// A target's Region, for people, from its ARN: `global` for CloudFront,
/// `-` when not found.
fn region_of(arn: Option<&str>) -> &str {
    match arn.and_then(|a| a.split(':').nth(3)) {
        Some("") => "global",
        Some(region) => region,
        None => "-",
    }
}

/// The place columns a run across accounts or Regions shows before each
/// target: ACCOUNT (the config account's name, else the ID of the target's
/// ARN, `-` when unknown) when its targets are in more than one account,
/// REGION when in more than one Region; each with its width.
#[derive(Debug, Clone, Copy, Default)]
struct PlaceColumns {
    account: Option<usize>,
    region: Option<usize>,
}

impl PlaceColumns {
    /// The columns for the targets a command starts on.
    fn of_targets(targets: &[TargetRef]) -> Self {
        let mut accounts: Vec<Option<&str>> =
            targets.iter().map(|t| t.account.as_deref()).collect();
        accounts.sort_unstable();
        accounts.dedup();
        let mut regions: Vec<Option<&str>> = targets.iter().map(|t| t.region.as_deref()).collect();
        regions.sort_unstable();
        regions.dedup();
        // An account's ID is 12 digits; "ap-southeast-4" is 14 characters.
        Self {
            account: (accounts.len() > 1).then(|| {
                accounts
                    .iter()
                    .map(|a| a.map_or(12, str::len))
                    .max()
                    .unwrap_or(12)
            }),
            region: (regions.len() > 1).then_some(14),
        }
    }

    /// The columns of a finished `status`: accounts as reported (those
    /// known), Regions from the targets' ARNs.
    fn of_status(reports: &[&maint_core::report::StatusReport]) -> Self {
        let mut accounts: Vec<&str> = reports
            .iter()
            .filter_map(|r| r.account.as_deref())
            .collect();
        accounts.sort_unstable();
        accounts.dedup();
        let mut regions: Vec<&str> = reports
            .iter()
            .map(|r| region_of(r.load_balancer_arn.as_deref()))
            .collect();
        regions.sort_unstable();
        regions.dedup();
        Self {
            account: (accounts.len() > 1).then_some(0),
            region: (regions.len() > 1).then_some(0),
        }
    }

    /// The cells before a target's own, each padded and followed by two
    /// spaces (for a tab-aligned table, give widths of 0 and replace).
    fn prefix(&self, account: Option<&str>, arn: Option<&str>) -> String {
        let mut cells = String::new();
        if let Some(w) = self.account {
            cells.push_str(&format!("{:<w$}  ", account.unwrap_or("-")));
        }
        if let Some(w) = self.region {
            cells.push_str(&format!("{:<w$}  ", region_of(arn)));
        }
        cells
    }
}

/// The status table for people, aligned by tabwriter (which skips the
/// colour codes when measuring). Targets of more than one account or
/// Region are grouped by them (in the order each first appears), under an
/// ACCOUNT and a REGION column (each only when there is more than one).
fn status_table(run: &StatusRun) -> String {
    let mut table = TabWriter::new(Vec::new()).padding(2).ansi(true);
    let mut rows: Vec<&maint_core::report::StatusReport> = run.targets.iter().collect();
    let columns = PlaceColumns::of_status(&rows);
    let cells = |r: &maint_core::report::StatusReport| {
        columns
            .prefix(r.account.as_deref(), r.load_balancer_arn.as_deref())
            .replace("  ", "\t")
    };
    let mut places: Vec<String> = Vec::new();
    for r in &rows {
        let p = cells(r);
        if !places.contains(&p) {
            places.push(p);
        }
    }
    rows.sort_by_key(|r| places.iter().position(|p| *p == cells(r)));
    let _ = writeln!(
        table,
        "{}{}TARGET\tSTATE\tALLOWLIST\tSINCE\tUNTIL\tREASON",
        if columns.account.is_some() {
            "ACCOUNT\t"
        } else {
            ""
        },
        if columns.region.is_some() {
            "REGION\t"
        } else {
            ""
        },
    );
    for r in rows {
        let _ = write!(table, "{}", cells(r));
        let mut allowlist = match r.allowlist_enabled {
            Some(true) => format!("on ({})", r.allowlist.len()),
            Some(false) => format!("off ({})", r.allowlist.len()),
            None => "-".into(),
        };
        match r.bypass {
            Some("enabled") => allowlist.push_str(" +bypass"),
            Some(_) => allowlist.push_str(" +bypass off"),
            None => {}
        }
        let state = match (&r.error, r.state, r.web_acl_name.as_deref()) {
            (Some(_), _, _) => "error".to_string(),
            (None, TargetState::Foreign, Some(name)) => format!("foreign ({name})"),
            (None, TargetState::Reverted, Some(name)) if r.injected => {
                format!("reverted (rule gone from {name})")
            }
            (None, TargetState::Reverted, _) => match &r.now_under {
                Some(other) => format!("reverted (now under {other})"),
                None => "reverted (association removed)".to_string(),
            },
            (None, state, Some(name)) if r.injected => format!("{} (in {name})", state.as_str()),
            _ if !r.leftovers.is_empty() => format!("{} (leftovers)", r.state.as_str()),
            (None, TargetState::Maintenance, _) if r.overdue => "maintenance (overdue)".to_string(),
            (None, TargetState::Maintenance, _) if r.armed_since.is_some() => {
                "maintenance (armed)".to_string()
            }
            _ => r.state.as_str().to_string(),
        };
        let style = match r.state {
            TargetState::Maintenance => WARN,
            TargetState::Normal | TargetState::Armed => GOOD,
            TargetState::Foreign | TargetState::Reverted | TargetState::Error => BAD,
        };
        let time = |t: &Option<chrono::DateTime<chrono::Utc>>| {
            t.as_ref().map_or_else(|| "-".to_string(), rfc3339)
        };
        let last = match &r.error {
            Some(e) => e.message.clone(),
            None => r.reason.clone().unwrap_or_else(|| "-".into()),
        };
        // An armed window not in maintenance: since it was armed.
        let since = match r.state {
            TargetState::Armed => &r.armed_since,
            _ => &r.since,
        };
        let _ = writeln!(
            table,
            "{}\t{}\t{allowlist}\t{}\t{}\t{last}",
            r.target,
            paint(style, &state),
            time(since),
            time(&r.until),
        );
    }
    table
        .into_inner()
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}

/// What the status table cannot say in a cell, one line each: targets whose
/// injected rule was removed (NOT in maintenance), leftovers, and what
/// armed means.
fn status_notes(run: &StatusRun) -> Vec<String> {
    let mut notes = Vec::new();
    for r in run.targets.iter().filter(|r| r.error.is_none()) {
        if r.state == TargetState::Reverted && !r.injected {
            let name = r.web_acl_name.as_deref().unwrap_or("?");
            let now = match &r.now_under {
                Some(other) => format!("it carries web ACL {other} now"),
                None => "it carries no web ACL now".to_string(),
            };
            notes.push(paint(
                BAD,
                &format!(
                    "{}: maint's web ACL {name} was taken off it by another writer (the AWS Load \
                     Balancer Controller, an IaC apply, a person) and {now}: NOT in maintenance; \
                     `maint enter` associates it again, `maint exit` ends the window",
                    r.target
                ),
            ));
        } else if r.state == TargetState::Reverted {
            let name = r.web_acl_name.as_deref().unwrap_or("?");
            notes.push(paint(
                BAD,
                &format!(
                    "{}: maint's rule was removed from web ACL {name} (an IaC apply?): NOT in \
                     maintenance; `maint enter` puts it back, `maint exit` clears up",
                    r.target
                ),
            ));
        }
        if let Some(from) = r
            .client_ip_from
            .as_deref()
            .filter(|f| *f != "the connection")
        {
            notes.push(format!(
                "{}: the allowlist matches the client address from {from}",
                r.target
            ));
        }
        if let Some(scope) = r.scope.as_ref().and_then(maint_core::Scope::describe) {
            notes.push(format!("{}: scope: {scope}", r.target));
        }
        if let Some(deployment) = &r.deployment {
            let note = if deployment == "Deployed" {
                "deployed: CloudFront's edge locations serve its current config"
            } else {
                "InProgress: a change is still reaching CloudFront's edge locations (minutes)"
            };
            notes.push(format!("{}: distribution {note}", r.target));
        }
        for other in &r.sharing {
            let scope = other
                .scope
                .describe()
                .unwrap_or_else(|| "every request".into());
            let state = if other.in_maintenance {
                "in maintenance"
            } else {
                "not in maintenance"
            };
            notes.push(format!(
                "{}: its load balancer also carries window {} ({scope}): {state}",
                r.target, other.window
            ));
        }
        if !r.leftovers.is_empty() {
            notes.push(format!(
                "{}: leftovers of an interrupted run: {} (rerun the command, or `maint exit`)",
                r.target,
                r.leftovers.join(", ")
            ));
        }
    }
    let overdue = run.targets.iter().filter(|r| r.overdue).count();
    if overdue > 0 {
        notes.push(paint(
            WARN,
            &format!(
                "{overdue} target{} overdue: in maintenance past the planned end; `maint exit \
                 --expired` ends overdue windows (from cron: see `maint exit --help`)",
                if overdue == 1 { "" } else { "s" }
            ),
        ));
    }
    let armed = run
        .targets
        .iter()
        .filter(|r| r.error.is_none() && r.armed_since.is_some())
        .count();
    if armed > 0 {
        notes.push(format!(
            "{armed} target{} armed: maint's web ACL is associated (pass-through when not in \
             maintenance; AWS WAF charges while associated); `maint enter`/`maint exit` switch \
             in one update, `maint disarm` ends it",
            if armed == 1 { "" } else { "s" }
        ));
    }
    notes
}

/// Prints a checked allowlist: normalized text, or JSON.
pub fn allowlist(screen: &Screen, list: &Allowlist, as_json: bool) {
    if as_json {
        screen.json(list);
    } else {
        screen.out(&list.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use maint_core::error::{AwsError, Problem, Problems};
    use std::sync::Arc;
    use std::time::Duration;

    fn written(context: Option<&str>, error: &Error) -> String {
        let mut text = Vec::new();
        write_error(&mut text, context, error);
        String::from_utf8(text).unwrap_or_default()
    }

    #[derive(Debug, thiserror::Error)]
    #[error("connection refused")]
    struct Refused;

    #[test]
    fn an_error_is_printed_with_each_distinct_cause_on_its_own_line() {
        let error = Error::Timeout {
            what: "associating maint-shop".into(),
            waited: Duration::from_secs(600),
            last_error: Some(Box::new(Error::Aws(AwsError {
                operation: "AssociateWebACL".into(),
                code: "DispatchFailure".into(),
                message: "io".into(),
                request_id: None,
                source: Some(Arc::new(Refused)),
            }))),
        };
        assert_eq!(
            written(None, &error),
            "maint: associating maint-shop: still not done after 600s\n  \
             caused by: AWS AssociateWebACL failed: io\n  \
             caused by: connection refused\n"
        );
        assert_eq!(
            written(Some("cleanup in eu-west-1"), &Error::unexpected("boom")),
            "maint: cleanup in eu-west-1: boom\n"
        );
    }

    #[test]
    fn bad_input_prints_every_problem_and_a_failed_lookup_every_target() {
        let problems = Problems::new(
            "allowlist",
            vec![
                Problem {
                    file: Some("-".into()),
                    line: Some(1),
                    entry: Some("10.0.0.5/24".into()),
                    ..Problem::new("host bits are set")
                },
                Problem::new("second"),
            ],
        );
        assert_eq!(
            written(None, &Error::InvalidAllowlist(problems)),
            "maint: -:1: 10.0.0.5/24: host bits are set\nmaint: second\n"
        );
        let unresolved = Error::Unresolved {
            failures: vec![(
                "shop/gone".into(),
                Error::TargetNotFound {
                    target: "gone".into(),
                },
            )],
        };
        assert_eq!(
            written(None, &unresolved),
            "maint: 1 target could not be looked up, so nothing was changed:\n  \
             shop/gone: load balancer not found: gone\n"
        );
    }

    fn report(target: &str, state: TargetState) -> maint_core::report::StatusReport {
        maint_core::report::StatusReport::empty(target.into(), state)
    }

    #[test]
    fn status_names_armed_injected_and_reverted_targets_plainly() {
        use chrono::TimeZone;
        let armed_at = chrono::Utc.with_ymd_and_hms(2026, 11, 29, 8, 0, 0).unwrap();
        let entered = chrono::Utc.with_ymd_and_hms(2026, 11, 29, 9, 0, 0).unwrap();
        let armed = maint_core::report::StatusReport {
            armed_since: Some(armed_at),
            allowlist_enabled: Some(true),
            since: Some(armed_at),
            ..report("armed-lb", TargetState::Armed)
        };
        let switched = maint_core::report::StatusReport {
            armed_since: Some(armed_at),
            allowlist_enabled: Some(true),
            since: Some(entered),
            ..report("switched-lb", TargetState::Maintenance)
        };
        let injected = maint_core::report::StatusReport {
            injected: true,
            web_acl_name: Some("shop-security".into()),
            allowlist_enabled: Some(false),
            since: Some(entered),
            ..report("injected-lb", TargetState::Maintenance)
        };
        let reverted = maint_core::report::StatusReport {
            injected: true,
            web_acl_name: Some("shop-security".into()),
            ..report("reverted-lb", TargetState::Reverted)
        };
        let run = StatusRun {
            targets: vec![armed, switched, injected, reverted],
        };
        let table = anstream::adapter::strip_str(&status_table(&run)).to_string();
        let row = |target: &str| {
            table
                .lines()
                .find(|l| l.starts_with(target))
                .unwrap_or_else(|| panic!("no row for {target}:\n{table}"))
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert!(
            row("armed-lb").starts_with("armed-lb armed on (0) 2026-11-29T08:00:00Z"),
            "{table}"
        );
        assert!(
            row("switched-lb")
                .starts_with("switched-lb maintenance (armed) on (0) 2026-11-29T09:00:00Z"),
            "{table}"
        );
        assert!(
            row("injected-lb").starts_with("injected-lb maintenance (in shop-security) off (0)"),
            "{table}"
        );
        assert!(
            row("reverted-lb").starts_with("reverted-lb reverted (rule gone from shop-security) -"),
            "{table}"
        );
        let notes = anstream::adapter::strip_str(&status_notes(&run).join("\n")).to_string();
        assert!(
            notes.contains(
                "reverted-lb: maint's rule was removed from web ACL shop-security (an IaC apply?): \
                 NOT in maintenance; `maint enter` puts it back, `maint exit` clears up"
            ),
            "{notes}"
        );
        assert!(notes.contains("2 targets armed"), "{notes}");
        assert!(notes.contains("`maint disarm`"), "{notes}");
        assert!(
            !run.all_in_maintenance(),
            "armed and reverted are not in maintenance"
        );
    }

    #[test]
    fn status_notes_a_windows_scope_in_one_line() {
        let scope = maint_core::Scope::parse(
            &["shop.example.com", "*.shop.example.com"],
            &["/checkout"],
            &["/healthz"],
        )
        .expect("a good scope");
        let scoped = maint_core::report::StatusReport {
            scope: Some(scope),
            allowlist_enabled: Some(true),
            ..report("shop/shop-web", TargetState::Maintenance)
        };
        let everything = report("api/api-web", TargetState::Maintenance);
        let run = StatusRun {
            targets: vec![scoped, everything],
        };
        let notes = anstream::adapter::strip_str(&status_notes(&run).join("\n")).to_string();
        assert_eq!(
            notes,
            "shop/shop-web: scope: hosts shop.example.com, *.shop.example.com; paths /checkout; \
             open paths /healthz",
        );
        let json = serde_json::to_value(&run).expect("JSON");
        assert_eq!(
            json["targets"][0]["scope"],
            serde_json::json!({
                "hosts": ["shop.example.com", "*.shop.example.com"],
                "paths": ["/checkout"],
                "open_paths": ["/healthz"],
            })
        );
        assert!(json["targets"][1]["scope"].is_null(), "{json}");
    }

    #[test]
    fn check_says_a_request_outside_the_scope_or_on_an_open_path_is_let_through() {
        let lb: maint_core::ResourceArn =
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/shop-web/0123456789abcdef"
                .parse()
                .expect("an ALB ARN");
        let target = TargetRef {
            given: "shop".into(),
            service: Some("shop".into()),
            load_balancer: maint_core::LoadBalancerRef::parse("shop-web").expect("a name"),
            region: None,
            account: None,
        };
        let answer = |why: Why| -> maint_core::Result<CheckReport> {
            Ok(CheckReport {
                load_balancer: lb.clone(),
                web_acl: Some("maint-svc-shop".into()),
                verdict: Verdict::LetThrough,
                why: vec![why],
                response: None,
            })
        };
        let reports = [
            CheckTargetReport::new(
                &target,
                &answer(Why::OutOfScope {
                    scope: "hosts shop.example.com; paths /checkout".into(),
                }),
            ),
            CheckTargetReport::new(
                &target,
                &answer(Why::OpenPath {
                    path: "/healthz".into(),
                }),
            ),
        ];
        let text =
            anstream::adapter::strip_str(&check_lines(&reports, None).join("\n")).to_string();
        assert_eq!(
            text,
            "shop/shop-web: let through\n  outside the window's scope (hosts shop.example.com; \
             paths /checkout): maint's rules leave it alone\n\
             shop/shop-web: let through\n  an open path: /healthz is always let through"
        );
        let json = serde_json::to_value(&reports).expect("JSON");
        assert_eq!(json[0]["why"][0]["reason"], "out_of_scope", "{json}");
        assert_eq!(
            json[0]["why"][0]["scope"],
            "hosts shop.example.com; paths /checkout"
        );
        assert_eq!(
            json[1]["why"][0],
            serde_json::json!({"reason": "open_path", "path": "/healthz"})
        );
    }
}
