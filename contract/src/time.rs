//! Times: always UTC, RFC 3339 with `Z`. On the wire (MQTT payloads, EPCIS events, HTTP JSON)
//! with milliseconds; in the cloud's database with microseconds, so that text order is time
//! order and two events of one millisecond stay apart.

use chrono::{DateTime, SecondsFormat, Utc};

/// A time as it travels: RFC 3339, UTC, milliseconds, `Z`.
pub fn wire(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A time as the cloud stores it: RFC 3339, UTC, microseconds, `Z`.
pub fn stored(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Reads any RFC 3339 time (any offset) as UTC.
pub fn parse(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_precisions_are_utc_with_z() {
        let at = parse("2026-12-03T21:04:05.123456+08:00").unwrap();
        assert_eq!(wire(at), "2026-12-03T13:04:05.123Z");
        assert_eq!(stored(at), "2026-12-03T13:04:05.123456Z");
        assert_eq!(parse("yesterday"), None);
    }
}
