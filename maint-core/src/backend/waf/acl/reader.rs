//! The ACL reader: a web ACL as AWS returns it, read back into maint's
//! terms ([`ReadAcl`]: the window's record, its response, whether maint's
//! rule is there as written).

use std::collections::HashMap;

use aws_sdk_wafv2::types::{CustomHttpHeader, CustomResponseBody, Rule, WebAcl};

use super::names::{PartNames, MANAGED_BY};
use super::record::{state_text, StateRecord};
use super::rules::{allowlist_on, bypass_on};
use crate::maintenance::SharedWindow;
use crate::response::{
    ContentType, MaintenanceResponse, ResponseBody, ResponseHeader, ResponseHeaders,
    ResponseStatus, MARKER_HEADER,
};
use crate::{Error, Result};

/// A web ACL of maint's, or a service's own web ACL with maint's rule
/// injected, as read back.
#[derive(Debug, Clone)]
pub(crate) struct ReadAcl {
    pub record: StateRecord,
    pub response: MaintenanceResponse,
    /// False when the record is there but maint's rule is gone: in a
    /// service's own web ACL, someone removed it (an IaC apply).
    pub rule_present: bool,
    /// The revision in the maintenance rule's marker header (see
    /// [`revision`]); `None` in rules written before markers.
    pub revision: Option<String>,
    /// What of maint's rule was changed outside maint (set to Count in the
    /// console, its statement or response edited, removed from maint's own
    /// web ACL), when it was: the window is damaged. `status` reports it as
    /// an error; `enter` writes maint's rule again from the record, `exit`
    /// ends the window; `response` is then what could be recovered (the
    /// page body, else maint's default).
    pub damage: Option<&'static str>,
}

impl ReadAcl {
    /// Whether this is a window injected into a service's own web ACL.
    pub fn injected(&self) -> bool {
        self.record.injected.is_some()
    }

    /// The error `status` reports for a damaged window in `acl`, with how
    /// to recover it; `None` when the window is whole.
    pub fn damage_error(&self, acl: &WebAcl) -> Option<Error> {
        let what = self.damage?;
        let fix = if self.injected() {
            "run `maint enter` again to restore maint's rule, or `maint exit` to remove \
             maint's part of it"
        } else {
            "run `maint enter` again to restore it, or `maint exit` to end the window"
        };
        Some(Error::unexpected(format!(
            "web ACL {} holds maint's window {} but its {what} was changed outside maint; {fix}",
            acl.name(),
            self.record.window
        )))
    }
}

/// Reads a web ACL as a window of maint's: its first part (see
/// [`read_parts`]). `None` when it holds none.
pub(crate) fn read_acl(acl: &WebAcl) -> Result<Option<ReadAcl>> {
    Ok(read_parts(acl)?.into_iter().next())
}

/// Reads a web ACL as seen by window `window`: its part of it, else (a
/// web ACL holding other windows, or none of maint's) as [`read_acl`].
pub(crate) fn read_for(acl: &WebAcl, window: &str) -> Result<Option<ReadAcl>> {
    let mut parts = read_parts(acl)?;
    let at = parts
        .iter()
        .position(|p| p.record.window == window)
        .unwrap_or(0);
    Ok((at < parts.len()).then(|| parts.swap_remove(at)))
}

/// The windows whose parts `acl` holds besides `shown`'s, as `status`
/// lists them.
pub(crate) fn sharing(acl: &WebAcl, shown: &str) -> Result<Vec<SharedWindow>> {
    Ok(read_parts(acl)?
        .into_iter()
        .filter(|p| p.record.window != shown)
        .map(|p| SharedWindow {
            in_maintenance: p.rule_present && p.record.active,
            window: p.record.window,
            scope: p.record.scope,
        })
        .collect())
}

/// Reads a web ACL as the windows of maint's it holds, one per part (see
/// [`PartNames`]), the first part first. A part is left out when it is
/// not one of maint's (no state record, or one naming another window, or
/// a copy where maint would never have written it): such a part is never
/// touched. A service's own web ACL holding a record of an injected
/// window reads as that window. A record written before windows (one
/// load balancer) reads as a window of one.
pub(crate) fn read_parts(acl: &WebAcl) -> Result<Vec<ReadAcl>> {
    let Some(bodies) = acl.custom_response_bodies() else {
        return Ok(Vec::new());
    };
    Ok(PartNames::in_bodies(bodies.keys())
        .iter()
        .filter_map(|names| read_part(acl, bodies, names))
        .collect())
}

