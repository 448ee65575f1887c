//! GTIN check digits (GS1 mod-10) and normalisation to 14 digits, for catalog input: the
//! contract's rules ([`omo_contract::gs1`]) under the names the cloud uses.

pub use omo_contract::gs1::{GtinError, check_digit, normalize_gtin as normalize};

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
