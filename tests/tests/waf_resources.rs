//! Targets other than load balancers (issue 22): an API Gateway REST API
//! stage, by ARN, in one service with an ALB, through the `maint` binary
//! against moto (which records the association on the stage, as AWS's
//! `GetStage` shows it): enter, status, an allowlist edit and exit act on
//! both, and both end as they began; a service of APIs only answers in
//! JSON; an ARN of a resource AWS WAF does not protect is bad input (exit
//! 2, nothing made); a stage that does not exist (AWS's
//! `WAFNonexistentItemException` from `GetWebACLForResource`, which moto
//! never answers, injected on the wire) is named as not found.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use maint_core::{Error, LoadBalancerRef, MaintenanceBackend, ResourceArn, ResourceKind};
use maint_tests::cli::Workdir;
use maint_tests::faults::Faults;
use maint_tests::inspect::web_acl_of;
use maint_tests::{fast_settings, faulty_backend, seed, OperationLog};

/// Every regional web ACL in moto.
async fn web_acls() -> Vec<aws_sdk_wafv2::types::WebAclSummary> {
    let out = seed::waf_client()
        .list_web_acls()
        .scope(aws_sdk_wafv2::types::Scope::Regional)
        .limit(100)
        .send()
        .await
        .unwrap();
    out.web_acls().to_vec()
}

/// Every regional web ACL's name in moto.
async fn web_acl_names() -> Vec<String> {
    let acls = web_acls().await;
    acls.iter()
        .filter_map(|a| a.name().map(str::to_string))
        .collect()
}

/// The content type of the response body `maint-page` of web ACL `name`.
async fn page_type(name: &str) -> String {
    let acls = web_acls().await;
    let summary = acls
        .iter()
        .find(|a| a.name() == Some(name))
        .unwrap_or_else(|| panic!("no web ACL {name}"));
    let (acl, _) = seed::read_acl(name, summary.id().unwrap()).await;
    let bodies = acl.custom_response_bodies().expect("maint's page");
    let page = bodies.get("maint-page").expect("maint-page");
    page.content_type().as_str().to_string()
}

