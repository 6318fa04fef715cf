//! What the WAF backend observed of a load balancer for a window
//! ([`Placement`]), and the refusal to merge two unrelated services. The
//! window rules themselves (a member's outcome, the refusals of a load
//! balancer under a foreign web ACL or in another window, what a repeated
//! `enter` asks) are the planner's (`crate::plan`), shared with the
//! in-memory backend, and re-exported here for the WAF code.
use aws_sdk_wafv2::types::WebAcl;

use super::acl::{ReadAcl, StateRecord};
use crate::maintenance::Window;
pub(super) use crate::plan::{
    arming_would_enter, elsewhere, foreign, into_shared, may_share, outcome, reentry_changes,
};
use crate::target::ResourceArn;
use crate::Result;

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

/// Refuses to merge two unrelated services (see [`Window::check_joins`]).
pub(super) fn check_identity(
    window: &Window,
    record: &StateRecord,
    lbs: &[ResourceArn],
) -> Result<()> {
    window.check_joins(
        &record.window,
        record.service.as_deref(),
        record.members.iter().map(String::as_str),
        lbs,
    )
}
