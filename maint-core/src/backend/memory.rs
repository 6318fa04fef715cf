//! [`MemoryBackend`]: a complete in-process implementation of
//! [`MaintenanceBackend`] with the semantics of the WAF backend, for tests,
//! demos and trying the library without an AWS account.
//!
//! Like AWS, a load balancer carries at most one web ACL; a web ACL maint did
//! not create makes `enter` refuse, unless the spec consents to injecting
//! maint's rule into it ([`ExistingWebAcl::Inject`]); a window's members
//! share one web ACL, which goes when its last member leaves; an armed window
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
use chrono::Utc;

use super::contract::{Leftover, MaintenanceBackend, MemberResults};
use crate::access::BypassState;
use crate::maintenance::{
    allowlist_changes, bypass_changes, reentry_spec, spec_changes, AllowlistChange, AllowlistState,
    Change, ExistingWebAcl, MaintenanceInfo, MaintenanceSpec, Mode, Outcome, State, TargetStatus,
    Window,
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
        /// Whether the window blocks (is in maintenance). Only an armed
        /// window (`info.armed_since`) is ever in pass-through form.
        blocking: bool,
    },
    Foreign {
        name: String,
        /// maint's window injected into this web ACL, with consent.
        injected: Option<Injection>,
    },
}

/// maint's window injected into a foreign web ACL: its rule (first in
/// evaluation order), IP sets and bodies.
#[derive(Debug)]
struct Injection {
    service: Option<String>,
    /// The load balancers recorded as the window's members.
    members: BTreeSet<String>,
    info: Box<MaintenanceInfo>,
    /// False once someone else removed maint's rule (an IaC apply, see
    /// [`MemoryBackend::revert_injection`]); what else maint added stays
    /// until the next `enter` or `exit`.
    rule: bool,
}

