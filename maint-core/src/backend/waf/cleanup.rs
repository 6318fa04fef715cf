//! Deleting maint's resources: a window whose last member left (or whose
//! members leave), leftovers of interrupted runs, and `cleanup` of a whole
//! Region; each deletion with its lock token, retried while WAF still sees
//! the resource in use.
use std::collections::HashMap;

use aws_sdk_wafv2::types::{Rule, WebAcl};
use chrono::Utc;

use super::acl::{self, IpSetId, ReadAcl};
use super::errors::{code, is_code};
use super::inventory::{Listing, Ownership, Summary};
use super::ip_sets::ip_set_family;
use super::store::WafStore;
use super::web_acls::{ReadWindow, Resource};
use crate::allowlist::Family;
use crate::backend::contract::Leftover;
use crate::maintenance::{Change, Mode, Window};
use crate::{Error, Result};

impl WafStore {
    /// Deletes `window`'s resources found by name (a fresh listing) that its
    /// tags prove maint's; returns what was deleted, as changes.
    pub(super) async fn delete_unused(&self, window: &Window) -> Result<Vec<Change>> {
        let (acl, sets) = self.resources_of(window, true).await?;
        let mut changes = Vec::new();
        if let Some((name, summary)) = acl {
            if self.is_ours(window, &name, &summary.arn).await? {
                self.delete(Resource::WebAcl, &name, &summary).await?;
                changes.push(Change::DeletedWebAcl { name });
            }
        }
        for (name, summary) in sets {
            if self.is_ours(window, &name, &summary.arn).await? {
                self.delete(Resource::IpSet(ip_set_family(&name)), &name, &summary)
                    .await?;
                changes.push(Change::DeletedIpSet { name });
            }
        }
        Ok(changes)
    }

    /// Which web ACL references each of the IP sets `sets` (ARNs), by the
    /// set's ARN: every web ACL in the region read once, their rules'
    /// statements searched, nested ones included, but the web ACLs in `skip`
    /// (ARNs; maint's own, about to be deleted). Rule groups are not read:
    /// AWS refuses to delete a set one references, which
    /// [`WafStore::delete_if_unused`] reports.
    pub(super) async fn referencing_acls(
        &self,
        sets: &[&str],
        skip: &[&str],
    ) -> Result<HashMap<String, String>> {
        let mut acls: Vec<(String, Summary)> =
            self.list(Listing::WebAcls).await?.into_iter().collect();
        acls.sort_by(|a, b| a.0.cmp(&b.0));
        let mut found = HashMap::new();
        for (name, summary) in acls {
            if skip.contains(&summary.arn.as_str()) {
                continue;
            }
            let locked = match self.get_web_acl(&name, &summary.id).await {
                Err(e) if is_code(&e, &[code::NONEXISTENT]) => continue,
                other => other?,
            };
            for statement in locked.acl.rules().iter().filter_map(Rule::statement) {
                acl::each_statement(statement, &mut |s| {
                    if let Some(set) = s.ip_set_reference_statement() {
                        if sets.contains(&set.arn()) {
                            found
                                .entry(set.arn().to_string())
                                .or_insert_with(|| name.clone());
                        }
                    }
                });
            }
        }
        Ok(found)
    }

    /// Deletes one of maint's IP sets that no web ACL was seen to
    /// reference, once: when AWS still refuses because something references
    /// it (`WAFAssociatedItemException`: a rule group, or a web ACL made
    /// since), waiting does not help, so it is left in place and why is
    /// returned.
    pub(super) async fn delete_if_unused(
        &self,
        family: Family,
        name: &str,
        summary: &Summary,
    ) -> Result<Option<String>> {
        match self
            .delete_retrying(Resource::IpSet(family), name, summary, &[code::UNAVAILABLE])
            .await
        {
            Err(e) if is_code(&e, &[code::ASSOCIATED]) => Ok(Some(format!(
                "AWS WAF says it is still in use ({}): referenced by a rule group, or by a \
                 web ACL made since cleanup looked",
                code::ASSOCIATED
            ))),
            other => other.map(|()| None),
        }
    }

    /// Deletes one of maint's resources with its lock token, retrying
    /// while WAF still sees it in use (`WAFAssociatedItemException`, until
    /// the delete deadline) and re-reading the token after a lock conflict.
    /// A resource that is already gone counts as deleted.
    pub(super) async fn delete(&self, kind: Resource, name: &str, summary: &Summary) -> Result<()> {
        self.delete_retrying(kind, name, summary, &[code::ASSOCIATED, code::UNAVAILABLE])
            .await
    }

