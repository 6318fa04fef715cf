//! Composing maint's rules into a web ACL that holds others' (a window
//! injected into a service's own web ACL): maint's rules first, the rest
//! renumbered and sent back as read; taking them out again exactly; and the
//! checks that they fit AWS WAF's limits.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_wafv2::types::{CustomResponseBody, Rule, Statement, WebAcl};

use super::names::PartNames;
use super::record::Injection;
use super::rules::{bodies, rules, AclSpec};
use crate::{Error, Result};

/// WAF's limits on one web ACL that maint's additions must fit in.
pub(crate) const MAX_WCU: i64 = 5_000;
/// IP sets, regex pattern sets and rule groups one web ACL may reference.
pub(crate) const MAX_REFERENCES: usize = 50;
/// Custom response bodies in one web ACL.
pub(crate) const MAX_BODIES: usize = 50;
/// Custom response headers in one web ACL.
pub(crate) const MAX_HEADERS_PER_ACL: usize = 100;

/// Which rules of a service's own web ACL must move up by `slots` for the
/// rules of maint's part `names` to go first, at priorities 0 to
/// `slots - 1`: the rules below the first run of `slots` free priorities
/// (none when 0 to `slots - 1` are free), other windows' parts included.
/// Rule name -> priority now.
pub(crate) fn first_place(acl: &WebAcl, slots: i32, names: &PartNames) -> BTreeMap<String, i32> {
    let rules: Vec<&Rule> = acl
        .rules()
        .iter()
        .filter(|r| !names.is_rule(r.name()))
        .collect();
    let taken = |p: i32| rules.iter().any(|r| r.priority() == p);
    // Shifted by `slots`, the rules below `run` land on priorities below
    // `run + slots`, which the others (all at `run + slots` or above) leave
    // free.
    let mut run = 0;
    while (run..run + slots).any(taken) {
        run += 1;
    }
    rules
        .iter()
        .filter(|r| r.priority() < run)
        .map(|r| (r.name().to_string(), r.priority()))
        .collect()
}

/// The rules and bodies of `acl` with the rules and bodies of the window's
/// part from `spec` in place of any it had before: its rules first (see
/// [`rules`]), every other rule and body (other windows' parts included)
/// as it is, except that when the part's rule is not there yet, the rules
/// the record's injection says to shift (see [`first_place`]) move up by
/// its slots.
pub(crate) fn compose(
    acl: &WebAcl,
    spec: &AclSpec<'_>,
) -> Result<(Vec<Rule>, HashMap<String, CustomResponseBody>)> {
    let names = PartNames::of(spec.record.part.as_deref());
    let rule_name = names.rule();
    let slots = spec.record.slots();
    // A part in place keeps its place (another window's part may have
    // gone in before it since); a new one goes first.
    let base = acl
        .rules()
        .iter()
        .find(|r| r.name() == rule_name)
        .map(|r| r.priority() - (slots - 1));
    let present = base.is_some();
    let base = base.unwrap_or(0).max(0);
    let mut rules: Vec<Rule> = acl
        .rules()
        .iter()
        .filter(|r| !names.is_rule(r.name()))
        .cloned()
        .collect();
    if let (false, Some(injection)) = (present, &spec.record.injected) {
        for rule in &mut rules {
            if injection.renumbered.get(rule.name()) == Some(&rule.priority()) {
                rule.priority += slots;
            }
        }
    }
    if let Some(r) = rules
        .iter()
        .find(|r| (base..base + slots).contains(&r.priority()))
    {
        return Err(Error::Conflict {
            resource: acl.arn().to_string(),
            message: format!(
                "rule {} of web ACL {} took priority {}, where maint's rules go",
                r.name(),
                acl.name(),
                r.priority()
            ),
        });
    }
    let mut mine = self::rules(spec, acl.name())?;
    for rule in &mut mine {
        rule.priority += base;
    }
    mine.append(&mut rules);
    let rules = mine;
    let mut all = others_bodies(acl, &names);
    all.extend(bodies(spec)?);
    Ok((rules, all))
}

