//! Why a scan was rejected: one precise reason per variant, worded for the operator's log.

/// A scan that could not be parsed, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BarcodeError {
    /// Nothing left after removing the symbology identifier and whitespace.
    #[error("empty scan")]
    Empty,
    /// A field that must be digits holds something else.
    #[error("{what} must be numeric, found {found:?}")]
    NotNumeric { what: String, found: String },
    /// A GS1 mod-10 check digit does not match.
    #[error("bad check digit in {what}: expected {expected}, found {found}")]
    BadCheckDigit {
        what: String,
        expected: u8,
        found: u8,
    },
    /// A field has the wrong number of characters.
    #[error("{what} has {found} characters, expected {expected}")]
    BadLength {
        what: String,
        expected: String,
        found: usize,
    },
    /// An element string names an Application Identifier this parser does not know.
    #[error("unknown GS1 Application Identifier at {at:?}")]
    UnknownAi { at: String },
    /// A GS1 element ends before its value is complete.
    #[error("GS1 element ({ai}) is truncated: needs {needed} characters, got {got}")]
    Truncated {
        ai: String,
        needed: usize,
        got: usize,
    },
    /// A variable-length GS1 element is longer than its AI allows (a missing GS separator, usually).
    #[error("GS1 element ({ai}) is too long: at most {max} characters, got {got}")]
    TooLong { ai: String, max: usize, got: usize },
    /// A character outside the allowed set (GS1 character set 82 for element values).
    #[error("invalid character {ch:?} in {what}")]
    InvalidCharacter { what: String, ch: char },
    /// A YYMMDD date that is not a date.
    #[error("invalid date {value:?} in GS1 element ({ai})")]
    BadDate { ai: String, value: String },
    /// The same AI twice with different values.
    #[error("GS1 element ({ai}) appears twice with different values")]
    DuplicateAi { ai: String },
    /// A URI that is not a GS1 Digital Link.
    #[error("not a GS1 Digital Link URI: {reason}")]
    BadDigitalLink { reason: String },
    /// Data of a shape no supported symbology produces.
    #[error("unrecognised barcode: {reason}")]
    Unrecognised { reason: String },
}

impl BarcodeError {
    pub(crate) fn not_numeric(what: &str, found: &str) -> Self {
        Self::NotNumeric {
            what: what.to_owned(),
            found: found.to_owned(),
        }
    }

    pub(crate) fn bad_length(what: &str, expected: &str, found: usize) -> Self {
        Self::BadLength {
            what: what.to_owned(),
            expected: expected.to_owned(),
            found,
        }
    }
}
