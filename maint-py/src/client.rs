//! `maint.Client`: the core's [`Fleet`] on the WAF backend, one call per
//! operation. Arguments become the core's typed values before anything
//! talks to AWS; the fleet decides everything else (which targets, resolved
//! all or nothing, in which order, in which regions), exactly as for the
//! CLI; its reports become Python objects and its errors exceptions.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use maint_core::access::{
    BypassRequest, BypassSecret, ClientIp, ClientIpFallback, ClientIpPosition,
};
use maint_core::backend::{AllowlistChange, AwsOptions, Mode, Reason, WafSettings};
use maint_core::check::CheckRequest;
use maint_core::config::Config;
use maint_core::error::chain;
use maint_core::fleet::{
    ChangeRequest, Command, EnterRequest, Observer, Silent, WaitPlan, DEFAULT_CONCURRENCY,
};
use maint_core::report::{ChangeRun, CheckTargetReport, StatusRun};
use maint_core::response::{ResponseBody, ResponseHeader, ResponseStatus};
use maint_core::scope::{HostPattern, PathPrefix};
use maint_core::{Error, Fleet};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use crate::allowlist::entries_from;
use crate::errors::{exception, invalid, to_pyerr};
use crate::logs;
use crate::reports::{ChangeResult, CheckResult, Leftover, PyTargetStatus};
use crate::runtime::runtime;

/// Puts load balancers into maintenance mode and back, through AWS WAF.
#[pyclass(frozen, module = "maint")]
pub struct Client {
    options: AwsOptions,
    settings: WafSettings,
    config: Option<Config>,
    concurrency: usize,
    raise_on_error: bool,
    /// Whether changes are told to the config's webhooks.
    notify: bool,
    /// The fleet (and the AWS clients it caches), keyed by the pid that made
    /// it: a forked child must not use the parent's connections.
    fleet: Mutex<Option<(u32, Arc<Fleet>)>>,
}

impl Client {
    fn fleet(&self) -> maint_core::Result<Arc<Fleet>> {
        let pid = std::process::id();
        let mut slot = self.fleet.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((owner, fleet)) = slot.as_ref() {
            if *owner == pid {
                return Ok(fleet.clone());
            }
        }
        if let Some(stale) = slot.take() {
            // Its connections belong to the parent's runtime (see runtime.rs).
            std::mem::forget(stale);
        }
        let fleet = Arc::new(
            Fleet::builder()
                .set_config(self.config.clone())
                .aws(self.options.clone())
                .waf_settings(self.settings.clone())
                .concurrency(self.concurrency)
                .build()?,
        );
        *slot = Some((pid, fleet.clone()));
        Ok(fleet)
    }

    /// Runs `call` on the fleet with the GIL released, on the package's
    /// runtime; an error is raised as its exception.
    fn call<T, F, Fut>(&self, py: Python<'_>, call: F) -> PyResult<T>
    where
        T: Send,
        F: FnOnce(Arc<Fleet>) -> Fut + Send,
        Fut: std::future::Future<Output = maint_core::Result<T>>,
    {
        logs::refresh(py);
        let fleet = self.fleet().map_err(|e| to_pyerr(py, &e))?;
        let runtime = runtime()?;
        py.detach(move || runtime.block_on(call(fleet)))
            .map_err(|e| to_pyerr(py, &e))
    }

    /// Runs a change through the core (GIL released): the command, the
    /// wait, the config's webhooks (`[notify]`; unless `notify=False`).
    /// Each warning (a spoofable client address, a webhook that failed)
    /// is a `UserWarning`; a wait that failed is raised (after the
    /// webhooks were told); else the results as Python objects (see
    /// [`changes`](Self::changes)).
    fn change<'py>(
        &self,
        py: Python<'py>,
        request: ChangeRequest,
        on_progress: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let request = request.notify(self.notify);
        let sink = on_progress.map(logs::Progress::new);
        let run = self.call(py, move |fleet| async move {
            let observer: Arc<dyn Observer> = match &sink {
                Some(sink) => sink.clone(),
                None => Arc::new(Silent),
            };
            let work = fleet.run(request, &*observer);
            // The engine's own progress events reach the callback too.
            match sink.clone() {
                Some(sink) => logs::PROGRESS.scope(sink, work).await,
                None => work.await,
            }
        })?;
        for warning in &run.warnings {
            let message = std::ffi::CString::new(warning.as_str()).unwrap_or_default();
            PyErr::warn(
                py,
                &py.get_type::<pyo3::exceptions::PyUserWarning>(),
                &message,
                1,
            )?;
        }
        if let Some(e) = &run.wait_error {
            return Err(to_pyerr(py, e));
        }
        self.changes(py, run)
    }

