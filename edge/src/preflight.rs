//! The edge's preflight: what a configuration needs from the world before the edge can run on
//! it, beyond its structure (`config`): the cloud link's URL, TLS files, client certificate and
//! token (`cloud::prepare`, no network), and each operator's password hash.
//!
//! `omo edge validate` and `omo edge` both call [`check_file`]; [`crate::run`] calls [`check`],
//! so a composed store (`omo up`) is held to the same rules.

use std::path::Path;

use crate::config::{ConfigError, EdgeConfig};

/// Checks `config`'s TLS files, certificates, token and password hashes. The message names the
/// key at fault (`key \`cloud_tls.ca\`: ...`). Never panics.
pub fn check(config: &EdgeConfig) -> Result<(), String> {
    crate::cloud::prepare(config).map_err(|e| e.to_string())?;
    for operator in &config.operators {
        crate::web::auth::check_password_hash(&operator.password_hash).map_err(|e| {
            format!(
                "key `operator.password_hash`: operator {:?}: {e} (make one with `omo edge hash-password`)",
                operator.name
            )
        })?;
    }
    Ok(())
}

/// [`check`] for a config loaded from `path`: the error names the file (or the `OMO_*`
/// variable that set the bad value) as loading does.
pub fn check_file(config: &EdgeConfig, path: &Path) -> Result<(), ConfigError> {
    check(config).map_err(|message| ConfigError::refused(message, path))
}
