//! The WAF backend's failure paths: AWS errors that moto never returns,
//! injected on the wire with AWS's real error codes (see `faults`), while
//! every other call reaches moto, so each test ends by checking moto's real
//! state: what exists, what is associated, nothing left behind.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::time::Duration;

use maint_core::backend::waf::{WafBackend, WafSettings};
use maint_core::backend::{
    web_acl_name, AllowlistChange, Change, MaintenanceSpec, Mode, Reason, State,
};
use maint_core::MaintenanceBackend;
use maint_core::{Allowlist, Error, LoadBalancerName, LoadBalancerRef, ResourceArn};
use maint_tests::faults::Faults;
use maint_tests::{
    fast_settings, faulty_backend as backend, resources_in_moto, seed, OperationLog,
};

async fn alb(hint: &str) -> ResourceArn {
    let name = seed::unique_lb_name(hint);
    let arn = seed::create_load_balancer(&name, "application").await;
    let lb = ResourceArn::parse(&arn).unwrap();
    assert_eq!(lb.name(), LoadBalancerName::parse(&name).unwrap().as_str());
    lb
}

fn spec(entries: &[&str]) -> MaintenanceSpec {
    MaintenanceSpec {
        allowlist: Allowlist::parse(entries).unwrap(),
        reason: Some(Reason::new("failure test").unwrap()),
        ..MaintenanceSpec::default()
    }
}

async fn entries(b: &WafBackend, lb: &ResourceArn) -> Vec<String> {
    let status = b.status(lb).await.unwrap();
    let info = status.maintenance().expect("in maintenance");
    info.allowlist
        .entries
        .iter()
        .map(|c| c.to_string())
        .collect()
}

