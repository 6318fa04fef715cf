//! How many AWS API calls each operation makes against moto, counted by the
//! SDK interceptor (not estimated). Printed for the record
//! (`cargo test -p maint-tests --test api_calls -- --nocapture`) and held to
//! the budgets of `tests/api-call-budgets.json` (its `backend` and
//! `region_wide` parts; scripts/bench reads the same file), so a change that
//! adds calls to a hot path fails here.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use serde_json::Value;

use maint_core::backend::{AllowlistChange, MaintenanceBackend, MaintenanceSpec, Mode};
use maint_core::{Allowlist, ResourceArn};
use maint_tests::{OperationLog, WafFixture};

/// The budgets file, compiled in (a change to it rebuilds this test).
const BUDGETS: &str = include_str!("../api-call-budgets.json");

/// The parsed budgets file.
fn budgets() -> Value {
    serde_json::from_str(BUDGETS).expect("tests/api-call-budgets.json is JSON")
}

/// The `max` of a budget entry.
fn max_of(entry: &Value, what: &str) -> usize {
    let max = entry["max"]
        .as_u64()
        .unwrap_or_else(|| panic!("{what}: no whole-number `max` in tests/api-call-budgets.json"));
    assert!(
        entry["why"].as_str().is_some_and(|w| !w.trim().is_empty()),
        "{what}: every budget says why (`why` in tests/api-call-budgets.json)"
    );
    usize::try_from(max).unwrap()
}

/// Calls per operation, split into per-target calls and region-wide listings
/// (the `region_wide.operations` of the budgets, e.g. ListWebACLs, shared by
/// all targets of one command).
fn split_counts(
    log: &OperationLog,
    region_wide_ops: &[String],
) -> (usize, usize, BTreeMap<String, usize>) {
    let counts = log.counts();
    log.take();
    let listing = |a: &str| {
        let op = a.rsplit(':').next().unwrap_or(a);
        region_wide_ops.iter().any(|r| r == op)
    };
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
    let budgets = budgets();
    let region_wide_ops: Vec<String> = budgets["region_wide"]["operations"]
        .as_array()
        .expect("region_wide.operations is a list")
        .iter()
        .map(|v| v.as_str().expect("an operation name").to_string())
        .collect();
    let split = |log: &OperationLog| split_counts(log, &region_wide_ops);

    let f = WafFixture::new();
    let b = f.waf();
    let lb: ResourceArn = f.new_alb("calls").await;
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
    let backend = budgets["backend"]
        .as_object()
        .expect("`backend` of tests/api-call-budgets.json is an object");
    let measured: Vec<&str> = rows.iter().map(|(name, _)| *name).collect();
    let unmeasured: Vec<&String> = backend
        .keys()
        .filter(|k| !measured.contains(&k.as_str()))
        .collect();
    assert!(
        unmeasured.is_empty(),
        "budgets for operations this test does not run: {unmeasured:?}"
    );
    let over = over_budget(&rows, &budgets);
    assert!(
        over.is_empty(),
        "over the budgets of tests/api-call-budgets.json:\n{}",
        over.join("\n")
    );
}

/// One measured operation: its name and [`split_counts`]'s figures.
type Row = (&'static str, (usize, usize, BTreeMap<String, usize>));

/// Every way the rows exceed the budgets (`backend` per target, and
/// `region_wide`), one line each; empty when all are within.
fn over_budget(rows: &[Row], budgets: &Value) -> Vec<String> {
    let region_wide_max = max_of(&budgets["region_wide"], "region_wide");
    let mut over = Vec::new();
    for (name, (per_target, region_wide, counts)) in rows {
        let entry = &budgets["backend"][*name];
        assert!(
            !entry.is_null(),
            "{name}: no budget in tests/api-call-budgets.json"
        );
        let budget = max_of(entry, name);
        if *per_target > budget {
            over.push(format!(
                "{name}: {per_target} calls per target, budget {budget} ({counts:?})"
            ));
        }
        if *region_wide > region_wide_max {
            over.push(format!(
                "{name}: {region_wide} region-wide listings, budget {region_wide_max} ({counts:?})"
            ));
        }
    }
    over
}

/// The check itself fails a count over its budget (no AWS needed).
#[test]
fn a_count_over_its_budget_is_reported() {
    let budgets = budgets();
    let cold = max_of(&budgets["backend"]["cold enter"], "cold enter");
    let listings = max_of(&budgets["region_wide"], "region_wide");
    let within: Vec<Row> = vec![("cold enter", (cold, listings, BTreeMap::new()))];
    assert!(over_budget(&within, &budgets).is_empty());
    let over: Vec<Row> = vec![
        ("cold enter", (cold + 1, 0, BTreeMap::new())),
        ("status (normal)", (0, listings + 1, BTreeMap::new())),
    ];
    let found = over_budget(&over, &budgets);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].starts_with("cold enter: "), "{found:?}");
    assert!(found[1].contains("region-wide listings"), "{found:?}");
}
