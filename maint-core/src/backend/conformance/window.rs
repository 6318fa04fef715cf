//! Window scenarios: several load balancers sharing one web ACL, two
//! services of the same name never merged, and a foreign member failing
//! alone.

use super::fixture::Fixture;
use super::helpers::{
    alb, all_normal_and_clean, all_ok, list, only_the_foreign_member_refused, spec, states, status,
};
use crate::maintenance::MaintenanceSpec;
use crate::maintenance::{AllowlistChange, Change, Mode, State, Window};
use crate::target::{LoadBalancerRef, ResourceArn};
use crate::Error;

/// The members of a service share one web ACL: entered together, edited
/// with one write for all, re-entered in place; a partial exit (of the
/// window, or of one member named alone) keeps the window for the rest, and
/// the last member out deletes it.
pub(super) async fn a_window_of_several_members_shares_one_web_acl(f: &dyn Fixture) {
    let b = f.backend();
    let lbs = [
        alb(f, "win-a").await,
        alb(f, "win-b").await,
        alb(f, "win-c").await,
    ];
    let w = Window::of_service(&format!("conformance-{}", lbs[0].name()));
    enter_together(f, &w, &lbs, &spec(&["192.0.2.1"], "window")).await;

    add_to_allowlist(f, &w, &lbs, "192.0.2.2").await;
    for s in states(f, &w, &lbs).await {
        let entries: Vec<String> = s
            .maintenance()
            .expect("in maintenance")
            .allowlist
            .entries
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(entries, ["192.0.2.1/32", "192.0.2.2/32"]);
    }

    let again = all_ok(
        "re-enter",
        b.enter_window(&w, &lbs, &spec(&[], "new reason"), Mode::Apply)
            .await,
    );
    for changes in &again {
        assert_eq!(
            changes,
            &[Change::ReasonChanged {
                reason: Some("new reason".into())
            }]
        );
    }

    // Partial exit of the window: the others stay.
    let left = all_ok("exit one", b.exit_window(&w, &lbs[..1], Mode::Apply).await);
    assert_eq!(left, [vec![Change::Disassociated]]);
    let st = states(f, &w, &lbs).await;
    assert_eq!(st[0].state, State::Normal);
    assert!(st[0].leftovers.is_empty(), "{:?}", st[0].leftovers);
    assert!(st[1].maintenance().is_some() && st[2].maintenance().is_some());
    // One member named on its own leaves its service's window.
    let out = b
        .exit(&lbs[1], Mode::Apply)
        .await
        .expect("exit named alone");
    assert_eq!(out.changes, [Change::Disassociated]);
    assert!(states(f, &w, &lbs[2..]).await[0].maintenance().is_some());

    // The last one out deletes the window.
    let last = all_ok("exit last", b.exit_window(&w, &lbs[2..], Mode::Apply).await);
    assert!(last[0].contains(&Change::Disassociated), "{last:?}");
    assert!(
        last[0]
            .iter()
            .any(|c| matches!(c, Change::DeletedWebAcl { name } if name == w.name())),
        "{last:?}"
    );
    all_normal_and_clean(f, &w, &lbs).await;
}

/// A window of the same name whose members are all other load balancers
/// (two config files that both define the service) is never joined.
pub(super) async fn two_services_with_the_same_name_are_never_merged(f: &dyn Fixture) {
    let b = f.backend();
    let first = alb(f, "same-a").await;
    let second = alb(f, "same-b").await;
    let w = Window::of_service(&format!("same-{}", first.name()));
    all_ok(
        "enter",
        b.enter_window(
            &w,
            std::slice::from_ref(&first),
            &spec(&[], "one"),
            Mode::Apply,
        )
        .await,
    );
    match b
        .enter_window(
            &w,
            std::slice::from_ref(&second),
            &spec(&[], "two"),
            Mode::Apply,
        )
        .await
    {
        Err(Error::Conflict { message, .. }) => {
            assert!(message.contains("never merged"), "{message}")
        }
        other => panic!("a second service of the same name must be refused, got {other:?}"),
    }
    assert_eq!(status(f, &second).await.state, State::Normal);
    let st = states(f, &w, std::slice::from_ref(&first)).await;
    assert_eq!(
        st[0]
            .maintenance()
            .and_then(|m| m.reason.clone())
            .as_deref(),
        Some("one"),
        "the first service's window is untouched"
    );
    all_ok(
        "exit",
        b.exit_window(&w, std::slice::from_ref(&first), Mode::Apply)
            .await,
    );
}

/// A member under a foreign web ACL fails alone; the others enter, and the
/// window goes with its last member as usual.
pub(super) async fn a_foreign_member_does_not_stop_the_others_of_its_window(f: &dyn Fixture) {
    let b = f.backend();
    let ok = alb(f, "mixed-ok").await;
    let taken = alb(f, "mixed-taken").await;
    let acl = f.associate_foreign_web_acl(&taken).await;
    let w = Window::of_service(&format!("mixed-{}", ok.name()));
    let lbs = [ok.clone(), taken.clone()];
    let results = b
        .enter_window(&w, &lbs, &spec(&[], "mixed"), Mode::Apply)
        .await
        .expect("the window");
    only_the_foreign_member_refused(f, &results, &taken, &acl).await;
    let results = b
        .exit_window(&w, &lbs, Mode::Apply)
        .await
        .expect("the window");
    assert!(results[0].is_ok() && results[1].is_err(), "{results:?}");
    let st = states(f, &w, std::slice::from_ref(&ok)).await;
    assert_eq!(st[0].state, State::Normal);
    assert!(st[0].leftovers.is_empty(), "{:?}", st[0].leftovers);
}

