//! Exit passes: what a paid basket gets to leave the store. Pure functions, no IO.
//!
//! A pass is a short text meant for a QR code (alphanumeric mode: upper case, digits, `:` and
//! `-`): `OMOX1:{STORE}:{ORDER}:{ISSUED}:{SIG}`, where `ISSUED` is the payment time in Unix
//! seconds and `SIG` is the first 128 bits of HMAC-SHA256 over the rest under the edge's exit key,
//! in base32. The exit gate's scanner or camera checks it offline (signature, store, age); that it
//! is used only once is the gate's record, not the pass's.

use chrono::{DateTime, Duration, Utc};
use data_encoding::BASE32_NOPAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

const PREFIX: &str = "OMOX1";

/// A verified pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExitPass {
    pub store_id: String,
    pub order_id: String,
    pub issued_at: DateTime<Utc>,
}

/// Why a pass is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PassError {
    #[error("not an exit pass")]
    NotAPass,
    #[error("malformed exit pass")]
    Malformed,
    #[error("exit pass signature does not match (forged or from another store's edge)")]
    BadSignature,
    #[error("exit pass is for store {0}")]
    OtherStore(String),
    #[error("exit pass expired")]
    Expired,
    #[error("exit pass already used")]
    AlreadyUsed,
}

/// Whether a scanned text is meant as an exit pass (so the exit gate does not parse it as goods).
pub fn looks_like_pass(text: &str) -> bool {
    text.starts_with(PREFIX)
}

/// Issues the pass for a paid order.
pub fn issue(key: &[u8], store_id: &str, order_id: &str, paid_at: DateTime<Utc>) -> String {
    let body = format!(
        "{PREFIX}:{}:{}:{}",
        store_id.to_ascii_uppercase(),
        order_id.to_ascii_uppercase(),
        paid_at.timestamp()
    );
    let sig = signature(key, &body);
    format!("{body}:{sig}")
}

/// Checks a scanned pass for `store_id`, valid for `ttl` after payment.
pub fn verify(
    key: &[u8],
    store_id: &str,
    text: &str,
    now: DateTime<Utc>,
    ttl: Duration,
) -> Result<ExitPass, PassError> {
    if !looks_like_pass(text) {
        return Err(PassError::NotAPass);
    }
    let text = text.trim();
    let (body, sig) = text.rsplit_once(':').ok_or(PassError::Malformed)?;
    let parts: Vec<&str> = body.split(':').collect();
    let [prefix, store, order, issued] = parts[..] else {
        return Err(PassError::Malformed);
    };
    if prefix != PREFIX || store.is_empty() || order.is_empty() {
        return Err(PassError::Malformed);
    }
    let issued: i64 = issued.parse().map_err(|_| PassError::Malformed)?;
    let expected = signature(key, body);
    if !constant_time_eq(expected.as_bytes(), sig.as_bytes()) {
        return Err(PassError::BadSignature);
    }
    if !store.eq_ignore_ascii_case(store_id) {
        return Err(PassError::OtherStore(store.to_string()));
    }
    let issued_at = DateTime::from_timestamp(issued, 0).ok_or(PassError::Malformed)?;
    if now - issued_at > ttl || issued_at - now > Duration::minutes(5) {
        return Err(PassError::Expired);
    }
    Ok(ExitPass {
        store_id: store.to_string(),
        order_id: order.to_string(),
        issued_at,
    })
}

fn signature(key: &[u8], body: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(body.as_bytes());
    let digest = mac.finalize().into_bytes();
    BASE32_NOPAD.encode(&digest[..16])
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    #[test]
    fn a_pass_verifies_for_its_store_within_its_time() {
        let pass = issue(KEY, "SH-001", "01a2-7f-1", at(0));
        assert!(pass.starts_with("OMOX1:SH-001:01A2-7F-1:"));
        assert!(
            pass.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || ":-".contains(c)),
            "{pass}"
        );
        let ok = verify(KEY, "SH-001", &pass, at(60), Duration::minutes(15)).unwrap();
        assert_eq!(ok.order_id, "01A2-7F-1");
        assert_eq!(
            verify(KEY, "SH-001", &pass, at(16 * 60), Duration::minutes(15)),
            Err(PassError::Expired)
        );
        assert_eq!(
            verify(KEY, "SH-002", &pass, at(60), Duration::minutes(15)),
            Err(PassError::OtherStore("SH-001".into()))
        );
    }

    #[test]
    fn forged_and_malformed_passes_are_refused() {
        let pass = issue(KEY, "SH-001", "O-1", at(0));
        let forged = pass.replace("O-1", "O-2");
        assert_eq!(
            verify(KEY, "SH-001", &forged, at(1), Duration::minutes(15)),
            Err(PassError::BadSignature)
        );
        assert_eq!(
            verify(
                b"another key",
                "SH-001",
                &pass,
                at(1),
                Duration::minutes(15)
            ),
            Err(PassError::BadSignature)
        );
        for bad in [
            "OMOX1",
            "OMOX1:",
            "OMOX1:A:B:C",
            "OMOX1:A:B:notanumber:SIG",
            "OMOX1::B:1:SIG",
        ] {
            assert!(
                verify(KEY, "SH-001", bad, at(1), Duration::minutes(15)).is_err(),
                "{bad}"
            );
        }
        assert_eq!(
            verify(KEY, "SH-001", "4006381333931", at(1), Duration::minutes(15)),
            Err(PassError::NotAPass)
        );
    }

    #[test]
    fn arbitrary_text_never_panics() {
        for text in [
            "OMOX1:::::",
            "OMOX1:\u{0}:\u{ffff}:9999999999999999999:x",
            "OMOX1:a:b:-99999999999999:Z",
        ] {
            let _ = verify(KEY, "SH-001", text, at(0), Duration::minutes(15));
        }
    }
}
