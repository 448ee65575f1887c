//! Unit tests of [`super`] (the `config` module), kept beside it to keep the module short.

use super::*;

#[test]
fn default_toml_is_the_default_config() {
    assert_eq!(
        CloudConfig::from_toml_str(CloudConfig::default_toml()).unwrap(),
        CloudConfig::default()
    );
}

#[test]
fn a_typo_names_the_key_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cloud.toml");
    std::fs::write(&path, "grpc_lisen = \"127.0.0.1:1\"\n").unwrap();
    let err = CloudConfig::load(Some(&path)).unwrap_err().to_string();
    assert!(err.contains("grpc_lisen"), "{err}");
    assert!(err.contains(&path.display().to_string()), "{err}");
}

#[test]
fn a_wrong_type_names_the_key() {
    let err = CloudConfig::from_toml_str("pending_timeout_secs = \"soon\"")
        .unwrap_err()
        .to_string();
    assert!(err.contains("pending_timeout_secs"), "{err}");
}

#[test]
fn a_missing_file_is_an_error_naming_it() {
    let err = CloudConfig::load(Some(Path::new("/nonexistent/cloud.toml"))).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/cloud.toml"), "{err}");
}

#[test]
fn an_admin_token_hash_must_be_64_hex_digits() {
    let err = CloudConfig::from_toml_str("admin_token_sha256 = \"secret\"")
        .unwrap_err()
        .to_string();
    assert!(err.contains("admin_token_sha256"), "{err}");
    let hash = crate::identity::token_sha256("secret");
    let config = CloudConfig::from_toml_str(&format!("admin_token_sha256 = \"{hash}\"")).unwrap();
    assert_eq!(config.admin_token_sha256, Some(hash));
}

#[test]
fn absurd_durations_and_sizes_are_refused_by_name() {
    for (toml, key) in [
        ("pending_timeout_secs = 0", "pending_timeout_secs"),
        (
            "pending_timeout_secs = 9223372036854775807",
            "pending_timeout_secs",
        ),
        ("pending_timeout_secs = -1", "pending_timeout_secs"),
        ("wrong_code_window_secs = 0", "wrong_code_window_secs"),
        (
            "wrong_code_window_secs = 9999999999",
            "wrong_code_window_secs",
        ),
        ("wrong_code_limit = 0", "wrong_code_limit"),
        ("cancel_window_secs = 0", "cancel_window_secs"),
        (
            "delivery_answer_timeout_secs = 99999999999",
            "delivery_answer_timeout_secs",
        ),
        ("sweep_interval_secs = 0", "sweep_interval_secs"),
        ("shutdown_grace_secs = 86400000", "shutdown_grace_secs"),
        ("catalog_page_limit = 0", "catalog_page_limit"),
        ("database_max_connections = 0", "database_max_connections"),
        ("no_confirm_limit_fen = -5", "no_confirm_limit_fen"),
        (
            "no_confirm_limit_fen = 9223372036854775807",
            "no_confirm_limit_fen",
        ),
        ("mqtt_client_id = \"\"", "mqtt_client_id"),
        ("mqtt_share_group = \"omo-cloud\"", "mqtt_share_group"),
        (
            "mqtt_share_group = \"omo-cloud-7f3a/9c2e1b4d\"",
            "mqtt_share_group",
        ),
        (
            "mqtt_share_group = \"omo-cloud-7f3a\\u0000c2e1b4d\"",
            "mqtt_share_group",
        ),
        (
            "mqtt_share_group = \"omo-cloud-7f3a+9c2e1b4d\"",
            "mqtt_share_group",
        ),
        ("funding_token_sha256 = \"abc\"", "funding_token_sha256"),
        (
            "[store_token_sha256]\n\"SH-1\" = \"abc\"",
            "store_token_sha256.SH-1",
        ),
    ] {
        let err = CloudConfig::from_toml_str(toml)
            .expect_err(toml)
            .to_string();
        assert!(err.contains(&format!("`{key}`")), "{toml}: {err}");
    }
}

proptest::proptest! {
    #[test]
    fn any_number_for_any_bounded_key_is_accepted_or_refused_by_name(
        key in proptest::sample::select(vec![
            "database_max_connections", "no_confirm_limit_fen", "pending_timeout_secs",
            "delivery_answer_timeout_secs", "cancel_window_secs", "wrong_code_limit",
            "wrong_code_window_secs", "catalog_page_limit", "sweep_interval_secs",
            "shutdown_grace_secs",
        ]),
        value in proptest::prelude::any::<i64>(),
    ) {
        match CloudConfig::from_toml_str(&format!("{key} = {value}")) {
            Ok(config) => proptest::prop_assert!(config.ranges().iter().all(|(_, v, lo, hi)| v >= lo && v <= hi)),
            Err(e) => proptest::prop_assert!(e.to_string().contains(key), "{}", e),
        }
    }
}

#[test]
fn a_share_group_of_16_bytes_or_more_is_accepted() {
    let config = CloudConfig::from_toml_str("mqtt_share_group = \"omo-cloud-7f3a9c2e\"").unwrap();
    assert_eq!(
        config.mqtt_share_group.as_deref(),
        Some("omo-cloud-7f3a9c2e")
    );
}

#[test]
fn file_values_override_defaults() {
    let config = CloudConfig::from_toml_str("no_confirm_limit_fen = 5").unwrap();
    assert_eq!(config.no_confirm_limit_fen, 5);
    assert_eq!(config.grpc_listen, CloudConfig::default().grpc_listen);
}
