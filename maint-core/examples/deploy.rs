//! A deploy tool on maint-core: maintenance mode around one deploy step.
//!
//! ```text
//! deploy --config maint.toml --service shop [--reason TEXT]
//!        [--wait | --wait-url URL] [--wait-timeout SECONDS]
//!        [--keep-on-failure] -- COMMAND [ARGS...]
//! ```
//!
//! Every change goes through [`Fleet::run`], the one entry that checks,
//! applies, waits and tells the config's webhooks, as the `maint` command
//! does.
//!
//! 1. Enters maintenance for the config's service (one window for all its
//!    load balancers), with the reason given (default: `deploy: COMMAND`).
//!    With `--wait` (the service's `url`) or `--wait-url`, waits until the
//!    public sees the maintenance page before going on.
//! 2. Runs COMMAND as a child process, with `MAINT_SERVICE` set.
//! 3. Exits maintenance whether the step succeeded or failed: a failed step
//!    never leaves the service showing the page unless asked for with
//!    `--keep-on-failure` (for a step that left things half done). With a
//!    URL, waits until the public no longer sees the page.
//!
//! Exit code: the step's own when it failed (1 when killed by a signal),
//! 0 when it succeeded and maintenance ended, 1 when maint could not enter
//! (the step did not run) or exit (the service is still in maintenance:
//! `maint exit SERVICE`), 2 for bad arguments or a bad config.
//!
//! AWS settings come from the standard chain (`AWS_REGION`, `AWS_PROFILE`,
//! `AWS_ENDPOINT_URL`, ...).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use maint_core::config::did_you_mean;
use maint_core::fleet::Command;
use maint_core::{
    ChangeRequest, ChangeRun, Config, EnterRequest, Error, ErrorKind, Event, Fleet, Reason,
    WaitPlan,
};

/// What the command line asks.
struct Args {
    config: PathBuf,
    service: String,
    reason: Option<String>,
    wait: bool,
    wait_url: Option<String>,
    /// `None`: the default for the service's kinds.
    wait_timeout: Option<Duration>,
    keep_on_failure: bool,
    command: Vec<String>,
}

const USAGE: &str = "usage: deploy --config FILE --service NAME [--reason TEXT] \
                     [--wait | --wait-url URL] [--wait-timeout SECONDS] [--keep-on-failure] \
                     -- COMMAND [ARGS...]";

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let (mut config, mut service, mut reason, mut wait_url) = (None, None, None, None);
    let (mut wait, mut keep_on_failure) = (false, false);
    let mut wait_timeout = None;
    let value = |args: &mut dyn Iterator<Item = String>, flag: &str| {
        args.next().ok_or_else(|| format!("{flag} needs a value"))
    };
    let mut command = Vec::new();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--config" => config = Some(PathBuf::from(value(&mut args, "--config")?)),
            "--service" => service = Some(value(&mut args, "--service")?),
            "--reason" => reason = Some(value(&mut args, "--reason")?),
            "--wait" => wait = true,
            "--wait-url" => wait_url = Some(value(&mut args, "--wait-url")?),
            "--wait-timeout" => {
                let v = value(&mut args, "--wait-timeout")?;
                let secs: u64 = v
                    .parse()
                    .map_err(|_| format!("--wait-timeout {v:?}: expected whole seconds"))?;
                wait_timeout = Some(Duration::from_secs(secs));
            }
            "--keep-on-failure" => keep_on_failure = true,
            "--" => {
                command = args.by_ref().collect();
                break;
            }
            other => return Err(format!("unexpected argument {other:?}")),
        }
    }
    if command.is_empty() {
        return Err("no deploy step: give it after `--`".into());
    }
    Ok(Args {
        config: config.ok_or("--config is required")?,
        service: service.ok_or("--service is required")?,
        wait: wait || wait_url.is_some(),
        reason,
        wait_url,
        wait_timeout,
        keep_on_failure,
        command,
    })
}

/// Prints each wait probe and warning as [`Fleet::run`] reports them.
fn progress(event: &Event<'_>) {
    match event {
        Event::Probed {
            url, seen, elapsed, ..
        } => eprintln!(
            "deploy: waiting for {url}: {seen} after {} s",
            elapsed.as_secs()
        ),
        Event::Warning { message } => eprintln!("deploy: warning: {message}"),
        _ => {}
    }
}

