//! Home-delivery orders placed in the app, over real gRPC on SQLite and PostgreSQL: accepted only
//! within the announced store's radius (a drop-off beyond it answers OUT_OF_RANGE with the
//! distance and charges nothing), paid exactly once under concurrent retries, a lane purchase
//! delivered only by the wallet that paid it and only once, and the store's answers applied once
//! (a refused app order refunded in full, once). The ledger balances after all of it.

mod support;

use omo_cloud::delivery::Deliveries;
use omo_cloud::delivery::answers::Acceptance;
use omo_cloud::delivery::payloads::{Line, StoreOrder};
use omo_cloud::identity::with_bearer;
use omo_proto::catalog::{Product, Unit, UpsertRequest};
use omo_proto::shopper::{
    DeliveryLine, DeliveryOrder, Dropoff, GetDeliveryOrderRequest, GetWalletRequest,
    PlaceDeliveryOrderRequest, SetDeliveryAddressRequest,
};
use omo_proto::store::StoreProfile;
use omo_proto::store::store_directory_client::StoreDirectoryClient;
use sha2::{Digest, Sha256};
use support::{Db, Shopper, TestCloud};
use tonic::Code;

const STORE: &str = "SH-1";
const MILK: &str = "05901234123457";
const SALMON: &str = "02000420000008";
/// The store, and points 1.2 km, 3.2 km and 4 km north of it (one arc-minute of latitude is
/// about 1,849 m here).
const AT: (f64, f64) = (31.2304, 121.4737);

fn north(metres: f64) -> (f64, f64) {
    (AT.0 + metres / 110_850.0, AT.1)
}

async fn setup(db: Db) -> TestCloud {
    let c = TestCloud::start_with(db, |cfg| cfg.sweep_interval_secs = 1).await;
    let mut directory = StoreDirectoryClient::new(c.channel.clone());
    directory
        .announce(StoreProfile {
            store_id: STORE.into(),
            name: "Test store".into(),
            lat: AT.0,
            lon: AT.1,
            delivery_radius_m: 3000,
            announced_at: String::new(),
        })
        .await
        .unwrap();
    let mut catalog = c.catalog.clone();
    catalog
        .upsert(UpsertRequest {
            products: vec![
                Product {
                    gtin: MILK.into(),
                    name: "Milk 1L".into(),
                    price_fen: 12_90,
                    member_price_fen: 11_90,
                    unit: Unit::Each as i32,
                    weight_g: 1030,
                    tolerance_g: 20,
                    ..Default::default()
                },
                Product {
                    gtin: SALMON.into(),
                    name: "Salmon".into(),
                    price_fen: 158_00,
                    unit: Unit::Kg as i32,
                    tolerance_g: 10,
                    ..Default::default()
                },
            ],
            ..Default::default()
        })
        .await
        .unwrap();
    c
}

fn order(
    who: &Shopper,
    id: &str,
    lines: &[(&str, u32)],
    purchase: &str,
    at: (f64, f64),
) -> tonic::Request<PlaceDeliveryOrderRequest> {
    who.request(PlaceDeliveryOrderRequest {
        wallet_id: who.wallet_id.clone(),
        store_id: STORE.into(),
        order_id: id.into(),
        lines: lines
            .iter()
            .map(|(gtin, quantity)| DeliveryLine {
                gtin: (*gtin).into(),
                quantity: *quantity,
                ..Default::default()
            })
            .collect(),
        purchase_order_id: purchase.into(),
        dropoff: Some(Dropoff {
            lat: at.0,
            lon: at.1,
            address: "1 Test Road".into(),
        }),
    })
}

async fn place(
    c: &TestCloud,
    r: tonic::Request<PlaceDeliveryOrderRequest>,
) -> Result<DeliveryOrder, tonic::Status> {
    c.shopper
        .clone()
        .place_delivery_order(r)
        .await
        .map(|r| r.into_inner())
}

