//! `maint.Allowlist`: a validated, folded IP allowlist (`maint_core::Allowlist`).

use std::net::IpAddr;
use std::path::PathBuf;

use maint_core::{Allowlist, Error};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString};

use crate::errors::{invalid, to_pyerr};
use crate::reports::json_to_py;

/// A validated IP allowlist: addresses and CIDRs, IPv4 and IPv6, folded
/// (duplicates and covered ranges removed, adjacent ranges merged).
#[pyclass(frozen, eq, hash, module = "maint", name = "Allowlist")]
#[derive(PartialEq, Eq, Hash)]
pub struct PyAllowlist(pub Allowlist);

#[pymethods]
impl PyAllowlist {
    #[new]
    #[pyo3(signature = (entries=None))]
    fn new(py: Python<'_>, entries: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        match entries {
            None => Ok(Self(Allowlist::new())),
            Some(entries) => entries_from(py, entries).map(Self),
        }
    }

    /// Reads an allowlist file: one entry per line, `#` comments.
    #[staticmethod]
    fn from_file(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        Allowlist::from_file(&path)
            .map(Self)
            .map_err(|e| to_pyerr(py, &e))
    }

    /// The IPv4 networks, normalized CIDR strings, sorted.
    #[getter]
    fn ipv4(&self) -> Vec<String> {
        self.0.ipv4().iter().map(ToString::to_string).collect()
    }

    /// The IPv6 networks, normalized CIDR strings, sorted.
    #[getter]
    fn ipv6(&self) -> Vec<String> {
        self.0.ipv6().iter().map(ToString::to_string).collect()
    }

    /// `{"ipv4": [...], "ipv6": [...]}`, as `maint --json allowlist check`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &self.0)
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let entries: Vec<String> = self.0.iter().map(|c| c.to_string()).collect();
        PyList::new(py, entries)?.try_iter().map(Bound::into_any)
    }

    fn __len__(&self) -> usize {
        self.0.len()
    }

    /// Whether an address (a string or an `ipaddress` address) is let
    /// through.
    fn __contains__(&self, py: Python<'_>, address: &Bound<'_, PyAny>) -> PyResult<bool> {
        let ip: IpAddr = if let Ok(text) = address.cast::<PyString>() {
            let text = text.to_cow()?;
            text.trim()
                .parse()
                .map_err(|_| invalid(py, &format!("address {text:?}"), "not an IP address"))?
        } else {
            address.extract().map_err(|_| {
                PyTypeError::new_err("expected an address: a str or an ipaddress address")
            })?
        };
        Ok(self.0.contains(ip))
    }

    fn __repr__(&self) -> String {
        let entries: Vec<String> = self.0.iter().map(|c| format!("'{c}'")).collect();
        format!("Allowlist([{}])", entries.join(", "))
    }

    fn __str__(&self) -> String {
        self.0.to_string()
    }
}

/// An allowlist from what a caller passed: a `maint.Allowlist`, one entry
/// as a string, or an iterable of strings.
pub fn entries_from(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<Allowlist> {
    if let Ok(allowlist) = value.cast::<PyAllowlist>() {
        return Ok(allowlist.get().0.clone());
    }
    let entries: Vec<String> = if let Ok(one) = value.cast::<PyString>() {
        vec![one.to_cow()?.into_owned()]
    } else {
        let mut entries = Vec::new();
        for item in value.try_iter()? {
            entries.push(item?.extract::<String>()?);
        }
        entries
    };
    Allowlist::parse(&entries).map_err(|e| to_pyerr(py, &Error::from(e)))
}
