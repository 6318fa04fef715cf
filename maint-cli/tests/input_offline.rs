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

#[test]
fn an_empty_or_malformed_region_is_bad_input_in_one_line() {
    let d = workdir();
    for region in ["", "us east/1", "US-EAST-1"] {
        let out = maint(&d, &["--region", region, "status", "my-alb"]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "--region {region:?}: {stderr}");
        assert!(
            stderr.starts_with(&format!("maint: invalid AWS region {region:?}: ")),
            "{stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(text(&out.stdout).is_empty(), "{}", text(&out.stdout));
    }
    // From the environment too (AWS_REGION), where no flag names it.
    let out = offline::maint_with(&d, &["status", "my-alb"], &[("AWS_REGION", "not a region")]);
    let output = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{output}");
    assert!(
        output.contains("invalid AWS region \"not a region\""),
        "{output}"
    );
    assert!(!output.contains("ConstructionFailure"), "{output}");
}

/// AWS failures as one line each: the operation, then what failed.
fn one_line_failure(out: &std::process::Output) -> String {
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    let message = json["targets"][0]["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    for junk in [
        "DispatchFailure",
        "ConnectorError",
        "ServiceError",
        "Unhandled",
        "unhandled error",
        "headers",
        "SdkBody",
        "\n",
    ] {
        assert!(!message.contains(junk), "{junk:?} in {message}");
        assert!(
            !stderr.contains(junk) || junk == "\n",
            "{junk:?} in {stderr}"
        );
    }
    message
}

#[test]
fn a_refused_connection_is_one_line_naming_the_host() {
    let d = workdir();
    // The offline endpoint, http://127.0.0.1:9, refuses connections.
    let out = maint(&d, &["--json", "status", "my-alb"]);
    assert_eq!(
        one_line_failure(&out),
        "AWS DescribeLoadBalancers failed: connection refused by http://127.0.0.1:9"
    );
}

/// A loopback server that answers every request with `status`, `content_type`
/// and a body that is not AWS's, holding a secret-looking string.
fn garbage_server(status: u16, content_type: &'static str) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            // The whole request (headers, then Content-Length bytes) is read
            // before answering, so the client sees the answer, not a reset.
            let mut request = Vec::new();
            let mut chunk = [0u8; 4096];
            while !request_complete(&request) {
                match stream.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&chunk[..n]),
                }
            }
            let answer = "<<garbage SECRETSECRETSECRET0123456789 {\"x\": ";
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    url
}

/// Whether `request` holds its headers and the body they announce.
fn request_complete(request: &[u8]) -> bool {
    let text = String::from_utf8_lossy(request).to_lowercase();
    let Some(end) = text.find("\r\n\r\n") else {
        return false;
    };
    let length: usize = text[..end]
        .split("content-length:")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    request.len() >= end + 4 + length
}

#[test]
fn an_unreadable_answer_never_shows_its_body() {
    let d = workdir();
    for (status, content_type) in [(200, "text/xml"), (400, "text/xml"), (502, "text/html")] {
        let url = garbage_server(status, content_type);
        let out = maint(&d, &["--json", "--endpoint-url", &url, "status", "my-alb"]);
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(!all.contains("SECRETSECRETSECRET"), "{all}");
        assert!(!all.contains("garbage"), "{all}");
        assert_eq!(
            one_line_failure(&out),
            format!(
                "AWS DescribeLoadBalancers failed: the answer (HTTP {status}, {content_type}) \
                 is not one maint can read"
            )
        );
    }
}

#[test]
fn a_refused_bypass_secret_is_never_echoed() {
    let d = workdir();
    for secret in ["TooShortButSecret", "Has-A-Bad-Char!MoreSecretChars0123"] {
        let out = maint(&d, &["enter", "shop", "--bypass-secret", secret]);
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(2), "{all}");
        assert!(
            all.contains("invalid value for '--bypass-secret <SECRET>' (not shown)"),
            "{all}"
        );
        assert!(!all.contains(secret), "{all}");
    }
}

