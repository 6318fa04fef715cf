//! [`MemoryBackend`]: a complete in-process implementation of
//! [`MaintenanceBackend`] with the semantics of the WAF backend, for tests,
//! demos and trying the library without an AWS account.
//!
//! Like AWS, a load balancer carries at most one web ACL; a web ACL maint did
//! not create makes `enter` refuse; a window's members share one web ACL,
//! which goes when its last member leaves; `enter` and `exit` are
//! idempotent; every operation is atomic, so concurrent allowlist edits all
//! survive.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::Utc;

use super::{Leftover, MaintenanceBackend, MemberResults};
use crate::maintenance::{
    allowlist_changes, reentry_spec, spec_changes, AllowlistChange, AllowlistState, Change,
    MaintenanceInfo, MaintenanceSpec, Mode, Outcome, State, TargetStatus, Window,
};
use crate::target::{not_an_alb, wrong_region, LoadBalancerArn, LoadBalancerRef};
use crate::{Error, Result};

/// The type of a load balancer, as ELBv2 reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadBalancerType {
    /// An Application Load Balancer: the only type that can carry a web ACL.
    Application,
    /// A Network Load Balancer.
    Network,
    /// A Gateway Load Balancer.
    Gateway,
}

impl LoadBalancerType {
    /// The ELBv2 name of the type (`application`, `network`, `gateway`).
    pub fn as_str(self) -> &'static str {
        match self {
            LoadBalancerType::Application => "application",
            LoadBalancerType::Network => "network",
            LoadBalancerType::Gateway => "gateway",
        }
    }

    fn arn_segment(self) -> &'static str {
        match self {
            LoadBalancerType::Application => "app",
            LoadBalancerType::Network => "net",
            LoadBalancerType::Gateway => "gwy",
        }
    }
}

#[derive(Debug)]
struct LoadBalancer {
    arn: String,
    kind: LoadBalancerType,
}

#[derive(Debug)]
enum WebAcl {
    Ours {
        name: String,
        service: Option<String>,
        /// The load balancers recorded as the window's members.
        members: BTreeSet<String>,
        info: Box<MaintenanceInfo>,
    },
    Foreign {
        name: String,
    },
}

#[derive(Debug, Default)]
struct World {
    load_balancers: BTreeMap<String, LoadBalancer>,
    /// Load balancer ARN -> web ACL ARN.
    associations: HashMap<String, String>,
    /// Web ACL ARN -> web ACL.
    web_acls: HashMap<String, WebAcl>,
    next_id: u64,
}

impl World {
    /// The ARN of maint's web ACL named `name`, if there is one.
    fn window_arn(&self, name: &str) -> Option<String> {
        self.web_acls.iter().find_map(|(arn, acl)| match acl {
            WebAcl::Ours { name: n, .. } if n == name => Some(arn.clone()),
            _ => None,
        })
    }

    /// How many load balancers a web ACL is associated with.
    fn in_use(&self, acl_arn: &str) -> usize {
        self.associations
            .values()
            .filter(|a| a.as_str() == acl_arn)
            .count()
    }
}

/// An in-memory account and region holding load balancers and web ACLs.
#[derive(Debug)]
pub struct MemoryBackend {
    region: String,
    account_id: String,
    world: Mutex<World>,
    /// Set by [`MemoryBackend::interrupt_next_enter`].
    interrupt: AtomicBool,
}

impl MemoryBackend {
    /// An empty region with the given name, account `123456789012`.
    pub fn new(region: &str) -> Self {
        Self {
            region: region.to_string(),
            account_id: "123456789012".to_string(),
            world: Mutex::new(World::default()),
            interrupt: AtomicBool::new(false),
        }
    }

    /// Makes the next `enter` that creates a window stop right after
    /// creating its web ACL, before associating it, as a run killed half way
    /// does: the web ACL is left over (see `status`'s leftovers and
    /// `cleanup`).
    pub fn interrupt_next_enter(&self) {
        self.interrupt.store(true, Ordering::SeqCst);
    }

