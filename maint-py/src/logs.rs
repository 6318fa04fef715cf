//! maint's `tracing` events as Python `logging` records.
//!
//! A small tracing layer (rather than pyo3-log and tracing's `log`
//! compatibility, which would name loggers after Rust module paths and
//! drop the events' fields): each event of maint's own code becomes a record
//! of a logger under `maint` (`maint_core::backend::waf::calls` logs to
//! `maint.backend.waf.calls`; the engine's progress to `maint.progress`), at
//! the matching level, with the event's fields as record attributes
//! (`maint_<field>`, plus `aws_error_code` and `maint_target` when the event
//! names them). `maint/__init__.py` gives the `maint` logger a
//! `NullHandler`, as libraries do, so nothing reaches stderr unless the
//! caller configures logging.
//!
//! Cost when logging is off: the level the `maint` logger has is read once
//! per `Client` call (with the GIL, before it is released) into an atomic;
//! events below it are dropped by `enabled` without taking the GIL.

use std::sync::atomic::{AtomicU8, Ordering};

use pyo3::prelude::*;
use pyo3::types::PyDict;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

/// The least severe level forwarded: 0 nothing, 1 error, 2 warn, 3 info,
/// 4 debug, 5 trace.
static MAX_LEVEL: AtomicU8 = AtomicU8::new(0);

fn rank(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 1,
        Level::WARN => 2,
        Level::INFO => 3,
        Level::DEBUG => 4,
        Level::TRACE => 5,
    }
}

/// Python's level number for a tracing level.
fn python_level(level: &Level) -> u32 {
    match *level {
        Level::ERROR => 40,
        Level::WARN => 30,
        Level::INFO => 20,
        Level::DEBUG => 10,
        Level::TRACE => 5,
    }
}

/// Reads how much the `maint` logger wants (its effective level) into the
/// filter. Called with the GIL at the start of every `Client` call.
pub fn refresh(py: Python<'_>) {
    let wanted = py
        .import("logging")
        .and_then(|logging| logging.call_method1("getLogger", ("maint",)))
        .and_then(|logger| logger.call_method0("getEffectiveLevel"))
        .and_then(|level| level.extract::<u32>())
        .unwrap_or(30);
    let max = match wanted {
        0..=5 => 5,
        6..=10 => 4,
        11..=20 => 3,
        21..=30 => 2,
        31..=40 => 1,
        _ => 0,
    };
    MAX_LEVEL.store(max, Ordering::Relaxed);
}

/// The logger an event's target logs to: under `maint`, or `None` for
/// events of other crates (the AWS SDK's own).
fn logger_name(target: &str) -> Option<String> {
    let rest = target
        .strip_prefix("maint_core")
        .or_else(|| target.strip_prefix("maint_py"))
        .or_else(|| target.strip_prefix("maint"))?;
    if !(rest.is_empty() || rest.starts_with("::")) {
        return None;
    }
    Some(
        std::iter::once("maint")
            .chain(rest.split("::").filter(|s| !s.is_empty()))
            .collect::<Vec<_>>()
            .join("."),
    )
}

/// The fields of an event.
#[derive(Default)]
struct Fields {
    message: String,
    others: Vec<(String, String)>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_string();
        } else {
            self.others
                .push((field.name().to_string(), value.to_string()));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        } else {
            self.others
                .push((field.name().to_string(), format!("{value:?}")));
        }
    }
}

/// Forwards maint's events to Python's `logging`.
pub struct PythonLogging;

impl<S: Subscriber> Layer<S> for PythonLogging {
    fn register_callsite(&self, _: &'static Metadata<'static>) -> tracing::subscriber::Interest {
        // The logging level can change between calls: ask each time.
        tracing::subscriber::Interest::sometimes()
    }

    fn enabled(&self, metadata: &Metadata<'_>, _: Context<'_, S>) -> bool {
        logger_name(metadata.target()).is_some()
            && (self.logged(metadata)
                || (PROGRESS_CALLS.load(Ordering::Relaxed) > 0 && is_progress(metadata)))
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let metadata = event.metadata();
        let Some(name) = logger_name(metadata.target()) else {
            return;
        };
        let mut fields = Fields::default();
        event.record(&mut fields);
        if is_progress(metadata) {
            to_progress(metadata, &fields);
        }
        if self.logged(metadata) {
            Python::attach(|py| {
                // A logging failure must never fail maint's work.
                let _ = emit(py, &name, metadata.level(), &fields);
            });
        }
    }
}

impl PythonLogging {
    fn logged(&self, metadata: &Metadata<'_>) -> bool {
        rank(metadata.level()) <= MAX_LEVEL.load(Ordering::Relaxed)
    }
}

fn emit(py: Python<'_>, name: &str, level: &Level, fields: &Fields) -> PyResult<()> {
    let logger = py.import("logging")?.call_method1("getLogger", (name,))?;
    let extra = PyDict::new(py);
    for (key, value) in &fields.others {
        extra.set_item(format!("maint_{key}"), value)?;
        match key.as_str() {
            "code" if !value.is_empty() => extra.set_item("aws_error_code", value)?,
            "window" | "load_balancer" | "resource" | "target" => {
                extra.set_item("maint_target", value)?
            }
            _ => {}
        }
    }
    let kwargs = PyDict::new(py);
    kwargs.set_item("extra", extra)?;
    logger.call_method(
        "log",
        (python_level(level), "%s", &fields.message),
        Some(&kwargs),
    )?;
    Ok(())
}

/// Installs the bridge as the process's tracing subscriber (once; when
/// another extension installed one first, maint's events go there).
pub fn install() {
    let _ =
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(PythonLogging));
}

