//! The [`Fleet`] and every command it runs on many targets: the backends
//! per region, resolving all or nothing, one window per service, bounded
//! concurrency, results in the caller's order.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;

use chrono::Utc;
use futures::stream::{self, StreamExt};
use tokio::sync::{Mutex, OnceCell};

use super::builder::FleetBuilder;
use super::events::{Event, Observer, Silent};
use super::request::EnterRequest;
use crate::backend::{
    AllowlistChange, BackendFactory, MaintenanceBackend, MaintenanceSpec, MemberResults, Mode,
    Window, WindowSummary,
};
use crate::check::{CheckReport, CheckRequest};
use crate::config::Config;
use crate::report::{
    ChangeReport, ChangeRun, CleanedUp, CleanupRun, ErrorReport, Operation, RegionError,
    StatusReport, StatusRun,
};
use crate::target::{LoadBalancerRef, ResourceArn, TargetRef};
use crate::{Error, Result};

/// How many windows are acted on at once by default. Within a window the
/// members go one after the other; across windows, AWS WAF's call-rate
/// quotas (which the WAF backend paces every call to) decide, so this only
/// bounds the calls in flight.
pub const DEFAULT_CONCURRENCY: usize = 32;

/// The fleet's key for CloudFront distributions, beside the Regions: the
/// empty Region a distribution's ARN carries (distributions are global).
pub(crate) const GLOBAL: &str = "";

/// A load balancer found in AWS, with the backend of its region.
type Found = (ResourceArn, Arc<dyn MaintenanceBackend>);

/// Where the fleet acts: a config account (`None`: the credentials' own)
/// and a region (`None`: the AWS configuration chain's; [`GLOBAL`]:
/// CloudFront). One backend, and one set of call-rate buckets, per place.
pub(crate) type Place = (Option<String>, Option<String>);

/// A place's backend, once made.
type BackendCell = OnceCell<Arc<dyn MaintenanceBackend>>;

/// The targets of one command and the backends that reach them.
pub struct Fleet {
    pub(super) config: Option<Config>,
    pub(super) region: Option<String>,
    pub(super) factory: BackendFactory,
    /// One backend per place, each made once (a place's cell is filled
    /// by the first caller; others wait for it, while other places are
    /// made side by side).
    pub(super) backends: Mutex<HashMap<Place, Arc<BackendCell>>>,
    pub(super) concurrency: usize,
    /// The AWS options of the WAF backend, when the builder made it: whose
    /// credentials name who ran a change in notifications.
    #[cfg(feature = "aws")]
    pub(super) aws: Option<crate::backend::AwsOptions>,
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
            #[cfg(feature = "aws")]
            aws: None,
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

