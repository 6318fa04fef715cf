//! Load balancers a platform owns: the AWS Load Balancer Controller (EKS)
//! reconciles the web ACL of the ALBs it makes, so maint must work with it
//! rather than against it.
//!
//! The controller tags its ALBs (`elbv2.k8s.aws/cluster`, and
//! `ingress.k8s.aws/stack` for an Ingress or IngressGroup or
//! `service.k8s.aws/stack` for a Service). With the Ingress annotation
//! `alb.ingress.kubernetes.io/wafv2-acl-arn` it associates that web ACL and
//! puts it back over any other; versions up to 2.8.1 also remove any web
//! ACL when the annotation is absent (GHSA-rjfv-pjvx-mjgv, fixed in 2.8.2).
//! So on such an ALB maint injects into the annotation's web ACL, or, on an
//! ALB without one, warns that the controller may take maint's away.

use serde::Serialize;

/// The tag the controller puts on every load balancer it makes.
pub(crate) const CLUSTER_TAG: &str = "elbv2.k8s.aws/cluster";
/// The tag naming the Ingress (or IngressGroup) of a controller's ALB.
pub(crate) const INGRESS_STACK_TAG: &str = "ingress.k8s.aws/stack";
/// The tag naming the Service of a controller's load balancer.
pub(crate) const SERVICE_STACK_TAG: &str = "service.k8s.aws/stack";
/// The Ingress annotation the controller associates a web ACL from.
pub(crate) const WAF_ANNOTATION: &str = "alb.ingress.kubernetes.io/wafv2-acl-arn";

/// The AWS Load Balancer Controller that made a load balancer, as its tags
/// say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LbController {
    /// The EKS cluster (`elbv2.k8s.aws/cluster`).
    pub cluster: Option<String>,
    /// The Ingress or IngressGroup (`ingress.k8s.aws/stack`), or the
    /// Service (`service.k8s.aws/stack`): `namespace/name` or a group name.
    pub stack: Option<String>,
    /// Whether the stack is a Service (else an Ingress or IngressGroup).
    pub service: bool,
}

impl LbController {
    /// The controller a load balancer's tags name, if any.
    pub fn from_tags<'a>(tags: impl IntoIterator<Item = (&'a str, &'a str)>) -> Option<Self> {
        let mut found = None::<Self>;
        for (key, value) in tags {
            let value = Some(value.to_string());
            match key {
                CLUSTER_TAG => found.get_or_insert_with(Self::empty).cluster = value,
                INGRESS_STACK_TAG => found.get_or_insert_with(Self::empty).stack = value,
                SERVICE_STACK_TAG => {
                    let c = found.get_or_insert_with(Self::empty);
                    c.stack = value;
                    c.service = true;
                }
                _ => {}
            }
        }
        found
    }

    fn empty() -> Self {
        Self {
            cluster: None,
            stack: None,
            service: false,
        }
    }

    /// Who it is, in words: `the AWS Load Balancer Controller (cluster
    /// prod, Ingress shop/web)`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(c) = &self.cluster {
            parts.push(format!("cluster {c}"));
        }
        if let Some(s) = &self.stack {
            let kind = if self.service { "Service" } else { "Ingress" };
            parts.push(format!("{kind} {s}"));
        }
        if parts.is_empty() {
            "the AWS Load Balancer Controller".into()
        } else {
            format!("the AWS Load Balancer Controller ({})", parts.join(", "))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_controllers_tags_name_it_and_others_do_not() {
        let c = LbController::from_tags([
            ("team", "shop"),
            (CLUSTER_TAG, "prod"),
            (INGRESS_STACK_TAG, "shop-group"),
        ])
        .unwrap();
        assert_eq!(
            c.describe(),
            "the AWS Load Balancer Controller (cluster prod, Ingress shop-group)"
        );
        let s = LbController::from_tags([(SERVICE_STACK_TAG, "web/api")]).unwrap();
        assert!(s.service);
        assert_eq!(
            s.describe(),
            "the AWS Load Balancer Controller (Service web/api)"
        );
        assert_eq!(LbController::from_tags([("team", "shop")]), None);
    }
}
