//! The [`MaintenanceBackend`] trait and its implementations.
//!
//! A backend does the few operations every user needs in one region of one
//! account: look load balancers up, and enter, exit, edit the allowlist of
//! and read one load balancer at a time. Acting on many targets at once
//! (expanding services, resolving all targets before any change, ordering
//! results, covering several regions) is built on top of the trait, outside
//! it, in [`fleet`](crate::fleet), so no backend can get it subtly wrong.

pub mod memory;
#[cfg(feature = "waf")]
pub mod waf;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;

pub use crate::maintenance::{
    AllowlistChange, AllowlistState, Change, MaintenanceInfo, MaintenanceSpec, Mode, Outcome,
    Reason, State, TargetStatus,
};
use crate::target::{LoadBalancerArn, LoadBalancerRef};
use crate::Result;
pub use memory::{LoadBalancerType, MemoryBackend};
#[cfg(feature = "waf")]
pub use waf::{waf_factory, AwsOptions, WafBackend, WafSettings};

/// A future that makes the backend for a region.
pub type BackendFuture = Pin<Box<dyn Future<Output = Result<Arc<dyn MaintenanceBackend>>> + Send>>;

/// Makes the backend for a region (`None`: the region the AWS configuration
/// chain gives). A [`Fleet`](crate::fleet::Fleet) calls it once per region.
pub type BackendFactory = Box<dyn Fn(Option<String>) -> BackendFuture + Send + Sync>;

/// A factory that hands out one shared backend for every region (for the
/// in-memory backend and tests).
pub fn shared_factory(backend: Arc<dyn MaintenanceBackend>) -> BackendFactory {
    Box::new(move |_| {
        let backend = backend.clone();
        Box::pin(async move { Ok(backend) })
    })
}

/// The deterministic name of maint's web ACL for a load balancer:
/// `maint-<name>-<id>`, within WAF's name rules (1-128 of `[A-Za-z0-9_-]`;
/// an ALB name is at most 32 characters and its id 16 hex digits), so a rerun
/// after a crash finds what the crashed run created.
pub fn web_acl_name(lb: &LoadBalancerArn) -> String {
    format!("maint-{}-{}", lb.name(), lb.id())
}

/// A resource of maint's that no target uses any more, found by `cleanup`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Leftover {
    /// `web-acl` or `ip-set`.
    pub kind: &'static str,
    /// The resource's name.
    pub name: String,
    /// The resource's ARN.
    pub arn: String,
}

/// Maintenance mode for load balancers in one region of one account.
///
/// [`resolve`](Self::resolve) looks up many load balancers at once and
/// [`cleanup`](Self::cleanup) covers the whole region; every other method
/// acts on one load balancer. Every method is safe to call concurrently for
/// different or the same load balancers, and reads the current state from the
/// backend (never from memory of an earlier call), so a command that died half
/// way is completed by running it again.
#[async_trait]
pub trait MaintenanceBackend: Send + Sync {
    /// Resolves load balancer names and ARNs to the ARNs of existing
    /// Application Load Balancers in this backend's region, one result per
    /// reference, in order. A name that does not exist is
    /// [`Error::TargetNotFound`](crate::Error::TargetNotFound); a load
    /// balancer of another type (network, gateway) or an ARN of another
    /// region is [`Error::InvalidInput`](crate::Error::InvalidInput). The
    /// outer error is for a failure of the whole look-up (e.g. access denied).
    async fn resolve(&self, refs: &[LoadBalancerRef]) -> Result<Vec<Result<LoadBalancerArn>>>;

    /// Puts the load balancer into maintenance as `spec` describes.
    ///
    /// Normal: creates maint's web ACL and associates it. Already in
    /// maintenance under maint's ACL: updates reason, end and response in
    /// place, adds `spec`'s allowlist entries to those already there (never
    /// removing one) and keeps the allowlist's enabled state and `since`
    /// (see [`reentry_spec`](crate::maintenance::reentry_spec)), reporting
    /// each difference; no differences means an unchanged outcome. A web ACL maint did not create:
    /// [`Error::ForeignWebAcl`](crate::Error::ForeignWebAcl), nothing changed.
    async fn enter(
        &self,
        lb: &LoadBalancerArn,
        spec: &MaintenanceSpec,
        mode: Mode,
    ) -> Result<Outcome>;

    /// Takes the load balancer out of maintenance: disassociates maint's web
    /// ACL and deletes it and its IP sets. Already normal: an unchanged
    /// outcome. A foreign web ACL is left alone:
    /// [`Error::ForeignWebAcl`](crate::Error::ForeignWebAcl).
    async fn exit(&self, lb: &LoadBalancerArn, mode: Mode) -> Result<Outcome>;

    /// Applies one allowlist change to a load balancer in maintenance. The
    /// change is applied to freshly read state, and re-applied if another
    /// writer got in between, so concurrent edits all survive. Not in
    /// maintenance: [`Error::NotInMaintenance`](crate::Error::NotInMaintenance).
    async fn update_allowlist(
        &self,
        lb: &LoadBalancerArn,
        change: &AllowlistChange,
        mode: Mode,
    ) -> Result<Outcome>;

    /// Reads the load balancer's state.
    async fn status(&self, lb: &LoadBalancerArn) -> Result<TargetStatus>;

    /// Finds maint's resources that no load balancer uses any more (left by
    /// a run that was killed) and, unless `mode` is a dry run, deletes them.
    /// Returns what was (or would be) deleted.
    async fn cleanup(&self, mode: Mode) -> Result<Vec<Leftover>>;
}

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
