//! Issue 12's first hole, over real processes: `omo shopper enroll --balance-fen 90000000000`
//! made a wallet holding 900 million yuan that paid at a lane, and a wallet's own app could
//! top itself up. Now `omo cloud` opens every wallet empty, refuses top-ups from anyone but the
//! funding authority, credits a retried top-up once, and lists the funding account's movements.

mod support;

use std::path::Path;
use std::process::Output;

use omo_proto::shopper::shopper_service_client::ShopperServiceClient;
use omo_proto::shopper::{EnrollRequest, TopUpRequest};
use serde_json::Value;
use support::{FUNDING_TOKEN, Process, free_port, wait_for_port};
use tonic::Code;

/// `omo ARGS` to completion, in `dir`.
fn omo(dir: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_omo"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("omo runs")
}

fn json_of(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "omo failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn money_enters_a_wallet_only_through_the_funding_authority() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (grpc, http) = (free_port(), free_port());
    let config = d.join("cloud.toml");
    std::fs::write(
        &config,
        format!(
            "grpc_listen = \"127.0.0.1:{grpc}\"\nhttp_listen = \"127.0.0.1:{http}\"\ndatabase_url = \"sqlite://{}\"\n{}",
            d.join("cloud.db").display(),
            support::funding_toml()
        ),
    )
    .unwrap();
    let _cloud = Process::omo("cloud", &["cloud", "--config", config.to_str().unwrap()], d);
    wait_for_port(grpc, "omo cloud", None).await;
    let url = format!("http://127.0.0.1:{grpc}");
    let wallets = d.join("wallets.json");
    let wallets = wallets.to_str().unwrap();

    // The attack as a newcomer tried it: refused, by the cloud, with a pointer to the way in.
    let attack = omo(
        d,
        &["shopper", "enroll", "--balance-fen", "90000000000", "--cloud", &url, "--wallets", wallets],
    );
    assert_eq!(attack.status.code(), Some(64), "{attack:?}");
    let said = String::from_utf8_lossy(&attack.stderr);
    assert!(said.contains("omo shopper fund"), "{said}");
    assert!(!Path::new(wallets).exists(), "no wallet was kept");
    // The same request from a hand-made client (no CLI in the way).
    let mut app = ShopperServiceClient::connect(url.clone()).await.unwrap();
    let err = app
        .enroll(EnrollRequest {
            display_name: "Mallory".into(),
            initial_balance_fen: 90_000_000_000,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");

    // An honest enrolment opens an empty wallet.
    let enrolled = json_of(&omo(
        d,
        &["shopper", "enroll", "--name", "Li", "--cloud", &url, "--wallets", wallets],
    ));
    let wallet = enrolled["wallet_id"].as_str().unwrap().to_string();
    let balance = |d: &Path| {
        json_of(&omo(d, &["shopper", "balance", &wallet, "--cloud", &url, "--wallets", wallets]))
            ["balance_fen"]
            .as_i64()
            .unwrap()
    };
    assert_eq!(balance(d), 0);

    // The wallet's own app cannot top itself up.
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(wallets).unwrap()).unwrap();
    let secret =
        omo_cloud::paycode::decode_secret(saved[&wallet]["secret_base32"].as_str().unwrap())
            .unwrap();
    let err = app
        .top_up(omo_cloud::identity::with_bearer(
            TopUpRequest {
                wallet_id: wallet.clone(),
                amount_fen: 90_000_000_000,
                top_up_id: "self".into(),
            },
            &omo_cloud::paycode::app_token(&secret),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated, "{err:?}");

    // Nor can anyone with a token that is not the funding authority's.
    std::fs::write(d.join("wrong.token"), "guessed\n").unwrap();
    let wrong = omo(
        d,
        &["shopper", "fund", &wallet, "--amount-fen", "100", "--cloud", &url, "--token-file", "wrong.token"],
    );
    assert!(!wrong.status.success(), "{wrong:?}");
    assert_eq!(balance(d), 0);

    // The funding authority can, once per top-up id (a retried callback credits once).
    std::fs::write(d.join("funding.token"), format!("{FUNDING_TOKEN}\n")).unwrap();
    for _ in 0..2 {
        let funded = json_of(&omo(
            d,
            &[
                "shopper", "fund", &wallet, "--amount-fen", "5000", "--top-up-id", "bank-1",
                "--cloud", &url, "--token-file", "funding.token",
            ],
        ));
        assert_eq!(funded["balance_fen"], 5000);
    }
    assert_eq!(balance(d), 5000);

    // The funding account's movements are the audit of what entered the system.
    let audit = json_of(&omo(
        d,
        &["shopper", "funding", "--cloud", &url, "--token-file", "funding.token"],
    ));
    assert_eq!(audit["total_fen"], 5000, "{audit}");
    let movements = audit["movements"].as_array().unwrap();
    assert_eq!(movements.len(), 1, "{audit}");
    assert_eq!(movements[0]["ref_id"], "bank-1");
    assert_eq!(movements[0]["to"], format!("wallet:{wallet}"));
    let refused = omo(
        d,
        &["shopper", "funding", "--cloud", &url, "--token-file", "wrong.token"],
    );
    assert!(!refused.status.success(), "{refused:?}");
}
