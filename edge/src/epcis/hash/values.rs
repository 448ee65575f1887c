//! Scalar values as the pre-hash string writes them: lists as their members, numbers without
//! trailing zeros, timestamps in UTC with milliseconds and `Z`.

use chrono::{DateTime, SecondsFormat, Timelike, Utc};
use serde_json::Value;

use super::HashError;

pub(super) fn items(value: &Value) -> Box<dyn Iterator<Item = &Value> + '_> {
    match value {
        Value::Array(values) => Box::new(values.iter()),
        Value::Null => Box::new(std::iter::empty()),
        other => Box::new(std::iter::once(other)),
    }
}

pub(super) fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(_) => number(value),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A number without trailing zeros (`1.0` → `1`, `0.3430` → `0.343`).
pub(super) fn number(value: &Value) -> String {
    match value {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.to_string()
            } else if let Some(u) = n.as_u64() {
                u.to_string()
            } else {
                let f = n.as_f64().unwrap_or_default();
                if f.fract() == 0.0 && f.abs() < 1e15 {
                    format!("{}", f as i64)
                } else {
                    format!("{f}")
                }
            }
        }
        Value::String(s) => {
            let s = s.trim();
            match s.parse::<f64>() {
                Ok(f) if f.is_finite() => number(&serde_json::json!(f)),
                _ => s.to_string(),
            }
        }
        other => scalar(other),
    }
}

/// A timestamp in UTC with milliseconds (rounded) and `Z`.
pub(super) fn time(field: &str, value: &Value) -> Result<String, HashError> {
    let text = scalar(value);
    let parsed = DateTime::parse_from_rfc3339(text.trim()).map_err(|_| HashError::Time {
        field: field.to_string(),
        value: text.clone(),
    })?;
    let mut at = parsed.with_timezone(&Utc);
    let nanos = at.nanosecond() % 1_000_000_000;
    let rounded = (nanos + 500_000) / 1_000_000 * 1_000_000;
    at = at.with_nanosecond(0).unwrap_or(at) + chrono::Duration::nanoseconds(i64::from(rounded));
    Ok(at.to_rfc3339_opts(SecondsFormat::Millis, true))
}
