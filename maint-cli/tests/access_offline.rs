//! The bypass, the client address from a header and `maint check` as a user
//! runs them, without AWS: help texts, and bad input refused with exit 2
//! before any AWS call (the endpoint is a dead port, so a call would exit 1).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod offline;

use offline::{maint, words, workdir};

#[test]
fn bad_bypass_client_address_and_check_input_is_refused_before_aws() {
    let d = workdir();
    for (args, needle) in [
        (
            &["enter", "shop", "--bypass", "--no-bypass"][..],
            "cannot be used with",
        ),
        (
            &["enter", "shop", "--bypass", "--rotate-bypass"],
            "cannot be used with",
        ),
        (
            &["enter", "shop", "--bypass-secret", "short"],
            "is 5 characters long",
        ),
        (
            &[
                "enter",
                "shop",
                "--bypass-secret",
                "has spaces in it, which is not ok",
            ],
            "contains ' '",
        ),
        (
            &["enter", "shop", "--client-ip-header", "X-Forwarded-For"],
            "--client-ip-position",
        ),
        (
            &["enter", "shop", "--client-ip-position", "last"],
            "--client-ip-header",
        ),
        (
            &[
                "enter",
                "shop",
                "--client-ip-header",
                "X-Forwarded-For",
                "--client-ip-position",
                "middle",
            ],
            "is not one of \"first\", \"last\", \"any\"",
        ),
        (
            &[
                "enter",
                "shop",
                "--client-ip-header",
                "X Forwarded",
                "--client-ip-position",
                "last",
            ],
            "client address header \"X Forwarded\"",
        ),
        (
            &["check", "shop", "--ip", "300.1.1.1"],
            "not an IPv4 or IPv6 address",
        ),
        (&["check", "shop"], "--ip"),
        (
            &["check", "shop", "--ip", "192.0.2.1", "--header", "no colon"],
            "must be 'Name: value'",
        ),
        (
            &["check", "shop", "--ip", "192.0.2.1", "--path", "relative"],
            "must start with '/'",
        ),
        (
            &["bypass", "link", "shop", "--base-url", "shop.example.com"],
            "must start with https://",
        ),
        (
            &["allowlist", "enable", "shop", "--keep-bypass"],
            "--keep-bypass",
        ),
    ] {
        let out = maint(&d, args);
        let stderr = words(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(needle),
            "{args:?}: {stderr} lacks {needle:?}"
        );
    }
}

#[test]
fn help_says_what_disable_does_to_the_bypass_and_how_check_exits() {
    let d = workdir();
    let disable = words(&maint(&d, &["allowlist", "disable", "--help"]).stdout);
    for needle in [
        "The bypass (header, cookie, link) is shut too, unless --keep-bypass",
        "--keep-bypass",
    ] {
        assert!(disable.contains(needle), "{disable}");
    }
    let check = words(&maint(&d, &["check", "--help"]).stdout);
    for needle in [
        "Exit 0: let through",
        "3: it gets the maintenance response",
        "--ip <ADDR>",
        "--header",
        "x-maint-bypass",
    ] {
        assert!(
            check.contains(needle),
            "check --help lacks {needle:?}: {check}"
        );
    }
    let link = words(&maint(&d, &["bypass", "link", "--help"]).stdout);
    assert!(link.contains("share it like a password"), "{link}");
    let enter = words(&maint(&d, &["enter", "--help"]).stdout);
    for needle in [
        "--bypass",
        "--rotate-bypass",
        "--client-ip-header <NAME>",
        "spoofable",
    ] {
        assert!(enter.contains(needle), "enter --help lacks {needle:?}");
    }
}
