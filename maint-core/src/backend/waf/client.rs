//! The WAF client: the AWS SDK clients (AWS WAF, ELBv2) and the pacing,
//! with one method per AWS call maint makes (and STS's
//! `GetCallerIdentity`, for notifications). Each waits its turn under AWS's
//! call-rate quotas ([`Pacer`]), waits out throttling until the throttle
//! deadline, retries what its call needs retried (a resource just made and
//! not yet usable, a delete while WAF still sees a resource in use), and
//! maps the SDK's errors to maint's ([`sdk_failure`]). Nothing above this
//! layer calls the SDK.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_cloudfront as cloudfront;
use aws_sdk_elasticloadbalancingv2 as elbv2;
use aws_sdk_wafv2 as wafv2;
use aws_sdk_wafv2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_wafv2::operation::check_capacity::CheckCapacityOutput;
use aws_sdk_wafv2::operation::create_ip_set::CreateIpSetOutput;
use aws_sdk_wafv2::operation::create_web_acl::CreateWebAclOutput;
use aws_sdk_wafv2::operation::get_ip_set::GetIpSetOutput;
use aws_sdk_wafv2::operation::get_web_acl::GetWebAclOutput;
use aws_sdk_wafv2::operation::get_web_acl_for_resource::GetWebAclForResourceOutput;
use aws_sdk_wafv2::operation::list_ip_sets::ListIpSetsOutput;
use aws_sdk_wafv2::operation::list_resources_for_web_acl::ListResourcesForWebAclOutput;
use aws_sdk_wafv2::operation::list_tags_for_resource::ListTagsForResourceOutput;
use aws_sdk_wafv2::operation::list_web_acls::ListWebAcLsOutput;
use aws_sdk_wafv2::operation::update_ip_set::UpdateIpSetOutput;
use aws_sdk_wafv2::operation::update_web_acl::UpdateWebAclOutput;
use aws_sdk_wafv2::types::{
    CustomResponseBody, IpAddressVersion, ResourceType, Rule, Scope, Tag, VisibilityConfig, WebAcl,
};
use aws_smithy_runtime_api::http::Response as HttpResponse;

use super::errors::{code, is_code, quota_reached, sdk_failure};
use super::pacing::{Pacer, ELB_DESCRIBE, ELB_DESCRIBE_TAGS};
use super::settings::WafSettings;
use crate::target::ResourceKind;
use crate::{Error, Result};

/// CloudFront's endpoint (global), as messages show it.
const CLOUDFRONT_HOST: &str = "https://cloudfront.amazonaws.com";

/// The CloudFront calls maint makes (for the endpoint their errors name).
const CLOUDFRONT_CALLS: [&str; 4] = [
    "GetDistribution",
    "GetDistributionConfig",
    "UpdateDistribution",
    "ListDistributions",
];

/// The log target of AWS calls (pacing, throttling, retries, re-reads): the
/// logger `maint.backend.waf.calls` in Python, as the README documents, kept
/// when the calls moved into the client layer.
pub(super) const CALLS_LOG: &str = "maint_core::backend::waf::calls";

/// A client configuration for a call the SDK must send once, never retry:
/// `AssociateWebACL` and `DisassociateWebACL`. The SDK's retry layer
/// re-sends a throttled call (it retries `ThrottlingException`) without
/// reading the association again, so it could replace or remove a web ACL
/// another writer associated meanwhile; maint makes every attempt itself,
/// each after a fresh read.
fn sent_once() -> wafv2::config::Builder {
    wafv2::config::Builder::default().retry_config(wafv2::config::retry::RetryConfig::disabled())
}

/// Where the clients send their calls, as messages show it (scheme and
/// host), when known.
#[derive(Debug, Clone, Default)]
struct Endpoints {
    waf: Option<String>,
    elb: Option<String>,
    cloudfront: Option<String>,
}

