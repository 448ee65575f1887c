//! Latency from the last serial byte a scanner writes to the `ScannerEvent::Scan` the driver
//! delivers, over a real pseudo-terminal (`ScannerSim` -> `spawn_scanner`), compared with the
//! time the same bytes take on the wire at 9600 baud (10 bits a byte: start, 8 data, stop).
//!
//! A custom loop timed with `Instant`, not criterion: each scan is written from a plain thread,
//! stamped once the write returns, and stamped again when the event arrives on the runtime; the
//! next scan waits for the previous one, so nothing queues.
//!
//! `cargo bench -p omo-devices --bench scanner_latency` (2000 scans; `OMO_BENCH_SCANS=N` to
//! change). Under `cargo test` (no `--bench` argument) it runs 20 scans as a smoke test.

use std::sync::Arc;
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use omo_devices::health::DeviceStatus;
use omo_devices::scanner::{Framing, ScannerConfig, ScannerEvent, spawn_scanner};
use omo_devices::sim::ScannerSim;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const BAUD: f64 = 9600.0;
const BITS_PER_BYTE: f64 = 10.0;

/// What a lane scans: an EAN-13 and a payment code, each followed by CR.
const PAYLOADS: [&str; 2] = ["4006381333931", "281234567887654321"];

fn wire_time(bytes: usize) -> Duration {
    Duration::from_secs_f64(bytes as f64 * BITS_PER_BYTE / BAUD)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn us(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

fn main() {
    let benching = std::env::args().any(|a| a == "--bench");
    let scans: usize = if benching {
        std::env::var("OMO_BENCH_SCANS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(2000)
    } else {
        20
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (latencies, by_payload) = runtime.block_on(measure(scans));

    let mut sorted = latencies.clone();
    sorted.sort();
    let mean = sorted.iter().sum::<Duration>() / sorted.len().max(1) as u32;
    println!("scanner_latency: {scans} scans over a pty, last byte written -> ScannerEvent::Scan");
    println!(
        "  p50 {}  p90 {}  p99 {}  max {}  mean {}",
        us(percentile(&sorted, 50.0)),
        us(percentile(&sorted, 90.0)),
        us(percentile(&sorted, 99.0)),
        us(percentile(&sorted, 100.0)),
        us(mean)
    );
    for (payload, mut lat) in by_payload {
        lat.sort();
        let bytes = payload.len() + 1;
        println!(
            "  {payload:>18} + CR ({bytes} bytes): p50 {}  p99 {}; wire time at 9600 baud {}",
            us(percentile(&lat, 50.0)),
            us(percentile(&lat, 99.0)),
            us(wire_time(bytes)),
        );
    }
}

async fn measure(scans: usize) -> (Vec<Duration>, Vec<(&'static str, Vec<Duration>)>) {
    let sim = Arc::new(ScannerSim::new(Framing::Cr).expect("pty"));
    let mut config = ScannerConfig::new(sim.port_path());
    config.framing = Framing::Cr;
    let (tx, mut rx) = mpsc::channel(64);
    let cancel = CancellationToken::new();
    let driver = spawn_scanner(config, tx, cancel.clone());
    loop {
        match rx.recv().await.expect("driver alive") {
            ScannerEvent::Health(h) if h.status == DeviceStatus::Online => break,
            _ => {}
        }
    }

    // The writer thread: one scan at a time, stamped when the last byte is in the pty.
    let (stamp_tx, stamp_rx) = std_mpsc::channel::<(usize, Instant)>();
    let (go_tx, go_rx) = std_mpsc::channel::<()>();
    let writer_sim = Arc::clone(&sim);
    let writer = std::thread::spawn(move || {
        for i in 0..scans {
            if go_rx.recv().is_err() {
                return;
            }
            let payload = PAYLOADS[i % PAYLOADS.len()];
            let mut bytes = payload.as_bytes().to_vec();
            bytes.push(b'\r');
            writer_sim.send_raw_blocking(&bytes).expect("write");
            let written = Instant::now();
            if stamp_tx.send((i, written)).is_err() {
                return;
            }
        }
    });

    let mut latencies = Vec::with_capacity(scans);
    let mut by_payload: Vec<(&'static str, Vec<Duration>)> =
        PAYLOADS.iter().map(|p| (*p, Vec::new())).collect();
    // Let the line settle before measuring.
    tokio::time::sleep(Duration::from_millis(100)).await;
    for i in 0..scans {
        go_tx.send(()).expect("writer alive");
        let arrived = match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
            Ok(Some(ScannerEvent::Scan(frame))) => {
                let at = Instant::now();
                assert_eq!(frame.raw, PAYLOADS[i % PAYLOADS.len()]);
                at
            }
            Ok(Some(ScannerEvent::Garbage { reason })) => panic!("garbage: {reason}"),
            Ok(Some(ScannerEvent::Health(h))) => panic!("health changed: {h:?}"),
            Ok(None) => panic!("driver stopped"),
            Err(_) => panic!("scan {i} did not arrive"),
        };
        let (n, written) = stamp_rx.recv().expect("writer stamp");
        assert_eq!(n, i);
        let latency = arrived.saturating_duration_since(written);
        latencies.push(latency);
        by_payload[i % PAYLOADS.len()].1.push(latency);
    }
    drop(go_tx);
    writer.join().expect("writer");
    cancel.cancel();
    let _ = driver.await;
    (latencies, by_payload)
}
