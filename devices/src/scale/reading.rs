//! What a scale says, as states rather than errors, and what can go wrong talking to one.

use serde::{Deserialize, Serialize};

/// One answer to "what do you weigh?". A lane acts only on [`WeightReading::Stable`]; the other
/// states are normal scale conditions, not errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum WeightReading {
    /// A stable weight in grams (net when a tare is active).
    Stable { grams: i64 },
    /// The weight is moving.
    Motion,
    /// Over capacity (UnifiedPOS: over).
    OverCapacity,
    /// Below zero (UnifiedPOS: under).
    UnderZero,
    /// The scale could not capture zero at power-up (outside the zero-capture range).
    OutsideZeroRange,
    /// The scale answered but gave no weight (busy, or a status with no condition set).
    NotReady,
    /// The scale is not answering or not connected; any earlier weight is void.
    Unavailable,
}

impl WeightReading {
    /// The grams of a stable reading.
    pub fn stable_grams(&self) -> Option<i64> {
        match self {
            Self::Stable { grams } => Some(*grams),
            _ => None,
        }
    }
}

/// The unit a Toledo 8217 scale is set to report in (MT-SICS replies name their unit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ScaleUnit {
    #[default]
    Kg,
    Lb,
}

/// Failures talking to a scale.
#[derive(Debug, thiserror::Error)]
pub enum ScaleError {
    #[error("cannot open scale port {port}: {source}")]
    Open {
        port: String,
        source: tokio_serial::Error,
    },
    #[error("scale port failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("scale did not answer within {ms} ms")]
    Timeout { ms: u64 },
    #[error("no stable weight within {ms} ms (last state: {last:?})")]
    NotStable {
        ms: u64,
        last: Option<WeightReading>,
    },
    #[error("scale refused the command: {0}")]
    Rejected(String),
    #[error("the {protocol} protocol has no {command} command")]
    Unsupported {
        protocol: &'static str,
        command: &'static str,
    },
}

/// Why bytes from a scale could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    #[error("{0} noise bytes before a reply")]
    Noise(usize),
    #[error("reply longer than {0} bytes without a terminator")]
    TooLong(usize),
    #[error("malformed reply {0:?}")]
    Malformed(String),
}

/// Converts a decimal weight text (`"01.234"`, `"-12.5"`) in `unit_per_gram` terms to grams,
/// rounding half away from zero. `num/den` is grams per unit (kg: 1000/1, lb: 45359237/100000).
pub(crate) fn to_grams(text: &str, num: i128, den: i128) -> Option<i64> {
    let (neg, body) = match text.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) || int.len() + frac.len() > 15 {
        return None;
    }
    let digits: i128 = format!("{int}{frac}").parse().ok()?;
    let div = 10i128
        .checked_pow(u32::try_from(frac.len()).ok()?)?
        .checked_mul(den)?;
    let grams = (digits.checked_mul(num)? * 2 + div) / (2 * div);
    let grams = i64::try_from(grams).ok()?;
    Some(if neg { -grams } else { grams })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grams_from_decimal_text() {
        assert_eq!(to_grams("01.234", 1000, 1), Some(1234));
        assert_eq!(to_grams("123.45", 1000, 1), Some(123_450));
        assert_eq!(to_grams("-0.5", 1000, 1), Some(-500));
        assert_eq!(to_grams("1234", 1, 1), Some(1234));
        assert_eq!(to_grams("02.205", 45_359_237, 100_000), Some(1000));
        assert_eq!(to_grams("1.2.3", 1000, 1), None);
        assert_eq!(to_grams(".", 1000, 1), None);
        assert_eq!(to_grams("", 1000, 1), None);
    }
}
