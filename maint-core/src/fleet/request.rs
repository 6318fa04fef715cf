//! What a caller asks of a [`Fleet`](super::Fleet): an [`EnterRequest`]
//! (the window's settings, before a service's are applied) and a
//! [`ChangeRequest`] (one changing command, with its wait and its
//! notification).

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::access::{BypassRequest, ClientIp};
use crate::allowlist::Allowlist;
use crate::backend::{AllowlistChange, ExistingWebAcl, MaintenanceSpec, Mode, Reason};
use crate::config::Service;
use crate::maintenance::Given;
use crate::response::{ContentType, ResponseBody, ResponseHeader, ResponseRequest, ResponseStatus};
use crate::scope::{HostPattern, PathPrefix, Scope, ScopeParts};
use crate::Error;

/// What a caller asks of `enter`, before a config service's settings are
/// applied: the command line's flags, or the Python call's arguments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnterRequest {
    /// Entries to let through, besides the service's allowlists.
    pub allowlist: Allowlist,
    /// Why.
    pub reason: Option<Reason>,
    /// The planned end.
    pub until: Option<DateTime<Utc>>,
    /// A page, instead of the service's or the built-in one.
    pub page: Option<ResponseBody>,
    /// The content type of the built-in page, instead of the service's.
    pub content_type: Option<ContentType>,
    /// A status code, instead of the service's or 503.
    pub status: Option<ResponseStatus>,
    /// Extra headers; on the same name they win over the service's.
    pub headers: Vec<ResponseHeader>,
    /// Consent to add maint's rule to a service's own web ACL (`--inject`),
    /// whatever the service's `existing_web_acl` says.
    pub inject: bool,
    /// The bypass secret: kept (the default), on, set, rotated or removed.
    /// A service with `bypass = true` asks for one when this keeps.
    pub bypass: BypassRequest,
    /// Where the allowlist finds a request's address, instead of the
    /// service's `client_ip` (default: the connection).
    pub client_ip: Option<ClientIp>,
    /// The hosts the window covers, instead of the service's `hosts`
    /// (empty: the service's; none: every host).
    pub hosts: Vec<HostPattern>,
    /// The path prefixes the window covers, instead of the service's
    /// `paths` (empty: the service's; none: every path).
    pub paths: Vec<PathPrefix>,
    /// The path prefixes always let through, instead of the service's
    /// `open_paths`.
    pub open_paths: Vec<PathPrefix>,
}

impl EnterRequest {
    /// The maintenance spec for a target of `service` (`None`: a load
    /// balancer named directly): the request's allowlist plus the service's;
    /// the request's page, content type and status, else the service's; the
    /// service's headers with the request's added. The allowlist starts
    /// enabled. The spec records what was [given](crate::maintenance::Given) (by the
    /// request or the service), so a repeated `enter` or `arm` keeps the
    /// window's own value of everything else. Fails when the combination
    /// breaks a WAF rule (too many headers, too many entries).
    ///
    /// `serves_api`: every target of the window is an API (API Gateway
    /// stages, AppSync APIs), whose maintenance response is then maint's
    /// JSON body unless a page or content type is given.
    pub fn spec_for(
        &self,
        service: Option<&Service>,
        serves_api: bool,
    ) -> Result<MaintenanceSpec, Error> {
        let allowlist = match service {
            Some(s) => self.allowlist.union(&s.allowlist)?,
            None => self.allowlist.clone(),
        };
        let page = self
            .page
            .clone()
            .or_else(|| service.and_then(|s| s.page.clone()));
        let content_type = self
            .content_type
            .or(page.as_ref().map(ResponseBody::content_type))
            .or(service.and_then(|s| s.content_type));
        let mut headers: Vec<ResponseHeader> = service
            .map(|s| s.headers.clone())
            .unwrap_or_default()
            .into_iter()
            .filter(|h| !self.headers.iter().any(|mine| mine.is_named(h.name())))
            .collect();
        headers.extend(self.headers.iter().cloned());
        let until = self.until.map(crate::maintenance::check_end).transpose()?;
        let asked = ResponseRequest {
            status: self.status.or(service.and_then(|s| s.status)),
            page,
            content_type,
            headers,
        };
        let default = if serves_api {
            ContentType::Json
        } else {
            ContentType::Html
        };
        let response = asked.build_or(until, default)?;
        let existing_web_acl = if self.inject {
            ExistingWebAcl::Inject
        } else {
            service.map(|s| s.existing_web_acl).unwrap_or_default()
        };
        let client_ip = self
            .client_ip
            .clone()
            .or_else(|| service.and_then(|s| s.client_ip.clone()));
        // Each part of the scope: the request's, else the service's.
        fn part<T: Clone>(mine: &[T], theirs: Option<&Vec<T>>) -> Vec<T> {
            match theirs {
                Some(theirs) if mine.is_empty() => theirs.clone(),
                _ => mine.to_vec(),
            }
        }
        let hosts: Vec<HostPattern> = part(&self.hosts, service.map(|s| &s.hosts));
        let paths: Vec<PathPrefix> = part(&self.paths, service.map(|s| &s.paths));
        let open_paths: Vec<PathPrefix> = part(&self.open_paths, service.map(|s| &s.open_paths));
        let given_scope = ScopeParts {
            hosts: !hosts.is_empty(),
            paths: !paths.is_empty(),
            open_paths: !open_paths.is_empty(),
        };
        let scope = Scope::new(hosts, paths, open_paths)?;
        Ok(MaintenanceSpec {
            allowlist,
            allowlist_enabled: true,
            reason: self.reason.clone(),
            until,
            response,
            existing_web_acl,
            bypass: match (&self.bypass, service.is_some_and(|s| s.bypass)) {
                (BypassRequest::Keep, true) => BypassRequest::On,
                (request, _) => request.clone(),
            },
            bypass_enabled: true,
            given: Some(Given {
                reason: self.reason.is_some(),
                until: self.until.is_some(),
                response: asked,
                client_ip: client_ip.is_some(),
                scope: given_scope,
            }),
            client_ip: client_ip.unwrap_or_default(),
            scope,
        })
    }
}

