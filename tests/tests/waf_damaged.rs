//! Damaged windows (issue 19, items 5 and 6): maint's rule changed by hand
//! (set to Count in the console, removed) with the real CLI against moto.
//! A damaged window is reported by `status`, never stops `exit --expired`
//! from ending the others, is put right by `enter` and ended by `exit`. In
//! a test binary of its own (its own moto): `exit --expired` without
//! targets covers every window of maint's in the region.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use chrono::{Duration, Utc};
use maint_core::backend::{MaintenanceSpec, Mode};
use maint_core::{Allowlist, MaintenanceBackend, ResourceArn};
use maint_tests::cli::Workdir;
use maint_tests::moto::server;
use maint_tests::{fast_settings, seed, waf_backend, OperationLog};
use serde_json::{json, Value};

async fn alb(hint: &str) -> (String, ResourceArn) {
    let name = seed::unique_lb_name(hint);
    let arn = seed::create_load_balancer(&name, "application").await;
    (name, ResourceArn::parse(&arn).unwrap())
}

fn overdue() -> MaintenanceSpec {
    MaintenanceSpec {
        allowlist: Allowlist::parse(["192.0.2.0/24"]).unwrap(),
        until: Some(Utc::now() - Duration::minutes(5)),
        ..MaintenanceSpec::default()
    }
}

/// Edits the web ACL associated with `lb` as a person in the console
/// would: `edit` gets its rules; everything else is written back as read.
fn edit_by_hand(lb: &ResourceArn, edit: impl FnOnce(&mut [Value])) {
    let moto = server();
    let acl = moto.raw_waf_call(
        "GetWebACLForResource",
        &json!({ "ResourceArn": lb.as_str() }),
    )["WebACL"]
        .clone();
    let got = moto.raw_waf_call(
        "GetWebACL",
        &json!({ "Name": acl["Name"], "Id": acl["Id"], "Scope": "REGIONAL" }),
    );
    let acl = &got["WebACL"];
    let mut rules = acl["Rules"].as_array().cloned().unwrap_or_default();
    edit(&mut rules);
    let mut update = json!({
        "Name": acl["Name"],
        "Id": acl["Id"],
        "Scope": "REGIONAL",
        "DefaultAction": acl["DefaultAction"],
        "Rules": rules,
        "VisibilityConfig": acl["VisibilityConfig"],
        "LockToken": got["LockToken"],
    });
    if let Some(bodies) = acl.get("CustomResponseBodies") {
        update["CustomResponseBodies"] = bodies.clone();
    }
    moto.raw_waf_call("UpdateWebACL", &update);
}

/// maint's maintenance rule set to Count, as in the console.
fn set_maints_rule_to_count(rules: &mut [Value]) {
    for rule in rules.iter_mut() {
        if rule["Name"] == "maint-maintenance" {
            rule["Action"] = json!({ "Count": {} });
        }
    }
}

fn state_of(w: &Workdir, target: &str) -> (i32, Value) {
    let run = w.maint(&["--json", "status", target]);
    (run.code, run.json()["targets"][0].clone())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_damaged_window_is_reported_put_right_by_enter_ended_by_exit_and_never_stops_the_others()
{
    let b = waf_backend(&OperationLog::new(), fast_settings());
    let (whole, whole_arn) = alb("damaged-whole").await;
    let (damaged, damaged_arn) = alb("damaged-count").await;
    b.enter(&whole_arn, &overdue(), Mode::Apply).await.unwrap();
    b.enter(&damaged_arn, &overdue(), Mode::Apply)
        .await
        .unwrap();
    edit_by_hand(&damaged_arn, set_maints_rule_to_count);
    let w = Workdir::new();

    // status says what was changed and how to recover.
    let (_, status) = state_of(&w, &damaged);
    let message = status["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("rule action was changed outside maint")
            && message.contains("maint enter")
            && message.contains("maint exit"),
        "{status}"
    );

    // From cron: the whole overdue window is ended; the damaged one is
    // reported (exit 1), not a reason to leave the other in maintenance.
    let cron = w.maint(&["--json", "exit", "--expired"]);
    assert_eq!(cron.code, 1, "{}\n{}", cron.stdout, cron.stderr);
    let results = cron.json()["results"].as_array().unwrap().clone();
    let by_arn = |arn: &ResourceArn| {
        results
            .iter()
            .find(|r| r["load_balancer_arn"] == arn.as_str())
            .unwrap_or_else(|| panic!("no result for {arn}: {results:?}"))
            .clone()
    };
    assert_eq!(by_arn(&whole_arn)["changed"], true, "{results:?}");
    assert_eq!(by_arn(&damaged_arn)["result"], "error", "{results:?}");
    assert_eq!(state_of(&w, &whole).1["state"], "normal");

    // enter puts maint's rule back from the window's record.
    let enter = w.maint(&["enter", &damaged]);
    assert_eq!(enter.code, 0, "{}\n{}", enter.stdout, enter.stderr);
    assert!(
        enter.stdout.contains("restore maint's rule"),
        "{}",
        enter.stdout
    );
    let (code, status) = state_of(&w, &damaged);
    assert_eq!(
        (code, status["state"].as_str()),
        (0, Some("maintenance")),
        "{status}"
    );
    assert_eq!(status["allowlist"], json!(["192.0.2.0/24"]), "{status}");

    // maint's rule gone from maint's own web ACL (renamed: moto keeps the
    // old rules on an update with none): exit still ends the window and
    // leaves nothing behind.
    edit_by_hand(&damaged_arn, |rules| {
        for rule in rules.iter_mut() {
            if rule["Name"] == "maint-maintenance" {
                rule["Name"] = json!("renamed-by-hand");
            }
        }
    });
    let (_, status) = state_of(&w, &damaged);
    assert!(
        status["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("maintenance rule was changed outside maint"),
        "{status}"
    );
    let exit = w.maint(&["exit", &damaged]);
    assert_eq!(exit.code, 0, "{}\n{}", exit.stdout, exit.stderr);
    let (code, status) = state_of(&w, &damaged);
    assert_eq!(
        (code, status["state"].as_str()),
        (0, Some("normal")),
        "{status}"
    );
    assert_eq!(
        maint_tests::resources_in_moto(&damaged_arn).await,
        Vec::<String>::new()
    );
}
