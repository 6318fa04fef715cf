//! `maint arm`, `maint disarm` and `maint enter --inject` as a user runs
//! them, without AWS: help texts, and bad input refused with exit 2 before
//! any AWS call (the endpoint is a dead port, so a call would exit 1).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod offline;

use offline::{maint, text, words, workdir};

#[test]
fn arm_and_disarm_help_say_what_arming_costs() {
    let d = workdir();
    let arm = maint(&d, &["arm", "--help"]);
    assert_eq!(arm.status.code(), Some(0));
    let help = words(&arm.stdout);
    for needle in [
        "pass-through form: nothing is blocked",
        "about $5 per web ACL per month plus $1 per rule per month (prorated hourly), plus $0.60 per million requests inspected",
        "a planned window on a large fleet",
        "one every 2 s per account and Region",
        "`maint disarm`",
    ] {
        assert!(help.contains(needle), "arm --help lacks {needle:?}:\n{help}");
    }
    // -h is the one-line summary, which still says it is paid.
    let short = words(&maint(&d, &["arm", "-h"]).stdout);
    assert!(short.contains("AWS WAF charges while armed"), "{short}");

    let disarm = maint(&d, &["disarm", "--help"]);
    assert_eq!(disarm.status.code(), Some(0));
    let help = words(&disarm.stdout);
    for needle in [
        "$5 per web ACL per month",
        "$0.60 per million requests",
        "`maint exit` first",
        "--dry-run",
    ] {
        assert!(
            help.contains(needle),
            "disarm --help lacks {needle:?}:\n{help}"
        );
    }

    let enter = words(&maint(&d, &["enter", "--help"]).stdout);
    assert!(
        enter.contains("--inject Consent to add maint's rule to a target's own web ACL"),
        "{enter}"
    );
    let top = words(&maint(&d, &["--help"]).stdout);
    assert!(top.contains("arm ") && top.contains("disarm "), "{top}");
}

#[test]
fn bad_input_to_arm_and_disarm_exits_2_before_any_aws_call() {
    let d = workdir();
    std::fs::write(d.join("bad.txt"), "192.0.2.0/24\n10.0.0.5/24\n").unwrap();
    std::fs::write(
        d.join("maybe.toml"),
        "[services.shop]\nload_balancers = [\"shop-prod\"]\nexisting_web_acl = \"maybe\"\n",
    )
    .unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["arm", "shop-prod", "--allow", "10.0.0.5/24"], "did you mean 10.0.0.0/24?"),
        (vec!["arm", "shop-prod", "--allow", "0.0.0.0/0"], "/0"),
        (vec!["arm", "shop-prod", "--allowlist-file", "bad.txt"], "bad.txt:2: 10.0.0.5/24"),
        (vec!["arm", "shop-prod", "--status", "418"], "418"),
        (vec!["arm", "shop-prod", "--page", "missing.html"], "missing.html"),
        (vec!["arm", "shop-prod", "--reason", ""], "reason"),
        (vec!["arm", "shop-prod", "--inject"], "--inject"),
        (vec!["arm"], "TARGET"),
        (vec!["disarm"], "TARGET"),
        (vec!["disarm", "shop-prod", "--allow", "192.0.2.1"], "--allow"),
        (vec!["arm", "no_such_lb!"], "no_such_lb!"),
        (vec!["disarm", "no_such_lb!"], "no_such_lb!"),
        (
            vec!["--config", "maybe.toml", "arm", "shop"],
            "maybe.toml:3:20: services.shop.existing_web_acl: \"maybe\" is not one of \"refuse\", \"inject\"",
        ),
        (
            vec!["--config", "maybe.toml", "enter", "shop", "--inject"],
            "services.shop.existing_web_acl",
        ),
    ];
    for (args, needle) in cases {
        let out = maint(&d, &args);
        let stderr = text(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?} should be bad input\nstdout:\n{}\nstderr:\n{stderr}",
            text(&out.stdout)
        );
        assert!(
            stderr.contains(needle),
            "{args:?}: stderr should name {needle:?}:\n{stderr}"
        );
    }
}
