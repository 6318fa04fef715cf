//! `cleanup` against moto. In a test binary of its own: cleanup is
//! region-wide, and would otherwise race the other tests' half-made windows
//! (which is what its grace period protects real users from).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::time::Duration;

use maint_core::backend::waf::WafSettings;
use maint_core::backend::{web_acl_name, MaintenanceSpec, Mode};
use maint_core::{Allowlist, MaintenanceBackend, ResourceArn};
use maint_tests::faults::Faults;
use maint_tests::{fast_settings, faulty_backend, resources_in_moto, seed, OperationLog};

async fn alb(hint: &str) -> ResourceArn {
    let name = seed::unique_lb_name(hint);
    ResourceArn::parse(&seed::create_load_balancer(&name, "application").await).unwrap()
}

fn spec(entry: &str) -> MaintenanceSpec {
    MaintenanceSpec {
        allowlist: Allowlist::parse([entry]).unwrap(),
        ..MaintenanceSpec::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn cleanup_removes_only_unused_resources_of_maints() {
    let (faults, log) = (Faults::new(), OperationLog::new());
    let no_grace = WafSettings {
        cleanup_grace: Duration::ZERO,
        ..fast_settings()
    };
    let b = faulty_backend(&faults, &log, no_grace);
    let in_use = alb("cleanup-used").await;
    let crashed_lb = alb("cleanup-crash").await;
    b.enter(&in_use, &spec("192.0.2.1"), Mode::Apply)
        .await
        .unwrap();
    // A run that dies after creating its web ACL and IP set.
    faults.always("AssociateWebACL", "AccessDeniedException");
    b.enter(&crashed_lb, &spec("192.0.2.2"), Mode::Apply)
        .await
        .unwrap_err();
    faults.clear();
    let foreign_lb = alb("cleanup-foreign").await;
    let foreign_acl = seed::foreign_web_acl(foreign_lb.as_str()).await;

    // Within the grace period nothing is touched: it could be an enter
    // still under way in another process.
    let patient = faulty_backend(&faults, &log, fast_settings());
    assert!(patient.cleanup(Mode::DryRun).await.unwrap().is_empty());

    let plan = b.cleanup(Mode::DryRun).await.unwrap();
    let mut planned: Vec<String> = plan.iter().map(|l| l.name.clone()).collect();
    planned.sort();
    assert_eq!(
        planned,
        resources_in_moto(&crashed_lb).await,
        "exactly the crashed run's"
    );
    assert!(planned.contains(&web_acl_name(&crashed_lb)));
    assert!(
        !plan.iter().any(|l| l.arn == foreign_acl),
        "never a foreign ACL"
    );
    assert_eq!(
        resources_in_moto(&crashed_lb).await.len(),
        2,
        "a dry run deletes nothing"
    );

    let deleted = b.cleanup(Mode::Apply).await.unwrap();
    assert_eq!(deleted.len(), 2);
    assert!(resources_in_moto(&crashed_lb).await.is_empty());
    assert_eq!(resources_in_moto(&in_use).await.len(), 2);
    assert!(b.status(&in_use).await.unwrap().maintenance().is_some());
    assert!(
        b.cleanup(Mode::Apply).await.unwrap().is_empty(),
        "nothing left to clean"
    );
    b.exit(&in_use, Mode::Apply).await.unwrap();
}
