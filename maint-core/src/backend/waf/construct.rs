//! [`WafBackend`] itself: the type, and how it is made (from an AWS
//! configuration, for CloudFront distributions beside a Region's backend,
//! or over clients the caller built). What it does is in `backend.rs`.
use aws_sdk_elasticloadbalancingv2 as elbv2;
use aws_sdk_wafv2 as wafv2;

use super::client::WafClient;
use super::settings::WafSettings;
use super::store::WafStore;
use crate::error::Argument;
use crate::{Error, Result};

/// The Region of every web ACL of scope CLOUDFRONT (AWS WAF's rule).
const CLOUDFRONT_REGION: &str = "us-east-1";

/// Maintenance mode through AWS WAF web ACLs on Application Load Balancers
/// of one region: the [`MaintenanceBackend`](crate::backend::MaintenanceBackend) on top of the store of web
/// ACLs, IP sets and associations, which makes its AWS calls through the
/// paced client.
#[derive(Debug)]
pub struct WafBackend {
    pub(super) store: WafStore,
    /// The configuration the clients were built from (`None`: clients
    /// given by the caller), for the CloudFront backend beside this one.
    pub(super) config: Option<aws_config::SdkConfig>,
    /// The backend for CloudFront distributions, made on first use.
    pub(super) cloudfront: tokio::sync::OnceCell<std::sync::Arc<WafBackend>>,
}

impl WafBackend {
    /// A backend for the region of `config` (the standard AWS configuration:
    /// credential chain, `AWS_PROFILE`, `AWS_REGION`, `AWS_ENDPOINT_URL`).
    /// Fails when no region is configured.
    pub fn new(config: &aws_config::SdkConfig) -> Result<Self> {
        Self::with_settings(config, WafSettings::default())
    }

    /// [`WafBackend::new`] with `settings`.
    pub fn with_settings(config: &aws_config::SdkConfig, settings: WafSettings) -> Result<Self> {
        let region = config.region().map(ToString::to_string).ok_or_else(|| {
            Error::invalid(
                "AWS region",
                format!(
                    "none configured; pass {} or set AWS_REGION (or a region in your AWS profile)",
                    Argument::Region
                ),
            )
        })?;
        crate::target::check_region(&region)?;
        Ok(Self::over(config, region, settings))
    }

    /// A backend over clients built from `config`, naming their endpoints
    /// in messages.
    fn over(config: &aws_config::SdkConfig, region: String, settings: WafSettings) -> Self {
        let client = WafClient::new(
            wafv2::Client::new(config),
            elbv2::Client::new(config),
            region,
            settings,
        )
        .naming_endpoints(config);
        Self {
            store: WafStore::new(client),
            config: Some(config.clone()),
            cloudfront: tokio::sync::OnceCell::new(),
        }
    }

    /// The backend for CloudFront distributions: web ACLs of scope
    /// CLOUDFRONT, which AWS keeps in us-east-1 whatever the Region of
    /// `config`, and distributions through CloudFront.
    pub fn for_cloudfront(config: &aws_config::SdkConfig, settings: WafSettings) -> Self {
        let config = config
            .to_builder()
            .region(aws_config::Region::new(CLOUDFRONT_REGION))
            .build();
        let client = WafClient::new(
            wafv2::Client::new(&config),
            elbv2::Client::new(&config),
            CLOUDFRONT_REGION.to_string(),
            settings,
        )
        .for_cloudfront(aws_sdk_cloudfront::Client::new(&config))
        .naming_endpoints(&config);
        Self {
            store: WafStore::new(client),
            config: None,
            cloudfront: tokio::sync::OnceCell::new(),
        }
    }

    /// A backend over clients configured by the caller (interceptors, test
    /// endpoints, mocks), acting in `region`.
    pub fn from_clients(
        waf: wafv2::Client,
        elb: elbv2::Client,
        region: impl Into<String>,
        settings: WafSettings,
    ) -> Self {
        Self {
            store: WafStore::new(WafClient::new(waf, elb, region.into(), settings)),
            config: None,
            cloudfront: tokio::sync::OnceCell::new(),
        }
    }

    /// This backend paced together with every other backend of `account`
    /// in its Region, and apart from other accounts' (AWS's call-rate quotas
    /// are per account and Region). `account` is a key: an account ID, or a
    /// name that stands for one. A backend made without it shares the pace
    /// of the credentials' own account.
    #[must_use]
    pub fn in_account(mut self, account: &str) -> Self {
        self.store.client = self.store.client.in_account(account);
        self
    }

    /// The region this backend acts in.
    pub fn region(&self) -> &str {
        self.store.region()
    }
}
