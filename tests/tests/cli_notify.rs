//! Notifications with the real CLI against moto: after each changing
//! command, one JSON summary per webhook of the config's `[notify]`; a
//! webhook that fails is a warning, never a failed command.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::thread;

use maint_tests::cli::Workdir;
use maint_tests::seed;
use serde_json::Value;

/// A webhook receiver: every POST body, parsed; answers 200.
fn receiver() -> (String, Arc<Mutex<Vec<Value>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/services/T000/B000/secret",
        listener.local_addr().unwrap()
    );
    let got = Arc::new(Mutex::new(Vec::new()));
    let bodies = got.clone();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let mut reader = BufReader::new(&stream);
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                    break;
                }
                if let Some((name, value)) = line.split_once(':') {
                    if name.eq_ignore_ascii_case("content-length") {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            bodies
                .lock()
                .unwrap()
                .push(serde_json::from_slice(&body).unwrap());
            let mut stream = stream;
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        }
    });
    (url, got)
}

#[tokio::test(flavor = "multi_thread")]
async fn each_change_is_posted_once_per_webhook_and_a_failing_webhook_only_warns() {
    let name = seed::unique_lb_name("notify");
    seed::create_load_balancer(&name, "application").await;
    let (url, got) = receiver();
    let w = Workdir::new();
    w.write(
        "maint.toml",
        &format!(
            "[notify]\nwebhooks = [\"{url}\", \"http://127.0.0.1:9/hook\"]\n\n\
             [services.shop]\nload_balancers = [\"{name}\"]\n"
        ),
    );

    let run = w.maint(&[
        "enter",
        "shop",
        "--allow",
        "192.0.2.0/24",
        "--reason",
        "release 2.4",
        "--for",
        "2h",
    ]);
    assert_eq!(
        run.code, 0,
        "a failing webhook fails nothing: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "webhook failed: connection refused by http://127.0.0.1:9: the team was not told"
        ) && !run.stderr.contains("/hook"),
        "{}",
        run.stderr
    );
    let posts = got.lock().unwrap().clone();
    assert_eq!(posts.len(), 1, "{posts:?}");
    let post = &posts[0];
    assert_eq!(post["command"], "enter");
    assert_eq!(post["windows"], serde_json::json!(["maint-svc-shop"]));
    assert_eq!(post["reason"], "release 2.4");
    assert!(post["until"].as_str().unwrap().ends_with('Z'));
    let who = post["who"].as_str().unwrap();
    assert!(
        who.starts_with("arn:aws:") && who.contains("123456789012"),
        "{who}"
    );
    assert_eq!(post["summary"]["changed"], 1);
    assert_eq!(
        post["targets"][0]["target"],
        format!("shop/{name}").as_str()
    );
    let text = post["text"].as_str().unwrap();
    for needle in [
        "maint: shop put into maintenance",
        "1 load balancer changed",
        "release 2.4",
        who,
    ] {
        assert!(text.contains(needle), "{text} lacks {needle}");
    }

    // No news is not posted: a dry run, a command that changed nothing,
    // and --no-notify.
    assert_eq!(w.maint(&["exit", "shop", "--dry-run"]).code, 0);
    assert_eq!(w.maint(&["allowlist", "add", "shop", "192.0.2.1"]).code, 0);
    assert_eq!(
        w.maint(&["--no-notify", "allowlist", "disable", "shop"])
            .code,
        0
    );
    assert_eq!(w.maint(&["status", "shop"]).code, 0);
    assert_eq!(got.lock().unwrap().len(), 1);

    assert_eq!(w.maint(&["exit", "shop"]).code, 0);
    let posts = got.lock().unwrap().clone();
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[1]["command"], "exit");
    assert!(posts[1]["text"]
        .as_str()
        .unwrap()
        .contains("shop taken out of maintenance"));
}
