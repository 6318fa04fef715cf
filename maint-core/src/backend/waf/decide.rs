//! What the WAF backend observed of a load balancer for a window
//! ([`Placement`]). The window rules themselves (a member's outcome, the refusals of a load
//! balancer under a foreign web ACL or in another window, what a repeated
//! `enter` asks) are the planner's (`crate::plan`), shared with the
//! in-memory backend, and re-exported here for the WAF code.
use aws_sdk_wafv2::types::WebAcl;

use super::acl::ReadAcl;
pub(super) use crate::plan::{elsewhere, foreign, may_share, outcome, reentry_changes};

/// What a load balancer is to a window.
pub(super) enum Placement {
    /// Associated with the window's web ACL.
    Member,
    /// No web ACL.
    Normal,
    /// In another window of maint's (its web ACL and record).
    Elsewhere(Box<WebAcl>, Box<ReadAcl>),
    /// Under a web ACL maint did not create.
    Foreign { arn: String, name: String },
}
