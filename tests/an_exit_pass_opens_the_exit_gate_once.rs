//! A paid basket's exit pass (shown on the lane screen and in the app) opens the store's exit
//! gate once: the exit's scanner checks it offline; a second use, a forged pass and a product
//! barcode are refused.

mod support;

use std::time::Duration;

use omo_devices::scanner::Framing;
use omo_devices::sim::ScannerSim;
use support::BrokerKind;
use support::store::TestStore;

const WAIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pass_opens_the_exit_once_and_forgeries_are_refused() {
    let exit_scanner = ScannerSim::new(Framing::Cr).unwrap();
    let extra = format!(
        "\n[[exit]]\nid = \"north\"\n[exit.scanner]\nport = \"{}\"\nframing = \"cr\"\n[exit.gate]\ndriver = \"sim\"\nopen_ms = 500\n",
        exit_scanner.port_path()
    );
    let mut store = TestStore::start_with(BrokerKind::Mosquitto, 1, &extra).await;
    store.start_edge().await;
    let wallet = store.enroll(100_000).await;
    let lane = &store.lanes[0];

    lane.scanner.scan("4006381333931").await.unwrap();
    lane.scale.set_weight(12);
    support::eventually(WAIT, "the pen bagged", || async {
        (store.lane_view("1").await["prompt"]["code"] == "item_bagged").then_some(())
    })
    .await;
    lane.scanner.scan(&wallet.code()).await.unwrap();
    let sale = support::eventually(WAIT, "the sale", || async {
        let sales = support::get_json(&store.edge_url("/api/sales")).await;
        sales["sales"].as_array().and_then(|s| s.first().cloned())
    })
    .await;
    let pass = sale["exit_pass"].as_str().unwrap().to_string();
    assert!(pass.starts_with("OMOX1:SH-T:"), "{pass}");

    let exit = || async {
        let exits = support::get_json(&store.edge_url("/api/exits")).await;
        exits["exits"][0].clone()
    };
    exit_scanner.scan(&pass).await.unwrap();
    support::eventually(WAIT, "the exit to admit the pass", || async {
        (exit().await["admitted"] == 1).then_some(())
    })
    .await;

    exit_scanner.scan(&pass).await.unwrap();
    let view = support::eventually(WAIT, "the reused pass refused", || async {
        let v = exit().await;
        (v["refused"] == 1).then_some(v)
    })
    .await;
    assert!(
        view["last_refusal"]
            .as_str()
            .unwrap()
            .contains("already used"),
        "{view}"
    );

    let (body, sig) = pass.rsplit_once(':').unwrap();
    let forged = format!("{}9:{sig}", &body[..body.len() - 1]);
    exit_scanner.scan(&forged).await.unwrap();
    let view = support::eventually(WAIT, "the forged pass refused", || async {
        let v = exit().await;
        (v["refused"] == 2).then_some(v)
    })
    .await;
    assert!(
        view["last_refusal"].as_str().unwrap().contains("signature"),
        "{view}"
    );

    exit_scanner.scan("4006381333931").await.unwrap();
    support::eventually(WAIT, "a product code refused at the exit", || async {
        (exit().await["refused"] == 3).then_some(())
    })
    .await;
    assert_eq!(exit().await["admitted"], 1);
}
