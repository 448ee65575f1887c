//! What every service shares: the store, the clock, the rules from the config, the metrics.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::clock::Clock;
use crate::config::CloudConfig;
pub use crate::config::MAX_AMOUNT_FEN;
use crate::db::Database;
use crate::error::ServiceError;
use crate::metrics::Metrics;

/// The shared state of the cloud's services; cheap to clone.
#[derive(Clone)]
pub struct Context {
    /// The database.
    pub db: Database,
    /// The time TOTP codes, time-outs and timestamps use.
    pub clock: Arc<dyn Clock>,
    /// The rules (limits, time-outs).
    pub config: Arc<CloudConfig>,
    /// Counters for `/metrics`.
    pub metrics: Arc<Metrics>,
}

impl Context {
    /// The current time.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

/// Require a non-empty identifier of at most `max` bytes without control characters.
pub fn require_id(field: &'static str, value: &str, max: usize) -> Result<(), ServiceError> {
    if value.is_empty() {
        return Err(ServiceError::invalid(field, "must not be empty"));
    }
    if value.len() > max {
        return Err(ServiceError::invalid(
            field,
            format!("longer than {max} bytes"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(ServiceError::invalid(field, "contains control characters"));
    }
    Ok(())
}

/// Require an amount in fen that is positive and below a sanity bound (one billion yuan).
pub fn require_amount(field: &'static str, amount_fen: i64) -> Result<(), ServiceError> {
    if amount_fen <= 0 {
        return Err(ServiceError::invalid(
            field,
            "must be a positive number of fen",
        ));
    }
    if amount_fen > MAX_AMOUNT_FEN {
        return Err(ServiceError::invalid(
            field,
            format!("above the maximum of {MAX_AMOUNT_FEN} fen"),
        ));
    }
    Ok(())
}
