//! `--wait`: after AWS accepted a change, probe the service's public URL
//! until what the public sees matches it. AWS WAF changes take "a few
//! seconds to a number of minutes" to reach traffic, and the operator is
//! usually on the allowlist (so they see the site, not the page).
//!
//! maint's maintenance responses carry the header
//! [`MARKER_HEADER`] naming the window and
//! the revision of its rules, so the probe tells maint's page from the
//! application's own 503, and sees when a change (an allowlist disabled, a
//! page replaced) has reached traffic. The probe sends
//! [`PROBE_HEADER`] with the window's name:
//! maint's rule answers it as it answers the public, whatever the address
//! it comes from or the bypass it holds.

use std::time::{Duration, Instant};

use crate::access::PROBE_HEADER;
use crate::response::MARKER_HEADER;
use crate::{Error, Result};

/// How long `--wait` waits by default.
pub const DEFAULT_TIMEOUT: Duration = crate::fleet::WaitPlan::DEFAULT_TIMEOUT;
/// Time between two probes.
pub(crate) const INTERVAL: Duration = Duration::from_secs(2);

/// What the public must see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// maint's maintenance response of the window, at `revision` when
    /// given (the revision `status` reports after the change).
    Maintenance {
        /// The revision the response must carry.
        revision: Option<String>,
    },
    /// No maintenance response of the window any more.
    Gone,
}

/// One URL to probe for one window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// The service's public URL.
    pub url: String,
    /// The window (its web ACL's name), as the marker header names it.
    pub window: String,
    /// What the public must see.
    pub expect: Expect,
    /// Whether the window is a CloudFront distribution's: a change takes
    /// minutes to reach every edge location, and messages say so.
    pub cloudfront: bool,
}

/// What one probe saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The HTTP status, or `None` when the request failed.
    pub status: Option<u16>,
    /// The marker header's window and revision, when maint's page.
    pub marker: Option<(String, Option<String>)>,
    /// Why the request failed, when it did.
    pub error: Option<String>,
}

impl Seen {
    /// Whether this is what `probe` waits for.
    pub fn matches(&self, probe: &Probe) -> bool {
        let ours = self.marker.as_ref().filter(|(w, _)| *w == probe.window);
        match &probe.expect {
            Expect::Maintenance { revision: None } => ours.is_some(),
            Expect::Maintenance {
                revision: Some(want),
            } => ours.is_some_and(|(_, rev)| rev.as_deref() == Some(want)),
            // A failed request proves nothing: keep probing.
            Expect::Gone => self.status.is_some() && ours.is_none(),
        }
    }

    /// What was seen, in words.
    pub fn describe(&self) -> String {
        match (&self.status, &self.marker, &self.error) {
            (_, _, Some(e)) => format!("no answer: {e}"),
            (Some(s), Some((w, Some(rev))), _) => {
                format!("HTTP {s}, maint's maintenance page of {w} (revision {rev})")
            }
            (Some(s), Some((w, None)), _) => format!("HTTP {s}, maint's maintenance page of {w}"),
            (Some(s), None, _) => format!("HTTP {s}, not maint's maintenance page"),
            (None, _, None) => "nothing".to_string(),
        }
    }
}

/// Parses the marker header: `<window>; rev=<revision>` (or the window
/// alone).
pub fn parse_marker(value: &str) -> (String, Option<String>) {
    match value.split_once(';') {
        Some((window, rest)) => (
            window.trim().to_string(),
            rest.trim()
                .strip_prefix("rev=")
                .map(|r| r.trim().to_string()),
        ),
        None => (value.trim().to_string(), None),
    }
}

/// How a wait ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Waited {
    /// The URL probed.
    pub url: String,
    /// How long until the public saw the change.
    pub elapsed: Duration,
    /// How many probes it took.
    pub probes: u32,
    /// The last probe's answer.
    pub last: Seen,
}

/// Probes public URLs over HTTPS (rustls) or HTTP.
#[derive(Debug, Clone)]
pub(crate) struct Prober {
    client: reqwest::Client,
    interval: Duration,
}

