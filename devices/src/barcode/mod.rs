//! Barcode parsing (pure, no IO): one scan's text in, a typed [`Barcode`] out.
//!
//! Handles an optional AIM symbology identifier (`]E0`, `]E4`, `]C1`, `]e0`, `]Q1`, `]Q3`, `]d2`, ...),
//! EAN-13/EAN-8/UPC-A/UPC-E/GTIN-14 with check digits, in-store variable-measure EAN-13,
//! payment codes (18 digits starting `28`, CONTRACT.md), GS1 element strings (after `]C1`, `]e0`,
//! `]Q3`, `]d2`, a leading GS/FNC1, or in the bracketed form `(01)...`) and GS1 Digital Link URIs.
//! A GS may also be written as the text `<GS>` (handy on a command line).

pub mod cset82;
mod digital_link;
mod error;
pub mod gs1;
pub mod gtin;
mod percent;
mod variable;

use serde::Serialize;

pub use error::BarcodeError;
pub use gs1::Element;
pub use gtin::GtinFormat;
pub use variable::{MeasureValue, VariableMeasureFormat, VariableMeasureFormats};

/// A parsed scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Parsed {
    /// The AIM symbology identifier the scanner sent, e.g. `"]E0"`.
    pub aim: Option<String>,
    /// The symbology's human name, e.g. `"EAN-13"`, from the AIM identifier or the data's shape.
    pub symbology: Option<String>,
    /// What the data means.
    pub barcode: Barcode,
}

/// What a scan means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Barcode {
    /// A trade item: `gtin` is always 14 digits, left-padded with zeros.
    Product { gtin: String, format: GtinFormat },
    /// An in-store variable-measure EAN-13 (price or weight label).
    VariableMeasure {
        item: String,
        price_fen: Option<i64>,
        weight_g: Option<i64>,
        raw: String,
    },
    /// A shopper's payment code: `28` + 8-digit wallet + 8-digit one-time code.
    PaymentCode { wallet: String, code: String },
    /// A GS1 element string, with the common AIs lifted out.
    Gs1 {
        gtin: Option<String>,
        lot: Option<String>,
        serial: Option<String>,
        /// AI (17) as `YYYY-MM-DD`.
        expiry: Option<String>,
        /// AI (310n)/(320n), in grams.
        net_weight_g: Option<i64>,
        /// AI (392n), or (393n) in CNY, in fen.
        price_fen: Option<i64>,
        elements: Vec<Element>,
    },
    /// A GS1 Digital Link URI.
    DigitalLink {
        gtin: String,
        lot: Option<String>,
        serial: Option<String>,
        uri: String,
    },
}

impl Barcode {
    /// The 14-digit GTIN this barcode identifies, if any.
    pub fn gtin(&self) -> Option<&str> {
        match self {
            Self::Product { gtin, .. } | Self::DigitalLink { gtin, .. } => Some(gtin),
            Self::Gs1 { gtin, .. } => gtin.as_deref(),
            Self::VariableMeasure { .. } | Self::PaymentCode { .. } => None,
        }
    }

    /// True for a payment code.
    pub fn is_payment_code(&self) -> bool {
        matches!(self, Self::PaymentCode { .. })
    }
}

/// The human name of an AIM symbology identifier (`]` + code letter + modifier).
pub fn aim_symbology(aim: &str) -> Option<&'static str> {
    let b = aim.as_bytes();
    if b.len() != 3 || b[0] != b']' {
        return None;
    }
    Some(match (b[1], b[2]) {
        (b'E', b'4') => "EAN-8",
        (b'E', _) => "EAN/UPC",
        (b'C', b'1') => "GS1-128",
        (b'C', _) => "Code 128",
        (b'e', _) => "GS1 DataBar",
        (b'Q', b'3') | (b'Q', b'5') => "GS1 QR Code",
        (b'Q', _) => "QR Code",
        (b'd', b'2') | (b'd', b'5') => "GS1 DataMatrix",
        (b'd', _) => "Data Matrix",
        (b'A', _) => "Code 39",
        (b'I', _) => "ITF",
        (b'J', b'1') => "GS1 DotCode",
        (b'L', _) => "PDF417",
        (b'z', _) => "Aztec",
        _ => return None,
    })
}

fn is_gs1_aim(aim: &str) -> bool {
    matches!(aim, "]C1" | "]e0" | "]Q3" | "]Q5" | "]d2" | "]d5" | "]J1")
}

/// Splits an AIM identifier off the front: `]` + ASCII letter + ASCII alphanumeric.
pub fn split_aim(data: &str) -> (Option<&str>, &str) {
    let b = data.as_bytes();
    if b.len() >= 3 && b[0] == b']' && b[1].is_ascii_alphabetic() && b[2].is_ascii_alphanumeric() {
        (Some(&data[..3]), &data[3..])
    } else {
        (None, data)
    }
}

