//! The terminal: stdout, stderr and the progress line on screen, if any.
//! Output and logs are printed around the progress line, never through
//! it. One [`Screen`] per run, made by `main`, owned by the
//! [`Printer`](crate::output::Printer) and shared with the log writer
//! (see `logging`): no global.
//!
//! The progress line (indicatif) is drawn on stderr only on a terminal.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use maint_core::Error;

/// stdout and stderr, around the progress line on screen (if any).
#[derive(Clone, Default)]
pub struct Screen {
    bar: Arc<Mutex<Option<ProgressBar>>>,
}

impl Screen {
    /// The progress line on screen, if any.
    fn active(&self) -> Option<ProgressBar> {
        self.bar
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn show(&self, bar: ProgressBar) {
        *self.bar.lock().unwrap_or_else(PoisonError::into_inner) = Some(bar);
    }

    fn hide(&self) {
        *self.bar.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// Runs `write` with the progress line (if any) out of the way.
    pub fn around(&self, write: impl FnOnce()) {
        match self.active() {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }

    /// Puts `message` on the progress line, if one is on screen.
    pub fn progress_message(&self, message: String) {
        if let Some(bar) = self.active() {
            bar.set_message(message);
        }
    }

    /// Writes text to stdout, stripping styles where they do not belong
    /// and ignoring a closed pipe (`| head`).
    pub fn out(&self, text: &str) {
        self.around(|| {
            let mut stdout = anstream::stdout().lock();
            let _ = stdout.write_all(text.as_bytes());
            let _ = stdout.flush();
        });
    }

    /// Writes a line to stdout.
    pub fn line(&self, text: &str) {
        self.out(&format!("{text}\n"));
    }

    /// Prints a value as pretty JSON on stdout.
    pub fn json(&self, value: &impl serde::Serialize) {
        match serde_json::to_string_pretty(value) {
            Ok(text) => self.line(&text),
            Err(e) => self.error(&Error::unexpected(format!("cannot encode JSON: {e}"))),
        }
    }

    /// Prints an error for people on stderr: the one place that does. See
    /// [`write_error`](crate::output::write_error).
    pub fn error(&self, error: &Error) {
        let mut text = Vec::new();
        crate::output::write_error(&mut text, None, error);
        self.around(|| {
            let _ = anstream::stderr().lock().write_all(&text);
        });
    }
}

/// A progress line on stderr: elapsed time, targets done, and an estimate
/// of what is left. Hidden unless enabled and stderr is a terminal; cleared
/// when dropped.
pub struct Progress {
    bar: ProgressBar,
    screen: Screen,
}

impl Progress {
    /// Starts a progress line for `what` (`total`: targets to count),
    /// shown on `screen` when `enabled` and stderr is a terminal.
    pub fn start(screen: &Screen, what: &str, total: Option<usize>, enabled: bool) -> Self {
        let bar = if enabled {
            let target = ProgressDrawTarget::stderr();
            match total {
                Some(n) => ProgressBar::with_draw_target(Some(n as u64), target),
                None => ProgressBar::with_draw_target(None, target),
            }
        } else {
            ProgressBar::hidden()
        };
        let template = if total.is_some() {
            "{spinner} {prefix}: {pos}/{len} targets done, {elapsed} so far{left} {wide_msg}"
        } else {
            "{spinner} {prefix}: waiting on AWS, {elapsed} so far {wide_msg}"
        };
        let style = ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            // No estimate before the first target is done: indicatif's
            // would say 0s.
            .with_key(
                "left",
                |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    // Windows report as a whole: the engine's own message
                    // (what it waits on) says more than an estimate from
                    // targets done.
                    if state.pos() > 0 {
                        let _ = write!(w, ", about {}s left", state.eta().as_secs());
                    }
                },
            );
        bar.set_style(style);
        bar.set_prefix(what.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        if !bar.is_hidden() {
            screen.show(bar.clone());
        }
        Self {
            bar,
            screen: screen.clone(),
        }
    }

    /// One more target done.
    pub fn tick(&self) {
        self.bar.inc(1);
    }

    /// Stops and clears the line.
    pub fn finish_and_clear(&self) {
        self.bar.finish_and_clear();
        // One progress line at a time: a visible one is the active one.
        if !self.bar.is_hidden() {
            self.screen.hide();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish_and_clear();
    }
}
