//! [`MemoryBackend`]: a complete in-process implementation of
//! [`MaintenanceBackend`] with the semantics of the WAF backend, for tests,
//! demos and trying the library without an AWS account.
//!
//! Like AWS, a load balancer carries at most one web ACL; a web ACL maint did
//! not create makes `enter` refuse; `enter` and `exit` are idempotent; every
//! operation is atomic, so concurrent allowlist edits all survive.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::Utc;

use super::{web_acl_name, Leftover, MaintenanceBackend};
use crate::maintenance::{
    allowlist_changes, reentry_spec, spec_changes, AllowlistChange, AllowlistState, Change,
    MaintenanceInfo, MaintenanceSpec, Mode, Outcome, State, TargetStatus,
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
    Ours { name: String, info: MaintenanceInfo },
    Foreign { name: String },
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

    /// Makes the next `enter` that creates a web ACL stop right after
    /// creating it, before associating it, as a run killed half way does:
    /// the web ACL is left over (see `status`'s leftovers and `cleanup`).
    pub fn interrupt_next_enter(&self) {
        self.interrupt.store(true, Ordering::SeqCst);
    }

    /// maint's web ACLs for `lb` that exist but are not associated: left by
    /// an interrupted `enter`, as (ARN, name).
    fn leftovers_of(world: &World, lb: &LoadBalancerArn) -> Vec<(String, String)> {
        let wanted = web_acl_name(lb);
        let used: std::collections::HashSet<&String> = world.associations.values().collect();
        world
            .web_acls
            .iter()
            .filter(|(arn, _)| !used.contains(arn))
            .filter_map(|(arn, acl)| match acl {
                WebAcl::Ours { name, .. } if *name == wanted => Some((arn.clone(), name.clone())),
                _ => None,
            })
            .collect()
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
        // A panic elsewhere cannot leave World half-updated: every mutation
        // below is a single insert or remove.
        self.world.lock().unwrap_or_else(|e| e.into_inner())
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
            Some(WebAcl::Ours { info, .. }) => State::Maintenance(Box::new(info.clone())),
            Some(WebAcl::Foreign { name }) => State::Foreign {
                web_acl_arn: acl_arn.clone(),
                web_acl_name: name.clone(),
            },
            None => State::Normal,
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

    async fn enter(
        &self,
        lb: &LoadBalancerArn,
        spec: &MaintenanceSpec,
        mode: Mode,
    ) -> Result<Outcome> {
        let mut world = self.lock();
        self.check_exists(&world, lb)?;
        let changes = match Self::state_of(&world, lb) {
            State::Foreign {
                web_acl_arn,
                web_acl_name,
            } => return Err(foreign(lb, web_acl_arn, web_acl_name)),
            State::Normal => {
                let name = web_acl_name(lb);
                if mode == Mode::Apply {
                    // A leftover of an interrupted run is adopted, as the WAF
                    // backend finds its resources by name.
                    let arn = match Self::leftovers_of(&world, lb).pop() {
                        Some((arn, _)) => arn,
                        None => {
                            world.next_id += 1;
                            self.web_acl_arn(&name, world.next_id)
                        }
                    };
                    let info = MaintenanceInfo {
                        web_acl_arn: arn.clone(),
                        reason: spec.reason.as_ref().map(|r| r.as_str().to_string()),
                        since: Utc::now(),
                        until: spec.until,
                        allowlist: AllowlistState {
                            enabled: spec.allowlist_enabled,
                            entries: spec.allowlist.clone(),
                        },
                        response: spec.response.clone(),
                    };
                    world.web_acls.insert(
                        arn.clone(),
                        WebAcl::Ours {
                            name: name.clone(),
                            info,
                        },
                    );
                    if self.interrupt.swap(false, Ordering::SeqCst) {
                        return Err(Error::unexpected(format!(
                            "enter of {lb} interrupted after creating {name} (test hook)"
                        )));
                    }
                    world.associations.insert(lb.as_str().to_string(), arn);
                }
                vec![Change::CreatedWebAcl { name }, Change::Associated]
            }
            State::Maintenance(current) => {
                let spec = &reentry_spec(&current, spec)?;
                let changes = spec_changes(&current, spec);
                if mode == Mode::Apply && !changes.is_empty() {
                    if let Some(WebAcl::Ours { info, .. }) =
                        world.web_acls.get_mut(&current.web_acl_arn)
                    {
                        info.reason = spec.reason.as_ref().map(|r| r.as_str().to_string());
                        info.until = spec.until;
                        info.allowlist = AllowlistState {
                            enabled: spec.allowlist_enabled,
                            entries: spec.allowlist.clone(),
                        };
                        info.response = spec.response.clone();
                    }
                }
                changes
            }
        };
        Ok(Outcome {
            load_balancer: lb.clone(),
            mode,
            changes,
        })
    }

    async fn exit(&self, lb: &LoadBalancerArn, mode: Mode) -> Result<Outcome> {
        let mut world = self.lock();
        self.check_exists(&world, lb)?;
        let changes = match Self::state_of(&world, lb) {
            State::Foreign {
                web_acl_arn,
                web_acl_name,
            } => return Err(foreign(lb, web_acl_arn, web_acl_name)),
            // A normal target's leftovers (of an interrupted enter) go too.
            State::Normal => {
                let leftovers = Self::leftovers_of(&world, lb);
                if mode == Mode::Apply {
                    for (arn, _) in &leftovers {
                        world.web_acls.remove(arn);
                    }
                }
                leftovers
                    .into_iter()
                    .map(|(_, name)| Change::DeletedWebAcl { name })
                    .collect()
            }
            State::Maintenance(info) => {
                let name = match world.web_acls.get(&info.web_acl_arn) {
                    Some(WebAcl::Ours { name, .. }) => name.clone(),
                    _ => web_acl_name(lb),
                };
                if mode == Mode::Apply {
                    world.associations.remove(lb.as_str());
                    world.web_acls.remove(&info.web_acl_arn);
                }
                vec![Change::Disassociated, Change::DeletedWebAcl { name }]
            }
        };
        Ok(Outcome {
            load_balancer: lb.clone(),
            mode,
            changes,
        })
    }

    async fn update_allowlist(
        &self,
        lb: &LoadBalancerArn,
        change: &AllowlistChange,
        mode: Mode,
    ) -> Result<Outcome> {
        let mut world = self.lock();
        self.check_exists(&world, lb)?;
        let current = match Self::state_of(&world, lb) {
            State::Foreign {
                web_acl_arn,
                web_acl_name,
            } => return Err(foreign(lb, web_acl_arn, web_acl_name)),
            State::Normal => {
                return Err(Error::NotInMaintenance {
                    load_balancer: lb.to_string(),
                })
            }
            State::Maintenance(info) => info,
        };
        let after = change.apply(&current.allowlist)?;
        let changes = allowlist_changes(&current.allowlist, &after);
        if mode == Mode::Apply {
            if let Some(WebAcl::Ours { info, .. }) = world.web_acls.get_mut(&current.web_acl_arn) {
                info.allowlist = after;
            }
        }
        Ok(Outcome {
            load_balancer: lb.clone(),
            mode,
            changes,
        })
    }

    async fn status(&self, lb: &LoadBalancerArn) -> Result<TargetStatus> {
        let world = self.lock();
        self.check_exists(&world, lb)?;
        Ok(TargetStatus {
            load_balancer: lb.clone(),
            state: Self::state_of(&world, lb),
            leftovers: Self::leftovers_of(&world, lb)
                .into_iter()
                .map(|(_, name)| name)
                .collect(),
        })
    }

    async fn cleanup(&self, mode: Mode) -> Result<Vec<Leftover>> {
        let mut world = self.lock();
        let used: std::collections::HashSet<String> =
            world.associations.values().cloned().collect();
        let leftovers: Vec<Leftover> = world
            .web_acls
            .iter()
            .filter(|(arn, _)| !used.contains(*arn))
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
