//! The keys exit passes are signed and checked with, and their rotation (`[exit_pass]`).
//!
//! Without `[[exit_pass.key]]` entries the edge signs with one key it made at random on first
//! start and keeps in its database, under the id `K0`. To rotate, list keys: the FIRST is the
//! current one (it signs new passes), the others only verify, until their `retire_at`:
//!
//! ```toml
//! [[exit_pass.key]]
//! id = "K1"                          # 1-8 of A-Z, 0-9; printed in every pass it signs
//! secret_file = "/etc/omo/exit-k1"   # at least 32 bytes as hex (64+ hex digits)
//! [[exit_pass.key]]
//! id = "K0"                          # no secret_file: the key the edge generated
//! retire_at = "2026-12-04T12:00:00Z" # passes signed with K0 open exits until then
//! ```
//!
//! Passes live two minutes by default (`[[exit]] pass_ttl_secs`), so an old key can be retired
//! a few minutes after the new one is listed first.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::exit_pass::Key;

/// The id of the key the edge generates and keeps in its database.
pub const GENERATED_KEY_ID: &str = "K0";

/// `[exit_pass]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExitPassConfig {
    /// The signing keys, current first (`[[exit_pass.key]]`).
    #[serde(default, rename = "key")]
    pub keys: Vec<ExitKeyConfig>,
}

/// `[[exit_pass.key]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExitKeyConfig {
    pub id: String,
    /// A file holding the secret as hex; without it, the key the edge generated.
    #[serde(default)]
    pub secret_file: Option<PathBuf>,
    /// RFC 3339: passes signed with this key stop verifying then. Not for the first key.
    #[serde(default)]
    pub retire_at: Option<String>,
}

impl ExitPassConfig {
    /// Checks ids and retirement times (the secret files are read when the edge starts).
    pub fn validate(&self) -> Result<(), String> {
        let mut seen = std::collections::HashSet::new();
        let mut generated = 0;
        for (n, key) in self.keys.iter().enumerate() {
            if key.id.is_empty()
                || key.id.len() > 8
                || !key
                    .id
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            {
                return Err(format!(
                    "key `exit_pass.key.id`: {:?} must be 1 to 8 of A-Z and 0-9",
                    key.id
                ));
            }
            if !seen.insert(&key.id) {
                return Err(format!(
                    "key `exit_pass.key.id`: {:?} appears twice",
                    key.id
                ));
            }
            if key.secret_file.is_none() {
                generated += 1;
            }
            match (&key.retire_at, n) {
                (Some(_), 0) => {
                    return Err(format!(
                        "key `exit_pass.key.retire_at`: {:?} is the current (first) key and cannot be retired",
                        key.id
                    ));
                }
                (Some(at), _) => {
                    DateTime::parse_from_rfc3339(at).map_err(|e| {
                        format!(
                            "key `exit_pass.key.retire_at`: {at:?} of key {:?} is not an RFC 3339 time ({e})",
                            key.id
                        )
                    })?;
                }
                (None, _) => {}
            }
        }
        if generated > 1 {
            return Err(
                "key `exit_pass.key.secret_file`: only one key may be the generated one (no secret_file)".into(),
            );
        }
        Ok(())
    }
}

/// One loaded key.
#[derive(Clone)]
struct Loaded {
    id: String,
    secret: Vec<u8>,
    retire_at: Option<DateTime<Utc>>,
}

/// The loaded keys: the current one signs, every unretired one verifies.
#[derive(Clone)]
pub struct ExitKeys {
    keys: Vec<Loaded>,
}

impl ExitKeys {
    /// The keys of `config`, with `generated` as the edge's own key.
    pub fn load(config: &ExitPassConfig, generated: Vec<u8>) -> Result<ExitKeys, String> {
        config.validate()?;
        if config.keys.is_empty() {
            return Ok(ExitKeys::single(GENERATED_KEY_ID, generated));
        }
        let mut keys = Vec::new();
        for key in &config.keys {
            let secret = match &key.secret_file {
                None => generated.clone(),
                Some(path) => {
                    let text = std::fs::read_to_string(path).map_err(|e| {
                        format!(
                            "exit pass key {:?}: cannot read {}: {e}",
                            key.id,
                            path.display()
                        )
                    })?;
                    let secret = decode_hex(text.trim()).ok_or_else(|| {
                        format!("exit pass key {:?}: {} is not hex", key.id, path.display())
                    })?;
                    if secret.len() < 32 {
                        return Err(format!(
                            "exit pass key {:?}: {} holds {} bytes; at least 32 are needed",
                            key.id,
                            path.display(),
                            secret.len()
                        ));
                    }
                    secret
                }
            };
            let retire_at = key
                .retire_at
                .as_deref()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc));
            keys.push(Loaded {
                id: key.id.clone(),
                secret,
                retire_at,
            });
        }
        Ok(ExitKeys { keys })
    }

    /// One key, for tests and tools.
    pub fn single(id: &str, secret: Vec<u8>) -> ExitKeys {
        ExitKeys {
            keys: vec![Loaded {
                id: id.to_string(),
                secret,
                retire_at: None,
            }],
        }
    }

    /// The key new passes are signed with.
    pub fn signing(&self) -> Key<'_> {
        let current = &self.keys[0];
        Key {
            id: &current.id,
            secret: &current.secret,
        }
    }

    /// The secret of key `id`, if it still verifies at `now`.
    pub fn verifying(&self, id: &str, now: DateTime<Utc>) -> Option<&[u8]> {
        self.keys
            .iter()
            .find(|k| k.id.eq_ignore_ascii_case(id))
            .filter(|k| k.retire_at.is_none_or(|at| now < at))
            .map(|k| k.secret.as_slice())
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str, retire_at: Option<&str>) -> ExitKeyConfig {
        ExitKeyConfig {
            id: id.into(),
            secret_file: None,
            retire_at: retire_at.map(str::to_string),
        }
    }

    #[test]
    fn the_first_key_signs_and_a_retired_one_stops_verifying() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("k1");
        std::fs::write(&file, "ab".repeat(32)).unwrap();
        let config = ExitPassConfig {
            keys: vec![
                ExitKeyConfig {
                    id: "K1".into(),
                    secret_file: Some(file),
                    retire_at: None,
                },
                key("K0", Some("2026-12-04T12:00:00Z")),
            ],
        };
        let keys = ExitKeys::load(&config, vec![7; 32]).unwrap();
        assert_eq!(keys.signing().id, "K1");
        assert_eq!(keys.signing().secret, &[0xab; 32][..]);
        let before = DateTime::parse_from_rfc3339("2026-12-04T11:59:59Z")
            .unwrap()
            .to_utc();
        let after = DateTime::parse_from_rfc3339("2026-12-04T12:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(keys.verifying("K0", before), Some(&[7u8; 32][..]));
        assert_eq!(keys.verifying("K0", after), None);
        assert!(keys.verifying("K1", after).is_some());
        assert!(keys.verifying("K9", before).is_none());
    }

    #[test]
    fn bad_key_settings_are_refused_by_name() {
        for (keys, needle) in [
            (vec![key("k1", None)], "exit_pass.key.id"),
            (vec![key("K1", None), key("K1", None)], "appears twice"),
            (
                vec![key("K1", Some("2026-12-04T12:00:00Z"))],
                "cannot be retired",
            ),
            (
                vec![key("K1", None), key("K2", Some("tomorrow"))],
                "RFC 3339",
            ),
            (vec![key("K1", None), key("K2", None)], "only one key"),
        ] {
            let error = ExitPassConfig { keys }.validate().unwrap_err();
            assert!(error.contains(needle), "{error}");
        }
    }
}
