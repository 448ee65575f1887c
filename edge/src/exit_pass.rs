//! Exit passes: what a paid basket gets to leave the store. Pure functions, no IO.
//!
//! A pass is a short text meant for a QR code:
//! `OMOX2:{KID}:{STORE}:{LANE}:{ORDER}:{ISSUED}:{SIG}`, where `KID` is the id of the key that
//! signed it (see [`crate::exit_keys`] for rotation), `LANE` the lane that was paid at (an exit
//! admits only the passes of its lanes), `ISSUED` the payment time in Unix seconds and `SIG` the
//! first 128 bits of HMAC-SHA256 over the rest under that key, in base32. The exit gate's scanner
//! or camera checks it offline (key, signature, store, lane, age); that it is used only once is
//! the gate's record, not the pass's.
//!
//! Passes are shown only where their shopper is: the lane's authenticated screen (see
//! [`crate::web::screen`]) and, through the cloud, the paying wallet's app. Every public view of a
//! lane (the API, the event stream, the retained MQTT state) has them removed
//! ([`crate::board::LaneView`]).

use chrono::{DateTime, Duration, Utc};
use data_encoding::BASE32_NOPAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

const PREFIX: &str = "OMOX2";
/// Every pass starts with `OMOX` (older `OMOX1` passes are refused as malformed).
const FAMILY: &str = "OMOX";

/// A key that signs or checks passes, with its id.
#[derive(Clone, Copy)]
pub struct Key<'a> {
    pub id: &'a str,
    pub secret: &'a [u8],
}

/// A verified pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExitPass {
    pub key_id: String,
    pub store_id: String,
    pub lane_id: String,
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
    #[error("exit pass signed with unknown or retired key {0:?}")]
    UnknownKey(String),
    #[error("exit pass signature does not match (forged or from another store's edge)")]
    BadSignature,
    #[error("exit pass is for store {0}")]
    OtherStore(String),
    #[error("exit pass is for lane {0}, which this exit does not serve")]
    OtherLane(String),
    #[error("exit pass expired")]
    Expired,
    #[error("exit pass already used")]
    AlreadyUsed,
}

/// Whether a scanned text is meant as an exit pass (so the exit gate does not parse it as goods).
pub fn looks_like_pass(text: &str) -> bool {
    text.starts_with(FAMILY)
}

/// Issues the pass for an order paid at `lane_id`, signed with `key`.
pub fn issue(
    key: Key<'_>,
    store_id: &str,
    lane_id: &str,
    order_id: &str,
    paid_at: DateTime<Utc>,
) -> String {
    let body = format!(
        "{PREFIX}:{}:{}:{}:{}:{}",
        key.id.to_ascii_uppercase(),
        store_id.to_ascii_uppercase(),
        lane_id.to_ascii_uppercase(),
        order_id.to_ascii_uppercase(),
        paid_at.timestamp()
    );
    let sig = signature(key.secret, &body);
    format!("{body}:{sig}")
}

/// What a pass must match to open an exit.
pub struct Expect<'a> {
    pub store_id: &'a str,
    /// The lanes whose passes the exit admits (empty: every lane).
    pub lanes: &'a [String],
    pub now: DateTime<Utc>,
    pub ttl: Duration,
}