async fn get(c: &TestCloud, who: &Shopper, id: &str) -> Result<DeliveryOrder, tonic::Status> {
    c.shopper
        .clone()
        .get_delivery_order(who.request(GetDeliveryOrderRequest {
            wallet_id: who.wallet_id.clone(),
            order_id: id.into(),
        }))
        .await
        .map(|r| r.into_inner())
}

async fn an_app_order_is_paid_once_under_concurrent_retries(db: Db) {
    let mut c = setup(db).await;
    let who = c.enroll(100_00).await;
    let near = north(1_200.0);
    let calls = (0..8).map(|_| place(&c, order(&who, "app-1", &[(MILK, 3)], "", near)));
    let answers = futures::future::join_all(calls).await;
    let first = answers[0].as_ref().unwrap().clone();
    assert_eq!(first.status, "PLACED");
    assert_eq!(first.amount_fen, 3 * 11_90, "member price");
    assert_eq!(first.lines[0].unit_price_fen, 11_90);
    assert!(
        (i64::from(first.distance_m) - 1_200).abs() <= 2,
        "{first:?}"
    );
    for answer in &answers {
        assert_eq!(answer.as_ref().unwrap().payment_id, first.payment_id);
    }
    assert_eq!(c.balance(&who).await, 100_00 - 35_70);
    assert_eq!(
        get(&c, &who, "app-1").await.unwrap().payment_id,
        first.payment_id
    );

    // The same id for another basket is an error, not a second order.
    let other = place(&c, order(&who, "app-1", &[(MILK, 1)], "", near))
        .await
        .unwrap_err();
    assert_eq!(other.code(), Code::FailedPrecondition);
    // Someone else's order id is not theirs to see or take.
    let stranger = c.enroll(100_00).await;
    assert_eq!(
        get(&c, &stranger, "app-1").await.unwrap_err().code(),
        Code::NotFound
    );
    let taken = place(&c, order(&stranger, "app-1", &[(MILK, 3)], "", near))
        .await
        .unwrap_err();
    assert_eq!(taken.code(), Code::AlreadyExists);
    c.stop().await;
}

async fn orders_beyond_the_radius_or_unpayable_charge_nothing(db: Db) {
    let mut c = setup(db).await;
    let who = c.enroll(20_00).await;
    let far = place(&c, order(&who, "far", &[(MILK, 1)], "", north(3_200.0)))
        .await
        .unwrap();
    assert_eq!(far.status, "OUT_OF_RANGE");
    assert!((i64::from(far.distance_m) - 3_200).abs() <= 2, "{far:?}");
    assert_eq!(far.radius_m, 3000);
    assert!(far.refusal.contains("3000 m"), "{}", far.refusal);
    assert_eq!(
        get(&c, &who, "far").await.unwrap_err().code(),
        Code::NotFound
    );

    let near = north(500.0);
    let poor = place(&c, order(&who, "poor", &[(MILK, 2)], "", near))
        .await
        .unwrap_err();
    assert_eq!(poor.code(), Code::FailedPrecondition, "{poor:?}");
    assert_eq!(
        get(&c, &who, "poor").await.unwrap_err().code(),
        Code::NotFound
    );
    let weighed = place(&c, order(&who, "fish", &[(SALMON, 1)], "", near))
        .await
        .unwrap_err();
    assert_eq!(weighed.code(), Code::FailedPrecondition);
    let unknown = place(&c, order(&who, "nope", &[("96385074", 1)], "", near))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    let bad = place(&c, order(&who, "bad id!", &[(MILK, 1)], "", near))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    let both = place(&c, order(&who, "both", &[(MILK, 1)], "X", near))
        .await
        .unwrap_err();
    assert_eq!(both.code(), Code::InvalidArgument);
    let mut elsewhere = order(&who, "elsewhere", &[(MILK, 1)], "", near);
    elsewhere.get_mut().store_id = "SH-404".into();
    assert_eq!(
        place(&c, elsewhere).await.unwrap_err().code(),
        Code::FailedPrecondition
    );
    let mut nowhere = order(&who, "nowhere", &[(MILK, 1)], "", near);
    nowhere.get_mut().dropoff = Some(Dropoff {
        lat: 91.0,
        lon: 0.0,
        address: String::new(),
    });
    assert_eq!(
        place(&c, nowhere).await.unwrap_err().code(),
        Code::InvalidArgument
    );
    assert_eq!(c.balance(&who).await, 20_00);
    c.stop().await;
}

