//! Puts things into moto that maint did not make: load balancers, and web
//! ACLs "of the security team" (an empty one, [`foreign_web_acl`], or one
//! like production's, [`security_web_acl`]).
//!
//! Every call here goes through its own, un-instrumented SDK clients, so
//! seeding never shows up in an [`OperationLog`](crate::OperationLog) of the
//! backend under test.

use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_elasticloadbalancingv2::types::LoadBalancerTypeEnum;
use aws_sdk_wafv2::types::{
    AllowAction, CountAction, CountryCode, DefaultAction, GeoMatchStatement, Rule, RuleAction,
    Scope, Statement, VisibilityConfig, WebAcl,
};

use crate::moto::{python_path, server, workspace_root};

/// Process-wide counter behind every generated name.
static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The longest load balancer name ELB accepts.
const MAX_LB_NAME: usize = 32;

/// A load balancer name no other call in this process returns: `hint`
/// (reduced to ASCII letters, digits and hyphens, shortened if needed),
/// a hyphen, and a counter, at most 32 characters, no hyphen at either end.
pub fn unique_lb_name(hint: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let suffix = format!("-{n}");
    let mut base: String = hint
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    // ELB reserves the `internal-` prefix; a name needs a letter or digit.
    if base.to_ascii_lowercase().starts_with("internal-") || base.trim_matches('-').is_empty() {
        base = format!("lb-{base}");
    }
    base.truncate(MAX_LB_NAME - suffix.len());
    format!("{}{suffix}", base.trim_matches('-'))
}

/// An ELBv2 client without interceptors.
pub fn elb_client() -> aws_sdk_elasticloadbalancingv2::Client {
    aws_sdk_elasticloadbalancingv2::Client::new(&server().sdk_config())
}

/// A WAFv2 client without interceptors.
pub fn waf_client() -> aws_sdk_wafv2::Client {
    aws_sdk_wafv2::Client::new(&server().sdk_config())
}

