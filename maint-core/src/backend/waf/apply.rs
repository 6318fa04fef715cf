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
use super::decide::{outcome, reentry_changes};
use super::inject::Host;
use super::ip_sets::WindowSets;
use super::locate::Attempt;
use super::observe::Seen;
use super::store::WafStore;
use super::web_acls::{ReadWindow, Switching};
use crate::allowlist::Family;
use crate::backend::contract::MemberResults;
use crate::maintenance::{Change, MaintenanceSpec, Mode, Outcome, Window};
use crate::plan::{Move, Plan, Step};
use crate::response::MaintenanceResponse;
use crate::target::ResourceArn;
use crate::{Error, ErrorKind, Result};

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
        // What each deletion took, by web ACL name (as the plan's
        // `DeletedWebAcl` names it).
        let mut deleted: BTreeMap<String, Vec<Change>> = BTreeMap::new();
        for step in &plan.steps {
            match step {
                Step::Delete { acl: arn } => {
                    let (acl, part) = self.deleted_part(seen, arn, window)?;
                    let owner = Window::recorded(acl.name(), part.record.service.as_deref());
                    if who_left(arn, false).is_empty() {
                        let gone = self.store.delete_window(&owner, &acl, &part, mode).await?;
                        deleted.insert(acl.name().to_string(), gone);
                    } else {
                        // Some could not leave: the window keeps them.
                        let gone = self
                            .store
                            .settle(&owner, None, &who_left(arn, true), Mode::Apply)
                            .await?;
                        deleted.insert(acl.name().to_string(), gone);
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
                // A deletion as AWS WAF made it (the IP sets with the web
                // ACL), or none; reported by whoever the plan has report it
                // (a member that left it, or one that was no longer under
                // it: detached by another writer, or never associated).
                let planned = std::mem::take(&mut outcome.changes);
                for change in planned {
                    match change {
                        Change::DeletedWebAcl { name } => {
                            outcome
                                .changes
                                .extend(deleted.get(&name).into_iter().flatten().cloned());
                        }
                        change => outcome.changes.push(change),
                    }
                }
                if let Some(arn) = under[i] {
                    outcome
                        .changes
                        .extend(added.get(arn).into_iter().flatten().cloned());
                }
                Ok(outcome)
            })
            .collect())
    }

    /// The web ACL `arn` a plan deletes, and the part whose IP sets go
    /// with it: `window`'s (its last part), else its owner's.
    fn deleted_part(&self, seen: &Seen, arn: &str, window: &Window) -> Result<(WebAcl, ReadAcl)> {
        seen.part(arn, window.name())
            .or_else(|_| seen.part_where(arn, "no owner", |p| !p.injected()))
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

    /// Applies `plan`, in which members join or stay (`enter`, or `arm`
    /// when `arm`), to what `seen` observed of `window` (see
    /// [`WafBackend::joining`]): the window created with every member
    /// recorded, or updated once (a repeated `enter`, `spec`), then the
    /// members not yet in it associated one after the other at AWS's pace,
    /// each read again right before. A member refused then (a web ACL
    /// that is not this window's) leaves the record unless it was recorded
    /// before (another writer detached it: the window is still its
    /// window); a window no member could join goes, so nothing leaks.
    pub(super) async fn apply_joining(
        &self,
        window: &Window,
        lbs: &[ResourceArn],
        spec: &MaintenanceSpec,
        seen: Seen,
        plan: &Plan,
        arm: bool,
    ) -> MemberResults<Outcome> {
        let joined = if arm {
            Change::Armed
        } else {
            Change::Associated
        };
        let mut own = seen.observation.own.clone();
        let recorded: BTreeSet<String> = own
            .as_ref()
            .and_then(|arn| seen.observation.acls.get(arn))
            .and_then(|acl| acl.part(window.name()))
            .map(|w| w.members.clone())
            .unwrap_or_default();
        // The window's changes as applied, when a lock conflict made them
        // differ from the plan's.
        let mut applied: Option<Vec<Change>> = None;
        let mut seen = Some(seen);
        for step in &plan.steps {
            match step {
                Step::Create {
                    members,
                    spec,
                    armed,
                } => {
                    let members: Vec<&ResourceArn> = lbs
                        .iter()
                        .filter(|lb| members.contains(lb.as_str()))
                        .collect();
                    own = Some(
                        self.store
                            .create_window(window, &members, spec, *armed)
                            .await?,
                    );
                }
                Step::Update {
                    acl: arn,
                    window: of,
                    settings: Some(wanted),
                    join,
                    switch,
                    arm,
                } if of.as_str() == window.name() => {
                    let first = seen
                        .take()
                        .ok_or_else(|| Error::unexpected("a plan updates the window twice"))?;
                    let update = Update {
                        lb: lbs
                            .first()
                            .ok_or_else(|| Error::unexpected("a window of no member"))?,
                        spec,
                        wanted,
                        join,
                        switch: *switch,
                        arm: *arm,
                    };
                    applied = self.update(window, arn, first, &update).await?;
                }
                Step::Update {
                    acl: arn,
                    window: of,
                    settings: None,
                    join,
                    switch: None,
                    arm: true,
                } if of.as_str() == window.name() && join.is_empty() => {
                    let acl = seen
                        .as_ref()
                        .and_then(|s| s.acls.get(arn))
                        .ok_or_else(|| Error::unexpected("the window was not observed"))?;
                    self.store.mark_armed(window, acl).await?;
                }
                other => {
                    return Err(Error::unexpected(format!(
                        "a plan of members joining asks for {other:?}"
                    )))
                }
            }
        }
        let joining = plan
            .members
            .iter()
            .filter(|p| matches!(p, Ok(p) if p.moves == Move::Join))
            .count();
        let mut results = Vec::with_capacity(lbs.len());
        let mut refused = Vec::new();
        let mut done = 0;
        for (lb, part) in lbs.iter().zip(&plan.members) {
            let part = match part {
                Ok(part) => part,
                Err(e) => {
                    results.push(Err(e.clone()));
                    continue;
                }
            };
            let joins = part.moves == Move::Join;
            let mut changes = match &applied {
                Some(window_changes) => window_changes.clone(),
                None => {
                    let mut changes = part.changes.clone();
                    if joins && changes.last() == Some(&joined) {
                        changes.pop();
                    }
                    changes
                }
            };
            let Some(acl_arn) = own.as_deref().filter(|_| joins) else {
                results.push(Ok(outcome(lb, Mode::Apply, changes)));
                continue;
            };
            self.progress("associating", "association", window, done, joining);
            done += 1;
            results.push(match self.store.associate(window, lb, acl_arn).await {
                Ok(associated) => {
                    if associated {
                        changes.push(joined.clone());
                    }
                    Ok(outcome(lb, Mode::Apply, changes))
                }
                Err(e) => {
                    // Refused for good (a web ACL that is not this
                    // window's): it leaves the record. Any other failure
                    // (AWS not ready, access denied) keeps it, so that
                    // running the command again finishes the job.
                    if matches!(e.kind(), ErrorKind::ForeignWebAcl | ErrorKind::Conflict)
                        && !recorded.contains(lb.as_str())
                    {
                        refused.push(lb.to_string());
                    }
                    Err(e)
                }
            });
        }
        if !refused.is_empty() {
            self.store
                .settle(window, None, &refused, Mode::Apply)
                .await?;
        }
        Ok(results)
    }

    /// Writes a repeated `enter` (or `arm`) into the window's web ACL
    /// `arn`, as `update` says, in one update. The first attempt writes
    /// what the plan wants of the window as `first` observed it; after a
    /// lock conflict the window is read again and the planner's rule for
    /// a repeated `enter` ([`reentry_changes`]) applied to what is there
    /// now, whose changes are returned (`None`: the plan's stand).
    async fn update(
        &self,
        window: &Window,
        arn: &str,
        first: Seen,
        update: &Update<'_>,
    ) -> Result<Option<Vec<Change>>> {
        let (acl, part) = first.part(arn, window.name())?;
        let sets = first
            .sets
            .ok_or_else(|| Error::unexpected("the window's IP sets were not read"))?;
        let first = Attempt::first(Box::new(acl), Box::new(part));
        let sets = std::sync::Mutex::new(Some(sets));
        self.store
            .with_lock_retries(arn, || async {
                let ReadWindow { acl, read } = self.window_for_attempt(window, &first).await?;
                let just_read = sets
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .take();
                let (wanted, changes, sets) = match just_read {
                    Some(sets) => (update.wanted.clone(), None, sets),
                    None => {
                        let WindowSets { entries, sets } =
                            self.store.load_sets(&read.record).await?;
                        let current = WafStore::info(&acl, &read, entries.clone());
                        let on = (update.switch == Some(true) && !read.record.active)
                            .then_some(Change::SwitchedOn);
                        let (wanted, changes) =
                            reentry_changes(&current, read.damage, update.spec, on)?;
                        WafStore::keeps_apart(window, update.lb, &acl, &wanted.scope)?;
                        (wanted, Some(changes), WindowSets { entries, sets })
                    }
                };
                self.store
                    .reenter_window(
                        window,
                        &acl,
                        &sets.sets,
                        &wanted,
                        update.join,
                        Switching {
                            switch: update.switch,
                            arm: update.arm,
                        },
                    )
                    .await?;
                Ok(changes)
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

/// A repeated `enter` or `arm` as a plan's [`Step::Update`] asks it.
struct Update<'a> {
    /// The first member named (whose scope refusals are worded for).
    lb: &'a ResourceArn,
    /// What was asked (read again after a lock conflict).
    spec: &'a MaintenanceSpec,
    /// What the plan wants of the window.
    wanted: &'a MaintenanceSpec,
    /// Members joining its record.
    join: &'a [String],
    /// Switched on or off.
    switch: Option<bool>,
    /// Marked armed.
    arm: bool,
}
