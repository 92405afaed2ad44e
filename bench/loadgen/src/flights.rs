//! The queries in flight: one slot per outstanding query, its message ID derived from the slot
//! so a reply finds its query without a map, and the counts and latencies of the run.
//!
//! An ID is the slot number (low 12 bits) and a generation (high 4 bits) that moves on each
//! time the slot is reused, so a late reply to a query already counted as lost is not taken
//! for the answer to the slot's next query.

use std::time::{Duration, Instant};

/// Outstanding queries at most: the slot number has 12 bits.
pub const MAX_OUTSTANDING: usize = 1 << SLOT_BITS;
const SLOT_BITS: u32 = 12;
const SLOT_MASK: u16 = (1 << SLOT_BITS) - 1;

#[derive(Clone, Copy, Default)]
struct Slot {
    generation: u8,
    sent: Option<Instant>,
}

/// What happened to the queries of a run.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Tally {
    pub sent: u64,
    pub completed: u64,
    pub lost: u64,
    /// Replies by RCODE (the header's 4 bits).
    pub rcodes: [u64; 16],
    /// Replies whose ID matched no query in flight (late, duplicated or forged).
    pub unexpected: u64,
    latency_sum: f64,
    latency_square_sum: f64,
    pub latency_min: Option<Duration>,
    pub latency_max: Duration,
}

impl Tally {
    pub fn average_latency(&self) -> f64 {
        if self.completed == 0 {
            return 0.0;
        }
        self.latency_sum / self.completed as f64
    }

    pub fn latency_stddev(&self) -> f64 {
        if self.completed < 2 {
            return 0.0;
        }
        let n = self.completed as f64;
        let mean = self.latency_sum / n;
        ((self.latency_square_sum / n - mean * mean).max(0.0)).sqrt()
    }

    fn record(&mut self, latency: Duration, rcode: u8) {
        self.completed += 1;
        self.rcodes[usize::from(rcode & 0xf)] += 1;
        let seconds = latency.as_secs_f64();
        self.latency_sum += seconds;
        self.latency_square_sum += seconds * seconds;
        self.latency_min = Some(self.latency_min.map_or(latency, |m| m.min(latency)));
        self.latency_max = self.latency_max.max(latency);
    }
}

pub struct Flights {
    slots: Vec<Slot>,
    free: Vec<u16>,
    timeout: Duration,
    pub tally: Tally,
}

impl Flights {
    /// `outstanding` slots (clamped to 1..=[`MAX_OUTSTANDING`]); a query unanswered after
    /// `timeout` is lost.
    pub fn new(outstanding: usize, timeout: Duration) -> Self {
        let count = outstanding.clamp(1, MAX_OUTSTANDING);
        Flights {
            slots: vec![Slot::default(); count],
            // Popped from the end: slot 0 goes first.
            free: (0..count as u16).rev().collect(),
            timeout,
            tally: Tally::default(),
        }
    }

    pub fn in_flight(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// Takes a free slot for a query sent at `now`: its message ID, or None when all are busy.
    pub fn depart(&mut self, now: Instant) -> Option<u16> {
        let index = self.free.pop()?;
        let slot = &mut self.slots[usize::from(index)];
        slot.generation = slot.generation.wrapping_add(1) & 0xf;
        slot.sent = Some(now);
        self.tally.sent += 1;
        Some(u16::from(slot.generation) << SLOT_BITS | index)
    }

    /// Gives back the slot of a query that was not sent after all.
    pub fn cancel(&mut self, id: u16) {
        let index = id & SLOT_MASK;
        if let Some(slot) = self.slots.get_mut(usize::from(index))
            && slot.sent.take().is_some()
        {
            self.tally.sent -= 1;
            self.free.push(index);
        }
    }

    /// Counts `reply` (received at `now`) against its query, if it is one in flight.
    pub fn arrive(&mut self, reply: &[u8], now: Instant) {
        let [id_high, id_low, _, flags_low, ..] = *reply else {
            self.tally.unexpected += 1;
            return;
        };
        let id = u16::from_be_bytes([id_high, id_low]);
        let index = id & SLOT_MASK;
        let generation = (id >> SLOT_BITS) as u8;
        match self.slots.get_mut(usize::from(index)) {
            Some(slot) if slot.generation == generation && slot.sent.is_some() => {
                let sent = slot.sent.take().unwrap_or(now);
                self.free.push(index);
                self.tally
                    .record(now.saturating_duration_since(sent), flags_low);
            }
            _ => self.tally.unexpected += 1,
        }
    }

    /// Counts as lost every query older than the timeout at `now`, freeing its slot.
    pub fn expire(&mut self, now: Instant) {
        for (index, slot) in self.slots.iter_mut().enumerate() {
            if let Some(sent) = slot.sent
                && now.saturating_duration_since(sent) >= self.timeout
            {
                slot.sent = None;
                self.free.push(index as u16);
                self.tally.lost += 1;
            }
        }
    }

    /// Counts every query still in flight as lost (the run is over).
    pub fn abandon(&mut self) {
        for (index, slot) in self.slots.iter_mut().enumerate() {
            if slot.sent.take().is_some() {
                self.free.push(index as u16);
                self.tally.lost += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(id: u16, rcode: u8) -> Vec<u8> {
        let mut bytes = id.to_be_bytes().to_vec();
        bytes.extend_from_slice(&[0x81, 0x80 | rcode, 0, 1, 0, 0, 0, 0, 0, 0]);
        bytes
    }

    #[test]
    fn a_reply_completes_its_query_and_frees_the_slot() {
        let start = Instant::now();
        let mut flights = Flights::new(2, Duration::from_secs(1));
        let first = flights.depart(start).unwrap();
        let second = flights.depart(start).unwrap();
        assert_eq!(flights.depart(start), None, "two slots only");
        flights.arrive(&reply(second, 3), start + Duration::from_millis(2));
        assert_eq!(flights.in_flight(), 1);
        assert_eq!(flights.tally.completed, 1);
        assert_eq!(flights.tally.rcodes[3], 1);
        assert!((flights.tally.average_latency() - 0.002).abs() < 1e-9);
        // The same reply again, and a reply to a slot's previous generation, are unexpected.
        flights.arrive(&reply(second, 0), start);
        let reused = flights.depart(start).unwrap();
        assert_eq!(reused & SLOT_MASK, second & SLOT_MASK);
        assert_ne!(reused, second);
        flights.arrive(&reply(second, 0), start);
        assert_eq!(flights.tally.unexpected, 2);
        flights.arrive(&reply(first, 0), start);
        flights.arrive(&reply(reused, 0), start);
        assert_eq!(flights.tally.completed, 3);
        assert_eq!(flights.in_flight(), 0);
        assert_eq!(flights.tally.sent, 3);
    }

    #[test]
    fn unanswered_queries_are_lost_after_the_timeout_or_at_the_end() {
        let start = Instant::now();
        let mut flights = Flights::new(3, Duration::from_secs(1));
        flights.depart(start).unwrap();
        flights.depart(start + Duration::from_millis(900)).unwrap();
        let unsent = flights.depart(start).unwrap();
        flights.cancel(unsent);
        flights.expire(start + Duration::from_millis(1000));
        assert_eq!((flights.tally.lost, flights.in_flight()), (1, 1));
        flights.abandon();
        assert_eq!(
            (flights.tally.lost, flights.in_flight(), flights.tally.sent),
            (2, 0, 2)
        );
        flights.arrive(&[1, 2, 3], start);
        assert_eq!(flights.tally.unexpected, 1, "a runt is not a reply");
    }
}
