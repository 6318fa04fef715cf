//! Who gets through a window besides the allowlist, and how a request's
//! address is found: a bypass secret (a header, a cookie, and a link that
//! sets the cookie), and the client address read from a header set by a
//! proxy (CloudFront, another load balancer) instead of the connection.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::InvalidInput;

/// The request header that carries the bypass secret (API clients, probes).
pub const BYPASS_HEADER: &str = "x-maint-bypass";
/// The cookie that carries the bypass secret (browsers, after the link).
pub const BYPASS_COOKIE: &str = "maint_bypass";
/// The path of the bypass link, followed by the secret.
pub const BYPASS_PATH_PREFIX: &str = "/maint-bypass/";
/// The request header of a probe (`--wait`): with the window's name as its
/// value, maint's rule treats the request as neither allowlisted nor
/// bypassed, so the probe sees what the public sees.
pub const PROBE_HEADER: &str = "x-maint-probe";

/// A bypass secret: [`MIN_CHARS`](Self::MIN_CHARS) to
/// [`MAX_CHARS`](Self::MAX_CHARS) of `[A-Za-z0-9_-]`, so it is the same in
/// a URL path, a cookie value and a header, and WAF matches it byte for
/// byte. Its `Debug` never shows it: read it with [`expose`](Self::expose)
/// where it must be shown (the link a user asked for).
#[derive(Clone, PartialEq, Eq)]
pub struct BypassSecret(String);

impl BypassSecret {
    /// The shortest secret accepted: 22 characters of 64 are 132 bits.
    pub const MIN_CHARS: usize = 22;
    /// The longest secret accepted (WAF matches at most 200 bytes, and the
    /// link's path and the `Set-Cookie` header must fit AWS's limits).
    pub const MAX_CHARS: usize = 64;
    /// Characters in a secret made by [`random`](Self::random): 192 bits.
    const RANDOM_CHARS: usize = 32;
    const ALPHABET: &'static [u8; 64] =
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    /// Validates a secret given by a user.
    pub fn new(secret: &str) -> Result<Self, InvalidInput> {
        let subject = "bypass secret";
        let n = secret.chars().count();
        if !(Self::MIN_CHARS..=Self::MAX_CHARS).contains(&n) {
            return Err(InvalidInput::new(
                subject,
                format!(
                    "is {n} characters long; it must be {} to {} (at least 128 bits)",
                    Self::MIN_CHARS,
                    Self::MAX_CHARS
                ),
            ));
        }
        if let Some(c) = secret
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return Err(InvalidInput::new(
                subject,
                format!(
                    "contains {c:?}; only letters, digits, '-' and '_' are allowed \
                     (the same in a URL, a cookie and a header)"
                ),
            ));
        }
        Ok(Self(secret.to_string()))
    }

    /// Validates a secret read from a file: one line, whose line ending
    /// (`\n` or `\r\n`) is ignored. Errors never show the text.
    pub fn from_line(text: &str) -> Result<Self, InvalidInput> {
        let line = text
            .strip_suffix("\r\n")
            .or_else(|| text.strip_suffix('\n'))
            .unwrap_or(text);
        if line.contains(['\n', '\r']) {
            return Err(InvalidInput::new(
                "bypass secret",
                "has more than one line; give the secret alone, on one line",
            ));
        }
        Self::new(line)
    }

    /// A new random secret from the operating system's random source,
    /// URL-safe, 192 bits.
    pub fn random() -> Self {
        let mut bytes = [0u8; Self::RANDOM_CHARS];
        // The OS source fails only on a broken system; a secret made from
        // anything weaker would be worse than stopping.
        #[allow(clippy::expect_used)]
        getrandom::getrandom(&mut bytes).expect("the operating system's random source failed");
        // 64 divides 256: each byte's low 6 bits pick a character unbiased.
        Self(
            bytes
                .iter()
                .map(|b| char::from(Self::ALPHABET[usize::from(b & 63)]))
                .collect(),
        )
    }

    /// The secret itself. Show it only where a user asked for it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The path of the bypass link: [`BYPASS_PATH_PREFIX`] and the secret.
    pub fn link_path(&self) -> String {
        format!("{BYPASS_PATH_PREFIX}{}", self.0)
    }

    /// The `Set-Cookie` value the bypass link answers with: the secret, for
    /// the whole site, over HTTPS only, out of reach of scripts, sent on a
    /// top-level navigation from another site (a link in chat), and gone
    /// when the window is planned to end (`until`), or after
    /// [`COOKIE_MAX_AGE_SECS`] without an end.
    pub fn set_cookie(&self, until: Option<DateTime<Utc>>) -> String {
        let lifetime = match until.filter(|u| *u > Utc::now()) {
            Some(until) => format!("Expires={}", until.format("%a, %d %b %Y %H:%M:%S GMT")),
            None => format!("Max-Age={COOKIE_MAX_AGE_SECS}"),
        };
        format!(
            "{BYPASS_COOKIE}={}; Path=/; {lifetime}; Secure; HttpOnly; SameSite=Lax",
            self.0
        )
    }

    /// The headers of the bypass link's redirect, in order.
    pub fn link_response_headers(&self, until: Option<DateTime<Utc>>) -> Vec<(String, String)> {
        vec![
            ("Location".to_string(), "/".to_string()),
            ("Set-Cookie".to_string(), self.set_cookie(until)),
            ("Cache-Control".to_string(), "no-store".to_string()),
        ]
    }
}