/// A changing command, with what it needs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Command {
    /// Into maintenance (or updated in place), with the window's settings.
    Enter(EnterRequest),
    /// Armed ahead of a window: maint's web ACL associated in
    /// pass-through form, prepared with these settings.
    Arm(EnterRequest),
    /// Out of maintenance, maint's resources deleted.
    Exit,
    /// Every overdue window ended (among the targets, or everywhere).
    ExitExpired,
    /// maint's pass-through web ACL disassociated.
    Disarm,
    /// An allowlist switched or edited.
    Allowlist(AllowlistChange),
}

impl Command {
    /// Whether waiting for this command means waiting for the maintenance
    /// page to go (`exit`), rather than for it to show the change.
    #[cfg(feature = "http")]
    pub(super) fn ends_maintenance(&self) -> bool {
        matches!(self, Command::Exit | Command::ExitExpired)
    }
}

/// `--wait`: wait after the change until the public sees it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WaitPlan {
    /// The URL to probe for every target, instead of each service's `url`.
    pub url: Option<String>,
    /// How long to wait at most for each window (`None`: the default for
    /// its kind, [`WaitPlan::DEFAULT_TIMEOUT`] or, for a CloudFront
    /// distribution's window, [`WaitPlan::CLOUDFRONT_TIMEOUT`]).
    pub timeout: Option<Duration>,
}

impl WaitPlan {
    /// How long a wait lasts by default: 5 minutes.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);
    /// How long a wait for a CloudFront distribution's window lasts by
    /// default: 30 minutes, since a change reaches every edge location in
    /// minutes (users report 5 to 20).
    pub const CLOUDFRONT_TIMEOUT: Duration = Duration::from_secs(1800);
}

/// One changing command from request to report, for
/// [`Fleet::run`](super::Fleet::run): the command, its targets, whether it is a dry run,
/// whether to wait until the public sees the change, and whether to tell
/// the config's webhooks.
#[derive(Debug, Clone)]
pub struct ChangeRequest {
    /// What to do.
    pub command: Command,
    /// The targets as the user named them (services, load balancer names
    /// or ARNs; none: every service of the config file).
    pub targets: Vec<String>,
    /// Apply, or only say what would change.
    pub mode: Mode,
    /// Wait until the public sees the change (`None`: do not wait).
    pub wait: Option<WaitPlan>,
    /// Tell the config's webhooks (`[notify]`) of what changed.
    pub notify: bool,
}

impl ChangeRequest {
    /// `command` on `targets`, applied, without waiting, telling the
    /// config's webhooks.
    pub fn new(command: Command, targets: Vec<String>) -> Self {
        Self {
            command,
            targets,
            mode: Mode::Apply,
            wait: None,
            notify: true,
        }
    }

    /// The same request in `mode`.
    #[must_use]
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// The same request, waiting as `plan` says (`None`: not waiting).
    #[must_use]
    pub fn wait(mut self, plan: Option<WaitPlan>) -> Self {
        self.wait = plan;
        self
    }

    /// The same request, telling the webhooks or not.
    #[must_use]
    pub fn notify(mut self, notify: bool) -> Self {
        self.notify = notify;
        self
    }

    /// The settings of `enter` or `arm`, when this is one of them.
    pub(super) fn settings(&self) -> Option<&EnterRequest> {
        match &self.command {
            Command::Enter(request) | Command::Arm(request) => Some(request),
            _ => None,
        }
    }
}
