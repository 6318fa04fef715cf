//! The [`MaintenanceBackend`] implementation: windows on AWS WAF.
//!
//! Every change runs as observe -> plan -> apply: `observe.rs` reads what
//! the window rules need into the planner's `Observation`, the planner
//! (`crate::plan`) answers, and `apply.rs` makes it so at AWS's pace.
//! Entering creates the window's web ACL once (recording every member
//! before any is associated), then associates the members one after the
//! other, each re-read right before. Exiting disassociates the members
//! leaving, then either records that they left (one write) or, when no
//! member is left, deletes the window. Allowlist edits and re-enters write
//! the window once. Which members a window has is read with one
//! `ListResourcesForWebACL` where AWS allows it.
use async_trait::async_trait;

use super::acl::{self, ReadAcl};
use super::associations::Observed;
use super::construct::WafBackend;
use super::decide::{foreign, outcome, Placement};
use super::distributions::distribution_id;
use super::locate::Located;
use super::observe::Need;
use super::pacing::margin;
use super::store::WafStore;
use super::web_acls::{LockedAcl, ReadWindow};
use crate::backend::contract::{Leftover, MaintenanceBackend, MemberResults};
use crate::maintenance::{
    AllowlistChange, ExistingWebAcl, MaintenanceSpec, Mode, Outcome, State, TargetStatus, Window,
    WindowSummary,
};
use crate::plan::{beside, detached, plan, Request};
use crate::platform::LbController;
use crate::target::{LoadBalancerRef, ResourceArn};
use crate::{Error, Result};

/// How many load balancers' associations `shared_windows` reads at once.
const SHARED_READS: usize = 32;

impl WafBackend {
    /// Says what a window is waiting on, for progress lines and `-v`
    /// (tracing target `maint::progress`): member `i` of `n`, and how long
    /// AWS's quota for `what` makes the rest take.
    pub(super) fn progress(&self, doing: &str, what: &str, window: &Window, i: usize, n: usize) {
        let quota = self.store.settings().rates.map(|r| margin(r.associate));
        let message = match quota {
            Some(period) if n > 1 => format!(
                "{doing} {}/{n} in {}: AWS allows one {what} every {:.0} s in {}, about {:.0} s left",
                i + 1,
                window.name(),
                period.as_secs_f64(),
                self.store.region(),
                period.as_secs_f64() * (n - i - 1) as f64
            ),
            _ => format!("{doing} {}/{n} in {}", i + 1, window.name()),
        };
        tracing::info!(target: "maint::progress", "{message}");
    }
}

#[async_trait]
impl MaintenanceBackend for WafBackend {
    async fn resolve(&self, refs: &[LoadBalancerRef]) -> Result<Vec<Result<ResourceArn>>> {
        if self.store.client.is_global() {
            return self.store.resolve_distributions(refs).await;
        }
        self.store.resolve(refs).await
    }

    async fn cloudfront(&self) -> Result<std::sync::Arc<dyn MaintenanceBackend>> {
        if self.store.client.is_global() {
            return Err(Error::unexpected(
                "the CloudFront backend has no CloudFront backend",
            ));
        }
        let Some(config) = &self.config else {
            return Err(Error::invalid(
                "target",
                "a CloudFront distribution, which a backend over clients given by the caller \
                 does not reach (build it with WafBackend::with_settings)",
            ));
        };
        let backend = self
            .cloudfront
            .get_or_init(|| async {
                std::sync::Arc::new(
                    WafBackend::for_cloudfront(config, self.store.settings().clone())
                        .in_account(self.store.client.account()),
                )
            })
            .await;
        Ok(backend.clone())
    }

    async fn controllers(&self, lbs: &[ResourceArn]) -> Result<Vec<Option<LbController>>> {
        self.store.controllers(lbs).await
    }

