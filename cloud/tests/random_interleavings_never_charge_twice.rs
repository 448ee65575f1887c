//! A seeded simulation: thousands of random authorize, retry, concurrent duplicate, query,
//! cancel, refund, confirm, time-out, aborted request and crash-restart steps; after each, no
//! order was charged twice and the ledger balances. `OMO_SIM_STEPS` sets the number of steps.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Duration;
use omo_cloud::payments::{AuthorizeInput, PaymentRow};
use omo_cloud::{Cloud, CloudConfig, ManualClock, ServiceError, paycode};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use support::Db;

struct Order {
    input: AuthorizeInput,
    first: Option<PaymentRow>,
}

fn steps(default: usize) -> usize {
    std::env::var("OMO_SIM_STEPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// An error the rules allow in a random world (not a database failure).
fn allowed(e: &ServiceError) -> bool {
    matches!(
        e,
        ServiceError::FailedPrecondition(_) | ServiceError::NotFound(_) | ServiceError::Aborted(_)
    )
}

async fn simulate(db: Db, seed: u64, steps: usize) {
    let mut rng = StdRng::seed_from_u64(seed);
    let (url, _dir) = match db {
        Db::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            (
                format!("sqlite://{}", dir.path().join("sim.db").display()),
                Some(dir),
            )
        }
        Db::Postgres => (support::postgres::fresh_database().await, None),
    };
    let config = CloudConfig {
        database_url: url,
        no_confirm_limit_fen: 300_00,
        pending_timeout_secs: 90,
        cancel_window_secs: 120,
        ..CloudConfig::default()
    };
    let clock = ManualClock::at_unix(support::START_UNIX);
    let open = || Cloud::open_with_clock(config.clone(), Arc::new(clock.clone()));
    let mut cloud = open().await.unwrap();
    let mut wallets = Vec::new();
    for _ in 0..8 {
        let e = cloud.wallets().enroll("sim", 0).await.unwrap();
        let id = &e.wallet.wallet_id;
        cloud
            .wallets()
            .top_up(id, 5_000_00, &format!("start-{id}"))
            .await
            .unwrap();
        wallets.push((
            e.wallet.wallet_id,
            paycode::decode_secret(&e.secret_base32).unwrap(),
        ));
    }
    let mut orders: BTreeMap<usize, Order> = BTreeMap::new();
    let mut refund_ids = Vec::<(usize, String, i64)>::new();

    for step in 0..steps {
        // New orders keep arriving; old ones keep being retried, refunded, cancelled.
        let o = rng.random_range(0..20 + step / 4);
        let what = rng.random_range(0..100u32);
        let payments = cloud.payments();
        let result: Result<(), ServiceError> = async {
            match what {
                // Authorize a new order, or retry a known one with identical parameters.
                0..=34 => {
                    let order = orders.entry(o).or_insert_with(|| {
                        let (wallet, secret) = &wallets[rng.random_range(0..wallets.len())];
                        let age = [0, 0, 0, 30, 60][rng.random_range(0..5usize)];
                        let t = u64::try_from(clock_unix(&clock)).unwrap() - age;
                        Order {
                            input: AuthorizeInput {
                                store_id: format!("S{}", o % 3),
                                order_id: format!("o{o}"),
                                amount_fen: rng.random_range(1..500_00),
                                payment_code: paycode::payment_code(wallet, secret, t),
                                description: String::new(),
                                coupon_ids: Vec::new(),
                                pre_coupon_fen: 0,
                                coupon_shares: Vec::new(),
                            },
                            first: None,
                        }
                    });
                    clock.advance(Duration::seconds(rng.random_range(0..8)));
                    let (row, _) = payments.authorize(&order.input).await?;
                    match &order.first {
                        Some(first) => assert_eq!(
                            first.payment_id, row.payment_id,
                            "a retry returns the first payment"
                        ),
                        None => order.first = Some(row),
                    }
                }
                // Concurrent duplicates of a known order.
                35..=42 => {
                    if let Some(order) = orders.get(&o) {
                        let calls: Vec<_> = (0..4)
                            .map(|_| {
                                let (p, input) = (payments.clone(), order.input.clone());
                                tokio::spawn(async move { p.authorize(&input).await })
                            })
                            .collect();
                        let mut ids = std::collections::BTreeSet::new();
                        for call in calls {
                            match call.await.unwrap() {
                                Ok((row, _)) => {
                                    ids.insert(row.payment_id);
                                }
                                Err(e) if allowed(&e) => {}
                                Err(e) => return Err(e),
                            }
                        }
                        assert!(ids.len() <= 1, "duplicates made {} payments", ids.len());
                    }
                }
                // A request aborted mid-flight (the edge or the connection died).
                43..=47 => {
                    if let Some(order) = orders.get(&o) {
                        let (p, input) = (payments.clone(), order.input.clone());
                        let task = tokio::spawn(async move { p.authorize(&input).await });
                        for _ in 0..rng.random_range(0..4) {
                            tokio::task::yield_now().await;
                        }
                        task.abort();
                        let _ = task.await;
                    }
                }
                48..=57 => {
                    payments
                        .query(&format!("S{}", o % 3), &format!("o{o}"))
                        .await?;
                }
                58..=64 => {
                    payments
                        .cancel(&format!("S{}", o % 3), &format!("o{o}"), "sim")
                        .await?;
                }
                65..=79 => {
                    let (refund_id, amount) = if !refund_ids.is_empty() && rng.random_bool(0.3) {
                        let (ro, id, amount) =
                            refund_ids[rng.random_range(0..refund_ids.len())].clone();
                        if ro != o {
                            return Ok(());
                        }
                        (id, amount)
                    } else if rng.random_bool(0.3) {
                        // Refund exactly what is left.
                        let p = payments
                            .query(&format!("S{}", o % 3), &format!("o{o}"))
                            .await?;
                        (format!("r{step}"), (p.captured_fen - p.refunded_fen).max(1))
                    } else {
                        (format!("r{step}"), rng.random_range(1..200_00))
                    };
                    let r = payments
                        .refund(
                            &format!("S{}", o % 3),
                            &format!("o{o}"),
                            &refund_id,
                            amount,
                            "sim",
                        )
                        .await;
                    if r.is_ok() {
                        refund_ids.push((o, refund_id, amount));
                    }
                    r?;
                }
                80..=87 => {
                    let pending = orders
                        .get(&o)
                        .and_then(|ord| ord.first.clone())
                        .filter(|p| p.status == "PENDING");
                    if let Some(p) = pending {
                        payments
                            .confirm(&p.wallet_id, &p.payment_id, rng.random_bool(0.7))
                            .await?;
                    }
                }
                88..=94 => clock.advance(Duration::seconds(rng.random_range(0..45))),
                95..=96 => {
                    payments.sweep_expired().await?;
                }
                // Crash and restart the cloud on the same database.
                _ => {
                    drop(payments);
                    cloud = open().await.expect("the cloud restarts");
                }
            }
            Ok(())
        }
        .await;
        match result {
            Ok(()) => {}
            Err(e) if allowed(&e) => {}
            Err(e) => panic!("step {step} (op {what}, order {o}, seed {seed}): {e}"),
        }
        if let Err(e) = cloud.db().ledger_check().await {
            panic!("step {step} (op {what}, order {o}, seed {seed}): {e}");
        }
    }
    let report = cloud.db().ledger_check().await.unwrap();
    assert!(
        report.transactions > 3,
        "the simulation moved money: {report:?}"
    );
    let statuses: Vec<(String, i64)> = sqlx::query_as(
        "SELECT status, CAST(COUNT(*) AS BIGINT) FROM payments GROUP BY status ORDER BY status",
    )
    .fetch_all(cloud.db().pool())
    .await
    .unwrap();
    eprintln!("{db:?} seed {seed}: {steps} steps, {report:?}, payments by status {statuses:?}");
    assert!(
        statuses.len() >= 5,
        "the simulation reached few states: {statuses:?}"
    );
}

fn clock_unix(clock: &ManualClock) -> i64 {
    use omo_cloud::Clock;
    clock.now().timestamp()
}

async fn two_thousand_random_steps_keep_the_books(db: Db) {
    let n = steps(if db == Db::Sqlite { 2000 } else { 1000 });
    for seed in [1, 2] {
        simulate(db, seed, n).await;
    }
}

on_both_backends!(two_thousand_random_steps_keep_the_books);