    /// Adds a load balancer and returns its ARN (as a string, since only
    /// application load balancers have a [`LoadBalancerArn`]).
    pub fn add_load_balancer(&self, name: &str, kind: LoadBalancerType) -> String {
        let mut world = self.lock();
        world.next_id += 1;
        let arn = format!(
            "arn:aws:elasticloadbalancing:{}:{}:loadbalancer/{}/{name}/{:016x}",
            self.region,
            self.account_id,
            kind.arn_segment(),
            0x5eed_0000_0000_0000_u64 + world.next_id
        );
        world.load_balancers.insert(
            name.to_string(),
            LoadBalancer {
                arn: arn.clone(),
                kind,
            },
        );
        arn
    }

    /// Associates a web ACL that maint did not create (a team's security
    /// ACL) with a load balancer, replacing any association, and returns the
    /// ACL's ARN.
    pub fn associate_foreign_web_acl(&self, lb: &LoadBalancerArn, name: &str) -> String {
        let mut world = self.lock();
        world.next_id += 1;
        let arn = self.web_acl_arn(name, world.next_id);
        world.web_acls.insert(
            arn.clone(),
            WebAcl::Foreign {
                name: name.to_string(),
            },
        );
        world
            .associations
            .insert(lb.as_str().to_string(), arn.clone());
        arn
    }

    fn web_acl_arn(&self, name: &str, id: u64) -> String {
        format!(
            "arn:aws:wafv2:{}:{}:regional/webacl/{name}/{id:08x}-0000-4000-8000-000000000000",
            self.region, self.account_id
        )
    }

    fn lock(&self) -> MutexGuard<'_, World> {
        self.world
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn check_exists(&self, world: &World, lb: &LoadBalancerArn) -> Result<()> {
        if lb.region() != self.region {
            return Err(wrong_region(lb, &self.region).into());
        }
        if world.load_balancers.values().any(|l| l.arn == lb.as_str()) {
            Ok(())
        } else {
            Err(Error::TargetNotFound {
                target: lb.to_string(),
            })
        }
    }

    fn state_of(world: &World, lb: &LoadBalancerArn) -> State {
        let Some(acl_arn) = world.associations.get(lb.as_str()) else {
            return State::Normal;
        };
        match world.web_acls.get(acl_arn) {
            Some(WebAcl::Ours { info, .. }) => State::Maintenance(info.clone()),
            Some(WebAcl::Foreign { name }) => State::Foreign {
                web_acl_arn: acl_arn.clone(),
                web_acl_name: name.clone(),
            },
            None => State::Normal,
        }
    }

    /// The refusal of a member in another window of maint's.
    fn elsewhere(lb: &LoadBalancerArn, info: &MaintenanceInfo, window: &Window) -> Error {
        Error::Conflict {
            resource: lb.to_string(),
            message: format!(
                "it is in maintenance in window {}, not {}; act on it through that window",
                info.window,
                window.name()
            ),
        }
    }

    /// Refuses to merge two unrelated services (see [`Window::check_joins`]).
    fn check_identity(
        world: &World,
        arn: &str,
        window: &Window,
        lbs: &[LoadBalancerArn],
    ) -> Result<()> {
        match world.web_acls.get(arn) {
            Some(WebAcl::Ours {
                service, members, ..
            }) => window.check_joins(
                arn,
                service.as_deref(),
                members.iter().map(String::as_str),
                lbs,
            ),
            _ => Ok(()),
        }
    }
}

fn foreign(lb: &LoadBalancerArn, web_acl_arn: String, web_acl_name: String) -> Error {
    Error::ForeignWebAcl {
        load_balancer: lb.to_string(),
        web_acl_arn,
        web_acl_name,
    }
}

fn outcome(lb: &LoadBalancerArn, mode: Mode, changes: Vec<Change>) -> Outcome {
    Outcome {
        load_balancer: lb.clone(),
        mode,
        changes,
    }
}

