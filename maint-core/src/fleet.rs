//! The engine behind every front end: acting on many targets at once.
//!
//! A [`Fleet`] owns every decision about many targets that a user could
//! observe, so the CLI and the Python package only convert arguments and
//! print or return what it reports:
//! - **Expand**: service names from the config file become their load
//!   balancers, every name is checked before anything talks to AWS, a load
//!   balancer named twice is acted on once, and no targets means every
//!   service of the config file.
//! - **Resolve all or nothing**: a changing command looks every target up
//!   (one batched call per region) and changes nothing when any of them
//!   cannot be found ([`Error::Unresolved`]): a service is never half
//!   switched because one of its load balancers is missing. `status` reports
//!   each target's own failure instead.
//! - **One spec per service**: `enter`'s arguments are combined with each
//!   service's settings, and every combination is validated before the first
//!   change.
//! - **One window per service**: the targets of one config service in one
//!   region are one [`Window`] (one web ACL for all), acted on in one
//!   backend call; a target named alone is a window of one.
//! - **Run, bounded and in order**: windows are acted on concurrently (at
//!   most [`Fleet::with_concurrency`] at once); each target's outcome is
//!   reported to an [`Observer`] as its window completes, and the results
//!   come back in the order the targets were given. One target's failure
//!   never hides the others'.
//! - **Every region**: `cleanup` covers the default region and every region
//!   the config file's services use.
//!
//! Built on the [`MaintenanceBackend`] trait, outside it: one backend per
//! region, made on first use by a [`BackendFactory`].

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};
use tokio::sync::Mutex;

use crate::access::{BypassRequest, ClientIp};
use crate::allowlist::Allowlist;
use crate::backend::{
    AllowlistChange, BackendFactory, ExistingWebAcl, MaintenanceBackend, MaintenanceSpec,
    MemberResults, Mode, Reason, Window, WindowSummary,
};
use crate::check::{CheckReport, CheckRequest};
use crate::config::{did_you_mean, Config, Service};
use crate::maintenance::Given;
use crate::report::{
    ChangeReport, ChangeRun, CleanedUp, CleanupRun, ErrorReport, Operation, RegionError,
    StatusReport, StatusRun,
};
use crate::response::{ContentType, ResponseBody, ResponseHeader, ResponseRequest, ResponseStatus};
use crate::target::{LoadBalancerArn, LoadBalancerRef, TargetRef};
use crate::{Error, Result};

/// How many windows are acted on at once by default. Within a window the
/// members go one after the other; across windows, AWS WAF's call-rate
/// quotas (which the WAF backend paces every call to) decide, so this only
/// bounds the calls in flight.
pub const DEFAULT_CONCURRENCY: usize = 32;

/// What a [`Fleet`] reports while a command runs, for progress lines and
/// per-target output.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// The targets are known (expanded, not yet looked up); each will be
    /// reported on, in this order.
    Started {
        /// The targets.
        targets: &'a [TargetRef],
    },
    /// A changing command finished with one target (in completion order).
    ChangeDone {
        /// The target's position in the results.
        index: usize,
        /// Its result.
        report: &'a ChangeReport,
    },
    /// `status` read one target (in completion order).
    StatusDone {
        /// The target's position in the results.
        index: usize,
        /// Its state.
        report: &'a StatusReport,
    },
}

/// Receives a [`Fleet`]'s [`Event`]s. Any `Fn(&Event)` is an observer.
pub trait Observer: Send + Sync {
    /// Called for each event, on the task running the command.
    fn event(&self, event: &Event<'_>);
}

impl<F: Fn(&Event<'_>) + Send + Sync> Observer for F {
    fn event(&self, event: &Event<'_>) {
        self(event)
    }
}

/// An observer that ignores every event.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Observer for Silent {
    fn event(&self, _: &Event<'_>) {}
}

/// A load balancer found in AWS, with the backend of its region.
type Found = (LoadBalancerArn, Arc<dyn MaintenanceBackend>);

/// The targets of one command and the backends that reach them.
pub struct Fleet {
    config: Option<Config>,
    region: Option<String>,
    factory: BackendFactory,
    backends: Mutex<HashMap<Option<String>, Arc<dyn MaintenanceBackend>>>,
    concurrency: usize,
}

impl Fleet {
    /// A [`FleetBuilder`]: the usual way to make a fleet (AWS options or
    /// a backend, a config, a region, a concurrency).
    pub fn builder() -> FleetBuilder {
        FleetBuilder::default()
    }

    /// A fleet from a backend factory ([`Fleet::builder`] makes one from
    /// AWS options or a backend). `region` is the explicit region (a
    /// `--region` flag), which wins over the config file's default; a
    /// service's own region and an ARN's region win over both.
    pub fn new(config: Option<Config>, region: Option<String>, factory: BackendFactory) -> Self {
        Self {
            config,
            region,
            factory,
            backends: Mutex::new(HashMap::new()),
            concurrency: DEFAULT_CONCURRENCY,
        }
    }

    /// Sets how many targets are acted on at once (at least 1).
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// The config file, when one was loaded.
    pub fn config(&self) -> Option<&Config> {
        self.config.as_ref()
    }

