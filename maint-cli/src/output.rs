//! What the CLI prints: lines for people (colour only on a terminal, never
//! with `NO_COLOR`), JSON for scripts, and a progress line on stderr while
//! AWS takes more than a second.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use maint_core::report::{ChangeReport, StatusReport};

/// Colours for a stream, off unless it is a terminal and `NO_COLOR` is unset.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    on: bool,
}

impl Style {
    /// Colours for standard output.
    pub fn stdout() -> Self {
        Self {
            on: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// Green.
    pub fn good(&self, text: &str) -> String {
        self.paint("32", text)
    }

    /// Yellow.
    pub fn warn(&self, text: &str) -> String {
        self.paint("33", text)
    }

    /// Bold red.
    pub fn bad(&self, text: &str) -> String {
        self.paint("1;31", text)
    }

    /// Dim.
    pub fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }

    /// Pads `text` to `width` visible characters, then colours it.
    pub fn padded(&self, text: &str, width: usize, paint: fn(&Style, &str) -> String) -> String {
        let pad = width.saturating_sub(text.chars().count());
        format!("{}{}", paint(self, text), " ".repeat(pad))
    }
}

/// Writes a line to stdout, ignoring a closed pipe (`| head`).
pub fn line(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
}

/// Prints a value as pretty JSON on stdout.
pub fn json(value: &impl serde::Serialize) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => line(&text),
        Err(e) => eprintln!("maint: cannot encode JSON: {e}"),
    }
}

/// A progress line on stderr, shown only on a terminal, only after a second
/// of waiting, and cleared when done.
pub struct Progress {
    done: Arc<AtomicUsize>,
    finished: Arc<AtomicBool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Progress {
    /// Starts the progress line for `total` targets of `what` (e.g. "enter").
    pub fn start(what: &str, total: usize, enabled: bool) -> Self {
        let done = Arc::new(AtomicUsize::new(0));
        let finished = Arc::new(AtomicBool::new(false));
        let show = enabled && std::io::stderr().is_terminal();
        let task = show.then(|| {
            let (done, finished, what) = (done.clone(), finished.clone(), what.to_string());
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(1)).await;
                let frames = ['|', '/', '-', '\\'];
                let mut i = 0;
                while !finished.load(Ordering::Relaxed) {
                    let n = done.load(Ordering::Relaxed);
                    eprint!(
                        "\r{} {what}: waiting on AWS, {n}/{total} targets done ",
                        frames[i % frames.len()]
                    );
                    let _ = std::io::stderr().flush();
                    i += 1;
                    tokio::time::sleep(Duration::from_millis(120)).await;
                }
            })
        });
        Self {
            done,
            finished,
            task,
        }
    }

    /// Clears the line (so a result can be printed) and counts one target.
    pub fn tick(&self) {
        self.done.fetch_add(1, Ordering::Relaxed);
        self.clear();
    }

    fn clear(&self) {
        if self.task.is_some() {
            eprint!("\r\x1b[2K");
        }
    }

    /// Stops and clears the progress line.
    pub async fn finish(mut self) {
        self.finished.store(true, Ordering::Relaxed);
        if let Some(task) = self.task.take() {
            let _ = task.await;
            eprint!("\r\x1b[2K");
        }
    }
}

/// A change report as one line for people.
pub fn change_line(style: &Style, verb: &str, r: &ChangeReport, width: usize) -> String {
    let target = style.padded(&r.target, width, Style::dim_none);
    match (&r.error, r.changed, r.dry_run) {
        (Some(e), _, _) => format!("{target}  {}: {}", style.bad("FAILED"), e.message),
        (None, false, _) => format!("{target}  {}", style.dim("unchanged")),
        (None, true, true) => format!("{target}  {} {}", style.warn("would"), r.changes.join("; ")),
        (None, true, false) => format!("{target}  {}: {}", style.good(verb), r.changes.join("; ")),
    }
}

impl Style {
    fn dim_none(&self, text: &str) -> String {
        text.to_string()
    }
}

/// The status table for people.
pub fn status_table(style: &Style, reports: &[StatusReport]) -> Vec<String> {
    let header = ["TARGET", "STATE", "ALLOWLIST", "SINCE", "UNTIL", "REASON"];
    let rows: Vec<[String; 6]> = reports
        .iter()
        .map(|r| {
            let allowlist = match r.allowlist_enabled {
                Some(true) => format!("on ({})", r.allowlist.len()),
                Some(false) => format!("off ({})", r.allowlist.len()),
                None => "-".into(),
            };
            let state = match (&r.error, r.web_acl_name.as_deref()) {
                (Some(_), _) => "error".to_string(),
                (None, Some(name)) => format!("foreign ({name})"),
                _ if !r.leftovers.is_empty() => format!("{} (leftovers)", r.state),
                _ => r.state.to_string(),
            };
            [
                r.target.clone(),
                state,
                allowlist,
                r.since.clone().unwrap_or_else(|| "-".into()),
                r.until.clone().unwrap_or_else(|| "-".into()),
                match &r.error {
                    Some(e) => e.message.clone(),
                    None => r.reason.clone().unwrap_or_else(|| "-".into()),
                },
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut lines = vec![header
        .iter()
        .zip(widths)
        .map(|(h, w)| format!("{h:<w$}"))
        .collect::<Vec<_>>()
        .join("  ")
        .trim_end()
        .to_string()];
    for (row, r) in rows.iter().zip(reports) {
        let paint: fn(&Style, &str) -> String = match r.state {
            "maintenance" => Style::warn,
            "normal" => Style::good,
            _ => Style::bad,
        };
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(i, (cell, w))| {
                if i == 1 {
                    style.padded(cell, w, paint)
                } else {
                    format!("{cell:<w$}")
                }
            })
            .collect();
        lines.push(cells.join("  ").trim_end().to_string());
    }
    lines
}
