//! GS1 element strings: Application Identifiers (AIs) with their fixed or variable lengths from the
//! GS1 General Specifications (section 3), separated by GS (0x1D, FNC1 as transmitted).
//!
//! Pure functions over ASCII text; the AI table lists what a supermarket meets (logistic codes,
//! GTIN, lot, dates, serial, counts, weights, prices, order number, GLN, product URL).

use serde::{Deserialize, Serialize};

use super::BarcodeError;
use super::gtin::{all_digits, verify_check_digit};

/// The group separator that stands for FNC1 inside an element string.
pub const GS: u8 = 0x1d;

/// One AI and its value, e.g. `("17", "190508")`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Element {
    pub ai: String,
    pub value: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chars {
    Numeric,
    /// GS1 character set 82 ([`super::cset82`]).
    Alnum,
}

#[derive(Debug, Clone, Copy)]
struct AiSpec {
    /// The AI digits, without the trailing decimal-point digit `n` for `310n` and the like.
    code: &'static str,
    /// True for AIs like `310n` that carry one more digit.
    with_n: bool,
    /// Value length: `min..=max`; fixed when equal.
    min: usize,
    max: usize,
    chars: Chars,
    /// A GS1 check digit ends the value.
    check: bool,
    /// The value is a YYMMDD date.
    date: bool,
}

const fn fixed(code: &'static str, len: usize) -> AiSpec {
    AiSpec {
        code,
        with_n: false,
        min: len,
        max: len,
        chars: Chars::Numeric,
        check: false,
        date: false,
    }
}

const fn var(code: &'static str, max: usize, chars: Chars) -> AiSpec {
    AiSpec {
        code,
        with_n: false,
        min: 1,
        max,
        chars,
        check: false,
        date: false,
    }
}

const fn checked(mut s: AiSpec) -> AiSpec {
    s.check = true;
    s
}

const fn date(mut s: AiSpec) -> AiSpec {
    s.date = true;
    s
}

const fn with_n(mut s: AiSpec) -> AiSpec {
    s.with_n = true;
    s
}

const fn min(mut s: AiSpec, m: usize) -> AiSpec {
    s.min = m;
    s
}

/// The AIs understood here (GS1 General Specifications, figure 3.2-1).
const AIS: &[AiSpec] = &[
    checked(fixed("00", 18)),                       // SSCC
    checked(fixed("01", 14)),                       // GTIN
    checked(fixed("02", 14)),                       // CONTENT
    var("10", 20, Chars::Alnum),                    // BATCH/LOT
    date(fixed("11", 6)),                           // PROD DATE
    date(fixed("12", 6)),                           // DUE DATE
    date(fixed("13", 6)),                           // PACK DATE
    date(fixed("15", 6)),                           // BEST BEFORE
    date(fixed("16", 6)),                           // SELL BY
    date(fixed("17", 6)),                           // USE BY / EXPIRY
    fixed("20", 2),                                 // VARIANT
    var("21", 20, Chars::Alnum),                    // SERIAL
    var("22", 20, Chars::Alnum),                    // CPV
    var("240", 30, Chars::Alnum),                   // ADDITIONAL ID
    var("241", 30, Chars::Alnum),                   // CUST. PART No.
    var("250", 30, Chars::Alnum),                   // SECONDARY SERIAL
    var("30", 8, Chars::Numeric),                   // VAR. COUNT
    with_n(fixed("310", 6)),                        // NET WEIGHT (kg)
    with_n(fixed("320", 6)),                        // NET WEIGHT (lb)
    var("37", 8, Chars::Numeric),                   // COUNT
    with_n(var("392", 15, Chars::Numeric)),         // PRICE
    with_n(min(var("393", 18, Chars::Numeric), 4)), // PRICE with ISO 4217 currency
    var("400", 30, Chars::Alnum),                   // ORDER NUMBER
    checked(fixed("414", 13)),                      // LOC No. (GLN)
    var("8200", 70, Chars::Alnum),                  // PRODUCT URL
];

fn lookup(rest: &[u8]) -> Option<(AiSpec, usize)> {
    AIS.iter().find_map(|spec| {
        let code = spec.code.as_bytes();
        let ai_len = code.len() + usize::from(spec.with_n);
        if rest.len() < ai_len || !rest.starts_with(code) {
            return None;
        }
        if spec.with_n && !rest[code.len()].is_ascii_digit() {
            return None;
        }
        Some((*spec, ai_len))
    })
}

