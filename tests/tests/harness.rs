//! The harness itself, independent of the backend under test: moto starts,
//! seeding makes ALBs, NLBs and foreign web ACLs, the operation log records
//! SDK calls once each.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use aws_sdk_elasticloadbalancingv2::types::LoadBalancerTypeEnum;
use aws_sdk_wafv2::types::Scope;
use maint_core::LoadBalancerArn;
use maint_tests::{seed, server, OperationLog};

#[tokio::test(flavor = "multi_thread")]
async fn harness_seeds_albs_and_foreign_acls() {
    let alb_name = seed::unique_lb_name("harness-alb");
    let nlb_name = seed::unique_lb_name("harness-nlb");
    let alb_arn = seed::create_load_balancer(&alb_name, "application").await;
    let nlb_arn = seed::create_load_balancer(&nlb_name, "network").await;
    LoadBalancerArn::parse(&alb_arn).expect("moto's ALB ARN is a valid ALB ARN");

    let elb = seed::elb_client();
    let described = elb
        .describe_load_balancers()
        .names(&alb_name)
        .names(&nlb_name)
        .send()
        .await
        .expect("DescribeLoadBalancers");
    let types: Vec<_> = described
        .load_balancers()
        .iter()
        .map(|lb| {
            (
                lb.load_balancer_name().unwrap().to_string(),
                lb.load_balancer_arn().unwrap().to_string(),
                lb.r#type().cloned(),
            )
        })
        .collect();
    assert!(types.contains(&(
        alb_name.clone(),
        alb_arn.clone(),
        Some(LoadBalancerTypeEnum::Application)
    )));
    assert!(types.contains(&(
        nlb_name.clone(),
        nlb_arn.clone(),
        Some(LoadBalancerTypeEnum::Network)
    )));

    let waf = seed::waf_client();
    let none = waf
        .get_web_acl_for_resource()
        .resource_arn(&alb_arn)
        .send()
        .await
        .expect("GetWebACLForResource");
    assert!(none.web_acl().is_none(), "a new ALB has no web ACL");

    let acl_arn = seed::foreign_web_acl(&alb_arn).await;
    assert!(
        acl_arn.contains(":regional/webacl/security-team-acl-"),
        "{acl_arn}"
    );
    let got = waf
        .get_web_acl_for_resource()
        .resource_arn(&alb_arn)
        .send()
        .await
        .expect("GetWebACLForResource");
    assert_eq!(got.web_acl().map(|a| a.arn()), Some(acl_arn.as_str()));

    let listed = waf
        .list_web_acls()
        .scope(Scope::Regional)
        .send()
        .await
        .expect("ListWebACLs");
    assert!(listed
        .web_acls()
        .iter()
        .any(|s| s.arn() == Some(acl_arn.as_str())));
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_load_balancer_is_load_balancer_not_found() {
    let err = seed::elb_client()
        .describe_load_balancers()
        .names("no-such-lb-anywhere")
        .send()
        .await
        .expect_err("unknown name");
    let code = aws_sdk_elasticloadbalancingv2::error::ProvideErrorMetadata::code(&err);
    assert_eq!(code, Some("LoadBalancerNotFound"), "{err:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn operation_log_records_each_operation_once() {
    let log = OperationLog::new();
    let config = server().sdk_config();
    let waf = aws_sdk_wafv2::Client::from_conf(
        aws_sdk_wafv2::config::Builder::from(&config)
            .interceptor(log.clone())
            .build(),
    );
    let elb = aws_sdk_elasticloadbalancingv2::Client::from_conf(
        aws_sdk_elasticloadbalancingv2::config::Builder::from(&config)
            .interceptor(log.clone())
            .build(),
    );
    waf.list_ip_sets()
        .scope(Scope::Regional)
        .send()
        .await
        .expect("ListIPSets");
    elb.describe_load_balancers()
        .send()
        .await
        .expect("DescribeLoadBalancers");
    // A failing call is recorded too (once).
    let _ = elb
        .describe_load_balancers()
        .names("no-such-lb-anywhere")
        .send()
        .await;
    // Seeding goes through other clients and is not recorded.
    seed::create_load_balancer(&seed::unique_lb_name("oplog"), "application").await;
    assert_eq!(
        log.take(),
        [
            "wafv2:ListIPSets",
            "elasticloadbalancing:DescribeLoadBalancers",
            "elasticloadbalancing:DescribeLoadBalancers"
        ]
    );
    assert!(log.counts().is_empty());
}

#[test]
fn the_moto_endpoint_is_on_loopback() {
    let endpoint = server().endpoint();
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");
}
