//! What a simulation run is asked to do: the seed, how many checkouts on how many lanes, the rate
//! of every fault, and the planted bug a test switches on to prove the simulation finds it.
//!
//! Everything a run does follows from these options: the same options replay the same run, step
//! for step ([`SimOptions::replay_command`] prints the command line that does it).

/// Probabilities and sizes of the faults injected (each probability is per occasion: per
/// message, per scan, per step).
#[derive(Debug, Clone, PartialEq)]
pub struct Faults {
    /// A message between lane and cloud is lost (request or reply, each on its own).
    pub loss: f64,
    /// A message is delivered twice (each copy with its own delay).
    pub duplicate: f64,
    /// A message is slow: 1–12 s instead of 2–80 ms (so later messages overtake it, and an
    /// answer can miss the lane's 5 s time-out).
    pub slow: f64,
    /// Per simulated second, the chance that a partition between the store and the cloud begins
    /// (it lasts 1–90 s; every message sent or arriving during it is lost).
    pub partition_per_sec: f64,
    /// Per step, the chance the edge crashes (every lane dropped, resumed from its snapshot).
    pub edge_crash: f64,
    /// Per step, the chance the cloud crashes (a new context on the same database).
    pub cloud_crash: f64,
    /// Per scan, the chance the scanner delivers garbage instead of the code.
    pub bad_scan: f64,
    /// Per frame on a serial line (a scan, a scale reply), the chance line noise comes first: a
    /// garbled frame before the scan, bytes before the scale's reply.
    pub line_noise: f64,
    /// Per scale reading, the chance the scale reports motion before its stable weight.
    pub scale_motion: f64,
    /// Per scale reading, the chance the scale is unplugged: the reading comes 2–15 s late, when
    /// its driver has reopened the port.
    pub scale_unplug: f64,
    /// Per bagged item, the chance its weight is off by more than the tolerance.
    pub weight_off: f64,
    /// Per payment, the chance the shopper shows a wrong payment code.
    pub wrong_code: f64,
    /// Per checkout, the chance the shopper walks away with the basket unpaid.
    pub abandon: f64,
    /// Per checkout, the chance the shopper brings their own bag.
    pub own_bag: f64,
    /// Per PENDING confirmation, the chance the shopper confirms too late (after the lane's
    /// 120 s give-up) or rejects it.
    pub slow_confirm: f64,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            loss: 0.03,
            duplicate: 0.02,
            slow: 0.03,
            partition_per_sec: 0.000_2,
            edge_crash: 0.000_5,
            cloud_crash: 0.000_3,
            bad_scan: 0.03,
            line_noise: 0.02,
            scale_motion: 0.05,
            scale_unplug: 0.005,
            weight_off: 0.01,
            wrong_code: 0.03,
            abandon: 0.02,
            own_bag: 0.1,
            slow_confirm: 0.15,
        }
    }
}

impl Faults {
    /// The first rate that is not a probability (0 to 1), by name.
    pub fn invalid(&self) -> Option<&'static str> {
        [
            ("loss", self.loss),
            ("duplicate", self.duplicate),
            ("slow", self.slow),
            ("partition_per_sec", self.partition_per_sec),
            ("edge_crash", self.edge_crash),
            ("cloud_crash", self.cloud_crash),
            ("bad_scan", self.bad_scan),
            ("line_noise", self.line_noise),
            ("scale_motion", self.scale_motion),
            ("scale_unplug", self.scale_unplug),
            ("weight_off", self.weight_off),
            ("wrong_code", self.wrong_code),
            ("abandon", self.abandon),
            ("own_bag", self.own_bag),
            ("slow_confirm", self.slow_confirm),
        ]
        .into_iter()
        .find(|(_, p)| !(0.0..=1.0).contains(p))
        .map(|(name, _)| name)
    }

    /// No fault at all (a healthy store).
    pub fn none() -> Faults {
        Faults {
            loss: 0.0,
            duplicate: 0.0,
            slow: 0.0,
            partition_per_sec: 0.0,
            edge_crash: 0.0,
            cloud_crash: 0.0,
            bad_scan: 0.0,
            line_noise: 0.0,
            scale_motion: 0.0,
            scale_unplug: 0.0,
            weight_off: 0.0,
            wrong_code: 0.0,
            abandon: 0.0,
            own_bag: 0.0,
            slow_confirm: 0.0,
        }
    }
}

/// A bug planted on purpose over the edge's payment rules in the simulation (never in the
/// shipped code: `payer.rs` replaces one decision of `omo_edge::payment::Settle`), so a test can
/// prove the invariants catch it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlantedBug {
    /// After a lost or timed-out Authorize the lane neither queries nor cancels: it tells the
    /// shopper the payment failed. A charge whose answer was lost is then taken while the lane
    /// asks for a new code: a paid basket lost, and often the basket charged twice.
    NoQueryAfterLostAnswer,
    /// After a lost Authorize the lane cancels at once without querying first. The cloud's
    /// cancel refunds a charge within its window, so no invariant should break: the simulation
    /// must stay green (a test asserts it, so the invariants are not simply trigger-happy).
    SkipQueryBeforeCancel,
}

impl PlantedBug {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            PlantedBug::NoQueryAfterLostAnswer => "no-query-after-lost-answer",
            PlantedBug::SkipQueryBeforeCancel => "skip-query-before-cancel",
        }
    }

    /// The bug of a command-line name.
    pub fn from_name(name: &str) -> Option<PlantedBug> {
        [
            PlantedBug::NoQueryAfterLostAnswer,
            PlantedBug::SkipQueryBeforeCancel,
        ]
        .into_iter()
        .find(|b| b.name() == name)
    }
}

/// One simulation run.
#[derive(Debug, Clone, PartialEq)]
pub struct SimOptions {
    /// Seeds every random choice.
    pub seed: u64,
    /// Shoppers that come to the lanes (each is one checkout, paid or abandoned).
    pub checkouts: u64,
    /// Checkout lanes in the store.
    pub lanes: usize,
    /// Shopper wallets in the cloud (each shopper pays with one of them).
    pub wallets: usize,
    /// The faults injected.
    pub faults: Faults,
    /// The full ledger proof (`ledger_check` over every row) runs every this many steps, and at
    /// the end; the touched wallet's balance against its ledger account is checked every step.
    pub audit_every: u64,
    /// A bug planted in the lane's payment client model.
    pub planted_bug: Option<PlantedBug>,
    /// Keep this many of the last trace lines for a failure's report.
    pub trace_tail: usize,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            seed: 1,
            checkouts: 1_000,
            lanes: 4,
            wallets: 256,
            faults: Faults::default(),
            audit_every: 50_000,
            planted_bug: None,
            trace_tail: 12,
        }
    }
}

impl SimOptions {
    /// The command line that replays this run exactly (flags only where they differ from the
    /// defaults `omo sim` has).
    pub fn replay_command(&self) -> String {
        let defaults = SimOptions::default();
        let mut command = format!(
            "omo sim --seed {} --checkouts {}",
            self.seed, self.checkouts
        );
        if self.lanes != defaults.lanes {
            command.push_str(&format!(" --lanes {}", self.lanes));
        }
        if self.wallets != defaults.wallets {
            command.push_str(&format!(" --wallets {}", self.wallets));
        }
        if self.faults == Faults::none() {
            command.push_str(" --no-faults");
        } else if self.faults != defaults.faults {
            command.push_str(" (with the test's own fault rates)");
        }
        if let Some(bug) = self.planted_bug {
            command.push_str(&format!(" --planted-bug {}", bug.name()));
        }
        command
    }
}