/// Checks a scanned pass; `key` finds the secret of a key id that still verifies.
pub fn verify<'k>(
    key: impl Fn(&str) -> Option<&'k [u8]>,
    expect: &Expect<'_>,
    text: &str,
) -> Result<ExitPass, PassError> {
    let Fields {
        body,
        sig,
        kid,
        store,
        lane,
        order,
        issued,
    } = fields(text)?;
    let secret = key(kid).ok_or_else(|| PassError::UnknownKey(kid.to_string()))?;
    let expected = signature(secret, body);
    if expected.is_empty() || !constant_time_eq(expected.as_bytes(), sig.as_bytes()) {
        return Err(PassError::BadSignature);
    }
    if !store.eq_ignore_ascii_case(expect.store_id) {
        return Err(PassError::OtherStore(store.to_string()));
    }
    if !expect.lanes.is_empty() && !expect.lanes.iter().any(|l| l.eq_ignore_ascii_case(lane)) {
        return Err(PassError::OtherLane(lane.to_string()));
    }
    let issued_at = DateTime::from_timestamp(issued, 0).ok_or(PassError::Malformed)?;
    // A pass from the future (clock skew) is accepted within a minute, not more.
    if expect.now - issued_at > expect.ttl || issued_at - expect.now > Duration::minutes(1) {
        return Err(PassError::Expired);
    }
    Ok(ExitPass {
        key_id: kid.to_string(),
        store_id: store.to_string(),
        lane_id: lane.to_string(),
        order_id: order.to_string(),
        issued_at,
    })
}

/// The parts of a pass, split but not checked against any key.
struct Fields<'t> {
    body: &'t str,
    sig: &'t str,
    kid: &'t str,
    store: &'t str,
    lane: &'t str,
    order: &'t str,
    issued: i64,
}

fn fields(text: &str) -> Result<Fields<'_>, PassError> {
    if !looks_like_pass(text) {
        return Err(PassError::NotAPass);
    }
    let text = text.trim();
    let (body, sig) = text.rsplit_once(':').ok_or(PassError::Malformed)?;
    let parts: Vec<&str> = body.split(':').collect();
    let [prefix, kid, store, lane, order, issued] = parts[..] else {
        return Err(PassError::Malformed);
    };
    if prefix != PREFIX || [kid, store, lane, order, sig].iter().any(|p| p.is_empty()) {
        return Err(PassError::Malformed);
    }
    let issued: i64 = issued.parse().map_err(|_| PassError::Malformed)?;
    Ok(Fields {
        body,
        sig,
        kid,
        store,
        lane,
        order,
        issued,
    })
}