/// Parses one scan.
pub fn parse(data: &str, formats: &VariableMeasureFormats) -> Result<Parsed, BarcodeError> {
    let trimmed = data.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
    let (aim, body) = split_aim(trimmed);
    let body = body.replace("<GS>", "\u{1d}");
    if body.is_empty() || body.bytes().all(|b| b == gs1::GS) {
        return Err(BarcodeError::Empty);
    }
    let barcode = parse_body(aim, &body, formats)?;
    let symbology = match aim.and_then(aim_symbology) {
        Some("EAN/UPC") | None => shape_symbology(&barcode, aim.is_some()),
        Some(name) => Some(name.to_owned()),
    };
    Ok(Parsed {
        aim: aim.map(str::to_owned),
        symbology,
        barcode,
    })
}

fn shape_symbology(barcode: &Barcode, had_aim: bool) -> Option<String> {
    match barcode {
        Barcode::Product { format, .. } => Some(format.name().to_owned()),
        Barcode::VariableMeasure { .. } => Some("EAN-13".to_owned()),
        _ if had_aim => Some("EAN/UPC".to_owned()),
        _ => None,
    }
}

fn parse_body(
    aim: Option<&str>,
    body: &str,
    formats: &VariableMeasureFormats,
) -> Result<Barcode, BarcodeError> {
    // A Digital Link URI may come under ]Q1 or ]Q3 alike.
    if digital_link::looks_like_uri(body) {
        let p = digital_link::parse(body)?;
        return Ok(Barcode::DigitalLink {
            gtin: p.gtin,
            lot: p.lot,
            serial: p.serial,
            uri: body.to_owned(),
        });
    }
    if let Some(rest) = body.strip_prefix('\u{1d}') {
        return gs1_barcode(gs1::parse_elements(rest)?);
    }
    if aim.is_some_and(is_gs1_aim) {
        return gs1_barcode(gs1::parse_elements(body)?);
    }
    if body.starts_with('(') {
        return gs1_barcode(gs1::parse_bracketed(body)?);
    }
    if !gtin::all_digits(body) {
        return Err(BarcodeError::Unrecognised {
            reason: "not digits, a GS1 element string or a GS1 Digital Link URI".into(),
        });
    }
    match body.len() {
        18 if let Some((wallet, code)) = omo_contract::paycode::split(body) => {
            Ok(Barcode::PaymentCode {
                wallet: wallet.to_owned(),
                code: code.to_owned(),
            })
        }
        13 => ean13(body, formats),
        12 => product(body, GtinFormat::UpcA),
        14 => product(body, GtinFormat::Gtin14),
        8 => eight_digits(aim, body),
        n if n > 16
            && (body.starts_with("01") || body.starts_with("00") || body.starts_with("02")) =>
        {
            // A GS1-128 whose scanner dropped the AIM identifier and leading FNC1.
            gs1_barcode(gs1::parse_elements(body)?)
        }
        n => Err(BarcodeError::bad_length(
            "numeric barcode",
            "8, 12, 13, 14 or 18 (payment code)",
            n,
        )),
    }
}

fn product(digits: &str, format: GtinFormat) -> Result<Barcode, BarcodeError> {
    gtin::verify_check_digit(format.name(), digits)?;
    Ok(Barcode::Product {
        gtin: gtin::pad14(digits),
        format,
    })
}

fn ean13(digits: &str, formats: &VariableMeasureFormats) -> Result<Barcode, BarcodeError> {
    let Some(format) = formats.matching(digits) else {
        return product(digits, GtinFormat::Ean13);
    };
    gtin::verify_check_digit("variable-measure EAN-13", digits)?;
    let (item, value) = variable::split(format, digits)
        .ok_or_else(|| BarcodeError::bad_length("variable-measure EAN-13", "13", digits.len()))?;
    let (price_fen, weight_g) = match format.value {
        MeasureValue::PriceFen => (Some(value), None),
        MeasureValue::WeightG => (None, Some(value)),
    };
    Ok(Barcode::VariableMeasure {
        item,
        price_fen,
        weight_g,
        raw: digits.to_owned(),
    })
}

/// EAN-8 or UPC-E: `]E4` says EAN-8; otherwise EAN-8 when its check digit holds, else UPC-E.
fn eight_digits(aim: Option<&str>, digits: &str) -> Result<Barcode, BarcodeError> {
    if aim == Some("]E4") || gtin::verify_check_digit("EAN-8", digits).is_ok() {
        return product(digits, GtinFormat::Ean8);
    }
    if digits.starts_with('0') || digits.starts_with('1') {
        let upca = gtin::expand_upc_e(digits)?;
        return Ok(Barcode::Product {
            gtin: gtin::pad14(&upca),
            format: GtinFormat::UpcE,
        });
    }
    product(digits, GtinFormat::Ean8)
}

fn gs1_barcode(elements: Vec<Element>) -> Result<Barcode, BarcodeError> {
    let own = |ai: &str| gs1::value_of(&elements, ai).map(str::to_owned);
    let gtin = own("01").or_else(|| own("02"));
    Ok(Barcode::Gs1 {
        gtin,
        lot: own("10"),
        serial: own("21"),
        expiry: gs1::value_of(&elements, "17").and_then(gs1::yymmdd_to_iso),
        net_weight_g: gs1::net_weight_g(&elements),
        price_fen: gs1::price_fen(&elements),
        elements,
    })
}

#[cfg(test)]
mod tests;