/// The part `names` of `acl`, read as in [`read_parts`].
fn read_part(
    acl: &WebAcl,
    all_bodies: &HashMap<String, CustomResponseBody>,
    names: &PartNames,
) -> Option<ReadAcl> {
    let bodies = Some(all_bodies);
    let state = state_text(all_bodies, names)?;
    let mut record = serde_json::from_str::<StateRecord>(&state).ok()?;
    // A part's record says which part it is, and its id is its window's.
    let part_right = match names.id() {
        None => record.part.is_none(),
        Some(id) => {
            record.part.as_deref() == Some(id) && PartNames::sharing(&record.window) == *names
        }
    };
    if !part_right {
        return None;
    }
    if let Some(prefix) = record.member_prefix.take() {
        for m in &mut record.members {
            m.insert_str(0, &prefix);
        }
    }
    let own = acl.name().starts_with("maint-") && record.injected.is_none();
    if own && record.window.is_empty() {
        record.window = acl.name().to_string();
    }
    if let Some(lb) = record.load_balancer.take() {
        if !record.members.contains(&lb) {
            record.members.push(lb);
        }
    }
    // maint injects the first part only into a service's own web ACL,
    // never into one named like maint's: a first part saying "injected" in
    // a web ACL named `maint-...` is a copy (or a forgery), not a window
    // maint can trust. A sharing part (a window that shares another's web
    // ACL on one load balancer) may be in either; what maint deletes for
    // it is checked by tags.
    let named_right = if own {
        record.window == acl.name()
    } else {
        record.injected.is_some()
            && record.window.starts_with("maint-")
            && (!acl.name().starts_with("maint-") || names.id().is_some())
    };
    if record.managed_by != MANAGED_BY || !named_right {
        return None;
    }
    let rule_name = names.rule();
    let Some(rule) = acl.rules().iter().find(|r| r.name() == rule_name) else {
        return Some(ReadAcl {
            record,
            response: recovered_response(bodies, names),
            rule_present: false,
            revision: None,
            // In a service's own web ACL a missing rule is a reverted
            // window (an IaC apply); in maint's own, damage.
            damage: own.then_some("maintenance rule"),
        });
    };
    Some(match read_rule(rule, bodies, &record) {
        Ok((response, revision)) => ReadAcl {
            record,
            response,
            rule_present: true,
            revision,
            damage: None,
        },
        Err(what) => ReadAcl {
            record,
            response: recovered_response(bodies, names),
            rule_present: true,
            revision: None,
            damage: Some(what),
        },
    })
}

/// The response of a damaged window: its page, as maint last wrote it,
/// with maint's default status and headers; maint's default response when
/// the page cannot be read either.
fn recovered_response(
    bodies: Option<&HashMap<String, CustomResponseBody>>,
    names: &PartNames,
) -> MaintenanceResponse {
    bodies
        .and_then(|b| b.get(&names.page_key()))
        .and_then(|page| {
            let content_type = ContentType::from_waf_name(page.content_type().as_str())?;
            ResponseBody::new(content_type, page.content().to_string()).ok()
        })
        .and_then(|body| {
            let content_type = body.content_type();
            MaintenanceResponse::build(None, None, Some(body), content_type, Vec::new()).ok()
        })
        .unwrap_or_default()
}

/// maint's rule as maint writes it for `record`: its response and the
/// revision in its marker; else what of it was changed outside maint.
fn read_rule(
    rule: &Rule,
    bodies: Option<&HashMap<String, CustomResponseBody>>,
    record: &StateRecord,
) -> std::result::Result<(MaintenanceResponse, Option<String>), &'static str> {
    let custom = rule
        .action()
        .and_then(|a| a.block())
        .and_then(|b| b.custom_response())
        .ok_or("rule action")?;
    let status = u16::try_from(custom.response_code())
        .ok()
        .and_then(|c| ResponseStatus::new(c).ok())
        .ok_or("response status")?;
    let page = custom
        .custom_response_body_key()
        .and_then(|key| bodies.and_then(|b| b.get(key)))
        .ok_or("response body")?;
    let content_type =
        ContentType::from_waf_name(page.content_type().as_str()).ok_or("response content type")?;
    let body =
        ResponseBody::new(content_type, page.content().to_string()).map_err(|_| "response body")?;
    let is_marker = |h: &&CustomHttpHeader| h.name().eq_ignore_ascii_case(MARKER_HEADER);
    let revision = custom
        .response_headers()
        .iter()
        .find(is_marker)
        .and_then(|h| h.value().rsplit_once("rev="))
        .map(|(_, rev)| rev.to_string());
    let headers = custom
        .response_headers()
        .iter()
        .filter(|h| !is_marker(h))
        .map(|h| ResponseHeader::new(h.name(), h.value()))
        .collect::<std::result::Result<Vec<_>, _>>()
        .and_then(ResponseHeaders::new)
        .map_err(|_| "response headers")?;
    // The statement's shape must agree with the record: pass-through
    // NOT(match all), letting requests through OR(probe, NOT(...)) (or,
    // written before probes, NOT(...)), else all.
    let mut top = rule.statement();
    // A scoped window in maintenance: AND(its scope's matches, as the
    // record says them, then the statement above).
    let scope = if record.active {
        super::rules::in_scope(&record.scope).map_err(|_| "rule statement")?
    } else {
        Vec::new()
    };
    if !scope.is_empty() {
        let parts = top
            .and_then(|s| s.and_statement())
            .map(|a| a.statements())
            .unwrap_or_default();
        match parts.split_last() {
            Some((last, first)) if first == scope.as_slice() => top = Some(last),
            _ => return Err("rule statement"),
        }
    }
    let negated = top.and_then(|s| {
        s.not_statement().or_else(|| {
            s.or_statement()
                .and_then(|o| o.statements().last())
                .and_then(|last| last.not_statement())
        })
    });
    let inner = negated.and_then(|n| n.statement());
    let passes_all = inner.is_some_and(|s| s.size_constraint_statement().is_some());
    let lets_through = inner.is_some() && !passes_all;
    let should_let_through = allowlist_on(record) || bypass_on(record).is_some();
    if passes_all == record.active || lets_through != should_let_through {
        return Err("rule statement");
    }
    Ok((
        MaintenanceResponse::from_parts(status, body, headers),
        revision,
    ))
}
