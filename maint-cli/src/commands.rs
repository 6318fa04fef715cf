//! The commands. Every AWS decision lives in maint-core; this module turns
//! arguments and the config file into core values (refusing bad input with
//! exit 2 before any AWS call), runs the fleet, and prints.

use std::collections::HashMap;
use std::future::Future;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::sync::Arc;

use chrono::Utc;
use clap::CommandFactory;
use futures::StreamExt;
use maint_core::backend::{
    AllowlistChange, MaintenanceBackend, MaintenanceSpec, Mode, Outcome, Reason,
};
use maint_core::config::{did_you_mean, Config, DEFAULT_FILE};
use maint_core::fleet::{waf_factory, AwsOptions, EnterRequest, Fleet, Resolved, TargetRef};
use maint_core::report::{chain, ChangeReport, StatusReport};
use maint_core::response::ResponseBody;
use maint_core::{Allowlist, Error, LoadBalancerArn, Result};
use serde_json::json;

use crate::cli::{AllowlistCommand, Cli, Command, EditArgs, EnterArgs, Shell, StatusArgs};
use crate::output::{self, line, Progress, Style};

/// Success.
pub const EXIT_OK: u8 = 0;
/// An operation failed.
pub const EXIT_FAILED: u8 = 1;
/// Bad input; nothing was changed.
pub const EXIT_BAD_INPUT: u8 = 2;
/// `status --check`: not every target is in maintenance.
pub const EXIT_NOT_IN_MAINTENANCE: u8 = 3;

/// Runs one command and returns its exit status.
pub async fn run(cli: Cli) -> u8 {
    match &cli.command {
        Command::Allowlist(AllowlistCommand::Check { file }) => {
            return allowlist_check(file.as_deref(), cli.json)
        }
        Command::Completions { shell } => return completions(*shell),
        _ => {}
    }
    let ctx = match Context::new(&cli) {
        Ok(ctx) => ctx,
        Err(e) => return bad_input(&e),
    };
    let result = match cli.command {
        Command::Enter(args) => enter(&ctx, args).await,
        Command::Exit(args) => {
            let mode = mode(args.dry_run.dry_run);
            exit(&ctx, &args.targets, mode).await
        }
        Command::Allowlist(AllowlistCommand::Enable(args)) => {
            let mode = mode(args.dry_run.dry_run);
            edit(&ctx, &args.targets, AllowlistChange::Enable, mode).await
        }
        Command::Allowlist(AllowlistCommand::Disable(args)) => {
            let mode = mode(args.dry_run.dry_run);
            edit(&ctx, &args.targets, AllowlistChange::Disable, mode).await
        }
        Command::Allowlist(AllowlistCommand::Add(args)) => {
            edit_entries(&ctx, args, AllowlistChange::Add).await
        }
        Command::Allowlist(AllowlistCommand::Remove(args)) => {
            edit_entries(&ctx, args, AllowlistChange::Remove).await
        }
        Command::Allowlist(AllowlistCommand::Set(args)) => {
            edit_entries(&ctx, args, AllowlistChange::Set).await
        }
        Command::Allowlist(AllowlistCommand::Show { targets }) => {
            status(&ctx, &targets, false, true).await
        }
        Command::Status(StatusArgs { targets, check }) => {
            status(&ctx, &targets, check, false).await
        }
        Command::Cleanup(args) => cleanup(&ctx, mode(args.dry_run)).await,
        Command::Allowlist(AllowlistCommand::Check { .. }) | Command::Completions { .. } => {
            Ok(EXIT_OK)
        }
    };
    result.unwrap_or_else(|e| bad_input(&e))
}

fn mode(dry_run: bool) -> Mode {
    if dry_run {
        Mode::DryRun
    } else {
        Mode::Apply
    }
}

/// Prints an error that stops the command before any change, naming every
/// problem, and returns its exit status: 2 for bad input, else 1.
fn bad_input(error: &Error) -> u8 {
    match error {
        Error::InvalidConfig(e) => {
            for p in e.problems() {
                eprintln!("maint: {p}");
            }
        }
        Error::InvalidAllowlist(e) => {
            for p in e.problems() {
                eprintln!("maint: {p}");
            }
        }
        other => eprintln!("maint: {}", chain(other)),
    }
    if error.is_invalid_input() || matches!(error, Error::TargetNotFound { .. }) {
        EXIT_BAD_INPUT
    } else {
        EXIT_FAILED
    }
}

struct Context {
    fleet: Fleet,
    json: bool,
    progress: bool,
    style: Style,
}

