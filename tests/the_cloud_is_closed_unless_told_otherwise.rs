//! `omo cloud` refuses, at start, to listen beyond loopback while stores do not authenticate
//! (anyone reaching the port could pay and change the catalog as any store): a clear message
//! and exit status 64, unless `--insecure-dev`. Absurd config values are refused by key name.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use support::{Process, free_port, wait_for_port};

fn config(dir: &Path, name: &str, toml: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, toml).unwrap();
    path.to_str().unwrap().to_string()
}

/// Waits for `process` to exit; its exit code.
fn exit_code(process: &mut Process) -> Option<i32> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if process.try_status().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    process.exit_code()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cloud_refuses_to_listen_beyond_loopback_without_store_authentication() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (grpc, http) = (free_port(), free_port());
    let open = format!(
        "grpc_listen = \"0.0.0.0:{grpc}\"\nhttp_listen = \"127.0.0.1:{http}\"\ndatabase_url = \"sqlite://{}\"\n",
        d.join("cloud.db").display()
    );
    let path = config(d, "open.toml", &open);

    // The attack surface as shipped: all interfaces, no store authentication. Refused.
    let mut refused = Process::omo("refused", &["cloud", "--config", &path], d);
    assert_eq!(exit_code(&mut refused), Some(64), "{}", refused.log());
    let said = refused.log();
    assert!(
        said.contains(&format!("0.0.0.0:{grpc}")) && said.contains("store_token_sha256") && said.contains("--insecure-dev"),
        "{said}"
    );
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", grpc)).await.is_err(),
        "nothing listens"
    );

    // Told otherwise, explicitly, for development.
    let mut dev = Process::omo("dev", &["cloud", "--config", &path, "--insecure-dev"], d);
    wait_for_port(grpc, "omo cloud --insecure-dev", Some(&dev)).await;
    assert!(dev.stop());

    // With store authentication configured, all interfaces are fine.
    let hash = omo_cloud::identity::token_sha256("store-token");
    let path = config(
        d,
        "closed.toml",
        &format!("{open}[store_token_sha256]\n\"SH-001\" = \"{hash}\"\n"),
    );
    let mut closed = Process::omo("closed", &["cloud", "--config", &path], d);
    wait_for_port(grpc, "omo cloud with store tokens", Some(&closed)).await;
    assert!(closed.stop());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn absurd_cloud_config_values_are_refused_by_key_name() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (toml, key) in [
        ("pending_timeout_secs = 0\n", "pending_timeout_secs"),
        ("wrong_code_window_secs = 9223372036854775807\n", "wrong_code_window_secs"),
        ("sweep_interval_secs = -3\n", "sweep_interval_secs"),
        ("wrong_code_limit = 0\n", "wrong_code_limit"),
    ] {
        let path = config(d, "absurd.toml", &format!("grpc_listen = \"127.0.0.1:{}\"\n{toml}", free_port()));
        let mut cloud = Process::omo("absurd", &["cloud", "--config", &path], d);
        assert_eq!(exit_code(&mut cloud), Some(64), "{toml}: {}", cloud.log());
        let said = cloud.log();
        assert!(said.contains(key) && said.contains("absurd.toml"), "{toml}: {said}");
        assert!(!said.contains("panicked"), "{said}");
    }
}