/// Creates a load balancer named `name` of type `kind` (`"application"`,
/// `"network"` or `"gateway"`) in two subnets of moto's default VPC and
/// returns its ARN.
pub async fn create_load_balancer(name: &str, kind: &str) -> String {
    let kind_enum = match kind {
        "application" => LoadBalancerTypeEnum::Application,
        "network" => LoadBalancerTypeEnum::Network,
        "gateway" => LoadBalancerTypeEnum::Gateway,
        other => panic!("unknown load balancer type {other:?}"),
    };
    let subnets = server().subnets();
    let out = elb_client()
        .create_load_balancer()
        .name(name)
        .r#type(kind_enum)
        .set_subnets(Some(subnets.to_vec()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("create {kind} load balancer {name}: {e:?}"));
    out.load_balancers()
        .first()
        .and_then(|lb| lb.load_balancer_arn())
        .unwrap_or_else(|| panic!("CreateLoadBalancer {name} returned no ARN"))
        .to_string()
}

/// Tags a load balancer (as the AWS Load Balancer Controller tags its
/// own: `elbv2.k8s.aws/cluster`, `ingress.k8s.aws/stack`).
pub async fn tag_load_balancer(lb_arn: &str, tags: &[(&str, &str)]) {
    let mut call = elb_client().add_tags().resource_arns(lb_arn);
    for (key, value) in tags {
        call = call.tags(
            aws_sdk_elasticloadbalancingv2::types::Tag::builder()
                .key(*key)
                .value(*value)
                .build(),
        );
    }
    call.send()
        .await
        .unwrap_or_else(|e| panic!("moto AddTags: {e}"));
}

/// Creates a web ACL maint did not create (`security-team-acl-<n>`, scope
/// REGIONAL, default action allow, no rules, metrics off), associates it
/// with `lb_arn`, and returns its ARN.
pub async fn foreign_web_acl(lb_arn: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = format!("security-team-acl-{n}");
    let waf = waf_client();
    let created = waf
        .create_web_acl()
        .name(&name)
        .scope(Scope::Regional)
        .default_action(
            DefaultAction::builder()
                .allow(AllowAction::builder().build())
                .build(),
        )
        .visibility_config(
            VisibilityConfig::builder()
                .sampled_requests_enabled(false)
                .cloud_watch_metrics_enabled(false)
                .metric_name(&name)
                .build()
                .expect("visibility config"),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("create web ACL {name}: {e:?}"));
    let arn = created
        .summary()
        .and_then(|s| s.arn())
        .unwrap_or_else(|| panic!("CreateWebACL {name} returned no ARN"))
        .to_string();
    waf.associate_web_acl()
        .web_acl_arn(&arn)
        .resource_arn(lb_arn)
        .send()
        .await
        .unwrap_or_else(|e| panic!("associate {name} with {lb_arn}: {e:?}"));
    arn
}

/// Takes maint's rules (named `maint-...`) out of the web ACL
/// `web_acl_arn`, keeping everything else as read (maint's record
/// included), as an IaC apply of a service's own web ACL does; the apply
/// also writes a rule of its code's, `team-baseline` (Count, requests from
/// Antarctica), because moto keeps a web ACL's rules when an update sends
/// none.
pub async fn remove_maint_rules(web_acl_arn: &str) {
    let mut parts = web_acl_arn.rsplit('/');
    let (id, name) = (
        parts.next().expect("a web ACL ARN"),
        parts.next().expect("a web ACL ARN"),
    );
    let (acl, token) = read_acl(name, id).await;
    let rules: Vec<Rule> = acl
        .rules()
        .iter()
        .filter(|r| !r.name().starts_with("maint-") && r.name() != "team-baseline")
        .cloned()
        .chain([baseline_rule()])
        .collect();
    write_rules(&acl, &token, rules).await;
}

/// The web ACL `name` (`id`, REGIONAL) as moto holds it, and its lock token.
pub async fn read_acl(name: &str, id: &str) -> (WebAcl, String) {
    let out = waf_client()
        .get_web_acl()
        .name(name)
        .id(id)
        .scope(Scope::Regional)
        .send()
        .await
        .unwrap_or_else(|e| panic!("moto GetWebACL {name}: {e}"));
    (
        out.web_acl().expect("a web ACL").clone(),
        out.lock_token().expect("a lock token").to_string(),
    )
}

/// Another writer's `UpdateWebACL` of `acl` (as read with `token`) with
/// `rules`, everything else sent back as read.
pub async fn write_rules(acl: &WebAcl, token: &str, rules: Vec<Rule>) {
    waf_client()
        .update_web_acl()
        .name(acl.name())
        .id(acl.id())
        .scope(Scope::Regional)
        .set_description(acl.description().map(str::to_string))
        .set_default_action(acl.default_action().cloned())
        .set_rules(Some(rules))
        .set_custom_response_bodies(acl.custom_response_bodies().cloned())
        .set_visibility_config(acl.visibility_config().cloned())
        .lock_token(token)
        .send()
        .await
        .unwrap_or_else(|e| panic!("moto UpdateWebACL {}: {e}", acl.name()));
}

/// The rule [`remove_maint_rules`] writes, at the priority after the
/// highest maint's rules leave free.
fn baseline_rule() -> Rule {
    Rule::builder()
        .name("team-baseline")
        .priority(1_000)
        .statement(
            Statement::builder()
                .geo_match_statement(
                    GeoMatchStatement::builder()
                        .country_codes(CountryCode::Aq)
                        .build(),
                )
                .build(),
        )
        .action(
            RuleAction::builder()
                .count(CountAction::builder().build())
                .build(),
        )
        .visibility_config(
            VisibilityConfig::builder()
                .sampled_requests_enabled(false)
                .cloud_watch_metrics_enabled(false)
                .metric_name("team-baseline")
                .build()
                .expect("visibility config"),
        )
        .build()
        .expect("a rule")
}

/// A security team's web ACL as [`security_web_acl`] made it.
#[derive(Clone, Debug)]
pub struct SecurityAcl {
    /// The web ACL's ARN.
    pub arn: String,
    /// Its id (in the ARN and in the Shield rule's name).
    pub id: String,
    /// Its name.
    pub name: String,
    /// The IP set its `blocked-addresses` rule references.
    pub ip_set_arn: String,
    /// The rule group `ShieldMitigationRuleGroup_<account>_<id>_<suffix>`.
    pub shield_rule_group_arn: String,
    /// The name of the rule (priority 10000000) referencing that group.
    pub shield_rule_name: String,
    /// Its rules' names, in priority order (0, 1, 2, 3, 10000000).
    pub rule_names: Vec<String>,
    /// The WCU AWS would price its rules at (804).
    pub wcu: u64,
}

/// The names of the custom response bodies a [`SecurityAcl`] defines.
pub const SECURITY_ACL_BODIES: [&str; 2] = ["security-blocked", "security-rate-limited"];

/// Creates a web ACL like a security team's in production
/// (`security-acl-<n>`) and associates it with every load balancer in
/// `lb_arns` (one ACL shared by all of them): AWS's common managed rule
/// group at priority 0, a rate-based rule at 1, an IP-set block with an IP
/// set of its own at 2, a geo block at 3, Shield Advanced's
/// `ShieldMitigationRuleGroup_...` rule group reference at 10000000, the two
/// custom response bodies of [`SECURITY_ACL_BODIES`], a description.
///
/// Made by `tests/moto/seed.py --security-acl` (the one seeding helper,
/// `create_security_web_acl`: its comments say what moto accepts there
/// without checking), so the Rust and Python tests seed the same ACL.
pub async fn security_web_acl(lb_arns: &[&str]) -> SecurityAcl {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = format!("security-acl-{}-{n}", std::process::id());
    let lbs: Vec<String> = lb_arns.iter().map(|a| (*a).to_string()).collect();
    let mut args = vec![
        "--security-acl".to_string(),
        name.clone(),
        server().endpoint(),
    ];
    args.extend(lbs);
    let out = run_seed(args).await;
    let made: serde_json::Value = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("seed.py --security-acl {name} printed no JSON: {e}"));
    let text = |key: &str| {
        made[key]
            .as_str()
            .unwrap_or_else(|| panic!("seed.py --security-acl: no {key} in {made}"))
            .to_string()
    };
    SecurityAcl {
        arn: text("arn"),
        id: text("id"),
        name: text("name"),
        ip_set_arn: text("ip_set_arn"),
        shield_rule_group_arn: text("shield_rule_group_arn"),
        shield_rule_name: text("shield_rule_name"),
        rule_names: made["rule_names"]
            .as_array()
            .map(|names| {
                names
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        wcu: made["wcu"].as_u64().unwrap_or_default(),
    }
}

/// Runs `tests/moto/seed.py` with `args` (the one seeding helper of the
/// Rust and Python tests) and returns what it printed; panics, with its
/// error output, when it fails.
async fn run_seed(args: Vec<String>) -> String {
    let what = args.join(" ");
    let out = tokio::task::spawn_blocking(move || {
        let seed = workspace_root().join("tests/moto/seed.py");
        std::process::Command::new(python_path())
            .arg(&seed)
            .args(&args)
            .stdin(std::process::Stdio::null())
            .output()
    })
    .await
    .unwrap_or_else(|e| panic!("seed.py {what}: {e}"))
    .unwrap_or_else(|e| panic!("run seed.py {what}: {e}; run ./scripts/test to set up .venv"));
    assert!(
        out.status.success(),
        "seed.py {what} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap_or_else(|e| panic!("seed.py {what}: {e}"))
}

/// Creates an API Gateway REST API (`hint` and a counter) deployed to
/// stage `prod`, through boto3 (the tests' SDKs have no API Gateway
/// client); returns the stage's ARN, as AWS WAF associates it.
pub async fn api_stage(hint: &str) -> maint_core::ResourceArn {
    let name = unique_lb_name(hint);
    let printed = run_seed(vec!["--api-stage".into(), name, server().endpoint()]).await;
    maint_core::ResourceArn::parse(printed.trim()).expect("seed.py printed a stage ARN")
}

/// The web ACL ARN API Gateway records on `stage` (`GetStage`'s
/// `webAclArn`), if any.
pub async fn stage_web_acl(stage: &maint_core::ResourceArn) -> Option<String> {
    let args = vec![
        "--stage-web-acl".into(),
        stage.to_string(),
        server().endpoint(),
    ];
    let printed = run_seed(args).await;
    Some(printed.trim().to_string()).filter(|arn| !arn.is_empty())
}

/// A CloudFront distribution seeded in moto.
#[derive(Debug, Clone)]
pub struct Distribution {
    /// Its ARN.
    pub arn: maint_core::ResourceArn,
    /// Its ID.
    pub id: String,
    /// The alternate domain name it serves.
    pub alias: String,
}

/// Creates a CloudFront distribution serving a unique alternate domain
/// name (`hint`, a counter, `.example.com`), through boto3.
pub async fn distribution(hint: &str) -> Distribution {
    let alias = format!("{}.example.com", unique_lb_name(hint));
    let printed = run_seed(vec![
        "--distribution".into(),
        alias.clone(),
        server().endpoint(),
    ])
    .await;
    let made: serde_json::Value = serde_json::from_str(printed.trim()).expect("seed.py JSON");
    Distribution {
        arn: maint_core::ResourceArn::parse(made["arn"].as_str().expect("arn"))
            .expect("a distribution ARN"),
        id: made["id"].as_str().expect("id").to_string(),
        alias,
    }
}

/// What distribution `id`'s config says now: its web ACL (`None`: none)
/// and its comment.
pub async fn distribution_info(id: &str) -> (Option<String>, String) {
    let args = vec![
        "--distribution-info".into(),
        id.to_string(),
        server().endpoint(),
    ];
    let printed = run_seed(args).await;
    let info: serde_json::Value = serde_json::from_str(printed.trim()).expect("seed.py JSON");
    let acl = info["web_acl_id"].as_str().unwrap_or_default().to_string();
    (
        Some(acl).filter(|a| !a.is_empty()),
        info["comment"].as_str().unwrap_or_default().to_string(),
    )
}

/// Sets a team's own web ACL `name` (scope CLOUDFRONT, one rule
/// `team-rule`) on distribution `id`; returns its ARN.
pub async fn protect_distribution(id: &str, name: &str) -> String {
    let args = vec![
        "--protect-distribution".into(),
        id.to_string(),
        name.to_string(),
        server().endpoint(),
    ];
    run_seed(args).await.trim().to_string()
}

/// Another writer changes distribution `id`'s comment (synchronously:
/// for a hook that runs while maint's call is on the wire).
pub fn set_distribution_comment_now(id: &str, comment: &str) {
    let seed = workspace_root().join("tests/moto/seed.py");
    let out = std::process::Command::new(python_path())
        .arg(&seed)
        .args(["--set-comment", id, comment, &server().endpoint()])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("seed.py --set-comment: {e}"));
    assert!(
        out.status.success(),
        "seed.py --set-comment failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Creates an application load balancer `name` in `region` of account
/// `account` (moto acts there with the credentials of `AssumeRole` of a
/// role in it), through boto3; returns its ARN.
pub async fn load_balancer_in(account: &str, region: &str, name: &str) -> String {
    let args = vec![
        "--account".into(),
        account.to_string(),
        "--region".into(),
        region.to_string(),
        server().endpoint(),
        name.to_string(),
    ];
    run_seed(args).await.trim().to_string()
}

/// What account `account` holds in `region`: its REGIONAL web ACLs and IP
/// sets (names, sorted) and the web ACL of each of its load balancers
/// (`{"web_acls": [...], "ip_sets": [...], "by_lb": {ARN: name or null}}`).
pub async fn account_state(account: &str, region: &str) -> serde_json::Value {
    let args = vec![
        "--account".into(),
        account.to_string(),
        "--region".into(),
        region.to_string(),
        "--account-state".into(),
        server().endpoint(),
    ];
    serde_json::from_str(run_seed(args).await.trim()).expect("seed.py --account-state JSON")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::unique_lb_name;
    use maint_core::LoadBalancerName;

    #[test]
    fn names_are_valid_and_unique() {
        let hints = [
            "resolve",
            "resolve-nlb",
            "a-very-long-hint-that-goes-on-and-on-and-on",
            "-x-",
            "",
            "internal-thing",
            "with spaces/and:colons",
        ];
        let mut seen = std::collections::HashSet::new();
        for h in hints {
            let name = unique_lb_name(h);
            LoadBalancerName::parse(&name).unwrap_or_else(|e| panic!("{h:?} -> {name:?}: {e}"));
            assert!(seen.insert(name));
        }
        assert!(unique_lb_name("resolve").starts_with("resolve-"));
    }
}
