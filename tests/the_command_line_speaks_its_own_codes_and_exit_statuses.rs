//! The `omo` command line as a newcomer meets it: a mistyped flag exits 64 (EX_USAGE, as the docs
//! say) while `--help` and `--version` exit 0; logs piped to a file are plain text; `omo barcode`
//! reads Omo's own exit passes and coupon codes; `omo label` refuses a lot outside GS1's
//! character set 82; and `omo trace` speaks https to a resolver, as the links `omo label`
//! makes require.

mod support;

use std::io::Read as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{free_port, wait_for_port};

fn omo(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_omo"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_usage_error_exits_64_and_help_and_version_exit_0() {
    for args in [
        &["up", "--lanez", "3"][..],
        &["up", "--lanes", "0"],
        &["up", "--lanes", "many"],
        &["frobnicate"],
        &[],
        &["barcode"],
    ] {
        let (code, out, err) = omo(args);
        assert_eq!(code, 64, "omo {args:?}\n{out}{err}");
    }
    for args in [&["--help"][..], &["--version"], &["up", "--help"]] {
        let (code, out, err) = omo(args);
        assert_eq!(code, 0, "omo {args:?}\n{out}{err}");
        assert!(!out.is_empty(), "omo {args:?} printed nothing on stdout");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_are_plain_text_when_not_on_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("broker.log");
    let port = free_port();
    let out = std::fs::File::create(&log).unwrap();
    let mut broker = Command::new(env!("CARGO_BIN_EXE_omo"))
        .args(["broker", "--listen", &format!("127.0.0.1:{port}")])
        .env_remove("RUST_LOG")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap();
    wait_for_port(port, "omo broker", None).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::fs::read_to_string(&log).unwrap_or_default().is_empty() && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = broker.kill();
    let _ = broker.wait();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.trim().is_empty(), "omo broker logged nothing");
    assert!(
        !text.contains('\u{1b}'),
        "ANSI codes in a log file:\n{text:?}"
    );
}

#[test]
fn omo_barcode_reads_an_exit_pass_and_a_coupon_code() {
    let (code, out, err) = omo(&["barcode", "OMOX2:K1:SH-001:2:01A2-7F-1:1800000000:ABCDEFGH"]);
    assert_eq!(code, 0, "{out}{err}");
    let pass: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(pass["kind"], "exit_pass", "{out}");
    assert_eq!(pass["store_id"], "SH-001", "{out}");
    assert_eq!(pass["lane_id"], "2", "{out}");
    assert_eq!(pass["order_id"], "01A2-7F-1", "{out}");
    assert_eq!(pass["issued_at"], "2027-01-15T08:00:00+00:00", "{out}");
    assert_eq!(pass["verified"], false, "{out}");

    let (code, out, err) = omo(&["barcode", "OMOC1:demo-50-minus-10:0193-abc"]);
    assert_eq!(code, 0, "{out}{err}");
    let coupon: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(coupon["kind"], "coupon", "{out}");
    assert_eq!(coupon["campaign_id"], "demo-50-minus-10", "{out}");
    assert_eq!(coupon["coupon_id"], "0193-abc", "{out}");

    // A broken one of each is a usage error that says what it is not.
    let (code, _, err) = omo(&["barcode", "OMOX2:K1:SH-001"]);
    assert_eq!(code, 64, "{err}");
    assert!(err.contains("exit pass"), "{err}");
}

#[test]
fn omo_label_refuses_a_lot_outside_gs1_character_set_82() {
    let dir = tempfile::tempdir().unwrap();
    for lot in ["L 7", "L#7", "批次7"] {
        let out = dir.path().join("label.svg");
        let (code, stdout, err) = omo(&[
            "label",
            "09520123456788",
            lot,
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(code, 64, "lot {lot:?}: {stdout}{err}");
        assert!(err.contains("character set 82"), "lot {lot:?}: {err}");
        assert!(!out.exists(), "a label was made for lot {lot:?}");
    }
    let (code, stdout, err) = omo(&["label", "09520123456788", "L-7/1"]);
    assert_eq!(code, 0, "{stdout}{err}");
}

#[test]
fn omo_trace_speaks_https_to_a_resolver() {
    // A listener that only records what the client sends first: a TLS ClientHello starts with
    // the handshake record type 0x16 and version 0x03 0x0N.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut trace = Command::new(env!("CARGO_BIN_EXE_omo"))
        .args([
            "trace",
            &format!("https://127.0.0.1:{port}/01/09520123456788/10/ABC123"),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let first = loop {
        match listener.accept() {
            Ok((mut stream, _)) => {
                stream.set_nonblocking(false).unwrap();
                stream
                    .set_read_timeout(Some(Duration::from_secs(5)))
                    .unwrap();
                let mut head = [0u8; 3];
                stream.read_exact(&mut head).unwrap();
                break Some(head);
            }
            Err(_) if Instant::now() < deadline => {
                if let Ok(Some(_)) = trace.try_wait() {
                    break None;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(_) => break None,
        }
    };
    let _ = trace.kill();
    let out = trace.wait_with_output().unwrap();
    let first = first.unwrap_or_else(|| {
        panic!(
            "omo trace never connected: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(first[0], 0x16, "not a TLS handshake: {first:?}");
    assert_eq!(first[1], 0x03, "not a TLS handshake: {first:?}");
}
