//! Log lines for watch failures, in client-go's words (CoreDNS prints the reflector's lines:
//! `Failed to watch *v1.Service: failed to list *v1.Service: …`), and not more than once per
//! [`REPEAT_AFTER`] for the same failure: the watcher retries forever, an API server that is
//! away for an hour must not fill the log.

use std::time::Duration;

use kube::runtime::watcher;
use tokio::time::Instant;

const REPEAT_AFTER: Duration = Duration::from_secs(30);

pub(crate) struct WatchLog {
    go_type: &'static str,
    last: Option<(String, Instant)>,
    suppressed: u32,
}

impl WatchLog {
    pub(crate) fn new(go_type: &'static str) -> WatchLog {
        WatchLog {
            go_type,
            last: None,
            suppressed: 0,
        }
    }

    /// The watch works again: the next failure is news.
    pub(crate) fn recovered(&mut self) {
        self.last = None;
        self.suppressed = 0;
    }

    pub(crate) fn report(&mut self, error: &watcher::Error) {
        let t = self.go_type;
        let (level, text) = match error {
            watcher::Error::InitialListFailed(e) => (
                plugin::log::Level::Error,
                format!("Failed to watch {t}: failed to list {t}: {e}"),
            ),
            watcher::Error::WatchStartFailed(e) | watcher::Error::WatchFailed(e) => (
                plugin::log::Level::Error,
                format!("Failed to watch {t}: {e}"),
            ),
            // 410 Gone: the resourceVersion is too old, the watcher lists again. Routine, as in
            // client-go (verbose level there).
            watcher::Error::WatchError(status) if status.code == 410 => (
                plugin::log::Level::Debug,
                format!("watch of {t} ended with: {}", status.message),
            ),
            watcher::Error::WatchError(status) => (
                plugin::log::Level::Warning,
                format!("watch of {t} ended with: {}", status.message),
            ),
            watcher::Error::NoResourceVersion => (
                plugin::log::Level::Error,
                format!("Failed to watch {t}: {error}"),
            ),
        };
        let now = Instant::now();
        let repeats = match &self.last {
            Some((last, at)) if *last == text => {
                if now.duration_since(*at) < REPEAT_AFTER {
                    self.suppressed += 1;
                    return;
                }
                self.suppressed
            }
            _ => 0,
        };
        if repeats > 0 {
            plugin::log::write(
                level,
                Some("kubernetes"),
                format_args!("{text} (repeated {repeats} times)"),
            );
        } else {
            plugin::log::write(level, Some("kubernetes"), format_args!("{text}"));
        }
        self.last = Some((text, now));
        self.suppressed = 0;
    }
}
