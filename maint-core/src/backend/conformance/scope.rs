//! The scope scenarios: a window that covers some hosts and paths of its
//! load balancer and keeps some paths open, and two windows scoped to
//! different hosts sharing one load balancer, each with its part of one
//! web ACL, as every backend must answer them (issue 21).

use super::fixture::Fixture;
use super::helpers::{alb, all_ok, list, spec, states, status, without_ip_sets};
use crate::check::{CheckRequest, Verdict, Why};
use crate::maintenance::{
    AllowlistChange, Change, Given, MaintenanceInfo, MaintenanceSpec, Mode, SharedWindow, State,
    Window,
};
use crate::scope::{Scope, ScopeParts};
use crate::target::ResourceArn;
use crate::Error;

/// What a stranger's request for `host` and `path` gets, and why.
async fn answer(f: &dyn Fixture, lb: &ResourceArn, host: &str, path: &str) -> (Verdict, Vec<Why>) {
    let request = CheckRequest::new("198.51.100.7", &[], Some(path))
        .and_then(|r| r.with_host(host))
        .unwrap();
    let report = f
        .backend()
        .check(lb, &request)
        .await
        .unwrap_or_else(|e| panic!("check {lb}: {e}"));
    (report.verdict, report.why)
}

/// A window scoped to `shop.example.com` and `*.shop.example.com`, paths
/// `/checkout` and `/api/`, with `/checkout/healthz` open: requests inside
/// get the maintenance response, those outside or under the open path are
/// let through (and `check` says why); `status` shows the scope; a repeated
/// `enter` keeps the parts it is not given and changes those it is.
pub(super) async fn a_scoped_window_covers_its_hosts_and_paths_only(f: &dyn Fixture) {
    let b = f.backend();
    let lb = alb(f, "conf-scope").await;
    // An ALB nobody tagged is no controller's.
    assert_eq!(
        b.controllers(std::slice::from_ref(&lb)).await.unwrap(),
        [None]
    );
    let scope = Scope::parse(
        &["shop.example.com", "*.shop.example.com"],
        &["/checkout", "/api/"],
        &["/checkout/healthz"],
    )
    .unwrap();
    let scoped = MaintenanceSpec {
        scope: scope.clone(),
        ..spec(&["192.0.2.0/24"], "scoped")
    };
    b.enter(&lb, &scoped, Mode::Apply).await.unwrap();
    assert_eq!(status(f, &lb).await.window_info().unwrap().scope, scope);

    for (host, path) in [
        ("shop.example.com", "/checkout"),
        ("Shop.Example.COM", "/api/orders"),
        ("eu.shop.example.com", "/checkout/pay"),
        ("shop.example.com", "/checkout/healthz/../pay"),
    ] {
        let (v, _) = answer(f, &lb, host, path).await;
        assert_eq!(v, Verdict::Maintenance, "{host}{path}");
    }
    for (host, path) in [
        ("api.example.com", "/checkout"),
        ("shop.example.com", "/"),
        ("shop.example.com.evil.test", "/checkout"),
    ] {
        let (v, why) = answer(f, &lb, host, path).await;
        assert_eq!(v, Verdict::LetThrough, "{host}{path}");
        assert!(
            matches!(why.as_slice(), [Why::OutOfScope { .. }]),
            "{host}{path}: {why:?}"
        );
    }
    let (v, why) = answer(f, &lb, "shop.example.com", "/checkout/healthz").await;
    assert_eq!(v, Verdict::LetThrough);
    assert_eq!(
        why,
        [Why::OpenPath {
            path: "/checkout/healthz".into()
        }]
    );

    // Nothing given: the scope stays, nothing changes.
    let again = MaintenanceSpec {
        given: Some(Given::default()),
        ..spec(&["192.0.2.0/24"], "scoped")
    };
    let kept = b.enter(&lb, &again, Mode::Apply).await.unwrap();
    assert!(
        !kept
            .changes
            .iter()
            .any(|c| matches!(c, Change::ScopeChanged { .. })),
        "{kept:?}"
    );
    assert_eq!(status(f, &lb).await.window_info().unwrap().scope, scope);
    // The open paths given: only they change.
    let opened = MaintenanceSpec {
        scope: Scope::parse(&[] as &[&str], &[] as &[&str], &["/checkout/"]).unwrap(),
        given: Some(Given {
            reason: true,
            scope: ScopeParts {
                open_paths: true,
                ..ScopeParts::default()
            },
            ..Given::default()
        }),
        ..spec(&["192.0.2.0/24"], "scoped")
    };
    let changed = b.enter(&lb, &opened, Mode::Apply).await.unwrap();
    assert!(
        changed.changes.iter().any(|c| matches!(c, Change::ScopeChanged { scope: Some(s) } if s.contains("open paths /checkout/"))),
        "{changed:?}"
    );
    let now = status(f, &lb).await.window_info().unwrap().scope.clone();
    assert_eq!(now.hosts(), scope.hosts());
    assert_eq!(now.paths(), scope.paths());
    assert_eq!(
        answer(f, &lb, "shop.example.com", "/checkout/pay").await.0,
        Verdict::LetThrough
    );
    assert_eq!(
        answer(f, &lb, "shop.example.com", "/api/x").await.0,
        Verdict::Maintenance
    );

    b.exit(&lb, Mode::Apply).await.unwrap();
    assert_eq!(
        answer(f, &lb, "shop.example.com", "/api/x").await.0,
        Verdict::LetThrough
    );
}

