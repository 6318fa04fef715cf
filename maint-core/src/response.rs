//! The maintenance response: the status code, body and headers that the AWS
//! WAF web ACL sends back to every blocked request.
//!
//! Every type here is validated when it is built, against the limits AWS WAF
//! puts on custom responses, so a value that exists can be sent to AWS as it
//! is:
//!
//! - [`ResponseStatus`]: one of the status codes AWS WAF accepts (503 by default).
//! - [`ContentType`] and [`ResponseBody`]: a non-empty body of at most
//!   [`MAX_BODY_BYTES`], valid JSON when its type is JSON.
//! - [`ResponseHeader`] and [`ResponseHeaders`]: at most [`MAX_HEADERS`]
//!   headers with valid, distinct names; `Content-Type` is never among them,
//!   since AWS WAF derives it from the body's content type.
//! - [`MaintenanceResponse`]: all three, with maint's defaults filled in by
//!   [`MaintenanceResponse::build`].
//!
//! The default bodies ([`default_html_page`], [`default_json_body`],
//! [`default_text_body`]) are static: WAF sends the same bytes for the whole
//! maintenance window, so they state the expected end as an absolute UTC time.

use std::fmt;
use std::io::Read;
use std::path::Path;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::error::InvalidInput;

/// The largest custom response body AWS WAF accepts, in bytes of UTF-8.
///
/// AWS WAF quotas ("Maximum size of a custom response body content", 4 KB):
/// <https://docs.aws.amazon.com/waf/latest/developerguide/limits.html>
pub const MAX_BODY_BYTES: usize = 4096;

/// The most headers AWS WAF accepts in one custom response.
///
/// AWS WAF quotas ("Maximum number of headers in a custom response", 10):
/// <https://docs.aws.amazon.com/waf/latest/developerguide/limits.html>
pub const MAX_HEADERS: usize = 10;

/// The header maint adds to every maintenance response, naming the window
/// and the revision of its rules (`maint-svc-shop; rev=1a2b3c4d`), so a
/// probe (`--wait`) tells maint's page from the application's own 503 and
/// sees when a change has reached traffic. It takes one of the
/// [`MAX_HEADERS`], and no other header may have its name.
pub const MARKER_HEADER: &str = "x-maint-window";

/// The longest header name AWS WAF accepts in a custom response.
const MAX_HEADER_NAME_CHARS: usize = 64;

/// The longest header value AWS WAF accepts in a custom response.
const MAX_HEADER_VALUE_CHARS: usize = 255;

/// The status code maint uses when none is given: 503 Service Unavailable.
const DEFAULT_STATUS: u16 = 503;

/// Status codes AWS WAF accepts for a custom response, in ascending order.
const ACCEPTED_STATUS_CODES: [u16; 33] = [
    200, 201, 202, 204, 206, 300, 301, 302, 303, 304, 307, 308, 400, 401, 403, 404, 405, 408, 409,
    411, 412, 413, 414, 415, 416, 421, 429, 500, 501, 502, 503, 504, 505,
];

// ---------------------------------------------------------------------------
// Status
// ---------------------------------------------------------------------------

/// An HTTP status code that AWS WAF accepts for a custom response.
///
/// A value of this type always holds one of the codes AWS WAF lists as
/// supported (200, 201, 202, 204, 206, 300–304, 307, 308, 400, 401, 403–405,
/// 408, 409, 411–416, 421, 429, 500–505). It is 503 by default, serializes as
/// a plain number and deserializes through [`ResponseStatus::new`], so a
/// refused code never gets in through serde either.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u16", into = "u16")]
pub struct ResponseStatus(u16);

impl ResponseStatus {
    /// Checks that `code` is one AWS WAF accepts for a custom response.
    ///
    /// The error names the code and lists the accepted ones.
    pub fn new(code: u16) -> Result<Self, InvalidInput> {
        if ACCEPTED_STATUS_CODES.contains(&code) {
            Ok(Self(code))
        } else {
            Err(InvalidInput::new(
                format!("status code {code}"),
                format!(
                    "AWS WAF does not accept it for a custom response; accepted codes: {}",
                    accepted_codes_summary()
                ),
            ))
        }
    }

    /// The numeric status code.
    pub fn code(self) -> u16 {
        self.0
    }
}

/// The accepted codes, with runs of three or more consecutive codes folded
/// into ranges: `200-202, 204, 206, 300-304, ...`.
fn accepted_codes_summary() -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < ACCEPTED_STATUS_CODES.len() {
        let start = ACCEPTED_STATUS_CODES[i];
        let mut j = i;
        while j + 1 < ACCEPTED_STATUS_CODES.len()
            && ACCEPTED_STATUS_CODES[j + 1] == ACCEPTED_STATUS_CODES[j] + 1
        {
            j += 1;
        }
        let end = ACCEPTED_STATUS_CODES[j];
        match j - i {
            0 => parts.push(start.to_string()),
            1 => {
                parts.push(start.to_string());
                parts.push(end.to_string());
            }
            _ => parts.push(format!("{start}-{end}")),
        }
        i = j + 1;
    }
    parts.join(", ")
}

impl Default for ResponseStatus {
    /// 503 Service Unavailable.
    fn default() -> Self {
        Self(DEFAULT_STATUS)
    }
}

impl fmt::Display for ResponseStatus {
    /// The bare number, e.g. `503`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for ResponseStatus {
    type Err = InvalidInput;

    /// Parses a decimal status code such as `503` (surrounding whitespace is
    /// ignored; signs and other characters are refused), then checks it with
    /// [`ResponseStatus::new`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidInput::new(
                format!("status code {s:?}"),
                "expected a number such as 503",
            ));
        }
        match t.parse::<u16>() {
            Ok(code) => Self::new(code),
            Err(_) => Err(InvalidInput::new(
                format!("status code {t}"),
                format!(
                    "AWS WAF does not accept it for a custom response; accepted codes: {}",
                    accepted_codes_summary()
                ),
            )),
        }
    }
}

impl TryFrom<u16> for ResponseStatus {
    type Error = InvalidInput;

    /// Same as [`ResponseStatus::new`].
    fn try_from(code: u16) -> Result<Self, Self::Error> {
        Self::new(code)
    }
}

impl From<ResponseStatus> for u16 {
    fn from(status: ResponseStatus) -> u16 {
        status.0
    }
}

// ---------------------------------------------------------------------------
// Content type
// ---------------------------------------------------------------------------

/// The content type of a custom response body, one of the three AWS WAF
/// supports.
///
/// Displays, parses and serializes as `html`, `json` or `text`; AWS WAF's own
/// names are given by [`ContentType::waf_name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContentType {
    /// `text/html`, AWS WAF's `TEXT_HTML`. The default.
    #[default]
    Html,
    /// `application/json`, AWS WAF's `APPLICATION_JSON`.
    Json,
    /// `text/plain`, AWS WAF's `TEXT_PLAIN`.
    Text,
}

impl ContentType {
    /// All content types, in the order `html`, `json`, `text`.
    pub const ALL: [ContentType; 3] = [ContentType::Html, ContentType::Json, ContentType::Text];

