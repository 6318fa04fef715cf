//! maint's web ACLs: reading associations, creating, updating,
//! associating.

use super::*;

/// A web ACL as read with its lock token.
pub(super) struct LockedAcl {
    pub(super) acl: WebAcl,
    pub(super) lock_token: String,
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

/// What the load balancer's association says.
pub(super) enum Observed {
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

impl WafBackend {
    pub(super) async fn observe(&self, lb: &LoadBalancerArn) -> Result<Observed> {
        if lb.region() != self.region {
            return Err(wrong_region(lb, &self.region).into());
        }
        let out = self
            .until_usable(
                "GetWebACLForResource",
                "read the web ACL association",
                || async move {
                    self.waf
                        .get_web_acl_for_resource()
                        .resource_arn(lb.as_str())
                        .send()
                        .await
                        .map_err(|e| aws_error("GetWebACLForResource", e))
                },
            )
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

    pub(super) async fn get_web_acl(&self, name: &str, id: &str) -> Result<LockedAcl> {
        let out = self
            .call("GetWebACL", "read the web ACL", || async move {
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

    pub(super) fn info(acl: &WebAcl, read: &ReadAcl, entries: Allowlist) -> MaintenanceInfo {
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

    pub(super) fn description(lb: &LoadBalancerArn) -> String {
        format!(
            "Maintenance mode for load balancer {}, managed by maint",
            lb.name()
        )
    }

    pub(super) async fn update_web_acl(
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
            .until_usable("UpdateWebACL", "update the web ACL", || async move {
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
    pub(super) async fn ensure_web_acl(
        &self,
        lb: &LoadBalancerArn,
        spec: &AclSpec<'_>,
    ) -> Result<String> {
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

    pub(super) async fn create_web_acl(
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
            .until_usable("CreateWebACL", "create the web ACL", || async move {
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

    /// Associates maint's web ACL with `lb`. There is no conditional
    /// associate in AWS WAF (it silently replaces whatever is associated),
    /// so the association is read again right before every attempt: when a
    /// web ACL maint did not create appeared since maint's first look
    /// (Terraform, a controller, Firewall Manager), nothing is replaced and
    /// the error names it. What remains is the time between that read and
    /// AWS applying the associate: one round trip.
    pub(super) async fn associate(&self, lb: &LoadBalancerArn, acl_arn: &str) -> Result<()> {
        tracing::info!(%lb, acl_arn, "associating web ACL");
        self.retrying(
            // Paced below, right before the associate itself.
            "",
            &format!(
                "associating web ACL {acl_arn} with {lb} (the web ACL exists: run the same \
                 command again to finish, or `maint exit` to remove it)"
            ),
            &[code::UNAVAILABLE],
            self.settings.associate_deadline,
            || async move {
                match self.observe(lb).await? {
                    Observed::Foreign { arn, name } if arn != acl_arn => {
                        return Err(foreign(lb, arn, name))
                    }
                    Observed::Ours { acl, .. } if acl.arn() == acl_arn => return Ok(()),
                    _ => {}
                }
                self.pace("AssociateWebACL").await;
                self.waf
                    .associate_web_acl()
                    .web_acl_arn(acl_arn)
                    .resource_arn(lb.as_str())
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| aws_error("AssociateWebACL", e))
            },
        )
        .await
    }

    /// Creates and associates a new window on a normal load balancer,
    /// adopting whatever a crashed run left.
    pub(super) async fn create_window(
        &self,
        lb: &LoadBalancerArn,
        spec: &MaintenanceSpec,
    ) -> Result<()> {
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
        match self.associate(lb, &acl_arn).await {
            // A web ACL maint did not create was associated meanwhile: it
            // stays, and what maint just made goes, so nothing leaks.
            Err(e @ Error::ForeignWebAcl { .. }) => {
                self.delete_unused(lb).await?;
                Err(e)
            }
            other => other,
        }
    }

    /// Brings an existing window in line with `spec` (entries, response,
    /// reason, end, enabled), re-reading the web ACL under its lock token.
    pub(super) async fn update_window(
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
}