/// Lifetime of the bypass cookie when the window has no planned end.
pub const COOKIE_MAX_AGE_SECS: u32 = 12 * 3600;

impl fmt::Debug for BypassSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BypassSecret(<redacted>)")
    }
}

/// What `enter` does with a window's bypass secret.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum BypassRequest {
    /// Keep what the window has (none for a new window): a repeated
    /// `enter` never changes who gets in by surprise.
    #[default]
    Keep,
    /// A bypass: the window's secret if it has one, else a new random one
    /// (`--bypass`, `bypass = true`).
    On,
    /// This secret (`--bypass-secret`).
    Set(BypassSecret),
    /// A new random secret, so old links and cookies stop working
    /// (`--rotate-bypass`).
    Rotate,
    /// No bypass (`--no-bypass`).
    Off,
}

impl BypassRequest {
    /// The secret the window gets, given the one it has.
    pub fn resolve(&self, current: Option<&BypassSecret>) -> Option<BypassSecret> {
        match self {
            BypassRequest::Keep => current.cloned(),
            BypassRequest::On => Some(current.cloned().unwrap_or_else(BypassSecret::random)),
            BypassRequest::Set(secret) => Some(secret.clone()),
            BypassRequest::Rotate => Some(BypassSecret::random()),
            BypassRequest::Off => None,
        }
    }
}

/// A window's bypass, as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BypassState {
    /// The secret.
    pub secret: BypassSecret,
    /// Whether it lets requests through now (`allowlist disable` shuts it
    /// too, unless told to keep it).
    pub enabled: bool,
}

/// Which address of a header's list is the client's
/// (`IPSetForwardedIPConfig.Position`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientIpPosition {
    /// The first address: whatever the client claims. Spoofable.
    First,
    /// The last address: the one the nearest proxy appended. The right
    /// choice behind CloudFront or one proxy that appends.
    Last,
    /// Any address in the list: a client can add an allowlisted address.
    Any,
}