/// Where a load balancer is, as the operations see it.
#[derive(Debug, Clone)]
enum Place {
    /// No web ACL.
    Normal,
    /// Under maint's own web ACL `arn` of window `window`.
    Own {
        arn: String,
        window: String,
        blocking: bool,
        armed: bool,
    },
    /// Under a web ACL maint did not create, with maint's window injected
    /// (`Some((window, rule still there))`) or not.
    Foreign {
        arn: String,
        name: String,
        injected: Option<(String, bool)>,
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

    /// `leavers` leave the window of web ACL `arn` (unless a dry run): each
    /// is disassociated, and `forget` leave its record; with the `last` of
    /// them the window goes. Returns the window's name when it goes (or
    /// would).
    fn leave(
        &mut self,
        arn: &str,
        leavers: &[&LoadBalancerArn],
        forget: &[&LoadBalancerArn],
        last: bool,
        mode: Mode,
    ) -> Option<String> {
        let gone = match self.web_acls.get(arn) {
            Some(WebAcl::Ours { name, .. }) if last => Some(name.clone()),
            _ => None,
        };
        if mode == Mode::Apply {
            for lb in leavers {
                self.associations.remove(lb.as_str());
            }
            if last {
                self.web_acls.remove(arn);
            } else if let Some(WebAcl::Ours { members, .. }) = self.web_acls.get_mut(arn) {
                for lb in forget {
                    members.remove(lb.as_str());
                }
            }
        }
        gone
    }

    /// How many load balancers a web ACL is associated with.
    fn in_use(&self, acl_arn: &str) -> usize {
        self.associations
            .values()
            .filter(|a| a.as_str() == acl_arn)
            .count()
    }

    /// The load balancers a web ACL is associated with, sorted.
    fn associated(&self, acl_arn: &str) -> BTreeSet<String> {
        self.associations
            .iter()
            .filter(|(_, a)| a.as_str() == acl_arn)
            .map(|(lb, _)| lb.clone())
            .collect()
    }

    /// Where `lb` is.
    fn place(&self, lb: &LoadBalancerArn) -> Place {
        let Some(arn) = self.associations.get(lb.as_str()) else {
            return Place::Normal;
        };
        match self.web_acls.get(arn) {
            Some(WebAcl::Ours { info, blocking, .. }) => Place::Own {
                arn: arn.clone(),
                window: info.window.clone(),
                blocking: *blocking,
                armed: info.armed_since.is_some(),
            },
            Some(WebAcl::Foreign { name, injected }) => Place::Foreign {
                arn: arn.clone(),
                name: name.clone(),
                injected: injected.as_ref().map(|i| (i.info.window.clone(), i.rule)),
            },
            None => Place::Normal,
        }
    }

    /// The window held by web ACL `arn`: maint's own, or injected.
    fn info_mut(&mut self, arn: &str) -> Option<&mut MaintenanceInfo> {
        match self.web_acls.get_mut(arn) {
            Some(WebAcl::Ours { info, .. }) => Some(info),
            Some(WebAcl::Foreign {
                injected: Some(injection),
                ..
            }) => Some(&mut injection.info),
            _ => None,
        }
    }
}

/// A new window's info as `spec` describes it.
fn new_info(
    window: &str,
    web_acl_arn: &str,
    spec: &MaintenanceSpec,
    host_web_acl: Option<String>,
    armed: bool,
) -> MaintenanceInfo {
    let now = Utc::now();
    MaintenanceInfo {
        window: window.to_string(),
        web_acl_arn: web_acl_arn.to_string(),
        reason: spec.reason.as_ref().map(|r| r.as_str().to_string()),
        since: now,
        until: spec.until,
        allowlist: AllowlistState {
            enabled: spec.allowlist_enabled,
            entries: spec.allowlist.clone(),
        },
        response: spec.response.clone(),
        armed_since: armed.then_some(now),
        host_web_acl,
        bypass: spec.bypass_state(None),
        client_ip: spec.client_ip.clone(),
        revision: None,
    }
}

/// Brings a window in place to `wanted` (from
/// [`reentry_spec`](crate::maintenance::reentry_spec)).
fn update_info(info: &mut MaintenanceInfo, wanted: &MaintenanceSpec) {
    info.reason = wanted.reason.as_ref().map(|r| r.as_str().to_string());
    info.until = wanted.until;
    info.allowlist = AllowlistState {
        enabled: wanted.allowlist_enabled,
        entries: wanted.allowlist.clone(),
    };
    info.response = wanted.response.clone();
    info.bypass = wanted.bypass_state(info.bypass.as_ref());
    info.client_ip = wanted.client_ip.clone();
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
                injected: None,
            },
        );
        world
            .associations
            .insert(lb.as_str().to_string(), arn.clone());
        arn
    }

    /// Associates a web ACL already in place (say, a foreign one from
    /// [`associate_foreign_web_acl`](Self::associate_foreign_web_acl)) with
    /// another load balancer as well, replacing any association, as a
    /// console user would: several load balancers under one shared web ACL.
    pub fn associate_web_acl(&self, lb: &LoadBalancerArn, web_acl_arn: &str) {
        let mut world = self.lock();
        world
            .associations
            .insert(lb.as_str().to_string(), web_acl_arn.to_string());
    }

    /// Removes maint's rule from the foreign web ACL `web_acl_arn`, as an
    /// IaC apply or a console edit of that ACL does: its load balancers are
    /// out of maintenance, and `status` shows them
    /// [`State::Reverted`]. The rest of what maint added (IP sets, bodies,
    /// the window's record) stays until the next `enter` (which puts the
    /// rule back, reporting [`Change::RuleInjected`], and takes
    /// [`ExistingWebAcl::Inject`] consent again) or `exit` (which removes
    /// the rest, reporting [`Change::RuleRemoved`], after which the ACL is
    /// as it was before maint). Returns whether a rule of maint's was
    /// there.
    pub fn revert_injection(&self, web_acl_arn: &str) -> bool {
        let mut world = self.lock();
        match world.web_acls.get_mut(web_acl_arn) {
            Some(WebAcl::Foreign {
                injected: Some(injection),
                ..
            }) if injection.rule => {
                injection.rule = false;
                true
            }
            _ => false,
        }
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
            Some(WebAcl::Ours {
                info,
                blocking: true,
                ..
            }) => State::Maintenance(info.clone()),
            Some(WebAcl::Ours { info, .. }) => State::Armed(info.clone()),
            Some(WebAcl::Foreign {
                injected: Some(injection),
                ..
            }) if injection.rule => State::Maintenance(injection.info.clone()),
            Some(WebAcl::Foreign {
                name,
                injected: Some(injection),
            }) => State::Reverted {
                window: injection.info.window.clone(),
                web_acl_arn: acl_arn.clone(),
                web_acl_name: name.clone(),
            },
            Some(WebAcl::Foreign {
                name,
                injected: None,
            }) => State::Foreign {
                web_acl_arn: acl_arn.clone(),
                web_acl_name: name.clone(),
            },
            None => State::Normal,
        }
    }

    /// The refusal of a member in another window of maint's (`what`: "in
    /// maintenance", "armed").
    fn elsewhere(lb: &LoadBalancerArn, what: &str, other: &str, window: &Window) -> Error {
        Error::Conflict {
            resource: lb.to_string(),
            message: format!(
                "it is {what} in window {other}, not {}; act on it through that window \
                 (name all its load balancers together, or its config service)",
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

/// `enter` through a foreign web ACL: maint's rule injected into (or
/// updated in, or put back into) the one web ACL every member is under.
/// Refused as a whole, nothing changed, unless every member is under that
/// one web ACL and every load balancer under it is a member.
fn enter_injected(
    world: &mut World,
    window: &Window,
    lbs: &[LoadBalancerArn],
    places: Vec<Result<Place>>,
    spec: &MaintenanceSpec,
    mode: Mode,
) -> MemberResults<Outcome> {
    let Some((host, host_name)) = places.iter().find_map(|p| match p {
        Ok(Place::Foreign { arn, name, .. }) => Some((arn.clone(), name.clone())),
        _ => None,
    }) else {
        return Err(Error::unexpected("no foreign web ACL to inject into"));
    };
    for (lb, place) in lbs.iter().zip(&places) {
        match place {
            Ok(Place::Foreign { arn, .. }) if *arn == host => {}
            Ok(_) => {
                return Err(Error::Conflict {
                    resource: host.clone(),
                    message: format!(
                        "window {} would go into maintenance through web ACL {host_name}, but \
                         {lb} is not under it; the members of a window maint injects its rule \
                         for must all be under that one web ACL",
                        window.name()
                    ),
                })
            }
            Err(_) => {}
        }
    }
    let named: BTreeSet<&str> = lbs.iter().map(LoadBalancerArn::as_str).collect();
    let others: Vec<String> = world
        .associated(&host)
        .into_iter()
        .filter(|lb| !named.contains(lb.as_str()))
        .collect();
    if !others.is_empty() {
        return Err(Error::Conflict {
            resource: host.clone(),
            message: format!(
                "maintenance through web ACL {host_name} would reach {} too; name them \
                 together in one service",
                others.join(", ")
            ),
        });
    }
    if let Some(own) = world.window_arn(window.name()) {
        if world.in_use(&own) > 0 {
            return Err(Error::Conflict {
                resource: own,
                message: format!(
                    "window {} is under maint's own web ACL for other load balancers; a \
                     window is either injected into one web ACL or under maint's own",
                    window.name()
                ),
            });
        }
    }
    let Some(WebAcl::Foreign { injected, .. }) = world.web_acls.get_mut(&host) else {
        return Err(Error::unexpected("web ACL vanished"));
    };
    let joining = lbs
        .iter()
        .zip(&places)
        .filter(|(_, p)| p.is_ok())
        .map(|(lb, _)| lb.to_string());
    let changes = match injected {
        Some(injection) if injection.info.window != window.name() => {
            return Err(Error::Conflict {
                resource: host.clone(),
                message: format!(
                    "web ACL {host_name} carries maint's rule for window {}, not {}; act on it \
                     through that window",
                    injection.info.window,
                    window.name()
                ),
            });
        }
        Some(injection) if !injection.rule && spec.existing_web_acl != ExistingWebAcl::Inject => {
            // Someone removed maint's rule: putting it back takes consent
            // again.
            return Ok(lbs
                .iter()
                .zip(places)
                .map(|(lb, p)| p.and_then(|_| Err(foreign(lb, host.clone(), host_name.clone()))))
                .collect());
        }
        Some(injection) => {
            window.check_joins(
                &host,
                injection.service.as_deref(),
                injection.members.iter().map(String::as_str),
                lbs,
            )?;
            let wanted = reentry_spec(&injection.info, spec)?;
            let mut changes = Vec::new();
            if !injection.rule {
                changes.push(Change::RuleInjected {
                    web_acl: host_name.clone(),
                });
            }
            changes.extend(spec_changes(&injection.info, &wanted));
            if mode == Mode::Apply {
                update_info(&mut injection.info, &wanted);
                if !injection.rule {
                    injection.info.since = Utc::now();
                    injection.rule = true;
                }
                injection.members.extend(joining);
            }
            changes
        }
        None => {
            if mode == Mode::Apply {
                let info = new_info(window.name(), &host, spec, Some(host_name.clone()), false);
                *injected = Some(Injection {
                    service: window.service().map(str::to_string),
                    members: joining.collect(),
                    info: Box::new(info),
                    rule: true,
                });
            }
            vec![Change::RuleInjected {
                web_acl: host_name.clone(),
            }]
        }
    };
    Ok(lbs
        .iter()
        .zip(places)
        .map(|(lb, p)| p.map(|_| outcome(lb, mode, changes.clone())))
        .collect())
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
        let places: Vec<Result<Place>> = lbs
            .iter()
            .map(|lb| self.check_exists(&world, lb).map(|()| world.place(lb)))
            .collect();
        // Through a foreign web ACL: with consent, or to update (or put
        // back) this window's rule already in one.
        let injected = places.iter().any(|p| match p {
            Ok(Place::Foreign { injected, .. }) => {
                spec.existing_web_acl == ExistingWebAcl::Inject
                    || injected.as_ref().is_some_and(|(w, _)| w == window.name())
            }
            _ => false,
        });
        if injected {
            return enter_injected(&mut world, window, lbs, places, spec, mode);
        }
        // Each member: Ok(true) to associate, Ok(false) already a member.
        let joining: Vec<Result<bool>> = lbs
            .iter()
            .zip(places)
            .map(|(lb, place)| match place? {
                Place::Normal => Ok(true),
                Place::Own { window: w, .. } if w == window.name() => Ok(false),
                Place::Own {
                    window: w,
                    blocking,
                    ..
                } => {
                    let what = if blocking { "in maintenance" } else { "armed" };
                    Err(Self::elsewhere(lb, what, &w, window))
                }
                Place::Foreign {
                    injected: Some((w, true)),
                    ..
                } => Err(Self::elsewhere(lb, "in maintenance", &w, window)),
                Place::Foreign { arn, name, .. } => Err(foreign(lb, arn, name)),
            })
            .collect();
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
                let Some(WebAcl::Ours { info, blocking, .. }) = world.web_acls.get(&arn) else {
                    return Err(Error::unexpected("window vanished"));
                };
                let current = info.clone();
                // An armed window in pass-through form is switched on, in
                // the same one update.
                let switch_on = !*blocking;
                let wanted = reentry_spec(&current, spec)?;
                let mut changes = Vec::new();
                if switch_on {
                    changes.push(Change::SwitchedOn);
                }
                changes.extend(spec_changes(&current, &wanted));
                if mode == Mode::Apply {
                    if let Some(WebAcl::Ours {
                        info,
                        members,
                        blocking,
                        ..
                    }) = world.web_acls.get_mut(&arn)
                    {
                        update_info(info, &wanted);
                        if switch_on {
                            info.since = Utc::now();
                            *blocking = true;
                        }
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
                    world.web_acls.insert(
                        made.clone(),
                        WebAcl::Ours {
                            name: name.clone(),
                            service: window.service().map(str::to_string),
                            members: new.iter().map(|lb| lb.to_string()).collect(),
                            info: Box::new(new_info(&name, &made, spec, None, false)),
                            blocking: true,
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
                    if let (Some(arn), Mode::Apply) = (&arn, mode) {
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
        /// What a member leaves.
        enum Leave {
            /// Nothing: normal, or armed in pass-through form.
            Nothing,
            /// maint's own web ACL (blocking).
            Own(String),
            /// maint's rule in this foreign web ACL.
            Injected(String),
        }
        let mut world = self.lock();
        let mut leaving: Vec<Result<Leave>> = lbs
            .iter()
            .map(|lb| {
                self.check_exists(&world, lb)?;
                Ok(match world.place(lb) {
                    Place::Normal
                    | Place::Own {
                        blocking: false, ..
                    } => Leave::Nothing,
                    Place::Own { arn, .. } => Leave::Own(arn),
                    Place::Foreign {
                        arn,
                        injected: Some(_),
                        ..
                    } => Leave::Injected(arn),
                    Place::Foreign {
                        arn,
                        name,
                        injected: None,
                    } => return Err(foreign(lb, arn, name)),
                })
            })
            .collect();

        // Injected windows: the rule is shared by every load balancer under
        // the web ACL, so they leave together or not at all.
        let mut removed: HashMap<String, String> = HashMap::new();
        let hosts: BTreeSet<String> = leaving
            .iter()
            .filter_map(|l| match l {
                Ok(Leave::Injected(arn)) => Some(arn.clone()),
                _ => None,
            })
            .collect();
        for host in hosts {
            let Some(WebAcl::Foreign {
                name,
                injected: Some(injection),
            }) = world.web_acls.get(&host)
            else {
                return Err(Error::unexpected("injected window vanished"));
            };
            let name = name.clone();
            let mut sharing = world.associated(&host);
            sharing.extend(injection.members.iter().cloned());
            let named: BTreeSet<&str> = lbs.iter().map(LoadBalancerArn::as_str).collect();
            let missing: Vec<&str> = sharing
                .iter()
                .map(String::as_str)
                .filter(|lb| !named.contains(lb))
                .collect();
            if missing.is_empty() {
                if mode == Mode::Apply {
                    if let Some(WebAcl::Foreign { injected, .. }) = world.web_acls.get_mut(&host) {
                        *injected = None;
                    }
                }
                removed.insert(host, name);
            } else {
                let conflict = Error::Conflict {
                    resource: host.clone(),
                    message: format!(
                        "maint's rule in web ACL {name} (window {}) is shared by every load \
                         balancer under it; exit them together (also {})",
                        injection.info.window,
                        missing.join(", ")
                    ),
                };
                for l in &mut leaving {
                    if matches!(l, Ok(Leave::Injected(a)) if *a == host) {
                        *l = Err(conflict.clone());
                    }
                }
            }
        }

        // maint's own windows touched: those members leave, and `window`
        // itself (leftovers of an interrupted run).
        let mut windows: Vec<String> = leaving
            .iter()
            .filter_map(|l| match l {
                Ok(Leave::Own(arn)) => Some(arn.clone()),
                _ => None,
            })
            .collect();
        windows.extend(world.window_arn(window.name()));
        windows.sort();
        windows.dedup();
        let mut deleted: HashMap<String, String> = HashMap::new();
        let mut switched_off: BTreeSet<String> = BTreeSet::new();
        for arn in &windows {
            let leavers: Vec<&LoadBalancerArn> = lbs
                .iter()
                .zip(&leaving)
                .filter(|(_, l)| matches!(l, Ok(Leave::Own(a)) if a == arn))
                .map(|(lb, _)| lb)
                .collect();
            let remaining = world.in_use(arn) - leavers.len();
            let armed = matches!(
                world.web_acls.get(arn),
                Some(WebAcl::Ours { info, .. }) if info.armed_since.is_some()
            );
            if remaining == 0 && armed && !leavers.is_empty() {
                // Every member leaves an armed window: switched back to
                // pass-through, still associated, still armed.
                switched_off.insert(arn.clone());
                if mode == Mode::Apply {
                    if let Some(WebAcl::Ours { blocking, .. }) = world.web_acls.get_mut(arn) {
                        *blocking = false;
                    }
                }
                continue;
            }
            let named: Vec<&LoadBalancerArn> = lbs.iter().collect();
            if let Some(name) = world.leave(arn, &leavers, &named, remaining == 0, mode) {
                deleted.insert(arn.clone(), name);
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
                let mut changes = Vec::new();
                let gone = match left? {
                    Leave::Injected(host) => {
                        if let Some(name) = removed.get(&host) {
                            changes.push(Change::RuleRemoved {
                                web_acl: name.clone(),
                            });
                        }
                        None
                    }
                    Leave::Own(arn) if switched_off.contains(&arn) => {
                        changes.push(Change::SwitchedOff);
                        None
                    }
                    Leave::Own(arn) => {
                        changes.push(Change::Disassociated);
                        deleted.get(&arn)
                    }
                    // A normal member reports its window's leftovers going.
                    Leave::Nothing => own.as_ref().and_then(|arn| deleted.get(arn)),
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
        let members: Vec<Result<String>> = lbs
            .iter()
            .map(|lb| {
                self.check_exists(&world, lb)?;
                let not_in = || Error::NotInMaintenance {
                    load_balancer: lb.to_string(),
                };
                match world.place(lb) {
                    Place::Normal => Err(not_in()),
                    // Armed windows are edited in pass-through form too.
                    Place::Own { arn, window: w, .. } if w == window.name() => Ok(arn),
                    Place::Own {
                        window: w,
                        blocking,
                        ..
                    } => {
                        let what = if blocking { "in maintenance" } else { "armed" };
                        Err(Self::elsewhere(lb, what, &w, window))
                    }
                    Place::Foreign {
                        arn,
                        injected: Some((w, true)),
                        ..
                    } if w == window.name() => Ok(arn),
                    Place::Foreign {
                        injected: Some((w, true)),
                        ..
                    } => Err(Self::elsewhere(lb, "in maintenance", &w, window)),
                    // maint's rule was removed: not in maintenance.
                    Place::Foreign {
                        injected: Some(_), ..
                    } => Err(not_in()),
                    Place::Foreign { arn, name, .. } => Err(foreign(lb, arn, name)),
                }
            })
            .collect();
        let Some(arn) = members.iter().find_map(|m| m.as_ref().ok()).cloned() else {
            // No member in the window's maintenance: each says why.
            return Ok(members
                .into_iter()
                .map(|m| m.and_then(|_| Err(Error::unexpected("no window"))))
                .collect());
        };
        let Some(info) = world.info_mut(&arn) else {
            return Err(Error::unexpected("window vanished"));
        };
        let after = change.apply(&info.allowlist)?;
        let bypass = info.bypass.clone().map(|b| BypassState {
            enabled: change.bypass_enabled(b.enabled),
            ..b
        });
        let mut changes = allowlist_changes(&info.allowlist, &after);
        changes.extend(bypass_changes(info.bypass.as_ref(), bypass.as_ref()));
        if mode == Mode::Apply {
            info.allowlist = after;
            info.bypass = bypass;
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
        window: &Window,
        lbs: &[LoadBalancerArn],
        spec: &MaintenanceSpec,
        mode: Mode,
    ) -> MemberResults<Outcome> {
        let mut world = self.lock();
        // Each member: Ok(true) to associate, Ok(false) already a member.
        let mut joining: Vec<Result<bool>> = lbs
            .iter()
            .map(|lb| {
                self.check_exists(&world, lb)?;
                match world.place(lb) {
                    Place::Normal => Ok(true),
                    Place::Own { window: w, .. } if w == window.name() => Ok(false),
                    Place::Own {
                        window: w,
                        blocking,
                        ..
                    } => {
                        let what = if blocking { "in maintenance" } else { "armed" };
                        Err(Self::elsewhere(lb, what, &w, window))
                    }
                    // Injected or not: a service with a web ACL of its own
                    // needs no arming.
                    Place::Foreign { arn, name, .. } => Err(foreign(lb, arn, name)),
                }
            })
            .collect();
        let existing = world.window_arn(window.name());
        if let Some(arn) = &existing {
            Self::check_identity(&world, arn, window, lbs)?;
        }
        let mut window_changes = Vec::new();
        // What each member associated reports.
        let mut member_change = Some(Change::Armed);
        let arn = match existing {
            Some(arn) => {
                let in_use = world.in_use(&arn);
                let Some(WebAcl::Ours { info, blocking, .. }) = world.web_acls.get(&arn) else {
                    return Err(Error::unexpected("window vanished"));
                };
                let current = info.clone();
                if *blocking && in_use > 0 {
                    // In maintenance: marked armed, nothing else changes,
                    // and nobody joins (that would be maintenance for them).
                    if current.armed_since.is_none() {
                        window_changes.push(Change::Armed);
                    }
                    member_change = None;
                    for (lb, j) in lbs.iter().zip(&mut joining) {
                        if matches!(j, Ok(true)) {
                            *j = Err(Error::Conflict {
                                resource: lb.to_string(),
                                message: format!(
                                    "window {} is in maintenance: arming would put {lb} into \
                                     maintenance too; `maint enter` it, or arm it after \
                                     `maint exit`",
                                    window.name()
                                ),
                            });
                        }
                    }
                    if mode == Mode::Apply {
                        if let Some(WebAcl::Ours { info, .. }) = world.web_acls.get_mut(&arn) {
                            info.armed_since.get_or_insert_with(Utc::now);
                        }
                    }
                } else {
                    // Armed already (or left by an interrupted run): brought
                    // to the spec as a repeated `enter` does, in
                    // pass-through form.
                    let wanted = reentry_spec(&current, spec)?;
                    window_changes = spec_changes(&current, &wanted);
                    if mode == Mode::Apply {
                        let new = lbs
                            .iter()
                            .zip(&joining)
                            .filter(|(_, j)| matches!(j, Ok(true)));
                        let new: Vec<String> = new.map(|(lb, _)| lb.to_string()).collect();
                        if let Some(WebAcl::Ours {
                            info,
                            members,
                            blocking,
                            ..
                        }) = world.web_acls.get_mut(&arn)
                        {
                            update_info(info, &wanted);
                            info.armed_since.get_or_insert_with(Utc::now);
                            *blocking = false;
                            members.extend(new);
                        }
                    }
                }
                Some(arn)
            }
            None if !joining.iter().any(|j| matches!(j, Ok(true))) => None,
            None => {
                let name = window.name().to_string();
                window_changes.push(Change::CreatedWebAcl { name: name.clone() });
                if mode == Mode::Apply {
                    world.next_id += 1;
                    let made = self.web_acl_arn(&name, world.next_id);
                    let members = lbs
                        .iter()
                        .zip(&joining)
                        .filter(|(_, j)| matches!(j, Ok(true)));
                    world.web_acls.insert(
                        made.clone(),
                        WebAcl::Ours {
                            name: name.clone(),
                            service: window.service().map(str::to_string),
                            members: members.map(|(lb, _)| lb.to_string()).collect(),
                            info: Box::new(new_info(&name, &made, spec, None, true)),
                            blocking: false,
                        },
                    );
                    Some(made)
                } else {
                    None
                }
            }
        };
        Ok(lbs
            .iter()
            .zip(joining)
            .map(|(lb, joining)| {
                let mut changes = window_changes.clone();
                if joining? {
                    if let (Some(arn), Mode::Apply) = (&arn, mode) {
                        world
                            .associations
                            .insert(lb.as_str().to_string(), arn.clone());
                    }
                    changes.extend(member_change.clone());
                }
                Ok(outcome(lb, mode, changes))
            })
            .collect())
    }

    async fn disarm_window(
        &self,
        _window: &Window,
        lbs: &[LoadBalancerArn],
        mode: Mode,
    ) -> MemberResults<Outcome> {
        let mut world = self.lock();
        // Each member: the armed window it leaves, if any.
        let leaving: Vec<Result<Option<String>>> = lbs
            .iter()
            .map(|lb| {
                self.check_exists(&world, lb)?;
                match world.place(lb) {
                    Place::Own {
                        arn,
                        blocking: false,
                        ..
                    } => Ok(Some(arn)),
                    Place::Own {
                        window: w,
                        armed: true,
                        ..
                    } => Err(Error::Conflict {
                        resource: lb.to_string(),
                        message: format!(
                            "armed window {w} is in maintenance; `maint exit` first, then disarm"
                        ),
                    }),
                    // Not armed: nothing to do.
                    _ => Ok(None),
                }
            })
            .collect();
        let mut windows: Vec<String> = leaving
            .iter()
            .filter_map(|l| l.as_ref().ok().cloned().flatten())
            .collect();
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
            if let Some(name) = world.leave(arn, &leavers, &leavers, remaining == 0, mode) {
                deleted.insert(arn.clone(), name);
            }
        }
        Ok(lbs
            .iter()
            .zip(leaving)
            .map(|(lb, left)| {
                let mut changes = Vec::new();
                if let Some(arn) = left? {
                    changes.push(Change::Disarmed);
                    if let Some(name) = deleted.get(&arn) {
                        changes.push(Change::DeletedWebAcl { name: name.clone() });
                    }
                }
                Ok(outcome(lb, mode, changes))
            })
            .collect())
    }

    async fn shared_windows(
        &self,
        lbs: &[LoadBalancerArn],
        consent: bool,
    ) -> Result<Vec<Option<Window>>> {
        use crate::maintenance::Standing;
        let world = self.lock();
        let standings: Vec<Standing> = lbs
            .iter()
            .map(|lb| {
                let Some(arn) = world.associations.get(lb.as_str()) else {
                    return Standing::Other;
                };
                match world.web_acls.get(arn) {
                    Some(WebAcl::Ours { name, service, .. }) => {
                        Standing::Window(Window::recorded(name, service.as_deref()))
                    }
                    Some(WebAcl::Foreign {
                        injected: Some(i), ..
                    }) => Standing::Window(Window::recorded(&i.info.window, i.service.as_deref())),
                    Some(WebAcl::Foreign { name, .. }) => Standing::Foreign {
                        web_acl: name.clone(),
                    },
                    None => Standing::Other,
                }
            })
            .collect();
        Ok(crate::maintenance::shared_windows(lbs, &standings, consent))
    }

    async fn windows(&self) -> Result<Vec<crate::maintenance::WindowSummary>> {
        let world = self.lock();
        let members = |set: &BTreeSet<String>| -> Vec<LoadBalancerArn> {
            set.iter()
                .filter_map(|m| LoadBalancerArn::parse(m).ok())
                .collect()
        };
        let mut found: Vec<crate::maintenance::WindowSummary> = world
            .web_acls
            .values()
            .filter_map(|acl| match acl {
                WebAcl::Ours {
                    name,
                    service,
                    members: m,
                    info,
                    blocking,
                } => Some(crate::maintenance::WindowSummary {
                    window: Window::recorded(name, service.as_deref()),
                    members: members(m),
                    until: info.until,
                    in_maintenance: *blocking,
                    problem: None,
                }),
                WebAcl::Foreign {
                    injected: Some(i), ..
                } => Some(crate::maintenance::WindowSummary {
                    window: Window::recorded(&i.info.window, i.service.as_deref()),
                    members: members(&i.members),
                    until: i.info.until,
                    in_maintenance: i.rule,
                    problem: None,
                }),
                WebAcl::Foreign { injected: None, .. } => None,
            })
            .collect();
        found.sort_by(|a, b| a.window.name().cmp(b.window.name()));
        Ok(found)
    }

    async fn check(
        &self,
        lb: &LoadBalancerArn,
        request: &crate::check::CheckRequest,
    ) -> Result<crate::check::CheckReport> {
        let status = self.status(lb).await?;
        Ok(crate::check::decide(lb, &status.state, request))
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
                    kept: None,
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

    /// Three load balancers under one shared foreign web ACL, a fourth
    /// under nothing; the service window of the three.
    fn shared_acl() -> (MemoryBackend, Vec<LoadBalancerArn>, String, Window) {
        let backend = MemoryBackend::new("eu-west-1");
        let lbs: Vec<LoadBalancerArn> = ["shop-a", "shop-b", "shop-c", "other"]
            .iter()
            .map(|n| {
                LoadBalancerArn::parse(&backend.add_load_balancer(n, LoadBalancerType::Application))
                    .unwrap()
            })
            .collect();
        let acl = backend.associate_foreign_web_acl(&lbs[0], "shop-security");
        backend.associate_web_acl(&lbs[1], &acl);
        backend.associate_web_acl(&lbs[2], &acl);
        (backend, lbs, acl, Window::of_service("shop"))
    }

    fn inject_spec(entries: &[&str], reason: &str) -> MaintenanceSpec {
        MaintenanceSpec {
            allowlist: crate::allowlist::Allowlist::parse(entries).unwrap(),
            reason: Some(crate::maintenance::Reason::new(reason).unwrap()),
            existing_web_acl: ExistingWebAcl::Inject,
            ..MaintenanceSpec::default()
        }
    }

    async fn states(backend: &MemoryBackend, w: &Window, lbs: &[LoadBalancerArn]) -> Vec<State> {
        backend
            .window_status(w, lbs)
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.unwrap().state)
            .collect()
    }

    fn changes(results: MemberResults<Outcome>) -> Vec<Vec<Change>> {
        results
            .unwrap()
            .into_iter()
            .map(|r| r.unwrap().changes)
            .collect()
    }

    fn conflict(results: MemberResults<Outcome>) -> String {
        match results {
            Err(e @ Error::Conflict { .. }) => e.to_string(),
            other => panic!("expected a conflict, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_shared_web_acl_is_refused_without_consent_and_changes_nothing() {
        let (backend, lbs, acl, w) = shared_acl();
        let shop = &lbs[..3];
        let before = states(&backend, &w, &lbs).await;
        let mut refuse = inject_spec(&["192.0.2.1"], "no consent");
        refuse.existing_web_acl = ExistingWebAcl::Refuse;
        for mode in [Mode::DryRun, Mode::Apply] {
            let results = backend.enter_window(&w, shop, &refuse, mode).await.unwrap();
            for r in results {
                match r {
                    Err(Error::ForeignWebAcl { web_acl_arn, .. }) => assert_eq!(web_acl_arn, acl),
                    other => panic!("expected ForeignWebAcl, got {other:?}"),
                }
            }
        }
        assert_eq!(states(&backend, &w, &lbs).await, before);
        assert!(matches!(before[0], State::Foreign { .. }));
        assert!(backend.cleanup(Mode::DryRun).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn injection_is_refused_when_the_web_acl_reaches_beyond_the_window() {
        let (backend, lbs, acl, w) = shared_acl();
        let before = states(&backend, &w, &lbs).await;
        let s = inject_spec(&[], "too narrow");
        // Two of the three: the third would be in maintenance too.
        let message = conflict(backend.enter_window(&w, &lbs[..2], &s, Mode::Apply).await);
        assert!(
            message.contains("shop-security")
                && message.contains(lbs[2].as_str())
                && message.contains("name them together in one service"),
            "{message}"
        );
        // The ACL also protects a load balancer outside the service.
        backend.associate_web_acl(&lbs[3], &acl);
        let message = conflict(backend.enter_window(&w, &lbs[..3], &s, Mode::Apply).await);
        assert!(message.contains(lbs[3].as_str()), "{message}");
        // A member not under the ACL: refused as a whole too.
        let (backend, lbs, _, w) = shared_acl();
        let message = conflict(backend.enter_window(&w, &lbs, &s, Mode::Apply).await);
        assert!(message.contains("not under it"), "{message}");
        assert_eq!(states(&backend, &w, &lbs).await, before);
    }

    #[tokio::test]
    async fn an_injected_window_is_entered_edited_and_exited_together() {
        let (backend, lbs, acl, w) = shared_acl();
        let shop = &lbs[..3];
        let s = inject_spec(&["192.0.2.1"], "db move");
        let injected = vec![Change::RuleInjected {
            web_acl: "shop-security".into(),
        }];
        let plan = changes(backend.enter_window(&w, shop, &s, Mode::DryRun).await);
        assert_eq!(plan, vec![injected.clone(); 3]);
        assert!(matches!(
            states(&backend, &w, shop).await[0],
            State::Foreign { .. }
        ));
        let out = changes(backend.enter_window(&w, shop, &s, Mode::Apply).await);
        assert_eq!(out, vec![injected; 3]);
        for state in states(&backend, &w, shop).await {
            let State::Maintenance(info) = state else {
                panic!("{state:?}")
            };
            assert_eq!(info.host_web_acl.as_deref(), Some("shop-security"));
            assert_eq!(info.web_acl_arn, acl);
            assert_eq!(info.window, "maint-svc-shop");
            assert_eq!(info.reason.as_deref(), Some("db move"));
        }
        assert_eq!(
            states(&backend, &w, &lbs[3..]).await,
            [State::Normal],
            "the fourth is untouched"
        );

        // Allowlist edits and re-enters update the injected window in place.
        let add =
            AllowlistChange::Add(crate::allowlist::Allowlist::parse(["198.51.100.1"]).unwrap());
        let out = changes(
            backend
                .update_window_allowlist(&w, shop, &add, Mode::Apply)
                .await,
        );
        assert!(
            out.iter()
                .all(|c| matches!(c[..], [Change::AllowlistAdded { .. }])),
            "{out:?}"
        );
        let out = changes(
            backend
                .enter_window(
                    &w,
                    shop,
                    &inject_spec(&["192.0.2.2"], "db move"),
                    Mode::Apply,
                )
                .await,
        );
        assert!(
            out.iter()
                .all(|c| matches!(c[..], [Change::AllowlistAdded { .. }])),
            "{out:?}"
        );
        let State::Maintenance(info) = &states(&backend, &w, shop).await[0] else {
            panic!()
        };
        assert_eq!(info.allowlist.entries.len(), 3);
        assert!(backend.cleanup(Mode::Apply).await.unwrap().is_empty());

        // A subset cannot leave: the rule is shared.
        let before = states(&backend, &w, shop).await;
        let results = backend
            .exit_window(&w, &shop[..2], Mode::Apply)
            .await
            .unwrap();
        for r in results {
            match r {
                Err(e @ Error::Conflict { .. }) => {
                    let text = e.to_string();
                    assert!(
                        text.contains("exit them together") && text.contains(shop[2].as_str()),
                        "{text}"
                    );
                }
                other => panic!("expected a conflict, got {other:?}"),
            }
        }
        let alone = backend.exit(&shop[0], Mode::Apply).await;
        assert!(matches!(alone, Err(Error::Conflict { .. })), "{alone:?}");
        assert_eq!(states(&backend, &w, shop).await, before, "nothing changed");

        // All together: the rule goes, the ACL stays associated.
        let removed = vec![Change::RuleRemoved {
            web_acl: "shop-security".into(),
        }];
        let plan = changes(backend.exit_window(&w, shop, Mode::DryRun).await);
        assert_eq!(plan, vec![removed.clone(); 3]);
        assert_eq!(states(&backend, &w, shop).await, before);
        let out = changes(backend.exit_window(&w, shop, Mode::Apply).await);
        assert_eq!(out, vec![removed; 3]);
        for state in states(&backend, &w, shop).await {
            assert_eq!(
                state,
                State::Foreign {
                    web_acl_arn: acl.clone(),
                    web_acl_name: "shop-security".into()
                }
            );
        }
        let again = backend.exit_window(&w, shop, Mode::Apply).await.unwrap();
        assert!(again
            .iter()
            .all(|r| matches!(r, Err(Error::ForeignWebAcl { .. }))));
    }

    #[tokio::test]
    async fn a_reverted_injection_is_put_back_by_enter_and_cleared_by_exit() {
        let (backend, lbs, acl, w) = shared_acl();
        let shop = &lbs[..3];
        let s = inject_spec(&["192.0.2.1"], "db move");
        changes(backend.enter_window(&w, shop, &s, Mode::Apply).await);
        assert!(backend.revert_injection(&acl), "the rule was there");
        assert!(!backend.revert_injection(&acl), "and is gone");
        let reverted = State::Reverted {
            window: "maint-svc-shop".into(),
            web_acl_arn: acl.clone(),
            web_acl_name: "shop-security".into(),
        };
        assert_eq!(states(&backend, &w, shop).await, vec![reverted.clone(); 3]);
        let edit = backend
            .update_window_allowlist(&w, shop, &AllowlistChange::Disable, Mode::Apply)
            .await
            .unwrap();
        assert!(edit
            .iter()
            .all(|r| matches!(r, Err(Error::NotInMaintenance { .. }))));
        assert!(backend.cleanup(Mode::DryRun).await.unwrap().is_empty());

        // Putting the rule back takes consent again.
        let mut refuse = s.clone();
        refuse.existing_web_acl = ExistingWebAcl::Refuse;
        let results = backend
            .enter_window(&w, shop, &refuse, Mode::Apply)
            .await
            .unwrap();
        assert!(results
            .iter()
            .all(|r| matches!(r, Err(Error::ForeignWebAcl { .. }))));
        let out = changes(backend.enter_window(&w, shop, &s, Mode::Apply).await);
        assert_eq!(
            out,
            vec![
                vec![Change::RuleInjected {
                    web_acl: "shop-security".into()
                }];
                3
            ]
        );
        let State::Maintenance(info) = &states(&backend, &w, shop).await[0] else {
            panic!()
        };
        assert_eq!(info.host_web_acl.as_deref(), Some("shop-security"));

        // Reverted again, exit removes what is left of maint's.
        backend.revert_injection(&acl);
        let out = changes(backend.exit_window(&w, shop, Mode::Apply).await);
        assert_eq!(
            out,
            vec![
                vec![Change::RuleRemoved {
                    web_acl: "shop-security".into()
                }];
                3
            ]
        );
        assert!(states(&backend, &w, shop)
            .await
            .iter()
            .all(|s| matches!(s, State::Foreign { .. })));
    }

    #[tokio::test]
    async fn an_injected_rule_belongs_to_its_window() {
        let (backend, lbs, _, w) = shared_acl();
        let shop = &lbs[..3];
        changes(
            backend
                .enter_window(&w, shop, &inject_spec(&[], "x"), Mode::Apply)
                .await,
        );
        let other = Window::of_service("shop2");
        let message = conflict(
            backend
                .enter_window(&other, shop, &inject_spec(&[], "y"), Mode::Apply)
                .await,
        );
        assert!(message.contains("maint-svc-shop"), "{message}");
        changes(backend.exit_window(&w, shop, Mode::Apply).await);
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
