//! The Python package `maint`: thin bindings over `maint-core`.
//!
//! This crate holds conversion only. Every operation is `maint-core`'s
//! [`Fleet`](maint_core::fleet::Fleet) and
//! [`MaintenanceBackend`](maint_core::MaintenanceBackend); here Python
//! arguments become the core's typed values (validated before anything talks
//! to AWS), the core's reports become Python objects, and the core's errors
//! become Python exceptions. Calls are synchronous and release the GIL while
//! they wait on AWS, on one tokio runtime per process.

mod allowlist;
mod client;
mod errors;
mod logs;
mod reports;
mod runtime;

use pyo3::prelude::*;

/// The extension module, imported as `maint._maint` and re-exported by
/// `maint/__init__.py`.
#[pymodule]
fn _maint(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add(
        "DEFAULT_CONCURRENCY",
        maint_core::fleet::DEFAULT_CONCURRENCY,
    )?;
    maint_core::error::set_words(errors::Keywords);
    m.add_class::<client::Client>()?;
    m.add_class::<allowlist::PyAllowlist>()?;
    m.add_class::<reports::ChangeResult>()?;
    m.add_class::<reports::PyTargetStatus>()?;
    m.add_class::<reports::Leftover>()?;
    m.add_class::<reports::CheckResult>()?;
    m.add_class::<reports::CheckResponse>()?;
    m.add_class::<logs::ProgressEvent>()?;
    logs::install();
    errors::register(m)?;
    Ok(())
}
