//! The config file (`maint.toml`): named allowlists and named services.
//!
//! ```toml
//! region = "us-east-1"                      # optional default region
//!
//! [allowlists]
//! office = ["203.0.113.0/24", "2001:db8:1::/48"]
//! qa-vpn = { file = "allowlists/qa-vpn.txt" }   # relative to this file
//!
//! [services.shop]
//! load_balancers = ["shop-prod"]
//! allowlists = ["office", "qa-vpn"]
//! region = "us-east-1"                      # optional, overrides the default
//! page = "pages/shop.html"                  # optional, relative to this file
//! content_type = "html"                     # html | json | text
//! status = 503
//! headers = { "Retry-After" = "3600" }
//! existing_web_acl = "inject"               # refuse (default) | inject
//! bypass = true                              # a bypass secret on enter
//! url = "https://shop.example.com"           # for the bypass link
//! client_ip = { header = "X-Forwarded-For", position = "last" }  # behind CloudFront
//!
//! [accounts.prod]                           # optional: other AWS accounts
//! role_arn = "arn:aws:iam::111122223333:role/maint"
//! regions = ["us-east-1", "eu-west-1"]
//!
//! [services.checkout]
//! account = "prod"                          # acts there, in each of its regions
//! load_balancers = ["checkout"]
//! ```
//!
//! Loading validates everything (addresses, load balancer names and ARNs,
//! page files, status codes, headers, references between sections) and
//! reports every problem at once, each as `FILE:LINE:COLUMN: KEY: message`.
//! An unknown key is an error with a did-you-mean.

use std::collections::BTreeMap;
#[cfg(feature = "config")]
use std::fmt;
#[cfg(feature = "config")]
use std::ops::Range;
#[cfg(feature = "config")]
use std::path::Path;
use std::path::PathBuf;

#[cfg(feature = "config")]
use serde::Deserialize;
#[cfg(feature = "config")]
use toml::Spanned;

use crate::access::ClientIp;
#[cfg(feature = "config")]
use crate::access::{ClientIpFallback, ClientIpPosition};
use crate::account::Account;
use crate::allowlist::Allowlist;
#[cfg(feature = "config")]
use crate::allowlist::Cidr;
use crate::error::Error;
#[cfg(feature = "config")]
use crate::error::InvalidInput;
use crate::maintenance::ExistingWebAcl;
#[cfg(feature = "config")]
use crate::response::ResponseHeaders;
use crate::response::{ContentType, ResponseBody, ResponseHeader, ResponseStatus};
use crate::scope::{HostPattern, PathPrefix, Scope};
use crate::target::LoadBalancerRef;

pub use crate::suggest::did_you_mean;

/// The default config file name, looked up in the current directory.
pub const DEFAULT_FILE: &str = "maint.toml";

pub use crate::config_problem::{ConfigError, ConfigProblem};

/// A named service: the load balancers that go into maintenance together,
/// and how their maintenance looks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// The service's name (its key under `[services]`).
    pub name: String,
    /// Its load balancers, by name or ARN.
    pub load_balancers: Vec<LoadBalancerRef>,
    /// The union of the named allowlists it uses.
    pub allowlist: Allowlist,
    /// The names of those allowlists.
    pub allowlist_names: Vec<String>,
    /// Its region, if it has its own.
    pub region: Option<String>,
    /// The config account it is in (`account = "prod"`); `None`: the
    /// account of the credentials maint runs with (or, for an ARN, the
    /// config account with that ID).
    pub account: Option<String>,
    /// Its maintenance page, read and validated.
    pub page: Option<ResponseBody>,
    /// The content type for the built-in page when it has no page of its own.
    pub content_type: Option<ContentType>,
    /// Its response status.
    pub status: Option<ResponseStatus>,
    /// Extra response headers.
    pub headers: Vec<ResponseHeader>,
    /// What `enter` does when a load balancer of the service already has a
    /// web ACL of its own (`existing_web_acl = "inject"`: add maint's rule
    /// to it; the default refuses).
    pub existing_web_acl: ExistingWebAcl,
    /// Whether `enter` gives the window a bypass secret (`bypass = true`).
    pub bypass: bool,
    /// Where the allowlist finds a request's address
    /// (`client_ip = { header = "X-Forwarded-For", position = "last" }`);
    /// `None`: the connection.
    pub client_ip: Option<ClientIp>,
    /// The service's public address (`url = "https://shop.example.com"`),
    /// for the bypass link.
    pub url: Option<String>,
    /// The hosts it answers for on a load balancer it shares
    /// (`hosts = ["shop.example.com", "*.shop.example.com"]`); empty: every
    /// host.
    pub hosts: Vec<HostPattern>,
    /// The path prefixes it covers (`paths = ["/checkout"]`); empty: every
    /// path.
    pub paths: Vec<PathPrefix>,
    /// The path prefixes always let through during its windows
    /// (`open_paths = ["/healthz", "/webhooks/stripe"]`).
    pub open_paths: Vec<PathPrefix>,
}

impl Service {
    /// The URL `--wait` probes for the service: its `url`, moved into its
    /// scope when its path is not (the service's first path prefix outside
    /// its open paths), so the probe asks for a page the window covers.
    /// `None` without a `url`, or when no covered path can be found.
    pub fn probe_url(&self) -> Option<String> {
        let scope = Scope::new(
            self.hosts.clone(),
            self.paths.clone(),
            self.open_paths.clone(),
        )
        .ok()?;
        scope.probe_url(self.url.as_deref()?)
    }
}

/// A loaded, validated config file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Config {
    /// Where it was read from.
    pub path: PathBuf,
    /// The default region.
    pub region: Option<String>,
    /// The share of AWS WAF's call-rate quotas maint may use, in percent
    /// (1 to 100; `None`: all of them), for accounts where other callers
    /// (pipelines, controllers) use the same quotas.
    pub waf_quota_percent: Option<u8>,
    /// Webhooks told of every change (`[notify] webhooks = [...]`).
    pub notify_webhooks: Vec<String>,
    /// Named allowlists.
    pub allowlists: BTreeMap<String, Allowlist>,
    /// Named services.
    pub services: BTreeMap<String, Service>,
    /// Other AWS accounts (`[accounts.NAME]`), by name.
    pub accounts: BTreeMap<String, Account>,
}

