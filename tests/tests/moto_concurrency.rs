//! Concurrent allowlist edits against moto's real optimistic locking: every
//! edit must survive.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use maint_core::backend::{AllowlistChange, MaintenanceBackend, MaintenanceSpec, Mode};
use maint_core::{Allowlist, ResourceArn};
use maint_tests::{fast_settings, waf_backend, OperationLog, WafFixture};

const EDITS: u8 = 8;

/// Distinct, non-adjacent addresses (adjacent ones would fold into ranges).
fn address(i: u8) -> String {
    format!("203.0.113.{}", 10 + 2 * i)
}

async fn enter(backend: &dyn MaintenanceBackend, lb: &ResourceArn) {
    let spec = MaintenanceSpec {
        allowlist: Allowlist::parse(["198.51.100.1"]).unwrap(),
        ..MaintenanceSpec::default()
    };
    backend
        .enter(lb, &spec, Mode::Apply)
        .await
        .expect("enter maintenance");
}

async fn assert_all_present(backend: &dyn MaintenanceBackend, lb: &ResourceArn) {
    let status = backend.status(lb).await.expect("status");
    let info = status
        .maintenance()
        .unwrap_or_else(|| panic!("{lb} left maintenance: {:?}", status.state));
    let got: Vec<String> = info
        .allowlist
        .entries
        .iter()
        .map(|c| c.to_string())
        .collect();
    for i in 0..EDITS {
        let want = format!("{}/32", address(i));
        assert!(got.contains(&want), "{want} was lost: {got:?}");
    }
    assert!(got.contains(&"198.51.100.1/32".to_string()), "{got:?}");
    assert_eq!(got.len(), usize::from(EDITS) + 1, "{got:?}");
}

/// Eight adds through one backend at the same moment.
#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn eight_concurrent_adds_through_one_backend() {
    let fixture = WafFixture::new();
    let lb = fixture.new_alb("concurrent-one").await;
    let backend: &dyn MaintenanceBackend = fixture.waf();
    enter(backend, &lb).await;

    let edits = (0..EDITS).map(|i| {
        let lb = lb.clone();
        async move {
            let change = AllowlistChange::Add(Allowlist::parse([address(i)]).unwrap());
            backend.update_allowlist(&lb, &change, Mode::Apply).await
        }
    });
    for (i, result) in futures::future::join_all(edits)
        .await
        .into_iter()
        .enumerate()
    {
        result.unwrap_or_else(|e| panic!("concurrent add {i} failed: {e}"));
    }
    assert_all_present(backend, &lb).await;
    // Shows how many re-reads the lock conflicts cost (`--nocapture`).
    eprintln!("operations: {:?}", fixture.log().counts());
    backend.exit(&lb, Mode::Apply).await.expect("exit");
}

/// Eight operators, each with their own backend and SDK clients (as eight
/// `maint` processes would be), add at the same moment, on tokio tasks.
#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn eight_concurrent_adds_from_separate_backends() {
    let fixture = WafFixture::new();
    let lb = fixture.new_alb("concurrent-many").await;
    enter(fixture.waf(), &lb).await;

    let tasks: Vec<_> = (0..EDITS)
        .map(|i| {
            let lb = lb.clone();
            tokio::spawn(async move {
                let backend = waf_backend(&OperationLog::new(), fast_settings());
                let change = AllowlistChange::Add(Allowlist::parse([address(i)]).unwrap());
                backend.update_allowlist(&lb, &change, Mode::Apply).await
            })
        })
        .collect();
    for (i, joined) in futures::future::join_all(tasks)
        .await
        .into_iter()
        .enumerate()
    {
        joined
            .expect("task")
            .unwrap_or_else(|e| panic!("concurrent add {i} failed: {e}"));
    }
    assert_all_present(fixture.waf(), &lb).await;
    fixture.waf().exit(&lb, Mode::Apply).await.expect("exit");
}
