//! The [`Fixture`] trait: what a backend under the conformance suite
//! provides besides itself.

use async_trait::async_trait;

use crate::backend::contract::MaintenanceBackend;
use crate::target::{LoadBalancerName, ResourceArn};

/// What a scenario needs besides the backend: fresh load balancers and a way
/// to put a web ACL that maint did not create in front of one.
#[async_trait]
pub trait Fixture: Send + Sync {
    /// The backend under test.
    fn backend(&self) -> &dyn MaintenanceBackend;
    /// Creates an Application Load Balancer no other scenario uses, with a
    /// name starting with `hint`, and returns its name.
    async fn new_load_balancer(&self, hint: &str) -> LoadBalancerName;
    /// Creates an API Gateway REST API deployed to a stage, a resource
    /// AWS WAF protects that is not a load balancer (issue 22), and returns
    /// the stage's ARN.
    async fn new_api_stage(&self, hint: &str) -> ResourceArn;
    /// Creates a Network Load Balancer and returns its name.
    async fn new_network_load_balancer(&self, hint: &str) -> LoadBalancerName;
    /// Associates a web ACL that maint did not create with `lb`; returns its ARN.
    async fn associate_foreign_web_acl(&self, lb: &ResourceArn) -> String;
    /// Disassociates whatever web ACL `lb` carries, as another writer (the
    /// AWS Load Balancer Controller, an IaC apply) does behind maint's back.
    async fn disassociate(&self, lb: &ResourceArn);
    /// Makes the backend's next `enter` stop after creating its resources
    /// and before associating them, as a run killed half way does. Cleanup
    /// scenarios need the backend to clean up resources of any age.
    async fn interrupt_next_enter(&self);
    /// Takes maint's rules out of `web_acl_arn`, a web ACL maint did not
    /// create into which a window was injected, leaving everything else
    /// (maint's record included), as an IaC apply of that web ACL does.
    async fn remove_injected_rule(&self, web_acl_arn: &str);
}
