//! A lot's whole life through the real system: a supplier's receiving file imported at the edge
//! (farm, harvest date, certificates, cold chain), the fish cut into portions at the counter, one
//! portion sold through a lane checkout, every event over the broker (mosquitto, and again the
//! embedded one) to the cloud's trace store;
//! then the resolver shows the portion's journey back to the farm as a page and as EPCIS JSON, an
//! unknown lot or product is a clear 404, and an event delivered twice is stored once.

mod support;

use std::time::Duration;

use omo_edge::epcis::{LotQuantity, Transformation};
use omo_edge::trace_import;
use serde_json::Value;
use support::BrokerKind;
use support::store::{STORE, TestStore};
use support::trace;

const SALMON: &str = "02000420000008";
const WAIT: Duration = Duration::from_secs(30);

const RECEIVING_CSV: &str = "gtin,lot,farm,country,harvest_date,certificates,temperatures,quantity,uom,supplier\n\
2000420000008,FISH-2611,Lofoten Sjømat,NO,2026-11-20,ASC;GLOBALG.A.P.,2026-11-21T06:00:00Z=1.5;2026-11-22T06:00:00Z=2.5,5.2,KGM,Nordic Fresh AS\n";

/// What `omo trace import FILE --config edge.toml` and `omo trace transform` do: events into the
/// edge's outbox (the running edge publishes them).
async fn queue(store: &TestStore, events: &[Value]) {
    let config = omo_edge::EdgeConfig::load(&store.edge_config).unwrap();
    let edge_store = omo_edge::db::Db::open(&config.data_dir).await.unwrap();
    trace_import::enqueue(&edge_store, STORE, events)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_mosquitto() {
    journey(BrokerKind::Mosquitto).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_embedded_broker() {
    journey(BrokerKind::Embedded).await;
}

async fn journey(kind: BrokerKind) {
    let mut store = TestStore::start(kind, 1).await;
    // Every test store's cloud follows the broker's trace topics and serves the resolver.
    let resolver = store.cloud_http_port;
    let mut listener = store.listen(&format!("omo/v1/stores/{STORE}/trace")).await;
    store.start_edge().await;

    // Receiving: the supplier's CSV.
    let received =
        trace_import::events_from_file(RECEIVING_CSV, STORE, chrono::Utc::now()).unwrap();
    queue(&store, &received).await;

    // Cutting: the fish into two portions at the fish counter.
    let lot = |lot: &str, kg: f64| LotQuantity {
        gtin: SALMON.into(),
        lot: lot.into(),
        quantity: Some(kg),
        uom: Some("KGM".into()),
    };
    let cutting = Transformation {
        inputs: vec![lot("FISH-2611", 1.2)],
        outputs: vec![lot("P-1", 0.532), lot("P-2", 0.611)],
        at: chrono::Utc::now(),
        station: "fish-counter".into(),
        transformation_id: None,
    };
    let cut = trace_import::transformation_events(&cutting, STORE).unwrap();
    queue(&store, &cut).await;

    // Selling: portion P-1 (its label a GS1 DataMatrix: GTIN, net weight 0.532 kg, lot).
    let wallet = store.enroll(100_000).await;
    let lane = &store.lanes[0];
    lane.scanner
        .scan("]d20102000420000008310300053210P-1")
        .await
        .unwrap();
    lane.scale.set_weight(532);
    support::eventually(WAIT, "the portion in the basket, bagged", || async {
        let view = store.lane_view("1").await;
        let bagged = view["session"]["bagging"]["awaited"]
            .as_array()
            .is_some_and(|a| a.is_empty());
        (view["item_count"] == 1 && bagged).then_some(())
    })
    .await;
    lane.scanner.scan(&wallet.code()).await.unwrap();
    let (_, sale) = listener
        .wait_for(WAIT, "the EPCIS sale event", |_, v| {
            v["bizStep"] == "retail_selling"
        })
        .await;
    let sold: Vec<&str> = sale["quantityList"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|q| q["epcClass"].as_str())
        .collect();
    assert_eq!(sold, [format!("https://id.gs1.org/01/{SALMON}/10/P-1")]);

    // The resolver's JSON: the portion's events and those of the fish it was cut from.
    let path = format!("/01/{SALMON}/10/P-1");
    let document = support::eventually(
        WAIT,
        "three events of P-1's journey at the resolver",
        || {
            let path = path.clone();
            async move {
                let (status, document) = trace::json(resolver, &path).await;
                (status == 200 && trace::events(&document).len() == 3).then_some(document)
            }
        },
    )
    .await;
    assert_eq!(document["type"], "EPCISQueryDocument");
    let events = trace::events(&document);
    let steps: Vec<&str> = events
        .iter()
        .map(|e| e["bizStep"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        ["receiving", "commissioning", "retail_selling"],
        "{document:#}"
    );
    assert_eq!(events[0]["eventID"], received[0]["eventID"]);
    assert!(
        events[0]["eventID"]
            .as_str()
            .unwrap()
            .starts_with("ni:///sha-256;")
    );
    assert_eq!(events[0]["ilmd"]["omo:farm"], "Lofoten Sjømat");
    assert_eq!(events[1]["type"], "TransformationEvent");

    // The page a shopper reads: product, origin, each step with time and place.
    let (status, html) = trace::page(resolver, &format!("{path}/21/123?utm=qr")).await;
    assert_eq!(status, 200, "{html}");
    for expected in [
        "Salmon fillet",
        "Lofoten Sjømat",
        "2026-11-20",
        "ASC",
        "Harvested",
        "Received",
        "Cut into portions",
        "Sold",
        "store SH-T, fish-counter",
        "store SH-T, lane 1",
        "1.5 to 2.5 °C",
    ] {
        assert!(
            html.contains(expected),
            "the page lacks {expected:?}:\n{html}"
        );
    }
    let (status, html) = trace::page(resolver, &format!("/01/{SALMON}")).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Lot P-1") && html.contains("Lot FISH-2611"),
        "{html}"
    );

    // Unknown lot, unknown product: 404 with a clear page.
    let (status, html) = trace::page(resolver, &format!("/01/{SALMON}/10/NOPE")).await;
    assert_eq!(status, 404);
    assert!(
        html.contains("No journey is recorded for lot NOPE of Salmon fillet"),
        "{html}"
    );
    let (status, html) = trace::page(resolver, "/01/96385074").await;
    assert_eq!(status, 404);
    assert!(
        html.contains("No product with GTIN 00000096385074"),
        "{html}"
    );
    let (status, body) = trace::json(resolver, "/01/96385074/10/X").await;
    assert_eq!(status, 404);
    assert!(body["error"].as_str().is_some(), "{body}");

    // Duplicates: the receiving event delivered again by the broker, and the same file
    // imported again; then a new lot as a marker (the consumer keeps order).
    trace::publish(
        store.broker.port,
        &format!("omo/v1/stores/{STORE}/trace"),
        &received[0],
    )
    .await;
    queue(&store, &received).await;
    let marker = trace_import::events_from_file(
        "gtin,lot,farm\n2000420000008,MARKER-1,Marker Farm\n",
        STORE,
        chrono::Utc::now(),
    )
    .unwrap();
    queue(&store, &marker).await;
    support::eventually(WAIT, "the marker lot at the resolver", || async {
        (trace::json(resolver, &format!("/01/{SALMON}/10/MARKER-1"))
            .await
            .0
            == 200)
            .then_some(())
    })
    .await;
    let (_, document) = trace::json(resolver, &path).await;
    let events = trace::events(&document);
    assert_eq!(
        events.len(),
        3,
        "a repeated event was stored twice: {document:#}"
    );
    let (_, document) = trace::json(resolver, &format!("/01/{SALMON}/10/FISH-2611")).await;
    let receivings = trace::events(&document)
        .iter()
        .filter(|e| e["bizStep"] == "receiving")
        .count();
    assert_eq!(receivings, 1, "{document:#}");
}
