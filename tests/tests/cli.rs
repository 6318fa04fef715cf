//! The `maint` binary end to end against moto: every command and flag, every
//! class of bad input (exit 2, the input named, nothing created), exit codes,
//! `--json` field by field, and many targets with one failing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use maint_core::backend::web_acl_name;
use maint_core::ResourceArn;
use maint_tests::cli::Workdir;
use maint_tests::{resources_in_moto, seed};

/// A new ALB; returns its name and ARN.
async fn alb(hint: &str) -> (String, ResourceArn) {
    let name = seed::unique_lb_name(hint);
    let arn = seed::create_load_balancer(&name, "application").await;
    (name, ResourceArn::parse(&arn).unwrap())
}

fn assert_code(run: &maint_tests::cli::Run, code: i32) {
    assert_eq!(
        run.code, code,
        "expected exit {code}\nstdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn full_cycle_with_every_enter_flag_and_json() {
    let w = Workdir::new();
    let (name, arn) = alb("cli-cycle").await;
    w.write("office.txt", "203.0.113.0/24 # office\n2001:db8:1::/48\n");
    w.write("page.json", r#"{"status": "down for maintenance"}"#);

    let plan = w.maint(&[
        "--json",
        "enter",
        &name,
        "--allow",
        "192.0.2.1",
        "--dry-run",
    ]);
    assert_code(&plan, 0);
    let plan = plan.json();
    assert_eq!(plan["dry_run"], true);
    assert_eq!(plan["results"][0]["changed"], true);
    assert!(
        resources_in_moto(&arn).await.is_empty(),
        "a dry run creates nothing"
    );

    let run = w.maint(&[
        "--json",
        "enter",
        &name,
        "--allow",
        "192.0.2.1",
        "--allowlist-file",
        "office.txt",
        "--reason",
        "release 7: schema change",
        "--until",
        "2099-01-02T03:04:05Z",
        "--page",
        "page.json",
        "--status",
        "429",
        "--header",
        "X-Maintenance: yes",
    ]);
    assert_code(&run, 0);
    let v = run.json();
    assert_eq!(v["command"], "enter");
    assert_eq!(v["dry_run"], false);
    assert_eq!(v["summary"]["changed"], 1);
    let r = &v["results"][0];
    assert_eq!(r["target"], name.as_str());
    assert_eq!(r["load_balancer_arn"], arn.as_str());
    assert_eq!(r["result"], "ok");
    assert_eq!(r["changed"], true);
    assert_eq!(r["error"], serde_json::Value::Null);
    assert!(r["changes"].as_array().unwrap().len() >= 2);

    let st = w.maint(&["--json", "status", arn.as_str()]);
    assert_code(&st, 0);
    let s = &st.json()["targets"][0];
    assert_eq!(s["target"], arn.as_str());
    assert_eq!(s["load_balancer_arn"], arn.as_str());
    assert_eq!(s["state"], "maintenance");
    assert!(s["web_acl_arn"]
        .as_str()
        .unwrap()
        .contains(&web_acl_name(&arn)));
    assert_eq!(s["allowlist_enabled"], true);
    assert_eq!(
        s["allowlist"],
        serde_json::json!(["192.0.2.1/32", "203.0.113.0/24", "2001:db8:1::/48"])
    );
    assert_eq!(s["reason"], "release 7: schema change");
    assert_eq!(s["until"], "2099-01-02T03:04:05Z");
    assert!(s["since"].as_str().unwrap().ends_with('Z'));
    assert_eq!(s["response_status"], 429);

    // Repeated enter: in place, says what changed, drops no entry.
    let again = w.maint(&["enter", &name, "--reason", "release 7b", "--for", "30m"]);
    assert_code(&again, 0);
    assert!(
        again.stdout.contains("reason set to \"release 7b\""),
        "{}",
        again.stdout
    );
    let same = w.maint(&["--json", "enter", &name, "--reason", "release 7b"]);
    assert_code(&same, 0);

    let check = w.maint(&["status", &name, "--check"]);
    assert_code(&check, 0);
    assert!(check.stdout.contains("maintenance"), "{}", check.stdout);

    assert_code(&w.maint(&["allowlist", "disable", &name]), 0);
    let show = w.maint(&["allowlist", "show", &name]);
    assert_code(&show, 0);
    assert!(
        show.stdout.contains("allowlist off (3 entries)"),
        "{}",
        show.stdout
    );
    assert_code(&w.maint(&["allowlist", "enable", &name]), 0);
    assert_code(
        &w.maint(&["allowlist", "add", &name, "198.51.100.7", "198.51.100.9"]),
        0,
    );
    assert_code(&w.maint(&["allowlist", "remove", &name, "192.0.2.1"]), 0);
    let show = w.maint(&["--json", "allowlist", "show", &name]);
    assert_eq!(
        show.json()["targets"][0]["allowlist"],
        serde_json::json!([
            "198.51.100.7/32",
            "198.51.100.9/32",
            "203.0.113.0/24",
            "2001:db8:1::/48"
        ])
    );
    assert_code(&w.maint(&["allowlist", "set", &name, "10.1.0.0/16"]), 0);
    let show = w.maint(&["--json", "allowlist", "show", &name]);
    assert_eq!(
        show.json()["targets"][0]["allowlist"],
        serde_json::json!(["10.1.0.0/16"])
    );

    let dry_exit = w.maint(&["exit", &name, "--dry-run"]);
    assert_code(&dry_exit, 0);
    assert!(dry_exit.stdout.contains("would"), "{}", dry_exit.stdout);
    assert_eq!(
        resources_in_moto(&arn).await.len(),
        3,
        "dry-run exit deletes nothing (ACL, v4 and v6 sets)"
    );

    let exit = w.maint(&["--json", "exit", &name]);
    assert_code(&exit, 0);
    assert_eq!(exit.json()["results"][0]["changed"], true);
    assert!(resources_in_moto(&arn).await.is_empty());
    let check = w.maint(&["status", &name, "--check"]);
    assert_code(&check, 3);
    let again = w.maint(&["--json", "exit", &name]);
    assert_code(&again, 0);
    assert_eq!(again.json()["results"][0]["changed"], false);
}

#[tokio::test(flavor = "multi_thread")]
async fn config_services_named_allowlists_and_many_targets() {
    let w = Workdir::new();
    let (web, web_arn) = alb("cli-svc-web").await;
    let (api, api_arn) = alb("cli-svc-api").await;
    w.write("pages/shop.html", "<h1>Shop is down for maintenance</h1>");
    w.write(
        "maint.toml",
        &format!(
            r#"
[allowlists]
office = ["203.0.113.0/24"]
qa = {{ file = "qa.txt" }}

[services.shop]
load_balancers = ["{web}", "{api_arn}"]
allowlists = ["office"]
page = "pages/shop.html"
status = 503
headers = {{ "X-Service" = "shop" }}
"#
        ),
    );
    w.write("qa.txt", "198.51.100.0/24\n");
    let run = w.maint(&[
        "enter",
        "shop",
        "--allowlist",
        "qa",
        "--reason",
        "shop release",
    ]);
    assert_code(&run, 0);
    assert!(
        run.stdout.contains("2 targets: 2 changed"),
        "{}",
        run.stdout
    );
    let st = w.maint(&["--json", "status"]);
    assert_code(&st, 0);
    let targets = st.json()["targets"].as_array().unwrap().clone();
    assert_eq!(targets.len(), 2, "no targets: every service of the config");
    for t in &targets {
        assert_eq!(t["service"], "shop");
        assert_eq!(t["state"], "maintenance");
        assert_eq!(
            t["allowlist"],
            serde_json::json!(["198.51.100.0/24", "203.0.113.0/24"])
        );
    }
    assert_eq!(targets[0]["target"], format!("shop/{web}"));
    assert_code(&w.maint(&["exit", "shop"]), 0);
    assert!(resources_in_moto(&web_arn).await.is_empty());
    assert!(resources_in_moto(&api_arn).await.is_empty());
    let _ = api;
}

#[tokio::test(flavor = "multi_thread")]
async fn one_failing_target_does_not_stop_the_others() {
    let w = Workdir::new();
    let (a, a_arn) = alb("cli-many-a").await;
    let (b, b_arn) = alb("cli-many-b").await;
    let (c, c_arn) = alb("cli-many-c").await;
    let foreign = seed::foreign_web_acl(b_arn.as_str()).await;
    let run = w.maint(&["--json", "enter", &a, &b, &c, "--allow", "192.0.2.1"]);
    assert_code(&run, 1);
    let v = run.json();
    assert_eq!(v["summary"]["failed"], 1);
    assert_eq!(v["summary"]["changed"], 2);
    let results = v["results"].as_array().unwrap();
    assert_eq!(
        results[0]["target"],
        a.as_str(),
        "results in the order given"
    );
    assert_eq!(results[1]["result"], "error");
    assert_eq!(results[1]["error"]["kind"], "foreign_web_acl");
    assert!(results[1]["error"]["message"]
        .as_str()
        .unwrap()
        .contains(&foreign));
    assert_eq!(results[2]["result"], "ok");
    let text = w.maint(&["status", &a, &b, &c, "--check"]);
    assert_code(&text, 3);
    assert!(
        text.stdout.contains("foreign (security-team-acl"),
        "{}",
        text.stdout
    );
    assert_code(&w.maint(&["exit", &a, &c]), 0);
    assert!(resources_in_moto(&a_arn).await.is_empty());
    assert!(resources_in_moto(&c_arn).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_exits_2_names_the_input_and_changes_nothing() {
    let w = Workdir::new();
    let (name, arn) = alb("cli-bad").await;
    let nlb = seed::unique_lb_name("cli-bad-nlb");
    seed::create_load_balancer(&nlb, "network").await;
    w.write("bad-list.txt", "192.0.2.0/24\n10.0.0.5/24\n");
    w.write("huge.html", &"x".repeat(5000));
    w.write("bad.toml", "[services.shop]\nload_balancer = [\"x\"]\n");

    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["enter", &name, "--allow", "10.0.0.5/24"], "did you mean 10.0.0.0/24?"),
        (vec!["enter", &name, "--allow", "0.0.0.0/0"], "/0"),
        (vec!["enter", &name, "--allowlist-file", "bad-list.txt"], "bad-list.txt:2: 10.0.0.5/24"),
        (vec!["enter", &name, "--status", "418"], "418"),
        (vec!["enter", &name, "--header", "Content-Type: text/html"], "Content-Type"),
        (vec!["enter", &name, "--header", "no colon"], "no colon"),
        (vec!["enter", &name, "--page", "huge.html"], "huge.html"),
        (vec!["enter", &name, "--page", "missing.html"], "missing.html"),
        (vec!["enter", &name, "--until", "2001-01-01T00:00:00Z"], "past"),
        (vec!["enter", &name, "--for", "soon"], "soon"),
        (vec!["enter", &name, "--allowlist", "office"], "office"),
        (vec!["enter", &name, "--reason", ""], "reason"),
        (vec!["--config", "bad.toml", "enter", &name], "bad.toml:2:1: unknown key `load_balancer`; did you mean `load_balancers`?"),
        (vec!["--config", "nope.toml", "status"], "nope.toml"),
        (vec!["enter", &name, "no_such_lb!"], "no_such_lb!"),
        (vec!["enter", &name, "no-such-lb-here"], "no-such-lb-here"),
        (vec!["enter", &name, &nlb], "Application Load Balancers"),
        (vec!["enter", &name, "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/x/0123456789abcdef"], "Network Load Balancer"),
        (vec!["allowlist", "add", &name, "1.2.3.4/33"], "1.2.3.4/33"),
        (vec!["arm", &name, "--allow", "10.0.0.5/24"], "did you mean 10.0.0.0/24?"),
        (vec!["arm", &name, "--allowlist-file", "bad-list.txt"], "bad-list.txt:2: 10.0.0.5/24"),
        (vec!["arm", &name, "--page", "huge.html"], "huge.html"),
        (vec!["arm", &name, "--inject"], "--inject"),
        (vec!["arm", &name, "no-such-lb-here"], "no-such-lb-here"),
        (vec!["disarm", &name, "no-such-lb-here"], "no-such-lb-here"),
        (vec!["enter", &name, "--inject", "--allow", "0.0.0.0/0"], "/0"),
        (vec!["enter"], "TARGET"),
        (vec!["--concurrency", "0", "status", &name], "concurrency"),
    ];
    for (args, needle) in cases {
        let run = w.maint(&args);
        assert_eq!(
            run.code, 2,
            "{args:?} should be bad input\nstdout:\n{}\nstderr:\n{}",
            run.stdout, run.stderr
        );
        assert!(
            run.stderr.contains(needle),
            "{args:?}: stderr should name {needle:?}:\n{}",
            run.stderr
        );
    }
    for args in [vec!["status", name.as_str()], vec!["enter", name.as_str()]] {
        let run = w.maint_without(&args, &["AWS_REGION"]);
        assert_eq!(
            run.code, 2,
            "{args:?} without a region\n{}\n{}",
            run.stdout, run.stderr
        );
        assert!(
            format!("{}{}", run.stdout, run.stderr).contains("--region"),
            "{args:?}: says how to give a region:\n{}\n{}",
            run.stdout,
            run.stderr
        );
    }
    assert!(
        resources_in_moto(&arn).await.is_empty(),
        "bad input created something"
    );
    let st = w.maint(&["--json", "status", &name]);
    assert_eq!(st.json()["targets"][0]["state"], "normal");
}

#[tokio::test(flavor = "multi_thread")]
async fn allowlist_commands_need_maintenance_and_check_works_offline() {
    let w = Workdir::new();
    let (name, _) = alb("cli-normal").await;
    let run = w.maint(&["--json", "allowlist", "add", &name, "192.0.2.1"]);
    assert_code(&run, 1);
    assert_eq!(
        run.json()["results"][0]["error"]["kind"],
        "not_in_maintenance"
    );

    w.write("list.txt", "1.2.3.4\n1.2.3.0/24\n2001:db8::1\n");
    let check = w.maint(&["allowlist", "check", "list.txt"]);
    assert_code(&check, 0);
    assert_eq!(check.stdout, "1.2.3.0/24\n2001:db8::1/128\n");
    let completions = w.maint(&["completions", "bash"]);
    assert_code(&completions, 0);
    assert!(
        completions.stdout.contains("maint"),
        "{}",
        completions.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cleanup_dry_run_lists_and_deletes_nothing() {
    let w = Workdir::new();
    let plan = w.maint(&["--json", "cleanup", "--dry-run"]);
    assert_code(&plan, 0);
    let v = plan.json();
    assert_eq!(v["dry_run"], true);
    assert!(v["resources"].is_array());
}

#[tokio::test(flavor = "multi_thread")]
async fn global_flags_region_profile_verbosity_concurrency_and_content_type() {
    let w = Workdir::new();
    let (name, arn) = alb("cli-flags").await;

    // --region instead of AWS_REGION.
    let run = w.maint_without(&["--region", "us-east-1", "status", &name], &["AWS_REGION"]);
    assert_code(&run, 0);
    // --profile: the region and credentials come from the named profile.
    let config = w.write(
        "aws-config",
        "[profile release]\nregion = us-east-1\naws_access_key_id = testing\naws_secret_access_key = testing\n",
    );
    let run = w.maint_with(
        &["--profile", "release", "--json", "status", &name],
        &["AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"],
        &[("AWS_CONFIG_FILE", config.to_str().unwrap())],
    );
    assert_code(&run, 0);
    assert_eq!(run.json()["targets"][0]["load_balancer_arn"], arn.as_str());

    // --content-type json: the built-in JSON body; -q: only errors on stderr;
    // --concurrency 1 still acts on every target.
    let run = w.maint(&[
        "-q",
        "--concurrency",
        "1",
        "enter",
        &name,
        "--content-type",
        "json",
        "--status",
        "503",
    ]);
    assert_code(&run, 0);
    assert!(run.stderr.is_empty(), "-q: {}", run.stderr);
    let verbose = w.maint(&["-v", "enter", &name, "--reason", "verbose"]);
    assert_code(&verbose, 0);
    assert!(
        verbose.stderr.contains("updating web ACL"),
        "-v shows AWS steps: {}",
        verbose.stderr
    );
    w.write("more.txt", "198.51.100.0/24\n");
    assert_code(
        &w.maint(&["allowlist", "set", &name, "--file", "more.txt"]),
        0,
    );
    let show = w.maint(&["--json", "allowlist", "show", &name]);
    assert_eq!(
        show.json()["targets"][0]["allowlist"],
        serde_json::json!(["198.51.100.0/24"])
    );
    for shell in ["zsh", "fish"] {
        assert_code(&w.maint(&["completions", shell]), 0);
    }
    assert_code(&w.maint(&["exit", &name]), 0);
    assert!(resources_in_moto(&arn).await.is_empty());
}

/// The README's exit-code table, as (code, first words of its "when").
fn readme_exit_codes() -> Vec<(i32, String)> {
    let readme = std::fs::read_to_string(maint_tests::moto::workspace_root().join("README.md"))
        .expect("README.md");
    let section = readme
        .split("### Exit codes")
        .nth(1)
        .expect("an Exit codes section")
        .split("\n#")
        .next()
        .unwrap_or_default();
    section
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.trim().trim_matches('|').split('|').collect();
            let code = cells.first()?.trim().parse::<i32>().ok()?;
            Some((code, cells.get(1)?.trim().to_string()))
        })
        .collect()
}

/// The code whose row starts with `when`.
fn code_for(table: &[(i32, String)], when: &str) -> i32 {
    table
        .iter()
        .find(|(_, text)| text.starts_with(when))
        .unwrap_or_else(|| panic!("no README exit-code row starting {when:?}: {table:?}"))
        .0
}

#[tokio::test(flavor = "multi_thread")]
async fn every_command_exits_with_the_codes_of_the_readme_table() {
    let table = readme_exit_codes();
    let ok = code_for(&table, "success");
    let failed = code_for(&table, "an operation failed");
    let bad = code_for(&table, "bad input");
    let not_all = code_for(&table, "from `status --check`");
    let mut codes = vec![ok, failed, bad, not_all];
    codes.dedup();
    assert_eq!(codes.len(), 4, "four distinct codes: {table:?}");

    let w = Workdir::new();
    let (good, _) = alb("cli-codes-good").await;
    let (normal, _) = alb("cli-codes-normal").await;
    let (armed, _) = alb("cli-codes-armed").await;
    let (foreign, foreign_arn) = alb("cli-codes-foreign").await;
    seed::foreign_web_acl(foreign_arn.as_str()).await;
    let missing = "cli-codes-no-such-lb";
    w.write("list.txt", "192.0.2.0/24\n");
    w.write("bad.txt", "10.0.0.5/24\n");
    let dead = ["--endpoint-url", "http://127.0.0.1:9"];

    // (what, arguments, expected code)
    let mut cases: Vec<(&str, Vec<&str>, i32)> = vec![
        ("enter", vec!["enter", &good, "--allow", "192.0.2.1"], ok),
        ("arm", vec!["arm", &armed, "--allow", "192.0.2.1"], ok),
        ("allowlist enable", vec!["allowlist", "enable", &good], ok),
        ("allowlist disable", vec!["allowlist", "disable", &good], ok),
        (
            "allowlist add",
            vec!["allowlist", "add", &good, "192.0.2.7"],
            ok,
        ),
        (
            "allowlist remove",
            vec!["allowlist", "remove", &good, "192.0.2.7"],
            ok,
        ),
        (
            "allowlist set",
            vec!["allowlist", "set", &good, "192.0.2.8"],
            ok,
        ),
        ("allowlist show", vec!["allowlist", "show", &good], ok),
        (
            "allowlist check",
            vec!["allowlist", "check", "list.txt"],
            ok,
        ),
        ("status", vec!["status", &good, &normal, &foreign], ok),
        ("status --check", vec!["status", &good, "--check"], ok),
        ("cleanup", vec!["cleanup", "--dry-run"], ok),
        ("completions", vec!["completions", "bash"], ok),
        // A target without a bypass has no link to print.
        ("bypass link", vec!["bypass", "link", &good], failed),
        ("enter", vec!["enter", &good, "--bypass"], ok),
        ("bypass link", vec!["bypass", "link", &good], ok),
        ("check", vec!["check", &normal, "--ip", "198.51.100.1"], ok),
        (
            "check",
            vec!["check", &good, "--ip", "198.51.100.1"],
            not_all,
        ),
        ("check", vec!["check", &good, "--ip", "not-an-address"], bad),
        ("check", vec!["check", missing, "--ip", "198.51.100.1"], bad),
        ("bypass link", vec!["bypass", "link", missing], bad),
        (
            "bypass link",
            vec!["bypass", "link", &good, "--base-url", "shop.example.com"],
            bad,
        ),
    ];
    for (what, verb) in [
        ("enter", vec!["enter"]),
        ("exit", vec!["exit"]),
        ("arm", vec!["arm"]),
        ("disarm", vec!["disarm"]),
        ("allowlist enable", vec!["allowlist", "enable"]),
        ("allowlist disable", vec!["allowlist", "disable"]),
        ("allowlist show", vec!["allowlist", "show"]),
        ("status", vec!["status"]),
        ("status --check", vec!["status", "--check"]),
    ] {
        // A target that does not exist is bad input for every command.
        let mut args = verb.clone();
        args.push(missing);
        cases.push((what, args, bad));
    }
    for (what, verb) in [
        ("allowlist add", vec!["allowlist", "add"]),
        ("allowlist remove", vec!["allowlist", "remove"]),
        ("allowlist set", vec!["allowlist", "set"]),
    ] {
        let mut args = verb.clone();
        args.extend([missing, "192.0.2.1"]);
        cases.push((what, args, bad));
        // A foreign web ACL fails the operation; a target not in
        // maintenance has no allowlist to change.
        let mut args = verb.clone();
        args.extend([foreign.as_str(), "192.0.2.1"]);
        cases.push((what, args, failed));
        let mut args = verb;
        args.extend([normal.as_str(), "192.0.2.1"]);
        cases.push((what, args, failed));
    }
    cases.extend([
        ("enter", vec!["enter", &foreign], failed),
        ("exit", vec!["exit", &foreign], failed),
        // A foreign web ACL is never armed; a target in maintenance is
        // never disarmed (exit first).
        ("arm", vec!["arm", &foreign], failed),
        ("disarm", vec!["disarm", &good], failed),
        ("arm", vec!["arm", &good, "--status", "418"], bad),
        (
            "allowlist enable",
            vec!["allowlist", "enable", &foreign],
            failed,
        ),
        (
            "allowlist disable",
            vec!["allowlist", "disable", &normal],
            failed,
        ),
        (
            "status --check",
            vec!["status", &normal, "--check"],
            not_all,
        ),
        (
            "status --check",
            vec!["status", &foreign, "--check"],
            not_all,
        ),
        (
            "allowlist check",
            vec!["allowlist", "check", "bad.txt"],
            bad,
        ),
        ("cleanup", vec!["--config", "absent.toml", "cleanup"], bad),
        ("completions", vec!["completions", "tcsh"], bad),
        ("enter", vec!["enter", &good, "--status", "418"], bad),
    ]);
    // AWS unreachable: the operation fails (not bad input).
    for (what, verb) in [
        ("status", vec!["status", good.as_str()]),
        ("allowlist show", vec!["allowlist", "show", good.as_str()]),
        ("exit", vec!["exit", good.as_str()]),
        ("disarm", vec!["disarm", good.as_str()]),
        ("cleanup", vec!["cleanup", "--dry-run"]),
        ("check", vec!["check", good.as_str(), "--ip", "192.0.2.1"]),
    ] {
        let mut args = dead.to_vec();
        args.extend(verb);
        cases.push((what, args, failed));
    }
    cases.push(("exit", vec!["exit", &good], ok));
    cases.push(("disarm", vec!["disarm", &armed], ok));

    let mut wrong = Vec::new();
    for (what, args, expected) in &cases {
        let run = w.maint(args);
        if run.code != *expected {
            wrong.push(format!(
                "{what}: `maint {}` exited {}, the README says {expected}\n{}",
                args.join(" "),
                run.code,
                run.stderr
            ));
        }
    }
    let commands: std::collections::BTreeSet<&str> = cases.iter().map(|(w, _, _)| *w).collect();
    assert_eq!(commands.len(), 17, "every command is covered: {commands:?}");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
