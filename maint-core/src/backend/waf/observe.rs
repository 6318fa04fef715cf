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
use super::inject::Host;
use super::ip_sets::WindowSets;
use super::locate::Located;
use super::store::WafStore;
use super::web_acls::{LockedAcl, ReadWindow};
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
    /// The web ACL an injecting `enter` writes, read with its lock token.
    pub(super) host: Option<LockedAcl>,
}

impl Seen {
    /// Web ACL `arn` as read, and window `window`'s part of it.
    pub(super) fn part(&self, arn: &str, window: &str) -> Result<(WebAcl, ReadAcl)> {
        self.part_where(arn, &format!("no window {window}"), |p| {
            p.record.window == window
        })
    }

    /// Web ACL `arn` as read, and its first part that `wanted`; `Err`
    /// saying it holds `none` when there is no such part.
    pub(super) fn part_where(
        &self,
        arn: &str,
        none: &str,
        wanted: impl Fn(&ReadAcl) -> bool,
    ) -> Result<(WebAcl, ReadAcl)> {
        let acl = self
            .acls
            .get(arn)
            .ok_or_else(|| Error::unexpected(format!("web ACL {arn} was not observed")))?;
        let part = acl::read_parts(acl)?
            .into_iter()
            .find(|p| wanted(p))
            .ok_or_else(|| Error::unexpected(format!("web ACL {} holds {none}", acl.name())))?;
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
            listed,
        } = self
            .locate(window, lbs, !need.allowlist, need == Need::LEAVE)
            .await?;
        // Who the web ACL found is associated with, when that was listed.
        let listed = listed.and_then(|l| Some((found.as_ref()?.acl.arn().to_string(), l)));
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
            // Who else is associated matters to `enter` (a rule injected
            // reaches them all), and to members leaving maint's own web ACL
            // (the last out deletes it), unless every member its record
            // lists is named (maint associates only members it recorded).
            let own_named = records.iter().any(|w| {
                !w.injected
                    && w.members
                        .iter()
                        .all(|m| lbs.iter().any(|lb| lb.as_str() == m))
            });
            let has_own = records.iter().any(|w| !w.injected);
            let skip = own_named || (need != Need::ENTER && !has_own);
            let associated = match &listed {
                Some((of, listed)) if of == arn && need.associations => {
                    listed.iter().cloned().collect()
                }
                _ => {
                    self.associated(arn, candidates, need, under(arn), skip)
                        .await?
                }
            };
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
                .associated(&arn, under(&arn), need, under(&arn), need != Need::ENTER)
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
            host: None,
        })
    }

    /// What `enter` and `arm` observe of a window of maint's own (`own`,
    /// found by name) or of none, with no more of AWS's slowest calls
    /// than they need: the window's allowlist, and who is associated with
    /// it (one listing; for a window of one, its member's association).
    /// A member named that is not associated with it is not read here: it
    /// is taken to be under no web ACL, to be associated, and is read
    /// again right before its association, which refuses it then in the
    /// planner's words (see [`WafStore::associate`]).
    pub(super) async fn joining(
        &self,
        window: &Window,
        lbs: &[ResourceArn],
        own: Option<(LockedAcl, ReadAcl)>,
    ) -> Result<Seen> {
        let Some((locked, read)) = own else {
            return Ok(Seen {
                observation: Observation {
                    members: lbs.iter().map(|_| Ok(None)).collect(),
                    acls: BTreeMap::new(),
                    own: None,
                },
                acls: BTreeMap::new(),
                sets: None,
                host: None,
            });
        };
        let arn = locked.acl.arn().to_string();
        let named = |m: &String| lbs.iter().any(|lb| lb.as_str() == m);
        let associated = async {
            if read.record.members.iter().all(named) {
                return self.store.already_members(&arn, lbs).await;
            }
            // Members named and recorded: others may be associated too.
            let mut candidates: Vec<String> = lbs.iter().map(ToString::to_string).collect();
            candidates.extend(read.record.members.iter().cloned());
            candidates.sort();
            candidates.dedup();
            self.store.members_of(&arn, &candidates).await
        };
        let (sets, associated) =
            futures::future::try_join(self.store.load_sets(&read.record), associated).await?;
        let members = under_listed(lbs, &associated, &arn);
        let parts = acl::read_parts(&locked.acl)?
            .iter()
            .map(|part| {
                let entries = if part.record.window == window.name() {
                    sets.entries.clone()
                } else {
                    Allowlist::default()
                };
                record(&locked.acl, part, entries)
            })
            .collect();
        let observed = ObservedAcl {
            arn: arn.clone(),
            name: locked.acl.name().to_string(),
            associated: associated.into_iter().collect(),
            parts,
            maints: true,
        };
        Ok(Seen {
            observation: Observation {
                members,
                acls: BTreeMap::from([(arn.clone(), observed)]),
                own: Some(arn.clone()),
            },
            acls: BTreeMap::from([(arn, locked.acl)]),
            sets: Some(sets),
            host: None,
        })
    }

    /// What an injecting `enter` observes of `host`, the one web ACL every
    /// member must be under: the web ACL with its lock token, and every
    /// resource it protects (`ListResourcesForWebACL`: a rule in a web
    /// ACL reaches all of them, so maint must know them all; where the
    /// listing is not available, a web ACL maint created can only protect
    /// the members its parts record, read one by one). A member named
    /// that it does not protect is under no web ACL, as far as the
    /// planner needs to know: it is refused, nothing changed. The window
    /// has no web ACL of its own (the caller found none by name).
    pub(super) async fn injecting(
        &self,
        window: &Window,
        lbs: &[ResourceArn],
        host: &Host,
    ) -> Result<Seen> {
        let (locked, listed) = futures::future::join(
            self.store.get_web_acl(&host.name, &host.id),
            self.store.protected(host, lbs),
        )
        .await;
        let locked = locked?;
        let parts = acl::read_parts(&locked.acl)?;
        let maints = !parts.is_empty()
            && locked.acl.name().starts_with("maint-")
            && self.store.made_by_maint(&locked.acl, &parts).await?;
        let listed = match listed {
            Ok(listed) => listed,
            Err(e) if !maints => return Err(e),
            Err(_) => {
                let mut recorded: Vec<String> = lbs.iter().map(ToString::to_string).collect();
                recorded.extend(parts.iter().flat_map(|p| p.record.members.iter().cloned()));
                recorded.sort();
                recorded.dedup();
                self.store.members_of(&host.arn, &recorded).await?
            }
        };
        let sets = match parts.iter().find(|p| p.record.window == window.name()) {
            Some(part) => Some(self.store.load_sets(&part.record).await?),
            None => None,
        };
        let records = parts
            .iter()
            .map(|part| {
                let entries = match &sets {
                    Some(sets) if part.record.window == window.name() => sets.entries.clone(),
                    _ => Allowlist::default(),
                };
                record(&locked.acl, part, entries)
            })
            .collect();
        let members = under_listed(lbs, &listed, &host.arn);
        let observed = ObservedAcl {
            arn: host.arn.clone(),
            name: host.name.clone(),
            associated: listed.into_iter().collect(),
            parts: records,
            maints,
        };
        Ok(Seen {
            observation: Observation {
                members,
                acls: BTreeMap::from([(host.arn.clone(), observed)]),
                own: None,
            },
            acls: BTreeMap::from([(host.arn.clone(), locked.acl.clone())]),
            sets,
            host: Some(locked),
        })
    }

    /// Who web ACL `arn` is associated with: listed, when `need` asks
    /// (`candidates`: those to read one by one where listing is not
    /// available); else, or when the rules need no more (`enough`), the
    /// members named found under it (`named`).
    async fn associated(
        &self,
        arn: &str,
        candidates: BTreeSet<String>,
        need: Need,
        named: BTreeSet<String>,
        enough: bool,
    ) -> Result<BTreeSet<String>> {
        if !need.associations || enough {
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

/// Each of `lbs` as under web ACL `arn` when `listed` (who it is
/// associated with) names it, else under none.
fn under_listed(lbs: &[ResourceArn], listed: &[String], arn: &str) -> Vec<Result<Option<String>>> {
    lbs.iter()
        .map(|lb| {
            Ok(listed
                .iter()
                .any(|l| l == lb.as_str())
                .then(|| arn.to_string()))
        })
        .collect()
}
