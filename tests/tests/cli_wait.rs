//! `--wait` with the real CLI against moto and a stand-in for the ALB's
//! edge (`maint_tests::edge`) that serves each request as the web ACL in
//! moto would have it answered, two seconds after moto has the change.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::time::{Duration, Instant};

use maint_core::ResourceArn;
use maint_tests::cli::Workdir;
use maint_tests::edge::Edge;
use maint_tests::seed;

const DELAY: Duration = Duration::from_secs(2);
/// The operator's address, on the allowlist: without the probe header the
/// operator would see the site, not the page.
const OPERATOR: &str = "203.0.113.9";

/// The status of a plain GET (no probe header), as a browser sends it.
fn get_status(url: &str) -> u16 {
    use std::io::{Read, Write};
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer.split_whitespace().nth(1).unwrap().parse().unwrap()
}

async fn alb(hint: &str) -> (String, ResourceArn) {
    let name = seed::unique_lb_name(hint);
    let arn = seed::create_load_balancer(&name, "application").await;
    (name, ResourceArn::parse(&arn).unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn wait_returns_once_the_public_sees_each_change_even_for_an_allowlisted_operator() {
    let (name, arn) = alb("wait").await;
    let edge = Edge::start(&arn, DELAY, OPERATOR);
    let w = Workdir::new();
    let url = edge.url.clone();

    let started = Instant::now();
    let run = w.maint(&[
        "enter",
        &name,
        "--allow",
        "203.0.113.0/24",
        "--bypass",
        "--wait-url",
        &url,
    ]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        started.elapsed() >= DELAY,
        "returned before the edge served the change"
    );
    assert!(
        run.stdout
            .contains(&format!("{url}: maintenance page live after")),
        "{}",
        run.stdout
    );
    // The probes got the page; the operator, allowlisted, gets the site.
    let seen = edge.seen();
    assert!(
        seen.iter()
            .any(|(probe, status)| !probe.is_empty() && *status == 503),
        "{seen:?}"
    );
    assert_eq!(
        get_status(&url),
        200,
        "an allowlisted operator sees the site"
    );
    edge.set_client_ip("198.51.100.7");
    assert_eq!(get_status(&url), 503, "the public gets the page");
    edge.set_client_ip(OPERATOR);

    // allowlist disable: waits for the new revision of the rules.
    let before = edge.seen().len();
    let started = Instant::now();
    let run = w.maint(&["--json", "allowlist", "disable", &name, "--wait-url", &url]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(started.elapsed() >= DELAY);
    let waited = &run.json()["waited"][0];
    assert_eq!(waited["url"], url.as_str());
    assert!(waited["seconds"].as_f64().unwrap() >= 1.5, "{waited}");
    assert!(
        waited["seen"].as_str().unwrap().contains("revision"),
        "{waited}"
    );
    assert!(edge.seen().len() > before);

    // exit: waits until the page is gone.
    let started = Instant::now();
    let run = w.maint(&["exit", &name, "--wait-url", &url]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(started.elapsed() >= DELAY);
    assert!(
        run.stdout.contains("maintenance page gone after"),
        "{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wait_that_runs_out_exits_1_and_says_what_it_saw() {
    let (name, _) = alb("wait-out").await;
    let (_, other) = alb("wait-elsewhere").await;
    // The edge of another load balancer: it never serves this window's page.
    let edge = Edge::start(&other, Duration::ZERO, OPERATOR);
    let w = Workdir::new();
    let run = w.maint(&[
        "enter",
        &name,
        "--wait-url",
        &edge.url,
        "--wait-timeout",
        "3s",
    ]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("not maint's maintenance page"),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.contains("1 changed"),
        "the change itself was made: {}",
        run.stdout
    );
    assert_eq!(w.maint(&["exit", &name]).code, 0);
    // A target with no URL to probe is bad input, before any change.
    let run = w.maint(&["enter", &name, "--wait"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--wait-url"), "{}", run.stderr);
    let status = w.maint(&["--json", "status", &name]);
    assert_eq!(status.json()["targets"][0]["state"], "normal");
}
