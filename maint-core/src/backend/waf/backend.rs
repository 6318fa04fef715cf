//! The [`MaintenanceBackend`] implementation: windows on AWS WAF.
//!
//! Entering creates the window's web ACL once (recording every member
//! before any is associated), then associates the members one after the
//! other at AWS's pace, each re-read right before. Exiting disassociates
//! the members leaving, then either records that they left (one write) or,
//! when no member is left, deletes the window. Allowlist edits and re-enters
//! write the window once. Which members a window has is read with one
//! `ListResourcesForWebACL` where AWS allows it.

use super::*;
use crate::maintenance::ExistingWebAcl;

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

/// The refusal of a member that is in another window of maint's.
pub(super) fn elsewhere(lb: &LoadBalancerArn, other: &str, window: &Window) -> Error {
    Error::Conflict {
        resource: lb.to_string(),
        message: format!(
            "it is in maintenance in window {other}, not {}; act on it through that window",
            window.name()
        ),
    }
}

/// What a load balancer is to a window.
pub(super) enum Seen {
    /// Associated with the window's web ACL.
    Member,
    /// No web ACL.
    Normal,
    /// In another window of maint's (its web ACL and record).
    Elsewhere(Box<WebAcl>, Box<ReadAcl>),
    /// Under a web ACL maint did not create.
    Foreign { arn: String, name: String },
}

/// Refuses to merge two unrelated services (see [`Window::check_joins`]).
fn check_identity(window: &Window, record: &StateRecord, lbs: &[LoadBalancerArn]) -> Result<()> {
    window.check_joins(
        &record.window,
        record.service.as_deref(),
        record.members.iter().map(String::as_str),
        lbs,
    )
}

/// A window's web ACL as read, with its record.
type ReadWindow = (Box<WebAcl>, Box<ReadAcl>);

/// A lock-retried change of a window: its first attempt uses the window
/// as just read (`next`); later ones read `acl` again.
pub(super) struct Attempt {
    next: Option<ReadWindow>,
    acl: WebAcl,
}

impl Attempt {
    fn first(acl: Box<WebAcl>, read: Box<ReadAcl>) -> std::sync::Mutex<Self> {
        std::sync::Mutex::new(Self {
            acl: (*acl).clone(),
            next: Some((acl, read)),
        })
    }
}

/// A window's allowlist and IP sets, as read.
type Sets = (Allowlist, Vec<LoadedSet>);

/// What [`WafBackend::locate`] finds: the window (if it exists), where each
/// load balancer stands with it, and the window's allowlist when it was
/// read along the way.
pub(super) type Located = (Option<ReadWindow>, Vec<Result<Seen>>, Option<Sets>);

impl WafBackend {
    /// Says what a window is waiting on, for progress lines and `-v`
    /// (tracing target `maint::progress`): member `i` of `n`, and how long
    /// AWS's quota for `what` makes the rest take.
    fn progress(&self, doing: &str, what: &str, window: &Window, i: usize, n: usize) {
        let quota = self.settings.rates.map(|r| margin(r.associate));
        let message = match quota {
            Some(period) if n > 1 => format!(
                "{doing} {}/{n} in {}: AWS allows one {what} every {:.0} s in {}, about {:.0} s left",
                i + 1,
                window.name(),
                period.as_secs_f64(),
                self.region,
                period.as_secs_f64() * (n - i - 1) as f64
            ),
            _ => format!("{doing} {}/{n} in {}", i + 1, window.name()),
        };
        tracing::info!(target: "maint::progress", "{message}");
    }

    /// The window for one attempt of a lock-retried change: on the first,
    /// the one just read (`first`); after a lock conflict, read again, so
    /// the change applies to what is there now.
    async fn window_for_attempt(
        &self,
        window: &Window,
        first: &std::sync::Mutex<Attempt>,
    ) -> Result<ReadWindow> {
        let (just_read, acl) = {
            let mut attempt = first
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            (attempt.next.take(), attempt.acl.clone())
        };
        if let Some(known) = just_read {
            return Ok(known);
        }
        // The same web ACL again (a window's own, or the service's web ACL
        // it is injected into).
        match self.reread(&acl).await {
            Ok((locked, Some(read))) if read.record.window == window.name() => {
                Ok((Box::new(locked.acl), Box::new(read)))
            }
            Err(e) if !is_code(&e, &[code::NONEXISTENT]) => Err(e),
            _ => Err(Error::Conflict {
                resource: window.name().to_string(),
                message: "the window was deleted while maint was changing it".into(),
            }),
        }
    }