/// A run's first failure (a target's, else its wait's), as an error;
/// otherwise says how long the public took to see the change.
fn settled(run: &ChangeRun, seen: &str) -> maint_core::Result<()> {
    if let Some((_, e)) = run.failures().next() {
        return Err(e.clone());
    }
    if let Some(e) = &run.wait_error {
        return Err(e.clone());
    }
    for waited in &run.waited {
        eprintln!(
            "deploy: {} {seen} after {:.1} s",
            waited.url, waited.seconds
        );
    }
    Ok(())
}

/// `command` on `targets` through [`Fleet::run`]: checked, applied, waited
/// for (with `wait`) and told to the config's webhooks.
async fn change(
    fleet: &Fleet,
    command: Command,
    targets: &[String],
    wait: Option<WaitPlan>,
) -> maint_core::Result<ChangeRun> {
    let request = ChangeRequest::new(command, targets.to_vec()).wait(wait);
    fleet.run(request, &progress).await
}

async fn deploy(args: Args) -> maint_core::Result<ExitCode> {
    let config = Config::load(&args.config)?;
    // A deploy tool names a service: a name the config does not define is
    // a mistake, not a load balancer's name.
    if config.service(&args.service).is_none() {
        let hint = did_you_mean(&args.service, config.services.keys().map(String::as_str))
            .map(|s| format!("; did you mean {s:?}?"))
            .unwrap_or_default();
        return Err(Error::invalid(
            format!("--service {}", args.service),
            format!("no such service in {}{hint}", args.config.display()),
        ));
    }
    let fleet = Fleet::builder().config(config).build()?;
    let targets = [args.service.clone()];
    let wait = args.wait.then(|| WaitPlan {
        url: args.wait_url.clone(),
        timeout: args.wait_timeout,
    });
    let reason = args
        .reason
        .unwrap_or_else(|| format!("deploy: {}", args.command.join(" ")));
    let request = EnterRequest {
        reason: Some(Reason::new(&reason)?),
        ..EnterRequest::default()
    };

    // An error here is one before any change (bad input such as --wait
    // without a URL, a load balancer not found): nothing to undo.
    let entered = change(&fleet, Command::Enter(request), &targets, wait.clone()).await?;
    if let Err(e) = settled(&entered, "serves the maintenance page") {
        eprintln!("deploy: cannot enter maintenance for {}: {e}", args.service);
        // Whatever did enter comes out again; the step does not run.
        let exited = change(&fleet, Command::Exit, &targets, None).await;
        if let Err(e) = exited.and_then(|run| settled(&run, "")) {
            eprintln!(
                "deploy: nor exit it again: {e}; `maint exit {}` ends it",
                args.service
            );
        }
        return Ok(ExitCode::from(1));
    }
    eprintln!("deploy: {} is in maintenance ({reason})", args.service);

    let step = std::process::Command::new(&args.command[0])
        .args(&args.command[1..])
        .env("MAINT_SERVICE", &args.service)
        .status();
    let code = match &step {
        Ok(status) if status.success() => 0,
        Ok(status) => status.code().unwrap_or(1),
        Err(e) => {
            eprintln!("deploy: cannot run {:?}: {e}", args.command[0]);
            1
        }
    };
    eprintln!("deploy: the step exited with {code}");
    if code != 0 && args.keep_on_failure {
        eprintln!(
            "deploy: {} stays in maintenance (--keep-on-failure): `maint exit {}` ends it",
            args.service, args.service
        );
        return Ok(ExitCode::from(clamp(code)));
    }

    let exited = change(&fleet, Command::Exit, &targets, wait).await;
    if let Err(e) = exited.and_then(|run| settled(&run, "serves the site again")) {
        eprintln!(
            "deploy: {} may still be in maintenance: {e}; `maint exit {}` ends it",
            args.service, args.service
        );
        return Ok(ExitCode::from(if code == 0 { 1 } else { clamp(code) }));
    }
    eprintln!("deploy: {} is out of maintenance", args.service);
    Ok(ExitCode::from(clamp(code)))
}

/// An exit code as a process can return it.
fn clamp(code: i32) -> u8 {
    u8::try_from(code).unwrap_or(1)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("deploy: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match deploy(args).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("deploy: {e}");
            ExitCode::from(if e.kind() == ErrorKind::InvalidInput {
                2
            } else {
                1
            })
        }
    }
}
