//! Weight security on the bagging scale (pure).
//!
//! Every scanned item that has a weight is expected to add it, within its tolerance, to the next
//! stable weight change. The [`BaggingArea`] keeps the weight the lane accounts for and the items
//! still awaited, and turns each stable reading (and the passing of time) into verdicts:
//!
//! | verdict | when |
//! | --- | --- |
//! | bagged | the change matches an awaited item, or all awaited items together |
//! | weight mismatch | a weight arrives for an awaited item but does not match it |
//! | unexpected item | weight arrives with no scan to explain it (after a short grace, since a shopper may bag first and scan a moment later) |
//! | item removed | the weight drops below what is accounted for |
//! | item not bagged | a scanned item's weight has not arrived in time |
//! | own bag | the shopper announced their own bag and a light weight arrived |
//!
//! Changes within the noise band (a drifting scale) are ignored. Weight alerts clear themselves
//! when the scale returns to the weight the lane accounts for.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// The lane's weight rules, from the edge config (`[lane_rules]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WeightRules {
    /// Check weights at all (a lane without a bagging scale turns this off).
    pub enabled: bool,
    /// Changes up to this many grams are scale drift, not goods.
    pub noise_g: i64,
    /// A scanned item must reach the scale within this many seconds.
    pub bagging_timeout_secs: i64,
    /// Weight with no scan is tolerated this long (milliseconds) for a scan to explain it.
    pub grace_ms: i64,
    /// The heaviest own bag accepted without an attendant, in grams.
    pub own_bag_max_g: i64,
    /// Tolerance used when the catalog gives none, in grams.
    pub default_tolerance_g: i64,
    /// Learned weights replace the catalog's once a product has this many observations.
    pub learn_after: u32,
    /// Weight above the lane's empty bagging area (in grams) that counts as goods left behind
    /// when a basket opens or the lane comes back to idle.
    pub empty_tolerance_g: i64,
}

impl Default for WeightRules {
    fn default() -> Self {
        WeightRules {
            enabled: true,
            noise_g: 5,
            bagging_timeout_secs: 10,
            grace_ms: 1500,
            own_bag_max_g: 300,
            default_tolerance_g: 10,
            learn_after: 10,
            empty_tolerance_g: 20,
        }
    }
}

/// An item scanned and not yet seen on the scale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Awaited {
    pub line: u32,
    pub gtin: String,
    pub expected_g: i64,
    pub tolerance_g: i64,
    pub deadline: DateTime<Utc>,
}

/// Weight on the scale that nothing explains yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Loose {
    pub grams: i64,
    pub since: DateTime<Utc>,
}

/// What the scale says about the basket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Bagged {
        line: u32,
        gtin: String,
        observed_g: i64,
    },
    Mismatch {
        line: u32,
        expected_g: i64,
        observed_g: i64,
    },
    Unexpected {
        grams: i64,
    },
    Removed {
        grams: i64,
    },
    NotBagged {
        line: u32,
    },
    OwnBag {
        grams: i64,
    },
    /// The scale is back at the accounted weight: open weight alerts may close.
    Settled,
}

/// The bagging scale's accounting for one session.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaggingArea {
    /// The weight the lane accounts for: what was there at the start, plus every bagged item.
    pub accounted_g: i64,
    /// The last stable reading.
    pub stable_g: i64,
    pub awaited: Vec<Awaited>,
    pub loose: Option<Loose>,
    /// The shopper pressed "I use my own bag".
    pub own_bag_allowed: bool,
    /// An item was voided: the next stable reading (the attendant taking it away) is accepted.
    #[serde(default)]
    pub absorb_next: bool,
}

impl BaggingArea {
    /// Starts accounting from what is on the scale now.
    pub fn start(stable_g: i64) -> BaggingArea {
        BaggingArea {
            accounted_g: stable_g,
            stable_g,
            ..BaggingArea::default()
        }
    }

    /// A scanned item with a weight: awaited on the scale (or matched to loose weight already there).
    pub fn expect(&mut self, awaited: Awaited) -> Vec<Verdict> {
        if let Some(loose) = &self.loose
            && (loose.grams - awaited.expected_g).abs() <= awaited.tolerance_g
        {
            let observed_g = loose.grams;
            self.accounted_g += observed_g;
            self.loose = None;
            return vec![Verdict::Bagged {
                line: awaited.line,
                gtin: awaited.gtin,
                observed_g,
            }];
        }
        self.awaited.push(awaited);
        Vec::new()
    }

