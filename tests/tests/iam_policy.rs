//! `examples/iam-policy.json` allows every AWS action the WAF backend uses.
//!
//! Runs the conformance suite with the backend's SDK calls recorded, then
//! checks each recorded operation, and the extra permissions AWS requires for
//! it, against the policy. Seeding (CreateLoadBalancer, the foreign web ACLs)
//! uses separate clients and is not recorded.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use maint_core::backend::conformance::run_all;
use maint_core::backend::{AllowlistChange, MaintenanceSpec, Mode};
use maint_tests::faults::Faults;
use maint_tests::moto::workspace_root;
use maint_tests::WafFixture;
use maint_tests::{cloudfront_backend, seed};
use serde_json::Value;

/// Permissions AWS checks in addition to an operation's own action, for an
/// Application Load Balancer, from the Service Authorization Reference for
/// AWS WAF V2 ("API operations defined by AWS WAF V2") and the WAF Developer
/// Guide, "Permissions for AssociateWebACL"
/// (https://docs.aws.amazon.com/waf/latest/developerguide/security_iam_service-with-iam.html#security_iam_action-AssociateWebACL).
/// Which of the ELB actions is evaluated depends on the account's
/// permission setting (the newer granular actions or the legacy
/// `SetWebAcl`), so the policy must carry both.
///
/// The other regional kinds a target may be (issue 22: API Gateway stages,
/// AppSync APIs, Cognito user pools, App Runner services, Verified Access
/// instances) each add their service's action to the same operations (the
/// same Guide table; CloudFormation's `AWS::WAFv2::WebACLAssociation`
/// handler lists the same set), so the policy carries them all: which are
/// evaluated depends on the target, not on the operation recorded here.
fn additional_permissions(action: &str) -> &'static [&'static str] {
    match action {
        "wafv2:AssociateWebACL" => &[
            "elasticloadbalancing:CreateWebACLAssociation",
            "elasticloadbalancing:SetWebAcl",
            "apigateway:SetWebACL",
            "appsync:SetWebACL",
            "cognito-idp:AssociateWebACL",
            "apprunner:AssociateWebAcl",
            "ec2:AssociateVerifiedAccessInstanceWebAcl",
        ],
        "wafv2:DisassociateWebACL" => &[
            "elasticloadbalancing:DeleteWebACLAssociation",
            "elasticloadbalancing:SetWebAcl",
            "apigateway:SetWebACL",
            "appsync:SetWebACL",
            "cognito-idp:DisassociateWebACL",
            "apprunner:DisassociateWebAcl",
            "ec2:DisassociateVerifiedAccessInstanceWebAcl",
        ],
        "wafv2:GetWebACLForResource" => &[
            "elasticloadbalancing:GetLoadBalancerWebACL",
            "cognito-idp:GetWebACLForResource",
            "apprunner:DescribeWebAclForService",
            "ec2:GetVerifiedAccessInstanceWebAcl",
        ],
        "wafv2:ListResourcesForWebACL" => &[
            "cognito-idp:ListResourcesForWebACL",
            "apprunner:ListAssociatedServicesForWebAcl",
            "ec2:DescribeVerifiedAccessInstanceWebAclAssociations",
        ],
        // CloudFront checks that the caller may read the web ACL it is
        // given (its `InvalidWebACLId` error: "Unable to verify read
        // permissions on Web ACL"); the WAF actions for associating are
        // asked for too, to be safe where AWS evaluates them for a
        // distribution's web ACL.
        "cloudfront:UpdateDistribution" => &[
            "wafv2:GetWebACL",
            "wafv2:AssociateWebACL",
            "wafv2:DisassociateWebACL",
        ],
        // Creating with tags also needs TagResource.
        "wafv2:CreateWebACL" | "wafv2:CreateIPSet" => &["wafv2:TagResource"],
        _ => &[],
    }
}

