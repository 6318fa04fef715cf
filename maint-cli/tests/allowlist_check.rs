//! `maint allowlist check`, run as a user would: the built binary, stdin,
//! files, exit codes.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn maint(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_maint"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run maint");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[test]
fn prints_the_normalized_allowlist_ipv4_first() {
    let out = maint(
        &["allowlist", "check", "-"],
        "1.2.3.4\n1.2.3.0/24\n2001:db8::1\n",
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), "1.2.3.0/24\n2001:db8::1/128\n");
}

#[test]
fn host_bits_exit_2_naming_the_network() {
    let out = maint(&["allowlist", "check", "-"], "10.0.0.5/24\n");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "maint: -:1: 10.0.0.5/24: host bits are set; did you mean 10.0.0.0/24?\n"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn every_bad_line_of_a_file_is_reported() {
    let dir = std::env::temp_dir().join(format!("maint-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("office.txt");
    std::fs::write(
        &file,
        "# office\n203.0.113.0/24 # floor 1\n\n203.0.113.300\n0.0.0.0/0\n",
    )
    .unwrap();
    let out = maint(&["allowlist", "check", file.to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    let path = file.display();
    assert!(
        stderr.contains(&format!(
            "{path}:4: 203.0.113.300: not an IPv4 or IPv6 address"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{path}:5: 0.0.0.0/0: /0 matches every address")),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn json_output_has_both_families() {
    let out = maint(
        &["--json", "allowlist", "check"],
        "2001:db8::/32\n192.0.2.1\n",
    );
    assert_eq!(out.status.code(), Some(0));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        value,
        serde_json::json!({"ipv4": ["192.0.2.1/32"], "ipv6": ["2001:db8::/32"]})
    );
}

#[test]
fn missing_file_is_bad_input() {
    let out = maint(&["allowlist", "check", "/nonexistent/allowlist.txt"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("/nonexistent/allowlist.txt"));
}

#[test]
fn unknown_flag_is_a_usage_error() {
    let out = maint(&["allowlist", "check", "--bogus"], "");
    assert_eq!(out.status.code(), Some(2));
}
