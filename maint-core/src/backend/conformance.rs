//! The backend conformance suite: scenarios written once against
//! `&dyn MaintenanceBackend`, run against [`MemoryBackend`](super::MemoryBackend)
//! in this crate's tests and against the WAF backend on an AWS API emulator in
//! the workspace's `tests` crate.
//!
//! Every scenario creates the load balancers it uses through a [`Fixture`], so
//! scenarios can share one backend and run in any order. A failed expectation
//! panics with a message saying what differed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::net::IpAddr;

use async_trait::async_trait;
use chrono::{TimeZone, Utc};

use super::contract::MaintenanceBackend;
use crate::access::{BypassRequest, BypassState};
use crate::allowlist::Allowlist;
use crate::check::{CheckRequest, Verdict};
use crate::maintenance::{
    AllowlistChange, Change, ExistingWebAcl, MaintenanceSpec, Mode, Reason, State, TargetStatus,
    Window,
};
use crate::response::{
    ContentType, MaintenanceResponse, ResponseBody, ResponseHeader, ResponseStatus,
};
use crate::target::{LoadBalancerArn, LoadBalancerName, LoadBalancerRef};
use crate::Error;

/// What a scenario needs besides the backend: fresh load balancers and a way
/// to put a web ACL that maint did not create in front of one.
#[async_trait]
pub trait Fixture: Send + Sync {
    /// The backend under test.
    fn backend(&self) -> &dyn MaintenanceBackend;
    /// Creates an Application Load Balancer no other scenario uses, with a
    /// name starting with `hint`, and returns its name.
    async fn new_load_balancer(&self, hint: &str) -> LoadBalancerName;
    /// Creates a Network Load Balancer and returns its name.
    async fn new_network_load_balancer(&self, hint: &str) -> LoadBalancerName;
    /// Associates a web ACL that maint did not create with `lb`; returns its ARN.
    async fn associate_foreign_web_acl(&self, lb: &LoadBalancerArn) -> String;
    /// Makes the backend's next `enter` stop after creating its resources
    /// and before associating them, as a run killed half way does. Cleanup
    /// scenarios need the backend to clean up resources of any age.
    async fn interrupt_next_enter(&self);
}

/// Runs every scenario, one after the other.
pub async fn run_all(f: &dyn Fixture) {
    resolves_names_and_refuses_other_types(f).await;
    full_cycle(f).await;
    enter_is_idempotent_and_reports_changes(f).await;
    exit_is_idempotent(f).await;
    foreign_web_acl_is_never_touched(f).await;
    allowlist_edits(f).await;
    allowlist_edits_need_maintenance(f).await;
    concurrent_allowlist_edits_all_survive(f).await;
    dry_run_changes_nothing(f).await;
    custom_response_round_trips(f).await;
    interrupted_runs_show_as_leftovers_and_cleanup_deletes_exactly_them(f).await;
    a_window_of_several_members_shares_one_web_acl(f).await;
    two_services_with_the_same_name_are_never_merged(f).await;
    a_foreign_member_does_not_stop_the_others_of_its_window(f).await;
    an_armed_window_switches_without_associating(f).await;
    disarm_is_refused_in_maintenance(f).await;
    arming_a_window_in_maintenance_only_marks_it_armed(f).await;
    an_armed_window_is_edited_and_rearmed_in_place(f).await;
    armed_dry_runs_change_nothing(f).await;
    arm_refuses_a_foreign_web_acl(f).await;
    a_window_of_one_is_injected_into_its_own_web_acl_with_consent(f).await;
    the_bypass_is_kept_rotated_shut_and_removed(f).await;
}

