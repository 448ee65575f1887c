//! `omo up` keeps house: a second store on the same data folder (or an `omo edge` / `omo cloud`
//! on its files) is refused naming the pid that holds it; every busy port is named in one
//! message before anything starts; SIGINT stops it within 3 s, removing the simulator links it
//! made in the temporary folder.
//!
//! Run under `flock /tmp/omo-fixed-ports.lock` like every `omo up` test.

mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{free_port, wait_for_port};

/// `omo up` on free ports with `data`, its temporary folder `tmp`, output to `log`.
fn omo_up(data: &Path, tmp: &Path, log: &Path, ports: [u16; 4]) -> Child {
    let [mqtt, grpc, cloud_http, http] = ports.map(|p| p.to_string());
    std::fs::create_dir_all(tmp).unwrap();
    let out = std::fs::File::create(log).unwrap();
    Command::new(env!("CARGO_BIN_EXE_omo"))
        .args(["up", "--lanes", "2", "--demo-every-secs", "1", "--data"])
        .arg(data)
        .args(["--mqtt-port", &mqtt, "--grpc-port", &grpc])
        .args(["--cloud-http-port", &cloud_http, "--http-port", &http])
        .env("TMPDIR", tmp)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap()
}

fn ports() -> [u16; 4] {
    [free_port(), free_port(), free_port(), free_port()]
}

/// Waits up to `within` for `child` to exit; its code, or None if it still runs.
fn exit_within(child: &mut Child, within: Duration) -> Option<i32> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status.code().unwrap_or(-1));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

struct KillOnDrop(Child);
impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_store_on_the_same_data_folder_is_refused_naming_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("omo-data");
    let first_ports = ports();
    let first = KillOnDrop(omo_up(
        &data,
        &dir.path().join("tmp1"),
        &dir.path().join("first.log"),
        first_ports,
    ));
    wait_for_port(first_ports[3], "the first omo up", None).await;
    let pid = first.0.id();

    // A second `omo up` on other ports but the same folder.
    let log = dir.path().join("second.log");
    let mut second = KillOnDrop(omo_up(&data, &dir.path().join("tmp2"), &log, ports()));
    let code = exit_within(&mut second.0, Duration::from_secs(20));
    let text = read(&log);
    assert!(
        code.is_some_and(|c| c != 0),
        "a second omo up ran: {code:?}\n{text}"
    );
    assert!(text.contains(&format!("pid {pid}")), "{text}");

    // `omo edge` on the store's edge folder, `omo cloud` on its SQLite file.
    let (_, example) = omo(&["edge", "generate-config"]);
    let edge = dir.path().join("edge.toml");
    let edge_data = data.join("edge");
    std::fs::write(
        &edge,
        example
            .replace(
                "data_dir = \"./omo-data/edge\"",
                &format!("data_dir = {:?}", edge_data.to_str().unwrap()),
            )
            .replace("127.0.0.1:8080", &format!("127.0.0.1:{}", free_port())),
    )
    .unwrap();
    let (code, text) = omo(&["edge", "--config", edge.to_str().unwrap()]);
    assert!(
        code != 0 && text.contains(&format!("pid {pid}")),
        "{code}: {text}"
    );
    let cloud = dir.path().join("cloud.toml");
    std::fs::write(
        &cloud,
        format!(
            "grpc_listen = \"127.0.0.1:{}\"\nhttp_listen = \"127.0.0.1:{}\"\ndatabase_url = \"sqlite://{}\"\n",
            free_port(),
            free_port(),
            data.join("cloud.db").display()
        ),
    )
    .unwrap();
    let (code, text) = omo(&["cloud", "--config", cloud.to_str().unwrap()]);
    assert!(
        code != 0 && text.contains(&format!("pid {pid}")),
        "{code}: {text}"
    );
}

/// Runs `omo ARGS` to the end (at most 20 s): exit code and output.
fn omo(args: &[&str]) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_omo"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let code = exit_within(&mut child, Duration::from_secs(20));
    if code.is_none() {
        let _ = child.kill();
    }
    let out = child.wait_with_output().unwrap();
    (
        code.unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn every_busy_port_is_named_in_one_message_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    let grpc = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let http = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let (grpc_port, http_port) = (
        grpc.local_addr().unwrap().port(),
        http.local_addr().unwrap().port(),
    );
    let log = dir.path().join("up.log");
    let data = dir.path().join("omo-data");
    let mut up = KillOnDrop(omo_up(
        &data,
        &dir.path().join("tmp"),
        &log,
        [free_port(), grpc_port, free_port(), http_port],
    ));
    let code = exit_within(&mut up.0, Duration::from_secs(20));
    let text = read(&log);
    assert!(code.is_some_and(|c| c != 0), "{code:?}\n{text}");
    let line = text
        .lines()
        .find(|l| l.contains(&grpc_port.to_string()))
        .unwrap_or_else(|| panic!("no line names port {grpc_port}:\n{text}"));
    assert!(
        line.contains(&http_port.to_string()),
        "the one message names only some busy ports: {line}\n{text}"
    );
    // Nothing started: no cloud database was created.
    assert!(!data.join("cloud.db").exists(), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_stops_the_store_within_3_s_and_removes_its_simulator_links() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().join("tmp");
    let log = dir.path().join("up.log");
    let p = ports();
    let mut up = KillOnDrop(omo_up(&dir.path().join("omo-data"), &tmp, &log, p));
    wait_for_port(p[3], "omo up", None).await;
    let links = || -> Vec<String> {
        std::fs::read_dir(&tmp)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("omo-sim-"))
            .collect()
    };
    assert!(
        !links().is_empty(),
        "the simulators made no links in TMPDIR"
    );
    // Let shoppers, riders and the edge get busy.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let asked = Instant::now();
    let _ = Command::new("kill")
        .args(["-INT", &up.0.id().to_string()])
        .status();
    let code = exit_within(&mut up.0, Duration::from_secs(15));
    let took = asked.elapsed();
    let text = read(&log);
    assert_eq!(code, Some(0), "{text}");
    assert!(took <= Duration::from_secs(3), "stop took {took:?}\n{text}");
    assert!(!text.contains("did not finish"), "{text}");
    assert_eq!(
        links(),
        Vec::<String>::new(),
        "left behind in TMPDIR\n{text}"
    );
}