#[cfg(feature = "config")]
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    region: Option<Spanned<String>>,
    waf_quota_percent: Option<Spanned<i64>>,
    notify: Option<RawNotify>,
    #[serde(default)]
    allowlists: BTreeMap<Spanned<String>, Spanned<RawAllowlist>>,
    #[serde(default)]
    services: BTreeMap<Spanned<String>, Spanned<RawService>>,
    #[serde(default)]
    accounts: BTreeMap<Spanned<String>, Spanned<crate::account::RawAccount>>,
}

/// An allowlist in the config: a list of entries, or `{ file = "..." }`.
/// (A hand-written visitor: serde's untagged enums lose toml's spans.)
#[cfg(feature = "config")]
enum RawAllowlist {
    Inline(Vec<Spanned<String>>),
    File(RawAllowlistFile),
}

#[cfg(feature = "config")]
struct RawAllowlistFile {
    file: Spanned<String>,
}

#[cfg(feature = "config")]
impl<'de> Deserialize<'de> for RawAllowlist {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = RawAllowlist;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"a list of addresses or CIDRs, or { file = "path" }"#)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = seq.next_element::<Spanned<String>>()? {
                    entries.push(entry);
                }
                Ok(RawAllowlist::Inline(entries))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut file = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key == "file" {
                        file = Some(map.next_value::<Spanned<String>>()?);
                    } else {
                        return Err(serde::de::Error::unknown_field(&key, &["file"]));
                    }
                }
                file.map(|file| RawAllowlist::File(RawAllowlistFile { file }))
                    .ok_or_else(|| serde::de::Error::missing_field("file"))
            }
        }
        d.deserialize_any(Visitor)
    }
}

#[cfg(feature = "config")]
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    // Load balancers; `resources` (issue 22): the other regional resources
    // AWS WAF protects, by ARN (either list may hold either kind).
    load_balancers: Option<Spanned<Vec<Spanned<String>>>>,
    resources: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    allowlists: Vec<Spanned<String>>,
    region: Option<Spanned<String>>,
    account: Option<Spanned<String>>,
    page: Option<Spanned<String>>,
    content_type: Option<Spanned<String>>,
    status: Option<Spanned<i64>>,
    #[serde(default)]
    headers: BTreeMap<Spanned<String>, Spanned<String>>,
    existing_web_acl: Option<Spanned<String>>,
    bypass: Option<Spanned<bool>>,
    client_ip: Option<Spanned<RawClientIp>>,
    url: Option<Spanned<String>>,
    #[serde(default)]
    hosts: Vec<Spanned<String>>,
    #[serde(default)]
    paths: Vec<Spanned<String>>,
    #[serde(default)]
    open_paths: Vec<Spanned<String>>,
}

#[cfg(feature = "config")]
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNotify {
    #[serde(default)]
    webhooks: Vec<Spanned<String>>,
}

#[cfg(feature = "config")]
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClientIp {
    header: Spanned<String>,
    position: Spanned<String>,
    fallback: Option<Spanned<String>>,
}

#[cfg(feature = "config")]
/// A validation under way: collects the problems found, with their positions.
struct Validation<'a> {
    file: &'a Path,
    text: &'a str,
    found: Vec<ConfigProblem>,
}

#[cfg(feature = "config")]
impl Validation<'_> {
    fn at(&mut self, span: Option<Range<usize>>, key: Option<String>, message: impl Into<String>) {
        let (line, column) = match span {
            Some(span) => {
                let (l, c) = line_column(self.text, span.start);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        self.found.push(ConfigProblem {
            file: self.file.to_path_buf(),
            line,
            column,
            key,
            message: message.into(),
        });
    }
}

#[cfg(feature = "config")]
/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(feature = "config")]
/// Rewrites toml's "unknown field `x`, expected one of `a`, `b`" into a
/// message with a did-you-mean.
fn explain_toml_error(message: &str) -> String {
    let message = message.trim();
    let Some(rest) = message.strip_prefix("unknown field `") else {
        return message.to_string();
    };
    let Some((field, expected)) = rest.split_once('`') else {
        return message.to_string();
    };
    let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    let mut out = format!("unknown key `{field}`");
    if let Some(best) = did_you_mean(field, candidates.iter().copied()) {
        out.push_str(&format!("; did you mean `{best}`?"));
    } else if !candidates.is_empty() {
        out.push_str(&format!("; known keys: {}", candidates.join(", ")));
    }
    out
}

