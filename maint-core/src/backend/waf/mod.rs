//! [`WafBackend`]: maintenance mode on AWS WAF, for Application Load
//! Balancers.
//!
//! # What maint creates, per window
//! A window is the load balancers that go into maintenance together: a
//! config service's (named `maint-svc-<service>`), or one load balancer named
//! on its own (`maint-<name>-<id>`). Per window, in the region:
//! - A web ACL named after the window (scope REGIONAL) whose default action
//!   is **Allow** and whose rule `maint-maintenance` (priority 2) gives
//!   *every request that is not let through the maintenance response* (a
//!   Block action with a custom response: status, body `maint-page`,
//!   headers). Its statement is
//!   - `NOT(OR(let through))` while something lets requests through: the
//!     allowlist set(s) (while enabled and not empty), or the label
//!     `maint:allowlisted` when the address comes from a header, and the
//!     bypass secret in the `x-maint-bypass` header or the `maint_bypass`
//!     cookie (while the bypass is enabled);
//!   - a statement that matches every request (URI path size >= 0) when
//!     nothing lets requests through;
//!   - `NOT(match every request)` in an armed window's pass-through form.
//!
//!   Two more rules only when needed: `maint-bypass-link` (priority 1)
//!   answers `/maint-bypass/<secret>` with a 302 to `/` that sets the bypass
//!   cookie; `maint-client-ip` (priority 0, Count) labels a request whose
//!   address from a proxy's header (`IPSetForwardedIPConfig`) is on the
//!   allowlist. It is a rule of its own because WAF does not apply a
//!   forwarded-IP rule at all to a request without the header: inside the
//!   maintenance rule that would let such a request through; here it only
//!   means no label, so the maintenance response.
//!
//!   Being self-contained, the same rules can later sit at the top of a web
//!   ACL a service already runs (priorities 0 to 2): let-through requests
//!   continue into that ACL's own rules.
//! - IP sets `<window>-ipv4` and `-ipv6` (a WAF IP set holds one family),
//!   created when the allowlist first has entries of that family.
//! - A second custom response body, `maint-state`, that no rule sends: a JSON
//!   record of the window (owner, window name, service, members, reason,
//!   since, until, the IP sets' ARNs). It is part of the web ACL, so it
//!   changes atomically with the rule under one lock token and comes back
//!   with the same read that tells what is associated. Members are recorded
//!   before they are associated, so an interrupted run is finished (or
//!   undone) by running a command again. Whether the allowlist is enabled is
//!   read from the rule itself: what WAF enforces is the record of it. AWS
//!   WAF allows 4 KB per body: a record of dozens of members is written
//!   with their common ARN prefix once, and cut into `maint-state-2`,
//!   `maint-state-3`... when still longer (up to the 100 ALBs a web ACL may
//!   protect).
//! - Every resource is tagged `maint:managed-by=maint` and
//!   `maint:window=<window>`.
//!
//! Every member is associated with the one web ACL, so an allowlist edit,
//! an enable or disable, or a re-enter is one write however many load
//! balancers the service has, and a fleet stays far inside AWS's 100 web
//! ACLs per account and Region. A partial `exit` leaves the window to the
//! other members; the last one out deletes it. Which load balancers use a
//! window is read with one `ListResourcesForWebACL` (or, where that call is
//! not available, `GetWebACLForResource` per recorded member).
//!
//! # Safety
//! - A web ACL is maint's only when its name starts `maint-` and its state
//!   record names it as the window; leftovers found by name are touched only
//!   when their tags say they are maint's for that window. Anything else is
//!   foreign: `enter` refuses and names it.
//! - Two services of the same name (two config files in one account) are
//!   never merged: a window whose recorded members are all other load
//!   balancers, or of another service, refuses the `enter`.
//! - Names are deterministic, and leftovers are looked up by name before
//!   anything is created, so a run killed at any point is completed by
//!   running the same command again; `exit` on a normal target also removes
//!   leftovers of a crashed `enter`.
//! - Updates go through WAF lock tokens. On `WAFOptimisticLockException` the
//!   state is read again and the *change* re-applied, never a stale list.
//! - `AssociateWebACL` silently replaces whatever is associated and
//!   `DisassociateWebACL` removes whatever is: the association is read again
//!   right before every attempt of each of them, retries after throttling
//!   included (the SDK is told not to retry these two calls itself). A web ACL that appeared since maint's first
//!   look is never replaced or removed (the error names it), and what maint
//!   made for the window is deleted so nothing leaks. What remains is the
//!   time between that read and AWS applying the call, one round trip: AWS
//!   has no conditional associate.
//! - Bounded, jittered retries: `WAFUnavailableEntityException` on associate
//!   (a new web ACL takes time to propagate), `WAFAssociatedItemException` on
//!   delete (a disassociation takes time to propagate). Every wait is logged
//!   through `tracing`.
//!
//! # AWS's call-rate quotas
//! AWS WAF allows, per account and Region and for every caller together, one
//! `AssociateWebACL` and one `DisassociateWebACL` every 2 seconds, one
//! `GetWebACLForResource` per second, one call per second of each Create or
//! Update action and five of each other Get or List action (see
//! [`CallRates`]). Every call waits its turn in a token bucket per action,
//! shared by every backend of the process for the Region, so many targets
//! never storm AWS; `waf_quota_percent` in the config file (or
//! `MAINT_WAF_QUOTA_PERCENT`) leaves room for other callers. A
//! `ThrottlingException` that still happens (another caller) is waited out
//! until [`WafSettings::throttle_deadline`], never counted against a small
//! number of attempts. `WAFLimitsExceededException` is an account quota (100
//! web ACLs or IP sets): reported at once, naming the quota.

