//! maint's web ACLs: reading (with lock tokens), creating, updating, and
//! a window's record in them.
use std::collections::HashMap;

use aws_sdk_wafv2::types::{CustomResponseBody, Rule, WebAcl};
use chrono::Utc;

use super::acl::{self, AclSpec, ReadAcl, StateRecord};
use super::errors::{code, is_code};
use super::inventory::Listing;
use super::ip_sets::{family_entries, LoadedSet};
use super::store::WafStore;
use crate::allowlist::{Allowlist, Family};
use crate::maintenance::{MaintenanceSpec, Window};
use crate::response::MaintenanceResponse;
use crate::target::ResourceArn;
use crate::{Error, Result};

/// The record of a window about to be made, from `spec`.
pub(super) fn new_record(
    window: &Window,
    members: &[&ResourceArn],
    spec: &MaintenanceSpec,
) -> StateRecord {
    let mut record = StateRecord {
        managed_by: acl::MANAGED_BY.into(),
        window: window.name().to_string(),
        service: window.service().map(str::to_string),
        members: members.iter().map(|lb| lb.to_string()).collect(),
        load_balancer: None,
        reason: spec.reason.as_ref().map(|r| r.as_str().to_string()),
        since: Utc::now(),
        until: spec.until,
        allowlist_enabled: spec.allowlist_enabled,
        ipv4_set: None,
        ipv6_set: None,
        active: true,
        armed_since: None,
        injected: None,
        bypass: None,
        bypass_enabled: true,
        client_ip: Default::default(),
        scope: Default::default(),
        part: None,
        member_prefix: None,
    };
    record.set_access(spec);
    record
}

/// How a repeated `enter` or `arm` turns a window (see
/// [`WafStore::reenter_window`]).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Switching {
    /// Into maintenance since now (`Some(true)`, when it was not), or to
    /// pass-through form (`Some(false)`).
    pub(super) switch: Option<bool>,
    /// Marked armed (since now, unless it is already).
    pub(super) arm: bool,
}

/// A web ACL as read with its lock token.
#[derive(Debug, Clone)]
pub(super) struct LockedAcl {
    pub(super) acl: WebAcl,
    pub(super) lock_token: String,
}

/// A window's web ACL as read, with its record.
#[derive(Debug, Clone)]
pub(super) struct ReadWindow {
    /// The web ACL.
    pub(super) acl: Box<WebAcl>,
    /// maint's record and rule in it.
    pub(super) read: Box<ReadAcl>,
}

impl ReadWindow {
    /// A window read as `acl` holding `read`.
    pub(super) fn new(acl: WebAcl, read: ReadAcl) -> Self {
        Self {
            acl: Box::new(acl),
            read: Box::new(read),
        }
    }
}

/// A kind of WAF resource maint creates.
#[derive(Debug, Clone, Copy)]
pub(super) enum Resource {
    WebAcl,
    IpSet(Family),
}

impl Resource {
    pub(super) fn noun(self) -> &'static str {
        match self {
            Resource::WebAcl => "web ACL",
            Resource::IpSet(_) => "IP set",
        }
    }
}

impl WafStore {
    pub(super) async fn get_web_acl(&self, name: &str, id: &str) -> Result<LockedAcl> {
        let out = self.client.get_web_acl(name, id).await?;
        match (out.web_acl(), out.lock_token()) {
            (Some(acl), Some(token)) => {
                let locked = LockedAcl {
                    acl: acl.clone(),
                    lock_token: token.to_string(),
                };
                self.last_read
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert(acl.arn().to_string(), locked.clone());
                Ok(locked)
            }
            _ => Err(Error::unexpected(format!(
                "GetWebACL for {name} returned no web ACL or lock token"
            ))),
        }
    }

    /// Writes maint's rule and bodies from `spec` into the web ACL under the
    /// lock token it was read with, every other part of it (its own rules,
    /// bodies, default action, settings) sent back as read; a lock conflict
    /// is returned to the caller, which re-reads and re-applies its change.
    pub(super) async fn update_web_acl(
        &self,
        window: &Window,
        locked: &LockedAcl,
        spec: &AclSpec<'_>,
    ) -> Result<()> {
        let (rules, bodies) = acl::compose(&locked.acl, spec)?;
        tracing::info!(
            window = window.name(),
            web_acl = locked.acl.name(),
            "updating web ACL"
        );
        self.write_web_acl(locked, rules, bodies).await
    }