/// A spec scoped to `host` alone, allowing `entries`.
fn of_host(host: &str, entries: &[&str]) -> MaintenanceSpec {
    MaintenanceSpec {
        scope: Scope::parse(&[host], &[] as &[&str], &[] as &[&str]).unwrap(),
        ..spec(entries, host)
    }
}

/// The maintenance `w` shows for `lb`, which must be in it.
async fn shown(f: &dyn Fixture, w: &Window, lb: &ResourceArn) -> MaintenanceInfo {
    let st = states(f, w, std::slice::from_ref(lb)).await.remove(0);
    let info = st.maintenance().unwrap_or_else(|| panic!("{w}: {st:?}"));
    assert_eq!(info.window, w.name(), "{w} shows its own part");
    info.clone()
}

/// Asserts what a stranger's request for each host gets from `lb`.
async fn verdicts(f: &dyn Fixture, lb: &ResourceArn, want: &[(&str, Verdict)]) {
    for (host, verdict) in want {
        assert_eq!(answer(f, lb, host, "/").await.0, *verdict, "{host}");
    }
}

/// Two services scoped to different hosts of one load balancer enter and
/// exit independently: the first creates its web ACL, the second adds its
/// part to it; each host gets its own window's maintenance and allowlist;
/// a third window overlapping them is refused, changing nothing; the first
/// leaving removes only its part (and joins again as a part); the last
/// part out takes the web ACL with it, leaving nothing to clean up.
pub(super) async fn two_scoped_windows_share_one_load_balancer(f: &dyn Fixture) {
    let b = f.backend();
    let lb = alb(f, "conf-share").await;
    let lbs = std::slice::from_ref(&lb);
    let named = |service: &str| Window::of_service(&format!("{service}-{}", lb.name()));
    let (shop, api) = (named("shop"), named("api"));
    let shop_spec = of_host("shop.example.com", &["192.0.2.1"]);
    let api_spec = of_host("api.example.com", &["198.51.100.1"]);
    // The first window's web ACL, named after it, holds both parts.
    let acl = shop.name().to_string();
    let injected = vec![vec![Change::RuleInjected {
        web_acl: acl.clone(),
    }]];
    let removed = vec![vec![Change::RuleRemoved {
        web_acl: acl.clone(),
    }]];

    let first = all_ok(
        "enter shop",
        b.enter_window(&shop, lbs, &shop_spec, Mode::Apply).await,
    );
    let created = Change::CreatedWebAcl { name: acl.clone() };
    assert_eq!(first, [vec![created, Change::Associated]]);
    assert_eq!(
        all_ok(
            "enter api",
            b.enter_window(&api, lbs, &api_spec, Mode::Apply).await
        ),
        injected
    );
    let both = [
        ("shop.example.com", Verdict::Maintenance),
        ("api.example.com", Verdict::Maintenance),
        ("www.example.com", Verdict::LetThrough),
    ];
    verdicts(f, &lb, &both).await;
    for (w, spec, other) in [(&shop, &shop_spec, &api), (&api, &api_spec, &shop)] {
        let st = states(f, w, lbs).await.remove(0);
        let others: Vec<&str> = st.sharing.iter().map(|s| s.window.as_str()).collect();
        assert_eq!(others, [other.name()], "{w} lists the other window");
        let info = shown(f, w, &lb).await;
        assert_eq!(info.scope, spec.scope, "{w}");
        assert_eq!(info.allowlist.entries, spec.allowlist, "{w}");
    }

    // api's allowlist edited: shop's stays as it was.
    let add = AllowlistChange::Add(list(&["198.51.100.2"]));
    all_ok(
        "allowlist api",
        b.update_window_allowlist(&api, lbs, &add, Mode::Apply)
            .await,
    );
    let edited = shown(f, &api, &lb).await.allowlist.entries;
    assert_eq!(edited, list(&["198.51.100.1", "198.51.100.2"]));
    let kept = shown(f, &shop, &lb).await;
    assert_eq!(kept.allowlist.entries, shop_spec.allowlist);

    // A window over both hosts: refused as a whole, nothing changed.
    let before = (shown(f, &shop, &lb).await, shown(f, &api, &lb).await);
    let web = named("web");
    let refused = b
        .enter_window(&web, lbs, &of_host("*.example.com", &[]), Mode::Apply)
        .await;
    let message = match refused {
        Err(e @ Error::Conflict { .. }) => e.to_string(),
        Ok(results) => match results.as_slice() {
            [Err(e @ Error::Conflict { .. })] => e.to_string(),
            other => panic!("enter web: expected a conflict, got {other:?}"),
        },
        Err(other) => panic!("enter web: expected a conflict, got {other:?}"),
    };
    assert!(
        message.contains(shop.name()) || message.contains(api.name()),
        "{message}"
    );
    let after = (shown(f, &shop, &lb).await, shown(f, &api, &lb).await);
    assert_eq!(after, before, "the refused window changed nothing");

    // shop leaves: only its part goes; it joins again as a part.
    let out = all_ok("exit shop", b.exit_window(&shop, lbs, Mode::Apply).await);
    assert_eq!(without_ip_sets(out), removed);
    let api_only = [
        ("shop.example.com", Verdict::LetThrough),
        ("api.example.com", Verdict::Maintenance),
    ];
    verdicts(f, &lb, &api_only).await;
    assert_eq!(shown(f, &api, &lb).await, before.1);
    // shop is out, beside api: normal, api listed as sharing the load
    // balancer; api's status lists nobody else.
    let beside = states(f, &shop, lbs).await.remove(0);
    assert_eq!(beside.state, State::Normal, "{beside:?}");
    let sharing = [SharedWindow {
        window: api.name().to_string(),
        in_maintenance: true,
        scope: api_spec.scope.clone(),
    }];
    assert_eq!(beside.sharing, sharing);
    assert_eq!(states(f, &api, lbs).await.remove(0).sharing, []);
    assert_eq!(
        all_ok(
            "enter shop again",
            b.enter_window(&shop, lbs, &shop_spec, Mode::Apply).await
        ),
        injected
    );
    verdicts(f, &lb, &both).await;

    // The last part out takes the web ACL with it.
    let out = all_ok("exit api", b.exit_window(&api, lbs, Mode::Apply).await);
    assert_eq!(without_ip_sets(out), removed);
    let out = all_ok("exit shop", b.exit_window(&shop, lbs, Mode::Apply).await);
    let gone = vec![vec![
        Change::Disassociated,
        Change::DeletedWebAcl { name: acl.clone() },
    ]];
    assert_eq!(without_ip_sets(out), gone);
    assert_eq!(status(f, &lb).await.state, State::Normal);
    for st in states(f, &shop, lbs).await {
        assert_eq!(st.state, State::Normal);
    }
    let left = b.cleanup(Mode::DryRun).await.expect("cleanup");
    assert!(!left.iter().any(|l| l.name == acl), "{left:?}");
}
