//! How many AWS API calls each operation makes against moto, counted by the
//! SDK interceptor (not estimated). Printed for the record
//! (`cargo test -p maint-tests --test api_calls -- --nocapture`) and bounded,
//! so a change that adds calls to a hot path fails here.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use maint_core::backend::{AllowlistChange, MaintenanceBackend, MaintenanceSpec, Mode};
use maint_core::{Allowlist, LoadBalancerArn};
use maint_tests::{OperationLog, WafFixture};

/// Calls per operation, split into per-target calls and region-wide listings
/// (ListWebACLs / ListIPSets, shared by all targets of one command).
fn split(log: &OperationLog) -> (usize, usize, BTreeMap<String, usize>) {
    let counts = log.counts();
    log.take();
    let listing = |a: &str| a.ends_with(":ListWebACLs") || a.ends_with(":ListIPSets");
    let per_target = counts
        .iter()
        .filter(|(a, _)| !listing(a))
        .map(|(_, n)| n)
        .sum();
    let region_wide = counts
        .iter()
        .filter(|(a, _)| listing(a))
        .map(|(_, n)| n)
        .sum();
    (per_target, region_wide, counts)
}

#[tokio::test(flavor = "multi_thread")]
async fn api_calls_per_operation() {
    let f = WafFixture::new();
    let b = f.waf();
    let lb: LoadBalancerArn = f.new_alb("calls").await;
    let spec = MaintenanceSpec {
        allowlist: Allowlist::parse(["192.0.2.0/24", "198.51.100.7"]).unwrap(),
        ..MaintenanceSpec::default()
    };
    let log = f.log();
    log.take();

    let mut rows = Vec::new();
    b.enter(&lb, &spec, Mode::Apply).await.unwrap();
    rows.push(("cold enter", split(log)));
    b.enter(&lb, &spec, Mode::Apply).await.unwrap();
    rows.push(("repeated enter (no change)", split(log)));
    let add = AllowlistChange::Add(Allowlist::parse(["203.0.113.9"]).unwrap());
    b.update_allowlist(&lb, &add, Mode::Apply).await.unwrap();
    rows.push(("allowlist add", split(log)));
    b.update_allowlist(&lb, &AllowlistChange::Disable, Mode::Apply)
        .await
        .unwrap();
    rows.push(("allowlist disable", split(log)));
    b.status(&lb).await.unwrap();
    rows.push(("status (in maintenance)", split(log)));
    b.exit(&lb, Mode::Apply).await.unwrap();
    rows.push(("exit", split(log)));
    b.status(&lb).await.unwrap();
    rows.push(("status (normal)", split(log)));

    println!("operation | per-target calls | region-wide listings | calls");
    for (name, (per_target, region_wide, counts)) in &rows {
        println!("{name} | {per_target} | {region_wide} | {counts:?}");
    }
    // Upper bounds (IPv4-only allowlist): what the design needs, per target.
    let bounds = [4, 2, 3, 4, 2, 4, 1];
    for ((name, (per_target, region_wide, _)), bound) in rows.iter().zip(bounds) {
        assert!(
            *per_target <= bound,
            "{name}: {per_target} calls, bound {bound}"
        );
        assert!(*region_wide <= 2, "{name}: {region_wide} listings");
    }
}
