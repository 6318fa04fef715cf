//! Per-target results as Python objects: `maint.ChangeResult` and
//! `maint.TargetStatus` (the CLI's JSON reports, `maint_core::report`), and
//! `maint.Leftover`. Attributes mirror the JSON fields; `to_dict()` gives
//! the JSON shape itself.

use chrono::{DateTime, Utc};
use maint_core::report::{ChangeReport, CheckTargetReport, CleanedUp, StatusReport, TargetState};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use serde::Serialize;

/// A serializable value as the Python object `json.loads` gives for its
/// JSON: the exact shape the CLI prints.
pub fn json_to_py<'py, T: Serialize>(py: Python<'py>, value: &T) -> PyResult<Bound<'py, PyAny>> {
    let text = serde_json::to_string(value)
        .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))?;
    py.import("json")?.call_method1("loads", (text,))
}

/// Python's `repr` of a string.
fn repr_str(py: Python<'_>, s: &str) -> PyResult<String> {
    Ok(PyString::new(py, s).repr()?.to_cow()?.into_owned())
}

fn repr_opt(py: Python<'_>, s: Option<&str>) -> PyResult<String> {
    s.map_or(Ok("None".to_string()), |s| repr_str(py, s))
}

fn repr_object(object: &Bound<'_, PyAny>) -> PyResult<String> {
    Ok(object.repr()?.to_cow()?.into_owned())
}

/// One target's result of a changing call (`enter`, `exit`, `arm`,
/// `disarm`, `allowlist_*`).
#[pyclass(frozen, module = "maint")]
pub struct ChangeResult {
    report: ChangeReport,
    error: Option<Py<PyAny>>,
}

impl ChangeResult {
    /// A result from the core's report and, for a failure, its exception.
    pub fn new(report: ChangeReport, error: Option<Py<PyAny>>) -> Self {
        Self { report, error }
    }
}

#[pymethods]
impl ChangeResult {
    /// The target as named (`service/load-balancer` for a service's).
    #[getter]
    fn target(&self) -> &str {
        &self.report.target
    }
    /// The config service the target came from, if any.
    #[getter]
    fn service(&self) -> Option<&str> {
        self.report.service.as_deref()
    }
    /// The account it is in: the config account's name, else the account
    /// ID its ARN carries (None when neither is known).
    #[getter]
    fn account(&self) -> Option<&str> {
        self.report.account.as_deref()
    }
    /// The load balancer's ARN (None when it could not be found).
    #[getter]
    fn load_balancer_arn(&self) -> Option<&str> {
        self.report.load_balancer_arn.as_deref()
    }
    /// What kind of resource that ARN names: `"load_balancer"`,
    /// `"api_gateway_stage"`, ... (None when it could not be found).
    #[getter]
    fn resource_kind(&self) -> Option<&'static str> {
        self.report.resource_kind.map(|kind| kind.as_str())
    }
    /// `"ok"` or `"error"`.
    #[getter]
    fn result(&self) -> &'static str {
        self.report.result.as_str()
    }
    /// True when the call succeeded for this target.
    #[getter]
    fn ok(&self) -> bool {
        self.report.error.is_none()
    }
    /// Whether anything changed (in a dry run: would change).
    #[getter]
    fn changed(&self) -> bool {
        self.report.changed
    }
    /// Whether this was a dry run.
    #[getter]
    fn dry_run(&self) -> bool {
        self.report.dry_run
    }
    /// Each change, in words, in the order made.
    #[getter]
    fn changes(&self) -> Vec<String> {
        self.report.changes.clone()
    }
    /// Each change as a dict (`{"change": "associated", ...}`).
    #[getter]
    fn details<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &self.report.details)
    }
    /// Why the call failed for this target: a `MaintError` (not raised).
    #[getter]
    fn error(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.error.as_ref().map(|e| e.clone_ref(py))
    }
    /// The JSON shape the CLI prints for this target.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &self.report)
    }
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let r = &self.report;
        let tail = match &self.error {
            Some(error) => format!("error={}", repr_object(error.bind(py))?),
            None => format!(
                "changed={}, changes={}",
                if r.changed { "True" } else { "False" },
                repr_object(&self.changes().into_pyobject(py)?)?
            ),
        };
        Ok(format!(
            "ChangeResult(target={}, result={}, {}{tail})",
            repr_str(py, &r.target)?,
            repr_str(py, r.result.as_str())?,
            if r.dry_run { "dry_run=True, " } else { "" },
        ))
    }
}

/// One target's state, as `maint status --json` reports it.
#[pyclass(frozen, module = "maint", name = "TargetStatus")]
pub struct PyTargetStatus {
    report: StatusReport,
    error: Option<Py<PyAny>>,
}

