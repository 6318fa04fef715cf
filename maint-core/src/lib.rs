//! # maint-core
//!
//! Puts services behind AWS Application Load Balancers into maintenance mode
//! and back, by associating an AWS WAF web ACL with each load balancer: every
//! request gets a maintenance response (503 and a page by default), except
//! those from an IP allowlist.
//!
//! - [`allowlist`]: validated, folded IP allowlists ([`Cidr`], [`Allowlist`]).
//! - [`target`]: load balancer ARNs and names ([`LoadBalancerArn`], [`Target`]).
//! - [`response`]: the maintenance response (status, body, headers).
//! - [`backend`]: the [`MaintenanceBackend`] trait and its implementations.
//! - [`error`]: the one public error type.

pub mod allowlist;
pub mod backend;
pub mod config;
pub mod error;
pub mod fleet;
pub mod maintenance;
pub mod report;
pub mod response;
pub mod target;

pub use allowlist::{Allowlist, Cidr};
pub use backend::MaintenanceBackend;
pub use error::{Error, Result};
pub use target::{LoadBalancerArn, LoadBalancerName, LoadBalancerRef, Target};
