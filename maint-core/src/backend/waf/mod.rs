//! [`WafBackend`]: maintenance mode on AWS WAF, for Application Load
//! Balancers.
//!
//! # What maint creates, per load balancer `<name>/<id>`
//! - A web ACL `maint-<name>-<id>` (scope REGIONAL, in the load balancer's
//!   region) whose default action is **Allow** and which holds **one rule**,
//!   `maint-maintenance`: *every request that is not let through gets the
//!   maintenance response* (a Block action with a custom response: status,
//!   body `maint-page`, headers). Its statement is
//!   - `NOT(source IP in the allowlist set(s))` while the allowlist is enabled
//!     and has a set (`NOT(OR(v4, v6))` with both families);
//!   - a statement that matches every request (URI path size >= 0) while the
//!     allowlist is disabled or empty.
//!
//!   Being self-contained, the same rule can later sit at the top of a web
//!   ACL a service already runs: let-through requests continue into that
//!   ACL's own rules.
//! - IP sets `maint-<name>-<id>-ipv4` and `-ipv6` (a WAF IP set holds one
//!   family), created when the allowlist first has entries of that family.
//! - A second custom response body, `maint-state`, that no rule sends: a JSON
//!   record of the window (owner, load balancer, reason, since, until, the IP
//!   sets' ARNs). It is part of the web ACL, so it changes atomically with
//!   the rule under one lock token and comes back with the same read that
//!   tells what is associated. Whether the allowlist is enabled is read from
//!   the rule itself: what WAF enforces is the record of it.
//! - Every resource is tagged `maint:managed-by=maint` and
//!   `maint:load-balancer=<ALB ARN>`.
//!
//! # Safety
//! - A web ACL is maint's only when its name is the deterministic name for
//!   the load balancer and its state record names that load balancer;
//!   leftovers found by name are touched only when their tags say they are
//!   maint's for that load balancer. Anything else is foreign: `enter`
//!   refuses and names it.
//! - Names are deterministic, and leftovers are looked up by name before
//!   anything is created, so a run killed at any point is completed by
//!   running the same command again; `exit` on a normal target also removes
//!   leftovers of a crashed `enter`.
//! - Updates go through WAF lock tokens. On `WAFOptimisticLockException` the
//!   state is read again and the *change* re-applied, never a stale list.
//! - Bounded, jittered retries: `WAFUnavailableEntityException` on associate
//!   (a new web ACL takes time to propagate), `WAFAssociatedItemException` on
//!   delete (a disassociation takes time to propagate), throttling and
//!   `WAFLimitsExceededException`. Every wait is logged through `tracing`.

mod acl;
mod options;

pub use options::{waf_factory, AwsOptions};

use std::collections::HashMap;
use std::future::Future;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2 as elbv2;
use aws_sdk_wafv2 as wafv2;
use aws_sdk_wafv2::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_wafv2::operation::RequestId;
use aws_sdk_wafv2::types::{IpAddressVersion, Scope, WebAcl};
use aws_smithy_runtime_api::http::Response as HttpResponse;
use chrono::Utc;
use tokio::sync::Mutex;

use self::acl::{AclSpec, IpSetId, ReadAcl, StateRecord};
use super::{web_acl_name, Leftover, MaintenanceBackend};
use crate::allowlist::{Allowlist, Cidr, Family};
use crate::error::AwsError;
use crate::maintenance::{
    allowlist_changes, reentry_spec, spec_changes, AllowlistChange, AllowlistState, Change,
    MaintenanceInfo, MaintenanceSpec, Mode, Outcome, State, TargetStatus,
};
use crate::response::MaintenanceResponse;
use crate::target::{not_an_alb, wrong_region, LoadBalancerArn, LoadBalancerRef};
use crate::{Error, Result};

/// Bounds on the backend's own waits and retries.
#[derive(Debug, Clone)]
pub struct WafSettings {
    /// How long `enter` keeps retrying `AssociateWebACL` while a new web ACL
    /// is not yet usable (`WAFUnavailableEntityException`).
    pub associate_deadline: Duration,
    /// How long `exit` and `cleanup` keep retrying a delete while WAF still
    /// sees the resource in use (`WAFAssociatedItemException`).
    pub delete_deadline: Duration,
    /// How many times an operation is re-read and re-applied after a lock
    /// conflict, and how many times a throttled call is retried.
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
    /// 5 minutes to associate (the Terraform AWS provider's create timeout
    /// for the same wait), 2 minutes to delete, 8 attempts, 0.5 s to 20 s,
    /// and a 15 minute grace period for `cleanup`.
    fn default() -> Self {
        Self {
            associate_deadline: Duration::from_secs(300),
            delete_deadline: Duration::from_secs(120),
            max_attempts: 8,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(20),
            cleanup_grace: Duration::from_secs(15 * 60),
        }
    }
}

/// AWS error codes the backend handles itself.
mod code {
    pub const LOCK: &str = "WAFOptimisticLockException";
    pub const UNAVAILABLE: &str = "WAFUnavailableEntityException";
    pub const ASSOCIATED: &str = "WAFAssociatedItemException";
    pub const NONEXISTENT: &str = "WAFNonexistentItemException";
    /// AWS's code, and moto's.
    pub const DUPLICATE: [&str; 2] = ["WAFDuplicateItemException", "WafV2DuplicateItem"];
    pub const LB_NOT_FOUND: [&str; 2] = ["LoadBalancerNotFound", "LoadBalancerNotFoundException"];
    /// Rate limits; WAFLimitsExceededException is also a quota error, which a
    /// bounded retry then reports.
    pub const THROTTLING: [&str; 5] = [
        "WAFLimitsExceededException",
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
    ];
}

/// Maps an SDK error into [`Error::Aws`], keeping code, message and request id.
fn aws_error<E>(operation: &str, err: SdkError<E, HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let code = err.code().map(str::to_string).unwrap_or_else(|| {
        match &err {
            SdkError::TimeoutError(_) => "TimeoutError",
            SdkError::DispatchFailure(_) => "DispatchFailure",
            SdkError::ResponseError(_) => "ResponseError",
            SdkError::ConstructionFailure(_) => "ConstructionFailure",
            _ => "Unknown",
        }
        .to_string()
    });
    let message = err
        .message()
        .map(str::to_string)
        .unwrap_or_else(|| DisplayErrorContext(&err).to_string());
    let request_id = err.request_id().map(str::to_string);
    Error::Aws(AwsError {
        operation: operation.to_string(),
        code,
        message,
        request_id,
        source: Some(std::sync::Arc::new(err)),
    })
}

fn is_code(e: &Error, codes: &[&str]) -> bool {
    e.aws_code().is_some_and(|c| codes.contains(&c))
}

