//! The WAF backend's settings: its pace and the bounds on its own waits
//! and retries ([`WafSettings`]), the AWS settings that follow the AWS
//! CLI's conventions ([`AwsOptions`]), and the factory that makes one
//! backend per Region from them ([`waf_factory`]).

use std::sync::Arc;
use std::time::Duration;

use super::client::get_caller_identity;
use super::construct::WafBackend;
use super::pacing::CallRates;
use crate::backend::contract::{BackendFactory, BackendPlace, MaintenanceBackend};
use crate::{Error, Result};

/// The backend's pace and the bounds on its own waits and retries.
#[derive(Debug, Clone)]
pub struct WafSettings {
    /// AWS WAF's call-rate quotas that every call is paced to (`None`: no
    /// pacing, for emulators that have no quotas).
    pub rates: Option<CallRates>,
    /// How long a throttled call (`ThrottlingException`: another caller used
    /// the quota) is waited out before the target fails.
    pub throttle_deadline: Duration,
    /// How long `enter` keeps retrying `AssociateWebACL` while a new web ACL
    /// is not yet usable (`WAFUnavailableEntityException`).
    pub associate_deadline: Duration,
    /// How long `exit` and `cleanup` keep retrying a delete while WAF still
    /// sees the resource in use (`WAFAssociatedItemException`), and a
    /// disassociation AWS failed internally (each attempt after a fresh
    /// read of the association), and how long
    /// creates, updates and reads are retried while WAF does not see a
    /// resource just made (`WAFUnavailableEntityException`).
    pub delete_deadline: Duration,
    /// How many times an operation is re-read and re-applied after a lock
    /// conflict.
    pub max_attempts: u32,
    /// The first backoff delay; it doubles per attempt, with full jitter.
    pub base_delay: Duration,
    /// The longest single backoff delay.
    pub max_delay: Duration,
    /// `cleanup` leaves alone resources younger than this: they may belong
    /// to an `enter` still under way in another process.
    pub cleanup_grace: Duration,
}

impl Default for WafSettings {
    /// AWS's published call-rate quotas; throttling waited out for up to 10
    /// minutes; 10 minutes to associate (the Terraform AWS provider's create
    /// timeout for the same wait: issue reports show 5 was too short), 5
    /// minutes to delete; 8 attempts after lock conflicts; backoff from
    /// 0.5 s to 20 s; a 15 minute grace period for `cleanup`.
    fn default() -> Self {
        Self {
            rates: Some(CallRates::AWS),
            throttle_deadline: Duration::from_secs(600),
            associate_deadline: Duration::from_secs(600),
            delete_deadline: Duration::from_secs(300),
            max_attempts: 8,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(20),
            cleanup_grace: Duration::from_secs(15 * 60),
        }
    }
}

impl WafSettings {
    /// The environment variable that overrides the config's
    /// `waf_quota_percent`; `0` turns pacing off (for an emulator with no
    /// quotas, like moto).
    pub const QUOTA_PERCENT_VAR: &'static str = "MAINT_WAF_QUOTA_PERCENT";

    /// The default settings, paced to `percent` of AWS WAF's call-rate
    /// quotas: [`WafSettings::QUOTA_PERCENT_VAR`] when set, else the config
    /// file's `waf_quota_percent`, else 100.
    pub fn for_config(config: Option<&crate::config::Config>) -> Result<Self> {
        let from_env = match std::env::var(Self::QUOTA_PERCENT_VAR) {
            Ok(v) if !v.trim().is_empty() => match v.trim().parse::<u8>() {
                Ok(p) if p <= 100 => Some(p),
                _ => {
                    return Err(Error::invalid(
                        format!("{}={v:?}", Self::QUOTA_PERCENT_VAR),
                        "expected a percentage from 0 (no pacing) to 100",
                    ))
                }
            },
            _ => None,
        };
        let percent = from_env
            .or(config.and_then(|c| c.waf_quota_percent))
            .unwrap_or(100);
        Ok(Self {
            rates: (percent > 0).then(|| CallRates::AWS.share(f64::from(percent) / 100.0)),
            ..Self::default()
        })
    }
}

/// AWS settings that follow the AWS CLI's conventions; unset fields come
/// from the standard chain (`AWS_REGION`, `AWS_PROFILE`,
/// `AWS_ENDPOINT_URL`, the config and credentials files).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsOptions {
    /// The region (`--region`).
    pub region: Option<String>,
    /// The named profile (`--profile`).
    pub profile: Option<String>,
    /// An endpoint URL for every AWS API (`--endpoint-url`), e.g. a local
    /// emulator.
    pub endpoint_url: Option<String>,
}

impl AwsOptions {
    /// Checks what the user gave (the region), so bad input is refused
    /// before any AWS call.
    pub fn check(&self) -> crate::Result<()> {
        if let Some(region) = &self.region {
            crate::target::check_region(region)?;
        }
        Ok(())
    }
}

/// A factory of WAF backends, one per account and region, from AWS
/// settings. The region asked for wins over `options.region`. In a config
/// account, the backend acts with that account's credentials (its role,
/// assumed once for every region of the factory, or its profile) and is
/// paced apart from the other accounts.
pub fn waf_factory(options: AwsOptions, settings: WafSettings) -> BackendFactory {
    let roles = Arc::new(super::roles::Roles::default());
    Box::new(move |place: BackendPlace| {
        let (options, settings, roles) = (options.clone(), settings.clone(), roles.clone());
        Box::pin(async move {
            let backend = match &place.account {
                None => {
                    WafBackend::with_settings(&sdk_config(&options, place.region).await, settings)?
                }
                Some(account) => {
                    let config = roles.config(&options, account, place.region).await?;
                    // An account of maint's own credentials shares their
                    // pace: AWS counts one account's calls together.
                    let key = match account.access {
                        crate::account::AccountAccess::Caller => String::new(),
                        _ => account.id.clone().unwrap_or_else(|| account.name.clone()),
                    };
                    WafBackend::with_settings(&config, settings)?.in_account(&key)
                }
            };
            let backend: Arc<dyn MaintenanceBackend> = Arc::new(backend);
            Ok(backend)
        })
    })
}

/// The AWS SDK configuration `options` give, in `region` (else theirs).
pub(super) async fn sdk_config(
    options: &AwsOptions,
    region: Option<String>,
) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(region) = region.or_else(|| options.region.clone()) {
        loader = loader.region(aws_config::Region::new(region));
    }
    if let Some(profile) = &options.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(url) = &options.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}

/// Who the AWS credentials of `options` are (`sts:GetCallerIdentity`: the
/// ARN of the user or assumed role), for notifications; `None` when it
/// cannot be told (which never stops a command).
pub async fn caller_identity(options: &AwsOptions) -> Option<String> {
    let config = sdk_config(options, None).await;
    match get_caller_identity(&config).await {
        Ok(arn) => arn,
        Err(error) => {
            tracing::warn!("cannot tell who runs maint: {error}");
            None
        }
    }
}
