//! Dispatch time for 1,000 open orders and 200 riders: one dispatcher tick that places every
//! waiting order (the worst case: nothing is assigned yet), and a tick with everything already
//! offered (the steady state between events).
//!
//! `cargo bench -p omo-edge --bench dispatch`

use chrono::Utc;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use omo_edge::delivery::dispatch::{
    DispatchRules, Dispatcher, OpenOrder, OrderStatus, RiderEvent, RiderReport,
};
use omo_edge::delivery::geo::{self, Position};
use omo_edge::delivery::order::{Dropoff, OrderRequest, Shop};

const STORE: Position = Position {
    lat: 31.2304,
    lon: 121.4737,
};

fn loaded(orders: usize, riders: usize) -> Dispatcher {
    let now = Utc::now();
    let shop = Shop {
        store_id: "SH-001".into(),
        position: STORE,
        radius_m: 3000,
    };
    let mut d = Dispatcher::new(
        STORE,
        DispatchRules {
            capacity: 5,
            ..DispatchRules::default()
        },
    );
    for n in 0..riders {
        let p = geo::destination(
            STORE,
            (n as f64 * 137.5) % 360.0,
            100.0 + (n as f64 * 97.0) % 2_500.0,
        );
        d.handle(
            &RiderEvent {
                id: format!("e{n}"),
                rider_id: format!("rider-{n}"),
                report: RiderReport::Location {
                    lat: p.lat,
                    lon: p.lon,
                },
            },
            now,
        );
    }
    for n in 0..orders {
        let to = geo::destination(
            STORE,
            (n as f64 * 61.8) % 360.0,
            200.0 + (n as f64 * 131.0) % 2_700.0,
        );
        let order = shop
            .accept(
                OrderRequest {
                    order_id: Some(format!("o{n}")),
                    items: vec![],
                    dropoff: Dropoff {
                        lat: to.lat,
                        lon: to.lon,
                        address: String::new(),
                    },
                },
                now - chrono::Duration::seconds(n as i64),
                || unreachable!(),
            )
            .unwrap();
        d.add(OpenOrder {
            order,
            status: OrderStatus::Waiting,
            lapsed: vec![],
            warned: false,
        });
    }
    d
}

fn dispatch(c: &mut Criterion) {
    let mut group = c.benchmark_group("dispatch");
    group.sample_size(20);
    group.bench_function("1000 waiting orders, 200 riders: one tick", |b| {
        b.iter_batched(
            || loaded(1_000, 200),
            |mut d| d.tick(Utc::now()),
            BatchSize::LargeInput,
        )
    });
    group.bench_function("1000 open orders, 200 riders: steady tick", |b| {
        let mut d = loaded(1_000, 200);
        d.tick(Utc::now());
        b.iter(|| d.tick(Utc::now()))
    });
    group.finish();
}

criterion_group!(benches, dispatch);
criterion_main!(benches);
