//! What the run counts and measures, the ceilings, the table, and the checks at the end.

use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use rumqttc::{AsyncClient, Event, MqttOptions, NetworkOptions, Packet, QoS};
use sqlx::PgPool;
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

use crate::load::Wallet;
use crate::{APP_ORDERS, LANES, PAYMENTS, SHOPPERS, STORES, TRACE_EVENTS};

/// The run's shared counters.
#[derive(Default)]
pub struct Work {
    /// When the load started, and when cloud 2 was killed.
    pub t0: OnceLock<Instant>,
    pub kill: OnceLock<Instant>,
    /// Cloud 1 and 2 seen failing in transport (the lanes and shoppers avoid it then).
    pub down: [AtomicBool; 2],
    pub next_payment: AtomicUsize,
    pub paid: AtomicUsize,
    /// Each payment's answer: when, and how long Authorize took (the retry included).
    pub payments: Mutex<Vec<(Instant, Duration)>>,
    pub declined: Mutex<Vec<String>>,
    pub pay_retries: AtomicUsize,
    pub next_order: AtomicUsize,
    pub orders_placed: AtomicUsize,
    pub orders_accepted: AtomicUsize,
    /// App orders placed whose acceptance the cloud has not recorded yet, with when.
    pub pending: Mutex<HashMap<String, Instant>>,
    /// Each app order's acceptance as seen in the database: when, and how long after placing.
    pub accepted: Mutex<Vec<(Instant, Duration)>>,
    /// Each app order's first request at its store: when, and how long after placing.
    pub forwarded: Mutex<Vec<(Instant, Duration)>>,
    pub order_retries: AtomicUsize,
    /// How many times each order reached its store's edge.
    pub forwards: Mutex<HashMap<String, u32>>,
    pub trace_published: AtomicUsize,
    pub trace_stored: AtomicUsize,
    /// `trace_events` rows over time.
    pub trace_samples: Mutex<Vec<(Instant, usize)>>,
}

impl Work {
    /// Whether half the work is done end to end, each kind counting alike.
    pub fn half_done(&self) -> bool {
        let paid = self.paid.load(Relaxed) as f64 / PAYMENTS as f64;
        let accepted = self.orders_accepted.load(Relaxed) as f64 / APP_ORDERS as f64;
        let stored = self.trace_stored.load(Relaxed) as f64 / TRACE_EVENTS as f64;
        paid + accepted + stored >= 1.5
    }
}

