//! The scope scenario: a window that covers some hosts and paths of its
//! load balancer and keeps some paths open, as every backend must answer
//! it (a shared load balancer, issue 21).

use super::fixture::Fixture;
use super::helpers::{alb, spec, status};
use crate::check::{CheckRequest, Verdict, Why};
use crate::maintenance::{Change, Given, MaintenanceSpec, Mode};
use crate::scope::{Scope, ScopeParts};
use crate::target::LoadBalancerArn;

/// What a stranger's request for `host` and `path` gets, and why.
async fn answer(
    f: &dyn Fixture,
    lb: &LoadBalancerArn,
    host: &str,
    path: &str,
) -> (Verdict, Vec<Why>) {
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