fn ascii(bytes: &[u8]) -> String {
    // Callers pass slices of text already checked to be ASCII.
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// Parses an element string (FNC1 already removed from its front). GS separators end
/// variable-length values; a GS after a fixed-length value is tolerated.
pub fn parse_elements(data: &str) -> Result<Vec<Element>, BarcodeError> {
    if let Some(ch) = data
        .chars()
        .find(|c| !c.is_ascii() || (c.is_ascii_control() && *c != '\u{1d}'))
    {
        return Err(BarcodeError::InvalidCharacter {
            what: "GS1 element string".into(),
            ch,
        });
    }
    let bytes = data.as_bytes();
    let mut pos = 0;
    let mut out: Vec<Element> = Vec::new();
    while pos < bytes.len() {
        if bytes[pos] == GS {
            pos += 1;
            continue;
        }
        let rest = &bytes[pos..];
        let (spec, ai_len) = lookup(rest).ok_or_else(|| BarcodeError::UnknownAi {
            at: ascii(&rest[..rest.len().min(4)]),
        })?;
        let ai = ascii(&rest[..ai_len]);
        let after = &rest[ai_len..];
        let end_of_field = after.iter().position(|&b| b == GS).unwrap_or(after.len());
        let value_len = if spec.min == spec.max {
            if end_of_field < spec.max {
                return Err(BarcodeError::Truncated {
                    ai,
                    needed: spec.max,
                    got: end_of_field,
                });
            }
            spec.max
        } else {
            if end_of_field > spec.max {
                return Err(BarcodeError::TooLong {
                    ai,
                    max: spec.max,
                    got: end_of_field,
                });
            }
            if end_of_field < spec.min {
                return Err(BarcodeError::Truncated {
                    ai,
                    needed: spec.min,
                    got: end_of_field,
                });
            }
            end_of_field
        };
        let value = ascii(&after[..value_len]);
        validate(&spec, &ai, &value)?;
        if let Some(prev) = out.iter().find(|e| e.ai == ai) {
            if prev.value != value {
                return Err(BarcodeError::DuplicateAi { ai });
            }
        } else {
            out.push(Element { ai, value });
        }
        pos += ai_len + value_len;
    }
    if out.is_empty() {
        return Err(BarcodeError::Empty);
    }
    Ok(out)
}

/// Parses the human-readable form `(01)09501101020917(17)190508(10)ABCD1234`.
pub fn parse_bracketed(data: &str) -> Result<Vec<Element>, BarcodeError> {
    let mut joined = String::with_capacity(data.len());
    let mut rest = data;
    while !rest.is_empty() {
        let Some(after_open) = rest.strip_prefix('(') else {
            return Err(BarcodeError::Unrecognised {
                reason: "expected '(' before an AI".into(),
            });
        };
        let Some(close) = after_open.find(')') else {
            return Err(BarcodeError::Unrecognised {
                reason: "unclosed '(' in element string".into(),
            });
        };
        let ai = &after_open[..close];
        let value_and_more = &after_open[close + 1..];
        let next = value_and_more.find('(').unwrap_or(value_and_more.len());
        let value = &value_and_more[..next];
        if !joined.is_empty() {
            joined.push(char::from(GS));
        }
        joined.push_str(ai);
        joined.push_str(value);
        // Check the AI parsed as exactly the bracketed one.
        match lookup(ai.as_bytes()) {
            Some((_, len)) if len == ai.len() => {}
            _ => {
                return Err(BarcodeError::UnknownAi {
                    at: ai.chars().take(4).collect(),
                });
            }
        }
        rest = &value_and_more[next..];
    }
    parse_elements(&joined)
}

fn validate(spec: &AiSpec, ai: &str, value: &str) -> Result<(), BarcodeError> {
    let what = format!("GS1 element ({ai})");
    match spec.chars {
        Chars::Numeric if !all_digits(value) => {
            return Err(BarcodeError::not_numeric(&what, value));
        }
        Chars::Alnum => super::cset82::check(&what, value, spec.max)?,
        _ => {}
    }
    if spec.check {
        verify_check_digit(&what, value)?;
    }
    if spec.date && yymmdd_to_iso(value).is_none() {
        return Err(BarcodeError::BadDate {
            ai: ai.to_owned(),
            value: value.to_owned(),
        });
    }
    Ok(())
}

/// `YYMMDD` to `YYYY-MM-DD` (years 2000-2099); day `00` means the month's last day, as GS1 allows.
pub fn yymmdd_to_iso(v: &str) -> Option<String> {
    if v.len() != 6 || !all_digits(v) {
        return None;
    }
    let yy: i32 = v[0..2].parse().ok()?;
    let mm: u32 = v[2..4].parse().ok()?;
    let dd: u32 = v[4..6].parse().ok()?;
    let year = 2000 + yy;
    let day = if dd == 0 {
        let first_next = if mm == 12 {
            chrono::NaiveDate::from_ymd_opt(year + 1, 1, 1)?
        } else {
            chrono::NaiveDate::from_ymd_opt(year, mm.checked_add(1)?, 1)?
        };
        chrono::NaiveDate::from_ymd_opt(year, mm, 1)?;
        first_next.pred_opt()?
    } else {
        chrono::NaiveDate::from_ymd_opt(year, mm, dd)?
    };
    Some(day.format("%Y-%m-%d").to_string())
}

/// Scales `value` with `decimals` implied decimal places by `num/den`, rounding half up.
fn scale(value: &str, decimals: u32, num: i128, den: i128) -> Option<i64> {
    let v: i128 = value.parse().ok()?;
    let div = 10i128.checked_pow(decimals)?.checked_mul(den)?;
    let n = v.checked_mul(num)?;
    i64::try_from((n + div / 2) / div).ok()
}

fn decimals_of(ai: &str) -> Option<u32> {
    ai.chars().last()?.to_digit(10)
}

/// Net weight in grams from AI 310n (kg) or 320n (lb).
pub fn net_weight_g(elements: &[Element]) -> Option<i64> {
    elements.iter().find_map(|e| {
        let n = decimals_of(&e.ai)?;
        if e.ai.starts_with("310") {
            scale(&e.value, n, 1000, 1)
        } else if e.ai.starts_with("320") {
            scale(&e.value, n, 45_359_237, 100_000)
        } else {
            None
        }
    })
}

/// Price in fen from AI 392n (local currency) or 393n when its ISO 4217 code is 156 (CNY).
pub fn price_fen(elements: &[Element]) -> Option<i64> {
    elements.iter().find_map(|e| {
        let n = decimals_of(&e.ai)?;
        if e.ai.starts_with("392") {
            scale(&e.value, n, 100, 1)
        } else if e.ai.starts_with("393") && e.value.starts_with("156") {
            scale(e.value.get(3..)?, n, 100, 1)
        } else {
            None
        }
    })
}

/// The value of the first element with exactly this AI.
pub fn value_of<'a>(elements: &'a [Element], ai: &str) -> Option<&'a str> {
    elements
        .iter()
        .find(|e| e.ai == ai)
        .map(|e| e.value.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GS_STR: &str = "\u{1d}";

    #[test]
    fn published_gs1_128_example() {
        let data = format!("01095011010209171719050810ABCD1234{GS_STR}2110");
        let els = parse_elements(&data).unwrap();
        let pairs: Vec<(&str, &str)> = els
            .iter()
            .map(|e| (e.ai.as_str(), e.value.as_str()))
            .collect();
        assert_eq!(
            pairs,
            vec![
                ("01", "09501101020917"),
                ("17", "190508"),
                ("10", "ABCD1234"),
                ("21", "10")
            ]
        );
    }

    #[test]
    fn weight_and_price_scale_by_decimal_digit() {
        let els = parse_elements(&format!("0100614141999996310300152539220599{GS_STR}")).unwrap();
        assert_eq!(net_weight_g(&els), Some(1525));
        assert_eq!(price_fen(&els), Some(599));
        let els = parse_elements("3922123").unwrap();
        assert_eq!(price_fen(&els), Some(123));
        let els = parse_elements("393215601999").unwrap();
        assert_eq!(price_fen(&els), Some(1999));
    }

    #[test]
    fn unknown_ai_is_rejected_with_position() {
        let err = parse_elements("99ABC").unwrap_err();
        assert_eq!(err, BarcodeError::UnknownAi { at: "99AB".into() });
    }

    #[test]
    fn truncated_fixed_element_is_rejected() {
        let err = parse_elements("0109501101").unwrap_err();
        assert_eq!(
            err,
            BarcodeError::Truncated {
                ai: "01".into(),
                needed: 14,
                got: 8
            }
        );
    }

    #[test]
    fn over_long_lot_is_rejected() {
        let err = parse_elements("10ABCDEFGHIJKLMNOPQRSTUVWXYZ").unwrap_err();
        assert_eq!(
            err,
            BarcodeError::TooLong {
                ai: "10".into(),
                max: 20,
                got: 26
            }
        );
    }

    #[test]
    fn gtin_check_digit_is_verified_in_ai_01() {
        assert!(matches!(
            parse_elements("0109501101020918"),
            Err(BarcodeError::BadCheckDigit {
                expected: 7,
                found: 8,
                ..
            })
        ));
    }

    #[test]
    fn dates_are_checked_and_day_00_is_month_end() {
        assert_eq!(yymmdd_to_iso("190508").as_deref(), Some("2019-05-08"));
        assert_eq!(yymmdd_to_iso("240200").as_deref(), Some("2024-02-29"));
        assert!(matches!(
            parse_elements("17191308"),
            Err(BarcodeError::BadDate { .. })
        ));
    }

    #[test]
    fn bracketed_form_parses_like_the_raw_form() {
        let a = parse_bracketed("(01)09501101020917(17)190508(10)ABCD1234(21)10").unwrap();
        let b = parse_elements(&format!("01095011010209171719050810ABCD1234{GS_STR}2110")).unwrap();
        assert_eq!(a, b);
    }
}