impl Config {
    #[cfg(feature = "config")]
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::new(vec![ConfigProblem {
                file: path.to_path_buf(),
                line: None,
                column: None,
                key: None,
                message: format!("cannot read the config file: {e}"),
            }])
        })?;
        Self::parse(&text, path)
    }

    #[cfg(feature = "config")]
    /// Validates config text; `path` names it in errors and anchors the
    /// relative paths it holds.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let mut problems = Validation {
            file: path,
            text,
            found: Vec::new(),
        };
        let raw: RawConfig = match toml::from_str(text) {
            Ok(raw) => raw,
            Err(e) => {
                problems.at(e.span(), None, explain_toml_error(e.message()));
                return Err(ConfigError::new(problems.found));
            }
        };
        let base = path.parent().unwrap_or(Path::new("."));
        let config = Self::validate(raw, path, base, &mut problems);
        if problems.found.is_empty() {
            Ok(config)
        } else {
            problems
                .found
                .sort_by_key(|p| (p.file != path, p.line, p.column));
            Err(ConfigError::new(problems.found))
        }
    }

    #[cfg(feature = "config")]
    fn validate(raw: RawConfig, path: &Path, base: &Path, problems: &mut Validation<'_>) -> Self {
        let mut config = Config {
            path: path.to_path_buf(),
            region: None,
            ..Config::default()
        };
        if let Some(region) = &raw.region {
            if check_region(region, "region", problems) {
                config.region = Some(region.get_ref().clone());
            }
        }
        if let Some(percent) = &raw.waf_quota_percent {
            match u8::try_from(*percent.get_ref()) {
                Ok(p) if (1..=100).contains(&p) => config.waf_quota_percent = Some(p),
                _ => problems.at(
                    Some(percent.span()),
                    Some("waf_quota_percent".into()),
                    format!(
                        "{} is not a percentage from 1 to 100 of AWS WAF's call-rate quotas",
                        percent.get_ref()
                    ),
                ),
            }
        }
        for url in raw.notify.iter().flat_map(|n| &n.webhooks) {
            match check_webhook_url(url.get_ref()) {
                Ok(()) => config.notify_webhooks.push(url.get_ref().clone()),
                Err(message) => {
                    problems.at(Some(url.span()), Some("notify.webhooks".into()), message)
                }
            }
        }
        for (name, list) in &raw.allowlists {
            let key = format!("allowlists.{}", name.get_ref());
            if let Some(parsed) = load_allowlist(list, &key, base, problems) {
                config.allowlists.insert(name.get_ref().clone(), parsed);
            }
        }
        for (name, account) in &raw.accounts {
            match Account::from_config(name.get_ref(), account.get_ref()) {
                Ok(parsed) => {
                    config.accounts.insert(parsed.name.clone(), parsed);
                }
                Err(found) => {
                    for (span, field, message) in found {
                        let key = format!("accounts.{}{field}", name.get_ref());
                        problems.at(
                            Some(span.unwrap_or_else(|| account.span())),
                            Some(key),
                            message,
                        );
                    }
                }
            }
        }
        for (name, service) in raw.services {
            let key = format!("services.{}", name.get_ref());
            let span = service.span();
            let account = service.get_ref().account.clone();
            if let Some(parsed) = validate_service(
                name.into_inner(),
                service.into_inner(),
                &key,
                span,
                &raw.allowlists,
                &config.allowlists,
                base,
                problems,
            ) {
                let defined: Vec<&str> =
                    raw.accounts.keys().map(|k| k.get_ref().as_str()).collect();
                if let Some(parsed) =
                    config.service_account(parsed, account, &defined, &key, problems)
                {
                    config.services.insert(parsed.name.clone(), parsed);
                }
            }
        }
        config
    }

    /// `service` in its `account` (see [`Account::holds`]).
    #[cfg(feature = "config")]
    fn service_account(
        &self,
        mut service: Service,
        account: Option<Spanned<String>>,
        defined: &[&str],
        key: &str,
        problems: &mut Validation<'_>,
    ) -> Option<Service> {
        let Some(account) = account else {
            return Some(service);
        };
        let name = account.get_ref();
        match Account::holds(&self.accounts, name, defined, &service.load_balancers) {
            Ok(()) => {
                service.account = Some(name.clone());
                Some(service)
            }
            Err(Some(message)) => {
                problems.at(
                    Some(account.span()),
                    Some(format!("{key}.account")),
                    message,
                );
                None
            }
            Err(None) => None,
        }
    }

    /// The config account with the 12-digit ID `id`, if any.
    pub fn account_with_id(&self, id: &str) -> Option<&Account> {
        self.accounts.values().find(|a| a.id.as_deref() == Some(id))
    }

    /// A service by name.
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.get(name)
    }

    /// An allowlist by name.
    pub fn allowlist(&self, name: &str) -> Option<&Allowlist> {
        self.allowlists.get(name)
    }

    /// An allowlist by name, or an invalid-input error naming the file and
    /// the closest defined name.
    pub fn named_allowlist(&self, name: &str) -> Result<&Allowlist, Error> {
        self.allowlist(name).ok_or_else(|| {
            let hint = did_you_mean(name, self.allowlists.keys().map(String::as_str))
                .map(|b| format!("; did you mean {b:?}?"))
                .unwrap_or_default();
            Error::invalid(
                format!("allowlist {name:?}"),
                format!("not defined in {}{hint}", self.path.display()),
            )
        })
    }

    #[cfg(feature = "config")]
    /// The config file a command uses: `explicit` (a `--config` flag or a
    /// `config=` argument), else `$MAINT_CONFIG`, else [`DEFAULT_FILE`] in the
    /// current directory when it exists, else none. A file that was named
    /// but cannot be read is an error, never silently skipped.
    pub fn discover(explicit: Option<&Path>) -> Result<Option<Self>, Error> {
        let from_env = std::env::var_os(ENV_VAR)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        match explicit.map(Path::to_path_buf).or(from_env) {
            Some(path) => Ok(Some(Self::load(&path)?)),
            None if Path::new(DEFAULT_FILE).is_file() => {
                Ok(Some(Self::load(Path::new(DEFAULT_FILE))?))
            }
            None => Ok(None),
        }
    }
}

/// The environment variable that names the config file when none is given.
pub const ENV_VAR: &str = "MAINT_CONFIG";

#[cfg(feature = "config")]
fn check_region(region: &Spanned<String>, key: &str, problems: &mut Validation<'_>) -> bool {
    let r = region.get_ref();
    let ok = r.split('-').count() >= 3
        && r.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && r.rsplit('-')
            .next()
            .is_some_and(|n| n.parse::<u32>().is_ok());
    if !ok {
        problems.at(
            Some(region.span()),
            Some(key.to_string()),
            format!("{r:?} is not an AWS region (like us-east-1)"),
        );
    }
    ok
}

#[cfg(feature = "config")]
fn load_allowlist(
    list: &Spanned<RawAllowlist>,
    key: &str,
    base: &Path,
    problems: &mut Validation<'_>,
) -> Option<Allowlist> {
    match list.get_ref() {
        RawAllowlist::Inline(entries) => {
            let mut cidrs = Vec::new();
            let mut ok = true;
            for entry in entries {
                match Cidr::parse(entry.get_ref()) {
                    Ok(c) => cidrs.push(c),
                    Err(e) => {
                        ok = false;
                        problems.at(
                            Some(entry.span()),
                            Some(key.to_string()),
                            format!("{}: {e}", entry.get_ref()),
                        );
                    }
                }
            }
            if !ok {
                return None;
            }
            match Allowlist::from_cidrs(cidrs) {
                Ok(list) => Some(list),
                Err(e) => {
                    for p in e.problems() {
                        problems.at(Some(list.span()), Some(key.to_string()), p.to_string());
                    }
                    None
                }
            }
        }
        RawAllowlist::File(file) => {
            let path = base.join(file.file.get_ref());
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(e) => {
                    problems.at(
                        Some(file.file.span()),
                        Some(format!("{key}.file")),
                        format!("cannot read {}: {e}", path.display()),
                    );
                    return None;
                }
            };
            match Allowlist::parse_text(&text, &path.display().to_string()) {
                Ok(list) => Some(list),
                Err(e) => {
                    for p in e.problems() {
                        // The allowlist file's own line, with the entry.
                        problems.found.push(ConfigProblem {
                            file: path.clone(),
                            line: p.location.as_ref().map(|l| l.line),
                            column: None,
                            key: None,
                            message: match &p.entry {
                                Some(entry) => format!("{entry}: {} (allowlist {key})", p.kind),
                                None => format!("{} (allowlist {key})", p.kind),
                            },
                        });
                    }
                    None
                }
            }
        }
    }
}

