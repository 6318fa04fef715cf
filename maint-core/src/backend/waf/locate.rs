//! Where load balancers stand with a window: the window's web ACL found
//! (by name, or through a member's association), each member read, with
//! as few of AWS's slowest calls (`GetWebACLForResource`, one a second) as
//! possible; and the window for each attempt of a lock-retried change.
use aws_sdk_wafv2::types::WebAcl;

use super::acl::ReadAcl;
use super::associations::Observed;
use super::construct::WafBackend;
use super::decide::Placement;
use super::errors::{code, is_code};
use super::ip_sets::WindowSets;
use super::web_acls::ReadWindow;
use crate::maintenance::Window;
use crate::target::ResourceArn;
use crate::{Error, Result};

/// A lock-retried change of a window: its first attempt uses the window
/// as just read (`next`); later ones read `acl` again.
pub(super) struct Attempt {
    next: Option<ReadWindow>,
    acl: WebAcl,
}

impl Attempt {
    pub(super) fn first(acl: Box<WebAcl>, read: Box<ReadAcl>) -> std::sync::Mutex<Self> {
        std::sync::Mutex::new(Self {
            acl: (*acl).clone(),
            next: Some(ReadWindow { acl, read }),
        })
    }
}

/// What [`WafBackend::locate`] finds.
pub(super) struct Located {
    /// The window's web ACL, if it exists.
    pub(super) window: Option<ReadWindow>,
    /// Where each load balancer stands with it, in order.
    pub(super) seen: Vec<Result<Placement>>,
    /// The window's allowlist and IP sets, when they were read along the
    /// way.
    pub(super) sets: Option<WindowSets>,
    /// Who the window's web ACL is associated with, when it was listed
    /// along the way (see `WafStore::members_of`).
    pub(super) listed: Option<Vec<String>>,
}

impl WafBackend {
    /// The window for one attempt of a lock-retried change: on the first,
    /// the one just read (`first`); after a lock conflict, read again, so
    /// the change applies to what is there now.
    pub(super) async fn window_for_attempt(
        &self,
        window: &Window,
        first: &std::sync::Mutex<Attempt>,
    ) -> Result<ReadWindow> {
        let (just_read, acl) = {
            let mut attempt = first
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            (attempt.next.take(), attempt.acl.clone())
        };
        if let Some(known) = just_read {
            return Ok(known);
        }
        // The same web ACL again (a window's own, or the service's web ACL
        // it is injected into).
        match self.store.reread(&acl, window).await {
            Ok((locked, Some(read))) if read.record.window == window.name() => {
                Ok(ReadWindow::new(locked.acl, read))
            }
            Err(e) if !is_code(&e, &[code::NONEXISTENT]) => Err(e),
            _ => Err(Error::Conflict {
                resource: window.name().to_string(),
                message: "the window was deleted while maint was changing it".into(),
            }),
        }
    }

    /// Where each of `lbs` stands with `window`, and the window's web ACL
    /// (`None`: it does not exist). One load balancer is read
    /// (`GetWebACLForResource`); for more, the window is read once and
    /// only those not associated with it are read one by one (AWS allows
    /// one `GetWebACLForResource` a second: a second member read that way
    /// would wait a second).
    ///
    /// `by_name`: find the window by name (a listing, five calls a second)
    /// rather than through its first member (`GetWebACLForResource`, one a
    /// second): for a caller that reads each member again right after.
    /// `trust_record`: a window found injected into a web ACL it does not
    /// own, or armed with every member it records named, is not listed;
    /// its recorded members are taken as under it (for members leaving
    /// it, whose associations stay as they are).
    pub(super) async fn locate(
        &self,
        window: &Window,
        lbs: &[ResourceArn],
        by_name: bool,
        trust_record: bool,
    ) -> Result<Located> {
        let mut found: Option<ReadWindow> = None;
        let mut members: Vec<String> = Vec::new();
        let mut first: Option<Result<Placement>> = None;
        let mut sets = None;
        let mut listed = None;
        if lbs.len() > 1 {
            // The first member's association gives the window (one call,
            // where a listing would take three); then one call lists every
            // member, and only the others are read one by one.
            if !by_name {
                first = Some(self.seen(window, &lbs[0], &mut found).await);
            }
            if found.is_none() {
                if let Some((locked, read)) = self.store.find_window(window, false).await? {
                    found = Some(ReadWindow::new(locked.acl, read));
                }
            }
            if by_name && found.is_none() {
                // No web ACL of the window's name: it may live in the
                // service's own web ACL, found through its first member.
                first = Some(self.seen(window, &lbs[0], &mut found).await);
            }
            // Leaving, the members of an injected window, or of an armed
            // one all leave, stay associated (only maint's rule comes out,
            // or the window is switched to pass-through): its record says
            // who they are, with no listing.
            let trusted = |w: &ReadWindow| {
                let record = &w.read.record;
                trust_record
                    && (w.read.injected()
                        || (record.armed_since.is_some()
                            && record
                                .members
                                .iter()
                                .all(|m| lbs.iter().any(|lb| lb.as_str() == m))))
            };
            if let Some(w) = found.as_ref().filter(|w| trusted(w)) {
                members = w.read.record.members.clone();
            }
            if let Some(ReadWindow { acl, read }) = found.as_ref().filter(|w| !trusted(w)) {
                listed = Some(acl.arn().to_string());
                if by_name {
                    members = self
                        .store
                        .members_of(acl.arn(), &read.record.members)
                        .await?;
                } else {
                    // The allowlist, read at the same time: most callers
                    // need it next.
                    let (listed, loaded) = futures::future::try_join(
                        self.store.members_of(acl.arn(), &read.record.members),
                        self.store.load_sets(&read.record),
                    )
                    .await?;
                    members = listed;
                    sets = Some(loaded);
                }
            }
        }
        let mut seen = Vec::with_capacity(lbs.len());
        for (i, lb) in lbs.iter().enumerate() {
            if i == 0 {
                if let Some(first) = first.take() {
                    seen.push(first);
                    continue;
                }
            }
            if members.iter().any(|m| m == lb.as_str()) {
                seen.push(Ok(Placement::Member));
                continue;
            }
            seen.push(self.seen(window, lb, &mut found).await);
        }
        // The listing, when the window's web ACL was listed above.
        let listed = listed
            .filter(|arn| found.as_ref().is_some_and(|w| w.acl.arn() == arn))
            .map(|_| members);
        Ok(Located {
            window: found,
            seen,
            sets,
            listed,
        })
    }

    /// Reads where `lb` stands with `window`; the window's web ACL, when
    /// `lb` is in it, goes into `found` (if not there yet).
    async fn seen(
        &self,
        window: &Window,
        lb: &ResourceArn,
        found: &mut Option<ReadWindow>,
    ) -> Result<Placement> {
        match self.store.observe(lb, Some(window.name())).await? {
            Observed::Ours { acl, read } if read.record.window == window.name() => {
                found.get_or_insert(ReadWindow { acl, read });
                Ok(Placement::Member)
            }
            Observed::Ours { acl, read } => Ok(Placement::Elsewhere(acl, read)),
            Observed::Normal => Ok(Placement::Normal),
            Observed::Foreign { arn, name } => Ok(Placement::Foreign { arn, name }),
        }
    }
}
