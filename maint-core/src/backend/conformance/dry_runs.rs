//! A dry run says exactly what its change then does: each step of a
//! window's life is asked as a dry run, then applied, and the two answers
//! must be the same, member by member (the changes, or the refusal and its
//! words). Both backends answer both from the one planner; the WAF backend
//! observes more for a dry run than for the change (it reads a member
//! about to be associated only right before its association), so this
//! also holds its two ways of observing to one answer.

use std::future::Future;

use super::fixture::Fixture;
use super::helpers::{alb, list, spec};
use crate::backend::contract::MemberResults;
use crate::maintenance::{AllowlistChange, Change, ExistingWebAcl, Mode, Outcome, Window};

/// A member's answer: its changes, or its refusal in words.
type Answer = Result<Vec<Change>, String>;

/// The answers of a window operation, or its refusal as a whole.
fn answers(results: MemberResults<Outcome>) -> Result<Vec<Answer>, String> {
    results
        .map(|members| {
            members
                .into_iter()
                .map(|m| m.map(|o| o.changes).map_err(|e| e.to_string()))
                .collect()
        })
        .map_err(|e| e.to_string())
}

/// Runs `op` as a dry run, then applies it; panics unless both answer the
/// same. Returns the answers.
async fn as_said<F, Fut>(what: &str, op: F) -> Vec<Answer>
where
    F: Fn(Mode) -> Fut,
    Fut: Future<Output = MemberResults<Outcome>>,
{
    let said = answers(op(Mode::DryRun).await);
    let done = answers(op(Mode::Apply).await);
    assert_eq!(
        said, done,
        "{what}: the dry run said {said:?}, the change did {done:?}"
    );
    done.unwrap_or_else(|e| panic!("{what}: refused as a whole: {e}"))
}

/// A window of three load balancers and one under a foreign web ACL,
/// through enter, a repeated enter, allowlist edits, a partial and a last
/// exit, then arm, switch on, switch off and disarm: every dry run is the
/// change.
pub(super) async fn every_dry_run_says_what_its_change_does(f: &dyn Fixture) {
    let b = f.backend();
    let lbs = [
        alb(f, "said-a").await,
        alb(f, "said-b").await,
        alb(f, "said-c").await,
        alb(f, "said-foreign").await,
    ];
    f.associate_foreign_web_acl(&lbs[3]).await;
    let w = Window::of_service(&format!("said-{}", lbs[0].name()));
    let first = spec(&["192.0.2.1"], "said");

    let entered = as_said("enter", |mode| b.enter_window(&w, &lbs, &first, mode)).await;
    let created = Change::CreatedWebAcl {
        name: w.name().to_string(),
    };
    for got in &entered[..3] {
        let changes = got.as_ref().expect("a normal member joins");
        assert_eq!(changes.first(), Some(&created), "{entered:?}");
        assert_eq!(changes.last(), Some(&Change::Associated), "{entered:?}");
    }
    assert!(entered[3].is_err(), "the foreign member: {entered:?}");
    let members = &lbs[..3];

    let again = spec(&["192.0.2.1", "198.51.100.0/24"], "said again");
    let reentered = as_said("enter again", |mode| {
        b.enter_window(&w, members, &again, mode)
    })
    .await;
    assert!(
        reentered
            .iter()
            .all(|r| r.as_ref().is_ok_and(|c| !c.is_empty())),
        "{reentered:?}"
    );

    let add = AllowlistChange::Add(list(&["203.0.113.9"]));
    as_said("allowlist add", |mode| {
        b.update_window_allowlist(&w, members, &add, mode)
    })
    .await;
    as_said("allowlist disable", |mode| {
        b.update_window_allowlist(&w, members, &AllowlistChange::Disable, mode)
    })
    .await;

    let one = as_said("exit one", |mode| b.exit_window(&w, &members[..1], mode)).await;
    assert_eq!(one, [Ok(vec![Change::Disassociated])]);
    let rest = as_said("exit the rest", |mode| b.exit_window(&w, &lbs[1..], mode)).await;
    assert!(
        rest[..2].iter().all(|r| r
            .as_ref()
            .is_ok_and(|c| c.iter().any(|c| matches!(c, Change::DeletedWebAcl { .. })))),
        "the last out deletes the window: {rest:?}"
    );
    assert!(rest[2].is_err(), "the foreign member: {rest:?}");

    let armed = as_said("arm", |mode| b.arm_window(&w, members, &first, mode)).await;
    assert!(
        armed
            .iter()
            .all(|r| r.as_ref().is_ok_and(|c| c.contains(&Change::Armed))),
        "{armed:?}"
    );
    let on = as_said("switch on", |mode| {
        b.enter_window(&w, members, &first, mode)
    })
    .await;
    assert!(
        on.iter()
            .all(|r| r.as_ref().is_ok_and(|c| c.contains(&Change::SwitchedOn))),
        "{on:?}"
    );
    let off = as_said("switch off", |mode| b.exit_window(&w, members, mode)).await;
    assert!(
        off.iter()
            .all(|r| r.as_ref().is_ok_and(|c| c == &[Change::SwitchedOff])),
        "{off:?}"
    );
    let disarmed = as_said("disarm", |mode| b.disarm_window(&w, members, mode)).await;
    assert!(
        disarmed
            .iter()
            .all(|r| r.as_ref().is_ok_and(|c| c.contains(&Change::Disarmed))),
        "{disarmed:?}"
    );

    // Consent to inject into the foreign member's own web ACL, then out.
    let solo = Window::of_load_balancer(&lbs[3]);
    let inject = crate::maintenance::MaintenanceSpec {
        existing_web_acl: ExistingWebAcl::Inject,
        ..spec(&["192.0.2.1"], "injected")
    };
    let injected = as_said("inject", |mode| {
        b.enter_window(&solo, &lbs[3..], &inject, mode)
    })
    .await;
    assert!(
        injected[0]
            .as_ref()
            .is_ok_and(|c| c.iter().any(|c| matches!(c, Change::RuleInjected { .. }))),
        "{injected:?}"
    );
    let removed = as_said("exit injected", |mode| {
        b.exit_window(&solo, &lbs[3..], mode)
    })
    .await;
    assert!(
        removed[0]
            .as_ref()
            .is_ok_and(|c| c.iter().any(|c| matches!(c, Change::RuleRemoved { .. }))),
        "{removed:?}"
    );
}
