//! Bad input that must be refused with exit 2 and one clear line, before
//! any AWS call (the endpoint is a dead port, so a call would exit 1), and
//! failures that must be told in one line without leaking secrets.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod offline;

use offline::{maint, text, workdir};

#[test]
fn a_planned_end_past_the_year_9999_is_bad_input_not_a_panic() {
    let d = workdir();
    // 2300000000h overflowed chrono (exit 101); 80000000h ended in 11153.
    for duration in ["2300000000h", "80000000h"] {
        let out = maint(&d, &["enter", "shop", "--for", duration]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "--for {duration}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(
            stderr.contains("maint: invalid --for: it ends after 9999-12-31T23:59:59Z"),
            "--for {duration}: {stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
}
