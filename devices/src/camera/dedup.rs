//! Dropping repeats (pure): a camera sees the same phone in every frame, but the lane wants one
//! scan, and another one only if the shopper is still holding it up a window later.

use std::collections::HashMap;
use std::time::Duration;

/// Codes remembered at most; beyond this the oldest are forgotten first.
const MAX_REMEMBERED: usize = 256;

/// Admits a code unless the same code was admitted less than `window` ago.
///
/// Time is whatever monotonic clock the caller supplies as a [`Duration`] since its own start: the
/// video's clock for a file, elapsed wall time for a live camera. So a code held in view for
/// many frames yields one scan per window.
#[derive(Debug, Clone)]
pub struct Dedup {
    window: Duration,
    last: HashMap<String, Duration>,
}

impl Dedup {
    /// A filter with the given repeat window (zero admits everything).
    pub fn new(window: Duration) -> Self {
        Self {
            window,
            last: HashMap::new(),
        }
    }

    /// The repeat window.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// True when `code` should be emitted at `now`; it is then remembered from `now`.
    /// A clock that goes backwards (a looped file on a fresh clock) admits the code again.
    pub fn admit(&mut self, code: &str, now: Duration) -> bool {
        if let Some(&at) = self.last.get(code)
            && now >= at
            && now - at < self.window
        {
            return false;
        }
        self.forget_before(now);
        self.last.insert(code.to_owned(), now);
        true
    }

    /// How many codes are remembered.
    pub fn len(&self) -> usize {
        self.last.len()
    }

    /// True when no code is remembered.
    pub fn is_empty(&self) -> bool {
        self.last.is_empty()
    }

    /// Forgets codes whose window has passed, and the oldest ones beyond [`MAX_REMEMBERED`].
    fn forget_before(&mut self, now: Duration) {
        let window = self.window;
        self.last
            .retain(|_, at| now < *at || now.saturating_sub(*at) < window);
        while self.last.len() >= MAX_REMEMBERED {
            let Some(oldest) = self
                .last
                .iter()
                .min_by_key(|(_, at)| **at)
                .map(|(code, _)| code.clone())
            else {
                break;
            };
            self.last.remove(&oldest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_code_held_in_view_yields_one_scan_per_window() {
        let mut d = Dedup::new(ms(3000));
        // 10 s at 30 frames per second.
        let admitted: Vec<u64> = (0..300u64)
            .map(|f| f * 1000 / 30)
            .filter(|&t| d.admit("2812345678", ms(t)))
            .collect();
        assert_eq!(admitted, vec![0, 3000, 6000, 9000]);
    }

    #[test]
    fn different_codes_do_not_hide_each_other() {
        let mut d = Dedup::new(ms(3000));
        assert!(d.admit("A", ms(0)));
        assert!(d.admit("B", ms(10)));
        assert!(!d.admit("A", ms(20)));
        assert!(!d.admit("B", ms(2999)));
        assert!(d.admit("A", ms(3000)));
        assert_eq!(d.len(), 2);
    }

    #[test]
    fn zero_window_admits_every_frame() {
        let mut d = Dedup::new(Duration::ZERO);
        assert!(d.admit("A", ms(0)));
        assert!(d.admit("A", ms(0)));
    }

    #[test]
    fn a_clock_going_backwards_admits_again() {
        let mut d = Dedup::new(ms(3000));
        assert!(d.admit("A", ms(5000)));
        assert!(d.admit("A", ms(100)));
        assert!(!d.admit("A", ms(200)));
    }

    #[test]
    fn memory_is_bounded() {
        let mut d = Dedup::new(Duration::from_secs(3600));
        for i in 0..10_000u64 {
            assert!(d.admit(&format!("code-{i}"), ms(i)));
        }
        assert!(d.len() <= MAX_REMEMBERED);
        // The most recent code is still remembered.
        assert!(!d.admit("code-9999", ms(10_000)));
    }
}
