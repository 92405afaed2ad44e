//! The `loop` directive: sends a random HINFO probe to our own listener after startup and
//! stops the process when the probe comes back through the server a third time — a
//! forwarding loop (plugins-core.md, loop).
#![forbid(unsafe_code)]

mod handler;
mod probe;
mod prober;
mod state;
#[cfg(test)]
mod tests;

use std::io::Write;
use std::sync::Arc;

use plugin::{BlockConfig, ConfigError, Dispenser, Setup};

pub use handler::Loop;
pub use probe::{PROBE_TIMEOUT, ProbeError, exchange, listen_text, random_name, target};
pub use prober::{DETECTION_WINDOW, RETRY_AFTER};
pub use state::{LoopState, OnLoop};

pub const NAME: &str = "loop";

/// Adds the handler and starts the probe with the process-stopping action.
pub fn setup(s: &mut Setup<'_>) -> Result<(), ConfigError> {
    setup_with(s, Arc::new(exit_on_loop))
}

/// [`setup`] with the action to take on a loop (tests record it instead of exiting).
pub fn setup_with(s: &mut Setup<'_>, on_loop: OnLoop) -> Result<(), ConfigError> {
    parse(&mut s.d)?;
    let (zone, listen_host, port) = probed(s.block);
    let state = Arc::new(LoopState::new(
        zone.clone(),
        random_name(&zone),
        listen_text(&listen_host, port),
        on_loop,
    ));
    s.add_plugin(Loop::new(state.clone()));
    match target(&listen_host, port) {
        // The probe starts once this configuration serves (at start, or when a reload swapped
        // it in), so it goes through this configuration's chain and not the one it replaced.
        Some(target) => {
            let probe = state.probe().to_string();
            let tasks = s.tasks().clone();
            s.on_serving(move || {
                tasks.spawn(prober::run(state, move || {
                    let probe = probe.clone();
                    async move { exchange(target, &probe, PROBE_TIMEOUT).await }
                }));
            });
        }
        // Nothing to send to: the block is not served (a `bind` whose addresses were all
        // excepted), so nothing can loop through it either.
        None => state.disable(),
    }
    Ok(())
}

/// `loop` takes no arguments and may appear once per block.
pub fn parse(d: &mut Dispenser) -> Result<(), ConfigError> {
    while d.next_once()? {
        if d.next_arg() {
            return Err(d.arg_err().into());
        }
    }
    Ok(())
}

/// The zone probed (the block's first zone only: other keys are never probed), and the
/// first listen host and port the probe is sent to (`""` is the wildcard).
fn probed(block: &BlockConfig) -> (String, String, u16) {
    let (zone, port) = block
        .keys
        .first()
        .map_or((".".to_string(), 53), |key| (key.zone.clone(), key.port));
    let host = if block.bind_used {
        block.listen_hosts.first().cloned().unwrap_or_default()
    } else {
        String::new()
    };
    (zone, host, port)
}

/// The server's action on a loop: the FATAL line, then exit status 1 at once — no
/// lameduck, no graceful stop (plugins-core.md, loop, step 3; cli-and-endpoints.md §5).
pub fn exit_on_loop(message: &str) {
    plugin::log::write(
        plugin::log::Level::Fatal,
        Some(NAME),
        format_args!("{message}"),
    );
    let _ = std::io::stdout().flush();
    std::process::exit(1);
}
