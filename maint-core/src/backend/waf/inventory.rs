//! The region inventory: maint's resources by name from one listing, their
//! ownership tags, and deleting them.
use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::Utc;

use super::acl;
use super::errors::{code, is_code};
use super::store::WafStore;
use crate::allowlist::Family;
use crate::maintenance::{Window, WindowSummary};
use crate::target::ResourceArn;
use crate::{Error, Result};

/// A summary from a region-wide listing.
#[derive(Debug, Clone)]
pub(super) struct Summary {
    pub(super) id: String,
    pub(super) arn: String,
    pub(super) lock_token: String,
}

/// maint's web ACLs and IP sets in the region, by name, from one listing.
#[derive(Debug, Clone)]
pub(super) struct Inventory {
    pub(super) web_acls: HashMap<String, Summary>,
    pub(super) ip_sets: HashMap<String, Summary>,
    pub(super) loaded: Instant,
}

/// How long a listing is reused. It only serves to find leftovers of
/// earlier, crashed runs (which predate the command) and as a first guess at
/// lock tokens (a stale token costs one re-read), so sharing one listing
/// between the targets of a command is safe.
pub(super) const INVENTORY_MAX_AGE: Duration = Duration::from_secs(30);

/// The two region-wide listings.
#[derive(Debug, Clone, Copy)]
pub(super) enum Listing {
    WebAcls,
    IpSets,
}

/// What a resource's tags say about who owns it.
pub(super) enum Ownership {
    /// It does not exist (any more).
    Gone,
    /// Not tagged as maint's.
    Other,
    /// maint's, for this window, created then (a resource made before
    /// windows also names its load balancer).
    Maint {
        window: String,
        created: Option<chrono::DateTime<Utc>>,
        load_balancer: Option<String>,
        /// The service's own web ACL an injected window's IP set serves.
        host: Option<String>,
    },
}

impl WafStore {
    /// maint's resources in the region, from a listing at most
    /// [`INVENTORY_MAX_AGE`] old (or fresh when `fresh`). Concurrent callers
    /// share one listing.
    pub(super) async fn inventory(&self, fresh: bool) -> Result<Inventory> {
        let mut guard = self.inventory.lock().await;
        if let Some(inv) = guard.as_ref() {
            if !fresh && inv.loaded.elapsed() < INVENTORY_MAX_AGE {
                return Ok(inv.clone());
            }
        }
        let (mut web_acls, mut ip_sets) =
            futures::future::try_join(self.list(Listing::WebAcls), self.list(Listing::IpSets))
                .await?;
        for found in [&mut web_acls, &mut ip_sets] {
            found.retain(|name, _| name.starts_with("maint-"));
        }
        let inv = Inventory {
            web_acls,
            ip_sets,
            loaded: Instant::now(),
        };
        *guard = Some(inv.clone());
        Ok(inv)
    }

