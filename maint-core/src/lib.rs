//! # maint-core
//!
//! Puts services behind AWS Application Load Balancers into maintenance mode
//! and back, by associating an AWS WAF web ACL with each load balancer: every
//! request gets a maintenance response (503 and a page by default), except
//! those from an IP allowlist.
//!
//! Typed values, each validated when built:
//! - [`allowlist`]: validated, folded IP allowlists ([`Cidr`], [`Allowlist`]).
//! - [`target`]: load balancer ARNs and names ([`LoadBalancerArn`],
//!   [`LoadBalancerRef`]) and the targets a user names ([`TargetRef`]).
//! - [`response`]: the maintenance response (status, body, headers).
//! - [`maintenance`]: a maintenance window ([`backend::MaintenanceSpec`]),
//!   allowlist changes, target states and what an operation changed.
//! - [`access`]: who gets through besides the allowlist (a bypass secret)
//!   and where a request's address comes from (the connection, a header).
//! - [`config`]: the config file (`maint.toml`): named services and allowlists.
//!
//! Doing it:
//! - [`backend`]: the [`MaintenanceBackend`] trait and its implementations
//!   (AWS WAF, in memory).
//! - [`check`]: "does this request get through?", evaluated on a live
//!   web ACL's rules.
//! - [`fleet`]: the engine every front end calls: many targets at once,
//!   resolved all or nothing, in the caller's order, across regions.
//! - [`report`]: what a command reports, per target and in all (the JSON
//!   shapes of the CLI, the objects of the Python package).
//! - `wait` (with the `http` feature): `--wait`, probing a service's public
//!   URL until a change has reached traffic.
//! - `notify` (with the `http` feature): a JSON summary of each change
//!   POSTed to the config's webhooks.
//! - [`error`]: the one public error type, and [`ErrorKind`].

pub mod access;
pub mod allowlist;
pub mod backend;
pub mod check;
pub mod config;
pub mod error;
pub mod fleet;
pub mod maintenance;
#[cfg(feature = "http")]
pub mod notify;
pub mod report;
pub mod response;
pub mod target;
#[cfg(feature = "http")]
pub mod wait;

pub use allowlist::{Allowlist, Cidr};
pub use backend::MaintenanceBackend;
pub use error::{Error, ErrorKind, Result};
pub use fleet::Fleet;
pub use target::{LoadBalancerArn, LoadBalancerName, LoadBalancerRef, TargetRef};
