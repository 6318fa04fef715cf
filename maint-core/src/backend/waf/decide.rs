//! The window-rule decisions of the WAF backend, as free functions: the
//! outcome of a member, the refusals of a load balancer under a foreign web
//! ACL or in another window of maint's, where a load balancer stands with a
//! window ([`Seen`]), what a repeated `enter` asks, and the refusal to merge
//! two unrelated services. Kept together, apart from the AWS calls, so the
//! shared window planner can take their place.
use aws_sdk_wafv2::types::WebAcl;

use super::acl::{ReadAcl, StateRecord};
use crate::maintenance::{
    reentry_spec, spec_changes, Change, MaintenanceInfo, MaintenanceSpec, Mode, Outcome, Window,
};
use crate::target::LoadBalancerArn;
use crate::{Error, Result};

pub(super) fn outcome(lb: &LoadBalancerArn, mode: Mode, changes: Vec<Change>) -> Outcome {
    Outcome {
        load_balancer: lb.clone(),
        mode,
        changes,
    }
}

pub(super) fn foreign(lb: &LoadBalancerArn, arn: String, name: String) -> Error {
    Error::ForeignWebAcl {
        load_balancer: lb.to_string(),
        web_acl_arn: arn,
        web_acl_name: name,
    }
}

/// The refusal of a member that is in another window of maint's.
pub(super) fn elsewhere(lb: &LoadBalancerArn, other: &str, window: &Window) -> Error {
    Error::Conflict {
        resource: lb.to_string(),
        message: format!(
            "it is in maintenance in window {other}, not {}; act on it through that window \
             (name all its load balancers together, or its config service)",
            window.name()
        ),
    }
}

/// What a load balancer is to a window.
pub(super) enum Seen {
    /// Associated with the window's web ACL.
    Member,
    /// No web ACL.
    Normal,
    /// In another window of maint's (its web ACL and record).
    Elsewhere(Box<WebAcl>, Box<ReadAcl>),
    /// Under a web ACL maint did not create.
    Foreign { arn: String, name: String },
}

/// What a repeated `enter` or `arm` asks of a window read as `read` (see
/// [`reentry_spec`]) and the changes it makes, first of them putting back
/// maint's rule when it was changed outside maint.
pub(super) fn reentry(
    read: &ReadAcl,
    current: &MaintenanceInfo,
    spec: &MaintenanceSpec,
) -> Result<(MaintenanceSpec, Vec<Change>)> {
    let wanted = reentry_spec(current, spec)?;
    let mut changes = spec_changes(current, &wanted);
    if let Some(what) = read.damage {
        changes.insert(0, Change::RuleRestored { what: what.into() });
    }
    Ok((wanted, changes))
}

/// Refuses to merge two unrelated services (see [`Window::check_joins`]).
pub(super) fn check_identity(
    window: &Window,
    record: &StateRecord,
    lbs: &[LoadBalancerArn],
) -> Result<()> {
    window.check_joins(
        &record.window,
        record.service.as_deref(),
        record.members.iter().map(String::as_str),
        lbs,
    )
}
