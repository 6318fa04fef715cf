//! One moto server per test binary, started on first use.
//!
//! moto's server (`moto_server`, from `.venv`, see `scripts/lib/venv.sh`) is
//! started through `tests/moto/moto_wrapper.py`, whose stdin is a pipe this
//! process never writes to: when the test process ends in any way (even
//! SIGKILL, or with the `static` never dropped), the pipe closes and the
//! wrapper stops moto. Every scenario makes its own uniquely named load
//! balancers, so all tests of a binary share the one server.
//!
//! Only the server process lives in the `static`: SDK clients are made per
//! test from [`MotoServer::sdk_config`], because each `#[tokio::test]` has
//! its own runtime and a client's connection pool must not outlive it.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_wafv2::config::{Credentials, SharedCredentialsProvider};

/// The region every test uses.
pub const REGION: &str = "us-east-1";

/// The account id moto reports.
pub const ACCOUNT_ID: &str = "123456789012";

/// How long the server may take to answer HTTP after it is started.
const STARTUP_DEADLINE: Duration = Duration::from_secs(30);

/// How many times a start is retried when moto exits early (another process
/// can take the free port between our probe and moto's bind).
const START_ATTEMPTS: usize = 3;

static SERVER: OnceLock<MotoServer> = OnceLock::new();

/// The shared moto server of this test binary, started on first call.
///
/// Panics (never skips) if moto is not installed or does not come up.
pub fn server() -> &'static MotoServer {
    SERVER.get_or_init(MotoServer::start)
}

/// A running moto server on a loopback port.
#[derive(Debug)]
pub struct MotoServer {
    endpoint: String,
    addr: SocketAddr,
    log_path: PathBuf,
    /// The wrapper process; kept so the handle (and pid) stay known.
    _child: Mutex<Child>,
    /// The write end of the wrapper's stdin: while it is open, moto runs.
    _keepalive: Mutex<ChildStdin>,
    /// Two subnet ids in different availability zones per region, looked
    /// up once each.
    subnets: Mutex<BTreeMap<String, [String; 2]>>,
}

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    crate_dir.parent().unwrap_or(crate_dir).to_path_buf()
}

/// The `moto_server` executable: `$MAINT_MOTO_SERVER`, else the workspace's
/// `.venv/bin/moto_server`. Panics with instructions when neither exists.
fn moto_server_path() -> PathBuf {
    if let Some(p) = std::env::var_os("MAINT_MOTO_SERVER").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        if p.is_file() {
            return p;
        }
        panic!(
            "MAINT_MOTO_SERVER is set to {}, which does not exist; \
             run ./scripts/test (it creates .venv with moto[server])",
            p.display()
        );
    }
    let p = workspace_root().join(".venv/bin/moto_server");
    if p.is_file() {
        return p;
    }
    panic!(
        "moto_server not found: MAINT_MOTO_SERVER is unset and {} does not exist. \
         These tests need moto's server; run ./scripts/test (it installs moto into \
         .venv and exports MAINT_MOTO_SERVER), or `source scripts/lib/venv.sh && \
         ensure_venv` before cargo test",
        p.display()
    )
}

/// The Python of the venv: `$MAINT_PYTHON`, else the `python` next to
/// `moto_server`, else the workspace's `.venv/bin/python`.
pub fn python_path() -> PathBuf {
    if let Some(p) = std::env::var_os("MAINT_PYTHON").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let beside = moto_server_path().with_file_name("python");
    if beside.is_file() {
        return beside;
    }
    workspace_root().join(".venv/bin/python")
}

/// A port that was free a moment ago on 127.0.0.1.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0 to find a free port");
    listener
        .local_addr()
        .expect("local address of the probe listener")
        .port()
}

