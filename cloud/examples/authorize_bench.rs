//! Authorize throughput and latency at 1, 16 and 128 concurrent callers, beside a no-op tonic
//! RPC (the gRPC health check) measured in the same run: the ceiling for this machine.
//!
//! `cargo run --release -p omo-cloud --example authorize_bench` benchmarks SQLite (a temporary
//! file) and PostgreSQL in one run: a server of its own (initdb in a temporary directory, as the
//! `postgres` user when run as root, `fsync=on`), or `OMO_BENCH_POSTGRES_URL=postgres://...` (an
//! empty database). `OMO_BENCH_OPS` sets the calls per measurement (default 4000). Prints a
//! Markdown table.

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
    let _server; // stops the server started here, if any, at the end
    if let Ok(url) = std::env::var("OMO_BENCH_POSTGRES_URL") {
        backends.push(("PostgreSQL", url));
    } else if let Some(server) = PgServer::start(dir.path()) {
        backends.push(("PostgreSQL", server.url.clone()));
        _server = server;
    } else {
        eprintln!("PostgreSQL binaries not found (/usr/lib/postgresql/*/bin): SQLite only");
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
            let e = cloud.wallets().enroll("bench", 0).await?;
            // The bench acts as the funding authority in-process (the gRPC check is not here).
            cloud
                .wallets()
                .top_up(
                    &e.wallet.wallet_id,
                    1_000_000_00,
                    &format!("bench-{}", e.wallet.wallet_id),
                )
                .await?;
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
        cloud.db().ledger_check().await?;
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

/// A throwaway PostgreSQL server for the run (durable commits: `fsync=on`).
struct PgServer {
    url: String,
    pg_ctl: std::path::PathBuf,
    data: std::path::PathBuf,
    as_postgres: bool,
}

impl PgServer {
    fn start(parent: &std::path::Path) -> Option<PgServer> {
        let bin = std::env::var("OMO_PG_BIN")
            .map(std::path::PathBuf::from)
            .ok()
            .or_else(|| {
                let mut dirs: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
                    .ok()?
                    .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
                    .filter(|p| p.join("initdb").exists())
                    .collect();
                dirs.sort();
                dirs.pop()
            })?;
        let as_postgres = std::process::Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        let dir = parent.join("pg");
        std::fs::create_dir_all(&dir).ok()?;
        if as_postgres {
            // The temporary directory is root's; postgres must reach into it.
            let _ = std::process::Command::new("chmod")
                .arg("755")
                .arg(parent)
                .status();
            let _ = std::process::Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status();
        }
        let data = dir.join("data");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let run = |tool: &str, args: &[&str]| {
            let path = bin.join(tool);
            let mut cmd = if as_postgres {
                let mut c = std::process::Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(&path);
                c
            } else {
                std::process::Command::new(&path)
            };
            cmd.args(args)
                .stdout(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        let data_s = data.display().to_string();
        let dir_s = dir.display().to_string();
        if !run(
            "initdb",
            &[
                "-D",
                &data_s,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
            ],
        ) {
            return None;
        }
        let opts = format!(
            "-p {port} -k {dir_s} -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200"
        );
        let log = format!("{dir_s}/pg.log");
        if !run(
            "pg_ctl",
            &["-D", &data_s, "-l", &log, "-o", &opts, "-w", "start"],
        ) {
            return None;
        }
        Some(PgServer {
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            pg_ctl: bin.join("pg_ctl"),
            data,
            as_postgres,
        })
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let mut cmd = if self.as_postgres {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&self.pg_ctl);
            c
        } else {
            std::process::Command::new(&self.pg_ctl)
        };
        let _ = cmd
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "fast", "stop"])
            .stdout(std::process::Stdio::null())
            .status();
    }
}