impl Context {
    fn new(cli: &Cli) -> Result<Self> {
        let config = match &cli.config {
            Some(path) => Some(Config::load(path)?),
            None if Path::new(DEFAULT_FILE).exists() => {
                Some(Config::load(Path::new(DEFAULT_FILE))?)
            }
            None => None,
        };
        let options = AwsOptions {
            region: cli.region.clone(),
            profile: cli.profile.clone(),
            endpoint_url: cli.endpoint_url.clone(),
        };
        let fleet = Fleet::new(config, cli.region.clone(), waf_factory(options))
            .with_concurrency(cli.concurrency);
        Ok(Self {
            fleet,
            json: cli.json,
            progress: !cli.json && !cli.quiet,
            style: Style::stdout(),
        })
    }

    fn config(&self) -> Option<&Config> {
        self.fleet.config()
    }
}

/// Finds every target in AWS. A target that does not exist, or is not an
/// Application Load Balancer, or is in another region, stops a changing
/// command before anything changes: acting on only part of a service would
/// leave it half-switched.
async fn resolve_all(ctx: &Context, refs: Vec<TargetRef>) -> Result<Vec<Resolved>> {
    let resolved = ctx.fleet.resolve(refs).await;
    let mut problems = Vec::new();
    let mut first_error = None;
    for r in &resolved {
        if let Err(e) = &r.result {
            problems.push(format!("{}: {}", r.target.label(), chain(e)));
            if first_error.is_none() {
                first_error = Some(matches!(
                    e,
                    Error::InvalidInput(_) | Error::TargetNotFound { .. }
                ));
            }
        }
    }
    match first_error {
        None => Ok(resolved),
        Some(true) => Err(Error::invalid(
            "targets",
            format!("nothing was changed: {}", problems.join("; ")),
        )),
        Some(false) => Err(Error::unexpected(format!(
            "cannot look up the targets, nothing was changed: {}",
            problems.join("; ")
        ))),
    }
}

/// Runs a changing operation on every target, printing each outcome as it
/// completes and a summary.
async fn run_changes<F, Fut>(
    ctx: &Context,
    command: &str,
    verb: &str,
    refs: Vec<TargetRef>,
    mode: Mode,
    op: F,
) -> Result<u8>
where
    F: Fn(Arc<dyn MaintenanceBackend>, LoadBalancerArn, TargetRef) -> Fut,
    Fut: Future<Output = Result<Outcome>>,
{
    let total = refs.len();
    let width = refs
        .iter()
        .map(|r| r.label().chars().count())
        .max()
        .unwrap_or(0);
    let progress = Progress::start(command, total, ctx.progress);
    let resolved = match resolve_all(ctx, refs).await {
        Ok(r) => r,
        Err(e) => {
            progress.finish().await;
            return Err(e);
        }
    };
    let mut reports: Vec<Option<ChangeReport>> = vec![None; total];
    {
        let mut results = pin!(ctx.fleet.run(resolved, op));
        while let Some((i, target, result)) = results.next().await {
            let report = ChangeReport::new(&target, &result, mode);
            progress.tick();
            if !ctx.json {
                line(&output::change_line(&ctx.style, verb, &report, width));
            }
            reports[i] = Some(report);
        }
    }
    progress.finish().await;
    let reports: Vec<ChangeReport> = reports.into_iter().flatten().collect();
    let failed = reports.iter().filter(|r| r.error.is_some()).count();
    let changed = reports.iter().filter(|r| r.changed).count();
    let unchanged = reports.len() - failed - changed;
    if ctx.json {
        output::json(&json!({
            "command": command,
            "dry_run": mode == Mode::DryRun,
            "results": reports,
            "summary": {"targets": reports.len(), "changed": changed, "unchanged": unchanged, "failed": failed},
        }));
    } else {
        let changed_word = if mode == Mode::DryRun {
            "would change"
        } else {
            "changed"
        };
        let summary = format!(
            "{} target{}: {changed} {changed_word}, {unchanged} unchanged, {failed} failed{}",
            reports.len(),
            if reports.len() == 1 { "" } else { "s" },
            if mode == Mode::DryRun {
                " (dry run: nothing was changed)"
            } else {
                ""
            },
        );
        line(&if failed > 0 {
            ctx.style.bad(&summary)
        } else {
            summary
        });
    }
    Ok(if failed > 0 { EXIT_FAILED } else { EXIT_OK })
}

