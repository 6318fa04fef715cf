//! Scenarios of one load balancer entering and leaving maintenance: names
//! resolved, the full cycle, repeated enters and exits, a foreign web ACL
//! left alone, dry runs and a custom response.

use std::net::IpAddr;

use chrono::Utc;

use super::fixture::Fixture;
use super::helpers::{alb, edit, entries, list, spec, status};
use crate::maintenance::{AllowlistChange, Change, Mode, State};
use crate::response::{
    ContentType, MaintenanceResponse, ResponseBody, ResponseHeader, ResponseStatus,
};
use crate::target::{LoadBalancerName, LoadBalancerRef};
use crate::Error;

/// Names resolve to ARNs, ARNs to themselves; unknown names and non-ALBs are
/// refused with the right error.
pub(super) async fn resolves_names_and_refuses_other_types(f: &dyn Fixture) {
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
pub(super) async fn full_cycle(f: &dyn Fixture) {
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
pub(super) async fn enter_is_idempotent_and_reports_changes(f: &dyn Fixture) {
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
pub(super) async fn exit_is_idempotent(f: &dyn Fixture) {
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
pub(super) async fn foreign_web_acl_is_never_touched(f: &dyn Fixture) {
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

/// Every changing operation in dry-run mode reports the plan and changes
/// nothing.
pub(super) async fn dry_run_changes_nothing(f: &dyn Fixture) {
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
pub(super) async fn custom_response_round_trips(f: &dyn Fixture) {
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