    /// AWS WAF's name: `TEXT_HTML`, `APPLICATION_JSON` or `TEXT_PLAIN`.
    pub fn waf_name(self) -> &'static str {
        match self {
            ContentType::Html => "TEXT_HTML",
            ContentType::Json => "APPLICATION_JSON",
            ContentType::Text => "TEXT_PLAIN",
        }
    }

    /// The content type whose AWS WAF name is exactly `name` (as returned by
    /// [`ContentType::waf_name`]), or `None` for any other string.
    pub fn from_waf_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|ct| ct.waf_name() == name)
    }

    /// The content type for a file's extension, compared case-insensitively:
    /// `.html`/`.htm` is HTML, `.json` is JSON, `.txt`/`.text` is text; any
    /// other extension, or none, gives `None`.
    pub fn from_extension(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "html" | "htm" => Some(ContentType::Html),
            "json" => Some(ContentType::Json),
            "txt" | "text" => Some(ContentType::Text),
            _ => None,
        }
    }

    /// The MIME type, without parameters: `text/html`, `application/json` or
    /// `text/plain`.
    pub fn mime(self) -> &'static str {
        match self {
            ContentType::Html => "text/html",
            ContentType::Json => "application/json",
            ContentType::Text => "text/plain",
        }
    }

    /// The short name: `html`, `json` or `text`.
    fn short_name(self) -> &'static str {
        match self {
            ContentType::Html => "html",
            ContentType::Json => "json",
            ContentType::Text => "text",
        }
    }
}

impl fmt::Display for ContentType {
    /// `html`, `json` or `text`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.short_name())
    }
}

impl FromStr for ContentType {
    type Err = InvalidInput;

    /// Parses `html`, `json` or `text`, case-insensitively; the error names
    /// the accepted values.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|ct| ct.short_name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                InvalidInput::new(
                    format!("content type {s:?}"),
                    "expected one of: html, json, text",
                )
            })
    }
}

// ---------------------------------------------------------------------------
// Body
// ---------------------------------------------------------------------------

/// A custom response body: its content type and its content.
///
/// The content is never empty, is at most [`MAX_BODY_BYTES`] bytes of UTF-8,
/// and parses as JSON when the content type is [`ContentType::Json`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResponseBody {
    content_type: ContentType,
    content: String,
}

impl ResponseBody {
    /// Checks `content` against AWS WAF's limits for a body of type
    /// `content_type`: not empty, at most [`MAX_BODY_BYTES`] bytes (the error
    /// states the size and the limit), and valid JSON for
    /// [`ContentType::Json`] (the error gives serde_json's line and column).
    pub fn new(content_type: ContentType, content: String) -> Result<Self, InvalidInput> {
        Self::check(content_type, &content)
            .map_err(|reason| InvalidInput::new(format!("{content_type} response body"), reason))?;
        Ok(Self {
            content_type,
            content,
        })
    }

    /// The reason `content` is not a valid body of type `content_type`, if any.
    fn check(content_type: ContentType, content: &str) -> Result<(), String> {
        if content.is_empty() {
            return Err("it is empty; AWS WAF needs at least one byte".to_string());
        }
        if content.len() > MAX_BODY_BYTES {
            return Err(format!(
                "it is {} bytes, more than the {MAX_BODY_BYTES} bytes AWS WAF allows \
                 for a custom response body",
                content.len()
            ));
        }
        if content_type == ContentType::Json {
            if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(content) {
                let message = e.to_string();
                let suffix = format!(" at line {} column {}", e.line(), e.column());
                let message = message.strip_suffix(&suffix).unwrap_or(&message);
                return Err(format!(
                    "the content type is json but the content is not valid JSON: \
                     {message} at line {}, column {}",
                    e.line(),
                    e.column()
                ));
            }
        }
        Ok(())
    }

    /// Reads a body from the file at `path`.
    ///
    /// The content type is `content_type` when given, else it comes from the
    /// file's extension ([`ContentType::from_extension`]); it is an error when
    /// neither tells. The file must be UTF-8 text (a leading byte-order mark
    /// is dropped) and must pass [`ResponseBody::new`]. Every error's subject
    /// names the file's path.
    pub fn from_file(path: &Path, content_type: Option<ContentType>) -> Result<Self, InvalidInput> {
        let subject = || format!("response body file {}", path.display());
        let content_type = content_type
            .or_else(|| ContentType::from_extension(path))
            .ok_or_else(|| {
                InvalidInput::new(
                    subject(),
                    "cannot tell the content type from the file name's extension \
                     (.html, .htm, .json, .txt or .text); give it explicitly: html, json or text",
                )
            })?;
        let bytes = read_limited(path).map_err(|reason| InvalidInput::new(subject(), reason))?;
        let mut content = String::from_utf8(bytes).map_err(|e| {
            InvalidInput::new(
                subject(),
                format!(
                    "it is not UTF-8 text (invalid byte at offset {})",
                    e.utf8_error().valid_up_to()
                ),
            )
        })?;
        if content.starts_with('\u{feff}') {
            content.remove(0);
        }
        Self::check(content_type, &content)
            .map_err(|reason| InvalidInput::new(subject(), reason))?;
        Ok(Self {
            content_type,
            content,
        })
    }

    /// The body's content type.
    pub fn content_type(&self) -> ContentType {
        self.content_type
    }

    /// The body's content, exactly as AWS WAF sends it.
    pub fn content(&self) -> &str {
        &self.content
    }
}

/// Reads at most [`MAX_BODY_BYTES`] + 3 (room for a byte-order mark) + 1 bytes
/// of the file at `path`, so a huge file is never read whole; a file over the
/// limit comes back as an error that states its size when it is known.
fn read_limited(path: &Path) -> Result<Vec<u8>, String> {
    // Checked before opening: opening a FIFO blocks until a writer comes,
    // and a device may never end.
    let metadata = std::fs::metadata(path).map_err(|e| format!("cannot read it: {e}"))?;
    regular_file(&metadata)?;
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read it: {e}"))?;
    // The path may have been replaced between the check and the open.
    regular_file(
        &file
            .metadata()
            .map_err(|e| format!("cannot read it: {e}"))?,
    )?;
    let cap = MAX_BODY_BYTES + 3;
    let mut bytes = Vec::new();
    (&file)
        .take(cap as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read it: {e}"))?;
    if bytes.len() > cap {
        let size = file
            .metadata()
            .ok()
            .map(|m| m.len())
            .filter(|&len| len > cap as u64)
            .map_or_else(|| format!("more than {cap}"), |len| len.to_string());
        return Err(format!(
            "it is {size} bytes, more than the {MAX_BODY_BYTES} bytes AWS WAF allows \
             for a custom response body"
        ));
    }
    Ok(bytes)
}

/// Refuses anything but a regular file (a symbolic link counts as what it
/// points to), naming what it is instead.
fn regular_file(metadata: &std::fs::Metadata) -> Result<(), String> {
    let kind = metadata.file_type();
    if kind.is_file() {
        return Ok(());
    }
    let what = if kind.is_dir() {
        "a directory"
    } else {
        special_file_kind(&kind)
    };
    Err(format!("it is {what}, not a regular file"))
}

#[cfg(unix)]
fn special_file_kind(kind: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_fifo() {
        "a FIFO (named pipe)"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn special_file_kind(_: &std::fs::FileType) -> &'static str {
    "a special file"
}

// ---------------------------------------------------------------------------
// Headers
// ---------------------------------------------------------------------------

/// One header of a custom response.
///
/// The name is 1–64 characters of `a-z A-Z 0-9 . _ $ -` and is never
/// `Content-Type` in any case (AWS WAF sets that from the body's content
/// type). The value is 1–255 printable ASCII characters (space included, no
/// control characters or line breaks) and neither starts nor ends with a space.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResponseHeader {
    name: String,
    value: String,
}

impl ResponseHeader {
    /// Checks `name` and `value` against the rules above; the error names the
    /// header and says which rule it breaks.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Result<Self, InvalidInput> {
        let name = name.into();
        let value = value.into();
        check_header_name(&name)
            .map_err(|reason| InvalidInput::new(format!("header {name:?}"), reason))?;
        check_header_value(&value).map_err(|reason| {
            InvalidInput::new(format!("value {value:?} of header {name:?}"), reason)
        })?;
        Ok(Self { name, value })
    }

    /// The header's name, as given (its case is kept).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The header's value.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// True when this header's name is `name`, compared case-insensitively.
    pub fn is_named(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }
}

