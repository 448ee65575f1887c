//! The arguments of `omo sim`: a seeded, deterministic simulation of a store (see
//! docs/SIMULATION.md).

use clap::Args;

#[derive(Debug, Args)]
pub struct SimArgs {
    /// Seeds every random choice: the same seed and flags replay the same run, step for step.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Shoppers that come to the lanes (each one checkout, paid or abandoned).
    #[arg(long, default_value_t = 1_000)]
    pub checkouts: u64,
    /// Checkout lanes in the store.
    #[arg(long, default_value_t = 4)]
    pub lanes: usize,
    /// Shopper wallets in the cloud.
    #[arg(long, default_value_t = 256)]
    pub wallets: usize,
    /// A healthy store: no lost messages, crashes, partitions or shopper mistakes.
    #[arg(long)]
    pub no_faults: bool,
    /// Plant a bug in the lane's payment client model, to see the simulation catch it:
    /// `no-query-after-lost-answer` or `skip-query-before-cancel`.
    #[arg(long, value_name = "BUG")]
    pub planted_bug: Option<String>,
}
