//! The network between the store and the cloud: each message gets a delay (2–80 ms, or 1–12 s
//! when slow), may be lost or duplicated, and is lost in a partition. Independent delays reorder
//! messages. Once the run heals the network ([`Network::heal`]) every message arrives, fast.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::options::Faults;

/// Counts of what the network did to messages.
#[derive(Debug, Default, Clone, Copy)]
pub struct NetStats {
    pub lost: u64,
    pub duplicated: u64,
    pub slow: u64,
    pub partitioned: u64,
    pub partitions: u64,
}

/// The link's state.
#[derive(Debug)]
pub struct Network {
    faults: Faults,
    /// Until when (simulated ms) the store is cut off from the cloud.
    partition_until: u64,
    healed: bool,
    pub stats: NetStats,
}

impl Network {
    /// A link with these fault rates.
    pub fn new(faults: &Faults) -> Network {
        Network {
            faults: faults.clone(),
            partition_until: 0,
            healed: false,
            stats: NetStats::default(),
        }
    }

    /// No more faults: every message from now on arrives, and the partition ends.
    pub fn heal(&mut self) {
        self.healed = true;
        self.partition_until = 0;
    }

    /// Whether the store and the cloud are cut off at `now_ms`.
    pub fn partitioned(&self, now_ms: u64) -> bool {
        !self.healed && now_ms < self.partition_until
    }

    /// Perhaps starts a partition, given `elapsed_ms` since the last chance; returns its length.
    pub fn maybe_partition(
        &mut self,
        rng: &mut ChaCha8Rng,
        now_ms: u64,
        elapsed_ms: u64,
    ) -> Option<u64> {
        if self.healed || self.faults.partition_per_sec <= 0.0 || self.partitioned(now_ms) {
            return None;
        }
        let chance = (self.faults.partition_per_sec * elapsed_ms as f64 / 1000.0).min(1.0);
        if !rng.random_bool(chance) {
            return None;
        }
        let length = rng.random_range(1_000..=90_000);
        self.partition_until = now_ms + length;
        self.stats.partitions += 1;
        Some(length)
    }

    /// The delays (ms) after which the copies of a message sent at `now_ms` arrive: none when it
    /// is lost, two when duplicated.
    pub fn send(&mut self, rng: &mut ChaCha8Rng, now_ms: u64) -> Vec<u64> {
        if self.healed {
            return vec![rng.random_range(2..=20)];
        }
        if self.partitioned(now_ms) {
            self.stats.partitioned += 1;
            return Vec::new();
        }
        if rng.random_bool(self.faults.loss) {
            self.stats.lost += 1;
            return Vec::new();
        }
        let copies = if rng.random_bool(self.faults.duplicate) {
            self.stats.duplicated += 1;
            2
        } else {
            1
        };
        (0..copies)
            .map(|_| {
                if rng.random_bool(self.faults.slow) {
                    self.stats.slow += 1;
                    rng.random_range(1_000..=12_000)
                } else {
                    rng.random_range(2..=80)
                }
            })
            .collect()
    }

    /// Whether a message arriving at `now_ms` gets through (not in a partition).
    pub fn arrives(&mut self, now_ms: u64) -> bool {
        if self.partitioned(now_ms) {
            self.stats.partitioned += 1;
            return false;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn a_partition_drops_everything_and_a_healed_link_nothing() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let faults = Faults {
            partition_per_sec: 1.0,
            ..Faults::none()
        };
        let mut net = Network::new(&faults);
        let length = net.maybe_partition(&mut rng, 0, 1_000).unwrap();
        assert!(net.send(&mut rng, length - 1).is_empty());
        assert!(!net.arrives(length - 1));
        assert_eq!(net.send(&mut rng, length).len(), 1);
        net.maybe_partition(&mut rng, length, 1_000).unwrap();
        net.heal();
        assert!(net.arrives(length + 1));
        assert_eq!(net.send(&mut rng, length + 1).len(), 1);
    }

    #[test]
    fn losses_and_duplicates_follow_their_rates() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let faults = Faults {
            loss: 0.5,
            duplicate: 0.5,
            ..Faults::none()
        };
        let mut net = Network::new(&faults);
        let copies: usize = (0..1_000).map(|_| net.send(&mut rng, 0).len()).sum();
        assert!((600..900).contains(&copies), "{copies} copies of 1000");
        assert!(net.stats.lost > 400 && net.stats.duplicated > 150);
    }
}
