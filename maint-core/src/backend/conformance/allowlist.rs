//! Allowlist scenarios: edits (add, remove, set, enable), edits refused
//! outside maintenance, and concurrent edits that all survive.

use super::fixture::Fixture;
use super::helpers::{alb, edit, entries, list, spec};
use crate::allowlist::Allowlist;
use crate::maintenance::{AllowlistChange, Mode};
use crate::Error;

/// add, remove (splitting a range), set (across families), repeated edits.
pub(super) async fn allowlist_edits(f: &dyn Fixture) {
    let b = f.backend();
    let lb = alb(f, "edits").await;
    b.enter(&lb, &spec(&["10.0.0.0/24"], "edits"), Mode::Apply)
        .await
        .expect("enter");
    edit(f, &lb, AllowlistChange::Add(list(&["10.0.1.0/24"]))).await;
    assert_eq!(entries(f, &lb).await.1, ["10.0.0.0/23"]);
    assert!(
        edit(f, &lb, AllowlistChange::Add(list(&["10.0.1.5"])))
            .await
            .is_empty(),
        "adding a covered address changes nothing"
    );
    edit(f, &lb, AllowlistChange::Remove(list(&["10.0.0.0/24"]))).await;
    assert_eq!(entries(f, &lb).await.1, ["10.0.1.0/24"]);
    edit(f, &lb, AllowlistChange::Set(list(&["2001:db8:1::/48"]))).await;
    assert_eq!(entries(f, &lb).await.1, ["2001:db8:1::/48"]);
    edit(f, &lb, AllowlistChange::Add(list(&["203.0.113.9"]))).await;
    assert_eq!(
        entries(f, &lb).await.1,
        ["203.0.113.9/32", "2001:db8:1::/48"]
    );
    edit(f, &lb, AllowlistChange::Set(Allowlist::new())).await;
    assert_eq!(entries(f, &lb).await, (true, vec![]));
    assert!(edit(f, &lb, AllowlistChange::Enable).await.is_empty());
    b.exit(&lb, Mode::Apply).await.expect("exit");
}

/// Allowlist edits on a normal target are refused: there is nothing to edit.
pub(super) async fn allowlist_edits_need_maintenance(f: &dyn Fixture) {
    let lb = alb(f, "normal-edit").await;
    let r = f
        .backend()
        .update_allowlist(
            &lb,
            &AllowlistChange::Add(list(&["192.0.2.1"])),
            Mode::Apply,
        )
        .await;
    assert!(
        matches!(r, Err(Error::NotInMaintenance { .. })),
        "expected NotInMaintenance, got {r:?}"
    );
}

/// Eight operators add eight different addresses at the same moment: all
/// eight end up in the allowlist.
pub(super) async fn concurrent_allowlist_edits_all_survive(f: &dyn Fixture) {
    let b = f.backend();
    let lb = alb(f, "concurrent").await;
    b.enter(&lb, &spec(&["198.51.100.1"], "concurrent"), Mode::Apply)
        .await
        .expect("enter");
    let edits = (0..8).map(|i| {
        let lb = lb.clone();
        async move {
            let change = AllowlistChange::Add(list(&[&format!("203.0.113.{}", 10 + i * 2)]));
            b.update_allowlist(&lb, &change, Mode::Apply).await
        }
    });
    for result in futures::future::join_all(edits).await {
        result.expect("every concurrent add succeeds");
    }
    let (_, got) = entries(f, &lb).await;
    assert_eq!(
        got.len(),
        9,
        "all 8 concurrent adds and the original: {got:?}"
    );
    for i in 0..8 {
        let want = format!("203.0.113.{}/32", 10 + i * 2);
        assert!(got.contains(&want), "{want} lost: {got:?}");
    }
    b.exit(&lb, Mode::Apply).await.expect("exit");
}
