//! Benchmark: 32 lanes scanning at once on one edge (`cargo bench --bench lanes`).
//!
//! Runs a real store (embedded broker, `omo cloud`, `omo edge`, release build) with a scanner
//! simulator per lane on a pseudo-terminal, and measures:
//! - latency from a scan's last byte written on the pty to the lane's updated state arriving on
//!   the edge's live event stream (`/api/events`), p50/p99, all lanes scanning concurrently;
//! - the edge's peak memory (VmHWM);
//! - checkouts per second end to end (scan, pay over gRPC, gate, back to idle), all lanes at once.
//!
//! Under `cargo test --all-targets` it only checks that it starts (pass `--bench` to measure).

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use support::BrokerKind;
use support::store::TestStore;
use tokio::sync::mpsc;

const LANES: usize = 32;
/// Pens per lane in the latency run: 25 x 3.50 stays under the wallet's no-confirmation limit.
const SCANS_PER_LANE: usize = 25;
const CHECKOUTS_PER_LANE: u64 = 5;

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("lanes benchmark: pass --bench to run it (cargo bench --bench lanes)");
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

/// Lane updates from the edge's live stream: (lane id, item count, completed).
async fn watch(url: String) -> mpsc::UnboundedReceiver<(String, u64, u64)> {
    let (tx, rx) = mpsc::unbounded_channel();
    let response = reqwest::get(url).await.unwrap();
    let mut body = response.bytes_stream();
    tokio::spawn(async move {
        let mut buffer = String::new();
        while let Some(Ok(chunk)) = body.next().await {
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let event: String = buffer.drain(..end + 2).collect();
                for line in event.lines() {
                    if let Some(data) = line.strip_prefix("data:")
                        && let Ok(v) = serde_json::from_str::<serde_json::Value>(data.trim())
                        && v["type"] == "lane"
                    {
                        let lane = v["lane_id"].as_str().unwrap_or_default().to_string();
                        let items = v["item_count"].as_u64().unwrap_or(0);
                        let completed = v["completed"].as_u64().unwrap_or(0);
                        let _ = tx.send((lane, items, completed));
                    }
                }
            }
        }
    });
    rx
}

async fn run() {
    let mut store = TestStore::start_with(
        BrokerKind::Embedded,
        LANES,
        "\n[weight_security]\nenabled = false\n",
    )
    .await;
    store.start_edge().await;
    let store = Arc::new(store);

    // Route the live stream to one channel per lane.
    let mut updates = watch(store.edge_url("/api/events")).await;
    let mut per_lane: HashMap<String, mpsc::UnboundedSender<(u64, u64)>> = HashMap::new();
    let mut receivers = Vec::new();
    for lane in &store.lanes {
        let (tx, rx) = mpsc::unbounded_channel();
        per_lane.insert(lane.id.clone(), tx);
        receivers.push(rx);
    }
    tokio::spawn(async move {
        while let Some((lane, items, completed)) = updates.recv().await {
            if let Some(tx) = per_lane.get(&lane) {
                let _ = tx.send((items, completed));
            }
        }
    });

    // 1. Scan-to-state latency, 32 lanes at once.
    let mut tasks = Vec::new();
    for (index, mut rx) in receivers.into_iter().enumerate() {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let lane = &store.lanes[index];
            let mut latencies = Vec::with_capacity(SCANS_PER_LANE);
            for n in 1..=SCANS_PER_LANE as u64 {
                let start = Instant::now();
                lane.scanner.scan("4006381333931").await.unwrap();
                let wrote = start.elapsed();
                loop {
                    let (items, _) = tokio::time::timeout(Duration::from_secs(10), rx.recv())
                        .await
                        .unwrap()
                        .unwrap();
                    if items >= n {
                        break;
                    }
                }
                latencies.push(start.elapsed() - wrote);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            (latencies, rx)
        }));
    }
    let mut all = Vec::new();
    let mut receivers = Vec::new();
    for task in tasks {
        let (latencies, rx) = task.await.unwrap();
        all.extend(latencies);
        receivers.push(rx);
    }
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    println!(
        "scan to state, {LANES} lanes x {SCANS_PER_LANE} scans: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        all.last().unwrap().as_secs_f64() * 1e3
    );

    // Empty the baskets: pay for them (one checkout each), then time full checkouts.
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (index, mut rx) in receivers.into_iter().enumerate() {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let lane = &store.lanes[index];
            for n in 1..=CHECKOUTS_PER_LANE + 1 {
                if n > 1 {
                    lane.scanner.scan("4006381333931").await.unwrap();
                    lane.scanner.scan("5901234123457").await.unwrap();
                }
                let wallet = store.enroll(10_000_000).await;
                // Let the scans land before the code (the first basket is the latency run's).
                if n > 1 {
                    loop {
                        let (items, _) = tokio::time::timeout(Duration::from_secs(30), rx.recv())
                            .await
                            .unwrap()
                            .unwrap();
                        if items >= 2 {
                            break;
                        }
                    }
                }
                lane.scanner.scan(&wallet.code()).await.unwrap();
                loop {
                    let (_, completed) = tokio::time::timeout(Duration::from_secs(30), rx.recv())
                        .await
                        .unwrap()
                        .unwrap();
                    if completed >= n {
                        break;
                    }
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let elapsed = started.elapsed();
    let checkouts = LANES as u64 * (CHECKOUTS_PER_LANE + 1);
    println!(
        "checkouts end to end, {LANES} lanes: {checkouts} in {:.1} s = {:.1} checkouts/s (enrolment of a wallet per checkout included)",
        elapsed.as_secs_f64(),
        checkouts as f64 / elapsed.as_secs_f64()
    );

    let pid = store.edge.as_ref().unwrap().pid();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let peak = status
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .unwrap_or("VmHWM: ?");
    println!(
        "edge peak memory ({LANES} lanes): {}",
        peak.trim_start_matches("VmHWM:").trim()
    );
}
