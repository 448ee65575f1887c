//! The edge config: loading, errors naming key and file, and bounds on every value.

use super::*;

#[test]
fn example_config_loads() {
    let config = EdgeConfig::from_toml_str(EXAMPLE_TOML, Path::new("edge.example.toml"))
        .expect("the shipped example must load");
    assert_eq!(config.store_id, "SH-001");
    assert_eq!(config.lanes.len(), 1);
    assert_eq!(config.delivery_radius_m, 3000);
    assert!(config.operators.is_empty());
}

#[test]
fn the_example_operator_loads_once_uncommented_with_a_real_hash() {
    let hash = crate::web::hash_password("correct horse");
    let text: String = EXAMPLE_TOML
        .lines()
        .map(|line| match line.strip_prefix('#') {
            Some(rest) if rest.starts_with("password_hash") => {
                format!("password_hash = \"{hash}\"\n")
            }
            Some(rest)
                if ["[[operator]]", "name =", "role ="]
                    .iter()
                    .any(|p| rest.starts_with(p)) =>
            {
                format!("{rest}\n")
            }
            _ => format!("{line}\n"),
        })
        .collect();
    let config = EdgeConfig::from_toml_str(&text, Path::new("edge.example.toml")).unwrap();
    assert_eq!(config.operators.len(), 1);
    assert_eq!(config.operators[0].name, "manager");
    assert_eq!(config.operators[0].role, crate::lane::Role::Manager);
}

#[test]
fn an_operator_without_a_real_password_hash_is_refused() {
    let text = format!(
        "{EXAMPLE_TOML}\n[[operator]]\nname = \"li\"\nrole = \"attendant\"\npassword_hash = \"secret\"\n"
    );
    let message = load_and_preflight(&text, Path::new("edge.toml"))
        .unwrap_err()
        .to_string();
    assert!(message.contains("operator.password_hash"), "{message}");
}

#[test]
fn a_typo_names_the_key_and_the_file() {
    let text = EXAMPLE_TOML.replace("store_id", "stor_id");
    let err = EdgeConfig::from_toml_str(&text, Path::new("/etc/omo/edge.toml")).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("/etc/omo/edge.toml"), "{message}");
    assert!(message.contains("stor_id"), "{message}");
}

#[test]
fn a_nested_typo_names_the_nested_key() {
    let text = EXAMPLE_TOML.replace("open_ms", "open_msec");
    let message = EdgeConfig::from_toml_str(&text, Path::new("edge.toml"))
        .unwrap_err()
        .to_string();
    assert!(message.contains("open_msec"), "{message}");
}

#[test]
fn a_missing_cloud_tls_file_names_the_key_and_both_files() {
    let text = EXAMPLE_TOML
        .replace(
            "cloud_url = \"http://127.0.0.1:50051\"",
            "cloud_url = \"https://127.0.0.1:50051\"",
        )
        .replace("# [cloud_tls]", "[cloud_tls]")
        .replace(
            "# ca = \"/etc/omo/cloud-ca.pem\"",
            "ca = \"/nonexistent/ca.pem\"",
        );
    let message = load_and_preflight(&text, Path::new("/etc/omo/edge.toml"))
        .unwrap_err()
        .to_string();
    assert!(message.contains("/etc/omo/edge.toml"), "{message}");
    assert!(message.contains("cloud_tls.ca"), "{message}");
    assert!(message.contains("/nonexistent/ca.pem"), "{message}");
}

#[test]
fn duplicate_lanes_are_refused() {
    let text =
        format!("{EXAMPLE_TOML}\n[[lane]]\nid = \"1\"\n[lane.scanner]\nport = \"/dev/ttyUSB9\"\n");
    let message = EdgeConfig::from_toml_str(&text, Path::new("edge.toml"))
        .unwrap_err()
        .to_string();
    assert!(message.contains("appears twice"), "{message}");
}

#[test]
fn broken_toml_reports_the_line() {
    let message = EdgeConfig::from_toml_str("store_id = \n", Path::new("edge.toml"))
        .unwrap_err()
        .to_string();
    assert!(message.contains("line 1"), "{message}");
}