/// The `Allow`ed actions of a policy document (checks its shape on the way).
fn allowed_actions(policy: &Value) -> Vec<String> {
    assert_eq!(
        policy["Version"], "2012-10-17",
        "policy Version must be 2012-10-17"
    );
    let statements = match &policy["Statement"] {
        Value::Array(s) => s.clone(),
        s @ Value::Object(_) => vec![s.clone()],
        other => panic!("policy Statement must be an object or array, is {other}"),
    };
    let mut actions = Vec::new();
    for s in &statements {
        assert_eq!(s["Effect"], "Allow", "statement {s}");
        assert!(
            s.get("Resource").is_some(),
            "statement without Resource: {s}"
        );
        match &s["Action"] {
            Value::String(a) => actions.push(a.clone()),
            Value::Array(list) => {
                for a in list {
                    actions.push(a.as_str().expect("action is a string").to_string())
                }
            }
            other => panic!("Action must be a string or array, is {other}"),
        }
    }
    actions
}

/// IAM action matching: case-insensitive, `*` and `?` wildcards.
fn matches(pattern: &str, action: &str) -> bool {
    fn go(p: &[u8], a: &[u8]) -> bool {
        match (p.first(), a.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], a) || (!a.is_empty() && go(p, &a[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &a[1..]),
            (Some(x), Some(y)) if x.eq_ignore_ascii_case(y) => go(&p[1..], &a[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), action.as_bytes())
}

#[test]
fn the_policy_matcher_handles_wildcards() {
    assert!(matches("wafv2:GetWebACL", "WAFV2:getwebacl"));
    assert!(matches("wafv2:Get*", "wafv2:GetWebACL"));
    assert!(!matches("wafv2:GetWebACL", "wafv2:GetWebACLForResource"));
}

#[tokio::test(flavor = "multi_thread")]
async fn example_policy_allows_every_call_of_the_backend() {
    let path = workspace_root().join("examples/iam-policy.json");
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let policy: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
    let allowed = allowed_actions(&policy);

    // The suite runs on its own task so that a failing scenario still lets
    // the policy be checked against what was called up to then; its failure
    // is re-raised at the end.
    let fixture = Arc::new(WafFixture::for_conformance());
    let suite = tokio::spawn({
        let fixture = Arc::clone(&fixture);
        async move { run_all(&*fixture).await }
    })
    .await;
    let counts = fixture.log().counts();
    assert!(
        !counts.is_empty(),
        "the backend made no AWS calls: is the interceptor attached?"
    );

    let needed = needed_actions(counts.keys());
    let missing = not_allowed(&allowed, &needed);

    let unused: Vec<&String> = allowed
        .iter()
        .filter(|p| !needed.keys().any(|a| matches(p, a)))
        .collect();
    eprintln!("operations recorded during the suite: {counts:?}");
    if !unused.is_empty() {
        eprintln!("policy actions the suite did not exercise: {unused:?}");
    }

    assert!(
        missing.is_empty(),
        "{} does not allow actions the backend needs:\n  {}",
        path.display(),
        missing.join("\n  ")
    );
    if let Err(e) = suite {
        match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("conformance suite task: {e}"),
        }
    }
}

/// Every action `recorded` needs (its own and those AWS checks besides,
/// [`additional_permissions`]), each with the recorded actions that need it.
fn needed_actions<'a>(
    recorded: impl Iterator<Item = &'a String>,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut needed: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for op in recorded {
        needed.entry(op.clone()).or_default().insert(op.clone());
        for extra in additional_permissions(op) {
            needed
                .entry(extra.to_string())
                .or_default()
                .insert(op.clone());
        }
    }
    needed
}

/// The needed actions `allowed` does not cover, each with what needs it.
fn not_allowed(allowed: &[String], needed: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    needed
        .iter()
        .filter(|(action, _)| !allowed.iter().any(|p| matches(p, action)))
        .map(|(action, by)| {
            let by: Vec<_> = by.iter().filter(|o| *o != action).cloned().collect();
            if by.is_empty() {
                format!("{action} (called)")
            } else {
                format!("{action} (required by {})", by.join(", "))
            }
        })
        .collect()
}

