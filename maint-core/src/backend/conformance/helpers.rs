//! What the scenarios share: building a load balancer and a spec, reading a
//! target's or a window's status, editing an allowlist, and unwrapping a
//! window operation's per-member results. Each panics with a message saying
//! what failed.

use chrono::{TimeZone, Utc};

use super::fixture::Fixture;
use crate::allowlist::Allowlist;
use crate::maintenance::{
    AllowlistChange, Change, MaintenanceSpec, Mode, Outcome, Reason, State, TargetStatus, Window,
};
use crate::response::MaintenanceResponse;
use crate::target::{LoadBalancerRef, ResourceArn};
use crate::Error;

/// A fresh Application Load Balancer, resolved to its ARN.
pub(super) async fn alb(f: &dyn Fixture, hint: &str) -> ResourceArn {
    let name = f.new_load_balancer(hint).await;
    let mut resolved = f
        .backend()
        .resolve(&[LoadBalancerRef::Name(name.clone())])
        .await
        .expect("resolve call");
    resolved
        .remove(0)
        .unwrap_or_else(|e| panic!("resolve {name}: {e}"))
}

/// An allowlist of `entries` (which must parse).
pub(super) fn list(entries: &[&str]) -> Allowlist {
    Allowlist::parse(entries).unwrap()
}

/// A spec with the allowlist `entries` (enabled), `reason`, a fixed `until`
/// and the default response.
pub(super) fn spec(entries: &[&str], reason: &str) -> MaintenanceSpec {
    MaintenanceSpec {
        allowlist: list(entries),
        allowlist_enabled: true,
        reason: Some(Reason::new(reason).unwrap()),
        until: Some(Utc.with_ymd_and_hms(2030, 1, 2, 3, 4, 5).unwrap()),
        response: MaintenanceResponse::default(),
        ..Default::default()
    }
}

/// `lb`'s status.
pub(super) async fn status(f: &dyn Fixture, lb: &ResourceArn) -> TargetStatus {
    f.backend()
        .status(lb)
        .await
        .unwrap_or_else(|e| panic!("status {lb}: {e}"))
}

/// Whether `lb`'s allowlist is enabled, and its entries; `lb` must be in
/// maintenance.
pub(super) async fn entries(f: &dyn Fixture, lb: &ResourceArn) -> (bool, Vec<String>) {
    let st = status(f, lb).await;
    let info = st
        .maintenance()
        .unwrap_or_else(|| panic!("{lb} should be in maintenance, is {:?}", st.state));
    (
        info.allowlist.enabled,
        info.allowlist
            .entries
            .iter()
            .map(|c| c.to_string())
            .collect(),
    )
}

/// Applies `change` to `lb` and returns what it changed.
pub(super) async fn edit(
    f: &dyn Fixture,
    lb: &ResourceArn,
    change: AllowlistChange,
) -> Vec<Change> {
    f.backend()
        .update_allowlist(lb, &change, Mode::Apply)
        .await
        .unwrap_or_else(|e| panic!("{change:?} on {lb}: {e}"))
        .changes
}

/// Every member's outcome, or a panic naming the one that failed.
pub(super) fn all_ok(
    what: &str,
    results: crate::Result<Vec<crate::Result<Outcome>>>,
) -> Vec<Vec<Change>> {
    results
        .unwrap_or_else(|e| panic!("{what}: {e}"))
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("{what}: {e}")).changes)
        .collect()
}

/// The status of each of `lbs` in `window`.
pub(super) async fn states(
    f: &dyn Fixture,
    window: &Window,
    lbs: &[ResourceArn],
) -> Vec<TargetStatus> {
    f.backend()
        .window_status(window, lbs)
        .await
        .unwrap_or_else(|e| panic!("status of {window}: {e}"))
        .into_iter()
        .map(|s| s.unwrap_or_else(|e| panic!("status of {window}: {e}")))
        .collect()
}

/// Asserts that each of `lbs` is out of `window` and back to normal, with no
/// leftovers.
pub(super) async fn all_normal_and_clean(f: &dyn Fixture, window: &Window, lbs: &[ResourceArn]) {
    for s in states(f, window, lbs).await {
        assert_eq!(s.state, State::Normal);
        assert!(s.leftovers.is_empty(), "{:?}", s.leftovers);
    }
}

/// Asserts that a window operation on two members worked for the first and
/// was refused for the second, `taken`, whose foreign web ACL `acl` stays.
pub(super) async fn only_the_foreign_member_refused<T: std::fmt::Debug>(
    f: &dyn Fixture,
    results: &[crate::Result<T>],
    taken: &ResourceArn,
    acl: &str,
) {
    assert!(results[0].is_ok(), "{:?}", results[0]);
    match &results[1] {
        Err(Error::ForeignWebAcl { web_acl_arn, .. }) => assert_eq!(web_acl_arn, acl),
        other => panic!("expected the foreign ACL, got {other:?}"),
    }
    match status(f, taken).await.state {
        State::Foreign { web_acl_arn, .. } => assert_eq!(web_acl_arn, acl),
        other => panic!("the foreign ACL stays, got {other:?}"),
    }
}

/// The changes of each member without IP set deletions, which only a
/// backend with IP sets (WAF) reports.
pub(super) fn without_ip_sets(results: Vec<Vec<Change>>) -> Vec<Vec<Change>> {
    results
        .into_iter()
        .map(|changes| {
            changes
                .into_iter()
                .filter(|c| !matches!(c, Change::DeletedIpSet { .. }))
                .collect()
        })
        .collect()
}
