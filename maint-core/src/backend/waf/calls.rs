//! Calling AWS WAF on AWS's terms: every call waits its turn under AWS
//! WAF's call-rate quotas ([`Pacer`], shared by every backend of the process
//! for a region), throttling is waited out against a deadline, and AWS's
//! error codes are matched in one place.

use std::num::NonZeroU32;
use std::sync::{Arc, OnceLock};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use super::*;

/// AWS error codes the backend handles itself.
pub(super) mod code {
    pub const LOCK: &str = "WAFOptimisticLockException";
    pub const UNAVAILABLE: &str = "WAFUnavailableEntityException";
    pub const ASSOCIATED: &str = "WAFAssociatedItemException";
    pub const NONEXISTENT: &str = "WAFNonexistentItemException";
    /// AWS's code, and moto's.
    pub const DUPLICATE: [&str; 2] = ["WAFDuplicateItemException", "WafV2DuplicateItem"];
    pub const LB_NOT_FOUND: [&str; 2] = ["LoadBalancerNotFound", "LoadBalancerNotFoundException"];
    /// An account quota (100 web ACLs, 100 IP sets per Region...): waiting
    /// does not help; reported with the quota's name.
    pub const LIMITS: &str = "WAFLimitsExceededException";
    /// Call-rate limits: waited out.
    pub const THROTTLING: [&str; 4] = [
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
    ];
    /// AWS's internal errors and a call lost on the way (the SDK's names
    /// for a timeout and a failed dispatch): the SDK's retry layer retries
    /// them, and maint does where it sends a call once
    /// ([`super::sent_once`]).
    pub const TRANSIENT: [&str; 5] = [
        "WAFInternalErrorException",
        "InternalFailure",
        "ServiceUnavailable",
        "TimeoutError",
        "DispatchFailure",
    ];
}

/// A client configuration for a call the SDK must send once, never retry:
/// `AssociateWebACL` and `DisassociateWebACL`. The SDK's retry layer
/// re-sends a throttled call (it retries `ThrottlingException`) without
/// reading the association again, so it could replace or remove a web ACL
/// another writer associated meanwhile; maint makes every attempt itself,
/// each after a fresh read.
pub(super) fn sent_once() -> wafv2::config::Builder {
    wafv2::config::Builder::default().retry_config(wafv2::config::retry::RetryConfig::disabled())
}

/// Maps an SDK error of `operation` into [`Error::Aws`], in one line: AWS's
/// error code, message and request id when AWS answered with an error;
/// else what failed in plain words, naming `endpoint` (scheme and host;
/// `None`: not known) for a request that got no answer. Never the SDK's
/// debug text nor a raw response (whose body may hold a bypass secret); the
/// SDK error itself is not kept as the source, for the same reason.
pub(crate) fn sdk_failure<E>(
    operation: &str,
    endpoint: Option<&str>,
    err: SdkError<E, HttpResponse>,
) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let host = endpoint.unwrap_or("the AWS endpoint");
    let (code, message) = match (err.code(), &err) {
        (Some(code), _) => (
            code.to_string(),
            err.message()
                .map_or_else(|| "(AWS gave no message)".to_string(), one_line),
        ),
        (None, SdkError::DispatchFailure(_)) => {
            ("DispatchFailure".into(), transport_failure(host, &err))
        }
        (None, SdkError::TimeoutError(_)) => ("TimeoutError".into(), transport_failure(host, &err)),
        (None, SdkError::ConstructionFailure(_)) => (
            "ConstructionFailure".into(),
            format!(
                "the request could not be built: {}",
                innermost(&err).unwrap_or_default()
            ),
        ),
        (None, SdkError::ResponseError(_)) => ("ResponseError".into(), unreadable(&err)),
        (None, _) => ("Unknown".into(), unreadable(&err)),
    };
    Error::Aws(AwsError {
        operation: operation.to_string(),
        code,
        message,
        request_id: err.request_id().map(str::to_string),
        source: None,
    })
}

/// The words for an answer that is not an AWS error maint can read (a
/// proxy's page, a truncated body): its status and content type, never
/// its body.
fn unreadable<E>(err: &SdkError<E, HttpResponse>) -> String {
    match err.raw_response() {
        Some(r) => format!(
            "the answer (HTTP {}{}) is not one maint can read",
            r.status().as_u16(),
            r.headers()
                .get("content-type")
                .map(|t| format!(", {}", one_line(t)))
                .unwrap_or_default()
        ),
        None => "the answer is not one maint can read".into(),
    }
}

