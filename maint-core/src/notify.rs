//! Telling the team: after a command changed something, a JSON summary is
//! POSTed to each webhook of the config's `[notify]` section. It has a
//! `text` field, which Slack-compatible incoming webhooks display, and the
//! details for anything else that reads it. A webhook that fails is a
//! warning for the caller, never a failed maintenance change.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::backend::Window;
use crate::error::{redact_url, transport_failure};
use crate::report::{ChangeRun, ErrorReport};
use crate::target::ResourceArn;
use crate::{Error, Result};

/// What a command was asked, for the summary.
#[derive(Debug, Clone, Default)]
pub struct Asked {
    /// Who ran it: the caller identity's ARN (`sts:GetCallerIdentity`),
    /// when it could be read.
    pub who: Option<String>,
    /// The reason given.
    pub reason: Option<String>,
    /// The planned end given.
    pub until: Option<DateTime<Utc>>,
}

/// One target in a summary.
#[derive(Debug, Clone, Serialize)]
pub struct NotifiedTarget {
    /// The target as named.
    pub target: String,
    /// Its account (the config account's name, else its ID), if known.
    pub account: Option<String>,
    /// Its load balancer.
    pub load_balancer_arn: Option<String>,
    /// Whether it changed.
    pub changed: bool,
    /// What changed, in words.
    pub changes: Vec<String>,
    /// Why it failed, if it did.
    pub error: Option<ErrorReport>,
}

/// The JSON POSTed to a webhook.
#[derive(Debug, Clone, Serialize)]
pub struct Notification {
    /// One line for people (Slack and compatible webhooks show it), with
    /// `&`, `<` and `>` escaped as Slack wants plain text; the fields below
    /// hold the values as given.
    pub text: String,
    /// The command: `enter`, `exit`, `allowlist`, `arm`, `disarm`.
    pub command: String,
    /// The windows acted on.
    pub windows: Vec<String>,
    /// The accounts touched (config account names, else IDs), in order.
    pub accounts: Vec<String>,
    /// Who ran it (a caller identity ARN), if known.
    pub who: Option<String>,
    /// The reason given, if any.
    pub reason: Option<String>,
    /// The planned end given, if any (RFC 3339).
    pub until: Option<String>,
    /// Targets acted on, changed, unchanged, failed.
    pub summary: crate::report::Summary,
    /// Each target.
    pub targets: Vec<NotifiedTarget>,
}

impl Notification {
    /// The summary of `run`, or `None` when it changed nothing (a dry run,
    /// or nothing to do): no news is not posted.
    pub fn of(run: &ChangeRun, asked: &Asked) -> Option<Self> {
        if run.dry_run || run.summary.changed + run.summary.failed == 0 {
            return None;
        }
        let mut windows: Vec<String> = Vec::new();
        for r in &run.results {
            let window = match (&r.service, &r.load_balancer_arn) {
                (Some(service), _) => Window::of_service(service),
                (None, Some(arn)) => match ResourceArn::parse(arn) {
                    Ok(lb) => Window::of_load_balancer(&lb),
                    Err(_) => continue,
                },
                (None, None) => continue,
            };
            if !windows.iter().any(|w| w == window.name()) {
                windows.push(window.name().to_string());
            }
        }
        let mut services: Vec<&str> = Vec::new();
        for r in &run.results {
            let name = r.service.as_deref().unwrap_or(&r.target);
            if !services.contains(&name) {
                services.push(name);
            }
        }
        let mut accounts: Vec<String> = Vec::new();
        for account in run.results.iter().filter_map(|r| r.account.as_ref()) {
            if !accounts.contains(account) {
                accounts.push(account.clone());
            }
        }
        let s = run.summary;
        let verb = match run.command.as_str() {
            "enter" => "put into maintenance",
            "exit" => "taken out of maintenance",
            "allowlist" => "allowlist changed",
            "arm" => "armed",
            "disarm" => "disarmed",
            other => other,
        };
        let mut text = format!(
            "maint: {} {verb} ({} load balancer{} changed",
            services.join(", "),
            s.changed,
            if s.changed == 1 { "" } else { "s" }
        );
        if s.failed > 0 {
            text.push_str(&format!(", {} FAILED", s.failed));
        }
        text.push(')');
        // Across accounts, or in an account of the config: say where.
        let named = accounts.iter().any(|a| !crate::account::is_account_id(a));
        if accounts.len() > 1 || named {
            text.push_str(&format!(
                " in account{} {}",
                if accounts.len() == 1 { "" } else { "s" },
                accounts.join(", ")
            ));
        }
        if let Some(who) = &asked.who {
            text.push_str(&format!(" by {who}"));
        }
        if let Some(reason) = &asked.reason {
            text.push_str(&format!("; reason: {reason}"));
        }
        let until = asked.until.as_ref().map(crate::report::rfc3339);
        if let Some(until) = &until {
            text.push_str(&format!("; until {until}"));
        }
        Some(Self {
            text: slack_escape(&text),
            command: run.command.as_str().to_string(),
            windows,
            accounts,
            who: asked.who.clone(),
            reason: asked.reason.clone(),
            until,
            summary: s,
            targets: run
                .results
                .iter()
                .map(|r| NotifiedTarget {
                    target: r.target.clone(),
                    account: r.account.clone(),
                    load_balancer_arn: r.load_balancer_arn.clone(),
                    changed: r.changed,
                    changes: r.changes.clone(),
                    error: r.error.clone(),
                })
                .collect(),
        })
    }
}

/// Posts notifications to webhooks.
#[derive(Debug, Clone)]
pub struct Notifier {
    webhooks: Vec<String>,
    client: reqwest::Client,
}

