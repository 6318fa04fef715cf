//! What every backend promises: the [`MaintenanceBackend`] trait, its
//! factories and the values its window-wide operations give.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;

use crate::maintenance::{
    AllowlistChange, MaintenanceSpec, Mode, Outcome, TargetStatus, Window, WindowSummary,
};
use crate::platform::LbController;
use crate::target::{LoadBalancerRef, ResourceArn};
use crate::Result;

/// A future that makes the backend for a region.
pub type BackendFuture = Pin<Box<dyn Future<Output = Result<Arc<dyn MaintenanceBackend>>> + Send>>;

/// Where a backend acts: an account and a region.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BackendPlace {
    /// The config account (`None`: the account of the credentials maint
    /// runs with).
    pub account: Option<crate::account::Account>,
    /// The region (`None`: the region the AWS configuration chain gives).
    pub region: Option<String>,
}

impl BackendPlace {
    /// The place of a region in the credentials' own account.
    pub fn region(region: Option<String>) -> Self {
        Self {
            account: None,
            region,
        }
    }
}

/// Makes the backend for an account and region. A
/// [`Fleet`](crate::fleet::Fleet) calls it once per account and region.
pub type BackendFactory = Box<dyn Fn(BackendPlace) -> BackendFuture + Send + Sync>;

/// A factory that hands out one shared backend for every region (for the
/// in-memory backend and tests).
pub fn shared_factory(backend: Arc<dyn MaintenanceBackend>) -> BackendFactory {
    Box::new(move |_: BackendPlace| {
        let backend = backend.clone();
        Box::pin(async move { Ok(backend) })
    })
}

/// The deterministic name of maint's web ACL for a load balancer:
/// `maint-<name>-<id>`, within WAF's name rules (1-128 of `[A-Za-z0-9_-]`;
/// an ALB name is at most 32 characters and its id 16 hex digits), so a rerun
/// after a crash finds what the crashed run created.
pub fn web_acl_name(lb: &ResourceArn) -> String {
    Window::of_load_balancer(lb).name().to_string()
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
    /// `None`: deleted (in a dry run: would be). Otherwise why `cleanup`
    /// leaves it in place although no window of maint's uses it (e.g.
    /// `referenced by web ACL shop-security`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kept: Option<String>,
}

/// What a window-wide operation gives: per member, in the order given, its
/// own result; the outer error is a failure of the whole window (every
/// member fails with it).
pub type MemberResults<T> = Result<Vec<Result<T>>>;

/// Maintenance mode for load balancers in one region of one account.
///
/// The operations act on a [`Window`]: the load balancers that go into
/// maintenance together under one web ACL (a config service's, or a window
/// of one). Each window-wide call gives one result per member, in order: a
/// window's shared state (allowlist, response, reason, end) is written once
/// however many members it has. [`resolve`](Self::resolve) looks up many
/// load balancers at once and [`cleanup`](Self::cleanup) covers the whole
/// region. The single-target methods ([`enter`](Self::enter) and the rest)
/// act on a window of one.
///
/// Every method is safe to call concurrently for different or the same
/// load balancers, and reads the current state from the backend (never from
/// memory of an earlier call), so a command that died half way is completed
/// by running it again.
#[async_trait]
pub trait MaintenanceBackend: Send + Sync {
    /// Resolves load balancer names and ARNs to the ARNs of existing
    /// Application Load Balancers in this backend's region, one result per
    /// reference, in order. A name that does not exist is
    /// [`Error::TargetNotFound`](crate::Error::TargetNotFound); a load
    /// balancer of another type (network, gateway) or an ARN of another
    /// region is [`Error::InvalidInput`](crate::Error::InvalidInput). The
    /// outer error is for a failure of the whole look-up (e.g. access denied).
    async fn resolve(&self, refs: &[LoadBalancerRef]) -> Result<Vec<Result<ResourceArn>>>;