impl ClientIpPosition {
    /// The config and flag spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ClientIpPosition::First => "first",
            ClientIpPosition::Last => "last",
            ClientIpPosition::Any => "any",
        }
    }

    /// Parses the config and flag spelling.
    pub fn parse(text: &str) -> Result<Self, InvalidInput> {
        match text.to_ascii_lowercase().as_str() {
            "first" => Ok(ClientIpPosition::First),
            "last" => Ok(ClientIpPosition::Last),
            "any" => Ok(ClientIpPosition::Any),
            _ => Err(InvalidInput::new(
                format!("client address position {text:?}"),
                "is not one of \"first\", \"last\", \"any\"",
            )),
        }
    }
}

/// What happens to a request whose header holds no valid address
/// (`IPSetForwardedIPConfig.FallbackBehavior`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientIpFallback {
    /// Treated as on the allowlist: let through. Rarely wanted.
    Match,
    /// Treated as not on the allowlist: gets the maintenance response.
    #[default]
    NoMatch,
}

impl ClientIpFallback {
    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ClientIpFallback::Match => "match",
            ClientIpFallback::NoMatch => "no_match",
        }
    }

    /// Parses the config spelling.
    pub fn parse(text: &str) -> Result<Self, InvalidInput> {
        match text.to_ascii_lowercase().replace('-', "_").as_str() {
            "match" => Ok(ClientIpFallback::Match),
            "no_match" => Ok(ClientIpFallback::NoMatch),
            _ => Err(InvalidInput::new(
                format!("client address fallback {text:?}"),
                "is not one of \"match\", \"no_match\"",
            )),
        }
    }
}

/// Where the allowlist finds a request's address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum ClientIp {
    /// The connection's source address (the default: right when clients
    /// reach the load balancer directly).
    #[default]
    Connection,
    /// An address from a request header set by a proxy in front of the
    /// load balancer (CloudFront, another load balancer).
    Header {
        /// The header (`^[a-zA-Z0-9-]+$`, 1 to 255 characters: WAF's rule).
        name: String,
        /// Which address of the header's list.
        position: ClientIpPosition,
        /// What a request without a valid address there gets.
        #[serde(default)]
        fallback: ClientIpFallback,
    },
}

impl ClientIp {
    /// A header source, validated.
    pub fn header(
        name: &str,
        position: ClientIpPosition,
        fallback: ClientIpFallback,
    ) -> Result<Self, InvalidInput> {
        let ok = (1..=255).contains(&name.len())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !ok {
            return Err(InvalidInput::new(
                format!("client address header {name:?}"),
                "must be 1 to 255 letters, digits and '-' (AWS WAF's rule for the header name)",
            ));
        }
        Ok(ClientIp::Header {
            name: name.to_string(),
            position,
            fallback,
        })
    }

    /// Where the address comes from, in words (`status`, `check`).
    pub fn describe(&self) -> String {
        match self {
            ClientIp::Connection => "the connection".to_string(),
            ClientIp::Header { name, position, .. } => {
                format!("header {name} ({} address)", position.as_str())
            }
        }
    }

