//! Services that already run a web ACL of their own, and armed windows, on
//! moto through the fault layer (which answers `ListResourcesForWebACL` and
//! `CheckCapacity`, which moto lacks, as AWS does): maint's rule goes
//! into the service's security ACL with consent and comes out exactly;
//! an armed window switches with one write each way.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::BTreeMap;

use aws_sdk_wafv2::types::{
    CustomResponseBody, DefaultAction, Rule, Scope, VisibilityConfig, WebAcl,
};
use maint_core::backend::waf::WafBackend;
use maint_core::backend::{
    AllowlistChange, Change, ExistingWebAcl, MaintenanceSpec, Mode, Reason, State, Window,
};
use maint_core::{Allowlist, ErrorKind, MaintenanceBackend, ResourceArn};
use maint_tests::faults::Faults;
use maint_tests::inspect::ip_sets_of;
use maint_tests::{fast_settings, faulty_backend, seed, OperationLog};

async fn alb(hint: &str) -> ResourceArn {
    let name = seed::unique_lb_name(hint);
    ResourceArn::parse(&seed::create_load_balancer(&name, "application").await).unwrap()
}

/// A production-like security web ACL (see `seed::security_web_acl`)
/// shared by `lbs`. Returns (name, id, arn).
async fn security_acl(lbs: &[&ResourceArn]) -> (String, String, String) {
    let arns: Vec<&str> = lbs.iter().map(|lb| lb.as_str()).collect();
    let acl = seed::security_web_acl(&arns).await;
    (acl.name, acl.id, acl.arn)
}

use seed::{read_acl, write_rules};

/// What must come back exactly: rules by name, bodies, default action,
/// description, visibility.
#[derive(Debug, PartialEq)]
struct Shape {
    rules: BTreeMap<String, Rule>,
    bodies: BTreeMap<String, CustomResponseBody>,
    default_action: Option<DefaultAction>,
    description: Option<String>,
    visibility: Option<VisibilityConfig>,
}

fn shape(acl: &WebAcl) -> Shape {
    Shape {
        rules: acl
            .rules()
            .iter()
            .map(|r| (r.name().to_string(), r.clone()))
            .collect(),
        bodies: acl
            .custom_response_bodies()
            .map(|b| b.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        default_action: acl.default_action().cloned(),
        description: acl.description().map(str::to_string),
        visibility: acl.visibility_config().cloned(),
    }
}

/// Another team changes the rate limit of their own rule (read, edit,
/// write under their lock token), from their own process.
fn another_team_edits_rate_limit(name: String, id: String, limit: i64) {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let (acl, token) = read_acl(&name, &id).await;
            let rules: Vec<Rule> = acl
                .rules()
                .iter()
                .map(|r| {
                    let mut r = r.clone();
                    if r.name() == "rate-limit-per-ip" {
                        let s = r.statement.as_mut().unwrap();
                        s.rate_based_statement.as_mut().unwrap().limit = limit;
                    }
                    r
                })
                .collect();
            write_rules(&acl, &token, rules).await;
        });
    })
    .join()
    .unwrap();
}

fn with_rate_limit(mut expected: Shape, limit: i64) -> Shape {
    let r = expected.rules.get_mut("rate-limit-per-ip").unwrap();
    let s = r.statement.as_mut().unwrap();
    s.rate_based_statement.as_mut().unwrap().limit = limit;
    expected
}

fn spec(entries: &[&str], inject: bool) -> MaintenanceSpec {
    MaintenanceSpec {
        allowlist: Allowlist::parse(entries).unwrap(),
        reason: Some(Reason::new("database upgrade").unwrap()),
        existing_web_acl: if inject {
            ExistingWebAcl::Inject
        } else {
            ExistingWebAcl::Refuse
        },
        ..MaintenanceSpec::default()
    }
}

fn backend() -> (WafBackend, Faults, OperationLog) {
    let (faults, log) = (Faults::new(), OperationLog::new());
    faults.answer_list_resources_for_web_acl();
    faults.answer_check_capacity();
    (faulty_backend(&faults, &log, fast_settings()), faults, log)
}

