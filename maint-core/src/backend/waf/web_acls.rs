//! maint's web ACLs: reading associations, creating, updating,
//! associating.

use super::*;

/// The record of a window about to be made, from `spec`.
pub(super) fn new_record(
    window: &Window,
    members: &[&LoadBalancerArn],
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
        member_prefix: None,
    };
    record.set_access(spec);
    record
}

/// An optional text member (a description) to send back as read: absent
/// when it was absent or empty. AWS WAF takes 1 to 256 characters when the
/// member is present and refuses `""`, and moto answers `""` for a web ACL
/// or IP set made without one.
pub(super) fn sent_back(text: Option<&str>) -> Option<String> {
    text.filter(|t| !t.is_empty()).map(str::to_string)
}

/// A web ACL as read with its lock token.
#[derive(Debug, Clone)]
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
                        .map_err(|e| self.aws_error("GetWebACLForResource", e))
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
        Ok(match acl::read_acl(acl)? {
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
                    .map_err(|e| self.aws_error("GetWebACL", e))
            })
            .await?;
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
            revision: read.revision.clone(),
        }
    }

    pub(super) fn description(window: &Window) -> String {
        match window.service() {
            Some(service) => format!("Maintenance window of service {service}, managed by maint"),
            None => format!("Maintenance window {}, managed by maint", window.name()),
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
    /// was read with; everything else goes back exactly as read (an update
    /// resets what it does not send). An optional member that was absent
    /// (or empty) stays absent, never sent empty: AWS refuses an empty
    /// description, and a map of no custom response bodies.
    pub(super) async fn write_web_acl(
        &self,
        locked: &LockedAcl,
        rules: Vec<Rule>,
        bodies: HashMap<String, CustomResponseBody>,
    ) -> Result<()> {
        let acl = &locked.acl;
        let name = acl.name();
        let (rules, bodies) = (&rules, &bodies);
        let out = self
            .until_usable("UpdateWebACL", "update the web ACL", || async move {
                self.waf
                    .update_web_acl()
                    .name(name)
                    .id(acl.id())
                    .scope(Scope::Regional)
                    .set_description(sent_back(acl.description()))
                    .set_default_action(acl.default_action().cloned())
                    .set_rules(Some(rules.clone()))
                    .set_custom_response_bodies((!bodies.is_empty()).then(|| bodies.clone()))
                    .set_visibility_config(acl.visibility_config().cloned())
                    .set_data_protection_config(acl.data_protection_config().cloned())
                    .set_captcha_config(acl.captcha_config().cloned())
                    .set_challenge_config(acl.challenge_config().cloned())
                    .set_token_domains(
                        (!acl.token_domains().is_empty()).then(|| acl.token_domains().to_vec()),
                    )
                    .set_association_config(acl.association_config().cloned())
                    .set_on_source_d_do_s_protection_config(
                        acl.on_source_d_do_s_protection_config().cloned(),
                    )
                    .set_application_config(acl.application_config().cloned())
                    .set_monetization_config(acl.monetization_config().cloned())
                    .lock_token(&locked.lock_token)
                    .send()
                    .await
                    .map_err(|e| self.aws_error("UpdateWebACL", e))
            })
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
    pub(super) async fn reread(&self, acl: &WebAcl) -> Result<(LockedAcl, Option<ReadAcl>)> {
        let locked = self.locked(acl).await?;
        let read = acl::read_acl(&locked.acl)?;
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
        match acl::read_acl(&locked.acl)? {
            Some(read) => Ok(Some((locked, read))),
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

    /// The load balancers the web ACL is associated with now, from
    /// `ListResourcesForWebACL` (one call for any number), or, where that is
    /// not available (an emulator, or a policy without it), from
    /// `GetWebACLForResource` of each recorded member.
    pub(super) async fn members_of(
        &self,
        acl_arn: &str,
        recorded: &[String],
    ) -> Result<Vec<String>> {
        if self
            .list_resources
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            let listed = self
                .call(
                    "ListResourcesForWebACL",
                    "list the load balancers of the web ACL",
                    || async move {
                        self.waf
                            .list_resources_for_web_acl()
                            .web_acl_arn(acl_arn)
                            .resource_type(ResourceType::ApplicationLoadBalancer)
                            .send()
                            .await
                            .map_err(|e| self.aws_error("ListResourcesForWebACL", e))
                    },
                )
                .await;
            match listed {
                Ok(out) => return Ok(out.resource_arns().to_vec()),
                Err(e) if is_code(&e, &[code::NONEXISTENT]) => return Ok(Vec::new()),
                Err(e) => {
                    tracing::info!(
                        code = e.aws_code().unwrap_or_default(),
                        "ListResourcesForWebACL is not available; reading each member instead"
                    );
                    self.list_resources
                        .store(false, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }
        let mut members = Vec::new();
        for member in recorded {
            let Ok(lb) = LoadBalancerArn::parse(member) else {
                continue;
            };
            match self.observe(&lb).await {
                Ok(Observed::Ours { acl, .. }) if acl.arn() == acl_arn => {
                    members.push(member.clone())
                }
                Ok(_) | Err(Error::TargetNotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(members)
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
            self.region
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
        let (rules, bodies, visibility, tags) = (&rules, &bodies, &visibility, &tags);
        let out = self
            .until_usable("CreateWebACL", "create the web ACL", || async move {
                self.waf
                    .create_web_acl()
                    .name(name)
                    .scope(Scope::Regional)
                    .description(Self::description(window))
                    .default_action(acl::default_action())
                    .set_rules(Some(rules.clone()))
                    .set_custom_response_bodies(Some(bodies.clone()))
                    .visibility_config(visibility.clone())
                    .set_tags(Some(tags.clone()))
                    .send()
                    .await
                    .map_err(|e| self.aws_error("CreateWebACL", e))
            })
            .await?;
        let created = out.summary().map(|s| (s.id(), s.arn(), s.lock_token()));
        self.remember_created(Listing::WebAcls, "CreateWebACL", name, created)
            .await
    }

    /// Reads `lb`'s association, then, when `decide` says so, makes the
    /// association call `send` (AWS WAF `action`), as one attempt; every
    /// attempt reads again, the first and each one after throttling or a
    /// code in `retry_on`, since `AssociateWebACL` replaces and
    /// `DisassociateWebACL` removes whatever is associated and AWS has no
    /// conditional form of either. What remains is the time between that
    /// read and AWS applying the call: one round trip.
    ///
    /// `decide` gets what is associated now: `Ok(true)` to call,
    /// `Ok(false)` when there is nothing to do, an error to refuse. `send`
    /// must send its call once ([`sent_once`]): throttling, AWS's internal
    /// errors and the codes in `retry_on` are retried here (the latter two
    /// until `deadline`). `Ok(true)` when the call was made.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn read_then_call<D, S, Fut, T, E>(
        &self,
        lb: &LoadBalancerArn,
        action: &'static str,
        what: &str,
        retry_on: &[&str],
        deadline: Duration,
        decide: D,
        send: S,
    ) -> Result<bool>
    where
        D: Fn(Observed) -> Result<bool> + Sync,
        S: Fn() -> Fut + Sync,
        Fut: Future<Output = std::result::Result<T, SdkError<E, HttpResponse>>> + Send,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let (decide, send) = (&decide, &send);
        // `send` goes out once per attempt (see `sent_once`): what the SDK
        // would retry, maint retries here, after a fresh read.
        let retry_on: Vec<&str> = retry_on.iter().copied().chain(code::TRANSIENT).collect();
        // Paced inside, right before the call itself (the read has its own
        // quota).
        self.retrying("", what, &retry_on, deadline, || async move {
            if !decide(self.observe(lb).await?)? {
                return Ok(false);
            }
            self.pace(action).await;
            send()
                .await
                .map(|_| true)
                .map_err(|e| self.aws_error(action, e))
        })
        .await
    }

    /// Associates maint's web ACL with `lb`, the association read again
    /// right before every attempt ([`WafBackend::read_then_call`]): when a
    /// web ACL maint did not create appeared since maint's first look
    /// (Terraform, a controller, Firewall Manager), nothing is replaced and
    /// the error names it. `Ok(true)` when it associated, `Ok(false)` when
    /// it already was.
    pub(super) async fn associate(&self, lb: &LoadBalancerArn, acl_arn: &str) -> Result<bool> {
        tracing::info!(%lb, acl_arn, "associating web ACL");
        self.read_then_call(
            lb,
            "AssociateWebACL",
            &format!(
                "associating web ACL {acl_arn} with {lb} (the web ACL exists: run the same \
                 command again to finish, or `maint exit` to remove it)"
            ),
            &[code::UNAVAILABLE],
            self.settings.associate_deadline,
            |observed| match observed {
                Observed::Foreign { arn, name } => Err(foreign(lb, arn, name)),
                Observed::Ours { acl, .. } if acl.arn() == acl_arn => Ok(false),
                Observed::Ours { acl, read } if read.injected() => Err(Error::Conflict {
                    resource: lb.to_string(),
                    message: format!(
                        "its window {} lives in its own web ACL {}; to change it, \
                         enter again with consent to inject (--inject, inject=True, \
                         or existing_web_acl = \"inject\")",
                        read.record.window,
                        acl.name()
                    ),
                }),
                Observed::Ours { read, .. } => Err(Error::Conflict {
                    resource: lb.to_string(),
                    message: format!(
                        "it is in maintenance in window {}; act on it through that window",
                        read.record.window
                    ),
                }),
                Observed::Normal => Ok(true),
            },
            || {
                self.waf
                    .associate_web_acl()
                    .web_acl_arn(acl_arn)
                    .resource_arn(lb.as_str())
                    .customize()
                    .config_override(sent_once())
                    .send()
            },
        )
        .await
    }

    /// Creates a new window (IP sets, then the web ACL recording `members`),
    /// adopting whatever a crashed run left; returns the web ACL's ARN. The
    /// members are recorded before any is associated, so an interrupted run
    /// is finished or undone by running a command again.
    pub(super) async fn create_window(
        &self,
        window: &Window,
        members: &[&LoadBalancerArn],
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
                    let host = acl::read_acl(acl)?
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
        if let Some(observed) = acl::read_acl(acl)? {
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
        let read = acl::read_acl(&locked.acl)?.ok_or_else(|| Error::Conflict {
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
}