    /// Where each of `lbs` stands with `window`, and the window's web ACL
    /// (`None`: it does not exist). One load balancer is read
    /// (`GetWebACLForResource`); for more, the window is read once and
    /// only those not associated with it are read one by one (AWS allows
    /// one `GetWebACLForResource` a second: a second member read that way
    /// would wait a second).
    ///
    /// `by_name`: find the window by name (a listing, five calls a second)
    /// rather than through its first member (`GetWebACLForResource`, one a
    /// second): for a caller that reads each member again right after.
    pub(super) async fn locate(
        &self,
        window: &Window,
        lbs: &[LoadBalancerArn],
        by_name: bool,
        known: Option<ReadWindow>,
    ) -> Result<Located> {
        let mut found: Option<(Box<WebAcl>, Box<ReadAcl>)> = known;
        let mut members: Vec<String> = Vec::new();
        let mut first: Option<Result<Seen>> = None;
        let mut sets = None;
        if lbs.len() > 1 {
            // The first member's association gives the window (one call,
            // where a listing would take three); then one call lists every
            // member, and only the others are read one by one.
            if !by_name {
                first = Some(self.seen(window, &lbs[0], &mut found).await);
            }
            if found.is_none() {
                if let Some((locked, read)) = self.find_window(window, false).await? {
                    found = Some((Box::new(locked.acl), Box::new(read)));
                }
            }
            if by_name && found.is_none() {
                // No web ACL of the window's name: it may live in the
                // service's own web ACL, found through its first member.
                first = Some(self.seen(window, &lbs[0], &mut found).await);
            }
            if let Some((acl, read)) = &found {
                if by_name {
                    members = self.members_of(acl.arn(), &read.record.members).await?;
                } else {
                    // The allowlist, read at the same time: most callers
                    // need it next.
                    let (listed, loaded) = futures::future::try_join(
                        self.members_of(acl.arn(), &read.record.members),
                        self.load_sets(&read.record),
                    )
                    .await?;
                    members = listed;
                    sets = Some(loaded);
                }
            }
        }
        let mut seen = Vec::with_capacity(lbs.len());
        for (i, lb) in lbs.iter().enumerate() {
            if i == 0 {
                if let Some(first) = first.take() {
                    seen.push(first);
                    continue;
                }
            }
            if members.iter().any(|m| m == lb.as_str()) {
                seen.push(Ok(Seen::Member));
                continue;
            }
            seen.push(self.seen(window, lb, &mut found).await);
        }
        Ok((found, seen, sets))
    }

    /// Reads where `lb` stands with `window`; the window's web ACL, when
    /// `lb` is in it, goes into `found` (if not there yet).
    async fn seen(
        &self,
        window: &Window,
        lb: &LoadBalancerArn,
        found: &mut Option<ReadWindow>,
    ) -> Result<Seen> {
        match self.observe(lb).await? {
            Observed::Ours { acl, read } if read.record.window == window.name() => {
                found.get_or_insert((acl, read));
                Ok(Seen::Member)
            }
            Observed::Ours { acl, read } => Ok(Seen::Elsewhere(acl, read)),
            Observed::Normal => Ok(Seen::Normal),
            Observed::Foreign { arn, name } => Ok(Seen::Foreign { arn, name }),
        }
    }

