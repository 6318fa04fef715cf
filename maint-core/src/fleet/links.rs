//! Bypass links (`bypass link`): each target's secret as a link for
//! testers, built in one place for every front end.

use super::engine::Fleet;
use super::events::Observer;
use crate::access::BypassSecret;
use crate::error::Argument;
use crate::report::{BypassLink, BypassLinkRun, StatusReport};
use crate::{Error, Result};

impl Fleet {
    /// Each target's bypass link: `base_url` (else the target's service's
    /// `url` from the config, else nothing), without a trailing `/`, then
    /// `/maint-bypass/<secret>`. Reads every target's state (a target that
    /// cannot be read is reported with its error; one without a bypass
    /// has no link). `base_url` is checked before anything is read.
    pub async fn bypass_links(
        &self,
        targets: &[String],
        base_url: Option<&str>,
        observer: &dyn Observer,
    ) -> Result<BypassLinkRun> {
        if let Some(url) = base_url {
            crate::config::check_url(url)
                .map_err(|reason| Error::invalid(Argument::BaseUrl.name(), reason))?;
        }
        let status = self.status(targets, observer).await?;
        let links = status
            .targets
            .iter()
            .map(|report| self.bypass_link(report, base_url))
            .collect();
        Ok(BypassLinkRun { status, links })
    }

    /// One target's link, from its state.
    fn bypass_link(&self, report: &StatusReport, base_url: Option<&str>) -> BypassLink {
        let base_url = base_url
            .map(str::to_string)
            .or_else(|| {
                let service = self.config()?.service(report.service.as_deref()?)?;
                service.url.clone()
            })
            .map(|url| url.trim_end_matches('/').to_string());
        let link = report.bypass_secret.as_ref().map(|secret| {
            format!(
                "{}{}",
                base_url.as_deref().unwrap_or_default(),
                BypassSecret::link_path(secret)
            )
        });
        BypassLink { base_url, link }
    }
}