#[cfg(feature = "config")]
#[allow(clippy::too_many_arguments)]
fn validate_service(
    name: String,
    raw: RawService,
    key: &str,
    span: Range<usize>,
    raw_allowlists: &BTreeMap<Spanned<String>, Spanned<RawAllowlist>>,
    allowlists: &BTreeMap<String, Allowlist>,
    base: &Path,
    problems: &mut Validation<'_>,
) -> Option<Service> {
    let before = problems.found.len();
    let mut load_balancers = Vec::new();
    let lists = [
        ("load_balancers", &raw.load_balancers),
        ("resources", &raw.resources),
    ];
    for (list, given) in lists.iter().filter_map(|(k, l)| l.as_ref().map(|l| (k, l))) {
        for lb in given.get_ref() {
            match LoadBalancerRef::parse(lb.get_ref()) {
                Ok(r) => load_balancers.push(r),
                Err(e) => problems.at(
                    Some(lb.span()),
                    Some(format!("{key}.{list}")),
                    e.to_string(),
                ),
            }
        }
    }
    if load_balancers.is_empty() && problems.found.len() == before {
        let at = raw.load_balancers.as_ref().or(raw.resources.as_ref());
        problems.at(
            Some(at.map_or(span.clone(), Spanned::span)),
            Some(format!("{key}.load_balancers")),
            "a service needs at least one load balancer (or other resource: `resources`)",
        );
    }
    let mut allowlist = Allowlist::new();
    let mut allowlist_names = Vec::new();
    for list_name in &raw.allowlists {
        let wanted = list_name.get_ref();
        match allowlists.get(wanted) {
            Some(list) => match allowlist.union(list) {
                Ok(joined) => {
                    allowlist = joined;
                    allowlist_names.push(wanted.clone());
                }
                Err(e) => problems.at(
                    Some(list_name.span()),
                    Some(format!("{key}.allowlists")),
                    e.to_string(),
                ),
            },
            // Defined but invalid: already reported where it is defined.
            None if raw_allowlists.keys().any(|k| k.get_ref() == wanted) => {}
            None => {
                let names = raw_allowlists.keys().map(|k| k.get_ref().as_str());
                let hint = did_you_mean(wanted, names)
                    .map(|b| format!("; did you mean {b:?}?"))
                    .unwrap_or_else(|| "; define it under [allowlists]".to_string());
                problems.at(
                    Some(list_name.span()),
                    Some(format!("{key}.allowlists")),
                    format!("no allowlist named {wanted:?}{hint}"),
                );
            }
        }
    }
    let region = raw.region.as_ref().and_then(|r| {
        check_region(r, &format!("{key}.region"), problems).then(|| r.get_ref().clone())
    });
    let content_type =
        raw.content_type
            .as_ref()
            .and_then(|ct| match ct.get_ref().parse::<ContentType>() {
                Ok(t) => Some(t),
                Err(e) => {
                    problems.at(
                        Some(ct.span()),
                        Some(format!("{key}.content_type")),
                        e.to_string(),
                    );
                    None
                }
            });
    let page = raw.page.as_ref().and_then(|page| {
        let path = base.join(page.get_ref());
        match ResponseBody::from_file(&path, content_type) {
            Ok(body) => Some(body),
            Err(e) => {
                problems.at(
                    Some(page.span()),
                    Some(format!("{key}.page")),
                    e.to_string(),
                );
                None
            }
        }
    });
    let status = raw.status.as_ref().and_then(|s| {
        let checked = u16::try_from(*s.get_ref())
            .map_err(|_| format!("{} is not an HTTP status code", s.get_ref()))
            .and_then(|code| ResponseStatus::new(code).map_err(|e| e.to_string()));
        match checked {
            Ok(status) => Some(status),
            Err(message) => {
                problems.at(Some(s.span()), Some(format!("{key}.status")), message);
                None
            }
        }
    });
    let mut headers = Vec::new();
    for (header_name, value) in &raw.headers {
        match ResponseHeader::new(header_name.get_ref().clone(), value.get_ref().clone()) {
            Ok(h) => headers.push(h),
            Err(e) => problems.at(
                Some(header_name.span()),
                Some(format!("{key}.headers")),
                e.to_string(),
            ),
        }
    }
    if let Err(e) = ResponseHeaders::new(headers.clone()) {
        problems.at(
            Some(span.clone()),
            Some(format!("{key}.headers")),
            e.to_string(),
        );
    }
    let existing_web_acl = match raw.existing_web_acl.as_ref() {
        None => ExistingWebAcl::Refuse,
        Some(v) => match v.get_ref().as_str() {
            "refuse" => ExistingWebAcl::Refuse,
            "inject" => ExistingWebAcl::Inject,
            other => {
                problems.at(
                    Some(v.span()),
                    Some(format!("{key}.existing_web_acl")),
                    format!("{other:?} is not one of \"refuse\", \"inject\""),
                );
                ExistingWebAcl::Refuse
            }
        },
    };
    let client_ip = raw.client_ip.as_ref().and_then(|c| {
        let c = c.get_ref();
        let at = |problems: &mut Validation<'_>, span: Range<usize>, e: InvalidInput| {
            problems.at(Some(span), Some(format!("{key}.client_ip")), e.to_string());
        };
        let position = ClientIpPosition::parse(c.position.get_ref())
            .map_err(|e| at(problems, c.position.span(), e))
            .ok();
        let fallback = match &c.fallback {
            None => Some(ClientIpFallback::NoMatch),
            Some(f) => ClientIpFallback::parse(f.get_ref())
                .map_err(|e| at(problems, f.span(), e))
                .ok(),
        };
        let (position, fallback) = (position?, fallback?);
        ClientIp::header(c.header.get_ref(), position, fallback)
            .map_err(|e| at(problems, c.header.span(), e))
            .ok()
    });
    let url = raw.url.as_ref().and_then(|u| match check_url(u.get_ref()) {
        Ok(()) => Some(u.get_ref().trim_end_matches('/').to_string()),
        Err(message) => {
            problems.at(Some(u.span()), Some(format!("{key}.url")), message);
            None
        }
    });
    let hosts = scope_list(problems, key, "hosts", &raw.hosts, HostPattern::parse);
    let paths = scope_list(problems, key, "paths", &raw.paths, PathPrefix::parse);
    let open_paths = scope_list(
        problems,
        key,
        "open_paths",
        &raw.open_paths,
        PathPrefix::parse,
    );
    if let (Some(hosts), Some(paths), Some(open)) = (&hosts, &paths, &open_paths) {
        if let Err(e) = Scope::new(hosts.clone(), paths.clone(), open.clone()) {
            problems.at(Some(span.clone()), Some(key.to_string()), e.to_string());
        }
    }
    let service = Service {
        name,
        load_balancers,
        allowlist,
        allowlist_names,
        region,
        account: None,
        page,
        content_type,
        status,
        headers,
        existing_web_acl,
        bypass: raw.bypass.as_ref().is_some_and(|b| *b.get_ref()),
        client_ip,
        url,
        hosts: hosts.unwrap_or_default(),
        paths: paths.unwrap_or_default(),
        open_paths: open_paths.unwrap_or_default(),
    };
    // A `url` the window does not cover would never show the page to
    // `--wait`, nor answer the bypass link.
    if let (Some(url), Some(raw_url)) = (&service.url, &raw.url) {
        if service.probe_url().is_none() {
            problems.at(
                Some(raw_url.span()),
                Some(format!("{key}.url")),
                format!(
                    "{url:?} is outside the service's scope ({}): `--wait` would never see \
                     the maintenance page there; give a url on one of its hosts and paths",
                    Scope::new(
                        service.hosts.clone(),
                        service.paths.clone(),
                        service.open_paths.clone()
                    )
                    .ok()
                    .and_then(|s| s.describe())
                    .unwrap_or_default()
                ),
            );
        }
    }
    (problems.found.len() == before).then_some(service)
}

