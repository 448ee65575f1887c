//! The error a user fixes in what they gave us (config, arguments): `omo` exits 64 on it.

/// A failure the user must fix in what they gave us (config, arguments): exit status 64.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);