/// The endpoint a client of `service` (`aws_sdk_wafv2`, ...) built from
/// `config` calls, resolved by the SDK's own rules (endpoint URL, region,
/// FIPS, dual stack), as messages show it.
macro_rules! resolved_endpoint {
    ($service:ident, $config:expr) => {{
        use futures::FutureExt;
        use $service::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};
        let config: &aws_config::SdkConfig = $config;
        Params::builder()
            .set_region(config.region().map(ToString::to_string))
            .set_use_fips(config.use_fips())
            .set_use_dual_stack(config.use_dual_stack())
            .set_endpoint(config.endpoint_url().map(str::to_string))
            .build()
            .ok()
            .and_then(|params| {
                DefaultResolver::new()
                    .resolve_endpoint(&params)
                    .now_or_never()
            })
            .and_then(std::result::Result::ok)
            .map(|endpoint| crate::error::redact_url(endpoint.url()))
    }};
}

/// The AWS SDK clients of one Region, paced and retried on AWS's terms:
/// one method per AWS call. A client of scope CLOUDFRONT (in us-east-1)
/// also holds a CloudFront client, for distributions.
#[derive(Debug)]
pub(crate) struct WafClient {
    waf: wafv2::Client,
    elb: elbv2::Client,
    /// CloudFront, in a client of scope CLOUDFRONT.
    cloudfront: Option<cloudfront::Client>,
    /// REGIONAL, or CLOUDFRONT (distributions; web ACLs in us-east-1).
    scope: Scope,
    region: String,
    /// The account whose call-rate quotas the pace shares ("": the
    /// credentials' own).
    account: String,
    settings: WafSettings,
    /// Shared with every client of the process for this account and Region.
    pacer: Option<Arc<Pacer>>,
    /// Where the clients send their calls, for messages.
    endpoints: Endpoints,
}

impl WafClient {
    /// A client over SDK clients configured by the caller, acting in
    /// `region`, paced to `settings.rates` (with every other client of the
    /// process for the Region).
    pub(super) fn new(
        waf: wafv2::Client,
        elb: elbv2::Client,
        region: String,
        settings: WafSettings,
    ) -> Self {
        let pacer = settings
            .rates
            .map(|rates| Pacer::shared("", &region, rates));
        Self {
            waf,
            elb,
            cloudfront: None,
            scope: Scope::Regional,
            account: String::new(),
            region,
            settings,
            pacer,
            endpoints: Endpoints::default(),
        }
    }

    /// This client for CloudFront distributions: web ACLs of scope
    /// CLOUDFRONT (the client must act in us-east-1), distributions through
    /// `cloudfront`.
    pub(super) fn for_cloudfront(mut self, cloudfront: cloudfront::Client) -> Self {
        self.cloudfront = Some(cloudfront);
        self.scope = Scope::Cloudfront;
        self
    }

    /// This client paced with the other clients of `account` (its key: an
    /// account ID or a config account's name) rather than with those of
    /// the credentials' own account.
    pub(super) fn in_account(mut self, account: &str) -> Self {
        self.account = account.to_string();
        self.pacer = self
            .settings
            .rates
            .map(|rates| Pacer::shared(account, &self.region, rates));
        self
    }

    /// The account this client's pace is shared in ("" for the
    /// credentials' own).
    pub(super) fn account(&self) -> &str {
        &self.account
    }

    /// Whether this client acts on CloudFront distributions (scope
    /// CLOUDFRONT) rather than a Region's resources.
    pub(super) fn is_global(&self) -> bool {
        self.scope == Scope::Cloudfront
    }

    /// This client with the endpoints `config` resolves to named in its
    /// messages.
    pub(super) fn naming_endpoints(mut self, config: &aws_config::SdkConfig) -> Self {
        self.endpoints = Endpoints {
            waf: resolved_endpoint!(wafv2, config),
            elb: resolved_endpoint!(elbv2, config),
            cloudfront: self
                .cloudfront
                .is_some()
                .then(|| config.endpoint_url().map(crate::error::redact_url))
                .flatten()
                .or_else(|| {
                    self.cloudfront
                        .is_some()
                        .then(|| CLOUDFRONT_HOST.to_string())
                }),
        };
        self
    }

    /// The Region this client acts in.
    pub(super) fn region(&self) -> &str {
        &self.region
    }

    /// The pace and the bounds on waits and retries.
    pub(super) fn settings(&self) -> &WafSettings {
        &self.settings
    }