fn check_header_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the name is empty".to_string());
    }
    if name.eq_ignore_ascii_case(MARKER_HEADER) {
        return Err(format!(
            "{MARKER_HEADER} is maint's own marker on its maintenance responses"
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '$' | '-')))
    {
        return Err(format!(
            "the name has the character {c:?}; only letters, digits and . _ $ - are allowed"
        ));
    }
    if name.len() > MAX_HEADER_NAME_CHARS {
        return Err(format!(
            "the name is {} characters long; AWS WAF allows at most {MAX_HEADER_NAME_CHARS}",
            name.len()
        ));
    }
    if name.eq_ignore_ascii_case("content-type") {
        return Err(
            "Content-Type cannot be set as a header; it comes from the body's content type \
             (html, json or text)"
                .to_string(),
        );
    }
    Ok(())
}

fn check_header_value(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err("the value is empty".to_string());
    }
    if let Some(c) = value.chars().find(|&c| !(' '..='~').contains(&c)) {
        return Err(format!(
            "the value has the character {c:?}; only printable ASCII characters and spaces \
             are allowed (no control characters or line breaks)"
        ));
    }
    let chars = value.chars().count();
    if chars > MAX_HEADER_VALUE_CHARS {
        return Err(format!(
            "the value is {chars} characters long; AWS WAF allows at most {MAX_HEADER_VALUE_CHARS}"
        ));
    }
    if value.starts_with(' ') || value.ends_with(' ') {
        return Err("the value starts or ends with a space".to_string());
    }
    Ok(())
}

impl FromStr for ResponseHeader {
    type Err = InvalidInput;

    /// Parses `Name: value`: split at the first `:`, both sides trimmed, then
    /// checked by [`ResponseHeader::new`]. It is an error when there is no `:`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, value) = s.split_once(':').ok_or_else(|| {
            InvalidInput::new(
                format!("header {s:?}"),
                "expected \"Name: value\", e.g. \"Retry-After: 3600\"",
            )
        })?;
        Self::new(name.trim(), value.trim())
    }
}

impl fmt::Display for ResponseHeader {
    /// `Name: value`, which [`ResponseHeader::from_str`] parses back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.value)
    }
}

/// The headers of a custom response: at most [`MAX_HEADERS`], no two with
/// the same name (compared case-insensitively), in the order given.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct ResponseHeaders(Vec<ResponseHeader>);

impl ResponseHeaders {
    /// Checks that there are at most [`MAX_HEADERS`] headers and no duplicate
    /// names (case-insensitively; the error names the duplicate). The order
    /// is kept.
    pub fn new(headers: Vec<ResponseHeader>) -> Result<Self, InvalidInput> {
        if headers.len() > MAX_HEADERS - 1 {
            return Err(InvalidInput::new(
                "response headers",
                format!(
                    "there are {}; a maintenance response may have at most {} (AWS WAF allows \
                     at most {MAX_HEADERS} in a custom response, and maint adds its marker \
                     {MARKER_HEADER})",
                    headers.len(),
                    MAX_HEADERS - 1
                ),
            ));
        }
        for (i, header) in headers.iter().enumerate() {
            if let Some(earlier) = headers[..i].iter().find(|h| h.is_named(&header.name)) {
                return Err(InvalidInput::new(
                    format!("header {:?}", header.name),
                    if earlier.name == header.name {
                        "it is given more than once".to_string()
                    } else {
                        format!(
                            "it is given more than once (as {:?} and {:?}; header names are \
                             compared case-insensitively)",
                            earlier.name, header.name
                        )
                    },
                ));
            }
        }
        Ok(Self(headers))
    }

    /// The headers, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, ResponseHeader> {
        self.0.iter()
    }

    /// The value of the header named `name` (compared case-insensitively),
    /// if there is one.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|h| h.is_named(name)).map(|h| h.value())
    }

    /// How many headers there are (at most [`MAX_HEADERS`]).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no headers.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'a> IntoIterator for &'a ResponseHeaders {
    type Item = &'a ResponseHeader;
    type IntoIter = std::slice::Iter<'a, ResponseHeader>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

// ---------------------------------------------------------------------------
// Whole response
// ---------------------------------------------------------------------------

/// The whole maintenance response: status, body and headers, each valid for
/// AWS WAF.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MaintenanceResponse {
    status: ResponseStatus,
    body: ResponseBody,
    headers: ResponseHeaders,
}

impl MaintenanceResponse {
    /// Builds the response maint sends, filling in its defaults:
    ///
    /// - status: `status`, else 503;
    /// - body: `body` (whose own content type then wins over `content_type`),
    ///   else the built-in default for `content_type` ([`default_html_page`],
    ///   [`default_json_body`] or [`default_text_body`]) showing `until`;
    /// - headers, in this order: `Cache-Control: no-store` unless
    ///   `extra_headers` has a Cache-Control; `Retry-After: <HTTP-date of
    ///   until>` when `until` is known and `extra_headers` has no
    ///   Retry-After; then `extra_headers` in their order.
    ///
    /// It is an error when the headers together break the rules of
    /// [`ResponseHeaders::new`] (more than [`MAX_HEADERS`], or a duplicate).
    pub fn build(
        until: Option<DateTime<Utc>>,
        status: Option<ResponseStatus>,
        body: Option<ResponseBody>,
        content_type: ContentType,
        extra_headers: Vec<ResponseHeader>,
    ) -> Result<Self, InvalidInput> {
        let body = match body {
            Some(body) => body,
            None => ResponseBody::new(content_type, default_body(content_type, until))?,
        };

        let user_has = |name: &str| extra_headers.iter().any(|h| h.is_named(name));
        let mut headers = Vec::with_capacity(extra_headers.len() + 2);
        if !user_has("Cache-Control") {
            // The page must not be cached: once maintenance ends, clients and
            // proxies must see the service again, not a stored 503 page.
            headers.push(ResponseHeader::new("Cache-Control", "no-store")?);
        }
        if let Some(until) = until {
            if !user_has("Retry-After") {
                // WAF custom response headers are static: the same bytes are
                // sent for the whole maintenance window. A delay in seconds
                // would be right only at the moment the web ACL was written and
                // grow staler with every request after, so Retry-After is given
                // as an absolute HTTP-date (RFC 9110 §10.2.3), which stays true.
                headers.push(ResponseHeader::new("Retry-After", http_date(until))?);
            }
        }
        let added = headers.len();
        headers.extend(extra_headers);
        if headers.len() > MAX_HEADERS - 1 {
            let added_note = if added == 0 {
                String::new()
            } else {
                format!(
                    " ({} given, plus {added} that maint adds by default: Cache-Control, and \
                     Retry-After when the end time is known; giving your own replaces them)",
                    headers.len() - added
                )
            };
            return Err(InvalidInput::new(
                "response headers",
                format!(
                    "there are {}{added_note}; a maintenance response may have at most {} (AWS \
                     WAF allows at most {MAX_HEADERS} in a custom response, and maint adds its \
                     marker {MARKER_HEADER})",
                    headers.len(),
                    MAX_HEADERS - 1
                ),
            ));
        }
        let headers = ResponseHeaders::new(headers)?;

        Ok(Self {
            status: status.unwrap_or_default(),
            body,
            headers,
        })
    }