    /// The region for load balancer names that come with none: the
    /// explicit region, else the config file's (`None`: the AWS chain's).
    pub fn default_region(&self) -> Option<String> {
        self.region
            .clone()
            .or_else(|| self.config.as_ref().and_then(|c| c.region.clone()))
    }

    /// The backend for a region, made on first use.
    async fn backend(&self, region: Option<String>) -> Result<Arc<dyn MaintenanceBackend>> {
        let mut backends = self.backends.lock().await;
        if let Some(b) = backends.get(&region) {
            return Ok(b.clone());
        }
        let backend = (self.factory)(region.clone()).await?;
        backends.insert(region, backend.clone());
        Ok(backend)
    }

    /// Expands what the user named into load balancers, checking every
    /// name before anything talks to AWS. A service name expands to its load
    /// balancers. No targets means every service of the config file.
    pub fn expand(&self, targets: &[String]) -> Result<Vec<TargetRef>> {
        let services = self.config.as_ref().map(|c| &c.services);
        let given: Vec<String> = if targets.is_empty() {
            match services {
                Some(s) if !s.is_empty() => s.keys().cloned().collect(),
                _ => {
                    return Err(Error::invalid(
                        "targets",
                        "none given, and no services in a config file to default to",
                    ))
                }
            }
        } else {
            targets.to_vec()
        };
        let mut refs = Vec::new();
        let mut problems = Vec::new();
        for t in &given {
            if let Some(service) = services.and_then(|s| s.get(t)) {
                let region = service.region.clone().or_else(|| self.default_region());
                for lb in &service.load_balancers {
                    refs.push(TargetRef {
                        given: t.clone(),
                        service: Some(service.name.clone()),
                        region: match lb {
                            LoadBalancerRef::Arn(arn) => Some(arn.region().to_string()),
                            LoadBalancerRef::Name(_) => region.clone(),
                        },
                        load_balancer: lb.clone(),
                    });
                }
                continue;
            }
            match LoadBalancerRef::parse(t) {
                Ok(lb) => refs.push(TargetRef {
                    given: t.clone(),
                    service: None,
                    region: match &lb {
                        LoadBalancerRef::Arn(arn) => Some(arn.region().to_string()),
                        LoadBalancerRef::Name(_) => self.default_region(),
                    },
                    load_balancer: lb,
                }),
                Err(e) => {
                    let hint = services
                        .and_then(|s| did_you_mean(t, s.keys().map(String::as_str)))
                        .map(|s| format!(" (did you mean the service {s:?}?)"))
                        .unwrap_or_default();
                    problems.push(format!("{t:?}: {}{hint}", e.reason));
                }
            }
        }
        if !problems.is_empty() {
            let services_note = match services {
                Some(s) if !s.is_empty() => "",
                _ => " (no config file services to match)",
            };
            return Err(Error::invalid(
                format!("target{}", if problems.len() > 1 { "s" } else { "" }),
                format!(
                    "not a service, load balancer name or ARN{services_note}: {}",
                    problems.join("; ")
                ),
            ));
        }
        // The same load balancer named twice (say, by a service and by
        // name) is acted on once.
        let mut seen = HashSet::new();
        refs.retain(|r| seen.insert((r.region.clone(), r.load_balancer.to_string())));
        Ok(refs)
    }

    /// `entries` plus the entries of allowlist files and of the config
    /// file's named allowlists: what a command adds to an allowlist.
    pub fn allowlist_with(
        &self,
        entries: Allowlist,
        files: &[PathBuf],
        names: &[String],
    ) -> Result<Allowlist> {
        let mut list = entries;
        for file in files {
            list = list.union(&Allowlist::from_file(file)?)?;
        }
        for name in names {
            let Some(config) = &self.config else {
                return Err(Error::invalid(
                    format!("allowlist {name:?}"),
                    "named allowlists come from a config file, and none was loaded",
                ));
            };
            list = list.union(config.named_allowlist(name)?)?;
        }
        Ok(list)
    }

    /// Finds each target in AWS: one batched look-up per region. A region
    /// whose backend or look-up fails gives every one of its targets that
    /// error.
    async fn resolve(&self, targets: &[TargetRef]) -> Vec<Result<Found>> {
        let mut by_region: BTreeMap<Option<String>, Vec<usize>> = BTreeMap::new();
        for (i, t) in targets.iter().enumerate() {
            by_region.entry(t.region.clone()).or_default().push(i);
        }
        let mut results: Vec<Option<Result<Found>>> = targets.iter().map(|_| None).collect();
        for (region, indexes) in by_region {
            let backend = match self.backend(region).await {
                Ok(b) => b,
                Err(e) => {
                    for i in indexes {
                        results[i] = Some(Err(e.clone()));
                    }
                    continue;
                }
            };
            let refs: Vec<LoadBalancerRef> = indexes
                .iter()
                .map(|&i| targets[i].load_balancer.clone())
                .collect();
            match backend.resolve(&refs).await {
                Ok(found) => {
                    for (&i, r) in indexes.iter().zip(found) {
                        results[i] = Some(r.map(|arn| (arn, backend.clone())));
                    }
                }
                Err(e) => {
                    for i in indexes {
                        results[i] = Some(Err(e.clone()));
                    }
                }
            }
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(Error::unexpected("target was not looked up"))))
            .collect()
    }