async fn a_lane_purchase_is_delivered_once_for_the_wallet_that_paid(db: Db) {
    let mut c = setup(db).await;
    let who = c.enroll(100_00).await;
    let code = c.code(&who);
    c.authorize(STORE, "lane-order-1", 25_80, &code)
        .await
        .unwrap();
    let near = north(800.0);
    let placed = place(&c, order(&who, "home-1", &[], "lane-order-1", near))
        .await
        .unwrap();
    assert_eq!(placed.status, "PLACED");
    assert_eq!(placed.amount_fen, 0);
    assert_eq!(
        c.balance(&who).await,
        100_00 - 25_80,
        "paid at the lane only"
    );
    let again = place(&c, order(&who, "home-2", &[], "lane-order-1", near))
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::AlreadyExists);
    let stranger = c.enroll(100_00).await;
    let theft = place(&c, order(&stranger, "home-3", &[], "lane-order-1", near))
        .await
        .unwrap_err();
    assert_eq!(theft.code(), Code::NotFound);
    let never = place(&c, order(&who, "home-4", &[], "never-paid", near))
        .await
        .unwrap_err();
    assert_eq!(never.code(), Code::NotFound);
    c.stop().await;
}

async fn the_stores_answers_apply_once(db: Db) {
    let mut c = setup(db).await;
    let who = c.enroll(100_00).await;
    let near = north(1_000.0);
    place(&c, order(&who, "ok-1", &[(MILK, 1)], "", near))
        .await
        .unwrap();
    place(&c, order(&who, "no-1", &[(MILK, 2)], "", near))
        .await
        .unwrap();
    assert_eq!(c.balance(&who).await, 100_00 - 3 * 11_90);

    let deliveries = Deliveries::new(c.cloud.context().clone());
    let accepted = StoreOrder {
        id: "m-1".into(),
        order_id: "ok-1".into(),
        lines: vec![Line {
            gtin: MILK.into(),
            name: "Milk 1L".into(),
            quantity: 1,
            unit_price_fen: 11_90,
            amount_fen: 11_90,
        }],
        lat: near.0,
        lon: near.1,
        address: "1 Test Road".into(),
        distance_m: 1_000,
        promised_by: "2026-01-01T00:30:05Z".into(),
    };
    assert_eq!(
        deliveries.store_accepted(STORE, &accepted).await.unwrap(),
        Acceptance::Recorded
    );
    assert_eq!(
        deliveries.store_accepted(STORE, &accepted).await.unwrap(),
        Acceptance::Repeat,
        "a repeat changes nothing"
    );
    assert_eq!(
        deliveries.store_accepted("SH-2", &accepted).await.unwrap(),
        Acceptance::Ignored,
        "another store's word is ignored"
    );
    let ok = get(&c, &who, "ok-1").await.unwrap();
    assert_eq!(ok.status, "ACCEPTED");
    assert_eq!(ok.promised_by, "2026-01-01T00:30:05Z");

    for _ in 0..3 {
        deliveries
            .store_refused(STORE, "no-1", "no rider can reach it")
            .await
            .unwrap();
    }
    let no = get(&c, &who, "no-1").await.unwrap();
    assert_eq!(no.status, "REFUSED");
    assert_eq!(no.refusal, "no rider can reach it");
    assert_eq!(c.balance(&who).await, 100_00 - 11_90, "refunded once");
    // A refusal after acceptance changes nothing.
    assert!(
        !deliveries
            .store_refused(STORE, "ok-1", "late")
            .await
            .unwrap()
    );

    // An order the store placed itself (a lane or the dashboard) is learnt from its message.
    let own = StoreOrder {
        order_id: "store-7".into(),
        ..accepted
    };
    assert_eq!(
        deliveries.store_accepted(STORE, &own).await.unwrap(),
        Acceptance::Recorded
    );
    let learnt = deliveries.get_any("store-7").await.unwrap().unwrap();
    assert_eq!(
        (learnt.source.as_str(), learnt.status.as_str()),
        ("store", "ACCEPTED")
    );
    c.stop().await;
}

