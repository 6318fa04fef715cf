//! The CLI's logs: `tracing` events on stderr, printed around the
//! progress line, and the engine's progress events on it.

use std::io::Write;

use crate::screen::Screen;

/// Logs go to stderr: warnings (AWS retries and waits) by default, each AWS
/// step with -v, debug with -vv, errors only with -q. `RUST_LOG` overrides.
/// Plain text unless stderr is a terminal (anstream strips the styles), and
/// printed around the progress line.
pub fn init(verbose: u8, quiet: bool, screen: &Screen) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, _) => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        // The AWS SDK's own warnings only from -v on: without a region or
        // credentials it warns once per provider it tried, which buries
        // maint's one clear error.
        let sdk = if verbose > 0 { "warn" } else { "error" };
        tracing_subscriber::EnvFilter::new(format!("{sdk},maint_core={level},maint={level}"))
    });
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;
    let logs = tracing_subscriber::fmt::layer()
        .with_writer(LogLines(screen.clone()))
        .with_ansi(true)
        .with_target(false)
        .without_time()
        .with_filter(filter);
    // What the engine says it is waiting on goes to the progress line too,
    // whatever the log level.
    let progress = ProgressMessages(screen.clone()).with_filter(
        tracing_subscriber::filter::Targets::new()
            .with_target("maint::progress", tracing::Level::INFO),
    );
    tracing_subscriber::registry()
        .with(logs)
        .with(progress)
        .init();
}

/// Puts the engine's progress events (tracing target `maint::progress`,
/// e.g. "associating 7/20 in maint-svc-shop: AWS allows one association
/// every 2 s in us-east-1, about 26 s left") on the progress line.
struct ProgressMessages(Screen);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for ProgressMessages {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        struct Message(String);
        impl tracing::field::Visit for Message {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "message" {
                    self.0 = format!("{value:?}");
                }
            }
        }
        let mut message = Message(String::new());
        event.record(&mut message);
        self.0.progress_message(format!("({})", message.0));
    }
}

/// Makes a [`LogLine`] per log event.
struct LogLines(Screen);

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogLines {
    type Writer = LogLine;

    fn make_writer(&'a self) -> LogLine {
        LogLine(Vec::new(), self.0.clone())
    }
}

/// One log event, buffered and written at once to stderr around the
/// progress line.
struct LogLine(Vec<u8>, Screen);

impl Write for LogLine {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LogLine {
    fn drop(&mut self) {
        if self.0.is_empty() {
            return;
        }
        let text = &self.0;
        self.1.around(|| {
            let _ = anstream::stderr().lock().write_all(text);
        });
    }
}
