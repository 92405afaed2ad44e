//! The background probe after startup and after every reload (plugins-core.md, loop, steps
//! 2 and 4): send until a reply comes back, at most for 30 s, then detection stops.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::probe::ProbeError;
use crate::state::LoopState;

/// How long after startup the probe is tried and detection stays on.
pub const DETECTION_WINDOW: Duration = Duration::from_secs(30);
/// The pause after a probe that failed.
pub const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Sends the probe with `send` until one gets a reply, then disables detection; after a
/// failure the pass counter is reset and the next attempt waits [`RETRY_AFTER`]. Detection
/// ends [`DETECTION_WINDOW`] after the start whatever happens (an attempt in flight then is
/// dropped).
pub async fn run<F, Fut>(state: Arc<LoopState>, mut send: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), ProbeError>>,
{
    let deadline = tokio::time::Instant::now() + DETECTION_WINDOW;
    let attempts = async {
        // No attempt starts at the deadline itself (CoreDNS: `time.Now().Before(deadline)`).
        while tokio::time::Instant::now() < deadline {
            match send().await {
                Ok(()) => return,
                Err(_) => {
                    state.reset();
                    tokio::time::sleep(RETRY_AFTER).await;
                }
            }
        }
    };
    let _ = tokio::time::timeout_at(deadline, attempts).await;
    state.disable();
}
