//! GTIN check digits (GS1 mod-10) and normalisation to 14 digits, for catalog input.

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

/// The GS1 check digit for `body` (all digits but the last), or `None` if it is not all digits.
pub fn check_digit(body: &str) -> Option<u8> {
    let mut sum = 0u32;
    for (i, b) in body.bytes().rev().enumerate() {
        if !b.is_ascii_digit() {
            return None;
        }
        let d = u32::from(b - b'0');
        sum += if i % 2 == 0 { d * 3 } else { d };
    }
    Some(((10 - sum % 10) % 10) as u8)
}

/// Verify a GTIN-8/12/13/14 and return it left-padded with zeros to 14 digits.
pub fn normalize(gtin: &str) -> Result<String, GtinError> {
    let gtin = gtin.trim();
    if !matches!(gtin.len(), 8 | 12 | 13 | 14) || !gtin.bytes().all(|b| b.is_ascii_digit()) {
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
    Ok(format!("{gtin:0>14}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes_verify_and_pad() {
        assert_eq!(normalize("6901939621257").unwrap(), "06901939621257");
        assert_eq!(normalize("4006381333931").unwrap(), "04006381333931");
        assert_eq!(normalize("96385074").unwrap(), "00000096385074");
        assert_eq!(normalize("036000291452").unwrap(), "00036000291452");
        assert_eq!(normalize("00036000291452").unwrap(), "00036000291452");
    }

    #[test]
    fn wrong_check_digit_and_shape_are_refused() {
        assert!(matches!(
            normalize("4006381333932"),
            Err(GtinError::CheckDigit {
                expected: 1,
                found: 2,
                ..
            })
        ));
        assert!(matches!(normalize("12345"), Err(GtinError::Shape(_))));
        assert!(matches!(
            normalize("40063813339x1"),
            Err(GtinError::Shape(_))
        ));
        assert!(matches!(
            normalize("４００６３８１３３３９３"),
            Err(GtinError::Shape(_))
        ));
    }
}
