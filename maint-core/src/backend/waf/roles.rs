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
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::{Arc, Mutex};

    use aws_smithy_runtime_api::client::http::{
        HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
        SharedHttpConnector,
    };
    use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
    use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;

    use super::*;

    #[test]
    fn credentials_are_renewed_ten_minutes_before_they_expire() {
        let now = SystemTime::now();
        assert!(fresh(None, now));
        assert!(fresh(Some(now + Duration::from_secs(11 * 60)), now));
        assert!(!fresh(Some(now + Duration::from_secs(9 * 60)), now));
        assert!(!fresh(Some(now - Duration::from_secs(1)), now));
    }

    /// STS on the wire: answers each `AssumeRole` with credentials that
    /// expire `lifetime` later (or AccessDenied), and keeps each request's
    /// form body.
    #[derive(Debug, Clone)]
    struct FakeSts {
        lifetime: Option<Duration>,
        asked: Arc<Mutex<Vec<String>>>,
    }

    impl HttpClient for FakeSts {
        fn http_connector(
            &self,
            _: &HttpConnectorSettings,
            _: &RuntimeComponents,
        ) -> SharedHttpConnector {
            SharedHttpConnector::new(self.clone())
        }
    }

    impl HttpConnector for FakeSts {
        fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
            let body = String::from_utf8_lossy(request.body().bytes().unwrap_or_default());
            let n = {
                let mut asked = self.asked.lock().unwrap_or_else(|e| e.into_inner());
                asked.push(body.into_owned());
                asked.len()
            };
            let (status, text) = match self.lifetime {
                Some(lifetime) => {
                    let expiry =
                        chrono::DateTime::<chrono::Utc>::from(SystemTime::now() + lifetime)
                            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                    (
                        200,
                        format!(
                            "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
                             <AssumeRoleResult><Credentials><AccessKeyId>ASIAFAKE{n}</AccessKeyId>\
                             <SecretAccessKey>secret</SecretAccessKey><SessionToken>token</SessionToken>\
                             <Expiration>{expiry}</Expiration></Credentials>\
                             <AssumedRoleUser><AssumedRoleId>AROA:s</AssumedRoleId>\
                             <Arn>arn:aws:sts::111122223333:assumed-role/maint/s</Arn></AssumedRoleUser>\
                             </AssumeRoleResult></AssumeRoleResponse>"
                        ),
                    )
                }
                None => (
                    403,
                    "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>\
                     <Message>not authorized to perform: sts:AssumeRole</Message></Error>\
                     <RequestId>r-1</RequestId></ErrorResponse>"
                        .to_string(),
                ),
            };
            let mut response = Response::new(
                StatusCode::try_from(status).unwrap_or_else(|_| unreachable!()),
                SdkBody::from(text),
            );
            response.headers_mut().insert("content-type", "text/xml");
            HttpConnectorFuture::ready(Ok(response))
        }
    }

    fn fake_role(lifetime: Option<Duration>) -> (AssumedRole, Arc<Mutex<Vec<String>>>) {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let config = aws_sdk_sts::Config::builder()
            .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
            .region(aws_sdk_sts::config::Region::new("us-east-1"))
            .credentials_provider(Credentials::new("AKIDCALLER", "s", None, None, "test"))
            .http_client(SharedHttpClient::new(FakeSts {
                lifetime,
                asked: asked.clone(),
            }))
            .build();
        let role = AssumedRole {
            sts: aws_sdk_sts::Client::from_conf(config),
            endpoint: None,
            account: "prod".into(),
            arn: "arn:aws:iam::111122223333:role/maint".into(),
            external_id: Some("maint-prod".into()),
            session: "maint-alice".into(),
            current: tokio::sync::Mutex::new(None),
        };
        (role, asked)
    }

    #[tokio::test]
    async fn a_role_is_assumed_once_while_its_credentials_last_and_again_before_they_expire() {
        let (role, asked) = fake_role(Some(Duration::from_secs(3600)));
        let first = role.credentials().await.unwrap();
        let again = role.credentials().await.unwrap();
        assert_eq!(first.access_key_id(), "ASIAFAKE1");
        assert_eq!(
            again.access_key_id(),
            "ASIAFAKE1",
            "reused, not assumed again"
        );
        let bodies = asked.lock().unwrap().clone();
        assert_eq!(bodies.len(), 1);
        for part in [
            "Action=AssumeRole",
            "RoleArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2Fmaint",
            "RoleSessionName=maint-alice",
            "ExternalId=maint-prod",
        ] {
            assert!(bodies[0].contains(part), "{part} not in {}", bodies[0]);
        }

        // Credentials of a short session (5 minutes left): renewed on use.
        let (short, asked) = fake_role(Some(Duration::from_secs(300)));
        assert_eq!(
            short.credentials().await.unwrap().access_key_id(),
            "ASIAFAKE1"
        );
        assert_eq!(
            short.credentials().await.unwrap().access_key_id(),
            "ASIAFAKE2"
        );
        assert_eq!(asked.lock().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn a_role_that_cannot_be_assumed_is_an_aws_error_naming_it_asked_once() {
        let (role, asked) = fake_role(None);
        let err = role.credentials().await.unwrap_err();
        let message = err.to_string();
        assert!(message.contains("AccessDenied"), "{message}");
        assert!(
            message.contains("cannot assume the role arn:aws:iam::111122223333:role/maint"),
            "{message}"
        );
        assert_eq!(err.kind(), crate::ErrorKind::Aws);
        let again = role.credentials().await.unwrap_err();
        assert_eq!(again.to_string(), message);
        assert_eq!(asked.lock().unwrap().len(), 1, "reported once, not retried");
    }
}