    /// Records a resource just created (id, ARN, lock token from the
    /// create call's summary) in the inventory; returns its ARN.
    pub(super) async fn remember_created(
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

    pub(super) async fn remember(&self, edit: impl FnOnce(&mut Inventory)) {
        if let Some(inv) = self.inventory.lock().await.as_mut() {
            edit(inv);
        }
    }

    /// Every web ACL or IP set in the region, by name, through every page
    /// of the listing.
    pub(super) async fn list(&self, kind: Listing) -> Result<HashMap<String, Summary>> {
        let mut found = HashMap::new();
        let mut marker: Option<String> = None;
        loop {
            let next = marker.as_deref();
            let owned = |n: Option<&str>, i: Option<&str>, a: Option<&str>, t: Option<&str>| {
                Some((
                    n?.to_string(),
                    i?.to_string(),
                    a?.to_string(),
                    t?.to_string(),
                ))
            };
            let (page, next_marker): (Vec<_>, Option<String>) = match kind {
                Listing::WebAcls => {
                    let out = self.client.list_web_acls(next).await?;
                    let page = out
                        .web_acls()
                        .iter()
                        .filter_map(|s| owned(s.name(), s.id(), s.arn(), s.lock_token()))
                        .collect();
                    (page, out.next_marker().map(String::from))
                }
                Listing::IpSets => {
                    let out = self.client.list_ip_sets(next).await?;
                    let page = out
                        .ip_sets()
                        .iter()
                        .filter_map(|s| owned(s.name(), s.id(), s.arn(), s.lock_token()))
                        .collect();
                    (page, out.next_marker().map(String::from))
                }
            };
            let full = page.len() == 100;
            for (name, id, arn, lock_token) in page {
                found.insert(
                    name,
                    Summary {
                        id,
                        arn,
                        lock_token,
                    },
                );
            }
            match next_marker {
                Some(m) if full && !m.is_empty() => marker = Some(m),
                _ => return Ok(found),
            }
        }
    }

    /// What a resource's tags say about it.
    pub(super) async fn ownership(&self, arn: &str) -> Result<Ownership> {
        let out = self.client.list_tags_for_resource(arn).await;
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
        // Resources made before windows name their load balancer instead.
        let window = tag(acl::TAG_WINDOW).or_else(|| {
            tag(acl::TAG_LOAD_BALANCER)
                .and_then(|lb| ResourceArn::parse(&lb).ok())
                .map(|lb| Window::of_load_balancer(&lb).name().to_string())
        });
        Ok(match (tag(acl::TAG_MANAGED_BY).as_deref(), window) {
            (Some(acl::MANAGED_BY), Some(window)) => Ownership::Maint {
                window,
                created,
                load_balancer: tag(acl::TAG_LOAD_BALANCER),
                host: tag(acl::TAG_HOST),
            },
            _ => Ownership::Other,
        })
    }

    /// Whether a resource found by name (a leftover of an earlier run) is
    /// `window`'s: its tags say so. `false` when it is gone by now (the
    /// listing was older than its deletion). A resource with the window's
    /// name that is not tagged as maint's for it is a conflict: never
    /// touched.
    pub(super) async fn is_ours(&self, window: &Window, name: &str, arn: &str) -> Result<bool> {
        match self.ownership(arn).await? {
            Ownership::Maint { window: w, .. } if w == window.name() => Ok(true),
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
                    "{name} has the name maint uses for window {window} but is not tagged as \
                     maint's for it; rename or delete it, maint will not touch it"
                ),
            }),
        }
    }

    /// `window`'s resources by name: the web ACL and the IP sets.
    pub(super) async fn resources_of(
        &self,
        window: &Window,
        fresh: bool,
    ) -> Result<(Option<(String, Summary)>, Vec<(String, Summary)>)> {
        let inventory = self.inventory(fresh).await?;
        let name = window.name().to_string();
        let acl = inventory.web_acls.get(&name).cloned().map(|s| (name, s));
        let sets = [Family::Ipv4, Family::Ipv6]
            .into_iter()
            .map(|f| acl::ip_set_name(window.name(), f))
            .filter_map(|n| inventory.ip_sets.get(&n).cloned().map(|s| (n, s)))
            .collect();
        Ok((acl, sets))
    }

    /// Whether the inventory holds IP sets of `window`.
    pub(super) async fn has_ip_sets(&self, window: &Window) -> Result<bool> {
        Ok(!self.resources_of(window, false).await?.1.is_empty())
    }
}

impl WafStore {
    /// Every window of maint's in the region (see
    /// [`MaintenanceBackend::windows`]): each web ACL of maint's read once,
    /// and the host web ACLs named by the tags of IP sets whose window has
    /// no web ACL of its own (injected windows).
    pub(super) async fn find_windows(&self) -> Result<Vec<WindowSummary>> {
        let inv = self.inventory(true).await?;
        let mut acls: Vec<(String, String)> = inv
            .web_acls
            .iter()
            .map(|(name, s)| (name.clone(), s.id.clone()))
            .collect();
        let mut hosts = std::collections::BTreeSet::new();
        for (name, set) in &inv.ip_sets {
            let window = name
                .strip_suffix("-ipv4")
                .or_else(|| name.strip_suffix("-ipv6"))
                .unwrap_or(name);
            if inv.web_acls.contains_key(window) {
                continue;
            }
            if let Ownership::Maint {
                host: Some(host), ..
            } = self.ownership(&set.arn).await?
            {
                hosts.insert(host);
            }
        }
        for host in hosts {
            // arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<id>
            let mut parts = host.rsplitn(3, '/');
            if let (Some(id), Some(name), Some(_)) = (parts.next(), parts.next(), parts.next()) {
                acls.push((name.to_string(), id.to_string()));
            }
        }
        acls.sort();
        // A web ACL of maint's may host another window's part too.
        acls.dedup();
        let mut found = Vec::new();
        for (name, id) in acls {
            // One window that cannot be read never hides the others: it is
            // reported with its problem.
            let unreadable = |e: Error| WindowSummary {
                window: Window::recorded(&name, None),
                members: Vec::new(),
                until: None,
                in_maintenance: false,
                problem: Some(e),
            };
            let locked = match self.get_web_acl(&name, &id).await {
                Err(e) if is_code(&e, &[code::NONEXISTENT]) => continue,
                Err(e) => {
                    found.push(unreadable(e));
                    continue;
                }
                Ok(locked) => locked,
            };
            // Each window's part of it (several on a shared load balancer).
            let parts = match acl::read_parts(&locked.acl) {
                Ok(parts) => parts,
                Err(e) => {
                    found.push(unreadable(e));
                    continue;
                }
            };
            for read in parts {
                let record = &read.record;
                found.push(WindowSummary {
                    window: Window::recorded(&record.window, record.service.as_deref()),
                    members: record
                        .members
                        .iter()
                        .filter_map(|m| ResourceArn::parse(m).ok())
                        .collect(),
                    until: record.until,
                    in_maintenance: read.rule_present && record.active,
                    problem: read.damage_error(&locked.acl),
                });
            }
        }
        Ok(found)
    }
}