/// A summary from a region-wide listing.
#[derive(Debug, Clone)]
struct Summary {
    id: String,
    arn: String,
    lock_token: String,
}

/// maint's web ACLs and IP sets in the region, by name, from one listing.
#[derive(Debug, Clone)]
struct Inventory {
    web_acls: HashMap<String, Summary>,
    ip_sets: HashMap<String, Summary>,
    loaded: Instant,
}

/// How long a listing is reused. It only serves to find leftovers of
/// earlier, crashed runs (which predate the command) and as a first guess at
/// lock tokens (a stale token costs one re-read), so sharing one listing
/// between the targets of a command is safe.
const INVENTORY_MAX_AGE: Duration = Duration::from_secs(30);

/// A web ACL as read with its lock token.
struct LockedAcl {
    acl: WebAcl,
    lock_token: String,
}

/// One of maint's IP sets as read, with its lock token.
#[derive(Debug, Clone)]
struct LoadedSet {
    family: Family,
    id: IpSetId,
    entries: Vec<Cidr>,
    lock_token: String,
}

/// The two region-wide listings.
#[derive(Debug, Clone, Copy)]
enum Listing {
    WebAcls,
    IpSets,
}

/// A kind of WAF resource maint creates.
#[derive(Debug, Clone, Copy)]
enum Resource {
    WebAcl,
    IpSet(Family),
}

impl Resource {
    fn noun(self) -> &'static str {
        match self {
            Resource::WebAcl => "web ACL",
            Resource::IpSet(_) => "IP set",
        }
    }
}

/// The family of one of maint's IP sets, from its name.
fn ip_set_family(name: &str) -> Family {
    if name.ends_with("-ipv6") {
        Family::Ipv6
    } else {
        Family::Ipv4
    }
}

/// What a resource's tags say about who owns it.
enum Ownership {
    /// It does not exist (any more).
    Gone,
    /// Not tagged as maint's.
    Other,
    /// maint's, for this load balancer, created then.
    Maint {
        load_balancer: String,
        created: Option<chrono::DateTime<Utc>>,
    },
}