/// A member another writer took off maint's web ACL (the AWS Load Balancer
/// Controller, an IaC apply): `status` says so, naming what it carries now,
/// instead of calling it normal; `enter` associates it again; under the
/// other writer's own web ACL, `enter` never replaces it and `exit` ends
/// the window, leaving that web ACL.
pub(super) async fn a_member_another_writer_detached_is_reported_and_put_back(f: &dyn Fixture) {
    let b = f.backend();
    let lb = alb(f, "conf-detached").await;
    b.enter(&lb, &spec(&["192.0.2.0/24"], "detached"), Mode::Apply)
        .await
        .unwrap();
    f.disassociate(&lb).await;
    let st = status(f, &lb).await;
    assert!(
        matches!(&st.state, State::Detached { now: None, .. }),
        "{:?}",
        st.state
    );
    let again = b
        .enter(&lb, &spec(&["192.0.2.0/24"], "detached"), Mode::Apply)
        .await
        .unwrap();
    assert!(again.changes.contains(&Change::Associated), "{again:?}");
    assert!(status(f, &lb).await.maintenance().is_some());

    f.disassociate(&lb).await;
    let theirs = f.associate_foreign_web_acl(&lb).await;
    let st = status(f, &lb).await;
    assert!(
        matches!(&st.state, State::Detached { now: Some(_), .. }),
        "{:?}",
        st.state
    );
    let refused = b
        .enter(&lb, &spec(&["192.0.2.0/24"], "detached"), Mode::Apply)
        .await;
    assert!(
        matches!(refused, Err(crate::Error::ForeignWebAcl { .. })),
        "{refused:?}"
    );
    // Refused, nothing changed: still the window's, detached.
    assert!(
        matches!(
            &status(f, &lb).await.state,
            State::Detached { now: Some(_), .. }
        ),
        "a refused enter keeps the window"
    );
    // The window ends: its web ACL goes, and the member says so.
    let ended = b.exit(&lb, Mode::Apply).await.unwrap();
    assert!(
        ended
            .changes
            .iter()
            .any(|c| matches!(c, Change::DeletedWebAcl { name } if name.starts_with("maint-"))),
        "{ended:?}"
    );
    match status(f, &lb).await.state {
        State::Foreign { web_acl_arn, .. } => assert_eq!(web_acl_arn, theirs),
        other => panic!("the other writer's web ACL stays: {other:?}"),
    }
    assert!(status(f, &lb).await.leftovers.is_empty());
}

/// A window of an ALB and an API Gateway stage (issue 22): the stage,
/// named by ARN, resolves to itself, enters with the ALB under the one web
/// ACL, takes the same allowlist edit, and leaves with it; status tells of
/// each the same way.
pub(super) async fn a_window_of_a_load_balancer_and_an_api_stage_switches_both(f: &dyn Fixture) {
    let b = f.backend();
    let stage = f.new_api_stage("stage").await;
    let resolved = b
        .resolve(&[LoadBalancerRef::Arn(stage.clone())])
        .await
        .expect("resolve call");
    assert_eq!(resolved[0].as_ref().expect("the stage resolves"), &stage);
    let lbs = [alb(f, "stage-alb").await, stage];
    let w = Window::of_service(&format!("conformance-{}", lbs[0].name()));
    enter_together(f, &w, &lbs, &spec(&["192.0.2.1"], "api too")).await;
    add_to_allowlist(f, &w, &lbs, "192.0.2.2").await;
    for s in states(f, &w, &lbs).await {
        let info = s.maintenance().expect("in maintenance");
        assert_eq!(info.allowlist.entries, list(&["192.0.2.1", "192.0.2.2"]));
    }
    let left = all_ok("exit", b.exit_window(&w, &lbs, Mode::Apply).await);
    assert!(
        left.iter().all(|c| c.contains(&Change::Disassociated)),
        "{left:?}"
    );
    all_normal_and_clean(f, &w, &lbs).await;
}

/// Enters `lbs` into window `w` together: each is associated, and all are
/// under the one web ACL of the window.
async fn enter_together(f: &dyn Fixture, w: &Window, lbs: &[ResourceArn], s: &MaintenanceSpec) {
    let entered = all_ok(
        "enter",
        f.backend().enter_window(w, lbs, s, Mode::Apply).await,
    );
    for changes in &entered {
        assert!(changes.contains(&Change::Associated), "{changes:?}");
    }
    let acls: Vec<String> = states(f, w, lbs)
        .await
        .iter()
        .map(|s| {
            let info = s.maintenance().unwrap_or_else(|| panic!("{s:?}"));
            assert_eq!(info.window, w.name());
            info.web_acl_arn.clone()
        })
        .collect();
    assert!(acls.iter().all(|a| *a == acls[0]), "one web ACL: {acls:?}");
}

/// Adds `entry` to window `w`'s allowlist: one change for each member.
async fn add_to_allowlist(f: &dyn Fixture, w: &Window, lbs: &[ResourceArn], entry: &str) {
    let add = AllowlistChange::Add(list(&[entry]));
    let added = all_ok(
        "allowlist add",
        f.backend()
            .update_window_allowlist(w, lbs, &add, Mode::Apply)
            .await,
    );
    assert!(added.iter().all(|c| c.len() == 1), "{added:?}");
}
