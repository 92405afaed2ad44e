//! A FIFO pool of idle connections to one upstream (plugins-resolution.md §1.7).
//!
//! Taking the oldest idle connection spreads queries over source ports. The lock is held
//! only to pop or push one entry; connections are closed after it is released.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// An idle connection with its age.
#[derive(Debug)]
pub struct Idle<C> {
    pub conn: C,
    pub created: Instant,
    pub used: Instant,
}

/// When an idle connection is too old to reuse.
#[derive(Clone, Copy, Debug)]
pub struct Freshness {
    /// Unused for longer than this: discarded.
    pub expire: Duration,
    /// Older than this since creation: discarded. Zero: no limit.
    pub max_age: Duration,
}

impl Freshness {
    fn is_stale<C>(&self, idle: &Idle<C>, now: Instant) -> bool {
        now.saturating_duration_since(idle.used) > self.expire
            || (!self.max_age.is_zero()
                && now.saturating_duration_since(idle.created) > self.max_age)
    }
}

#[derive(Debug)]
pub struct IdlePool<C> {
    idle: Mutex<VecDeque<Idle<C>>>,
}

impl<C> Default for IdlePool<C> {
    fn default() -> Self {
        IdlePool {
            idle: Mutex::new(VecDeque::new()),
        }
    }
}

impl<C> IdlePool<C> {
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Idle<C>>> {
        // A panic while holding this lock cannot leave the queue inconsistent.
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The oldest idle connection that is still fresh; stale ones met on the way are closed.
    pub fn take(&self, freshness: Freshness, now: Instant) -> Option<Idle<C>> {
        loop {
            let idle = self.lock().pop_front()?;
            if !freshness.is_stale(&idle, now) {
                return Some(idle);
            }
            drop(idle);
        }
    }

    /// Returns a connection after a successful exchange. Closed instead when `max_idle`
    /// (non-zero) connections are already idle.
    pub fn put(&self, idle: Idle<C>, max_idle: usize) {
        let mut queue = self.lock();
        if max_idle != 0 && queue.len() >= max_idle {
            drop(queue);
            drop(idle);
            return;
        }
        queue.push_back(idle);
    }

    /// Closes every stale idle connection (the 10 s sweeper).
    pub fn sweep(&self, freshness: Freshness, now: Instant) {
        let stale: VecDeque<Idle<C>> = {
            let mut queue = self.lock();
            let (keep, stale) = std::mem::take(&mut *queue)
                .into_iter()
                .partition(|idle| !freshness.is_stale(idle, now));
            *queue = keep;
            stale
        };
        drop(stale);
    }

    /// Closes every idle connection (instance stopping).
    pub fn clear(&self) {
        let all = std::mem::take(&mut *self.lock());
        drop(all);
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRESH: Freshness = Freshness {
        expire: Duration::from_secs(10),
        max_age: Duration::ZERO,
    };

    fn idle(conn: u32, at: Instant) -> Idle<u32> {
        Idle {
            conn,
            created: at,
            used: at,
        }
    }

    #[test]
    fn oldest_first() {
        let pool = IdlePool::default();
        let now = Instant::now();
        pool.put(idle(1, now), 0);
        pool.put(idle(2, now), 0);
        assert_eq!(pool.take(FRESH, now).unwrap().conn, 1);
        assert_eq!(pool.take(FRESH, now).unwrap().conn, 2);
        assert!(pool.take(FRESH, now).is_none());
    }

    #[test]
    fn expired_and_too_old_are_skipped() {
        let pool = IdlePool::default();
        let start = Instant::now();
        let later = start + Duration::from_secs(11);
        pool.put(idle(1, start), 0);
        pool.put(idle(2, later), 0);
        assert_eq!(pool.take(FRESH, later).unwrap().conn, 2);
        assert!(pool.is_empty());

        let aged = Freshness {
            expire: Duration::from_secs(10),
            max_age: Duration::from_secs(20),
        };
        pool.put(
            Idle {
                conn: 3,
                created: start,
                used: start + Duration::from_secs(25),
            },
            0,
        );
        assert!(pool.take(aged, start + Duration::from_secs(26)).is_none());
    }

    #[test]
    fn max_idle_closes_the_surplus_and_sweep_removes_stale() {
        let pool = IdlePool::default();
        let now = Instant::now();
        pool.put(idle(1, now), 1);
        pool.put(idle(2, now), 1);
        assert_eq!(pool.len(), 1);
        pool.sweep(FRESH, now + Duration::from_secs(11));
        assert!(pool.is_empty());
    }
}