/// Polls PostgreSQL every 50 ms until `stop`: the stored trace events, and which pending app
/// orders the cloud has recorded as accepted by their store (or later).
pub async fn monitor(pool: PgPool, work: Arc<Work>, stop: Arc<AtomicBool>) {
    while !stop.load(Relaxed) {
        let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM trace_events")
            .fetch_one(&pool)
            .await
            .unwrap();
        work.trace_stored.store(stored as usize, Relaxed);
        work.trace_samples
            .lock()
            .unwrap()
            .push((Instant::now(), stored as usize));
        let ids: Vec<String> = work.pending.lock().unwrap().keys().cloned().collect();
        if !ids.is_empty() {
            let done: Vec<String> = sqlx::query_scalar(
                "SELECT order_id FROM delivery_orders WHERE order_id = ANY($1) AND status <> 'PLACED'",
            )
            .bind(&ids[..])
            .fetch_all(&pool)
            .await
            .unwrap();
            let now = Instant::now();
            let mut pending = work.pending.lock().unwrap();
            let mut accepted = work.accepted.lock().unwrap();
            for id in done {
                if let Some(placed) = pending.remove(&id) {
                    accepted.push((now, now - placed));
                    work.orders_accepted.fetch_add(1, Relaxed);
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// No-op gRPC calls (the standard health check) per second: 64 callers, 20,000 calls.
pub async fn health_rate(channel: Channel) -> f64 {
    const CALLS: usize = 20_000;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut callers = Vec::new();
    for _ in 0..64 {
        let (next, channel) = (next.clone(), channel.clone());
        callers.push(tokio::spawn(async move {
            let mut client = HealthClient::new(channel);
            while next.fetch_add(1, Relaxed) < CALLS {
                let check = HealthCheckRequest {
                    service: String::new(),
                };
                client.check(check).await.unwrap();
            }
        }));
    }
    for caller in callers {
        caller.await.unwrap();
    }
    CALLS as f64 / started.elapsed().as_secs_f64()
}

/// Raw QoS 1 publishes per second to the broker (one client, 100 in flight, 20,000 messages of
/// `payload`, until the last PUBACK), to a topic nobody reads.
pub async fn mosquitto_rate(port: u16, payload: &[u8]) -> f64 {
    const MESSAGES: usize = 20_000;
    let mut options = MqttOptions::new("bench-ceiling", "127.0.0.1", port);
    options.set_inflight(100);
    options.set_max_packet_size(1 << 20, 1 << 20);
    let (client, mut eventloop) = AsyncClient::new(options, 1_000);
    let mut network = NetworkOptions::new();
    network.set_tcp_nodelay(true);
    eventloop.set_network_options(network);
    let (acked, done) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (mut n, mut acked) = (0, Some(acked));
        while let Ok(event) = eventloop.poll().await {
            if let Event::Incoming(Packet::PubAck(_)) = event {
                n += 1;
                if n == MESSAGES
                    && let Some(acked) = acked.take()
                {
                    let _ = acked.send(());
                }
            }
        }
    });
    let started = Instant::now();
    for _ in 0..MESSAGES {
        client
            .publish("bench/ceiling", QoS::AtLeastOnce, false, payload.to_vec())
            .await
            .unwrap();
    }
    tokio::time::timeout(Duration::from_secs(60), done)
        .await
        .expect("every PUBACK within 60 s")
        .unwrap();
    let rate = MESSAGES as f64 / started.elapsed().as_secs_f64();
    let _ = client.disconnect().await;
    rate
}

/// What one phase did: how many, over how long, and each one's latency.
struct Phase {
    n: usize,
    secs: f64,
    latencies: Vec<Duration>,
}

impl Phase {
    fn rate(&self) -> String {
        if self.n == 0 {
            return "none left".into();
        }
        format!(
            "**{:.0}** ({} in {:.1} s)",
            self.n as f64 / self.secs,
            self.n,
            self.secs
        )
    }

    fn percentiles(&mut self) -> String {
        if self.latencies.is_empty() {
            return "-".into();
        }
        self.latencies.sort();
        let at = |p: f64| {
            let i = ((self.latencies.len() as f64 * p).ceil() as usize).max(1) - 1;
            self.latencies[i].as_secs_f64() * 1000.0
        };
        format!("{:.1} / {:.1} ms", at(0.5), at(0.99))
    }
}

/// Done before the kill (from the start until the kill, or the last one if none was left), and
/// after it (until the last one).
fn split(done: &[(Instant, Duration)], t0: Instant, kill: Instant) -> [Phase; 2] {
    let (before, after): (Vec<_>, Vec<_>) = done.iter().partition(|(at, _)| *at < kill);
    let last = |items: &[&(Instant, Duration)]| items.iter().map(|(at, _)| *at).max();
    let end = if after.is_empty() {
        last(&before).unwrap_or(kill)
    } else {
        kill
    };
    let after_end = last(&after).unwrap_or(kill);
    [(before, end - t0), (after, after_end - kill)].map(|(items, span)| Phase {
        n: items.len(),
        secs: span.as_secs_f64(),
        latencies: items.iter().map(|(_, l)| *l).collect(),
    })
}

/// The Markdown table of the run.
pub fn table(work: &Work, health: f64, mosquitto: f64) {
    let (t0, kill) = (*work.t0.get().unwrap(), *work.kill.get().unwrap());
    let mut pay = split(&work.payments.lock().unwrap(), t0, kill);
    let mut app = split(&work.accepted.lock().unwrap(), t0, kill);
    let mut forwarded = split(&work.forwarded.lock().unwrap(), t0, kill);
    let samples = work.trace_samples.lock().unwrap();
    let at_kill = samples
        .iter()
        .rev()
        .find(|(at, _)| *at <= kill)
        .map(|(_, n)| *n)
        .unwrap_or(0);
    let stored = samples.last().map(|(_, n)| *n).unwrap_or(0);
    let full = samples
        .iter()
        .find(|(_, n)| *n >= stored)
        .map(|(at, _)| *at)
        .unwrap_or(kill);
    let trace = [
        (at_kill, full.min(kill) - t0),
        (stored - at_kill, full.saturating_duration_since(kill)),
    ]
    .map(|(n, span)| Phase {
        n,
        secs: span.as_secs_f64(),
        latencies: Vec::new(),
    });
    let lanes = STORES * LANES;
    println!("| measure | both clouds | after cloud 2 is killed |");
    println!("| --- | ---: | ---: |");
    println!(
        "| payments/s (Authorize over gRPC, {lanes} lanes) | {} | {} |",
        pay[0].rate(),
        pay[1].rate()
    );
    let (p0, p1) = (pay[0].percentiles(), pay[1].percentiles());
    println!("| Authorize p50 / p99 | {p0} | {p1} |");
    println!(
        "| app orders/s end to end (placed until the store's acceptance is recorded; {SHOPPERS} shoppers) | {} | {} |",
        app[0].rate(),
        app[1].rate()
    );
    let (a0, a1) = (app[0].percentiles(), app[1].percentiles());
    println!("| app order placed until accepted, p50 / p99 | {a0} | {a1} |");
    let (f0, f1) = (forwarded[0].percentiles(), forwarded[1].percentiles());
    println!("| of which placed until its request reached the store, p50 / p99 | {f0} | {f1} |");
    println!(
        "| trace events/s end to end (published until stored) | {} | {} |",
        trace[0].rate(),
        trace[1].rate()
    );
    println!("\n| ceiling, same run, before the load | per second |");
    println!("| --- | ---: |");
    println!("| no-op gRPC call (health check), 64 callers, one cloud | {health:.0} |");
    println!("| mosquitto QoS 1 publishes (one client, 100 in flight) | {mosquitto:.0} |\n");
}

async fn scalar(pool: &PgPool, sql: &'static str) -> usize {
    let n: i64 = sqlx::query_scalar(sql).fetch_one(pool).await.unwrap();
    n as usize
}

/// Checks that nothing was lost or done twice; prints each check and panics if one failed.
pub async fn verify(
    pool: &PgPool,
    url: &str,
    work: &Work,
    lanes: &[Arc<Wallet>],
    apps: &[Arc<Wallet>],
) {
    let mut failed = Vec::new();
    let mut check = |ok: bool, line: String| {
        println!("- {} {line}", if ok { "ok:" } else { "**FAILED**:" });
        if !ok {
            failed.push(line);
        }
    };
    println!("\nChecks:");
    let rows = scalar(
        pool,
        "SELECT COUNT(*) FROM payments WHERE order_id LIKE 'pay-%'",
    )
    .await;
    let twice = scalar(
        pool,
        "SELECT COUNT(*) FROM (SELECT store_id, order_id FROM payments \
         GROUP BY store_id, order_id HAVING COUNT(*) > 1) AS twice",
    )
    .await;
    let succeeded = scalar(
        pool,
        "SELECT COUNT(*) FROM payments WHERE order_id LIKE 'pay-%' AND status = 'SUCCEEDED'",
    )
    .await;
    let codes = scalar(pool, "SELECT COUNT(*) FROM used_codes").await;
    let declined = work.declined.lock().unwrap().clone();
    check(
        rows == PAYMENTS && twice == 0,
        format!("{rows} payment rows for {PAYMENTS} lane payments; orders with two rows: {twice}"),
    );
    check(
        succeeded == PAYMENTS && declined.is_empty() && codes == PAYMENTS,
        format!(
            "{succeeded} succeeded, {codes} code steps spent; declined as the lanes saw it: {declined:?}"
        ),
    );
    let balances: HashMap<String, i64> =
        sqlx::query_as::<_, (String, i64)>("SELECT wallet_id, balance_fen FROM wallets")
            .fetch_all(pool)
            .await
            .unwrap()
            .into_iter()
            .collect();
    let captured: HashMap<String, i64> = sqlx::query_as::<_, (String, i64)>(
        "SELECT wallet_id, CAST(SUM(captured_fen - refunded_fen) AS BIGINT) FROM payments \
         GROUP BY wallet_id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    .into_iter()
    .collect();
    let wallets: Vec<&Arc<Wallet>> = lanes.iter().chain(apps).collect();
    let wrong = wallets
        .iter()
        .filter(|w| {
            let charged = w.charged.load(Relaxed);
            balances.get(&w.id) != Some(&(w.funded - charged))
                || captured.get(&w.id).copied().unwrap_or(0) != charged
        })
        .count();
    check(
        wrong == 0,
        format!(
            "{} wallets: balance = funded - what the bench saw charged = funded - the payments' \
             captures; wrong: {wrong}",
            wallets.len()
        ),
    );
    let events = scalar(pool, "SELECT COUNT(*) FROM trace_events").await;
    check(
        events == TRACE_EVENTS,
        format!("{events} trace_events rows for {TRACE_EVENTS} events published"),
    );
    let orders = scalar(
        pool,
        "SELECT COUNT(*) FROM delivery_orders WHERE source = 'app'",
    )
    .await;
    let delivered = scalar(
        pool,
        "SELECT COUNT(*) FROM delivery_orders WHERE source = 'app' AND status = 'DELIVERED'",
    )
    .await;
    let parked = scalar(pool, "SELECT COUNT(*) FROM delivery_progress_parked").await;
    let charges = scalar(
        pool,
        "SELECT COUNT(*) FROM payments WHERE order_id LIKE 'delivery-%' AND status = 'SUCCEEDED'",
    )
    .await;
    check(
        orders == APP_ORDERS && delivered == APP_ORDERS && parked == 0 && charges == APP_ORDERS,
        format!(
            "{orders} app orders, {delivered} delivered, {charges} charged (one payment each), \
             {parked} rider steps still parked"
        ),
    );
    if delivered < APP_ORDERS {
        let stuck: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT o.order_id, o.status, COALESCE(STRING_AGG(CAST(p.step_rank AS TEXT), ','), '') \
             FROM delivery_orders o LEFT JOIN delivery_progress_parked p ON p.order_id = o.order_id \
             WHERE o.source = 'app' AND o.status <> 'DELIVERED' GROUP BY o.order_id, o.status \
             ORDER BY o.order_id LIMIT 10",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        println!("  not delivered (order, status, parked step ranks): {stuck:?}");
    }
    let forwards = work.forwards.lock().unwrap().clone();
    let again = forwards.values().filter(|&&n| n > 1).count();
    check(
        forwards.len() == APP_ORDERS,
        format!(
            "the stores accepted {} orders, each once ({again} forwarded again and ignored, as \
             an edge does)",
            forwards.len()
        ),
    );
    let ledger = omo_cloud::Database::open(url, 2)
        .await
        .unwrap()
        .ledger_check()
        .await;
    check(ledger.is_ok(), format!("the ledger balances: {ledger:?}"));
    assert!(
        failed.is_empty(),
        "the chain lost or doubled work: {failed:?}"
    );
}
