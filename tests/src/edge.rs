//! A stand-in for an ALB's edge: a local HTTP server that answers each
//! request as the web ACL associated with one load balancer in moto would
//! have it answered, after a propagation delay (AWS WAF changes take "a few
//! seconds to a number of minutes" to reach traffic).
//!
//! It reads the web ACL and its IP sets from moto on the wire (raw JSON, no
//! SDK, none of maint's conversions) every 100 ms, keeps what it read with
//! the time, and answers from the newest state at least `delay` old, with
//! the project's own evaluator (`maint_core::backend::waf::evaluate`) on maint's
//! rules: their response (status, headers, body), or, when they let the
//! request through, the application's page (200). Every request is treated
//! as coming from `client_ip` (the address the load balancer would see).

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use maint_core::backend::waf::evaluate::{self, LiveAcl};
use maint_core::check::CheckRequest;
use maint_core::{Cidr, ResourceArn};
use serde_json::json;

use crate::moto::server;

/// The page of the application behind the load balancer.
pub const APP_PAGE: &str = "<h1>Shop is open</h1>";

/// The web ACL associated with `lb` and the IP sets its rules reference,
/// as moto returns them on the wire; `None` when none is associated.
pub fn live_from_the_wire(lb: &ResourceArn) -> Option<LiveAcl> {
    let moto = server();
    let found = moto.raw_waf_call(
        "GetWebACLForResource",
        &json!({ "ResourceArn": lb.as_str() }),
    );
    let acl = found.get("WebACL")?;
    let mut live = LiveAcl {
        name: acl["Name"].as_str()?.to_string(),
        rules: acl["Rules"].as_array().cloned().unwrap_or_default(),
        ..LiveAcl::default()
    };
    for (key, body) in acl["CustomResponseBodies"]
        .as_object()
        .into_iter()
        .flatten()
    {
        live.bodies.insert(
            key.clone(),
            (
                body["ContentType"].as_str()?.to_string(),
                body["Content"].as_str()?.to_string(),
            ),
        );
    }
    let text = serde_json::to_string(&live.rules).ok()?;
    for arn in text
        .split('"')
        .filter(|s| s.contains(":regional/ipset/"))
        .map(str::to_string)
        .collect::<std::collections::BTreeSet<_>>()
    {
        let mut parts = arn.rsplitn(3, '/');
        let (id, name) = (parts.next()?, parts.next()?);
        let set = moto.raw_waf_call(
            "GetIPSet",
            &json!({ "Name": name, "Id": id, "Scope": "REGIONAL" }),
        );
        let nets = set["IPSet"]["Addresses"]
            .as_array()?
            .iter()
            .filter_map(|a| Cidr::parse(a.as_str()?).ok())
            .map(|c| c.net())
            .collect();
        live.ip_sets.insert(arn, nets);
    }
    Some(live)
}

/// What the edge knows at one moment.
type Snapshot = (Instant, Option<LiveAcl>);

/// The running stand-in. Stops when dropped.
pub struct Edge {
    /// `http://127.0.0.1:<port>/`.
    pub url: String,
    client_ip: Arc<Mutex<String>>,
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<(String, u16)>>>,
}

impl Edge {
    /// Starts an edge for `lb` that serves changes `delay` after moto has
    /// them, to requests from `client_ip`.
    pub fn start(lb: &ResourceArn, delay: Duration, client_ip: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the edge");
        let url = format!("http://{}/", listener.local_addr().expect("edge address"));
        let stop = Arc::new(AtomicBool::new(false));
        let history: Arc<Mutex<VecDeque<Snapshot>>> = Arc::new(Mutex::new(VecDeque::new()));
        history
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push_back((Instant::now(), live_from_the_wire(lb)));
        {
            let (lb, history, stop) = (lb.clone(), history.clone(), stop.clone());
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let now = live_from_the_wire(&lb);
                    let mut h = history
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    h.push_back((Instant::now(), now));
                    // Keep what is still needed: the newest at least
                    // `delay` old, and everything after it.
                    while h.len() > 2 && h[1].0.elapsed() >= delay {
                        h.pop_front();
                    }
                    drop(h);
                    thread::sleep(Duration::from_millis(100));
                }
            });
        }
        let client_ip = Arc::new(Mutex::new(client_ip.to_string()));
        let seen = Arc::new(Mutex::new(Vec::new()));
        {
            let (client_ip, seen, stop) = (client_ip.clone(), seen.clone(), stop.clone());
            listener
                .set_nonblocking(true)
                .expect("non-blocking listener");
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let (history, client_ip, seen) =
                                (history.clone(), client_ip.clone(), seen.clone());
                            thread::spawn(move || {
                                let ip = client_ip
                                    .lock()
                                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                                    .clone();
                                answer(stream, &history, delay, &ip, &seen);
                            });
                        }
                        Err(_) => thread::sleep(Duration::from_millis(20)),
                    }
                }
            });
        }
        Self {
            url,
            client_ip,
            stop,
            seen,
        }
    }

    /// The address requests come from from now on.
    pub fn set_client_ip(&self, ip: &str) {
        *self
            .client_ip
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = ip.to_string();
    }

    /// Every request so far: its `x-maint-probe` header (or "") and the
    /// status it got.
    pub fn seen(&self) -> Vec<(String, u16)> {
        self.seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl Drop for Edge {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The state the public sees now: the newest at least `delay` old.
fn visible(history: &Mutex<VecDeque<Snapshot>>, delay: Duration) -> Option<LiveAcl> {
    let h = history
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    h.iter()
        .rev()
        .find(|(at, _)| at.elapsed() >= delay)
        .or_else(|| h.front())
        .and_then(|(_, acl)| acl.clone())
}

fn answer(
    stream: TcpStream,
    history: &Mutex<VecDeque<Snapshot>>,
    delay: Duration,
    client_ip: &str,
    seen: &Mutex<Vec<(String, u16)>>,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(&stream);
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        match reader.read_line(&mut h) {
            Ok(0) | Err(_) => break,
            Ok(_) if h.trim().is_empty() => break,
            Ok(_) => headers.push(h.trim().to_string()),
        }
    }
    let probe = headers
        .iter()
        .find_map(|h| {
            let (n, v) = h.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case("x-maint-probe")
                .then(|| v.trim().to_string())
        })
        .unwrap_or_default();
    let (status, extra, content_type, body) = match (
        visible(history, delay),
        CheckRequest::new(client_ip, &headers, Some(&path)),
    ) {
        (Some(acl), Ok(request)) => {
            match evaluate::evaluate(&acl, &request, |n| n.starts_with("maint-")) {
                Ok(eval) => match eval.response {
                    Some(r) => (
                        r.status,
                        r.headers,
                        r.content_type.unwrap_or_else(|| "text/plain".into()),
                        r.body.unwrap_or_default(),
                    ),
                    None => (200, Vec::new(), "text/html".into(), APP_PAGE.to_string()),
                },
                Err(e) => (500, Vec::new(), "text/plain".into(), e.to_string()),
            }
        }
        (None, _) => (200, Vec::new(), "text/html".into(), APP_PAGE.to_string()),
        (_, Err(e)) => (400, Vec::new(), "text/plain".into(), e.to_string()),
    };
    seen.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push((probe, status));
    let mut out = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in extra {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(&body);
    let mut stream = stream;
    let _ = stream.write_all(out.as_bytes());
}