/// Sends one HTTP/1.0 request and returns the status code, if any answer came.
fn http_status(addr: SocketAddr, method: &str, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .ok()?;
    let request = format!(
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut head = [0u8; 64];
    let mut got = 0;
    while got < 12 {
        match stream.read(&mut head[got..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
    }
    let text = std::str::from_utf8(&head[..got]).ok()?;
    // "HTTP/1.1 200 OK"
    text.split_whitespace().nth(1)?.parse().ok()
}

/// The last `n` lines of a file, for failure messages.
fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

impl MotoServer {
    fn start() -> Self {
        let moto = moto_server_path();
        let python = python_path();
        let wrapper = workspace_root().join("tests/moto/moto_wrapper.py");
        assert!(
            wrapper.is_file(),
            "the moto wrapper script {} is missing",
            wrapper.display()
        );
        let mut last_failure = String::new();
        for _ in 0..START_ATTEMPTS {
            match Self::try_start(&python, &wrapper, &moto) {
                Ok(server) => return server,
                Err(e) => last_failure = e,
            }
        }
        panic!("could not start moto ({}): {last_failure}", moto.display())
    }

    fn try_start(python: &Path, wrapper: &Path, moto: &Path) -> Result<Self, String> {
        let port = free_port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let log_path = std::env::temp_dir().join(format!(
            "maint-tests-moto-{}-{port}.log",
            std::process::id()
        ));
        let log = File::create(&log_path)
            .map_err(|e| format!("create moto log {}: {e}", log_path.display()))?;
        let log2 = log
            .try_clone()
            .map_err(|e| format!("clone moto log handle: {e}"))?;
        let mut child = Command::new(python)
            .arg(wrapper)
            .arg(moto)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MAINT_MOTO_LOG", &log_path)
            .stdin(Stdio::piped())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .map_err(|e| {
                format!(
                    "spawn {} {} {}: {e}; run ./scripts/test to set up .venv",
                    python.display(),
                    wrapper.display(),
                    moto.display()
                )
            })?;
        let stdin = child.stdin.take().ok_or("the wrapper has no stdin pipe")?;

        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!(
                    "moto exited early ({status}); log {}:\n{}",
                    log_path.display(),
                    tail(&log_path, 20)
                ));
            }
            if http_status(addr, "GET", "/moto-api/").is_some_and(|s| s < 500) {
                break;
            }
            if started.elapsed() > STARTUP_DEADLINE {
                drop(stdin); // EOF: the wrapper stops moto
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "moto did not answer HTTP on {addr} within {STARTUP_DEADLINE:?}; log {}:\n{}",
                    log_path.display(),
                    tail(&log_path, 20)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(Self {
            endpoint: format!("http://{addr}"),
            addr,
            log_path,
            _child: Mutex::new(child),
            _keepalive: Mutex::new(stdin),
            subnets: Mutex::new(BTreeMap::new()),
        })
    }

    /// The server's URL, `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        self.endpoint.clone()
    }

    /// Where moto's output goes while it runs (for debugging a failed test;
    /// the wrapper removes it after a normal shutdown).
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// An SDK configuration for this server: region us-east-1, static dummy
    /// credentials, the server as endpoint, and an operation timeout so a
    /// hung server fails a test instead of hanging it.
    pub fn sdk_config(&self) -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "testing", "testing", None, None, "moto",
            )))
            .endpoint_url(self.endpoint())
            .timeout_config(
                aws_config::timeout::TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .operation_timeout(Duration::from_secs(60))
                    .build(),
            )
            .build()
    }

    /// One AWS WAF call as raw JSON on the wire (`X-Amz-Target:
    /// AWSWAF_20190729.<op>`), bypassing the SDK: what AWS's API returns,
    /// for checks that must not go through maint's own conversions.
    pub fn raw_waf_call(&self, op: &str, body: &serde_json::Value) -> serde_json::Value {
        let payload = body.to_string();
        let mut stream = TcpStream::connect_timeout(&self.addr, Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("connect to moto: {e}"));
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("read timeout");
        let request = format!(
            "POST / HTTP/1.0\r\nHost: {}\r\nX-Amz-Target: AWSWAF_20190729.{op}\r\n\
             Content-Type: application/x-amz-json-1.1\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential=testing/20260101/{REGION}/wafv2/aws4_request, SignedHeaders=host, Signature=0\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{payload}",
            self.addr,
            payload.len()
        );
        stream.write_all(request.as_bytes()).expect("send to moto");
        let mut response = Vec::new();
        stream.read_to_end(&mut response).expect("read from moto");
        let text = String::from_utf8_lossy(&response);
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        assert!(head.contains(" 200 "), "{op}: {head}\n{body}");
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{op}: {e}: {body}"))
    }

    /// Clears all of moto's state (`POST /moto-api/reset`). Every test of
    /// the binary shares the server, so only call it where no other test can
    /// be running (e.g. a binary with a single test).
    pub fn reset(&self) {
        let status = http_status(self.addr, "POST", "/moto-api/reset");
        assert_eq!(status, Some(200), "POST /moto-api/reset");
        self.subnets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Two subnet ids in different availability zones of [`REGION`] (an
    /// ELBv2 load balancer needs two); see [`MotoServer::subnets_in`].
    pub fn subnets(&self) -> [String; 2] {
        self.subnets_in(REGION)
    }

    /// Two subnet ids in different availability zones of `region`, looked
    /// up once per region by `tests/moto/seed.py --subnets` (the project's
    /// one moto seeding helper; it makes a VPC with two subnets when the
    /// region has no default VPC). Done with boto3 because the harness does
    /// not link the EC2 SDK: it is slow to compile.
    pub fn subnets_in(&self, region: &str) -> [String; 2] {
        let mut cached = self.subnets.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = cached.get(region) {
            return s.clone();
        }
        let s = self.lookup_subnets(region);
        cached.insert(region.to_string(), s.clone());
        s
    }

    fn lookup_subnets(&self, region: &str) -> [String; 2] {
        let python = python_path();
        let seed = workspace_root().join("tests/moto/seed.py");
        let out = Command::new(&python)
            .arg(&seed)
            .args(["--region", region, "--subnets", &self.endpoint])
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "run {} {}: {e}; run ./scripts/test to set up .venv",
                    python.display(),
                    seed.display()
                )
            });
        assert!(
            out.status.success(),
            "subnet look-up by {} failed ({}):\n{}",
            seed.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(str::to_string)
            .collect();
        match <[String; 2]>::try_from(ids) {
            Ok(pair) => pair,
            Err(ids) => panic!("need two subnets in different AZs of {region}, got {ids:?}"),
        }
    }
}
