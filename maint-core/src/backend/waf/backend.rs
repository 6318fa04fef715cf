//! The [`MaintenanceBackend`] implementation.

use super::*;

pub(super) fn outcome(lb: &LoadBalancerArn, mode: Mode, changes: Vec<Change>) -> Outcome {
    Outcome {
        load_balancer: lb.clone(),
        mode,
        changes,
    }
}

pub(super) fn foreign(lb: &LoadBalancerArn, arn: String, name: String) -> Error {
    Error::ForeignWebAcl {
        load_balancer: lb.to_string(),
        web_acl_arn: arn,
        web_acl_name: name,
    }
}

pub(super) fn too_contended(lb: &LoadBalancerArn) -> Error {
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
        // Read the association again right before disassociating
        // (DisassociateWebACL removes whatever is associated): a web ACL
        // that appeared since maint's first look is never removed.
        let mut appeared = None;
        if let Some((acl, _)) = &associated {
            match self.observe(lb).await? {
                Observed::Ours { acl: now, .. } if now.arn() == acl.arn() => {
                    tracing::info!(%lb, "disassociating web ACL");
                    self.pace("DisassociateWebACL").await;
                    let result = self
                        .call("", "disassociate the web ACL", || async move {
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
                Observed::Normal => {}
                Observed::Foreign { arn, name } => appeared = Some(foreign(lb, arn, name)),
                Observed::Ours { acl: now, .. } => {
                    appeared = Some(foreign(lb, now.arn().to_string(), now.name().to_string()))
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
        // maint's own resources are gone (no longer associated, so nothing
        // leaks); the web ACL that took their place stays, and is reported.
        if let Some(error) = appeared {
            return Err(error);
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
