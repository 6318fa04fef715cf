//! AWS's errors in maint's terms: the AWS error codes the WAF backend
//! handles itself ([`code`]), an SDK error mapped to [`Error::Aws`] in one
//! line ([`sdk_failure`]), and how a failed call is classified for retrying
//! ([`is_code`], an account quota reported by name: [`quota_reached`]).

use aws_sdk_wafv2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_wafv2::operation::RequestId;
use aws_smithy_runtime_api::http::Response as HttpResponse;

use crate::error::{transport_failure, AwsError};
use crate::Error;

/// AWS error codes the backend handles itself.
pub(super) mod code {
    pub const LOCK: &str = "WAFOptimisticLockException";
    pub const UNAVAILABLE: &str = "WAFUnavailableEntityException";
    pub const ASSOCIATED: &str = "WAFAssociatedItemException";
    pub const NONEXISTENT: &str = "WAFNonexistentItemException";
    /// CloudFront: the distribution does not exist.
    pub const NO_SUCH_DISTRIBUTION: &str = "NoSuchDistribution";
    /// CloudFront: the distribution changed since the config was read
    /// (`IfMatch` no longer matches its ETag); read again.
    pub const PRECONDITION_FAILED: &str = "PreconditionFailed";
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
    /// (`sent_once` in the client).
    pub const TRANSIENT: [&str; 5] = [
        "WAFInternalErrorException",
        "InternalFailure",
        "ServiceUnavailable",
        "TimeoutError",
        "DispatchFailure",
    ];
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

/// Whether `e` is an AWS error with one of `codes`.
pub(super) fn is_code(e: &Error, codes: &[&str]) -> bool {
    e.aws_code().is_some_and(|c| codes.contains(&c))
}

/// The message for an account quota AWS reports as reached.
pub(super) fn quota_reached(error: Error) -> Error {
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
