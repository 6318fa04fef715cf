//! What the WAF backend shows the planner ([`crate::plan`]): the members
//! named and the web ACLs they are under, read from AWS into an
//! [`Observation`] ([`WafBackend::observation`]), kept beside the web ACLs
//! as read, which the writes of a plan's steps start from.
//!
//! The reads are [`WafBackend::locate`]'s (as few `GetWebACLForResource`,
//! one a second, as it can), plus what the request's rules need
//! ([`Need`]): who is associated with each web ACL
//! (`ListResourcesForWebACL`), and the window's allowlist (its IP sets).
use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_wafv2::types::WebAcl;

use super::acl::{self, ReadAcl};
use super::construct::WafBackend;
use super::decide::Placement;
use super::ip_sets::WindowSets;
use super::locate::Located;
use super::store::WafStore;
use super::web_acls::ReadWindow;
use crate::allowlist::Allowlist;
use crate::maintenance::Window;
use crate::plan::{Observation, ObservedAcl, WindowRecord};
use crate::target::ResourceArn;
use crate::{Error, Result};

/// What a request's rules read beyond where each member is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Need {
    /// The load balancers associated with each web ACL observed (one
    /// `ListResourcesForWebACL` each): who leaves last, who must leave
    /// together (`exit`, `disarm`, `enter`, `arm`). Without it, a web ACL's
    /// `associated` is the members named that were found under it, which
    /// is all an allowlist edit's rules read.
    pub(super) associations: bool,
    /// The window's allowlist (its IP sets): what a repeated `enter` or an
    /// allowlist edit changes.
    pub(super) allowlist: bool,
}

impl Need {
    /// `enter` and `arm`.
    pub(super) const ENTER: Need = Need {
        associations: true,
        allowlist: true,
    };
    /// `exit` and `disarm`.
    pub(super) const LEAVE: Need = Need {
        associations: true,
        allowlist: false,
    };
    /// An allowlist edit.
    pub(super) const ACCESS: Need = Need {
        associations: false,
        allowlist: true,
    };
}

/// A window as the WAF backend observed it.
pub(super) struct Seen {
    /// What the planner is given.
    pub(super) observation: Observation,
    /// The web ACLs observed that hold parts of maint's, as read, by ARN.
    pub(super) acls: BTreeMap<String, WebAcl>,
    /// The window's allowlist and IP sets, when they were read.
    pub(super) sets: Option<WindowSets>,
}

impl Seen {
    /// Web ACL `arn` as read, and window `window`'s part of it.
    pub(super) fn part(&self, arn: &str, window: &str) -> Result<(WebAcl, ReadAcl)> {
        let acl = self
            .acls
            .get(arn)
            .ok_or_else(|| Error::unexpected(format!("web ACL {arn} was not observed")))?;
        let part = acl::read_parts(acl)?
            .into_iter()
            .find(|p| p.record.window == window)
            .ok_or_else(|| {
                Error::unexpected(format!("web ACL {} holds no window {window}", acl.name()))
            })?;
        Ok((acl.clone(), part))
    }
}