    /// Finds every target, or none: any failure is [`Error::Unresolved`]
    /// listing every target that failed, and nothing is changed.
    async fn resolve_all(&self, targets: &[TargetRef]) -> Result<Vec<Found>> {
        let resolved = self.resolve(targets).await;
        let failures: Vec<(String, Error)> = targets
            .iter()
            .zip(&resolved)
            .filter_map(|(t, r)| r.as_ref().err().map(|e| (t.label(), e.clone())))
            .collect();
        if !failures.is_empty() {
            return Err(Error::Unresolved { failures });
        }
        Ok(resolved.into_iter().flatten().collect())
    }

    /// Runs `op` once per window (the targets of one config service in one
    /// region share a window; any other target is a window of one), at most
    /// `concurrency` windows at once, calling `done` with each target's
    /// index and result as its window completes. `op` gets the window's
    /// backend, the window, its members' ARNs and the index of its first
    /// target. A target that was not found gets its error.
    async fn run_windows<T, F, Fut>(
        &self,
        targets: &[TargetRef],
        found: Vec<Result<Found>>,
        shared: Vec<Option<Window>>,
        op: F,
        mut done: impl FnMut(usize, Result<T>),
    ) where
        F: Fn(Arc<dyn MaintenanceBackend>, Window, Vec<LoadBalancerArn>, usize) -> Fut,
        Fut: Future<Output = MemberResults<T>>,
    {
        type Group = (
            Window,
            Arc<dyn MaintenanceBackend>,
            Vec<(usize, LoadBalancerArn)>,
        );
        let mut groups: Vec<Group> = Vec::new();
        let mut keys: HashMap<(Option<String>, String), usize> = HashMap::new();
        let mut shared = shared.into_iter();
        for (i, (target, found)) in targets.iter().zip(found).enumerate() {
            let shared = shared.next().flatten();
            let (arn, backend) = match found {
                Ok(found) => found,
                Err(e) => {
                    done(i, Err(e));
                    continue;
                }
            };
            let window = match (&target.service, shared) {
                (Some(service), _) => Window::of_service(service),
                (None, Some(window)) => window,
                (None, None) => Window::of_load_balancer(&arn),
            };
            // The resolved ARN's region, not the target's: a service's
            // members named by name and by ARN are one window.
            let key = (Some(arn.region().to_string()), window.name().to_string());
            match keys.get(&key) {
                Some(&g) => groups[g].2.push((i, arn)),
                None => {
                    keys.insert(key, groups.len());
                    groups.push((window, backend, vec![(i, arn)]));
                }
            }
        }
        let op = &op;
        let mut results = stream::iter(groups)
            .map(|(window, backend, members)| async move {
                let arns: Vec<LoadBalancerArn> = members.iter().map(|(_, a)| a.clone()).collect();
                let first = members.first().map_or(0, |(i, _)| *i);
                let results = op(backend, window, arns, first).await;
                (members, results)
            })
            .buffer_unordered(self.concurrency);
        while let Some((members, results)) = results.next().await {
            match results {
                Ok(results) => {
                    let mut results = results.into_iter();
                    for (i, _) in members {
                        let result = results.next().unwrap_or_else(|| {
                            Err(Error::unexpected(
                                "the backend gave fewer results than members",
                            ))
                        });
                        done(i, result);
                    }
                }
                Err(e) => {
                    for (i, _) in members {
                        done(i, Err(e.clone()));
                    }
                }
            }
        }
    }