fn count(log: &OperationLog, action: &str) -> usize {
    log.counts().get(action).copied().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn unavailable_entity_is_retried_on_associate_create_read_and_delete() {
    let (faults, log) = (Faults::new(), OperationLog::new());
    let b = backend(&faults, &log, fast_settings());
    let lb = alb("unavailable").await;
    faults.inject("AssociateWebACL", "WAFUnavailableEntityException", 3);
    // A just-created IP set not yet usable by CreateWebACL, a new web ACL
    // not yet visible to GetWebACLForResource (AWS lists both).
    faults.inject("CreateWebACL", "WAFUnavailableEntityException", 2);
    faults.inject("GetWebACLForResource", "WAFUnavailableEntityException", 1);
    let out = b
        .enter(&lb, &spec(&["192.0.2.1"]), Mode::Apply)
        .await
        .unwrap();
    assert!(out.changes.contains(&Change::Associated));
    assert_eq!(faults.served("AssociateWebACL"), 3);
    assert_eq!(
        count(&log, "wafv2:AssociateWebACL"),
        4,
        "3 refusals, then success"
    );
    assert_eq!(faults.served("CreateWebACL"), 2);
    assert_eq!(faults.served("GetWebACLForResource"), 1);
    assert!(b.status(&lb).await.unwrap().maintenance().is_some());
    faults.inject("DeleteIPSet", "WAFUnavailableEntityException", 1);
    b.exit(&lb, Mode::Apply).await.unwrap();
    assert_eq!(faults.served("DeleteIPSet"), 1);
    assert!(resources_in_moto(&lb).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn associate_deadline_gives_a_clear_error_and_a_rerun_finishes() {
    let (faults, log) = (Faults::new(), OperationLog::new());
    let settings = WafSettings {
        associate_deadline: Duration::from_millis(300),
        ..fast_settings()
    };
    let b = backend(&faults, &log, settings);
    let lb = alb("deadline").await;
    faults.always("AssociateWebACL", "WAFUnavailableEntityException");
    let err = b
        .enter(&lb, &spec(&["192.0.2.1"]), Mode::Apply)
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(message.contains("run the same command again"), "{message}");
    assert!(faults.served("AssociateWebACL") >= 2);

    // status tells what exists: not in maintenance (the window's record
    // lists it, its web ACL is not on it), and maint's leftovers.
    let status = b.status(&lb).await.unwrap();
    assert!(
        matches!(status.state, State::Detached { now: None, .. }),
        "{:?}",
        status.state
    );
    assert!(
        status.leftovers.contains(&web_acl_name(&lb)),
        "{:?}",
        status.leftovers
    );

    // The same command again, once WAF has caught up, finishes the job
    // without duplicating anything.
    faults.clear();
    let fresh = backend(&faults, &log, fast_settings());
    fresh
        .enter(&lb, &spec(&["192.0.2.1"]), Mode::Apply)
        .await
        .unwrap();
    assert!(fresh.status(&lb).await.unwrap().maintenance().is_some());
    assert_eq!(
        resources_in_moto(&lb).await.len(),
        2,
        "one web ACL, one IP set"
    );
    fresh.exit(&lb, Mode::Apply).await.unwrap();
    assert!(resources_in_moto(&lb).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lock_conflict_keeps_the_concurrent_writers_entry() {
    let (faults, log) = (Faults::new(), OperationLog::new());
    let b = backend(&faults, &log, fast_settings());
    let lb = alb("lock").await;
    b.enter(&lb, &spec(&["198.51.100.1"]), Mode::Apply)
        .await
        .unwrap();

    // Just before our UpdateIPSet reaches moto, another operator adds an
    // address (their own process: own runtime, own clients). Our lock token
    // is then stale, and moto refuses our write for real.
    let other_lb = lb.clone();
    faults.before("UpdateIPSet", move || {
        std::thread::spawn(move || {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async {
                let other = backend(&Faults::new(), &OperationLog::new(), fast_settings());
                let add = AllowlistChange::Add(Allowlist::parse(["203.0.113.99"]).unwrap());
                other
                    .update_allowlist(&other_lb, &add, Mode::Apply)
                    .await
                    .unwrap();
            });
        })
        .join()
        .unwrap();
    });
    let add = AllowlistChange::Add(Allowlist::parse(["192.0.2.55"]).unwrap());
    b.update_allowlist(&lb, &add, Mode::Apply).await.unwrap();
    assert_eq!(
        entries(&b, &lb).await,
        ["192.0.2.55/32", "198.51.100.1/32", "203.0.113.99/32"],
        "both writers' entries survive"
    );
    assert_eq!(
        count(&log, "wafv2:UpdateIPSet"),
        2,
        "one stale write, one re-applied"
    );
    b.exit(&lb, Mode::Apply).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn associated_item_on_delete_is_retried() {
    let (faults, log) = (Faults::new(), OperationLog::new());
    let b = backend(&faults, &log, fast_settings());
    let lb = alb("assoc-item").await;
    b.enter(&lb, &spec(&["192.0.2.1", "2001:db8::1"]), Mode::Apply)
        .await
        .unwrap();
    faults.inject("DeleteWebACL", "WAFAssociatedItemException", 2);
    faults.inject("DeleteIPSet", "WAFAssociatedItemException", 1);
    let out = b.exit(&lb, Mode::Apply).await.unwrap();
    assert!(out.changes.contains(&Change::Disassociated));
    assert_eq!(faults.served("DeleteWebACL"), 2);
    assert_eq!(count(&log, "wafv2:DeleteWebACL"), 3);
    assert!(resources_in_moto(&lb).await.is_empty());
    assert_eq!(b.status(&lb).await.unwrap().state, State::Normal);
}

#[tokio::test(flavor = "multi_thread")]
async fn throttling_beyond_the_old_attempt_count_does_not_fail_a_target() {
    let (faults, log) = (Faults::new(), OperationLog::new());
    let b = backend(&faults, &log, fast_settings());
    let lb = alb("throttle").await;
    // Twelve throttled calls in a row: more than the 8 attempts maint used
    // to give up after. Throttling is waited out against a deadline.
    faults.inject("CreateWebACL", "ThrottlingException", 12);
    b.enter(&lb, &spec(&["192.0.2.1"]), Mode::Apply)
        .await
        .unwrap();
    assert_eq!(faults.served("CreateWebACL"), 12);
    assert!(b.status(&lb).await.unwrap().maintenance().is_some());
    assert_eq!(resources_in_moto(&lb).await.len(), 2);

    // Throttled for longer than the deadline: a clear error, not a hang.
    let impatient = backend(
        &faults,
        &log,
        WafSettings {
            throttle_deadline: Duration::from_millis(500),
            ..fast_settings()
        },
    );
    faults.always("GetWebACLForResource", "ThrottlingException");
    let err = impatient.status(&lb).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert_eq!(err.aws_code(), Some("ThrottlingException"), "{err:?}");
    faults.clear();
    b.exit(&lb, Mode::Apply).await.unwrap();
    assert!(resources_in_moto(&lb).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_account_quota_is_reported_by_name_and_not_retried() {
    let (faults, log) = (Faults::new(), OperationLog::new());
    let b = backend(&faults, &log, fast_settings());
    let lb = alb("quota").await;
    faults.respond(
        "CreateWebACL",
        400,
        r#"{"__type":"WAFLimitsExceededException","Message":"Limit reached: NUM_WEBACLS_BY_ACCOUNT"}"#,
        usize::MAX,
    );
    let err = b
        .enter(&lb, &spec(&["192.0.2.1"]), Mode::Apply)
        .await
        .unwrap_err();
    faults.clear();
    assert_eq!(
        err.aws_code(),
        Some("WAFLimitsExceededException"),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("web ACLs per account and Region"),
        "{message}"
    );
    assert_eq!(
        faults.served("CreateWebACL"),
        1,
        "an account quota is not retried"
    );
    b.exit(&lb, Mode::Apply).await.unwrap();
    assert!(resources_in_moto(&lb).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn duplicate_web_acl_after_a_crash_is_adopted() {
    let (faults, log) = (Faults::new(), OperationLog::new());
    let lb = alb("duplicate").await;
    // A run that dies after creating the web ACL, before associating it.
    let crashed = backend(&faults, &log, fast_settings());
    faults.always("AssociateWebACL", "AccessDeniedException");
    crashed
        .enter(&lb, &spec(&["192.0.2.1"]), Mode::Apply)
        .await
        .unwrap_err();
    faults.clear();
    assert_eq!(resources_in_moto(&lb).await.len(), 2);

    // The rerun's listing misses it (as a listing taken just before the
    // crash would), so it creates, and AWS answers with its duplicate code.
    faults.respond("ListWebACLs", 200, r#"{"WebACLs":[]}"#, 1);
    faults.inject("CreateWebACL", "WAFDuplicateItemException", 1);
    let rerun = backend(&faults, &log, fast_settings());
    rerun
        .enter(&lb, &spec(&["192.0.2.1"]), Mode::Apply)
        .await
        .unwrap();
    assert_eq!(faults.served("CreateWebACL"), 1);
    assert!(rerun.status(&lb).await.unwrap().maintenance().is_some());
    assert_eq!(
        resources_in_moto(&lb).await.len(),
        2,
        "adopted, not duplicated"
    );
    rerun.exit(&lb, Mode::Apply).await.unwrap();
    assert!(resources_in_moto(&lb).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn enter_interrupted_at_each_step_converges_on_rerun() {
    for step in ["CreateIPSet", "CreateWebACL", "AssociateWebACL"] {
        let (faults, log) = (Faults::new(), OperationLog::new());
        let lb = alb(&format!("crash-{}", step.to_lowercase())).await;
        let wanted = spec(&["192.0.2.1", "2001:db8::/64"]);
        // The process dies at `step`: everything before it happened.
        faults.always(step, "AccessDeniedException");
        let crashed = backend(&faults, &log, fast_settings());
        let err = crashed.enter(&lb, &wanted, Mode::Apply).await.unwrap_err();
        assert_eq!(
            err.aws_code(),
            Some("AccessDeniedException"),
            "{step}: {err}"
        );
        faults.clear();

        let rerun = backend(&faults, &log, fast_settings());
        rerun.enter(&lb, &wanted, Mode::Apply).await.unwrap();
        let status = rerun.status(&lb).await.unwrap();
        let info = status
            .maintenance()
            .unwrap_or_else(|| panic!("{step}: not in maintenance"));
        assert_eq!(info.allowlist.entries, wanted.allowlist, "{step}");
        assert!(
            status.leftovers.is_empty(),
            "{step}: {:?}",
            status.leftovers
        );
        assert_eq!(
            resources_in_moto(&lb).await.len(),
            3,
            "{step}: one web ACL and two IP sets, no duplicates"
        );
        rerun.exit(&lb, Mode::Apply).await.unwrap();
        assert!(
            resources_in_moto(&lb).await.is_empty(),
            "{step}: exit left resources"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn exit_interrupted_at_each_step_converges_on_rerun() {
    for step in ["DisassociateWebACL", "DeleteWebACL", "DeleteIPSet"] {
        let (faults, log) = (Faults::new(), OperationLog::new());
        let lb = alb(&format!("exit-{}", step.to_lowercase())).await;
        let b = backend(&faults, &log, fast_settings());
        b.enter(&lb, &spec(&["192.0.2.1"]), Mode::Apply)
            .await
            .unwrap();
        faults.always(step, "AccessDeniedException");
        b.exit(&lb, Mode::Apply).await.unwrap_err();
        faults.clear();

        let rerun = backend(&faults, &log, fast_settings());
        rerun.exit(&lb, Mode::Apply).await.unwrap();
        assert!(
            resources_in_moto(&lb).await.is_empty(),
            "{step}: exit left resources"
        );
        let status = rerun.status(&lb).await.unwrap();
        assert_eq!(status.state, State::Normal, "{step}");
        assert!(status.leftovers.is_empty(), "{step}");
        assert!(!rerun.exit(&lb, Mode::Apply).await.unwrap().changed());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn resolve_batches_names_and_finds_the_unknown_one() {
    let (faults, log) = (Faults::new(), OperationLog::new());
    let b = backend(&faults, &log, fast_settings());
    let mut refs = Vec::new();
    for i in 0..3 {
        let lb = alb(&format!("batch{i}")).await;
        refs.push(LoadBalancerRef::Name(
            LoadBalancerName::parse(lb.name()).unwrap(),
        ));
    }
    refs.push(LoadBalancerRef::Name(
        LoadBalancerName::parse("not-there-at-all").unwrap(),
    ));
    let results = b.resolve(&refs).await.unwrap();
    assert!(results[..3].iter().all(Result::is_ok), "{results:?}");
    assert!(
        matches!(&results[3], Err(Error::TargetNotFound { target }) if target == "not-there-at-all")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn another_processs_changes_are_not_hidden_by_a_stale_listing() {
    let (faults, log) = (Faults::new(), OperationLog::new());
    let a = backend(&faults, &log, fast_settings());
    let b = backend(&Faults::new(), &OperationLog::new(), fast_settings());
    let lb = alb("stale").await;
    // A enters (its listing now holds the web ACL and set), B exits.
    a.enter(&lb, &spec(&["192.0.2.1"]), Mode::Apply)
        .await
        .unwrap();
    assert!(b.exit(&lb, Mode::Apply).await.unwrap().changed());
    // A's exit sees a normal target and nothing left: unchanged.
    assert!(!a.exit(&lb, Mode::Apply).await.unwrap().changed());
    // A's enter finds its listed ACL and set gone, and creates them anew.
    a.enter(&lb, &spec(&["192.0.2.1"]), Mode::Apply)
        .await
        .unwrap();
    assert!(a.status(&lb).await.unwrap().maintenance().is_some());
    assert_eq!(resources_in_moto(&lb).await.len(), 2);
    a.exit(&lb, Mode::Apply).await.unwrap();
    assert!(resources_in_moto(&lb).await.is_empty());
}

/// Associates a web ACL "of the security team" with `lb` from a thread of
/// its own (own runtime, own clients), as another process would; returns
/// its ARN. Like AWS (unlike moto), the association replaces any other.
fn another_process_associates_a_foreign_acl(lb: &ResourceArn) -> String {
    let arn = lb.as_str().to_string();
    std::thread::spawn(move || {
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            seed::waf_client()
                .disassociate_web_acl()
                .resource_arn(&arn)
                .send()
                .await
                .unwrap();
            seed::foreign_web_acl(&arn).await
        })
    })
    .join()
    .unwrap()
}

/// What moto says is associated with `lb`.
async fn associated_with(lb: &ResourceArn) -> Option<String> {
    seed::waf_client()
        .get_web_acl_for_resource()
        .resource_arn(lb.as_str())
        .send()
        .await
        .unwrap()
        .web_acl()
        .map(|acl| acl.arn().to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_foreign_acl_associated_after_the_check_is_never_replaced() {
    let (faults, log) = (Faults::new(), OperationLog::new());
    let b = backend(&faults, &log, fast_settings());
    let lb = alb("race-enter").await;
    // maint read the association (normal) and is creating its web ACL when
    // another writer associates theirs.
    let foreign = std::sync::Arc::new(std::sync::Mutex::new(None));
    let (slot, racing) = (foreign.clone(), lb.clone());
    faults.before("CreateWebACL", move || {
        *slot.lock().unwrap() = Some(another_process_associates_a_foreign_acl(&racing));
    });
    let err = b
        .enter(&lb, &spec(&["192.0.2.1"]), Mode::Apply)
        .await
        .unwrap_err();
    let foreign = foreign.lock().unwrap().clone().expect("the hook ran");
    match &err {
        Error::ForeignWebAcl { web_acl_arn, .. } => assert_eq!(web_acl_arn, &foreign),
        other => panic!("expected ForeignWebAcl, got {other:?}"),
    }
    assert_eq!(count(&log, "wafv2:AssociateWebACL"), 0, "never associated");
    assert_eq!(associated_with(&lb).await, Some(foreign), "theirs stays");
    assert!(
        resources_in_moto(&lb).await.is_empty(),
        "what maint made for the window is deleted, nothing leaks"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_foreign_acl_associated_before_the_disassociate_is_never_removed() {
    let (faults, log) = (Faults::new(), OperationLog::new());
    let b = backend(&faults, &log, fast_settings());
    let lb = alb("race-exit").await;
    b.enter(&lb, &spec(&["192.0.2.1"]), Mode::Apply)
        .await
        .unwrap();
    // exit reads the association (maint's), then reads it again right
    // before disassociating: another writer associates theirs in between.
    let foreign = std::sync::Arc::new(std::sync::Mutex::new(None));
    let (later, slot, racing) = (faults.clone(), foreign.clone(), lb.clone());
    faults.before("GetWebACLForResource", move || {
        later.before("GetWebACLForResource", move || {
            *slot.lock().unwrap() = Some(another_process_associates_a_foreign_acl(&racing));
        });
    });
    log.take();
    let err = b.exit(&lb, Mode::Apply).await.unwrap_err();
    let foreign = foreign.lock().unwrap().clone().expect("the hook ran");
    assert!(
        matches!(&err, Error::ForeignWebAcl { web_acl_arn, .. } if *web_acl_arn == foreign),
        "{err:?}"
    );
    assert_eq!(count(&log, "wafv2:DisassociateWebACL"), 0, "never removed");
    assert_eq!(associated_with(&lb).await, Some(foreign), "theirs stays");
    assert!(
        resources_in_moto(&lb).await.is_empty(),
        "maint's own (no longer associated) resources are deleted"
    );
}

/// maint's `exit` (`operation` DisassociateWebACL) or `enter`
/// (AssociateWebACL) of a load balancer, while AWS throttles `operation`
/// once (another caller used the account's one-per-2-s quota) and, during
/// that throttle, another writer associates its web ACL: the retry reads
/// the association again and never sends, theirs stays, the command fails
/// naming their ACL (what the CLI prints, with exit code 1), and what maint
/// made is deleted.
async fn a_foreign_acl_landing_during_a_throttled(operation: &str) {
    let (faults, log) = (Faults::new(), OperationLog::new());
    let b = backend(&faults, &log, fast_settings());
    let lb = alb("throttled").await;
    let exiting = operation == "DisassociateWebACL";
    if exiting {
        b.enter(&lb, &spec(&["192.0.2.1"]), Mode::Apply)
            .await
            .unwrap();
    }
    faults.inject(operation, "ThrottlingException", 1);
    let foreign = std::sync::Arc::new(std::sync::Mutex::new(None));
    let (slot, racing) = (foreign.clone(), lb.clone());
    faults.during_fault(operation, move || {
        *slot.lock().unwrap() = Some(another_process_associates_a_foreign_acl(&racing));
    });
    log.take();
    let result = if exiting {
        b.exit(&lb, Mode::Apply).await
    } else {
        b.enter(&lb, &spec(&["192.0.2.1"]), Mode::Apply).await
    };
    let err = result.unwrap_err();
    let foreign = foreign.lock().unwrap().clone().expect("the hook ran");
    assert_eq!(faults.served(operation), 1, "it was throttled");
    assert_eq!(
        associated_with(&lb).await,
        Some(foreign.clone()),
        "theirs stays"
    );
    match &err {
        Error::ForeignWebAcl {
            web_acl_arn,
            web_acl_name,
            ..
        } => {
            assert_eq!(web_acl_arn, &foreign);
            assert!(err.to_string().contains(web_acl_name.as_str()), "{err}");
        }
        other => panic!("expected ForeignWebAcl, got {other:?}"),
    }
    assert_eq!(err.kind(), maint_core::ErrorKind::ForeignWebAcl);
    assert_eq!(
        count(&log, &format!("wafv2:{operation}")),
        1,
        "only the throttled call: the retry read theirs and did not send"
    );
    assert!(
        resources_in_moto(&lb).await.is_empty(),
        "what maint made for the window is deleted, nothing leaks"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_foreign_acl_associated_while_the_disassociate_is_throttled_is_never_removed() {
    a_foreign_acl_landing_during_a_throttled("DisassociateWebACL").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_foreign_acl_associated_while_the_associate_is_throttled_is_never_replaced() {
    a_foreign_acl_landing_during_a_throttled("AssociateWebACL").await;
}
