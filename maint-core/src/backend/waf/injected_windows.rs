//! The backend's part of windows injected into a web ACL it did not
//! create for them (a service's own, with consent, or one other windows'
//! parts share): `enter` adds maint's rule in one update (or brings it to
//! the new spec, as a repeated `enter` does). `exit` takes out exactly
//! that, every member together, through the planner like any other exit
//! (`apply.rs`). The store does the reading and writing (`inject.rs`).

use super::construct::WafBackend;
use super::inject::Host;
use super::observe::Seen;
use super::web_acls::Switching;
use crate::backend::contract::MemberResults;
use crate::maintenance::{MaintenanceSpec, Mode, Outcome, Window};
use crate::plan::{plan, Plan, Request, Step};
use crate::target::ResourceArn;
use crate::{Error, Result};

impl WafBackend {
    /// `enter` for a window injected into `host` (a service's own web ACL
    /// with consent, or one other windows' parts share): observed,
    /// planned, applied under `host`'s lock token, all three again after a
    /// lock conflict. maint's rule, bodies and IP sets are added in one
    /// update (checked to fit first, a dry run included), or, when they
    /// are there, brought to `spec` as a repeated `enter` does.
    pub(super) async fn enter_injected(
        &self,
        window: &Window,
        lbs: &[ResourceArn],
        spec: &MaintenanceSpec,
        mode: Mode,
        host: &Host,
    ) -> MemberResults<Outcome> {
        let first = std::sync::Mutex::new(Some(self.injecting(window, lbs, host).await?));
        self.store
            .with_lock_retries(&host.arn, || async {
                let just_read = first
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .take();
                let seen = match just_read {
                    Some(seen) => seen,
                    None => self.injecting(window, lbs, host).await?,
                };
                let plan = plan(window, lbs, &seen.observation, Request::Enter(spec))?;
                self.apply_injecting(window, lbs, spec, mode, host, &seen, &plan)
                    .await?;
                Ok(plan.outcomes(lbs, mode))
            })
            .await
    }

    /// Applies an injecting `enter`'s plan to `host` as `seen` read it:
    /// maint's rule added ([`Step::Inject`]), put back after someone
    /// removed it, or brought to a repeated `enter`'s settings
    /// ([`Step::Update`]); in a dry run, only checked to fit.
    #[allow(clippy::too_many_arguments)]
    async fn apply_injecting(
        &self,
        window: &Window,
        lbs: &[ResourceArn],
        spec: &MaintenanceSpec,
        mode: Mode,
        host: &Host,
        seen: &Seen,
        plan: &Plan,
    ) -> Result<()> {
        let locked = seen
            .host
            .as_ref()
            .ok_or_else(|| Error::unexpected("the web ACL to inject into was not read"))?;
        for step in &plan.steps {
            match step {
                Step::Inject { members, .. } => {
                    let members: Vec<ResourceArn> = lbs
                        .iter()
                        .filter(|lb| members.contains(lb.as_str()))
                        .cloned()
                        .collect();
                    self.store
                        .inject(window, &members, spec, mode, host, locked, None)
                        .await?;
                }
                Step::Update {
                    settings: Some(wanted),
                    join,
                    switch,
                    ..
                } => {
                    let (_, part) = seen.part(&host.arn, window.name())?;
                    if *switch == Some(true) {
                        // Someone removed maint's rule: put back, what is
                        // left of the window kept.
                        let members: Vec<ResourceArn> = lbs
                            .iter()
                            .filter(|lb| join.iter().any(|j| j == lb.as_str()))
                            .cloned()
                            .collect();
                        self.store
                            .inject(window, &members, spec, mode, host, locked, Some(&part))
                            .await?;
                    } else if mode == Mode::Apply {
                        let sets = seen.sets.as_ref().ok_or_else(|| {
                            Error::unexpected("the window's IP sets were not read")
                        })?;
                        self.store
                            .reenter_window(
                                window,
                                &locked.acl,
                                &sets.sets,
                                wanted,
                                join,
                                Switching::default(),
                            )
                            .await?;
                    }
                }
                other => {
                    return Err(Error::unexpected(format!(
                        "an injecting enter's plan asks for {other:?}"
                    )))
                }
            }
        }
        Ok(())
    }
}
