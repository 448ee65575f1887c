//! An edge proves its store to the cloud, as separate `omo` processes: by a TLS client
//! certificate that names the store (the cloud's `[tls] client_ca`, the edge's `[cloud_tls]`), or
//! by a store token (`store_token_sha256` / `cloud_token_file`). With the right credentials a
//! checkout charges the wallet once; an edge whose certificate names another store, or that
//! holds a wrong token, gets no payment (the lane declines, the wallet keeps its money) and no
//! catalog. The catalog itself is loaded with the administrator's token (`admin_token_sha256`).
//! Certificates are made at test time (rcgen).

mod support;
#[path = "../cloud/tests/support/test_ca.rs"]
mod test_ca;

use std::time::Duration;

use omo_cloud::identity::token_sha256;
use rcgen::ExtendedKeyUsagePurpose;
use support::BrokerKind;
use support::store::{CloudSetup, STORE, TestStore};
use test_ca::TestCa;

const WAIT: Duration = Duration::from_secs(30);
const PEN: &str = "4006381333931";
const ADMIN_TOKEN: &str = "the-administrators-token";

/// Scans a pen and pays with the wallet's current code. Returns whether the checkout completed
/// (false: the lane declined the payment), and the lane's view then.
async fn buy_a_pen(store: &TestStore, code: &str) -> (bool, serde_json::Value) {
    let lane = &store.lanes[0];
    let before = store.lane_view("1").await["completed"].as_u64().unwrap();
    lane.scanner.scan(PEN).await.unwrap();
    support::eventually(WAIT, "the pen in the basket", || async {
        (store.lane_view("1").await["item_count"] == 1).then_some(())
    })
    .await;
    lane.scanner.scan(code).await.unwrap();
    support::eventually(WAIT, "the payment's answer", || async {
        let view = store.lane_view("1").await;
        if view["completed"].as_u64() > Some(before) {
            Some((true, view))
        } else if view["prompt"]["code"] == "declined" {
            Some((false, view))
        } else {
            None
        }
    })
    .await
}

/// Waits until the edge's log shows that the cloud refused its catalog request.
async fn catalog_refused(store: &TestStore) {
    let edge = store.edge.as_ref().unwrap();
    support::eventually(WAIT, "the catalog sync refused", || async {
        edge.log()
            .contains("the cloud refused this store")
            .then_some(())
    })
    .await;
}

