//! `maint exit --expired` and the overdue flag, with the real CLI against
//! moto. In a test binary of its own (its own moto): without targets it
//! covers every window of maint's in the region.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use chrono::{Duration, Utc};
use maint_core::backend::{MaintenanceSpec, Mode, Window};
use maint_core::{Allowlist, MaintenanceBackend, ResourceArn};
use maint_tests::cli::Workdir;
use maint_tests::{fast_settings, seed, waf_backend, OperationLog};

async fn alb(hint: &str) -> (String, ResourceArn) {
    let name = seed::unique_lb_name(hint);
    let arn = seed::create_load_balancer(&name, "application").await;
    (name, ResourceArn::parse(&arn).unwrap())
}

fn until(minutes: i64) -> MaintenanceSpec {
    MaintenanceSpec {
        allowlist: Allowlist::parse(["192.0.2.0/24"]).unwrap(),
        until: Some(Utc::now() + Duration::minutes(minutes)),
        ..MaintenanceSpec::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn exit_expired_ends_only_overdue_windows_quietly_and_idempotently() {
    let b = waf_backend(&OperationLog::new(), fast_settings());
    let (late, late_arn) = alb("expired-late").await;
    let (later, later_arn) = alb("expired-later").await;
    let (armed, armed_arn) = alb("expired-armed").await;
    let (svc_a, svc_a_arn) = alb("expired-svc").await;
    let (svc_b, svc_b_arn) = alb("expired-svc").await;
    // The core takes a planned end in the past (the CLI refuses one): a
    // window whose end passed while it was on.
    b.enter(&late_arn, &until(-5), Mode::Apply).await.unwrap();
    b.enter(&later_arn, &until(60), Mode::Apply).await.unwrap();
    let armed_window = Window::of_load_balancer(&armed_arn);
    let armed_lbs = [armed_arn.clone()];
    b.arm_window(&armed_window, &armed_lbs, &until(-5), Mode::Apply)
        .await
        .unwrap();
    let service = seed::unique_lb_name("svc");
    let window = Window::of_service(&service);
    let members = [svc_a_arn.clone(), svc_b_arn.clone()];
    for r in b
        .enter_window(&window, &members, &until(-1), Mode::Apply)
        .await
        .unwrap()
    {
        r.unwrap();
    }
    let w = Workdir::new();
    w.write(
        "maint.toml",
        &format!("[services.{service}]\nload_balancers = [\"{svc_a}\", \"{svc_b}\"]\n"),
    );

    let status = w.maint(&["--json", "status", &late, &later, &armed, &service]);
    let overdue: Vec<(String, bool)> = status.json()["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["target"].as_str().unwrap().to_string(),
                t["overdue"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        overdue,
        [
            (late.clone(), true),
            (later.clone(), false),
            (armed.clone(), false),
            (format!("{service}/{svc_a}"), true),
            (format!("{service}/{svc_b}"), true),
        ]
    );
    let table = w.maint(&["status", &late, &later]);
    assert!(
        table.stdout.contains("maintenance (overdue)"),
        "{}",
        table.stdout
    );
    assert!(table.stderr.contains("1 target overdue") || table.stdout.contains("1 target overdue"));

    // A dry run plans exactly the overdue, in every window of the region.
    let plan = w.maint(&["--json", "exit", "--expired", "--dry-run"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let mut planned: Vec<String> = plan.json()["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["load_balancer_arn"].as_str().unwrap().to_string())
        .collect();
    planned.sort();
    let mut want = vec![
        late_arn.to_string(),
        svc_a_arn.to_string(),
        svc_b_arn.to_string(),
    ];
    want.sort();
    assert_eq!(planned, want);

    // Named targets: only the overdue among them.
    let named = w.maint(&["--json", "exit", "--expired", &later, &late]);
    assert_eq!(named.code, 0, "{}", named.stderr);
    let results = named.json()["results"].as_array().unwrap().clone();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["target"], late.as_str());

    // From cron: ends the rest, then says nothing when there is nothing to do.
    let cron = w.maint(&["-q", "exit", "--expired"]);
    assert_eq!(cron.code, 0, "{}", cron.stderr);
    assert!(
        cron.stdout.contains("2 targets: 2 changed"),
        "{}",
        cron.stdout
    );
    let again = w.maint(&["-q", "exit", "--expired"]);
    assert_eq!(
        (again.code, again.stdout.as_str(), again.stderr.as_str()),
        (0, "", "")
    );

    let after = w.maint(&["--json", "status", &late, &later, &armed, &service]);
    let states: Vec<&str> = after.json()["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| match t["state"].as_str().unwrap() {
            "normal" => "normal",
            "maintenance" => "maintenance",
            "armed" => "armed",
            other => panic!("{other}"),
        })
        .collect();
    assert_eq!(
        states,
        ["normal", "maintenance", "armed", "normal", "normal"]
    );
    b.exit(&later_arn, Mode::Apply).await.unwrap();
    b.disarm_window(&armed_window, &armed_lbs, Mode::Apply)
        .await
        .unwrap();
}
