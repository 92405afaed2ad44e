//! What the server core does with a panic below it (corefile.md §7.2 step 3).

use std::any::Any;
use std::backtrace::Backtrace;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::Poll;

/// How a listener treats a panic below it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    /// The server core recovers and logs the panic itself, so the panic hook stays silent
    /// (false with `debug`: the process then reports it and exits).
    pub quiet: bool,
    /// `errors { stacktrace }`: the recovered panic is logged with a stack trace.
    pub stacktrace: bool,
}

thread_local! {
    /// The recovery mode of the code this thread runs now.
    static RECOVERING: Cell<Recovery> = const { Cell::new(Recovery { quiet: false, stacktrace: false }) };
    /// The stack trace the hook captured for the last recovered panic, when asked to.
    static TRACE: RefCell<Option<Backtrace>> = const { RefCell::new(None) };
}

/// Sets the thread's recovery mode until dropped, also when unwinding.
struct Mark {
    previous: Recovery,
}

impl Mark {
    fn enter(recovery: Recovery) -> Mark {
        Mark {
            previous: RECOVERING.replace(recovery),
        }
    }
}

impl Drop for Mark {
    fn drop(&mut self) {
        RECOVERING.set(self.previous);
    }
}

/// Runs `f`, catching a panic, in `recovery` mode.
pub fn recover<R>(recovery: Recovery, f: impl FnOnce() -> R) -> std::thread::Result<R> {
    let _mark = Mark::enter(recovery);
    std::panic::catch_unwind(AssertUnwindSafe(f))
}

/// [`recover`] for a future: every poll is guarded. Nothing is boxed, so a future that is
/// ready on its first poll stays ready on the first poll; it is polled where it is pinned,
/// not moved into a wrapper.
pub async fn recover_future<F: Future>(
    recovery: Recovery,
    mut future: Pin<&mut F>,
) -> std::thread::Result<F::Output> {
    std::future::poll_fn(|cx| {
        let _mark = Mark::enter(recovery);
        match std::panic::catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(payload) => Poll::Ready(Err(payload)),
        }
    })
    .await
}

/// The stack trace captured for the panic just recovered on this thread, if one was asked for.
pub fn take_trace() -> Option<Backtrace> {
    TRACE.take()
}

/// Installs the process's panic hook. A panic the server core recovers is reported by the
/// core alone, as `[ERROR] Recovered from panic in server: …` (all CoreDNS prints); any other
/// panic goes to Rust's default report on stderr.
pub fn install_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let recovery = RECOVERING.get();
        if recovery.stacktrace {
            // Captured here, where the panicking frames are still on the stack.
            TRACE.set(Some(Backtrace::force_capture()));
        }
        if !recovery.quiet {
            default(info);
        }
    }));
}

/// The panic's message, as Go's `%v` prints a recovered value: the text for `panic!("...")`.
pub fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(text) = payload.downcast_ref::<&'static str>() {
        text
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text
    } else {
        "Box<dyn Any>"
    }
}

/// Logs a recovered panic the way CoreDNS does:
/// `[ERROR] Recovered from panic in server: "dns://:53" <value>`.
pub fn log_recovered(server: &str, payload: &(dyn Any + Send), trace: Option<&Backtrace>) {
    // `{:?}` quotes and escapes like Go's `%q` for the identity strings we build.
    let message = panic_message(payload);
    match trace {
        Some(trace) => plugin::log::error(
            None,
            format_args!("Recovered from panic in server: {server:?} {message}\n{trace}"),
        ),
        None => plugin::log::error(
            None,
            format_args!("Recovered from panic in server: {server:?} {message}"),
        ),
    }
}

/// A panic on a listener whose blocks use `debug`: not recovered. CoreDNS then crashes with
/// the Go runtime's trace; a tokio task would instead die silently and take its socket reader
/// with it, so the process exits with Go's exit status for an unrecovered panic (2). The panic
/// hook has already printed the message (and a backtrace with RUST_BACKTRACE=1).
pub fn crash(server: &str, payload: &(dyn Any + Send)) -> ! {
    plugin::log::error(
        None,
        format_args!(
            "Panic in server (not recovered, debug is on): {:?} {}",
            server,
            panic_message(payload)
        ),
    );
    std::process::exit(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        static REPORTED: Cell<usize> = const { Cell::new(0) };
    }

    #[test]
    fn the_hook_is_quiet_only_about_recovered_panics() {
        // Stands in for Rust's default report; counts per thread, so tests running in
        // parallel threads do not disturb each other.
        std::panic::set_hook(Box::new(|_| REPORTED.set(REPORTED.get() + 1)));
        install_hook();
        let quiet = Recovery {
            quiet: true,
            stacktrace: false,
        };
        assert!(recover(quiet, || panic!("recovered")).is_err());
        assert_eq!(REPORTED.get(), 0);
        assert_eq!(
            RECOVERING.get(),
            Recovery::default(),
            "the mark is gone after unwinding"
        );
        assert!(take_trace().is_none(), "no trace unless asked for");
        let traced = Recovery {
            quiet: true,
            stacktrace: true,
        };
        assert!(recover(traced, || panic!("with a trace")).is_err());
        assert!(
            take_trace().is_some_and(|t| t.status() == std::backtrace::BacktraceStatus::Captured)
        );
        assert!(recover(Recovery::default(), || panic!("debug is on")).is_err());
        assert_eq!(REPORTED.get(), 1);
        let _ = std::panic::take_hook();
    }

    #[tokio::test]
    async fn recover_future_keeps_a_ready_future_ready() {
        let seven = std::pin::pin!(async { 7 });
        let ready = recover_future(
            Recovery {
                quiet: true,
                stacktrace: false,
            },
            seven,
        );
        let polled = futures_util::poll!(Box::pin(ready));
        assert!(matches!(polled, std::task::Poll::Ready(Ok(7))));
        let panicking = std::pin::pin!(async { panic!("in a future") });
        assert!(
            recover_future(Recovery::default(), panicking)
                .await
                .is_err()
        );
    }

    #[test]
    fn message_of_str_string_and_other_payloads() {
        let from_str = std::panic::catch_unwind(|| panic!("boom")).unwrap_err();
        assert_eq!(panic_message(&*from_str), "boom");
        let n = 7;
        let from_string = std::panic::catch_unwind(|| panic!("boom {n}")).unwrap_err();
        assert_eq!(panic_message(&*from_string), "boom 7");
        let other = std::panic::catch_unwind(|| std::panic::panic_any(42u8)).unwrap_err();
        assert_eq!(panic_message(&*other), "Box<dyn Any>");
    }
}
