//! The backend's part of windows injected into a service's own web ACL
//! (with consent): `enter` adds maint's rule in one update (or brings it to
//! the new spec, as a repeated `enter` does), `exit` takes out exactly
//! that, every member together. The store does the reading and writing
//! (`inject.rs`).

use super::acl::{self, ReadAcl};
use super::construct::WafBackend;
use super::decide::{outcome, reentry_changes};
use super::inject::Host;
use super::ip_sets::WindowSets;
use super::store::WafStore;
use super::web_acls::LockedAcl;
use crate::backend::contract::MemberResults;
use crate::maintenance::{Change, MaintenanceSpec, Mode, Outcome, Window};
use crate::target::ResourceArn;
use crate::{Error, Result};

impl WafBackend {
    /// `enter` for a window injected into `host`: maint's rule, bodies and
    /// IP sets added in one update (checked to fit first), or, when they
    /// are there, brought to `spec` as a repeated `enter` does.
    pub(super) async fn enter_injected(
        &self,
        window: &Window,
        lbs: &[ResourceArn],
        spec: &MaintenanceSpec,
        mode: Mode,
        host: &Host,
    ) -> MemberResults<Outcome> {
        // The web ACL and what else it protects, read at the same time.
        // Where the listing is not available (an emulator), a web ACL maint
        // created (another window's, shared) can only protect the members
        // its parts record (maint associates nothing else), read one by one.
        let (first, listed) = futures::future::join(
            self.store.get_web_acl(&host.name, &host.id),
            self.store.protected(host, lbs),
        )
        .await;
        let first = first?;
        let listed = match listed {
            Ok(listed) => listed,
            Err(e) => {
                let parts = acl::read_parts(&first.acl)?;
                if parts.is_empty() || !self.store.made_by_maint(&first.acl, &parts).await? {
                    return Err(e);
                }
                let mut recorded: Vec<String> = lbs.iter().map(ToString::to_string).collect();
                recorded.extend(parts.into_iter().flat_map(|p| p.record.members));
                recorded.sort();
                recorded.dedup();
                self.store.members_of(&host.arn, &recorded).await?
            }
        };
        WafStore::check_protects(window, host, lbs, &listed)?;
        let first = std::sync::Mutex::new(Some(first));
        let changes = self
            .store
            .with_lock_retries(&host.arn, || async {
                let just_read = first
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .take();
                let locked = match just_read {
                    Some(locked) => locked,
                    None => self.store.get_web_acl(&host.name, &host.id).await?,
                };
                let read = acl::read_for(&locked.acl, window.name())?;
                match read {
                    // Other windows' parts only: this window's is added when
                    // the scopes allow (checked again on what is there now).
                    Some(read)
                        if read.record.window != window.name()
                            && !self
                                .store
                                .may_join(window, &lbs[0], spec, &locked.acl, true)
                                .await? =>
                    {
                        Err(Error::Conflict {
                            resource: host.arn.clone(),
                            message: format!(
                                "web ACL {} carries maint's window {}; act through that window",
                                host.name, read.record.window
                            ),
                        })
                    }
                    Some(read) if read.record.window != window.name() => {
                        self.store
                            .inject(window, lbs, spec, mode, host, &locked, None)
                            .await
                    }
                    Some(read) if read.rule_present => {
                        self.reenter_injected(window, lbs, spec, mode, &locked, &read)
                            .await
                    }
                    reverted => {
                        self.store
                            .inject(window, lbs, spec, mode, host, &locked, reverted.as_ref())
                            .await
                    }
                }
            })
            .await?;
        Ok(lbs
            .iter()
            .map(|lb| Ok(outcome(lb, mode, changes.clone())))
            .collect())
    }

    async fn reenter_injected(
        &self,
        window: &Window,
        lbs: &[ResourceArn],
        spec: &MaintenanceSpec,
        mode: Mode,
        locked: &LockedAcl,
        read: &ReadAcl,
    ) -> Result<Vec<Change>> {
        window.check_joins(
            &read.record.window,
            read.record.service.as_deref(),
            read.record.members.iter().map(String::as_str),
            lbs,
        )?;
        let WindowSets { entries, sets } = self.store.load_sets(&read.record).await?;
        let current = WafStore::info(&locked.acl, read, entries);
        let (wanted, changes) = reentry_changes(&current, read.damage, spec, None)?;
        WafStore::keeps_apart(window, &lbs[0], &locked.acl, &wanted.scope)?;
        if mode == Mode::DryRun {
            return Ok(changes);
        }
        let joining: Vec<String> = lbs.iter().map(ToString::to_string).collect();
        self.store
            .reenter_window(window, &locked.acl, &sets, &wanted, &joining, None)
            .await?;
        Ok(changes)
    }
}