    /// [`sdk_failure`] for a call of this client: ELB's
    /// `DescribeLoadBalancers`, else AWS WAF's.
    fn aws_error<E>(&self, operation: &str, err: SdkError<E, HttpResponse>) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let endpoint = match operation {
            ELB_DESCRIBE | ELB_DESCRIBE_TAGS => &self.endpoints.elb,
            a if CLOUDFRONT_CALLS.contains(&a) => &self.endpoints.cloudfront,
            _ => &self.endpoints.waf,
        };
        sdk_failure(operation, endpoint.as_deref(), err)
    }

    /// The jittered backoff delay before attempt `attempt + 1`.
    pub(super) fn backoff(&self, attempt: u32) -> Duration {
        let cap = self
            .settings
            .base_delay
            .saturating_mul(2u32.saturating_pow(attempt.min(16)))
            .min(self.settings.max_delay);
        // Full jitter: concurrent writers spread out instead of colliding again.
        cap.mul_f64(0.5 + fastrand::f64() * 0.5)
    }

    /// Runs `op` (a call of AWS WAF `action`) when AWS's quota for the
    /// action allows it. Throttling (another caller used the quota) is
    /// waited out with jittered backoff until `throttle_deadline`; the codes
    /// in `retry_on` are retried until `deadline`; an account quota
    /// (`WAFLimitsExceededException`) is reported at once, by name.
    pub(super) async fn retrying<T, F, Fut>(
        &self,
        action: &'static str,
        what: &str,
        retry_on: &[&str],
        deadline: Duration,
        mut op: F,
    ) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let start = Instant::now();
        let mut attempt = 0u32;
        let mut throttled_for = Duration::ZERO;
        loop {
            self.pace(action).await;
            let error = match op().await {
                Ok(value) => return Ok(value),
                Err(e) => e,
            };
            if is_code(&error, &[code::LIMITS]) {
                return Err(quota_reached(error));
            }
            let throttled = is_code(&error, &code::THROTTLING);
            if !(throttled || is_code(&error, retry_on)) {
                return Err(error);
            }
            let delay = self.backoff(attempt);
            attempt += 1;
            let out_of_time = if throttled {
                throttled_for += delay;
                throttled_for > self.settings.throttle_deadline
            } else {
                start.elapsed() + delay > deadline
            };
            if out_of_time {
                return Err(Error::Timeout {
                    what: what.to_string(),
                    waited: start.elapsed(),
                    last_error: Some(Box::new(error)),
                });
            }
            let message = if throttled {
                "AWS WAF throttled the call (another caller uses the same quota); waiting"
            } else {
                "AWS is not ready yet; retrying"
            };
            tracing::warn!(
                target: CALLS_LOG,
                what,
                action,
                code = error.aws_code().unwrap_or_default(),
                attempt,
                delay_ms = delay.as_millis() as u64,
                "{message}"
            );
            tokio::time::sleep(delay).await;
        }
    }

    /// Waits until AWS's quota for `action` allows one more call (at once
    /// when the backend is not paced, or `action` is empty: the caller
    /// paces inside its operation).
    pub(super) async fn pace(&self, action: &str) {
        if let (Some(pacer), false) = (&self.pacer, action.is_empty()) {
            pacer.wait(action).await;
        }
    }

    /// `send` (an SDK call of `action`) with throttling retries only.
    async fn call<T, E, F, Fut>(&self, action: &'static str, what: &str, send: F) -> Result<T>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = std::result::Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        self.sent(action, what, &[], Duration::MAX, send).await
    }

    /// `send` also retried while AWS WAF does not see a resource just made
    /// (`WAFUnavailableEntityException`: a new IP set or web ACL takes time
    /// to propagate), until the delete deadline; the Terraform AWS provider
    /// retries creates and updates for 5 minutes on it.
    async fn until_usable<T, E, F, Fut>(
        &self,
        action: &'static str,
        what: &str,
        send: F,
    ) -> Result<T>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = std::result::Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let deadline = self.settings.delete_deadline;
        self.sent(action, what, &[code::UNAVAILABLE], deadline, send)
            .await
    }

    /// `send` (an SDK call of `action`), paced and retried
    /// ([`WafClient::retrying`]: throttling, and `retry_on` until
    /// `deadline`), its errors mapped ([`sdk_failure`]).
    async fn sent<T, E, F, Fut>(
        &self,
        action: &'static str,
        what: &str,
        retry_on: &[&str],
        deadline: Duration,
        send: F,
    ) -> Result<T>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = std::result::Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let send = &send;
        self.retrying(action, what, retry_on, deadline, || async move {
            send().await.map_err(|e| self.aws_error(action, e))
        })
        .await
    }

    /// Runs `send` (an AWS WAF `action`) once, when AWS's quota for the
    /// action allows it: no retry here, the caller makes every attempt.
    async fn once<T, E, Fut>(&self, action: &'static str, send: impl FnOnce() -> Fut) -> Result<T>
    where
        Fut: Future<Output = std::result::Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        self.pace(action).await;
        send().await.map_err(|e| self.aws_error(action, e))
    }
}

