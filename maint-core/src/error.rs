//! The one public error type of maint-core.
//!
//! Every part of the crate keeps its own detailed errors (an allowlist's
//! [`AllowlistError`](crate::allowlist::AllowlistError), a config file's
//! [`ConfigError`](crate::config::ConfigError), each backend's AWS
//! handling) and converts them into [`Error`] with `From`, whose variants say
//! what a caller can do about a failure: fix the input, fix the target,
//! resolve a foreign web ACL, retry later, or read the AWS error code. This
//! module depends on nothing else in the crate.
//!
//! [`Error::kind`] sorts every error into an [`ErrorKind`]; the CLI's exit
//! code, the JSON `kind` and the Python exception class all come from it.
//! [`Error`] is `Clone`, sources included (they are shared), so one failure
//! reported for many targets keeps its whole cause chain for each.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// A convenient alias for results whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An underlying error, shared so that [`Error`] can be cloned.
pub type Source = Arc<dyn std::error::Error + Send + Sync>;

/// Everything that can go wrong in maint-core.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A value given by the user is not valid; nothing was changed.
    #[error(transparent)]
    InvalidInput(#[from] InvalidInput),

    /// An allowlist has one or more bad entries; nothing was changed.
    #[error(transparent)]
    InvalidAllowlist(Problems),

    /// The config file is not valid; nothing was changed.
    #[error(transparent)]
    InvalidConfig(Problems),

    /// The load balancer (or other resource) named by a target does not
    /// exist (in the region asked).
    #[error("{} not found: {target}", crate::target::not_found_what(target))]
    TargetNotFound {
        /// The target as the user gave it (a name or an ARN).
        target: String,
    },

    /// Some targets of a changing command could not be looked up, so none
    /// was acted on: a service is never half switched because one of its
    /// load balancers is missing. Every target's failure is listed, in the
    /// order the targets were given.
    #[error("{}", unresolved_message(failures))]
    Unresolved {
        /// Each target that failed (as labelled in output) and why.
        failures: Vec<(String, Error)>,
    },

    /// The load balancer already has a web ACL that maint did not create.
    /// maint never replaces a security control it does not own.
    #[error(
        "{load_balancer} is already associated with web ACL '{web_acl_name}' ({web_acl_arn}), \
         which maint did not create; refusing to replace it (to add maint's rule to that web \
         ACL instead, and remove exactly that on exit: {}, or existing_web_acl = \"inject\" \
         for a config service)",
        Argument::Inject
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
        source: Option<Source>,
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

/// An argument a front end takes, which an error message may name: the
/// core's small vocabulary, worded by the front end for its users (a flag
/// for the CLI, a keyword for Python) through the [`Words`] it sets once
/// with [`set_words`]. Until one is set, arguments are worded as the CLI's
/// flags ([`Flags`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Argument {
    /// Consent to add maint's rule to a web ACL of another owner
    /// (`--inject`, `inject=True`).
    Inject,
    /// The region to work in (`--region`, `region=`).
    Region,
    /// Waiting until the public sees a change (`--wait`, `wait=True`).
    Wait,
    /// The public URL to probe while waiting (`--wait-url`, `wait_url=`).
    WaitUrl,
    /// The site's address in front of a bypass link (`--base-url`,
    /// `base_url=`).
    BaseUrl,
}

impl Argument {
    /// How the user asks for it, in the front end's words (e.g.
    /// `--wait-url`, or `wait_url` in Python).
    pub fn name(self) -> &'static str {
        words().name(self)
    }

    /// The argument given `value`, as the user would write it (e.g.
    /// `--region eu-west-1`, or `region="eu-west-1"` in Python).
    pub fn given(self, value: &str) -> String {
        words().given(self, value)
    }
}

impl fmt::Display for Argument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a front end words the core's [`Argument`]s in messages.
pub trait Words: Send + Sync {
    /// How the user asks for `argument` (a flag, a keyword argument).
    fn name(&self, argument: Argument) -> &'static str;

    /// `argument` given `value`; by default the name, a space and the
    /// value, as on a command line.
    fn given(&self, argument: Argument, value: &str) -> String {
        format!("{} {value}", self.name(argument))
    }
}

/// The CLI's flags: the wording until a front end sets its own.
#[derive(Debug, Clone, Copy, Default)]
pub struct Flags;

impl Words for Flags {
    fn name(&self, argument: Argument) -> &'static str {
        match argument {
            Argument::Inject => "--inject",
            Argument::Region => "--region",
            Argument::Wait => "--wait",
            Argument::WaitUrl => "--wait-url",
            Argument::BaseUrl => "--base-url",
        }
    }
}