    /// The windows of load balancers named on their own (not through a
    /// config service), where two or more of one region are named together:
    /// the windows they are in, or (with `consent` to inject) one window
    /// per web ACL of another owner they share (see
    /// [`shared_windows`](crate::maintenance::shared_windows)). `None`: a
    /// window of one. Costs one read of each such load balancer.
    async fn shared_windows(
        &self,
        targets: &[TargetRef],
        found: &[Found],
        consent: bool,
    ) -> Result<Vec<Option<Window>>> {
        let mut shared = vec![None; targets.len()];
        let mut by_region: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, (target, (arn, _))) in targets.iter().zip(found).enumerate() {
            if target.service.is_none() {
                by_region.entry(arn.region()).or_default().push(i);
            }
        }
        for members in by_region.into_values().filter(|m| m.len() > 1) {
            let backend = found[members[0]].1.clone();
            let lbs: Vec<LoadBalancerArn> = members.iter().map(|&i| found[i].0.clone()).collect();
            let windows = backend.shared_windows(&lbs, consent).await?;
            for (i, window) in members.into_iter().zip(windows) {
                shared[i] = window;
            }
        }
        Ok(shared)
    }

    /// A changing command on every target: all of them are resolved first,
    /// then `op` runs on each window (`consent`: to inject into a web ACL
    /// maint did not create, for load balancers named together).
    async fn change<F, Fut>(
        &self,
        operation: Operation,
        targets: Vec<TargetRef>,
        mode: Mode,
        observer: &dyn Observer,
        consent: bool,
        op: F,
    ) -> Result<ChangeRun>
    where
        F: Fn(Arc<dyn MaintenanceBackend>, Window, Vec<LoadBalancerArn>, usize) -> Fut,
        Fut: Future<Output = MemberResults<crate::backend::Outcome>>,
    {
        observer.event(&Event::Started { targets: &targets });
        let found = self.resolve_all(&targets).await?;
        let shared = self.shared_windows(&targets, &found, consent).await?;
        let mut reports: Vec<Option<ChangeReport>> = vec![None; targets.len()];
        self.run_windows(
            &targets,
            found.into_iter().map(Ok).collect(),
            shared,
            op,
            |i, result| {
                let report = ChangeReport::new(&targets[i], &result, mode);
                observer.event(&Event::ChangeDone {
                    index: i,
                    report: &report,
                });
                reports[i] = Some(report);
            },
        )
        .await;
        Ok(ChangeRun::new(
            operation,
            mode,
            reports.into_iter().flatten().collect(),
        ))
    }

    /// Puts every target into maintenance (or updates it in place), each
    /// with `request` combined with its service's settings. Bad input (in
    /// the targets or in a service's combination) and targets that cannot be
    /// found are errors before any change.
    pub async fn enter(
        &self,
        targets: &[String],
        request: &EnterRequest,
        mode: Mode,
        observer: &dyn Observer,
    ) -> Result<ChangeRun> {
        self.bring_in(Operation::Enter, targets, request, mode, observer)
            .await
    }

    /// Arms every target: maint's web ACL associated ahead of time in
    /// pass-through form, prepared with `request` combined with its
    /// service's settings, so that `enter` and `exit` are one update per
    /// window. Checked like [`enter`](Self::enter) before any change.
    pub async fn arm(
        &self,
        targets: &[String],
        request: &EnterRequest,
        mode: Mode,
        observer: &dyn Observer,
    ) -> Result<ChangeRun> {
        self.bring_in(Operation::Arm, targets, request, mode, observer)
            .await
    }

    /// `enter` or `arm` (`operation`): one spec per service, checked before
    /// any change, then each window entered or armed.
    async fn bring_in(
        &self,
        operation: Operation,
        targets: &[String],
        request: &EnterRequest,
        mode: Mode,
        observer: &dyn Observer,
    ) -> Result<ChangeRun> {
        let refs = self.expand(targets)?;
        let specs = self.specs(&refs, request)?;
        let specs = &specs;
        self.change(
            operation,
            refs,
            mode,
            observer,
            request.inject,
            |b, window, lbs, first| async move {
                let spec = &specs[first];
                match operation {
                    Operation::Arm => b.arm_window(&window, &lbs, spec, mode).await,
                    _ => b.enter_window(&window, &lbs, spec, mode).await,
                }
            },
        )
        .await
    }

    /// Disarms every target: maint's pass-through web ACL disassociated and,
    /// with its last member, deleted. A target in maintenance is refused.
    pub async fn disarm(
        &self,
        targets: &[String],
        mode: Mode,
        observer: &dyn Observer,
    ) -> Result<ChangeRun> {
        let refs = self.expand(targets)?;
        self.change(
            Operation::Disarm,
            refs,
            mode,
            observer,
            false,
            |b, window, lbs, _| async move { b.disarm_window(&window, &lbs, mode).await },
        )
        .await
    }

    /// One spec per target: one per service (and one for load balancers
    /// named directly), all built and validated before anything talks to
    /// AWS.
    fn specs(
        &self,
        refs: &[TargetRef],
        request: &EnterRequest,
    ) -> Result<Vec<Arc<MaintenanceSpec>>> {
        let mut by_service: HashMap<Option<String>, Arc<MaintenanceSpec>> = HashMap::new();
        let mut specs = Vec::with_capacity(refs.len());
        for r in refs {
            let spec = match by_service.get(&r.service) {
                Some(spec) => spec.clone(),
                None => {
                    let service = r
                        .service
                        .as_deref()
                        .and_then(|name| self.config.as_ref().and_then(|c| c.service(name)));
                    let spec = Arc::new(request.spec_for(service)?);
                    by_service.insert(r.service.clone(), spec.clone());
                    spec
                }
            };
            specs.push(spec);
        }
        Ok(specs)
    }

    /// Takes every target out of maintenance and deletes maint's resources.
    pub async fn exit(
        &self,
        targets: &[String],
        mode: Mode,
        observer: &dyn Observer,
    ) -> Result<ChangeRun> {
        let refs = self.expand(targets)?;
        self.change(
            Operation::Exit,
            refs,
            mode,
            observer,
            false,
            |b, window, lbs, _| async move { b.exit_window(&window, &lbs, mode).await },
        )
        .await
    }

    /// Ends every overdue window: in maintenance past its planned end.
    /// Among `targets` when some are named (each read first; only the
    /// overdue are exited, through the same path as `exit`), else among
    /// every window of maint's in the fleet's regions (see
    /// [`regions`](Self::regions)), each exited as a whole from its record,
    /// without looking its members up again (a member deleted since must
    /// not keep a window open). Safe to run every minute: a window ended,
    /// or ended meanwhile, is not overdue any more. A region that cannot be
    /// listed fails the call.
    pub async fn exit_expired(
        &self,
        targets: &[String],
        mode: Mode,
        observer: &dyn Observer,
    ) -> Result<ChangeRun> {
        let now = Utc::now();
        if !targets.is_empty() {
            let refs = self.expand(targets)?;
            let read = self.status(targets, &Silent).await?;
            if let Some((target, e)) = read.failures().next() {
                return Err(Error::Unresolved {
                    failures: vec![(target.to_string(), e.clone())],
                });
            }
            let overdue: Vec<TargetRef> = refs
                .into_iter()
                .zip(&read.targets)
                .filter(|(_, r)| r.overdue)
                .map(|(t, _)| t)
                .collect();
            return self
                .change(
                    Operation::Exit,
                    overdue,
                    mode,
                    observer,
                    false,
                    |b, window, lbs, _| async move { b.exit_window(&window, &lbs, mode).await },
                )
                .await;
        }
        let mut found: Vec<(Option<String>, Arc<dyn MaintenanceBackend>, WindowSummary)> =
            Vec::new();
        let mut stuck: Vec<(Option<String>, WindowSummary)> = Vec::new();
        for region in self.regions() {
            let backend = self.backend(region.clone()).await?;
            for summary in backend.windows().await? {
                if summary.stuck(now) {
                    stuck.push((region.clone(), summary));
                } else if summary.problem.is_none() && summary.overdue(now) {
                    found.push((region.clone(), backend.clone(), summary));
                }
            }
        }
        let refs: Vec<TargetRef> = found
            .iter()
            .flat_map(|(region, _, s)| {
                s.members.iter().map(move |lb| TargetRef {
                    given: lb.to_string(),
                    service: s.window.service().map(str::to_string),
                    load_balancer: LoadBalancerRef::Arn(lb.clone()),
                    region: region.clone(),
                })
            })
            .collect();
        observer.event(&Event::Started { targets: &refs });
        let mut reports = Vec::with_capacity(refs.len());
        for (_, backend, summary) in &found {
            let results = match backend
                .exit_window(&summary.window, &summary.members, mode)
                .await
            {
                Ok(each) => each,
                Err(e) => summary.members.iter().map(|_| Err(e.clone())).collect(),
            };
            for result in results {
                let index = reports.len();
                let Some(target) = refs.get(index) else {
                    break;
                };
                let report = ChangeReport::new(target, &result, mode);
                observer.event(&Event::ChangeDone {
                    index,
                    report: &report,
                });
                reports.push(report);
            }
        }
        // A window that cannot be read as one of maint's is reported (per
        // recorded member, else by its name), and ends nothing else.
        for (_, summary) in stuck {
            let Some(error) = summary.problem else {
                continue;
            };
            let report = |target: String, lb: Option<&LoadBalancerArn>| ChangeReport {
                target,
                service: summary.window.service().map(str::to_string),
                load_balancer_arn: lb.map(ToString::to_string),
                result: crate::report::ResultKind::Error,
                changed: false,
                dry_run: mode.is_dry_run(),
                changes: Vec::new(),
                details: Vec::new(),
                error: Some(ErrorReport::new(&error)),
            };
            if summary.members.is_empty() {
                reports.push(report(summary.window.name().to_string(), None));
            }
            reports.extend(
                summary
                    .members
                    .iter()
                    .map(|lb| report(lb.to_string(), Some(lb))),
            );
        }
        Ok(ChangeRun::new(Operation::Exit, mode, reports))
    }

    /// The public URL `--wait` probes for each target: `url` when given,
    /// else the target's service's `url` from the config. Checked before
    /// any change: a target with neither is bad input.
    pub fn wait_urls(&self, targets: &[String], url: Option<&str>) -> Result<Vec<String>> {
        if let Some(url) = url {
            crate::config::check_url(url).map_err(|reason| Error::invalid("--wait-url", reason))?;
        }
        let refs = self.expand(targets)?;
        let mut urls = Vec::with_capacity(refs.len());
        for r in &refs {
            let service_url = r
                .service
                .as_deref()
                .and_then(|s| self.config.as_ref()?.service(s)?.url.clone());
            match url.map(str::to_string).or(service_url) {
                Some(u) => urls.push(u),
                None => {
                    return Err(Error::invalid(
                        format!("--wait for target {}", r.label()),
                        "there is no URL to probe: give --wait-url, or `url` in the config for \
                         its service",
                    ))
                }
            }
        }
        Ok(urls)
    }

    /// After a changing command (`run`, whose targets got `urls` from
    /// [`wait_urls`](Self::wait_urls)), probes each window's URL until the
    /// public sees the change: maint's maintenance response at the
    /// window's new revision (`gone` false: after `enter` or an allowlist
    /// enable or disable), or none any more (`gone`: after `exit`). Probes
    /// as the public (see [`crate::wait`]). A window whose change failed is
    /// not waited for; a dry run waits for nothing. The first window that
    /// does not get there within `timeout` is the error.
    #[cfg(feature = "http")]
    pub async fn wait_for(
        &self,
        run: &ChangeRun,
        urls: &[String],
        gone: bool,
        timeout: std::time::Duration,
        progress: &(dyn Fn(&crate::wait::Probe, &crate::wait::Seen, std::time::Duration) + Sync),
    ) -> Result<Vec<crate::report::WaitReport>> {
        use crate::wait::{Expect, Probe, Prober, INTERVAL};
        if run.dry_run {
            return Ok(Vec::new());
        }
        let mut probes: Vec<Probe> = Vec::new();
        let mut labels: Vec<String> = Vec::new();
        for (report, url) in run.results.iter().zip(urls) {
            if report.error.is_some() {
                continue;
            }
            let window = match (&report.service, &report.load_balancer_arn) {
                (Some(service), _) => Window::of_service(service),
                (None, Some(arn)) => Window::of_load_balancer(&LoadBalancerArn::parse(arn)?),
                (None, None) => continue,
            };
            if probes
                .iter()
                .any(|p| p.url == *url && p.window == window.name())
            {
                continue;
            }
            probes.push(Probe {
                url: url.clone(),
                window: window.name().to_string(),
                expect: Expect::Gone,
            });
            // Read back by ARN: a service's `service/lb` label is not a target.
            labels.push(
                report
                    .load_balancer_arn
                    .clone()
                    .unwrap_or_else(|| report.target.clone()),
            );
        }
        if !gone && !probes.is_empty() {
            let read = self.status(&labels, &Silent).await?;
            for (probe, status) in probes.iter_mut().zip(&read.targets) {
                probe.expect = Expect::Maintenance {
                    revision: status.revision.clone(),
                };
            }
        }
        let prober = Prober::new(INTERVAL)?;
        let waits = probes
            .iter()
            .map(|probe| prober.wait(probe, timeout, progress));
        let mut reports = Vec::new();
        for (probe, result) in probes.iter().zip(futures::future::join_all(waits).await) {
            let waited = result?;
            reports.push(crate::report::WaitReport {
                url: waited.url,
                window: probe.window.clone(),
                seconds: waited.elapsed.as_secs_f64(),
                probes: waited.probes,
                seen: waited.last.describe(),
            });
        }
        Ok(reports)
    }

    /// Applies one allowlist change to every target.
    pub async fn update_allowlist(
        &self,
        targets: &[String],
        change: &AllowlistChange,
        mode: Mode,
        observer: &dyn Observer,
    ) -> Result<ChangeRun> {
        let refs = self.expand(targets)?;
        self.change(
            Operation::Allowlist,
            refs,
            mode,
            observer,
            false,
            |b, window, lbs, _| async move {
                b.update_window_allowlist(&window, &lbs, change, mode).await
            },
        )
        .await
    }

    /// Reads every target's state. A target that cannot be found or read is
    /// reported with its error; the others are read all the same.
    pub async fn status(&self, targets: &[String], observer: &dyn Observer) -> Result<StatusRun> {
        let refs = self.expand(targets)?;
        observer.event(&Event::Started { targets: &refs });
        let found = self.resolve(&refs).await;
        let mut reports: Vec<Option<StatusReport>> = vec![None; refs.len()];
        self.run_windows(
            &refs,
            found,
            Vec::new(),
            |b, window, lbs, _| async move { b.window_status(&window, &lbs).await },
            |i, result| {
                let report = StatusReport::new(&refs[i], &result);
                observer.event(&Event::StatusDone {
                    index: i,
                    report: &report,
                });
                reports[i] = Some(report);
            },
        )
        .await;
        Ok(StatusRun {
            targets: reports.into_iter().flatten().collect(),
        })
    }

    /// What `request` gets from each target now, and why (`maint check`):
    /// each target's live web ACL read once and maint's rules evaluated.
    /// Changes nothing. Per target, in order: its label and the answer (or
    /// why there is none).
    pub async fn check(
        &self,
        targets: &[String],
        request: &CheckRequest,
    ) -> Result<Vec<(TargetRef, Result<CheckReport>)>> {
        let refs = self.expand(targets)?;
        let found = self.resolve(&refs).await;
        let checks = found.into_iter().map(|f| async move {
            let (lb, backend) = f?;
            backend.check(&lb, request).await
        });
        let answers: Vec<Result<CheckReport>> = stream::iter(checks)
            .buffered(self.concurrency)
            .collect()
            .await;
        Ok(refs.into_iter().zip(answers).collect())
    }

    /// The regions `cleanup` covers: the default region, then every other
    /// region a config service uses (its own, or its load balancer ARNs').
    pub fn regions(&self) -> Vec<Option<String>> {
        let mut regions = vec![self.default_region()];
        if let Some(config) = &self.config {
            for service in config.services.values() {
                let own = service.region.clone().or_else(|| self.default_region());
                let arns = service
                    .load_balancers
                    .iter()
                    .filter_map(|lb| lb.arn().map(|a| Some(a.region().to_string())));
                for region in std::iter::once(own).chain(arns) {
                    if !regions.contains(&region) {
                        regions.push(region);
                    }
                }
            }
        }
        regions
    }

    /// Runs `cleanup` in every region of [`Fleet::regions`]. A region that
    /// fails is reported and the others are cleaned all the same.
    pub async fn cleanup(&self, mode: Mode) -> CleanupRun {
        let regions = self.regions();
        let mut run = CleanupRun {
            dry_run: mode.is_dry_run(),
            regions: regions.clone(),
            resources: Vec::new(),
            kept: Vec::new(),
            errors: Vec::new(),
        };
        for region in regions {
            let result = match self.backend(region.clone()).await {
                Ok(backend) => backend.cleanup(mode).await,
                Err(e) => Err(e),
            };
            match result {
                Ok(found) => {
                    for resource in found {
                        let kept = resource.kept.is_some();
                        let cleaned = CleanedUp {
                            region: region.clone(),
                            resource,
                        };
                        if kept {
                            run.kept.push(cleaned);
                        } else {
                            run.resources.push(cleaned);
                        }
                    }
                }
                Err(e) => run.errors.push(RegionError {
                    region,
                    error: ErrorReport::new(&e),
                }),
            }
        }
        run
    }
}

