//! `omo up --lanes 2 --manual-lanes 1`: lane 2 is left to a person. No simulated shopper drives
//! it (lane 1's do check out); the person's scans, bagging and payment code, sent with
//! `omo lane scan|bag` from another process, check out a basket (the gate opens, the sale is
//! recorded), and a basket above the no-confirm limit (100 yuan) waits PENDING until the
//! shopper confirms it with `omo shopper confirm`. On today's main `--manual-lanes` and
//! `omo lane` do not exist. Run it under `flock /tmp/omo-fixed-ports.lock` (it runs `omo up`).

mod support;

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use support::{OmoUp, eventually, get_json};

const WATER: &str = "6921168509256"; // 2.00 yuan, 570 g
const RICE: &str = "6928571010225"; // 89.90 yuan, 5020 g
const WAIT: Duration = Duration::from_secs(30);

/// Runs `omo ARGS`; its stdout lines as JSON (or the text), and whether it succeeded.
fn omo(args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_omo"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// `omo lane ACTION 2 [ARG] --data DATA`, which must succeed; its reply.
fn lane(data: &Path, action: &str, arg: Option<&str>) -> Value {
    let data = data.to_str().unwrap();
    let mut args = vec!["lane", action, "2"];
    args.extend(arg);
    args.extend(["--data", data]);
    let (ok, out) = omo(&args);
    assert!(ok, "omo {args:?}: {out}");
    serde_json::from_str(out.lines().next().unwrap()).unwrap()
}

async fn lane_view(http: u16) -> Value {
    get_json(&format!("http://127.0.0.1:{http}/api/lanes/2")).await
}

/// Scans and bags each of `codes` at lane 2, then the wallet's payment code.
async fn shop_and_pay(data: &Path, http: u16, codes: &[&str], wallet: &str, wallets: &Path) {
    for (n, code) in codes.iter().enumerate() {
        let scanned = lane(data, "scan", Some(code));
        assert!(scanned["unbagged_g"].as_i64().unwrap() > 0, "{scanned}");
        lane(data, "bag", None);
        eventually(WAIT, "the item scanned and bagged", || async {
            let view = lane_view(http).await;
            let bagged = view["session"]["bagging"]["awaited"]
                .as_array()
                .is_some_and(|a| a.is_empty());
            (view["item_count"] == n + 1 && bagged).then_some(())
        })
        .await;
    }
    let (ok, code) = omo(&[
        "shopper",
        "code",
        wallet,
        "--wallets",
        wallets.to_str().unwrap(),
    ]);
    assert!(ok, "{code}");
    lane(data, "scan", Some(code.trim()));
}

async fn gate_open(data: &Path) {
    eventually(WAIT, "lane 2's gate open", || async {
        (lane(data, "status", None)["gate"] == "open").then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn omo_up_a_person_checks_out_at_a_manual_lane() {
    let dir = tempfile::tempdir().unwrap();
    let OmoUp {
        process: mut up,
        data,
        grpc,
        http,
        ..
    } = OmoUp::start(
        dir.path(),
        &[
            "--lanes",
            "2",
            "--manual-lanes",
            "1",
            "--demo-every-secs",
            "1",
        ],
    )
    .await;
    let cloud = format!("http://127.0.0.1:{grpc}");
    let wallets = data.join("shopper").join("wallets.json");
    let socket = data.join("manual-lanes.sock");
    eventually(WAIT, "the banner and the socket", || async {
        (up.log().contains("omo lane scan 2") && socket.exists()).then_some(())
    })
    .await;
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "only this user may drive the lanes");
    // Another user cannot drive them (only root can run a command as another user to try).
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        use std::os::unix::process::CommandExt;
        let other = std::process::Command::new(env!("CARGO_BIN_EXE_omo"))
            .args(["lane", "status", "2", "--data", data.to_str().unwrap()])
            .uid(65534)
            .gid(65534)
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&other.stderr);
        assert!(
            !other.status.success() && said.contains("cannot reach"),
            "another user drove a manual lane (or omo did not run): {said}"
        );
    }
    // `omo up` enrolled and funded a wallet for the person.
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&wallets).unwrap()).unwrap();
    let person = saved.as_object().unwrap().keys().next().unwrap().clone();
    assert!(up.log().contains(&person), "the banner names the wallet");

    // Lane 1's simulated shoppers check out; lane 2 waits for the person.
    let token = support::login(&format!("http://127.0.0.1:{http}"), "manager", "manager").await;
    let sales = || async {
        support::get_json_with(&format!("http://127.0.0.1:{http}/api/sales"), &token).await["sales"]
            .as_array()
            .unwrap()
            .clone()
    };
    eventually(Duration::from_secs(60), "a checkout at lane 1", || async {
        sales()
            .await
            .iter()
            .any(|s| s["lane_id"] == "1")
            .then_some(())
    })
    .await;
    let view = lane_view(http).await;
    assert_eq!(
        view["item_count"], 0,
        "nobody simulated shops at lane 2: {view}"
    );
    assert!(!sales().await.iter().any(|s| s["lane_id"] == "2"));

    // The person checks out a bottle of water: paid at once, the gate opens, the sale recorded.
    shop_and_pay(&data, http, &[WATER], &person, &wallets).await;
    gate_open(&data).await;
    let sale = eventually(WAIT, "lane 2's sale", || async {
        sales().await.into_iter().find(|s| s["lane_id"] == "2")
    })
    .await;
    assert_eq!(sale["total_fen"], 200, "{sale}");
    assert_eq!(lane(&data, "pass", None)["scale_g"], 0);
    eventually(WAIT, "lane 2 free again", || async {
        let view = lane_view(http).await;
        (view["item_count"] == 0 && lane(&data, "status", None)["gate"] == "closed").then_some(())
    })
    .await;

    // A second shopper, enrolled and funded from the command line, buys two bags of rice
    // (179.80 yuan): PENDING until confirmed in the app.
    let (ok, enrolled) = omo(&[
        "shopper",
        "enroll",
        "--cloud",
        &cloud,
        "--name",
        "Bob",
        "--wallets",
        wallets.to_str().unwrap(),
    ]);
    assert!(ok, "{enrolled}");
    let bob = serde_json::from_str::<Value>(&enrolled).unwrap()["wallet_id"]
        .as_str()
        .unwrap()
        .to_string();
    let token_file = data.join("funding.token");
    let (ok, funded) = omo(&[
        "shopper",
        "fund",
        &bob,
        "--amount-fen",
        "50000",
        "--cloud",
        &cloud,
        "--token-file",
        token_file.to_str().unwrap(),
    ]);
    assert!(ok, "{funded}");
    shop_and_pay(&data, http, &[RICE, RICE], &bob, &wallets).await;
    eventually(WAIT, "the lane asks to confirm in the app", || async {
        let view = lane_view(http).await;
        (view["prompt"]["code"] == "confirm_in_app").then_some(())
    })
    .await;
    assert_eq!(lane(&data, "status", None)["gate"], "closed");
    let w = wallets.to_str().unwrap();
    let (ok, pending) = omo(&[
        "shopper",
        "confirm",
        &bob,
        "--cloud",
        &cloud,
        "--wallets",
        w,
    ]);
    assert!(ok, "{pending}");
    let pending: Value = serde_json::from_str(pending.lines().next().unwrap()).unwrap();
    assert_eq!(pending["status"], "PENDING");
    assert_eq!(pending["amount_fen"], 17980);
    let payment = pending["payment_id"].as_str().unwrap();
    let (ok, confirmed) = omo(&[
        "shopper",
        "confirm",
        &bob,
        payment,
        "--cloud",
        &cloud,
        "--wallets",
        w,
    ]);
    assert!(ok, "{confirmed}");
    assert!(confirmed.contains("SUCCEEDED"), "{confirmed}");
    gate_open(&data).await;
    eventually(WAIT, "the confirmed sale", || async {
        sales()
            .await
            .into_iter()
            .find(|s| s["lane_id"] == "2" && s["total_fen"] == 17980)
    })
    .await;
    // Not a manual lane: refused.
    let (ok, refused) = omo(&["lane", "scan", "1", WATER, "--data", data.to_str().unwrap()]);
    assert!(!ok && refused.contains("not a manual lane"), "{refused}");

    up.stop();
}

/// More manual lanes than lanes is a usage error: exit 64, naming the flag, before any port.
#[test]
fn more_manual_lanes_than_lanes_is_refused_with_64() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("omo-data");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_omo"))
        .args(["up", "--lanes", "2", "--manual-lanes", "3", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--manual-lanes 3"));
}