    /// Puts together parts that are already valid, without adding anything;
    /// used for a response read back from AWS.
    pub fn from_parts(
        status: ResponseStatus,
        body: ResponseBody,
        headers: ResponseHeaders,
    ) -> Self {
        Self {
            status,
            body,
            headers,
        }
    }

    /// The status code.
    pub fn status(&self) -> ResponseStatus {
        self.status
    }

    /// The body and its content type.
    pub fn body(&self) -> &ResponseBody {
        &self.body
    }

    /// The headers, in the order they are sent.
    pub fn headers(&self) -> &ResponseHeaders {
        &self.headers
    }
}

/// The parts of a maintenance response a caller asked for (flags, keyword
/// arguments, a config service's settings). On a first `enter` the rest
/// comes from maint's defaults ([`build`](Self::build)); on a repeated
/// `enter` or `arm` from the window's own response ([`over`](Self::over)),
/// so what was not asked for is kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseRequest {
    /// A status code, instead of 503 (or the window's).
    pub status: Option<ResponseStatus>,
    /// A page, instead of maint's default (or the window's).
    pub page: Option<ResponseBody>,
    /// The content type of maint's default page (or of the page given).
    pub content_type: Option<ContentType>,
    /// Headers; each replaces the window's header of the same name.
    pub headers: Vec<ResponseHeader>,
}

impl ResponseRequest {
    /// The response of a new window ending at `until`: what was asked, and
    /// maint's defaults for the rest (see [`MaintenanceResponse::build`]).
    pub fn build(&self, until: Option<DateTime<Utc>>) -> Result<MaintenanceResponse, InvalidInput> {
        self.build_or(until, ContentType::Html)
    }

    /// As [`build`](Self::build), with maint's default page of `default`
    /// when neither a page nor a content type was asked for (JSON for a
    /// window of APIs).
    pub fn build_or(
        &self,
        until: Option<DateTime<Utc>>,
        default: ContentType,
    ) -> Result<MaintenanceResponse, InvalidInput> {
        let content_type = self
            .content_type
            .or(self.page.as_ref().map(ResponseBody::content_type))
            .unwrap_or(default);
        MaintenanceResponse::build(
            until,
            self.status,
            self.page.clone(),
            content_type,
            self.headers.clone(),
        )
    }

