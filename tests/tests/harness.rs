//! The harness itself, independent of the backend under test: moto starts,
//! seeding makes ALBs, NLBs and foreign web ACLs, the operation log records
//! SDK calls once each.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use aws_sdk_elasticloadbalancingv2::types::LoadBalancerTypeEnum;
use aws_sdk_wafv2::types::{ResourceType, Scope};
use maint_core::ResourceArn;
use maint_tests::faults::{self, Faults};
use maint_tests::{seed, server, OperationLog};

#[tokio::test(flavor = "multi_thread")]
async fn harness_seeds_albs_and_foreign_acls() {
    let alb_name = seed::unique_lb_name("harness-alb");
    let nlb_name = seed::unique_lb_name("harness-nlb");
    let alb_arn = seed::create_load_balancer(&alb_name, "application").await;
    let nlb_arn = seed::create_load_balancer(&nlb_name, "network").await;
    ResourceArn::parse(&alb_arn).expect("moto's ALB ARN is a valid ALB ARN");

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

/// A WAF client on moto whose calls go through `faults`.
fn waf_through(faults: &Faults) -> aws_sdk_wafv2::Client {
    aws_sdk_wafv2::Client::from_conf(
        aws_sdk_wafv2::config::Builder::from(&server().sdk_config())
            .http_client(faults.http_client())
            .build(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn security_acl_is_seeded_shared_and_priced() {
    let a = seed::create_load_balancer(&seed::unique_lb_name("harness-sec"), "application").await;
    let b = seed::create_load_balancer(&seed::unique_lb_name("harness-sec"), "application").await;
    let acl = seed::security_web_acl(&[a.as_str(), b.as_str()]).await;
    assert!(
        acl.shield_rule_name.starts_with(&format!(
            "ShieldMitigationRuleGroup_{}_{}_",
            maint_tests::moto::ACCOUNT_ID,
            acl.id
        )),
        "{acl:?}"
    );

    let faults = Faults::new();
    faults.answer_list_resources_for_web_acl();
    faults.answer_check_capacity();
    let waf = waf_through(&faults);
    let got = waf
        .get_web_acl_for_resource()
        .resource_arn(&b)
        .send()
        .await
        .expect("GetWebACLForResource");
    let web_acl = got.web_acl().expect("the security ACL is associated");
    assert_eq!(web_acl.arn(), acl.arn);
    let rules: Vec<(i32, &str)> = web_acl
        .rules()
        .iter()
        .map(|r| (r.priority(), r.name()))
        .collect();
    let names: Vec<&str> = acl.rule_names.iter().map(String::as_str).collect();
    assert_eq!(
        rules,
        [0, 1, 2, 3, 10_000_000]
            .into_iter()
            .zip(names)
            .collect::<Vec<_>>()
    );
    let bodies = web_acl
        .custom_response_bodies()
        .expect("custom response bodies");
    assert_eq!(
        bodies
            .keys()
            .map(String::as_str)
            .collect::<std::collections::BTreeSet<_>>(),
        seed::SECURITY_ACL_BODIES.into_iter().collect()
    );
    assert!(web_acl.description().is_some_and(|d| !d.is_empty()));

    // ListResourcesForWebACL of a foreign ACL shared by two ALBs: both.
    let listed = waf
        .list_resources_for_web_acl()
        .web_acl_arn(&acl.arn)
        .resource_type(ResourceType::ApplicationLoadBalancer)
        .send()
        .await
        .expect("ListResourcesForWebACL, answered by the fault layer");
    let mut listed = listed.resource_arns().to_vec();
    listed.sort();
    let mut both = vec![a.clone(), b.clone()];
    both.sort();
    assert_eq!(listed, both);

    // CheckCapacity: the estimate, a fixed answer, and a fault over both.
    let check = || {
        waf.check_capacity()
            .scope(Scope::Regional)
            .set_rules(Some(web_acl.rules().to_vec()))
            .send()
    };
    let estimate = check().await.expect("CheckCapacity, estimated").capacity();
    assert_eq!(u64::try_from(estimate).ok(), Some(acl.wcu));
    assert_eq!(acl.wcu, 804);
    faults.answer_check_capacity_with(faults::MAX_WEB_ACL_WCU + 1);
    assert_eq!(
        check().await.expect("CheckCapacity, fixed").capacity(),
        5001
    );
    faults.inject("CheckCapacity", "WAFInvalidParameterException", 1);
    let err = check().await.expect_err("the injected fault wins");
    assert_eq!(
        aws_sdk_wafv2::error::ProvideErrorMetadata::code(&err),
        Some("WAFInvalidParameterException")
    );
    assert_eq!(faults.answered("CheckCapacity"), 2);
    assert_eq!(faults.answered("ListResourcesForWebACL"), 1);
    assert_eq!(faults.served("CheckCapacity"), 1);
}

#[test]
fn wcu_estimates_follow_aws_pricing() {
    use serde_json::json;
    let rules = json!([
        {"Statement": {"IPSetReferenceStatement": {"ARN": "x"}}},
        {"Statement": {"IPSetReferenceStatement": {"ARN": "x",
            "IPSetForwardedIPConfig": {"HeaderName": "X-Forwarded-For", "Position": "ANY", "FallbackBehavior": "MATCH"}}}},
        {"Statement": {"NotStatement": {"Statement": {"SizeConstraintStatement": {}}}}},
        {"Statement": {"AndStatement": {"Statements": [
            {"ByteMatchStatement": {}}, {"IPSetReferenceStatement": {"ARN": "x"}}]}}},
        {"Statement": {"RateBasedStatement": {"Limit": 100,
            "ScopeDownStatement": {"ByteMatchStatement": {}}}}},
        {"Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": "AWSManagedRulesCommonRuleSet"}}},
        {"Statement": {"ManagedRuleGroupStatement": {"VendorName": "Other", "Name": "Something"}}},
        {"Statement": {"RuleGroupReferenceStatement": {"ARN": "x"}}}
    ]);
    // 1 + 5 + 1 + (2 + 1) + (2 + 2) + 700 + 25 + 100
    assert_eq!(faults::estimate_wcu(&rules), 839);
}
