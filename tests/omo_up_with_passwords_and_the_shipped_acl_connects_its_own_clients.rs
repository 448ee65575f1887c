//! `omo up --mqtt-passwords FILE --mqtt-acl FILE`: the embedded broker checks a password file
//! that knows none of `omo up`'s own clients, and the shipped ACL; the cloud, the edge and the
//! riders still connect (under the user names the ACL grants, with passwords made at start), so
//! sales are published, riders report, and app delivery orders travel cloud → edge → cloud.

#[path = "support/delivery.rs"]
mod delivery;
mod support;

use std::time::Duration;

use delivery::{Client, password};
use support::OmoUp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn omo_up_with_passwords_and_the_shipped_acl_connects_its_own_clients() {
    let dir = tempfile::tempdir().unwrap();
    let passwd = dir.path().join("passwd");
    let made = std::process::Command::new("mosquitto_passwd")
        .args([
            "-b",
            "-c",
            passwd.to_str().unwrap(),
            "observer",
            &password("observer"),
        ])
        .status()
        .expect("mosquitto_passwd (apt install mosquitto)");
    assert!(made.success());
    let shipped = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/mosquitto/acl"),
    )
    .unwrap();
    let acl = dir.path().join("acl");
    std::fs::write(
        &acl,
        format!("{shipped}\nuser observer\ntopic read omo/v1/#\n"),
    )
    .unwrap();

    let flags = [
        "--lanes",
        "2",
        "--demo-every-secs",
        "1",
        "--mqtt-passwords",
        passwd.to_str().unwrap(),
        "--mqtt-acl",
        acl.to_str().unwrap(),
    ];
    let OmoUp {
        process: up, mqtt, ..
    } = OmoUp::start(dir.path(), &flags).await;
    let mut observer = Client::connect(mqtt, "observer", &["omo/v1/#"]).await;
    let wait = Duration::from_secs(90);

    // The edge is connected and writes its store's topics.
    observer
        .wait_for(wait, "a sale's EPCIS event", |t, v| {
            t == "omo/v1/stores/SH-001/trace" && v["bizStep"] == "retail_selling"
        })
        .await;
    // Riders are connected and write their own events.
    observer
        .wait_for(wait, "a rider's location", |t, v| {
            t.starts_with("omo/v1/riders/rider-") && v["event"] == "location"
        })
        .await;
    // The cloud forwards an app order, the edge reads it and accepts it.
    let (_, request) = observer
        .wait_for(wait, "an app order forwarded by the cloud", |t, _| {
            t == "omo/v1/stores/SH-001/delivery/requests"
        })
        .await;
    let order_id = request["order_id"].as_str().unwrap().to_string();
    observer
        .wait_for(wait, "the store's answer to it", |t, v| {
            (t == "omo/v1/stores/SH-001/delivery/orders"
                || t == "omo/v1/stores/SH-001/delivery/refusals")
                && v["order_id"] == order_id.as_str()
        })
        .await;
    up.assert_running();
    assert!(
        !up.log().contains("not authorised") && !up.log().contains("NotAuthorized"),
        "{}",
        up.log()
    );
}
