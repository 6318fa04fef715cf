//! The WAF store: maint's web ACLs, IP sets and associations in one Region,
//! over the [`WafClient`]. Its operations are `impl WafStore` blocks in
//! files by concern: `web_acls.rs` (reading, creating, updating a window's
//! web ACL), `associations.rs` (what a load balancer is associated with,
//! associating and disassociating), `ip_sets.rs`, `inventory.rs` (maint's
//! resources by name, their tags, the windows of a Region), `cleanup.rs`
//! (deleting), `elb.rs` (load balancer look-ups), `inject.rs` (maint's
//! rule in a service's own web ACL) and `live.rs` (`maint check` on the
//! live web ACL). Which members of a window join, leave or are refused is
//! decided above it (the backend, `decide.rs`); the store refuses only
//! what it finds right before an association call (a web ACL that appeared
//! since), which must be read next to the call.
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::AtomicBool;

use aws_sdk_wafv2::types::WebAcl;
use tokio::sync::Mutex;

use super::acl::ReadAcl;
use super::client::WafClient;
use super::errors::{code, is_code};
use super::inventory::Inventory;
use super::settings::WafSettings;
use super::web_acls::LockedAcl;
use crate::allowlist::Allowlist;
use crate::maintenance::{AllowlistState, MaintenanceInfo, State, Window};
use crate::{Error, Result};

/// maint's resources on AWS WAF in one Region, through one [`WafClient`].
#[derive(Debug)]
pub(crate) struct WafStore {
    /// The paced AWS calls.
    pub(super) client: WafClient,
    /// maint's resources by name, from a listing shared by the targets of
    /// a command.
    pub(super) inventory: Mutex<Option<Inventory>>,
    /// Whether `ListResourcesForWebACL` answers (not in every emulator, nor
    /// under every IAM policy); once it does not, members are read one by
    /// one.
    pub(super) list_resources: AtomicBool,
    /// Web ACLs as last read with their lock tokens, by ARN, so a write
    /// right after a read needs no second read (a token gone stale costs
    /// one lock conflict, then a re-read).
    pub(super) last_read: std::sync::Mutex<HashMap<String, LockedAcl>>,
}

impl WafStore {
    /// A store over `client`.
    pub(super) fn new(client: WafClient) -> Self {
        Self {
            client,
            inventory: Mutex::new(None),
            list_resources: AtomicBool::new(true),
            last_read: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// The Region this store acts in.
    pub(super) fn region(&self) -> &str {
        self.client.region()
    }

    /// The pace and the bounds on waits and retries.
    pub(super) fn settings(&self) -> &WafSettings {
        self.client.settings()
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
        for attempt in 0..self.settings().max_attempts {
            match op().await {
                Err(e) if is_code(&e, &[code::LOCK]) => {
                    tracing::info!(
                        target: super::client::CALLS_LOG,
                        resource,
                        attempt,
                        "another writer changed it; re-reading"
                    );
                    tokio::time::sleep(self.client.backoff(attempt)).await;
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

    /// A window's state for `status`, from its web ACL as read and its
    /// allowlist.
    pub(super) fn info(acl: &WebAcl, read: &ReadAcl, entries: Allowlist) -> MaintenanceInfo {
        MaintenanceInfo {
            window: read.record.window.clone(),
            web_acl_arn: acl.arn().to_string(),
            reason: read.record.reason.clone(),
            since: read.record.since,
            until: read.record.until,
            allowlist: AllowlistState {
                enabled: read.record.allowlist_enabled,
                entries,
            },
            response: read.response.clone(),
            armed_since: read.record.armed_since,
            host_web_acl: read.injected().then(|| acl.name().to_string()),
            bypass: read.record.bypass_state(),
            client_ip: read.record.client_ip.clone(),
            scope: read.record.scope.clone(),
            revision: read.revision.clone(),
        }
    }

    /// The state a window's record says its members are in.
    pub(super) fn state(acl: &WebAcl, read: &ReadAcl, info: MaintenanceInfo) -> State {
        if !read.rule_present {
            State::Reverted {
                window: read.record.window.clone(),
                web_acl_arn: acl.arn().to_string(),
                web_acl_name: acl.name().to_string(),
            }
        } else if read.record.active {
            State::Maintenance(Box::new(info))
        } else {
            State::Armed(Box::new(info))
        }
    }

    /// The description of a window's web ACL and IP sets.
    pub(super) fn description(window: &Window) -> String {
        match window.service() {
            Some(service) => format!("Maintenance window of service {service}, managed by maint"),
            None => format!("Maintenance window {}, managed by maint", window.name()),
        }
    }
}
