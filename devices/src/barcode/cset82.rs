//! GS1 AI encodable character set 82 (GS1 General Specifications, figure 7.11-1): what a lot
//! (AI 10), a serial (AI 21) and every other alphanumeric AI value may hold. It is printable
//! ASCII without space and without `# $ @ [ \ ] ^ ` { | } ~`.
//!
//! One pure function for every place that makes or reads such a value: `omo label`, the GS1
//! element and Digital Link parsers here, and the edge's EPCIS/CSV trace import.

use super::BarcodeError;

pub use omo_contract::gs1::{LOT_SERIAL_MAX, is_cset82};

/// Checks an alphanumeric AI value: 1 to `max` characters, each in character set 82.
/// `what` names the value in the error ("GS1 element (10)", "lot").
pub fn check(what: &str, value: &str, max: usize) -> Result<(), BarcodeError> {
    let count = value.chars().count();
    if count == 0 || count > max {
        return Err(BarcodeError::BadLength {
            what: what.to_owned(),
            expected: format!("1 to {max}"),
            found: count,
        });
    }
    match value.chars().find(|c| !is_cset82(*c)) {
        Some(ch) => Err(BarcodeError::InvalidCharacter {
            what: format!("{what} (GS1 character set 82)"),
            ch,
        }),
        None => Ok(()),
    }
}

/// Checks a lot (AI 10) or a serial (AI 21): 1 to 20 characters of character set 82.
pub fn check_lot_or_serial(what: &str, value: &str) -> Result<(), BarcodeError> {
    check(what, value, LOT_SERIAL_MAX)
}

/// Checks the lot and serial an EPCIS identifier carries: a GS1 Digital Link's `/10/` and `/21/`
/// values (percent-decoded), or the last part of an `lgtin` / `sgtin` EPC URN (URN-escaped).
/// Identifiers without a lot or serial pass.
pub fn check_identifier(id: &str) -> Result<(), BarcodeError> {
    if let Some(rest) = id
        .strip_prefix("urn:epc:class:lgtin:")
        .or_else(|| id.strip_prefix("urn:epc:id:sgtin:"))
    {
        let what = if id.contains(":lgtin:") {
            "lot in an lgtin URN"
        } else {
            "serial in an sgtin URN"
        };
        let value = rest.rsplit('.').next().unwrap_or_default();
        return check_lot_or_serial(what, &super::percent::percent_decode(value)?);
    }
    if !(id.starts_with("https://") || id.starts_with("http://")) {
        return Ok(());
    }
    let path = id.split(['?', '#']).next().unwrap_or_default();
    let segments: Vec<&str> = path.split('/').collect();
    for pair in segments.windows(2) {
        let what = match pair[0] {
            "10" => "Digital Link lot (10)",
            "21" => "Digital Link serial (21)",
            _ => continue,
        };
        check_lot_or_serial(what, &super::percent::percent_decode(pair[1])?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_82_characters_and_nothing_else() {
        let allowed: String = (0u8..=127)
            .map(char::from)
            .filter(|c| is_cset82(*c))
            .collect();
        assert_eq!(allowed.len(), 82);
        assert_eq!(
            allowed,
            "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
        );
        for bad in [
            ' ', '#', '$', '@', '[', '\\', ']', '^', '`', '{', '|', '}', '~', 'é', '批',
        ] {
            assert!(!is_cset82(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_lot_with_a_space_is_refused_and_a_gs1_example_passes() {
        assert!(check_lot_or_serial("lot", "ABC123").is_ok());
        assert!(check_lot_or_serial("lot", "L-7/1.a_%").is_ok());
        assert_eq!(
            check_lot_or_serial("lot", "L 7"),
            Err(BarcodeError::InvalidCharacter {
                what: "lot (GS1 character set 82)".into(),
                ch: ' '
            })
        );
        assert!(check_lot_or_serial("lot", "").is_err());
        assert!(check_lot_or_serial("lot", &"A".repeat(21)).is_err());
        assert!(check_lot_or_serial("lot", &"A".repeat(20)).is_ok());
    }

    #[test]
    fn identifiers_are_checked_by_their_lot_or_serial() {
        for ok in [
            "https://id.gs1.org/01/09520123456788/10/ABC%2F1",
            "urn:epc:class:lgtin:4012345.012345.998877",
            "urn:epc:id:sgtin:0614141.107346.2017",
            "urn:epc:id:sscc:0614141.1234567890",
            "https://id.gs1.org/414/9520123456788",
        ] {
            assert!(check_identifier(ok).is_ok(), "{ok}");
        }
        for bad in [
            "https://id.gs1.org/01/09520123456788/10/A%20B",
            "urn:epc:class:lgtin:4012345.012345.L%207",
            "urn:epc:id:sgtin:0614141.107346.S~1",
        ] {
            assert!(check_identifier(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        /// Any text: never a panic, and accepted exactly when 1..=20 characters of the set.
        #[test]
        fn any_text_is_judged_by_the_set_alone(value in "\\PC{0,30}") {
            let ok = check_lot_or_serial("lot", &value).is_ok();
            let n = value.chars().count();
            prop_assert_eq!(ok, (1..=20).contains(&n) && value.chars().all(is_cset82));
        }
    }
}
