//! maint-core's `examples/deploy.rs`, a deploy tool built on the library,
//! run against moto: it enters maintenance for a config service, waits
//! until the public sees the page (a stand-in for the ALB's edge,
//! `maint_tests::edge`), runs the step in maintenance, and exits it again,
//! also when the step fails (unless `--keep-on-failure`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::time::{Duration, Instant};

use maint_core::ResourceArn;
use maint_tests::cli::{example_binary, maint_binary, Run, Workdir};
use maint_tests::edge::Edge;
use maint_tests::seed;

const DELAY: Duration = Duration::from_secs(2);
/// The operator's address (the edge's client): not on any allowlist.
const CLIENT: &str = "198.51.100.7";

/// A seeded ALB: its name and ARN.
async fn alb(hint: &str) -> (String, ResourceArn) {
    let name = seed::unique_lb_name(hint);
    let arn = seed::create_load_balancer(&name, "application").await;
    (name, ResourceArn::parse(&arn).unwrap())
}

/// A config file naming the ALB `lb` as the only load balancer of a
/// service of its own (with `url` when given); returns the service's name.
fn config(w: &Workdir, lb: &str, url: Option<&str>) -> String {
    let url = url.map(|u| format!("url = \"{u}\"\n")).unwrap_or_default();
    let service = format!("svc-{lb}");
    w.write(
        "maint.toml",
        &format!("[services.{service}]\nload_balancers = [\"{lb}\"]\n{url}"),
    );
    service
}

/// Runs `deploy --config maint.toml --service SERVICE FLAGS -- STEP` (no
/// `--` when no step) in `w`.
fn deploy(w: &Workdir, service: &str, flags: &[&str], step: &[&str]) -> Run {
    let mut args = vec!["--config", "maint.toml", "--service", service];
    args.extend(flags);
    if !step.is_empty() {
        args.push("--");
        args.extend(step);
    }
    w.run_with(&example_binary("deploy"), &args, &[], &[])
}

/// The service's state and reason, as `maint status --json` reports them.
fn state(w: &Workdir, service: &str) -> (String, String) {
    let run = w.maint(&["status", service, "--json"]);
    let t = &run.json()["targets"][0];
    (t["state"].to_string(), t["reason"].to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn deploy_waits_for_the_page_runs_the_step_in_maintenance_and_exits() {
    let w = Workdir::new();
    let (name, arn) = alb("deploy-wait").await;
    let edge = Edge::start(&arn, DELAY, CLIENT);
    let service = config(&w, &name, Some(&edge.url));
    // The step records what `maint status` says while it runs.
    let step = format!(
        "{} status \"$MAINT_SERVICE\" --json > during.json",
        maint_binary().display()
    );
    let started = Instant::now();
    let run = deploy(
        &w,
        &service,
        &["--reason", "release 8", "--wait"],
        &["sh", "-c", &step],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        started.elapsed() >= 2 * DELAY,
        "returned before the edge served both changes: {:?}",
        started.elapsed()
    );
    let page = run
        .stderr
        .find("serves the maintenance page")
        .expect(&run.stderr);
    let ran = run
        .stderr
        .find("the step exited with 0")
        .expect(&run.stderr);
    let site = run.stderr.find("serves the site again").expect(&run.stderr);
    assert!(page < ran && ran < site, "{}", run.stderr);

    let during: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(w.path.join("during.json")).unwrap())
            .unwrap();
    assert_eq!(during["targets"][0]["state"], "maintenance", "{during}");
    assert_eq!(during["targets"][0]["reason"], "release 8", "{during}");
    // The public saw the page (probes answered 503), and sees the site now.
    assert!(
        edge.seen()
            .iter()
            .any(|(probe, status)| !probe.is_empty() && *status == 503),
        "{:?}",
        edge.seen()
    );
    assert_eq!(state(&w, &service).0, "\"normal\"");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_step_is_reported_and_leaves_maintenance_unless_kept() {
    let w = Workdir::new();
    let service = config(&w, &alb("deploy-fail").await.0, None);
    let args = |keep: bool| {
        let flags: &[&str] = if keep { &["--keep-on-failure"] } else { &[] };
        deploy(&w, &service, flags, &["sh", "-c", "exit 3"])
    };

    let run = args(false);
    assert_eq!(run.code, 3, "the step's exit code: {}", run.stderr);
    assert!(
        run.stderr.contains("is out of maintenance"),
        "{}",
        run.stderr
    );
    assert_eq!(state(&w, &service).0, "\"normal\"");

    let run = args(true);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains("stays in maintenance"),
        "{}",
        run.stderr
    );
    let (state_now, reason) = state(&w, &service);
    assert_eq!(state_now, "\"maintenance\"");
    assert_eq!(reason, "\"deploy: sh -c exit 3\"", "the default reason");
    let exit = w.maint(&["exit", &service]);
    assert_eq!(exit.code, 0, "{}", exit.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_arguments_and_unknown_services_change_nothing_and_exit_2() {
    let w = Workdir::new();
    let service = config(&w, &alb("deploy-bad").await.0, None);
    let run = deploy(&w, &service, &[], &[]);
    assert_eq!(run.code, 2, "no step: {}", run.stderr);
    assert!(run.stderr.contains("no deploy step"), "{}", run.stderr);

    let run = deploy(&w, "nope", &[], &["touch", "ran"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("--service nope: no such service in maint.toml"),
        "{}",
        run.stderr
    );
    assert!(!w.path.join("ran").exists(), "the step did not run");

    let run = deploy(&w, &service, &["--wait"], &["touch", "ran"]);
    assert_eq!(run.code, 2, "--wait without a URL: {}", run.stderr);
    assert!(!w.path.join("ran").exists(), "the step did not run");
    assert_eq!(state(&w, &service).0, "\"normal\"");
}
