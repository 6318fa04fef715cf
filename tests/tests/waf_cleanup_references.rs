//! `cleanup` and IP sets another web ACL references, against moto (which,
//! unlike AWS, deletes a referenced set). In a test binary of its own, with
//! one test: cleanup is region-wide.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::time::Duration;

use aws_sdk_wafv2::types::{IpAddressVersion, Scope, Tag};
use maint_core::backend::waf::WafSettings;
use maint_core::backend::Mode;
use maint_core::MaintenanceBackend;
use maint_tests::cli::Workdir;
use maint_tests::faults::Faults;
use maint_tests::{fast_settings, faulty_backend, seed, server, OperationLog};
use serde_json::json;

/// A maint-tagged IP set of window `window`, as an `enter` of an hour ago
/// that died before making its web ACL left it; returns its ARN.
async fn leftover_ip_set(window: &str) -> String {
    let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build().unwrap();
    let created = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    seed::waf_client()
        .create_ip_set()
        .name(format!("{window}-ipv4"))
        .scope(Scope::Regional)
        .ip_address_version(IpAddressVersion::Ipv4)
        .addresses("192.0.2.0/24")
        .tags(tag("maint:managed-by", "maint"))
        .tags(tag("maint:window", window))
        .tags(tag("maint:created", &created))
        .send()
        .await
        .unwrap()
        .summary()
        .and_then(|s| s.arn())
        .unwrap()
        .to_string()
}

/// A web ACL of another team whose rule references `set` deep inside
/// (`OR(NOT(IP set), ...)`); returns its name.
fn foreign_acl_referencing(set: &str) -> String {
    let name = format!("security-{}", seed::unique_lb_name("refs"));
    let metrics_off = |metric: &str| {
        json!({"SampledRequestsEnabled": false, "CloudWatchMetricsEnabled": false,
               "MetricName": metric})
    };
    let not_in_set = json!({"NotStatement": {"Statement":
        {"IPSetReferenceStatement": {"ARN": set}}}});
    server().raw_waf_call(
        "CreateWebACL",
        &json!({
            "Name": name, "Scope": "REGIONAL", "DefaultAction": {"Allow": {}},
            "VisibilityConfig": metrics_off(&name),
            "Rules": [{
                "Name": "office-only", "Priority": 0, "Action": {"Block": {}},
                "Statement": {"OrStatement": {"Statements": [not_in_set, not_in_set]}},
                "VisibilityConfig": metrics_off("office-only"),
            }],
        }),
    );
    name
}

fn ip_set_exists(arn: &str) -> bool {
    let sets = server().raw_waf_call("ListIPSets", &json!({"Scope": "REGIONAL", "Limit": 100}));
    sets["IPSets"]
        .as_array()
        .is_some_and(|all| all.iter().any(|s| s["ARN"] == arn))
}

#[tokio::test(flavor = "multi_thread")]
async fn cleanup_keeps_an_ip_set_another_web_acl_references_and_says_why() {
    let (faults, log) = (Faults::new(), OperationLog::new());
    let b = faulty_backend(
        &faults,
        &log,
        WafSettings {
            cleanup_grace: Duration::ZERO,
            ..fast_settings()
        },
    );
    let referenced = leftover_ip_set("maint-referenced-0123456789abcdef").await;
    let theirs = foreign_acl_referencing(&referenced);
    let unreferenced = leftover_ip_set("maint-unreferenced-0123456789abcdef").await;
    let why = format!("referenced by web ACL {theirs}");

    // The dry run and the run say the same: kept, and why.
    for mode in [Mode::DryRun, Mode::Apply] {
        let found = b.cleanup(mode).await.unwrap();
        let kept = found.iter().find(|l| l.arn == referenced).expect("listed");
        assert_eq!(kept.kept.as_deref(), Some(why.as_str()), "{mode:?}");
        let gone = found
            .iter()
            .find(|l| l.arn == unreferenced)
            .expect("listed");
        assert_eq!(gone.kept, None, "{mode:?}: no web ACL references it");
    }
    assert!(ip_set_exists(&referenced), "kept");
    assert!(!ip_set_exists(&unreferenced), "deleted");
    assert_eq!(log.counts().get("wafv2:DeleteIPSet"), Some(&1));

    // The CLI says it in words and in JSON (its grace period is past: the
    // set was made an hour ago).
    let w = Workdir::new();
    for args in [&["cleanup", "--dry-run"][..], &["cleanup"]] {
        let run = w.maint(args);
        assert_eq!(run.code, 0, "{run:?}");
        let line = format!("kept ip-set maint-referenced-0123456789abcdef-ipv4: {why}");
        assert!(run.stdout.contains(&line), "{run:?}");
    }
    let json = w.maint(&["--json", "cleanup", "--dry-run"]).json();
    let kept = &json["kept"][0];
    assert_eq!(kept["arn"], referenced.as_str(), "{json}");
    assert_eq!(kept["kept"], why.as_str(), "{json}");
    assert!(
        !json["resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["arn"] == referenced.as_str()),
        "not among what cleanup deletes: {json}"
    );
    assert!(ip_set_exists(&referenced));

    // A reference maint cannot see (a rule group's): AWS refuses the delete
    // with WAFAssociatedItemException. Waiting does not help: kept at once,
    // saying why, not retried for the delete deadline.
    let hidden = leftover_ip_set("maint-hidden-0123456789abcdef").await;
    faults.always("DeleteIPSet", "WAFAssociatedItemException");
    let found = b.cleanup(Mode::Apply).await.unwrap();
    let kept = found.iter().find(|l| l.arn == hidden).expect("listed");
    let said = kept.kept.as_deref().unwrap_or_default();
    assert!(said.contains("WAFAssociatedItemException"), "{said}");
    assert_eq!(faults.served("DeleteIPSet"), 1, "one attempt");
    faults.clear();
    assert!(ip_set_exists(&hidden));
}
