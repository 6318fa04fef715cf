//! [`MemoryBackend`]: a complete in-process implementation of
//! [`MaintenanceBackend`] with the semantics of the WAF backend, for tests,
//! demos and trying the library without an AWS account.
//!
//! It keeps a fake world (load balancers, web ACLs, their associations) and
//! runs each operation as observe, ask the window rules
//! (maint-core's planner, `plan`), apply, under one lock.
//!
//! Like AWS, a load balancer carries at most one web ACL; a web ACL maint did
//! not create makes `enter` refuse, unless the spec consents to injecting
//! maint's rule into it ([`ExistingWebAcl::Inject`](crate::maintenance::ExistingWebAcl::Inject)); a window's members
//! share one web ACL, which goes when its last member leaves; windows
//! scoped to different hosts share a load balancer, each with its part of
//! the first one's web ACL, which goes with its last part; an armed window
//! stays associated in pass-through form, switched on by `enter` and off by
//! `exit`, until `disarm`; `enter` and `exit` are idempotent; every operation
//! is atomic, so concurrent allowlist edits all survive.
//!
//! Test hooks model what happens outside maint:
//! [`associate_foreign_web_acl`](MemoryBackend::associate_foreign_web_acl)
//! and [`associate_web_acl`](MemoryBackend::associate_web_acl) (a team's
//! own, possibly shared, web ACL),
//! [`revert_injection`](MemoryBackend::revert_injection) (an IaC apply
//! removing maint's rule) and
//! [`interrupt_next_enter`](MemoryBackend::interrupt_next_enter) (a run
//! killed half way).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use super::contract::{Leftover, MaintenanceBackend, MemberResults};
use crate::maintenance::{
    shared_windows, AllowlistChange, MaintenanceSpec, Mode, Outcome, Standing, TargetStatus,
    Window, WindowSummary,
};
use crate::plan::{
    detached, plan, state_of, status_of, Observation, ObservedAcl, Records, Request, WindowRecord,
};
use crate::platform::LbController;
use crate::target::{not_an_alb, wrong_region, LoadBalancerRef, ResourceArn};
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

/// A web ACL of the fake world.
#[derive(Debug)]
struct StoredAcl {
    name: String,
    /// The windows of maint's it holds, one part each: in maint's own web
    /// ACL, its window's part and those of windows scoped apart that share
    /// its load balancers; in one maint did not create, maint's rule
    /// injected (with consent). None: a web ACL of someone else's with no
    /// rule of maint's.
    parts: Vec<WindowRecord>,
    /// Whether maint created it (it goes with its last part).
    maints: bool,
}

impl StoredAcl {
    /// The part of window `window`, if it holds one.
    fn part_mut(&mut self, window: &str) -> Option<&mut WindowRecord> {
        self.parts.iter_mut().find(|w| w.info.window == window)
    }
}

#[derive(Debug, Default)]
struct World {
    load_balancers: BTreeMap<String, LoadBalancer>,
    /// Load balancer ARN -> web ACL ARN.
    associations: HashMap<String, String>,
    /// Web ACL ARN -> web ACL.
    web_acls: HashMap<String, StoredAcl>,
    /// Resources other than load balancers (API Gateway stages, ...), by
    /// ARN.
    resources: BTreeSet<String>,
    /// Load balancer ARN -> its tags.
    tags: HashMap<String, Vec<(String, String)>>,
    next_id: u64,
}

impl World {
    /// The ARN of the own web ACL of window `name` (the one holding its
    /// part not injected), if there is one.
    fn window_arn(&self, name: &str) -> Option<String> {
        self.web_acls
            .iter()
            .find(|(_, acl)| {
                acl.parts
                    .iter()
                    .any(|w| !w.injected && w.info.window == name)
            })
            .map(|(arn, _)| arn.clone())
    }

    /// The load balancers a web ACL is associated with, sorted.
    fn associated(&self, acl_arn: &str) -> BTreeSet<String> {
        self.associations
            .iter()
            .filter(|(_, a)| a.as_str() == acl_arn)
            .map(|(lb, _)| lb.clone())
            .collect()
    }