impl Prober {
    /// A prober that waits `interval` between probes.
    pub fn new(interval: Duration) -> Result<Self> {
        let client = reqwest::Client::builder()
            // A redirect is an answer of its own (not maint's page).
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .user_agent(concat!(
                "maint/",
                env!("CARGO_PKG_VERSION"),
                " (--wait probe)"
            ))
            .build()
            .map_err(|e| Error::Unexpected {
                message: "cannot set up the HTTP client for --wait".into(),
                source: Some(std::sync::Arc::new(e)),
            })?;
        Ok(Self { client, interval })
    }

    /// One probe of `probe.url`.
    pub async fn probe(&self, probe: &Probe) -> Seen {
        let answer = self
            .client
            .get(&probe.url)
            .header(PROBE_HEADER, &probe.window)
            .header("cache-control", "no-cache")
            .send()
            .await;
        match answer {
            Ok(response) => Seen {
                status: Some(response.status().as_u16()),
                marker: response
                    .headers()
                    .get(MARKER_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .map(parse_marker),
                error: None,
            },
            Err(e) => Seen {
                status: None,
                marker: None,
                error: Some(crate::error::transport_failure(
                    &crate::error::redact_url(&probe.url),
                    &e.without_url(),
                )),
            },
        }
    }

    /// Probes until the public sees what `probe` expects, or `timeout`
    /// passes: then [`Error::Timeout`] saying what was seen last.
    /// `progress` is told what each probe saw.
    pub async fn wait(
        &self,
        probe: &Probe,
        timeout: Duration,
        progress: &(dyn Fn(&Probe, &Seen, Duration) + Sync),
    ) -> Result<Waited> {
        let started = Instant::now();
        let mut probes = 0;
        loop {
            let seen = self.probe(probe).await;
            probes += 1;
            let elapsed = started.elapsed();
            progress(probe, &seen, elapsed);
            if seen.matches(probe) {
                return Ok(Waited {
                    url: probe.url.clone(),
                    elapsed,
                    probes,
                    last: seen,
                });
            }
            if elapsed + self.interval > timeout {
                let what = match &probe.expect {
                    Expect::Maintenance { .. } => "serve maint's maintenance page",
                    Expect::Gone => "stop serving maint's maintenance page",
                };
                let edge = if probe.cloudfront {
                    " (a CloudFront distribution: a change takes minutes, often 5 to 20, to \
                     reach every edge location; see `maint status` for Deployed or InProgress)"
                } else {
                    ""
                };
                return Err(Error::Timeout {
                    what: format!(
                        "waiting for {} to {what} of {}; the last probe saw {}{edge}",
                        probe.url,
                        probe.window,
                        seen.describe()
                    ),
                    waited: elapsed,
                    last_error: None,
                });
            }
            tokio::time::sleep(self.interval).await;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn seen(status: u16, marker: Option<&str>) -> Seen {
        Seen {
            status: Some(status),
            marker: marker.map(parse_marker),
            error: None,
        }
    }

    #[test]
    fn the_marker_names_the_window_and_its_revision() {
        assert_eq!(
            parse_marker("maint-svc-shop; rev=1a2b3c4d"),
            ("maint-svc-shop".into(), Some("1a2b3c4d".into()))
        );
        assert_eq!(
            parse_marker("maint-svc-shop"),
            ("maint-svc-shop".into(), None)
        );
        let probe = |expect| Probe {
            url: "https://shop.example.com/".into(),
            window: "maint-svc-shop".into(),
            expect,
            cloudfront: false,
        };
        let on = probe(Expect::Maintenance { revision: None });
        assert!(seen(503, Some("maint-svc-shop; rev=1")).matches(&on));
        assert!(!seen(503, None).matches(&on), "the application's own 503");
        assert!(!seen(503, Some("maint-svc-other; rev=1")).matches(&on));
        let at = probe(Expect::Maintenance {
            revision: Some("2".into()),
        });
        assert!(
            !seen(503, Some("maint-svc-shop; rev=1")).matches(&at),
            "not yet"
        );
        assert!(seen(503, Some("maint-svc-shop; rev=2")).matches(&at));
        let gone = probe(Expect::Gone);
        assert!(seen(200, None).matches(&gone));
        assert!(!seen(503, Some("maint-svc-shop; rev=2")).matches(&gone));
        let failed = Seen {
            status: None,
            marker: None,
            error: Some("connection refused".into()),
        };
        assert!(!failed.matches(&gone), "no answer proves nothing");
        assert_eq!(failed.describe(), "no answer: connection refused");
    }
}
