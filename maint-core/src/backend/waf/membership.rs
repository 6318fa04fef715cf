//! Members joining and leaving a window: associating those not yet in it,
//! one after the other at AWS's pace (each association read again right
//! before), and disassociating those leaving, each window then kept for its
//! other members or deleted with its last.

use super::construct::WafBackend;
use super::decide::{foreign, injected_elsewhere, outcome, Placement};
use super::locate::Located;
use super::web_acls::ReadWindow;
use crate::backend::contract::MemberResults;
use crate::maintenance::{Change, Mode, Outcome, Window};
use crate::target::ResourceArn;
use crate::{Error, ErrorKind, Result};

impl WafBackend {
    /// Associates the members of a window not yet in it, and reports each
    /// member's changes: the window's, plus `joined` where it associated.
    /// `recorded`: the members the window's record held before this call
    /// (a refused one of those stays recorded: another writer detached it,
    /// and the window is still its window).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn join(
        &self,
        window: &Window,
        lbs: &[ResourceArn],
        acl_arn: &str,
        already: Vec<String>,
        recorded: &[String],
        window_changes: Vec<Change>,
        joined: Change,
    ) -> MemberResults<Outcome> {
        let acl_arn = acl_arn.to_string();
        // The members, one after the other at AWS's pace (one association
        // every 2 s per account and Region), each re-read right before.
        // Members already associated (`already`: a re-enter) need no
        // association; the others are associated one by one.
        let joining = lbs
            .iter()
            .filter(|lb| !already.contains(&lb.to_string()))
            .count();
        let mut results = Vec::with_capacity(lbs.len());
        let mut refused = Vec::new();
        let mut i = 0;
        for lb in lbs {
            if already.contains(&lb.to_string()) {
                results.push(Ok(outcome(lb, Mode::Apply, window_changes.clone())));
                continue;
            }
            self.progress("associating", "association", window, i, joining);
            i += 1;
            results.push(match self.store.associate(window, lb, &acl_arn).await {
                Ok(associated) => {
                    let mut changes = window_changes.clone();
                    if associated {
                        changes.push(joined.clone());
                    }
                    Ok(outcome(lb, Mode::Apply, changes))
                }
                Err(e) => {
                    // Refused for good (a web ACL that is not this window's):
                    // it leaves the record. Any other failure (AWS not
                    // ready, access denied) keeps it, so that running the
                    // command again finishes the job.
                    if matches!(e.kind(), ErrorKind::ForeignWebAcl | ErrorKind::Conflict)
                        && !recorded.contains(&lb.to_string())
                    {
                        refused.push(lb.to_string());
                    }
                    Err(e)
                }
            });
        }
        // Members that could not join leave the record; a window no member
        // could join goes, so nothing leaks.
        if !refused.is_empty() {
            self.store
                .settle(window, None, &refused, Mode::Apply)
                .await?;
        }
        Ok(results)
    }

    /// Takes `lbs` out of their windows: each disassociated (reported as
    /// `gone`), each window left keeping its other members, or deleted with
    /// its last.
    pub(super) async fn detach(
        &self,
        window: &Window,
        lbs: &[ResourceArn],
        mode: Mode,
        gone: Change,
        located: Option<Located>,
    ) -> MemberResults<Outcome> {
        // Each leaving member is read again right before its disassociation.
        let Located {
            window: found,
            seen,
            ..
        } = match located {
            Some(located) => located,
            None => self.locate(window, lbs, true, None).await?,
        };
        // A member under another's web ACL may have been detached from this
        // window: its web ACL, by name, tells.
        let found = match found {
            None if seen
                .iter()
                .any(|s| matches!(s, Ok(Placement::Foreign { .. }))) =>
            {
                // The listing as cached, then afresh (it may predate the
                // window).
                let mut own = None;
                for fresh in [false, true] {
                    own = self.store.find_window(window, fresh).await?;
                    if own.is_some() {
                        break;
                    }
                }
                own.map(|(locked, read)| ReadWindow::new(locked.acl, read))
            }
            found => found,
        };

        // The windows the members leave: `window`, or another of maint's
        // (with its web ACL as read, when it was).
        type Leaving = (Window, Option<ReadWindow>, Vec<String>);
        let mut leaving: Vec<Leaving> = vec![(window.clone(), found, Vec::new())];
        let mut plan: Vec<Result<Option<usize>>> = Vec::with_capacity(lbs.len());
        for (lb, seen) in lbs.iter().zip(seen) {
            plan.push(match seen {
                Ok(Placement::Member) => {
                    leaving[0].2.push(lb.to_string());
                    Ok(Some(0))
                }
                // A window injected into a service's own web ACL is left
                // only as a whole: its member's association is that web
                // ACL, never maint's to remove.
                Ok(Placement::Elsewhere(acl, read)) if read.injected() => Err(injected_elsewhere(
                    lb,
                    &read.record.window,
                    acl.name(),
                    &read.record.members,
                )),
                Ok(Placement::Elsewhere(acl, read)) => {
                    let other = read.record.window.clone();
                    let i = match leaving.iter().position(|(w, _, _)| w.name() == other) {
                        Some(i) => i,
                        None => {
                            let w = match &read.record.service {
                                Some(s) => Window::of_service(s),
                                None => Window::of_load_balancer(lb),
                            };
                            if w.name() != other {
                                Err(Error::unexpected(format!(
                                    "web ACL {other} records a window maint cannot name"
                                )))?;
                            }
                            leaving.push((w, Some(ReadWindow { acl, read }), Vec::new()));
                            leaving.len() - 1
                        }
                    };
                    leaving[i].2.push(lb.to_string());
                    Ok(Some(i))
                }
                Ok(Placement::Normal) => Ok(None),
                // Detached from the window by another writer, who put its
                // own web ACL on: the window ends, that web ACL stays.
                Ok(Placement::Foreign { .. })
                    if leaving[0].1.as_ref().is_some_and(|own| {
                        !own.read.injected()
                            && own.read.record.members.iter().any(|m| m == lb.as_str())
                    }) =>
                {
                    Ok(None)
                }
                Ok(Placement::Foreign { arn, name }) => Err(foreign(lb, &arn, &name)),
                Err(e) => Err(e),
            });
        }
        // Disassociate, each re-read right before (DisassociateWebACL
        // removes whatever is associated): a web ACL that appeared since
        // is never removed.
        let mut results: Vec<Result<Vec<Change>>> = Vec::with_capacity(lbs.len());
        let leavers = plan.iter().filter(|p| matches!(p, Ok(Some(_)))).count();
        let mut done = 0;
        for (lb, planned) in lbs.iter().zip(&plan) {
            if mode == Mode::Apply && matches!(planned, Ok(Some(_))) {
                self.progress("disassociating", "disassociation", window, done, leavers);
                done += 1;
            }
            results.push(match planned {
                Err(e) => Err(e.clone()),
                Ok(None) => Ok(Vec::new()),
                Ok(Some(_)) if mode == Mode::DryRun => Ok(vec![gone.clone()]),
                Ok(Some(i)) => self
                    .store
                    .disassociate(lb, leaving[*i].0.name())
                    .await
                    .map(|()| vec![gone.clone()]),
            });
        }
        // Each window keeps its remaining members, or goes with the last.
        let mut deleted: Vec<Vec<Change>> = Vec::with_capacity(leaving.len());
        for (w, known, members) in leaving {
            deleted.push(self.store.settle(&w, known, &members, mode).await?);
        }
        Ok(lbs
            .iter()
            .zip(plan)
            .zip(results)
            .map(|((lb, planned), result)| {
                let mut changes = result?;
                // A normal member reports its window's leftovers going.
                let i = planned.ok().flatten().unwrap_or(0);
                changes.extend(deleted[i].iter().cloned());
                Ok(outcome(lb, mode, changes))
            })
            .collect())
    }
}
