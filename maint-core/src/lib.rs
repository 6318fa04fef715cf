//! # maint-core
//!
//! Puts services behind AWS Application Load Balancers into maintenance mode
//! and back, by associating an AWS WAF web ACL with each load balancer: every
//! request gets a maintenance response (503 and a page by default), except
//! those from an IP allowlist.
//!
//! Typed values, each validated when built:
//! - [`allowlist`]: validated, folded IP allowlists ([`Cidr`], [`Allowlist`]).
//! - [`target`]: load balancer ARNs and names ([`ResourceArn`],
//!   [`LoadBalancerRef`]) and the targets a user names ([`TargetRef`]).
//! - [`response`]: the maintenance response (status, body, headers).
//! - [`maintenance`]: a maintenance window ([`backend::MaintenanceSpec`]),
//!   allowlist changes, target states and what an operation changed.
//! - [`scope`]: which hosts and paths a window covers on a shared load
//!   balancer, and the paths that always stay open ([`Scope`]).
//! - [`access`]: who gets through besides the allowlist (a bypass secret)
//!   and where a request's address comes from (the connection, a header).
//! - [`config`]: the config file (`maint.toml`): named services and allowlists.
//!
//! Doing it:
//! - [`backend`]: the [`MaintenanceBackend`] trait and its implementations
//!   (AWS WAF, in memory).
//! - [`check`]: "does this request get through?", asked of a backend
//!   (the WAF backend evaluates its live web ACL's rules).
//! - [`fleet`]: the engine every front end calls: many targets at once,
//!   resolved all or nothing, in the caller's order, across regions.
//! - [`report`]: what a command reports, per target and in all (the JSON
//!   shapes of the CLI, the objects of the Python package).
//! - `wait` (feature `http`): `--wait`, probing a service's public URL
//!   until a change has reached traffic.
//! - `notify` (feature `http`): a JSON summary of each change POSTed to
//!   the config's webhooks.
//! - [`error`]: the one public error type, and [`ErrorKind`].
//!
//! # A deploy tool
//!
//! The types a deploy tool needs are at the crate root: build a [`Fleet`]
//! with [`Fleet::builder`], and give each change to [`Fleet::run`] as a
//! [`ChangeRequest`]: it checks every target before any change, applies,
//! waits until the public sees the change (with a [`WaitPlan`]), tells the
//! config's webhooks, and reports a [`ChangeRun`], as the `maint` command
//! and the Python package do.
//!
//! ```no_run
//! use maint_core::fleet::Command;
//! use maint_core::{ChangeRequest, Config, EnterRequest, Fleet, Reason, Silent, WaitPlan};
//!
//! # async fn deploy() -> maint_core::Result<()> {
//! let config = Config::load("maint.toml".as_ref())?;
//! // AWS WAF, with the AWS configuration chain's credentials and region.
//! let fleet = Fleet::builder().config(config).build()?;
//! let shop = vec!["shop".to_string()];
//! let settings = EnterRequest {
//!     reason: Some(Reason::new("deploy 42: database migration")?),
//!     ..EnterRequest::default()
//! };
//! // Into maintenance, and wait (the service's `url`) until the public
//! // sees the page.
//! let enter = ChangeRequest::new(Command::Enter(settings), shop.clone())
//!     .wait(Some(WaitPlan::default()));
//! let entered = fleet.run(enter, &Silent).await?;
//! let failed = entered.failures().next().map(|(_, e)| e.clone());
//! if let Some(error) = failed.or(entered.wait_error.clone()) {
//!     // Not (yet) in maintenance for everyone: the step does not run.
//!     fleet.run(ChangeRequest::new(Command::Exit, shop), &Silent).await?;
//!     return Err(error);
//! }
//! let step = std::process::Command::new("./migrate").status();
//! // Out of maintenance whether the step worked or not.
//! let exited = fleet.run(ChangeRequest::new(Command::Exit, shop), &Silent).await?;
//! if let Some((_, error)) = exited.failures().next() {
//!     return Err(error.clone());
//! }
//! println!("migrate: {step:?}");
//! # Ok(())
//! # }
//! ```
//!
//! `examples/deploy.rs` is the same tool with `--wait`: it waits until the
//! public sees the maintenance page before the step runs.
//!
//! # Features
//!
//! - `aws` (default): the AWS WAF backend (`AwsOptions`, `WafSettings`),
//!   which [`Fleet::builder`] uses unless given a backend.
//! - `http` (default): `wait` and `notify` (webhooks; `notify::tell`, which
//!   names who ran a change from the AWS credentials, also needs `aws`).
//! - `config` (default): reading `maint.toml` (`Config::load`,
//!   `Config::discover`); without it [`Config`] is built in code.
//! - `testing`: the in-memory backend (`MemoryBackend`) and the backend
//!   conformance suite (`backend::conformance`).
//! - `waf` and `conformance`: former names of `aws` + `http` and of
//!   `testing`.
//!
//! Without default features the crate has the typed values, the
//! [`Fleet`] and the [`MaintenanceBackend`] trait, for a backend of one's
//! own.

pub mod access;
pub mod account;
pub mod allowlist;
pub mod backend;
pub mod check;
pub mod config;
mod config_problem;
pub mod error;
pub mod fleet;
pub mod maintenance;
#[cfg(feature = "http")]
pub mod notify;
pub mod platform;
// The window rules, written once: both backends run every window
// operation (enter, arm, exit, disarm, an allowlist edit) as observe ->
// `plan::plan` -> apply; the in-memory backend in its fake world, the WAF
// backend through `backend/waf/observe.rs` and `backend/waf/apply.rs`.
#[cfg(any(test, feature = "testing", feature = "aws"))]
#[cfg_attr(not(any(test, feature = "testing")), allow(dead_code, unused_imports))]
mod plan;
pub mod report;
pub mod response;
pub mod scope;
// Did-you-mean suggestions (`config::did_you_mean`).
mod suggest;
pub mod target;
#[cfg(feature = "http")]
pub mod wait;

pub use account::Account;
pub use allowlist::{Allowlist, Cidr};
#[cfg(feature = "testing")]
pub use backend::memory::MemoryBackend;
#[cfg(feature = "aws")]
pub use backend::waf::{AwsOptions, WafSettings};
pub use backend::{BackendFactory, BackendPlace, MaintenanceBackend};
pub use config::{Config, Service};
pub use error::{Error, ErrorKind, Result};
pub use fleet::{
    ChangeRequest, EnterRequest, Event, Fleet, FleetBuilder, Observer, Silent, WaitPlan,
};
pub use maintenance::{Mode, Reason};
pub use report::{ChangeRun, StatusRun};
pub use scope::Scope;
pub use target::{
    LoadBalancerArn, LoadBalancerName, LoadBalancerRef, ResourceArn, ResourceKind, TargetRef,
};