/// Reads the allowlist files and named allowlists of a command.
fn extra_allowlist(
    ctx: &Context,
    entries: Allowlist,
    files: &[PathBuf],
    names: &[String],
) -> Result<Allowlist> {
    let mut list = entries;
    for file in files {
        list = list.union(&Allowlist::from_file(file)?)?;
    }
    for name in names {
        let Some(config) = ctx.config() else {
            return Err(Error::invalid(
                format!("allowlist {name:?}"),
                "named allowlists come from a config file, and none was loaded",
            ));
        };
        match config.allowlist(name) {
            Some(named) => list = list.union(named)?,
            None => {
                let hint = did_you_mean(name, config.allowlists.keys().map(String::as_str))
                    .map(|b| format!("; did you mean {b:?}?"))
                    .unwrap_or_default();
                return Err(Error::invalid(
                    format!("allowlist {name:?}"),
                    format!("not defined in {}{hint}", config.path.display()),
                ));
            }
        }
    }
    Ok(list)
}

async fn enter(ctx: &Context, args: EnterArgs) -> Result<u8> {
    let mode = mode(args.dry_run.dry_run);
    let until = match (args.until, args.duration) {
        (Some(t), _) => Some(t),
        (None, Some(d)) => Some(
            Utc::now()
                + chrono::Duration::from_std(d).map_err(|_| Error::invalid("--for", "too long"))?,
        ),
        (None, None) => None,
    };
    let reason = args.reason.as_deref().map(Reason::new).transpose()?;
    let given = Allowlist::from_cidrs(args.allow.iter().copied())?;
    let extra = extra_allowlist(ctx, given, &args.allowlist_file, &args.allowlist_names)?;
    let request = EnterRequest {
        allowlist: extra,
        reason,
        until,
        page: args
            .page
            .as_deref()
            .map(|p| ResponseBody::from_file(p, args.content_type))
            .transpose()?,
        content_type: args.content_type,
        status: args.status,
        headers: args.headers,
    };
    let refs = ctx.fleet.expand(&args.targets)?;

    // One spec per service (and one for plain load balancers), all built and
    // validated before anything talks to AWS.
    let mut specs: HashMap<Option<String>, MaintenanceSpec> = HashMap::new();
    for r in &refs {
        if !specs.contains_key(&r.service) {
            let service = r
                .service
                .as_deref()
                .and_then(|name| ctx.config().and_then(|c| c.service(name)));
            specs.insert(r.service.clone(), request.spec_for(service)?);
        }
    }
    let specs = Arc::new(specs);
    run_changes(
        ctx,
        "enter",
        "entered maintenance",
        refs,
        mode,
        move |b, lb, t| {
            let specs = specs.clone();
            async move {
                let spec = specs
                    .get(&t.service)
                    .ok_or_else(|| Error::unexpected("no spec for target"))?;
                b.enter(&lb, spec, mode).await
            }
        },
    )
    .await
}

async fn exit(ctx: &Context, targets: &[String], mode: Mode) -> Result<u8> {
    let refs = ctx.fleet.expand(targets)?;
    run_changes(
        ctx,
        "exit",
        "left maintenance",
        refs,
        mode,
        move |b, lb, _| async move { b.exit(&lb, mode).await },
    )
    .await
}

async fn edit(
    ctx: &Context,
    targets: &[String],
    change: AllowlistChange,
    mode: Mode,
) -> Result<u8> {
    let change = Arc::new(change);
    let refs = ctx.fleet.expand(targets)?;
    run_changes(ctx, "allowlist", "updated", refs, mode, move |b, lb, _| {
        let change = change.clone();
        async move { b.update_allowlist(&lb, &change, mode).await }
    })
    .await
}

async fn edit_entries(
    ctx: &Context,
    args: EditArgs,
    make: fn(Allowlist) -> AllowlistChange,
) -> Result<u8> {
    let given = Allowlist::from_cidrs(args.entries.iter().copied())?;
    let files: Vec<PathBuf> = args.file.into_iter().collect();
    let entries = extra_allowlist(ctx, given, &files, &[])?;
    edit(
        ctx,
        &[args.target],
        make(entries),
        mode(args.dry_run.dry_run),
    )
    .await
}

