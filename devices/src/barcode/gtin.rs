//! GTINs: the GS1 mod-10 check digit, EAN-13, EAN-8, UPC-A, UPC-E (with its expansion to UPC-A),
//! GTIN-14, and left-padding to the 14-digit form used everywhere inside Omo.

use serde::{Deserialize, Serialize};

pub use omo_contract::gs1::{all_digits, check_digit, pad14};

use super::BarcodeError;

/// The retail symbology a GTIN arrived in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum GtinFormat {
    #[serde(rename = "EAN-13")]
    Ean13,
    #[serde(rename = "EAN-8")]
    Ean8,
    #[serde(rename = "UPC-A")]
    UpcA,
    #[serde(rename = "UPC-E")]
    UpcE,
    /// 14 digits (ITF-14, or an AI (01) value).
    #[serde(rename = "GTIN-14")]
    Gtin14,
}

impl GtinFormat {
    /// The human name, e.g. `"EAN-13"`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ean13 => "EAN-13",
            Self::Ean8 => "EAN-8",
            Self::UpcA => "UPC-A",
            Self::UpcE => "UPC-E",
            Self::Gtin14 => "GTIN-14",
        }
    }
}

/// Verifies the last digit of `digits` as the GS1 check digit; `what` names the field in errors.
pub fn verify_check_digit(what: &str, digits: &str) -> Result<(), BarcodeError> {
    if !all_digits(digits) {
        return Err(BarcodeError::not_numeric(what, digits));
    }
    let (body, last) = digits.split_at(digits.len() - 1);
    let found = last.as_bytes()[0] - b'0';
    let expected = check_digit(body).ok_or_else(|| BarcodeError::not_numeric(what, digits))?;
    if expected == found {
        Ok(())
    } else {
        Err(BarcodeError::BadCheckDigit {
            what: what.to_owned(),
            expected,
            found,
        })
    }
}

/// Checks a GTIN of 8, 12, 13 or 14 digits and returns it padded to 14.
pub fn normalize_gtin(what: &str, digits: &str) -> Result<String, BarcodeError> {
    if !all_digits(digits) {
        return Err(BarcodeError::not_numeric(what, digits));
    }
    if !matches!(digits.len(), 8 | 12 | 13 | 14) {
        return Err(BarcodeError::bad_length(
            what,
            "8, 12, 13 or 14",
            digits.len(),
        ));
    }
    verify_check_digit(what, digits)?;
    Ok(pad14(digits))
}

/// Expands an 8-digit UPC-E (number system, six digits, check digit) to its 12-digit UPC-A,
/// verifying the check digit (which UPC-E shares with its UPC-A).
pub fn expand_upc_e(upce: &str) -> Result<String, BarcodeError> {
    if !all_digits(upce) {
        return Err(BarcodeError::not_numeric("UPC-E", upce));
    }
    if upce.len() != 8 {
        return Err(BarcodeError::bad_length("UPC-E", "8", upce.len()));
    }
    let d: Vec<char> = upce.chars().collect();
    let ns = d[0];
    if ns != '0' && ns != '1' {
        return Err(BarcodeError::Unrecognised {
            reason: format!("UPC-E number system must be 0 or 1, found {ns}"),
        });
    }
    let x = &d[1..7];
    let check = d[7];
    let body: String = match x[5] {
        '0' | '1' | '2' => [ns, x[0], x[1], x[5], '0', '0', '0', '0', x[2], x[3], x[4]]
            .iter()
            .collect(),
        '3' => [ns, x[0], x[1], x[2], '0', '0', '0', '0', '0', x[3], x[4]]
            .iter()
            .collect(),
        '4' => [ns, x[0], x[1], x[2], x[3], '0', '0', '0', '0', '0', x[4]]
            .iter()
            .collect(),
        _ => [ns, x[0], x[1], x[2], x[3], x[4], '0', '0', '0', '0', x[5]]
            .iter()
            .collect(),
    };
    let upca = format!("{body}{check}");
    verify_check_digit("UPC-E", &upca)?;
    Ok(upca)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_ean13_check_digits() {
        assert_eq!(check_digit("400638133393"), Some(1));
        assert_eq!(check_digit("590123412345"), Some(7));
        assert!(verify_check_digit("EAN-13", "4006381333931").is_ok());
        assert!(verify_check_digit("EAN-13", "5901234123457").is_ok());
    }

    #[test]
    fn wrong_check_digit_reports_expected_and_found() {
        let err = verify_check_digit("EAN-13", "4006381333932").unwrap_err();
        assert_eq!(
            err,
            BarcodeError::BadCheckDigit {
                what: "EAN-13".into(),
                expected: 1,
                found: 2
            }
        );
    }

    #[test]
    fn upc_a_and_ean8() {
        assert!(verify_check_digit("UPC-A", "036000291452").is_ok());
        assert!(verify_check_digit("EAN-8", "96385074").is_ok());
    }

    #[test]
    fn upc_e_expands_to_upc_a() {
        assert_eq!(expand_upc_e("04252614").unwrap(), "042100005264");
        assert!(matches!(
            expand_upc_e("04252615"),
            Err(BarcodeError::BadCheckDigit { .. })
        ));
        assert!(expand_upc_e("24252614").is_err());
    }

    #[test]
    fn gtins_pad_to_14() {
        assert_eq!(
            normalize_gtin("GTIN", "96385074").unwrap(),
            "00000096385074"
        );
        assert_eq!(
            normalize_gtin("GTIN", "036000291452").unwrap(),
            "00036000291452"
        );
    }
}
