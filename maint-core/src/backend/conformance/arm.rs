//! Arm and disarm scenarios: an armed window (its web ACL associated in
//! pass-through form) switched on and off, disarm refused in maintenance,
//! arming a window in maintenance, re-arming in place, dry runs and a
//! foreign web ACL refused.

use chrono::Utc;

use super::fixture::Fixture;
use super::helpers::{
    alb, all_normal_and_clean, all_ok, list, only_the_foreign_member_refused, spec, states, status,
    without_ip_sets,
};
use crate::maintenance::{
    AllowlistChange, Change, ExistingWebAcl, MaintenanceInfo, Mode, State, TargetStatus, Window,
};
use crate::Error;

/// The window's info of an armed target (pass-through form), or a panic.
fn armed(st: &TargetStatus) -> &MaintenanceInfo {
    match &st.state {
        State::Armed(info) => info,
        other => panic!("{} should be armed, is {other:?}", st.load_balancer),
    }
}

/// arm -> armed -> enter (one switch, no association) -> maintenance,
/// armed_since kept -> exit (switched off, still armed) -> disarm -> normal.
pub(super) async fn an_armed_window_switches_without_associating(f: &dyn Fixture) {
    let b = f.backend();
    let lbs = [alb(f, "arm-a").await, alb(f, "arm-b").await];
    let w = Window::of_service(&format!("arm-{}", lbs[0].name()));
    let s = spec(&["192.0.2.1"], "planned");
    let armed_out = all_ok("arm", b.arm_window(&w, &lbs, &s, Mode::Apply).await);
    for changes in &armed_out {
        assert_eq!(
            changes,
            &[
                Change::CreatedWebAcl {
                    name: w.name().to_string()
                },
                Change::Armed
            ]
        );
    }
    let st = states(f, &w, &lbs).await;
    let armed_since = armed(&st[0]).armed_since.expect("armed_since");
    assert!(armed_since <= Utc::now());
    for s2 in &st {
        let info = armed(s2);
        assert_eq!(info.window, w.name());
        assert_eq!(info.armed_since, Some(armed_since));
        assert_eq!(info.allowlist.entries, s.allowlist);
        assert_eq!(info.reason.as_deref(), Some("planned"));
        assert_eq!(info.host_web_acl, None);
        assert!(s2.leftovers.is_empty(), "{:?}", s2.leftovers);
    }
    let acl = armed(&st[0]).web_acl_arn.clone();
    assert!(
        !b.cleanup(Mode::DryRun)
            .await
            .expect("cleanup")
            .iter()
            .any(|l| l.arn == acl),
        "an armed window is no leftover"
    );
    assert!(
        all_ok("arm again", b.arm_window(&w, &lbs, &s, Mode::Apply).await)
            .iter()
            .all(Vec::is_empty),
        "arming again changes nothing"
    );
    assert!(
        all_ok("exit armed", b.exit_window(&w, &lbs, Mode::Apply).await)
            .iter()
            .all(Vec::is_empty),
        "exit of an armed window not in maintenance changes nothing"
    );

    let entered = all_ok("enter", b.enter_window(&w, &lbs, &s, Mode::Apply).await);
    for changes in &entered {
        assert_eq!(changes, &[Change::SwitchedOn], "one switch, no association");
    }
    for s2 in states(f, &w, &lbs).await {
        let info = s2.maintenance().unwrap_or_else(|| panic!("{s2:?}"));
        assert_eq!(info.armed_since, Some(armed_since), "armed_since is kept");
        assert_eq!(info.web_acl_arn, acl);
        assert_eq!(info.allowlist.entries, s.allowlist);
    }
    assert!(
        all_ok(
            "enter again",
            b.enter_window(&w, &lbs, &s, Mode::Apply).await
        )
        .iter()
        .all(Vec::is_empty),
        "a repeated enter changes nothing"
    );

    let exited = all_ok("exit", b.exit_window(&w, &lbs, Mode::Apply).await);
    for changes in &exited {
        assert_eq!(changes, &[Change::SwitchedOff]);
    }
    for s2 in states(f, &w, &lbs).await {
        let info = armed(&s2);
        assert_eq!(info.armed_since, Some(armed_since), "still armed");
        assert_eq!(info.web_acl_arn, acl);
    }

    let disarmed = all_ok("disarm", b.disarm_window(&w, &lbs, Mode::Apply).await);
    for changes in &disarmed {
        // A backend with IP sets (WAF) also reports deleting them.
        let (head, rest) = changes.split_at(changes.len().min(2));
        assert_eq!(
            head,
            &[
                Change::Disarmed,
                Change::DeletedWebAcl {
                    name: w.name().to_string()
                }
            ]
        );
        assert!(
            rest.iter()
                .all(|c| matches!(c, Change::DeletedIpSet { .. })),
            "{changes:?}"
        );
    }
    all_normal_and_clean(f, &w, &lbs).await;
    assert!(
        all_ok("disarm again", b.disarm_window(&w, &lbs, Mode::Apply).await)
            .iter()
            .all(Vec::is_empty),
        "disarm of a normal target changes nothing"
    );
}