async fn status(ctx: &Context, targets: &[String], check: bool, show_entries: bool) -> Result<u8> {
    let refs = ctx.fleet.expand(targets)?;
    let total = refs.len();
    let progress = Progress::start("status", total, ctx.progress);
    let resolved = ctx.fleet.resolve(refs).await;
    let mut reports: Vec<Option<StatusReport>> = vec![None; total];
    {
        let mut results = pin!(ctx
            .fleet
            .run(resolved, |b, lb, _| async move { b.status(&lb).await }));
        while let Some((i, target, result)) = results.next().await {
            progress.tick();
            reports[i] = Some(StatusReport::new(&target, &result));
        }
    }
    progress.finish().await;
    let reports: Vec<StatusReport> = reports.into_iter().flatten().collect();
    if ctx.json {
        output::json(&json!({ "targets": reports }));
    } else if show_entries {
        for r in &reports {
            let state = match (&r.error, r.allowlist_enabled) {
                (Some(e), _) => ctx.style.bad(&format!("error: {}", e.message)),
                (None, Some(on)) => format!(
                    "{}, allowlist {} ({} entries)",
                    r.state,
                    if on {
                        ctx.style.good("on")
                    } else {
                        ctx.style.warn("off")
                    },
                    r.allowlist.len()
                ),
                (None, None) => format!("{} (no allowlist: not in maintenance)", r.state),
            };
            line(&format!("{}: {state}", r.target));
            for entry in &r.allowlist {
                line(&format!("  {entry}"));
            }
        }
    } else {
        for l in output::status_table(&ctx.style, &reports) {
            line(&l);
        }
        for r in reports.iter().filter(|r| !r.leftovers.is_empty()) {
            line(&format!(
                "{}: leftovers of an interrupted run: {} (rerun the command, or `maint exit`)",
                r.target,
                r.leftovers.join(", ")
            ));
        }
    }
    let errors = reports.iter().any(|r| r.error.is_some());
    let bad_input = reports
        .iter()
        .any(|r| r.error.as_ref().is_some_and(|e| e.kind == "invalid_input"));
    Ok(if bad_input {
        EXIT_BAD_INPUT
    } else if errors {
        EXIT_FAILED
    } else if check && reports.iter().any(|r| r.state != "maintenance") {
        EXIT_NOT_IN_MAINTENANCE
    } else {
        EXIT_OK
    })
}

async fn cleanup(ctx: &Context, mode: Mode) -> Result<u8> {
    let progress = Progress::start("cleanup", 1, ctx.progress);
    let mut found = Vec::new();
    let mut failed = false;
    for (region, result) in ctx.fleet.cleanup(mode).await {
        match result {
            Ok(leftovers) => found.extend(leftovers.into_iter().map(|l| (region.clone(), l))),
            Err(e) => {
                failed = true;
                eprintln!(
                    "maint: cleanup in {}: {}",
                    region.as_deref().unwrap_or("the default region"),
                    chain(&e)
                );
            }
        }
    }
    progress.finish().await;
    if ctx.json {
        let resources: Vec<_> = found
            .iter()
            .map(|(region, l)| json!({"region": region, "kind": l.kind, "name": l.name, "arn": l.arn}))
            .collect();
        output::json(&json!({"dry_run": mode == Mode::DryRun, "resources": resources}));
    } else {
        let verb = if mode == Mode::DryRun {
            "would delete"
        } else {
            "deleted"
        };
        for (_, l) in &found {
            line(&format!("{verb} {} {} ({})", l.kind, l.name, l.arn));
        }
        line(&format!(
            "{} unused resource{} of maint's {}",
            found.len(),
            if found.len() == 1 { "" } else { "s" },
            if mode == Mode::DryRun {
                "found (dry run: nothing was deleted)"
            } else {
                "deleted"
            }
        ));
    }
    Ok(if failed { EXIT_FAILED } else { EXIT_OK })
}

fn completions(shell: Shell) -> u8 {
    let mut command = Cli::command();
    let shell = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    clap_complete::generate(shell, &mut command, "maint", &mut std::io::stdout());
    EXIT_OK
}

fn allowlist_check(file: Option<&Path>, json_output: bool) -> u8 {
    let (origin, text) = match read_input(file) {
        Ok(input) => input,
        Err(message) => {
            eprintln!("maint: {message}");
            return EXIT_BAD_INPUT;
        }
    };
    match Allowlist::parse_text(&text, &origin) {
        Ok(list) => {
            if json_output {
                output::json(&list);
            } else {
                let _ =
                    std::io::Write::write_all(&mut std::io::stdout(), list.to_string().as_bytes());
            }
            EXIT_OK
        }
        Err(error) => {
            for problem in error.problems() {
                if problem.location.is_some() {
                    eprintln!("{problem}");
                } else {
                    eprintln!("{origin}: {problem}");
                }
            }
            EXIT_BAD_INPUT
        }
    }
}

/// Reads a file, or standard input for `-` or no path; returns the origin
/// to name in messages and the text.
fn read_input(path: Option<&Path>) -> std::result::Result<(String, String), String> {
    match path {
        Some(p) if p.as_os_str() != "-" => std::fs::read_to_string(p)
            .map(|text| (p.display().to_string(), text))
            .map_err(|e| format!("cannot read allowlist file {}: {e}", p.display())),
        _ => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| format!("cannot read standard input: {e}"))?;
            Ok(("-".to_string(), text))
        }
    }
}
