//! The SOA serial clocks (kubernetes.md §11.6): Unix seconds of the last DNS-relevant change,
//! 0 before the first one, never going backwards within the process.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Default)]
pub struct Clock {
    seconds: AtomicI64,
}

impl Clock {
    pub fn new() -> Self {
        Clock::default()
    }

    /// Moves the clock to now.
    pub fn touch(&self) {
        self.touch_at(unix_now());
    }

    /// Moves the clock to `seconds`, unless it already shows a later time (a wall clock
    /// stepped back must not make the serial go backwards).
    pub fn touch_at(&self, seconds: i64) {
        self.seconds.fetch_max(seconds, Ordering::Relaxed);
    }

    /// Back to "no change seen" (tests of which events move the clock).
    #[cfg(test)]
    pub fn reset(&self) {
        self.seconds.store(0, Ordering::Relaxed);
    }

    /// The SOA serial: the Unix time truncated to 32 bits.
    pub fn serial(&self) -> u32 {
        self.seconds.load(Ordering::Relaxed) as u32
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_at_zero_and_never_goes_back() {
        let clock = Clock::new();
        assert_eq!(clock.serial(), 0);
        clock.touch_at(1_700_000_100);
        clock.touch_at(1_700_000_000);
        assert_eq!(clock.serial(), 1_700_000_100);
        clock.touch();
        assert!(clock.serial() >= 1_700_000_100);
    }

    #[test]
    fn truncates_to_32_bits() {
        let clock = Clock::new();
        clock.touch_at((1_i64 << 32) + 5);
        assert_eq!(clock.serial(), 5);
    }
}
