//! Credentials in the config's other accounts: each role assumed with STS
//! once per run (per factory), shared by the backends of every Region of
//! that account, refreshed before it expires, and never written anywhere.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{error::CredentialsError, future};
use aws_sdk_sts::config::{Credentials, ProvideCredentials, SharedCredentialsProvider};

use super::errors::sdk_failure;
use super::settings::{sdk_config, AwsOptions};
use crate::account::{session_name, Account, AccountAccess};
use crate::error::AwsError;
use crate::{Error, Result};

/// How long before its expiry an assumed role's credentials are renewed:
/// a call signed with them must still be valid when AWS receives it, and
/// a paced call may wait in line first.
const RENEW_BEFORE: Duration = Duration::from_secs(10 * 60);

/// The roles one factory assumed, by account name, and the session name
/// they are assumed with.
#[derive(Default)]
pub(super) struct Roles {
    session: tokio::sync::OnceCell<String>,
    assumed: tokio::sync::Mutex<HashMap<String, Arc<AssumedRole>>>,
}

impl Roles {
    /// The SDK configuration for `account` in `region`: the options'
    /// credentials for the caller's own account, the account's profile, or
    /// its role's credentials (assumed now if they were not yet, so a role
    /// that cannot be assumed fails here, before any change).
    pub(super) async fn config(
        &self,
        options: &AwsOptions,
        account: &Account,
        region: Option<String>,
    ) -> Result<aws_config::SdkConfig> {
        match &account.access {
            AccountAccess::Caller => Ok(sdk_config(options, region).await),
            AccountAccess::Profile(profile) => {
                let options = AwsOptions {
                    profile: Some(profile.clone()),
                    ..options.clone()
                };
                Ok(sdk_config(&options, region).await)
            }
            AccountAccess::Role { arn, external_id } => {
                let base = sdk_config(options, region).await;
                let role = self
                    .role(&base, &account.name, arn, external_id.clone())
                    .await;
                role.credentials().await?;
                Ok(base
                    .to_builder()
                    .credentials_provider(SharedCredentialsProvider::new(Provider(role)))
                    .build())
            }
        }
    }

    /// The role of the account `name`, made on first use with STS clients
    /// of `base` (the caller's credentials).
    async fn role(
        &self,
        base: &aws_config::SdkConfig,
        name: &str,
        arn: &str,
        external_id: Option<String>,
    ) -> Arc<AssumedRole> {
        let session = self
            .session
            .get_or_init(|| async {
                let caller = super::client::get_caller_identity(base).await;
                if let Err(e) = &caller {
                    tracing::warn!("cannot tell who runs maint, for the role session name: {e}");
                }
                session_name(caller.ok().flatten().as_deref())
            })
            .await
            .clone();
        let mut assumed = self.assumed.lock().await;
        assumed
            .entry(name.to_string())
            .or_insert_with(|| {
                Arc::new(AssumedRole {
                    sts: aws_sdk_sts::Client::new(base),
                    endpoint: base.endpoint_url().map(crate::error::redact_url),
                    account: name.to_string(),
                    arn: arn.to_string(),
                    external_id,
                    session,
                    current: tokio::sync::Mutex::new(None),
                })
            })
            .clone()
    }
}

/// One account's role, and the credentials it was last assumed with (or
/// why it could not be: reported once, never retried within the run).
#[derive(Debug)]
struct AssumedRole {
    sts: aws_sdk_sts::Client,
    endpoint: Option<String>,
    account: String,
    arn: String,
    external_id: Option<String>,
    session: String,
    current: tokio::sync::Mutex<Option<Result<Credentials>>>,
}

impl AssumedRole {
    /// Credentials valid for at least [`RENEW_BEFORE`], assuming the role
    /// again when the last ones are older.
    async fn credentials(&self) -> Result<Credentials> {
        let mut current = self.current.lock().await;
        match &*current {
            Some(Ok(c)) if fresh(c.expiry(), SystemTime::now()) => return Ok(c.clone()),
            Some(Err(e)) => return Err(e.clone()),
            _ => {}
        }
        let assumed = self.assume().await;
        if let Err(e) = &assumed {
            tracing::error!("{e}");
        } else {
            tracing::info!(
                role = %self.arn,
                session = %self.session,
                "assumed the role of account {}",
                self.account
            );
        }
        *current = Some(assumed.clone());
        assumed
    }

    /// STS `AssumeRole`, with the external ID when there is one. An error
    /// names the account and the role beside AWS's code and message.
    async fn assume(&self) -> Result<Credentials> {
        let out = self
            .sts
            .assume_role()
            .role_arn(&self.arn)
            .role_session_name(&self.session)
            .set_external_id(self.external_id.clone())
            .send()
            .await
            .map_err(|e| {
                let mut error = sdk_failure("AssumeRole", self.endpoint.as_deref(), e);
                if let Error::Aws(AwsError { message, .. }) = &mut error {
                    *message = format!("cannot assume the role {}: {message}", self.arn);
                }
                error
            })?;
        let c = out.credentials().ok_or_else(|| {
            Error::unexpected(format!(
                "STS assumed {} but returned no credentials",
                self.arn
            ))
        })?;
        let expiry = SystemTime::try_from(*c.expiration()).ok();
        Ok(Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_string()),
            expiry,
            "maint-assume-role",
        ))
    }
}

/// Whether credentials expiring at `expiry` are still good at `now`.
fn fresh(expiry: Option<SystemTime>, now: SystemTime) -> bool {
    expiry.is_none_or(|at| at > now + RENEW_BEFORE)
}

/// The SDK's view of an [`AssumedRole`].
#[derive(Debug)]
struct Provider(Arc<AssumedRole>);

impl ProvideCredentials for Provider {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            self.0
                .credentials()
                .await
                .map_err(CredentialsError::provider_error)
        })
    }
}

impl std::fmt::Debug for Roles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Roles")
            .field("session", &self.session.get())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_renewed_ten_minutes_before_they_expire() {
        let now = SystemTime::now();
        assert!(fresh(None, now));
        assert!(fresh(Some(now + Duration::from_secs(11 * 60)), now));
        assert!(!fresh(Some(now + Duration::from_secs(9 * 60)), now));
        assert!(!fresh(Some(now - Duration::from_secs(1)), now));
    }
}
