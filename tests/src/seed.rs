//! Puts things into moto that maint did not make: load balancers, and web
//! ACLs "of the security team".
//!
//! Every call here goes through its own, un-instrumented SDK clients, so
//! seeding never shows up in an [`OperationLog`](crate::OperationLog) of the
//! backend under test.

use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_elasticloadbalancingv2::types::LoadBalancerTypeEnum;
use aws_sdk_wafv2::types::{AllowAction, DefaultAction, Scope, VisibilityConfig};

use crate::moto::server;

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
