//! `omo edge validate` is the same judge as `omo edge`: whatever start refuses, validate
//! refuses, both with exit status 64 and one message that names the key once, a lane by its
//! id, and the environment variable when the bad value came from there. `omo cloud --check`
//! likewise for the cloud.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `omo ARGS` with `env` to the end (killed after 15 s): exit code and all output.
fn omo(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_omo"))
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// The generated config with `edit` applied, in `dir`, data and port of its own.
fn config(dir: &Path, name: &str, edit: impl Fn(String) -> String) -> String {
    let (_, example) = omo(&["edge", "generate-config"], &[]);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let example = example
        .replace(
            "data_dir = \"./omo-data/edge\"",
            &format!("data_dir = {:?}", dir.join(name).to_str().unwrap()),
        )
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{port}"));
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, edit(example)).unwrap();
    path.to_str().unwrap().to_string()
}

/// Both `omo edge validate` and `omo edge` refuse `path` with 64; the messages.
fn refused_by_both(path: &str, env: &[(&str, &str)]) -> [String; 2] {
    ["validate", "run"].map(|how| {
        let args: Vec<&str> = match how {
            "validate" => vec!["edge", "validate", "--config", path],
            _ => vec!["edge", "--config", path],
        };
        let (code, text) = omo(&args, env);
        assert_eq!(code, 64, "omo {args:?} with {env:?}:\n{text}");
        text
    })
}

#[test]
fn validate_refuses_the_listen_address_broker_and_cloud_urls_start_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &str, &str, &str); 3] = [
        (
            "http_listen",
            "http_listen = \"127.0.0.1:",
            "http_listen = \"localhost\"\n#",
            "http_listen",
        ),
        (
            "mqtt_url",
            "url = \"mqtt://127.0.0.1:1883\"",
            "url = \"htp:/oops\"",
            "mqtt.url",
        ),
        (
            "cloud_url",
            "cloud_url = \"http://127.0.0.1:50051\"",
            "cloud_url = \"127.0.0.1:50051\"",
            "cloud_url",
        ),
    ];
    for (name, from, to, key) in cases {
        let path = config(dir.path(), name, |t| {
            assert!(t.contains(from), "{from}");
            t.replacen(from, to, 1)
        });
        for text in refused_by_both(&path, &[]) {
            assert!(text.contains(&format!("`{key}`")), "{name}: {text}");
            assert!(text.contains(&path), "{name}: {text}");
        }
    }
}

#[test]
fn messages_name_the_key_once_and_lanes_by_their_id() {
    let dir = tempfile::tempdir().unwrap();
    let typo = config(dir.path(), "typo", |t| {
        t.replace("delivery_radius_m =", "delivery_radus_m =")
    });
    for text in refused_by_both(&typo, &[]) {
        assert_eq!(text.matches("delivery_radus_m").count(), 1, "{text}");
    }
    // A second lane, id "2", whose scale speaks no known protocol and whose scanner's baud is
    // words: named as lane "2", not as lane 1 (its index).
    let lanes = config(dir.path(), "lanes", |t| {
        format!(
            "{t}\n[[lane]]\nid = \"2\"\n[lane.scanner]\nport = \"/dev/ttyACM1\"\n\
             [lane.scale]\nport = \"/dev/ttyUSB1\"\nprotocol = \"toledo\"\n"
        )
    });
    for text in refused_by_both(&lanes, &[]) {
        assert!(text.contains("lane \"2\""), "{text}");
        assert!(text.contains("`lane.scale.protocol`"), "{text}");
        assert!(!text.contains("lane.1"), "{text}");
        assert!(!text.contains("``"), "doubled backticks: {text}");
    }
}

#[test]
fn a_bad_value_from_the_environment_names_the_variable_not_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = config(dir.path(), "env", |t| t);
    for text in refused_by_both(&path, &[("OMO_STORE_ID", "")]) {
        assert!(text.contains("OMO_STORE_ID"), "{text}");
        assert!(!text.contains("invalid config in"), "{text}");
    }
    for text in refused_by_both(&path, &[("OMO_HTTP_LISTEN", "localhost")]) {
        assert!(text.contains("OMO_HTTP_LISTEN"), "{text}");
    }
}

#[test]
fn omo_cloud_check_judges_as_start_does_and_names_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cloud.toml");
    std::fs::write(&path, "[tls]\ncert_file = \"x\"\n").unwrap();
    let path = path.to_str().unwrap();
    let (code, text) = omo(&["cloud", "--check", "--config", path], &[]);
    assert_eq!(code, 64, "{text}");
    assert_eq!(
        text.matches("cert_file").count(),
        2,
        "key and field, once each: {text}"
    );
    assert!(!text.contains("tls.cert_file.cert_file"), "{text}");
    assert!(
        text.contains("`client_ca`"),
        "expected the [tls] keys: {text}"
    );

    let ok = dir.path().join("ok.toml");
    std::fs::write(&ok, "pending_timeout_secs = 30\n").unwrap();
    let ok = ok.to_str().unwrap();
    let (code, text) = omo(&["cloud", "--check", "--config", ok], &[]);
    assert_eq!(code, 0, "{text}");
    let (code, text) = omo(
        &["cloud", "--check", "--config", ok],
        &[("OMO_CLOUD_PENDING_TIMEOUT_SECS", "0")],
    );
    assert_eq!(code, 64, "the variable was not applied: {text}");
    assert!(text.contains("OMO_CLOUD_PENDING_TIMEOUT_SECS"), "{text}");
}
