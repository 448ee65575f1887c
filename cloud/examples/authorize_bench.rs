//! Authorize throughput and latency at 1, 16 and 128 concurrent callers, beside a no-op tonic
//! RPC (the gRPC health check) measured in the same run: the ceiling for this machine.
//!
//! `cargo run --release -p omo-cloud --example authorize_bench` benchmarks SQLite (a temporary
//! file); set `OMO_BENCH_POSTGRES_URL=postgres://...` (an empty database) to add PostgreSQL.
//! `OMO_BENCH_OPS` sets the calls per measurement (default 4000). Prints a Markdown table.

use std::sync::Arc;
use std::time::{Duration, Instant};

use omo_cloud::{Cloud, CloudConfig, ManualClock, paycode};
use omo_proto::payment::AuthorizeRequest;
use omo_proto::payment::payment_service_client::PaymentServiceClient;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

struct Row {
    what: String,
    callers: usize,
    ops: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Row {
    fn print(&mut self) {
        self.latencies.sort();
        let pct = |p: f64| {
            let i = ((self.latencies.len() as f64 * p).ceil() as usize)
                .clamp(1, self.latencies.len())
                - 1;
            self.latencies[i].as_secs_f64() * 1000.0
        };
        println!(
            "| {} | {} | {} | {:.0} | {:.2} | {:.2} |",
            self.what,
            self.callers,
            self.ops,
            self.ops as f64 / self.elapsed.as_secs_f64(),
            pct(0.50),
            pct(0.99)
        );
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let ops: usize = std::env::var("OMO_BENCH_OPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4000);
    let dir = tempfile::tempdir()?;
    let mut backends = vec![(
        "SQLite",
        format!("sqlite://{}", dir.path().join("bench.db").display()),
    )];
    if let Ok(url) = std::env::var("OMO_BENCH_POSTGRES_URL") {
        backends.push(("PostgreSQL", url));
    }
    println!("| what | callers | calls | calls/s | p50 ms | p99 ms |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for (name, url) in backends {
        let config = CloudConfig {
            database_url: url,
            database_max_connections: 16,
            ..CloudConfig::default()
        };
        let clock = ManualClock::at_unix(1_767_225_605);
        let cloud = Cloud::open_with_clock(config, Arc::new(clock.clone())).await?;
        let grpc = TcpListener::bind("127.0.0.1:0").await?;
        let http = TcpListener::bind("127.0.0.1:0").await?;
        let addr = grpc.local_addr()?;
        let shutdown = CancellationToken::new();
        let server = tokio::spawn(cloud.clone().serve(grpc, http, shutdown.clone()));
        let channel = Channel::from_shared(format!("http://{addr}"))?
            .connect()
            .await?;

        // One wallet per call in a round: a code is single use per wallet and 30 s step.
        let round = ops.min(2000);
        let mut wallets = Vec::with_capacity(round);
        for _ in 0..round {
            let e = cloud.wallets().enroll("bench", 1_000_000_00).await?;
            wallets.push((
                e.wallet.wallet_id,
                paycode::decode_secret(&e.secret_base32)?,
            ));
        }
        let wallets = Arc::new(wallets);
        for callers in [1usize, 16, 128] {
            let mut row = Row {
                what: format!("noop RPC (health check), {name} run"),
                callers,
                ops,
                elapsed: Duration::ZERO,
                latencies: Vec::new(),
            };
            let start = Instant::now();
            let ch = channel.clone();
            row.latencies = run(callers, ops, move |_| {
                let mut client = HealthClient::new(ch.clone());
                async move {
                    client
                        .check(HealthCheckRequest {
                            service: String::new(),
                        })
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                }
            })
            .await?;
            row.elapsed = start.elapsed();
            row.print();

            let mut row = Row {
                what: format!("Authorize, {name}"),
                callers,
                ops,
                elapsed: Duration::ZERO,
                latencies: Vec::new(),
            };
            let start = Instant::now();
            let mut latencies = Vec::new();
            for chunk_start in (0..ops).step_by(round) {
                // A new step, so every wallet has a fresh code for this round.
                clock.advance(chrono::Duration::seconds(60));
                let now = u64::try_from(omo_cloud::Clock::now(&clock).timestamp()).unwrap_or(0);
                let n = round.min(ops - chunk_start);
                let wallets = wallets.clone();
                let tag = format!("{name}-{callers}-{chunk_start}");
                let ch = channel.clone();
                latencies.extend(
                    run(callers, n, move |i| {
                        let mut client = PaymentServiceClient::new(ch.clone());
                        let (wallet, secret) = &wallets[i];
                        let request = AuthorizeRequest {
                            store_id: "BENCH".into(),
                            order_id: format!("{tag}-{i}"),
                            amount_fen: 1,
                            payment_code: paycode::payment_code(wallet, secret, now),
                            description: String::new(),
                            ..Default::default()
                        };
                        async move {
                            let p = client
                                .authorize(request)
                                .await
                                .map_err(|e| e.to_string())?
                                .into_inner()
                                .payment;
                            match p {
                                Some(p)
                                    if p.status
                                        == omo_proto::payment::PaymentStatus::Succeeded as i32 =>
                                {
                                    Ok(())
                                }
                                other => Err(format!("not succeeded: {other:?}")),
                            }
                        }
                    })
                    .await?,
                );
            }
            row.elapsed = start.elapsed();
            row.latencies = latencies;
            row.print();
        }
        cloud.store().ledger_check().await?;
        shutdown.cancel();
        server.await??;
    }
    Ok(())
}

/// Run `ops` calls made by `make(i)` with `callers` concurrent workers; each call's latency.
async fn run<F, Fut>(
    callers: usize,
    ops: usize,
    make: F,
) -> Result<Vec<Duration>, Box<dyn std::error::Error>>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static + Clone,
    Fut: std::future::Future<Output = Result<(), String>> + Send + 'static,
{
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..callers {
        let (next, make) = (next.clone(), make.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= ops {
                    return Ok::<_, String>(latencies);
                }
                let t = Instant::now();
                make(i).await?;
                latencies.push(t.elapsed());
            }
        }));
    }
    let mut all = Vec::with_capacity(ops);
    for w in workers {
        all.extend(w.await??);
    }
    Ok(all)
}