/// The last cause of `error`'s chain, as text.
fn innermost(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut last = None;
    let mut next = error.source();
    while let Some(e) = next {
        last = Some(e.to_string());
        next = e.source();
    }
    last
}

/// `text` on one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl WafBackend {
    /// [`sdk_failure`] for a call of this backend's clients: ELB's
    /// `DescribeLoadBalancers`, else AWS WAF's.
    pub(super) fn aws_error<E>(&self, operation: &str, err: SdkError<E, HttpResponse>) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let endpoint = match operation {
            ELB_DESCRIBE => &self.endpoints.elb,
            _ => &self.endpoints.waf,
        };
        sdk_failure(operation, endpoint.as_deref(), err)
    }
}

pub(super) fn is_code(e: &Error, codes: &[&str]) -> bool {
    e.aws_code().is_some_and(|c| codes.contains(&c))
}

/// AWS WAF's call-rate quotas per account and Region, for every caller
/// together (AWS WAF Developer Guide, "AWS WAF quotas", calls per account per
/// Region): the least time between two calls of one action.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CallRates {
    /// `AssociateWebACL` and `DisassociateWebACL`: one request every 2 s.
    pub associate: Duration,
    /// `GetWebACLForResource` and `ListResourcesForWebACL`: one per second.
    pub per_resource_read: Duration,
    /// Each other Get or List action: five per second.
    pub read: Duration,
    /// Each Create, Put, Update (and Delete) action: one per second.
    pub write: Duration,
}

impl CallRates {
    /// The published quotas.
    pub const AWS: CallRates = CallRates {
        associate: Duration::from_secs(2),
        per_resource_read: Duration::from_secs(1),
        read: Duration::from_millis(200),
        write: Duration::from_secs(1),
    };

    /// These rates slowed down to `share` of them (0 < share <= 1), for
    /// accounts where other callers (pipelines, controllers) use the same
    /// quotas.
    pub fn share(self, share: f64) -> Self {
        let share = if share.is_finite() && share > 0.0 {
            share.min(1.0)
        } else {
            1.0
        };
        let slow = |d: Duration| d.div_f64(share);
        CallRates {
            associate: slow(self.associate),
            per_resource_read: slow(self.per_resource_read),
            read: slow(self.read),
            write: slow(self.write),
        }
    }

    /// The least time between two calls of `action`.
    pub fn period(&self, action: &str) -> Duration {
        match action {
            "AssociateWebACL" | "DisassociateWebACL" => self.associate,
            "GetWebACLForResource" | "ListResourcesForWebACL" => self.per_resource_read,
            a if ["Create", "Update", "Put", "Delete", "Tag", "Untag"]
                .iter()
                .any(|p| a.starts_with(p)) =>
            {
                self.write
            }
            _ => self.read,
        }
    }
}

impl Default for CallRates {
    fn default() -> Self {
        Self::AWS
    }
}

/// The one ELB call maint makes; ELB throttles it on its own terms.
const ELB_DESCRIBE: &str = "DescribeLoadBalancers";
/// ELB refills its bucket of Describe calls at 10 a second...
const ELB_DESCRIBE_PERIOD: Duration = Duration::from_millis(100);
/// ... and the bucket holds 40.
const ELB_DESCRIBE_BURST: NonZeroU32 = match NonZeroU32::new(40) {
    Some(n) => n,
    None => NonZeroU32::MIN,
};

/// The period a pacer keeps between two calls of an action AWS allows one
/// of per `period`: a small margin (2% and 20 ms), since AWS counts a call
/// when it arrives, and two calls sent exactly one period apart can arrive
/// closer.
pub(super) fn margin(period: Duration) -> Duration {
    period.mul_f64(1.02) + Duration::from_millis(20)
}

/// Token buckets, one per AWS WAF action, at [`CallRates`]: a call waits
/// until its action's quota allows it. One pacer per Region and rates is
/// shared by every backend of the process (every target a command acts on,
/// every call of one Python client), since AWS counts them together.
#[derive(Debug)]
pub(super) struct Pacer {
    rates: CallRates,
    region: String,
    buckets: std::sync::Mutex<HashMap<String, Arc<DefaultDirectRateLimiter>>>,
}