/// A store with one lane (scale, camera, GPIO gate wiring) and one exit, as a TOML table.
fn full_store() -> toml::Table {
    let text = format!(
        "{EXAMPLE_TOML}\n[[exit]]\nid = \"north\"\npass_ttl_secs = 600\n[exit.scanner]\nport = \"/dev/ttyUSB5\"\n\
         [exit.camera]\nsource = \"/dev/video0\"\n"
    );
    let mut table: toml::Table = toml::from_str(&text).unwrap();
    let lane = table["lane"].as_array_mut().unwrap()[0]
        .as_table_mut()
        .unwrap();
    lane.insert(
        "camera".into(),
        toml::Value::Table(toml::from_str("source = \"/dev/video1\"\nmax_fps = 10.0").unwrap()),
    );
    lane["gate"].as_table_mut().unwrap().insert(
        "gpio".into(),
        toml::Value::Table(
            toml::from_str("relay_pin = 17\nbeam_pin = 27\nfire_alarm_pin = 22").unwrap(),
        ),
    );
    table
}

/// Sets `key` (dotted; `lane` and `exit` mean the first one) in `table`.
fn set(table: &mut toml::Table, key: &str, value: toml::Value) {
    let mut parts: Vec<&str> = key.split('.').collect();
    let last = parts.pop().unwrap();
    let mut at = table;
    for part in parts {
        let next = at
            .entry(part)
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        at = match next {
            toml::Value::Array(items) => items[0].as_table_mut().unwrap(),
            other => other.as_table_mut().unwrap(),
        };
    }
    at.insert(last.into(), value);
}

fn load(table: &toml::Table) -> Result<EdgeConfig, String> {
    EdgeConfig::from_toml_str(&toml::to_string(table).unwrap(), Path::new("edge.toml"))
        .map_err(|e| e.to_string())
}

/// Every bounded key, with its type.
const INTEGER_KEYS: &[&str] = &[
    "delivery_radius_m",
    "payment.rpc_timeout_ms",
    "payment.pending_poll_ms",
    "payment.pending_give_up_secs",
    "delivery.rider_capacity",
    "delivery.accept_timeout_secs",
    "delivery.warn_margin_secs",
    "delivery.rider_stale_secs",
    "delivery.tick_ms",
    "weight_security.noise_g",
    "weight_security.bagging_timeout_secs",
    "weight_security.grace_ms",
    "weight_security.own_bag_max_g",
    "weight_security.default_tolerance_g",
    "weight_security.empty_tolerance_g",
    "weight_security.learn_after",
    "lane.scanner.baud",
    "lane.scanner.max_frame",
    "lane.scanner.reconnect_ms",
    "lane.scanner.reconnect_max_ms",
    "lane.scale.baud",
    "lane.scale.poll_ms",
    "lane.scale.timeout_ms",
    "lane.scale.fail_threshold",
    "lane.scale.reconnect_ms",
    "lane.scale.reconnect_max_ms",
    "lane.camera.repeat_window_ms",
    "lane.camera.stream_timeout_ms",
    "lane.camera.fail_threshold",
    "lane.gate.open_ms",
    "lane.gate.pulse_ms",
    "lane.gate.gpio.relay_pin",
    "lane.gate.gpio.pulse_ms",
    "lane.gate.gpio.debounce_ms",
    "lane.gate.gpio.timing.open_ms",
    "lane.gate.gpio.timing.close_after_passage_ms",
    "lane.gate.gpio.timing.held_open_ms",
    "exit.pass_ttl_secs",
    "exit.gate.open_ms",
    "exit.scanner.reconnect_ms",
];
const FLOAT_KEYS: &[&str] = &[
    "delivery.rider_speed_mps",
    "delivery.batch_angle_deg",
    "lane.camera.max_fps",
];

#[test]
fn the_full_store_used_below_loads() {
    load(&full_store()).unwrap();
}

#[test]
fn zero_negative_and_enormous_durations_are_refused_by_key() {
    for key in INTEGER_KEYS {
        for value in [0, -1, i64::MIN, i64::MAX, 1 << 40] {
            let mut table = full_store();
            set(&mut table, key, toml::Value::Integer(value));
            match load(&table) {
                Ok(_) if value == 0 && ZERO_ALLOWED.contains(key) => {}
                Ok(_) => panic!("{key} = {value} was accepted"),
                Err(message) => {
                    let last = key.rsplit('.').next().unwrap();
                    assert!(message.contains(last), "{key} = {value}: {message}");
                }
            }
        }
    }
}