    /// Removes `leaving` from the window's record (one write under its lock
    /// token), or deletes the window when no load balancer is associated
    /// with it any more; returns the deletions, as changes. `known`: the
    /// window's web ACL as just read, if it was.
    async fn settle(
        &self,
        window: &Window,
        known: Option<(Box<WebAcl>, Box<ReadAcl>)>,
        leaving: &[String],
        mode: Mode,
    ) -> Result<Vec<Change>> {
        let known = match known {
            Some(known) => Some(known),
            None => self
                .find_window(window, false)
                .await?
                .map(|(locked, read)| (Box::new(locked.acl), Box::new(read))),
        };
        let Some((acl, read)) = known else {
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
                let mut record = read.record.clone();
                record.members.retain(|m| !leaving.contains(m));
                if record == read.record {
                    return Ok(());
                }
                let spec = AclSpec {
                    record: &record,
                    response: &read.response,
                };
                self.update_web_acl(window, &locked, &spec).await
            })
            .await?;
        }
        Ok(Vec::new())
    }

    /// Deletes a window's web ACL and the IP sets its record names (proven
    /// maint's by the record), with the lock tokens of the listing where it
    /// has them; returns the deletions, as changes.
    async fn delete_window(
        &self,
        window: &Window,
        acl: &WebAcl,
        read: &ReadAcl,
        mode: Mode,
    ) -> Result<Vec<Change>> {
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

    async fn enter_window(
        &self,
        window: &Window,
        lbs: &[LoadBalancerArn],
        spec: &MaintenanceSpec,
        mode: Mode,
    ) -> MemberResults<Outcome> {
        // The window: updated once if it is in place, else created with
        // every member recorded; or maint's rule in the service's own web
        // ACL, when it is injected there or about to be.
        // The first member is read up front (one call at one a second) only
        // with consent (at the same time as the window is looked up), or
        // when the window has IP sets but no web ACL of its own (injected,
        // or left by a crashed run); otherwise a foreign web ACL is refused
        // when its member's turn to associate comes.
        let consent = spec.existing_web_acl == ExistingWebAcl::Inject;
        let (existing, host) = if consent {
            futures::future::try_join(
                self.find_window(window, false),
                self.injection_host(window, &lbs[0], Some(spec)),
            )
            .await?
        } else {
            (self.find_window(window, false).await?, None)
        };
        if existing.is_none() {
            let host = match host {
                None if !consent && self.has_ip_sets(window).await? => {
                    self.injection_host(window, &lbs[0], Some(spec)).await?
                }
                host => host,
            };
            if let Some(host) = host {
                return self.enter_injected(window, lbs, spec, mode, &host).await;
            }
        }
        if mode == Mode::DryRun {
            return self.plan_enter(window, lbs, spec, false).await;
        }
        self.bring_in(window, lbs, spec, existing, false).await
    }

    async fn arm_window(
        &self,
        window: &Window,
        lbs: &[LoadBalancerArn],
        spec: &MaintenanceSpec,
        mode: Mode,
    ) -> MemberResults<Outcome> {
        let existing = self.find_window(window, false).await?;
        if existing.is_none() {
            // A window injected into the service's own web ACL is not armed.
            if let Some(host) = self.injection_host(window, &lbs[0], None).await? {
                return Ok(lbs
                    .iter()
                    .map(|lb| Err(foreign(lb, host.arn.clone(), host.name.clone())))
                    .collect());
            }
        }
        if mode == Mode::DryRun {
            return self.plan_enter(window, lbs, spec, true).await;
        }
        if let Some((locked, read)) = &existing {
            if read.record.active {
                check_identity(window, &read.record, lbs)?;
                let arn = locked.acl.arn().to_string();
                // In maintenance: marked armed (so `exit` keeps it
                // associated), nothing else changes, and no load
                // balancer joins (that would put it into maintenance).
                let joining: Vec<&LoadBalancerArn> = lbs
                    .iter()
                    .filter(|lb| !read.record.members.iter().any(|m| m == lb.as_str()))
                    .collect();
                if !joining.is_empty() {
                    return Err(Error::Conflict {
                        resource: arn,
                        message: format!(
                            "window {} is in maintenance: arming would put {} into \
                             maintenance too; `maint enter` them, or arm after `maint exit`",
                            window.name(),
                            joining
                                .iter()
                                .map(|lb| lb.to_string())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    });
                }
                let changes = if read.record.armed_since.is_none() {
                    self.mark_armed(window, &locked.acl).await?;
                    vec![Change::Armed]
                } else {
                    Vec::new()
                };
                return Ok(lbs
                    .iter()
                    .map(|lb| Ok(outcome(lb, mode, changes.clone())))
                    .collect());
            }
        }
        self.bring_in(window, lbs, spec, existing, true).await
    }

    async fn disarm_window(
        &self,
        window: &Window,
        lbs: &[LoadBalancerArn],
        mode: Mode,
    ) -> MemberResults<Outcome> {
        match self.find_window(window, false).await? {
            Some((_, read)) if read.record.active => {
                let message = if read.record.armed_since.is_some() {
                    "it is in maintenance; `maint exit` first (it stays armed), then disarm"
                } else {
                    "it is in maintenance and was never armed; `maint exit` ends it"
                };
                Ok(lbs
                    .iter()
                    .map(|lb| {
                        Err(Error::Conflict {
                            resource: lb.to_string(),
                            message: message.into(),
                        })
                    })
                    .collect())
            }
            Some(_) => self.detach(window, lbs, mode, Change::Disarmed, None).await,
            None => {
                // Nothing armed: normal members are unchanged; an injected
                // window has nothing to disarm.
                let mut results = Vec::with_capacity(lbs.len());
                for lb in lbs {
                    results.push(match self.observe(lb).await {
                        Ok(Observed::Normal) => Ok(outcome(lb, mode, Vec::new())),
                        Ok(Observed::Foreign { arn, name }) => Err(foreign(lb, arn, name)),
                        Ok(Observed::Ours { read, .. }) if read.record.window == window.name() => {
                            Err(Error::Conflict {
                                resource: lb.to_string(),
                                message: "its window lives in the service's own web ACL: nothing \
                                          is armed; `maint exit` ends the maintenance"
                                    .into(),
                            })
                        }
                        Ok(Observed::Ours { read, .. }) => {
                            Err(elsewhere(lb, &read.record.window, window))
                        }
                        Err(e) => Err(e),
                    });
                }
                Ok(results)
            }
        }
    }

    async fn exit_window(
        &self,
        window: &Window,
        lbs: &[LoadBalancerArn],
        mode: Mode,
    ) -> MemberResults<Outcome> {
        // For a fleet, the window by name first: an armed window that every
        // member leaves is switched off with no look at the members, and a
        // window injected into the service's own web ACL is found through
        // its first member.
        let mut known = None;
        if lbs.len() > 1 {
            match self.find_window(window, false).await? {
                None => {
                    if let Ok(Observed::Ours { acl, read }) = self.observe(&lbs[0]).await {
                        if read.injected() && read.record.window == window.name() {
                            let host = Host::from_arn(acl.arn())?;
                            return self.exit_injected(window, lbs, mode, &host, &read).await;
                        }
                    }
                }
                Some((locked, read))
                    if read.record.armed_since.is_some()
                        && read.record.members.len() == lbs.len()
                        && lbs
                            .iter()
                            .all(|lb| read.record.members.iter().any(|m| m == lb.as_str())) =>
                {
                    let changes = match (read.record.active, mode) {
                        (true, Mode::Apply) => {
                            self.switch(window, &locked.acl, false).await?;
                            vec![Change::SwitchedOff]
                        }
                        (true, Mode::DryRun) => vec![Change::SwitchedOff],
                        (false, _) => Vec::new(),
                    };
                    return Ok(lbs
                        .iter()
                        .map(|lb| Ok(outcome(lb, mode, changes.clone())))
                        .collect());
                }
                Some((locked, read)) => known = Some((Box::new(locked.acl), Box::new(read))),
            }
        }
        // Each leaving member is read again right before its disassociation.
        let located = self.locate(window, lbs, true, known).await?;
        match &located {
            (Some((acl, read)), _, _) if read.injected() => {
                let host = Host::from_arn(acl.arn())?;
                return self.exit_injected(window, lbs, mode, &host, read).await;
            }
            (Some((acl, read)), seen, _)
                if read.record.armed_since.is_some()
                    && read
                        .record
                        .members
                        .iter()
                        .all(|m| lbs.iter().any(|lb| lb.as_str() == m)) =>
            {
                // Armed, and every member leaves: back to pass-through in
                // one update, still associated.
                let changes = match (read.record.active, mode) {
                    (true, Mode::Apply) => {
                        self.switch(window, acl, false).await?;
                        vec![Change::SwitchedOff]
                    }
                    (true, Mode::DryRun) => vec![Change::SwitchedOff],
                    (false, _) => Vec::new(),
                };
                return Ok(lbs
                    .iter()
                    .zip(seen)
                    .map(|(lb, seen)| match seen {
                        Ok(Seen::Member) => Ok(outcome(lb, mode, changes.clone())),
                        Ok(Seen::Normal) => Ok(outcome(lb, mode, Vec::new())),
                        Ok(Seen::Foreign { arn, name }) => {
                            Err(foreign(lb, arn.clone(), name.clone()))
                        }
                        Ok(Seen::Elsewhere(_, read)) => {
                            Err(elsewhere(lb, &read.record.window, window))
                        }
                        Err(e) => Err(e.clone()),
                    })
                    .collect());
            }
            (None, seen, _) => {
                // An injected run that stopped half way left IP sets.
                if let Some(Ok(Seen::Foreign { arn, .. })) = seen.first() {
                    if let Some(changes) = self.injection_leftovers(window, arn, mode).await? {
                        return Ok(lbs
                            .iter()
                            .map(|lb| Ok(outcome(lb, mode, changes.clone())))
                            .collect());
                    }
                }
            }
            _ => {}
        }
        self.detach(window, lbs, mode, Change::Disassociated, Some(located))
            .await
    }

    async fn update_window_allowlist(
        &self,
        window: &Window,
        lbs: &[LoadBalancerArn],
        change: &AllowlistChange,
        mode: Mode,
    ) -> MemberResults<Outcome> {
        let (found, seen, sets) = self.locate(window, lbs, false, None).await?;
        let prefetched = std::sync::Mutex::new(sets);
        let members: Vec<Result<()>> = lbs
            .iter()
            .zip(seen)
            .map(|(lb, seen)| match seen? {
                Seen::Member => Ok(()),
                Seen::Normal => Err(Error::NotInMaintenance {
                    load_balancer: lb.to_string(),
                }),
                Seen::Elsewhere(_, read) => Err(elsewhere(lb, &read.record.window, window)),
                Seen::Foreign { arn, name } => Err(foreign(lb, arn, name)),
            })
            .collect();
        if let Some((acl, read)) = &found {
            if !read.rule_present {
                return Err(Error::Conflict {
                    resource: acl.arn().to_string(),
                    message: format!(
                        "maint's rule was removed from web ACL {} (an IaC apply?): the service \
                         is not in maintenance; `maint enter` puts the rule back",
                        acl.name()
                    ),
                });
            }
        }
        let Some((acl, read)) = found.filter(|_| members.iter().any(Result::is_ok)) else {
            return Ok(lbs
                .iter()
                .zip(members)
                .map(|(lb, m)| {
                    m.and_then(|()| {
                        Err(Error::NotInMaintenance {
                            load_balancer: lb.to_string(),
                        })
                    })
                })
                .collect());
        };
        // The first attempt uses the window as just read; after a lock
        // conflict it is read again: the change applies to what is there.
        let arn = acl.arn().to_string();
        let first = Attempt::first(acl, read);
        let changes = self
            .with_lock_retries(&arn, || async {
                let (acl, read) = self.window_for_attempt(window, &first).await?;
                let just_read = prefetched
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .take();
                let (entries, sets) = match just_read {
                    Some(loaded) => loaded,
                    None => self.load_sets(&read.record).await?,
                };
                let before = AllowlistState {
                    enabled: read.record.allowlist_enabled,
                    entries,
                };
                let after = change.apply(&before)?;
                let mut changes = allowlist_changes(&before, &after);
                let bypass = read.record.bypass_state();
                let bypass_after = bypass.clone().map(|b| BypassState {
                    enabled: change.bypass_enabled(b.enabled),
                    ..b
                });
                changes.extend(bypass_changes(bypass.as_ref(), bypass_after.as_ref()));
                if changes.is_empty() || mode == Mode::DryRun {
                    return Ok(changes);
                }
                let bypass_enabled = bypass_after.is_none_or(|b| b.enabled);
                let edit = |record: &mut StateRecord, _: &mut MaintenanceResponse| {
                    record.bypass_enabled = bypass_enabled;
                };
                self.update_window(window, &acl, &sets, &after.entries, after.enabled, &edit)
                    .await?;
                Ok(changes)
            })
            .await?;
        Ok(lbs
            .iter()
            .zip(members)
            .map(|(lb, m)| m.map(|()| outcome(lb, mode, changes.clone())))
            .collect())
    }

    async fn window_status(
        &self,
        window: &Window,
        lbs: &[LoadBalancerArn],
    ) -> MemberResults<TargetStatus> {
        let (found, seen, sets) = self.locate(window, lbs, false, None).await?;
        let info = match (&found, sets) {
            (Some((acl, read)), Some((entries, _))) => Some(Self::info(acl, read, entries)),
            (Some((acl, read)), None) => {
                Some(Self::info(acl, read, self.load_sets(&read.record).await?.0))
            }
            (None, _) => None,
        };
        let mut statuses = Vec::with_capacity(lbs.len());
        for (lb, seen) in lbs.iter().zip(seen) {
            let state = match seen {
                Err(e) => {
                    statuses.push(Err(e));
                    continue;
                }
                Ok(Seen::Member) => match (&info, &found) {
                    (Some(info), Some((acl, read))) => Self::state(acl, read, info.clone()),
                    _ => State::Normal,
                },
                Ok(Seen::Elsewhere(acl, read)) => {
                    let entries = self.load_sets(&read.record).await?.0;
                    let info = Self::info(&acl, &read, entries);
                    Self::state(&acl, &read, info)
                }
                Ok(Seen::Normal) => State::Normal,
                Ok(Seen::Foreign { arn, name }) => State::Foreign {
                    web_acl_arn: arn,
                    web_acl_name: name,
                },
            };
            // A normal target whose window's resources exist but no load
            // balancer uses: left by an interrupted run.
            let mut leftovers = Vec::new();
            if state == State::Normal {
                let (acl, sets) = self.resources_of(window, false).await?;
                let unused = match &acl {
                    Some((_, summary)) => match &found {
                        Some((_, read)) => self
                            .members_of(&summary.arn, &read.record.members)
                            .await?
                            .is_empty(),
                        None => true,
                    },
                    None => true,
                };
                if unused {
                    leftovers.extend(acl.into_iter().chain(sets).map(|(name, _)| name));
                }
            }
            statuses.push(Ok(TargetStatus {
                load_balancer: lb.clone(),
                state,
                leftovers,
            }));
        }
        Ok(statuses)
    }

    async fn check(
        &self,
        lb: &LoadBalancerArn,
        request: &crate::check::CheckRequest,
    ) -> Result<crate::check::CheckReport> {
        self.check_live(lb, request).await
    }

    async fn windows(&self) -> Result<Vec<WindowSummary>> {
        self.find_windows().await
    }

    async fn cleanup(&self, mode: Mode) -> Result<Vec<Leftover>> {
        let inventory = self.inventory(true).await?;
        let grace = chrono::Duration::from_std(self.settings.cleanup_grace)
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
            let members = match acl::read_acl(&locked.acl)? {
                Some(read) => read.record.members,
                None => load_balancer.into_iter().collect(),
            };
            let used = !self.members_of(&summary.arn, &members).await?.is_empty();
            in_use.insert(window, used);
            if !used {
                leftovers.push((
                    Leftover {
                        kind: "web-acl",
                        name: name.clone(),
                        arn: summary.arn.clone(),
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
                },
                summary.clone(),
            ));
        }
        if mode == Mode::Apply {
            // Web ACLs first: an IP set cannot go while a web ACL references it.
            for (leftover, summary) in &leftovers {
                let kind = match leftover.kind {
                    "web-acl" => Resource::WebAcl,
                    _ => Resource::IpSet(ip_set_family(&leftover.name)),
                };
                self.delete(kind, &leftover.name, summary).await?;
            }
        }
        Ok(leftovers.into_iter().map(|(l, _)| l).collect())
    }
}

impl WafBackend {
    /// Puts `lbs` into `window` (its web ACL as found, if it exists): a
    /// window in place is updated once (as a repeated `enter` does; an
    /// armed one in pass-through form switched on unless `arm`), while its
    /// members are listed; a new one is created (in pass-through form when
    /// `arm`); then the members not yet in it are associated.
    async fn bring_in(
        &self,
        window: &Window,
        lbs: &[LoadBalancerArn],
        spec: &MaintenanceSpec,
        existing: Option<(LockedAcl, ReadAcl)>,
        arm: bool,
    ) -> MemberResults<Outcome> {
        let (acl_arn, already, window_changes) = match existing {
            Some((locked, read)) => {
                check_identity(window, &read.record, lbs)?;
                let arn = locked.acl.arn().to_string();
                // Which members are associated already, read while the
                // window is updated.
                let (changes, already) = futures::future::try_join(
                    self.reenter(window, lbs, spec, locked, read, !arm),
                    self.already_members(&arn, lbs),
                )
                .await?;
                (arn, already, changes)
            }
            None => {
                let members: Vec<&LoadBalancerArn> = lbs.iter().collect();
                let arn = self.create_window(window, &members, spec, arm).await?;
                let created = Change::CreatedWebAcl {
                    name: window.name().to_string(),
                };
                (arn, Vec::new(), vec![created])
            }
        };
        let joined = if arm {
            Change::Armed
        } else {
            Change::Associated
        };
        self.join(window, lbs, &acl_arn, already, window_changes, joined)
            .await
    }

    /// A repeated `enter` (or `arm`) on a window of maint's in place: one
    /// update to `spec` (as [`reentry_spec`] says), members joining the
    /// record; `switch_on`: an armed window in pass-through form goes into
    /// maintenance in the same update.
    async fn reenter(
        &self,
        window: &Window,
        lbs: &[LoadBalancerArn],
        spec: &MaintenanceSpec,
        locked: LockedAcl,
        read: ReadAcl,
        switch_on: bool,
    ) -> Result<Vec<Change>> {
        let arn = locked.acl.arn().to_string();
        let joining: Vec<String> = lbs
            .iter()
            .map(ToString::to_string)
            .filter(|lb| !read.record.members.contains(lb))
            .collect();
        let first = Attempt::first(Box::new(locked.acl), Box::new(read));
        self.with_lock_retries(&arn, || async {
            let (acl, read) = self.window_for_attempt(window, &first).await?;
            let (entries, sets) = self.load_sets(&read.record).await?;
            let current = Self::info(&acl, &read, entries);
            let wanted = reentry_spec(&current, spec)?;
            let mut changes = spec_changes(&current, &wanted);
            let switching = switch_on && !read.record.active;
            if switching {
                changes.insert(0, Change::SwitchedOn);
            }
            let reason = wanted.reason.as_ref().map(|r| r.as_str().to_string());
            let now = Utc::now();
            let edit = |record: &mut StateRecord, response: &mut MaintenanceResponse| {
                record.reason = reason.clone();
                record.until = wanted.until;
                for lb in &joining {
                    if !record.members.contains(lb) {
                        record.members.push(lb.clone());
                    }
                }
                if switching {
                    record.active = true;
                    record.since = now;
                }
                record.set_access(&wanted);
                *response = wanted.response.clone();
            };
            self.update_window(
                window,
                &acl,
                &sets,
                &wanted.allowlist,
                wanted.allowlist_enabled,
                &edit,
            )
            .await?;
            Ok(changes)
        })
        .await
    }

    /// Switches an armed window between maintenance (`on`) and
    /// pass-through: one update under its lock token.
    async fn switch(&self, window: &Window, acl: &WebAcl, on: bool) -> Result<()> {
        self.with_lock_retries(acl.arn(), || async {
            let (locked, read) = self.reread(acl).await?;
            let Some(read) = read else {
                return Err(Error::Conflict {
                    resource: acl.arn().to_string(),
                    message: "the window was deleted while maint was switching it".into(),
                });
            };
            if read.record.active == on {
                return Ok(());
            }
            let mut record = read.record.clone();
            record.active = on;
            let spec = AclSpec {
                record: &record,
                response: &read.response,
            };
            self.update_web_acl(window, &locked, &spec).await
        })
        .await
    }

    /// Records that a window in maintenance is armed: `exit` then keeps it
    /// associated in pass-through form.
    async fn mark_armed(&self, window: &Window, acl: &WebAcl) -> Result<()> {
        self.with_lock_retries(acl.arn(), || async {
            let (locked, read) = self.reread(acl).await?;
            let Some(read) = read else {
                return Ok(());
            };
            let mut record = read.record.clone();
            record.armed_since.get_or_insert_with(Utc::now);
            if record == read.record {
                return Ok(());
            }
            let spec = AclSpec {
                record: &record,
                response: &read.response,
            };
            self.update_web_acl(window, &locked, &spec).await
        })
        .await
    }

    /// Associates the members of a window not yet in it, and reports each
    /// member's changes: the window's, plus `joined` where it associated.
    async fn join(
        &self,
        window: &Window,
        lbs: &[LoadBalancerArn],
        acl_arn: &str,
        already: Vec<String>,
        window_changes: Vec<Change>,
        joined: Change,
    ) -> MemberResults<Outcome> {
        let acl_arn = acl_arn.to_string();
        // The members, one after the other at AWS's pace (one association
        // every 2 s per account and Region), each re-read right before.
        // Members already associated (`already`: a re-enter) need no
        // association; the others are associated one by one.
        let joining = lbs
            .iter()
            .filter(|lb| !already.contains(&lb.to_string()))
            .count();
        let mut results = Vec::with_capacity(lbs.len());
        let mut refused = Vec::new();
        let mut i = 0;
        for lb in lbs {
            if already.contains(&lb.to_string()) {
                results.push(Ok(outcome(lb, Mode::Apply, window_changes.clone())));
                continue;
            }
            self.progress("associating", "association", window, i, joining);
            i += 1;
            results.push(match self.associate(lb, &acl_arn).await {
                Ok(associated) => {
                    let mut changes = window_changes.clone();
                    if associated {
                        changes.push(joined.clone());
                    }
                    Ok(outcome(lb, Mode::Apply, changes))
                }
                Err(e) => {
                    // Refused for good (a web ACL that is not this window's):
                    // it leaves the record. Any other failure (AWS not
                    // ready, access denied) keeps it, so that running the
                    // command again finishes the job.
                    if matches!(e.kind(), ErrorKind::ForeignWebAcl | ErrorKind::Conflict) {
                        refused.push(lb.to_string());
                    }
                    Err(e)
                }
            });
        }
        // Members that could not join leave the record; a window no member
        // could join goes, so nothing leaks.
        if !refused.is_empty() {
            self.settle(window, None, &refused, Mode::Apply).await?;
        }
        Ok(results)
    }

    /// Takes `lbs` out of their windows: each disassociated (reported as
    /// `gone`), each window left keeping its other members, or deleted with
    /// its last.
    async fn detach(
        &self,
        window: &Window,
        lbs: &[LoadBalancerArn],
        mode: Mode,
        gone: Change,
        located: Option<Located>,
    ) -> MemberResults<Outcome> {
        // Each leaving member is read again right before its disassociation.
        let (found, seen, _) = match located {
            Some(located) => located,
            None => self.locate(window, lbs, true, None).await?,
        };
        // The windows the members leave: `window`, or another of maint's
        // (with its web ACL as read, when it was).
        type Leaving = (Window, Option<(Box<WebAcl>, Box<ReadAcl>)>, Vec<String>);
        let mut leaving: Vec<Leaving> = vec![(window.clone(), found, Vec::new())];
        let mut plan: Vec<Result<Option<usize>>> = Vec::with_capacity(lbs.len());
        for (lb, seen) in lbs.iter().zip(seen) {
            plan.push(match seen {
                Ok(Seen::Member) => {
                    leaving[0].2.push(lb.to_string());
                    Ok(Some(0))
                }
                Ok(Seen::Elsewhere(acl, read)) => {
                    let other = read.record.window.clone();
                    let i = match leaving.iter().position(|(w, _, _)| w.name() == other) {
                        Some(i) => i,
                        None => {
                            let w = match &read.record.service {
                                Some(s) => Window::of_service(s),
                                None => Window::of_load_balancer(lb),
                            };
                            if w.name() != other {
                                Err(Error::unexpected(format!(
                                    "web ACL {other} records a window maint cannot name"
                                )))?;
                            }
                            leaving.push((w, Some((acl, read)), Vec::new()));
                            leaving.len() - 1
                        }
                    };
                    leaving[i].2.push(lb.to_string());
                    Ok(Some(i))
                }
                Ok(Seen::Normal) => Ok(None),
                Ok(Seen::Foreign { arn, name }) => Err(foreign(lb, arn, name)),
                Err(e) => Err(e),
            });
        }
        // Disassociate, each re-read right before (DisassociateWebACL
        // removes whatever is associated): a web ACL that appeared since
        // is never removed.
        let mut results: Vec<Result<Vec<Change>>> = Vec::with_capacity(lbs.len());
        let leavers = plan.iter().filter(|p| matches!(p, Ok(Some(_)))).count();
        let mut done = 0;
        for (lb, planned) in lbs.iter().zip(&plan) {
            if mode == Mode::Apply && matches!(planned, Ok(Some(_))) {
                self.progress("disassociating", "disassociation", window, done, leavers);
                done += 1;
            }
            results.push(match planned {
                Err(e) => Err(e.clone()),
                Ok(None) => Ok(Vec::new()),
                Ok(Some(_)) if mode == Mode::DryRun => Ok(vec![gone.clone()]),
                Ok(Some(i)) => self
                    .disassociate(lb, leaving[*i].0.name())
                    .await
                    .map(|()| vec![gone.clone()]),
            });
        }
        // Each window keeps its remaining members, or goes with the last.
        let mut deleted: Vec<Vec<Change>> = Vec::with_capacity(leaving.len());
        for (w, known, members) in leaving {
            deleted.push(self.settle(&w, known, &members, mode).await?);
        }
        Ok(lbs
            .iter()
            .zip(plan)
            .zip(results)
            .map(|((lb, planned), result)| {
                let mut changes = result?;
                // A normal member reports its window's leftovers going.
                let i = planned.ok().flatten().unwrap_or(0);
                changes.extend(deleted[i].iter().cloned());
                Ok(outcome(lb, mode, changes))
            })
            .collect())
    }

    /// Which of `lbs` the web ACL `acl_arn` is associated with now: one
    /// listing for any number (a window of one: its association).
    async fn already_members(&self, acl_arn: &str, lbs: &[LoadBalancerArn]) -> Result<Vec<String>> {
        if let [lb] = lbs {
            return Ok(match self.observe(lb).await {
                Ok(Observed::Ours { acl, .. }) if acl.arn() == acl_arn => vec![lb.to_string()],
                // Anything else is for its association to say.
                _ => Vec::new(),
            });
        }
        let named: Vec<String> = lbs.iter().map(ToString::to_string).collect();
        self.members_of(acl_arn, &named).await
    }

    /// Whether the inventory holds IP sets of `window`.
    async fn has_ip_sets(&self, window: &Window) -> Result<bool> {
        Ok(!self.resources_of(window, false).await?.1.is_empty())
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

    /// What `enter` would change, without writing.
    async fn plan_enter(
        &self,
        window: &Window,
        lbs: &[LoadBalancerArn],
        spec: &MaintenanceSpec,
        arm: bool,
    ) -> MemberResults<Outcome> {
        let existing = self.find_window(window, false).await?;
        let window_changes = match &existing {
            Some((_, read)) if arm && read.record.active => {
                let changes = if read.record.armed_since.is_none() {
                    vec![Change::Armed]
                } else {
                    Vec::new()
                };
                return Ok(lbs
                    .iter()
                    .map(|lb| Ok(outcome(lb, Mode::DryRun, changes.clone())))
                    .collect());
            }
            Some((locked, read)) => {
                check_identity(window, &read.record, lbs)?;
                let (entries, _) = self.load_sets(&read.record).await?;
                let current = Self::info(&locked.acl, read, entries);
                let mut changes = spec_changes(&current, &reentry_spec(&current, spec)?);
                if !arm && !read.record.active {
                    changes.insert(0, Change::SwitchedOn);
                }
                changes
            }
            None => vec![Change::CreatedWebAcl {
                name: window.name().to_string(),
            }],
        };
        let mut results = Vec::with_capacity(lbs.len());
        for lb in lbs {
            results.push(match self.observe(lb).await {
                Ok(Observed::Ours { read, .. }) if read.record.window == window.name() => {
                    Ok(outcome(lb, Mode::DryRun, window_changes.clone()))
                }
                Ok(Observed::Ours { read, .. }) => Err(elsewhere(lb, &read.record.window, window)),
                Ok(Observed::Foreign { arn, name }) => Err(foreign(lb, arn, name)),
                Ok(Observed::Normal) => {
                    let mut changes = window_changes.clone();
                    changes.push(if arm {
                        Change::Armed
                    } else {
                        Change::Associated
                    });
                    Ok(outcome(lb, Mode::DryRun, changes))
                }
                Err(e) => Err(e),
            });
        }
        Ok(results)
    }

    /// Disassociates `lb` from `window`'s web ACL after reading the
    /// association again right before: a web ACL that appeared since
    /// maint's first look is never removed.
    async fn disassociate(&self, lb: &LoadBalancerArn, window: &str) -> Result<()> {
        match self.observe(lb).await? {
            Observed::Ours { read, .. } if read.record.window == window => {}
            Observed::Normal => return Ok(()),
            Observed::Foreign { arn, name } => return Err(foreign(lb, arn, name)),
            Observed::Ours { acl, .. } => {
                return Err(foreign(lb, acl.arn().to_string(), acl.name().to_string()))
            }
        }
        tracing::info!(%lb, window, "disassociating web ACL");
        self.pace("DisassociateWebACL").await;
        let result = self
            .call("", "disassociate the web ACL", || async move {
                self.waf
                    .disassociate_web_acl()
                    .resource_arn(lb.as_str())
                    .send()
                    .await
                    .map_err(|e| self.aws_error("DisassociateWebACL", e))
            })
            .await;
        match result {
            Err(e) if is_code(&e, &[code::NONEXISTENT]) => Ok(()),
            other => other.map(|_| ()),
        }
    }
}
