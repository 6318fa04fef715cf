//! `maint.Client`: the core's [`Fleet`] on the WAF backend, one call per
//! operation. Every argument is converted into the core's typed values
//! before anything talks to AWS; each call returns one result per target,
//! in the order given.

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use futures::StreamExt;
use maint_core::backend::{AllowlistChange, MaintenanceSpec, Mode, Reason};
use maint_core::config::Config;
use maint_core::fleet::{
    waf_factory, AwsOptions, EnterRequest, Fleet, TargetRef, DEFAULT_CONCURRENCY,
};
use maint_core::report::{chain, ChangeReport, StatusReport};
use maint_core::response::{ResponseBody, ResponseHeader, ResponseStatus};
use maint_core::{Error, LoadBalancerArn, MaintenanceBackend};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use crate::allowlist::entries_from;
use crate::errors::{exception, invalid, to_pyerr};
use crate::reports::{ChangeResult, Leftover, TargetStatus};
use crate::runtime::runtime;

/// Puts load balancers into maintenance mode and back, through AWS WAF.
#[pyclass(frozen, module = "maint")]
pub struct Client {
    options: AwsOptions,
    config_path: Option<PathBuf>,
    config: Option<Config>,
    concurrency: usize,
    raise_on_error: bool,
    /// The fleet (and the AWS clients it caches), keyed by the pid that made
    /// it: a forked child must not use the parent's connections.
    fleet: Mutex<Option<(u32, Arc<Fleet>)>>,
}

impl Client {
    fn fleet(&self) -> Arc<Fleet> {
        let pid = std::process::id();
        let mut slot = self.fleet.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((owner, fleet)) = slot.as_ref() {
            if *owner == pid {
                return fleet.clone();
            }
        }
        if let Some(stale) = slot.take() {
            // Its connections belong to the parent's runtime (see runtime.rs).
            std::mem::forget(stale);
        }
        let fleet = Arc::new(
            Fleet::new(
                self.config.clone(),
                self.options.region.clone(),
                waf_factory(self.options.clone()),
            )
            .with_concurrency(self.concurrency),
        );
        *slot = Some((pid, fleet.clone()));
        fleet
    }

    fn expand(
        &self,
        py: Python<'_>,
        fleet: &Fleet,
        targets: &[String],
    ) -> PyResult<Vec<TargetRef>> {
        fleet.expand(targets).map_err(|e| to_pyerr(py, &e))
    }

    /// Resolves the targets and runs `op` on each with the GIL released;
    /// the results in target order.
    fn run<T, F, Fut>(
        py: Python<'_>,
        fleet: Arc<Fleet>,
        targets: Vec<TargetRef>,
        op: F,
    ) -> PyResult<Vec<(TargetRef, maint_core::Result<T>)>>
    where
        T: Send,
        F: Fn(Arc<dyn MaintenanceBackend>, LoadBalancerArn, TargetRef) -> Fut + Send,
        Fut: Future<Output = maint_core::Result<T>>,
    {
        let runtime = runtime()?;
        Ok(py.detach(move || {
            runtime.block_on(async {
                let resolved = fleet.resolve(targets).await;
                let mut results: Vec<_> = fleet.run(resolved, op).collect().await;
                results.sort_by_key(|(index, _, _)| *index);
                results
                    .into_iter()
                    .map(|(_, target, result)| (target, result))
                    .collect()
            })
        }))
    }

    /// Change results as Python objects; raises the first failure (after
    /// every target ran) when the client raises on errors.
    fn changes<'py>(
        &self,
        py: Python<'py>,
        results: Vec<(TargetRef, maint_core::Result<maint_core::backend::Outcome>)>,
        mode: Mode,
    ) -> PyResult<Bound<'py, PyList>> {
        let mut objects = Vec::with_capacity(results.len());
        for (target, result) in &results {
            let error = match result {
                Err(e) => Some(exception(py, e, None)?.unbind()),
                Ok(_) => None,
            };
            objects.push(Bound::new(
                py,
                ChangeResult::new(ChangeReport::new(target, result, mode), error),
            )?);
        }
        let list = PyList::new(py, objects)?;
        self.finish(py, list, results.iter().map(|(t, r)| (t, r.as_ref().err())))
    }

    /// Raises the first failure with `.results` attached, when asked to.
    fn finish<'a, 'py>(
        &self,
        py: Python<'py>,
        list: Bound<'py, PyList>,
        outcomes: impl Iterator<Item = (&'a TargetRef, Option<&'a Error>)>,
    ) -> PyResult<Bound<'py, PyList>> {
        if !self.raise_on_error {
            return Ok(list);
        }
        let total = list.len();
        let failures: Vec<(&TargetRef, &Error)> = outcomes
            .filter_map(|(target, error)| error.map(|e| (target, e)))
            .collect();
        let Some((target, error)) = failures.first() else {
            return Ok(list);
        };
        let message = format!(
            "{}: {} ({} of {total} target{} failed; see .results)",
            target.label(),
            chain(*error),
            failures.len(),
            if total == 1 { "" } else { "s" }
        );
        let object = exception(py, error, Some(message))?;
        object.setattr("results", &list)?;
        Err(PyErr::from_value(object))
    }

    fn allowlist_change<'py>(
        &self,
        py: Python<'py>,
        targets: Vec<String>,
        change: AllowlistChange,
        dry_run: bool,
    ) -> PyResult<Bound<'py, PyList>> {
        let mode = mode(dry_run);
        let fleet = self.fleet();
        let refs = self.expand(py, &fleet, &targets)?;
        let results = Self::run(py, fleet, refs, move |backend, lb, _| {
            let change = change.clone();
            async move { backend.update_allowlist(&lb, &change, mode).await }
        })?;
        self.changes(py, results, mode)
    }
}

