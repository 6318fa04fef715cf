//! The damaged-run scenario: a run killed half way leaves resources that
//! `status` reports as leftovers and `cleanup` deletes, and nothing else.

use super::fixture::Fixture;
use super::helpers::{alb, spec, status};
use crate::backend::contract::web_acl_name;
use crate::maintenance::{Mode, State};

/// A run killed after creating its resources leaves them unassociated:
/// `status` lists them as leftovers, `cleanup` (dry run first) finds exactly
/// them and no resource in use or foreign, and deletes them; afterwards the
/// target is clean and the other windows are untouched.
pub(super) async fn interrupted_runs_show_as_leftovers_and_cleanup_deletes_exactly_them(
    f: &dyn Fixture,
) {
    let b = f.backend();
    let in_use = alb(f, "clean-used").await;
    let crashed = alb(f, "clean-crash").await;
    let foreign = alb(f, "clean-foreign").await;
    b.enter(&in_use, &spec(&["192.0.2.1"], "in use"), Mode::Apply)
        .await
        .expect("enter");
    let foreign_acl = f.associate_foreign_web_acl(&foreign).await;
    f.interrupt_next_enter().await;
    b.enter(&crashed, &spec(&["192.0.2.2"], "crash"), Mode::Apply)
        .await
        .expect_err("the interrupted enter fails");

    // The record lists it, the web ACL is not on it: for all status can
    // tell, another writer took it off (or, as here, the run never put it
    // on): not in maintenance, with the web ACL named, as a leftover too.
    let st = status(f, &crashed).await;
    assert!(
        matches!(&st.state, State::Detached { web_acl_name: name, now: None, .. } if *name == web_acl_name(&crashed)),
        "never associated: {:?}",
        st.state
    );
    assert!(
        st.leftovers.contains(&web_acl_name(&crashed)),
        "status names the leftover web ACL: {:?}",
        st.leftovers
    );
    assert!(status(f, &in_use).await.leftovers.is_empty());

    let plan = b.cleanup(Mode::DryRun).await.expect("cleanup --dry-run");
    let planned: Vec<&str> = plan.iter().map(|l| l.name.as_str()).collect();
    for leftover in &st.leftovers {
        assert!(
            planned.contains(&leftover.as_str()),
            "{leftover} in {planned:?}"
        );
    }
    let in_use_acl = status(f, &in_use)
        .await
        .maintenance()
        .map(|m| m.web_acl_arn.clone())
        .expect("in maintenance");
    assert!(
        !plan
            .iter()
            .any(|l| l.arn == in_use_acl || l.arn == foreign_acl),
        "never a resource in use or a foreign one: {plan:?}"
    );
    assert_eq!(
        status(f, &crashed).await.leftovers,
        st.leftovers,
        "a dry run deletes nothing"
    );

    let deleted = b.cleanup(Mode::Apply).await.expect("cleanup");
    let deleted: Vec<&str> = deleted.iter().map(|l| l.name.as_str()).collect();
    for leftover in &st.leftovers {
        assert!(deleted.contains(&leftover.as_str()), "{leftover} deleted");
    }
    assert!(status(f, &crashed).await.leftovers.is_empty());
    assert!(status(f, &in_use).await.maintenance().is_some());
    match status(f, &foreign).await.state {
        State::Foreign { web_acl_arn, .. } => assert_eq!(web_acl_arn, foreign_acl),
        other => panic!("the foreign ACL stays, got {other:?}"),
    }
    let again = b.cleanup(Mode::DryRun).await.expect("cleanup again");
    assert!(
        !again.iter().any(|l| st.leftovers.contains(&l.name)),
        "nothing of the crashed run is left: {again:?}"
    );
    b.exit(&in_use, Mode::Apply).await.expect("exit");
}
