//! Refusals every backend gives in the same words, from the planner's
//! rules: a member of another window named by every command, a disarm
//! with nothing armed, and arming a window in maintenance with members
//! that are not in it.

use super::fixture::Fixture;
use super::helpers::{alb, all_ok, list, spec, states, status};
use crate::maintenance::{AllowlistChange, Change, ExistingWebAcl, Mode, Outcome, State, Window};
use crate::target::ResourceArn;
use crate::{Error, Result};

/// Asserts that `result` is a conflict whose message says `words`.
fn conflict_saying<T: std::fmt::Debug>(what: &str, lb: &ResourceArn, r: &Result<T>, words: &str) {
    match r {
        Err(e @ Error::Conflict { .. }) if e.to_string().contains(words) => {}
        other => panic!("{what} of {lb}: expected a refusal saying {words:?}, got {other:?}"),
    }
}

/// A member in another window, in maint's own web ACL or injected into a
/// service's own, is refused by enter, arm, disarm and allowlist edits of
/// this window, naming the window it is in, and nothing changes; `exit`
/// takes it out of its own window, unless that window is injected (its
/// rule reaches all its members, who leave together).
pub(super) async fn a_member_of_another_window_is_refused_by_every_command(f: &dyn Fixture) {
    let b = f.backend();
    let own = alb(f, "other-own").await;
    let host = alb(f, "other-inj").await;
    b.enter(&own, &spec(&["192.0.2.1"], "theirs"), Mode::Apply)
        .await
        .expect("enter");
    f.associate_foreign_web_acl(&host).await;
    let mut consent = spec(&["192.0.2.2"], "theirs");
    consent.existing_web_acl = ExistingWebAcl::Inject;
    b.enter(&host, &consent, Mode::Apply).await.expect("inject");
    let lbs = [own.clone(), host.clone()];
    let theirs = [
        Window::of_load_balancer(&own),
        Window::of_load_balancer(&host),
    ];
    let before = [status(f, &own).await, status(f, &host).await];

    let w = Window::of_service(&format!("intruder-{}", own.name()));
    let mine = spec(&["198.51.100.1"], "mine");
    let add = AllowlistChange::Add(list(&["198.51.100.2"]));
    let refused = |what: &'static str, results: Result<Vec<Result<Outcome>>>| {
        let results = results.unwrap_or_else(|e| panic!("{what}: {e}"));
        for ((lb, r), window) in lbs.iter().zip(&results).zip(&theirs) {
            let words = format!("in maintenance in window {}", window.name());
            conflict_saying(what, lb, r, &words);
        }
        what
    };
    // Each command, then what it left: nothing changed.
    for what in ["enter", "arm", "disarm", "allowlist add"] {
        let results = match what {
            "enter" => b.enter_window(&w, &lbs, &mine, Mode::Apply).await,
            "arm" => b.arm_window(&w, &lbs, &mine, Mode::Apply).await,
            "disarm" => b.disarm_window(&w, &lbs, Mode::Apply).await,
            _ => b.update_window_allowlist(&w, &lbs, &add, Mode::Apply).await,
        };
        refused(what, results);
        let after = [status(f, &own).await, status(f, &host).await];
        assert_eq!(after, before, "{what} changed nothing");
    }
    // `exit` takes a member of another window of maint's own out of that
    // window (as `maint exit <lb>` does), but an injected window's rule
    // reaches all its members: that one leaves only as a whole.
    let results = b.exit_window(&w, &lbs, Mode::Apply).await.expect("exit");
    let left = results[0].as_ref().expect("the own window's member leaves");
    assert_eq!(left.changes[0], Change::Disassociated, "{left:?}");
    conflict_saying("exit", &host, &results[1], "exit them together");
    assert_eq!(
        status(f, &host).await,
        before[1],
        "the injected window stays"
    );
    b.exit(&host, Mode::Apply).await.expect("exit the injected");
    assert_eq!(status(f, &own).await.state, State::Normal);
    assert!(matches!(
        status(f, &host).await.state,
        State::Foreign { .. }
    ));
}

