//! One changing command from request to report: [`Fleet::run`]. The
//! front ends (the CLI, the Python package, a deploy tool) convert their
//! arguments into a [`ChangeRequest`] and render the [`ChangeRun`]; the
//! order of the steps and what happens when one fails are decided here,
//! once.

use std::collections::HashMap;

use super::engine::Fleet;
use super::events::{Event, Observer};
use super::request::{ChangeRequest, Command};
use crate::error::Argument;
use crate::report::ChangeRun;
use crate::{Error, Result};

impl Fleet {
    /// Runs one changing command from request to report:
    /// 1. **Checks** everything before any change: the targets, the
    ///    window's settings per service, and with a wait plan the URL to
    ///    probe for each target (bad input is an error; nothing changed).
    /// 2. **Warns** (an [`Event::Warning`] each, and in the run's
    ///    `warnings`) of a client address taken from a spoofable header.
    /// 3. **Acts**: the command on every target (see [`enter`](Self::enter)
    ///    and the others), each target's result an [`Event::ChangeDone`].
    /// 4. **Waits**, with a wait plan, until the public sees the change
    ///    ([`Event::Waiting`], then [`Event::Probed`] per probe). A wait
    ///    that fails does not fail the run: the change was made, and the
    ///    run's `wait_error` says why the wait failed.
    /// 5. **Notifies** the config's webhooks (when asked to), also after a
    ///    failed wait; a webhook that fails is a warning.
    ///
    /// An error is returned only when nothing was changed (bad input,
    /// targets that cannot be found, a region that cannot be listed).
    pub async fn run(&self, request: ChangeRequest, observer: &dyn Observer) -> Result<ChangeRun> {
        let urls = self.urls_to_probe(&request)?;
        let mut warnings = self.client_ip_warnings(&request);
        for message in &warnings {
            observer.event(&Event::Warning { message });
        }
        let mut run = self.act(&request, observer).await?;
        for message in self.controller_notes(&request, &run).await {
            observer.event(&Event::Warning { message: &message });
            warnings.push(message);
        }
        if let (Some(plan), Some(urls)) = (&request.wait, &urls) {
            let urls: Vec<Option<&str>> = run
                .results
                .iter()
                .map(|r| urls.get(&r.target).map(String::as_str))
                .collect();
            match self.wait(&run, &urls, &request, plan, observer).await {
                Ok(waited) => run.waited = waited,
                Err(e) => run.wait_error = Some(e),
            }
        }
        if request.notify {
            for message in self.notify(&run, &request).await {
                observer.event(&Event::Warning { message: &message });
                warnings.push(message);
            }
        }
        run.warnings = warnings;
        Ok(run)
    }

    /// The command itself.
    async fn act(&self, request: &ChangeRequest, observer: &dyn Observer) -> Result<ChangeRun> {
        let (targets, mode) = (&request.targets, request.mode);
        match &request.command {
            Command::Enter(settings) => self.enter(targets, settings, mode, observer).await,
            Command::Arm(settings) => self.arm(targets, settings, mode, observer).await,
            Command::Exit => self.exit(targets, mode, observer).await,
            Command::ExitExpired => self.exit_expired(targets, mode, observer).await,
            Command::Disarm => self.disarm(targets, mode, observer).await,
            Command::Allowlist(change) => {
                self.update_allowlist(targets, change, mode, observer).await
            }
        }
    }

    /// With a wait plan: the URL to probe per target (by its label, as
    /// results name it), checked before any change.
    fn urls_to_probe(&self, request: &ChangeRequest) -> Result<Option<HashMap<String, String>>> {
        let Some(plan) = &request.wait else {
            return Ok(None);
        };
        if matches!(request.command, Command::Arm(_) | Command::Disarm) {
            return Err(Error::invalid(
                Argument::Wait.name(),
                "arm and disarm change nothing the public sees: there is nothing to wait for",
            ));
        }
        if !cfg!(feature = "http") {
            return Err(Error::invalid(
                Argument::Wait.name(),
                "waiting probes over HTTP: build maint-core with the `http` feature",
            ));
        }
        let urls = self.wait_urls(&request.targets, plan.url.as_deref())?;
        let refs = self.expand(&request.targets)?;
        Ok(Some(refs.iter().map(|r| r.label()).zip(urls).collect()))
    }

