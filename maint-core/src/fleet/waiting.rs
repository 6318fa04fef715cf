//! `--wait`: the URL each target is probed at, checked before any change,
//! and probing until the public sees a change.

use super::engine::Fleet;
#[cfg(feature = "http")]
use super::events::Silent;
#[cfg(feature = "http")]
use crate::backend::Window;
use crate::error::Argument;
#[cfg(feature = "http")]
use crate::report::ChangeRun;
#[cfg(feature = "http")]
use crate::target::ResourceArn;
use crate::{Error, Result};

impl Fleet {
    /// The public URL `--wait` probes for each target: `url` when given,
    /// else the target's service's `url` from the config. Checked before
    /// any change: a target with neither is bad input.
    pub fn wait_urls(&self, targets: &[String], url: Option<&str>) -> Result<Vec<String>> {
        if let Some(url) = url {
            crate::config::check_url(url)
                .map_err(|reason| Error::invalid(Argument::WaitUrl.name(), reason))?;
        }
        let refs = self.expand(targets)?;
        let mut urls = Vec::with_capacity(refs.len());
        for r in &refs {
            let service_url = r
                .service
                .as_deref()
                .and_then(|s| self.config.as_ref()?.service(s)?.probe_url());
            match url.map(str::to_string).or(service_url) {
                Some(u) => urls.push(u),
                None => {
                    return Err(Error::invalid(
                        format!("{} for target {}", Argument::Wait, r.label()),
                        format!(
                            "there is no URL to probe: give {}, or `url` in the config for its \
                             service",
                            Argument::WaitUrl
                        ),
                    ))
                }
            }
        }
        Ok(urls)
    }

    /// After a changing command (`run`, whose targets got `urls` from
    /// [`wait_urls`](Self::wait_urls)), probes each window's URL until the
    /// public sees the change: maint's maintenance response at the
    /// window's new revision (`gone` false: after `enter` or an allowlist
    /// enable or disable), or none any more (`gone`: after `exit`). Probes
    /// as the public (see [`crate::wait`]). A window whose change failed is
    /// not waited for; a dry run waits for nothing. The first window that
    /// does not get there within `timeout` is the error.
    #[cfg(feature = "http")]
    pub async fn wait_for(
        &self,
        run: &ChangeRun,
        urls: &[String],
        gone: bool,
        timeout: std::time::Duration,
        progress: &(dyn Fn(&crate::wait::Probe, &crate::wait::Seen, std::time::Duration) + Sync),
    ) -> Result<Vec<crate::report::WaitReport>> {
        let urls: Vec<Option<&str>> = urls.iter().map(|u| Some(u.as_str())).collect();
        self.wait_each(run, &urls, gone, Some(timeout), progress)
            .await
    }

    /// [`wait_for`](Self::wait_for), with a URL or none per result of
    /// `run` (none: that target is not waited for); `timeout` `None`: the
    /// default for each window's kind (see [`super::WaitPlan`]).
    #[cfg(feature = "http")]
    pub(super) async fn wait_each(
        &self,
        run: &ChangeRun,
        urls: &[Option<&str>],
        gone: bool,
        timeout: Option<std::time::Duration>,
        progress: &(dyn Fn(&crate::wait::Probe, &crate::wait::Seen, std::time::Duration) + Sync),
    ) -> Result<Vec<crate::report::WaitReport>> {
        use crate::wait::{Expect, Probe, Prober, INTERVAL};
        if run.dry_run {
            return Ok(Vec::new());
        }
        let mut probes: Vec<Probe> = Vec::new();
        let mut labels: Vec<String> = Vec::new();
        for (report, url) in run.results.iter().zip(urls) {
            let Some(url) = url.filter(|_| report.error.is_none()) else {
                continue;
            };
            let window = match (&report.service, &report.load_balancer_arn) {
                (Some(service), _) => Window::of_service(service),
                (None, Some(arn)) => Window::of_load_balancer(&ResourceArn::parse(arn)?),
                (None, None) => continue,
            };
            let cloudfront = report.resource_kind.is_some_and(|k| k.is_global());
            // A service with a distribution and regional resources is two
            // windows of one name: one probe of its URL, the slower kind's.
            if let Some(p) = probes
                .iter_mut()
                .find(|p| p.url == url && p.window == window.name())
            {
                p.cloudfront |= cloudfront;
                continue;
            }
            probes.push(Probe {
                url: url.to_string(),
                window: window.name().to_string(),
                expect: Expect::Gone,
                cloudfront,
            });
            // Read back by ARN: a service's `service/lb` label is not a target.
            labels.push(
                report
                    .load_balancer_arn
                    .clone()
                    .unwrap_or_else(|| report.target.clone()),
            );
        }
        if !gone && !probes.is_empty() {
            let read = self.status(&labels, &Silent).await?;
            for (probe, status) in probes.iter_mut().zip(&read.targets) {
                probe.expect = Expect::Maintenance {
                    revision: status.revision.clone(),
                };
            }
        }
        let prober = Prober::new(INTERVAL)?;
        let default = |probe: &Probe| match probe.cloudfront {
            true => super::WaitPlan::CLOUDFRONT_TIMEOUT,
            false => super::WaitPlan::DEFAULT_TIMEOUT,
        };
        let waits = probes.iter().map(|probe| {
            let timeout = timeout.unwrap_or_else(|| default(probe));
            prober.wait(probe, timeout, progress)
        });
        let mut reports = Vec::new();
        for (probe, result) in probes.iter().zip(futures::future::join_all(waits).await) {
            let waited = result?;
            reports.push(crate::report::WaitReport {
                url: waited.url,
                window: probe.window.clone(),
                seconds: waited.elapsed.as_secs_f64(),
                probes: waited.probes,
                seen: waited.last.describe(),
            });
        }
        Ok(reports)
    }
}