    /// Ways this choice lets a client spoof its way in, as warnings to show
    /// when it is set. Empty for the connection.
    pub fn warnings(&self) -> Vec<String> {
        let ClientIp::Header {
            name,
            position,
            fallback,
        } = self
        else {
            return Vec::new();
        };
        let mut warnings = Vec::new();
        match position {
            ClientIpPosition::First => warnings.push(format!(
                "the first address of {name} is whatever the client sends: anyone who puts an \
                 allowlisted address there gets in; behind CloudFront or one proxy that appends, \
                 use position \"last\""
            )),
            ClientIpPosition::Any => warnings.push(format!(
                "with position \"any\", a client that adds an allowlisted address to {name} gets \
                 in; behind CloudFront or one proxy that appends, use position \"last\""
            )),
            ClientIpPosition::Last => {}
        }
        if name.eq_ignore_ascii_case("CloudFront-Viewer-Address") {
            warnings.push(
                "CloudFront-Viewer-Address holds address:port, which AWS WAF does not document \
                 reading as an address; behind CloudFront use X-Forwarded-For with position \
                 \"last\""
                    .to_string(),
            );
        }
        if *fallback == ClientIpFallback::Match {
            warnings.push(format!(
                "fallback \"match\" lets through every request whose {name} holds no valid \
                 address; \"no_match\" (the default) gives them the maintenance response"
            ));
        }
        warnings.push(format!(
            "the allowlist now trusts {name}: make sure the load balancer accepts traffic only \
             from the proxy that sets it (for CloudFront: its origin-facing prefix list in the \
             security group), or any client can claim an allowlisted address"
        ));
        warnings
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_file_holds_one_line_and_its_line_ending_is_ignored() {
        let secret = "abcdefghijklmnopqrstuvwxyz012345";
        for text in [
            secret.to_string(),
            format!("{secret}\n"),
            format!("{secret}\r\n"),
        ] {
            assert_eq!(BypassSecret::from_line(&text).unwrap().expose(), secret);
        }
        for text in [
            format!("{secret}\n{secret}\n"),
            format!("{secret}\n\n"),
            String::new(),
            "\n".into(),
            format!(" {secret}"),
        ] {
            let err = BypassSecret::from_line(&text).unwrap_err();
            assert!(!err.to_string().contains(secret), "{err}");
        }
    }

    #[test]
    fn secrets_are_url_safe_long_enough_and_never_shown_by_debug() {
        let a = BypassSecret::random();
        let b = BypassSecret::random();
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), 32);
        assert!(BypassSecret::new(a.expose()).is_ok());
        assert!(!format!("{a:?}").contains(a.expose()));
        assert!(a.link_path().starts_with("/maint-bypass/"));
        assert!(BypassSecret::new("short").is_err());
        assert!(BypassSecret::new(&"x".repeat(65)).is_err());
        let err = BypassSecret::new("abcdefghijklmnopqrstuvwxyz;").unwrap_err();
        assert!(err.to_string().contains("';'"), "{err}");
    }

    #[test]
    fn a_bypass_request_resolves_against_the_windows_secret() {
        let current = BypassSecret::random();
        let mine = BypassSecret::new("0123456789abcdefghijklmn").unwrap();
        assert_eq!(
            BypassRequest::Keep.resolve(Some(&current)),
            Some(current.clone())
        );
        assert_eq!(BypassRequest::Keep.resolve(None), None);
        assert_eq!(
            BypassRequest::On.resolve(Some(&current)),
            Some(current.clone())
        );
        assert!(BypassRequest::On.resolve(None).is_some());
        assert_eq!(
            BypassRequest::Set(mine.clone()).resolve(Some(&current)),
            Some(mine)
        );
        let rotated = BypassRequest::Rotate.resolve(Some(&current)).unwrap();
        assert_ne!(rotated, current);
        assert_eq!(BypassRequest::Off.resolve(Some(&current)), None);
    }

    #[test]
    fn client_ip_headers_follow_wafs_rule_and_risky_choices_warn() {
        assert!(
            ClientIp::header("X Forwarded", ClientIpPosition::Last, Default::default()).is_err()
        );
        let last = ClientIp::header(
            "X-Forwarded-For",
            ClientIpPosition::Last,
            Default::default(),
        )
        .unwrap();
        assert_eq!(last.describe(), "header X-Forwarded-For (last address)");
        assert_eq!(last.warnings().len(), 1);
        let any = ClientIp::header(
            "X-Forwarded-For",
            ClientIpPosition::Any,
            ClientIpFallback::Match,
        )
        .unwrap();
        assert_eq!(any.warnings().len(), 3);
        assert!(ClientIp::Connection.warnings().is_empty());
        assert_eq!(
            ClientIpPosition::parse("LAST").unwrap(),
            ClientIpPosition::Last
        );
        assert!(ClientIpPosition::parse("middle").is_err());
        assert_eq!(
            ClientIpFallback::parse("no-match").unwrap(),
            ClientIpFallback::NoMatch
        );
    }
}