    /// The response of a window whose response is `current` and whose
    /// planned end moves from `was` to `until`, with what was asked
    /// changed and everything else kept: the status, the page (maint's
    /// default page is shown again with the new end) and every header not
    /// named (`Retry-After` follows the end when maint added it).
    pub fn over(
        &self,
        current: &MaintenanceResponse,
        was: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> Result<MaintenanceResponse, InvalidInput> {
        let kept_type = current.body.content_type;
        let (body, content_type) = match (&self.page, self.content_type) {
            (Some(page), _) => (Some(page.clone()), page.content_type),
            (None, Some(content_type)) => (None, content_type),
            (None, None) if current.body.content == default_body(kept_type, was) => {
                (None, kept_type)
            }
            (None, None) => (Some(current.body.clone()), kept_type),
        };
        // What maint added itself goes, to be added again for `until`:
        // `Cache-Control: no-store`, and `Retry-After` showing `was`.
        let added_by_maint = |h: &ResponseHeader| {
            (h.is_named("Cache-Control") && h.value == "no-store")
                || (h.is_named("Retry-After") && was.is_some_and(|t| h.value == http_date(t)))
        };
        // A header asked for takes its namesake's place, so a repeat that
        // asks for what is there changes nothing.
        let mut headers: Vec<ResponseHeader> = current
            .headers
            .iter()
            .filter(|h| !added_by_maint(h))
            .map(|h| {
                let mine = self.headers.iter().find(|mine| mine.is_named(&h.name));
                mine.unwrap_or(h).clone()
            })
            .collect();
        let new: Vec<ResponseHeader> = self
            .headers
            .iter()
            .filter(|mine| !headers.iter().any(|h| h.is_named(&mine.name)))
            .cloned()
            .collect();
        headers.extend(new);
        MaintenanceResponse::build(
            until,
            Some(self.status.unwrap_or(current.status)),
            body,
            content_type,
            headers,
        )
    }
}

/// maint's default body of `content_type` for a window ending at `until`.
fn default_body(content_type: ContentType, until: Option<DateTime<Utc>>) -> String {
    match content_type {
        ContentType::Html => default_html_page(until),
        ContentType::Json => default_json_body(until),
        ContentType::Text => default_text_body(until),
    }
}

impl Default for MaintenanceResponse {
    /// The same as `MaintenanceResponse::build(None, None, None,
    /// ContentType::Html, vec![])`: 503, the default HTML page without an end
    /// time, and `Cache-Control: no-store`.
    fn default() -> Self {
        // Built from the parts directly, so it cannot fail; the test
        // `default_equals_build_with_no_input` proves it equals the validated
        // build().
        Self {
            status: ResponseStatus::default(),
            body: ResponseBody {
                content_type: ContentType::Html,
                content: default_html_page(None),
            },
            headers: ResponseHeaders(vec![ResponseHeader {
                name: "Cache-Control".to_string(),
                value: "no-store".to_string(),
            }]),
        }
    }
}

// ---------------------------------------------------------------------------
// Default bodies
// ---------------------------------------------------------------------------

/// `t` as an HTTP-date in IMF-fixdate form, e.g.
/// `Wed, 21 Oct 2026 07:28:00 GMT` (fractions of a second are dropped).
pub(crate) fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// `t` for people, to the minute, e.g. `2026-11-29 14:00 UTC`. A time that
/// is not on a whole minute is rounded up, so "back by" is never too early.
fn human_time(t: DateTime<Utc>) -> String {
    let secs = t.timestamp();
    let rounded = if secs % 60 == 0 && t.timestamp_subsec_nanos() == 0 {
        t
    } else {
        let up = (secs.div_euclid(60) + 1) * 60;
        DateTime::from_timestamp(up, 0).unwrap_or(t)
    };
    rounded.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// maint's default HTML page: a small, self-contained HTML5 page (inline CSS,
/// no scripts or external assets, readable on a phone) saying "We'll be back
/// soon" and "This service is undergoing scheduled maintenance.", and, when
/// `until` is known, "Expected back by YYYY-MM-DD HH:MM UTC". It is always
/// well below [`MAX_BODY_BYTES`] (under 2048 bytes).
pub fn default_html_page(until: Option<DateTime<Utc>>) -> String {
    let until_line = until
        .map(|t| format!("<p>Expected back by {}.</p>\n", human_time(t)))
        .unwrap_or_default();
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Scheduled maintenance</title>
<style>
:root {{ color-scheme: light dark; }}
body {{ margin: 0; min-height: 100vh; display: flex; align-items: center; justify-content: center; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; line-height: 1.5; background: Canvas; color: CanvasText; }}
main {{ max-width: 32rem; padding: 2rem 1.5rem; text-align: center; }}
h1 {{ font-size: 1.75rem; margin: 0 0 1rem; }}
p {{ margin: 0.5rem 0; }}
</style>
</head>
<body>
<main>
<h1>We'll be back soon</h1>
<p>This service is undergoing scheduled maintenance.</p>
{until_line}</main>
</body>
</html>
"#
    )
}

/// maint's default JSON body, always valid JSON of this shape:
/// `{"error":"maintenance","message":"The service is undergoing scheduled
/// maintenance.","until":"2026-11-29T14:00:00Z"}`, where `until` is an RFC
/// 3339 UTC time to the second, or `null` when unknown.
pub fn default_json_body(until: Option<DateTime<Utc>>) -> String {
    // An RFC 3339 time has no characters that need escaping in JSON.
    let until = until
        .map(|t| format!("\"{}\"", t.to_rfc3339_opts(SecondsFormat::Secs, true)))
        .unwrap_or_else(|| "null".to_string());
    format!(
        r#"{{"error":"maintenance","message":"The service is undergoing scheduled maintenance.","until":{until}}}"#
    )
}

/// maint's default plain-text body: "We'll be back soon." and "This service
/// is undergoing scheduled maintenance.", and, when `until` is known,
/// "Expected back by YYYY-MM-DD HH:MM UTC.", one per line.
pub fn default_text_body(until: Option<DateTime<Utc>>) -> String {
    let mut text =
        String::from("We'll be back soon.\nThis service is undergoing scheduled maintenance.\n");
    if let Some(t) = until {
        text.push_str(&format!("Expected back by {}.\n", human_time(t)));
    }
    text
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn until() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 29, 14, 0, 0).unwrap()
    }

    fn h(name: &str, value: &str) -> ResponseHeader {
        ResponseHeader::new(name, value).unwrap()
    }

    // --- status ---

    #[test]
    fn every_listed_status_is_accepted() {
        for code in [
            200, 201, 202, 204, 206, 300, 301, 302, 303, 304, 307, 308, 400, 401, 403, 404, 405,
            408, 409, 411, 412, 413, 414, 415, 416, 421, 429, 500, 501, 502, 503, 504, 505,
        ] {
            let status = ResponseStatus::new(code).unwrap();
            assert_eq!(status.code(), code);
            assert_eq!(status.to_string(), code.to_string());
            assert_eq!(code.to_string().parse::<ResponseStatus>().unwrap(), status);
        }
    }

    #[test]
    fn unlisted_statuses_are_refused() {
        for code in [
            0,
            1,
            100,
            199,
            203,
            205,
            305,
            306,
            402,
            410,
            418,
            422,
            451,
            506,
            511,
            599,
            600,
            999,
            u16::MAX,
        ] {
            let err = ResponseStatus::new(code).unwrap_err();
            assert_eq!(err.subject, format!("status code {code}"));
            assert!(err.reason.contains("500-505"), "{err}");
        }
    }

    #[test]
    fn status_error_lists_accepted_codes_compactly() {
        let err = ResponseStatus::new(418).unwrap_err();
        assert!(
            err.reason.ends_with(
                "200-202, 204, 206, 300-304, 307, 308, 400, 401, 403-405, 408, 409, 411-416, \
                 421, 429, 500-505"
            ),
            "{}",
            err.reason
        );
    }

    #[test]
    fn status_default_is_503() {
        assert_eq!(ResponseStatus::default().code(), 503);
        assert_eq!(ResponseStatus::new(503).unwrap(), ResponseStatus::default());
    }

    #[test]
    fn a_status_parses_from_text() {
        assert_eq!(" 503 ".parse::<ResponseStatus>().unwrap().code(), 503);
        for bad in ["", "abc", "+503", "-1", "50 3", "5.0"] {
            let err = bad.parse::<ResponseStatus>().unwrap_err();
            assert!(err.reason.contains("number"), "{bad}: {err}");
        }
        let err = "418".parse::<ResponseStatus>().unwrap_err();
        assert_eq!(err.subject, "status code 418");
        let err = "99999".parse::<ResponseStatus>().unwrap_err();
        assert_eq!(err.subject, "status code 99999");
        assert!(err.reason.contains("accepted codes"));
    }

    #[test]
    fn a_status_serializes_as_a_number() {
        let s: ResponseStatus = serde_json::from_str("429").unwrap();
        assert_eq!(s.code(), 429);
        assert_eq!(serde_json::to_string(&s).unwrap(), "429");
        let err = serde_json::from_str::<ResponseStatus>("418").unwrap_err();
        assert!(err.to_string().contains("status code 418"), "{err}");
    }

    // --- content type ---

    #[test]
    fn content_types_have_waf_and_mime_names() {
        for ct in ContentType::ALL {
            assert_eq!(ContentType::from_waf_name(ct.waf_name()), Some(ct));
            assert_eq!(ct.to_string().parse::<ContentType>().unwrap(), ct);
            assert_eq!(
                ct.to_string()
                    .to_uppercase()
                    .parse::<ContentType>()
                    .unwrap(),
                ct
            );
            let json = serde_json::to_string(&ct).unwrap();
            assert_eq!(json, format!("\"{ct}\""));
            assert_eq!(serde_json::from_str::<ContentType>(&json).unwrap(), ct);
        }
        assert_eq!(ContentType::Html.waf_name(), "TEXT_HTML");
        assert_eq!(ContentType::Json.waf_name(), "APPLICATION_JSON");
        assert_eq!(ContentType::Text.waf_name(), "TEXT_PLAIN");
        assert_eq!(ContentType::Html.mime(), "text/html");
        assert_eq!(ContentType::Json.mime(), "application/json");
        assert_eq!(ContentType::Text.mime(), "text/plain");
        assert_eq!(ContentType::from_waf_name("text_html"), None);
        assert_eq!(ContentType::from_waf_name("TEXT_XML"), None);
        let err = "xml".parse::<ContentType>().unwrap_err();
        assert!(err.reason.contains("html, json, text"), "{err}");
        assert!(serde_json::from_str::<ContentType>("\"xml\"").is_err());
    }

    #[test]
    fn content_type_from_extension() {
        let cases = [
            ("a.html", Some(ContentType::Html)),
            ("dir/a.HTM", Some(ContentType::Html)),
            ("a.json", Some(ContentType::Json)),
            ("a.txt", Some(ContentType::Text)),
            ("a.text", Some(ContentType::Text)),
            ("a.md", None),
            ("html", None),
            ("a", None),
        ];
        for (path, want) in cases {
            assert_eq!(ContentType::from_extension(Path::new(path)), want, "{path}");
        }
    }

    // --- body ---

    #[test]
    fn body_size_limit_in_bytes() {
        let ok = ResponseBody::new(ContentType::Text, "a".repeat(MAX_BODY_BYTES)).unwrap();
        assert_eq!(ok.content().len(), 4096);
        assert_eq!(ok.content_type(), ContentType::Text);

        let err = ResponseBody::new(ContentType::Text, "a".repeat(MAX_BODY_BYTES + 1)).unwrap_err();
        assert!(err.reason.contains("4097 bytes"), "{err}");
        assert!(err.reason.contains("4096"), "{err}");

        // "é" is 2 bytes: 2048 of them fit, 2049 (2049 chars, 4098 bytes) do not.
        assert!(ResponseBody::new(ContentType::Text, "é".repeat(2048)).is_ok());
        let err = ResponseBody::new(ContentType::Text, "é".repeat(2049)).unwrap_err();
        assert!(err.reason.contains("4098 bytes"), "{err}");
        // "€" is 3 bytes: 1366 of them are 4098 bytes.
        assert!(ResponseBody::new(ContentType::Html, "€".repeat(1366)).is_err());
    }

    #[test]
    fn body_must_not_be_empty() {
        let err = ResponseBody::new(ContentType::Html, String::new()).unwrap_err();
        assert!(err.reason.contains("empty"), "{err}");
        assert!(ResponseBody::new(ContentType::Json, String::new()).is_err());
    }

    #[test]
    fn json_body_must_parse() {
        assert!(ResponseBody::new(ContentType::Json, r#"{"a": [1, 2]}"#.into()).is_ok());
        let err =
            ResponseBody::new(ContentType::Json, "{\n  \"a\": 1,\n  oops\n}".into()).unwrap_err();
        assert!(err.reason.contains("not valid JSON"), "{err}");
        assert!(err.reason.contains("line 3, column 3"), "{err}");
        let err = ResponseBody::new(ContentType::Json, "{} trailing".into()).unwrap_err();
        assert!(err.reason.contains("line 1"), "{err}");
        // The same text is fine as HTML or plain text.
        assert!(ResponseBody::new(ContentType::Text, "{} trailing".into()).is_ok());
    }

    // --- body from file ---

    struct TempDir(std::path::PathBuf);

    impl TempDir {
        fn new(tag: &str) -> Self {
            let dir = std::env::temp_dir()
                .join(format!("maint-response-test-{}-{tag}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }

        fn file(&self, name: &str, content: &[u8]) -> std::path::PathBuf {
            let path = self.0.join(name);
            std::fs::write(&path, content).unwrap();
            path
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn from_file_detects_content_type_from_extension() {
        let dir = TempDir::new("ext");
        let html = dir.file("page.html", b"<p>down</p>");
        let json = dir.file("body.JSON", br#"{"down": true}"#);
        let text = dir.file("msg.txt", b"\xEF\xBB\xBFdown\n");

        let body = ResponseBody::from_file(&html, None).unwrap();
        assert_eq!(body.content_type(), ContentType::Html);
        assert_eq!(body.content(), "<p>down</p>");
        assert_eq!(
            ResponseBody::from_file(&json, None).unwrap().content_type(),
            ContentType::Json
        );
        let body = ResponseBody::from_file(&text, None).unwrap();
        assert_eq!(body.content_type(), ContentType::Text);
        assert_eq!(body.content(), "down\n", "the byte-order mark is dropped");

        // An explicit content type wins over the extension.
        let body = ResponseBody::from_file(&html, Some(ContentType::Text)).unwrap();
        assert_eq!(body.content_type(), ContentType::Text);
    }

    #[test]
    fn from_file_unknown_extension_needs_content_type() {
        let dir = TempDir::new("unknown");
        let path = dir.file("page.md", b"# down");
        let err = ResponseBody::from_file(&path, None).unwrap_err();
        assert!(err.subject.contains(&path.display().to_string()), "{err}");
        assert!(err.reason.contains("html, json or text"), "{err}");
        let body = ResponseBody::from_file(&path, Some(ContentType::Text)).unwrap();
        assert_eq!(body.content(), "# down");
    }

    #[test]
    fn from_file_errors_name_the_path() {
        let dir = TempDir::new("errors");
        let missing = dir.0.join("missing.html");
        let err = ResponseBody::from_file(&missing, None).unwrap_err();
        assert!(
            err.subject.contains(&missing.display().to_string()),
            "{err}"
        );
        assert!(err.reason.contains("cannot read"), "{err}");

        let latin1 = dir.file("latin1.txt", b"caf\xE9");
        let err = ResponseBody::from_file(&latin1, None).unwrap_err();
        assert!(err.subject.contains(&latin1.display().to_string()), "{err}");
        assert!(err.reason.contains("not UTF-8"), "{err}");
        assert!(err.reason.contains("offset 3"), "{err}");

        let bad_json = dir.file("bad.json", b"{");
        let err = ResponseBody::from_file(&bad_json, None).unwrap_err();
        assert!(
            err.subject.contains(&bad_json.display().to_string()),
            "{err}"
        );
        assert!(err.reason.contains("not valid JSON"), "{err}");

        let empty = dir.file("empty.html", b"");
        let err = ResponseBody::from_file(&empty, None).unwrap_err();
        assert!(err.reason.contains("empty"), "{err}");
    }

    /// `from_file` in a thread, so that a read that blocks fails the test
    /// instead of hanging it.
    fn from_file_within_5s(path: &std::path::Path) -> Result<ResponseBody, InvalidInput> {
        let (tx, rx) = std::sync::mpsc::channel();
        let path = path.to_path_buf();
        std::thread::spawn(move || {
            tx.send(ResponseBody::from_file(&path, Some(ContentType::Html)))
        });
        rx.recv_timeout(std::time::Duration::from_secs(5))
            .expect("reading the page blocked")
    }

    #[cfg(unix)]
    #[test]
    fn a_page_that_is_not_a_regular_file_is_refused_without_blocking() {
        let dir = TempDir::new("special");
        let fifo = dir.0.join("page.html");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo failed");
        let err = from_file_within_5s(&fifo).unwrap_err();
        assert!(err.subject.contains("page.html"), "{err}");
        assert!(
            err.reason
                .contains("a FIFO (named pipe), not a regular file"),
            "{err}"
        );

        let err = from_file_within_5s(std::path::Path::new("/dev/zero")).unwrap_err();
        assert!(err.reason.contains("a device, not a regular file"), "{err}");
        let err = from_file_within_5s(&dir.0).unwrap_err();
        assert!(
            err.reason.contains("a directory, not a regular file"),
            "{err}"
        );
    }

    #[test]
    fn from_file_size_limit() {
        let dir = TempDir::new("size");
        let exact = dir.file("exact.txt", &[b'a'; MAX_BODY_BYTES]);
        assert!(ResponseBody::from_file(&exact, None).is_ok());
        let over = dir.file("over.txt", &[b'a'; MAX_BODY_BYTES + 1]);
        let err = ResponseBody::from_file(&over, None).unwrap_err();
        assert!(err.reason.contains("4097 bytes"), "{err}");
        let huge = dir.file("huge.txt", &vec![b'a'; 1_000_000]);
        let err = ResponseBody::from_file(&huge, None).unwrap_err();
        assert!(err.reason.contains("1000000 bytes"), "{err}");
        assert!(err.subject.contains("huge.txt"), "{err}");
    }

    // --- headers ---

    #[test]
    fn header_names_follow_wafs_rules() {
        for name in ["X-Foo", "x.y_z$1-2", "A", &"a".repeat(64)] {
            assert_eq!(ResponseHeader::new(name, "v").unwrap().name(), name);
        }
        for (name, why) in [
            ("", "empty"),
            ("X Foo", "' '"),
            ("X:Foo", "':'"),
            ("Xé", "'é'"),
            ("X/Foo", "'/'"),
            (&"a".repeat(65), "65 characters"),
            ("Content-Type", "Content-Type"),
            ("content-type", "Content-Type"),
            ("CONTENT-TYPE", "Content-Type"),
        ] {
            let err = ResponseHeader::new(name, "v").unwrap_err();
            assert_eq!(err.subject, format!("header {name:?}"));
            assert!(err.reason.contains(why), "{name:?}: {err}");
        }
    }

    #[test]
    fn header_values_follow_wafs_rules() {
        for value in [
            "v",
            "no-store, max-age=0",
            &"v".repeat(255),
            "a \"quoted\" <b>",
        ] {
            assert_eq!(ResponseHeader::new("X", value).unwrap().value(), value);
        }
        for (value, why) in [
            ("", "empty"),
            (&"v".repeat(256) as &str, "256 characters"),
            ("a\nb", "'\\n'"),
            ("a\r\nb", "'\\r'"),
            ("a\tb", "'\\t'"),
            ("a\u{7f}b", "'\\u{7f}'"),
            ("café", "'é'"),
            (" a", "space"),
            ("a ", "space"),
        ] {
            let err = ResponseHeader::new("X-Foo", value).unwrap_err();
            assert!(err.subject.contains("\"X-Foo\""), "{err}");
            assert!(err.reason.contains(why), "{value:?}: {err}");
        }
    }

    #[test]
    fn header_from_str_and_display() {
        let header: ResponseHeader = "  X-Reason :  planned upgrade ".parse().unwrap();
        assert_eq!(header.name(), "X-Reason");
        assert_eq!(header.value(), "planned upgrade");
        assert_eq!(header.to_string(), "X-Reason: planned upgrade");
        assert_eq!(
            header.to_string().parse::<ResponseHeader>().unwrap(),
            header
        );

        let header: ResponseHeader = "Link: <https://status.example.com>; rel=\"status\""
            .parse()
            .unwrap();
        assert_eq!(
            header.value(),
            "<https://status.example.com>; rel=\"status\""
        );

        let err = "X-Reason planned".parse::<ResponseHeader>().unwrap_err();
        assert!(err.reason.contains("Name: value"), "{err}");
        assert!("X-Reason:".parse::<ResponseHeader>().is_err());
        assert!(": v".parse::<ResponseHeader>().is_err());
        assert!("content-type: text/html".parse::<ResponseHeader>().is_err());
    }

    #[test]
    fn headers_are_limited_in_count_and_duplicates() {
        let nine: Vec<_> = (0..9).map(|i| h(&format!("X-{i}"), "v")).collect();
        let headers = ResponseHeaders::new(nine.clone()).unwrap();
        assert_eq!(headers.len(), 9);
        assert!(!headers.is_empty());
        assert_eq!(headers.iter().cloned().collect::<Vec<_>>(), nine);

        // AWS's ten, less maint's marker.
        let mut ten = nine;
        ten.push(h("X-9", "v"));
        let err = ResponseHeaders::new(ten).unwrap_err();
        assert!(err.reason.contains("there are 10"), "{err}");
        assert!(err.reason.contains("at most 9"), "{err}");
        assert!(err.reason.contains("x-maint-window"), "{err}");
        assert!(ResponseHeader::new("X-Maint-Window", "mine").is_err());

        let err =
            ResponseHeaders::new(vec![h("X-Foo", "1"), h("Y", "2"), h("x-FOO", "3")]).unwrap_err();
        assert_eq!(err.subject, "header \"x-FOO\"");
        assert!(err.reason.contains("\"X-Foo\""), "{err}");
        assert!(err.reason.contains("case-insensitive"), "{err}");
        let err = ResponseHeaders::new(vec![h("X", "1"), h("X", "2")]).unwrap_err();
        assert!(err.reason.contains("more than once"), "{err}");

        let empty = ResponseHeaders::new(vec![]).unwrap();
        assert!(empty.is_empty());
        assert_eq!(empty, ResponseHeaders::default());
    }

    #[test]
    fn headers_get_is_case_insensitive() {
        let headers = ResponseHeaders::new(vec![h("Retry-After", "120"), h("X-A", "a")]).unwrap();
        assert_eq!(headers.get("retry-after"), Some("120"));
        assert_eq!(headers.get("RETRY-AFTER"), Some("120"));
        assert_eq!(headers.get("x-a"), Some("a"));
        assert_eq!(headers.get("X-B"), None);
        assert_eq!((&headers).into_iter().count(), 2);
    }

    // --- default bodies ---

    #[test]
    fn default_html_page_contents() {
        let page = default_html_page(Some(until()));
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page
            .contains(r#"<meta name="viewport" content="width=device-width, initial-scale=1">"#));
        assert!(page.contains("We'll be back soon"));
        assert!(page.contains("This service is undergoing scheduled maintenance."));
        assert!(page.contains("Expected back by 2026-11-29 14:00 UTC"));
        assert!(page.len() < 2048, "{} bytes", page.len());
        assert!(!page.contains("<script"));
        assert!(!page.contains("http://") && !page.contains("https://"));
        assert!(!page.contains("src="));

        let page = default_html_page(None);
        assert!(!page.contains("Expected back"));
        assert!(page.len() < 2048);
        assert!(ResponseBody::new(ContentType::Html, page).is_ok());
    }

    #[test]
    fn end_time_rounds_up_to_the_minute() {
        let t = Utc.with_ymd_and_hms(2026, 11, 29, 13, 59, 1).unwrap();
        assert!(default_html_page(Some(t)).contains("Expected back by 2026-11-29 14:00 UTC"));
        let t = Utc.with_ymd_and_hms(2026, 12, 31, 23, 59, 30).unwrap();
        assert!(default_text_body(Some(t)).contains("Expected back by 2027-01-01 00:00 UTC"));
    }

    #[test]
    fn default_json_body_contents() {
        let body = default_json_body(Some(until()));
        assert_eq!(
            body,
            r#"{"error":"maintenance","message":"The service is undergoing scheduled maintenance.","until":"2026-11-29T14:00:00Z"}"#
        );
        let v: serde_json::Value = serde_json::from_str(&default_json_body(None)).unwrap();
        assert_eq!(v["error"], "maintenance");
        assert!(v["until"].is_null());
        assert!(ResponseBody::new(ContentType::Json, body).is_ok());
    }

    #[test]
    fn default_text_body_contents() {
        let text = default_text_body(Some(until()));
        assert!(text.contains("This service is undergoing scheduled maintenance."));
        assert!(text.contains("Expected back by 2026-11-29 14:00 UTC."));
        assert!(!default_text_body(None).contains("Expected"));
    }

    #[test]
    fn http_date_is_imf_fixdate() {
        let t = Utc.with_ymd_and_hms(2026, 10, 21, 7, 28, 0).unwrap();
        assert_eq!(http_date(t), "Wed, 21 Oct 2026 07:28:00 GMT");
        assert_eq!(http_date(until()), "Sun, 29 Nov 2026 14:00:00 GMT");
        let t = Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 5).unwrap();
        assert_eq!(http_date(t), "Fri, 01 Jan 2027 00:00:05 GMT");
    }

    // --- whole response ---

    #[test]
    fn the_default_response_is_503_with_no_store() {
        let r = MaintenanceResponse::build(None, None, None, ContentType::Html, vec![]).unwrap();
        assert_eq!(r.status().code(), 503);
        assert_eq!(r.body().content_type(), ContentType::Html);
        assert_eq!(r.body().content(), default_html_page(None));
        assert_eq!(r.headers().len(), 1);
        assert_eq!(r.headers().get("Cache-Control"), Some("no-store"));
        assert_eq!(r.headers().get("Retry-After"), None);

        for ct in ContentType::ALL {
            let r = MaintenanceResponse::build(Some(until()), None, None, ct, vec![]).unwrap();
            assert_eq!(r.body().content_type(), ct);
            assert!(
                r.body().content().contains("2026-11-29"),
                "{ct}: {}",
                r.body().content()
            );
        }
    }

    #[test]
    fn default_equals_build_with_no_input() {
        let built = MaintenanceResponse::build(None, None, None, ContentType::Html, vec![]);
        assert_eq!(built, Ok(MaintenanceResponse::default()));
        // Every part of the default also passes validation on its own.
        let d = MaintenanceResponse::default();
        assert!(ResponseStatus::new(d.status().code()).is_ok());
        assert!(ResponseBody::new(d.body().content_type(), d.body().content().into()).is_ok());
        assert!(ResponseHeaders::new(d.headers().iter().cloned().collect()).is_ok());
    }

    #[test]
    fn build_retry_after_only_with_until() {
        let r = MaintenanceResponse::build(Some(until()), None, None, ContentType::Html, vec![])
            .unwrap();
        let names: Vec<_> = r.headers().iter().map(|h| h.name()).collect();
        assert_eq!(names, ["Cache-Control", "Retry-After"]);
        assert_eq!(
            r.headers().get("Retry-After"),
            Some("Sun, 29 Nov 2026 14:00:00 GMT")
        );

        let r = MaintenanceResponse::build(None, None, None, ContentType::Json, vec![]).unwrap();
        assert_eq!(r.headers().get("Retry-After"), None);
    }

    #[test]
    fn build_user_headers_override_defaults() {
        let r = MaintenanceResponse::build(
            Some(until()),
            Some(ResponseStatus::new(200).unwrap()),
            None,
            ContentType::Text,
            vec![h("cache-control", "max-age=60"), h("X-Reason", "upgrade")],
        )
        .unwrap();
        assert_eq!(r.status().code(), 200);
        assert_eq!(r.headers().get("Cache-Control"), Some("max-age=60"));
        let names: Vec<_> = r.headers().iter().map(|h| h.name()).collect();
        assert_eq!(names, ["Retry-After", "cache-control", "X-Reason"]);

        let r = MaintenanceResponse::build(
            Some(until()),
            None,
            None,
            ContentType::Html,
            vec![h("RETRY-AFTER", "3600")],
        )
        .unwrap();
        assert_eq!(r.headers().get("Retry-After"), Some("3600"));
        assert_eq!(r.headers().get("Cache-Control"), Some("no-store"));
        assert_eq!(r.headers().len(), 2);
    }

    #[test]
    fn build_uses_the_given_body() {
        let body = ResponseBody::new(ContentType::Json, r#"{"down":true}"#.into()).unwrap();
        let r =
            MaintenanceResponse::build(None, None, Some(body.clone()), ContentType::Html, vec![])
                .unwrap();
        assert_eq!(r.body(), &body);
    }

    #[test]
    fn build_header_count_includes_defaults() {
        let eight: Vec<_> = (0..8).map(|i| h(&format!("X-{i}"), "v")).collect();
        // 8 + Cache-Control = 9, and maint's marker makes AWS's 10: fine.
        let r =
            MaintenanceResponse::build(None, None, None, ContentType::Html, eight.clone()).unwrap();
        assert_eq!(r.headers().len(), 9);
        // 8 + Cache-Control + Retry-After = 10: refused, and the error says why.
        let err = MaintenanceResponse::build(Some(until()), None, None, ContentType::Html, eight)
            .unwrap_err();
        assert!(err.reason.contains("there are 10"), "{err}");
        assert!(err.reason.contains("8 given, plus 2"), "{err}");
        assert!(err.reason.contains("at most 9"), "{err}");
        // Duplicates among the user's headers are refused.
        let err = MaintenanceResponse::build(
            None,
            None,
            None,
            ContentType::Html,
            vec![h("X-A", "1"), h("x-a", "2")],
        )
        .unwrap_err();
        assert!(err.reason.contains("more than once"), "{err}");
    }

    #[test]
    fn from_parts_keeps_parts() {
        let status = ResponseStatus::new(429).unwrap();
        let body = ResponseBody::new(ContentType::Text, "busy".into()).unwrap();
        let headers = ResponseHeaders::new(vec![h("X-A", "1")]).unwrap();
        let r = MaintenanceResponse::from_parts(status, body.clone(), headers.clone());
        assert_eq!(r.status(), status);
        assert_eq!(r.body(), &body);
        assert_eq!(r.headers(), &headers);
    }

    #[test]
    fn a_response_request_over_a_window_keeps_what_it_does_not_name() {
        let h = |s: &str| s.parse::<ResponseHeader>().unwrap();
        let was = Some(until());
        let page = ResponseBody::new(ContentType::Html, "<p>our page</p>".into()).unwrap();
        let current = ResponseRequest {
            status: Some(ResponseStatus::new(502).unwrap()),
            page: Some(page.clone()),
            content_type: None,
            headers: vec![h("X-A: 1"), h("Cache-Control: max-age=0")],
        }
        .build(was)
        .unwrap();
        // Nothing asked, same end: the same response.
        let nothing = ResponseRequest::default();
        assert_eq!(nothing.over(&current, was, was).unwrap(), current);
        // A header replaces its namesake only; the page, status and the
        // user's Cache-Control stay; Retry-After follows the new end.
        let later = until() + chrono::Duration::hours(1);
        let asked = ResponseRequest {
            headers: vec![h("x-a: 2")],
            ..ResponseRequest::default()
        };
        let r = asked.over(&current, was, Some(later)).unwrap();
        assert_eq!(r.status().code(), 502);
        assert_eq!(r.body(), &page);
        assert_eq!(r.headers().get("X-A"), Some("2"));
        assert_eq!(r.headers().get("Cache-Control"), Some("max-age=0"));
        assert_eq!(
            r.headers().get("Retry-After"),
            Some(http_date(later).as_str())
        );
        // maint's default page shows the new end; a content type asked for
        // switches the default body.
        let default = ResponseRequest::default().build(was).unwrap();
        let r = nothing.over(&default, was, None).unwrap();
        assert_eq!(r, MaintenanceResponse::default());
        let json = ResponseRequest {
            content_type: Some(ContentType::Json),
            ..ResponseRequest::default()
        };
        let r = json.over(&default, was, was).unwrap();
        assert_eq!(r.body().content(), default_json_body(was));
        // A user's own Retry-After is theirs: kept when the end moves.
        let own = ResponseRequest {
            headers: vec![h("Retry-After: 60")],
            ..ResponseRequest::default()
        }
        .build(was)
        .unwrap();
        let r = nothing.over(&own, was, Some(later)).unwrap();
        assert_eq!(r.headers().get("Retry-After"), Some("60"));
    }
}
