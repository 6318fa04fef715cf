//! The [`MaintenanceBackend`] trait and its implementations.
//!
//! A backend does the few operations every user needs in one region of one
//! account: look load balancers up, and enter, exit, edit the allowlist of
//! and read one load balancer at a time. Acting on many targets at once
//! (expanding services, resolving all targets before any change, ordering
//! results, covering several regions) is built on top of the trait, outside
//! it, in [`fleet`](crate::fleet), so no backend can get it subtly wrong.

#[cfg(any(test, feature = "testing"))]
pub mod memory;
#[cfg(feature = "aws")]
pub mod waf;

pub(crate) mod contract;

pub use crate::maintenance::{
    AllowlistChange, AllowlistState, Change, ExistingWebAcl, MaintenanceInfo, MaintenanceSpec,
    Mode, Outcome, Reason, SharedWindow, State, TargetStatus, Window, WindowSummary,
};
pub use contract::{
    shared_factory, web_acl_name, BackendFactory, BackendFuture, BackendPlace, Leftover,
    MaintenanceBackend, MemberResults,
};
#[cfg(any(test, feature = "testing"))]
pub use memory::{LoadBalancerType, MemoryBackend};
#[cfg(feature = "aws")]
pub use waf::{caller_identity, waf_factory, AwsOptions, WafBackend, WafSettings};

#[cfg(any(test, feature = "testing"))]
pub mod conformance;