    /// A changing call's results as Python objects; raises the first failure
    /// (after every target ran) when the client raises on errors.
    fn changes<'py>(&self, py: Python<'py>, run: ChangeRun) -> PyResult<Bound<'py, PyList>> {
        let failure = run
            .failures()
            .next()
            .map(|(t, e)| (t.to_string(), e.clone()));
        let failed = run.summary.failed;
        let mut objects = Vec::with_capacity(run.results.len());
        for report in run.results {
            let error = match &report.error {
                Some(e) => Some(exception(py, &e.error, None)?.unbind()),
                None => None,
            };
            objects.push(Bound::new(py, ChangeResult::new(report, error))?);
        }
        let list = PyList::new(py, objects)?;
        self.finish(py, list, failure, failed)
    }

    /// Raises `first` (the first failure, in target order) with `.results`
    /// attached, when the client raises on errors.
    fn finish<'py>(
        &self,
        py: Python<'py>,
        list: Bound<'py, PyList>,
        first: Option<(String, Error)>,
        failed: usize,
    ) -> PyResult<Bound<'py, PyList>> {
        let Some((target, error)) = first.filter(|_| self.raise_on_error) else {
            return Ok(list);
        };
        let total = list.len();
        let message = format!(
            "{target}: {} ({failed} of {total} target{} failed; see .results)",
            chain(&error),
            if total == 1 { "" } else { "s" }
        );
        let object = exception(py, &error, Some(message))?;
        object.setattr("results", &list)?;
        Err(PyErr::from_value(object))
    }

    /// An allowlist change on `targets`, with its wait plan.
    fn allowlist_change<'py>(
        &self,
        py: Python<'py>,
        targets: Vec<String>,
        change: AllowlistChange,
        dry_run: bool,
        wait: Option<WaitPlan>,
        on_progress: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let request = ChangeRequest::new(Command::Allowlist(change), targets)
            .mode(Mode::from_dry_run(dry_run))
            .wait(wait);
        self.change(py, request, on_progress)
    }
}

/// `wait=`, `wait_url=`, `wait_timeout=` (seconds) as the core's wait
/// plan (`None`: no waiting).
fn wait_plan(
    py: Python<'_>,
    wait: bool,
    url: Option<String>,
    timeout: Option<f64>,
) -> PyResult<Option<WaitPlan>> {
    let timeout = match timeout {
        None => None,
        Some(t) if t.is_finite() && t > 0.0 => Some(Duration::from_secs_f64(t)),
        Some(t) => {
            return Err(invalid(
                py,
                "wait_timeout",
                &format!("{t} is not a number of seconds above 0"),
            ))
        }
    };
    Ok((wait || url.is_some()).then_some(WaitPlan { url, timeout }))
}

fn strings(targets: &Bound<'_, PyTuple>) -> PyResult<Vec<String>> {
    targets.iter().map(|t| t.extract::<String>()).collect()
}

/// An aware datetime as UTC; a naive one is refused (its zone is unknown).
fn until_utc(py: Python<'_>, until: &Bound<'_, PyAny>) -> PyResult<DateTime<Utc>> {
    let naive = until.getattr("tzinfo")?.is_none() || until.call_method0("utcoffset")?.is_none();
    if naive {
        return Err(invalid(
            py,
            &format!("until {}", until.repr()?),
            "a naive datetime; give a timezone-aware one (e.g. tzinfo=datetime.timezone.utc)",
        ));
    }
    let utc = py.import("datetime")?.getattr("timezone")?.getattr("utc")?;
    until.call_method1("astimezone", (utc,))?.extract()
}

