//! The dispatcher's rules, one test each.

use chrono::{DateTime, Duration, Utc};

use super::*;
use crate::delivery::geo;
use crate::delivery::order::{Dropoff, OrderRequest, Shop};

const STORE: Position = Position {
    lat: 31.2304,
    lon: 121.4737,
};

fn shop() -> Shop {
    Shop {
        store_id: "S".into(),
        position: STORE,
        radius_m: 3000,
    }
}

fn order(id: &str, bearing: f64, metres: f64, now: DateTime<Utc>) -> OpenOrder {
    let to = geo::destination(STORE, bearing, metres);
    let order = shop()
        .accept(
            OrderRequest {
                order_id: Some(id.into()),
                items: vec![],
                dropoff: Dropoff {
                    lat: to.lat,
                    lon: to.lon,
                    address: String::new(),
                },
            },
            now,
            || unreachable!(),
        )
        .unwrap();
    OpenOrder {
        order,
        status: OrderStatus::Waiting,
        lapsed: vec![],
        warned: false,
    }
}

fn at(rider: &str, bearing: f64, metres: f64) -> RiderEvent {
    let p = geo::destination(STORE, bearing, metres);
    RiderEvent {
        id: uuid::Uuid::new_v4().to_string(),
        rider_id: rider.into(),
        report: RiderReport::Location {
            lat: p.lat,
            lon: p.lon,
        },
    }
}

fn report(rider: &str, report: RiderReport) -> RiderEvent {
    RiderEvent {
        id: uuid::Uuid::new_v4().to_string(),
        rider_id: rider.into(),
        report,
    }
}

fn offers(actions: &[Action]) -> Vec<(String, String)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Offer {
                order_id, rider, ..
            } => Some((order_id.clone(), rider.clone())),
            _ => None,
        })
        .collect()
}

fn dispatcher() -> Dispatcher {
    Dispatcher::new(STORE, DispatchRules::default())
}

#[test]
fn the_rider_who_arrives_first_gets_the_order() {
    let now = Utc::now();
    let mut d = dispatcher();
    d.handle(&at("far", 0.0, 2_000.0), now);
    d.handle(&at("near", 180.0, 300.0), now);
    d.add(order("o1", 90.0, 1_000.0, now));
    assert_eq!(offers(&d.tick(now)), vec![("o1".into(), "near".into())]);
}

#[test]
fn orders_going_the_same_way_are_batched_within_capacity() {
    let now = Utc::now();
    let mut d = Dispatcher::new(
        STORE,
        DispatchRules {
            capacity: 2,
            ..DispatchRules::default()
        },
    );
    d.handle(&at("a", 0.0, 10.0), now);
    d.handle(&at("b", 0.0, 1_500.0), now);
    d.add(order("o1", 90.0, 1_000.0, now));
    d.add(order("o2", 95.0, 1_200.0, now));
    d.add(order("o3", 100.0, 1_400.0, now));
    let offered = offers(&d.tick(now));
    let by_a: Vec<_> = offered.iter().filter(|(_, r)| r == "a").collect();
    assert_eq!(by_a.len(), 2, "{offered:?}");
    assert_eq!(offered.len(), 3, "{offered:?}");
    assert!(offered.contains(&("o3".into(), "b".into())), "{offered:?}");
}

#[test]
fn orders_going_opposite_ways_are_not_batched() {
    let now = Utc::now();
    let mut d = dispatcher();
    d.handle(&at("a", 0.0, 10.0), now);
    d.add(order("east", 90.0, 1_000.0, now));
    d.add(order("west", 270.0, 1_000.0, now));
    let offered = offers(&d.tick(now));
    assert_eq!(offered.len(), 1, "{offered:?}");
    // The second waits for another rider.
    d.handle(&at("b", 0.0, 10.0), now);
    let offered = offers(&d.tick(now + Duration::seconds(1)));
    assert_eq!(offered.len(), 1);
    assert_eq!(offered[0].1, "b");
}

#[test]
fn an_offer_not_accepted_in_time_goes_to_another_rider() {
    let now = Utc::now();
    let mut d = dispatcher();
    d.handle(&at("slow", 0.0, 10.0), now);
    d.handle(&at("other", 0.0, 2_000.0), now);
    d.add(order("o1", 90.0, 1_000.0, now));
    assert_eq!(offers(&d.tick(now)), vec![("o1".into(), "slow".into())]);
    let later = now + Duration::seconds(29);
    assert!(offers(&d.tick(later)).is_empty());
    d.handle(&at("slow", 0.0, 10.0), later);
    d.handle(&at("other", 0.0, 2_000.0), later);
    let lapse = now + Duration::seconds(30);
    let actions = d.tick(lapse);
    assert!(actions.contains(&Action::Lapsed {
        order_id: "o1".into(),
        rider: "slow".into()
    }));
    assert_eq!(offers(&actions), vec![("o1".into(), "other".into())]);
    // A late accept from the first rider changes nothing.
    d.handle(
        &report(
            "slow",
            RiderReport::Accepted {
                order_id: "o1".into(),
            },
        ),
        lapse,
    );
    assert_eq!(d.order("o1").unwrap().status.rider(), Some("other"));
}

