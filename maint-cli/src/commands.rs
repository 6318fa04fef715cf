//! The commands: each turns its arguments into core values (bad input is an
//! error before any AWS call), calls one [`Fleet`] method, and prints what
//! it reports. No decision about targets is made here.

use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::Utc;
use clap::CommandFactory;
use maint_core::access::{BypassRequest, ClientIp, ClientIpFallback};
use maint_core::backend::{AllowlistChange, AwsOptions, Mode, Reason};
use maint_core::check::CheckRequest;
use maint_core::config::Config;
use maint_core::fleet::EnterRequest;
use maint_core::maintenance;
use maint_core::notify::{self, Context as Asked};
use maint_core::report::ChangeRun;
use maint_core::response::ResponseBody;
use maint_core::{Allowlist, Error, Fleet, Result};

use crate::cli::{
    AllowlistCommand, ArmArgs, BypassCommand, CheckArgs, Cli, Command, EditArgs, EnterArgs, Shell,
    StatusArgs, TargetsArgs, WaitArgs, WindowArgs,
};
use crate::output::{self, Printer};
use crate::ExitStatus;

/// What a request asked, for the team's notification.
fn asked(request: &EnterRequest) -> Asked {
    Asked {
        who: None,
        reason: request.reason.as_ref().map(|r| r.as_str().to_string()),
        until: request.until,
    }
}