impl WafBackend {
    /// Observes `window` and `lbs`, the members named, for the planner:
    /// where each one is, the web ACLs they are under, the window's own
    /// (found by name), and what `need` asks of them.
    pub(super) async fn observation(
        &self,
        window: &Window,
        lbs: &[ResourceArn],
        need: Need,
    ) -> Result<Seen> {
        let Located {
            window: found,
            seen,
            sets,
        } = self.locate(window, lbs, !need.allowlist, None).await?;
        // maint's own web ACL of the window: the one found, unless the
        // window's part there is injected; else by name.
        let own = match &found {
            Some(w) if !w.read.injected() => Some(w.clone()),
            _ => self
                .store
                .find_window(window, false)
                .await?
                .map(|(locked, read)| ReadWindow::new(locked.acl, read)),
        };
        let mut read: BTreeMap<String, WebAcl> = BTreeMap::new();
        for w in found.iter().chain(&own) {
            read.entry(w.acl.arn().to_string())
                .or_insert_with(|| (*w.acl).clone());
        }
        let mut foreign: BTreeMap<String, String> = BTreeMap::new();
        let members: Vec<Result<Option<String>>> = seen
            .into_iter()
            .map(|placed| {
                Ok(match placed? {
                    Placement::Normal => None,
                    Placement::Member => Some(
                        found
                            .as_ref()
                            .ok_or_else(|| Error::unexpected("a member of no web ACL"))?
                            .acl
                            .arn()
                            .to_string(),
                    ),
                    Placement::Elsewhere(acl, _) => {
                        let arn = acl.arn().to_string();
                        read.entry(arn.clone()).or_insert(*acl);
                        Some(arn)
                    }
                    Placement::Foreign { arn, name } => {
                        foreign.insert(arn.clone(), name);
                        Some(arn)
                    }
                })
            })
            .collect();
        let under = |arn: &str| -> BTreeSet<String> {
            lbs.iter()
                .zip(&members)
                .filter(|(_, m)| matches!(m, Ok(Some(a)) if a == arn))
                .map(|(lb, _)| lb.to_string())
                .collect()
        };
        let mut sets = sets.filter(|_| need.allowlist);
        let mut acls = BTreeMap::new();
        for (arn, acl) in &read {
            let parts = acl::read_parts(acl)?;
            let maints = !parts.is_empty()
                && acl.name().starts_with("maint-")
                && self.store.made_by_maint(acl, &parts).await?;
            let mut candidates: BTreeSet<String> = under(arn);
            let mut records = Vec::with_capacity(parts.len());
            for part in parts {
                candidates.extend(part.record.members.iter().cloned());
                let entries = if need.allowlist && part.record.window == window.name() {
                    if sets.is_none() {
                        sets = Some(self.store.load_sets(&part.record).await?);
                    }
                    sets.as_ref().map(|s| s.entries.clone()).unwrap_or_default()
                } else {
                    Allowlist::default()
                };
                records.push(record(acl, &part, entries));
            }
            // maint's own web ACL, every member its record lists named.
            let recorded_named = records.iter().any(|w| {
                !w.injected
                    && w.members
                        .iter()
                        .all(|m| lbs.iter().any(|lb| lb.as_str() == m))
            });
            let associated = self
                .associated(arn, candidates, need, under(arn), recorded_named)
                .await?;
            acls.insert(
                arn.clone(),
                ObservedAcl {
                    arn: arn.clone(),
                    name: acl.name().to_string(),
                    associated,
                    parts: records,
                    maints,
                },
            );
        }
        for (arn, name) in foreign {
            let associated = self
                .associated(&arn, under(&arn), need, under(&arn), false)
                .await?;
            acls.insert(
                arn.clone(),
                ObservedAcl {
                    arn,
                    name,
                    associated,
                    parts: Vec::new(),
                    maints: false,
                },
            );
        }
        Ok(Seen {
            observation: Observation {
                members,
                acls,
                own: own.map(|w| w.acl.arn().to_string()),
            },
            acls: read,
            sets,
        })
    }

    /// Who web ACL `arn` is associated with: listed, when `need` asks
    /// (`candidates`: those to read one by one where listing is not
    /// available); else the members named found under it (`named`).
    /// maint's own web ACL whose recorded members were all named and read
    /// (`recorded_named`) needs no listing: maint associates only members
    /// it recorded first.
    async fn associated(
        &self,
        arn: &str,
        candidates: BTreeSet<String>,
        need: Need,
        named: BTreeSet<String>,
        recorded_named: bool,
    ) -> Result<BTreeSet<String>> {
        if !need.associations || recorded_named {
            return Ok(named);
        }
        let candidates: Vec<String> = candidates.into_iter().collect();
        Ok(self
            .store
            .members_of(arn, &candidates)
            .await?
            .into_iter()
            .collect())
    }
}

/// A window's part of `acl` (`part`, its allowlist `entries`) as the
/// planner reads it: blocking while its record says so and, injected,
/// while maint's rule is still there.
fn record(acl: &WebAcl, part: &ReadAcl, entries: Allowlist) -> WindowRecord {
    WindowRecord {
        info: WafStore::info(acl, part, entries),
        service: part.record.service.clone(),
        members: part.record.members.iter().cloned().collect(),
        active: part.record.active && (part.rule_present || !part.injected()),
        injected: part.injected(),
        damage: part.damage.map(str::to_string),
    }
}