#[test]
fn an_accepted_order_is_not_taken_away() {
    let now = Utc::now();
    let mut d = dispatcher();
    d.handle(&at("a", 0.0, 10.0), now);
    d.add(order("o1", 90.0, 1_000.0, now));
    d.tick(now);
    d.handle(
        &report(
            "a",
            RiderReport::Accepted {
                order_id: "o1".into(),
            },
        ),
        now,
    );
    let actions = d.tick(now + Duration::minutes(5));
    assert!(offers(&actions).is_empty());
    assert!(matches!(
        d.order("o1").unwrap().status,
        OrderStatus::Accepted { .. }
    ));
}

#[test]
fn repeated_events_change_nothing() {
    let now = Utc::now();
    let mut d = dispatcher();
    d.handle(&at("a", 0.0, 10.0), now);
    d.add(order("o1", 90.0, 1_000.0, now));
    d.tick(now);
    let delivered = report(
        "a",
        RiderReport::Delivered {
            order_id: "o1".into(),
        },
    );
    assert_eq!(d.handle(&delivered, now).len(), 1);
    assert!(d.handle(&delivered, now).is_empty());
}

#[test]
fn a_promise_at_risk_is_warned_once() {
    let now = Utc::now();
    let mut d = dispatcher();
    d.add(order("o1", 90.0, 2_000.0, now));
    // No rider at all: nothing until the promise is within the margin.
    assert!(d.tick(now).is_empty());
    let late = now + Duration::minutes(26);
    let actions = d.tick(late);
    assert!(
        matches!(&actions[..], [Action::Warn { order_id, eta: None, .. }] if order_id == "o1"),
        "{actions:?}"
    );
    assert!(d.tick(late + Duration::seconds(1)).is_empty());
}

#[test]
fn a_rider_far_away_makes_a_promise_at_risk_at_once() {
    let now = Utc::now();
    let mut d = dispatcher();
    // 6 km away at 4 m/s: 25 min to the store, then 2 km more: past 30 min minus the margin.
    d.handle(&at("far", 0.0, 6_000.0), now);
    d.add(order("o1", 90.0, 2_000.0, now));
    let actions = d.tick(now);
    assert_eq!(offers(&actions).len(), 1);
    assert!(
        actions
            .iter()
            .any(|a| matches!(a, Action::Warn { eta: Some(_), .. }))
    );
}

#[test]
fn a_rider_on_the_road_takes_nothing_more() {
    let now = Utc::now();
    let mut d = dispatcher();
    d.handle(&at("a", 0.0, 10.0), now);
    d.add(order("o1", 90.0, 1_000.0, now));
    d.tick(now);
    d.handle(
        &report(
            "a",
            RiderReport::PickedUp {
                order_id: "o1".into(),
            },
        ),
        now,
    );
    d.add(order("o2", 90.0, 1_100.0, now));
    assert!(offers(&d.tick(now)).is_empty());
}

#[test]
fn riders_not_seen_lately_get_nothing() {
    let now = Utc::now();
    let mut d = dispatcher();
    d.handle(&at("gone", 0.0, 10.0), now - Duration::minutes(10));
    d.add(order("o1", 90.0, 1_000.0, now));
    assert!(offers(&d.tick(now)).is_empty());
}

#[test]
fn a_cancelled_order_is_withdrawn_from_its_rider_and_never_offered_again() {
    let now = Utc::now();
    let mut d = dispatcher();
    d.handle(&at("a", 0.0, 10.0), now);
    d.add(order("o1", 90.0, 1_000.0, now));
    d.add(order("o2", 90.0, 1_100.0, now));
    assert_eq!(offers(&d.tick(now)).len(), 2);
    d.handle(
        &report(
            "a",
            RiderReport::Accepted {
                order_id: "o1".into(),
            },
        ),
        now,
    );
    d.handle(
        &report(
            "a",
            RiderReport::Delivered {
                order_id: "o2".into(),
            },
        ),
        now,
    );
    assert_eq!(
        d.cancel("o1", "refunded"),
        vec![Action::Cancelled {
            order_id: "o1".into(),
            rider: Some("a".into()),
            reason: "refunded".into(),
        }]
    );
    assert!(d.cancel("o2", "late").is_empty(), "delivered is final");
    let dirty = d.take_dirty();
    assert!(dirty.iter().any(|o| o.status == OrderStatus::Cancelled));
    assert!(
        !d.contains("o1"),
        "a cancelled order is forgotten once saved"
    );
    assert!(
        d.cancel("o1", "again").is_empty(),
        "a repeat changes nothing"
    );
    // The rider's later word about it changes nothing, and it is not offered again.
    d.handle(
        &report(
            "a",
            RiderReport::PickedUp {
                order_id: "o1".into(),
            },
        ),
        now,
    );
    assert!(d.take_dirty().is_empty());
    assert!(offers(&d.tick(now + Duration::seconds(60))).is_empty());
}