fn mode(dry_run: bool) -> Mode {
    if dry_run {
        Mode::DryRun
    } else {
        Mode::Apply
    }
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

#[pymethods]
impl Client {
    #[new]
    #[pyo3(signature = (region=None, profile=None, endpoint_url=None, config=None, concurrency=None, raise_on_error=true))]
    fn new(
        py: Python<'_>,
        region: Option<String>,
        profile: Option<String>,
        endpoint_url: Option<String>,
        config: Option<PathBuf>,
        concurrency: Option<usize>,
        raise_on_error: bool,
    ) -> PyResult<Self> {
        let loaded = match &config {
            Some(path) => Some(Config::load(path).map_err(|e| to_pyerr(py, &e.into()))?),
            None => None,
        };
        Ok(Self {
            options: AwsOptions {
                region,
                profile,
                endpoint_url,
            },
            config_path: config,
            config: loaded,
            concurrency: concurrency.unwrap_or(DEFAULT_CONCURRENCY),
            raise_on_error,
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
        self.config_path.as_ref().map(|p| p.display().to_string())
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
        if let Some(path) = &self.config_path {
            fields.push(format!("config={:?}", path.display().to_string()));
        }
        format!("Client({})", fields.join(", "))
    }

    /// Puts each target into maintenance (or updates it in place).
    #[pyo3(signature = (*targets, allow=None, reason=None, until=None, page=None, status=None, headers=None, dry_run=false))]
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
        dry_run: bool,
    ) -> PyResult<Bound<'py, PyList>> {
        let targets = strings(targets)?;
        let to_py = |e: Error| to_pyerr(py, &e);
        let request = EnterRequest {
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
            status: status
                .map(|code| {
                    u16::try_from(code)
                        .map_err(|_| {
                            invalid(
                                py,
                                &format!("status code {code}"),
                                "not an HTTP status code",
                            )
                        })
                        .and_then(|code| ResponseStatus::new(code).map_err(|e| to_py(e.into())))
                })
                .transpose()?,
            content_type: None,
            headers: headers
                .map(|h| -> PyResult<Vec<ResponseHeader>> {
                    let mut list = Vec::new();
                    for item in h.call_method0("items")?.try_iter()? {
                        let (name, value): (String, String) = item?.extract()?;
                        list.push(ResponseHeader::new(name, value).map_err(|e| to_py(e.into()))?);
                    }
                    Ok(list)
                })
                .transpose()?
                .unwrap_or_default(),
        };
        let fleet = self.fleet();
        let refs = self.expand(py, &fleet, &targets)?;
        // Every target's window, checked before anything talks to AWS.
        let mut specs: HashMap<Option<String>, MaintenanceSpec> = HashMap::new();
        for target in &refs {
            if !specs.contains_key(&target.service) {
                let service = target
                    .service
                    .as_deref()
                    .and_then(|s| fleet.config().and_then(|c| c.service(s)));
                let spec = request.spec_for(service).map_err(to_py)?;
                specs.insert(target.service.clone(), spec);
            }
        }
        let mode = mode(dry_run);
        let specs = Arc::new(specs);
        let results = Self::run(py, fleet, refs, move |backend, lb, target| {
            let specs = specs.clone();
            async move {
                match specs.get(&target.service) {
                    Some(spec) => backend.enter(&lb, spec, mode).await,
                    None => Err(Error::unexpected("no maintenance spec for the target")),
                }
            }
        })?;
        self.changes(py, results, mode)
    }

    /// Takes each target out of maintenance and deletes maint's resources.
    #[pyo3(signature = (*targets, dry_run=false))]
    fn exit<'py>(
        &self,
        py: Python<'py>,
        targets: &Bound<'py, PyTuple>,
        dry_run: bool,
    ) -> PyResult<Bound<'py, PyList>> {
        let targets = strings(targets)?;
        let mode = mode(dry_run);
        let fleet = self.fleet();
        let refs = self.expand(py, &fleet, &targets)?;
        let results = Self::run(py, fleet, refs, move |backend, lb, _| async move {
            backend.exit(&lb, mode).await
        })?;
        self.changes(py, results, mode)
    }

    /// Lets the allowlist's entries through (testers get in).
    #[pyo3(signature = (*targets, dry_run=false))]
    fn allowlist_enable<'py>(
        &self,
        py: Python<'py>,
        targets: &Bound<'py, PyTuple>,
        dry_run: bool,
    ) -> PyResult<Bound<'py, PyList>> {
        self.allowlist_change(py, strings(targets)?, AllowlistChange::Enable, dry_run)
    }

    /// Stops letting the allowlist's entries through, keeping them.
    #[pyo3(signature = (*targets, dry_run=false))]
    fn allowlist_disable<'py>(
        &self,
        py: Python<'py>,
        targets: &Bound<'py, PyTuple>,
        dry_run: bool,
    ) -> PyResult<Bound<'py, PyList>> {
        self.allowlist_change(py, strings(targets)?, AllowlistChange::Disable, dry_run)
    }

    /// Adds entries to the target's allowlist.
    #[pyo3(signature = (target, entries, *, dry_run=false))]
    fn allowlist_add<'py>(
        &self,
        py: Python<'py>,
        target: String,
        entries: &Bound<'py, PyAny>,
        dry_run: bool,
    ) -> PyResult<Bound<'py, PyList>> {
        let entries = entries_from(py, entries)?;
        self.allowlist_change(py, vec![target], AllowlistChange::Add(entries), dry_run)
    }

    /// Takes addresses out of the target's allowlist.
    #[pyo3(signature = (target, entries, *, dry_run=false))]
    fn allowlist_remove<'py>(
        &self,
        py: Python<'py>,
        target: String,
        entries: &Bound<'py, PyAny>,
        dry_run: bool,
    ) -> PyResult<Bound<'py, PyList>> {
        let entries = entries_from(py, entries)?;
        self.allowlist_change(py, vec![target], AllowlistChange::Remove(entries), dry_run)
    }

    /// Replaces the target's allowlist.
    #[pyo3(signature = (target, entries, *, dry_run=false))]
    fn allowlist_set<'py>(
        &self,
        py: Python<'py>,
        target: String,
        entries: &Bound<'py, PyAny>,
        dry_run: bool,
    ) -> PyResult<Bound<'py, PyList>> {
        let entries = entries_from(py, entries)?;
        self.allowlist_change(py, vec![target], AllowlistChange::Set(entries), dry_run)
    }

    /// Each target's state.
    #[pyo3(signature = (*targets))]
    fn status<'py>(
        &self,
        py: Python<'py>,
        targets: &Bound<'py, PyTuple>,
    ) -> PyResult<Bound<'py, PyList>> {
        let targets = strings(targets)?;
        let fleet = self.fleet();
        let refs = self.expand(py, &fleet, &targets)?;
        let results = Self::run(py, fleet, refs, |backend, lb, _| async move {
            backend.status(&lb).await
        })?;
        let mut objects = Vec::with_capacity(results.len());
        for (target, result) in &results {
            let error = match result {
                Err(e) => Some(exception(py, e, None)?.unbind()),
                Ok(_) => None,
            };
            objects.push(Bound::new(
                py,
                TargetStatus::new(StatusReport::new(target, result), error),
            )?);
        }
        let list = PyList::new(py, objects)?;
        self.finish(py, list, results.iter().map(|(t, r)| (t, r.as_ref().err())))
    }

    /// Deletes maint's resources that no load balancer uses any more (in
    /// the client's region); returns what was (or would be) deleted.
    #[pyo3(signature = (*, dry_run=false))]
    fn cleanup<'py>(&self, py: Python<'py>, dry_run: bool) -> PyResult<Bound<'py, PyList>> {
        let fleet = self.fleet();
        let region = fleet.default_region();
        let runtime = runtime()?;
        let result = py.detach(move || {
            runtime.block_on(async {
                let backend = fleet.backend(region).await?;
                backend.cleanup(mode(dry_run)).await
            })
        });
        let leftovers = result.map_err(|e| to_pyerr(py, &e))?;
        let objects = leftovers
            .into_iter()
            .map(|l| Bound::new(py, Leftover(l)))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, objects)
    }
}