/// The custom response bodies of `acl` that are not the part `names`'s.
fn others_bodies(acl: &WebAcl, names: &PartNames) -> HashMap<String, CustomResponseBody> {
    acl.custom_response_bodies()
        .map(|b| {
            b.iter()
                .filter(|(k, _)| !names.is_body(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// The rules and bodies of a service's own web ACL with everything the
/// window's part `names` added taken out: its rules and bodies, and the
/// priorities it shifted put back (where the old priority is still free;
/// a rule someone moved meanwhile keeps where they put it). Rules and
/// bodies others added during the window stay, other windows' parts
/// included.
pub(crate) fn restore(
    acl: &WebAcl,
    injection: &Injection,
    names: &PartNames,
) -> (Vec<Rule>, HashMap<String, CustomResponseBody>) {
    let mut rules: Vec<Rule> = acl
        .rules()
        .iter()
        .filter(|r| !names.is_rule(r.name()))
        .cloned()
        .collect();
    // Lowest first, so each old priority is freed before it is wanted.
    let mut order: Vec<usize> = (0..rules.len()).collect();
    order.sort_by_key(|&i| rules[i].priority());
    for i in order {
        let Some(&old) = injection.renumbered.get(rules[i].name()) else {
            continue;
        };
        let free = !rules.iter().any(|r| r.priority() == old);
        if rules[i].priority() == old + injection.slots && free {
            rules[i].priority = old;
        } else if rules[i].priority() != old {
            tracing::warn!(
                rule = rules[i].name(),
                priority = rules[i].priority(),
                "left at its current priority: it was moved while maint's rule was there"
            );
        }
    }
    (rules, others_bodies(acl, names))
}

/// Why the rules and bodies of maint's part `names` cannot go into a
/// service's own web ACL (`None`: they fit): a rule or body of the ACL
/// already has the part's name, or one of WAF's per-ACL limits would be
/// exceeded.
pub(crate) fn will_not_fit(
    acl: &WebAcl,
    rules: &[Rule],
    bodies: &HashMap<String, CustomResponseBody>,
    names: &PartNames,
) -> Option<String> {
    let name = acl.name();
    if let Some(r) = acl.rules().iter().find(|r| names.is_rule(r.name())) {
        return Some(format!(
            "web ACL {name} already has a rule named {} that maint did not record",
            r.name()
        ));
    }
    if let Some(b) = acl.custom_response_bodies() {
        if let Some(key) = b.keys().find(|k| names.is_body(k)) {
            return Some(format!(
                "web ACL {name} already has a custom response body named {key}"
            ));
        }
    }
    let references: usize = rules
        .iter()
        .filter_map(Rule::statement)
        .map(count_references)
        .sum();
    if references > MAX_REFERENCES {
        return Some(format!(
            "with maint's IP sets, web ACL {name} would reference {references} IP sets, regex \
             pattern sets and rule groups; AWS WAF allows {MAX_REFERENCES}"
        ));
    }
    if bodies.len() > MAX_BODIES {
        return Some(format!(
            "with maint's 2 custom response bodies, web ACL {name} would have {}; AWS WAF \
             allows {MAX_BODIES}",
            bodies.len()
        ));
    }
    let headers: usize = rules
        .iter()
        .filter_map(|r| r.action())
        .filter_map(|a| a.block())
        .filter_map(|b| b.custom_response())
        .map(|c| c.response_headers().len())
        .sum::<usize>()
        + acl
            .default_action()
            .and_then(|d| d.block())
            .and_then(|b| b.custom_response())
            .map_or(0, |c| c.response_headers().len());
    if headers > MAX_HEADERS_PER_ACL {
        return Some(format!(
            "with maint's response headers, web ACL {name} would have {headers} custom \
             response headers; AWS WAF allows {MAX_HEADERS_PER_ACL}"
        ));
    }
    None
}

/// How many IP sets, regex pattern sets and rule groups a statement
/// references, nested statements included.
fn count_references(s: &Statement) -> usize {
    let mut count = 0;
    each_statement(s, &mut |s| {
        count += usize::from(s.ip_set_reference_statement().is_some())
            + usize::from(s.regex_pattern_set_reference_statement().is_some())
            + usize::from(s.rule_group_reference_statement().is_some());
    });
    count
}

/// Calls `visit` with `s` and with every statement nested in it: in AND,
/// OR and NOT statements, and the scope-down statements of rate-based and
/// managed rule group statements.
pub(crate) fn each_statement<'a>(s: &'a Statement, visit: &mut impl FnMut(&'a Statement)) {
    visit(s);
    let nested = s
        .and_statement()
        .map(|a| a.statements())
        .into_iter()
        .chain(s.or_statement().map(|o| o.statements()))
        .flatten()
        .chain(s.not_statement().and_then(|n| n.statement()))
        .chain(
            s.rate_based_statement()
                .and_then(|r| r.scope_down_statement()),
        )
        .chain(
            s.managed_rule_group_statement()
                .and_then(|m| m.scope_down_statement()),
        );
    for inner in nested {
        each_statement(inner, visit);
    }
}
