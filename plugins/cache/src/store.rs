//! One store (success or denial): 256 shards, each an LRU behind its own short lock
//! (plugins-resolution.md §2.5). A lookup holds the lock for the map probe and an `Arc` clone.

use std::hash::{BuildHasherDefault, Hasher};
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use lru::LruCache;

use crate::entry::Entry;
use crate::key::Key;

pub const SHARDS: usize = 256;
/// The smallest shard CoreDNS builds, whatever the capacity.
const MIN_SHARD_CAPACITY: usize = 4;

type Shard = LruCache<u64, Arc<Entry>, BuildHasherDefault<KeyHasher>>;

pub struct Store {
    shards: Box<[Mutex<Shard>]>,
    /// Entries over all shards, kept beside them so the entries gauge does not take 256 locks.
    len: AtomicUsize,
    shard_capacity: usize,
}

/// What storing did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stored {
    /// A new key in a shard with room, or an existing key overwritten.
    Placed,
    /// A new key in a full shard: another entry was pushed out.
    Evicted,
}

impl Store {
    /// A store of `capacity` (as configured: any integer): per shard max(capacity / 256, 4).
    pub fn new(capacity: i64) -> Store {
        let per_shard = usize::try_from(capacity / SHARDS as i64)
            .unwrap_or(0)
            .max(MIN_SHARD_CAPACITY);
        let cap = NonZeroUsize::new(per_shard).unwrap_or(NonZeroUsize::MIN);
        let shards = (0..SHARDS)
            .map(|_| Mutex::new(LruCache::with_hasher(cap, BuildHasherDefault::default())))
            .collect();
        Store {
            shards,
            len: AtomicUsize::new(0),
            shard_capacity: per_shard,
        }
    }

    /// How many entries the store holds at most: 256 × the per-shard capacity.
    pub fn effective_capacity(&self) -> usize {
        self.shard_capacity * SHARDS
    }

    fn shard(&self, key: Key) -> MutexGuard<'_, Shard> {
        // A panic while holding a shard lock leaves a consistent LRU (its operations do not
        // unwind half-way), so a poisoned lock is used as is.
        self.shards[key.shard()]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// The entry under `key`, marked as recently used.
    pub fn get(&self, key: Key) -> Option<Arc<Entry>> {
        self.shard(key).get(&key.0).cloned()
    }

    /// Stores `entry` under `key`.
    pub fn insert(&self, key: Key, entry: Arc<Entry>) -> Stored {
        let pushed_out = self.shard(key).push(key.0, entry);
        match pushed_out {
            Some((old_key, _)) if old_key == key.0 => Stored::Placed,
            Some(_) => Stored::Evicted,
            None => {
                self.len.fetch_add(1, Ordering::Relaxed);
                Stored::Placed
            }
        }
    }

    /// Removes `key` (a positive refresh replaces a denial, §2.6).
    pub fn remove(&self, key: Key) {
        if self.shard(key).pop(&key.0).is_some() {
            self.len.fetch_sub(1, Ordering::Relaxed);
        }
    }

    pub fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }
}

/// Keys are already hashes, but every key of a shard shares its low byte, which the map
/// would use as its bucket index: mix the remaining bits (splitmix64's finaliser) instead of
/// hashing them again with SipHash.
#[derive(Default)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        let mut x = self.0 >> 8;
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^ (x >> 31)
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are hashed; other input still hashes, byte by byte.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}