/// Builds a [`Fleet`]: where its backends come from (AWS options, or a
/// backend of the caller's), its config, its explicit region and how many
/// windows it acts on at once. Every setting is optional; with none, and
/// the `aws` feature, the fleet works through AWS WAF with the AWS
/// configuration chain's region and credentials.
#[derive(Default)]
#[must_use]
pub struct FleetBuilder {
    config: Option<Config>,
    region: Option<String>,
    backend: Option<BackendFactory>,
    #[cfg(feature = "aws")]
    aws: Option<crate::backend::AwsOptions>,
    #[cfg(feature = "aws")]
    waf_settings: Option<crate::backend::WafSettings>,
    concurrency: Option<usize>,
}

impl std::fmt::Debug for FleetBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("FleetBuilder");
        d.field("config", &self.config.as_ref().map(|c| &c.path))
            .field("region", &self.region)
            .field("backend", &self.backend.as_ref().map(|_| "given"));
        #[cfg(feature = "aws")]
        d.field("aws", &self.aws)
            .field("waf_settings", &self.waf_settings);
        d.field("concurrency", &self.concurrency).finish()
    }
}

impl FleetBuilder {
    /// The config file's services and allowlists (read with
    /// `Config::load` or `Config::discover`, feature `config`, or built in
    /// code).
    pub fn config(self, config: Config) -> Self {
        self.set_config(Some(config))
    }

