//! [`FleetBuilder`]: the front door for making a [`Fleet`].

use std::sync::Arc;

use super::engine::Fleet;
use crate::backend::{BackendFactory, MaintenanceBackend};
use crate::config::Config;
use crate::{Error, Result};

/// Builds a [`Fleet`]: where its backends come from (AWS options, or a
/// backend of the caller's), its config, its explicit region and how many
/// windows it acts on at once. Every setting is optional; with none, and
/// the `aws` feature, the fleet works through AWS WAF with the AWS
/// configuration chain's region and credentials.
#[derive(Default)]
#[must_use]
pub struct FleetBuilder {
    config: Option<Config>,
    region: Option<String>,
    backend: Option<BackendFactory>,
    #[cfg(feature = "aws")]
    aws: Option<crate::backend::AwsOptions>,
    #[cfg(feature = "aws")]
    waf_settings: Option<crate::backend::WafSettings>,
    concurrency: Option<usize>,
}

impl std::fmt::Debug for FleetBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("FleetBuilder");
        d.field("config", &self.config.as_ref().map(|c| &c.path))
            .field("region", &self.region)
            .field("backend", &self.backend.as_ref().map(|_| "given"));
        #[cfg(feature = "aws")]
        d.field("aws", &self.aws)
            .field("waf_settings", &self.waf_settings);
        d.field("concurrency", &self.concurrency).finish()
    }
}

impl FleetBuilder {
    /// The config file's services and allowlists (read with
    /// `Config::load` or `Config::discover`, feature `config`, or built in
    /// code).
    pub fn config(self, config: Config) -> Self {
        self.set_config(Some(config))
    }

    /// The config, when there may be none (`None`: load balancers are
    /// named directly).
    pub fn set_config(mut self, config: Option<Config>) -> Self {
        self.config = config;
        self
    }

    /// The explicit region, which wins over the config file's default (a
    /// service's own region and an ARN's region win over both); also the
    /// AWS options' region when they name none.
    pub fn region(self, region: impl Into<String>) -> Self {
        self.set_region(Some(region.into()))
    }

    /// The explicit region, when there may be none (`None`: the config
    /// file's, else the AWS options', else the AWS configuration chain's).
    pub fn set_region(mut self, region: Option<String>) -> Self {
        self.region = region;
        self
    }

    /// AWS settings for the WAF backend (profile, endpoint, region); the
    /// default is the AWS configuration chain's.
    #[cfg(feature = "aws")]
    pub fn aws(mut self, options: crate::backend::AwsOptions) -> Self {
        self.aws = Some(options);
        self
    }

    /// The WAF backend's pace and retry bounds; the default is
    /// [`WafSettings::for_config`](crate::backend::WafSettings::for_config)
    /// of the fleet's config.
    #[cfg(feature = "aws")]
    pub fn waf_settings(mut self, settings: crate::backend::WafSettings) -> Self {
        self.waf_settings = Some(settings);
        self
    }

    /// One backend for every region, instead of AWS WAF: the in-memory
    /// backend (feature `testing`), a test double, a backend of your own.
    pub fn backend(self, backend: Arc<dyn MaintenanceBackend>) -> Self {
        self.backend_factory(crate::backend::shared_factory(backend))
    }

    /// A backend per region, made on first use by `factory`, instead of
    /// AWS WAF.
    pub fn backend_factory(mut self, factory: BackendFactory) -> Self {
        self.backend = Some(factory);
        self
    }

    /// How many windows are acted on at once (at least 1; default
    /// [`DEFAULT_CONCURRENCY`](super::DEFAULT_CONCURRENCY)).
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = Some(concurrency);
        self
    }

    /// The fleet. Fails when there is no backend to use (none given and
    /// no `aws` feature), when a backend is given together with AWS
    /// settings (which would be ignored), or when the WAF settings cannot
    /// be worked out (a bad `MAINT_WAF_QUOTA_PERCENT`).
    pub fn build(mut self) -> Result<Fleet> {
        #[cfg(feature = "aws")]
        if self.backend.is_some() && (self.aws.is_some() || self.waf_settings.is_some()) {
            return Err(Error::invalid(
                "Fleet::builder()",
                "a backend was given together with AWS options or WAF settings, which only the \
                 AWS WAF backend uses: give one or the other",
            ));
        }
        let concurrency = self.concurrency;
        let fleet = match self.backend.take() {
            Some(factory) => Fleet::new(self.config, self.region, factory),
            None => self.aws_fleet()?,
        };
        Ok(match concurrency {
            Some(n) => fleet.with_concurrency(n),
            None => fleet,
        })
    }

    /// A fleet on the WAF backend, whose explicit region is the builder's,
    /// else the AWS options'.
    #[cfg(feature = "aws")]
    fn aws_fleet(self) -> Result<Fleet> {
        let mut options = self.aws.unwrap_or_default();
        let region = self.region.or_else(|| options.region.clone());
        options.region = options.region.or_else(|| region.clone());
        options.check()?;
        let settings = match self.waf_settings {
            Some(s) => s,
            None => crate::backend::WafSettings::for_config(self.config.as_ref())?,
        };
        let factory = crate::backend::waf_factory(options.clone(), settings);
        let mut fleet = Fleet::new(self.config, region, factory);
        fleet.aws = Some(options);
        Ok(fleet)
    }

    /// Without the `aws` feature there is no backend but the caller's.
    #[cfg(not(feature = "aws"))]
    fn aws_fleet(self) -> Result<Fleet> {
        Err(Error::invalid(
            "Fleet::builder()",
            "no backend: give one with .backend(..), or build maint-core with the `aws` \
             feature to use AWS WAF",
        ))
    }
}
