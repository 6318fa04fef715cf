//! Applying the planner's answer on AWS WAF: the [`Plan`] for what was
//! observed ([`Seen`]) made so, at AWS's pace and under lock tokens.
//!
//! A plan lists its window steps before any member moves; on WAF some
//! steps can only come after: a web ACL is deleted (and a window's record
//! forgets its members) once its leavers are disassociated, since AWS
//! refuses to delete a web ACL still associated, and a member that could
//! not leave must stay recorded. So the steps are applied in two rounds,
//! around the members' moves. A web ACL is deleted only when every member
//! leaving it did; otherwise the window keeps what is left of it
//! (`settle` reads what is associated then).
use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_wafv2::types::WebAcl;

use super::acl::{self, IpSetId, ReadAcl};
use super::construct::WafBackend;
use super::inject::Host;
use super::observe::Seen;
use crate::allowlist::Family;
use crate::backend::contract::MemberResults;
use crate::maintenance::{Change, Mode, Outcome, Window};
use crate::plan::{Move, Plan, Step};
use crate::response::MaintenanceResponse;
use crate::target::ResourceArn;
use crate::{Error, Result};

impl WafBackend {
    /// Applies `plan`, in which members leave or stay (`exit`, `disarm`),
    /// to what `seen` observed of `window` and `lbs` (in a dry run, only
    /// says what it would do); returns each member's outcome, with what
    /// AWS WAF adds to the plan's changes (the IP sets deleted with a
    /// window or a part).
    pub(super) async fn apply_leaving(
        &self,
        window: &Window,
        lbs: &[ResourceArn],
        seen: &Seen,
        plan: &Plan,
        mode: Mode,
    ) -> MemberResults<Outcome> {
        let deleting: BTreeSet<&str> = plan
            .steps
            .iter()
            .filter_map(|s| match s {
                Step::Delete { acl } => Some(acl.as_str()),
                _ => None,
            })
            .collect();
        // Before any member moves: parts leaving web ACLs that stay.
        let mut added: BTreeMap<&str, Vec<Change>> = BTreeMap::new();
        for step in &plan.steps {
            match step {
                Step::RemoveInjection { host } if !deleting.contains(host.as_str()) => {
                    let (acl, part) = seen.part(host, window.name())?;
                    let gone = self.remove_part(window, &acl, &part, mode).await?;
                    added.insert(host, gone);
                }
                // An armed window every member leaves: back to
                // pass-through, still associated.
                Step::Update {
                    acl: arn,
                    window: of,
                    settings: None,
                    join,
                    switch: Some(false),
                    arm: false,
                } if join.is_empty() => {
                    if mode == Mode::Apply {
                        let (acl, part) = seen.part(arn, of)?;
                        let owner = Window::recorded(of, part.record.service.as_deref());
                        self.store.switch(&owner, &acl, false).await?;
                    }
                }
                Step::RemoveInjection { .. } | Step::Delete { .. } | Step::Forget { .. } => {}
                other => {
                    return Err(Error::unexpected(format!(
                        "a plan of members leaving asks for {other:?}"
                    )))
                }
            }
        }
        // The web ACL each member is under, as observed.
        let under: Vec<Option<&str>> = seen
            .observation
            .members
            .iter()
            .map(|m| m.as_ref().ok().and_then(|a| a.as_deref()))
            .collect();
        // Members leave, one after the other at AWS's pace, each read again
        // right before its disassociation (which removes whatever is
        // associated: a web ACL that appeared since is never removed).
        let leavers = plan
            .members
            .iter()
            .filter(|p| matches!(p, Ok(p) if p.moves == Move::Leave))
            .count();
        let mut left: Vec<Result<bool>> = Vec::with_capacity(lbs.len());
        let mut done = 0;
        for (i, (lb, part)) in lbs.iter().zip(&plan.members).enumerate() {
            let (Ok(part), Some(arn)) = (part, under[i]) else {
                left.push(Ok(false));
                continue;
            };
            if part.moves != Move::Leave {
                left.push(Ok(false));
                continue;
            }
            if mode == Mode::DryRun {
                left.push(Ok(true));
                continue;
            }
            let of = seen
                .observation
                .acls
                .get(arn)
                .and_then(|acl| acl.part_for(window.name()))
                .map_or(window.name(), |w| w.info.window.as_str());
            self.progress("disassociating", "disassociation", window, done, leavers);
            done += 1;
            left.push(self.store.disassociate(lb, of).await.map(|()| true));
        }
        // Then the web ACLs they left: deleted with their last leaver, or
        // their records forget who left.
        let who_left = |arn: &str, ok: bool| -> Vec<String> {
            lbs.iter()
                .enumerate()
                .filter(|(i, _)| under[*i] == Some(arn))
                .filter(|(i, _)| match &left[*i] {
                    Ok(true) => ok,
                    Err(_) => !ok,
                    Ok(false) => false,
                })
                .map(|(_, lb)| lb.to_string())
                .collect()
        };
        let mut deleted: BTreeMap<&str, Vec<Change>> = BTreeMap::new();
        for step in &plan.steps {
            match step {
                Step::Delete { acl: arn } => {
                    let (acl, part) = self.deleted_part(seen, arn, window)?;
                    let owner = Window::recorded(acl.name(), part.record.service.as_deref());
                    if who_left(arn, false).is_empty() {
                        let gone = self.store.delete_window(&owner, &acl, &part, mode).await?;
                        deleted.insert(arn, gone);
                    } else {
                        // Some could not leave: the window keeps them.
                        let gone = self
                            .store
                            .settle(&owner, None, &who_left(arn, true), Mode::Apply)
                            .await?;
                        deleted.insert(arn, gone);
                    }
                }
                Step::Forget {
                    acl: arn,
                    window: of,
                    members,
                } => {
                    let gone = who_left(arn, true);
                    let forget: Vec<&String> =
                        members.iter().filter(|m| gone.contains(m)).collect();
                    if mode == Mode::Apply && !forget.is_empty() {
                        self.forget(seen, arn, of, &forget).await?;
                    }
                }
                _ => {}
            }
        }
        Ok(lbs
            .iter()
            .zip(plan.outcomes(lbs, mode))
            .zip(left)
            .enumerate()
            .map(|(i, ((_, planned), left))| {
                let mut outcome = planned?;
                left?;
                let Some(arn) = under[i] else {
                    return Ok(outcome);
                };
                // The deletion as AWS WAF made it (the IP sets with the web
                // ACL), or none.
                if outcome
                    .changes
                    .iter()
                    .any(|c| matches!(c, Change::DeletedWebAcl { .. }))
                {
                    outcome
                        .changes
                        .retain(|c| !matches!(c, Change::DeletedWebAcl { .. }));
                    outcome
                        .changes
                        .extend(deleted.get(arn).into_iter().flatten().cloned());
                }
                outcome
                    .changes
                    .extend(added.get(arn).into_iter().flatten().cloned());
                Ok(outcome)
            })
            .collect())
    }

