//! GS1 identifiers (GS1 General Specifications): the mod-10 check digit (§7.9.1), GTIN-8/12/13/14
//! left-padded to the 14-digit form Omo uses everywhere inside, and the character set of
//! alphanumeric AI values such as a lot (AI 10) or a serial (AI 21): GS1 AI encodable character
//! set 82 (§7.11, figure 7.11-1), 1 to 20 characters.

/// The longest lot (AI 10) or serial (AI 21).
pub const LOT_SERIAL_MAX: usize = 20;

/// Why a GTIN was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GtinError {
    /// Not 8, 12, 13 or 14 digits.
    #[error("a GTIN has 8, 12, 13 or 14 digits, got {0:?}")]
    Shape(String),
    /// The last digit does not match the others.
    #[error("GTIN {gtin} has check digit {found}, expected {expected}")]
    CheckDigit {
        /// The GTIN as given.
        gtin: String,
        /// Its last digit.
        found: u8,
        /// What the other digits call for.
        expected: u8,
    },
}

/// True when every byte is an ASCII digit (and there is at least one).
pub fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// The GS1 mod-10 check digit of `body` (digits, without the check digit): weights 3, 1, 3, ...
/// from the right. `None` when `body` holds a non-digit.
pub fn check_digit(body: &str) -> Option<u8> {
    let mut sum: u32 = 0;
    for (i, b) in body.bytes().rev().enumerate() {
        if !b.is_ascii_digit() {
            return None;
        }
        let d = u32::from(b - b'0');
        sum += if i % 2 == 0 { d * 3 } else { d };
    }
    // `(10 - sum % 10) % 10` is always below 10.
    Some(((10 - sum % 10) % 10) as u8)
}

/// `body` with its check digit appended; `None` when empty or not all digits.
pub fn with_check_digit(body: &str) -> Option<String> {
    if body.is_empty() {
        return None;
    }
    check_digit(body).map(|d| format!("{body}{d}"))
}

/// Left-pads a GTIN-8/12/13/14 to 14 digits.
pub fn pad14(digits: &str) -> String {
    format!("{digits:0>14}")
}

/// Checks a GTIN of 8, 12, 13 or 14 digits (surrounding spaces ignored), its check digit
/// included, and returns it padded to 14.
pub fn normalize_gtin(gtin: &str) -> Result<String, GtinError> {
    let gtin = gtin.trim();
    if !matches!(gtin.len(), 8 | 12 | 13 | 14) || !all_digits(gtin) {
        return Err(GtinError::Shape(gtin.to_owned()));
    }
    let (body, last) = gtin.split_at(gtin.len() - 1);
    let found = last.as_bytes()[0] - b'0';
    let expected = check_digit(body).ok_or_else(|| GtinError::Shape(gtin.to_owned()))?;
    if found != expected {
        return Err(GtinError::CheckDigit {
            gtin: gtin.to_owned(),
            found,
            expected,
        });
    }
    Ok(pad14(gtin))
}

/// True for a character of GS1's AI encodable character set 82.
pub fn is_cset82(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!\"%&'()*+,-./:;<=>?_".contains(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_check_digits() {
        // GS1 General Specifications §7.9.1's example, and retail codes printed on packs.
        assert_eq!(check_digit("629104150021"), Some(3));
        assert_eq!(check_digit("400638133393"), Some(1));
        assert_eq!(check_digit("690193962125"), Some(7));
        assert_eq!(with_check_digit("9501234"), Some("95012346".into()));
        assert_eq!(check_digit("12a4"), None);
        assert_eq!(with_check_digit(""), None);
    }

    #[test]
    fn gtins_verify_and_pad_to_14() {
        assert_eq!(normalize_gtin(" 6901939621257 ").unwrap(), "06901939621257");
        assert_eq!(normalize_gtin("95012346").unwrap(), "00000095012346");
        assert_eq!(
            normalize_gtin("6901939621258"),
            Err(GtinError::CheckDigit {
                gtin: "6901939621258".into(),
                found: 8,
                expected: 7
            })
        );
        for bad in ["", "123", "690193962125x", "123456789012345"] {
            assert!(
                matches!(normalize_gtin(bad), Err(GtinError::Shape(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn set_82_is_printable_ascii_without_space_and_nine_others() {
        let allowed: String = (' '..='~').filter(|c| is_cset82(*c)).collect();
        assert_eq!(
            allowed,
            "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
        );
        assert_eq!(allowed.len(), 82);
        assert!(!is_cset82('批'));
    }

    proptest::proptest! {
        #[test]
        fn a_body_with_its_check_digit_always_verifies(body in "[0-9]{7,13}") {
            let gtin = with_check_digit(&body).unwrap();
            if matches!(gtin.len(), 8 | 12 | 13 | 14) {
                proptest::prop_assert_eq!(normalize_gtin(&gtin).unwrap(), pad14(&gtin));
            }
        }

        #[test]
        fn nothing_panics_on_any_text(text in "\\PC{0,30}") {
            let _ = normalize_gtin(&text);
            let _ = check_digit(&text);
        }
    }
}
