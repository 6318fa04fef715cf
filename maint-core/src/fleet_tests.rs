//! The multi-target policy of [`Fleet`], tested against a mockall mock of
//! [`MaintenanceBackend`]: what reaches the backend, in which mode, and what
//! comes back in which order.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::Mutex as StdMutex;
use std::time::Duration;

use async_trait::async_trait;

use std::sync::Arc;

use super::{EnterRequest, Event, Fleet, FleetBuilder, Silent, DEFAULT_CONCURRENCY};
use crate::allowlist::Allowlist;
use crate::backend::{
    shared_factory, AllowlistChange, BackendFactory, ExistingWebAcl, Leftover, LoadBalancerType,
    MaintenanceBackend, MaintenanceSpec, MemberResults, MemoryBackend, Mode, Outcome, Reason,
    Window,
};
use chrono::Utc;

use crate::config::Config;
use crate::error::{AwsError, ErrorKind};
use crate::maintenance::{Change, State, TargetStatus};
use crate::report::ChangeRun;
use crate::report::ResultKind;
use crate::response::ResponseStatus;
use crate::target::{LoadBalancerRef, ResourceArn};
use crate::{Error, Result};

mockall::mock! {
    pub Backend {}

    #[async_trait]
    impl MaintenanceBackend for Backend {
        async fn resolve(&self, refs: &[LoadBalancerRef]) -> Result<Vec<Result<ResourceArn>>>;
        async fn enter_window(
            &self,
            window: &Window,
            lbs: &[ResourceArn],
            spec: &MaintenanceSpec,
            mode: Mode,
        ) -> MemberResults<Outcome>;
        async fn exit_window(
            &self,
            window: &Window,
            lbs: &[ResourceArn],
            mode: Mode,
        ) -> MemberResults<Outcome>;
        async fn update_window_allowlist(
            &self,
            window: &Window,
            lbs: &[ResourceArn],
            change: &AllowlistChange,
            mode: Mode,
        ) -> MemberResults<Outcome>;
        async fn window_status(
            &self,
            window: &Window,
            lbs: &[ResourceArn],
        ) -> MemberResults<TargetStatus>;
        async fn arm_window(
            &self,
            window: &Window,
            lbs: &[ResourceArn],
            spec: &MaintenanceSpec,
            mode: Mode,
        ) -> MemberResults<Outcome>;
        async fn disarm_window(
            &self,
            window: &Window,
            lbs: &[ResourceArn],
            mode: Mode,
        ) -> MemberResults<Outcome>;
        async fn check(
            &self,
            lb: &ResourceArn,
            request: &crate::check::CheckRequest,
        ) -> Result<crate::check::CheckReport>;
        async fn windows(&self) -> Result<Vec<crate::maintenance::WindowSummary>>;
        async fn cleanup(&self, mode: Mode) -> Result<Vec<Leftover>>;
    }
}

fn arn(name: &str) -> ResourceArn {
    ResourceArn::parse(&format!(
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/{name}/0123456789abcdef"
    ))
    .unwrap()
}

/// A mock whose `resolve` finds every name except those in `missing`.
fn resolving(missing: &'static [&'static str]) -> MockBackend {
    let mut mock = MockBackend::new();
    mock.expect_resolve().returning(move |refs| {
        Ok(refs
            .iter()
            .map(|r| {
                if missing.contains(&r.name()) {
                    Err(Error::TargetNotFound {
                        target: r.to_string(),
                    })
                } else {
                    Ok(arn(r.name()))
                }
            })
            .collect())
    });
    mock
}

fn outcome(lb: &ResourceArn, mode: Mode, changes: Vec<Change>) -> Outcome {
    Outcome {
        load_balancer: lb.clone(),
        mode,
        changes,
    }
}

/// Every member's outcome with the same changes.
fn outcomes(lbs: &[ResourceArn], mode: Mode, changes: Vec<Change>) -> MemberResults<Outcome> {
    Ok(lbs
        .iter()
        .map(|lb| Ok(outcome(lb, mode, changes.clone())))
        .collect())
}

