//! Omo under a seeded, deterministic simulation: a whole store and its cloud on one thread, with
//! simulated shoppers, network, crashes and time. The real code runs wherever it is not IO: the
//! lane rules (`omo_edge::lane`), the scanner's and scales' codecs and the barcode parser, the lane's payment client
//! (`omo_edge::payment::Settle`), the runner's decisions (`omo_edge::checkout::plan`) over the
//! edge's real database, and the cloud's payment, wallet and ledger rules behind its real gRPC
//! service adapter on SQLite.
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`options`] | [`SimOptions`]: seed, checkouts, lanes, fault rates, the planted bug |
//! | [`report`] | [`Report`], [`Failure`] and the [`Invariant`]s |
//! | `queue` | simulated time: a priority queue of timed events |
//! | `net` | the network between store and cloud: delay, loss, duplication, reordering, partitions |
//! | `cloud` | the real cloud on an in-memory database and a manual clock; its crash and restart |
//! | `coupons` | campaigns through the cloud's catalog, claims, the coupons handed to the lane, their books |
//! | `payer` | the edge's payment client machine, with a planted bug laid over it if asked for |
//! | `edge` | the lane runner: decide, commit to the edge's database, act; crash, resume, drain the outbox |
//! | `goods` | the catalog and what each shopper will do |
//! | `shopper` / `people` | a shopper's data; what shoppers and the attendant do |
//! | `wire` | scans and scale readings as a device's bytes, read back by the devices' own codecs, with line noise |
//! | `world` | the event loop |
//! | `link` | the payment client wired to the network and the cloud |
//! | `oracle` / `invariants` | the facts followed; the checks after every step and at the end |
//! | `pin` | a run and its SQLite worker on one CPU (a speed-up only) |
//! | `trace` | the hash of every step, so a seed's run can be compared in one number |
//!
//! [`run`] is the one entry: the same options give the same trace, step for step.

mod cloud;
mod coupons;
mod edge;
mod goods;
mod invariants;
mod link;
mod net;
pub mod options;
mod oracle;
mod payer;
mod people;
mod pin;
mod queue;
pub mod report;
mod shopper;
mod trace;
mod wire;
mod world;

use std::time::{Duration, Instant};

pub use options::{Faults, PlantedBug, SimOptions};
pub use report::{Failure, Invariant, Report};

/// Runs one simulation: every checkout, then the healing, then the final checks. The run has a
/// thread of its own, kept on one CPU with the database's worker thread (see `pin`).
pub fn run(options: &SimOptions) -> Result<Report, Failure> {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name(format!("omo-sim-{}", options.seed))
            .spawn_scoped(scope, || {
                let pinned = pin::to_one_cpu();
                tracing::debug!(
                    seed = options.seed,
                    pinned = pinned.is_some(),
                    "simulation starts"
                );
                run_here(options)
            })
            .map_err(|e| Failure::Setup(format!("cannot start the simulation's thread: {e}")))?
            .join()
            .map_err(|_| Failure::Setup("the simulation's thread panicked".into()))?
    })
}

fn run_here(options: &SimOptions) -> Result<Report, Failure> {
    let started = Instant::now();
    let mut world = world::World::new(options)?;
    world.run()?;
    let mut faults = world.faults.clone();
    let net = world.net.stats;
    faults.insert("partition", net.partitions);
    faults.insert("message slow", net.slow);
    faults.insert("message lost in a partition", net.partitioned);
    Ok(Report {
        seed: options.seed,
        checkouts: world.started,
        sales: world.edge.facts.sales.len() as u64,
        abandoned: world.edge.facts.abandoned.len() as u64,
        payments: world.payments_by_status(),
        coupons_spent: world.coupons_spent,
        events_published: world.edge.facts.events_drained.len() as u64,
        faults,
        edge_crashes: world.edge_crashes,
        cloud_crashes: world.cloud_crashes,
        steps: world.step,
        simulated: Duration::from_millis(world.queue.now_ms()),
        wall: started.elapsed(),
        trace_hash: world.trace.hash(),
    })
}
