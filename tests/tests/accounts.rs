//! Many accounts and Regions (issue 23) through the `maint` binary, against
//! moto (credentials from `AssumeRole` act in the role's account): two
//! accounts with an ALB of the same name in two Regions each, and a service
//! in the caller's own account, enter in one command; each account's web
//! ACLs land in that account only; `status` groups the targets by account
//! and Region; `exit` leaves nothing anywhere. A role that cannot be
//! assumed (AccessDenied on the wire, from tests/moto/latency_proxy.py
//! --deny-role: moto lets any role be assumed) fails the change before
//! anything changes, naming the role (exit 1); a target in an account the
//! config does not name, and a role ARN of a malformed account, are bad
//! input (exit 2).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use maint_tests::cli::Workdir;
use maint_tests::proxy::Proxy;
use maint_tests::seed;

const PROD: &str = "333333333333";
const STAGE: &str = "444444444444";
const OWN: &str = "123456789012";
const REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];

/// The organisation: ALB `<tag>-shop` in both Regions of prod, `<tag>-api`
/// in both Regions of stage, `<tag>-home` in the caller's account; the
/// config with both roles (stage's with an external ID), a service each.
async fn organisation(tag: &str) -> String {
    for region in REGIONS {
        seed::load_balancer_in(PROD, region, &format!("{tag}-shop")).await;
        seed::load_balancer_in(STAGE, region, &format!("{tag}-api")).await;
    }
    seed::load_balancer_in(OWN, "us-east-1", &format!("{tag}-home")).await;
    format!(
        "[accounts.prod]\nrole_arn = \"arn:aws:iam::{PROD}:role/maint\"\n\
         regions = [\"us-east-1\", \"eu-west-1\"]\n\
         [accounts.stage]\nrole_arn = \"arn:aws:iam::{STAGE}:role/maint\"\n\
         external_id = \"maint-stage\"\nregions = [\"us-east-1\", \"eu-west-1\"]\n\
         [services.{tag}-shop]\naccount = \"prod\"\nload_balancers = [\"{tag}-shop\"]\n\
         [services.{tag}-api]\naccount = \"stage\"\nload_balancers = [\"{tag}-api\"]\n\
         [services.{tag}-home]\nload_balancers = [\"{tag}-home\"]\n"
    )
}

/// Where the tag's windows are: (account, Region, web ACL name), sorted.
async fn windows(tag: &str) -> Vec<(String, String, String)> {
    let mut found = Vec::new();
    for account in [PROD, STAGE, OWN] {
        for region in REGIONS {
            let state = seed::account_state(account, region).await;
            for name in state["web_acls"].as_array().unwrap() {
                let name = name.as_str().unwrap();
                if name.contains(tag) {
                    found.push((account.to_string(), region.to_string(), name.to_string()));
                }
            }
        }
    }
    found.sort();
    found
}