    /// The config, when there may be none (`None`: load balancers are
    /// named directly).
    pub fn set_config(mut self, config: Option<Config>) -> Self {
        self.config = config;
        self
    }

    /// The explicit region, which wins over the config file's default (a
    /// service's own region and an ARN's region win over both); also the
    /// AWS options' region when they name none.
    pub fn region(self, region: impl Into<String>) -> Self {
        self.set_region(Some(region.into()))
    }

    /// The explicit region, when there may be none (`None`: the config
    /// file's, else the AWS options', else the AWS configuration chain's).
    pub fn set_region(mut self, region: Option<String>) -> Self {
        self.region = region;
        self
    }

    /// AWS settings for the WAF backend (profile, endpoint, region); the
    /// default is the AWS configuration chain's.
    #[cfg(feature = "aws")]
    pub fn aws(mut self, options: crate::backend::AwsOptions) -> Self {
        self.aws = Some(options);
        self
    }

    /// The WAF backend's pace and retry bounds; the default is
    /// [`WafSettings::for_config`](crate::backend::WafSettings::for_config)
    /// of the fleet's config.
    #[cfg(feature = "aws")]
    pub fn waf_settings(mut self, settings: crate::backend::WafSettings) -> Self {
        self.waf_settings = Some(settings);
        self
    }