/// One method per AWS call, each paced, with its retries.
impl WafClient {
    /// `GetWebACLForResource`: the web ACL associated with `resource_arn`,
    /// retried while AWS does not see a resource just made.
    pub(super) async fn get_web_acl_for_resource(
        &self,
        resource_arn: &str,
    ) -> Result<GetWebAclForResourceOutput> {
        self.until_usable(
            "GetWebACLForResource",
            "read the web ACL association",
            || {
                self.waf
                    .get_web_acl_for_resource()
                    .resource_arn(resource_arn)
                    .send()
            },
        )
        .await
    }

    /// `GetWebACL`: a web ACL with its lock token.
    pub(super) async fn get_web_acl(&self, name: &str, id: &str) -> Result<GetWebAclOutput> {
        self.call("GetWebACL", "read the web ACL", || {
            self.waf
                .get_web_acl()
                .name(name)
                .id(id)
                .scope(self.scope.clone())
                .send()
        })
        .await
    }

    /// `CreateWebACL` (default action Allow comes from the caller),
    /// retried while AWS does not see the IP sets it references yet.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn create_web_acl(
        &self,
        name: &str,
        description: &str,
        default_action: &aws_sdk_wafv2::types::DefaultAction,
        rules: &[Rule],
        bodies: &HashMap<String, CustomResponseBody>,
        visibility: &VisibilityConfig,
        tags: &[Tag],
    ) -> Result<CreateWebAclOutput> {
        self.until_usable("CreateWebACL", "create the web ACL", || {
            self.waf
                .create_web_acl()
                .name(name)
                .scope(self.scope.clone())
                .description(description)
                .default_action(default_action.clone())
                .set_rules(Some(rules.to_vec()))
                .set_custom_response_bodies(Some(bodies.clone()))
                .visibility_config(visibility.clone())
                .set_tags(Some(tags.to_vec()))
                .send()
        })
        .await
    }

    /// `UpdateWebACL`: `rules` and `bodies` written into `acl` under
    /// `lock_token`; everything else goes back exactly as read (an update
    /// resets what it does not send). An optional member that was absent
    /// (or empty) stays absent, never sent empty: AWS refuses an empty
    /// description, and a map of no custom response bodies.
    pub(super) async fn update_web_acl(
        &self,
        acl: &WebAcl,
        lock_token: &str,
        rules: &[Rule],
        bodies: &HashMap<String, CustomResponseBody>,
    ) -> Result<UpdateWebAclOutput> {
        self.until_usable("UpdateWebACL", "update the web ACL", || {
            self.waf
                .update_web_acl()
                .name(acl.name())
                .id(acl.id())
                .scope(self.scope.clone())
                .set_description(sent_back(acl.description()))
                .set_default_action(acl.default_action().cloned())
                .set_rules(Some(rules.to_vec()))
                .set_custom_response_bodies((!bodies.is_empty()).then(|| bodies.clone()))
                .set_visibility_config(acl.visibility_config().cloned())
                .set_data_protection_config(acl.data_protection_config().cloned())
                .set_captcha_config(acl.captcha_config().cloned())
                .set_challenge_config(acl.challenge_config().cloned())
                .set_token_domains(
                    (!acl.token_domains().is_empty()).then(|| acl.token_domains().to_vec()),
                )
                .set_association_config(acl.association_config().cloned())
                .set_on_source_d_do_s_protection_config(
                    acl.on_source_d_do_s_protection_config().cloned(),
                )
                .set_application_config(acl.application_config().cloned())
                .set_monetization_config(acl.monetization_config().cloned())
                .lock_token(lock_token)
                .send()
        })
        .await
    }

    /// `DeleteWebACL` under `lock_token`, retrying the codes in `retry_on`
    /// until the delete deadline (`what`: for messages).
    pub(super) async fn delete_web_acl(
        &self,
        name: &str,
        id: &str,
        lock_token: &str,
        what: &str,
        retry_on: &[&str],
    ) -> Result<()> {
        let deadline = self.settings.delete_deadline;
        self.sent("DeleteWebACL", what, retry_on, deadline, || {
            self.waf
                .delete_web_acl()
                .name(name)
                .id(id)
                .scope(self.scope.clone())
                .lock_token(lock_token)
                .send()
        })
        .await
        .map(|_| ())
    }

    /// `ListWebACLs`: one page (100) of the Region's web ACLs.
    pub(super) async fn list_web_acls(&self, marker: Option<&str>) -> Result<ListWebAcLsOutput> {
        self.call("ListWebACLs", "list maint's resources", || {
            self.waf
                .list_web_acls()
                .scope(self.scope.clone())
                .limit(100)
                .set_next_marker(marker.map(String::from))
                .send()
        })
        .await
    }

    /// `ListResourcesForWebACL`: the resources of one kind a web ACL is
    /// associated with (AWS lists one `ResourceType` per call).
    pub(super) async fn list_resources_for_web_acl(
        &self,
        web_acl_arn: &str,
        kind: ResourceKind,
    ) -> Result<ListResourcesForWebAclOutput> {
        let what = "list the resources of the web ACL";
        self.call("ListResourcesForWebACL", what, || {
            self.waf
                .list_resources_for_web_acl()
                .web_acl_arn(web_acl_arn)
                .resource_type(ResourceType::from(kind.waf_resource_type()))
                .send()
        })
        .await
    }

    /// `AssociateWebACL`, sent once ([`sent_once`]): the caller reads the
    /// association again before every attempt.
    pub(super) async fn associate_web_acl(
        &self,
        web_acl_arn: &str,
        resource_arn: &str,
    ) -> Result<()> {
        self.once("AssociateWebACL", || {
            self.waf
                .associate_web_acl()
                .web_acl_arn(web_acl_arn)
                .resource_arn(resource_arn)
                .customize()
                .config_override(sent_once())
                .send()
        })
        .await
        .map(|_| ())
    }

    /// `DisassociateWebACL`, sent once ([`sent_once`]): the caller reads
    /// the association again before every attempt.
    pub(super) async fn disassociate_web_acl(&self, resource_arn: &str) -> Result<()> {
        self.once("DisassociateWebACL", || {
            self.waf
                .disassociate_web_acl()
                .resource_arn(resource_arn)
                .customize()
                .config_override(sent_once())
                .send()
        })
        .await
        .map(|_| ())
    }

    /// `GetIPSet`: an IP set with its lock token.
    pub(super) async fn get_ip_set(&self, name: &str, id: &str) -> Result<GetIpSetOutput> {
        self.call("GetIPSet", "read the IP set", || {
            self.waf
                .get_ip_set()
                .name(name)
                .id(id)
                .scope(self.scope.clone())
                .send()
        })
        .await
    }

    /// `CreateIPSet`.
    pub(super) async fn create_ip_set(
        &self,
        name: &str,
        description: &str,
        version: &IpAddressVersion,
        addresses: &[String],
        tags: &[Tag],
    ) -> Result<CreateIpSetOutput> {
        self.call("CreateIPSet", "create the IP set", || {
            self.waf
                .create_ip_set()
                .name(name)
                .scope(self.scope.clone())
                .description(description)
                .ip_address_version(version.clone())
                .set_addresses(Some(addresses.to_vec()))
                .set_tags(Some(tags.to_vec()))
                .send()
        })
        .await
    }

    /// `UpdateIPSet` under `lock_token`; `description` is sent back as read
    /// (absent stays absent).
    pub(super) async fn update_ip_set(
        &self,
        name: &str,
        id: &str,
        description: Option<&str>,
        addresses: &[String],
        lock_token: &str,
    ) -> Result<UpdateIpSetOutput> {
        self.call("UpdateIPSet", "update the IP set", || {
            self.waf
                .update_ip_set()
                .name(name)
                .id(id)
                .scope(self.scope.clone())
                .set_description(description.map(str::to_string))
                .set_addresses(Some(addresses.to_vec()))
                .lock_token(lock_token)
                .send()
        })
        .await
    }

    /// `DeleteIPSet` under `lock_token`, retrying the codes in `retry_on`
    /// until the delete deadline (`what`: for messages).
    pub(super) async fn delete_ip_set(
        &self,
        name: &str,
        id: &str,
        lock_token: &str,
        what: &str,
        retry_on: &[&str],
    ) -> Result<()> {
        let deadline = self.settings.delete_deadline;
        self.sent("DeleteIPSet", what, retry_on, deadline, || {
            self.waf
                .delete_ip_set()
                .name(name)
                .id(id)
                .scope(self.scope.clone())
                .lock_token(lock_token)
                .send()
        })
        .await
        .map(|_| ())
    }

    /// `ListIPSets`: one page (100) of the Region's IP sets.
    pub(super) async fn list_ip_sets(&self, marker: Option<&str>) -> Result<ListIpSetsOutput> {
        self.call("ListIPSets", "list maint's resources", || {
            self.waf
                .list_ip_sets()
                .scope(self.scope.clone())
                .limit(100)
                .set_next_marker(marker.map(String::from))
                .send()
        })
        .await
    }

    /// `ListTagsForResource`: a web ACL's or IP set's tags.
    pub(super) async fn list_tags_for_resource(
        &self,
        resource_arn: &str,
    ) -> Result<ListTagsForResourceOutput> {
        self.call("ListTagsForResource", "read tags", || {
            self.waf
                .list_tags_for_resource()
                .resource_arn(resource_arn)
                .send()
        })
        .await
    }

    /// `CheckCapacity`: what `rules` cost in WCU.
    pub(super) async fn check_capacity(&self, rules: &[Rule]) -> Result<CheckCapacityOutput> {
        self.call("CheckCapacity", "price the web ACL's rules", || {
            self.waf
                .check_capacity()
                .scope(self.scope.clone())
                .set_rules(Some(rules.to_vec()))
                .send()
        })
        .await
    }

    /// The CloudFront client (a client of scope CLOUDFRONT has one).
    fn cloudfront(&self) -> Result<&cloudfront::Client> {
        self.cloudfront
            .as_ref()
            .ok_or_else(|| Error::unexpected("a CloudFront call on a regional WAF client"))
    }

    /// CloudFront's `GetDistribution`: a distribution, with its status
    /// (`Deployed`, `InProgress`).
    pub(super) async fn get_distribution(
        &self,
        id: &str,
    ) -> Result<cloudfront::types::Distribution> {
        let cf = self.cloudfront()?;
        let out = self
            .call("GetDistribution", "read the distribution", || {
                cf.get_distribution().id(id).send()
            })
            .await?;
        out.distribution
            .ok_or_else(|| Error::unexpected("GetDistribution answered no distribution"))
    }

    /// CloudFront's `GetDistributionConfig`: a distribution's config and
    /// its ETag (for a conditional `UpdateDistribution`).
    pub(super) async fn get_distribution_config(
        &self,
        id: &str,
    ) -> Result<(cloudfront::types::DistributionConfig, String)> {
        let cf = self.cloudfront()?;
        let out = self
            .call(
                "GetDistributionConfig",
                "read the distribution's config",
                || cf.get_distribution_config().id(id).send(),
            )
            .await?;
        let etag = out.e_tag.unwrap_or_default();
        let config = out.distribution_config.ok_or_else(|| {
            Error::unexpected("GetDistributionConfig answered no distribution config")
        })?;
        Ok((config, etag))
    }

    /// CloudFront's `UpdateDistribution`, only if the distribution's
    /// config is still the one read with `etag` (`IfMatch`): else AWS
    /// answers `PreconditionFailed`, and nothing is written. Sent once:
    /// the caller reads again before another attempt.
    pub(super) async fn update_distribution(
        &self,
        id: &str,
        etag: &str,
        config: cloudfront::types::DistributionConfig,
    ) -> Result<()> {
        let cf = self.cloudfront()?;
        self.once("UpdateDistribution", || {
            cf.update_distribution()
                .id(id)
                .if_match(etag)
                .distribution_config(config)
                .customize()
                .config_override(
                    cloudfront::config::Builder::default()
                        .retry_config(cloudfront::config::retry::RetryConfig::disabled()),
                )
                .send()
        })
        .await
        .map(|_| ())
    }

    /// CloudFront's `ListDistributions`: one page (up to 100) after
    /// `marker`, and the marker of the next page when there is one.
    pub(super) async fn list_distributions(
        &self,
        marker: Option<&str>,
    ) -> Result<(Vec<cloudfront::types::DistributionSummary>, Option<String>)> {
        let cf = self.cloudfront()?;
        let out = self
            .call("ListDistributions", "list distributions", || {
                cf.list_distributions()
                    .max_items(100)
                    .set_marker(marker.map(String::from))
                    .send()
            })
            .await?;
        let Some(list) = out.distribution_list else {
            return Ok((Vec::new(), None));
        };
        let next = list
            .is_truncated
            .then_some(list.next_marker)
            .flatten()
            .filter(|m| !m.is_empty());
        Ok((list.items.unwrap_or_default(), next))
    }

    /// ELBv2's `DescribeLoadBalancers`, by name or ARN (ELB takes one kind
    /// per call), paced to ELB's own bucket.
    pub(super) async fn describe_load_balancers(
        &self,
        names: &[String],
        arns: &[String],
    ) -> Result<Vec<elbv2::types::LoadBalancer>> {
        let out = self
            .call(ELB_DESCRIBE, "describe load balancers", || {
                self.elb
                    .describe_load_balancers()
                    .set_names((!names.is_empty()).then(|| names.to_vec()))
                    .set_load_balancer_arns((!arns.is_empty()).then(|| arns.to_vec()))
                    .send()
            })
            .await?;
        Ok(out.load_balancers().to_vec())
    }

    /// ELB's `DescribeTags` of up to 20 load balancers: ARN -> its tags.
    pub(super) async fn describe_tags(
        &self,
        arns: &[String],
    ) -> Result<Vec<(String, Vec<(String, String)>)>> {
        let out = self
            .call(ELB_DESCRIBE_TAGS, "describe tags", || {
                self.elb
                    .describe_tags()
                    .set_resource_arns(Some(arns.to_vec()))
                    .send()
            })
            .await?;
        Ok(out
            .tag_descriptions()
            .iter()
            .map(|d| {
                let tags = d
                    .tags()
                    .iter()
                    .map(|t| {
                        (
                            t.key().unwrap_or_default().to_string(),
                            t.value().unwrap_or_default().to_string(),
                        )
                    })
                    .collect();
                (d.resource_arn().unwrap_or_default().to_string(), tags)
            })
            .collect())
    }
}

/// STS's `GetCallerIdentity` with `config`: the ARN of the user or assumed
/// role the credentials are (not paced: STS is not AWS WAF).
pub(super) async fn get_caller_identity(config: &aws_config::SdkConfig) -> Result<Option<String>> {
    let sts = aws_sdk_sts::Client::new(config);
    match sts.get_caller_identity().send().await {
        Ok(out) => Ok(out.arn().map(str::to_string)),
        Err(e) => {
            let endpoint = config.endpoint_url().map(crate::error::redact_url);
            Err(sdk_failure("GetCallerIdentity", endpoint.as_deref(), e))
        }
    }
}

/// An optional text member (a description) to send back as read: absent
/// when it was absent or empty. AWS WAF takes 1 to 256 characters when the
/// member is present and refuses `""`, and moto answers `""` for a web ACL
/// or IP set made without one.
pub(super) fn sent_back(text: Option<&str>) -> Option<String> {
    text.filter(|t| !t.is_empty()).map(str::to_string)
}