    /// Ways the client address of `enter` or `arm` can be spoofed: the
    /// request's own `client_ip`, then each named service's, once per
    /// service.
    fn client_ip_warnings(&self, request: &ChangeRequest) -> Vec<String> {
        let Some(settings) = request.settings() else {
            return Vec::new();
        };
        let mut warnings: Vec<String> = settings
            .client_ip
            .iter()
            .flat_map(|c| c.warnings())
            .collect();
        if let Some(config) = self.config() {
            for name in &request.targets {
                if let Some(client_ip) = config.service(name).and_then(|s| s.client_ip.as_ref()) {
                    warnings.extend(
                        client_ip
                            .warnings()
                            .into_iter()
                            .map(|w| format!("service {name}: {w}")),
                    );
                }
            }
        }
        warnings
    }

    /// Notes on the load balancers of an `enter` or `arm` that the AWS Load
    /// Balancer Controller made (their tags; see [`crate::platform`]): it
    /// reconciles their web ACL, so maint injects into the web ACL its
    /// Ingress names, and where maint associated its own web ACL, says that
    /// controllers up to 2.8.1 remove it and how to keep it (the Ingress
    /// annotation, with the window's web ACL's ARN).
    async fn controller_notes(&self, request: &ChangeRequest, run: &ChangeRun) -> Vec<String> {
        use crate::maintenance::Change;
        use crate::platform::WAF_ANNOTATION;
        use crate::target::ResourceArn;
        if !matches!(request.command, Command::Enter(_) | Command::Arm(_)) {
            return Vec::new();
        }
        let Ok(refs) = self.expand(&request.targets) else {
            return Vec::new();
        };
        let account_of: HashMap<String, Option<String>> = refs
            .iter()
            .map(|t| (t.label(), t.account.clone()))
            .collect();
        let mut by_place: std::collections::BTreeMap<
            super::engine::Place,
            Vec<(usize, ResourceArn)>,
        > = Default::default();
        for (i, r) in run.results.iter().enumerate() {
            // A refused member's ARN is in its refusal.
            let refused = r.error.as_ref().and_then(|e| match &e.error {
                Error::ForeignWebAcl { load_balancer, .. } => Some(load_balancer.as_str()),
                _ => None,
            });
            let arn = r
                .load_balancer_arn
                .as_deref()
                .or(refused)
                .and_then(|a| ResourceArn::parse(a).ok());
            if let (Some(arn), Some(account)) = (arn, account_of.get(&r.target)) {
                let place = (account.clone(), Some(arn.region().to_string()));
                by_place.entry(place).or_default().push((i, arn));
            }
        }
        let mut notes = Vec::new();
        // Each place's tags are read in its own account and Region: side by
        // side.
        let reads = by_place.into_iter().map(|(place, members)| async move {
            let Ok(backend) = self.backend(&place).await else {
                return None;
            };
            let arns: Vec<ResourceArn> = members.iter().map(|(_, a)| a.clone()).collect();
            let controllers = backend.controllers(&arns).await;
            Some((backend, members, controllers))
        });
        let read = futures::future::join_all(reads).await;
        for (backend, members, controllers) in read.into_iter().flatten() {
            let controllers = match controllers {
                Ok(c) => c,
                Err(e) => {
                    notes.push(format!(
                        "could not read the load balancers' tags, to tell whether the AWS Load \
                         Balancer Controller manages them: {e}"
                    ));
                    continue;
                }
            };
            for ((i, arn), controller) in members.iter().zip(controllers) {
                let Some(controller) = controller else {
                    continue;
                };
                let report = &run.results[*i];
                let who = format!("{} is managed by {}", report.target, controller.describe());
                let foreign = report.error.as_ref().and_then(|e| match &e.error {
                    Error::ForeignWebAcl { web_acl_name, .. } => Some(web_acl_name.clone()),
                    _ => None,
                });
                let has = |f: fn(&Change) -> bool| report.details.iter().any(f);
                if let Some(acl) = foreign {
                    notes.push(format!(
                        "{who}: web ACL {acl} is the one it associates (its Ingress annotation \
                         {WAF_ANNOTATION}) and puts back over any other, so maint adds its rule \
                         to {acl} rather than associating its own; give {} to consent",
                        Argument::Inject.name()
                    ));
                } else if has(|c| matches!(c, Change::RuleInjected { .. })) {
                    notes.push(format!(
                        "{who}: maint's rule is in the web ACL it associates, which it keeps \
                         associated"
                    ));
                } else if has(|c| matches!(c, Change::Associated | Change::Armed)) {
                    // Read through the target's window: a service's is its
                    // own (a scoped one's web ACL may hold other windows).
                    let window = match &report.service {
                        Some(service) => crate::maintenance::Window::of_service(service),
                        None => crate::maintenance::Window::of_load_balancer(arn),
                    };
                    let status = backend
                        .window_status(&window, std::slice::from_ref(arn))
                        .await
                        .ok()
                        .and_then(|mut s| s.pop())
                        .and_then(Result::ok);
                    let acl = status
                        .as_ref()
                        .and_then(|s| s.window_info())
                        .map(|i| i.web_acl_arn.clone())
                        .unwrap_or_else(|| "<maint's web ACL ARN, see maint status>".into());
                    notes.push(format!(
                        "{who}: controller versions up to 2.8.1 remove a web ACL no Ingress \
                         names, which would end this window unseen; run the controller at \
                         2.8.2 or later, or annotate the Ingress with {WAF_ANNOTATION}: {acl} \
                         while the window lasts (and remove the annotation before maint exit \
                         or disarm)"
                    ));
                }
            }
        }
        notes
    }

