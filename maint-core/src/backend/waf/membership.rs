//! Members joining and leaving a window: associating those not yet in it,
//! one after the other at AWS's pace (each association read again right
//! before), and disassociating those leaving, each window then kept for its
//! other members or deleted with its last.

use super::construct::WafBackend;
use super::decide::outcome;
use crate::backend::contract::MemberResults;
use crate::maintenance::{Change, Mode, Outcome, Window};
use crate::target::ResourceArn;
use crate::ErrorKind;

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
}