    /// [`WafStore::delete`], retrying the codes in `retry_on` until the
    /// delete deadline.
    async fn delete_retrying(
        &self,
        kind: Resource,
        name: &str,
        summary: &Summary,
        retry_on: &[&str],
    ) -> Result<()> {
        let what = kind.noun();
        let mut token = summary.lock_token.clone();
        for attempt in 0..self.settings().max_attempts {
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
            let what_name = format!("deleting {what} {name}");
            let result = match kind {
                Resource::WebAcl => {
                    self.client
                        .delete_web_acl(name, &summary.id, &token, &what_name, retry_on)
                        .await
                }
                Resource::IpSet(_) => {
                    self.client
                        .delete_ip_set(name, &summary.id, &token, &what_name, retry_on)
                        .await
                }
            };
            match result {
                Ok(()) => break,
                Err(e) if is_code(&e, &[code::NONEXISTENT]) => break,
                Err(e) if is_code(&e, &[code::LOCK]) => {
                    tokio::time::sleep(self.client.backoff(attempt)).await;
                    token.clear();
                    if attempt + 1 == self.settings().max_attempts {
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

    /// Removes `leaving` from the window's record (one write under its lock
    /// token), or deletes the window when no load balancer is associated
    /// with it any more; returns the deletions, as changes. `known`: the
    /// window's web ACL as just read, if it was.
    pub(super) async fn settle(
        &self,
        window: &Window,
        known: Option<ReadWindow>,
        leaving: &[String],
        mode: Mode,
    ) -> Result<Vec<Change>> {
        let known = match known {
            Some(known) => Some(known),
            None => self
                .find_window(window, false)
                .await?
                .map(|(locked, read)| ReadWindow::new(locked.acl, read)),
        };
        let Some(ReadWindow { acl, read }) = known else {
            // No web ACL: IP sets of an interrupted run may still be there.
            let (_, sets) = self.resources_of(window, false).await?;
            if sets.is_empty() {
                return Ok(Vec::new());
            }
            if mode == Mode::DryRun {
                return Ok(sets
                    .into_iter()
                    .map(|(name, _)| Change::DeletedIpSet { name })
                    .collect());
            }
            return self.delete_unused(window).await;
        };
        // Every member is recorded before it is associated: members not
        // recorded cannot be associated (by maint), so a window whose
        // recorded members all leave needs no look at AWS.
        let others: Vec<&String> = read
            .record
            .members
            .iter()
            .filter(|m| !leaving.contains(m))
            .collect();
        let remaining = if others.is_empty() {
            Vec::new()
        } else {
            self.members_of(acl.arn(), &read.record.members)
                .await?
                .into_iter()
                .filter(|m| !leaving.contains(m))
                .collect()
        };
        if remaining.is_empty() {
            return self.delete_window(window, &acl, &read, mode).await;
        }
        if mode == Mode::Apply && read.record.members.iter().any(|m| leaving.contains(m)) {
            self.with_lock_retries(acl.arn(), || async {
                let Some((locked, read)) = self.find_window(window, true).await? else {
                    return Ok(());
                };
                self.edit_record(window, &locked, &read, |record| {
                    record.members.retain(|m| !leaving.contains(m));
                })
                .await
            })
            .await?;
        }
        Ok(Vec::new())
    }

    /// Deletes a window's web ACL and the IP sets its record names (proven
    /// maint's by the record), with the lock tokens of the listing where it
    /// has them; returns the deletions, as changes.
    pub(super) async fn delete_window(
        &self,
        window: &Window,
        acl: &WebAcl,
        read: &ReadAcl,
        mode: Mode,
    ) -> Result<Vec<Change>> {
        // A record can be copied into a web ACL maint did not make (an IaC
        // import of an ACL during a window): only a web ACL tagged as
        // maint's for this window is deleted, with the IP sets its record
        // names. Anything else is a conflict, and nothing is deleted.
        if !self.is_ours(window, acl.name(), acl.arn()).await? {
            return Ok(Vec::new());
        }
        let inventory = self.inventory(false).await?;
        let token = |name: &str, arn: &str, known: &HashMap<String, Summary>| {
            known
                .get(name)
                .filter(|s| s.arn == arn)
                .map(|s| s.lock_token.clone())
                .unwrap_or_default()
        };
        let mut doomed = vec![(
            Resource::WebAcl,
            acl.name().to_string(),
            Summary {
                id: acl.id().to_string(),
                arn: acl.arn().to_string(),
                lock_token: token(acl.name(), acl.arn(), &inventory.web_acls),
            },
        )];
        for family in [Family::Ipv4, Family::Ipv6] {
            if let Some(arn) = read.record.set(family) {
                let id = IpSetId::from_arn(arn)?;
                let lock_token = token(&id.name, arn, &inventory.ip_sets);
                doomed.push((
                    Resource::IpSet(family),
                    id.name,
                    Summary {
                        id: id.id,
                        arn: id.arn,
                        lock_token,
                    },
                ));
            }
        }
        let changes = doomed
            .iter()
            .map(|(kind, name, _)| match kind {
                Resource::WebAcl => Change::DeletedWebAcl { name: name.clone() },
                Resource::IpSet(_) => Change::DeletedIpSet { name: name.clone() },
            })
            .collect();
        if mode == Mode::Apply {
            tracing::info!(
                window = window.name(),
                "deleting the window: no member left"
            );
            for (kind, name, summary) in &doomed {
                self.delete(*kind, name, summary).await?;
            }
        }
        Ok(changes)
    }

    /// maint's resources in the Region that no window uses (see
    /// [`MaintenanceBackend::cleanup`]), deleted unless a dry run.
    pub(super) async fn cleanup(&self, mode: Mode) -> Result<Vec<Leftover>> {
        let inventory = self.inventory(true).await?;
        let grace = chrono::Duration::from_std(self.settings().cleanup_grace)
            .unwrap_or(chrono::Duration::MAX);
        // Windows whose web ACL is in use, by name.
        let mut in_use: HashMap<String, bool> = HashMap::new();
        let mut leftovers: Vec<(Leftover, Summary)> = Vec::new();
        let mut names: Vec<(&String, &Summary)> = inventory.web_acls.iter().collect();
        names.sort_by_key(|(n, _)| *n);
        for (name, summary) in names {
            let Ownership::Maint {
                window,
                created,
                load_balancer,
                ..
            } = self.ownership(&summary.arn).await?
            else {
                continue;
            };
            if created.is_some_and(|t| Utc::now() - t < grace) {
                tracing::info!(
                    name,
                    "left alone: created recently, an enter may be under way"
                );
                in_use.insert(window, true);
                continue;
            }
            let locked = match self.get_web_acl(name, &summary.id).await {
                Err(e) if is_code(&e, &[code::NONEXISTENT]) => continue,
                other => other?,
            };
            // The members its record names (or, on a web ACL made before
            // windows, its load balancer tag).
            // Every part's, where windows share it.
            let parts = acl::read_parts(&locked.acl)?;
            let members: Vec<String> = if parts.is_empty() {
                load_balancer.into_iter().collect()
            } else {
                parts.into_iter().flat_map(|p| p.record.members).collect()
            };
            let used = !self.members_of(&summary.arn, &members).await?.is_empty();
            in_use.insert(window, used);
            if !used {
                leftovers.push((
                    Leftover {
                        kind: "web-acl",
                        name: name.clone(),
                        arn: summary.arn.clone(),
                        kept: None,
                    },
                    summary.clone(),
                ));
            }
        }
        let mut sets: Vec<(&String, &Summary)> = inventory.ip_sets.iter().collect();
        sets.sort_by_key(|(n, _)| *n);
        for (name, summary) in sets {
            let Ownership::Maint {
                window,
                created,
                host,
                ..
            } = self.ownership(&summary.arn).await?
            else {
                continue;
            };
            if created.is_some_and(|t| Utc::now() - t < grace) || in_use.get(&window) == Some(&true)
            {
                continue;
            }
            // A set of a window injected into a service's own web ACL is in
            // use while that ACL holds the window.
            if let Some(host) = host {
                if self.host_holds(&host, &window).await? {
                    continue;
                }
            }
            leftovers.push((
                Leftover {
                    kind: "ip-set",
                    name: name.clone(),
                    arn: summary.arn.clone(),
                    kept: None,
                },
                summary.clone(),
            ));
        }
        // An IP set another web ACL references is not maint's to delete
        // (AWS refuses, WAFAssociatedItemException): kept, saying why. The
        // web ACLs deleted here are not counted: they go first.
        let deleted: Vec<&str> = leftovers
            .iter()
            .filter(|(l, _)| l.kind == "web-acl")
            .map(|(l, _)| l.arn.as_str())
            .collect();
        let sets: Vec<&str> = leftovers
            .iter()
            .filter(|(l, _)| l.kind == "ip-set")
            .map(|(l, _)| l.arn.as_str())
            .collect();
        let referenced = if sets.is_empty() {
            HashMap::new()
        } else {
            self.referencing_acls(&sets, &deleted).await?
        };
        let windows_deleted: Vec<String> = leftovers
            .iter()
            .filter(|(l, _)| l.kind == "web-acl")
            .map(|(l, _)| l.name.clone())
            .collect();
        for (leftover, _) in &mut leftovers {
            if let Some(acl) = referenced.get(&leftover.arn) {
                leftover.kept = Some(format!("referenced by web ACL {acl}"));
            }
        }
        if mode == Mode::Apply {
            // Web ACLs first: an IP set cannot go while a web ACL references it.
            for (leftover, summary) in &mut leftovers {
                if leftover.kept.is_some() {
                    continue;
                }
                let family = ip_set_family(&leftover.name);
                let with_its_window = windows_deleted
                    .iter()
                    .any(|w| acl::ip_set_name(w, family) == leftover.name);
                match leftover.kind {
                    "web-acl" => {
                        self.delete(Resource::WebAcl, &leftover.name, summary)
                            .await?
                    }
                    // Its window's web ACL was just deleted: WAF may take a
                    // moment to see that nothing references the set.
                    _ if with_its_window => {
                        self.delete(Resource::IpSet(family), &leftover.name, summary)
                            .await?
                    }
                    _ => {
                        leftover.kept = self
                            .delete_if_unused(family, &leftover.name, summary)
                            .await?
                    }
                }
            }
        }
        for (leftover, _) in &leftovers {
            if let Some(why) = &leftover.kept {
                tracing::warn!(name = leftover.name, "kept {}: {why}", leftover.kind);
            }
        }
        Ok(leftovers.into_iter().map(|(l, _)| l).collect())
    }
}
