//! GS1 Digital Link URIs (`https://<any host>[/prefix]/01/{gtin}[/10/{lot}][/21/{serial}][?...]`),
//! as printed in QR codes on fresh-food labels. Short names (`/gtin/`, `/lot/`, `/ser/`) are accepted.

use super::BarcodeError;
use super::gtin::normalize_gtin;
use super::percent::percent_decode;

/// The identifiers a Digital Link URI carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigitalLinkParts {
    pub gtin: String,
    pub lot: Option<String>,
    pub serial: Option<String>,
}

/// True when `data` looks like an http(s) URI.
pub fn looks_like_uri(data: &str) -> bool {
    let lower = data.get(..8).unwrap_or(data).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

fn bad(reason: impl Into<String>) -> BarcodeError {
    BarcodeError::BadDigitalLink {
        reason: reason.into(),
    }
}

/// Parses a GS1 Digital Link URI.
pub fn parse(uri: &str) -> Result<DigitalLinkParts, BarcodeError> {
    if !looks_like_uri(uri) {
        return Err(bad("not an http(s) URI"));
    }
    if let Some(ch) = uri.chars().find(|c| !c.is_ascii_graphic()) {
        return Err(BarcodeError::InvalidCharacter {
            what: "Digital Link URI".into(),
            ch,
        });
    }
    let after_scheme = uri
        .split_once("://")
        .map(|(_, r)| r)
        .ok_or_else(|| bad("no scheme"))?;
    let without_fragment = after_scheme.split('#').next().unwrap_or("");
    let path_and_query = without_fragment.split('?').next().unwrap_or("");
    let path = path_and_query.split_once('/').map(|(_, p)| p).unwrap_or("");
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let start = segments
        .iter()
        .position(|s| *s == "01" || *s == "gtin")
        .ok_or_else(|| bad("no /01/{gtin} in the path"))?;
    let gtin_raw = segments
        .get(start + 1)
        .ok_or_else(|| bad("/01/ without a GTIN"))?;
    let gtin = normalize_gtin("Digital Link GTIN", &percent_decode(gtin_raw)?)?;
    let mut parts = DigitalLinkParts {
        gtin,
        lot: None,
        serial: None,
    };
    let mut rest = segments[start + 2..].chunks(2);
    for pair in rest.by_ref() {
        let [key, value] = pair else {
            return Err(bad(format!(
                "qualifier {:?} has no value",
                pair.first().copied().unwrap_or("")
            )));
        };
        let value = percent_decode(value)?;
        if value.is_empty() || value.len() > 20 {
            return Err(bad(format!(
                "qualifier {key} has a value of {} characters",
                value.len()
            )));
        }
        match *key {
            "10" | "lot" => {
                super::cset82::check_lot_or_serial("Digital Link lot (10)", &value)?;
                parts.lot = Some(value);
            }
            "21" | "ser" => {
                super::cset82::check_lot_or_serial("Digital Link serial (21)", &value)?;
                parts.serial = Some(value);
            }
            "22" | "cpv" | "235" => {}
            other => return Err(bad(format!("unknown path qualifier {other:?}"))),
        }
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gs1_published_example() {
        let p = parse("https://id.gs1.org/01/09520123456788/10/ABC123/21/12345?17=180426").unwrap();
        assert_eq!(p.gtin, "09520123456788");
        assert_eq!(p.lot.as_deref(), Some("ABC123"));
        assert_eq!(p.serial.as_deref(), Some("12345"));
    }

    #[test]
    fn any_host_path_prefix_alias_and_percent_decoding() {
        let p = parse("HTTPS://trace.example.cn/shop/gtin/9520123456788/lot/A%2FB%25C").unwrap();
        assert_eq!(p.gtin, "09520123456788");
        assert_eq!(p.lot.as_deref(), Some("A/B%C"));
    }

    #[test]
    fn a_lot_or_serial_outside_gs1_character_set_82_is_refused() {
        for uri in [
            "https://id.gs1.org/01/09520123456788/10/A%20B",
            "https://id.gs1.org/01/09520123456788/10/A%23B",
            "https://id.gs1.org/01/09520123456788/10/AB/21/S~1",
        ] {
            assert!(
                matches!(parse(uri), Err(BarcodeError::InvalidCharacter { .. })),
                "{uri}"
            );
        }
    }

    #[test]
    fn bad_gtin_and_missing_gtin_are_rejected() {
        assert!(matches!(
            parse("https://id.gs1.org/01/09520123456789"),
            Err(BarcodeError::BadCheckDigit { .. })
        ));
        assert!(parse("https://example.com/products/42").is_err());
        assert!(parse("https://id.gs1.org/01/09520123456788/10").is_err());
        assert!(parse("https://id.gs1.org/01/09520123456788/10/%ZZ").is_err());
    }
}