/// `disarm` where nothing is armed says why, and what to run instead: a
/// window in maintenance never armed (`exit` ends it), a window injected
/// into the service's own web ACL (never armed), a foreign web ACL (never
/// touched); a load balancer in no window has nothing to disarm. Nothing
/// changes.
pub(super) async fn disarm_with_nothing_armed_says_why(f: &dyn Fixture) {
    let b = f.backend();
    let live = alb(f, "unarmed-live").await;
    b.enter(&live, &spec(&[], "live"), Mode::Apply)
        .await
        .expect("enter");
    let host = alb(f, "unarmed-inj").await;
    f.associate_foreign_web_acl(&host).await;
    let mut consent = spec(&[], "injected");
    consent.existing_web_acl = ExistingWebAcl::Inject;
    b.enter(&host, &consent, Mode::Apply).await.expect("inject");
    let foreign = alb(f, "unarmed-foreign").await;
    let acl = f.associate_foreign_web_acl(&foreign).await;
    let normal = alb(f, "unarmed-normal").await;

    for (lb, words) in [
        (&live, "never armed; `maint exit` ends it"),
        (&host, "`maint exit` ends the maintenance"),
    ] {
        let w = Window::of_load_balancer(lb);
        let lbs = std::slice::from_ref(lb);
        let before = states(f, &w, lbs).await;
        let results = b.disarm_window(&w, lbs, Mode::Apply).await.expect("disarm");
        conflict_saying("disarm", lb, &results[0], words);
        assert_eq!(states(f, &w, lbs).await, before, "disarm changed nothing");
    }
    let w = Window::of_load_balancer(&foreign);
    let results = b
        .disarm_window(&w, std::slice::from_ref(&foreign), Mode::Apply)
        .await
        .expect("disarm");
    match &results[0] {
        Err(Error::ForeignWebAcl { web_acl_arn, .. }) => assert_eq!(web_acl_arn, &acl),
        other => panic!("disarm of a foreign web ACL: {other:?}"),
    }
    let w = Window::of_load_balancer(&normal);
    let out = all_ok(
        "disarm of a normal load balancer",
        b.disarm_window(&w, std::slice::from_ref(&normal), Mode::Apply)
            .await,
    );
    assert_eq!(out, [Vec::<Change>::new()]);

    b.exit(&live, Mode::Apply).await.expect("exit");
    b.exit(&host, Mode::Apply).await.expect("exit the injected");
}

/// Arming a window in maintenance marks it armed and refuses, on their
/// own, the members named that are not in it (arming them would put them
/// into maintenance); they stay as they were.
pub(super) async fn arming_a_window_in_maintenance_refuses_only_its_new_members(f: &dyn Fixture) {
    let b = f.backend();
    let lbs = [alb(f, "arm-more-a").await, alb(f, "arm-more-b").await];
    let w = Window::of_service(&format!("arm-more-{}", lbs[0].name()));
    let s = spec(&["192.0.2.1"], "live");
    all_ok(
        "enter",
        b.enter_window(&w, &lbs[..1], &s, Mode::Apply).await,
    );
    let results = b.arm_window(&w, &lbs, &s, Mode::Apply).await.expect("arm");
    assert_eq!(
        results[0].as_ref().map(|o| o.changes.clone()).ok(),
        Some(vec![Change::Armed]),
        "{results:?}"
    );
    conflict_saying("arm", &lbs[1], &results[1], "arming would put");
    let st = states(f, &w, &lbs).await;
    let info = st[0].maintenance().expect("still in maintenance");
    assert!(info.armed_since.is_some(), "{info:?}");
    assert_eq!(st[1].state, State::Normal);

    let out = all_ok("exit", b.exit_window(&w, &lbs[..1], Mode::Apply).await);
    assert_eq!(out, [vec![Change::SwitchedOff]]);
    let out = all_ok("disarm", b.disarm_window(&w, &lbs[..1], Mode::Apply).await);
    assert_eq!(out[0][0], Change::Disarmed);
    for s in states(f, &w, &lbs).await {
        assert_eq!(s.state, State::Normal, "{s:?}");
    }
}

/// After someone removed maint's rule from the web ACL it was injected
/// into (an IaC apply), the service is not in maintenance: an allowlist
/// edit is refused saying so, and that `enter` puts the rule back; `enter`
/// with consent does, and the edit then works.
pub(super) async fn an_allowlist_edit_after_the_injected_rule_was_removed_says_how_to_put_it_back(
    f: &dyn Fixture,
) {
    let b = f.backend();
    let lb = alb(f, "removed-rule").await;
    let acl = f.associate_foreign_web_acl(&lb).await;
    let mut consent = spec(&["192.0.2.1"], "injected");
    consent.existing_web_acl = ExistingWebAcl::Inject;
    b.enter(&lb, &consent, Mode::Apply).await.expect("inject");
    f.remove_injected_rule(&acl).await;
    let before = status(f, &lb).await;
    assert!(
        matches!(before.state, State::Reverted { .. }),
        "{:?}",
        before.state
    );
    let w = Window::of_load_balancer(&lb);
    let lbs = std::slice::from_ref(&lb);
    let add = AllowlistChange::Add(list(&["198.51.100.1"]));
    let results = b
        .update_window_allowlist(&w, lbs, &add, Mode::Apply)
        .await
        .expect("allowlist add");
    conflict_saying(
        "allowlist add",
        &lb,
        &results[0],
        "`maint enter` puts the rule back",
    );
    assert_eq!(status(f, &lb).await, before, "nothing changed");

    b.enter(&lb, &consent, Mode::Apply).await.expect("put back");
    let out = all_ok(
        "allowlist add",
        b.update_window_allowlist(&w, lbs, &add, Mode::Apply).await,
    );
    assert_eq!(out[0].len(), 1, "{out:?}");
    b.exit(&lb, Mode::Apply).await.expect("exit");
    assert!(matches!(status(f, &lb).await.state, State::Foreign { .. }));
}
