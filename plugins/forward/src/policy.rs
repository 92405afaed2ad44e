//! The order upstreams are tried in for one query (plugins-resolution.md §1.5 step 3).

use std::sync::atomic::{AtomicU32, Ordering};

use rand::RngExt;
use rand::seq::SliceRandom;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// A fresh random permutation per query.
    Random,
    /// A shared counter picks the first; the others follow in configured order.
    RoundRobin,
    /// Configured order.
    Sequential,
}

/// Permutations up to this many upstreams live on the stack: no allocation per query.
const INLINE: usize = 16;

/// The candidate order of one query: position → upstream index.
pub enum Order {
    Identity,
    /// `first`, then `0..first`, then `first+1..` (CoreDNS `roundRobin.List`).
    RotatedFirst(usize),
    Inline([u8; INLINE]),
    Heap(Vec<usize>),
}

impl Order {
    /// The upstream tried at `position` (< n).
    pub fn at(&self, position: usize) -> usize {
        match self {
            Order::Identity => position,
            Order::RotatedFirst(first) => match position {
                0 => *first,
                p if p <= *first => p - 1,
                p => p,
            },
            Order::Inline(perm) => usize::from(perm[position]),
            Order::Heap(perm) => perm[position],
        }
    }
}

/// A policy with its shared state.
pub struct Selector {
    policy: Policy,
    robin: AtomicU32,
}

impl Selector {
    pub fn new(policy: Policy) -> Self {
        Selector {
            policy,
            robin: AtomicU32::new(0),
        }
    }

    /// The order for the next query over `n` upstreams.
    pub fn order(&self, n: usize) -> Order {
        match self.policy {
            Policy::Sequential => Order::Identity,
            Policy::RoundRobin => {
                // Incremented before use: the very first query starts at the second upstream.
                let counter = self.robin.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
                Order::RotatedFirst(counter as usize % n.max(1))
            }
            Policy::Random => random_order(n),
        }
    }
}

/// A uniformly random permutation of `0..n`; two upstreams are swapped with probability ½.
pub fn random_order(n: usize) -> Order {
    let mut rng = rand::rng();
    match n {
        0 | 1 => Order::Identity,
        2 => {
            if rng.random::<bool>() {
                Order::RotatedFirst(1)
            } else {
                Order::Identity
            }
        }
        n if n <= INLINE => {
            let mut perm = [0u8; INLINE];
            for (i, slot) in perm.iter_mut().enumerate().take(n) {
                *slot = i as u8;
            }
            perm[..n].shuffle(&mut rng);
            Order::Inline(perm)
        }
        n => {
            let mut perm: Vec<usize> = (0..n).collect();
            perm.shuffle(&mut rng);
            Order::Heap(perm)
        }
    }
}

/// One upstream picked uniformly at random (all down: health checking assumed broken).
pub fn random_index(n: usize) -> usize {
    rand::rng().random_range(0..n.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(order: &Order, n: usize) -> Vec<usize> {
        (0..n).map(|p| order.at(p)).collect()
    }

    #[test]
    fn round_robin_starts_at_the_second() {
        let s = Selector::new(Policy::RoundRobin);
        assert_eq!(list(&s.order(3), 3), [1, 0, 2]);
        assert_eq!(list(&s.order(3), 3), [2, 0, 1]);
        assert_eq!(list(&s.order(3), 3), [0, 1, 2]);
    }

    #[test]
    fn sequential_is_configured_order() {
        let s = Selector::new(Policy::Sequential);
        assert_eq!(list(&s.order(4), 4), [0, 1, 2, 3]);
    }

    #[test]
    fn random_is_a_permutation() {
        for n in [1, 2, 3, 16, 17, 40] {
            let mut got = list(&random_order(n), n);
            got.sort_unstable();
            assert_eq!(got, (0..n).collect::<Vec<_>>());
        }
    }
}