/// How many calls have an `on_progress` callback right now: while there
/// is one, the engine's progress and retry events pass the filter whatever
/// the logging level.
static PROGRESS_CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

tokio::task_local! {
    /// The `on_progress` callback of the call whose future is being polled.
    pub static PROGRESS: std::sync::Arc<Progress>;
}

/// Whether an event is one of the engine's progress or retry events.
fn is_progress(metadata: &Metadata<'_>) -> bool {
    metadata.target() == "maint::progress"
        || (metadata.target().starts_with("maint_core")
            && *metadata.level() == Level::WARN
            && metadata.fields().field("attempt").is_some())
}

/// One progress event, as `on_progress` receives it.
#[pyclass(frozen, module = "maint")]
#[derive(Debug, Clone, Default)]
pub struct ProgressEvent {
    kind: &'static str,
    message: String,
    index: Option<usize>,
    total: Option<usize>,
    target: Option<String>,
    ok: Option<bool>,
    changed: Option<bool>,
    aws_error_code: Option<String>,
}

#[pymethods]
impl ProgressEvent {
    /// `"started"` (the targets are known: `total`), `"target_done"` (one
    /// target finished: `index`, `target`, `ok`, `changed`), `"waiting"`
    /// (the engine waits on AWS's call quotas, e.g. "associating 7/20 in
    /// maint-svc-shop: ...") or `"retrying"` (AWS throttled a call or was
    /// not ready: `aws_error_code`).
    #[getter]
    fn kind(&self) -> &'static str {
        self.kind
    }
    /// The event in words.
    #[getter]
    fn message(&self) -> &str {
        &self.message
    }
    /// The target's position in the results (`target_done`).
    #[getter]
    fn index(&self) -> Option<usize> {
        self.index
    }
    /// How many targets (`started`).
    #[getter]
    fn total(&self) -> Option<usize> {
        self.total
    }
    /// The target (`target_done`).
    #[getter]
    fn target(&self) -> Option<&str> {
        self.target.as_deref()
    }
    /// Whether the target succeeded (`target_done`).
    #[getter]
    fn ok(&self) -> Option<bool> {
        self.ok
    }
    /// Whether the target changed (`target_done`).
    #[getter]
    fn changed(&self) -> Option<bool> {
        self.changed
    }
    /// AWS's error code (`retrying`).
    #[getter]
    fn aws_error_code(&self) -> Option<&str> {
        self.aws_error_code.as_deref()
    }
    fn __repr__(&self) -> String {
        format!(
            "ProgressEvent(kind={:?}, message={:?})",
            self.kind, self.message
        )
    }
}

/// A call's `on_progress` callback.
pub struct Progress {
    callback: Py<PyAny>,
}

impl Progress {
    /// A sink for `callback`, counted while it lives.
    pub fn new(callback: Py<PyAny>) -> std::sync::Arc<Self> {
        PROGRESS_CALLS.fetch_add(1, Ordering::Relaxed);
        std::sync::Arc::new(Self { callback })
    }

    /// Calls the callback; an exception it raises is logged (logger
    /// `maint`), never passed on: a half-done switch must go on.
    pub fn send(&self, event: ProgressEvent) {
        Python::attach(|py| {
            let result =
                Bound::new(py, event).and_then(|object| self.callback.call1(py, (object,)));
            if let Err(e) = result {
                let _ = py
                    .import("logging")
                    .and_then(|l| l.call_method1("getLogger", ("maint",)))
                    .and_then(|logger| {
                        let kwargs = PyDict::new(py);
                        kwargs.set_item("exc_info", e.into_value(py))?;
                        logger.call_method(
                            "error",
                            ("on_progress raised; maint goes on",),
                            Some(&kwargs),
                        )
                    });
            }
        });
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        PROGRESS_CALLS.fetch_sub(1, Ordering::Relaxed);
    }
}

impl maint_core::fleet::Observer for Progress {
    fn event(&self, event: &maint_core::fleet::Event<'_>) {
        use maint_core::fleet::Event;
        let progress = match event {
            Event::Started { targets } => ProgressEvent {
                kind: "started",
                message: format!("{} target(s)", targets.len()),
                total: Some(targets.len()),
                ..ProgressEvent::default()
            },
            Event::ChangeDone { index, report } => ProgressEvent {
                kind: "target_done",
                message: format!(
                    "{}: {}",
                    report.target,
                    match &report.error {
                        Some(e) => format!("failed: {}", e.message),
                        None if report.changed => report.changes.join("; "),
                        None => "unchanged".to_string(),
                    }
                ),
                index: Some(*index),
                target: Some(report.target.clone()),
                ok: Some(report.error.is_none()),
                changed: Some(report.changed),
                ..ProgressEvent::default()
            },
            Event::StatusDone { index, report } => ProgressEvent {
                kind: "target_done",
                message: format!("{}: {}", report.target, report.state.as_str()),
                index: Some(*index),
                target: Some(report.target.clone()),
                ok: Some(report.error.is_none()),
                changed: Some(false),
                ..ProgressEvent::default()
            },
            _ => return,
        };
        self.send(progress);
    }
}

/// Sends an engine event to the current call's `on_progress`, if any.
fn to_progress(metadata: &Metadata<'_>, fields: &Fields) {
    let _ = PROGRESS.try_with(|sink| {
        let waiting = metadata.target() == "maint::progress";
        let code = fields
            .others
            .iter()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.clone())
            .filter(|c| !c.is_empty());
        sink.send(ProgressEvent {
            kind: if waiting { "waiting" } else { "retrying" },
            message: fields.message.clone(),
            aws_error_code: code,
            ..ProgressEvent::default()
        });
    });
}