/// A CloudFront distribution's whole cycle (look-up, enter, status, an
/// allowlist edit, exit) makes only calls the example policy allows:
/// every AWS WAF (scope CLOUDFRONT) and CloudFront call is recorded on
/// the wire.
#[tokio::test(flavor = "multi_thread")]
async fn example_policy_allows_every_call_for_a_cloudfront_distribution() {
    let path = workspace_root().join("examples/iam-policy.json");
    let policy: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let cdn = seed::distribution("iam-edge").await;
    let faults = Faults::new();
    let edge = cloudfront_backend(&faults).await;
    let refs = [maint_core::LoadBalancerRef::parse(&cdn.alias).unwrap()];
    let arn = edge.resolve(&refs).await.unwrap()[0].clone().unwrap();
    edge.enter(&arn, &MaintenanceSpec::default(), Mode::Apply)
        .await
        .unwrap();
    edge.status(&arn).await.unwrap();
    let allow = maint_core::Allowlist::parse(["203.0.113.9"]).unwrap();
    edge.update_allowlist(&arn, &AllowlistChange::Add(allow), Mode::Apply)
        .await
        .unwrap();
    edge.exit(&arn, Mode::Apply).await.unwrap();

    let recorded: Vec<String> = faults.actions().into_keys().collect();
    eprintln!("actions recorded: {recorded:?}");
    for expected in [
        "cloudfront:ListDistributions",
        "cloudfront:GetDistributionConfig",
        "cloudfront:UpdateDistribution",
        "wafv2:CreateWebACL",
    ] {
        assert!(
            recorded.iter().any(|a| a == expected),
            "{expected} in {recorded:?}"
        );
    }
    let missing = not_allowed(&allowed_actions(&policy), &needed_actions(recorded.iter()));
    assert!(
        missing.is_empty(),
        "{} does not allow actions a distribution needs:\n  {}",
        path.display(),
        missing.join("\n  ")
    );
}

/// A cycle across accounts (a role assumed in another account, then enter,
/// status and exit there) through the `maint` binary makes only calls the
/// example policy allows: `sts:AssumeRole` for the caller, the same WAF and
/// ELB actions as in its own account for the role. Every call is recorded
/// on the wire by the proxy. The member account's trust policy example lets
/// a caller in with the external ID maint sends.
#[tokio::test(flavor = "multi_thread")]
async fn example_policies_allow_every_call_across_accounts() {
    let path = workspace_root().join("examples/iam-policy.json");
    let policy: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let allowed = allowed_actions(&policy);
    let name = seed::unique_lb_name("iam-org");
    seed::load_balancer_in("666666666666", "eu-west-1", &name).await;
    let w = maint_tests::cli::Workdir::new();
    w.write(
        "maint.toml",
        &format!(
            "[accounts.prod]\nrole_arn = \"arn:aws:iam::666666666666:role/maint\"\n\
             external_id = \"maint-prod\"\nregions = [\"eu-west-1\"]\n\
             [services.{name}]\naccount = \"prod\"\nload_balancers = [\"{name}\"]\n"
        ),
    );
    let proxy = maint_tests::proxy::Proxy::start(&[]);
    let through = [("AWS_ENDPOINT_URL", proxy.url.as_str())];
    for args in [
        vec!["enter", name.as_str(), "--allow", "203.0.113.0/24"],
        vec!["status", name.as_str()],
        vec!["exit", name.as_str()],
    ] {
        let run = w.maint_with(&args, &[], &through);
        assert_eq!(run.code, 0, "{args:?}\n{}\n{}", run.stdout, run.stderr);
    }
    let calls = proxy.calls();
    assert!(calls.contains_key("sts:AssumeRole"), "{calls:?}");
    assert!(calls.contains_key("wafv2:AssociateWebACL"), "{calls:?}");
    let needed = needed_actions(calls.keys());
    let missing = not_allowed(&allowed, &needed);
    assert!(missing.is_empty(), "not in {}: {missing:?}", path.display());

    let trust: Value = serde_json::from_str(
        &std::fs::read_to_string(workspace_root().join("examples/iam-trust-policy.json")).unwrap(),
    )
    .unwrap();
    let statement = &trust["Statement"][0];
    assert_eq!(statement["Effect"], "Allow");
    assert_eq!(statement["Action"], "sts:AssumeRole");
    assert!(statement["Principal"]["AWS"]
        .as_str()
        .is_some_and(|p| p.starts_with("arn:aws:iam::")));
    assert_eq!(
        statement["Condition"]["StringEquals"]["sts:ExternalId"], "maint-prod",
        "the external ID of the README's example"
    );
}