fn targets(run: &maint_tests::cli::Run) -> Vec<serde_json::Value> {
    run.json()["targets"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_api_stage_and_an_alb_in_one_service_enter_edit_and_exit_together() {
    let alb_name = seed::unique_lb_name("shop-web");
    let alb =
        ResourceArn::parse(&seed::create_load_balancer(&alb_name, "application").await).unwrap();
    let stage = seed::api_stage("shop-api").await;
    assert_eq!(stage.kind(), ResourceKind::ApiGatewayStage);
    let api_only = seed::api_stage("orders-api").await;
    let w = Workdir::new();
    let config = format!(
        "[services.shop]\nload_balancers = [\"{alb_name}\", \"{stage}\"]\n\n\
         [services.orders]\nresources = [\"{api_only}\"]\n"
    );
    w.write("maint.toml", &config);

    let entered = w.maint(&[
        "--json",
        "enter",
        "shop",
        "--allow",
        "203.0.113.0/24",
        "--reason",
        "db upgrade",
    ]);
    assert_eq!(entered.code, 0, "{}\n{}", entered.stdout, entered.stderr);
    assert_eq!(web_acl_of(&alb).await.as_deref(), Some("maint-svc-shop"));
    assert_eq!(web_acl_of(&stage).await.as_deref(), Some("maint-svc-shop"));
    // API Gateway records the association on the stage too.
    let recorded = seed::stage_web_acl(&stage)
        .await
        .expect("the stage's web ACL");
    assert!(recorded.contains("/maint-svc-shop/"), "{recorded}");
    // A window with a load balancer in it keeps maint's HTML page.
    assert_eq!(page_type("maint-svc-shop").await, "TEXT_HTML");

    let status = w.maint(&["--json", "status", "shop"]);
    assert_eq!(status.code, 0, "{}\n{}", status.stdout, status.stderr);
    let shown = targets(&status);
    assert_eq!(shown.len(), 2, "{shown:?}");
    for t in &shown {
        assert_eq!(t["state"], "maintenance", "{t}");
        assert_eq!(t["allowlist"], serde_json::json!(["203.0.113.0/24"]), "{t}");
    }
    assert!(
        shown
            .iter()
            .any(|t| t["load_balancer_arn"] == stage.as_str()
                && t["resource_kind"] == "api_gateway_stage"),
        "{shown:?}"
    );
    assert!(
        shown.iter().any(
            |t| t["load_balancer_arn"] == alb.as_str() && t["resource_kind"] == "load_balancer"
        ),
        "{shown:?}"
    );

    w.add_to_allowlist_of_every_target(
        "shop",
        "198.51.100.7",
        &["198.51.100.7/32", "203.0.113.0/24"],
    );

    // A service of APIs only answers API clients: JSON by default.
    let orders = w.maint(&["enter", "orders"]);
    assert_eq!(orders.code, 0, "{}\n{}", orders.stdout, orders.stderr);
    assert_eq!(page_type("maint-svc-orders").await, "APPLICATION_JSON");
    assert_eq!(w.maint(&["exit", "orders"]).code, 0);

    let exited = w.maint(&["exit", "shop"]);
    assert_eq!(exited.code, 0, "{}\n{}", exited.stdout, exited.stderr);
    assert_eq!(web_acl_of(&alb).await, None);
    assert_eq!(web_acl_of(&stage).await, None);
    assert_eq!(seed::stage_web_acl(&stage).await, None);
    assert_eq!(web_acl_of(&api_only).await, None);
    let left: Vec<String> = web_acl_names()
        .await
        .into_iter()
        .filter(|n| n == "maint-svc-shop" || n == "maint-svc-orders")
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_resource_aws_waf_does_not_protect_is_bad_input_and_nothing_is_made() {
    let w = Workdir::new();
    let alb_name = seed::unique_lb_name("with-bucket");
    seed::create_load_balancer(&alb_name, "application").await;
    let before = web_acl_names().await;
    for (bad, why) in [
        (
            "arn:aws:s3:::release-artifacts",
            "service \"s3\" is not one whose resources AWS WAF protects",
        ),
        (
            "arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5",
            "a REST API, not one of its stages",
        ),
    ] {
        let run = w.maint(&["enter", &alb_name, bad]);
        assert_eq!(run.code, 2, "{bad}: {}\n{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(bad), "{bad}: {}", run.stderr);
        assert!(run.stderr.contains(why), "{bad}: {}", run.stderr);
    }
    assert_eq!(web_acl_names().await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stage_that_does_not_exist_is_not_found_by_its_kind() {
    let (faults, log) = (Faults::new(), OperationLog::new());
    let b = faulty_backend(&faults, &log, fast_settings());
    let gone = ResourceArn::parse("arn:aws:apigateway:us-east-1::/restapis/zzzzzzzzzz/stages/prod")
        .unwrap();
    let real = seed::api_stage("real-api").await;
    // AWS's answer for a resource that does not exist (moto says "no web
    // ACL" instead).
    faults.inject("GetWebACLForResource", "WAFNonexistentItemException", 1);
    let found = b
        .resolve(&[LoadBalancerRef::Arn(gone.clone())])
        .await
        .unwrap();
    match &found[0] {
        Err(e @ Error::TargetNotFound { .. }) => assert_eq!(
            e.to_string(),
            format!("API Gateway REST API stage not found: {gone}")
        ),
        other => panic!("{other:?}"),
    }
    let found = b
        .resolve(&[LoadBalancerRef::Arn(real.clone())])
        .await
        .unwrap();
    assert_eq!(found[0].as_ref().unwrap(), &real);
    // Neither looked up through ELB: a stage is no load balancer.
    assert_eq!(
        log.counts()
            .get("elasticloadbalancing:DescribeLoadBalancers")
            .copied()
            .unwrap_or(0),
        0
    );
}