static WORDS: std::sync::OnceLock<Box<dyn Words>> = std::sync::OnceLock::new();

/// Sets, once for the process, how error messages word the core's
/// [`Argument`]s (a front end does this at start, before any message is
/// made). Returns false, changing nothing, when words were already set.
pub fn set_words(words: impl Words + 'static) -> bool {
    WORDS.set(Box::new(words)).is_ok()
}

fn words() -> &'static dyn Words {
    match WORDS.get() {
        Some(words) => words.as_ref(),
        None => &Flags,
    }
}

fn unresolved_message(failures: &[(String, Error)]) -> String {
    let list: Vec<String> = failures
        .iter()
        .map(|(target, error)| format!("{target}: {}", chain(error)))
        .collect();
    format!("{}: {}", unresolved_heading(failures), list.join("; "))
}

/// The first words of an [`Error::Unresolved`]: how many targets could not
/// be looked up (or, when every failure is an account maint could not act
/// in, how many accounts), and that nothing was changed.
pub fn unresolved_heading(failures: &[(String, Error)]) -> String {
    let accounts =
        !failures.is_empty() && failures.iter().all(|(t, _)| t.starts_with(ACCOUNT_LABEL));
    let (what, verb) = if accounts {
        ("account", "could not be acted in")
    } else {
        ("target", "could not be looked up")
    };
    format!(
        "{} {what}{} {verb}, so nothing was changed",
        failures.len(),
        if failures.len() == 1 { "" } else { "s" },
    )
}

/// How an account maint cannot act in is labelled in
/// [`Error::Unresolved`]: `account <name>`.
pub(crate) const ACCOUNT_LABEL: &str = "account ";

/// What kind of failure an [`Error`] is: what the caller can do about it.
///
/// Deliberately exhaustive (unlike [`Error`]): a new kind must be handled by
/// every front end (exit code, Python exception class), so adding one is a
/// compile error there rather than a silent misreport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The user's input (flags, arguments, allowlist, page, config) is not
    /// valid; nothing was changed.
    InvalidInput,
    /// A target names a load balancer that does not exist.
    TargetNotFound,
    /// The target carries a web ACL that maint did not create.
    ForeignWebAcl,
    /// An allowlist change for a target that is not in maintenance.
    NotInMaintenance,
    /// Another writer kept changing the same resource.
    Conflict,
    /// An AWS API call failed.
    Aws,
    /// A bounded wait ran out.
    Timeout,
    /// Anything else: AWS holds something maint did not expect.
    Unexpected,
}