    /// The backend for an account and region, made on first use (once,
    /// however many ask at the same time); for [`GLOBAL`], the CloudFront
    /// backend beside the account's home region's
    /// ([`MaintenanceBackend::cloudfront`]). A backend that could not be
    /// made is asked for again next time.
    pub(super) fn backend<'a>(
        &'a self,
        place: &'a Place,
    ) -> futures::future::BoxFuture<'a, Result<Arc<dyn MaintenanceBackend>>> {
        Box::pin(async move {
            let cell = self
                .backends
                .lock()
                .await
                .entry(place.clone())
                .or_default()
                .clone();
            let made = cell
                .get_or_try_init(|| async {
                    let (account, region) = place;
                    if region.as_deref() == Some(GLOBAL) {
                        let home = (account.clone(), self.home_region(account.as_deref()));
                        return self.backend(&home).await?.cloudfront().await;
                    }
                    (self.factory)(crate::backend::BackendPlace {
                        account: self.account(account.as_deref())?.cloned(),
                        region: region.clone(),
                    })
                    .await
                })
                .await?;
            Ok(made.clone())
        })
    }

    /// Finds each target in AWS: one batched look-up per region. A region
    /// whose backend or look-up fails gives every one of its targets that
    /// error.
    async fn resolve(&self, targets: &[TargetRef]) -> Vec<Result<Found>> {
        let mut by_place: BTreeMap<Place, Vec<usize>> = BTreeMap::new();
        for (i, t) in targets.iter().enumerate() {
            by_place
                .entry((t.account.clone(), t.region.clone()))
                .or_default()
                .push(i);
        }
        let mut results: Vec<Option<Result<Found>>> = targets.iter().map(|_| None).collect();
        // Each place's look-up goes to its own account and Region: side by
        // side.
        let lookups = by_place.into_iter().map(|(place, indexes)| async move {
            let looked_up = match self.backend(&place).await {
                Ok(backend) => {
                    let refs: Vec<LoadBalancerRef> = indexes
                        .iter()
                        .map(|&i| targets[i].load_balancer.clone())
                        .collect();
                    backend.resolve(&refs).await.map(|found| (backend, found))
                }
                Err(e) => Err(e),
            };
            (indexes, looked_up)
        });
        for (indexes, looked_up) in futures::future::join_all(lookups).await {
            match looked_up {
                Ok((backend, found)) => {
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
    /// listing every target that failed, and nothing is changed. An account
    /// maint cannot act in (its role cannot be assumed) fails the whole
    /// command with that one error, before any look-up.
    async fn resolve_all(&self, targets: &[TargetRef]) -> Result<Vec<Found>> {
        self.open_accounts(targets).await?;
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
        F: Fn(Arc<dyn MaintenanceBackend>, Window, Vec<ResourceArn>, usize) -> Fut,
        Fut: Future<Output = MemberResults<T>>,
    {
        type Group = (
            Window,
            Arc<dyn MaintenanceBackend>,
            Vec<(usize, ResourceArn)>,
        );
        let mut groups: Vec<Group> = Vec::new();
        let mut keys: HashMap<(Place, String), usize> = HashMap::new();
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
            let key = (
                (target.account.clone(), Some(arn.region().to_string())),
                window.name().to_string(),
            );
            match keys.get(&key) {
                Some(&g) => groups[g].2.push((i, arn)),
                None => {
                    keys.insert(key, groups.len());
                    groups.push((window, backend, vec![(i, arn)]));
                }
            }
        }
        // Windows that share a load balancer (services scoped to their own
        // hosts on it) go one after the other, in the order named: each
        // reads what the one before left there. Others run side by side.
        let mut lanes: Vec<Vec<Group>> = Vec::new();
        for group in groups {
            let shares = |other: &Group| {
                other
                    .2
                    .iter()
                    .any(|(_, a)| group.2.iter().any(|(_, b)| a == b))
            };
            match lanes.iter_mut().find(|lane| lane.iter().any(shares)) {
                Some(lane) => lane.push(group),
                None => lanes.push(vec![group]),
            }
        }
        let op = &op;
        let mut lanes = stream::iter(lanes)
            .map(|lane| async move {
                let mut done = Vec::with_capacity(lane.len());
                for (window, backend, members) in lane {
                    let arns: Vec<ResourceArn> = members.iter().map(|(_, a)| a.clone()).collect();
                    let first = members.first().map_or(0, |(i, _)| *i);
                    let results = op(backend, window, arns, first).await;
                    done.push((members, results));
                }
                done
            })
            .buffer_unordered(self.concurrency);
        while let Some(lane) = lanes.next().await {
            for (members, results) in lane {
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
        let mut by_region: BTreeMap<(Option<&str>, &str), Vec<usize>> = BTreeMap::new();
        for (i, (target, (arn, _))) in targets.iter().zip(found).enumerate() {
            if target.service.is_none() {
                by_region
                    .entry((target.account.as_deref(), arn.region()))
                    .or_default()
                    .push(i);
            }
        }
        for members in by_region.into_values().filter(|m| m.len() > 1) {
            let backend = found[members[0]].1.clone();
            let lbs: Vec<ResourceArn> = members.iter().map(|&i| found[i].0.clone()).collect();
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
        F: Fn(Arc<dyn MaintenanceBackend>, Window, Vec<ResourceArn>, usize) -> Fut,
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
                    // A window of APIs only answers in JSON by default.
                    let serves_api = refs.iter().filter(|o| o.service == r.service).all(|o| {
                        o.load_balancer
                            .arn()
                            .is_some_and(|arn| arn.kind().serves_api())
                    });
                    let spec = Arc::new(request.spec_for(service, serves_api)?);
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
        self.exit_refs(refs, mode, observer).await
    }

    /// `exit` of targets already expanded.
    async fn exit_refs(
        &self,
        refs: Vec<TargetRef>,
        mode: Mode,
        observer: &dyn Observer,
    ) -> Result<ChangeRun> {
        self.change(
            Operation::Exit,
            refs,
            mode,
            observer,
            false,
            |b, w, lbs, _| async move { b.exit_window(&w, &lbs, mode).await },
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
            return self.exit_refs(overdue, mode, observer).await;
        }
        let mut found: Vec<(Place, Arc<dyn MaintenanceBackend>, WindowSummary)> = Vec::new();
        let mut stuck: Vec<(Place, WindowSummary)> = Vec::new();
        let places = self.places();
        self.open_places(&places).await?;
        for place in places {
            let backend = self.backend(&place).await?;
            for summary in backend.windows().await? {
                if summary.stuck(now) {
                    stuck.push((place.clone(), summary));
                } else if summary.problem.is_none() && summary.overdue(now) {
                    found.push((place.clone(), backend.clone(), summary));
                }
            }
        }
        let refs: Vec<TargetRef> = found
            .iter()
            .flat_map(|((account, region), _, s)| {
                s.members.iter().map(move |lb| TargetRef {
                    given: lb.to_string(),
                    service: s.window.service().map(str::to_string),
                    load_balancer: LoadBalancerRef::Arn(lb.clone()),
                    region: region.clone(),
                    account: account.clone(),
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
        for ((account, _), summary) in stuck {
            let Some(error) = summary.problem else {
                continue;
            };
            let report = |target: String, lb: Option<&ResourceArn>| ChangeReport {
                target,
                service: summary.window.service().map(str::to_string),
                account: account
                    .clone()
                    .or_else(|| lb.map(|a| a.account_id().to_string()))
                    .filter(|a| !a.is_empty()),
                load_balancer_arn: lb.map(ToString::to_string),
                resource_kind: lb.map(ResourceArn::kind),
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

    /// Runs `cleanup` in every account and region of [`Fleet::places`]. A
    /// place that fails is reported and the others are cleaned all the
    /// same.
    pub async fn cleanup(&self, mode: Mode) -> CleanupRun {
        let places = self.places();
        let mut run = CleanupRun {
            dry_run: mode.is_dry_run(),
            regions: self.regions(),
            resources: Vec::new(),
            kept: Vec::new(),
            errors: Vec::new(),
        };
        for (account, region) in places {
            let place = (account.clone(), region.clone());
            let result = match self.backend(&place).await {
                Ok(backend) => backend.cleanup(mode).await,
                Err(e) => Err(e),
            };
            match result {
                Ok(found) => {
                    for resource in found {
                        let kept = resource.kept.is_some();
                        let cleaned = CleanedUp {
                            region: region.clone(),
                            account: account.clone(),
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
                    account,
                    error: ErrorReport::new(&e),
                }),
            }
        }
        run
    }
}
