//! Percent-encoding of a GS1 Digital Link path segment or a URN part (RFC 3986 §2.1): the
//! unreserved characters (letters, digits, `-._~`) stay, every other byte becomes `%XX`.

/// Encodes `value` for a path segment.
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes (a `%` not followed by two hex digits stays as it is; bytes that are
/// not UTF-8 become U+FFFD).
pub fn decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(hi * 16 + lo);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_characters_are_escaped() {
        assert_eq!(encode("L 7/1"), "L%207%2F1");
        assert_eq!(encode("A-b.c_~9"), "A-b.c_~9");
        assert_eq!(decode("L%207%2F1"), "L 7/1");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz%4"), "%zz%4");
        assert_eq!(decode("%41"), "A");
    }

    proptest::proptest! {
        #[test]
        fn decode_undoes_encode(text in "\\PC{0,40}") {
            proptest::prop_assert_eq!(decode(&encode(&text)), text);
        }
    }
}