impl ErrorKind {
    /// The kind's name, as in JSON output: `invalid_input`,
    /// `target_not_found`, `foreign_web_acl`, `not_in_maintenance`,
    /// `conflict`, `aws`, `timeout` or `unexpected`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::TargetNotFound => "target_not_found",
            ErrorKind::ForeignWebAcl => "foreign_web_acl",
            ErrorKind::NotInMaintenance => "not_in_maintenance",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Aws => "aws",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Unexpected => "unexpected",
        }
    }

    /// True for the user's mistakes, which change nothing and are fixed by
    /// changing the command: bad input and targets that do not exist (the
    /// CLI exits 2 for these).
    pub fn is_bad_input(self) -> bool {
        matches!(self, ErrorKind::InvalidInput | ErrorKind::TargetNotFound)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
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

/// One problem in a piece of input read from somewhere (an allowlist entry,
/// a config file key), with as much of its location as is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file it is in, as given (`-` for standard input).
    pub file: Option<String>,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// The dotted config key (e.g. `services.shop.status`), when known.
    pub key: Option<String>,
    /// The offending entry as written, when the problem is about one entry.
    pub entry: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl Problem {
    /// A problem with only a message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            file: None,
            line: None,
            column: None,
            key: None,
            entry: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    /// `FILE:LINE:COLUMN: KEY: ENTRY: message`, leaving out unknown parts.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            f.write_str(file)?;
            if let Some(line) = self.line {
                write!(f, ":{line}")?;
                if let Some(column) = self.column {
                    write!(f, ":{column}")?;
                }
            }
            f.write_str(": ")?;
        }
        for part in [&self.key, &self.entry].into_iter().flatten() {
            write!(f, "{part}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Input with one or more problems (never none), every one reported, so the
/// user fixes them all in one go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems {
    /// What the input is, e.g. `allowlist` or `config`.
    subject: &'static str,
    problems: Vec<Problem>,
}

impl Problems {
    /// Problems in `subject` (e.g. `"allowlist"`). `problems` must not be
    /// empty.
    pub fn new(subject: &'static str, problems: Vec<Problem>) -> Self {
        Self { subject, problems }
    }

    /// What the input is, e.g. `allowlist` or `config`.
    pub fn subject(&self) -> &'static str {
        self.subject
    }

    /// Every problem, in input order.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.problems.as_slice() {
            [one] => write!(f, "invalid {}: {one}", self.subject),
            many => {
                write!(f, "invalid {} ({} problems):", self.subject, many.len())?;
                for p in many {
                    write!(f, "\n  {p}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for Problems {}

/// An AWS API error that maint does not handle itself, told in one line:
/// `AWS <operation> failed: <code>: <message>` when AWS answered with an
/// error code, `AWS <operation> failed: <what went wrong>` when it did not
/// (the code is then one of [`AwsError::NOT_FROM_AWS`]).
#[derive(Debug, Clone, thiserror::Error)]
#[error("AWS {operation} failed: {}{message}{}", self.shown_code(), request_id.as_deref().map(|id| format!(" (request id {id})")).unwrap_or_default())]
pub struct AwsError {
    /// The API operation, e.g. `AssociateWebACL`.
    pub operation: String,
    /// The AWS error code, e.g. `AccessDeniedException`, or one of
    /// [`AwsError::NOT_FROM_AWS`] when AWS gave none.
    pub code: String,
    /// The AWS error message; for a failure AWS did not answer, what failed
    /// in plain words (connection refused by a host, DNS, TLS, a timeout).
    /// Never a raw response body.
    pub message: String,
    /// The AWS request id, when the service returned one.
    pub request_id: Option<String>,
    /// The underlying error. maint's AWS backend leaves it out: the SDK's
    /// error holds the raw HTTP response (headers and a body that may hold
    /// a bypass secret), and its code and message are above.
    #[source]
    pub source: Option<Source>,
}

impl AwsError {
    /// The codes of failures AWS gave no error code for: the request could
    /// not be sent or got no answer (`DispatchFailure`, `TimeoutError`),
    /// could not be built (`ConstructionFailure`), or the answer could not
    /// be read (`ResponseError`, `Unknown`). The message says what happened.
    pub const NOT_FROM_AWS: [&'static str; 5] = [
        "DispatchFailure",
        "TimeoutError",
        "ConstructionFailure",
        "ResponseError",
        "Unknown",
    ];

    /// `code: ` when the code is AWS's, else nothing (the message says it).
    fn shown_code(&self) -> String {
        if Self::NOT_FROM_AWS.contains(&self.code.as_str()) {
            String::new()
        } else {
            format!("{}: ", self.code)
        }
    }
}

/// A URL as messages show it: scheme and host (with its port) only. A
/// webhook's path is its secret (`https://hooks.slack.com/services/...`),
/// and a URL may carry a user and password; neither is ever shown.
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, url),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or(authority);
    match scheme {
        Some(scheme) => format!("{scheme}://{host}"),
        None => host.to_string(),
    }
}

/// What failed on the way to `host` (as messages show it: see
/// [`redact_url`]), in plain words, from a transport error and its causes:
/// connection refused, DNS, TLS, a timeout, a connection reset, else the
/// innermost cause. The one wording for every HTTP client maint uses (the
/// AWS SDK, webhooks, `--wait` probes). Give it errors that do not show the
/// URL themselves (`reqwest::Error::without_url`).
pub fn transport_failure(host: &str, error: &(dyn std::error::Error + 'static)) -> String {
    let mut texts = Vec::new();
    let mut io_kind = None;
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            io_kind = io_kind.or(Some(io.kind()));
        }
        texts.push(e.to_string());
        next = e.source();
    }
    let all = texts.join(": ").to_lowercase();
    let innermost = texts.last().cloned().unwrap_or_default();
    use std::io::ErrorKind as Io;
    if io_kind == Some(Io::ConnectionRefused) || all.contains("connection refused") {
        format!("connection refused by {host}")
    } else if all.contains("dns error") || all.contains("failed to lookup address") {
        format!("cannot find {host} (DNS lookup failed: {innermost})")
    } else if ["certificate", "tls", "ssl", "handshake"]
        .iter()
        .any(|w| all.contains(w))
    {
        format!("TLS with {host} failed: {innermost}")
    } else if io_kind == Some(Io::TimedOut) || all.contains("timed out") || all.contains("timeout")
    {
        format!("no answer from {host} in time (timeout)")
    } else if matches!(io_kind, Some(Io::ConnectionReset | Io::ConnectionAborted))
        || all.contains("connection reset")
        || all.contains("connection closed")
    {
        format!("the connection to {host} was closed before an answer")
    } else {
        format!("cannot reach {host}: {innermost}")
    }
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

    /// What kind of failure this is. For [`Error::Unresolved`], the kind of
    /// its first failure; for a [`Error::Timeout`], always `Timeout`.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidInput(_) | Error::InvalidAllowlist(_) | Error::InvalidConfig(_) => {
                ErrorKind::InvalidInput
            }
            Error::TargetNotFound { .. } => ErrorKind::TargetNotFound,
            Error::Unresolved { failures } => failures
                .first()
                .map_or(ErrorKind::Unexpected, |(_, e)| e.kind()),
            Error::ForeignWebAcl { .. } => ErrorKind::ForeignWebAcl,
            Error::NotInMaintenance { .. } => ErrorKind::NotInMaintenance,
            Error::Conflict { .. } => ErrorKind::Conflict,
            Error::Aws(_) => ErrorKind::Aws,
            Error::Timeout { .. } => ErrorKind::Timeout,
            Error::Unexpected { .. } => ErrorKind::Unexpected,
        }
    }

    /// The error that decides what a caller sees: for [`Error::Unresolved`]
    /// its first failure (recursively), else the error itself. Front ends
    /// read attributes (the missing target, the foreign ACL) from it.
    pub fn primary(&self) -> &Error {
        match self {
            Error::Unresolved { failures } => failures.first().map_or(self, |(_, e)| e.primary()),
            other => other,
        }
    }

    /// The AWS error behind this one, when there is one: the error itself,
    /// the last error of a timeout, or the first failure of an unresolved
    /// lookup.
    pub fn aws(&self) -> Option<&AwsError> {
        match self.primary() {
            Error::Aws(e) => Some(e),
            Error::Timeout {
                last_error: Some(last),
                ..
            } => last.aws(),
            _ => None,
        }
    }

    /// The AWS error code, when [`Error::aws`] finds an AWS error.
    pub fn aws_code(&self) -> Option<&str> {
        self.aws().map(|e| e.code.as_str())
    }
}