    /// Writes `rules` and `bodies` into the web ACL under the lock token it
    /// was read with; everything else goes back exactly as read (see
    /// [`WafClient::update_web_acl`]).
    pub(super) async fn write_web_acl(
        &self,
        locked: &LockedAcl,
        rules: Vec<Rule>,
        bodies: HashMap<String, CustomResponseBody>,
    ) -> Result<()> {
        let acl = &locked.acl;
        let name = acl.name();
        let out = self
            .client
            .update_web_acl(acl, &locked.lock_token, &rules, &bodies)
            .await?;
        self.last_read
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(acl.arn());
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

    /// `acl` with the lock token it was read with, when this backend read
    /// exactly that version last (else it is read again): a write right
    /// after a read needs no second read.
    pub(super) async fn locked(&self, acl: &WebAcl) -> Result<LockedAcl> {
        let known = self
            .last_read
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(acl.arn())
            .filter(|l| l.acl == *acl);
        match known {
            Some(locked) => Ok(locked),
            None => self.get_web_acl(acl.name(), acl.id()).await,
        }
    }

    /// The web ACL with its lock token and maint's record in it (`None` for
    /// the record when maint's is not there, any more): as just read when
    /// `acl` is the version this backend read last, else read again.
    pub(super) async fn reread(
        &self,
        acl: &WebAcl,
        window: &Window,
    ) -> Result<(LockedAcl, Option<ReadAcl>)> {
        let locked = self.locked(acl).await?;
        let read =
            acl::read_for(&locked.acl, window.name())?.filter(|r| r.record.window == window.name());
        Ok((locked, read))
    }

    /// The window's web ACL, found by name: `None` when it does not exist.
    /// A web ACL with the window's name that is not a window of maint's is
    /// a conflict, never touched.
    pub(super) async fn find_window(
        &self,
        window: &Window,
        fresh: bool,
    ) -> Result<Option<(LockedAcl, ReadAcl)>> {
        let Some(summary) = self
            .inventory(fresh)
            .await?
            .web_acls
            .get(window.name())
            .cloned()
        else {
            return Ok(None);
        };
        let locked = match self.get_web_acl(window.name(), &summary.id).await {
            Err(e) if is_code(&e, &[code::NONEXISTENT]) => {
                self.remember(|inv| {
                    inv.web_acls.remove(window.name());
                })
                .await;
                return Ok(None);
            }
            other => other?,
        };
        let parts = acl::read_parts(&locked.acl)?;
        let has_parts = !parts.is_empty();
        match parts
            .into_iter()
            .find(|p| p.record.window == window.name() && !p.injected())
        {
            Some(read) => Ok(Some((locked, read))),
            // The window's part left while another window's part stays (a
            // shared load balancer): the web ACL is that window's host now,
            // and this window has none of its own.
            None if has_parts => Ok(None),
            // maint's by its tags but without a record: a web ACL created by
            // a run that died before writing it cannot be: records are
            // written with the create. So it is someone else's.
            None => Err(Error::Conflict {
                resource: summary.arn,
                message: format!(
                    "web ACL {} has the name of maint's window but is not one of maint's; \
                     rename or delete it, maint will not touch it",
                    window.name()
                ),
            }),
        }
    }

    /// Creates the window's web ACL (and IP sets) with `record`, or adopts
    /// the leftover of a crashed run; returns its ARN.
    pub(super) async fn ensure_web_acl(
        &self,
        window: &Window,
        spec: &AclSpec<'_>,
    ) -> Result<String> {
        let name = window.name();
        for fresh in [false, true] {
            let leftover = self.inventory(fresh).await?.web_acls.get(name).cloned();
            let leftover = match leftover {
                Some(existing) if self.is_ours(window, name, &existing.arn).await? => {
                    Some(existing)
                }
                _ => None,
            };
            if let Some(existing) = leftover {
                tracing::info!(window = name, "reusing web ACL left by an earlier run");
                self.with_lock_retries(&existing.arn, || async {
                    let locked = self.get_web_acl(name, &existing.id).await?;
                    // Holding another window's part (its own left a shared
                    // load balancer): associating it elsewhere would take
                    // that window's rule along.
                    let parts = acl::read_parts(&locked.acl)?;
                    if let Some(other) = parts.iter().find(|p| p.record.window != name) {
                        return Err(Error::Conflict {
                            resource: existing.arn.clone(),
                            message: format!(
                                "web ACL {name} holds window {}'s part (they shared a load \
                                 balancer): window {name} can join that load balancer's web \
                                 ACL again, or have a web ACL of its own once {} exits; \
                                 no load balancer was associated",
                                other.record.window, other.record.window
                            ),
                        });
                    }
                    self.update_web_acl(window, &locked, spec).await
                })
                .await?;
                return Ok(existing.arn);
            }
            if fresh {
                break;
            }
            match self.create_web_acl(window, spec).await {
                Err(e) if is_code(&e, &code::DUPLICATE) => {
                    tracing::info!(window = name, "web ACL exists already; looking it up");
                }
                other => return other,
            }
        }
        Err(Error::unexpected(format!(
            "WAF says web ACL {name} exists, but it is not listed in region {}",
            self.region()
        )))
    }

    pub(super) async fn create_web_acl(
        &self,
        window: &Window,
        spec: &AclSpec<'_>,
    ) -> Result<String> {
        let name = window.name();
        let rules = acl::rules(spec, name)?;
        let bodies = acl::bodies(spec)?;
        let visibility = acl::visibility(name)?;
        let tags = acl::tags(window, None)?;
        tracing::info!(window = name, "creating web ACL");
        let out = self
            .client
            .create_web_acl(
                name,
                &WafStore::description(window),
                &acl::default_action(),
                &rules,
                &bodies,
                &visibility,
                &tags,
            )
            .await?;
        let created = out.summary().map(|s| (s.id(), s.arn(), s.lock_token()));
        self.remember_created(Listing::WebAcls, "CreateWebACL", name, created)
            .await
    }

    /// Creates a new window (IP sets, then the web ACL recording `members`),
    /// adopting whatever a crashed run left; returns the web ACL's ARN. The
    /// members are recorded before any is associated, so an interrupted run
    /// is finished or undone by running a command again.
    pub(super) async fn create_window(
        &self,
        window: &Window,
        members: &[&ResourceArn],
        spec: &MaintenanceSpec,
        armed: bool,
    ) -> Result<String> {
        let mut record = new_record(window, members, spec);
        if armed {
            record.active = false;
            record.armed_since = Some(record.since);
        }
        let inventory = self.inventory(false).await?;
        for family in [Family::Ipv4, Family::Ipv6] {
            let entries = family_entries(&spec.allowlist, family);
            let leftover = inventory
                .ip_sets
                .contains_key(&acl::ip_set_name(window.name(), family));
            if !entries.is_empty() || leftover {
                *record.set_mut(family) =
                    Some(self.ensure_ip_set(window, family, &entries, None).await?);
            }
        }
        let acl_spec = AclSpec {
            record: &record,
            response: &spec.response,
        };
        self.ensure_web_acl(window, &acl_spec).await
    }

    /// Brings a window in line: its IP sets to `entries`, then (only when it
    /// must change) its web ACL, re-read under its lock token, with `edit`
    /// applied to its record and response and the allowlist `enabled`. A
    /// lock conflict is returned to the caller, which re-reads and
    /// re-applies its change.
    pub(super) async fn update_window(
        &self,
        window: &Window,
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
                    let host = acl::read_for(acl, window.name())?
                        .filter(ReadAcl::injected)
                        .map(|_| acl.arn().to_string());
                    let arn = self
                        .ensure_ip_set(window, family, &wanted, host.as_deref())
                        .await?;
                    new_sets.push((family, arn))
                }
                None => {}
            }
        }
        // Only read the web ACL under its lock token when it has to change:
        // an edit of entries alone is done once the IP sets are written.
        if let Some(observed) = acl::read_for(acl, window.name())? {
            let mut record = observed.record.clone();
            let mut response = observed.response.clone();
            edit(&mut record, &mut response);
            record.allowlist_enabled = enabled;
            if new_sets.is_empty()
                && record == observed.record
                && response == observed.response
                && observed.damage.is_none()
            {
                return Ok(());
            }
        }
        let locked = self.locked(acl).await?;
        let read = acl::read_for(&locked.acl, window.name())?
            .filter(|r| r.record.window == window.name())
            .ok_or_else(|| Error::Conflict {
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
        if record == read.record && response == read.response && read.damage.is_none() {
            return Ok(());
        }
        let spec = AclSpec {
            record: &record,
            response: &response,
        };
        self.update_web_acl(window, &locked, &spec).await
    }

    /// A repeated `enter` (or `arm`) written into a window: its record and
    /// response brought to `wanted` (as [`reentry_spec`] says), `joining`
    /// added to its members, switched and marked armed as `switching`
    /// says; its allowlist to `wanted`'s (see
    /// [`WafStore::update_window`]).
    ///
    /// [`reentry_spec`]: crate::plan::reentry_spec
    pub(super) async fn reenter_window(
        &self,
        window: &Window,
        acl: &WebAcl,
        sets: &[LoadedSet],
        wanted: &MaintenanceSpec,
        joining: &[String],
        switching: Switching,
    ) -> Result<()> {
        let Switching { switch, arm } = switching;
        let now = Utc::now();
        let reason = wanted.reason.as_ref().map(|r| r.as_str().to_string());
        let edit = |record: &mut StateRecord, response: &mut MaintenanceResponse| {
            record.reason = reason.clone();
            record.until = wanted.until;
            for lb in joining {
                if !record.members.contains(lb) {
                    record.members.push(lb.clone());
                }
            }
            if switch == Some(true) && !record.active {
                record.since = now;
            }
            if let Some(on) = switch {
                record.active = on;
            }
            if arm {
                record.armed_since.get_or_insert(now);
            }
            record.set_access(wanted);
            *response = wanted.response.clone();
        };
        let (entries, enabled) = (&wanted.allowlist, wanted.allowlist_enabled);
        self.update_window(window, acl, sets, entries, enabled, &edit)
            .await
    }

    /// Switches an armed window between maintenance (`on`) and
    /// pass-through: one update under its lock token.
    pub(super) async fn switch(&self, window: &Window, acl: &WebAcl, on: bool) -> Result<()> {
        self.with_lock_retries(acl.arn(), || async {
            let (locked, read) = self.reread(acl, window).await?;
            let Some(read) = read else {
                return Err(Error::Conflict {
                    resource: acl.arn().to_string(),
                    message: "the window was deleted while maint was switching it".into(),
                });
            };
            self.edit_record(window, &locked, &read, |record| record.active = on)
                .await
        })
        .await
    }

    /// Records that a window in maintenance is armed: `exit` then keeps it
    /// associated in pass-through form.
    pub(super) async fn mark_armed(&self, window: &Window, acl: &WebAcl) -> Result<()> {
        self.with_lock_retries(acl.arn(), || async {
            let (locked, read) = self.reread(acl, window).await?;
            let Some(read) = read else {
                return Ok(());
            };
            self.edit_record(window, &locked, &read, |record| {
                record.armed_since.get_or_insert_with(Utc::now);
            })
            .await
        })
        .await
    }

    /// Writes the window's record as `edit` changes it (maint's response as
    /// read) under the lock token `locked` was read with; nothing when
    /// `edit` changes nothing. A lock conflict is returned to the caller,
    /// which re-reads and re-applies its change.
    pub(super) async fn edit_record(
        &self,
        window: &Window,
        locked: &LockedAcl,
        read: &ReadAcl,
        edit: impl FnOnce(&mut StateRecord),
    ) -> Result<()> {
        let mut record = read.record.clone();
        edit(&mut record);
        if record == read.record {
            return Ok(());
        }
        let spec = AclSpec {
            record: &record,
            response: &read.response,
        };
        self.update_web_acl(window, locked, &spec).await
    }
}