async fn alb(f: &dyn Fixture, hint: &str) -> LoadBalancerArn {
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

fn list(entries: &[&str]) -> Allowlist {
    Allowlist::parse(entries).unwrap()
}

fn spec(entries: &[&str], reason: &str) -> MaintenanceSpec {
    MaintenanceSpec {
        allowlist: list(entries),
        allowlist_enabled: true,
        reason: Some(Reason::new(reason).unwrap()),
        until: Some(Utc.with_ymd_and_hms(2030, 1, 2, 3, 4, 5).unwrap()),
        response: MaintenanceResponse::default(),
        ..Default::default()
    }
}

async fn status(f: &dyn Fixture, lb: &LoadBalancerArn) -> TargetStatus {
    f.backend()
        .status(lb)
        .await
        .unwrap_or_else(|e| panic!("status {lb}: {e}"))
}

async fn entries(f: &dyn Fixture, lb: &LoadBalancerArn) -> (bool, Vec<String>) {
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

async fn edit(f: &dyn Fixture, lb: &LoadBalancerArn, change: AllowlistChange) -> Vec<Change> {
    f.backend()
        .update_allowlist(lb, &change, Mode::Apply)
        .await
        .unwrap_or_else(|e| panic!("{change:?} on {lb}: {e}"))
        .changes
}

/// Names resolve to ARNs, ARNs to themselves; unknown names and non-ALBs are
/// refused with the right error.
pub async fn resolves_names_and_refuses_other_types(f: &dyn Fixture) {
    let name = f.new_load_balancer("resolve").await;
    let nlb = f.new_network_load_balancer("resolve-nlb").await;
    let missing = LoadBalancerName::parse("no-such-lb-anywhere").unwrap();
    let results = f
        .backend()
        .resolve(&[
            LoadBalancerRef::Name(name.clone()),
            LoadBalancerRef::Name(missing),
            LoadBalancerRef::Name(nlb),
        ])
        .await
        .expect("resolve call");
    assert_eq!(results.len(), 3);
    let arn = results[0].as_ref().expect("existing ALB resolves").clone();
    assert_eq!(arn.name(), name.as_str());
    assert!(
        matches!(&results[1], Err(Error::TargetNotFound { target }) if target == "no-such-lb-anywhere"),
        "unknown name: {:?}",
        results[1]
    );
    match &results[2] {
        Err(e @ Error::InvalidInput(_)) => assert!(
            e.to_string().contains("Application Load Balancers"),
            "NLB refusal should say why: {e}"
        ),
        other => panic!("a network load balancer must be refused, got {other:?}"),
    }
    let again = f
        .backend()
        .resolve(&[LoadBalancerRef::Arn(arn.clone())])
        .await
        .expect("resolve call");
    assert_eq!(again[0].as_ref().expect("ARN resolves"), &arn);
}

/// status -> enter -> status -> allowlist disable/enable/add -> exit -> status.
pub async fn full_cycle(f: &dyn Fixture) {
    let b = f.backend();
    let lb = alb(f, "cycle").await;
    assert_eq!(status(f, &lb).await.state, State::Normal);

    let s = spec(
        &["192.0.2.0/24", "2001:db8::/48"],
        "release 1.2: schema change",
    );
    let out = b.enter(&lb, &s, Mode::Apply).await.expect("enter");
    assert!(out.changed());
    assert!(
        out.changes.contains(&Change::Associated),
        "{:?}",
        out.changes
    );

    let st = status(f, &lb).await;
    let info = st.maintenance().expect("in maintenance after enter");
    assert_eq!(info.reason.as_deref(), Some("release 1.2: schema change"));
    assert_eq!(info.until, s.until);
    assert!(info.allowlist.enabled);
    assert_eq!(info.allowlist.entries, s.allowlist);
    assert_eq!(info.response, s.response);
    assert!(info.since <= Utc::now());
    assert!(info
        .allowlist
        .entries
        .contains("192.0.2.77".parse::<IpAddr>().unwrap()));

    assert_eq!(
        edit(f, &lb, AllowlistChange::Disable).await,
        [Change::AllowlistDisabled]
    );
    assert!(!entries(f, &lb).await.0, "allowlist disabled");
    assert_eq!(
        edit(f, &lb, AllowlistChange::Enable).await,
        [Change::AllowlistEnabled]
    );
    edit(f, &lb, AllowlistChange::Add(list(&["198.51.100.7"]))).await;
    assert_eq!(
        entries(f, &lb).await,
        (
            true,
            vec![
                "192.0.2.0/24".to_string(),
                "198.51.100.7/32".to_string(),
                "2001:db8::/48".to_string()
            ]
        )
    );

    let out = b.exit(&lb, Mode::Apply).await.expect("exit");
    assert!(
        out.changes.contains(&Change::Disassociated),
        "{:?}",
        out.changes
    );
    assert_eq!(status(f, &lb).await.state, State::Normal);
}

/// A repeated `enter` with the same spec changes nothing; with a different
/// spec it updates in place, reports each difference and keeps `since`. It
/// never drops an allowlist entry (a teammate's `allowlist add` survives)
/// and keeps the allowlist's enabled state.
pub async fn enter_is_idempotent_and_reports_changes(f: &dyn Fixture) {
    let b = f.backend();
    let lb = alb(f, "idem").await;
    let s = spec(&["192.0.2.1"], "first");
    b.enter(&lb, &s, Mode::Apply).await.expect("enter");
    let since = status(f, &lb)
        .await
        .maintenance()
        .expect("maintenance")
        .since;

    let again = b.enter(&lb, &s, Mode::Apply).await.expect("repeat enter");
    assert!(
        !again.changed(),
        "same spec must change nothing: {:?}",
        again.changes
    );

    edit(f, &lb, AllowlistChange::Add(list(&["198.51.100.9"]))).await;
    edit(f, &lb, AllowlistChange::Disable).await;
    let mut s2 = spec(&["192.0.2.2"], "second");
    s2.until = None;
    let out = b.enter(&lb, &s2, Mode::Apply).await.expect("enter update");
    assert_eq!(
        out.changes,
        [
            Change::AllowlistAdded {
                entries: list(&["192.0.2.2"]).iter().collect(),
            },
            Change::ReasonChanged {
                reason: Some("second".into()),
            },
            Change::UntilChanged { until: None },
        ]
    );
    let st = status(f, &lb).await;
    let info = st.maintenance().expect("maintenance");
    assert_eq!(info.since, since, "since is kept across enters");
    assert_eq!(info.reason.as_deref(), Some("second"));
    assert_eq!(info.until, None);
    assert!(
        !info.allowlist.enabled,
        "enter keeps a disabled allowlist disabled"
    );
    assert_eq!(
        info.allowlist.entries,
        list(&["192.0.2.1", "192.0.2.2", "198.51.100.9"]),
        "enter adds, never drops"
    );
    b.exit(&lb, Mode::Apply).await.expect("exit");
}

/// `exit` on a normal target succeeds unchanged, also right after an exit.
pub async fn exit_is_idempotent(f: &dyn Fixture) {
    let b = f.backend();
    let lb = alb(f, "exit").await;
    let out = b.exit(&lb, Mode::Apply).await.expect("exit on normal");
    assert!(!out.changed());
    b.enter(&lb, &spec(&[], "x"), Mode::Apply)
        .await
        .expect("enter");
    assert!(b.exit(&lb, Mode::Apply).await.expect("exit").changed());
    assert!(!b
        .exit(&lb, Mode::Apply)
        .await
        .expect("exit again")
        .changed());
    assert_eq!(status(f, &lb).await.state, State::Normal);
}

/// A web ACL maint did not create is reported and never replaced or removed.
pub async fn foreign_web_acl_is_never_touched(f: &dyn Fixture) {
    let b = f.backend();
    let lb = alb(f, "foreign").await;
    let acl = f.associate_foreign_web_acl(&lb).await;
    let refused = |r: crate::Result<_>, what: &str| match r {
        Err(Error::ForeignWebAcl { web_acl_arn, .. }) => assert_eq!(web_acl_arn, acl, "{what}"),
        other => panic!("{what} must refuse a foreign ACL, got {other:?}"),
    };
    refused(
        b.enter(&lb, &spec(&[], "x"), Mode::Apply).await.map(|_| ()),
        "enter",
    );
    refused(
        b.enter(&lb, &spec(&[], "x"), Mode::DryRun)
            .await
            .map(|_| ()),
        "enter --dry-run",
    );
    refused(b.exit(&lb, Mode::Apply).await.map(|_| ()), "exit");
    refused(
        b.update_allowlist(&lb, &AllowlistChange::Enable, Mode::Apply)
            .await
            .map(|_| ()),
        "allowlist enable",
    );
    match status(f, &lb).await.state {
        State::Foreign { web_acl_arn, .. } => assert_eq!(web_acl_arn, acl),
        other => panic!("status must show the foreign ACL, got {other:?}"),
    }
}

/// add, remove (splitting a range), set (across families), repeated edits.
pub async fn allowlist_edits(f: &dyn Fixture) {
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
pub async fn allowlist_edits_need_maintenance(f: &dyn Fixture) {
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
pub async fn concurrent_allowlist_edits_all_survive(f: &dyn Fixture) {
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

/// Every changing operation in dry-run mode reports the plan and changes
/// nothing.
pub async fn dry_run_changes_nothing(f: &dyn Fixture) {
    let b = f.backend();
    let lb = alb(f, "dry").await;
    let plan = b
        .enter(&lb, &spec(&["192.0.2.1"], "dry"), Mode::DryRun)
        .await
        .expect("enter dry run");
    assert!(plan.changed());
    assert_eq!(plan.mode, Mode::DryRun);
    assert_eq!(status(f, &lb).await.state, State::Normal);

    b.enter(&lb, &spec(&["192.0.2.1"], "dry"), Mode::Apply)
        .await
        .expect("enter");
    let before = status(f, &lb).await;
    let plan = b
        .update_allowlist(
            &lb,
            &AllowlistChange::Add(list(&["192.0.2.2"])),
            Mode::DryRun,
        )
        .await
        .expect("add dry run");
    assert!(plan.changed());
    let plan = b
        .enter(&lb, &spec(&["192.0.2.9"], "changed"), Mode::DryRun)
        .await
        .expect("re-enter dry run");
    assert!(plan.changed());
    let plan = b.exit(&lb, Mode::DryRun).await.expect("exit dry run");
    assert!(plan.changes.contains(&Change::Disassociated));
    assert_eq!(status(f, &lb).await, before, "dry runs changed the target");
    b.exit(&lb, Mode::Apply).await.expect("exit");
    assert!(b.cleanup(Mode::DryRun).await.is_ok());
}

/// A custom status, JSON body and extra header are stored and read back.
pub async fn custom_response_round_trips(f: &dyn Fixture) {
    let b = f.backend();
    let lb = alb(f, "response").await;
    let body = ResponseBody::new(ContentType::Json, r#"{"down":true}"#.to_string()).unwrap();
    let response = MaintenanceResponse::build(
        None,
        Some(ResponseStatus::new(429).unwrap()),
        Some(body),
        ContentType::Json,
        vec!["X-Maintenance: yes".parse::<ResponseHeader>().unwrap()],
    )
    .unwrap();
    let mut s = spec(&[], "response");
    s.until = None;
    s.response = response.clone();
    b.enter(&lb, &s, Mode::Apply).await.expect("enter");
    let st = status(f, &lb).await;
    assert_eq!(st.maintenance().expect("maintenance").response, response);
    let mut s2 = s.clone();
    s2.response = MaintenanceResponse::default();
    let out = b.enter(&lb, &s2, Mode::Apply).await.expect("enter again");
    assert_eq!(out.changes, [Change::ResponseChanged]);
    b.exit(&lb, Mode::Apply).await.expect("exit");
}

/// A run killed after creating its resources leaves them unassociated:
/// `status` lists them as leftovers, `cleanup` (dry run first) finds exactly
/// them and no resource in use or foreign, and deletes them; afterwards the
/// target is clean and the other windows are untouched.
pub async fn interrupted_runs_show_as_leftovers_and_cleanup_deletes_exactly_them(f: &dyn Fixture) {
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

    let st = status(f, &crashed).await;
    assert_eq!(st.state, State::Normal, "never associated");
    assert!(
        st.leftovers.contains(&super::web_acl_name(&crashed)),
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

/// Every member's outcome, or a panic naming the one that failed.
fn all_ok(
    what: &str,
    results: crate::Result<Vec<crate::Result<super::Outcome>>>,
) -> Vec<Vec<Change>> {
    results
        .unwrap_or_else(|e| panic!("{what}: {e}"))
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("{what}: {e}")).changes)
        .collect()
}

async fn states(f: &dyn Fixture, window: &Window, lbs: &[LoadBalancerArn]) -> Vec<TargetStatus> {
    f.backend()
        .window_status(window, lbs)
        .await
        .unwrap_or_else(|e| panic!("status of {window}: {e}"))
        .into_iter()
        .map(|s| s.unwrap_or_else(|e| panic!("status of {window}: {e}")))
        .collect()
}

/// The members of a service share one web ACL: entered together, edited
/// with one write for all, re-entered in place; a partial exit (of the
/// window, or of one member named alone) keeps the window for the rest, and
/// the last member out deletes it.
pub async fn a_window_of_several_members_shares_one_web_acl(f: &dyn Fixture) {
    let b = f.backend();
    let lbs = [
        alb(f, "win-a").await,
        alb(f, "win-b").await,
        alb(f, "win-c").await,
    ];
    let w = Window::of_service(&format!("conformance-{}", lbs[0].name()));
    let entered = all_ok(
        "enter",
        b.enter_window(&w, &lbs, &spec(&["192.0.2.1"], "window"), Mode::Apply)
            .await,
    );
    for changes in &entered {
        assert!(changes.contains(&Change::Associated), "{changes:?}");
    }
    let st = states(f, &w, &lbs).await;
    let acls: Vec<String> = st
        .iter()
        .map(|s| {
            let info = s.maintenance().unwrap_or_else(|| panic!("{s:?}"));
            assert_eq!(info.window, w.name());
            info.web_acl_arn.clone()
        })
        .collect();
    assert!(acls.iter().all(|a| *a == acls[0]), "one web ACL: {acls:?}");

    let added = all_ok(
        "allowlist add",
        b.update_window_allowlist(
            &w,
            &lbs,
            &AllowlistChange::Add(list(&["192.0.2.2"])),
            Mode::Apply,
        )
        .await,
    );
    assert!(added.iter().all(|c| c.len() == 1), "{added:?}");
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
    for s in states(f, &w, &lbs).await {
        assert_eq!(s.state, State::Normal);
        assert!(s.leftovers.is_empty(), "{:?}", s.leftovers);
    }
}

/// A window of the same name whose members are all other load balancers
/// (two config files that both define the service) is never joined.
pub async fn two_services_with_the_same_name_are_never_merged(f: &dyn Fixture) {
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
pub async fn a_foreign_member_does_not_stop_the_others_of_its_window(f: &dyn Fixture) {
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
    assert!(results[0].is_ok(), "{:?}", results[0]);
    match &results[1] {
        Err(Error::ForeignWebAcl { web_acl_arn, .. }) => assert_eq!(*web_acl_arn, acl),
        other => panic!("expected the foreign ACL, got {other:?}"),
    }
    match status(f, &taken).await.state {
        State::Foreign { web_acl_arn, .. } => assert_eq!(web_acl_arn, acl),
        other => panic!("the foreign ACL stays, got {other:?}"),
    }
    let results = b
        .exit_window(&w, &lbs, Mode::Apply)
        .await
        .expect("the window");
    assert!(results[0].is_ok() && results[1].is_err(), "{results:?}");
    let st = states(f, &w, std::slice::from_ref(&ok)).await;
    assert_eq!(st[0].state, State::Normal);
    assert!(st[0].leftovers.is_empty(), "{:?}", st[0].leftovers);
}

/// The window's info of an armed target (pass-through form), or a panic.
fn armed(st: &TargetStatus) -> &super::MaintenanceInfo {
    match &st.state {
        State::Armed(info) => info,
        other => panic!("{} should be armed, is {other:?}", st.load_balancer),
    }
}

/// arm -> armed -> enter (one switch, no association) -> maintenance,
/// armed_since kept -> exit (switched off, still armed) -> disarm -> normal.
pub async fn an_armed_window_switches_without_associating(f: &dyn Fixture) {
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
    for s2 in states(f, &w, &lbs).await {
        assert_eq!(s2.state, State::Normal);
        assert!(s2.leftovers.is_empty(), "{:?}", s2.leftovers);
    }
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
pub async fn disarm_is_refused_in_maintenance(f: &dyn Fixture) {
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
    for s2 in states(f, &w, &lbs).await {
        assert_eq!(s2.state, State::Normal);
        assert!(s2.leftovers.is_empty(), "{:?}", s2.leftovers);
    }
}

/// The changes of each member without IP set deletions, which only a
/// backend with IP sets (WAF) reports.
fn without_ip_sets(results: Vec<Vec<Change>>) -> Vec<Vec<Change>> {
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

/// Arming a window already in maintenance marks it armed and changes
/// nothing else; its `exit` then switches it off.
pub async fn arming_a_window_in_maintenance_only_marks_it_armed(f: &dyn Fixture) {
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
pub async fn an_armed_window_is_edited_and_rearmed_in_place(f: &dyn Fixture) {
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
pub async fn armed_dry_runs_change_nothing(f: &dyn Fixture) {
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
pub async fn arm_refuses_a_foreign_web_acl(f: &dyn Fixture) {
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
    assert!(results[0].is_ok(), "{:?}", results[0]);
    match &results[1] {
        Err(Error::ForeignWebAcl { web_acl_arn, .. }) => assert_eq!(*web_acl_arn, acl),
        other => panic!("expected the foreign ACL, got {other:?}"),
    }
    match status(f, &taken).await.state {
        State::Foreign { web_acl_arn, .. } => assert_eq!(web_acl_arn, acl),
        other => panic!("the foreign ACL stays, got {other:?}"),
    }
    all_ok(
        "disarm",
        b.disarm_window(&w, std::slice::from_ref(&ok), Mode::Apply)
            .await,
    );
    assert_eq!(status(f, &ok).await.state, State::Normal);
}

/// The web ACL's name in its ARN (`.../webacl/<name>/<id>`).
fn acl_name(arn: &str) -> String {
    let mut parts = arn.rsplit('/');
    parts.next();
    parts.next().expect("a web ACL ARN").to_string()
}

/// With consent, maint's rule goes into the service's own web ACL: enter
/// reports the injection, status shows maintenance through that ACL,
/// allowlist edits and re-enters update it in place, cleanup leaves it,
/// and exit removes exactly what maint added, the ACL staying associated.
/// Without consent (a dry run included) nothing changes.
pub async fn a_window_of_one_is_injected_into_its_own_web_acl_with_consent(f: &dyn Fixture) {
    let b = f.backend();
    let lb = alb(f, "inject").await;
    let acl = f.associate_foreign_web_acl(&lb).await;
    let name = acl_name(&acl);
    let foreign = status(f, &lb).await;
    let s = spec(&["192.0.2.1"], "inject");
    let refused = b.enter(&lb, &s, Mode::Apply).await;
    assert!(
        matches!(refused, Err(Error::ForeignWebAcl { .. })),
        "no consent: {refused:?}"
    );
    let mut consent = s.clone();
    consent.existing_web_acl = ExistingWebAcl::Inject;
    let plan = b
        .enter(&lb, &consent, Mode::DryRun)
        .await
        .expect("inject dry run");
    let injected = [Change::RuleInjected {
        web_acl: name.clone(),
    }];
    assert_eq!(plan.changes, injected);
    assert_eq!(status(f, &lb).await, foreign, "nothing changed");

    let out = b.enter(&lb, &consent, Mode::Apply).await.expect("inject");
    assert_eq!(out.changes, injected);
    let st = status(f, &lb).await;
    let info = st.maintenance().unwrap_or_else(|| panic!("{st:?}"));
    assert_eq!(info.host_web_acl.as_deref(), Some(name.as_str()));
    assert_eq!(info.web_acl_arn, acl);
    assert_eq!(info.window, super::web_acl_name(&lb));
    assert_eq!(info.allowlist.entries, s.allowlist);
    assert_eq!(info.armed_since, None);
    assert!(st.leftovers.is_empty(), "{:?}", st.leftovers);

    assert_eq!(
        edit(f, &lb, AllowlistChange::Add(list(&["198.51.100.1"]))).await,
        [Change::AllowlistAdded {
            entries: list(&["198.51.100.1"]).iter().collect()
        }]
    );
    let again = b
        .enter(&lb, &spec(&[], "new reason"), Mode::Apply)
        .await
        .expect("re-enter");
    assert_eq!(
        again.changes,
        [Change::ReasonChanged {
            reason: Some("new reason".into())
        }]
    );
    assert!(
        !b.cleanup(Mode::DryRun)
            .await
            .expect("cleanup")
            .iter()
            .any(|l| l.arn == acl || l.name == info.window),
        "an injected window is no leftover"
    );
    let armed = b
        .arm_window(
            &Window::of_load_balancer(&lb),
            std::slice::from_ref(&lb),
            &consent,
            Mode::Apply,
        )
        .await
        .expect("the window");
    assert!(
        matches!(armed[0], Err(Error::ForeignWebAcl { .. })),
        "{armed:?}"
    );

    let plan = b.exit(&lb, Mode::DryRun).await.expect("exit dry run");
    let removed = vec![vec![Change::RuleRemoved {
        web_acl: name.clone(),
    }]];
    assert_eq!(without_ip_sets(vec![plan.changes]), removed);
    assert!(status(f, &lb).await.maintenance().is_some());
    let out = b.exit(&lb, Mode::Apply).await.expect("exit");
    assert_eq!(without_ip_sets(vec![out.changes]), removed);
    assert_eq!(status(f, &lb).await, foreign, "the ACL as it was");
    let out = b.exit(&lb, Mode::Apply);
    assert!(
        matches!(out.await, Err(Error::ForeignWebAcl { .. })),
        "exit leaves a foreign ACL alone"
    );
}

/// What `request` gets from `lb`, by the backend's `check`.
async fn verdict(f: &dyn Fixture, lb: &LoadBalancerArn, ip: &str, headers: &[String]) -> Verdict {
    let request = CheckRequest::new(ip, headers, None).unwrap();
    f.backend()
        .check(lb, &request)
        .await
        .unwrap_or_else(|e| panic!("check {lb}: {e}"))
        .verdict
}

/// The bypass: kept by a repeated `enter`, rotated, shut by `allowlist
/// disable` unless kept, opened by `enable`, removed; `check` agrees at
/// each step.
pub async fn the_bypass_is_kept_rotated_shut_and_removed(f: &dyn Fixture) {
    let b = f.backend();
    let lb = alb(f, "conf-bypass").await;
    let with = |bypass: BypassRequest| MaintenanceSpec {
        bypass,
        ..spec(&["192.0.2.0/24"], "bypass")
    };
    b.enter(&lb, &with(BypassRequest::On), Mode::Apply)
        .await
        .unwrap();
    let secret = |st: &TargetStatus| st.window_info().and_then(|i| i.bypass.clone());
    let first = secret(&status(f, &lb).await).expect("a bypass");
    assert!(first.enabled);
    let header = |s: &BypassState| vec![format!("x-maint-bypass: {}", s.secret.expose())];
    let stranger = "198.51.100.7";
    assert_eq!(verdict(f, &lb, stranger, &[]).await, Verdict::Maintenance);
    assert_eq!(
        verdict(f, &lb, stranger, &header(&first)).await,
        Verdict::LetThrough
    );
    assert_eq!(verdict(f, &lb, "192.0.2.9", &[]).await, Verdict::LetThrough);
    // The link: a redirect to / that sets the cookie until the window's end.
    let link = CheckRequest::new(stranger, &[], Some(&first.secret.link_path())).unwrap();
    let answer = b.check(&lb, &link).await.unwrap();
    assert_eq!(answer.verdict, Verdict::BypassLink);
    let response = answer.response.expect("the redirect");
    assert_eq!(response.status, 302);
    assert_eq!(
        response.headers,
        first
            .secret
            .link_response_headers(status(f, &lb).await.window_info().unwrap().until)
    );

    let kept = b
        .enter(&lb, &with(BypassRequest::Keep), Mode::Apply)
        .await
        .unwrap();
    assert!(!kept.changed(), "{kept:?}");
    assert_eq!(secret(&status(f, &lb).await), Some(first.clone()));

    let rotated = b
        .enter(&lb, &with(BypassRequest::Rotate), Mode::Apply)
        .await
        .unwrap();
    assert_eq!(rotated.changes, [Change::BypassRotated]);
    let second = secret(&status(f, &lb).await).unwrap();
    assert_ne!(second.secret, first.secret);
    assert_eq!(
        verdict(f, &lb, stranger, &header(&first)).await,
        Verdict::Maintenance
    );
    assert_eq!(
        verdict(f, &lb, stranger, &header(&second)).await,
        Verdict::LetThrough
    );

    assert_eq!(
        edit(f, &lb, AllowlistChange::Disable).await,
        [Change::AllowlistDisabled, Change::BypassDisabled]
    );
    assert_eq!(
        verdict(f, &lb, stranger, &header(&second)).await,
        Verdict::Maintenance
    );
    assert_eq!(
        edit(f, &lb, AllowlistChange::Enable).await,
        [Change::AllowlistEnabled, Change::BypassEnabled]
    );
    assert_eq!(
        edit(f, &lb, AllowlistChange::DisableKeepingBypass).await,
        [Change::AllowlistDisabled]
    );
    assert_eq!(
        verdict(f, &lb, stranger, &header(&second)).await,
        Verdict::LetThrough
    );
    assert_eq!(
        verdict(f, &lb, "192.0.2.9", &[]).await,
        Verdict::Maintenance
    );

    // A repeated enter keeps the allowlist and the bypass as they are.
    b.enter(&lb, &with(BypassRequest::Keep), Mode::Apply)
        .await
        .unwrap();
    let now = secret(&status(f, &lb).await).unwrap();
    assert_eq!((now.secret, now.enabled), (second.secret.clone(), true));

    let off = b
        .enter(&lb, &with(BypassRequest::Off), Mode::Apply)
        .await
        .unwrap();
    assert_eq!(off.changes, [Change::BypassOff]);
    assert_eq!(secret(&status(f, &lb).await), None);
    assert_eq!(
        verdict(f, &lb, stranger, &header(&second)).await,
        Verdict::Maintenance
    );
    b.exit(&lb, Mode::Apply).await.unwrap();
    assert_eq!(verdict(f, &lb, stranger, &[]).await, Verdict::LetThrough);
}
