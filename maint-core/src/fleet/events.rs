//! What a [`Fleet`](crate::Fleet)(super::Fleet) tells its caller while a command runs:
//! the [`Event`]s, and the [`Observer`] that hears them.

use std::time::Duration;

use crate::report::{ChangeReport, StatusReport};
use crate::target::TargetRef;

/// What a [`Fleet`](crate::Fleet) reports while a command runs, for progress lines and
/// per-target output.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// The targets are known (expanded, not yet looked up); each will be
    /// reported on, in this order.
    Started {
        /// The targets.
        targets: &'a [TargetRef],
    },
    /// A changing command finished with one target (in completion order).
    ChangeDone {
        /// The target's position in the results.
        index: usize,
        /// Its result.
        report: &'a ChangeReport,
    },
    /// Every change is made; the public's view is probed until it shows
    /// them (`--wait`).
    Waiting {
        /// How many windows are probed.
        windows: usize,
    },
    /// One probe of a window's public URL while waiting.
    Probed {
        /// The URL probed.
        url: &'a str,
        /// The window (its web ACL's name).
        window: &'a str,
        /// What the probe saw, in words.
        seen: &'a str,
        /// Time since the wait began.
        elapsed: Duration,
        /// Whether the window is a CloudFront distribution's (a change
        /// takes minutes to reach every edge location).
        cloudfront: bool,
    },
    /// Something the user should know (a client address taken from a
    /// spoofable header, a webhook that failed); also in the run's
    /// `warnings`.
    Warning {
        /// The warning, in words.
        message: &'a str,
    },
    /// `status` read one target (in completion order).
    StatusDone {
        /// The target's position in the results.
        index: usize,
        /// Its state.
        report: &'a StatusReport,
    },
}

/// Receives a [`Fleet`](crate::Fleet)'s [`Event`]s. Any `Fn(&Event)` is an observer.
pub trait Observer: Send + Sync {
    /// Called for each event, on the task running the command.
    fn event(&self, event: &Event<'_>);
}

impl<F: Fn(&Event<'_>) + Send + Sync> Observer for F {
    fn event(&self, event: &Event<'_>) {
        self(event)
    }
}

/// An observer that ignores every event.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Observer for Silent {
    fn event(&self, _: &Event<'_>) {}
}
