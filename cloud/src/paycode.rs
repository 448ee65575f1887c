//! Payment codes: RFC 6238 TOTP and the 18-digit barcode-pay code built on it (pure, no IO).
//!
//! A code is `28` + the 8-digit wallet number + an 8-digit TOTP (HMAC-SHA1, 30 s step) over the
//! wallet's secret. [`verify`] decides which step a presented one-time password belongs to; single
//! use is the store's job (a UNIQUE row per wallet and step), not this module's.

use hmac::{Hmac, Mac};
use sha1::Sha1;

/// Length of a step in seconds (RFC 6238's default X).
pub const STEP_SECS: u64 = 30;
/// Digits of the one-time password.
pub const OTP_DIGITS: usize = 8;
pub use omo_contract::paycode::{LEN as CODE_LEN, PREFIX as CODE_PREFIX};
/// How many steps back an old code is still recognised as "expired" rather than "invalid".
pub const EXPIRED_LOOKBACK_STEPS: u64 = 20;

/// Why a secret or a code could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaycodeError {
    /// The secret is not RFC 4648 base32.
    #[error("secret is not valid base32")]
    BadSecret,
    /// The code is not 18 digits starting with `28`.
    #[error("not a payment code: expected {CODE_LEN} digits starting with {CODE_PREFIX}")]
    BadShape,
}

/// The TOTP step number for a Unix time.
pub fn step_of(unix_secs: u64) -> u64 {
    unix_secs / STEP_SECS
}

/// RFC 4226 HOTP value for a counter, as `OTP_DIGITS` digits.
pub fn hotp(secret: &[u8], counter: u64) -> String {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail for HMAC-SHA1.
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(secret) else {
        return "0".repeat(OTP_DIGITS);
    };
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[digest.len() - 1] & 0x0f);
    let binary = (u32::from(digest[offset] & 0x7f) << 24)
        | (u32::from(digest[offset + 1]) << 16)
        | (u32::from(digest[offset + 2]) << 8)
        | u32::from(digest[offset + 3]);
    format!("{:08}", binary % 100_000_000)
}

/// RFC 6238 TOTP (HMAC-SHA1, 30 s step, 8 digits) at `unix_secs`.
pub fn totp(secret: &[u8], unix_secs: u64) -> String {
    hotp(secret, step_of(unix_secs))
}

/// The 18-digit payment code a shopper's app shows at `unix_secs`: `28` + wallet + TOTP.
pub fn payment_code(wallet_id: &str, secret: &[u8], unix_secs: u64) -> String {
    format!("{CODE_PREFIX}{wallet_id}{}", totp(secret, unix_secs))
}

/// Decode an RFC 4648 base32 secret (padding optional, case-insensitive, spaces ignored).
pub fn decode_secret(base32: &str) -> Result<Vec<u8>, PaycodeError> {
    let mut cleaned: String = base32
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '=')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if cleaned.is_empty() {
        return Err(PaycodeError::BadSecret);
    }
    while !cleaned.len().is_multiple_of(8) {
        cleaned.push('=');
    }
    data_encoding::BASE32
        .decode(cleaned.as_bytes())
        .map_err(|_| PaycodeError::BadSecret)
}

/// Encode a secret as RFC 4648 base32 without padding (what Enroll hands out).
pub fn encode_secret(secret: &[u8]) -> String {
    data_encoding::BASE32_NOPAD.encode(secret)
}

/// Split a payment code into its wallet number and one-time password.
pub fn split_code(code: &str) -> Result<(&str, &str), PaycodeError> {
    omo_contract::paycode::split(code).ok_or(PaycodeError::BadShape)
}

/// Whether a string has the shape of a payment code (how a lane tells it from a product).
pub fn is_payment_code(code: &str) -> bool {
    split_code(code).is_ok()
}

/// What a presented one-time password means at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// It is the code of this step, which is the current step or the one before.
    Valid {
        /// The step it belongs to (the single-use key together with the wallet).
        step: u64,
    },
    /// It was a genuine code, but of an older step.
    Expired,
    /// It matches no recent step.
    Invalid,
}

