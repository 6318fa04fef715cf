//! The commands: each turns its arguments into core values (bad input is an
//! error before any AWS call), calls one [`Fleet`] method (a changing
//! command: [`Fleet::run`], which also waits, notifies and warns), and
//! prints what it reports. No decision about targets is made here.

use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::Utc;
use clap::CommandFactory;
use maint_core::access::{BypassRequest, ClientIp, ClientIpFallback};
use maint_core::backend::{AllowlistChange, AwsOptions, Mode, Reason};
use maint_core::check::CheckRequest;
use maint_core::config::Config;
use maint_core::fleet::{ChangeRequest, Command as Change, EnterRequest};
use maint_core::maintenance;
use maint_core::response::ResponseBody;
use maint_core::{Allowlist, Error, Fleet, Result};

use crate::cli::{
    AllowlistCommand, BypassCommand, CheckArgs, Cli, Command, EditArgs, EnterArgs, Shell,
    StatusArgs, WindowArgs,
};
use crate::output::{self, Printer};
use crate::screen::Screen;
use crate::ExitStatus;

/// Runs one command on its own async runtime.
pub fn run(cli: Cli, screen: &Screen) -> Result<ExitStatus> {
    match &cli.command {
        Command::Allowlist(AllowlistCommand::Check { file }) => {
            return allowlist_check(screen, file.as_deref(), cli.json)
        }
        Command::Completions { shell } => return Ok(completions(*shell)),
        _ => {}
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::unexpected(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(run_on_aws(cli, screen.clone()))
}

async fn run_on_aws(cli: Cli, screen: Screen) -> Result<ExitStatus> {
    let config = Config::discover(cli.config.as_deref())?;
    let options = AwsOptions {
        region: cli.region.clone(),
        profile: cli.profile.clone(),
        endpoint_url: cli.endpoint_url.clone(),
    };
    let fleet = Fleet::builder()
        .set_config(config)
        .set_region(cli.region.clone())
        .aws(options)
        .concurrency(cli.concurrency)
        .build()?;
    let printer = Printer::new(cli.json, !cli.json && !cli.quiet, screen);
    let ctx = Context {
        fleet,
        printer,
        notify: !cli.no_notify,
    };
    match cli.command {
        Command::Enter(args) => ctx.enter(args).await,
        Command::Arm(args) => {
            let request = ctx.request(args.window, false)?;
            let change = ChangeRequest::new(Change::Arm(request), args.targets);
            ctx.change(change.mode(args.dry_run.mode()), ("arm", "armed"))
                .await
        }
        Command::Exit(args) => {
            let expired = args.expired;
            let command = if expired {
                Change::ExitExpired
            } else {
                Change::Exit
            };
            let change = ChangeRequest::new(command, args.targets)
                .mode(args.dry_run.mode())
                .wait(args.wait.plan());
            let run = ctx.run(change, ("exit", "left maintenance")).await?;
            // From cron: nothing to do, nothing to say (with -q).
            if expired && run.results.is_empty() && cli.quiet {
                return Ok(ExitStatus::Success);
            }
            ctx.print(run)
        }
        Command::Disarm(args) => {
            let change = ChangeRequest::new(Change::Disarm, args.targets);
            ctx.change(change.mode(args.dry_run.mode()), ("disarm", "disarmed"))
                .await
        }
        Command::Allowlist(AllowlistCommand::Enable(args)) => {
            let change = ChangeRequest::new(
                Change::Allowlist(AllowlistChange::Enable),
                args.targets.targets,
            );
            let change = change
                .mode(args.targets.dry_run.mode())
                .wait(args.wait.plan());
            ctx.change(change, ("allowlist", "updated")).await
        }
        Command::Allowlist(AllowlistCommand::Disable(args)) => {
            let change = if args.keep_bypass {
                AllowlistChange::DisableKeepingBypass
            } else {
                AllowlistChange::Disable
            };
            let change = ChangeRequest::new(Change::Allowlist(change), args.targets.targets)
                .mode(args.targets.dry_run.mode())
                .wait(args.wait.plan());
            ctx.change(change, ("allowlist", "updated")).await
        }
        Command::Allowlist(AllowlistCommand::Add(args)) => {
            ctx.edit_entries(args, AllowlistChange::Add).await
        }
        Command::Allowlist(AllowlistCommand::Remove(args)) => {
            ctx.edit_entries(args, AllowlistChange::Remove).await
        }
        Command::Allowlist(AllowlistCommand::Set(args)) => {
            ctx.edit_entries(args, AllowlistChange::Set).await
        }
        Command::Allowlist(AllowlistCommand::Show { targets }) => {
            let run = ctx
                .fleet
                .status(&targets, &ctx.printer.reads("allowlist show"))
                .await?;
            Ok(ctx.printer.allowlists(&run))
        }
        Command::Status(StatusArgs { targets, check }) => {
            let run = ctx
                .fleet
                .status(&targets, &ctx.printer.reads("status"))
                .await?;
            Ok(ctx.printer.status(&run, check))
        }
        Command::Check(args) => ctx.check(args).await,
        Command::Bypass(BypassCommand::Link { targets, base_url }) => {
            let links = ctx
                .fleet
                .bypass_links(
                    &targets,
                    base_url.as_deref(),
                    &ctx.printer.reads("bypass link"),
                )
                .await?;
            Ok(ctx.printer.bypass_links(&links))
        }
        Command::Cleanup(args) => {
            let progress = ctx.printer.progress("cleanup");
            let run = ctx.fleet.cleanup(Mode::from_dry_run(args.dry_run)).await;
            progress.finish_and_clear();
            Ok(ctx.printer.cleanup(&run))
        }
        Command::Allowlist(AllowlistCommand::Check { .. }) | Command::Completions { .. } => {
            Ok(ExitStatus::Success)
        }
    }
}

struct Context {
    fleet: Fleet,
    printer: Printer,
    /// Whether to tell the config's webhooks (not with `--no-notify`).
    notify: bool,
}

impl Context {
    /// Runs a changing command through the core, with its result lines
    /// and progress (`lines`: the command's name and what success is
    /// called), telling the webhooks unless `--no-notify`.
    async fn run(
        &self,
        change: ChangeRequest,
        (command, verb): (&'static str, &'static str),
    ) -> Result<maint_core::ChangeRun> {
        let lines = self.printer.changes(command, verb);
        self.fleet.run(change.notify(self.notify), &lines).await
    }

    /// Prints a changing command's results; a wait that failed is the
    /// command's error (after the results: the change itself was made).
    fn print(&self, run: maint_core::ChangeRun) -> Result<ExitStatus> {
        let status = self.printer.change_run(&run);
        match run.wait_error {
            Some(e) => Err(e),
            None => Ok(status),
        }
    }

    /// [`run`](Self::run), then [`print`](Self::print).
    async fn change(
        &self,
        change: ChangeRequest,
        lines: (&'static str, &'static str),
    ) -> Result<ExitStatus> {
        let run = self.run(change, lines).await?;
        self.print(run)
    }

    async fn enter(&self, args: EnterArgs) -> Result<ExitStatus> {
        let request = self.request(args.window, args.inject)?;
        let bypass_asked = !matches!(request.bypass, BypassRequest::Keep | BypassRequest::Off);
        let mode = args.dry_run.mode();
        let change = ChangeRequest::new(Change::Enter(request), args.targets.clone())
            .mode(mode)
            .wait(args.wait.plan());
        let run = self.run(change, ("enter", "entered maintenance")).await?;
        let some_entered = run.summary.failed < run.summary.targets;
        let status = self.print(run)?;
        if bypass_asked && some_entered && !mode.is_dry_run() {
            self.printer.note(&format!(
                "bypass on: `maint bypass link {}` prints the link for testers",
                args.targets.join(" ")
            ));
        }
        Ok(status)
    }

    async fn check(&self, args: CheckArgs) -> Result<ExitStatus> {
        let request = match (&args.url, &args.host) {
            (Some(url), _) => CheckRequest::for_url(&args.ip, &args.headers, url).map_err(|e| {
                if e.subject.starts_with("URL ") {
                    flag_error("--url", url, e)
                } else {
                    e.into()
                }
            })?,
            (None, host) => {
                let request = CheckRequest::new(&args.ip, &args.headers, args.path.as_deref())?;
                match host {
                    Some(host) => request
                        .with_host(host)
                        .map_err(|e| flag_error("--host", host, e))?,
                    None => request,
                }
            }
        };
        let answers = self.fleet.check(&args.targets, &request).await?;
        Ok(self.printer.check(&answers, self.fleet.config()))
    }

    /// The window's settings as the core's request (bad input is an error
    /// here, before any AWS call).
    fn request(&self, args: WindowArgs, inject: bool) -> Result<EnterRequest> {
        let until = match (args.until, args.duration) {
            (Some(t), _) => Some(t),
            (None, Some(d)) => Some(
                maintenance::end_after(Utc::now(), d)
                    .map_err(|e| Error::invalid("--for", e.reason))?,
            ),
            (None, None) => None,
        };
        let given = Allowlist::from_cidrs(args.allow.iter().copied())?;
        Ok(EnterRequest {
            allowlist: self.fleet.allowlist_with(
                given,
                &args.allowlist_file,
                &args.allowlist_names,
            )?,
            reason: args.reason.as_deref().map(Reason::new).transpose()?,
            until,
            page: args
                .page
                .as_deref()
                .map(|p| ResponseBody::from_file(p, args.content_type))
                .transpose()?,
            content_type: args.content_type,
            status: args.status,
            headers: args.headers,
            inject,
            bypass: if args.bypass {
                BypassRequest::On
            } else if let Some(secret) = args.bypass_secret {
                BypassRequest::Set(secret)
            } else if let Some(path) = &args.bypass_secret_file {
                BypassRequest::Set(bypass_secret_from(path)?)
            } else if args.rotate_bypass {
                BypassRequest::Rotate
            } else if args.no_bypass {
                BypassRequest::Off
            } else {
                BypassRequest::Keep
            },
            client_ip: match (args.client_ip_header, args.client_ip_position) {
                (Some(name), Some(position)) => {
                    let fallback = args.client_ip_fallback.unwrap_or(ClientIpFallback::NoMatch);
                    Some(ClientIp::header(&name, position, fallback)?)
                }
                _ => None,
            },
            hosts: args.hosts,
            paths: args.paths,
            open_paths: args.open_paths,
        })
    }

    async fn edit_entries(
        &self,
        args: EditArgs,
        make: fn(Allowlist) -> AllowlistChange,
    ) -> Result<ExitStatus> {
        let given = Allowlist::from_cidrs(args.entries.iter().copied())?;
        let files: Vec<PathBuf> = args.file.into_iter().collect();
        let entries = self.fleet.allowlist_with(given, &files, &[])?;
        let change = ChangeRequest::new(Change::Allowlist(make(entries)), vec![args.target]);
        self.change(change.mode(args.dry_run.mode()), ("allowlist", "updated"))
            .await
    }
}

/// Bad input of a flag, naming the flag and the value given, as clap's
/// messages for the other flags do.
fn flag_error(flag: &str, value: &str, e: maint_core::error::InvalidInput) -> Error {
    Error::invalid(format!("{flag} {value}"), e.reason)
}

fn completions(shell: Shell) -> ExitStatus {
    let mut command = Cli::command();
    let shell = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    clap_complete::generate(shell, &mut command, "maint", &mut std::io::stdout());
    ExitStatus::Success
}

/// `allowlist check`: offline, so it needs no runtime and no AWS settings.
fn allowlist_check(screen: &Screen, file: Option<&Path>, json: bool) -> Result<ExitStatus> {
    let (origin, text) = read_input(file)?;
    let list = Allowlist::parse_text(&text, &origin)?;
    output::allowlist(screen, &list, json);
    Ok(ExitStatus::Success)
}

/// `--bypass-secret-file`: the secret on the one line of `path` (`-`:
/// standard input). Messages name the file, never its content.
fn bypass_secret_from(path: &Path) -> Result<maint_core::access::BypassSecret> {
    let (origin, text) = if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map(|_| ("standard input".to_string(), text))
    } else {
        std::fs::read_to_string(path).map(|text| (path.display().to_string(), text))
    }
    .map_err(|e| {
        Error::invalid(
            format!("--bypass-secret-file {}", path.display()),
            format!("cannot read it: {e}"),
        )
    })?;
    maint_core::access::BypassSecret::from_line(&text).map_err(|e| {
        Error::invalid(
            format!("--bypass-secret-file {origin}"),
            format!("the {} {}", e.subject, e.reason),
        )
    })
}

/// Reads a file, or standard input for `-` or no path; returns the origin
/// to name in messages and the text.
fn read_input(path: Option<&Path>) -> Result<(String, String)> {
    match path {
        Some(p) if p.as_os_str() != "-" => std::fs::read_to_string(p)
            .map(|text| (p.display().to_string(), text))
            .map_err(|e| {
                Error::invalid(
                    format!("allowlist file {}", p.display()),
                    format!("cannot read it: {e}"),
                )
            }),
        _ => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| Error::invalid("standard input", format!("cannot read it: {e}")))?;
            Ok(("-".to_string(), text))
        }
    }
}
