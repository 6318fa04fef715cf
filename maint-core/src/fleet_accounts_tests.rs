//! A fleet across accounts and Regions, on in-memory backends (one per
//! account and Region, as the WAF factory makes them): each target is acted
//! on in its own account and Region; an account maint cannot act in stops
//! a change before anything changes, and is named once; an ARN in an
//! account the config does not name is bad input.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use super::{EnterRequest, Fleet, Silent};
use crate::backend::MemoryBackend;
use crate::backend::{BackendFactory, BackendPlace, LoadBalancerType, MaintenanceBackend, Mode};
use crate::config::Config;
use crate::error::{AwsError, ErrorKind};
use crate::report::TargetState;
use crate::Error;

const ORG: &str = r#"region = "us-east-1"
[accounts.prod]
role_arn = "arn:aws:iam::111122223333:role/maint"
regions = ["us-east-1", "eu-west-1"]
[accounts.stage]
role_arn = "arn:aws:iam::222233334444:role/maint"
regions = ["eu-west-1", "ap-south-1"]
[services.shop]
account = "prod"
load_balancers = ["shop"]
[services.api]
account = "stage"
load_balancers = ["api"]
[services.home]
load_balancers = ["home"]
"#;

type Places = Arc<Mutex<HashMap<(Option<String>, Option<String>), Arc<MemoryBackend>>>>;

/// A factory of one in-memory backend per account and Region, each holding
/// the load balancers `shop`, `api` and `home` in that account (its ID:
/// the role's, else 123456789012). The accounts in `failing` cannot be
/// opened (as a role that cannot be assumed). Returns how many times each
/// account was opened.
fn org(failing: &'static [&'static str]) -> (BackendFactory, Places, Arc<Mutex<Vec<String>>>) {
    let places: Places = Arc::default();
    let opened = Arc::new(Mutex::new(Vec::new()));
    let factory: BackendFactory = {
        let (places, opened) = (places.clone(), opened.clone());
        Box::new(move |place: BackendPlace| {
            let name = place.account.as_ref().map(|a| a.name.clone());
            opened
                .lock()
                .unwrap()
                .push(name.clone().unwrap_or_default());
            let result: crate::Result<Arc<dyn MaintenanceBackend>> =
                if name.as_deref().is_some_and(|n| failing.contains(&n)) {
                    let role = place.account.as_ref().and_then(|a| a.role_arn()).unwrap();
                    Err(Error::Aws(AwsError {
                        operation: "AssumeRole".into(),
                        code: "AccessDenied".into(),
                        message: format!("cannot assume the role {role}: not authorized"),
                        request_id: None,
                        source: None,
                    }))
                } else {
                    let id = place
                        .account
                        .as_ref()
                        .and_then(|a| a.id.clone())
                        .unwrap_or_else(|| "123456789012".into());
                    let region = place.region.clone().unwrap();
                    let backend = places
                        .lock()
                        .unwrap()
                        .entry((name, place.region.clone()))
                        .or_insert_with(|| {
                            let b = MemoryBackend::in_account(&region, &id);
                            for lb in ["shop", "api", "home"] {
                                b.add_load_balancer(lb, LoadBalancerType::Application);
                            }
                            Arc::new(b)
                        })
                        .clone();
                    Ok(backend)
                };
            Box::pin(async move { result })
        })
    };
    (factory, places, opened)
}