#[async_trait]
impl MaintenanceBackend for MemoryBackend {
    async fn resolve(&self, refs: &[LoadBalancerRef]) -> Result<Vec<Result<LoadBalancerArn>>> {
        let world = self.lock();
        Ok(refs
            .iter()
            .map(|r| match r {
                LoadBalancerRef::Arn(arn) => self.check_exists(&world, arn).map(|()| arn.clone()),
                LoadBalancerRef::Name(name) => {
                    let lb = world.load_balancers.get(name.as_str()).ok_or_else(|| {
                        Error::TargetNotFound {
                            target: name.to_string(),
                        }
                    })?;
                    if lb.kind != LoadBalancerType::Application {
                        return Err(not_an_alb(name.as_str(), lb.kind.as_str()).into());
                    }
                    Ok(LoadBalancerArn::parse(&lb.arn)?)
                }
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
        let mut world = self.lock();
        // Each member: Ok(true) to associate, Ok(false) already a member.
        let mut joining: Vec<Result<bool>> = Vec::with_capacity(lbs.len());
        for lb in lbs {
            joining.push(self.check_exists(&world, lb).and_then(|()| {
                match Self::state_of(&world, lb) {
                    State::Foreign {
                        web_acl_arn,
                        web_acl_name,
                    } => Err(foreign(lb, web_acl_arn, web_acl_name)),
                    State::Maintenance(info) if info.window != window.name() => {
                        Err(Self::elsewhere(lb, &info, window))
                    }
                    State::Maintenance(_) => Ok(false),
                    State::Normal => Ok(true),
                    State::Armed(_) | State::Reverted { .. } => {
                        Err(Error::unexpected("armed: not built yet"))
                    }
                }
            }));
        }
        let existing = world.window_arn(window.name());
        if let Some(arn) = &existing {
            Self::check_identity(&world, arn, window, lbs)?;
        }
        let new: Vec<&LoadBalancerArn> = lbs
            .iter()
            .zip(&joining)
            .filter(|(_, j)| matches!(j, Ok(true)))
            .map(|(lb, _)| lb)
            .collect();
        // The window's own changes, reported by every member.
        let (arn, window_changes) = match existing {
            Some(arn) => {
                let Some(WebAcl::Ours { info, .. }) = world.web_acls.get(&arn) else {
                    return Err(Error::unexpected("window vanished"));
                };
                let current = info.clone();
                let wanted = reentry_spec(&current, spec)?;
                let changes = spec_changes(&current, &wanted);
                if mode == Mode::Apply {
                    if let Some(WebAcl::Ours { info, members, .. }) = world.web_acls.get_mut(&arn) {
                        info.reason = wanted.reason.as_ref().map(|r| r.as_str().to_string());
                        info.until = wanted.until;
                        info.allowlist = AllowlistState {
                            enabled: wanted.allowlist_enabled,
                            entries: wanted.allowlist.clone(),
                        };
                        info.response = wanted.response.clone();
                        members.extend(new.iter().map(|lb| lb.to_string()));
                    }
                }
                (Some(arn), changes)
            }
            None if new.is_empty() => (None, Vec::new()),
            None => {
                let name = window.name().to_string();
                let mut arn = None;
                if mode == Mode::Apply {
                    world.next_id += 1;
                    let made = self.web_acl_arn(&name, world.next_id);
                    let info = MaintenanceInfo {
                        window: name.clone(),
                        web_acl_arn: made.clone(),
                        reason: spec.reason.as_ref().map(|r| r.as_str().to_string()),
                        since: Utc::now(),
                        until: spec.until,
                        allowlist: AllowlistState {
                            enabled: spec.allowlist_enabled,
                            entries: spec.allowlist.clone(),
                        },
                        response: spec.response.clone(),
                        armed_since: None,
                        host_web_acl: None,
                    };
                    world.web_acls.insert(
                        made.clone(),
                        WebAcl::Ours {
                            name: name.clone(),
                            service: window.service().map(str::to_string),
                            members: new.iter().map(|lb| lb.to_string()).collect(),
                            info: Box::new(info),
                        },
                    );
                    if self.interrupt.swap(false, Ordering::SeqCst) {
                        return Err(Error::unexpected(format!(
                            "enter of window {name} interrupted after creating it (test hook)"
                        )));
                    }
                    arn = Some(made);
                }
                (arn, vec![Change::CreatedWebAcl { name }])
            }
        };
        Ok(lbs
            .iter()
            .zip(joining)
            .map(|(lb, joining)| {
                let mut changes = window_changes.clone();
                if joining? {
                    if let Some(arn) = &arn {
                        world
                            .associations
                            .insert(lb.as_str().to_string(), arn.clone());
                    }
                    changes.push(Change::Associated);
                }
                Ok(outcome(lb, mode, changes))
            })
            .collect())
    }

    async fn exit_window(
        &self,
        window: &Window,
        lbs: &[LoadBalancerArn],
        mode: Mode,
    ) -> MemberResults<Outcome> {
        let mut world = self.lock();
        // Each member: the window ARN it leaves, if any.
        let mut leaving: Vec<Result<Option<String>>> = Vec::with_capacity(lbs.len());
        for lb in lbs {
            leaving.push(self.check_exists(&world, lb).and_then(|()| {
                match Self::state_of(&world, lb) {
                    State::Foreign {
                        web_acl_arn,
                        web_acl_name,
                    } => Err(foreign(lb, web_acl_arn, web_acl_name)),
                    State::Maintenance(info) => Ok(Some(info.web_acl_arn)),
                    State::Normal => Ok(None),
                    State::Armed(_) | State::Reverted { .. } => {
                        Err(Error::unexpected("armed: not built yet"))
                    }
                }
            }));
        }
        // The windows touched: those members leave, and `window` itself
        // (leftovers of an interrupted run).
        let mut windows: Vec<String> = leaving
            .iter()
            .filter_map(|l| l.as_ref().ok().cloned().flatten())
            .collect();
        windows.extend(world.window_arn(window.name()));
        windows.sort();
        windows.dedup();
        let mut deleted: HashMap<String, String> = HashMap::new();
        for arn in &windows {
            let leavers: Vec<&LoadBalancerArn> = lbs
                .iter()
                .zip(&leaving)
                .filter(|(_, l)| matches!(l, Ok(Some(a)) if a == arn))
                .map(|(lb, _)| lb)
                .collect();
            let remaining = world.in_use(arn) - leavers.len();
            if remaining == 0 {
                if let Some(WebAcl::Ours { name, .. }) = world.web_acls.get(arn) {
                    deleted.insert(arn.clone(), name.clone());
                }
            }
            if mode == Mode::Apply {
                for lb in &leavers {
                    world.associations.remove(lb.as_str());
                }
                if remaining == 0 {
                    world.web_acls.remove(arn);
                } else if let Some(WebAcl::Ours { members, .. }) = world.web_acls.get_mut(arn) {
                    for lb in lbs {
                        members.remove(lb.as_str());
                    }
                }
            }
        }
        let own = world.window_arn(window.name()).or_else(|| {
            deleted
                .iter()
                .find(|(_, n)| *n == window.name())
                .map(|(a, _)| a.clone())
        });
        Ok(lbs
            .iter()
            .zip(leaving)
            .map(|(lb, left)| {
                let left = left?;
                let mut changes = Vec::new();
                let gone = match &left {
                    Some(arn) => {
                        changes.push(Change::Disassociated);
                        deleted.get(arn)
                    }
                    // A normal member reports its window's leftovers going.
                    None => own.as_ref().and_then(|arn| deleted.get(arn)),
                };
                if let Some(name) = gone {
                    changes.push(Change::DeletedWebAcl { name: name.clone() });
                }
                Ok(outcome(lb, mode, changes))
            })
            .collect())
    }

    async fn update_window_allowlist(
        &self,
        window: &Window,
        lbs: &[LoadBalancerArn],
        change: &AllowlistChange,
        mode: Mode,
    ) -> MemberResults<Outcome> {
        let mut world = self.lock();
        let mut members: Vec<Result<String>> = Vec::with_capacity(lbs.len());
        for lb in lbs {
            members.push(self.check_exists(&world, lb).and_then(|()| {
                match Self::state_of(&world, lb) {
                    State::Foreign {
                        web_acl_arn,
                        web_acl_name,
                    } => Err(foreign(lb, web_acl_arn, web_acl_name)),
                    State::Normal => Err(Error::NotInMaintenance {
                        load_balancer: lb.to_string(),
                    }),
                    State::Maintenance(info) if info.window != window.name() => {
                        Err(Self::elsewhere(lb, &info, window))
                    }
                    State::Maintenance(info) => Ok(info.web_acl_arn),
                    State::Armed(_) | State::Reverted { .. } => {
                        Err(Error::unexpected("armed: not built yet"))
                    }
                }
            }));
        }
        let Some(arn) = members.iter().find_map(|m| m.as_ref().ok()).cloned() else {
            // No member in the window's maintenance: each says why.
            return Ok(members
                .into_iter()
                .map(|m| m.and_then(|_| Err(Error::unexpected("no window"))))
                .collect());
        };
        let Some(WebAcl::Ours { info, .. }) = world.web_acls.get_mut(&arn) else {
            return Err(Error::unexpected("window vanished"));
        };
        let after = change.apply(&info.allowlist)?;
        let changes = allowlist_changes(&info.allowlist, &after);
        if mode == Mode::Apply {
            info.allowlist = after;
        }
        Ok(lbs
            .iter()
            .zip(members)
            .map(|(lb, m)| m.map(|_| outcome(lb, mode, changes.clone())))
            .collect())
    }

    async fn window_status(
        &self,
        window: &Window,
        lbs: &[LoadBalancerArn],
    ) -> MemberResults<TargetStatus> {
        let world = self.lock();
        // The window's web ACL with no load balancer using it: left by an
        // interrupted run.
        let leftover = world
            .window_arn(window.name())
            .filter(|arn| world.in_use(arn) == 0)
            .map(|_| window.name().to_string());
        Ok(lbs
            .iter()
            .map(|lb| {
                self.check_exists(&world, lb)?;
                let state = Self::state_of(&world, lb);
                let leftovers = match state {
                    State::Normal => leftover.iter().cloned().collect(),
                    _ => Vec::new(),
                };
                Ok(TargetStatus {
                    load_balancer: lb.clone(),
                    state,
                    leftovers,
                })
            })
            .collect())
    }

    async fn arm_window(
        &self,
        _window: &Window,
        _lbs: &[LoadBalancerArn],
        _spec: &MaintenanceSpec,
        _mode: Mode,
    ) -> MemberResults<Outcome> {
        Err(Error::unexpected("arm: not built yet"))
    }

    async fn disarm_window(
        &self,
        _window: &Window,
        _lbs: &[LoadBalancerArn],
        _mode: Mode,
    ) -> MemberResults<Outcome> {
        Err(Error::unexpected("disarm: not built yet"))
    }

    async fn cleanup(&self, mode: Mode) -> Result<Vec<Leftover>> {
        let mut world = self.lock();
        let leftovers: Vec<Leftover> = world
            .web_acls
            .iter()
            .filter(|(arn, _)| world.in_use(arn) == 0)
            .filter_map(|(arn, acl)| match acl {
                WebAcl::Ours { name, .. } => Some(Leftover {
                    kind: "web-acl",
                    name: name.clone(),
                    arn: arn.clone(),
                }),
                WebAcl::Foreign { .. } => None,
            })
            .collect();
        if mode == Mode::Apply {
            for leftover in &leftovers {
                world.web_acls.remove(&leftover.arn);
            }
        }
        Ok(leftovers)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::backend::conformance::{self, Fixture};
    use crate::target::LoadBalancerName;

    struct MemoryFixture {
        backend: MemoryBackend,
        counter: AtomicUsize,
    }

    impl MemoryFixture {
        fn new() -> Self {
            Self {
                backend: MemoryBackend::new("eu-west-1"),
                counter: AtomicUsize::new(0),
            }
        }

        fn add(&self, hint: &str, kind: LoadBalancerType) -> LoadBalancerName {
            let n = self.counter.fetch_add(1, Ordering::Relaxed);
            let name = format!("{hint}-{n}");
            self.backend.add_load_balancer(&name, kind);
            LoadBalancerName::parse(&name).unwrap()
        }
    }

    #[async_trait]
    impl Fixture for MemoryFixture {
        fn backend(&self) -> &dyn MaintenanceBackend {
            &self.backend
        }
        async fn new_load_balancer(&self, hint: &str) -> LoadBalancerName {
            self.add(hint, LoadBalancerType::Application)
        }
        async fn new_network_load_balancer(&self, hint: &str) -> LoadBalancerName {
            self.add(hint, LoadBalancerType::Network)
        }
        async fn associate_foreign_web_acl(&self, lb: &LoadBalancerArn) -> String {
            self.backend
                .associate_foreign_web_acl(lb, "security-team-acl")
        }
        async fn interrupt_next_enter(&self) {
            self.backend.interrupt_next_enter();
        }
    }

    #[tokio::test]
    async fn the_conformance_suite_passes_on_the_memory_backend() {
        conformance::run_all(&MemoryFixture::new()).await;
    }

    #[tokio::test]
    async fn arn_of_another_region_is_refused() {
        let backend = MemoryBackend::new("eu-west-1");
        let arn = LoadBalancerArn::parse(
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/0123456789abcdef",
        )
        .unwrap();
        let err = backend.status(&arn).await.unwrap_err();
        assert!(err.to_string().contains("--region us-east-1"), "{err}");
    }
}