mod acl;
mod backend;
mod calls;
mod elb;
mod inject;
mod inventory;
mod ip_sets;
mod live;
mod options;
mod web_acls;

pub use options::{caller_identity, waf_factory, AwsOptions};

use std::collections::HashMap;
use std::future::Future;
use std::time::{Duration, Instant};

use self::acl::{AclSpec, IpSetId, ReadAcl, StateRecord};
use crate::access::BypassState;
use crate::allowlist::{Allowlist, Cidr, Family};
use crate::backend::contract::{Leftover, MaintenanceBackend, MemberResults};
use crate::error::{transport_failure, AwsError};
use crate::maintenance::{
    allowlist_changes, bypass_changes, reentry_spec, spec_changes, AllowlistChange, AllowlistState,
    Change, MaintenanceInfo, MaintenanceSpec, Mode, Outcome, State, TargetStatus, Window,
    WindowSummary,
};
use crate::response::MaintenanceResponse;
use crate::target::{not_an_alb, wrong_region, LoadBalancerArn, LoadBalancerRef};
use crate::{Error, ErrorKind, Result};
use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2 as elbv2;
use aws_sdk_wafv2 as wafv2;
use aws_sdk_wafv2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_wafv2::operation::RequestId;
use aws_sdk_wafv2::types::{
    CustomResponseBody, IpAddressVersion, ResourceType, Rule, Scope, WebAcl,
};
use aws_smithy_runtime_api::http::Response as HttpResponse;
use chrono::Utc;
use tokio::sync::Mutex;

use self::backend::*;
use self::calls::*;
use self::inject::*;
use self::inventory::*;
use self::ip_sets::*;
use self::web_acls::*;

pub use self::calls::CallRates;

/// The backend's pace and the bounds on its own waits and retries.
#[derive(Debug, Clone)]
pub struct WafSettings {
    /// AWS WAF's call-rate quotas that every call is paced to (`None`: no
    /// pacing, for emulators that have no quotas).
    pub rates: Option<CallRates>,
    /// How long a throttled call (`ThrottlingException`: another caller used
    /// the quota) is waited out before the target fails.
    pub throttle_deadline: Duration,
    /// How long `enter` keeps retrying `AssociateWebACL` while a new web ACL
    /// is not yet usable (`WAFUnavailableEntityException`).
    pub associate_deadline: Duration,
    /// How long `exit` and `cleanup` keep retrying a delete while WAF still
    /// sees the resource in use (`WAFAssociatedItemException`), and a
    /// disassociation AWS failed internally (each attempt after a fresh
    /// read of the association), and how long
    /// creates, updates and reads are retried while WAF does not see a
    /// resource just made (`WAFUnavailableEntityException`).
    pub delete_deadline: Duration,
    /// How many times an operation is re-read and re-applied after a lock
    /// conflict.
    pub max_attempts: u32,
    /// The first backoff delay; it doubles per attempt, with full jitter.
    pub base_delay: Duration,
    /// The longest single backoff delay.
    pub max_delay: Duration,
    /// `cleanup` leaves alone resources younger than this: they may belong
    /// to an `enter` still under way in another process.
    pub cleanup_grace: Duration,
}

impl Default for WafSettings {
    /// AWS's published call-rate quotas; throttling waited out for up to 10
    /// minutes; 10 minutes to associate (the Terraform AWS provider's create
    /// timeout for the same wait: issue reports show 5 was too short), 5
    /// minutes to delete; 8 attempts after lock conflicts; backoff from
    /// 0.5 s to 20 s; a 15 minute grace period for `cleanup`.
    fn default() -> Self {
        Self {
            rates: Some(CallRates::AWS),
            throttle_deadline: Duration::from_secs(600),
            associate_deadline: Duration::from_secs(600),
            delete_deadline: Duration::from_secs(300),
            max_attempts: 8,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(20),
            cleanup_grace: Duration::from_secs(15 * 60),
        }
    }
}

