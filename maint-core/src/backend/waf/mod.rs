//! [`WafBackend`]: maintenance mode on AWS WAF, for Application Load
//! Balancers, the other regional resources AWS WAF protects, and CloudFront
//! distributions.
//!
//! # CloudFront distributions
//! A backend acts in one Region at scope REGIONAL; beside it,
//! [`MaintenanceBackend::cloudfront`](crate::backend::MaintenanceBackend::cloudfront)
//! gives the backend of scope CLOUDFRONT (web ACLs in us-east-1), which the
//! fleet sends every distribution, so a window never mixes the scopes. Its
//! client reads and sets a distribution's web ACL through CloudFront
//! (`distributions.rs`: `GetDistributionConfig`, then `UpdateDistribution`
//! with `IfMatch`, only `WebACLId` changed, and only while it is still the
//! web ACL read; `PreconditionFailed` reads again), and lists what a web
//! ACL protects from `ListDistributions`; everything else (web ACLs, IP
//! sets, records, inject) is the same code at the other scope.
//!
//! # What maint creates, per window
//! A window is the load balancers that go into maintenance together: a
//! config service's (named `maint-svc-<service>`), or one load balancer named
//! on its own (`maint-<name>-<id>`). Per window, in the region:
//! - A web ACL named after the window (scope REGIONAL) whose default action
//!   is **Allow** and whose rule `maint-maintenance` (priority 2) gives
//!   *every request that is not let through the maintenance response* (a
//!   Block action with a custom response: status, body `maint-page`,
//!   headers). Its statement is
//!   - `NOT(OR(let through))` while something lets requests through: the
//!     allowlist set(s) (while enabled and not empty), or the label
//!     `maint:allowlisted` when the address comes from a header, and the
//!     bypass secret in the `x-maint-bypass` header or the `maint_bypass`
//!     cookie (while the bypass is enabled);
//!   - a statement that matches every request (URI path size >= 0) when
//!     nothing lets requests through;
//!   - `NOT(match every request)` in an armed window's pass-through form.
//!
//!   Two more rules only when needed: `maint-bypass-link` (priority 1)
//!   answers `/maint-bypass/<secret>` with a 302 to `/` that sets the bypass
//!   cookie; `maint-client-ip` (priority 0, Count) labels a request whose
//!   address from a proxy's header (`IPSetForwardedIPConfig`) is on the
//!   allowlist. It is a rule of its own because WAF does not apply a
//!   forwarded-IP rule at all to a request without the header: inside the
//!   maintenance rule that would let such a request through; here it only
//!   means no label, so the maintenance response.
//!
//!   Being self-contained, the same rules can later sit at the top of a web
//!   ACL a service already runs (priorities 0 to 2): let-through requests
//!   continue into that ACL's own rules.
//! - IP sets `<window>-ipv4` and `-ipv6` (a WAF IP set holds one family),
//!   created when the allowlist first has entries of that family.
//! - A second custom response body, `maint-state`, that no rule sends: a JSON
//!   record of the window (owner, window name, service, members, reason,
//!   since, until, the IP sets' ARNs). It is part of the web ACL, so it
//!   changes atomically with the rule under one lock token and comes back
//!   with the same read that tells what is associated. Members are recorded
//!   before they are associated, so an interrupted run is finished (or
//!   undone) by running a command again. Whether the allowlist is enabled is
//!   read from the rule itself: what WAF enforces is the record of it. AWS
//!   WAF allows 4 KB per body: a record of dozens of members is written
//!   with their common ARN prefix once, and cut into `maint-state-2`,
//!   `maint-state-3`... when still longer (up to the 100 ALBs a web ACL may
//!   protect).
//! - Every resource is tagged `maint:managed-by=maint` and
//!   `maint:window=<window>`.
//! - The rules, bodies and label above are a window's *part* of its web
//!   ACL (`acl/names.rs`, `PartNames`). The first part has the names
//!   above; a window that shares a web ACL with another (services scoped
//!   to their hosts on one load balancer) has names of its own,
//!   `maint-p<8 hex digits of its name's hash>-maintenance`, `-page`,
//!   `-state` and label `maint:allowlisted:p<...>`, so one service's
//!   allowlist never lets anyone into another. The reader reads every
//!   part; composing and restoring touch one part and keep the others in
//!   place. The first window on a load balancer owns its web ACL; a
//!   window scoped apart from the ones there adds its own part beside
//!   theirs, and one whose scope overlaps theirs is refused, nothing
//!   changed (the planner's rule, `crate::plan`).
//!
//! Every member is associated with the one web ACL, so an allowlist edit,
//! an enable or disable, or a re-enter is one write however many load
//! balancers the service has, and a fleet stays far inside AWS's 100 web
//! ACLs per account and Region. A partial `exit` leaves the window to the
//! other members; the last one out deletes it. Which load balancers use a
//! window is read with one `ListResourcesForWebACL` (or, where that call is
//! not available, `GetWebACLForResource` per recorded member).
//!
//! # Safety
//! - A web ACL is maint's only when its name starts `maint-` and its state
//!   record names it as the window; leftovers found by name are touched only
//!   when their tags say they are maint's for that window. Anything else is
//!   foreign: `enter` refuses and names it.
//! - Two services of the same name (two config files in one account) are
//!   never merged: a window whose recorded members are all other load
//!   balancers, or of another service, refuses the `enter`.
//! - Names are deterministic, and leftovers are looked up by name before
//!   anything is created, so a run killed at any point is completed by
//!   running the same command again; `exit` on a normal target also removes
//!   leftovers of a crashed `enter`.
//! - Updates go through WAF lock tokens. On `WAFOptimisticLockException` the
//!   state is read again and the *change* re-applied, never a stale list.
//! - `AssociateWebACL` silently replaces whatever is associated and
//!   `DisassociateWebACL` removes whatever is: the association is read again
//!   right before every attempt of each of them, retries after throttling
//!   included (the SDK is told not to retry these two calls itself). A web ACL that appeared since maint's first
//!   look is never replaced or removed (the error names it), and what maint
//!   made for the window is deleted so nothing leaks. What remains is the
//!   time between that read and AWS applying the call, one round trip: AWS
//!   has no conditional associate.
//! - Bounded, jittered retries: `WAFUnavailableEntityException` on associate
//!   (a new web ACL takes time to propagate), `WAFAssociatedItemException` on
//!   delete (a disassociation takes time to propagate). Every wait is logged
//!   through `tracing`.
//!
//! # AWS's call-rate quotas
//! AWS WAF allows, per account and Region and for every caller together, one
//! `AssociateWebACL` and one `DisassociateWebACL` every 2 seconds, one
//! `GetWebACLForResource` per second, one call per second of each Create or
//! Update action and five of each other Get or List action (see
//! [`CallRates`]). Every call waits its turn in a token bucket per action,
//! shared by every backend of the process for the Region, so many targets
//! never storm AWS; `waf_quota_percent` in the config file (or
//! `MAINT_WAF_QUOTA_PERCENT`) leaves room for other callers. A
//! `ThrottlingException` that still happens (another caller) is waited out
//! until [`WafSettings::throttle_deadline`], never counted against a small
//! number of attempts. `WAFLimitsExceededException` is an account quota (100
//! web ACLs or IP sets): reported at once, naming the quota.
//!
//! # Layers
//! In the manner of `object_store`'s `aws` module, from the bottom up:
//! - `client.rs`: `WafClient` holds the SDK clients
//!   (AWS WAF, ELBv2) and makes every AWS call, one method per call, paced
//!   (`pacing.rs`: [`CallRates`] and the token buckets), retried on AWS's
//!   terms, its errors mapped (`errors.rs`); nothing above it calls the SDK.
//! - `store.rs`: `WafStore`, maint's web ACLs, IP sets, associations and
//!   inventory over the client, in files by concern (`web_acls.rs`,
//!   `associations.rs`, `ip_sets.rs`, `inventory.rs`, `cleanup.rs`,
//!   `elb.rs`, `inject.rs`, `live.rs`).
//! - `construct.rs`: the [`WafBackend`] type and how it is made.
//! - `backend.rs`: [`WafBackend`]'s
//!   [`MaintenanceBackend`](crate::backend::MaintenanceBackend) trait on
//!   top, asking the store; beside it, where members stand with a window
//!   (`locate.rs`), members joining and leaving (`membership.rs`), the
//!   window-rule decisions (`decide.rs`), and windows injected into a
//!   service's own web ACL (`injected_windows.rs`).
//! - Beside them, pure: `acl/` (the web ACL's shape: names, state record,
//!   rule builder, reader, composing), [`evaluate`] (the WAF JSON evaluator
//!   behind `maint check`), `settings.rs` ([`WafSettings`], [`AwsOptions`],
//!   [`waf_factory`]).

mod acl;
mod apply;
mod associations;
mod backend;
mod cleanup;
mod client;
mod construct;
mod decide;
mod distributions;
mod elb;
mod errors;
pub mod evaluate;
mod inject;
mod injected_windows;
mod inventory;
mod ip_sets;
mod live;
mod locate;
mod observe;
mod pacing;
mod roles;
mod settings;
mod store;
mod web_acls;

pub use construct::WafBackend;
pub use pacing::CallRates;
pub use settings::{caller_identity, waf_factory, AwsOptions, WafSettings};