impl PyTargetStatus {
    /// A status from the core's report and, for a failure, its exception.
    pub fn new(report: StatusReport, error: Option<Py<PyAny>>) -> Self {
        Self { report, error }
    }

    /// One part of the window's scope as strings (empty without a scope).
    fn scope_part<T: ToString>(&self, part: fn(&maint_core::Scope) -> &[T]) -> Vec<String> {
        self.report
            .scope
            .as_ref()
            .map(|s| part(s).iter().map(ToString::to_string).collect())
            .unwrap_or_default()
    }
}

#[pymethods]
impl PyTargetStatus {
    /// The target as named (`service/load-balancer` for a service's).
    #[getter]
    fn target(&self) -> &str {
        &self.report.target
    }
    /// The config service the target came from, if any.
    #[getter]
    fn service(&self) -> Option<&str> {
        self.report.service.as_deref()
    }
    /// The account it is in: the config account's name, else the account
    /// ID its ARN carries (None when neither is known).
    #[getter]
    fn account(&self) -> Option<&str> {
        self.report.account.as_deref()
    }
    /// The load balancer's ARN (None when it could not be found).
    #[getter]
    fn load_balancer_arn(&self) -> Option<&str> {
        self.report.load_balancer_arn.as_deref()
    }
    /// What kind of resource that ARN names: `"load_balancer"`,
    /// `"api_gateway_stage"`, ... (None when it could not be found).
    #[getter]
    fn resource_kind(&self) -> Option<&'static str> {
        self.report.resource_kind.map(|kind| kind.as_str())
    }
    /// `"normal"`, `"maintenance"`, `"foreign"`, `"armed"` (maint's web ACL
    /// associated in pass-through form), `"reverted"` (maint's injected rule
    /// was removed by someone else: NOT in maintenance) or `"error"`.
    #[getter]
    fn state(&self) -> &'static str {
        self.report.state.as_str()
    }
    /// True when the state could be read.
    #[getter]
    fn ok(&self) -> bool {
        self.report.error.is_none()
    }
    /// The maintenance window it is in (its web ACL's name), when in
    /// maintenance.
    #[getter]
    fn window(&self) -> Option<&str> {
        self.report.window.as_deref()
    }
    /// The associated web ACL's ARN (maint's or foreign).
    #[getter]
    fn web_acl_arn(&self) -> Option<&str> {
        self.report.web_acl_arn.as_deref()
    }
    /// The web ACL's name when foreign, or when maint's rule is (or, when
    /// reverted, was) injected into the service's own web ACL.
    #[getter]
    fn web_acl_name(&self) -> Option<&str> {
        self.report.web_acl_name.as_deref()
    }
    /// Whether maint's rule lives in the service's own web ACL (`enter`
    /// with `inject=True`) rather than in a web ACL of maint's.
    #[getter]
    fn injected(&self) -> bool {
        self.report.injected
    }
    /// When the window was armed (an aware datetime, UTC); None when it
    /// was not.
    #[getter]
    fn armed_since(&self) -> Option<DateTime<Utc>> {
        self.report.armed_since
    }
    /// Whether the allowlist lets its entries through (None unless in
    /// maintenance).
    #[getter]
    fn allowlist_enabled(&self) -> Option<bool> {
        self.report.allowlist_enabled
    }
    /// The allowlist: normalized CIDR strings, IPv4 first.
    #[getter]
    fn allowlist(&self) -> Vec<String> {
        self.report.allowlist.clone()
    }
    /// Why, as given to `enter`.
    #[getter]
    fn reason(&self) -> Option<&str> {
        self.report.reason.as_deref()
    }
    /// When maintenance was entered (an aware datetime, UTC).
    #[getter]
    fn since(&self) -> Option<DateTime<Utc>> {
        self.report.since
    }
    /// The planned end (an aware datetime, UTC).
    #[getter]
    fn until(&self) -> Option<DateTime<Utc>> {
        self.report.until
    }
    /// The maintenance response's status code.
    #[getter]
    fn response_status(&self) -> Option<u16> {
        self.report.response_status
    }
    /// In maintenance past its planned end (`Client.exit_expired` ends it).
    #[getter]
    fn overdue(&self) -> bool {
        self.report.overdue
    }
    /// The window's bypass: `"enabled"`, `"disabled"`, or None without
    /// one. The secret is shown only by `Client.bypass_link`.
    #[getter]
    fn bypass(&self) -> Option<&'static str> {
        self.report.bypass
    }
    /// Where the allowlist finds a request's address (`"the connection"`,
    /// `"header X-Forwarded-For (last address)"`), when in a window.
    #[getter]
    fn client_ip_from(&self) -> Option<&str> {
        self.report.client_ip_from.as_deref()
    }
    /// The hosts the window covers on a shared load balancer (ASCII, lower
    /// case); empty: every host (or not in a window).
    #[getter]
    fn hosts(&self) -> Vec<String> {
        self.scope_part(maint_core::Scope::hosts)
    }
    /// The path prefixes the window covers; empty: every path (or not in
    /// a window).
    #[getter]
    fn paths(&self) -> Vec<String> {
        self.scope_part(maint_core::Scope::paths)
    }
    /// The path prefixes always let through during the window.
    #[getter]
    fn open_paths(&self) -> Vec<String> {
        self.scope_part(maint_core::Scope::open_paths)
    }
    /// For a load balancer another writer took off its window (state
    /// `"reverted"`, not injected): the name of the web ACL it carries now,
    /// or None.
    #[getter]
    fn now_under(&self) -> Option<&str> {
        self.report.now_under.as_deref()
    }
    /// A CloudFront distribution's status: "Deployed", or "InProgress"
    /// while a change reaches CloudFront's edge locations (minutes); None
    /// for other kinds.
    #[getter]
    fn deployment(&self) -> Option<&str> {
        self.report.deployment.as_deref()
    }
    /// maint's resources for this target left by an interrupted run.
    #[getter]
    fn leftovers(&self) -> Vec<String> {
        self.report.leftovers.clone()
    }
    /// The other windows on its load balancer (services sharing it, each
    /// scoped to its own hosts or paths): one dict each, with `window`,
    /// `in_maintenance`, `hosts`, `paths` and `open_paths`.
    #[getter]
    fn sharing<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        fn strings<T: ToString>(v: &[T]) -> Vec<String> {
            v.iter().map(ToString::to_string).collect()
        }
        self.report
            .sharing
            .iter()
            .map(|other| {
                let d = PyDict::new(py);
                d.set_item("window", &other.window)?;
                d.set_item("in_maintenance", other.in_maintenance)?;
                d.set_item("hosts", strings(other.scope.hosts()))?;
                d.set_item("paths", strings(other.scope.paths()))?;
                d.set_item("open_paths", strings(other.scope.open_paths()))?;
                Ok(d)
            })
            .collect()
    }
    /// Why the state could not be read: a `MaintError` (not raised).
    #[getter]
    fn error(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.error.as_ref().map(|e| e.clone_ref(py))
    }
    /// The JSON shape the CLI prints for this target.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &self.report)
    }
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let r = &self.report;
        let mut fields = vec![
            format!("target={}", repr_str(py, &r.target)?),
            format!("state={}", repr_str(py, r.state.as_str())?),
        ];
        if let Some(error) = &self.error {
            fields.push(format!("error={}", repr_object(error.bind(py))?));
        }
        if r.state == TargetState::Foreign || r.injected {
            fields.push(format!(
                "web_acl_name={}",
                repr_opt(py, r.web_acl_name.as_deref())?
            ));
        }
        if let Some(enabled) = r.allowlist_enabled {
            fields.push(format!(
                "allowlist_enabled={}, allowlist={}",
                if enabled { "True" } else { "False" },
                repr_object(&self.allowlist().into_pyobject(py)?)?
            ));
        }
        if r.reason.is_some() {
            fields.push(format!("reason={}", repr_opt(py, r.reason.as_deref())?));
        }
        if r.injected {
            fields.push("injected=True".to_string());
        }
        if let Some(scope) = r.scope.as_ref().and_then(maint_core::Scope::describe) {
            fields.push(format!("scope={}", repr_str(py, &scope)?));
        }
        for (name, value) in [
            ("armed_since", &r.armed_since),
            ("since", &r.since),
            ("until", &r.until),
        ] {
            if let Some(value) = value {
                let text = maint_core::report::rfc3339(value);
                fields.push(format!("{name}={}", repr_str(py, &text)?));
            }
        }
        Ok(format!("TargetStatus({})", fields.join(", ")))
    }
}