#[tokio::test(flavor = "multi_thread")]
async fn one_enter_reaches_every_account_and_region_and_each_window_stays_in_its_account() {
    let tag = seed::unique_lb_name("org");
    let w = Workdir::new();
    w.write("maint.toml", &organisation(&tag).await);
    let services = [
        format!("{tag}-shop"),
        format!("{tag}-api"),
        format!("{tag}-home"),
    ];
    let mut args = vec!["enter"];
    args.extend(services.iter().map(String::as_str));
    args.extend(["--allow", "203.0.113.0/24", "--reason", "db upgrade"]);
    let entered = w.maint(&args);
    assert_eq!(entered.code, 0, "{}\n{}", entered.stdout, entered.stderr);
    // A run across accounts names each line's place.
    let shop = format!("{tag}-shop/{tag}-shop");
    assert!(
        entered.stdout.lines().any(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            words.len() > 3 && words[..3] == ["prod", "eu-west-1", shop.as_str()]
        }),
        "{}",
        entered.stdout
    );
    let mut expected = Vec::new();
    for region in REGIONS {
        expected.push((PROD.into(), region.into(), format!("maint-svc-{tag}-shop")));
        expected.push((STAGE.into(), region.into(), format!("maint-svc-{tag}-api")));
    }
    expected.push((
        OWN.into(),
        "us-east-1".into(),
        format!("maint-svc-{tag}-home"),
    ));
    expected.sort();
    assert_eq!(windows(&tag).await, expected);

    // JSON: five targets, each with its account.
    let mut status_args = vec!["--json", "status"];
    status_args.extend(services.iter().map(String::as_str));
    let shown = w.maint(&status_args);
    assert_eq!(shown.code, 0, "{}\n{}", shown.stdout, shown.stderr);
    let targets = shown.json()["targets"].as_array().cloned().unwrap();
    let mut accounts: Vec<String> = targets
        .iter()
        .map(|t| {
            assert_eq!(t["state"], "maintenance", "{t}");
            t["account"].as_str().unwrap().to_string()
        })
        .collect();
    accounts.sort();
    assert_eq!(accounts, ["123456789012", "prod", "prod", "stage", "stage"]);

    // For people: grouped by account and Region, one row each.
    let table = w.maint(&status_args[1..]);
    assert_eq!(table.code, 0, "{}\n{}", table.stdout, table.stderr);
    let rows: Vec<Vec<&str>> = table
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows[0][..3],
        ["ACCOUNT", "REGION", "TARGET"],
        "{}",
        table.stdout
    );
    let places: Vec<(&str, &str)> = rows[1..6].iter().map(|r| (r[0], r[1])).collect();
    let mut grouped = places.clone();
    grouped.dedup();
    assert_eq!(grouped.len(), 5, "one row per place: {}", table.stdout);
    assert!(places.contains(&("stage", "eu-west-1")), "{}", table.stdout);
    assert!(places.contains(&(OWN, "us-east-1")), "{}", table.stdout);

    let mut exit_args = vec!["exit"];
    exit_args.extend(services.iter().map(String::as_str));
    let left = w.maint(&exit_args);
    assert_eq!(left.code, 0, "{}\n{}", left.stdout, left.stderr);
    assert_eq!(windows(&tag).await, Vec::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_role_that_cannot_be_assumed_stops_the_change_in_every_account() {
    let tag = seed::unique_lb_name("deny");
    let w = Workdir::new();
    w.write("maint.toml", &organisation(&tag).await);
    let denied = format!("arn:aws:iam::{STAGE}:role/maint");
    let proxy = Proxy::start(&["--deny-role", &denied]);
    let run = w.maint_with(
        &[
            "enter",
            &format!("{tag}-shop"),
            &format!("{tag}-api"),
            &format!("{tag}-home"),
            "--allow",
            "203.0.113.0/24",
        ],
        &[],
        &[("AWS_ENDPOINT_URL", proxy.url.as_str())],
    );
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains(&denied), "{}", run.stderr);
    assert!(run.stderr.contains("AccessDenied"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("1 account could not be acted in, so nothing was changed"),
        "{}",
        run.stderr
    );
    assert_eq!(windows(&tag).await, Vec::new(), "nothing changed anywhere");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_arn_in_an_unknown_account_and_a_malformed_role_are_bad_input() {
    let tag = seed::unique_lb_name("bad");
    let w = Workdir::new();
    w.write("maint.toml", &organisation(&tag).await);
    let elsewhere = seed::load_balancer_in("555555555555", "us-east-1", &format!("{tag}-x")).await;
    let run = w.maint(&["enter", &format!("{tag}-shop"), &elsewhere]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("no account of the config file is 555555555555"),
        "{}",
        run.stderr
    );
    assert_eq!(windows(&tag).await, Vec::new(), "nothing changed");

    let bad = w.write(
        "bad.toml",
        &format!(
            "[accounts.prod]\nrole_arn = \"arn:aws:iam::33333333:role/maint\"\n\
             [services.{tag}-shop]\naccount = \"prod\"\nload_balancers = [\"{tag}-shop\"]\n"
        ),
    );
    let run = w.maint(&[
        "--config",
        bad.to_str().unwrap(),
        "enter",
        &format!("{tag}-shop"),
    ]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("bad.toml:2:12: accounts.prod.role_arn: \"arn:aws:iam::33333333:role/maint\": the account \"33333333\" is not a 12-digit AWS account ID"),
        "{}",
        run.stderr
    );
    assert_eq!(windows(&tag).await, Vec::new(), "nothing changed");
}