/// Restarts the edge with its config edited by `edit` (same data: its cached catalog).
async fn restart_edge_with(store: &mut TestStore, edit: impl FnOnce(String) -> String) {
    let mut edge = store.edge.take().unwrap();
    assert!(
        edge.stop(),
        "the edge did not stop cleanly:\n{}",
        edge.log()
    );
    drop(edge);
    store.edit_edge_config(edit);
    store.start_edge_offline().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_a_client_certificate_that_names_the_store() {
    let certs = tempfile::tempdir().unwrap();
    let dir = certs.path();
    let ca = TestCa::new();
    let ca_path = dir.join("ca.pem");
    std::fs::write(&ca_path, &ca.pem).unwrap();
    let (cloud_cert, cloud_key) = ca
        .leaf(
            "localhost",
            &["localhost", "127.0.0.1"],
            ExtendedKeyUsagePurpose::ServerAuth,
        )
        .write(dir, "cloud");
    let (store_cert, store_key) = ca
        .leaf(STORE, &[STORE], ExtendedKeyUsagePurpose::ClientAuth)
        .write(dir, "store");
    let (other_cert, other_key) = ca
        .leaf(
            "SH-OTHER",
            &["SH-OTHER"],
            ExtendedKeyUsagePurpose::ClientAuth,
        )
        .write(dir, "other");
    let setup = CloudSetup {
        toml: format!(
            "admin_token_sha256 = \"{}\"\n[tls]\ncert = \"{}\"\nkey = \"{}\"\nclient_ca = \"{}\"\n",
            token_sha256(ADMIN_TOKEN),
            cloud_cert.display(),
            cloud_key.display(),
            ca_path.display()
        ),
        ca_pem: Some(ca.pem.clone()),
        admin_token: Some(ADMIN_TOKEN.into()),
        ..CloudSetup::default()
    };
    // The cloud's certificate is checked for the name `localhost` (`domain`), not the URL's IP.
    let edge_tls = format!(
        "\n[cloud_tls]\nca = \"{}\"\ncert = \"{}\"\nkey = \"{}\"\ndomain = \"localhost\"\n",
        ca_path.display(),
        store_cert.display(),
        store_key.display()
    );
    let extra = format!("\n[weight_security]\nenabled = false\n{edge_tls}");
    let mut store = TestStore::start_with_cloud(BrokerKind::Mosquitto, 1, &extra, setup).await;
    assert!(store.cloud_url.starts_with("https://"));

    // The store's own certificate: the catalog arrives and a checkout charges once.
    store.start_edge().await;
    let wallet = store.enroll(100_000).await;
    let (completed, view) = buy_a_pen(&store, &wallet.code()).await;
    assert!(completed, "{view}");
    assert_eq!(store.balance(&wallet).await, 100_000 - 350);

    // A certificate that names another store: no catalog, no payment.
    restart_edge_with(&mut store, |toml| {
        toml.replace(
            &store_cert.display().to_string(),
            &other_cert.display().to_string(),
        )
        .replace(
            &store_key.display().to_string(),
            &other_key.display().to_string(),
        )
    })
    .await;
    catalog_refused(&store).await;
    let (completed, view) = buy_a_pen(&store, &wallet.code()).await;
    assert!(!completed, "declined: {view}");
    let reason = view["prompt"]["text"].as_str().unwrap();
    assert!(reason.contains("client certificate names"), "{view}");
    assert_eq!(
        store.balance(&wallet).await,
        100_000 - 350,
        "nothing charged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_a_store_token() {
    let store_token = "the-token-of-sh-t";
    let setup = CloudSetup {
        toml: format!(
            "admin_token_sha256 = \"{}\"\n[store_token_sha256]\n\"{STORE}\" = \"{}\"\n",
            token_sha256(ADMIN_TOKEN),
            token_sha256(store_token)
        ),
        admin_token: Some(ADMIN_TOKEN.into()),
        ..CloudSetup::default()
    };
    let mut store = TestStore::start_with_cloud(
        BrokerKind::Mosquitto,
        1,
        "\n[weight_security]\nenabled = false\n",
        setup,
    )
    .await;
    // The token in a file of its own, not in the config.
    let token_file = store.dir.path().join("cloud-token");
    std::fs::write(&token_file, format!("{store_token}\n")).unwrap();
    store.edit_edge_config(|toml| {
        format!("cloud_token_file = \"{}\"\n{toml}", token_file.display())
    });

    store.start_edge().await;
    let wallet = store.enroll(100_000).await;
    let (completed, view) = buy_a_pen(&store, &wallet.code()).await;
    assert!(completed, "{view}");
    assert_eq!(store.balance(&wallet).await, 100_000 - 350);

    // A wrong token: no catalog, no payment.
    restart_edge_with(&mut store, |toml| {
        let rest = toml
            .split_once('\n')
            .map(|(_, rest)| rest.to_string())
            .unwrap();
        format!("cloud_token = \"a-wrong-token\"\n{rest}")
    })
    .await;
    catalog_refused(&store).await;
    let (completed, view) = buy_a_pen(&store, &wallet.code()).await;
    assert!(!completed, "declined: {view}");
    let reason = view["prompt"]["text"].as_str().unwrap();
    assert!(reason.contains("unknown store token"), "{view}");
    assert_eq!(
        store.balance(&wallet).await,
        100_000 - 350,
        "nothing charged"
    );
}
