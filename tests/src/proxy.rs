//! `tests/moto/latency_proxy.py` in front of the binary's moto server, for
//! what the Rust fault layer cannot reach: a `maint` process's calls (the
//! CLI), e.g. an `AssumeRole` refused with `--deny-role`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::moto::{python_path, server, workspace_root};

/// A running proxy; stopped when dropped.
pub struct Proxy {
    child: Child,
    port_file: PathBuf,
    /// Its URL, to give as the AWS endpoint.
    pub url: String,
}

impl Proxy {
    /// Starts the proxy with no added delay and `args`
    /// (`["--deny-role", ARN]`), and waits until it listens.
    pub fn start(args: &[&str]) -> Self {
        let port_file = std::env::temp_dir().join(format!(
            "maint-proxy-{}-{}.port",
            std::process::id(),
            crate::seed::unique_lb_name("p")
        ));
        let child = Command::new(python_path())
            .arg(workspace_root().join("tests/moto/latency_proxy.py"))
            .args(["--upstream", &server().endpoint(), "--delay-ms", "0"])
            .arg("--port-file")
            .arg(&port_file)
            .arg("--parent-pid")
            .arg(std::process::id().to_string())
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start latency_proxy.py: {e}"));
        let deadline = Instant::now() + Duration::from_secs(30);
        let port = loop {
            if let Ok(port) = std::fs::read_to_string(&port_file) {
                if !port.trim().is_empty() {
                    break port.trim().to_string();
                }
            }
            assert!(Instant::now() < deadline, "latency_proxy.py did not start");
            std::thread::sleep(Duration::from_millis(50));
        };
        Self {
            child,
            port_file,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Proxy {
    /// The API calls that went through, by IAM's name for their action
    /// (`sts:AssumeRole`, `wafv2:GetWebACL`), and how many of each: the
    /// proxy's `GET /_proxy/counts`.
    pub fn calls(&self) -> std::collections::BTreeMap<String, u64> {
        use std::io::{Read, Write};
        let addr = self.url.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(addr)
            .unwrap_or_else(|e| panic!("connect to the proxy: {e}"));
        write!(
            stream,
            "GET /_proxy/counts HTTP/1.0\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .expect("ask the proxy");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read the proxy");
        let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        let counts: serde_json::Value =
            serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {answer}"));
        counts["calls"]
            .as_object()
            .map(|calls| {
                calls
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.port_file);
    }
}