/// The distinct causes of an error, outermost first, the error itself
/// excluded: a cause whose text the message already contains is left out
/// (transparent wrappers repeat their source's text).
pub fn causes(error: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut seen = error.to_string();
    let mut causes = Vec::new();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !seen.contains(&text) {
            seen.push('\n');
            seen.push_str(&text);
            causes.push(text);
        }
        source = cause.source();
    }
    causes
}

/// An error's message followed by each distinct cause, on one line:
/// `a: b: c`. Used where one line per failure is wanted (per-target
/// reports, JSON, Python exception messages).
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut message = error.to_string();
    for cause in causes(error) {
        message.push_str(": ");
        message.push_str(&cause);
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("connection refused")]
    struct Refused;

    fn aws_error() -> Error {
        Error::Aws(AwsError {
            operation: "GetWebACLForResource".into(),
            code: "DispatchFailure".into(),
            message: "io error".into(),
            request_id: None,
            source: Some(Arc::new(Refused)),
        })
    }

    #[test]
    fn the_chain_lists_each_distinct_cause_once() {
        let timeout = Error::Timeout {
            what: "associating".into(),
            waited: Duration::from_secs(3),
            last_error: Some(Box::new(aws_error())),
        };
        assert_eq!(
            causes(&timeout),
            [
                "AWS GetWebACLForResource failed: io error",
                "connection refused"
            ]
        );
        assert_eq!(
            chain(&timeout),
            "associating: still not done after 3s: AWS GetWebACLForResource failed: \
             io error: connection refused"
        );
    }

    #[test]
    fn an_aws_error_shows_awss_code_and_only_awss() {
        let mut error = AwsError {
            operation: "GetWebACL".into(),
            code: "AccessDeniedException".into(),
            message: "not allowed".into(),
            request_id: Some("r-1".into()),
            source: None,
        };
        assert_eq!(
            error.to_string(),
            "AWS GetWebACL failed: AccessDeniedException: not allowed (request id r-1)"
        );
        error.code = "DispatchFailure".into();
        error.message = "connection refused by http://127.0.0.1:9".into();
        error.request_id = None;
        assert_eq!(
            error.to_string(),
            "AWS GetWebACL failed: connection refused by http://127.0.0.1:9"
        );
    }

    #[test]
    fn a_url_is_shown_as_scheme_and_host_only() {
        for (url, shown) in [
            (
                "https://hooks.slack.com/services/T000/B000/XXXX",
                "https://hooks.slack.com",
            ),
            (
                "http://user:PASSWORD@127.0.0.1:9/hook?k=v",
                "http://127.0.0.1:9",
            ),
            ("https://example.com?token=x", "https://example.com"),
            ("https://example.com#frag", "https://example.com"),
            ("http://127.0.0.1:9", "http://127.0.0.1:9"),
            ("user:pw@hooks.example.com/path", "hooks.example.com"),
        ] {
            assert_eq!(redact_url(url), shown, "{url}");
        }
    }

    /// An error with a message and an optional cause, as HTTP clients nest them.
    #[derive(Debug)]
    struct Layer(
        &'static str,
        Option<Box<dyn std::error::Error + Send + Sync>>,
    );

    impl fmt::Display for Layer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|e| e as _)
        }
    }

    #[test]
    fn a_transport_failure_is_told_in_plain_words() {
        use std::io::{Error as Io, ErrorKind};
        let over = |cause: Box<dyn std::error::Error + Send + Sync>| {
            Layer(
                "dispatch failure",
                Some(Box::new(Layer("client error (Connect)", Some(cause)))),
            )
        };
        let host = "https://wafv2.us-east-1.amazonaws.com";
        for (cause, words) in [
            (
                Io::from(ErrorKind::ConnectionRefused).into(),
                format!("connection refused by {host}"),
            ),
            (
                Box::new(Layer(
                    "dns error",
                    Some(
                        Io::other(
                            "failed to lookup address information: Name or service not known",
                        )
                        .into(),
                    ),
                )) as Box<dyn std::error::Error + Send + Sync>,
                format!(
                    "cannot find {host} (DNS lookup failed: failed to lookup address \
                     information: Name or service not known)"
                ),
            ),
            (
                Io::other("invalid peer certificate: UnknownIssuer").into(),
                format!("TLS with {host} failed: invalid peer certificate: UnknownIssuer"),
            ),
            (
                Io::from(ErrorKind::TimedOut).into(),
                format!("no answer from {host} in time (timeout)"),
            ),
            (
                Io::from(ErrorKind::ConnectionReset).into(),
                format!("the connection to {host} was closed before an answer"),
            ),
            (
                Io::other("no route to host").into(),
                format!("cannot reach {host}: no route to host"),
            ),
        ] {
            assert_eq!(transport_failure(host, &over(cause)), words);
        }
    }

    #[test]
    fn a_cloned_error_keeps_its_source() {
        let error = aws_error();
        let copy = error.clone();
        assert_eq!(chain(&copy), chain(&error));
        assert!(std::error::Error::source(&copy).is_some());
    }

    #[test]
    fn an_unresolved_lookup_has_the_kind_and_attributes_of_its_first_failure() {
        let error = Error::Unresolved {
            failures: vec![
                (
                    "shop/missing".into(),
                    Error::TargetNotFound {
                        target: "missing".into(),
                    },
                ),
                ("other".into(), aws_error()),
            ],
        };
        assert_eq!(error.kind(), ErrorKind::TargetNotFound);
        assert!(error.kind().is_bad_input());
        assert!(matches!(error.primary(), Error::TargetNotFound { target } if target == "missing"));
        let text = error.to_string();
        assert!(
            text.starts_with("2 targets could not be looked up"),
            "{text}"
        );
        assert!(
            text.contains("shop/missing: load balancer not found: missing"),
            "{text}"
        );
        assert!(text.contains("connection refused"), "{text}");
    }

    #[test]
    fn a_timeout_is_its_own_kind_but_keeps_the_aws_code() {
        let timeout = Error::Timeout {
            what: "x".into(),
            waited: Duration::from_secs(1),
            last_error: Some(Box::new(aws_error())),
        };
        assert_eq!(timeout.kind(), ErrorKind::Timeout);
        assert_eq!(timeout.aws_code(), Some("DispatchFailure"));
    }

    #[test]
    fn problems_print_with_their_location() {
        let p = Problem {
            file: Some("maint.toml".into()),
            line: Some(3),
            column: Some(10),
            key: Some("services.shop.status".into()),
            entry: None,
            message: "418 is not a status AWS WAF accepts".into(),
        };
        assert_eq!(
            p.to_string(),
            "maint.toml:3:10: services.shop.status: 418 is not a status AWS WAF accepts"
        );
        let one = Problems::new("config", vec![p.clone()]);
        assert!(one
            .to_string()
            .starts_with("invalid config: maint.toml:3:10"));
        let two = Problems::new("allowlist", vec![p.clone(), Problem::new("second")]);
        assert_eq!(
            two.to_string(),
            format!("invalid allowlist (2 problems):\n  {p}\n  second")
        );
    }
}
