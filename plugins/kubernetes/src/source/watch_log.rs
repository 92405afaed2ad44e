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
                format!("Failed to watch {t}: failed to list {t}: {}", describe(e)),
            ),
            watcher::Error::WatchStartFailed(e) | watcher::Error::WatchFailed(e) => (
                plugin::log::Level::Error,
                format!("Failed to watch {t}: {}", describe(e)),
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
        if let Some(line) = self.admit(text, Instant::now()) {
            plugin::log::write(level, Some("kubernetes"), format_args!("{line}"));
        }
    }

    /// The line to log for `text` now, or `None` while it repeats the last one within
    /// [`REPEAT_AFTER`].
    fn admit(&mut self, text: String, now: Instant) -> Option<String> {
        let repeats = match &self.last {
            Some((last, at)) if *last == text => {
                if now.duration_since(*at) < REPEAT_AFTER {
                    self.suppressed += 1;
                    return None;
                }
                self.suppressed
            }
            _ => 0,
        };
        let line = if repeats > 0 {
            format!("{text} (repeated {repeats} times)")
        } else {
            text.clone()
        };
        self.last = Some((text, now));
        self.suppressed = 0;
        Some(line)
    }
}

/// One line for a client error: the API's own message for a Status answer, the whole cause
/// chain otherwise (kube's top-level text alone, "client error (Connect)", hides the
/// "Connection refused" underneath).
fn describe(error: &kube::Error) -> String {
    if let kube::Error::Api(status) = error {
        return format!("{} ({} {})", status.message, status.code, status.reason);
    }
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_are_held_back_and_counted() {
        let mut log = WatchLog::new("*v1.Service");
        let start = Instant::now();
        let at = |secs| start + Duration::from_secs(secs);
        assert_eq!(log.admit("down".into(), at(0)).as_deref(), Some("down"));
        assert_eq!(log.admit("down".into(), at(1)), None);
        assert_eq!(log.admit("down".into(), at(29)), None);
        assert_eq!(
            log.admit("down".into(), at(31)).as_deref(),
            Some("down (repeated 2 times)")
        );
        // Something else is news at once.
        assert_eq!(log.admit("other".into(), at(32)).as_deref(), Some("other"));
        assert_eq!(log.admit("down".into(), at(33)).as_deref(), Some("down"));
        // After a success the same failure is news again.
        log.recovered();
        assert_eq!(log.admit("down".into(), at(34)).as_deref(), Some("down"));
    }
}