/// `disarm` never ends a maintenance by surprise: refused, nothing changed,
/// until `exit`. A partial exit of an armed window in maintenance
/// disassociates those members; the rest stays in maintenance.
pub(super) async fn disarm_is_refused_in_maintenance(f: &dyn Fixture) {
    let b = f.backend();
    let lbs = [alb(f, "disarm-a").await, alb(f, "disarm-b").await];
    let w = Window::of_service(&format!("disarm-{}", lbs[0].name()));
    let s = spec(&[], "disarm");
    all_ok("arm", b.arm_window(&w, &lbs, &s, Mode::Apply).await);
    all_ok("enter", b.enter_window(&w, &lbs, &s, Mode::Apply).await);
    let before = states(f, &w, &lbs).await;
    let results = b
        .disarm_window(&w, &lbs, Mode::Apply)
        .await
        .expect("the window");
    for r in &results {
        match r {
            Err(e @ Error::Conflict { .. }) => {
                assert!(e.to_string().contains("maint exit"), "{e}")
            }
            other => panic!("disarm in maintenance must be refused, got {other:?}"),
        }
    }
    assert_eq!(states(f, &w, &lbs).await, before, "nothing changed");

    // One member leaves: disassociated; the other stays in maintenance.
    let left = all_ok("exit one", b.exit_window(&w, &lbs[..1], Mode::Apply).await);
    assert_eq!(left, [vec![Change::Disassociated]]);
    let st = states(f, &w, &lbs).await;
    assert_eq!(st[0].state, State::Normal);
    assert!(st[1].maintenance().is_some(), "{:?}", st[1]);
    let last = all_ok("exit last", b.exit_window(&w, &lbs[1..], Mode::Apply).await);
    assert_eq!(last, [vec![Change::SwitchedOff]]);
    let out = all_ok("disarm", b.disarm_window(&w, &lbs, Mode::Apply).await);
    // The member that left earlier is not disarmed (it may report the
    // window's deletion, as a normal member of an `exit` does).
    assert!(!out[0].contains(&Change::Disarmed), "{out:?}");
    assert!(out[1].contains(&Change::Disarmed), "{out:?}");
    all_normal_and_clean(f, &w, &lbs).await;
}

/// Arming a window already in maintenance marks it armed and changes
/// nothing else; its `exit` then switches it off.
pub(super) async fn arming_a_window_in_maintenance_only_marks_it_armed(f: &dyn Fixture) {
    let b = f.backend();
    let lb = alb(f, "arm-live").await;
    b.enter(&lb, &spec(&["192.0.2.1"], "live"), Mode::Apply)
        .await
        .expect("enter");
    let before = status(f, &lb).await;
    let w = Window::of_load_balancer(&lb);
    let lbs = std::slice::from_ref(&lb);
    let out = all_ok(
        "arm",
        b.arm_window(&w, lbs, &spec(&["198.51.100.1"], "other"), Mode::Apply)
            .await,
    );
    assert_eq!(out, [vec![Change::Armed]]);
    let st = status(f, &lb).await;
    let info = st.maintenance().expect("still in maintenance");
    assert!(info.armed_since.is_some());
    let mut unarmed = info.clone();
    unarmed.armed_since = None;
    // The revision of the rules moves with any write of the record.
    unarmed.revision = before.maintenance().and_then(|i| i.revision.clone());
    assert_eq!(Some(&unarmed), before.maintenance(), "nothing else changed");
    let out = b.exit(&lb, Mode::Apply).await.expect("exit");
    assert_eq!(out.changes, [Change::SwitchedOff]);
    armed(&status(f, &lb).await);
    let out = all_ok("disarm", b.disarm_window(&w, lbs, Mode::Apply).await);
    assert_eq!(
        out[0][..2],
        [
            Change::Disarmed,
            Change::DeletedWebAcl {
                name: w.name().to_string()
            }
        ]
    );
    // A backend with IP sets (WAF) also reports deleting them.
    assert!(out[0][2..]
        .iter()
        .all(|c| matches!(c, Change::DeletedIpSet { .. })));
    assert_eq!(status(f, &lb).await.state, State::Normal);
}