impl WafSettings {
    /// The environment variable that overrides the config's
    /// `waf_quota_percent`; `0` turns pacing off (for an emulator with no
    /// quotas, like moto).
    pub const QUOTA_PERCENT_VAR: &'static str = "MAINT_WAF_QUOTA_PERCENT";

    /// The default settings, paced to `percent` of AWS WAF's call-rate
    /// quotas: [`WafSettings::QUOTA_PERCENT_VAR`] when set, else the config
    /// file's `waf_quota_percent`, else 100.
    pub fn for_config(config: Option<&crate::config::Config>) -> Result<Self> {
        let from_env = match std::env::var(Self::QUOTA_PERCENT_VAR) {
            Ok(v) if !v.trim().is_empty() => match v.trim().parse::<u8>() {
                Ok(p) if p <= 100 => Some(p),
                _ => {
                    return Err(Error::invalid(
                        format!("{}={v:?}", Self::QUOTA_PERCENT_VAR),
                        "expected a percentage from 0 (no pacing) to 100",
                    ))
                }
            },
            _ => None,
        };
        let percent = from_env
            .or(config.and_then(|c| c.waf_quota_percent))
            .unwrap_or(100);
        Ok(Self {
            rates: (percent > 0).then(|| CallRates::AWS.share(f64::from(percent) / 100.0)),
            ..Self::default()
        })
    }
}

/// Maintenance mode through AWS WAF web ACLs on Application Load Balancers
/// of one region.
#[derive(Debug)]
pub struct WafBackend {
    waf: wafv2::Client,
    elb: elbv2::Client,
    region: String,
    settings: WafSettings,
    inventory: Mutex<Option<Inventory>>,
    /// Shared with every backend of the process for this region.
    pacer: Option<std::sync::Arc<Pacer>>,
    /// Whether `ListResourcesForWebACL` answers (not in every emulator, nor
    /// under every IAM policy); once it does not, members are read one by
    /// one.
    list_resources: std::sync::atomic::AtomicBool,
    /// Web ACLs as last read with their lock tokens, by ARN, so a write
    /// right after a read needs no second read (a token gone stale costs
    /// one lock conflict, then a re-read).
    last_read: std::sync::Mutex<HashMap<String, LockedAcl>>,
    /// Where the clients send their calls, for messages.
    endpoints: Endpoints,
}

/// Where a backend's clients send their calls, as messages show it (scheme
/// and host), when known.
#[derive(Debug, Clone, Default)]
struct Endpoints {
    waf: Option<String>,
    elb: Option<String>,
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

impl WafBackend {
    /// A backend for the region of `config` (the standard AWS configuration:
    /// credential chain, `AWS_PROFILE`, `AWS_REGION`, `AWS_ENDPOINT_URL`).
    /// Fails when no region is configured.
    pub fn new(config: &aws_config::SdkConfig) -> Result<Self> {
        let region = config.region().map(ToString::to_string).ok_or_else(|| {
            Error::invalid(
                "AWS region",
                "none configured; pass --region or set AWS_REGION (or a region in your AWS profile)",
            )
        })?;
        crate::target::check_region(&region)?;
        let mut backend = Self::from_clients(
            wafv2::Client::new(config),
            elbv2::Client::new(config),
            region,
            WafSettings::default(),
        );
        backend.endpoints = Endpoints {
            waf: resolved_endpoint!(wafv2, config),
            elb: resolved_endpoint!(elbv2, config),
        };
        Ok(backend)
    }

    /// [`WafBackend::new`] with `settings`.
    pub fn with_settings(config: &aws_config::SdkConfig, settings: WafSettings) -> Result<Self> {
        let mut backend = Self::new(config)?;
        backend.pacer = settings
            .rates
            .map(|rates| Pacer::shared(&backend.region, rates));
        backend.settings = settings;
        Ok(backend)
    }

    /// A backend over clients configured by the caller (interceptors, test
    /// endpoints, mocks), acting in `region`.
    pub fn from_clients(
        waf: wafv2::Client,
        elb: elbv2::Client,
        region: impl Into<String>,
        settings: WafSettings,
    ) -> Self {
        let region = region.into();
        let pacer = settings.rates.map(|rates| Pacer::shared(&region, rates));
        Self {
            waf,
            elb,
            region,
            settings,
            inventory: Mutex::new(None),
            pacer,
            list_resources: std::sync::atomic::AtomicBool::new(true),
            last_read: std::sync::Mutex::new(HashMap::new()),
            endpoints: Endpoints::default(),
        }
    }

    /// The region this backend acts in.
    pub fn region(&self) -> &str {
        &self.region
    }
}
