//! The engine behind every front end: acting on many targets at once.
//!
//! A [`Fleet`] owns every decision about many targets that a user could
//! observe, so the CLI and the Python package only convert arguments and
//! print or return what it reports:
//! - **Expand**: service names from the config file become their load
//!   balancers, every name is checked before anything talks to AWS, a load
//!   balancer named twice is acted on once, and no targets means every
//!   service of the config file.
//! - **Resolve all or nothing**: a changing command looks every target up
//!   (one batched call per region) and changes nothing when any of them
//!   cannot be found ([`Error::Unresolved`](crate::Error::Unresolved)): a service is never half
//!   switched because one of its load balancers is missing. `status` reports
//!   each target's own failure instead.
//! - **One spec per service**: `enter`'s arguments are combined with each
//!   service's settings, and every combination is validated before the first
//!   change.
//! - **One window per service**: the targets of one config service in one
//!   region are one [`Window`](crate::backend::Window) (one web ACL for all), acted on in one
//!   backend call; a target named alone is a window of one.
//! - **Run, bounded and in order**: windows are acted on concurrently (at
//!   most [`Fleet::with_concurrency`] at once); each target's outcome is
//!   reported to an [`Observer`] as its window completes, and the results
//!   come back in the order the targets were given. One target's failure
//!   never hides the others'.
//! - **Every region**: `cleanup` covers the default region and every region
//!   the config file's services use.
//!
//! Built on the [`MaintenanceBackend`](crate::MaintenanceBackend) trait, outside it: one backend per
//! region, made on first use by a [`BackendFactory`](crate::BackendFactory).
//!
//! The module's files, by concern: `engine` (the [`Fleet`] and every
//! command on many targets), `targets` (expanding what the user named),
//! `request` (what a caller asks: [`EnterRequest`], [`ChangeRequest`]),
//! `run` (one change from request to report: [`Fleet::run`]), `waiting`
//! (`--wait`), `links` (bypass links), `events` (what an [`Observer`]
//! hears) and `builder` ([`FleetBuilder`]).

mod builder;
mod engine;
mod events;
mod links;
mod request;
mod run;
mod targets;
mod waiting;

pub use builder::FleetBuilder;
pub use engine::{Fleet, DEFAULT_CONCURRENCY};
pub use events::{Event, Observer, Silent};
pub use request::{ChangeRequest, Command, EnterRequest, WaitPlan};

#[cfg(test)]
#[path = "../fleet_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "../fleet_accounts_tests.rs"]
mod accounts_tests;
