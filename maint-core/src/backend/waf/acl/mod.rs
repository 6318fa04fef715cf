//! The shape of maint's web ACL, built from and read back into domain
//! values. Pure functions, no AWS calls (see the module doc of `waf` for the
//! design), by concern:
//! - [`names`]: the names of maint's rules, bodies, IP sets and tags;
//! - [`record`]: the window's state record and its codec (custom response
//!   bodies);
//! - [`rules`]: maint's rule builder;
//! - [`reader`]: a web ACL read back into maint's terms;
//! - [`compose`]: maint's rules in a service's own web ACL, and the limits
//!   they must fit.

mod compose;
mod names;
mod reader;
mod record;
mod rules;

pub(crate) use compose::{compose, each_statement, first_place, restore, will_not_fit, MAX_WCU};
pub(crate) use names::{
    ip_set_name, is_maint_rule, name_and_id, tags, IpSetId, PartNames, MANAGED_BY, SLOTS,
    TAG_CREATED, TAG_HOST, TAG_LOAD_BALANCER, TAG_MANAGED_BY, TAG_WINDOW,
};
pub(crate) use reader::{read_acl, read_for, read_parts, sharing, ReadAcl};
pub(crate) use record::{Injection, StateRecord};
pub(crate) use rules::{bodies, default_action, rules, visibility, AclSpec};

#[cfg(test)]
mod tests;