/// One list of a service's scope (`hosts`, `paths`, `open_paths`), each
/// entry parsed; a bad one is a problem at its place.
#[cfg(feature = "config")]
fn scope_list<T>(
    problems: &mut Validation<'_>,
    key: &str,
    name: &str,
    raw: &[Spanned<String>],
    parse: impl Fn(&str) -> std::result::Result<T, InvalidInput>,
) -> Option<Vec<T>> {
    let mut ok = true;
    let mut out = Vec::with_capacity(raw.len());
    for entry in raw {
        match parse(entry.get_ref()) {
            Ok(v) => out.push(v),
            Err(e) => {
                ok = false;
                problems.at(
                    Some(entry.span()),
                    Some(format!("{key}.{name}")),
                    e.to_string(),
                );
            }
        }
    }
    ok.then_some(out)
}

/// Checks a service's public address: `https://` or `http://` and a host,
/// no spaces, no query or fragment.
pub fn check_url(url: &str) -> std::result::Result<(), String> {
    check_url_shown_as(url, &format!("{url:?}"))
}

/// [`check_url`] for a webhook, whose message quotes the scheme and host
/// only ([`redact_url`](crate::error::redact_url)): a webhook's path is its
/// secret, and a URL may hold a password.
pub fn check_webhook_url(url: &str) -> std::result::Result<(), String> {
    let shown = format!("{:?} (the rest not shown)", crate::error::redact_url(url));
    check_url_shown_as(url, &shown)
}

fn check_url_shown_as(url: &str, shown: &str) -> std::result::Result<(), String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| format!("{shown} must start with https:// (or http://)"))?;
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() {
        return Err(format!("{shown} has no host"));
    }
    if let Some(c) = url
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || matches!(c, '?' | '#' | '"' | '<' | '>'))
    {
        return Err(format!("{shown} contains {c:?}"));
    }
    Ok(())
}

#[cfg(all(test, feature = "config"))]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "maint-config-{}-{}",
            std::process::id(),
            fastrand::u64(..)
        ));
        std::fs::create_dir_all(d.join("allowlists")).unwrap();
        std::fs::create_dir_all(d.join("pages")).unwrap();
        d
    }

    fn problems(text: &str, base: &Path) -> Vec<String> {
        Config::parse(text, &base.join("maint.toml"))
            .unwrap_err()
            .problems()
            .iter()
            .map(|p| p.to_string())
            .collect()
    }

    #[test]
    fn a_services_url_is_probed_inside_its_scope_or_refused() {
        let d = dir();
        let service = |scope: &str| {
            let text = format!(
                "[services.shop]\nload_balancers = [\"shop\"]\nurl = \"https://shop.example.com/\"\n{scope}\n"
            );
            Config::parse(&text, &d.join("maint.toml")).map(|c| c.services["shop"].clone())
        };
        // No scope, or the url inside it: probed as given.
        assert_eq!(
            service("").unwrap().probe_url().as_deref(),
            Some("https://shop.example.com")
        );
        assert_eq!(
            service("hosts = [\"*.example.com\"]")
                .unwrap()
                .probe_url()
                .as_deref(),
            Some("https://shop.example.com")
        );
        // Outside its paths: the first path prefix, on the url's host.
        assert_eq!(
            service("paths = [\"/checkout\", \"/api/\"]")
                .unwrap()
                .probe_url()
                .as_deref(),
            Some("https://shop.example.com/checkout")
        );
        assert_eq!(
            service("paths = [\"/checkout\", \"/api/\"]\nopen_paths = [\"/checkout\"]")
                .unwrap()
                .probe_url()
                .as_deref(),
            Some("https://shop.example.com/api/")
        );
        // A url on another host, or only under open paths: never the page.
        for scope in ["hosts = [\"api.example.com\"]", "open_paths = [\"/\"]"] {
            let problems: Vec<String> = service(scope)
                .unwrap_err()
                .problems()
                .iter()
                .map(ToString::to_string)
                .collect();
            assert!(
                problems.iter().any(|p| p.contains("services.shop.url")
                    && p.contains("outside the service's scope")),
                "{scope}: {problems:?}"
            );
        }
    }

    const GOOD: &str = r#"