    /// One backend for every region, instead of AWS WAF: the in-memory
    /// backend (feature `testing`), a test double, a backend of your own.
    pub fn backend(self, backend: Arc<dyn MaintenanceBackend>) -> Self {
        self.backend_factory(crate::backend::shared_factory(backend))
    }

    /// A backend per region, made on first use by `factory`, instead of
    /// AWS WAF.
    pub fn backend_factory(mut self, factory: BackendFactory) -> Self {
        self.backend = Some(factory);
        self
    }

    /// How many windows are acted on at once (at least 1; default
    /// [`DEFAULT_CONCURRENCY`]).
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = Some(concurrency);
        self
    }

    /// The fleet. Fails when there is no backend to use (none given and
    /// no `aws` feature), when a backend is given together with AWS
    /// settings (which would be ignored), or when the WAF settings cannot
    /// be worked out (a bad `MAINT_WAF_QUOTA_PERCENT`).
    pub fn build(mut self) -> Result<Fleet> {
        #[cfg(feature = "aws")]
        if self.backend.is_some() && (self.aws.is_some() || self.waf_settings.is_some()) {
            return Err(Error::invalid(
                "Fleet::builder()",
                "a backend was given together with AWS options or WAF settings, which only the \
                 AWS WAF backend uses: give one or the other",
            ));
        }
        let (factory, region) = match self.backend.take() {
            Some(factory) => (factory, self.region.take()),
            None => self.aws_factory()?,
        };
        let fleet = Fleet::new(self.config, region, factory);
        Ok(match self.concurrency {
            Some(n) => fleet.with_concurrency(n),
            None => fleet,
        })
    }

    /// The WAF backend's factory and the fleet's explicit region (the
    /// builder's, else the AWS options').
    #[cfg(feature = "aws")]
    fn aws_factory(&self) -> Result<(BackendFactory, Option<String>)> {
        let mut options = self.aws.clone().unwrap_or_default();
        let region = self.region.clone().or_else(|| options.region.clone());
        options.region = options.region.or_else(|| region.clone());
        options.check()?;
        let settings = match &self.waf_settings {
            Some(s) => s.clone(),
            None => crate::backend::WafSettings::for_config(self.config.as_ref())?,
        };
        Ok((crate::backend::waf_factory(options, settings), region))
    }

    /// Without the `aws` feature there is no backend but the caller's.
    #[cfg(not(feature = "aws"))]
    fn aws_factory(&self) -> Result<(BackendFactory, Option<String>)> {
        Err(Error::invalid(
            "Fleet::builder()",
            "no backend: give one with .backend(..), or build maint-core with the `aws` \
             feature to use AWS WAF",
        ))
    }
}

