//! Config errors as a person reads them: each names its key once (`lane.scanner.baud`, never
//! `lane.0.scanner.baud` nor `baud.baud`), a lane or exit by its id (`lane "1"`), and the
//! environment variable (`OMO_STORE_ID`) rather than the file when the value came from there.

use figment::error::Kind;

/// Environment variables that may override file settings (`OMO_STORE_ID`, `OMO_MQTT__URL`, ...).
pub(super) const ENV_KEYS: &[&str] = &[
    "store_id",
    "store_name",
    "lat",
    "lon",
    "delivery_radius_m",
    "cloud_url",
    "cloud_token",
    "cloud_token_file",
    "cloud_tls.ca",
    "cloud_tls.cert",
    "cloud_tls.key",
    "cloud_tls.domain",
    "resolver_url",
    "data_dir",
    "http_listen",
    "mqtt.url",
    "mqtt.username",
    "mqtt.password",
    "mqtt.client_id",
    "delivery.rider_speed_mps",
    "delivery.rider_capacity",
    "delivery.accept_timeout_secs",
    "delivery.batch_angle_deg",
    "delivery.warn_margin_secs",
    "delivery.rider_stale_secs",
    "delivery.tick_ms",
];

/// The environment variable that overrides `key` (`mqtt.url` → `OMO_MQTT__URL`).
pub(super) fn env_var(key: &str) -> String {
    format!("OMO_{}", key.to_ascii_uppercase().replace('.', "__"))
}

/// The environment variable that set `key`, if one did (names compared as figment does,
/// ignoring case).
pub(super) fn env_source(key: &str) -> Option<String> {
    let wanted = env_var(key);
    std::env::vars_os()
        .filter_map(|(name, _)| name.into_string().ok())
        .find(|name| name.eq_ignore_ascii_case(&wanted))
}

/// The key a `validate` message is about (`key \`store_id\`: ...` → `store_id`).
pub(super) fn key_of(message: &str) -> Option<&str> {
    message
        .strip_prefix("key `")?
        .split_once('`')
        .map(|(k, _)| k)
}

/// A figment path (`["lane", "0", "scanner", "baud"]`) as a key and the place it is in:
/// (`lane.scanner.baud`, `Some("lane \"1\"")`), the lane found by its index in `table`.
fn key_and_place(path: &[String], table: &toml::Table) -> (String, Option<String>) {
    let mut place = None;
    let mut key = Vec::new();
    let mut parts = path.iter().peekable();
    while let Some(part) = parts.next() {
        key.push(part.clone());
        let Some(index) = parts.peek().and_then(|p| p.parse::<usize>().ok()) else {
            continue;
        };
        parts.next();
        // Only top-level arrays of tables have ids; name them by id, else by position from 1.
        if key.len() == 1 {
            let id = table
                .get(part)
                .and_then(|v| v.as_array())
                .and_then(|a| a.get(index))
                .and_then(|t| t.get("id"))
                .map(|id| match id.as_str() {
                    Some(s) => format!("{s:?}"),
                    None => id.to_string(),
                });
            place = Some(match id {
                Some(id) => format!("{part} {id}"),
                None => format!("{part} number {} (it has no id)", index + 1),
            });
        }
    }
    (key.join("."), place)
}

/// One figment error as "key `a.b`: lane "1": what is wrong (from OMO_A__B)".
pub(super) fn describe(error: &figment::Error, table: &toml::Table) -> String {
    let (mut key, place) = key_and_place(&error.path, table);
    let what = match &error.kind {
        Kind::UnknownField(field, expected) => {
            // The path may or may not already end with the field.
            if key.rsplit('.').next() != Some(field.as_str()) {
                key = if key.is_empty() {
                    field.clone()
                } else {
                    format!("{key}.{field}")
                };
            }
            let place = place.map(|p| format!(" in {p}")).unwrap_or_default();
            return format!(
                "unknown key `{key}`{place} (expected one of: {})",
                expected.join(", ")
            );
        }
        Kind::MissingField(field) => {
            if key.rsplit('.').next() != Some(field.as_ref()) {
                key = if key.is_empty() {
                    field.to_string()
                } else {
                    format!("{key}.{field}")
                };
            }
            let place = place.map(|p| format!(" in {p}")).unwrap_or_default();
            return format!("missing key `{key}`{place}");
        }
        Kind::UnknownVariant(found, expected) => {
            format!(
                "unknown value {found:?} (expected one of: {})",
                expected.join(", ")
            )
        }
        kind => kind.to_string(),
    };
    let from_env = error
        .metadata
        .as_ref()
        .is_some_and(|m| m.name.contains("environment"));
    let source = match from_env {
        true => format!(
            " (from {})",
            env_source(&key).unwrap_or_else(|| env_var(&key))
        ),
        false => String::new(),
    };
    let place = place.map(|p| format!("{p}: ")).unwrap_or_default();
    if key.is_empty() {
        format!("{place}{what}{source}")
    } else {
        format!("key `{key}`: {place}{what}{source}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_are_named_by_id_and_keys_lose_their_index() {
        let table: toml::Table =
            toml::from_str("[[lane]]\nid = \"7\"\n[[lane]]\nid = \"9\"\n[[exit]]\n").unwrap();
        let path = |p: &str| p.split('.').map(String::from).collect::<Vec<_>>();
        assert_eq!(
            key_and_place(&path("lane.1.scanner.baud"), &table),
            ("lane.scanner.baud".into(), Some("lane \"9\"".into()))
        );
        assert_eq!(
            key_and_place(&path("exit.0.gate"), &table),
            (
                "exit.gate".into(),
                Some("exit number 1 (it has no id)".into())
            )
        );
        assert_eq!(
            key_and_place(&path("delivery_radius_m"), &table),
            ("delivery_radius_m".into(), None)
        );
    }

    #[test]
    fn env_names_follow_figment_splitting() {
        assert_eq!(env_var("store_id"), "OMO_STORE_ID");
        assert_eq!(env_var("mqtt.url"), "OMO_MQTT__URL");
        assert_eq!(key_of("key `store_id`: bad"), Some("store_id"));
        assert_eq!(key_of("keys `lat`/`lon`: bad"), None);
    }
}
