//! One load balancer, two services (issue 21), on moto through the fault
//! layer (which answers `ListResourcesForWebACL` and `CheckCapacity`, as AWS
//! does): `shop` and `api`, scoped to their own hosts, share the one web ACL
//! AWS allows on the ALB, each as its own part. Each enters and exits on its
//! own, in either order; each keeps its own allowlist; the web ACL goes
//! with the last part; `cleanup` never takes a part's IP sets for leftovers;
//! an overlapping third service is refused with nothing changed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use maint_core::backend::waf::WafBackend;
use maint_core::backend::{Change, MaintenanceSpec, Mode, Reason, SharedWindow, State, Window};
use maint_core::check::{CheckRequest, Verdict};
use maint_core::scope::Scope;
use maint_core::{Allowlist, ErrorKind, MaintenanceBackend, ResourceArn, WafSettings};
use maint_tests::faults::Faults;
use maint_tests::inspect::{ip_sets_of, web_acl_of};
use maint_tests::{fast_settings, faulty_backend, seed, OperationLog};

fn backend() -> (WafBackend, OperationLog) {
    let (faults, log) = (Faults::new(), OperationLog::new());
    faults.answer_list_resources_for_web_acl();
    faults.answer_check_capacity();
    // No grace: `cleanup` judges what was just made, as it would an hour on.
    let settings = WafSettings {
        cleanup_grace: std::time::Duration::ZERO,
        ..fast_settings()
    };
    (faulty_backend(&faults, &log, settings), log)
}

fn scoped(host: &str, allow: &str) -> MaintenanceSpec {
    MaintenanceSpec {
        allowlist: Allowlist::parse([allow]).unwrap(),
        reason: Some(Reason::new("database upgrade").unwrap()),
        scope: Scope::parse(&[host], &[] as &[&str], &[] as &[&str]).unwrap(),
        ..MaintenanceSpec::default()
    }
}

/// What a caller at `ip` asking for `host` gets from `lb`, per the live
/// rules.
async fn verdict(b: &WafBackend, lb: &ResourceArn, ip: &str, host: &str) -> Verdict {
    let request = CheckRequest::new(ip, &[], Some("/"))
        .and_then(|r| r.with_host(host))
        .unwrap();
    b.check(lb, &request).await.unwrap().verdict
}

/// The changes the one member reports.
fn changes(
    results: maint_core::Result<Vec<maint_core::Result<maint_core::backend::Outcome>>>,
) -> Vec<Change> {
    let mut results = results.unwrap();
    assert_eq!(results.len(), 1);
    results.remove(0).unwrap().changes
}