/// Runs one command on its own async runtime.
pub fn run(cli: Cli) -> Result<ExitStatus> {
    match &cli.command {
        Command::Allowlist(AllowlistCommand::Check { file }) => {
            return allowlist_check(file.as_deref(), cli.json)
        }
        Command::Completions { shell } => return Ok(completions(*shell)),
        _ => {}
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::unexpected(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(run_on_aws(cli))
}

async fn run_on_aws(cli: Cli) -> Result<ExitStatus> {
    let config = Config::discover(cli.config.as_deref())?;
    let options = AwsOptions {
        region: cli.region.clone(),
        profile: cli.profile.clone(),
        endpoint_url: cli.endpoint_url.clone(),
    };
    let fleet = Fleet::builder()
        .set_config(config)
        .set_region(cli.region.clone())
        .aws(options.clone())
        .concurrency(cli.concurrency)
        .build()?;
    let printer = Printer::new(cli.json, !cli.json && !cli.quiet);
    let ctx = Context {
        fleet,
        printer,
        options,
        notify: !cli.no_notify,
    };
    match cli.command {
        Command::Enter(args) => ctx.enter(args).await,
        Command::Arm(args) => ctx.arm(args).await,
        Command::Exit(args) => {
            let mode = Mode::from_dry_run(args.dry_run.dry_run);
            let urls = ctx.wait_urls(&args.targets, &args.wait)?;
            let lines = ctx.printer.changes("exit", "left maintenance");
            let run = if args.expired {
                ctx.fleet.exit_expired(&args.targets, mode, &lines).await?
            } else {
                ctx.fleet.exit(&args.targets, mode, &lines).await?
            };
            // From cron: nothing to do, nothing to say (with -q).
            if args.expired && run.results.is_empty() && cli.quiet {
                return Ok(ExitStatus::Success);
            }
            ctx.finish(run, &args.wait, urls, true, Asked::default())
                .await
        }
        Command::Disarm(args) => {
            let mode = Mode::from_dry_run(args.dry_run.dry_run);
            let run = ctx
                .fleet
                .disarm(
                    &args.targets,
                    mode,
                    &ctx.printer.changes("disarm", "disarmed"),
                )
                .await?;
            Ok(ctx.report(&run, Asked::default()).await)
        }
        Command::Allowlist(AllowlistCommand::Enable(args)) => {
            ctx.switch(args.targets, &args.wait, AllowlistChange::Enable)
                .await
        }
        Command::Allowlist(AllowlistCommand::Disable(args)) => {
            let change = if args.keep_bypass {
                AllowlistChange::DisableKeepingBypass
            } else {
                AllowlistChange::Disable
            };
            ctx.switch(args.targets, &args.wait, change).await
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
            let base_url = base_url
                .map(|u| {
                    maint_core::config::check_url(&u)
                        .map(|()| u.trim_end_matches('/').to_string())
                        .map_err(|reason| Error::invalid("--base-url", reason))
                })
                .transpose()?;
            let run = ctx
                .fleet
                .status(&targets, &ctx.printer.reads("bypass link"))
                .await?;
            Ok(ctx
                .printer
                .bypass_links(&run, base_url.as_deref(), ctx.fleet.config()))
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
    options: AwsOptions,
    /// Whether to tell the config's webhooks (not with `--no-notify`).
    notify: bool,
}

impl Context {
    /// With `--wait`: the URL to probe per target, checked before any
    /// change.
    fn wait_urls(&self, targets: &[String], wait: &WaitArgs) -> Result<Option<Vec<String>>> {
        if !wait.wanted() {
            return Ok(None);
        }
        self.fleet
            .wait_urls(targets, wait.wait_url.as_deref())
            .map(Some)
    }

    /// Prints a changing command's results; with `urls` (`--wait`), first
    /// waits until the public sees the change (`gone`: no maintenance page
    /// any more), with what each probe saw on the progress line.
    async fn finish(
        &self,
        mut run: ChangeRun,
        wait: &WaitArgs,
        urls: Option<Vec<String>>,
        gone: bool,
        asked: Asked,
    ) -> Result<ExitStatus> {
        let Some(urls) = urls else {
            return Ok(self.report(&run, asked).await);
        };
        let timeout = wait
            .wait_timeout
            .unwrap_or(maint_core::wait::DEFAULT_TIMEOUT);
        let progress = self.printer.progress("wait");
        let seen = |probe: &maint_core::wait::Probe,
                    seen: &maint_core::wait::Seen,
                    elapsed: std::time::Duration| {
            tracing::info!(
                target: "maint::progress",
                "waiting for {} ({}): {} after {} s",
                probe.url,
                probe.window,
                seen.describe(),
                elapsed.as_secs()
            );
        };
        let waited = self.fleet.wait_for(&run, &urls, gone, timeout, &seen).await;
        progress.finish_and_clear();
        match waited {
            Ok(reports) => {
                run.waited = reports;
                Ok(self.report(&run, asked).await)
            }
            Err(e) => {
                self.report(&run, asked).await;
                Err(e)
            }
        }
    }

    /// Prints a changing command's results and tells the config's webhooks
    /// (a webhook that fails is a warning, never a failed command).
    async fn report(&self, run: &ChangeRun, asked: Asked) -> ExitStatus {
        let status = self.printer.change_run(run);
        if self.notify {
            let webhooks = self
                .fleet
                .config()
                .map(|c| c.notify_webhooks.clone())
                .unwrap_or_default();
            for warning in notify::tell(&webhooks, run, asked, &self.options).await {
                self.printer.warn(&warning);
            }
        }
        status
    }

    /// `allowlist enable|disable`, with `--wait`.
    async fn switch(
        &self,
        args: TargetsArgs,
        wait: &WaitArgs,
        change: AllowlistChange,
    ) -> Result<ExitStatus> {
        let urls = self.wait_urls(&args.targets, wait)?;
        let mode = Mode::from_dry_run(args.dry_run.dry_run);
        let run = self.update(&args.targets, &change, mode).await?;
        self.finish(run, wait, urls, false, Asked::default()).await
    }

    async fn enter(&self, args: EnterArgs) -> Result<ExitStatus> {
        let request = self.request(args.window, args.inject)?;
        self.warn_client_ip(&args.targets);
        let urls = self.wait_urls(&args.targets, &args.wait)?;
        let mode = Mode::from_dry_run(args.dry_run.dry_run);
        let run = self
            .fleet
            .enter(
                &args.targets,
                &request,
                mode,
                &self.printer.changes("enter", "entered maintenance"),
            )
            .await?;
        let bypass_asked = !matches!(request.bypass, BypassRequest::Keep | BypassRequest::Off);
        let status = self
            .finish(run.clone(), &args.wait, urls, false, asked(&request))
            .await?;
        if bypass_asked && run.summary.failed < run.summary.targets && !mode.is_dry_run() {
            self.printer.note(&format!(
                "bypass on: `maint bypass link {}` prints the link for testers",
                args.targets.join(" ")
            ));
        }
        Ok(status)
    }

    /// Warns, once per service, of the ways a client address taken from a
    /// header (the service's `client_ip`) can be spoofed.
    fn warn_client_ip(&self, targets: &[String]) {
        let Some(config) = self.fleet.config() else {
            return;
        };
        for name in targets {
            if let Some(client_ip) = config.service(name).and_then(|s| s.client_ip.as_ref()) {
                for warning in client_ip.warnings() {
                    self.printer.warn(&format!("service {name}: {warning}"));
                }
            }
        }
    }

    async fn arm(&self, args: ArmArgs) -> Result<ExitStatus> {
        let request = self.request(args.window, false)?;
        self.warn_client_ip(&args.targets);
        let mode = Mode::from_dry_run(args.dry_run.dry_run);
        let run = self
            .fleet
            .arm(
                &args.targets,
                &request,
                mode,
                &self.printer.changes("arm", "armed"),
            )
            .await?;
        Ok(self.report(&run, asked(&request)).await)
    }

    async fn check(&self, args: CheckArgs) -> Result<ExitStatus> {
        let request = CheckRequest::new(&args.ip, &args.headers, args.path.as_deref())?;
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
                    let client_ip = ClientIp::header(&name, position, fallback)?;
                    for warning in client_ip.warnings() {
                        self.printer.warn(&warning);
                    }
                    Some(client_ip)
                }
                _ => None,
            },
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
        let mode = Mode::from_dry_run(args.dry_run.dry_run);
        let run = self.update(&[args.target], &make(entries), mode).await?;
        Ok(self.report(&run, Asked::default()).await)
    }

    async fn update(
        &self,
        targets: &[String],
        change: &AllowlistChange,
        mode: Mode,
    ) -> Result<ChangeRun> {
        self.fleet
            .update_allowlist(
                targets,
                change,
                mode,
                &self.printer.changes("allowlist", "updated"),
            )
            .await
    }
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
fn allowlist_check(file: Option<&Path>, json: bool) -> Result<ExitStatus> {
    let (origin, text) = read_input(file)?;
    let list = Allowlist::parse_text(&text, &origin)?;
    output::allowlist(&list, json);
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
