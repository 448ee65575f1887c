//! An edge proves its store to the cloud, as separate `omo` processes: by a TLS client
//! certificate that names the store (the cloud's `[tls] client_ca`, the edge's `[cloud_tls]`), or
//! by a store token (`store_token_sha256` / `cloud_token_file`). With the right credentials a
//! checkout charges the wallet once; an edge whose certificate names another store, or that
//! holds a wrong token, gets no payment (the lane declines, the wallet keeps its money) and no
//! catalog. The catalog itself is loaded with the administrator's token (`admin_token_sha256`).
//! Certificates are made at test time (rcgen).

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use omo_cloud::identity::token_sha256;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use support::BrokerKind;
use support::store::{CloudSetup, STORE, TestStore};

const WAIT: Duration = Duration::from_secs(30);
const PEN: &str = "4006381333931";
const ADMIN_TOKEN: &str = "the-administrators-token";

/// A test CA that issues leaf certificates.
struct TestCa {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl TestCa {
    fn new() -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "Omo test CA");
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        TestCa {
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A leaf certificate (not a CA) for `names` (the first is also the CN), written to `dir` as
    /// `<file>.pem` and `<file>-key.pem`.
    fn leaf(
        &self,
        dir: &Path,
        file: &str,
        names: &[&str],
        usage: ExtendedKeyUsagePurpose,
    ) -> (PathBuf, PathBuf) {
        let mut params =
            CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap();
        params.is_ca = IsCa::ExplicitNoCa;
        params.distinguished_name.push(DnType::CommonName, names[0]);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![usage];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let cert_path = dir.join(format!("{file}.pem"));
        let key_path = dir.join(format!("{file}-key.pem"));
        std::fs::write(&cert_path, cert.pem()).unwrap();
        std::fs::write(&key_path, key.serialize_pem()).unwrap();
        (cert_path, key_path)
    }
}

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
    let (cloud_cert, cloud_key) = ca.leaf(
        dir,
        "cloud",
        &["localhost", "127.0.0.1"],
        ExtendedKeyUsagePurpose::ServerAuth,
    );
    let (store_cert, store_key) =
        ca.leaf(dir, "store", &[STORE], ExtendedKeyUsagePurpose::ClientAuth);
    let (other_cert, other_key) = ca.leaf(
        dir,
        "other",
        &["SH-OTHER"],
        ExtendedKeyUsagePurpose::ClientAuth,
    );
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