/// Check `otp` against the secret at `unix_secs`: valid for its step and the one before.
pub fn verify(secret: &[u8], otp: &str, unix_secs: u64) -> Verdict {
    let now = step_of(unix_secs);
    for step in [now, now.saturating_sub(1)] {
        if constant_time_eq(hotp(secret, step).as_bytes(), otp.as_bytes()) {
            return Verdict::Valid { step };
        }
        if now == 0 {
            break;
        }
    }
    let oldest = now.saturating_sub(EXPIRED_LOOKBACK_STEPS);
    for step in (oldest..now.saturating_sub(1)).rev() {
        if constant_time_eq(hotp(secret, step).as_bytes(), otp.as_bytes()) {
            return Verdict::Expired;
        }
    }
    Verdict::Invalid
}

/// The wallet's app token: what the phone app presents to act for its wallet on the shopper
/// service (`authorization: Bearer <token>`). HMAC-SHA256 of a fixed label under the wallet's
/// secret, lowercase hex: the app derives it from the secret it already keeps, the cloud
/// recomputes it, and it reveals neither the secret nor any payment code.
pub fn app_token(secret: &[u8]) -> String {
    let mut mac =
        Hmac::<sha2::Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(b"omo-app-token-v1");
    data_encoding::HEXLOWER.encode(&mac.finalize().into_bytes())
}

/// Whether `token` is the app token of the wallet with `secret`, compared in constant time.
pub fn is_app_token(secret: &[u8], token: &str) -> bool {
    constant_time_eq(app_token(secret).as_bytes(), token.trim().as_bytes())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn totp_matches_rfc6238_appendix_b_sha1_vectors() {
        let vectors = [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ];
        for (time, expected) in vectors {
            assert_eq!(totp(RFC_SECRET, time), expected, "T = {time}");
        }
    }

    #[test]
    fn payment_code_is_18_digits_and_splits_back() {
        let code = payment_code("12345678", RFC_SECRET, 59);
        assert_eq!(code, "281234567894287082");
        assert_eq!(split_code(&code), Ok(("12345678", "94287082")));
    }

    #[test]
    fn split_code_rejects_other_shapes() {
        for bad in [
            "",
            "28123",
            "291234567894287082",
            "28123456789428708x",
            "2812345678942870821",
        ] {
            assert_eq!(split_code(bad), Err(PaycodeError::BadShape), "{bad:?}");
        }
        // A multi-byte character must not panic on slicing.
        assert!(split_code("28１234567894287082").is_err());
    }

    #[test]
    fn secret_round_trips_through_base32() {
        let encoded = encode_secret(RFC_SECRET);
        assert_eq!(encoded, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(decode_secret(&encoded).unwrap(), RFC_SECRET);
        assert_eq!(decode_secret(&encoded.to_lowercase()).unwrap(), RFC_SECRET);
        assert_eq!(decode_secret("not base32!"), Err(PaycodeError::BadSecret));
        assert_eq!(decode_secret(""), Err(PaycodeError::BadSecret));
    }

    #[test]
    fn a_code_is_valid_for_its_step_and_the_one_before_only() {
        let t = 1_111_111_111;
        let otp = totp(RFC_SECRET, t);
        assert_eq!(
            verify(RFC_SECRET, &otp, t),
            Verdict::Valid { step: step_of(t) }
        );
        assert_eq!(
            verify(RFC_SECRET, &otp, t + 30),
            Verdict::Valid { step: step_of(t) }
        );
        assert_eq!(verify(RFC_SECRET, &otp, t + 60), Verdict::Expired);
        assert_eq!(verify(RFC_SECRET, &otp, t + 3600), Verdict::Invalid);
        assert_eq!(verify(RFC_SECRET, "00000000", t), Verdict::Invalid);
        assert_eq!(
            verify(RFC_SECRET, &totp(RFC_SECRET, 0), 5),
            Verdict::Valid { step: 0 }
        );
    }
}
