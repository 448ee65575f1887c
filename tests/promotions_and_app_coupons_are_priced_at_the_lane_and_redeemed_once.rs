//! O2O pricing end to end: a multi-buy promotion from the catalog stream is applied as pens are
//! scanned, the coupon the shopper claimed in the app is fetched when the payment code is
//! scanned, the wallet is charged the discounted amount, and the coupon is redeemed once.

mod support;

use std::time::Duration;

use omo_proto::catalog::catalog_service_client::CatalogServiceClient;
use omo_proto::catalog::{CouponCampaign, Promotion, PromotionKind, UpsertRequest};
use omo_proto::shopper::{ClaimCouponRequest, ListCouponsRequest};
use support::BrokerKind;
use support::store::TestStore;

const WAIT: Duration = Duration::from_secs(30);
const PEN: &str = "4006381333931";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_buy_and_an_app_coupon_lower_what_the_wallet_pays() {
    let mut store = TestStore::start_with(
        BrokerKind::Mosquitto,
        1,
        "\n[weight_security]\nenabled = false\n",
    )
    .await;
    let mut catalog =
        CatalogServiceClient::connect(format!("http://127.0.0.1:{}", store.grpc_port))
            .await
            .unwrap();
    catalog
        .upsert(UpsertRequest {
            promotions: vec![Promotion {
                promotion_id: "pens-3-for-9".into(),
                name: "Pens: 3 for ¥9".into(),
                gtins: vec!["04006381333931".into()],
                kind: PromotionKind::MultiBuy as i32,
                quantity: 3,
                price_fen: 900,
                ..Default::default()
            }],
            campaigns: vec![CouponCampaign {
                campaign_id: "welcome".into(),
                name: "¥2 off ¥8".into(),
                min_spend_fen: 800,
                amount_off_fen: 200,
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .unwrap();
    store.start_edge().await;

    let wallet = store.enroll(100_000).await;
    let coupon = store
        .shopper()
        .await
        .claim_coupon(wallet.request(ClaimCouponRequest {
            wallet_id: wallet.wallet_id.clone(),
            campaign_id: "welcome".into(),
            claim_id: "claim-1".into(),
        }))
        .await
        .unwrap()
        .into_inner();

    let lane = &store.lanes[0];
    for _ in 0..3 {
        lane.scanner.scan(PEN).await.unwrap();
    }
    let view = support::eventually(WAIT, "three pens at the multi-buy price", || async {
        let view = store.lane_view("1").await;
        (view["item_count"] == 3).then_some(view)
    })
    .await;
    assert_eq!(view["total_fen"], 900, "{view}");
    assert_eq!(
        view["session"]["basket"]["discounts"][0]["kind"],
        "multi_buy"
    );

    lane.scanner.scan(&wallet.code()).await.unwrap();
    support::eventually(WAIT, "the checkout completed", || async {
        (store.lane_view("1").await["completed"] == 1).then_some(())
    })
    .await;
    assert_eq!(store.balance(&wallet).await, 100_000 - 700);
    let receipts = store.receipts(&wallet).await;
    assert_eq!(receipts.len(), 1);
    assert_eq!(receipts[0].amount_fen, 700);

    let coupons = store
        .shopper()
        .await
        .list_coupons(wallet.request(ListCouponsRequest {
            wallet_id: wallet.wallet_id.clone(),
            store_id: String::new(),
        }))
        .await
        .unwrap()
        .into_inner()
        .coupons;
    let redeemed = coupons
        .iter()
        .find(|c| c.coupon_id == coupon.coupon_id)
        .unwrap();
    assert_eq!(redeemed.status, "REDEEMED");

    let sales = store.operator_json("/api/sales").await;
    let discounts = sales["sales"][0]["basket"]["discounts"]
        .as_array()
        .unwrap()
        .clone();
    let kinds: Vec<&str> = discounts
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        vec!["multi_buy", "coupon"],
        "the receipt shows each discount"
    );
}