async fn an_order_its_store_never_answers_is_refunded(db: Db) {
    let mut c = setup(db).await;
    let who = c.enroll(100_00).await;
    place(&c, order(&who, "lost-1", &[(MILK, 1)], "", north(900.0)))
        .await
        .unwrap();
    assert_eq!(c.balance(&who).await, 100_00 - 11_90);
    // No store answers (this cloud has no broker); 16 minutes later the sweeper gives up.
    c.clock.advance(chrono::Duration::minutes(16));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let refused = loop {
        let o = get(&c, &who, "lost-1").await.unwrap();
        if o.status == "REFUSED" {
            break o;
        }
        assert!(std::time::Instant::now() < deadline, "still {o:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(refused.refusal, omo_cloud::delivery::answers::UNANSWERED);
    assert_eq!(c.balance(&who).await, 100_00, "refunded in full");
    // A late acceptance cannot revive it.
    let deliveries = Deliveries::new(c.cloud.context().clone());
    let late = StoreOrder {
        id: "m-late".into(),
        order_id: "lost-1".into(),
        lines: Vec::new(),
        lat: 0.0,
        lon: 0.0,
        address: String::new(),
        distance_m: 900,
        promised_by: "2026-01-01T00:50:00Z".into(),
    };
    assert!(matches!(
        deliveries.store_accepted(STORE, &late).await.unwrap(),
        Acceptance::Late { .. }
    ));
    assert_eq!(get(&c, &who, "lost-1").await.unwrap().status, "REFUSED");
    c.stop().await;
}

async fn a_lane_asks_for_delivery_to_the_wallets_address(db: Db) {
    let token_hash = format!("{:x}", Sha256::digest(b"token-1"));
    let mut c = TestCloud::start_with(db, |cfg| {
        cfg.store_token_sha256.insert(STORE.into(), token_hash);
        cfg.store_token_sha256
            .insert("SH-2".into(), format!("{:x}", Sha256::digest(b"token-2")));
    })
    .await;
    let as_store = |token: &str, r: PlaceDeliveryOrderRequest| with_bearer(r, token);
    let mut directory = StoreDirectoryClient::new(c.channel.clone());
    let profile = StoreProfile {
        store_id: STORE.into(),
        name: String::new(),
        lat: AT.0,
        lon: AT.1,
        delivery_radius_m: 3000,
        announced_at: String::new(),
    };
    directory
        .announce(with_bearer(profile, "token-1"))
        .await
        .unwrap();
    let mut payment = c.payment.clone();
    let who = c.enroll(100_00).await;
    let code = c.code(&who);
    let pay = omo_proto::payment::AuthorizeRequest {
        store_id: STORE.into(),
        order_id: "lane-order-9".into(),
        amount_fen: 12_00,
        payment_code: code,
        ..Default::default()
    };
    payment
        .authorize(with_bearer(pay, "token-1"))
        .await
        .unwrap();

    let lane_ask = || PlaceDeliveryOrderRequest {
        wallet_id: who.wallet_id.clone(),
        store_id: STORE.into(),
        order_id: "home-lane-order-9".into(),
        lines: Vec::new(),
        purchase_order_id: "lane-order-9".into(),
        dropoff: None,
    };
    // No address kept yet: the lane is told so.
    let none = place(&c, as_store("token-1", lane_ask()))
        .await
        .unwrap_err();
    assert_eq!(none.code(), Code::FailedPrecondition, "{none:?}");
    assert!(none.message().contains("delivery address"));

    let home = north(1_100.0);
    let wallet = c
        .shopper
        .set_delivery_address(who.request(SetDeliveryAddressRequest {
            wallet_id: who.wallet_id.clone(),
            address: Some(Dropoff {
                lat: home.0,
                lon: home.1,
                address: "7 Home Road".into(),
            }),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(wallet.delivery_address.unwrap().address, "7 Home Road");
    let shown = c
        .shopper
        .get_wallet(who.request(GetWalletRequest {
            wallet_id: who.wallet_id.clone(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(shown.delivery_address.unwrap().address, "7 Home Road");

    // The store's lane places it, to the kept address, and only so.
    let placed = place(&c, as_store("token-1", lane_ask())).await.unwrap();
    assert_eq!(placed.status, "PLACED");
    assert_eq!(placed.dropoff.unwrap().address, "7 Home Road");
    assert_eq!(placed.amount_fen, 0);
    let mut elsewhere = lane_ask();
    elsewhere.dropoff = Some(Dropoff {
        lat: AT.0,
        lon: AT.1,
        address: "somewhere else".into(),
    });
    let redirected = place(&c, as_store("token-1", elsewhere)).await.unwrap_err();
    assert_eq!(redirected.code(), Code::Unauthenticated);
    let mut goods = lane_ask();
    goods.purchase_order_id = String::new();
    goods.lines = vec![DeliveryLine {
        gtin: MILK.into(),
        quantity: 1,
        ..Default::default()
    }];
    let spent = place(&c, as_store("token-1", goods)).await.unwrap_err();
    assert_eq!(
        spent.code(),
        Code::Unauthenticated,
        "a store cannot spend a wallet"
    );
    let other = place(&c, as_store("token-2", lane_ask()))
        .await
        .unwrap_err();
    assert_eq!(other.code(), Code::PermissionDenied);
    // The app sees the order as its own.
    assert_eq!(
        get(&c, &who, "home-lane-order-9").await.unwrap().status,
        "PLACED"
    );
    c.stop().await;
}

async fn a_store_announces_only_itself(db: Db) {
    let token_hash = format!("{:x}", Sha256::digest(b"token-1"));
    let c = TestCloud::start_with(db, |cfg| {
        cfg.store_token_sha256.insert(STORE.into(), token_hash);
    })
    .await;
    let mut directory = StoreDirectoryClient::new(c.channel.clone());
    let profile = |store: &str| {
        let profile = StoreProfile {
            store_id: store.into(),
            name: String::new(),
            lat: AT.0,
            lon: AT.1,
            delivery_radius_m: 3000,
            announced_at: String::new(),
        };
        with_bearer(profile, "token-1")
    };
    let own = directory
        .announce(profile(STORE))
        .await
        .unwrap()
        .into_inner();
    assert!(!own.announced_at.is_empty());
    let other = directory.announce(profile("SH-2")).await.unwrap_err();
    assert_eq!(other.code(), Code::PermissionDenied);
    let bare = directory
        .announce(StoreProfile {
            store_id: STORE.into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(bare.code(), Code::Unauthenticated);
    c.stop().await;
}

on_both_backends!(
    an_app_order_is_paid_once_under_concurrent_retries,
    orders_beyond_the_radius_or_unpayable_charge_nothing,
    a_lane_purchase_is_delivered_once_for_the_wallet_that_paid,
    the_stores_answers_apply_once,
    an_order_its_store_never_answers_is_refunded,
    a_lane_asks_for_delivery_to_the_wallets_address,
    a_store_announces_only_itself,
);