/// An armed window's allowlist is edited in pass-through form too; arming
/// again brings it to the spec as a repeated `enter` does (entries added,
/// never dropped) and lets new members join.
pub(super) async fn an_armed_window_is_edited_and_rearmed_in_place(f: &dyn Fixture) {
    let b = f.backend();
    let lbs = [alb(f, "rearm-a").await, alb(f, "rearm-b").await];
    let w = Window::of_service(&format!("rearm-{}", lbs[0].name()));
    all_ok(
        "arm",
        b.arm_window(&w, &lbs[..1], &spec(&["192.0.2.1"], "first"), Mode::Apply)
            .await,
    );
    let added = all_ok(
        "allowlist add",
        b.update_window_allowlist(
            &w,
            &lbs[..1],
            &AllowlistChange::Add(list(&["198.51.100.9"])),
            Mode::Apply,
        )
        .await,
    );
    assert_eq!(added[0].len(), 1, "{added:?}");
    let out = all_ok(
        "arm again",
        b.arm_window(&w, &lbs, &spec(&["192.0.2.2"], "second"), Mode::Apply)
            .await,
    );
    let window_changes = vec![
        Change::AllowlistAdded {
            entries: list(&["192.0.2.2"]).iter().collect(),
        },
        Change::ReasonChanged {
            reason: Some("second".into()),
        },
    ];
    assert_eq!(out[0], window_changes);
    let mut joined = window_changes.clone();
    joined.push(Change::Armed);
    assert_eq!(out[1], joined);
    for s2 in states(f, &w, &lbs).await {
        let info = armed(&s2);
        assert_eq!(info.reason.as_deref(), Some("second"));
        assert_eq!(
            info.allowlist.entries,
            list(&["192.0.2.1", "192.0.2.2", "198.51.100.9"])
        );
    }
    all_ok(
        "enter",
        b.enter_window(&w, &lbs, &spec(&[], "second"), Mode::Apply)
            .await,
    );
    let disabled = all_ok(
        "allowlist disable",
        b.update_window_allowlist(&w, &lbs, &AllowlistChange::Disable, Mode::Apply)
            .await,
    );
    assert_eq!(disabled[0], [Change::AllowlistDisabled]);
    all_ok("exit", b.exit_window(&w, &lbs, Mode::Apply).await);
    all_ok("disarm", b.disarm_window(&w, &lbs, Mode::Apply).await);
}

/// Dry runs of arm, a switching enter and exit, and disarm report what
/// they would do and change nothing.
pub(super) async fn armed_dry_runs_change_nothing(f: &dyn Fixture) {
    let b = f.backend();
    let lb = alb(f, "arm-dry").await;
    let w = Window::of_load_balancer(&lb);
    let lbs = std::slice::from_ref(&lb);
    let s = spec(&["192.0.2.1"], "dry");
    let plan = all_ok("arm dry run", b.arm_window(&w, lbs, &s, Mode::DryRun).await);
    assert_eq!(
        plan,
        [vec![
            Change::CreatedWebAcl {
                name: w.name().to_string()
            },
            Change::Armed
        ]]
    );
    let st = status(f, &lb).await;
    assert_eq!(st.state, State::Normal);
    assert!(st.leftovers.is_empty(), "{:?}", st.leftovers);

    all_ok("arm", b.arm_window(&w, lbs, &s, Mode::Apply).await);
    let before = status(f, &lb).await;
    let plan = b.enter(&lb, &s, Mode::DryRun).await.expect("enter dry run");
    assert_eq!(plan.changes, [Change::SwitchedOn]);
    assert_eq!(plan.mode, Mode::DryRun);
    let plan = all_ok(
        "disarm dry run",
        b.disarm_window(&w, lbs, Mode::DryRun).await,
    );
    assert_eq!(
        without_ip_sets(plan),
        [vec![
            Change::Disarmed,
            Change::DeletedWebAcl {
                name: w.name().to_string()
            }
        ]]
    );
    assert_eq!(status(f, &lb).await, before, "dry runs changed the target");

    b.enter(&lb, &s, Mode::Apply).await.expect("enter");
    let before = status(f, &lb).await;
    let plan = b.exit(&lb, Mode::DryRun).await.expect("exit dry run");
    assert_eq!(plan.changes, [Change::SwitchedOff]);
    assert_eq!(status(f, &lb).await, before, "dry run changed the target");
    b.exit(&lb, Mode::Apply).await.expect("exit");
    all_ok("disarm", b.disarm_window(&w, lbs, Mode::Apply).await);
    assert_eq!(status(f, &lb).await.state, State::Normal);
}

/// A member under a web ACL maint did not create cannot be armed; the
/// others of its window are.
pub(super) async fn arm_refuses_a_foreign_web_acl(f: &dyn Fixture) {
    let b = f.backend();
    let ok = alb(f, "arm-ok").await;
    let taken = alb(f, "arm-taken").await;
    let acl = f.associate_foreign_web_acl(&taken).await;
    let w = Window::of_service(&format!("armmixed-{}", ok.name()));
    let lbs = [ok.clone(), taken.clone()];
    let mut s = spec(&[], "mixed");
    s.existing_web_acl = ExistingWebAcl::Inject;
    let results = b
        .arm_window(&w, &lbs, &s, Mode::Apply)
        .await
        .expect("the window");
    only_the_foreign_member_refused(f, &results, &taken, &acl).await;
    all_ok(
        "disarm",
        b.disarm_window(&w, std::slice::from_ref(&ok), Mode::Apply)
            .await,
    );
    assert_eq!(status(f, &ok).await.state, State::Normal);
}