/// A status code argument, validated like the CLI's `--status`.
fn status_code(py: Python<'_>, code: i64) -> PyResult<ResponseStatus> {
    let code = u16::try_from(code).map_err(|_| {
        invalid(
            py,
            &format!("status code {code}"),
            "not an HTTP status code",
        )
    })?;
    ResponseStatus::new(code).map_err(|e| to_pyerr(py, &e.into()))
}

/// A `{name: value}` mapping of extra response headers.
fn headers_from(py: Python<'_>, headers: &Bound<'_, PyAny>) -> PyResult<Vec<ResponseHeader>> {
    let mut list = Vec::new();
    for item in headers.call_method0("items")?.try_iter()? {
        let (name, value): (String, String) = item?.extract()?;
        list.push(ResponseHeader::new(name, value).map_err(|e| to_pyerr(py, &e.into()))?);
    }
    Ok(list)
}

/// `bypass=`, `bypass_secret=`, `rotate_bypass=` as the core's request:
/// at most one of them.
fn bypass_request(
    py: Python<'_>,
    bypass: Option<bool>,
    secret: Option<String>,
    rotate: bool,
) -> PyResult<BypassRequest> {
    match (bypass, secret, rotate) {
        (None, None, false) => Ok(BypassRequest::Keep),
        (Some(true), None, false) => Ok(BypassRequest::On),
        (Some(false), None, false) => Ok(BypassRequest::Off),
        (None, Some(s), false) => BypassSecret::new(&s)
            .map(BypassRequest::Set)
            .map_err(|e| to_pyerr(py, &e.into())),
        (None, None, true) => Ok(BypassRequest::Rotate),
        _ => Err(invalid(
            py,
            "bypass",
            "give at most one of bypass=, bypass_secret=, rotate_bypass=True",
        )),
    }
}

/// `client_ip={"header": ..., "position": ..., "fallback": ...}` as the
/// core's value (None: the service's, else the connection).
fn client_ip_from(py: Python<'_>, spec: &Bound<'_, PyAny>) -> PyResult<ClientIp> {
    let to_py = |e: maint_core::error::InvalidInput| to_pyerr(py, &e.into());
    let get = |key: &str| -> PyResult<Option<String>> {
        match spec.get_item(key) {
            Ok(v) if !v.is_none() => Ok(Some(v.extract()?)),
            _ => Ok(None),
        }
    };
    let header = get("header")?
        .ok_or_else(|| invalid(py, "client_ip", "needs a 'header' (e.g. X-Forwarded-For)"))?;
    let position = get("position")?.ok_or_else(|| {
        invalid(
            py,
            "client_ip",
            "needs a 'position': 'last' behind CloudFront or one proxy",
        )
    })?;
    let position = ClientIpPosition::parse(&position).map_err(to_py)?;
    let fallback = match get("fallback")? {
        Some(f) => ClientIpFallback::parse(&f).map_err(to_py)?,
        None => ClientIpFallback::NoMatch,
    };
    ClientIp::header(&header, position, fallback).map_err(to_py)
}

/// Who gets in besides the allowlist, as given to `enter` or `arm`.
struct Access {
    bypass: BypassRequest,
    client_ip: Option<ClientIp>,
}

impl Access {
    fn new(
        py: Python<'_>,
        bypass: Option<bool>,
        secret: Option<String>,
        rotate: bool,
        client_ip: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        Ok(Self {
            bypass: bypass_request(py, bypass, secret, rotate)?,
            client_ip: client_ip.map(|c| client_ip_from(py, c)).transpose()?,
        })
    }
}

/// What the window covers on a shared load balancer, as given to `enter`
/// or `arm`: `hosts=`, `paths=`, `open_paths=` (None or empty: the
/// service's, else every host and path, no open path).
struct ScopeArgs {
    hosts: Vec<HostPattern>,
    paths: Vec<PathPrefix>,
    open_paths: Vec<PathPrefix>,
}

impl ScopeArgs {
    fn new(
        py: Python<'_>,
        hosts: Option<Vec<String>>,
        paths: Option<Vec<String>>,
        open_paths: Option<Vec<String>>,
    ) -> PyResult<Self> {
        Ok(Self {
            hosts: scope_list(py, "hosts", hosts, HostPattern::parse)?,
            paths: scope_list(py, "paths", paths, PathPrefix::parse)?,
            open_paths: scope_list(py, "open_paths", open_paths, PathPrefix::parse)?,
        })
    }
}