/// A resource of maint's that no load balancer uses any more, found (and
/// unless a dry run, deleted) by `cleanup`, with its region.
#[pyclass(frozen, module = "maint")]
pub struct Leftover(pub CleanedUp);

#[pymethods]
impl Leftover {
    /// The region (None: the AWS configuration's default).
    #[getter]
    fn region(&self) -> Option<&str> {
        self.0.region.as_deref()
    }
    /// The config account (None: the credentials' own).
    #[getter]
    fn account(&self) -> Option<&str> {
        self.0.account.as_deref()
    }
    /// `"web-acl"` or `"ip-set"`.
    #[getter]
    fn kind(&self) -> &'static str {
        self.0.resource.kind
    }
    /// The resource's name.
    #[getter]
    fn name(&self) -> &str {
        &self.0.resource.name
    }
    /// The resource's ARN.
    #[getter]
    fn arn(&self) -> &str {
        &self.0.resource.arn
    }
    /// `{"region": ..., "kind": ..., "name": ..., "arn": ...}`, as in
    /// `maint cleanup --json`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &self.0)
    }
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let r = &self.0.resource;
        Ok(format!(
            "Leftover(region={}, kind={}, name={}, arn={})",
            repr_opt(py, self.0.region.as_deref())?,
            repr_str(py, r.kind)?,
            repr_str(py, &r.name)?,
            repr_str(py, &r.arn)?
        ))
    }
}

