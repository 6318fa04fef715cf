//! AWS settings for the WAF backend, and the factory that makes one backend
//! per region from them.

use std::sync::Arc;

use super::{WafBackend, WafSettings};
use crate::backend::contract::{BackendFactory, MaintenanceBackend};

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

/// A factory of WAF backends, one per region, from AWS settings. The region
/// asked for wins over `options.region`.
pub fn waf_factory(options: AwsOptions, settings: WafSettings) -> BackendFactory {
    Box::new(move |region: Option<String>| {
        let (options, settings) = (options.clone(), settings.clone());
        Box::pin(async move {
            let config = sdk_config(&options, region).await;
            let backend: Arc<dyn MaintenanceBackend> =
                Arc::new(WafBackend::with_settings(&config, settings)?);
            Ok(backend)
        })
    })
}

/// The AWS SDK configuration `options` give, in `region` (else theirs).
async fn sdk_config(options: &AwsOptions, region: Option<String>) -> aws_config::SdkConfig {
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
    let sts = aws_sdk_sts::Client::new(&config);
    match sts.get_caller_identity().send().await {
        Ok(out) => out.arn().map(str::to_string),
        Err(e) => {
            let endpoint = config.endpoint_url().map(crate::error::redact_url);
            let error = super::calls::sdk_failure("GetCallerIdentity", endpoint.as_deref(), e);
            tracing::warn!("cannot tell who runs maint: {error}");
            None
        }
    }
}
