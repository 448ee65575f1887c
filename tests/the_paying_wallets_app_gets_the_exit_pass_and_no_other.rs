//! After a basket is paid at a lane, the store's edge hands its exit pass to the cloud
//! (`PaymentService.AttachExitPass`), and the paying wallet's app finds it in `ListReceipts`.
//! Another wallet's app sees no pass: neither in its own receipts nor by asking for the payer's
//! (its app token is refused). Real processes: mosquitto, `omo cloud`, `omo edge`, a simulated
//! scanner and scale.

mod support;

use std::time::Duration;

use omo_proto::shopper::ListReceiptsRequest;
use support::store::{STORE, TestStore};
use support::{BrokerKind, eventually};

const MILK: &str = "5901234123457";
const WAIT: Duration = Duration::from_secs(40);

#[tokio::test(flavor = "multi_thread")]
async fn the_paying_wallets_app_gets_the_exit_pass_and_no_other() {
    let mut store = TestStore::start(BrokerKind::Mosquitto, 1).await;
    store.start_edge().await;
    let payer = store.enroll(100_000).await;
    let other = store.enroll(100_000).await;

    let lane = &store.lanes[0];
    lane.scanner.scan(MILK).await.unwrap();
    lane.scale.set_weight(1030);
    eventually(WAIT, "the milk bagged", || async {
        let view = store.lane_view("1").await;
        let bagged = view["session"]["bagging"]["awaited"]
            .as_array()
            .is_some_and(|a| a.is_empty());
        (view["item_count"] == 1 && bagged).then_some(())
    })
    .await;
    lane.scanner.scan(&payer.code()).await.unwrap();

    let receipt = eventually(WAIT, "the exit pass in the payer's receipt", || async {
        store
            .receipts(&payer)
            .await
            .into_iter()
            .find(|r| r.status == "SUCCEEDED" && r.store_id == STORE && !r.exit_pass.is_empty())
    })
    .await;
    assert_eq!(receipt.amount_fen, 1290);
    assert!(
        omo_edge::exit_pass::looks_like_pass(&receipt.exit_pass)
            && receipt
                .exit_pass
                .contains(&receipt.order_id.to_ascii_uppercase()),
        "the receipt carries another text than this basket's pass: {receipt:?}"
    );

    // Another wallet's app: nothing of its own, and the payer's receipts are refused to it.
    assert!(
        store
            .receipts(&other)
            .await
            .iter()
            .all(|r| r.exit_pass.is_empty())
    );
    let stolen = store
        .shopper()
        .await
        .list_receipts(other.request(ListReceiptsRequest {
            wallet_id: payer.wallet_id.clone(),
        }))
        .await
        .unwrap_err();
    assert!(
        matches!(
            stolen.code(),
            tonic::Code::Unauthenticated | tonic::Code::PermissionDenied
        ),
        "{stolen:?}"
    );
    let anonymous = store
        .shopper()
        .await
        .list_receipts(ListReceiptsRequest {
            wallet_id: payer.wallet_id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), tonic::Code::Unauthenticated);
}