/// What a request gets from one target (`Client.check`), as
/// `maint check --json` reports it.
#[pyclass(frozen, module = "maint")]
pub struct CheckResult {
    report: CheckTargetReport,
    error: Option<Py<PyAny>>,
}

impl CheckResult {
    /// A result from the core's report and, for a failure, its exception.
    pub fn new(report: CheckTargetReport, error: Option<Py<PyAny>>) -> Self {
        Self { report, error }
    }
}

#[pymethods]
impl CheckResult {
    /// The target as named (`service/load-balancer` for a service's).
    #[getter]
    fn target(&self) -> &str {
        &self.report.target
    }
    /// The config service the target came from, if any.
    #[getter]
    fn service(&self) -> Option<&str> {
        self.report.service.as_deref()
    }
    /// The account it is in: the config account's name, else the account
    /// ID its ARN carries (None when neither is known).
    #[getter]
    fn account(&self) -> Option<&str> {
        self.report.account.as_deref()
    }
    /// The load balancer's ARN (None when it could not be found).
    #[getter]
    fn load_balancer_arn(&self) -> Option<&str> {
        self.report.load_balancer_arn.as_deref()
    }
    /// What kind of resource that ARN names: `"load_balancer"`,
    /// `"api_gateway_stage"`, ... (None when it could not be found).
    #[getter]
    fn resource_kind(&self) -> Option<&'static str> {
        self.report.resource_kind.map(|kind| kind.as_str())
    }
    /// The web ACL read (maint's, or the service's own), if any.
    #[getter]
    fn web_acl(&self) -> Option<&str> {
        self.report.web_acl.as_deref()
    }
    /// `"let_through"`, `"maintenance"` or `"bypass_link"`; None on error.
    #[getter]
    fn verdict(&self) -> Option<&'static str> {
        self.report.verdict.map(|v| v.as_str())
    }
    /// Why, in words, most decisive first.
    #[getter]
    fn reasons(&self) -> Vec<String> {
        self.report.reasons.clone()
    }
    /// Why, as dicts (`{"reason": "allowlist_entry", "entry": ...}`).
    #[getter]
    fn why<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &self.report.why)
    }
    /// The response WAF sends instead of passing the request on; None
    /// when let through.
    #[getter]
    fn response(&self) -> Option<CheckResponse> {
        self.report.response.clone().map(CheckResponse)
    }
    /// True when the request could be checked.
    #[getter]
    fn ok(&self) -> bool {
        self.report.error.is_none()
    }
    /// Why there is no answer: a `MaintError` (not raised).
    #[getter]
    fn error(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.error.as_ref().map(|e| e.clone_ref(py))
    }
    /// The JSON shape the CLI prints for this target.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &self.report)
    }
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "CheckResult(target={}, verdict={}, reasons={})",
            repr_str(py, &self.report.target)?,
            repr_opt(py, self.verdict())?,
            repr_object(&self.reasons().into_pyobject(py)?)?
        ))
    }
}

/// The response AWS WAF sends instead of passing a request on.
#[pyclass(frozen, module = "maint")]
pub struct CheckResponse(maint_core::check::CheckResponse);

#[pymethods]
impl CheckResponse {
    /// The status code.
    #[getter]
    fn status(&self) -> u16 {
        self.0.status
    }
    /// The headers, as (name, value) pairs in order.
    #[getter]
    fn headers(&self) -> Vec<(String, String)> {
        self.0.headers.clone()
    }
    /// The body's content type (`"text/html"`...), when there is a body.
    #[getter]
    fn content_type(&self) -> Option<&str> {
        self.0.content_type.as_deref()
    }
    /// The body.
    #[getter]
    fn body(&self) -> Option<&str> {
        self.0.body.as_deref()
    }
    fn __repr__(&self) -> String {
        format!("CheckResponse(status={})", self.0.status)
    }
}