    /// The backend for CloudFront distributions beside this one: web ACLs
    /// of scope CLOUDFRONT (in us-east-1), set through CloudFront. A fleet
    /// sends it every target that names a distribution, and a service with
    /// distributions and regional resources becomes one window per scope.
    /// The default has none: such targets are refused as bad input.
    async fn cloudfront(&self) -> Result<Arc<dyn MaintenanceBackend>> {
        Err(crate::Error::invalid(
            "target",
            "a CloudFront distribution, which this backend does not reach",
        ))
    }

    /// For each of `lbs`, the AWS Load Balancer Controller that made it
    /// (and reconciles its web ACL), as its tags say; `None`: none. The
    /// default knows of none.
    async fn controllers(&self, lbs: &[ResourceArn]) -> Result<Vec<Option<LbController>>> {
        Ok(vec![None; lbs.len()])
    }

    /// Puts `lbs` into maintenance in `window` as `spec` describes.
    ///
    /// A window that does not exist yet is created (its web ACL, with every
    /// member recorded) and each normal member associated with it. A window
    /// in place is updated once: reason, end and response as `spec` says,
    /// `spec`'s allowlist entries added to those already there (never
    /// removing one), the allowlist's enabled state and `since` kept (see
    /// the window rules' re-entry); members not yet
    /// in it join it. Each member reports the window's changes and its own;
    /// no differences means an unchanged outcome.
    ///
    /// A member under a web ACL maint did not create:
    /// [`Error::ForeignWebAcl`](crate::Error::ForeignWebAcl), nothing of it
    /// changed; in another window of maint's:
    /// [`Error::Conflict`](crate::Error::Conflict). A window of the same name
    /// whose members are all other load balancers (two services of the same
    /// name from different config files): the whole call fails with
    /// [`Error::Conflict`](crate::Error::Conflict), nothing changed.
    async fn enter_window(
        &self,
        window: &Window,
        lbs: &[ResourceArn],
        spec: &MaintenanceSpec,
        mode: Mode,
    ) -> MemberResults<Outcome>;

    /// Takes `lbs` out of maintenance: each is disassociated from the
    /// window of maint's it is in, and leaves its record. A window left
    /// with no member is deleted with its IP sets; one with members left
    /// keeps them in maintenance. Already normal: an unchanged outcome (and
    /// `window`'s leftovers of an interrupted run are deleted). A foreign
    /// web ACL is left alone:
    /// [`Error::ForeignWebAcl`](crate::Error::ForeignWebAcl).
    async fn exit_window(
        &self,
        window: &Window,
        lbs: &[ResourceArn],
        mode: Mode,
    ) -> MemberResults<Outcome>;

    /// Applies one allowlist change to `window`, once, for its members among
    /// `lbs`. The change is applied to freshly read state, and re-applied
    /// if another writer got in between, so concurrent edits all survive. A
    /// member not in the window's maintenance:
    /// [`Error::NotInMaintenance`](crate::Error::NotInMaintenance) (or
    /// [`Error::ForeignWebAcl`](crate::Error::ForeignWebAcl)).
    async fn update_window_allowlist(
        &self,
        window: &Window,
        lbs: &[ResourceArn],
        change: &AllowlistChange,
        mode: Mode,
    ) -> MemberResults<Outcome>;

    /// Reads the state of `lbs`, whose window is `window` (where it helps
    /// to read every member at once, and to find its leftovers).
    async fn window_status(
        &self,
        window: &Window,
        lbs: &[ResourceArn],
    ) -> MemberResults<TargetStatus>;

    /// Arms `lbs` in `window`: maint's own web ACL for the window is created
    /// (or, when in place, brought to `spec`'s allowlist and response, as a
    /// repeated `enter` does) in pass-through form, nothing blocked, and
    /// each member associated at AWS's pace. Afterwards
    /// [`enter_window`](Self::enter_window) switches the window to
    /// maintenance in one update and [`exit_window`](Self::exit_window)
    /// switches it back (still armed). Arming a window already in
    /// maintenance marks it armed and changes nothing else. A member under a
    /// foreign web ACL: [`Error::ForeignWebAcl`](crate::Error::ForeignWebAcl)
    /// (a service with its own web ACL needs no arming: an injected `enter`
    /// is one update already).
    async fn arm_window(
        &self,
        window: &Window,
        lbs: &[ResourceArn],
        spec: &MaintenanceSpec,
        mode: Mode,
    ) -> MemberResults<Outcome>;

