//! What the server core does with a panic below it (corefile.md §7.2 step 3).

use std::any::Any;

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
pub fn log_recovered(server: &str, payload: &(dyn Any + Send)) {
    // `{:?}` quotes and escapes like Go's `%q` for the identity strings we build.
    plugin::log::error(
        None,
        format_args!(
            "Recovered from panic in server: {:?} {}",
            server,
            panic_message(payload)
        ),
    );
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