    /// The web ACL `arn` a plan deletes, and the part whose IP sets go
    /// with it: `window`'s (its last part), else its owner's.
    fn deleted_part(&self, seen: &Seen, arn: &str, window: &Window) -> Result<(WebAcl, ReadAcl)> {
        seen.part(arn, window.name()).or_else(|_| {
            let acl = seen
                .acls
                .get(arn)
                .ok_or_else(|| Error::unexpected(format!("web ACL {arn} was not observed")))?;
            let own = acl::read_parts(acl)?
                .into_iter()
                .find(|p| !p.injected())
                .ok_or_else(|| Error::unexpected(format!("web ACL {} has no owner", acl.name())))?;
            Ok((acl.clone(), own))
        })
    }

    /// `members` leave the record of window `of` in web ACL `arn`: one
    /// write under its lock token, read again after a conflict.
    async fn forget(&self, seen: &Seen, arn: &str, of: &str, members: &[&String]) -> Result<()> {
        let (acl, part) = seen.part(arn, of)?;
        let owner = Window::recorded(of, part.record.service.as_deref());
        self.store
            .with_lock_retries(arn, || async {
                let (locked, read) = self.store.reread(&acl, &owner).await?;
                let Some(read) = read else {
                    return Ok(());
                };
                self.store
                    .edit_record(&owner, &locked, &read, |record| {
                        record.members.retain(|m| !members.contains(&m));
                    })
                    .await
            })
            .await
    }

    /// Applies the plan of an allowlist edit: its [`Step::SetAccess`], if
    /// any, written as one update of the window (its IP sets, and its web
    /// ACL only where the rule changes).
    pub(super) async fn apply_access(
        &self,
        window: &Window,
        seen: &Seen,
        plan: &Plan,
    ) -> Result<()> {
        for step in &plan.steps {
            let Step::SetAccess {
                acl,
                allowlist,
                bypass,
            } = step
            else {
                return Err(Error::unexpected(format!(
                    "an allowlist edit's plan asks for {step:?}"
                )));
            };
            let (acl, _) = seen.part(acl, window.name())?;
            let sets = seen
                .sets
                .as_ref()
                .ok_or_else(|| Error::unexpected("the window's IP sets were not read"))?;
            let enabled = bypass.as_ref().is_none_or(|b| b.enabled);
            let edit = |record: &mut acl::StateRecord, _: &mut MaintenanceResponse| {
                record.bypass_enabled = enabled;
            };
            self.store
                .update_window(
                    window,
                    &acl,
                    &sets.sets,
                    &allowlist.entries,
                    allowlist.enabled,
                    &edit,
                )
                .await?;
        }
        Ok(())
    }

    /// Takes `window`'s part (`part`, its rule and bodies) out of web ACL
    /// `acl`, which stays as it was before it (a service's own, or one
    /// other windows share), then deletes the part's IP sets; returns the
    /// deletions. In a dry run, only what it would delete.
    pub(super) async fn remove_part(
        &self,
        window: &Window,
        acl: &WebAcl,
        part: &ReadAcl,
        mode: Mode,
    ) -> Result<Vec<Change>> {
        let host = &Host::from_arn(acl.arn())?;
        let sets: Vec<(Family, IpSetId)> = [Family::Ipv4, Family::Ipv6]
            .into_iter()
            .filter_map(|f| part.record.set(f).map(|arn| (f, arn)))
            .map(|(f, arn)| Ok((f, IpSetId::from_arn(arn)?)))
            .collect::<Result<_>>()?;
        let changes = sets
            .iter()
            .map(|(_, id)| Change::DeletedIpSet {
                name: id.name.clone(),
            })
            .collect();
        if mode == Mode::DryRun {
            return Ok(changes);
        }
        self.store
            .with_lock_retries(&host.arn, || async {
                let locked = self.store.get_web_acl(&host.name, &host.id).await?;
                let Some(now) = acl::read_for(&locked.acl, window.name())?
                    .filter(|r| r.record.window == window.name())
                else {
                    return Ok(());
                };
                let injection = now.record.injected.clone().unwrap_or_default();
                let names = acl::PartNames::of(now.record.part.as_deref());
                let (rules, bodies) = acl::restore(&locked.acl, &injection, &names);
                tracing::info!(
                    window = window.name(),
                    web_acl = host.name,
                    "removing maint's rule"
                );
                self.store.write_web_acl(&locked, rules, bodies).await
            })
            .await?;
        self.store.delete_sets(&sets).await?;
        Ok(changes)
    }
}
