//! The one public error type of maint-core.
//!
//! Every backend keeps its own private error details and maps them into
//! [`Error`], whose variants say what a caller can do about a failure: fix the
//! input, fix the target, resolve a foreign web ACL, retry later, or read the
//! AWS error code.

use std::time::Duration;

use crate::allowlist::AllowlistError;

/// A convenient alias for results whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in maint-core.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A value given by the user is not valid; nothing was changed.
    #[error(transparent)]
    InvalidInput(#[from] InvalidInput),

    /// An allowlist has one or more bad entries; nothing was changed.
    #[error(transparent)]
    InvalidAllowlist(#[from] AllowlistError),

    /// The config file is not valid; nothing was changed.
    #[error(transparent)]
    InvalidConfig(#[from] crate::config::ConfigError),

    /// The load balancer named by a target does not exist (in the region asked).
    #[error("load balancer not found: {target}")]
    TargetNotFound {
        /// The target as the user gave it (a name or an ARN).
        target: String,
    },

    /// The load balancer already has a web ACL that maint did not create.
    /// maint never replaces a security control it does not own.
    #[error(
        "{load_balancer} is already associated with web ACL '{web_acl_name}' ({web_acl_arn}), \
         which maint did not create; refusing to replace it"
    )]
    ForeignWebAcl {
        /// The load balancer's ARN.
        load_balancer: String,
        /// The foreign web ACL's ARN.
        web_acl_arn: String,
        /// The foreign web ACL's name.
        web_acl_name: String,
    },

    /// An allowlist change was asked for a load balancer that is not in
    /// maintenance (there is no allowlist to change).
    #[error("{load_balancer} is not in maintenance; run `enter` first")]
    NotInMaintenance {
        /// The load balancer's ARN.
        load_balancer: String,
    },

    /// Another writer kept changing the same resource and the change could not
    /// be applied within the retry budget; rerun the command.
    #[error("conflict on {resource}: {message}")]
    Conflict {
        /// The resource that was contended (an ARN or name).
        resource: String,
        /// What happened.
        message: String,
    },

    /// An AWS API call failed with an error maint does not handle itself.
    #[error(transparent)]
    Aws(#[from] AwsError),

    /// AWS holds something maint did not expect (a resource of maint's that
    /// was edited by hand, or a response AWS should not give).
    #[error("{message}")]
    Unexpected {
        /// What was unexpected, naming the resource.
        message: String,
        /// The underlying error, if any.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },

    /// A bounded wait ran out (for example, WAF not yet seeing a new web ACL).
    #[error("{what}: still not done after {}s", waited.as_secs())]
    Timeout {
        /// What was being waited for.
        what: String,
        /// How long maint waited.
        waited: Duration,
        /// The last error seen while waiting, if any.
        #[source]
        last_error: Option<Box<Error>>,
    },
}

/// A value given by the user that is not valid, with what it is and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {subject}: {reason}")]
pub struct InvalidInput {
    /// What was invalid, e.g. `status code 418` or `header "X Foo"`.
    pub subject: String,
    /// Why it is invalid, and where possible what would be valid.
    pub reason: String,
}

impl InvalidInput {
    /// Builds an invalid-input error for `subject` because of `reason`.
    pub fn new(subject: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            subject: subject.into(),
            reason: reason.into(),
        }
    }
}

/// An AWS API error that maint does not handle itself.
#[derive(Debug, thiserror::Error)]
#[error("AWS {operation} failed: {code}: {message}{}", request_id.as_deref().map(|id| format!(" (request id {id})")).unwrap_or_default())]
pub struct AwsError {
    /// The API operation, e.g. `AssociateWebACL`.
    pub operation: String,
    /// The AWS error code, e.g. `AccessDeniedException`.
    pub code: String,
    /// The AWS error message.
    pub message: String,
    /// The AWS request id, when the service returned one.
    pub request_id: Option<String>,
    /// The underlying SDK error.
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl Error {
    /// Shorthand for an [`Error::InvalidInput`].
    pub fn invalid(subject: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidInput(InvalidInput::new(subject, reason))
    }

    /// Shorthand for an [`Error::Unexpected`] without a source.
    pub fn unexpected(message: impl Into<String>) -> Self {
        Error::Unexpected {
            message: message.into(),
            source: None,
        }
    }

    /// The AWS error code, when this is an AWS error.
    pub fn aws_code(&self) -> Option<&str> {
        match self {
            Error::Aws(e) => Some(&e.code),
            _ => None,
        }
    }

    /// True when the error is the user's input, so nothing was attempted
    /// (the CLI maps this to exit code 2).
    pub fn is_invalid_input(&self) -> bool {
        matches!(
            self,
            Error::InvalidInput(_) | Error::InvalidAllowlist(_) | Error::InvalidConfig(_)
        )
    }
}