fn fleet(factory: BackendFactory) -> Fleet {
    Fleet::new(
        Some(Config::parse(ORG, Path::new("maint.toml")).unwrap()),
        None,
        factory,
    )
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// `enter shop api home`: a service in each account, and one in the
/// credentials' own.
async fn enter_all(fleet: &Fleet) -> crate::Result<crate::report::ChangeRun> {
    fleet
        .enter(
            &names(&["shop", "api", "home"]),
            &EnterRequest::default(),
            Mode::Apply,
            &Silent,
        )
        .await
}

#[tokio::test]
async fn each_service_is_acted_on_in_its_account_and_every_region_of_it() {
    let (factory, places, _) = org(&[]);
    let fleet = fleet(factory);
    let run = enter_all(&fleet).await.unwrap();
    let got: Vec<(String, String, String)> = run
        .results
        .iter()
        .map(|r| {
            let arn = r.load_balancer_arn.clone().unwrap();
            let region = arn.split(':').nth(3).unwrap().to_string();
            (r.target.clone(), r.account.clone().unwrap(), region)
        })
        .collect();
    let expected = [
        ("shop/shop", "prod", "us-east-1"),
        ("shop/shop", "prod", "eu-west-1"),
        ("api/api", "stage", "eu-west-1"),
        ("api/api", "stage", "ap-south-1"),
        ("home/home", "123456789012", "us-east-1"),
    ];
    for (target, account, region) in expected {
        assert!(
            got.contains(&(target.into(), account.into(), region.into())),
            "{target} {account} {region} missing in {got:?}"
        );
    }
    assert_eq!(got.len(), expected.len(), "{got:?}");
    assert_eq!(run.summary.changed, 5);
    // Each place's backend is in its own account, and holds the window.
    for (account, region, lb, id) in [
        ("prod", "eu-west-1", "shop", "111122223333"),
        ("stage", "ap-south-1", "api", "222233334444"),
    ] {
        let backend = places
            .lock()
            .unwrap()
            .get(&(Some(account.to_string()), Some(region.to_string())))
            .unwrap()
            .clone();
        let arn = backend
            .resolve(&[lb.parse().unwrap()])
            .await
            .unwrap()
            .remove(0)
            .unwrap();
        assert_eq!(arn.account_id(), id);
        let windows = backend.windows().await.unwrap();
        assert_eq!(windows.len(), 1, "{windows:?}");
        assert_eq!(windows[0].members, [arn]);
    }
    // Status without targets covers every account and Region, grouped by
    // them in its reports.
    let shown = fleet.status(&[], &Silent).await.unwrap();
    assert_eq!(shown.targets.len(), 5);
    assert!(shown
        .targets
        .iter()
        .all(|t| t.state == TargetState::Maintenance && t.error.is_none()));
    let covered = fleet.places();
    for place in [
        (None, Some("us-east-1")),
        (Some("prod"), Some("us-east-1")),
        (Some("prod"), Some("eu-west-1")),
        (Some("stage"), Some("eu-west-1")),
        (Some("stage"), Some("ap-south-1")),
    ] {
        let place = (place.0.map(str::to_string), place.1.map(str::to_string));
        assert!(covered.contains(&place), "{place:?} not in {covered:?}");
    }
    let exited = fleet
        .exit(&names(&["shop", "api", "home"]), Mode::Apply, &Silent)
        .await
        .unwrap();
    assert_eq!(exited.summary.changed, 5);
}

#[tokio::test]
async fn an_account_that_cannot_be_opened_stops_the_change_before_any_and_is_named_once() {
    let (factory, _, opened) = org(&["stage"]);
    let fleet = fleet(factory);
    let err = enter_all(&fleet).await.unwrap_err();
    let Error::Unresolved { failures } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0].0, "account stage");
    assert!(
        failures[0]
            .1
            .to_string()
            .contains("arn:aws:iam::222233334444:role/maint"),
        "{err}"
    );
    assert_eq!(err.kind(), ErrorKind::Aws);
    // Each of stage's places was opened once (the WAF factory assumes the
    // role once for both), the failure is named once, and nothing changed
    // anywhere: every other target is still normal.
    let tried = opened.lock().unwrap().clone();
    assert_eq!(
        tried.iter().filter(|a| *a == "stage").count(),
        2,
        "{tried:?}"
    );
    let shown = fleet
        .status(&names(&["shop", "home"]), &Silent)
        .await
        .unwrap();
    assert_eq!(shown.targets.len(), 3);
    assert!(shown.targets.iter().all(|t| t.state == TargetState::Normal));
}