/// What a caller asks of `enter`, before a config service's settings are
/// applied: the command line's flags, or the Python call's arguments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnterRequest {
    /// Entries to let through, besides the service's allowlists.
    pub allowlist: Allowlist,
    /// Why.
    pub reason: Option<Reason>,
    /// The planned end.
    pub until: Option<DateTime<Utc>>,
    /// A page, instead of the service's or the built-in one.
    pub page: Option<ResponseBody>,
    /// The content type of the built-in page, instead of the service's.
    pub content_type: Option<ContentType>,
    /// A status code, instead of the service's or 503.
    pub status: Option<ResponseStatus>,
    /// Extra headers; on the same name they win over the service's.
    pub headers: Vec<ResponseHeader>,
    /// Consent to add maint's rule to a service's own web ACL (`--inject`),
    /// whatever the service's `existing_web_acl` says.
    pub inject: bool,
    /// The bypass secret: kept (the default), on, set, rotated or removed.
    /// A service with `bypass = true` asks for one when this keeps.
    pub bypass: BypassRequest,
    /// Where the allowlist finds a request's address, instead of the
    /// service's `client_ip` (default: the connection).
    pub client_ip: Option<ClientIp>,
}

impl EnterRequest {
    /// The maintenance spec for a target of `service` (`None`: a load
    /// balancer named directly): the request's allowlist plus the service's;
    /// the request's page, content type and status, else the service's; the
    /// service's headers with the request's added. The allowlist starts
    /// enabled. The spec records what was [given](crate::maintenance::Given) (by the
    /// request or the service), so a repeated `enter` or `arm` keeps the
    /// window's own value of everything else. Fails when the combination
    /// breaks a WAF rule (too many headers, too many entries).
    pub fn spec_for(&self, service: Option<&Service>) -> Result<MaintenanceSpec, Error> {
        let allowlist = match service {
            Some(s) => self.allowlist.union(&s.allowlist)?,
            None => self.allowlist.clone(),
        };
        let page = self
            .page
            .clone()
            .or_else(|| service.and_then(|s| s.page.clone()));
        let content_type = self
            .content_type
            .or(page.as_ref().map(ResponseBody::content_type))
            .or(service.and_then(|s| s.content_type));
        let mut headers: Vec<ResponseHeader> = service
            .map(|s| s.headers.clone())
            .unwrap_or_default()
            .into_iter()
            .filter(|h| !self.headers.iter().any(|mine| mine.is_named(h.name())))
            .collect();
        headers.extend(self.headers.iter().cloned());
        let until = self.until.map(crate::maintenance::check_end).transpose()?;
        let asked = ResponseRequest {
            status: self.status.or(service.and_then(|s| s.status)),
            page,
            content_type,
            headers,
        };
        let response = asked.build(until)?;
        let existing_web_acl = if self.inject {
            ExistingWebAcl::Inject
        } else {
            service.map(|s| s.existing_web_acl).unwrap_or_default()
        };
        let client_ip = self
            .client_ip
            .clone()
            .or_else(|| service.and_then(|s| s.client_ip.clone()));
        Ok(MaintenanceSpec {
            allowlist,
            allowlist_enabled: true,
            reason: self.reason.clone(),
            until,
            response,
            existing_web_acl,
            bypass: match (&self.bypass, service.is_some_and(|s| s.bypass)) {
                (BypassRequest::Keep, true) => BypassRequest::On,
                (request, _) => request.clone(),
            },
            bypass_enabled: true,
            given: Some(Given {
                reason: self.reason.is_some(),
                until: self.until.is_some(),
                response: asked,
                client_ip: client_ip.is_some(),
            }),
            client_ip: client_ip.unwrap_or_default(),
        })
    }
}

#[cfg(test)]
#[path = "fleet_tests.rs"]
mod tests;
