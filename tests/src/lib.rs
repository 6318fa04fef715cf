//! End-to-end test harness of maint: the WAF backend against moto, a local
//! AWS API emulator.
//!
//! - [`moto`]: one moto server per test binary ([`moto::server`]), SDK
//!   configuration for it.
//! - [`seed`]: load balancers and foreign web ACLs (empty, or like a
//!   security team's in production, shared by ALBs), made with clients of
//!   their own.
//! - [`OperationLog`]: an SDK interceptor recording the IAM actions a client
//!   uses.
//! - [`WafFixture`]: the backend conformance suite's fixture over the WAF
//!   backend on moto.
//!
//! The tests need moto's server from `.venv`: run them with `./scripts/test`
//! (which sets `MAINT_MOTO_SERVER` and `MAINT_PYTHON`). Without moto they
//! fail, they never skip.

pub mod cli;
pub mod edge;
pub mod faults;
pub mod fixture;
pub mod inspect;
pub mod moto;
pub mod oplog;
pub mod proxy;
pub mod seed;

pub use fixture::{cloudfront_backend, fast_settings, faulty_backend, waf_backend, WafFixture};
pub use inspect::resources_in_moto;
pub use moto::{server, MotoServer};
pub use oplog::OperationLog;