#[test]
fn the_bypass_secret_file_holds_one_line() {
    let d = workdir();
    let secret = "FileSecret0123456789abcdefXYZ";
    let file = |name: &str, content: &str| {
        let path = d.join(name);
        std::fs::write(&path, content).unwrap();
        path.display().to_string()
    };
    let good = file("good", &format!("{secret}\n"));
    let crlf = file("crlf", &format!("{secret}\r\n"));
    let two = file("two", &format!("{secret}\n{secret}\n"));
    let short = file("short", "ShortSecret\n");
    // Accepted: the command goes on to AWS (a dead port here: exit 1).
    for path in [&good, &crlf] {
        let out = maint(&d, &["enter", "shop", "--bypass-secret-file", path]);
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(1), "{all}");
        assert!(all.contains("connection refused"), "{all}");
        assert!(!all.contains(secret), "{all}");
    }
    // Standard input.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_maint"))
        .args(["enter", "shop", "--bypass-secret-file", "-"])
        .current_dir(&d)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    writeln!(child.stdin.take().unwrap(), "{secret}").unwrap();
    let out = child.wait_with_output().unwrap();
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(!all.contains(secret), "{all}");
    // Refused, naming the file and never showing its content.
    for (path, why) in [
        (&two, "has more than one line"),
        (&short, "is 11 characters long"),
    ] {
        let out = maint(&d, &["enter", "shop", "--bypass-secret-file", path]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.starts_with(&format!("maint: invalid --bypass-secret-file {path}: ")),
            "{stderr}"
        );
        assert!(stderr.contains(why), "{stderr}");
        assert!(
            !stderr.contains(secret) && !stderr.contains("ShortSecret"),
            "{stderr}"
        );
    }
    let missing = d.join("missing").display().to_string();
    let out = maint(&d, &["enter", "shop", "--bypass-secret-file", &missing]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    // One way of giving the secret at a time.
    let out = maint(
        &d,
        &[
            "enter",
            "shop",
            "--bypass-secret-file",
            &good,
            "--bypass-secret",
            secret,
        ],
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_bad_host_or_path_prefix_is_refused_naming_the_value_and_the_flag() {
    let d = workdir();
    for command in ["enter", "arm"] {
        for (flag, value, says) in [
            ("--host", "https://x", "without a scheme"),
            ("--host", "shop.example.com/checkout", "no path"),
            (
                "--host",
                "shop.*.example.com",
                "'*' only as its first label",
            ),
            ("--path-prefix", "nope", "must start with '/'"),
            ("--open-path", "/a?b", "without a query"),
        ] {
            let out = maint(&d, &[command, "shop", flag, value]);
            let stderr = text(&out.stderr);
            assert_eq!(
                out.status.code(),
                Some(2),
                "{command} {flag} {value}: {stderr}"
            );
            // One line says it all; clap adds only its --help hint.
            let first = stderr.lines().next().unwrap_or_default();
            assert!(
                first.contains(&format!("'{value}'")) && first.contains(flag),
                "{command} {flag} {value}: {stderr}"
            );
            assert!(first.contains(says), "{command} {flag} {value}: {stderr}");
            assert!(!stderr.contains("connection refused"), "{stderr}");
            assert!(text(&out.stdout).is_empty(), "{}", text(&out.stdout));
        }
    }
}

#[test]
fn eleven_hosts_are_refused_before_any_aws_call() {
    let d = workdir();
    let hosts: Vec<String> = (0..11).map(|i| format!("s{i}.example.com")).collect();
    let mut args = vec!["enter", "shop"];
    for h in &hosts {
        args.extend(["--host", h.as_str()]);
    }
    let out = maint(&d, &args);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("at most 10 hosts"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn good_scope_flags_go_on_to_aws() {
    let d = workdir();
    let out = maint(
        &d,
        &[
            "enter",
            "shop",
            "--host",
            "Shop.Example.com",
            "--host",
            "*.shop.example.com",
            "--path-prefix",
            "/checkout/",
            "--open-path",
            "/healthz",
        ],
    );
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    // Accepted: the command goes on to AWS (a dead port here: exit 1).
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("connection refused"), "{all}");
}

#[test]
fn check_refuses_a_bad_host_or_url_and_url_with_path_or_host() {
    let d = workdir();
    for (args, says) in [
        (
            &["check", "shop", "--ip", "192.0.2.1", "--host", "https://x/"][..],
            "maint: invalid --host https://x/: ",
        ),
        (
            &[
                "check",
                "shop",
                "--ip",
                "192.0.2.1",
                "--url",
                "shop.example.com/x",
            ],
            "maint: invalid --url shop.example.com/x: must start with http:// or https://",
        ),
        (
            &["check", "shop", "--ip", "192.0.2.1", "--url", "https:///x"],
            "maint: invalid --url https:///x: must name a host",
        ),
    ] {
        let out = maint(&d, args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.starts_with(says), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
    for conflicting in [["--path", "/x"], ["--host", "shop.example.com"]] {
        let mut args = vec![
            "check",
            "shop",
            "--ip",
            "192.0.2.1",
            "--url",
            "https://shop.example.com/",
        ];
        args.extend(conflicting);
        let out = maint(&d, &args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("cannot be used with"), "{stderr}");
    }
    // Good ones go on to AWS (a dead port: exit 1).
    for args in [
        &[
            "check",
            "shop",
            "--ip",
            "192.0.2.1",
            "--host",
            "shop.example.com:8443",
            "--path",
            "/checkout",
        ][..],
        &[
            "check",
            "shop",
            "--ip",
            "192.0.2.1",
            "--url",
            "https://shop.example.com/checkout?x=1",
        ],
    ] {
        let out = maint(&d, args);
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(1), "{args:?}: {all}");
    }
}
