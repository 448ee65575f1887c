//! `omo rider --id ID`: a rider's client. It receives assignments on its dispatch topic, accepts
//! them, rides (simulated) to the store and each drop-off, and reports `picked_up`, `delivered`
//! and `location` on its events topic. Each assignment is printed as one JSON line, and so is each
//! cancellation of one (`"type":"cancelled"`, with the order id and the reason).
//!
//! The client itself lives in `omo_edge::delivery::rider`; this is its command line.

use omo_edge::delivery::geo::Position;
use omo_edge::delivery::rider::{RiderOptions, run_rider};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::cli::RiderArgs;

/// Runs the rider until Ctrl-C or SIGTERM.
pub async fn run(args: RiderArgs) -> anyhow::Result<()> {
    let mut options = RiderOptions::new(&args.id, &args.mqtt, Position::new(args.lat, args.lon));
    if !options.start.is_valid() {
        anyhow::bail!(
            "--lat/--lon ({}, {}) is not a position on earth",
            args.lat,
            args.lon
        );
    }
    options.password = args.password;
    options.speed_mps = args.speed.max(0.1);
    options.simulate = !args.no_simulate;
    options.accept = !args.no_accept;
    let cancel = CancellationToken::new();
    let (tx, mut assignments) = mpsc::unbounded_channel();
    let stop = cancel.clone();
    tokio::spawn(async move {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        stop.cancel();
    });
    tokio::spawn(async move {
        while let Some(assignment) = assignments.recv().await {
            println!("{assignment}");
        }
    });
    run_rider(options, Some(tx), cancel).await?;
    Ok(())
}

/// `omo up`'s simulated riders: `rider-1` ... `rider-{count}` around the store, until `cancel`;
/// each connects as its id, with its password from `passwords` when the broker wants one.
pub async fn run_simulated_riders(
    mqtt_url: String,
    store_lat: f64,
    store_lon: f64,
    count: usize,
    passwords: std::collections::HashMap<String, String>,
    cancel: CancellationToken,
) {
    omo_edge::delivery::rider::run_simulated_riders(
        mqtt_url,
        Position::new(store_lat, store_lon),
        count,
        6.0,
        move |id| passwords.get(id).cloned(),
        cancel,
    )
    .await
}