    /// Waits until the public sees the run's change at `urls` (one per
    /// result), reporting each probe.
    #[cfg(feature = "http")]
    async fn wait(
        &self,
        run: &ChangeRun,
        urls: &[Option<&str>],
        request: &ChangeRequest,
        plan: &super::request::WaitPlan,
        observer: &dyn Observer,
    ) -> Result<Vec<crate::report::WaitReport>> {
        let windows = run.results.iter().filter(|r| r.error.is_none()).count();
        observer.event(&Event::Waiting { windows });
        let probed =
            |probe: &crate::wait::Probe, seen: &crate::wait::Seen, elapsed: std::time::Duration| {
                observer.event(&Event::Probed {
                    url: &probe.url,
                    window: &probe.window,
                    seen: &seen.describe(),
                    elapsed,
                    cloudfront: probe.cloudfront,
                });
            };
        let gone = request.command.ends_maintenance();
        self.wait_each(run, urls, gone, plan.timeout, &probed).await
    }

    /// Without the `http` feature there is no waiting (refused up front).
    #[cfg(not(feature = "http"))]
    async fn wait(
        &self,
        _: &ChangeRun,
        _: &[Option<&str>],
        _: &ChangeRequest,
        _: &super::request::WaitPlan,
        _: &dyn Observer,
    ) -> Result<Vec<crate::report::WaitReport>> {
        Ok(Vec::new())
    }

    /// Tells the config's webhooks of the run (who ran it: the AWS
    /// credentials' identity, when the fleet works through AWS); returns a
    /// warning per webhook that failed.
    #[cfg(feature = "http")]
    async fn notify(&self, run: &ChangeRun, request: &ChangeRequest) -> Vec<String> {
        let Some(webhooks) = self.config().map(|c| &c.notify_webhooks) else {
            return Vec::new();
        };
        let asked = crate::notify::Asked {
            who: None,
            reason: request
                .settings()
                .and_then(|s| s.reason.as_ref())
                .map(|r| r.as_str().to_string()),
            until: request.settings().and_then(|s| s.until),
        };
        crate::notify::tell_as(webhooks, run, asked, || self.who()).await
    }

    /// Without the `http` feature there are no webhooks to tell.
    #[cfg(not(feature = "http"))]
    async fn notify(&self, _: &ChangeRun, _: &ChangeRequest) -> Vec<String> {
        Vec::new()
    }

    /// Who runs the fleet's changes: the caller identity of its AWS
    /// credentials (`None` without AWS).
    #[cfg(feature = "http")]
    async fn who(&self) -> Option<String> {
        #[cfg(feature = "aws")]
        if let Some(options) = &self.aws {
            return crate::backend::caller_identity(options).await;
        }
        None
    }
}

#[cfg(all(test, feature = "http"))]
#[path = "../fleet_run_tests.rs"]
mod tests;
