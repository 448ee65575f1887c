//! Strict percent-decoding of a Digital Link path segment or an EPC URN part, for the parsers
//! here: a truncated or non-hex escape, or bytes that are not UTF-8, are a [`BarcodeError`]
//! (the lenient decoder that keeps such text is `omo_contract::percent::decode`).

use super::BarcodeError;

fn bad(reason: impl Into<String>) -> BarcodeError {
    BarcodeError::BadDigitalLink {
        reason: reason.into(),
    }
}

/// Decodes `%XX` escapes; the result must be UTF-8.
pub fn percent_decode(s: &str) -> Result<String, BarcodeError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .ok_or_else(|| bad("truncated percent escape"))?;
            let text = std::str::from_utf8(hex).map_err(|_| bad("bad percent escape"))?;
            let byte = u8::from_str_radix(text, 16)
                .map_err(|_| bad(format!("bad percent escape %{text}")))?;
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| bad("percent-decoded value is not UTF-8"))
}
