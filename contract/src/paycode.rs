//! The shape of a payment code on the wire: `28`, the 8-digit wallet number, an 8-digit
//! one-time password (18 digits, as CONTRACT.md fixes it). The lane's barcode parser and the
//! cloud's verifier both read it here; the one-time password itself is the cloud's business.

/// The two-digit prefix that marks a payment code.
pub const PREFIX: &str = "28";
/// Length of a payment code.
pub const LEN: usize = 18;
/// Digits of the wallet number.
pub const WALLET_DIGITS: usize = 8;

/// A payment code's wallet number and one-time password, or `None` if `code` is not 18 ASCII
/// digits starting with `28`.
pub fn split(code: &str) -> Option<(&str, &str)> {
    let shaped =
        code.len() == LEN && code.bytes().all(|b| b.is_ascii_digit()) && code.starts_with(PREFIX);
    let wallet_end = PREFIX.len() + WALLET_DIGITS;
    shaped.then(|| (&code[PREFIX.len()..wallet_end], &code[wallet_end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_splits_into_its_wallet_and_password() {
        assert_eq!(split("281234567887654321"), Some(("12345678", "87654321")));
        for bad in [
            "",
            "28123456788765432",
            "2812345678876543210",
            "181234567887654321",
            "28123456788765432x",
            "２81234567887654321",
        ] {
            assert_eq!(split(bad), None, "{bad:?}");
        }
    }
}
