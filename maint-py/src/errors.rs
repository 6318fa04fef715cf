//! The exception hierarchy: `maint.MaintError` and one subclass per
//! [`ErrorKind`] (the same kinds that decide the CLI's exit code and JSON
//! `kind`), with builtins as second bases where a Python user expects them
//! (`ValueError` for bad input, `LookupError` for a missing target,
//! `TimeoutError` for a wait that ran out). Messages carry the whole cause
//! chain.

use maint_core::error::chain;
use maint_core::{Error, ErrorKind};
use pyo3::exceptions::{PyException, PyLookupError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};
use pyo3::IntoPyObjectExt;

pyo3::create_exception!(
    maint,
    MaintError,
    PyException,
    "Base class of every error maint raises."
);

static INVALID_INPUT: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static TARGET_NOT_FOUND: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static FOREIGN_WEB_ACL: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static CONFLICT: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static NOT_IN_MAINTENANCE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static AWS: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static TIMEOUT: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// Attributes every `MaintError` has (as class attributes, so an instance
/// made anywhere has them): `None` unless set.
const BASE_ATTRIBUTES: &[&str] = &["results", "code"];

/// A subclass of `bases` made with `type()`: `create_exception!` allows one
/// base only, and these need two (e.g. `MaintError` and `ValueError`).
fn subclass(
    py: Python<'_>,
    name: &str,
    bases: &[Bound<'_, PyType>],
    doc: &str,
    attributes: &[&str],
) -> PyResult<Py<PyType>> {
    let namespace = PyDict::new(py);
    namespace.set_item("__module__", "maint")?;
    namespace.set_item("__doc__", doc)?;
    for attribute in attributes {
        namespace.set_item(*attribute, py.None())?;
    }
    let bases = PyTuple::new(py, bases)?;
    let class = py
        .get_type::<PyType>()
        .call1((name, bases, namespace))?
        .cast_into::<PyType>()?;
    Ok(class.unbind())
}

/// One exception class to make: `MaintError` plus an optional builtin base.
struct Class<'py> {
    slot: &'static PyOnceLock<Py<PyType>>,
    name: &'static str,
    builtin: Option<Bound<'py, PyType>>,
    doc: &'static str,
    attributes: &'static [&'static str],
}

/// Makes the exception classes and adds them to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let base = py.get_type::<MaintError>();
    for attribute in BASE_ATTRIBUTES {
        base.setattr(*attribute, py.None())?;
    }
    base.setattr("kind", "unexpected")?;
    m.add("MaintError", &base)?;

    let classes = [
        Class {
            slot: &INVALID_INPUT,
            name: "InvalidInputError",
            builtin: Some(py.get_type::<PyValueError>()),
            doc: "A value given (an argument, allowlist, page, config file) is not valid; nothing \
                  was changed. `entry`, `line` and `file` point at the first bad allowlist entry \
                  or config line when known; `problems` lists every problem.",
            attributes: &["entry", "line", "file", "problems"],
        },
        Class {
            slot: &TARGET_NOT_FOUND,
            name: "TargetNotFoundError",
            builtin: Some(py.get_type::<PyLookupError>()),
            doc: "The load balancer a target names does not exist in the region asked.",
            attributes: &["target"],
        },
        Class {
            slot: &FOREIGN_WEB_ACL,
            name: "ForeignWebAclError",
            builtin: None,
            doc: "The load balancer already has a web ACL that maint did not create; maint \
                  never replaces it.",
            attributes: &["load_balancer_arn", "web_acl_arn", "web_acl_name"],
        },
        Class {
            slot: &CONFLICT,
            name: "ConflictError",
            builtin: None,
            doc: "The target is not in a state that allows the change, or another writer kept \
                  changing it; rerun.",
            attributes: &["resource"],
        },
        Class {
            slot: &AWS,
            name: "AwsError",
            builtin: None,
            doc: "An AWS API call failed: `code` is the AWS error code, `request_id` the request \
                  id when AWS returned one.",
            attributes: &["operation", "request_id"],
        },
        Class {
            slot: &TIMEOUT,
            name: "TimeoutError",
            builtin: Some(py.get_type::<pyo3::exceptions::PyTimeoutError>()),
            doc: "A bounded wait ran out (for example, AWS WAF not yet seeing a new web ACL); \
                  rerun the same call to finish. `code`, `operation` and `request_id` describe \
                  the last AWS error seen while waiting, when there was one.",
            attributes: &["operation", "request_id"],
        },
    ];
    for spec in classes {
        let mut bases = vec![base.clone()];
        bases.extend(spec.builtin);
        let class = subclass(py, spec.name, &bases, spec.doc, spec.attributes)?;
        m.add(spec.name, spec.slot.get_or_init(py, || class).bind(py))?;
    }
    // A subclass of ConflictError: there is nothing to change yet.
    let class = subclass(
        py,
        "NotInMaintenanceError",
        &[conflict(py)?],
        "An allowlist change was asked for a load balancer that is not in maintenance.",
        &["load_balancer_arn"],
    )?;
    m.add(
        "NotInMaintenanceError",
        NOT_IN_MAINTENANCE.get_or_init(py, || class).bind(py),
    )?;
    Ok(())
}