fn fleet_of(backend: impl MaintenanceBackend + 'static, config: Option<Config>) -> Fleet {
    Fleet::new(
        config,
        Some("us-east-1".into()),
        shared_factory(Arc::new(backend)),
    )
    .with_concurrency(4)
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn shop_config(extra: &str) -> Config {
    Config::parse(
        &format!(
            "region = \"us-east-1\"\n[services.shop]\nload_balancers = [\"shop-a\", \"shop-b\"]\n{extra}"
        ),
        Path::new("maint.toml"),
    )
    .unwrap()
}

#[tokio::test]
async fn no_changing_call_reaches_the_backend_when_one_target_fails_to_resolve() {
    let mut mock = resolving(&["shop-b"]);
    mock.expect_enter_window().never();
    mock.expect_exit_window().never();
    mock.expect_update_window_allowlist().never();
    let fleet = fleet_of(mock, Some(shop_config("")));
    let shop = names(&["shop"]);

    let enter = fleet
        .enter(&shop, &EnterRequest::default(), Mode::Apply, &Silent)
        .await
        .unwrap_err();
    assert_eq!(enter.kind(), ErrorKind::TargetNotFound);
    assert!(
        enter.to_string().contains("shop/shop-b"),
        "names the target: {enter}"
    );
    let exit = fleet.exit(&shop, Mode::Apply, &Silent).await.unwrap_err();
    assert_eq!(exit.kind(), ErrorKind::TargetNotFound);
    let edit = fleet
        .update_allowlist(&shop, &AllowlistChange::Disable, Mode::Apply, &Silent)
        .await
        .unwrap_err();
    assert!(matches!(edit, Error::Unresolved { ref failures } if failures.len() == 1));
}

/// Delays each window's call by a time of its own (by its first member's
/// name), so windows complete in another order than they were given.
struct Delayed {
    inner: MockBackend,
    delays: Vec<(&'static str, u64)>,
}

impl Delayed {
    async fn wait(&self, lbs: &[ResourceArn]) {
        let ms = self
            .delays
            .iter()
            .find(|(name, _)| lbs.first().is_some_and(|lb| *name == lb.name()))
            .map_or(0, |(_, ms)| *ms);
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
}

#[async_trait]
impl MaintenanceBackend for Delayed {
    async fn resolve(&self, refs: &[LoadBalancerRef]) -> Result<Vec<Result<ResourceArn>>> {
        self.inner.resolve(refs).await
    }
    async fn enter_window(
        &self,
        window: &Window,
        lbs: &[ResourceArn],
        spec: &MaintenanceSpec,
        mode: Mode,
    ) -> MemberResults<Outcome> {
        self.wait(lbs).await;
        self.inner.enter_window(window, lbs, spec, mode).await
    }
    async fn exit_window(
        &self,
        window: &Window,
        lbs: &[ResourceArn],
        mode: Mode,
    ) -> MemberResults<Outcome> {
        self.wait(lbs).await;
        self.inner.exit_window(window, lbs, mode).await
    }
    async fn arm_window(
        &self,
        window: &Window,
        lbs: &[ResourceArn],
        spec: &MaintenanceSpec,
        mode: Mode,
    ) -> MemberResults<Outcome> {
        self.wait(lbs).await;
        self.inner.arm_window(window, lbs, spec, mode).await
    }
    async fn disarm_window(
        &self,
        window: &Window,
        lbs: &[ResourceArn],
        mode: Mode,
    ) -> MemberResults<Outcome> {
        self.wait(lbs).await;
        self.inner.disarm_window(window, lbs, mode).await
    }
    async fn check(
        &self,
        lb: &ResourceArn,
        request: &crate::check::CheckRequest,
    ) -> Result<crate::check::CheckReport> {
        self.inner.check(lb, request).await
    }
    async fn windows(&self) -> Result<Vec<crate::maintenance::WindowSummary>> {
        self.inner.windows().await
    }
    async fn update_window_allowlist(
        &self,
        window: &Window,
        lbs: &[ResourceArn],
        change: &AllowlistChange,
        mode: Mode,
    ) -> MemberResults<Outcome> {
        self.wait(lbs).await;
        self.inner
            .update_window_allowlist(window, lbs, change, mode)
            .await
    }
    async fn window_status(
        &self,
        window: &Window,
        lbs: &[ResourceArn],
    ) -> MemberResults<TargetStatus> {
        self.wait(lbs).await;
        self.inner.window_status(window, lbs).await
    }
    async fn cleanup(&self, mode: Mode) -> Result<Vec<Leftover>> {
        self.inner.cleanup(mode).await
    }
}

#[tokio::test]
async fn results_keep_the_callers_order_when_targets_complete_out_of_order() {
    let mut mock = resolving(&[]);
    mock.expect_exit_window()
        .times(3)
        .returning(|window, lbs, mode| {
            assert_eq!(
                lbs.len(),
                1,
                "{window}: a target named alone is a window of one"
            );
            let lb = &lbs[0];
            Ok(vec![if lb.name() == "b" {
                Err(Error::Conflict {
                    resource: lb.to_string(),
                    message: "another writer".into(),
                })
            } else {
                Ok(outcome(lb, mode, vec![Change::Disassociated]))
            }])
        });
    let backend = Delayed {
        inner: mock,
        delays: vec![("a", 120), ("b", 60), ("c", 0)],
    };
    let fleet = fleet_of(backend, None);
    let completed = StdMutex::new(Vec::new());
    let observer = |event: &Event<'_>| {
        if let Event::ChangeDone { report, .. } = event {
            completed.lock().unwrap().push(report.target.clone());
        }
    };
    let run = fleet
        .exit(&names(&["a", "b", "c"]), Mode::Apply, &observer)
        .await
        .unwrap();
    assert_eq!(*completed.lock().unwrap(), ["c", "b", "a"]);
    let order: Vec<&str> = run.results.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(order, ["a", "b", "c"]);
    assert_eq!(run.results[1].result, ResultKind::Error);
    assert_eq!(
        (
            run.summary.changed,
            run.summary.failed,
            run.summary.unchanged
        ),
        (2, 1, 0)
    );
    let failures: Vec<&str> = run.failures().map(|(t, _)| t).collect();
    assert_eq!(failures, ["b"]);
}

#[tokio::test]
async fn a_dry_run_passes_dry_run_to_every_changing_call() {
    let mut mock = resolving(&[]);
    mock.expect_enter_window()
        .withf(|_, _, _, mode| *mode == Mode::DryRun)
        .times(1)
        .returning(|_, lbs, _, mode| {
            outcomes(lbs, mode, vec![Change::CreatedWebAcl { name: "x".into() }])
        });
    mock.expect_exit_window()
        .withf(|_, _, mode| *mode == Mode::DryRun)
        .times(1)
        .returning(|_, lbs, mode| outcomes(lbs, mode, vec![]));
    mock.expect_update_window_allowlist()
        .withf(|_, _, _, mode| *mode == Mode::DryRun)
        .times(1)
        .returning(|_, lbs, _, mode| outcomes(lbs, mode, vec![Change::AllowlistDisabled]));
    let fleet = fleet_of(mock, Some(shop_config("")));
    let shop = names(&["shop"]);
    let run = fleet
        .enter(&shop, &EnterRequest::default(), Mode::DryRun, &Silent)
        .await
        .unwrap();
    assert!(run.dry_run && run.results.iter().all(|r| r.dry_run && r.changed));
    let run = fleet.exit(&shop, Mode::DryRun, &Silent).await.unwrap();
    assert_eq!(run.summary.unchanged, 2);
    fleet
        .update_allowlist(&shop, &AllowlistChange::Disable, Mode::DryRun, &Silent)
        .await
        .unwrap();
}

#[tokio::test]
async fn each_service_gets_its_own_spec_and_a_bad_one_stops_everything() {
    let config = Config::parse(
        "[allowlists]\noffice = [\"203.0.113.0/24\"]\n\
         [services.shop]\nload_balancers = [\"shop-a\"]\nallowlists = [\"office\"]\nstatus = 429\n\
         [services.api]\nload_balancers = [\"api-a\"]\ncontent_type = \"json\"\n",
        Path::new("maint.toml"),
    )
    .unwrap();
    let mut mock = resolving(&[]);
    mock.expect_enter_window()
        .times(3)
        .returning(|window, lbs, spec, mode| {
            let expected = match window.name() {
                "maint-svc-shop" => (429, 1),
                _ => (503, 0),
            };
            assert_eq!(
                (spec.response.status().code(), spec.allowlist.len()),
                expected,
                "{window}"
            );
            outcomes(lbs, mode, vec![Change::Associated])
        });
    let fleet = fleet_of(mock, Some(config));
    let run = fleet
        .enter(
            &names(&["shop", "api", "plain-lb"]),
            &EnterRequest::default(),
            Mode::Apply,
            &Silent,
        )
        .await
        .unwrap();
    assert_eq!(run.summary.changed, 3);

    // Ten headers of the caller's plus the service's own is one too many:
    // refused before any call.
    let config = shop_config("headers = { \"X-Team\" = \"shop\" }\n");
    let mut mock = MockBackend::new();
    mock.expect_resolve().never();
    mock.expect_enter_window().never();
    let fleet = fleet_of(mock, Some(config));
    let request = EnterRequest {
        headers: (0..10)
            .map(|i| format!("X-H{i}: v").parse().unwrap())
            .collect(),
        ..EnterRequest::default()
    };
    let err = fleet
        .enter(&names(&["shop"]), &request, Mode::Apply, &Silent)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
}

#[tokio::test]
async fn a_failed_lookup_reaches_every_target_with_its_source() {
    #[derive(Debug, thiserror::Error)]
    #[error("connection refused")]
    struct Refused;
    let mut mock = MockBackend::new();
    mock.expect_resolve().returning(|_| {
        Err(Error::Aws(AwsError {
            operation: "DescribeLoadBalancers".into(),
            code: "DispatchFailure".into(),
            message: "io error".into(),
            request_id: None,
            source: Some(Arc::new(Refused)),
        }))
    });
    mock.expect_window_status().never();
    let fleet = fleet_of(mock, None);
    let run = fleet.status(&names(&["a", "b"]), &Silent).await.unwrap();
    assert_eq!(run.failures().count(), 2);
    for report in &run.targets {
        let error = report.error.as_ref().unwrap();
        assert_eq!(error.kind, ErrorKind::Aws);
        assert_eq!(error.code.as_deref(), Some("DispatchFailure"));
        assert!(error.message.ends_with("connection refused"), "{error:?}");
    }
}

#[tokio::test]
async fn status_reads_every_target_it_can_and_reports_the_others() {
    let mut mock = resolving(&["missing"]);
    mock.expect_window_status().times(2).returning(|_, lbs| {
        Ok(lbs
            .iter()
            .map(|lb| {
                Ok(TargetStatus {
                    load_balancer: lb.clone(),
                    state: State::Normal,
                    leftovers: vec![],
                    sharing: vec![],
                    deployment: None,
                })
            })
            .collect())
    });
    let fleet = fleet_of(mock, None);
    let run = fleet
        .status(&names(&["a", "missing", "b"]), &Silent)
        .await
        .unwrap();
    let kinds: Vec<Option<ErrorKind>> = run
        .targets
        .iter()
        .map(|r| r.error.as_ref().map(|e| e.kind))
        .collect();
    assert_eq!(kinds, [None, Some(ErrorKind::TargetNotFound), None]);
    assert!(!run.all_in_maintenance());
}

#[tokio::test]
async fn cleanup_covers_every_region_of_the_config_and_reports_a_failed_one() {
    let config = Config::parse(
        "region = \"us-east-1\"\n\
         [services.eu]\nload_balancers = [\"eu-a\"]\nregion = \"eu-west-1\"\n\
         [services.ap]\nload_balancers = [\"arn:aws:elasticloadbalancing:ap-south-1:123456789012:loadbalancer/app/ap-a/0123456789abcdef\"]\n",
        Path::new("maint.toml"),
    )
    .unwrap();
    let asked = Arc::new(StdMutex::new(Vec::new()));
    let factory: BackendFactory = {
        let asked = asked.clone();
        Box::new(move |place: crate::backend::BackendPlace| {
            let region = place.region;
            asked.lock().unwrap().push(region.clone());
            let mut mock = MockBackend::new();
            let name = region.clone().unwrap_or_default();
            mock.expect_cleanup()
                .withf(|mode| *mode == Mode::DryRun)
                .returning(move |_| {
                    if name == "ap-south-1" {
                        Err(Error::unexpected("access denied"))
                    } else {
                        Ok(vec![Leftover {
                            kind: "web-acl",
                            name: format!("maint-{name}"),
                            arn: format!("arn:{name}"),
                            kept: None,
                        }])
                    }
                });
            let backend: Arc<dyn MaintenanceBackend> = Arc::new(mock);
            Box::pin(async move { Ok(backend) })
        })
    };
    let fleet = Fleet::new(Some(config), None, factory);
    let run = fleet.cleanup(Mode::DryRun).await;
    let regions: Vec<Option<&str>> = run.regions.iter().map(Option::as_deref).collect();
    assert_eq!(
        regions,
        [Some("us-east-1"), Some("ap-south-1"), Some("eu-west-1")]
    );
    assert_eq!(asked.lock().unwrap().len(), 3, "one backend per region");
    let deleted: Vec<&str> = run
        .resources
        .iter()
        .map(|r| r.resource.name.as_str())
        .collect();
    assert_eq!(deleted, ["maint-us-east-1", "maint-eu-west-1"]);
    let failed: Vec<Option<&str>> = run.failures().map(|(r, _)| r).collect();
    assert_eq!(failed, [Some("ap-south-1")]);
}

#[tokio::test]
async fn a_service_is_one_window_and_a_target_named_alone_a_window_of_one() {
    let mut mock = resolving(&[]);
    let windows = Arc::new(StdMutex::new(Vec::new()));
    let seen = windows.clone();
    mock.expect_update_window_allowlist()
        .times(2)
        .returning(move |window, lbs, _, mode| {
            let names: Vec<String> = lbs.iter().map(|lb| lb.name().to_string()).collect();
            seen.lock()
                .unwrap()
                .push((window.name().to_string(), names));
            outcomes(lbs, mode, vec![Change::AllowlistEnabled])
        });
    let fleet = fleet_of(mock, Some(shop_config("")));
    let run = fleet
        .update_allowlist(
            &names(&["shop", "solo"]),
            &AllowlistChange::Enable,
            Mode::Apply,
            &Silent,
        )
        .await
        .unwrap();
    let order: Vec<&str> = run.results.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(order, ["shop/shop-a", "shop/shop-b", "solo"]);
    let mut windows = windows.lock().unwrap().clone();
    windows.sort();
    assert_eq!(
        windows,
        [
            (
                "maint-solo-0123456789abcdef".to_string(),
                vec!["solo".to_string()]
            ),
            (
                "maint-svc-shop".to_string(),
                vec!["shop-a".to_string(), "shop-b".to_string()]
            ),
        ],
        "one call per window: the service's members together"
    );
}

#[tokio::test]
async fn services_expand_and_bad_targets_are_refused_up_front() {
    let memory = Arc::new(MemoryBackend::new("us-east-1"));
    memory.add_load_balancer("shop-a", LoadBalancerType::Application);
    memory.add_load_balancer("shop-b", LoadBalancerType::Application);
    let fleet = Fleet::new(Some(shop_config("")), None, shared_factory(memory.clone()));
    let refs = fleet.expand(&names(&["shop", "shop-a"])).unwrap();
    assert_eq!(refs.len(), 2, "shop-a named twice is acted on once");
    assert_eq!(refs[0].label(), "shop/shop-a");
    assert_eq!(refs[0].region.as_deref(), Some("us-east-1"));

    let err = fleet.expand(&names(&["shpo!", "ok-name"])).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("\"shpo!\""), "{err}");

    let all = fleet.expand(&[]).unwrap();
    assert_eq!(all.len(), 2, "no targets: every service");
}

#[test]
fn two_services_sharing_a_load_balancer_are_each_acted_on() {
    let config = Config::parse(
        "[services.blog]\nload_balancers = [\"edge\"]\nhosts = [\"blog.example.com\"]\n\
         [services.docs]\nload_balancers = [\"edge\"]\nhosts = [\"docs.example.com\"]\n",
        Path::new("maint.toml"),
    )
    .unwrap();
    let memory = Arc::new(MemoryBackend::new("us-east-1"));
    let fleet = Fleet::new(Some(config), None, shared_factory(memory));
    let refs = fleet.expand(&names(&["blog", "edge", "docs"])).unwrap();
    let labels: Vec<String> = refs.iter().map(crate::TargetRef::label).collect();
    assert_eq!(
        labels,
        ["blog/edge", "docs/edge"],
        "each service's window; edge named alone is acted on in them"
    );
}

#[test]
fn enter_requests_combine_with_the_service() {
    let config = Config::parse(
        "[allowlists]\noffice = [\"203.0.113.0/24\"]\n[services.shop]\nload_balancers = [\"a\"]\n\
         allowlists = [\"office\"]\nstatus = 429\nheaders = { \"X-Team\" = \"shop\", \"X-Keep\" = \"1\" }\n",
        Path::new("maint.toml"),
    )
    .unwrap();
    let shop = config.service("shop");
    let request = EnterRequest {
        allowlist: Allowlist::parse(["192.0.2.1"]).unwrap(),
        headers: vec!["X-Team: release".parse().unwrap()],
        ..EnterRequest::default()
    };
    let spec = request.spec_for(shop, false).unwrap();
    assert_eq!(spec.allowlist.len(), 2);
    assert_eq!(spec.response.status().code(), 429);
    assert_eq!(spec.response.headers().get("x-team"), Some("release"));
    assert_eq!(spec.response.headers().get("x-keep"), Some("1"));
    let plain = request.spec_for(None, false).unwrap();
    assert_eq!(plain.allowlist.len(), 1);
    assert_eq!(plain.response.status().code(), 503);
}

#[test]
fn named_allowlists_come_from_the_config_with_a_did_you_mean() {
    let config = Config::parse(
        "[allowlists]\noffice = [\"203.0.113.0/24\"]\n",
        Path::new("maint.toml"),
    )
    .unwrap();
    let fleet = Fleet::new(
        Some(config),
        None,
        shared_factory(Arc::new(MockBackend::new())),
    );
    let list = fleet
        .allowlist_with(
            Allowlist::parse(["192.0.2.1"]).unwrap(),
            &[],
            &names(&["office"]),
        )
        .unwrap();
    assert_eq!(list.len(), 2);
    let err = fleet
        .allowlist_with(Allowlist::new(), &[], &names(&["ofice"]))
        .unwrap_err();
    assert!(err.to_string().contains("did you mean \"office\""), "{err}");
}

#[tokio::test]
async fn arm_and_disarm_route_to_the_backend_with_the_services_spec() {
    let mut mock = resolving(&[]);
    mock.expect_enter_window().never();
    mock.expect_exit_window().never();
    mock.expect_arm_window()
        .withf(|window, lbs, spec, mode| {
            window.name() == "maint-svc-shop"
                && lbs.len() == 2
                && spec.response.status().code() == 429
                && *mode == Mode::DryRun
        })
        .times(1)
        .returning(|_, lbs, _, mode| outcomes(lbs, mode, vec![Change::Armed]));
    mock.expect_disarm_window()
        .withf(|window, lbs, mode| {
            window.name() == "maint-svc-shop" && lbs.len() == 2 && *mode == Mode::Apply
        })
        .times(1)
        .returning(|_, lbs, mode| outcomes(lbs, mode, vec![Change::Disarmed]));
    let fleet = fleet_of(mock, Some(shop_config("status = 429\n")));
    let shop = names(&["shop"]);
    let run = fleet
        .arm(&shop, &EnterRequest::default(), Mode::DryRun, &Silent)
        .await
        .unwrap();
    assert!(run.dry_run && run.results.iter().all(|r| r.changed));
    let run = fleet.disarm(&shop, Mode::Apply, &Silent).await.unwrap();
    assert_eq!(run.summary.changed, 2);
}

#[tokio::test]
async fn inject_comes_from_the_request_or_else_the_service() {
    let seen = Arc::new(StdMutex::new(Vec::new()));
    let mut mock = resolving(&[]);
    let record = seen.clone();
    mock.expect_enter_window()
        .returning(move |window, lbs, spec, mode| {
            record
                .lock()
                .unwrap()
                .push((window.name().to_string(), spec.existing_web_acl));
            outcomes(lbs, mode, vec![])
        });
    let config = Config::parse(
        "[services.shop]\nload_balancers = [\"shop-a\"]\nexisting_web_acl = \"inject\"\n\
         [services.api]\nload_balancers = [\"api-a\"]\n",
        Path::new("maint.toml"),
    )
    .unwrap();
    let fleet = fleet_of(mock, Some(config));
    let targets = names(&["shop", "api", "solo"]);
    fleet
        .enter(&targets, &EnterRequest::default(), Mode::Apply, &Silent)
        .await
        .unwrap();
    let consent = EnterRequest {
        inject: true,
        ..EnterRequest::default()
    };
    fleet
        .enter(&targets, &consent, Mode::Apply, &Silent)
        .await
        .unwrap();
    let mut seen = seen.lock().unwrap().clone();
    seen.sort_by_key(|(w, e)| (w.clone(), e.as_str()));
    let window = |n: &str, e| (n.to_string(), e);
    assert_eq!(
        seen,
        [
            window("maint-solo-0123456789abcdef", ExistingWebAcl::Inject),
            window("maint-solo-0123456789abcdef", ExistingWebAcl::Refuse),
            window("maint-svc-api", ExistingWebAcl::Inject),
            window("maint-svc-api", ExistingWebAcl::Refuse),
            window("maint-svc-shop", ExistingWebAcl::Inject),
            window("maint-svc-shop", ExistingWebAcl::Inject),
        ]
    );
}

#[tokio::test]
async fn arm_enter_exit_disarm_through_the_fleet_on_the_memory_backend() {
    let memory = Arc::new(MemoryBackend::new("us-east-1"));
    memory.add_load_balancer("shop-a", LoadBalancerType::Application);
    memory.add_load_balancer("shop-b", LoadBalancerType::Application);
    let fleet = Fleet::new(Some(shop_config("")), None, shared_factory(memory.clone()));
    let shop = names(&["shop"]);
    let changes = |run: &ChangeRun| -> Vec<Vec<Change>> {
        run.results.iter().map(|r| r.details.clone()).collect()
    };
    let run = fleet
        .arm(&shop, &EnterRequest::default(), Mode::Apply, &Silent)
        .await
        .unwrap();
    let created = Change::CreatedWebAcl {
        name: "maint-svc-shop".into(),
    };
    assert_eq!(changes(&run), vec![vec![created, Change::Armed]; 2]);
    let run = fleet
        .enter(&shop, &EnterRequest::default(), Mode::Apply, &Silent)
        .await
        .unwrap();
    assert_eq!(changes(&run), vec![vec![Change::SwitchedOn]; 2]);
    let run = fleet.disarm(&shop, Mode::Apply, &Silent).await.unwrap();
    assert_eq!(run.summary.failed, 2, "refused in maintenance");
    let run = fleet.exit(&shop, Mode::Apply, &Silent).await.unwrap();
    assert_eq!(changes(&run), vec![vec![Change::SwitchedOff]; 2]);
    let run = fleet.disarm(&shop, Mode::Apply, &Silent).await.unwrap();
    assert_eq!(run.summary.changed, 2);
    let status = fleet.status(&shop, &Silent).await.unwrap();
    assert!(status
        .targets
        .iter()
        .all(|r| r.state == crate::report::TargetState::Normal));
}

#[tokio::test]
async fn exit_expired_ends_only_overdue_windows_and_is_idempotent() {
    let memory = Arc::new(MemoryBackend::new("us-east-1"));
    for name in ["shop-a", "shop-b", "late", "later", "open", "armed"] {
        memory.add_load_balancer(name, LoadBalancerType::Application);
    }
    let fleet = Fleet::new(Some(shop_config("")), None, shared_factory(memory.clone()));
    let past = chrono::Utc::now() - chrono::Duration::minutes(1);
    let future = chrono::Utc::now() + chrono::Duration::hours(1);
    let at = |until| EnterRequest {
        until,
        ..EnterRequest::default()
    };
    for (targets, until) in [
        (names(&["shop"]), Some(past)),
        (names(&["late"]), Some(past)),
        (names(&["later"]), Some(future)),
        (names(&["open"]), None),
    ] {
        let run = fleet
            .enter(&targets, &at(until), Mode::Apply, &Silent)
            .await
            .unwrap();
        assert_eq!(run.summary.failed, 0);
    }
    // Armed, past its end, not in maintenance: not overdue.
    fleet
        .arm(&names(&["armed"]), &at(Some(past)), Mode::Apply, &Silent)
        .await
        .unwrap();
    let status = fleet
        .status(&names(&["shop", "late", "later", "open", "armed"]), &Silent)
        .await
        .unwrap();
    let overdue: Vec<(&str, bool)> = status
        .targets
        .iter()
        .map(|r| (r.target.as_str(), r.overdue))
        .collect();
    assert_eq!(
        overdue,
        [
            ("shop/shop-a", true),
            ("shop/shop-b", true),
            ("late", true),
            ("later", false),
            ("open", false),
            ("armed", false)
        ]
    );

    // A dry run plans the three, changes nothing.
    let plan = fleet
        .exit_expired(&[], Mode::DryRun, &Silent)
        .await
        .unwrap();
    assert_eq!(plan.summary.targets, 3, "{plan:?}");
    assert!(
        fleet
            .status(&names(&["late"]), &Silent)
            .await
            .unwrap()
            .targets[0]
            .overdue
    );
    // Named targets: only the overdue among them.
    let named = fleet
        .exit_expired(&names(&["late", "later"]), Mode::Apply, &Silent)
        .await
        .unwrap();
    let exited: Vec<&str> = named.results.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(exited, ["late"]);
    // Every window of the region: the service's two members.
    let all = fleet.exit_expired(&[], Mode::Apply, &Silent).await.unwrap();
    assert_eq!(all.summary.changed, 2, "{all:?}");
    assert!(all
        .results
        .iter()
        .all(|r| r.service.as_deref() == Some("shop")));
    // Nothing left to do.
    let again = fleet.exit_expired(&[], Mode::Apply, &Silent).await.unwrap();
    assert_eq!(again.summary.targets, 0);
    let status = fleet
        .status(&names(&["shop", "late", "later", "open", "armed"]), &Silent)
        .await
        .unwrap();
    let states: Vec<&str> = status.targets.iter().map(|r| r.state.as_str()).collect();
    assert_eq!(
        states,
        [
            "normal",
            "normal",
            "normal",
            "maintenance",
            "maintenance",
            "armed"
        ]
    );
}

/// The window's response as the backend reads it back.
async fn response_of(
    memory: &MemoryBackend,
    window: &str,
    lb: &str,
) -> crate::response::MaintenanceResponse {
    let lb = ResourceArn::parse(lb).unwrap();
    let status = memory
        .window_status(&Window::of_service(window), &[lb])
        .await
        .unwrap()
        .remove(0)
        .unwrap();
    match status.state {
        State::Maintenance(info) | State::Armed(info) => info.response,
        other => panic!("not a window: {other:?}"),
    }
}

#[tokio::test]
async fn a_repeated_enter_or_arm_keeps_every_setting_it_is_not_given() {
    let memory = Arc::new(MemoryBackend::new("us-east-1"));
    let a = memory.add_load_balancer("shop-a", LoadBalancerType::Application);
    memory.add_load_balancer("shop-b", LoadBalancerType::Application);
    let config = shop_config("headers = { \"X-Team\" = \"web\" }\n");
    let fleet = Fleet::new(Some(config), None, shared_factory(memory.clone()));
    let shop = names(&["shop"]);
    let changes = |run: &ChangeRun| -> Vec<Change> { run.results[0].details.clone() };
    let until = Utc::now() + chrono::Duration::hours(1);
    let armed = EnterRequest {
        reason: Some(Reason::new("release 2.4").unwrap()),
        until: Some(until),
        status: Some(ResponseStatus::new(502).unwrap()),
        headers: vec!["X-Maintenance: yes".parse().unwrap()],
        ..EnterRequest::default()
    };
    fleet
        .arm(&shop, &armed, Mode::Apply, &Silent)
        .await
        .unwrap();
    let before = response_of(&memory, "shop", &a).await;

    // What the README shows: arm with the settings, then a bare `enter`.
    let run = fleet
        .enter(&shop, &EnterRequest::default(), Mode::Apply, &Silent)
        .await
        .unwrap();
    assert_eq!(changes(&run), vec![Change::SwitchedOn]);
    let status = fleet.status(&shop, &Silent).await.unwrap();
    assert_eq!(status.targets[0].reason.as_deref(), Some("release 2.4"));
    assert_eq!(status.targets[0].until, Some(until));
    assert_eq!(response_of(&memory, "shop", &a).await, before);
    // The same again: nothing to do.
    let run = fleet
        .enter(&shop, &EnterRequest::default(), Mode::Apply, &Silent)
        .await
        .unwrap();
    assert_eq!(changes(&run), Vec::<Change>::new());

    // A flag changes only what it names.
    let header = EnterRequest {
        headers: vec!["X-Other: 1".parse().unwrap()],
        ..EnterRequest::default()
    };
    let run = fleet
        .enter(&shop, &header, Mode::Apply, &Silent)
        .await
        .unwrap();
    assert_eq!(changes(&run), vec![Change::ResponseChanged]);
    let response = response_of(&memory, "shop", &a).await;
    assert_eq!(response.status().code(), 502);
    assert_eq!(response.body(), before.body());
    for (name, value) in [
        ("X-Maintenance", "yes"),
        ("X-Team", "web"),
        ("X-Other", "1"),
    ] {
        assert_eq!(response.headers().get(name), Some(value), "{name}");
    }

    // A new end: the default page and Retry-After follow it; the rest stays.
    let later = until + chrono::Duration::hours(2);
    let extend = EnterRequest {
        until: Some(later),
        ..EnterRequest::default()
    };
    let run = fleet
        .enter(&shop, &extend, Mode::Apply, &Silent)
        .await
        .unwrap();
    assert_eq!(
        changes(&run),
        vec![
            Change::UntilChanged { until: Some(later) },
            Change::ResponseChanged
        ]
    );
    let response = response_of(&memory, "shop", &a).await;
    assert_eq!(
        response.headers().get("Retry-After"),
        Some(crate::response::http_date(later).as_str())
    );
    assert_eq!(
        response.body().content(),
        crate::response::default_html_page(Some(later))
    );
    assert_eq!(response.headers().get("X-Other"), Some("1"));
    let status = fleet.status(&shop, &Silent).await.unwrap();
    assert_eq!(status.targets[0].reason.as_deref(), Some("release 2.4"));
}

#[tokio::test]
async fn load_balancers_named_together_under_one_web_acl_are_one_window_in_memory() {
    let memory = Arc::new(MemoryBackend::new("us-east-1"));
    let a =
        ResourceArn::parse(&memory.add_load_balancer("a", LoadBalancerType::Application)).unwrap();
    let b =
        ResourceArn::parse(&memory.add_load_balancer("b", LoadBalancerType::Application)).unwrap();
    let acl = memory.associate_foreign_web_acl(&a, "security");
    memory.associate_web_acl(&b, &acl);
    let fleet = Fleet::new(None, None, shared_factory(memory.clone()));
    let both = names(&["a", "b"]);
    let inject = EnterRequest {
        inject: true,
        ..EnterRequest::default()
    };
    let run = fleet
        .enter(&both, &inject, Mode::Apply, &Silent)
        .await
        .unwrap();
    assert_eq!(run.summary.failed, 0, "{run:?}");
    let status = fleet.status(&names(&["b"]), &Silent).await.unwrap();
    let window = Window::of_host_acl("security");
    assert_eq!(status.targets[0].window.as_deref(), Some(window.name()));
    let partial = fleet
        .exit(&names(&["a"]), Mode::Apply, &Silent)
        .await
        .unwrap();
    assert_eq!(partial.summary.failed, 1, "{partial:?}");
    let run = fleet.exit(&both, Mode::Apply, &Silent).await.unwrap();
    assert_eq!(run.summary.changed, 2, "{run:?}");
}

#[tokio::test]
async fn the_builder_makes_a_fleet_on_a_given_backend_with_its_config() {
    let memory = Arc::new(MemoryBackend::new("us-east-1"));
    let a = memory.add_load_balancer("shop-a", LoadBalancerType::Application);
    memory.add_load_balancer("shop-b", LoadBalancerType::Application);
    let fleet = Fleet::builder()
        .config(shop_config(""))
        .backend(memory.clone())
        .concurrency(0)
        .build()
        .unwrap();
    assert_eq!(fleet.concurrency, 1, "at least one at a time");
    assert_eq!(fleet.default_region().as_deref(), Some("us-east-1"));
    let request = EnterRequest {
        reason: Some(Reason::new("deploy 42").unwrap()),
        ..EnterRequest::default()
    };
    let run = fleet
        .enter(&names(&["shop"]), &request, Mode::Apply, &Silent)
        .await
        .unwrap();
    assert_eq!(run.summary.changed, 2);
    let status = memory
        .window_status(
            &Window::of_service("shop"),
            &[ResourceArn::parse(&a).unwrap()],
        )
        .await
        .unwrap()
        .remove(0)
        .unwrap();
    assert_eq!(
        status.maintenance().and_then(|m| m.reason.clone()),
        Some("deploy 42".to_string()),
        "the enter reached the backend given"
    );
}

#[test]
fn the_builders_region_wins_over_the_aws_options_which_win_over_the_config() {
    use crate::backend::AwsOptions;
    let aws = || AwsOptions {
        region: Some("eu-west-1".into()),
        ..AwsOptions::default()
    };
    let built = |b: FleetBuilder| b.config(shop_config("")).build().unwrap();
    assert_eq!(
        built(Fleet::builder().aws(aws()))
            .default_region()
            .as_deref(),
        Some("eu-west-1")
    );
    assert_eq!(
        built(Fleet::builder().aws(aws()).region("us-west-2"))
            .default_region()
            .as_deref(),
        Some("us-west-2")
    );
    assert_eq!(
        built(Fleet::builder()).default_region().as_deref(),
        Some("us-east-1"),
        "no region given: the config file's"
    );
    assert_eq!(
        built(Fleet::builder().concurrency(3)).concurrency,
        3,
        "the concurrency given"
    );
    assert_eq!(built(Fleet::builder()).concurrency, DEFAULT_CONCURRENCY);
}

#[test]
fn a_backend_with_aws_settings_is_refused_by_the_builder() {
    let memory = Arc::new(MemoryBackend::new("us-east-1"));
    let err = Fleet::builder()
        .backend(memory)
        .aws(crate::backend::AwsOptions::default())
        .build()
        .err()
        .unwrap();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("give one or the other"), "{err}");
}