impl Notifier {
    /// A notifier for `webhooks` (the config's `[notify] webhooks`).
    pub fn new(webhooks: Vec<String>) -> Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .user_agent(concat!("maint/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Unexpected {
                message: "cannot set up the HTTP client for webhooks".into(),
                source: Some(std::sync::Arc::new(e)),
            })?;
        Ok(Self { webhooks, client })
    }

    /// Whether there is any webhook to post to.
    pub fn is_empty(&self) -> bool {
        self.webhooks.is_empty()
    }

    /// Posts `notification` to every webhook, at once; returns a warning
    /// per webhook that failed (never an error: the change is made).
    pub async fn send(&self, notification: &Notification) -> Vec<String> {
        let posts = self.webhooks.iter().map(|url| async move {
            let sent = self.client.post(url).json(notification).send().await;
            let shown = redact_url(url);
            match sent {
                Ok(r) if r.status().is_success() => None,
                Ok(r) => Some(format!(
                    "webhook {shown} answered HTTP {}: the team was not told",
                    r.status().as_u16()
                )),
                Err(e) => Some(format!(
                    "webhook failed: {}: the team was not told",
                    transport_failure(&shown, &e.without_url())
                )),
            }
        });
        futures::future::join_all(posts)
            .await
            .into_iter()
            .flatten()
            .collect()
    }
}

/// Tells `webhooks` about `run` (none: nothing to do), as `asked`, with
/// who ran it from `who` (called only when there is something to post);
/// returns a warning per webhook that failed (the change is made either
/// way).
pub async fn tell_as<W>(
    webhooks: &[String],
    run: &ChangeRun,
    mut asked: Asked,
    who: impl FnOnce() -> W,
) -> Vec<String>
where
    W: std::future::Future<Output = Option<String>>,
{
    if webhooks.is_empty() || Notification::of(run, &asked).is_none() {
        return Vec::new();
    }
    asked.who = who().await;
    let Some(notification) = Notification::of(run, &asked) else {
        return Vec::new();
    };
    match Notifier::new(webhooks.to_vec()) {
        Ok(notifier) => notifier.send(&notification).await,
        Err(e) => vec![e.to_string()],
    }
}

/// Tells `webhooks` about `run` as [`tell_as`] does, with who ran it read
/// from the AWS credentials of `options` (through STS: needs the `aws`
/// feature too). [`Fleet::run`](crate::Fleet::run) does this for a
/// change it ran.
#[cfg(feature = "aws")]
pub async fn tell(
    webhooks: &[String],
    run: &ChangeRun,
    asked: Asked,
    options: &crate::backend::AwsOptions,
) -> Vec<String> {
    tell_as(webhooks, run, asked, || {
        crate::backend::caller_identity(options)
    })
    .await
}

/// `text` as Slack's message formatting wants plain text: `&`, `<` and `>`
/// as `&amp;`, `&lt;` and `&gt;` ("Escaping text" in Slack's formatting
/// docs), so a reason such as `<!channel>` or `<https://x|y>` shows as
/// written instead of pinging the channel or making a link.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::maintenance::Mode;
    use crate::report::{ChangeReport, Operation, ResultKind};

    fn entered(service: &str) -> ChangeRun {
        let report = ChangeReport {
            target: format!("{service}/alb"),
            service: Some(service.to_string()),
            account: None,
            load_balancer_arn: None,
            resource_kind: None,
            result: ResultKind::Ok,
            changed: true,
            dry_run: false,
            changes: vec!["entered maintenance".into()],
            details: Vec::new(),
            error: None,
        };
        ChangeRun::new(Operation::Enter, Mode::Apply, vec![report])
    }

    #[test]
    fn the_text_line_escapes_slack_markup_and_the_reason_field_stays_raw() {
        let reason = "<!channel> see <https://evil.example|the docs> & <@U123>";
        let asked = Asked {
            reason: Some(reason.into()),
            ..Asked::default()
        };
        let note = Notification::of(&entered("shop"), &asked).unwrap();
        assert!(
            note.text.ends_with(
                "; reason: &lt;!channel&gt; see &lt;https://evil.example|the docs&gt; \
                 &amp; &lt;@U123&gt;"
            ),
            "{}",
            note.text
        );
        assert!(!note.text.contains('<') && !note.text.contains('>'));
        assert_eq!(note.reason.as_deref(), Some(reason));
    }

    #[test]
    fn the_text_names_the_accounts_of_a_run_across_accounts() {
        let mut run = entered("shop");
        let mut other = run.results[0].clone();
        other.target = "api/alb".into();
        other.account = Some("stage".into());
        run.results[0].account = Some("111122223333".into());
        run.results.push(other);
        let note = Notification::of(&run, &Asked::default()).unwrap();
        assert_eq!(note.accounts, ["111122223333", "stage"]);
        assert!(
            note.text.ends_with(") in accounts 111122223333, stage"),
            "{}",
            note.text
        );
        assert_eq!(note.targets[1].account.as_deref(), Some("stage"));
        // One account of the credentials' own: no place in the line.
        let mut one = entered("shop");
        one.results[0].account = Some("111122223333".into());
        let note = Notification::of(&one, &Asked::default()).unwrap();
        assert!(!note.text.contains("account"), "{}", note.text);
    }

    #[tokio::test]
    async fn a_failing_webhook_is_shown_as_scheme_and_host_only() {
        // A closed port on the loopback: connection refused.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url =
            format!("http://hook-user:PASSWORD@127.0.0.1:{port}/services/T000/B000/SECRETPATH");
        let notifier = Notifier::new(vec![url]).unwrap();
        let warnings = notifier
            .send(&Notification::of(&entered("shop"), &Asked::default()).unwrap())
            .await;
        assert_eq!(
            warnings,
            [format!(
                "webhook failed: connection refused by http://127.0.0.1:{port}: the team was not told"
            )]
        );
    }
}
