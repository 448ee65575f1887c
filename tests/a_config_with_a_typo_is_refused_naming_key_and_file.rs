//! A config with a typo stops `omo edge` and `omo cloud` at once, with exit status 64 and a
//! message that names the key and the file; a valid config passes `omo edge validate`.

use std::process::Command;

fn omo(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_omo"))
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn the_generated_edge_config_validates() {
    let dir = tempfile::tempdir().unwrap();
    let (code, text) = omo(&["edge", "generate-config"]);
    assert_eq!(code, 0, "{text}");
    let path = dir.path().join("edge.toml");
    std::fs::write(&path, text).unwrap();
    let (code, text) = omo(&["edge", "validate", "--config", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("valid"), "{text}");
}

#[test]
fn an_edge_config_typo_names_the_key_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (_, example) = omo(&["edge", "generate-config"]);
    let path = dir.path().join("edge.toml");
    std::fs::write(
        &path,
        example.replace("delivery_radius_m", "delivery_radius"),
    )
    .unwrap();
    for args in [
        vec!["edge", "validate", "--config", path.to_str().unwrap()],
        vec!["edge", "--config", path.to_str().unwrap()],
    ] {
        let (code, text) = omo(&args);
        assert_eq!(code, 64, "{text}");
        assert!(text.contains("delivery_radius"), "{text}");
        assert!(text.contains(path.to_str().unwrap()), "{text}");
    }
}

#[test]
fn a_cloud_config_typo_names_the_key_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cloud.toml");
    std::fs::write(&path, "grpc_lisen = \"127.0.0.1:0\"\n").unwrap();
    let (code, text) = omo(&["cloud", "--config", path.to_str().unwrap()]);
    assert_eq!(code, 64, "{text}");
    assert!(text.contains("grpc_lisen"), "{text}");
    assert!(text.contains(path.to_str().unwrap()), "{text}");
}

#[test]
fn a_missing_config_file_is_a_clear_error() {
    let (code, text) = omo(&["edge", "--config", "/nonexistent/edge.toml"]);
    assert_eq!(code, 64, "{text}");
    assert!(text.contains("/nonexistent/edge.toml"), "{text}");
}
