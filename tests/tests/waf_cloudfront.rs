//! CloudFront distributions as targets (issue 22), against moto: a service
//! of an ALB, an API Gateway stage and a distribution (named by its
//! alternate domain name) enters, shows, edits its allowlist and exits
//! through the `maint` binary, as two windows of one name, one per scope
//! (REGIONAL for the ALB and the stage, CLOUDFRONT in us-east-1 for the
//! distribution); everything ends as it began, the distribution's other
//! settings included. A distribution changed by another writer between
//! maint's read and its write (CloudFront's `PreconditionFailed`, which
//! moto never answers: it ignores `IfMatch`, so the answer is injected on
//! the wire) is read again and written on the new config, so the other
//! writer's change survives. Bad targets (an S3 bucket, a distribution ID or
//! ARN that does not exist, a domain name no distribution serves) are bad
//! input: exit 2, nothing made in either scope.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use aws_sdk_wafv2::types::Scope;
use maint_core::backend::{MaintenanceSpec, Mode};
use maint_core::ResourceKind;
use maint_tests::cli::Workdir;
use maint_tests::faults::Faults;
use maint_tests::inspect::web_acl_of;
use maint_tests::{cloudfront_backend, seed};

/// The names of every web ACL of `scope` in moto (CLOUDFRONT ones live in
/// us-east-1, the region of the test client).
async fn web_acl_names(scope: Scope) -> Vec<String> {
    let out = seed::waf_client()
        .list_web_acls()
        .scope(scope)
        .limit(100)
        .send()
        .await
        .unwrap();
    out.web_acls()
        .iter()
        .filter_map(|a| a.name().map(str::to_string))
        .collect()
}