/// What the load balancer's association says.
enum Observed {
    Normal,
    Foreign {
        arn: String,
        name: String,
    },
    Ours {
        acl: Box<WebAcl>,
        read: Box<ReadAcl>,
    },
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
        Ok(Self::from_clients(
            wafv2::Client::new(config),
            elbv2::Client::new(config),
            region,
            WafSettings::default(),
        ))
    }

    /// A backend over clients configured by the caller (interceptors, test
    /// endpoints, mocks), acting in `region`.
    pub fn from_clients(
        waf: wafv2::Client,
        elb: elbv2::Client,
        region: impl Into<String>,
        settings: WafSettings,
    ) -> Self {
        Self {
            waf,
            elb,
            region: region.into(),
            settings,
            inventory: Mutex::new(None),
        }
    }

    /// The region this backend acts in.
    pub fn region(&self) -> &str {
        &self.region
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let cap = self
            .settings
            .base_delay
            .saturating_mul(2u32.saturating_pow(attempt.min(16)))
            .min(self.settings.max_delay);
        // Full jitter: concurrent writers spread out instead of colliding again.
        cap.mul_f64(0.5 + fastrand::f64() * 0.5)
    }

    /// Runs `op`, retrying the codes in `retry_on` and throttling with
    /// jittered backoff: throttling at most `max_attempts` times, `retry_on`
    /// until `deadline` has passed.
    async fn retrying<T, F, Fut>(
        &self,
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
        loop {
            let error = match op().await {
                Ok(value) => return Ok(value),
                Err(e) => e,
            };
            let throttled = is_code(&error, &code::THROTTLING);
            if !(throttled || is_code(&error, retry_on)) {
                return Err(error);
            }
            let delay = self.backoff(attempt);
            attempt += 1;
            let out_of_time = start.elapsed() + delay > deadline;
            if (throttled && attempt >= self.settings.max_attempts) || (!throttled && out_of_time) {
                return Err(Error::Timeout {
                    what: what.to_string(),
                    waited: start.elapsed(),
                    last_error: Some(Box::new(error)),
                });
            }
            tracing::warn!(
                what,
                code = error.aws_code().unwrap_or_default(),
                attempt,
                delay_ms = delay.as_millis() as u64,
                "AWS is not ready yet; retrying"
            );
            tokio::time::sleep(delay).await;
        }
    }

    /// A write call with throttling retries only.
    async fn write<T, F, Fut>(&self, what: &str, op: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        self.retrying(what, &[], Duration::MAX, op).await
    }

    // ----- region-wide inventory -------------------------------------------------

    /// maint's resources in the region, from a listing at most
    /// [`INVENTORY_MAX_AGE`] old (or fresh when `fresh`). Concurrent callers
    /// share one listing.
    async fn inventory(&self, fresh: bool) -> Result<Inventory> {
        let mut guard = self.inventory.lock().await;
        if let Some(inv) = guard.as_ref() {
            if !fresh && inv.loaded.elapsed() < INVENTORY_MAX_AGE {
                return Ok(inv.clone());
            }
        }
        let inv = Inventory {
            web_acls: self.list(Listing::WebAcls).await?,
            ip_sets: self.list(Listing::IpSets).await?,
            loaded: Instant::now(),
        };
        *guard = Some(inv.clone());
        Ok(inv)
    }

    /// Records a resource just created (id, ARN, lock token from the
    /// create call's summary) in the inventory; returns its ARN.
    async fn remember_created(
        &self,
        kind: Listing,
        operation: &str,
        name: &str,
        created: Option<(Option<&str>, Option<&str>, Option<&str>)>,
    ) -> Result<String> {
        let Some((Some(id), Some(arn), token)) = created else {
            return Err(Error::unexpected(format!(
                "{operation} for {name} returned no ARN"
            )));
        };
        let summary = Summary {
            id: id.into(),
            arn: arn.into(),
            lock_token: token.unwrap_or_default().into(),
        };
        let name = name.to_string();
        self.remember(|inv| {
            match kind {
                Listing::WebAcls => inv.web_acls.insert(name, summary),
                Listing::IpSets => inv.ip_sets.insert(name, summary),
            };
        })
        .await;
        Ok(arn.to_string())
    }

    async fn remember(&self, edit: impl FnOnce(&mut Inventory)) {
        if let Some(inv) = self.inventory.lock().await.as_mut() {
            edit(inv);
        }
    }

    /// maint's web ACLs or IP sets in the region (names starting with
    /// `maint-`), through every page of the listing.
    async fn list(&self, kind: Listing) -> Result<HashMap<String, Summary>> {
        let mut found = HashMap::new();
        let mut marker: Option<String> = None;
        loop {
            let next = marker.as_deref();
            let (page, next_marker) = self
                .write("list maint's resources", || async move {
                    let owned =
                        |n: Option<&str>, i: Option<&str>, a: Option<&str>, t: Option<&str>| {
                            Some((
                                n?.to_string(),
                                i?.to_string(),
                                a?.to_string(),
                                t?.to_string(),
                            ))
                        };
                    Ok(match kind {
                        Listing::WebAcls => {
                            let out = self
                                .waf
                                .list_web_acls()
                                .scope(Scope::Regional)
                                .limit(100)
                                .set_next_marker(next.map(String::from))
                                .send()
                                .await
                                .map_err(|e| aws_error("ListWebACLs", e))?;
                            let page: Vec<_> = out
                                .web_acls()
                                .iter()
                                .filter_map(|s| owned(s.name(), s.id(), s.arn(), s.lock_token()))
                                .collect();
                            (page, out.next_marker().map(String::from))
                        }
                        Listing::IpSets => {
                            let out = self
                                .waf
                                .list_ip_sets()
                                .scope(Scope::Regional)
                                .limit(100)
                                .set_next_marker(next.map(String::from))
                                .send()
                                .await
                                .map_err(|e| aws_error("ListIPSets", e))?;
                            let page: Vec<_> = out
                                .ip_sets()
                                .iter()
                                .filter_map(|s| owned(s.name(), s.id(), s.arn(), s.lock_token()))
                                .collect();
                            (page, out.next_marker().map(String::from))
                        }
                    })
                })
                .await?;
            let full = page.len() == 100;
            for (name, id, arn, lock_token) in page {
                if name.starts_with("maint-") {
                    found.insert(
                        name,
                        Summary {
                            id,
                            arn,
                            lock_token,
                        },
                    );
                }
            }
            match next_marker {
                Some(m) if full && !m.is_empty() => marker = Some(m),
                _ => return Ok(found),
            }
        }
    }

    /// What a resource's tags say about it.
    async fn ownership(&self, arn: &str) -> Result<Ownership> {
        let out = self
            .write("read tags", || async move {
                self.waf
                    .list_tags_for_resource()
                    .resource_arn(arn)
                    .send()
                    .await
                    .map_err(|e| aws_error("ListTagsForResource", e))
            })
            .await;
        let out = match out {
            Err(e) if is_code(&e, &[code::NONEXISTENT]) => return Ok(Ownership::Gone),
            other => other?,
        };
        let tags = out
            .tag_info_for_resource()
            .map(|t| t.tag_list())
            .unwrap_or_default();
        let tag = |key: &str| {
            tags.iter()
                .find(|t| t.key() == key)
                .map(|t| t.value().to_string())
        };
        let created = tag(acl::TAG_CREATED)
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&Utc));
        Ok(match tag(acl::TAG_MANAGED_BY).as_deref() {
            Some(acl::MANAGED_BY) => match tag(acl::TAG_LOAD_BALANCER) {
                Some(load_balancer) => Ownership::Maint {
                    load_balancer,
                    created,
                },
                None => Ownership::Other,
            },
            _ => Ownership::Other,
        })
    }

    /// Whether a resource found by name (a leftover of an earlier run) is
    /// maint's for `lb`: its tags say so. `false` when it is gone by now
    /// (the listing was older than its deletion). A resource with maint's
    /// name that is not tagged as maint's for `lb` is a conflict: never
    /// touched.
    async fn is_ours(&self, lb: &LoadBalancerArn, name: &str, arn: &str) -> Result<bool> {
        match self.ownership(arn).await? {
            Ownership::Maint { load_balancer, .. } if load_balancer == lb.as_str() => Ok(true),
            Ownership::Gone => {
                let name = name.to_string();
                self.remember(|inv| {
                    inv.web_acls.remove(&name);
                    inv.ip_sets.remove(&name);
                })
                .await;
                Ok(false)
            }
            _ => Err(Error::Conflict {
                resource: arn.to_string(),
                message: format!(
                    "{name} has the name maint uses for {lb} but is not tagged as maint's \
                     for it; rename or delete it, maint will not touch it"
                ),
            }),
        }
    }

    // ----- reading ---------------------------------------------------------------

    async fn observe(&self, lb: &LoadBalancerArn) -> Result<Observed> {
        if lb.region() != self.region {
            return Err(wrong_region(lb, &self.region).into());
        }
        let out = self
            .write("read the web ACL association", || async move {
                self.waf
                    .get_web_acl_for_resource()
                    .resource_arn(lb.as_str())
                    .send()
                    .await
                    .map_err(|e| aws_error("GetWebACLForResource", e))
            })
            .await;
        let out = match out {
            Err(e) if is_code(&e, &[code::NONEXISTENT]) => {
                return Err(Error::TargetNotFound {
                    target: lb.to_string(),
                })
            }
            other => other?,
        };
        let Some(acl) = out.web_acl() else {
            return Ok(Observed::Normal);
        };
        Ok(match acl::read_acl(acl, lb)? {
            Some(read) => Observed::Ours {
                acl: Box::new(acl.clone()),
                read: Box::new(read),
            },
            None => Observed::Foreign {
                arn: acl.arn().to_string(),
                name: acl.name().to_string(),
            },
        })
    }

    async fn get_web_acl(&self, name: &str, id: &str) -> Result<LockedAcl> {
        let out = self
            .write("read the web ACL", || async move {
                self.waf
                    .get_web_acl()
                    .name(name)
                    .id(id)
                    .scope(Scope::Regional)
                    .send()
                    .await
                    .map_err(|e| aws_error("GetWebACL", e))
            })
            .await?;
        match (out.web_acl(), out.lock_token()) {
            (Some(acl), Some(token)) => Ok(LockedAcl {
                acl: acl.clone(),
                lock_token: token.to_string(),
            }),
            _ => Err(Error::unexpected(format!(
                "GetWebACL for {name} returned no web ACL or lock token"
            ))),
        }
    }

    async fn get_ip_set(&self, family: Family, arn: &str) -> Result<LoadedSet> {
        let id = IpSetId::from_arn(arn)?;
        let id_ref = &id;
        let out = self
            .write("read the IP set", || async move {
                self.waf
                    .get_ip_set()
                    .name(&id_ref.name)
                    .id(&id_ref.id)
                    .scope(Scope::Regional)
                    .send()
                    .await
                    .map_err(|e| aws_error("GetIPSet", e))
            })
            .await;
        let out = out?;
        let set = out.ip_set().ok_or_else(|| {
            Error::unexpected(format!("GetIPSet for {} returned no set", id.name))
        })?;
        let mut entries = Vec::with_capacity(set.addresses().len());
        for address in set.addresses() {
            let cidr = Cidr::parse(address).map_err(|e| {
                Error::unexpected(format!(
                    "IP set {} holds {address:?}, which maint cannot use: {e}",
                    id.name
                ))
            })?;
            entries.push(cidr);
        }
        Ok(LoadedSet {
            family,
            id,
            entries,
            lock_token: out.lock_token().unwrap_or_default().to_string(),
        })
    }

    /// Reads the IP sets a state record names.
    async fn load_sets(&self, record: &StateRecord) -> Result<(Allowlist, Vec<LoadedSet>)> {
        let mut sets = Vec::new();
        for family in [Family::Ipv4, Family::Ipv6] {
            if let Some(arn) = record.set(family) {
                match self.get_ip_set(family, arn).await {
                    Ok(set) => sets.push(set),
                    Err(e) if is_code(&e, &[code::NONEXISTENT]) => {
                        return Err(Error::Unexpected {
                            message: format!(
                                "IP set {arn} of maint's web ACL was deleted outside maint; \
                                 run `maint enter` again to restore it, or `maint exit`"
                            ),
                            source: Some(std::sync::Arc::new(e)),
                        })
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        let list = Allowlist::from_cidrs(sets.iter().flat_map(|s| s.entries.iter().copied()))
            .map_err(|e| {
                Error::unexpected(format!("maint's IP sets hold an invalid allowlist: {e}"))
            })?;
        Ok((list, sets))
    }

    fn info(acl: &WebAcl, read: &ReadAcl, entries: Allowlist) -> MaintenanceInfo {
        MaintenanceInfo {
            web_acl_arn: acl.arn().to_string(),
            reason: read.record.reason.clone(),
            since: read.record.since,
            until: read.record.until,
            allowlist: AllowlistState {
                enabled: read.record.allowlist_enabled,
                entries,
            },
            response: read.response.clone(),
        }
    }

    // ----- writing ---------------------------------------------------------------

    fn description(lb: &LoadBalancerArn) -> String {
        format!(
            "Maintenance mode for load balancer {}, managed by maint",
            lb.name()
        )
    }

    async fn create_ip_set(
        &self,
        lb: &LoadBalancerArn,
        family: Family,
        entries: &[Cidr],
    ) -> Result<String> {
        let name = acl::ip_set_name(lb, family);
        let version = match family {
            Family::Ipv4 => IpAddressVersion::Ipv4,
            Family::Ipv6 => IpAddressVersion::Ipv6,
        };
        let addresses: Vec<String> = entries.iter().map(ToString::to_string).collect();
        let tags = acl::tags(lb)?;
        tracing::info!(%lb, name, "creating IP set");
        let (name_ref, version, addresses, tags) = (&name, &version, &addresses, &tags);
        let out = self
            .write("create the IP set", || async move {
                self.waf
                    .create_ip_set()
                    .name(name_ref)
                    .scope(Scope::Regional)
                    .description(Self::description(lb))
                    .ip_address_version(version.clone())
                    .set_addresses(Some(addresses.clone()))
                    .set_tags(Some(tags.clone()))
                    .send()
                    .await
                    .map_err(|e| aws_error("CreateIPSet", e))
            })
            .await?;
        let created = out.summary().map(|s| (s.id(), s.arn(), s.lock_token()));
        self.remember_created(Listing::IpSets, "CreateIPSet", &name, created)
            .await
    }

    /// Writes `entries` into a set; a lock conflict is returned to the caller,
    /// which re-reads and re-applies its change.
    async fn update_ip_set(&self, set: &LoadedSet, entries: &[Cidr]) -> Result<()> {
        let addresses: Vec<String> = entries.iter().map(ToString::to_string).collect();
        tracing::info!(
            name = set.id.name,
            entries = addresses.len(),
            "updating IP set"
        );
        let addresses = &addresses;
        let out = self
            .write("update the IP set", || async move {
                self.waf
                    .update_ip_set()
                    .name(&set.id.name)
                    .id(&set.id.id)
                    .scope(Scope::Regional)
                    .description(format!("Allowlist of {}, managed by maint", set.id.name))
                    .set_addresses(Some(addresses.clone()))
                    .lock_token(&set.lock_token)
                    .send()
                    .await
                    .map_err(|e| aws_error("UpdateIPSet", e))
            })
            .await?;
        if let Some(token) = out.next_lock_token() {
            let (name, token) = (set.id.name.clone(), token.to_string());
            self.remember(|inv| {
                if let Some(s) = inv.ip_sets.get_mut(&name) {
                    s.lock_token = token;
                }
            })
            .await;
        }
        Ok(())
    }

    /// Sets a leftover set (found by name) to `entries`, retrying lock
    /// conflicts (nobody else edits a set that no web ACL uses yet).
    async fn overwrite_ip_set(&self, family: Family, arn: &str, entries: &[Cidr]) -> Result<()> {
        for attempt in 0..self.settings.max_attempts {
            let set = self.get_ip_set(family, arn).await?;
            match self.update_ip_set(&set, entries).await {
                Err(e) if is_code(&e, &[code::LOCK]) => {
                    tokio::time::sleep(self.backoff(attempt)).await
                }
                other => return other,
            }
        }
        Err(Error::Conflict {
            resource: arn.to_string(),
            message: "the IP set kept changing while maint wrote it".into(),
        })
    }

    /// Makes sure the set of `family` exists with `entries`; returns its ARN.
    async fn ensure_ip_set(
        &self,
        lb: &LoadBalancerArn,
        family: Family,
        entries: &[Cidr],
    ) -> Result<String> {
        let name = acl::ip_set_name(lb, family);
        let leftover = self.inventory(false).await?.ip_sets.get(&name).cloned();
        if let Some(existing) = leftover {
            if !self.is_ours(lb, &name, &existing.arn).await? {
                return self.create_ip_set(lb, family, entries).await;
            }
            tracing::info!(%lb, name, "reusing IP set left by an earlier run");
            self.overwrite_ip_set(family, &existing.arn, entries)
                .await?;
            return Ok(existing.arn);
        }
        self.create_ip_set(lb, family, entries).await
    }

    async fn update_web_acl(
        &self,
        lb: &LoadBalancerArn,
        locked: &LockedAcl,
        spec: &AclSpec<'_>,
    ) -> Result<()> {
        let name = locked.acl.name();
        let rule = acl::rule(spec, name)?;
        let bodies = acl::bodies(spec)?;
        let visibility = acl::visibility(name)?;
        tracing::info!(%lb, name, "updating web ACL");
        let (rule, bodies, visibility) = (&rule, &bodies, &visibility);
        let out = self
            .write("update the web ACL", || async move {
                self.waf
                    .update_web_acl()
                    .name(name)
                    .id(locked.acl.id())
                    .scope(Scope::Regional)
                    .description(Self::description(lb))
                    .default_action(acl::default_action())
                    .rules(rule.clone())
                    .set_custom_response_bodies(Some(bodies.clone()))
                    .visibility_config(visibility.clone())
                    .lock_token(&locked.lock_token)
                    .send()
                    .await
                    .map_err(|e| aws_error("UpdateWebACL", e))
            })
            .await?;
        if let Some(token) = out.next_lock_token() {
            let (name, token) = (name.to_string(), token.to_string());
            self.remember(|inv| {
                if let Some(s) = inv.web_acls.get_mut(&name) {
                    s.lock_token = token;
                }
            })
            .await;
        }
        Ok(())
    }

    /// Creates maint's web ACL, or adopts the leftover of a crashed run;
    /// returns its ARN.
    async fn ensure_web_acl(&self, lb: &LoadBalancerArn, spec: &AclSpec<'_>) -> Result<String> {
        let name = web_acl_name(lb);
        for fresh in [false, true] {
            let leftover = self.inventory(fresh).await?.web_acls.get(&name).cloned();
            let leftover = match leftover {
                Some(existing) if self.is_ours(lb, &name, &existing.arn).await? => Some(existing),
                _ => None,
            };
            if let Some(existing) = leftover {
                tracing::info!(%lb, name, "reusing web ACL left by an earlier run");
                for attempt in 0..self.settings.max_attempts {
                    let locked = self.get_web_acl(&name, &existing.id).await?;
                    match self.update_web_acl(lb, &locked, spec).await {
                        Err(e) if is_code(&e, &[code::LOCK]) => {
                            tokio::time::sleep(self.backoff(attempt)).await
                        }
                        other => return other.map(|()| existing.arn.clone()),
                    }
                }
                return Err(Error::Conflict {
                    resource: existing.arn,
                    message: "the web ACL kept changing while maint wrote it".into(),
                });
            }
            if fresh {
                break;
            }
            match self.create_web_acl(lb, &name, spec).await {
                Err(e) if is_code(&e, &code::DUPLICATE) => {
                    tracing::info!(%lb, name, "web ACL exists already; looking it up");
                }
                other => return other,
            }
        }
        Err(Error::unexpected(format!(
            "WAF says web ACL {name} exists, but it is not listed in region {}",
            self.region
        )))
    }

    async fn create_web_acl(
        &self,
        lb: &LoadBalancerArn,
        name: &str,
        spec: &AclSpec<'_>,
    ) -> Result<String> {
        let rule = acl::rule(spec, name)?;
        let bodies = acl::bodies(spec)?;
        let visibility = acl::visibility(name)?;
        let tags = acl::tags(lb)?;
        tracing::info!(%lb, name, "creating web ACL");
        let (rule, bodies, visibility, tags) = (&rule, &bodies, &visibility, &tags);
        let out = self
            .write("create the web ACL", || async move {
                self.waf
                    .create_web_acl()
                    .name(name)
                    .scope(Scope::Regional)
                    .description(Self::description(lb))
                    .default_action(acl::default_action())
                    .rules(rule.clone())
                    .set_custom_response_bodies(Some(bodies.clone()))
                    .visibility_config(visibility.clone())
                    .set_tags(Some(tags.clone()))
                    .send()
                    .await
                    .map_err(|e| aws_error("CreateWebACL", e))
            })
            .await?;
        let created = out.summary().map(|s| (s.id(), s.arn(), s.lock_token()));
        self.remember_created(Listing::WebAcls, "CreateWebACL", name, created)
            .await
    }

    async fn associate(&self, lb: &LoadBalancerArn, acl_arn: &str) -> Result<()> {
        tracing::info!(%lb, acl_arn, "associating web ACL");
        self.retrying(
            &format!(
                "associating web ACL {acl_arn} with {lb} (the web ACL exists: run the same \
                 command again to finish, or `maint exit` to remove it)"
            ),
            &[code::UNAVAILABLE],
            self.settings.associate_deadline,
            || async move {
                self.waf
                    .associate_web_acl()
                    .web_acl_arn(acl_arn)
                    .resource_arn(lb.as_str())
                    .send()
                    .await
                    .map_err(|e| aws_error("AssociateWebACL", e))
            },
        )
        .await?;
        Ok(())
    }

    /// Creates and associates a new window on a normal load balancer,
    /// adopting whatever a crashed run left.
    async fn create_window(&self, lb: &LoadBalancerArn, spec: &MaintenanceSpec) -> Result<()> {
        let mut record = StateRecord {
            managed_by: acl::MANAGED_BY.into(),
            load_balancer: lb.to_string(),
            reason: spec.reason.as_ref().map(|r| r.as_str().to_string()),
            since: Utc::now(),
            until: spec.until,
            allowlist_enabled: spec.allowlist_enabled,
            ipv4_set: None,
            ipv6_set: None,
        };
        let inventory = self.inventory(false).await?;
        for family in [Family::Ipv4, Family::Ipv6] {
            let entries = family_entries(&spec.allowlist, family);
            let leftover = inventory
                .ip_sets
                .contains_key(&acl::ip_set_name(lb, family));
            if !entries.is_empty() || leftover {
                *record.set_mut(family) = Some(self.ensure_ip_set(lb, family, &entries).await?);
            }
        }
        let acl_spec = AclSpec {
            record: &record,
            response: &spec.response,
        };
        let acl_arn = self.ensure_web_acl(lb, &acl_spec).await?;
        self.associate(lb, &acl_arn).await
    }

    /// Brings an existing window in line with `spec` (entries, response,
    /// reason, end, enabled), re-reading the web ACL under its lock token.
    async fn update_window(
        &self,
        lb: &LoadBalancerArn,
        acl: &WebAcl,
        sets: &[LoadedSet],
        entries: &Allowlist,
        enabled: bool,
        edit: &(dyn Fn(&mut StateRecord, &mut MaintenanceResponse) + Sync),
    ) -> Result<()> {
        // IP sets first: a set must exist before the rule can reference it.
        let mut new_sets: Vec<(Family, String)> = Vec::new();
        for family in [Family::Ipv4, Family::Ipv6] {
            let wanted = family_entries(entries, family);
            match sets.iter().find(|s| s.family == family) {
                Some(set) if set.entries != wanted => self.update_ip_set(set, &wanted).await?,
                Some(_) => {}
                None if !wanted.is_empty() => {
                    new_sets.push((family, self.ensure_ip_set(lb, family, &wanted).await?))
                }
                None => {}
            }
        }
        // Only read the web ACL under its lock token when it has to change:
        // an edit of entries alone is done once the IP sets are written.
        let observed = acl::read_acl(acl, lb)?;
        if let Some(observed) = &observed {
            let mut record = observed.record.clone();
            let mut response = observed.response.clone();
            edit(&mut record, &mut response);
            record.allowlist_enabled = enabled;
            if new_sets.is_empty() && record == observed.record && response == observed.response {
                return Ok(());
            }
        }
        let locked = self.get_web_acl(acl.name(), acl.id()).await?;
        let read = acl::read_acl(&locked.acl, lb)?.ok_or_else(|| Error::Conflict {
            resource: acl.arn().to_string(),
            message: "the web ACL changed owner while maint was updating it".into(),
        })?;
        let mut record = read.record.clone();
        let mut response = read.response.clone();
        edit(&mut record, &mut response);
        record.allowlist_enabled = enabled;
        for (family, arn) in new_sets {
            *record.set_mut(family) = Some(arn);
        }
        if record == read.record && response == read.response {
            return Ok(());
        }
        let spec = AclSpec {
            record: &record,
            response: &response,
        };
        self.update_web_acl(lb, &locked, &spec).await
    }

    /// Deletes one of maint's resources with its lock token, retrying
    /// while WAF still sees it in use (`WAFAssociatedItemException`, until
    /// the delete deadline) and re-reading the token after a lock conflict.
    /// A resource that is already gone counts as deleted.
    async fn delete(&self, kind: Resource, name: &str, summary: &Summary) -> Result<()> {
        let what = kind.noun();
        let mut token = summary.lock_token.clone();
        for attempt in 0..self.settings.max_attempts {
            if token.is_empty() {
                let fresh = match kind {
                    Resource::WebAcl => self
                        .get_web_acl(name, &summary.id)
                        .await
                        .map(|l| l.lock_token),
                    Resource::IpSet(family) => self
                        .get_ip_set(family, &summary.arn)
                        .await
                        .map(|s| s.lock_token),
                };
                match fresh {
                    Ok(t) => token = t,
                    Err(e) if is_code(&e, &[code::NONEXISTENT]) => break,
                    Err(e) => return Err(e),
                }
            }
            tracing::info!(name, "deleting {what}");
            let token_ref = &token;
            let result = self
                .retrying(
                    &format!("deleting {what} {name}"),
                    &[code::ASSOCIATED],
                    self.settings.delete_deadline,
                    || async move {
                        match kind {
                            Resource::WebAcl => self
                                .waf
                                .delete_web_acl()
                                .name(name)
                                .id(&summary.id)
                                .scope(Scope::Regional)
                                .lock_token(token_ref)
                                .send()
                                .await
                                .map(|_| ())
                                .map_err(|e| aws_error("DeleteWebACL", e)),
                            Resource::IpSet(_) => self
                                .waf
                                .delete_ip_set()
                                .name(name)
                                .id(&summary.id)
                                .scope(Scope::Regional)
                                .lock_token(token_ref)
                                .send()
                                .await
                                .map(|_| ())
                                .map_err(|e| aws_error("DeleteIPSet", e)),
                        }
                    },
                )
                .await;
            match result {
                Ok(()) => break,
                Err(e) if is_code(&e, &[code::NONEXISTENT]) => break,
                Err(e) if is_code(&e, &[code::LOCK]) => {
                    tokio::time::sleep(self.backoff(attempt)).await;
                    token.clear();
                    if attempt + 1 == self.settings.max_attempts {
                        return Err(Error::Conflict {
                            resource: summary.arn.clone(),
                            message: format!("the {what} kept changing while maint deleted it"),
                        });
                    }
                }
                Err(e) => return Err(e),
            }
        }
        let name = name.to_string();
        self.remember(|inv| {
            inv.web_acls.remove(&name);
            inv.ip_sets.remove(&name);
        })
        .await;
        Ok(())
    }

    /// maint's resources for `lb` by name: the web ACL and the IP sets.
    async fn resources_of(
        &self,
        lb: &LoadBalancerArn,
        fresh: bool,
    ) -> Result<(Option<(String, Summary)>, Vec<(String, Summary)>)> {
        let inventory = self.inventory(fresh).await?;
        let name = web_acl_name(lb);
        let acl = inventory.web_acls.get(&name).cloned().map(|s| (name, s));
        let sets = [Family::Ipv4, Family::Ipv6]
            .into_iter()
            .map(|f| acl::ip_set_name(lb, f))
            .filter_map(|n| inventory.ip_sets.get(&n).cloned().map(|s| (n, s)))
            .collect();
        Ok((acl, sets))
    }

    async fn describe(
        &self,
        names: &[String],
        arns: &[String],
    ) -> Result<Vec<elbv2::types::LoadBalancer>> {
        let out = self
            .write("describe load balancers", || async move {
                self.elb
                    .describe_load_balancers()
                    .set_names((!names.is_empty()).then(|| names.to_vec()))
                    .set_load_balancer_arns((!arns.is_empty()).then(|| arns.to_vec()))
                    .send()
                    .await
                    .map_err(|e| aws_error("DescribeLoadBalancers", e))
            })
            .await?;
        Ok(out.load_balancers().to_vec())
    }

    /// Describes load balancers by name or ARN, 20 per call (ELB's limit);
    /// when a batch has an unknown one (ELB then fails the whole call), each
    /// of the batch is looked up alone to tell which.
    async fn describe_many(
        &self,
        keys: &[String],
        by_arn: bool,
    ) -> Result<HashMap<String, Option<elbv2::types::LoadBalancer>>> {
        let mut found = HashMap::new();
        for chunk in keys.chunks(20) {
            let call = |keys: Vec<String>| async move {
                if by_arn {
                    self.describe(&[], &keys).await
                } else {
                    self.describe(&keys, &[]).await
                }
            };
            let lbs = match call(chunk.to_vec()).await {
                Err(e) if is_code(&e, &code::LB_NOT_FOUND) && chunk.len() > 1 => {
                    let mut all = Vec::new();
                    for key in chunk {
                        match call(vec![key.clone()]).await {
                            Err(e) if is_code(&e, &code::LB_NOT_FOUND) => {}
                            other => all.extend(other?),
                        }
                    }
                    all
                }
                Err(e) if is_code(&e, &code::LB_NOT_FOUND) => Vec::new(),
                other => other?,
            };
            for key in chunk {
                let lb = lbs
                    .iter()
                    .find(|lb| {
                        if by_arn {
                            lb.load_balancer_arn() == Some(key.as_str())
                        } else {
                            lb.load_balancer_name() == Some(key.as_str())
                        }
                    })
                    .cloned();
                found.insert(key.clone(), lb);
            }
        }
        Ok(found)
    }
}

/// The entries of one family, in order.
fn family_entries(list: &Allowlist, family: Family) -> Vec<Cidr> {
    list.iter().filter(|c| c.family() == family).collect()
}

fn outcome(lb: &LoadBalancerArn, mode: Mode, changes: Vec<Change>) -> Outcome {
    Outcome {
        load_balancer: lb.clone(),
        mode,
        changes,
    }
}

fn foreign(lb: &LoadBalancerArn, arn: String, name: String) -> Error {
    Error::ForeignWebAcl {
        load_balancer: lb.to_string(),
        web_acl_arn: arn,
        web_acl_name: name,
    }
}

fn too_contended(lb: &LoadBalancerArn) -> Error {
    Error::Conflict {
        resource: lb.to_string(),
        message: "other writers kept changing maint's web ACL or IP sets; run the command again"
            .into(),
    }
}

#[async_trait]
impl MaintenanceBackend for WafBackend {
    async fn resolve(&self, refs: &[LoadBalancerRef]) -> Result<Vec<Result<LoadBalancerArn>>> {
        let names: Vec<String> = refs
            .iter()
            .filter_map(|r| match r {
                LoadBalancerRef::Name(n) => Some(n.to_string()),
                LoadBalancerRef::Arn(_) => None,
            })
            .collect();
        let arns: Vec<String> = refs
            .iter()
            .filter_map(|r| match r {
                LoadBalancerRef::Arn(a) if a.region() == self.region => Some(a.to_string()),
                _ => None,
            })
            .collect();
        let by_name = self.describe_many(&names, false).await?;
        let by_arn = self.describe_many(&arns, true).await?;
        Ok(refs
            .iter()
            .map(|r| {
                let (key, found) = match r {
                    LoadBalancerRef::Arn(a) if a.region() != self.region => {
                        return Err(wrong_region(a, &self.region).into())
                    }
                    LoadBalancerRef::Arn(a) => (a.to_string(), by_arn.get(a.as_str())),
                    LoadBalancerRef::Name(n) => (n.to_string(), by_name.get(n.as_str())),
                };
                let lb = found
                    .cloned()
                    .flatten()
                    .ok_or_else(|| Error::TargetNotFound {
                        target: key.clone(),
                    })?;
                let kind = lb.r#type().map(|t| t.as_str()).unwrap_or("unknown");
                if kind != "application" {
                    return Err(not_an_alb(&key, kind).into());
                }
                let arn = lb.load_balancer_arn().unwrap_or_default();
                Ok(LoadBalancerArn::parse(arn)?)
            })
            .collect())
    }

    async fn enter(
        &self,
        lb: &LoadBalancerArn,
        spec: &MaintenanceSpec,
        mode: Mode,
    ) -> Result<Outcome> {
        for attempt in 0..self.settings.max_attempts {
            let (acl, read) = match self.observe(lb).await? {
                Observed::Foreign { arn, name } => return Err(foreign(lb, arn, name)),
                Observed::Normal => {
                    let changes = vec![
                        Change::CreatedWebAcl {
                            name: web_acl_name(lb),
                        },
                        Change::Associated,
                    ];
                    if mode == Mode::Apply {
                        self.create_window(lb, spec).await?;
                    }
                    return Ok(outcome(lb, mode, changes));
                }
                Observed::Ours { acl, read } => (acl, read),
            };
            let (entries, sets) = self.load_sets(&read.record).await?;
            let current = Self::info(&acl, &read, entries);
            let spec = &reentry_spec(&current, spec)?;
            let changes = spec_changes(&current, spec);
            if changes.is_empty() || mode == Mode::DryRun {
                return Ok(outcome(lb, mode, changes));
            }
            let reason = spec.reason.as_ref().map(|r| r.as_str().to_string());
            let edit = |record: &mut StateRecord, response: &mut MaintenanceResponse| {
                record.reason = reason.clone();
                record.until = spec.until;
                *response = spec.response.clone();
            };
            match self
                .update_window(
                    lb,
                    &acl,
                    &sets,
                    &spec.allowlist,
                    spec.allowlist_enabled,
                    &edit,
                )
                .await
            {
                Err(e) if is_code(&e, &[code::LOCK]) => {
                    tracing::info!(%lb, attempt, "another writer changed the window; re-reading");
                    tokio::time::sleep(self.backoff(attempt)).await;
                }
                other => return other.map(|()| outcome(lb, mode, changes)),
            }
        }
        Err(too_contended(lb))
    }

    async fn exit(&self, lb: &LoadBalancerArn, mode: Mode) -> Result<Outcome> {
        let associated = match self.observe(lb).await? {
            Observed::Foreign { arn, name } => return Err(foreign(lb, arn, name)),
            Observed::Normal => None,
            Observed::Ours { acl, read } => Some((acl, read)),
        };
        // Leftovers by name (a crashed enter or exit) go too, once their tags
        // say they are maint's for this load balancer. On a normal target the
        // listing must be fresh: it is all there is to go by.
        let (acl_named, sets_named) = self.resources_of(lb, associated.is_none()).await?;
        let token_of = |named: Option<&Summary>, arn: &str| {
            named
                .filter(|s| s.arn == arn)
                .map(|s| s.lock_token.clone())
                .unwrap_or_default()
        };
        let mut acl_by_name: Option<(String, Summary)> = None;
        let mut sets_by_name: Vec<(String, Summary)> = Vec::new();
        if let Some((acl, read)) = &associated {
            // Proven maint's by its state record, as are the sets it names.
            let named = acl_named.as_ref().map(|(_, s)| s);
            acl_by_name = Some((
                acl.name().to_string(),
                Summary {
                    id: acl.id().to_string(),
                    arn: acl.arn().to_string(),
                    lock_token: token_of(named, acl.arn()),
                },
            ));
            for family in [Family::Ipv4, Family::Ipv6] {
                if let Some(arn) = read.record.set(family) {
                    let id = IpSetId::from_arn(arn)?;
                    let named = sets_named
                        .iter()
                        .find(|(n, _)| *n == id.name)
                        .map(|(_, s)| s);
                    let lock_token = token_of(named, arn);
                    sets_by_name.push((
                        id.name,
                        Summary {
                            id: id.id,
                            arn: id.arn,
                            lock_token,
                        },
                    ));
                }
            }
        } else if let Some((name, summary)) = acl_named {
            if self.is_ours(lb, &name, &summary.arn).await? {
                acl_by_name = Some((name, summary));
            }
        }
        for (name, summary) in sets_named {
            let known = sets_by_name.iter().any(|(_, s)| s.arn == summary.arn);
            if !known && self.is_ours(lb, &name, &summary.arn).await? {
                sets_by_name.push((name, summary));
            }
        }
        if associated.is_none() && acl_by_name.is_none() && sets_by_name.is_empty() {
            return Ok(outcome(lb, mode, Vec::new()));
        }
        let mut changes = Vec::new();
        if associated.is_some() {
            changes.push(Change::Disassociated);
        }
        if let Some((name, _)) = &acl_by_name {
            changes.push(Change::DeletedWebAcl { name: name.clone() });
        }
        for (name, _) in &sets_by_name {
            changes.push(Change::DeletedIpSet { name: name.clone() });
        }
        if mode == Mode::DryRun {
            return Ok(outcome(lb, mode, changes));
        }
        if associated.is_some() {
            tracing::info!(%lb, "disassociating web ACL");
            let result = self
                .write("disassociate the web ACL", || async move {
                    self.waf
                        .disassociate_web_acl()
                        .resource_arn(lb.as_str())
                        .send()
                        .await
                        .map_err(|e| aws_error("DisassociateWebACL", e))
                })
                .await;
            match result {
                Err(e) if is_code(&e, &[code::NONEXISTENT]) => {}
                other => {
                    other?;
                }
            }
        }
        if let Some((name, summary)) = &acl_by_name {
            self.delete(Resource::WebAcl, name, summary).await?;
        }
        for (name, summary) in &sets_by_name {
            self.delete(Resource::IpSet(ip_set_family(name)), name, summary)
                .await?;
        }
        Ok(outcome(lb, mode, changes))
    }

    async fn update_allowlist(
        &self,
        lb: &LoadBalancerArn,
        change: &AllowlistChange,
        mode: Mode,
    ) -> Result<Outcome> {
        for attempt in 0..self.settings.max_attempts {
            let (acl, read) = match self.observe(lb).await? {
                Observed::Foreign { arn, name } => return Err(foreign(lb, arn, name)),
                Observed::Normal => {
                    return Err(Error::NotInMaintenance {
                        load_balancer: lb.to_string(),
                    })
                }
                Observed::Ours { acl, read } => (acl, read),
            };
            let (entries, sets) = self.load_sets(&read.record).await?;
            let before = AllowlistState {
                enabled: read.record.allowlist_enabled,
                entries,
            };
            let after = change.apply(&before)?;
            let changes = allowlist_changes(&before, &after);
            if changes.is_empty() || mode == Mode::DryRun {
                return Ok(outcome(lb, mode, changes));
            }
            let keep = |_: &mut StateRecord, _: &mut MaintenanceResponse| {};
            match self
                .update_window(lb, &acl, &sets, &after.entries, after.enabled, &keep)
                .await
            {
                Err(e) if is_code(&e, &[code::LOCK]) => {
                    tracing::info!(%lb, attempt, "another writer changed the allowlist; re-applying");
                    tokio::time::sleep(self.backoff(attempt)).await;
                }
                other => return other.map(|()| outcome(lb, mode, changes)),
            }
        }
        Err(too_contended(lb))
    }

    async fn status(&self, lb: &LoadBalancerArn) -> Result<TargetStatus> {
        let mut leftovers = Vec::new();
        let state = match self.observe(lb).await? {
            Observed::Normal => {
                let (acl, sets) = self.resources_of(lb, false).await?;
                leftovers.extend(acl.into_iter().chain(sets).map(|(name, _)| name));
                State::Normal
            }
            Observed::Foreign { arn, name } => State::Foreign {
                web_acl_arn: arn,
                web_acl_name: name,
            },
            Observed::Ours { acl, read } => {
                let (entries, _) = self.load_sets(&read.record).await?;
                State::Maintenance(Box::new(Self::info(&acl, &read, entries)))
            }
        };
        Ok(TargetStatus {
            load_balancer: lb.clone(),
            state,
            leftovers,
        })
    }

    async fn cleanup(&self, mode: Mode) -> Result<Vec<Leftover>> {
        let inventory = self.inventory(true).await?;
        // For each load balancer named by a tag: the ARNs its association uses.
        let mut in_use: HashMap<String, Vec<String>> = HashMap::new();
        let mut leftovers = Vec::new();
        let resources = inventory
            .web_acls
            .iter()
            .map(|(n, s)| ("web-acl", n, s))
            .chain(inventory.ip_sets.iter().map(|(n, s)| ("ip-set", n, s)));
        let grace = chrono::Duration::from_std(self.settings.cleanup_grace)
            .unwrap_or(chrono::Duration::MAX);
        for (kind, name, summary) in resources {
            let Ownership::Maint {
                load_balancer: owner,
                created,
            } = self.ownership(&summary.arn).await?
            else {
                continue;
            };
            if created.is_some_and(|t| Utc::now() - t < grace) {
                tracing::info!(
                    name,
                    "left alone: created recently, an enter may be under way"
                );
                continue;
            }
            if !in_use.contains_key(&owner) {
                let used = match LoadBalancerArn::parse(&owner) {
                    Ok(lb) if lb.region() == self.region => match self.observe(&lb).await {
                        Ok(Observed::Ours { acl, read }) => {
                            let mut used = vec![acl.arn().to_string()];
                            used.extend(read.record.ipv4_set.clone());
                            used.extend(read.record.ipv6_set.clone());
                            used
                        }
                        Ok(_) | Err(Error::TargetNotFound { .. }) => Vec::new(),
                        Err(e) => return Err(e),
                    },
                    _ => Vec::new(),
                };
                in_use.insert(owner.clone(), used);
            }
            if !in_use[&owner].contains(&summary.arn) {
                leftovers.push((
                    Leftover {
                        kind,
                        name: name.clone(),
                        arn: summary.arn.clone(),
                    },
                    summary.clone(),
                ));
            }
        }
        // Web ACLs first: an IP set cannot go while a web ACL references it.
        leftovers.sort_by_key(|(l, _)| (l.kind != "web-acl", l.name.clone()));
        if mode == Mode::Apply {
            for (leftover, summary) in &leftovers {
                if leftover.kind == "web-acl" {
                    self.delete(Resource::WebAcl, &leftover.name, summary)
                        .await?;
                } else {
                    self.delete(
                        Resource::IpSet(ip_set_family(&leftover.name)),
                        &leftover.name,
                        summary,
                    )
                    .await?;
                }
            }
        }
        Ok(leftovers.into_iter().map(|(l, _)| l).collect())
    }
}
