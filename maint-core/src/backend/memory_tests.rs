//! Tests of the in-memory backend: the conformance suite, and what only it
//! models (web ACLs shared by several load balancers, reverted injections).

#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;

use crate::backend::conformance::{self, Fixture};
use crate::backend::contract::{MaintenanceBackend, MemberResults};
use crate::backend::memory::{LoadBalancerType, MemoryBackend};
use crate::maintenance::{
    AllowlistChange, Change, ExistingWebAcl, MaintenanceSpec, Mode, Outcome, State, Window,
};
use crate::target::{LoadBalancerName, ResourceArn};
use crate::Error;

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
    async fn new_api_stage(&self, hint: &str) -> ResourceArn {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        self.backend.add_api_stage(&format!("{hint}{n}"))
    }
    async fn associate_foreign_web_acl(&self, lb: &ResourceArn) -> String {
        self.backend
            .associate_foreign_web_acl(lb, "security-team-acl")
    }
    async fn disassociate(&self, lb: &ResourceArn) {
        self.backend.disassociate(lb);
    }
    async fn interrupt_next_enter(&self) {
        self.backend.interrupt_next_enter();
    }
    async fn remove_injected_rule(&self, web_acl_arn: &str) {
        assert!(
            self.backend.revert_injection(web_acl_arn),
            "no rule of maint's"
        );
    }
}

#[tokio::test]
async fn the_conformance_suite_passes_on_the_memory_backend() {
    conformance::run_all(&MemoryFixture::new()).await;
}

/// Three load balancers under one shared foreign web ACL, a fourth
/// under nothing; the service window of the three.
fn shared_acl() -> (MemoryBackend, Vec<ResourceArn>, String, Window) {
    let backend = MemoryBackend::new("eu-west-1");
    let lbs: Vec<ResourceArn> = ["shop-a", "shop-b", "shop-c", "other"]
        .iter()
        .map(|n| {
            ResourceArn::parse(&backend.add_load_balancer(n, LoadBalancerType::Application))
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

async fn states(backend: &MemoryBackend, w: &Window, lbs: &[ResourceArn]) -> Vec<State> {
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
    let add = AllowlistChange::Add(crate::allowlist::Allowlist::parse(["198.51.100.1"]).unwrap());
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
        .all(|r| matches!(r, Err(e @ Error::Conflict { .. })
        if e.to_string().contains("`maint enter` puts the rule back"))));
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
    let arn = ResourceArn::parse(
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/0123456789abcdef",
    )
    .unwrap();
    let err = backend.status(&arn).await.unwrap_err();
    assert!(err.to_string().contains("--region us-east-1"), "{err}");
}

/// Two windows scoped apart on one load balancer, in what only this
/// backend lists: one window per part (`windows`), the owner's as the
/// window of the load balancer (`shared_windows`), and a web ACL holding a
/// part in use never a leftover, even after its owner's part left.
#[tokio::test]
async fn windows_sharing_a_web_acl_are_listed_part_by_part() {
    let backend = MemoryBackend::new("eu-west-1");
    let lb = backend.add_load_balancer("shared", LoadBalancerType::Application);
    let lbs = [ResourceArn::parse(&lb).unwrap()];
    let (shop, api) = (Window::of_service("shop"), Window::of_service("api"));
    for (w, host) in [(&shop, "shop.example.com"), (&api, "api.example.com")] {
        let spec = MaintenanceSpec {
            scope: crate::scope::Scope::parse(&[host], &[] as &[&str], &[] as &[&str]).unwrap(),
            ..MaintenanceSpec::default()
        };
        changes(backend.enter_window(w, &lbs, &spec, Mode::Apply).await);
    }
    let listed = |found: Vec<crate::maintenance::WindowSummary>| -> Vec<(String, bool)> {
        found
            .into_iter()
            .map(|s| (s.window.name().to_string(), s.in_maintenance))
            .collect()
    };
    let both = vec![
        (api.name().to_string(), true),
        (shop.name().to_string(), true),
    ];
    assert_eq!(listed(backend.windows().await.unwrap()), both);
    let first = backend.shared_windows(&lbs, false).await.unwrap();
    assert_eq!(first, [Some(shop.clone())]);
    assert_eq!(backend.cleanup(Mode::DryRun).await.unwrap(), []);

    changes(backend.exit_window(&shop, &lbs, Mode::Apply).await);
    let api_only = vec![(api.name().to_string(), true)];
    assert_eq!(listed(backend.windows().await.unwrap()), api_only);
    assert_eq!(backend.cleanup(Mode::DryRun).await.unwrap(), []);
    assert!(matches!(
        &states(&backend, &api, &lbs).await[..],
        [State::Maintenance(_)]
    ));
}

#[tokio::test]
async fn an_injected_window_leaves_though_its_web_acl_now_protects_another_load_balancer() {
    // After the injection, another writer associates the service's web
    // ACL with a fourth load balancer: it gets the maintenance response
    // too, but it is no member. Exiting the window's members takes
    // maint's rule out (which only ever lets more through), as the WAF
    // backend always did; the fourth keeps the web ACL, without the rule.
    let (backend, lbs, acl, w) = shared_acl();
    let shop = &lbs[..3];
    let s = inject_spec(&["192.0.2.1"], "db move");
    changes(backend.enter_window(&w, shop, &s, Mode::Apply).await);
    backend.associate_web_acl(&lbs[3], &acl);
    let removed = vec![Change::RuleRemoved {
        web_acl: "shop-security".into(),
    }];
    for mode in [Mode::DryRun, Mode::Apply] {
        let out = changes(backend.exit_window(&w, shop, mode).await);
        assert_eq!(out, vec![removed.clone(); 3], "{mode:?}");
    }
    for state in states(&backend, &w, &lbs).await {
        assert!(
            matches!(&state, State::Foreign { web_acl_arn, .. } if *web_acl_arn == acl),
            "{state:?}"
        );
    }
}