    /// A new stable reading.
    pub fn on_stable(
        &mut self,
        grams: i64,
        now: DateTime<Utc>,
        rules: &WeightRules,
    ) -> Vec<Verdict> {
        self.stable_g = grams;
        if std::mem::take(&mut self.absorb_next) {
            self.accounted_g = grams;
            self.loose = None;
            return vec![Verdict::Settled];
        }
        let delta = grams - self.accounted_g;
        if delta.abs() <= rules.noise_g {
            self.loose = None;
            return vec![Verdict::Settled];
        }
        if delta < 0 {
            self.loose = None;
            return vec![Verdict::Removed { grams: -delta }];
        }
        // The awaited items this change is: the set whose expected weights best add up to it.
        if let Some(set) = best_match(&self.awaited, delta) {
            self.accounted_g = grams;
            self.loose = None;
            let single = set.len() == 1;
            let mut bagged = Vec::new();
            for index in set.into_iter().rev() {
                let item = self.awaited.remove(index);
                bagged.push(Verdict::Bagged {
                    observed_g: if single { delta } else { item.expected_g },
                    line: item.line,
                    gtin: item.gtin,
                });
            }
            bagged.reverse();
            return bagged;
        }
        if let Some(first) = self.awaited.first() {
            return vec![Verdict::Mismatch {
                line: first.line,
                expected_g: first.expected_g,
                observed_g: delta,
            }];
        }
        if self.own_bag_allowed && delta <= rules.own_bag_max_g {
            self.own_bag_allowed = false;
            self.accounted_g = grams;
            return vec![Verdict::OwnBag { grams: delta }];
        }
        // Unexplained weight: wait a moment for its scan.
        match &mut self.loose {
            Some(loose) => loose.grams = delta,
            None => {
                self.loose = Some(Loose {
                    grams: delta,
                    since: now,
                })
            }
        }
        Vec::new()
    }

    /// Time passes: items not bagged in time, loose weight past its grace.
    pub fn on_tick(&mut self, now: DateTime<Utc>, rules: &WeightRules) -> Vec<Verdict> {
        let mut verdicts = Vec::new();
        if let Some(loose) = &self.loose
            && now - loose.since >= Duration::milliseconds(rules.grace_ms)
        {
            verdicts.push(Verdict::Unexpected { grams: loose.grams });
            self.loose = None;
        }
        let (late, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.awaited)
            .into_iter()
            .partition(|a| now >= a.deadline);
        self.awaited = waiting;
        verdicts.extend(
            late.into_iter()
                .map(|a| Verdict::NotBagged { line: a.line }),
        );
        verdicts
    }

    /// An attendant checked the bagging area: what is on the scale now is what the lane accounts
    /// for, and nothing is awaited any more.
    pub fn resync(&mut self) {
        self.accounted_g = self.stable_g;
        self.awaited.clear();
        self.loose = None;
    }

    /// Forget an item that was voided before it reached the scale.
    pub fn forget(&mut self, line: u32) {
        self.awaited.retain(|a| a.line != line);
    }

    /// The earliest moment something is due (for the runner's timer).
    pub fn next_deadline(&self, rules: &WeightRules) -> Option<DateTime<Utc>> {
        let loose = self
            .loose
            .as_ref()
            .map(|l| l.since + Duration::milliseconds(rules.grace_ms));
        self.awaited.iter().map(|a| a.deadline).chain(loose).min()
    }
}

/// The subset of `awaited` (by index, ascending) whose expected weights sum closest to `delta`
/// within their summed tolerance; the first 12 awaited items are considered.
fn best_match(awaited: &[Awaited], delta: i64) -> Option<Vec<usize>> {
    let n = awaited.len().min(12);
    let mut best: Option<(i64, usize, u32)> = None;
    for mask in 1u32..(1 << n) {
        let (mut sum, mut tolerance) = (0, 0);
        for (i, item) in awaited.iter().enumerate().take(n) {
            if mask & (1 << i) != 0 {
                sum += item.expected_g;
                tolerance += item.tolerance_g;
            }
        }
        let error = (delta - sum).abs();
        if error > tolerance {
            continue;
        }
        let size = mask.count_ones() as usize;
        // Smallest error wins; on a tie, the larger set (fewer items left awaited).
        let better = match best {
            None => true,
            Some((e, s, _)) => error < e || (error == e && size > s),
        };
        if better {
            best = Some((error, size, mask));
        }
    }
    best.map(|(_, _, mask)| (0..n).filter(|i| mask & (1 << i) != 0).collect())
}

/// Learned weights of one product (Welford's running mean and variance).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct WeightStats {
    pub n: u32,
    pub mean_g: f64,
    pub m2: f64,
}

impl WeightStats {
    /// Adds one observation.
    pub fn observe(&mut self, grams: i64) {
        let x = grams as f64;
        self.n += 1;
        let delta = x - self.mean_g;
        self.mean_g += delta / f64::from(self.n);
        self.m2 += delta * (x - self.mean_g);
    }

    /// Sample standard deviation in grams.
    pub fn stddev_g(&self) -> f64 {
        if self.n < 2 {
            0.0
        } else {
            (self.m2 / f64::from(self.n - 1)).sqrt()
        }
    }

    /// The expected weight and tolerance to use: the catalog's until enough observations, then
    /// the learned mean with three standard deviations (never tighter than the noise band, never
    /// looser than four times the catalog's tolerance).
    pub fn expectation(
        &self,
        catalog_g: i64,
        catalog_tolerance_g: i64,
        rules: &WeightRules,
    ) -> (i64, i64) {
        if self.n < rules.learn_after {
            return (catalog_g, catalog_tolerance_g);
        }
        let tolerance = (3.0 * self.stddev_g()).ceil() as i64;
        let tolerance = tolerance.clamp(
            rules.noise_g + 1,
            (catalog_tolerance_g * 4).max(rules.noise_g + 1),
        );
        (self.mean_g.round() as i64, tolerance)
    }
}

#[cfg(test)]
mod tests;