impl Pacer {
    /// The process's pacer for `region` at `rates`.
    pub(super) fn shared(region: &str, rates: CallRates) -> Arc<Pacer> {
        static PACERS: OnceLock<std::sync::Mutex<HashMap<String, Arc<Pacer>>>> = OnceLock::new();
        let key = format!("{region}|{rates:?}");
        let mut pacers = PACERS
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        pacers
            .entry(key)
            .or_insert_with(|| {
                Arc::new(Pacer {
                    rates,
                    region: region.to_string(),
                    buckets: std::sync::Mutex::new(HashMap::new()),
                })
            })
            .clone()
    }

    fn bucket(&self, action: &str) -> Arc<DefaultDirectRateLimiter> {
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        buckets
            .entry(action.to_string())
            .or_insert_with(|| {
                let (period, burst) = match action {
                    // ELB's own API, not AWS WAF's quotas: its Describe
                    // calls share a bucket of 40 per account and Region,
                    // refilled at 10 a second.
                    ELB_DESCRIBE => (ELB_DESCRIBE_PERIOD, ELB_DESCRIBE_BURST),
                    _ => (self.rates.period(action), NonZeroU32::MIN),
                };
                let quota = Quota::with_period(margin(period))
                    .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
                    .allow_burst(burst);
                Arc::new(RateLimiter::direct(quota))
            })
            .clone()
    }

    /// Waits until AWS's quota for `action` allows one more call.
    pub(super) async fn wait(&self, action: &str) {
        let bucket = self.bucket(action);
        if bucket.check().is_ok() {
            return;
        }
        let (service, period) = match action {
            ELB_DESCRIBE => ("ELB's", ELB_DESCRIBE_PERIOD),
            _ => ("AWS WAF's", self.rates.period(action)),
        };
        tracing::debug!(
            action,
            region = self.region,
            "waiting for {service} quota: one {action} every {:.1} s in {}",
            period.as_secs_f64(),
            self.region
        );
        bucket.until_ready().await;
    }
}

/// The message for an account quota AWS reports as reached.
fn quota_reached(error: Error) -> Error {
    let Error::Aws(mut aws) = error else {
        return error;
    };
    let limit = ["NUM_WEBACLS_BY_ACCOUNT", "NUM_IPSETS_BY_ACCOUNT"]
        .into_iter()
        .find(|l| aws.message.contains(l));
    let quota = match limit {
        Some("NUM_WEBACLS_BY_ACCOUNT") => "web ACLs per account and Region (default 100)",
        Some(_) => "IP sets per account and Region (default 100)",
        None => "an AWS WAF account quota",
    };
    aws.message = format!(
        "{}: the account has reached {quota}; delete unused web ACLs or IP sets \
         (`maint cleanup` removes maint's), or ask AWS for a higher quota",
        aws.message
    );
    Error::Aws(aws)
}

impl WafBackend {
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

    /// A call that is also retried while AWS WAF does not see a resource
    /// just made (`WAFUnavailableEntityException`: a new IP set or web ACL
    /// takes time to propagate), until the delete deadline; the Terraform
    /// AWS provider retries creates and updates for 5 minutes on it.
    pub(super) async fn until_usable<T, F, Fut>(
        &self,
        action: &'static str,
        what: &str,
        op: F,
    ) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let deadline = self.settings.delete_deadline;
        self.retrying(action, what, &[code::UNAVAILABLE], deadline, op)
            .await
    }

    /// Runs `op` (read, change, write under a lock token) again after each
    /// `WAFOptimisticLockException`: another writer got in between, so the
    /// state is read again and the *change* re-applied, never a stale list.
    /// After `max_attempts`, a conflict on `resource`.
    pub(super) async fn with_lock_retries<T, F, Fut>(&self, resource: &str, mut op: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        for attempt in 0..self.settings.max_attempts {
            match op().await {
                Err(e) if is_code(&e, &[code::LOCK]) => {
                    tracing::info!(resource, attempt, "another writer changed it; re-reading");
                    tokio::time::sleep(self.backoff(attempt)).await;
                }
                other => return other,
            }
        }
        Err(Error::Conflict {
            resource: resource.to_string(),
            message:
                "other writers kept changing maint's web ACL or IP sets; run the command again"
                    .into(),
        })
    }

    /// A call with throttling retries only.
    pub(super) async fn call<T, F, Fut>(&self, action: &'static str, what: &str, op: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        self.retrying(action, what, &[], Duration::MAX, op).await
    }
}