fn targets(run: &maint_tests::cli::Run) -> Vec<serde_json::Value> {
    run.json()["targets"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_alb_a_stage_and_a_distribution_in_one_service_enter_edit_and_exit_together() {
    let alb_name = seed::unique_lb_name("edge-web");
    let alb =
        maint_core::ResourceArn::parse(&seed::create_load_balancer(&alb_name, "application").await)
            .unwrap();
    let stage = seed::api_stage("edge-api").await;
    let cdn = seed::distribution("edge-www").await;
    let (acl_before, comment_before) = seed::distribution_info(&cdn.id).await;
    assert_eq!(acl_before, None);
    let w = Workdir::new();
    w.write(
        "maint.toml",
        &format!(
            "[services.edge]\nload_balancers = [\"{alb_name}\"]\n\
             resources = [\"{stage}\", \"{}\"]\n",
            cdn.alias
        ),
    );

    let entered = w.maint(&[
        "--json",
        "enter",
        "edge",
        "--allow",
        "203.0.113.0/24",
        "--reason",
        "cdn cut-over",
    ]);
    assert_eq!(entered.code, 0, "{}\n{}", entered.stdout, entered.stderr);
    // The regional window on the ALB and the stage...
    assert_eq!(web_acl_of(&alb).await.as_deref(), Some("maint-svc-edge"));
    assert_eq!(web_acl_of(&stage).await.as_deref(), Some("maint-svc-edge"));
    // ...and a window of scope CLOUDFRONT set in the distribution's config.
    let (acl, comment) = seed::distribution_info(&cdn.id).await;
    let acl = acl.expect("the distribution's web ACL");
    assert!(
        acl.contains(":global/webacl/maint-svc-edge/"),
        "a CLOUDFRONT web ACL: {acl}"
    );
    assert_eq!(comment, comment_before, "only WebACLId is changed");
    assert!(web_acl_names(Scope::Cloudfront)
        .await
        .contains(&"maint-svc-edge".to_string()));

    let status = w.maint(&["--json", "status", "edge"]);
    assert_eq!(status.code, 0, "{}\n{}", status.stdout, status.stderr);
    let shown = targets(&status);
    assert_eq!(shown.len(), 3, "{shown:?}");
    for t in &shown {
        assert_eq!(t["state"], "maintenance", "{t}");
        assert_eq!(t["reason"], "cdn cut-over", "{t}");
        assert_eq!(t["allowlist"], serde_json::json!(["203.0.113.0/24"]), "{t}");
    }
    let edge = shown
        .iter()
        .find(|t| t["resource_kind"] == "cloudfront_distribution")
        .unwrap_or_else(|| panic!("no distribution in {shown:?}"));
    assert_eq!(edge["load_balancer_arn"], cdn.arn.as_str());
    assert!(
        edge["deployment"] == "Deployed" || edge["deployment"] == "InProgress",
        "{edge}"
    );
    assert!(shown
        .iter()
        .filter(|t| t["resource_kind"] != "cloudfront_distribution")
        .all(|t| t["deployment"].is_null()));
    // The human view says where the distribution's change stands.
    let human = w.maint(&["status", "edge"]);
    assert!(human.stdout.contains("distribution"), "{}", human.stdout);

    w.add_to_allowlist_of_every_target(
        "edge",
        "198.51.100.7",
        &["198.51.100.7/32", "203.0.113.0/24"],
    );

    let exited = w.maint(&["exit", "edge"]);
    assert_eq!(exited.code, 0, "{}\n{}", exited.stdout, exited.stderr);
    assert_eq!(web_acl_of(&alb).await, None);
    assert_eq!(web_acl_of(&stage).await, None);
    assert_eq!(
        seed::distribution_info(&cdn.id).await,
        (None, comment_before),
        "the distribution ends as it began"
    );
    for scope in [Scope::Regional, Scope::Cloudfront] {
        let names = web_acl_names(scope.clone()).await;
        assert!(
            !names.contains(&"maint-svc-edge".to_string()),
            "{scope:?}: {names:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_distribution_another_writer_changed_meanwhile_is_read_again_and_their_change_kept() {
    let cdn = seed::distribution("edge-race").await;
    let faults = Faults::new();
    let edge = cloudfront_backend(&faults).await;
    let found = edge
        .resolve(&[maint_core::LoadBalancerRef::parse(cdn.arn.as_str()).unwrap()])
        .await
        .unwrap();
    let arn = found[0].as_ref().unwrap().clone();
    assert_eq!(arn, cdn.arn);
    assert_eq!(arn.kind(), ResourceKind::CloudFrontDistribution);

    // Between maint's read of the config and its write, another writer
    // changes the distribution: CloudFront refuses maint's write (its ETag
    // is stale) with PreconditionFailed.
    let id = cdn.id.clone();
    faults.inject_cloudfront("UpdateDistribution", "PreconditionFailed", 412, 1);
    faults.during_fault("UpdateDistribution", move || {
        seed::set_distribution_comment_now(&id, "changed by another writer");
    });
    let outcome = edge
        .enter(&arn, &MaintenanceSpec::default(), Mode::Apply)
        .await
        .unwrap();
    assert!(outcome.changed(), "{outcome:?}");
    assert_eq!(
        faults.served("UpdateDistribution"),
        1,
        "the fault was answered"
    );
    let (acl, comment) = seed::distribution_info(&cdn.id).await;
    assert!(
        acl.as_deref()
            .is_some_and(|a| a.contains(":global/webacl/maint-")),
        "{acl:?}"
    );
    assert_eq!(
        comment, "changed by another writer",
        "their change survives"
    );

    // The same on the way out: the other writer's second change survives
    // the write that clears maint's web ACL.
    let id = cdn.id.clone();
    faults.inject_cloudfront("UpdateDistribution", "PreconditionFailed", 412, 1);
    faults.during_fault("UpdateDistribution", move || {
        seed::set_distribution_comment_now(&id, "changed again");
    });
    edge.exit(&arn, Mode::Apply).await.unwrap();
    assert_eq!(
        seed::distribution_info(&cdn.id).await,
        (None, "changed again".to_string())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_cloudfront_targets_are_bad_input_and_nothing_is_made() {
    let w = Workdir::new();
    let real = seed::distribution("edge-real").await;
    let before = (
        web_acl_names(Scope::Regional).await,
        web_acl_names(Scope::Cloudfront).await,
    );
    let missing_arn = "arn:aws:cloudfront::123456789012:distribution/EZZZZZZZZZZZ9";
    for (bad, why) in [
        (
            "arn:aws:s3:::release-artifacts",
            "service \"s3\" is not one whose resources AWS WAF protects",
        ),
        (
            "EZZZZZZZZZZZ1",
            "CloudFront distribution not found: EZZZZZZZZZZZ1",
        ),
        (
            "nobody-serves-this.example.net",
            "CloudFront distribution not found: nobody-serves-this.example.net",
        ),
        (missing_arn, "CloudFront distribution not found"),
    ] {
        // Named with a real distribution: all or nothing, so it is not
        // touched either.
        let run = w.maint(&["enter", &real.alias, bad]);
        assert_eq!(run.code, 2, "{bad}: {}\n{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(why), "{bad}: {}", run.stderr);
    }
    assert_eq!(seed::distribution_info(&real.id).await.0, None);
    let after = (
        web_acl_names(Scope::Regional).await,
        web_acl_names(Scope::Cloudfront).await,
    );
    assert_eq!(after, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn inject_into_a_distributions_own_web_acl_keeps_its_rules_and_association() {
    let cdn = seed::distribution("edge-team").await;
    let team = format!("team-{}", cdn.id.to_lowercase());
    let team_arn = seed::protect_distribution(&cdn.id, &team).await;
    let w = Workdir::new();
    // By ARN: moto's distribution IDs do not always have AWS's shape.
    let target = cdn.arn.to_string();

    // Without consent, the team's web ACL is never replaced.
    let refused = w.maint(&["enter", &target]);
    assert_eq!(refused.code, 1, "{}\n{}", refused.stdout, refused.stderr);
    assert!(refused.stdout.contains(&team), "{}", refused.stdout);
    assert_eq!(
        seed::distribution_info(&cdn.id).await.0.as_deref(),
        Some(team_arn.as_str())
    );

    let entered = w.maint(&["enter", &target, "--inject"]);
    assert_eq!(entered.code, 0, "{}\n{}", entered.stdout, entered.stderr);
    let status = w.maint(&["--json", "status", &target]);
    let t = &targets(&status)[0];
    assert_eq!(t["state"], "maintenance", "{t}");
    assert_eq!(t["injected"], true, "{t}");
    assert_eq!(
        seed::distribution_info(&cdn.id).await.0.as_deref(),
        Some(team_arn.as_str())
    );

    let exited = w.maint(&["exit", &target]);
    assert_eq!(exited.code, 0, "{}\n{}", exited.stdout, exited.stderr);
    // Still the team's web ACL, with exactly its own rule.
    assert_eq!(
        seed::distribution_info(&cdn.id).await.0.as_deref(),
        Some(team_arn.as_str())
    );
    let id = team_arn.rsplit('/').next().unwrap();
    let acl = seed::waf_client()
        .get_web_acl()
        .name(&team)
        .scope(Scope::Cloudfront)
        .id(id)
        .send()
        .await
        .unwrap();
    let rules: Vec<&str> = acl
        .web_acl()
        .unwrap()
        .rules()
        .iter()
        .map(|r| r.name())
        .collect();
    assert_eq!(rules, ["team-rule"]);
}
