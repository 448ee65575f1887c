//! The run's trace: every step written as one line into an FNV-1a 64 hash (so two runs of one
//! seed can be compared in one number), with the last few lines kept for a failure's report.
//! Lines carry the simulation's own ids (lanes, shoppers, orders), never the cloud's random
//! UUIDs, so the hash depends on the seed alone.

use std::collections::VecDeque;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// The hash of every line so far, and the tail.
#[derive(Debug)]
pub struct Trace {
    hash: u64,
    tail: VecDeque<String>,
    keep: usize,
}

impl Trace {
    /// An empty trace that keeps the last `keep` lines.
    pub fn new(keep: usize) -> Trace {
        Trace {
            hash: FNV_OFFSET,
            tail: VecDeque::with_capacity(keep + 1),
            keep,
        }
    }

    /// Adds one line (a newline is hashed after it).
    pub fn line(&mut self, line: String) {
        for byte in line.bytes().chain(std::iter::once(b'\n')) {
            self.hash ^= u64::from(byte);
            self.hash = self.hash.wrapping_mul(FNV_PRIME);
        }
        if self.keep > 0 {
            if self.tail.len() == self.keep {
                self.tail.pop_front();
            }
            self.tail.push_back(line);
        }
    }

    /// The hash so far.
    pub fn hash(&self) -> u64 {
        self.hash
    }

    /// The last lines, one per line.
    pub fn tail(&self) -> String {
        self.tail
            .iter()
            .map(|l| format!("  {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::Trace;

    #[test]
    fn the_same_lines_hash_the_same_and_order_matters() {
        let (mut a, mut b, mut c) = (Trace::new(2), Trace::new(0), Trace::new(0));
        for line in ["one", "two", "three"] {
            a.line(line.into());
            b.line(line.into());
        }
        for line in ["two", "one", "three"] {
            c.line(line.into());
        }
        assert_eq!(a.hash(), b.hash());
        assert_ne!(a.hash(), c.hash());
        assert_eq!(a.tail(), "  two\n  three");
    }
}