    /// The web ACL `arn` as the window rules see it.
    fn view(&self, arn: &str) -> Option<ObservedAcl> {
        let acl = self.web_acls.get(arn)?;
        Some(ObservedAcl {
            arn: arn.to_string(),
            name: acl.name.clone(),
            associated: self.associated(arn),
            parts: acl.parts.clone(),
            maints: acl.maints,
        })
    }

    /// The web ACL `lb` is under, if any.
    fn under(&self, lb: &ResourceArn) -> Option<String> {
        self.associations
            .get(lb.as_str())
            .filter(|arn| self.web_acls.contains_key(*arn))
            .cloned()
    }

    /// The part of window `window` in web ACL `arn`.
    fn record_mut(&mut self, arn: &str, window: &str) -> Result<&mut WindowRecord> {
        self.web_acls
            .get_mut(arn)
            .and_then(|acl| acl.part_mut(window))
            .ok_or_else(|| Error::unexpected("window vanished"))
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

    /// An empty region with the given name, in account `account_id` (the
    /// ARNs of its load balancers carry it).
    pub fn in_account(region: &str, account_id: &str) -> Self {
        Self {
            account_id: account_id.to_string(),
            ..Self::new(region)
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
    /// application load balancers have a [`ResourceArn`]).
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

    /// Adds an API Gateway REST API `api` (letters and digits) deployed
    /// to stage `prod`, and returns the stage's ARN (issue 22: a resource
    /// AWS WAF protects that is not a load balancer).
    pub fn add_api_stage(&self, api: &str) -> ResourceArn {
        let arn = format!(
            "arn:aws:apigateway:{}::/restapis/{api}/stages/prod",
            self.region
        );
        let arn = ResourceArn::parse(&arn).unwrap_or_else(|e| panic!("a stage of {api:?}: {e}"));
        self.lock().resources.insert(arn.to_string());
        arn
    }

    /// Tags a load balancer (`elbv2.k8s.aws/cluster` = `prod` makes it the
    /// AWS Load Balancer Controller's, see [`crate::platform`]).
    pub fn tag_load_balancer(&self, lb: &ResourceArn, key: &str, value: &str) {
        self.lock()
            .tags
            .entry(lb.as_str().to_string())
            .or_default()
            .push((key.to_string(), value.to_string()));
    }

    /// Associates a web ACL that maint did not create (a team's security
    /// ACL) with a load balancer, replacing any association, and returns the
    /// ACL's ARN.
    pub fn associate_foreign_web_acl(&self, lb: &ResourceArn, name: &str) -> String {
        let mut world = self.lock();
        world.next_id += 1;
        let arn = self.web_acl_arn(name, world.next_id);
        world.web_acls.insert(
            arn.clone(),
            StoredAcl {
                name: name.to_string(),
                parts: Vec::new(),
                maints: false,
            },
        );
        world
            .associations
            .insert(lb.as_str().to_string(), arn.clone());
        arn
    }

    /// Disassociates whatever web ACL `lb` carries, as another writer does
    /// behind maint's back (`status` then shows a member of a window as
    /// [`State::Detached`](crate::maintenance::State::Detached)).
    pub fn disassociate(&self, lb: &ResourceArn) {
        self.lock().associations.remove(lb.as_str());
    }

    /// Associates a web ACL already in place (say, a foreign one from
    /// [`associate_foreign_web_acl`](Self::associate_foreign_web_acl)) with
    /// another load balancer as well, replacing any association, as a
    /// console user would: several load balancers under one shared web ACL.
    pub fn associate_web_acl(&self, lb: &ResourceArn, web_acl_arn: &str) {
        let mut world = self.lock();
        world
            .associations
            .insert(lb.as_str().to_string(), web_acl_arn.to_string());
    }

    /// Removes maint's rule from the foreign web ACL `web_acl_arn`, as an
    /// IaC apply or a console edit of that ACL does: its load balancers are
    /// out of maintenance, and `status` shows them
    /// [`State::Reverted`](crate::maintenance::State::Reverted). The rest of
    /// what maint added (IP sets, bodies, the window's record) stays until
    /// the next `enter` (which puts the rule back, reporting
    /// [`Change::RuleInjected`](crate::maintenance::Change::RuleInjected),
    /// and takes
    /// [`ExistingWebAcl::Inject`](crate::maintenance::ExistingWebAcl::Inject)
    /// consent again) or `exit` (which removes the rest, reporting
    /// [`Change::RuleRemoved`](crate::maintenance::Change::RuleRemoved),
    /// after which the ACL is as it was before maint). Returns whether a
    /// rule of maint's was there. It acts on the injected parts only (a
    /// web ACL maint did not create holds no other).
    pub fn revert_injection(&self, web_acl_arn: &str) -> bool {
        let mut world = self.lock();
        let Some(acl) = world.web_acls.get_mut(web_acl_arn) else {
            return false;
        };
        let mut reverted = false;
        for w in acl.parts.iter_mut().filter(|w| w.injected && w.active) {
            w.active = false;
            reverted = true;
        }
        reverted
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

    fn check_exists(&self, world: &World, lb: &ResourceArn) -> Result<()> {
        if lb.region() != self.region {
            return Err(wrong_region(lb, &self.region).into());
        }
        if world.load_balancers.values().any(|l| l.arn == lb.as_str())
            || world.resources.contains(lb.as_str())
        {
            Ok(())
        } else {
            Err(Error::TargetNotFound {
                target: lb.to_string(),
            })
        }
    }

    /// What the window rules need to see of `window` and `lbs`.
    fn observe(&self, world: &World, window: &Window, lbs: &[ResourceArn]) -> Observation {
        let members: Vec<Result<Option<String>>> = lbs
            .iter()
            .map(|lb| self.check_exists(world, lb).map(|()| world.under(lb)))
            .collect();
        let own = world.window_arn(window.name());
        let acls = members
            .iter()
            .filter_map(|m| m.as_ref().ok().cloned().flatten())
            .chain(own.clone())
            .filter_map(|arn| Some((arn.clone(), world.view(&arn)?)))
            .collect();
        Observation { members, acls, own }
    }

    /// Observes, asks the window rules, and applies what they say (unless
    /// a dry run), all under one lock: every operation is atomic.
    fn run(
        &self,
        window: &Window,
        lbs: &[ResourceArn],
        request: Request<'_>,
        mode: Mode,
    ) -> MemberResults<Outcome> {
        let mut world = self.lock();
        let seen = self.observe(&world, window, lbs);
        let plan = plan(window, lbs, &seen, request)?;
        if mode == Mode::Apply {
            let mut applying = Applying {
                backend: self,
                world: &mut world,
            };
            plan.apply(window, lbs, seen.own, &mut applying)?;
        }
        Ok(plan.outcomes(lbs, mode))
    }
}

/// The fake world under its lock, with the backend's hooks, as the window
/// rules' steps change it.
struct Applying<'w> {
    backend: &'w MemoryBackend,
    world: &'w mut World,
}

impl Records for Applying<'_> {
    fn create(&mut self, window: &Window, record: &dyn Fn(&str) -> WindowRecord) -> Result<String> {
        let name = window.name().to_string();
        self.world.next_id += 1;
        let arn = self.backend.web_acl_arn(&name, self.world.next_id);
        let window = record(&arn);
        let armed = window.info.armed_since.is_some();
        let acl = StoredAcl {
            name: name.clone(),
            parts: vec![window],
            maints: true,
        };
        self.world.web_acls.insert(arn.clone(), acl);
        if !armed && self.backend.interrupt.swap(false, Ordering::SeqCst) {
            return Err(Error::unexpected(format!(
                "enter of window {name} interrupted after creating it (test hook)"
            )));
        }
        Ok(arn)
    }

    fn name(&self, acl: &str) -> Result<String> {
        match self.world.web_acls.get(acl) {
            Some(acl) => Ok(acl.name.clone()),
            None => Err(Error::unexpected("web ACL vanished")),
        }
    }

    fn set(&mut self, acl: &str, window: &str, record: Option<WindowRecord>) -> Result<()> {
        let Some(acl) = self.world.web_acls.get_mut(acl) else {
            return Err(Error::unexpected("web ACL vanished"));
        };
        match (acl.part_mut(window), record) {
            (Some(part), Some(record)) => *part = record,
            (None, Some(record)) => acl.parts.push(record),
            (_, None) => acl.parts.retain(|w| w.info.window != window),
        }
        Ok(())
    }

    fn record(&mut self, acl: &str, window: &str) -> Result<&mut WindowRecord> {
        self.world.record_mut(acl, window)
    }

    fn delete(&mut self, acl: &str) {
        self.world.web_acls.remove(acl);
    }

    fn associate(&mut self, lb: &ResourceArn, acl: Option<&str>) {
        match acl {
            Some(acl) => self
                .world
                .associations
                .insert(lb.as_str().to_string(), acl.to_string()),
            None => self.world.associations.remove(lb.as_str()),
        };
    }
}

#[async_trait]
impl MaintenanceBackend for MemoryBackend {
    async fn controllers(&self, lbs: &[ResourceArn]) -> Result<Vec<Option<LbController>>> {
        let world = self.lock();
        Ok(lbs
            .iter()
            .map(|lb| {
                world.tags.get(lb.as_str()).and_then(|tags| {
                    LbController::from_tags(tags.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                })
            })
            .collect())
    }

    async fn resolve(&self, refs: &[LoadBalancerRef]) -> Result<Vec<Result<ResourceArn>>> {
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
                    Ok(ResourceArn::parse(&lb.arn)?)
                }
                LoadBalancerRef::Distribution(given) => Err(Error::TargetNotFound {
                    target: given.clone(),
                }),
            })
            .collect())
    }

    async fn enter_window(
        &self,
        window: &Window,
        lbs: &[ResourceArn],
        spec: &MaintenanceSpec,
        mode: Mode,
    ) -> MemberResults<Outcome> {
        self.run(window, lbs, Request::Enter(spec), mode)
    }

    async fn exit_window(
        &self,
        window: &Window,
        lbs: &[ResourceArn],
        mode: Mode,
    ) -> MemberResults<Outcome> {
        self.run(window, lbs, Request::Exit, mode)
    }

    async fn update_window_allowlist(
        &self,
        window: &Window,
        lbs: &[ResourceArn],
        change: &AllowlistChange,
        mode: Mode,
    ) -> MemberResults<Outcome> {
        self.run(window, lbs, Request::Allowlist(change), mode)
    }

    async fn window_status(
        &self,
        window: &Window,
        lbs: &[ResourceArn],
    ) -> MemberResults<TargetStatus> {
        let world = self.lock();
        // The window's web ACL with no load balancer using it: left by an
        // interrupted run.
        let leftover = world
            .window_arn(window.name())
            .filter(|arn| world.associated(arn).is_empty())
            .map(|_| window.name().to_string());
        let own = world
            .window_arn(window.name())
            .and_then(|arn| world.view(&arn));
        Ok(lbs
            .iter()
            .map(|lb| {
                self.check_exists(&world, lb)?;
                let acl = world.under(lb).and_then(|arn| world.view(&arn));
                let own = own.as_ref().and_then(|o| {
                    let record = o.own()?;
                    Some((
                        o.arn.as_str(),
                        o.name.as_str(),
                        record.members.contains(lb.as_str()),
                    ))
                });
                let (state, sharing) = status_of(acl.as_ref(), window.name());
                let state = detached(state, window, own);
                let leftovers = match state {
                    crate::maintenance::State::Normal
                    | crate::maintenance::State::Detached { .. } => {
                        leftover.iter().cloned().collect()
                    }
                    _ => Vec::new(),
                };
                Ok(TargetStatus {
                    load_balancer: lb.clone(),
                    state,
                    leftovers,
                    sharing,
                    deployment: None,
                })
            })
            .collect())
    }

    async fn arm_window(
        &self,
        window: &Window,
        lbs: &[ResourceArn],
        spec: &MaintenanceSpec,
        mode: Mode,
    ) -> MemberResults<Outcome> {
        self.run(window, lbs, Request::Arm(spec), mode)
    }

    async fn disarm_window(
        &self,
        window: &Window,
        lbs: &[ResourceArn],
        mode: Mode,
    ) -> MemberResults<Outcome> {
        self.run(window, lbs, Request::Disarm, mode)
    }

    async fn shared_windows(
        &self,
        lbs: &[ResourceArn],
        consent: bool,
    ) -> Result<Vec<Option<Window>>> {
        let world = self.lock();
        let standings: Vec<Standing> = lbs
            .iter()
            .map(|lb| {
                let Some(acl) = world.under(lb).and_then(|arn| world.web_acls.get(&arn)) else {
                    return Standing::Other;
                };
                // The window the load balancer is in first: the owner's
                // part, else the first.
                let part = acl.parts.iter().find(|w| !w.injected);
                match part.or(acl.parts.first()) {
                    Some(w) => {
                        Standing::Window(Window::recorded(&w.info.window, w.service.as_deref()))
                    }
                    None => Standing::Foreign {
                        web_acl: acl.name.clone(),
                    },
                }
            })
            .collect();
        Ok(shared_windows(lbs, &standings, consent))
    }

    async fn windows(&self) -> Result<Vec<WindowSummary>> {
        let world = self.lock();
        let mut found: Vec<WindowSummary> = world
            .web_acls
            .values()
            .flat_map(|acl| &acl.parts)
            .map(|w| WindowSummary {
                window: Window::recorded(&w.info.window, w.service.as_deref()),
                members: w
                    .members
                    .iter()
                    .filter_map(|m| ResourceArn::parse(m).ok())
                    .collect(),
                until: w.info.until,
                in_maintenance: w.active,
                problem: None,
            })
            .collect();
        found.sort_by(|a, b| a.window.name().cmp(b.window.name()));
        Ok(found)
    }

    async fn check(
        &self,
        lb: &ResourceArn,
        request: &crate::check::CheckRequest,
    ) -> Result<crate::check::CheckReport> {
        // The windows' parts of its web ACL: the one whose scope covers
        // the request answers, else the first (which says it is out of
        // scope). (`status` of the load balancer's own window would show it
        // beside windows scoped elsewhere, not in them.)
        let shared = {
            let world = self.lock();
            world
                .under(lb)
                .and_then(|arn| world.view(&arn))
                .filter(|acl| !acl.parts.is_empty())
        };
        if let Some(acl) = shared {
            let covers = |w: &&WindowRecord| w.info.scope.covers(request.host(), request.path());
            let part = acl.parts.iter().find(covers).or(acl.parts.first());
            let window = part.map_or("", |w| w.info.window.as_str());
            return Ok(crate::check::decide(
                lb,
                &state_of(Some(&acl), window),
                request,
            ));
        }
        let status = self.status(lb).await?;
        Ok(crate::check::decide(lb, &status.state, request))
    }

    async fn cleanup(&self, mode: Mode) -> Result<Vec<Leftover>> {
        let mut world = self.lock();
        let leftovers: Vec<Leftover> = world
            .web_acls
            .iter()
            // maint's own with no load balancer under it: a part there is
            // in use by nobody.
            .filter(|(arn, acl)| acl.maints && world.associated(arn).is_empty())
            .map(|(arn, acl)| Leftover {
                kind: "web-acl",
                name: acl.name.clone(),
                arn: arn.clone(),
                kept: None,
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
#[path = "memory_tests.rs"]
mod tests;