fn window(hint: &str) -> Window {
    Window::of_service(&seed::unique_lb_name(hint))
}

fn all_ok<T: std::fmt::Debug>(results: &[maint_core::Result<T>]) {
    for r in results {
        assert!(r.is_ok(), "{results:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_shared_security_acl_gets_maints_rule_and_ends_as_it_was_plus_others_edits() {
    let (b, faults, log) = backend();
    let lbs = vec![alb("inj-a").await, alb("inj-b").await, alb("inj-c").await];
    let (name, id, _) = security_acl(&lbs.iter().collect::<Vec<_>>()).await;
    let original = shape(&read_acl(&name, &id).await.0);
    let w = window("shop");

    // Without consent: refused, nothing of it changed, nothing left.
    let refused = b
        .enter_window(&w, &lbs, &spec(&["203.0.113.0/24"], false), Mode::Apply)
        .await;
    let failures: Vec<ErrorKind> = match refused {
        Ok(results) => results
            .iter()
            .map(|r| r.as_ref().expect_err("refused").kind())
            .collect(),
        Err(e) => vec![e.kind()],
    };
    assert!(
        failures.iter().all(|k| *k == ErrorKind::ForeignWebAcl),
        "{failures:?}"
    );
    assert_eq!(shape(&read_acl(&name, &id).await.0), original);
    assert!(ip_sets_of(&w).await.is_empty());

    // With consent: one update of the shared ACL puts all three in.
    log.take();
    let entered = b
        .enter_window(&w, &lbs, &spec(&["203.0.113.0/24"], true), Mode::Apply)
        .await
        .unwrap();
    all_ok(&entered);
    assert!(entered[0]
        .as_ref()
        .unwrap()
        .changes
        .contains(&Change::RuleInjected {
            web_acl: name.clone()
        }));
    let counts = log.counts();
    assert_eq!(counts.get("wafv2:UpdateWebACL"), Some(&1), "{counts:?}");
    assert_eq!(counts.get("wafv2:AssociateWebACL"), None, "{counts:?}");
    let (during, _) = read_acl(&name, &id).await;
    let first = during.rules().iter().min_by_key(|r| r.priority()).unwrap();
    // maint holds priorities 0 to 2 (its client address, bypass link and
    // maintenance rules); without a bypass or a header address only the
    // last is there.
    assert_eq!((first.name(), first.priority()), ("maint-maintenance", 2));
    let priority = |n: &str| {
        during
            .rules()
            .iter()
            .find(|r| r.name() == n)
            .unwrap()
            .priority()
    };
    let original_priority = |n: &str| original.rules[n].priority();
    for name in original.rules.keys() {
        let (before, now) = (original_priority(name), priority(name));
        if before == 10_000_000 {
            assert_eq!(now, before, "Shield's rule stays where Shield put it");
        } else {
            assert_eq!(now, before + 3, "the run from 0 moved up by three: {name}");
        }
    }
    for lb in &lbs {
        let status = b.status(lb).await.unwrap();
        let State::Maintenance(info) = &status.state else {
            panic!("{status:?}");
        };
        assert_eq!(info.host_web_acl.as_deref(), Some(name.as_str()));
        assert_eq!(info.window, w.name());
    }

    // Allowlist edits go into maint's own IP set; one of them races with
    // another team editing their own rate-limit rule: both survive.
    let add = AllowlistChange::Add(Allowlist::parse(["198.51.100.7"]).unwrap());
    b.update_window_allowlist(&w, &lbs, &add, Mode::Apply)
        .await
        .unwrap()
        .iter()
        .for_each(|r| assert!(r.is_ok(), "{r:?}"));
    let (n2, i2) = (name.clone(), id.clone());
    faults.before("UpdateWebACL", move || {
        another_team_edits_rate_limit(n2, i2, 1000)
    });
    b.update_window_allowlist(&w, &lbs, &AllowlistChange::Disable, Mode::Apply)
        .await
        .unwrap()
        .iter()
        .for_each(|r| assert!(r.is_ok(), "{r:?}"));
    let status = b.status(&lbs[1]).await.unwrap();
    let info = status.maintenance().expect("in maintenance");
    assert!(!info.allowlist.enabled);
    assert_eq!(
        info.allowlist.entries.to_string(),
        "198.51.100.7/32\n203.0.113.0/24\n"
    );

    // Exit: exactly what maint added goes; the other team's edit stays.
    let exited = b.exit_window(&w, &lbs, Mode::Apply).await.unwrap();
    all_ok(&exited);
    assert!(exited[2]
        .as_ref()
        .unwrap()
        .changes
        .contains(&Change::RuleRemoved {
            web_acl: name.clone()
        }));
    assert_eq!(
        shape(&read_acl(&name, &id).await.0),
        with_rate_limit(original, 1000)
    );
    assert!(ip_sets_of(&w).await.is_empty(), "maint's IP sets are gone");
    for lb in &lbs {
        assert!(matches!(
            b.status(lb).await.unwrap().state,
            State::Foreign { .. }
        ));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_acl_that_would_exceed_capacity_or_protects_others_is_refused_with_nothing_changed() {
    let (b, faults, _) = backend();
    let lbs = vec![alb("cap-a").await, alb("cap-b").await];
    let (name, id, _) = security_acl(&lbs.iter().collect::<Vec<_>>()).await;
    let original = shape(&read_acl(&name, &id).await.0);
    let w = window("cap");

    faults.respond("CheckCapacity", 200, r#"{"Capacity": 5001}"#, 1);
    let err = b
        .enter_window(&w, &lbs, &spec(&["203.0.113.0/24"], true), Mode::Apply)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("5001 WCU"), "{err}");
    assert_eq!(shape(&read_acl(&name, &id).await.0), original);
    assert!(
        ip_sets_of(&w).await.is_empty(),
        "no IP set made for a refused ACL"
    );

    // The ACL also protects a load balancer outside the window.
    let err = b
        .enter_window(&w, &lbs[..1], &spec(&["203.0.113.0/24"], true), Mode::Apply)
        .await
        .unwrap_err();
    assert!(err.to_string().contains(lbs[1].as_str()), "{err}");
    assert_eq!(shape(&read_acl(&name, &id).await.0), original);

    // Exiting part of an injected window is refused: the rule is shared.
    b.enter_window(&w, &lbs, &spec(&[], true), Mode::Apply)
        .await
        .unwrap();
    let refused = b.exit_window(&w, &lbs[..1], Mode::Apply).await.unwrap();
    let err = refused[0].as_ref().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    all_ok(&b.exit_window(&w, &lbs, Mode::Apply).await.unwrap());
    assert_eq!(shape(&read_acl(&name, &id).await.0), original);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_crash_at_each_step_of_inject_and_of_its_exit_converges_on_rerun() {
    let (b, faults, _) = backend();
    let lbs = vec![alb("crash-a").await, alb("crash-b").await];
    let (name, id, _) = security_acl(&lbs.iter().collect::<Vec<_>>()).await;
    let original = shape(&read_acl(&name, &id).await.0);
    let w = window("crash");
    let s = spec(&["203.0.113.0/24", "2001:db8::/48"], true);

    // enter dies after making its IP sets, before the rule is written.
    faults.inject("UpdateWebACL", "AccessDeniedException", 1);
    assert!(b.enter_window(&w, &lbs, &s, Mode::Apply).await.is_err());
    assert_eq!(shape(&read_acl(&name, &id).await.0), original);
    assert_eq!(ip_sets_of(&w).await.len(), 2, "its IP sets are left");
    // ... and `exit` instead of a rerun clears them up.
    all_ok(&b.exit_window(&w, &lbs, Mode::Apply).await.unwrap());
    assert!(ip_sets_of(&w).await.is_empty());
    assert_eq!(shape(&read_acl(&name, &id).await.0), original);

    // Again, and this time the rerun of enter finishes it.
    faults.inject("UpdateWebACL", "AccessDeniedException", 1);
    assert!(b.enter_window(&w, &lbs, &s, Mode::Apply).await.is_err());
    all_ok(&b.enter_window(&w, &lbs, &s, Mode::Apply).await.unwrap());
    assert_eq!(ip_sets_of(&w).await.len(), 2);
    assert!(matches!(
        b.status(&lbs[0]).await.unwrap().state,
        State::Maintenance(_)
    ));

    // exit dies after taking the rule out, before deleting the IP sets.
    faults.inject("DeleteIPSet", "AccessDeniedException", 1);
    assert!(b.exit_window(&w, &lbs, Mode::Apply).await.is_err());
    assert_eq!(shape(&read_acl(&name, &id).await.0), original);
    all_ok(&b.exit_window(&w, &lbs, Mode::Apply).await.unwrap());
    assert!(ip_sets_of(&w).await.is_empty());
    assert_eq!(shape(&read_acl(&name, &id).await.0), original);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rule_removed_by_someone_else_shows_as_reverted_and_enter_puts_it_back() {
    let (b, _, _) = backend();
    let lbs = vec![alb("rev-a").await];
    let (name, id, _) = security_acl(&lbs.iter().collect::<Vec<_>>()).await;
    let original = shape(&read_acl(&name, &id).await.0);
    let w = window("rev");
    let s = spec(&["203.0.113.0/24"], true);
    all_ok(&b.enter_window(&w, &lbs, &s, Mode::Apply).await.unwrap());
    // An IaC apply that manages rules only: maint's rule goes, and the
    // priorities go back to what the code says.
    let (acl, token) = read_acl(&name, &id).await;
    let rules: Vec<Rule> = original.rules.values().cloned().collect();
    write_rules(&acl, &token, rules).await;
    let status = b.status(&lbs[0]).await.unwrap();
    assert!(
        matches!(&status.state, State::Reverted { web_acl_name, .. } if *web_acl_name == name),
        "{status:?}"
    );
    let add = AllowlistChange::Add(Allowlist::parse(["198.51.100.7"]).unwrap());
    let refused = b
        .update_window_allowlist(&w, &lbs, &add, Mode::Apply)
        .await
        .unwrap();
    let err = refused[0].as_ref().unwrap_err();
    assert!(err.to_string().contains("maint enter"), "{err}");
    // enter puts it back, keeping the allowlist.
    let again = b.enter_window(&w, &lbs, &s, Mode::Apply).await.unwrap();
    all_ok(&again);
    let status = b.status(&lbs[0]).await.unwrap();
    let info = status.maintenance().expect("in maintenance again");
    assert_eq!(info.allowlist.entries.to_string(), "203.0.113.0/24\n");
    all_ok(&b.exit_window(&w, &lbs, Mode::Apply).await.unwrap());
    assert_eq!(shape(&read_acl(&name, &id).await.0), original);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_armed_window_of_five_switches_with_one_write_each_way() {
    let (b, _, log) = backend();
    let mut lbs = Vec::new();
    for i in 0..5 {
        lbs.push(alb(&format!("armed-{i}")).await);
    }
    let w = window("armed");
    let s = spec(&["203.0.113.0/24"], false);
    let armed = b.arm_window(&w, &lbs, &s, Mode::Apply).await.unwrap();
    all_ok(&armed);
    assert!(armed[4].as_ref().unwrap().changes.contains(&Change::Armed));
    for lb in &lbs {
        let status = b.status(lb).await.unwrap();
        let State::Armed(info) = &status.state else {
            panic!("{status:?}");
        };
        assert!(info.armed_since.is_some());
    }
    let writes = |counts: &BTreeMap<String, usize>| -> usize {
        counts
            .iter()
            .filter(|(op, _)| {
                [
                    "Create",
                    "Update",
                    "Delete",
                    "Associate",
                    "Disassociate",
                    "Put",
                    "Tag",
                ]
                .iter()
                .any(|w| op.starts_with(&format!("wafv2:{w}")))
            })
            .map(|(_, n)| n)
            .sum()
    };

    log.take();
    let entered = b.enter_window(&w, &lbs, &s, Mode::Apply).await.unwrap();
    all_ok(&entered);
    assert!(entered[0]
        .as_ref()
        .unwrap()
        .changes
        .contains(&Change::SwitchedOn));
    let counts = log.counts();
    assert_eq!(writes(&counts), 1, "{counts:?}");
    assert_eq!(counts.get("wafv2:UpdateWebACL"), Some(&1), "{counts:?}");
    let status = b.status(&lbs[2]).await.unwrap();
    let info = status.maintenance().expect("in maintenance");
    assert!(info.armed_since.is_some());

    // disarm while in maintenance is refused.
    for refused in b.disarm_window(&w, &lbs, Mode::Apply).await.unwrap() {
        let err = refused.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
        assert!(err.to_string().contains("maint exit"), "{err}");
    }

    log.take();
    let exited = b.exit_window(&w, &lbs, Mode::Apply).await.unwrap();
    all_ok(&exited);
    assert_eq!(exited[1].as_ref().unwrap().changes, [Change::SwitchedOff]);
    let counts = log.counts();
    assert_eq!(writes(&counts), 1, "{counts:?}");
    assert!(matches!(
        b.status(&lbs[3]).await.unwrap().state,
        State::Armed(_)
    ));

    let disarmed = b.disarm_window(&w, &lbs, Mode::Apply).await.unwrap();
    all_ok(&disarmed);
    assert!(disarmed[0]
        .as_ref()
        .unwrap()
        .changes
        .contains(&Change::Disarmed));
    for lb in &lbs {
        assert_eq!(b.status(lb).await.unwrap().state, State::Normal);
    }
    assert!(ip_sets_of(&w).await.is_empty());
}

/// Issue 19, item 7: a web ACL maint did not create, named like a window
/// (`maint-svc-...`) and carrying a record of an injected window (a copy of
/// a security ACL taken during a window), is foreign: `enter` without
/// consent refuses it and `exit` removes nothing from it.
#[tokio::test(flavor = "multi_thread")]
async fn a_copy_of_an_injected_window_in_an_acl_named_like_maints_is_never_trusted() {
    let (b, _faults, _log) = backend();
    let lb = alb("copied").await;
    let (name, id, _) = security_acl(&[&lb]).await;
    let w = window("copied");
    let lbs = [lb.clone()];
    all_ok(
        &b.enter_window(&w, &lbs, &spec(&["203.0.113.0/24"], true), Mode::Apply)
            .await
            .unwrap(),
    );
    // The security ACL as it is during the window, copied into a new web
    // ACL named like the window.
    let (during, _) = read_acl(&name, &id).await;
    let waf = seed::waf_client();
    let made = waf
        .create_web_acl()
        .name(w.name())
        .scope(Scope::Regional)
        .set_default_action(during.default_action().cloned())
        .set_rules(Some(during.rules().to_vec()))
        .set_custom_response_bodies(during.custom_response_bodies().cloned())
        .set_visibility_config(during.visibility_config().cloned())
        .send()
        .await
        .unwrap();
    let copy = made.summary().unwrap();
    let (copy_name, copy_id, copy_arn) = (
        copy.name().unwrap().to_string(),
        copy.id().unwrap().to_string(),
        copy.arn().unwrap().to_string(),
    );
    // The real window ends; the copy then guards the load balancer.
    all_ok(&b.exit_window(&w, &lbs, Mode::Apply).await.unwrap());
    waf.associate_web_acl()
        .web_acl_arn(&copy_arn)
        .resource_arn(lb.as_str())
        .send()
        .await
        .unwrap();
    let before = shape(&read_acl(&copy_name, &copy_id).await.0);
    // A later command (a new process: a fresh listing of the region).
    let (b, _faults, _log) = backend();

    let status = b.window_status(&w, &lbs).await.unwrap().remove(0).unwrap();
    assert!(matches!(status.state, State::Foreign { .. }), "{status:?}");
    let kinds = |results: maint_core::Result<Vec<maint_core::Result<_>>>| -> Vec<ErrorKind> {
        match results {
            Ok(each) => each
                .into_iter()
                .map(|r: maint_core::Result<maint_core::backend::Outcome>| {
                    r.expect_err("refused").kind()
                })
                .collect(),
            Err(e) => vec![e.kind()],
        }
    };
    let entered = b
        .enter_window(&w, &lbs, &spec(&["198.51.100.0/24"], false), Mode::Apply)
        .await;
    assert!(kinds(entered)
        .iter()
        .all(|k| matches!(k, ErrorKind::ForeignWebAcl | ErrorKind::Conflict)),);
    let exited = b.exit_window(&w, &lbs, Mode::Apply).await;
    assert!(kinds(exited)
        .iter()
        .all(|k| matches!(k, ErrorKind::ForeignWebAcl | ErrorKind::Conflict)),);
    assert_eq!(shape(&read_acl(&copy_name, &copy_id).await.0), before);
    assert!(ip_sets_of(&w).await.is_empty());
}

/// Issue 19, item 3: load balancers named together on the command line
/// that share a security team's web ACL are one window, injected with one
/// update, named after that web ACL; naming them again finds it; a partial
/// exit is refused with a message that says why; the ACL ends as it was.
#[tokio::test(flavor = "multi_thread")]
async fn load_balancers_named_together_under_one_security_acl_are_one_injected_window() {
    use maint_core::backend::shared_factory;
    use maint_core::fleet::{EnterRequest, Fleet, Silent};
    use std::sync::Arc;

    let (b, _faults, _log) = backend();
    let lbs = [alb("cli-a").await, alb("cli-b").await, alb("cli-c").await];
    let (name, id, _) = security_acl(&lbs.iter().collect::<Vec<_>>()).await;
    let original = shape(&read_acl(&name, &id).await.0);
    let fleet = Fleet::new(
        None,
        Some(maint_tests::moto::REGION.into()),
        shared_factory(Arc::new(b)),
    );
    let targets: Vec<String> = lbs.iter().map(ToString::to_string).collect();
    let request = EnterRequest {
        allowlist: Allowlist::parse(["203.0.113.0/24"]).unwrap(),
        inject: true,
        ..EnterRequest::default()
    };

    let run = fleet
        .enter(&targets, &request, Mode::Apply, &Silent)
        .await
        .unwrap();
    assert_eq!(run.summary.failed, 0, "{run:?}");
    let window = Window::of_host_acl(&name);
    assert!(window.name().starts_with("maint-acl-security-acl-"));
    assert!(
        run.results.iter().all(|r| r.details
            == [Change::RuleInjected {
                web_acl: name.clone()
            }]),
        "{:?}",
        run.results
    );
    // Each member, read on its own, is in that window.
    let status = fleet.status(&targets[..1], &Silent).await.unwrap();
    assert_eq!(status.targets[0].window.as_deref(), Some(window.name()));
    // Named together again: the same window, in place.
    let again = fleet
        .enter(&targets, &EnterRequest::default(), Mode::Apply, &Silent)
        .await
        .unwrap();
    assert_eq!(
        (again.summary.failed, again.summary.changed),
        (0, 0),
        "{again:?}"
    );
    // A partial exit is refused, saying why; nothing changes.
    let partial = fleet
        .exit(&targets[..2], Mode::Apply, &Silent)
        .await
        .unwrap();
    assert_eq!(partial.summary.failed, 2, "{partial:?}");
    let message = &partial.results[0].error.as_ref().unwrap().message;
    assert!(message.contains("exit them together"), "{message}");
    // One named alone: refused too, and the security team's web ACL stays
    // associated (its association is never maint's to remove).
    let alone = fleet
        .exit(&targets[..1], Mode::Apply, &Silent)
        .await
        .unwrap();
    assert_eq!(alone.summary.failed, 1, "{alone:?}");
    let still = seed::waf_client()
        .get_web_acl_for_resource()
        .resource_arn(lbs[0].as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(still.web_acl().map(|a| a.name()), Some(name.as_str()));
    let run = fleet.exit(&targets, Mode::Apply, &Silent).await.unwrap();
    assert_eq!(run.summary.failed, 0, "{run:?}");
    assert_eq!(shape(&read_acl(&name, &id).await.0), original);
    assert!(ip_sets_of(&window).await.is_empty());
}

/// A member of a service's window injected into its security web ACL,
/// named alone: `exit` refuses it and never disassociates the security
/// team's web ACL from it (the association is theirs, not maint's).
#[tokio::test(flavor = "multi_thread")]
async fn one_member_of_an_injected_service_window_named_alone_keeps_its_web_acl() {
    let (b, _faults, _log) = backend();
    let lbs = vec![alb("alone-a").await, alb("alone-b").await];
    let (name, _, _) = security_acl(&lbs.iter().collect::<Vec<_>>()).await;
    let w = window("alone");
    all_ok(
        &b.enter_window(&w, &lbs, &spec(&["203.0.113.0/24"], true), Mode::Apply)
            .await
            .unwrap(),
    );
    let alone = Window::of_load_balancer(&lbs[0]);
    let refused = b.exit_window(&alone, &lbs[..1], Mode::Apply).await.unwrap();
    let error = refused[0].as_ref().expect_err("refused");
    assert_eq!(error.kind(), ErrorKind::Conflict, "{error}");
    assert!(error.to_string().contains("exit them together"), "{error}");
    let still = seed::waf_client()
        .get_web_acl_for_resource()
        .resource_arn(lbs[0].as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(still.web_acl().map(|a| a.name()), Some(name.as_str()));
    all_ok(&b.exit_window(&w, &lbs, Mode::Apply).await.unwrap());
}

/// Issue 19, item 6, in a service's own web ACL: maint's rule set to Count
/// by hand is reported by `status`, put right by `enter` (without new
/// consent: the window is in place) and removed by `exit`, which leaves the
/// ACL exactly as it was.
#[tokio::test(flavor = "multi_thread")]
async fn maints_rule_set_to_count_in_a_security_acl_is_restored_by_enter_and_removed_by_exit() {
    let (b, _, _) = backend();
    let lbs = vec![alb("count-a").await];
    let (name, id, _) = security_acl(&lbs.iter().collect::<Vec<_>>()).await;
    let original = shape(&read_acl(&name, &id).await.0);
    let w = window("count");
    all_ok(
        &b.enter_window(&w, &lbs, &spec(&["203.0.113.0/24"], true), Mode::Apply)
            .await
            .unwrap(),
    );
    let count = |acl: &WebAcl| -> Vec<Rule> {
        acl.rules()
            .iter()
            .map(|r| {
                let mut r = r.clone();
                if r.name() == "maint-maintenance" {
                    r.action = Some(
                        aws_sdk_wafv2::types::RuleAction::builder()
                            .count(aws_sdk_wafv2::types::CountAction::builder().build())
                            .build(),
                    );
                }
                r
            })
            .collect()
    };
    let (acl, token) = read_acl(&name, &id).await;
    write_rules(&acl, &token, count(&acl)).await;
    let err = b.status(&lbs[0]).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("rule action was changed outside maint"),
        "{err}"
    );
    // enter without --inject: the window is in place, maint's rule comes back.
    let again = b
        .enter_window(&w, &lbs, &spec(&[], false), Mode::Apply)
        .await
        .unwrap();
    let changes = again[0].as_ref().unwrap().changes.clone();
    assert_eq!(
        changes.first(),
        Some(&Change::RuleRestored {
            what: "rule action".into()
        }),
        "{changes:?}"
    );
    let status = b.status(&lbs[0]).await.unwrap();
    let info = status.maintenance().expect("in maintenance again");
    assert_eq!(info.allowlist.entries.to_string(), "203.0.113.0/24\n");
    // Set to Count again; exit removes maint's part and nothing else.
    let (acl, token) = read_acl(&name, &id).await;
    write_rules(&acl, &token, count(&acl)).await;
    all_ok(&b.exit_window(&w, &lbs, Mode::Apply).await.unwrap());
    assert_eq!(shape(&read_acl(&name, &id).await.0), original);
}