/// One keyword argument of the scope, each entry parsed; a bad one raises
/// `InvalidInputError` naming the keyword and the entry.
fn scope_list<T>(
    py: Python<'_>,
    keyword: &str,
    given: Option<Vec<String>>,
    parse: impl Fn(&str) -> Result<T, maint_core::error::InvalidInput>,
) -> PyResult<Vec<T>> {
    given
        .unwrap_or_default()
        .iter()
        .map(|entry| {
            parse(entry).map_err(|e| invalid(py, &format!("{keyword} entry {entry:?}"), &e.reason))
        })
        .collect()
}

/// `enter`'s and `arm`'s keyword arguments as the core's request.
#[allow(clippy::too_many_arguments)]
fn request(
    py: Python<'_>,
    allow: Option<&Bound<'_, PyAny>>,
    reason: Option<String>,
    until: Option<&Bound<'_, PyAny>>,
    page: Option<PathBuf>,
    status: Option<i64>,
    headers: Option<&Bound<'_, PyAny>>,
    inject: bool,
    access: Access,
    scope: ScopeArgs,
) -> PyResult<EnterRequest> {
    let to_py = |e: Error| to_pyerr(py, &e);
    Ok(EnterRequest {
        allowlist: allow
            .map(|a| entries_from(py, a))
            .transpose()?
            .unwrap_or_default(),
        reason: reason
            .as_deref()
            .map(Reason::new)
            .transpose()
            .map_err(|e| to_py(e.into()))?,
        until: until.map(|u| until_utc(py, u)).transpose()?,
        page: page
            .as_deref()
            .map(|p| ResponseBody::from_file(p, None))
            .transpose()
            .map_err(|e| to_py(e.into()))?,
        status: status.map(|code| status_code(py, code)).transpose()?,
        content_type: None,
        headers: headers
            .map(|h| headers_from(py, h))
            .transpose()?
            .unwrap_or_default(),
        inject,
        bypass: access.bypass,
        client_ip: access.client_ip,
        hosts: scope.hosts,
        paths: scope.paths,
        open_paths: scope.open_paths,
    })
}