region = "us-east-1"

[allowlists]
office = ["203.0.113.0/24", "2001:db8:1::/48"]
qa-vpn = { file = "allowlists/qa-vpn.txt" }

[services.shop]
load_balancers = ["shop-prod", "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/shop-admin/0123456789abcdef"]
allowlists = ["office", "qa-vpn"]
region = "eu-west-1"
page = "pages/shop.html"
content_type = "html"
status = 503
headers = { "Retry-After" = "3600" }
"#;

    #[test]
    fn loads_the_documented_example() {
        let d = dir();
        std::fs::write(d.join("allowlists/qa-vpn.txt"), "198.51.100.0/24 # vpn\n").unwrap();
        std::fs::write(d.join("pages/shop.html"), "<h1>Back soon</h1>").unwrap();
        let config = Config::parse(GOOD, &d.join("maint.toml")).unwrap();
        assert_eq!(config.region.as_deref(), Some("us-east-1"));
        let shop = config.service("shop").unwrap();
        assert_eq!(shop.load_balancers.len(), 2);
        assert_eq!(shop.region.as_deref(), Some("eu-west-1"));
        assert_eq!(
            shop.allowlist.to_string(),
            "198.51.100.0/24\n203.0.113.0/24\n2001:db8:1::/48\n"
        );
        assert_eq!(shop.page.as_ref().unwrap().content(), "<h1>Back soon</h1>");
        assert_eq!(shop.status.unwrap().code(), 503);
        assert_eq!(shop.headers[0].name(), "Retry-After");
    }

    #[test]
    fn unknown_keys_say_where_and_suggest() {
        let d = dir();
        let text = "[services.shop]\nload_balancer = [\"shop\"]\n";
        let got = problems(text, &d);
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].contains("maint.toml:2:1"), "{got:?}");
        assert!(got[0].contains("did you mean `load_balancers`?"), "{got:?}");
        let got = problems("regoin = \"us-east-1\"\n", &d);
        assert!(got[0].contains("did you mean `region`?"), "{got:?}");
    }

    #[test]
    fn every_bad_value_is_reported_with_its_position() {
        let d = dir();
        std::fs::write(d.join("allowlists/bad.txt"), "10.0.0.0/8\n10.1.2.3/16\n").unwrap();
        let text = r#"[allowlists]
office = ["203.0.113.5/24", "ok"]
vpn = { file = "allowlists/bad.txt" }

[services.shop]
load_balancers = ["arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/x/0123456789abcdef"]
allowlists = ["offce", "nowhere-near"]
status = 418
page = "pages/missing.html"
headers = { "Content-Type" = "text/html" }
"#;
        let got = problems(text, &d);
        let joined = got.join("\n");
        for expected in [
            "maint.toml:2:11: allowlists.office: 203.0.113.5/24: host bits are set; did you mean 203.0.113.0/24?",
            "maint.toml:2:29: allowlists.office: ok: ",
            "maint.toml:6:19: services.shop.load_balancers: ",
            "Network Load Balancer",
            "maint.toml:7:15: services.shop.allowlists: no allowlist named \"offce\"; did you mean \"office\"?",
            "services.shop.allowlists: no allowlist named \"nowhere-near\"; define it under [allowlists]",
            "maint.toml:8:10: services.shop.status: ",
            "services.shop.page: ",
            "missing.html",
            "services.shop.headers: ",
            "bad.txt:2: 10.1.2.3/16: host bits are set; did you mean 10.1.0.0/16? (allowlist allowlists.vpn)",
        ] {
            assert!(joined.contains(expected), "missing {expected:?} in:\n{joined}");
        }
    }

    #[test]
    fn accounts_load_with_their_access_and_services_name_them() {
        use crate::account::AccountAccess;
        let d = dir();
        let text = r#"[accounts.prod]
role_arn = "arn:aws:iam::111122223333:role/maint"
external_id = "maint-prod"
regions = ["us-east-1", "eu-west-1"]

[accounts.staging]
profile = "staging"
id = "444455556666"

[accounts.tools]
id = "123456789012"

[services.shop]
account = "prod"
load_balancers = ["shop", "arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/shop-eu/0123456789abcdef"]
"#;
        let path = d.join("maint.toml");
        let config = Config::parse(text, &path).unwrap();
        let prod = &config.accounts["prod"];
        assert_eq!(prod.id.as_deref(), Some("111122223333"));
        assert_eq!(
            prod.access,
            AccountAccess::Role {
                arn: "arn:aws:iam::111122223333:role/maint".into(),
                external_id: Some("maint-prod".into()),
            }
        );
        assert_eq!(prod.regions, ["us-east-1", "eu-west-1"]);
        assert_eq!(prod.to_string(), "prod (111122223333)");
        assert_eq!(
            config.accounts["staging"].access,
            AccountAccess::Profile("staging".into())
        );
        assert_eq!(config.accounts["tools"].access, AccountAccess::Caller);
        assert_eq!(config.services["shop"].account.as_deref(), Some("prod"));
        assert_eq!(
            config
                .account_with_id("444455556666")
                .map(|a| a.name.as_str()),
            Some("staging")
        );
    }

    #[test]
    fn a_bad_account_is_reported_where_it_is() {
        let d = dir();
        let text = r#"[accounts.prod]
role_arn = "arn:aws:iam::12345:role/maint"
[accounts.both]
role_arn = "arn:aws:iam::111122223333:role/maint"
profile = "x"
[accounts.none]
regions = ["eu-west-1"]
[accounts.mismatch]
role_arn = "arn:aws:iam::111122223333:role/maint"
id = "999999999999"
[accounts.ext]
profile = "p"
external_id = "abc"
[accounts.tools]
id = "123456789012"

[services.shop]
account = "prd"
load_balancers = ["shop"]
[services.api]
account = "tools"
load_balancers = ["arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/api/0123456789abcdef"]
"#;
        let got = problems(text, &d);
        let joined = got.join("\n");
        for expected in [
            "maint.toml:2:12: accounts.prod.role_arn: \"arn:aws:iam::12345:role/maint\": the account \"12345\" is not a 12-digit AWS account ID",
            "maint.toml:5:11: accounts.both.profile: give either role_arn (assumed with STS) or profile, not both",
            "accounts.none: give role_arn",
            "accounts.mismatch.role_arn: the role is in account 111122223333, but id = \"999999999999\"",
            "accounts.ext.external_id: an external ID goes with a role_arn",
            "maint.toml:18:11: services.shop.account: no account named \"prd\"; did you mean \"prod\"?",
            "services.api.account: the account tools (123456789012) does not hold arn:aws:elasticloadbalancing:eu-west-1:111122223333:",
        ] {
            assert!(joined.contains(expected), "missing {expected:?} in:\n{joined}");
        }
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let d = dir();
        let got = problems("[services.shop\n", &d);
        assert!(
            got[0].starts_with(&format!("{}:1:", d.join("maint.toml").display())),
            "{got:?}"
        );
    }

    #[test]
    fn the_example_config_in_the_repository_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/maint.toml");
        let config = Config::load(&path).unwrap();
        assert_eq!(config.services.len(), 3);
        assert_eq!(
            config.service("checkout-eu").unwrap().account.as_deref(),
            Some("prod-eu")
        );
        assert_eq!(config.accounts["prod-eu"].regions.len(), 2);
        assert_eq!(
            config.account_with_id("123456789012").unwrap().name,
            "tools"
        );
        assert_eq!(config.service("shop").unwrap().allowlist.len(), 4);
        assert_eq!(config.service("shop").unwrap().hosts.len(), 2);
        assert_eq!(config.service("shop").unwrap().open_paths.len(), 2);
        assert!(config.service("api").unwrap().hosts.is_empty());
        assert_eq!(config.waf_quota_percent, Some(100));
        assert_eq!(
            config.service("shop").unwrap().existing_web_acl,
            ExistingWebAcl::Refuse
        );
        assert_eq!(
            config.service("api").unwrap().existing_web_acl,
            ExistingWebAcl::Inject
        );
    }

    #[test]
    fn existing_web_acl_is_refuse_by_default_inject_with_consent_and_nothing_else() {
        let d = dir();
        let text = "[services.shop]\nload_balancers = [\"shop-prod\"]\n";
        let config = Config::parse(text, &d.join("maint.toml")).unwrap();
        assert_eq!(
            config.service("shop").unwrap().existing_web_acl,
            ExistingWebAcl::Refuse
        );
        for (value, expected) in [
            ("refuse", ExistingWebAcl::Refuse),
            ("inject", ExistingWebAcl::Inject),
        ] {
            let text = format!("{text}existing_web_acl = \"{value}\"\n");
            let config = Config::parse(&text, &d.join("maint.toml")).unwrap();
            assert_eq!(config.service("shop").unwrap().existing_web_acl, expected);
        }
        let got = problems(&format!("{text}existing_web_acl = \"maybe\"\n"), &d);
        assert_eq!(got.len(), 1, "{got:?}");
        let path = d.join("maint.toml");
        assert_eq!(
            got[0],
            format!(
                "{}:3:20: services.shop.existing_web_acl: \"maybe\" is not one of \"refuse\", \"inject\"",
                path.display()
            )
        );
        // Not a string: a type error at the value's file and line.
        let got = problems(&format!("{text}existing_web_acl = true\n"), &d);
        assert!(got[0].contains("maint.toml:3:20: "), "{got:?}");
    }

    #[test]
    fn bypass_url_and_client_ip_parse_and_bad_values_name_their_place() {
        let d = dir();
        let path = d.join("maint.toml");
        let text = "[services.shop]\nload_balancers = [\"shop-prod\"]\n";
        let plain = Config::parse(text, &path).unwrap();
        let shop = plain.service("shop").unwrap();
        assert!(!shop.bypass && shop.client_ip.is_none() && shop.url.is_none());
        let full = format!(
            "{text}bypass = true\nurl = \"https://shop.example.com/\"\n\
             client_ip = {{ header = \"X-Forwarded-For\", position = \"last\" }}\n"
        );
        let config = Config::parse(&full, &path).unwrap();
        let shop = config.service("shop").unwrap();
        assert!(shop.bypass);
        assert_eq!(shop.url.as_deref(), Some("https://shop.example.com"));
        assert_eq!(
            shop.client_ip,
            Some(
                ClientIp::header(
                    "X-Forwarded-For",
                    ClientIpPosition::Last,
                    ClientIpFallback::NoMatch
                )
                .unwrap()
            )
        );
        for (line, needle) in [
            (
                "client_ip = { header = \"X-Forwarded-For\", position = \"middle\" }",
                "3:54: services.shop.client_ip: invalid client address position \"middle\": is not one of",
            ),
            (
                "client_ip = { header = \"X Forwarded\", position = \"last\" }",
                "3:24: services.shop.client_ip: invalid client address header \"X Forwarded\": must be",
            ),
            (
                "client_ip = { header = \"X-Forwarded-For\", position = \"last\", fallback = \"maybe\" }",
                "services.shop.client_ip: invalid client address fallback \"maybe\": is not one of",
            ),
            ("client_ip = { header = \"X-Forwarded-For\" }", "missing field `position`"),
            ("url = \"shop.example.com\"", "3:7: services.shop.url: \"shop.example.com\" must start with https://"),
            ("url = \"https://shop.example.com/?a=b\"", "services.shop.url: \"https://shop.example.com/?a=b\" contains '?'"),
            ("bypass = \"yes\"", "3:10: "),
        ] {
            let got = problems(&format!("{text}{line}\n"), &d);
            assert_eq!(got.len(), 1, "{line}: {got:?}");
            assert!(got[0].contains(needle), "{line}: {got:?} lacks {needle:?}");
            assert!(got[0].starts_with(&path.display().to_string()), "{got:?}");
        }
    }

    #[test]
    fn hosts_paths_and_open_paths_parse_and_bad_ones_name_their_place() {
        let d = dir();
        let path = d.join("maint.toml");
        let text = "[services.shop]\nload_balancers = [\"shop-prod\"]\n";
        let plain = Config::parse(text, &path).unwrap();
        let shop = plain.service("shop").unwrap();
        assert!(shop.hosts.is_empty() && shop.paths.is_empty() && shop.open_paths.is_empty());
        let full = format!(
            "{text}hosts = [\"Shop.Example.com\", \"*.shop.example.com\", \"shop.example.com:8443\"]\n\
             paths = [\"/checkout\", \"/api//orders/\"]\n\
             open_paths = [\"/healthz\", \"/webhooks/stripe\"]\n"
        );
        let config = Config::parse(&full, &path).unwrap();
        let shop = config.service("shop").unwrap();
        let strings = |v: &[PathPrefix]| v.iter().map(ToString::to_string).collect::<Vec<_>>();
        assert_eq!(
            shop.hosts
                .iter()
                .map(HostPattern::as_str)
                .collect::<Vec<_>>(),
            [
                "shop.example.com",
                "*.shop.example.com",
                "shop.example.com:8443"
            ]
        );
        assert_eq!(strings(&shop.paths), ["/checkout", "/api/orders/"]);
        assert_eq!(strings(&shop.open_paths), ["/healthz", "/webhooks/stripe"]);
        for (line, needle) in [
            (
                "hosts = [\"shop.example.com\", \"https://shop.example.com\"]",
                "3:30: services.shop.hosts: invalid host \"https://shop.example.com\": must be a host name without a scheme",
            ),
            (
                "paths = [\"checkout\"]",
                "3:10: services.shop.paths: invalid path \"checkout\": must start with '/'",
            ),
            (
                "open_paths = [\"/healthz\", \"/a?b\"]",
                "3:27: services.shop.open_paths: invalid path \"/a?b\": must be a path without a query",
            ),
            ("hosts = \"shop.example.com\"", "3:9: "),
        ] {
            let got = problems(&format!("{text}{line}\n"), &d);
            assert_eq!(got.len(), 1, "{line}: {got:?}");
            assert!(got[0].contains(needle), "{line}: {got:?}");
        }
        // Eleven paths: more than a rule holds.
        let many: Vec<String> = (0..11).map(|i| format!("\"/p{i}\"")).collect();
        let got = problems(&format!("{text}paths = [{}]\n", many.join(", ")), &d);
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].contains("at most 10 paths"), "{got:?}");
        assert!(got[0].contains("services.shop"), "{got:?}");
    }

    #[test]
    fn resources_list_other_kinds_beside_the_load_balancers() {
        let stage = "arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod";
        let both = format!(
            "[services.shop]\nload_balancers = [\"shop-web\"]\nresources = [\"{stage}\"]\n\n\
             [services.orders]\nresources = [\"{stage}\"]\n"
        );
        let config = Config::parse(&both, Path::new("m.toml")).unwrap();
        let named: Vec<String> = config.services["shop"]
            .load_balancers
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(named, ["shop-web", stage]);
        assert_eq!(config.services["orders"].load_balancers.len(), 1);
        // A bad entry is named with its list; a service of neither list is
        // told what it needs.
        let err = Config::parse(
            "[services.shop]\nresources = [\"arn:aws:s3:::bucket\"]\n",
            Path::new("m.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("m.toml:2:14: services.shop.resources:"),
            "{err}"
        );
        assert!(err.contains("AWS WAF protects"), "{err}");
        let err = Config::parse(
            "[services.shop]\nregion = \"us-east-1\"\n",
            Path::new("m.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("services.shop.load_balancers: a service needs at least one"),
            "{err}"
        );
    }

    #[test]
    fn webhooks_are_urls() {
        let text = "[notify]\nwebhooks = [\"https://hooks.slack.com/services/T/B/X\"]\n";
        let config = Config::parse(text, Path::new("m.toml")).unwrap();
        assert_eq!(
            config.notify_webhooks,
            ["https://hooks.slack.com/services/T/B/X"]
        );
        let err = Config::parse(
            "[notify]\nwebhooks = [\"hooks.slack.com\"]\n",
            Path::new("m.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("m.toml:2:13: notify.webhooks:"), "{err}");
        for (bad, shown) in [
            (
                "hooks.slack.com/services/T/B/SECRETPATH",
                "\"hooks.slack.com\" (the rest not shown) must start",
            ),
            (
                "https://user:PASSWORD@hooks.slack.com/services/T/B/SECRETPATH?x=1",
                "\"https://hooks.slack.com\" (the rest not shown) contains '?'",
            ),
            (
                "http:///services/T/B/SECRETPATH",
                "\"http://\" (the rest not shown) has no host",
            ),
        ] {
            let err = Config::parse(
                &format!("[notify]\nwebhooks = [\"{bad}\"]\n"),
                Path::new("m.toml"),
            )
            .unwrap_err()
            .to_string();
            assert!(err.contains(shown), "{err}");
            assert!(
                !err.contains("SECRETPATH") && !err.contains("PASSWORD"),
                "{err}"
            );
        }
        let err = Config::parse("[notify]\nwebhook = []\n", Path::new("m.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("webhook"), "{err}");
    }

    #[test]
    fn the_quota_share_is_a_percentage() {
        let ok = Config::parse("waf_quota_percent = 40\n", Path::new("m.toml")).unwrap();
        assert_eq!(ok.waf_quota_percent, Some(40));
        for bad in ["0", "101", "-5"] {
            let err = Config::parse(&format!("waf_quota_percent = {bad}\n"), Path::new("m.toml"))
                .unwrap_err();
            let text = err.to_string();
            assert!(text.contains("m.toml:1:21: waf_quota_percent:"), "{text}");
        }
    }

    #[test]
    fn did_you_mean_only_for_near_misses() {
        assert_eq!(did_you_mean("stauts", ["status", "page"]), Some("status"));
        assert_eq!(did_you_mean("xyz", ["status", "page"]), None);
    }
}