    /// Disarms `lbs`: each leaves the armed window (disassociated); the
    /// window goes with its last member. A window in maintenance is refused
    /// ([`Error::Conflict`](crate::Error::Conflict): `exit` first), so a
    /// disarm never ends a maintenance by surprise. Not armed: an unchanged
    /// outcome.
    async fn disarm_window(
        &self,
        window: &Window,
        lbs: &[ResourceArn],
        mode: Mode,
    ) -> MemberResults<Outcome>;

    /// What `request` gets from `lb` now, and why: the live rules of its
    /// web ACL, read once and evaluated (see [`crate::check`]); never a
    /// memory of what maint wrote. Changes nothing.
    async fn check(
        &self,
        lb: &ResourceArn,
        request: &crate::check::CheckRequest,
    ) -> Result<crate::check::CheckReport>;

    /// Every window of maint's in this backend's region: maint's own web
    /// ACLs, and windows injected into a service's own web ACL that have
    /// an IP set (found through its `maint:host-web-acl` tag; one with an
    /// empty allowlist is found only when its members are named). Changes
    /// nothing.
    async fn windows(&self) -> Result<Vec<WindowSummary>>;

    /// The windows `lbs`, named on their own together in one command, are
    /// acted on in, by [`shared_windows`](crate::maintenance::shared_windows)
    /// (`consent`: to inject into a web ACL maint did not create): each
    /// one's association is read once. `None` for a load balancer acted on
    /// in its window of one. The default reads nothing: every load balancer
    /// in its window of one.
    async fn shared_windows(
        &self,
        lbs: &[ResourceArn],
        consent: bool,
    ) -> Result<Vec<Option<Window>>> {
        let _ = consent;
        Ok(vec![None; lbs.len()])
    }

    /// Finds maint's resources that no load balancer uses any more (left by
    /// a run that was killed) and, unless `mode` is a dry run, deletes them.
    /// Returns what was (or would be) deleted.
    async fn cleanup(&self, mode: Mode) -> Result<Vec<Leftover>>;

    /// [`enter_window`](Self::enter_window) for a window of one.
    async fn enter(&self, lb: &ResourceArn, spec: &MaintenanceSpec, mode: Mode) -> Result<Outcome> {
        let window = Window::of_load_balancer(lb);
        one(self
            .enter_window(&window, std::slice::from_ref(lb), spec, mode)
            .await)
    }

    /// [`exit_window`](Self::exit_window) for a window of one.
    async fn exit(&self, lb: &ResourceArn, mode: Mode) -> Result<Outcome> {
        let window = Window::of_load_balancer(lb);
        one(self
            .exit_window(&window, std::slice::from_ref(lb), mode)
            .await)
    }

    /// [`update_window_allowlist`](Self::update_window_allowlist) for a
    /// window of one.
    async fn update_allowlist(
        &self,
        lb: &ResourceArn,
        change: &AllowlistChange,
        mode: Mode,
    ) -> Result<Outcome> {
        let window = Window::of_load_balancer(lb);
        let lbs = std::slice::from_ref(lb);
        one(self
            .update_window_allowlist(&window, lbs, change, mode)
            .await)
    }

    /// [`window_status`](Self::window_status) for a window of one.
    async fn status(&self, lb: &ResourceArn) -> Result<TargetStatus> {
        let window = Window::of_load_balancer(lb);
        one(self.window_status(&window, std::slice::from_ref(lb)).await)
    }
}

/// The one member's result of a window-wide call on a window of one.
fn one<T>(results: MemberResults<T>) -> Result<T> {
    results?
        .into_iter()
        .next()
        .unwrap_or_else(|| Err(crate::Error::unexpected("a backend returned no result")))
}