    async fn enter_window(
        &self,
        window: &Window,
        lbs: &[ResourceArn],
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
        // A scoped window reads it too: its load balancer may carry
        // another scoped window's web ACL, which it then shares.
        let consent = spec.existing_web_acl == ExistingWebAcl::Inject;
        let (existing, host) = if consent || !spec.scope.is_everything() {
            futures::future::try_join(
                self.store.find_window(window, false),
                self.store.injection_host(window, &lbs[0], Some(spec)),
            )
            .await?
        } else {
            (self.store.find_window(window, false).await?, None)
        };
        if existing.is_none() {
            let host = match host {
                None if !consent && self.store.has_ip_sets(window).await? => {
                    self.store
                        .injection_host(window, &lbs[0], Some(spec))
                        .await?
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
        lbs: &[ResourceArn],
        spec: &MaintenanceSpec,
        mode: Mode,
    ) -> MemberResults<Outcome> {
        let existing = self.store.find_window(window, false).await?;
        if existing.is_none() {
            // A window injected into the service's own web ACL is not armed.
            if let Some(host) = self.store.injection_host(window, &lbs[0], None).await? {
                return Ok(lbs
                    .iter()
                    .map(|lb| Err(foreign(lb, &host.arn, &host.name)))
                    .collect());
            }
        }
        if mode == Mode::DryRun {
            return self.plan_enter(window, lbs, spec, true).await;
        }
        self.bring_in(window, lbs, spec, existing, true).await
    }

    async fn disarm_window(
        &self,
        window: &Window,
        lbs: &[ResourceArn],
        mode: Mode,
    ) -> MemberResults<Outcome> {
        let seen = self.observation(window, lbs, Need::LEAVE).await?;
        let plan = plan(window, lbs, &seen.observation, Request::Disarm)?;
        self.apply_leaving(window, lbs, &seen, &plan, mode).await
    }

    async fn exit_window(
        &self,
        window: &Window,
        lbs: &[ResourceArn],
        mode: Mode,
    ) -> MemberResults<Outcome> {
        let seen = self.observation(window, lbs, Need::LEAVE).await?;
        // No part of the window anywhere: an injected run that stopped
        // half way may have left IP sets, tagged with the web ACL of its
        // first member.
        let nowhere = !seen
            .observation
            .acls
            .values()
            .any(|acl| acl.part(window.name()).is_some());
        if nowhere {
            let first = seen.observation.members.first();
            if let Some(Ok(Some(arn))) = first {
                if let Some(changes) = self.store.injection_leftovers(window, arn, mode).await? {
                    return Ok(lbs
                        .iter()
                        .map(|lb| Ok(outcome(lb, mode, changes.clone())))
                        .collect());
                }
            }
        }
        let plan = plan(window, lbs, &seen.observation, Request::Exit)?;
        let mut outcomes = self.apply_leaving(window, lbs, &seen, &plan, mode).await?;
        if nowhere {
            // The IP sets of an interrupted run, with no web ACL: the
            // members under none report them going.
            let gone = self.store.settle(window, None, &[], mode).await?;
            for (o, m) in outcomes.iter_mut().zip(&seen.observation.members) {
                if let (Ok(o), Ok(None)) = (o, m) {
                    o.changes.extend(gone.iter().cloned());
                }
            }
        }
        Ok(outcomes)
    }

    async fn update_window_allowlist(
        &self,
        window: &Window,
        lbs: &[ResourceArn],
        change: &AllowlistChange,
        mode: Mode,
    ) -> MemberResults<Outcome> {
        // Observe, plan, apply; after a lock conflict, all three again, so
        // the edit applies to what is there now (a concurrent edit stays).
        let first = std::sync::Mutex::new(Some(self.observation(window, lbs, Need::ACCESS).await?));
        let outcomes = self
            .store
            .with_lock_retries(window.name(), || async {
                let just_read = first
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .take();
                let seen = match just_read {
                    Some(seen) => seen,
                    None => self.observation(window, lbs, Need::ACCESS).await?,
                };
                let plan = plan(window, lbs, &seen.observation, Request::Allowlist(change))?;
                if mode == Mode::Apply {
                    self.apply_access(window, &seen, &plan).await?;
                }
                Ok(plan.outcomes(lbs, mode))
            })
            .await?;
        Ok(outcomes)
    }

    async fn window_status(
        &self,
        window: &Window,
        lbs: &[ResourceArn],
    ) -> MemberResults<TargetStatus> {
        let Located {
            window: found,
            seen,
            sets,
            ..
        } = self.locate(window, lbs, false, false).await?;
        let info = match (&found, sets) {
            (Some(ReadWindow { acl, read }), Some(sets)) => {
                Some(WafStore::info(acl, read, sets.entries))
            }
            (Some(ReadWindow { acl, read }), None) => Some(WafStore::info(
                acl,
                read,
                self.store.load_sets(&read.record).await?.entries,
            )),
            (None, _) => None,
        };
        let mut statuses = Vec::with_capacity(lbs.len());
        for (lb, seen) in lbs.iter().zip(seen) {
            // The other windows in the web ACL it is under, besides the
            // one its state shows.
            // A load balancer whose web ACL holds only other windows'
            // parts, each scoped to its own hosts or paths, is beside this
            // window, not in another: normal, the others listed.
            let (seen, sharing) = match (seen, &found) {
                (Ok(Placement::Member), Some(ReadWindow { acl, .. })) => {
                    let sharing = acl::sharing(acl, window.name())?;
                    (Ok(Placement::Member), sharing)
                }
                (Ok(Placement::Elsewhere(acl, read)), _) => {
                    let parts = acl::read_parts(&acl)?;
                    let named = parts
                        .iter()
                        .map(|p| (p.record.window.as_str(), &p.record.scope));
                    if beside(window.name(), named) {
                        (Ok(Placement::Normal), acl::sharing(&acl, "")?)
                    } else {
                        let sharing = acl::sharing(&acl, &read.record.window)?;
                        (Ok(Placement::Elsewhere(acl, read)), sharing)
                    }
                }
                (seen, _) => (seen, Vec::new()),
            };
            let state = match seen {
                Err(e) => {
                    statuses.push(Err(e));
                    continue;
                }
                Ok(Placement::Member) => match (&info, &found) {
                    (_, Some(ReadWindow { acl, read })) if read.damage.is_some() => {
                        statuses.extend(read.damage_error(acl).map(Err));
                        continue;
                    }
                    (Some(info), Some(ReadWindow { acl, read })) => {
                        WafStore::state(acl, read, info.clone())
                    }
                    _ => State::Normal,
                },
                Ok(Placement::Elsewhere(acl, read)) if read.damage.is_some() => {
                    statuses.extend(read.damage_error(&acl).map(Err));
                    continue;
                }
                Ok(Placement::Elsewhere(acl, read)) => {
                    let entries = self.store.load_sets(&read.record).await?.entries;
                    let info = WafStore::info(&acl, &read, entries);
                    WafStore::state(&acl, &read, info)
                }
                Ok(Placement::Normal) => State::Normal,
                Ok(Placement::Foreign { arn, name }) => State::Foreign {
                    web_acl_arn: arn,
                    web_acl_name: name,
                },
            };
            // A member the window's record lists that carries no web ACL,
            // or another's: detached by another writer.
            let state = match state {
                State::Normal | State::Foreign { .. } => {
                    let own = match &found {
                        Some(own) => Some(own.clone()),
                        // A hint only: a window that cannot be read here
                        // is reported by its own members' status.
                        None => self
                            .store
                            .find_window(window, false)
                            .await
                            .ok()
                            .flatten()
                            .map(|(locked, read)| ReadWindow::new(locked.acl, read)),
                    };
                    let listed = own.as_ref().map(|ReadWindow { acl, read }| {
                        let member = read.record.members.iter().any(|m| m == lb.as_str());
                        (acl.arn(), acl.name(), member && !read.injected())
                    });
                    detached(state, window, listed)
                }
                state => state,
            };
            // A normal target whose window's resources exist but no load
            // balancer uses: left by an interrupted run.
            let mut leftovers = Vec::new();
            if matches!(state, State::Normal | State::Detached { .. }) {
                let (acl, sets) = self.store.resources_of(window, false).await?;
                let unused = match &acl {
                    Some((name, summary)) => match &found {
                        Some(ReadWindow { read, .. }) => self
                            .store
                            .members_of(&summary.arn, &read.record.members)
                            .await?
                            .is_empty(),
                        // The web ACL named after the window, not found
                        // through a member: in use while it hosts other
                        // windows' parts (the window left a shared load
                        // balancer first); else left by an interrupted run.
                        None => match self.store.get_web_acl(name, &summary.id).await {
                            Ok(locked) => !acl::read_parts(&locked.acl)?
                                .iter()
                                .any(|p| p.record.window != window.name()),
                            Err(_) => true,
                        },
                    },
                    None => true,
                };
                if unused {
                    leftovers.extend(acl.into_iter().chain(sets).map(|(name, _)| name));
                }
            }
            let deployment = match distribution_id(lb.as_str()) {
                Some(id) => Some(self.store.distribution_status(&id).await?),
                None => None,
            };
            statuses.push(Ok(TargetStatus {
                load_balancer: lb.clone(),
                state,
                leftovers,
                sharing,
                deployment,
            }));
        }
        Ok(statuses)
    }

    async fn check(
        &self,
        lb: &ResourceArn,
        request: &crate::check::CheckRequest,
    ) -> Result<crate::check::CheckReport> {
        self.store.check_live(lb, request).await
    }

    async fn windows(&self) -> Result<Vec<WindowSummary>> {
        self.store.find_windows().await
    }

    async fn shared_windows(
        &self,
        lbs: &[ResourceArn],
        consent: bool,
    ) -> Result<Vec<Option<Window>>> {
        use crate::maintenance::Standing;
        // Read side by side, a few at a time (the paced client keeps to
        // AWS's quota of GetWebACLForResource; one after the other, 50 load
        // balancers took 50 round trips before anything changed).
        let mut standings = Vec::with_capacity(lbs.len());
        for some in lbs.chunks(SHARED_READS) {
            let read =
                futures::future::join_all(some.iter().map(|lb| self.store.observe(lb, None)));
            for observed in read.await {
                // A load balancer that cannot be read stays in its window of
                // one: the operation reads it again and reports why.
                standings.push(match observed {
                    Ok(Observed::Ours { read, .. }) => Standing::Window(Window::recorded(
                        &read.record.window,
                        read.record.service.as_deref(),
                    )),
                    Ok(Observed::Foreign { name, .. }) => Standing::Foreign { web_acl: name },
                    _ => Standing::Other,
                });
            }
        }
        Ok(crate::maintenance::shared_windows(lbs, &standings, consent))
    }

    async fn cleanup(&self, mode: Mode) -> Result<Vec<Leftover>> {
        self.store.cleanup(mode).await
    }
}

impl WafBackend {
    /// Puts `lbs` into `window` (its web ACL as found, if it exists), or
    /// arms them (`arm`): observed, planned, applied.
    async fn bring_in(
        &self,
        window: &Window,
        lbs: &[ResourceArn],
        spec: &MaintenanceSpec,
        existing: Option<(LockedAcl, ReadAcl)>,
        arm: bool,
    ) -> MemberResults<Outcome> {
        let seen = self.joining(window, lbs, existing).await?;
        let request = if arm {
            Request::Arm(spec)
        } else {
            Request::Enter(spec)
        };
        let plan = plan(window, lbs, &seen.observation, request)?;
        self.apply_joining(window, lbs, spec, seen, &plan, arm)
            .await
    }

    /// What `enter` (or `arm`) would change, without writing: the
    /// planner's answer to what is observed.
    async fn plan_enter(
        &self,
        window: &Window,
        lbs: &[ResourceArn],
        spec: &MaintenanceSpec,
        arm: bool,
    ) -> MemberResults<Outcome> {
        let seen = self.observation(window, lbs, Need::ENTER).await?;
        let request = if arm {
            Request::Arm(spec)
        } else {
            Request::Enter(spec)
        };
        Ok(plan(window, lbs, &seen.observation, request)?.outcomes(lbs, Mode::DryRun))
    }
}
