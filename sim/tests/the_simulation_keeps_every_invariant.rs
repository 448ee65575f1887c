//! The simulation as CI runs it: deterministic (the same seed, the same trace), selling in a
//! healthy store, and 100,000 checkouts under faults with every invariant kept.

use std::time::Instant;

use omo_sim::{Faults, SimOptions};

fn options(seed: u64, checkouts: u64) -> SimOptions {
    SimOptions {
        seed,
        checkouts,
        ..SimOptions::default()
    }
}

#[test]
fn the_same_seed_replays_the_same_trace() {
    let first = omo_sim::run(&options(7, 600)).unwrap_or_else(|f| panic!("{f}"));
    let again = omo_sim::run(&options(7, 600)).unwrap_or_else(|f| panic!("{f}"));
    let other = omo_sim::run(&options(8, 600)).unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(first.trace_hash, again.trace_hash);
    assert_eq!(first.steps, again.steps);
    assert_eq!(first.payments, again.payments);
    assert_eq!(first.faults, again.faults);
    assert_eq!(first.simulated, again.simulated);
    assert_ne!(first.trace_hash, other.trace_hash);
    // Faults were injected, crashes happened: the run was not a quiet one.
    assert!(first.edge_crashes + first.cloud_crashes > 0, "{first}");
    assert!(first.faults.get("message lost").copied().unwrap_or(0) > 0, "{first}");
}

#[test]
fn a_healthy_store_sells_every_basket_it_can() {
    let report = omo_sim::run(&SimOptions {
        faults: Faults::none(),
        ..options(3, 500)
    })
    .unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(report.checkouts, 500);
    assert_eq!(report.edge_crashes + report.cloud_crashes, 0);
    assert_eq!(report.sales + report.abandoned, 500, "{report}");
    // Nobody walks away in a healthy store: a shopper gives up only after three declined codes
    // (the nearly empty wallets, or a code a shopper with the same wallet used a moment ago).
    let declined: u64 = report
        .payments
        .iter()
        .filter(|(status, _)| status.starts_with("DECLINED"))
        .map(|(_, n)| n)
        .sum();
    assert!(report.abandoned * 3 <= declined, "{report}");
    assert_eq!(report.payments.get("SUCCEEDED").copied(), Some(report.sales));
}

/// 100,000 checkouts: four seeds of 25,000 on as many threads (each run is single-threaded and
/// deterministic on its own; the machine has two cores).
#[test]
fn a_hundred_thousand_checkouts_under_faults_keep_every_invariant() {
    let started = Instant::now();
    let runs: Vec<_> = (0..4u64)
        .map(|i| std::thread::spawn(move || omo_sim::run(&options(1_000 + i, 25_000))))
        .collect();
    let mut checkouts = 0;
    for run in runs {
        let report = run
            .join()
            .expect("a simulation thread panicked")
            .unwrap_or_else(|failure| panic!("{failure}"));
        assert_eq!(report.checkouts, 25_000);
        checkouts += report.checkouts;
        eprintln!("{report}\n");
    }
    assert_eq!(checkouts, 100_000);
    eprintln!(
        "100,000 checkouts in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