#[pymethods]
impl Client {
    #[new]
    #[pyo3(signature = (region=None, profile=None, endpoint_url=None, config=None, concurrency=None, raise_on_error=true, notify=true))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        region: Option<String>,
        profile: Option<String>,
        endpoint_url: Option<String>,
        config: Option<PathBuf>,
        concurrency: Option<usize>,
        raise_on_error: bool,
        notify: bool,
    ) -> PyResult<Self> {
        let config = Config::discover(config.as_deref()).map_err(|e| to_pyerr(py, &e))?;
        let settings = WafSettings::for_config(config.as_ref()).map_err(|e| to_pyerr(py, &e))?;
        let options = AwsOptions {
            region,
            profile,
            endpoint_url,
        };
        options.check().map_err(|e| to_pyerr(py, &e))?;
        Ok(Self {
            settings,
            options,
            config,
            concurrency: concurrency.unwrap_or(DEFAULT_CONCURRENCY).max(1),
            raise_on_error,
            notify,
            fleet: Mutex::new(None),
        })
    }

    /// The region given to the constructor.
    #[getter]
    fn region(&self) -> Option<&str> {
        self.options.region.as_deref()
    }
    /// The AWS profile given to the constructor.
    #[getter]
    fn profile(&self) -> Option<&str> {
        self.options.profile.as_deref()
    }
    /// The endpoint URL given to the constructor.
    #[getter]
    fn endpoint_url(&self) -> Option<&str> {
        self.options.endpoint_url.as_deref()
    }
    /// The config file's path, when one was loaded.
    #[getter]
    fn config(&self) -> Option<String> {
        self.config.as_ref().map(|c| c.path.display().to_string())
    }
    /// How many targets are acted on at once.
    #[getter]
    fn concurrency(&self) -> usize {
        self.concurrency
    }
    /// Whether a call raises its first per-target failure.
    #[getter]
    fn raise_on_error(&self) -> bool {
        self.raise_on_error
    }
    /// The names of the config file's services.
    #[getter]
    fn services(&self) -> Vec<String> {
        self.config
            .as_ref()
            .map(|c| c.services.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn __repr__(&self) -> String {
        let mut fields = Vec::new();
        let o = &self.options;
        for (name, value) in [
            ("region", &o.region),
            ("profile", &o.profile),
            ("endpoint_url", &o.endpoint_url),
        ] {
            if let Some(value) = value {
                fields.push(format!("{name}={value:?}"));
            }
        }
        if let Some(path) = self.config() {
            fields.push(format!("config={path:?}"));
        }
        format!("Client({})", fields.join(", "))
    }

    /// Puts each target into maintenance (or updates it in place). With
    /// `inject=True`, a target that already has a web ACL of its own gets
    /// maint's rule added to it, first in evaluation order (else refused);
    /// `exit` removes exactly what maint added. `bypass=True` gives the
    /// window a bypass secret (kept if it has one; `bypass=False` removes
    /// it), `bypass_secret=` sets one, `rotate_bypass=True` replaces it;
    /// `client_ip={"header": "X-Forwarded-For", "position": "last"}` matches
    /// the allowlist against the address a proxy put in that header.
    /// `hosts=["shop.example.com"]`, `paths=["/checkout"]` limit the window
    /// to those hosts and path prefixes of a shared load balancer;
    /// `open_paths=["/healthz"]` always pass (each None: the service's;
    /// a repeated enter keeps the window's).
    #[pyo3(signature = (*targets, allow=None, reason=None, until=None, page=None, status=None, headers=None, inject=false, bypass=None, bypass_secret=None, rotate_bypass=false, client_ip=None, hosts=None, paths=None, open_paths=None, wait=false, wait_url=None, wait_timeout=None, on_progress=None, dry_run=false))]
    #[allow(clippy::too_many_arguments)]
    fn enter<'py>(
        &self,
        py: Python<'py>,
        targets: &Bound<'py, PyTuple>,
        allow: Option<&Bound<'py, PyAny>>,
        reason: Option<String>,
        until: Option<&Bound<'py, PyAny>>,
        page: Option<PathBuf>,
        status: Option<i64>,
        headers: Option<&Bound<'py, PyAny>>,
        inject: bool,
        bypass: Option<bool>,
        bypass_secret: Option<String>,
        rotate_bypass: bool,
        client_ip: Option<&Bound<'py, PyAny>>,
        hosts: Option<Vec<String>>,
        paths: Option<Vec<String>>,
        open_paths: Option<Vec<String>>,
        wait: bool,
        wait_url: Option<String>,
        wait_timeout: Option<f64>,
        on_progress: Option<Py<PyAny>>,
        dry_run: bool,
    ) -> PyResult<Bound<'py, PyList>> {
        let targets = strings(targets)?;
        let access = Access::new(py, bypass, bypass_secret, rotate_bypass, client_ip)?;
        let scope = ScopeArgs::new(py, hosts, paths, open_paths)?;
        let request = request(
            py, allow, reason, until, page, status, headers, inject, access, scope,
        )?;
        let request = ChangeRequest::new(Command::Enter(request), targets)
            .mode(Mode::from_dry_run(dry_run))
            .wait(wait_plan(py, wait, wait_url, wait_timeout)?);
        self.change(py, request, on_progress)
    }

    /// Arms each target ahead of a planned window: maint's web ACL is
    /// associated in pass-through form (nothing blocked; AWS WAF charges
    /// while it is associated), prepared with these settings, so that
    /// `enter` and `exit` are one update each. `disarm` afterwards.
    #[pyo3(signature = (*targets, allow=None, reason=None, until=None, page=None, status=None, headers=None, bypass=None, bypass_secret=None, rotate_bypass=false, client_ip=None, hosts=None, paths=None, open_paths=None, on_progress=None, dry_run=false))]
    #[allow(clippy::too_many_arguments)]
    fn arm<'py>(
        &self,
        py: Python<'py>,
        targets: &Bound<'py, PyTuple>,
        allow: Option<&Bound<'py, PyAny>>,
        reason: Option<String>,
        until: Option<&Bound<'py, PyAny>>,
        page: Option<PathBuf>,
        status: Option<i64>,
        headers: Option<&Bound<'py, PyAny>>,
        bypass: Option<bool>,
        bypass_secret: Option<String>,
        rotate_bypass: bool,
        client_ip: Option<&Bound<'py, PyAny>>,
        hosts: Option<Vec<String>>,
        paths: Option<Vec<String>>,
        open_paths: Option<Vec<String>>,
        on_progress: Option<Py<PyAny>>,
        dry_run: bool,
    ) -> PyResult<Bound<'py, PyList>> {
        let targets = strings(targets)?;
        let access = Access::new(py, bypass, bypass_secret, rotate_bypass, client_ip)?;
        let scope = ScopeArgs::new(py, hosts, paths, open_paths)?;
        let request = request(
            py, allow, reason, until, page, status, headers, false, access, scope,
        )?;
        let request =
            ChangeRequest::new(Command::Arm(request), targets).mode(Mode::from_dry_run(dry_run));
        self.change(py, request, on_progress)
    }

    /// Disarms each target: maint's pass-through web ACL is disassociated
    /// (and deleted with its last member). A target in maintenance is
    /// refused (`exit` first).
    #[pyo3(signature = (*targets, on_progress=None, dry_run=false))]
    fn disarm<'py>(
        &self,
        py: Python<'py>,
        targets: &Bound<'py, PyTuple>,
        on_progress: Option<Py<PyAny>>,
        dry_run: bool,
    ) -> PyResult<Bound<'py, PyList>> {
        let request = ChangeRequest::new(Command::Disarm, strings(targets)?)
            .mode(Mode::from_dry_run(dry_run));
        self.change(py, request, on_progress)
    }

    /// Takes each target out of maintenance and deletes maint's resources.
    /// With `wait=True` (or `wait_url=`), returns once the public no longer
    /// gets the maintenance page.
    #[pyo3(signature = (*targets, wait=false, wait_url=None, wait_timeout=None, on_progress=None, dry_run=false))]
    #[allow(clippy::too_many_arguments)]
    fn exit<'py>(
        &self,
        py: Python<'py>,
        targets: &Bound<'py, PyTuple>,
        wait: bool,
        wait_url: Option<String>,
        wait_timeout: Option<f64>,
        on_progress: Option<Py<PyAny>>,
        dry_run: bool,
    ) -> PyResult<Bound<'py, PyList>> {
        let request = ChangeRequest::new(Command::Exit, strings(targets)?)
            .mode(Mode::from_dry_run(dry_run))
            .wait(wait_plan(py, wait, wait_url, wait_timeout)?);
        self.change(py, request, on_progress)
    }

    /// Ends every overdue window (in maintenance past its planned end):
    /// among `targets`, or, with none, every window of maint's in the
    /// client's region and the config's Regions. Safe to run every minute.
    #[pyo3(signature = (*targets, on_progress=None, dry_run=false))]
    fn exit_expired<'py>(
        &self,
        py: Python<'py>,
        targets: &Bound<'py, PyTuple>,
        on_progress: Option<Py<PyAny>>,
        dry_run: bool,
    ) -> PyResult<Bound<'py, PyList>> {
        let request = ChangeRequest::new(Command::ExitExpired, strings(targets)?)
            .mode(Mode::from_dry_run(dry_run));
        self.change(py, request, on_progress)
    }

    /// Lets the allowlist's entries through (testers get in).
    #[pyo3(signature = (*targets, wait=false, wait_url=None, wait_timeout=None, on_progress=None, dry_run=false))]
    #[allow(clippy::too_many_arguments)]
    fn allowlist_enable<'py>(
        &self,
        py: Python<'py>,
        targets: &Bound<'py, PyTuple>,
        wait: bool,
        wait_url: Option<String>,
        wait_timeout: Option<f64>,
        on_progress: Option<Py<PyAny>>,
        dry_run: bool,
    ) -> PyResult<Bound<'py, PyList>> {
        let wait = wait_plan(py, wait, wait_url, wait_timeout)?;
        self.allowlist_change(
            py,
            strings(targets)?,
            AllowlistChange::Enable,
            dry_run,
            wait,
            on_progress,
        )
    }

    /// Stops letting the allowlist's entries through, keeping them. The
    /// bypass is shut too, unless `keep_bypass=True`.
    #[pyo3(signature = (*targets, keep_bypass=false, wait=false, wait_url=None, wait_timeout=None, on_progress=None, dry_run=false))]
    #[allow(clippy::too_many_arguments)]
    fn allowlist_disable<'py>(
        &self,
        py: Python<'py>,
        targets: &Bound<'py, PyTuple>,
        keep_bypass: bool,
        wait: bool,
        wait_url: Option<String>,
        wait_timeout: Option<f64>,
        on_progress: Option<Py<PyAny>>,
        dry_run: bool,
    ) -> PyResult<Bound<'py, PyList>> {
        let change = if keep_bypass {
            AllowlistChange::DisableKeepingBypass
        } else {
            AllowlistChange::Disable
        };
        let wait = wait_plan(py, wait, wait_url, wait_timeout)?;
        self.allowlist_change(py, strings(targets)?, change, dry_run, wait, on_progress)
    }

    /// What a request from `ip` with `headers` ("Name: value") for `path`
    /// and `host` (its Host header) gets from each target now, and why:
    /// maint's rules of the live web ACL, read once, evaluated. Changes
    /// nothing. `url="https://shop.example.com/checkout"` gives the host
    /// and the path at once (not with `path=` or `host=`).
    #[pyo3(signature = (*targets, ip, headers=None, path=None, host=None, url=None))]
    #[allow(clippy::too_many_arguments)]
    fn check<'py>(
        &self,
        py: Python<'py>,
        targets: &Bound<'py, PyTuple>,
        ip: String,
        headers: Option<Vec<String>>,
        path: Option<String>,
        host: Option<String>,
        url: Option<String>,
    ) -> PyResult<Bound<'py, PyList>> {
        let targets = strings(targets)?;
        let headers = headers.unwrap_or_default();
        let to_py = |e: maint_core::error::InvalidInput| to_pyerr(py, &e.into());
        let request = match (url, path, host) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                return Err(invalid(
                    py,
                    "url",
                    "gives the host and the path: not with path= or host=",
                ))
            }
            (Some(url), None, None) => CheckRequest::for_url(&ip, &headers, &url).map_err(to_py)?,
            (None, path, host) => {
                let request = CheckRequest::new(&ip, &headers, path.as_deref()).map_err(to_py)?;
                match host {
                    Some(host) => request.with_host(&host).map_err(to_py)?,
                    None => request,
                }
            }
        };
        let answers = self.call(py, move |fleet| async move {
            fleet.check(&targets, &request).await
        })?;
        let failure = answers
            .iter()
            .find_map(|(t, r)| r.as_ref().err().map(|e| (t.label(), e.clone())));
        let failed = answers.iter().filter(|(_, r)| r.is_err()).count();
        let mut objects = Vec::with_capacity(answers.len());
        for (target, answer) in &answers {
            let error = match answer {
                Err(e) => Some(exception(py, e, None)?.unbind()),
                Ok(_) => None,
            };
            let report = CheckTargetReport::new(target, answer);
            objects.push(Bound::new(py, CheckResult::new(report, error))?);
        }
        let list = PyList::new(py, objects)?;
        self.finish(py, list, failure, failed)
    }

    /// The bypass link of `target`'s window: `base_url` (else the
    /// service's `url` from the config, else nothing) and
    /// `/maint-bypass/<secret>`. It holds the secret: share it like a
    /// password. Raises `ConflictError` when the window has no bypass.
    #[pyo3(signature = (target, *, base_url=None))]
    fn bypass_link(
        &self,
        py: Python<'_>,
        target: String,
        base_url: Option<String>,
    ) -> PyResult<String> {
        let targets = vec![target.clone()];
        let run = self.call(py, move |fleet| async move {
            fleet
                .bypass_links(&targets, base_url.as_deref(), &Silent)
                .await
        })?;
        if let Some((_, e)) = run.status.failures().next() {
            return Err(to_pyerr(py, e));
        }
        match run.links.into_iter().find_map(|l| l.link) {
            Some(link) => Ok(link),
            None => Err(to_pyerr(
                py,
                &Error::Conflict {
                    resource: target,
                    message: "no bypass: enter with bypass=True first".into(),
                },
            )),
        }
    }

    /// Adds entries to the target's allowlist.
    #[pyo3(signature = (target, entries, *, on_progress=None, dry_run=false))]
    fn allowlist_add<'py>(
        &self,
        py: Python<'py>,
        target: String,
        entries: &Bound<'py, PyAny>,
        on_progress: Option<Py<PyAny>>,
        dry_run: bool,
    ) -> PyResult<Bound<'py, PyList>> {
        let entries = entries_from(py, entries)?;
        self.allowlist_change(
            py,
            vec![target],
            AllowlistChange::Add(entries),
            dry_run,
            None,
            on_progress,
        )
    }

    /// Takes addresses out of the target's allowlist.
    #[pyo3(signature = (target, entries, *, on_progress=None, dry_run=false))]
    fn allowlist_remove<'py>(
        &self,
        py: Python<'py>,
        target: String,
        entries: &Bound<'py, PyAny>,
        on_progress: Option<Py<PyAny>>,
        dry_run: bool,
    ) -> PyResult<Bound<'py, PyList>> {
        let entries = entries_from(py, entries)?;
        self.allowlist_change(
            py,
            vec![target],
            AllowlistChange::Remove(entries),
            dry_run,
            None,
            on_progress,
        )
    }

    /// Replaces the target's allowlist.
    #[pyo3(signature = (target, entries, *, on_progress=None, dry_run=false))]
    fn allowlist_set<'py>(
        &self,
        py: Python<'py>,
        target: String,
        entries: &Bound<'py, PyAny>,
        on_progress: Option<Py<PyAny>>,
        dry_run: bool,
    ) -> PyResult<Bound<'py, PyList>> {
        let entries = entries_from(py, entries)?;
        self.allowlist_change(
            py,
            vec![target],
            AllowlistChange::Set(entries),
            dry_run,
            None,
            on_progress,
        )
    }

    /// Each target's state. No targets: every service of the config file.
    #[pyo3(signature = (*targets))]
    fn status<'py>(
        &self,
        py: Python<'py>,
        targets: &Bound<'py, PyTuple>,
    ) -> PyResult<Bound<'py, PyList>> {
        let targets = strings(targets)?;
        let run: StatusRun = self.call(py, move |fleet| async move {
            fleet.status(&targets, &Silent).await
        })?;
        let failure = run
            .failures()
            .next()
            .map(|(t, e)| (t.to_string(), e.clone()));
        let failed = run.failures().count();
        let mut objects = Vec::with_capacity(run.targets.len());
        for report in run.targets {
            let error = match &report.error {
                Some(e) => Some(exception(py, &e.error, None)?.unbind()),
                None => None,
            };
            objects.push(Bound::new(py, PyTargetStatus::new(report, error))?);
        }
        let list = PyList::new(py, objects)?;
        self.finish(py, list, failure, failed)
    }

    /// Deletes maint's resources that no load balancer uses any more, in the
    /// client's region and in every region of the config file's services;
    /// returns what was (or would be) deleted. A region that fails raises
    /// after the others were cleaned, with them in `.results`.
    #[pyo3(signature = (*, dry_run=false))]
    fn cleanup<'py>(&self, py: Python<'py>, dry_run: bool) -> PyResult<Bound<'py, PyList>> {
        let mode = Mode::from_dry_run(dry_run);
        let run = self.call(
            py,
            move |fleet| async move { Ok(fleet.cleanup(mode).await) },
        )?;
        let failure = run.failures().next().map(|(region, e)| {
            (
                format!("cleanup in {}", region.unwrap_or("the default region")),
                e.clone(),
            )
        });
        let failed = run.errors.len();
        let objects = run
            .resources
            .into_iter()
            .map(|l| Bound::new(py, Leftover(l)))
            .collect::<PyResult<Vec<_>>>()?;
        let list = PyList::new(py, objects)?;
        let Some((context, error)) = failure else {
            return Ok(list);
        };
        let message = format!(
            "{context}: {} ({failed} region(s) failed; see .results)",
            chain(&error)
        );
        let object = exception(py, &error, Some(message))?;
        object.setattr("results", &list)?;
        Err(PyErr::from_value(object))
    }
}