#[tokio::test]
async fn an_arn_goes_to_the_account_of_its_id_and_an_unknown_account_is_bad_input() {
    let (factory, _, opened) = org(&[]);
    let fleet = fleet(factory);
    let in_prod =
        "arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/shop/0123456789abcdef";
    let refs = fleet.expand(&names(&[in_prod])).unwrap();
    assert_eq!(refs[0].account.as_deref(), Some("prod"));
    assert_eq!(refs[0].region.as_deref(), Some("eu-west-1"));
    let elsewhere =
        "arn:aws:elasticloadbalancing:eu-west-1:999988887777:loadbalancer/app/shop/0123456789abcdef";
    let err = fleet
        .enter(
            &names(&[elsewhere]),
            &EnterRequest::default(),
            Mode::Apply,
            &Silent,
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let message = err.to_string();
    assert!(
        message.contains("no account of the config file is 999988887777"),
        "{message}"
    );
    assert!(message.contains("prod (111122223333)"), "{message}");
    assert!(opened.lock().unwrap().is_empty(), "nothing was opened");
}

#[tokio::test]
async fn cleanup_covers_every_account_and_region_and_names_each_resources_account() {
    let (factory, places, _) = org(&[]);
    let fleet = fleet(factory);
    // A run killed half way in stage's second Region leaves its web ACL.
    fleet.status(&names(&["api"]), &Silent).await.unwrap();
    let stage_ap = places
        .lock()
        .unwrap()
        .get(&(Some("stage".into()), Some("ap-south-1".into())))
        .unwrap()
        .clone();
    stage_ap.interrupt_next_enter();
    let run = fleet
        .enter(
            &names(&["api"]),
            &EnterRequest::default(),
            Mode::Apply,
            &Silent,
        )
        .await
        .unwrap();
    assert_eq!(run.summary.failed, 1, "{run:?}");
    let cleaned = fleet.cleanup(Mode::DryRun).await;
    assert!(cleaned.errors.is_empty(), "{:?}", cleaned.errors);
    let found: Vec<(Option<&str>, Option<&str>, &str)> = cleaned
        .resources
        .iter()
        .map(|c| (c.account.as_deref(), c.region.as_deref(), c.resource.kind))
        .collect();
    assert_eq!(
        found,
        [(Some("stage"), Some("ap-south-1"), "web-acl")],
        "only the leftover, in its account and Region"
    );
    // Every place of the config was covered.
    for region in ["us-east-1", "eu-west-1", "ap-south-1"] {
        assert!(
            cleaned.regions.contains(&Some(region.to_string())),
            "{:?}",
            cleaned.regions
        );
    }
}

#[tokio::test]
async fn exit_expired_without_targets_ends_overdue_windows_in_every_account_and_region() {
    let (factory, _, _) = org(&[]);
    let fleet = fleet(factory);
    let past = chrono::Utc::now() - chrono::Duration::minutes(1);
    let future = chrono::Utc::now() + chrono::Duration::hours(1);
    for (service, until) in [("shop", past), ("api", future)] {
        let request = EnterRequest {
            until: Some(until),
            ..EnterRequest::default()
        };
        let run = fleet
            .enter(&names(&[service]), &request, Mode::Apply, &Silent)
            .await
            .unwrap();
        assert_eq!(run.summary.changed, 2, "{service}: {run:?}");
    }
    let ended = fleet.exit_expired(&[], Mode::Apply, &Silent).await.unwrap();
    let mut got: Vec<(String, String)> = ended
        .results
        .iter()
        .map(|r| {
            assert!(r.error.is_none() && r.changed, "{r:?}");
            let arn = r.load_balancer_arn.clone().unwrap();
            (
                r.account.clone().unwrap(),
                arn.split(':').nth(3).unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("prod".to_string(), "eu-west-1".to_string()),
            ("prod".to_string(), "us-east-1".to_string())
        ]
    );
    // Stage's windows are not overdue: still in maintenance, in both Regions.
    let shown = fleet.status(&names(&["api"]), &Silent).await.unwrap();
    assert_eq!(shown.targets.len(), 2);
    assert!(shown
        .targets
        .iter()
        .all(|t| t.state == TargetState::Maintenance));
}