fn without_sets(changes: Vec<Change>) -> Vec<Change> {
    changes
        .into_iter()
        .filter(|c| !matches!(c, Change::DeletedIpSet { .. }))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_scoped_services_share_one_alb_enter_and_exit_on_their_own_in_either_order() {
    let (b, log) = backend();
    let name = seed::unique_lb_name("shared");
    let lb = ResourceArn::parse(&seed::create_load_balancer(&name, "application").await).unwrap();
    let lbs = std::slice::from_ref(&lb);
    let shop = Window::of_service(&format!("{name}-shop"));
    let api = Window::of_service(&format!("{name}-api"));
    let shop_spec = scoped("shop.example.com", "203.0.113.0/24");
    let api_spec = scoped("api.example.com", "198.51.100.0/24");
    let stranger = "192.0.2.77";
    let shop_tester = "203.0.113.7";
    let api_tester = "198.51.100.7";

    let entered = b.enter_window(&shop, lbs, &shop_spec, Mode::Apply).await;
    assert!(changes(entered).contains(&Change::Associated));
    // api joins shop's web ACL with one write: no web ACL of its own, no
    // association.
    log.take();
    let entered = b.enter_window(&api, lbs, &api_spec, Mode::Apply).await;
    assert_eq!(
        changes(entered),
        [Change::RuleInjected {
            web_acl: shop.name().to_string()
        }]
    );
    let counts = log.counts();
    assert_eq!(counts.get("wafv2:UpdateWebACL"), Some(&1), "{counts:?}");
    assert_eq!(counts.get("wafv2:CreateWebACL"), None, "{counts:?}");
    assert_eq!(counts.get("wafv2:AssociateWebACL"), None, "{counts:?}");

    // A second load balancer cannot join shop's web ACL while api's part
    // is in it: api's rule would reach it too. The first stays as it was.
    let lb2 =
        ResourceArn::parse(&seed::create_load_balancer(&format!("{name}-2"), "application").await)
            .unwrap();
    let both = [lb.clone(), lb2.clone()];
    let mut results = b
        .enter_window(&shop, &both, &shop_spec, Mode::Apply)
        .await
        .unwrap();
    let refused = results.remove(1).expect_err("refused");
    assert_eq!(refused.kind(), ErrorKind::Conflict);
    assert!(refused.to_string().contains(api.name()), "{refused}");
    results.remove(0).unwrap();
    assert_eq!(web_acl_of(&lb2).await, None);

    // status of either window names the other on the load balancer.
    for (this, other, spec) in [(&shop, &api, &api_spec), (&api, &shop, &shop_spec)] {
        let status = b.window_status(this, lbs).await.unwrap().remove(0).unwrap();
        assert_eq!(status.window_info().unwrap().window, this.name());
        assert_eq!(
            status.sharing,
            [SharedWindow {
                window: other.name().to_string(),
                in_maintenance: true,
                scope: spec.scope.clone(),
            }]
        );
    }

    // Each host its own window; each window its own testers.
    for (ip, host, want) in [
        (stranger, "shop.example.com", Verdict::Maintenance),
        (stranger, "api.example.com", Verdict::Maintenance),
        (stranger, "www.example.com", Verdict::LetThrough),
        (shop_tester, "shop.example.com", Verdict::LetThrough),
        (shop_tester, "api.example.com", Verdict::Maintenance),
        (api_tester, "api.example.com", Verdict::LetThrough),
        (api_tester, "shop.example.com", Verdict::Maintenance),
    ] {
        assert_eq!(verdict(&b, &lb, ip, host).await, want, "{ip} {host}");
    }
    let listed: Vec<String> = b
        .windows()
        .await
        .unwrap()
        .into_iter()
        .map(|w| w.window.name().to_string())
        .collect();
    assert!(listed.contains(&shop.name().to_string()), "{listed:?}");
    assert!(listed.contains(&api.name().to_string()), "{listed:?}");
    // Both windows' IP sets are in use: the host web ACL holds each part.
    let leftovers = b.cleanup(Mode::DryRun).await.unwrap();
    assert!(
        leftovers.iter().all(|l| !l.name.starts_with(&name)),
        "{leftovers:?}"
    );

    // A third service covering both hosts: refused, nothing written.
    let web = Window::of_service(&format!("{name}-web"));
    log.take();
    let refused = b
        .enter_window(
            &web,
            lbs,
            &scoped("*.example.com", "192.0.2.0/24"),
            Mode::Apply,
        )
        .await
        .expect_err("overlapping scopes are refused");
    assert_eq!(refused.kind(), ErrorKind::Conflict);
    let text = refused.to_string();
    assert!(
        text.contains(shop.name()) || text.contains(api.name()),
        "{text}"
    );
    let counts = log.counts();
    for call in [
        "wafv2:UpdateWebACL",
        "wafv2:CreateWebACL",
        "wafv2:CreateIPSet",
    ] {
        assert_eq!(counts.get(call), None, "{call}: {counts:?}");
    }

    // Nor may api widen its own scope over shop's with a repeated enter.
    log.take();
    let widened = b
        .enter_window(
            &api,
            lbs,
            &scoped("*.example.com", "198.51.100.0/24"),
            Mode::Apply,
        )
        .await
        .expect_err("a scope widened over another window's is refused");
    assert_eq!(widened.kind(), ErrorKind::Conflict);
    assert!(widened.to_string().contains(shop.name()), "{widened}");
    let counts = log.counts();
    assert_eq!(counts.get("wafv2:UpdateWebACL"), None, "{counts:?}");

    // shop leaves first: only its part; api stays in maintenance.
    let left = b.exit_window(&shop, lbs, Mode::Apply).await;
    assert_eq!(
        without_sets(changes(left)),
        [Change::RuleRemoved {
            web_acl: shop.name().to_string()
        }]
    );
    assert_eq!(web_acl_of(&lb).await.as_deref(), Some(shop.name()));
    // shop is normal beside api: its name's web ACL is in use (api's
    // part), not a leftover.
    let beside = b
        .window_status(&shop, lbs)
        .await
        .unwrap()
        .remove(0)
        .unwrap();
    assert_eq!(beside.state, State::Normal, "{beside:?}");
    assert_eq!(beside.leftovers, Vec::<String>::new());
    let others: Vec<&str> = beside.sharing.iter().map(|w| w.window.as_str()).collect();
    assert_eq!(others, [api.name()]);
    assert!(ip_sets_of(&shop).await.is_empty());
    assert!(!ip_sets_of(&api).await.is_empty());
    assert_eq!(
        verdict(&b, &lb, stranger, "shop.example.com").await,
        Verdict::LetThrough
    );
    assert_eq!(
        verdict(&b, &lb, stranger, "api.example.com").await,
        Verdict::Maintenance
    );
    let leftovers = b.cleanup(Mode::DryRun).await.unwrap();
    assert!(
        leftovers.iter().all(|l| !l.name.starts_with(&name)),
        "{leftovers:?}"
    );

    // shop comes back into the web ACL that bears its name, as a part.
    let entered = b.enter_window(&shop, lbs, &shop_spec, Mode::Apply).await;
    assert_eq!(
        changes(entered),
        [Change::RuleInjected {
            web_acl: shop.name().to_string()
        }]
    );
    assert_eq!(
        verdict(&b, &lb, stranger, "shop.example.com").await,
        Verdict::Maintenance
    );

    // api leaves, then shop, the last part: the web ACL goes with it.
    let left = b.exit_window(&api, lbs, Mode::Apply).await;
    assert_eq!(
        without_sets(changes(left)),
        [Change::RuleRemoved {
            web_acl: shop.name().to_string()
        }]
    );
    let left = b.exit_window(&shop, lbs, Mode::Apply).await;
    assert_eq!(
        without_sets(changes(left)),
        [
            Change::Disassociated,
            Change::DeletedWebAcl {
                name: shop.name().to_string()
            }
        ]
    );
    assert_eq!(web_acl_of(&lb).await, None);
    assert!(ip_sets_of(&shop).await.is_empty());
    assert!(ip_sets_of(&api).await.is_empty());
    let leftovers = b.cleanup(Mode::DryRun).await.unwrap();
    assert!(
        leftovers.iter().all(|l| !l.name.starts_with(&name)),
        "{leftovers:?}"
    );
}