/// Keys where 0 is a meaningful value (no noise, no grace, no margin ...).
const ZERO_ALLOWED: &[&str] = &[
    "weight_security.noise_g",
    "weight_security.grace_ms",
    "weight_security.own_bag_max_g",
    "weight_security.default_tolerance_g",
    "weight_security.empty_tolerance_g",
    "delivery.warn_margin_secs",
    "lane.camera.repeat_window_ms",
    "lane.gate.gpio.relay_pin",
    "lane.gate.gpio.debounce_ms",
];

#[test]
fn a_pass_lifetime_that_overflows_a_duration_is_refused_by_name() {
    // chrono::Duration::seconds panics beyond i64::MAX / 1000 seconds: this used to reach it.
    let mut table = full_store();
    set(
        &mut table,
        "exit.pass_ttl_secs",
        toml::Value::Integer(i64::MAX / 100),
    );
    let message = load(&table).unwrap_err();
    assert!(message.contains("key `exit.pass_ttl_secs`"), "{message}");
    assert!(message.contains("exit \"north\""), "{message}");
    assert!(message.contains("edge.toml"), "{message}");
}

#[test]
fn a_zero_tick_and_a_nan_speed_are_refused_by_name() {
    let mut table = full_store();
    set(&mut table, "delivery.tick_ms", toml::Value::Integer(0));
    let message = load(&table).unwrap_err();
    assert!(message.contains("key `delivery.tick_ms`"), "{message}");
    let mut table = full_store();
    set(
        &mut table,
        "delivery.rider_speed_mps",
        toml::Value::Float(f64::NAN),
    );
    let message = load(&table).unwrap_err();
    assert!(
        message.contains("key `delivery.rider_speed_mps`"),
        "{message}"
    );
}

#[test]
fn a_reconnect_ceiling_below_its_first_delay_is_refused() {
    let mut table = full_store();
    set(
        &mut table,
        "lane.scanner.reconnect_ms",
        toml::Value::Integer(5_000),
    );
    set(
        &mut table,
        "lane.scanner.reconnect_max_ms",
        toml::Value::Integer(1_000),
    );
    let message = load(&table).unwrap_err();
    assert!(
        message.contains("lane.scanner.reconnect_max_ms"),
        "{message}"
    );
}

fn any_value() -> impl proptest::strategy::Strategy<Value = toml::Value> {
    use proptest::prelude::*;
    prop_oneof![
        any::<i64>().prop_map(toml::Value::Integer),
        (-5i64..100_000).prop_map(toml::Value::Integer),
        any::<f64>().prop_map(toml::Value::Float),
        Just(toml::Value::Float(f64::INFINITY)),
        Just(toml::Value::Float(f64::NAN)),
        ".{0,8}".prop_map(toml::Value::String),
        any::<bool>().prop_map(toml::Value::Boolean),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

    /// Whatever value any bounded key holds, loading never panics: it either succeeds or fails
    /// naming that key.
    #[test]
    fn no_config_value_panics_validation(
        key in proptest::sample::select([INTEGER_KEYS, FLOAT_KEYS].concat()),
        value in any_value(),
        other in proptest::sample::select([INTEGER_KEYS, FLOAT_KEYS].concat()),
        other_value in any_value(),
    ) {
        let mut table = full_store();
        set(&mut table, other, other_value);
        set(&mut table, key, value);
        let outcome = std::panic::catch_unwind(|| load(&table));
        let outcome = outcome.map_err(|_| proptest::test_runner::TestCaseError::fail(format!("{key}: validation panicked")))?;
        if let Err(message) = outcome {
            let names = [key, other].iter().any(|k| message.contains(k.rsplit('.').next().unwrap()));
            proptest::prop_assert!(names, "{key}/{other}: {message}");
        } else if let Ok(config) = outcome {
            // What the edge does with accepted values must not panic either.
            let _ = config.delivery.rules();
            for exit in &config.exits {
                let _ = chrono::Duration::seconds(exit.pass_ttl_secs);
            }
            let _ = chrono::Duration::seconds(config.weight_security.bagging_timeout_secs);
            let _ = chrono::Duration::milliseconds(config.weight_security.grace_ms);
        }
    }
}

/// Loading as `omo edge validate` does: the structure, then the preflight.
fn load_and_preflight(text: &str, path: &Path) -> Result<EdgeConfig, ConfigError> {
    let config = EdgeConfig::from_toml_str(text, path)?;
    crate::preflight::check_file(&config, path)?;
    Ok(config)
}