/// Reads a pass's fields WITHOUT checking its signature, for tools that show what a code says
/// (`omo barcode`); only [`verify`] may admit anyone.
pub fn read_unverified(text: &str) -> Result<ExitPass, PassError> {
    let f = fields(text)?;
    Ok(ExitPass {
        key_id: f.kid.to_string(),
        store_id: f.store.to_string(),
        lane_id: f.lane.to_string(),
        order_id: f.order.to_string(),
        issued_at: DateTime::from_timestamp(f.issued, 0).ok_or(PassError::Malformed)?,
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

/// Equality of two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
    const KEY: Key<'static> = Key {
        id: "K1",
        secret: SECRET,
    };

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    fn only_k1(kid: &str) -> Option<&'static [u8]> {
        (kid == "K1").then_some(SECRET)
    }

    fn expect(store: &'static str, lanes: &'static [String], now: i64) -> Expect<'static> {
        Expect {
            store_id: store,
            lanes,
            now: at(now),
            ttl: Duration::seconds(120),
        }
    }

    #[test]
    fn a_pass_verifies_for_its_store_and_lane_within_its_time() {
        let pass = issue(KEY, "SH-001", "2", "01a2-7f-1", at(0));
        assert!(pass.starts_with("OMOX2:K1:SH-001:2:01A2-7F-1:"), "{pass}");
        assert!(
            pass.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || ":-".contains(c)),
            "{pass}"
        );
        let ok = verify(only_k1, &expect("SH-001", &[], 60), &pass).unwrap();
        assert_eq!(
            (ok.order_id.as_str(), ok.lane_id.as_str()),
            ("01A2-7F-1", "2")
        );
        assert_eq!(
            verify(only_k1, &expect("SH-001", &[], 121), &pass),
            Err(PassError::Expired)
        );
        assert_eq!(
            verify(only_k1, &expect("SH-002", &[], 60), &pass),
            Err(PassError::OtherStore("SH-001".into()))
        );
        let lanes = Box::leak(Box::new(vec!["1".to_string()]));
        assert_eq!(
            verify(only_k1, &expect("SH-001", lanes, 60), &pass),
            Err(PassError::OtherLane("2".into()))
        );
        let lanes = Box::leak(Box::new(vec!["1".to_string(), "2".to_string()]));
        assert!(verify(only_k1, &expect("SH-001", lanes, 60), &pass).is_ok());
    }

    #[test]
    fn a_rotated_key_verifies_until_it_is_retired() {
        let old = issue(KEY, "SH-001", "1", "O-1", at(0));
        let new_key = Key {
            id: "K2",
            secret: b"another secret of thirty-two bytes!",
        };
        let new = issue(new_key, "SH-001", "1", "O-2", at(0));
        let both = |kid: &str| match kid {
            "K1" => Some(SECRET),
            "K2" => Some(new_key.secret),
            _ => None,
        };
        assert!(verify(both, &expect("SH-001", &[], 1), &old).is_ok());
        assert!(verify(both, &expect("SH-001", &[], 1), &new).is_ok());
        let retired = |kid: &str| (kid == "K2").then_some(new_key.secret);
        assert_eq!(
            verify(retired, &expect("SH-001", &[], 1), &old),
            Err(PassError::UnknownKey("K1".into()))
        );
        // A pass claiming the new key's id but signed with the old one is forged.
        let relabelled = old.replacen(":K1:", ":K2:", 1);
        assert_eq!(
            verify(both, &expect("SH-001", &[], 1), &relabelled),
            Err(PassError::BadSignature)
        );
    }

    #[test]
    fn forged_and_malformed_passes_are_refused() {
        let pass = issue(KEY, "SH-001", "1", "O-1", at(0));
        let forged = pass.replace("O-1", "O-2");
        assert_eq!(
            verify(only_k1, &expect("SH-001", &[], 1), &forged),
            Err(PassError::BadSignature)
        );
        let relaned = pass.replacen(":1:O-1", ":2:O-1", 1);
        assert_eq!(
            verify(only_k1, &expect("SH-001", &[], 1), &relaned),
            Err(PassError::BadSignature)
        );
        for bad in [
            "OMOX2",
            "OMOX2:",
            "OMOX2:K1:A:B:C",
            "OMOX2:K1:A:1:B:notanumber:SIG",
            "OMOX2:K1::1:B:1:SIG",
            "OMOX1:SH-001:O-1:1800000000:SIG",
        ] {
            assert!(
                verify(only_k1, &expect("SH-001", &[], 1), bad).is_err(),
                "{bad}"
            );
        }
        assert_eq!(
            verify(only_k1, &expect("SH-001", &[], 1), "4006381333931"),
            Err(PassError::NotAPass)
        );
    }

    #[test]
    fn a_pass_reads_unverified_for_tools_but_malformed_ones_do_not() {
        let pass = issue(KEY, "SH-001", "2", "O-1", at(0));
        let read = read_unverified(&pass).unwrap();
        assert_eq!(read.store_id, "SH-001");
        assert_eq!(read.lane_id, "2");
        assert_eq!(read.order_id, "O-1");
        assert_eq!(read.issued_at, at(0));
        assert_eq!(
            read_unverified("OMOX2:K1:A:1:B:1:"),
            Err(PassError::Malformed)
        );
        assert_eq!(read_unverified("4006381333931"), Err(PassError::NotAPass));
    }

    #[test]
    fn arbitrary_text_never_panics() {
        for text in [
            "OMOX2:::::::",
            "OMOX2:K1:\u{0}:\u{ffff}:x:9999999999999999999:x",
            "OMOX2:K1:a:b:c:-99999999999999:Z",
        ] {
            let _ = verify(only_k1, &expect("SH-001", &[], 0), text);
            let _ = read_unverified(text);
        }
    }
}