fn class<'py>(py: Python<'py>, slot: &PyOnceLock<Py<PyType>>) -> PyResult<Bound<'py, PyType>> {
    slot.get(py)
        .map(|class| class.bind(py).clone())
        .ok_or_else(|| pyo3::exceptions::PyRuntimeError::new_err("maint is not initialised"))
}

fn conflict(py: Python<'_>) -> PyResult<Bound<'_, PyType>> {
    class(py, &CONFLICT)
}

/// The `InvalidInputError` class.
pub fn invalid_input_class(py: Python<'_>) -> PyResult<Bound<'_, PyType>> {
    class(py, &INVALID_INPUT)
}

/// The exception object (not raised) for `error`, with `message` as its
/// text (default: the error's cause chain) and its attributes set. The
/// class follows [`Error::kind`]; the attributes come from the error that
/// decided it ([`Error::primary`]).
pub fn exception<'py>(
    py: Python<'py>,
    error: &Error,
    message: Option<String>,
) -> PyResult<Bound<'py, PyAny>> {
    let message = message.unwrap_or_else(|| chain(error));
    let kind = error.kind();
    let class = match kind {
        ErrorKind::InvalidInput => invalid_input_class(py)?,
        ErrorKind::TargetNotFound => class(py, &TARGET_NOT_FOUND)?,
        ErrorKind::ForeignWebAcl => class(py, &FOREIGN_WEB_ACL)?,
        ErrorKind::NotInMaintenance => class(py, &NOT_IN_MAINTENANCE)?,
        ErrorKind::Conflict => conflict(py)?,
        ErrorKind::Aws => class(py, &AWS)?,
        ErrorKind::Timeout => class(py, &TIMEOUT)?,
        ErrorKind::Unexpected => py.get_type::<MaintError>(),
    };
    let mut attributes: Vec<(&str, Py<PyAny>)> = Vec::new();
    let mut set = |name: &'static str, value: Py<PyAny>| attributes.push((name, value));
    match error.primary() {
        Error::InvalidAllowlist(p) | Error::InvalidConfig(p) => {
            let first = p.problems().first();
            set(
                "entry",
                first.and_then(|p| p.entry.clone()).into_py_any(py)?,
            );
            set("line", first.and_then(|p| p.line).into_py_any(py)?);
            set("file", first.and_then(|p| p.file.clone()).into_py_any(py)?);
            let problems: Vec<String> = p.problems().iter().map(ToString::to_string).collect();
            set("problems", problems.into_py_any(py)?);
        }
        Error::InvalidInput(e) => set("problems", vec![e.to_string()].into_py_any(py)?),
        Error::TargetNotFound { target } => set("target", target.into_py_any(py)?),
        Error::ForeignWebAcl {
            load_balancer,
            web_acl_arn,
            web_acl_name,
        } => {
            set("load_balancer_arn", load_balancer.into_py_any(py)?);
            set("web_acl_arn", web_acl_arn.into_py_any(py)?);
            set("web_acl_name", web_acl_name.into_py_any(py)?);
        }
        Error::NotInMaintenance { load_balancer } => {
            set("load_balancer_arn", load_balancer.into_py_any(py)?);
            set("resource", load_balancer.into_py_any(py)?);
        }
        Error::Conflict { resource, .. } => set("resource", resource.into_py_any(py)?),
        _ => {}
    }
    if let Some(e) = error.aws() {
        aws_attributes(py, e, &mut set)?;
    }
    let object = class.call1((message,))?;
    object.setattr("kind", kind.as_str())?;
    for (name, value) in attributes {
        object.setattr(name, value)?;
    }
    Ok(object)
}

fn aws_attributes(
    py: Python<'_>,
    e: &maint_core::error::AwsError,
    set: &mut impl FnMut(&'static str, Py<PyAny>),
) -> PyResult<()> {
    set("code", e.code.clone().into_py_any(py)?);
    set("operation", e.operation.clone().into_py_any(py)?);
    set("request_id", e.request_id.clone().into_py_any(py)?);
    Ok(())
}

/// `error` as a Python exception to raise.
pub fn to_pyerr(py: Python<'_>, error: &Error) -> PyErr {
    match exception(py, error, None) {
        Ok(object) => PyErr::from_value(object),
        Err(e) => e,
    }
}

/// An `InvalidInputError` for a value that has no core error type (a naive
/// datetime, a status code out of range).
pub fn invalid(py: Python<'_>, subject: &str, reason: &str) -> PyErr {
    to_pyerr(py, &Error::invalid(subject, reason))
}

/// The core's arguments as this package's keyword arguments, for error
/// messages (`wait_url`, not the CLI's `--wait-url`).
pub struct Keywords;

impl maint_core::error::Words for Keywords {
    fn name(&self, argument: maint_core::error::Argument) -> &'static str {
        use maint_core::error::Argument;
        match argument {
            Argument::Inject => "inject=True",
            Argument::Region => "region",
            Argument::Wait => "wait=True",
            Argument::WaitUrl => "wait_url",
            Argument::BaseUrl => "base_url",
            _ => "an argument",
        }
    }

    fn given(&self, argument: maint_core::error::Argument, value: &str) -> String {
        format!("{}={value:?}", self.name(argument))
    }
}
