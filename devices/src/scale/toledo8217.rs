//! The Mettler Toledo 8217 scale protocol (pure, no IO), as used by checkout scanner-scales.
//!
//! Source: METTLER TOLEDO DIVA Service Manual 72191202 (05/2012), section 6.1.4 ("8217" ECR
//! protocol), 9600 baud, 7 data bits, even parity, 1 stop bit. Commands are single upper-case ASCII
//! characters, no terminator:
//!
//! | host sends | scale answers |
//! | --- | --- |
//! | `W` weight | `STX WW.WWW CR` (kg), `STX 0WW.WW CR` (lb), with `N` before `CR` for a net weight; or `STX ? status CR` when in motion, below zero or over capacity |
//! | `Z` zero | `STX ? status CR` |
//! | `T` tare | `STX ? status CR` |
//! | `C` clear tare | `STX ? status CR` |
//!
//! The status byte ("Scale Status Byte Bit Definitions"):
//!
//! | bit | meaning when 1 |
//! | --- | --- |
//! | 0 | scale in motion |
//! | 1 | over capacity |
//! | 2 | under zero |
//! | 3 | outside zero-capture range |
//! | 4 | centre of zero |
//! | 5 | net weight (gross when 0) |
//! | 6 | always 1 (so the byte is printable; not an error) |
//! | 7 | even parity (stripped here) |

use super::reading::{ReplyError, ScaleUnit, WeightReading, to_grams};

pub const STX: u8 = 0x02;
pub const CR: u8 = 0x0d;

/// Status bits.
pub mod bits {
    pub const MOTION: u8 = 1 << 0;
    pub const OVER_CAPACITY: u8 = 1 << 1;
    pub const UNDER_ZERO: u8 = 1 << 2;
    pub const OUTSIDE_ZERO_CAPTURE: u8 = 1 << 3;
    pub const CENTRE_OF_ZERO: u8 = 1 << 4;
    pub const NET: u8 = 1 << 5;
    pub const ALWAYS_SET: u8 = 1 << 6;
}

/// A decoded status byte (parity stripped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status(pub u8);

impl Status {
    pub fn motion(self) -> bool {
        self.0 & bits::MOTION != 0
    }
    pub fn over_capacity(self) -> bool {
        self.0 & bits::OVER_CAPACITY != 0
    }
    pub fn under_zero(self) -> bool {
        self.0 & bits::UNDER_ZERO != 0
    }
    pub fn outside_zero_capture(self) -> bool {
        self.0 & bits::OUTSIDE_ZERO_CAPTURE != 0
    }
    pub fn centre_of_zero(self) -> bool {
        self.0 & bits::CENTRE_OF_ZERO != 0
    }
    pub fn net(self) -> bool {
        self.0 & bits::NET != 0
    }

    /// The state this status describes, most serious first.
    pub fn reading(self) -> WeightReading {
        if self.over_capacity() {
            WeightReading::OverCapacity
        } else if self.under_zero() {
            WeightReading::UnderZero
        } else if self.outside_zero_capture() {
            WeightReading::OutsideZeroRange
        } else if self.motion() {
            WeightReading::Motion
        } else {
            WeightReading::NotReady
        }
    }
}

/// A complete reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// A stable weight (the scale only sends weights when stable).
    Weight { grams: i64, net: bool },
    /// `STX ? status CR`.
    Status(Status),
}

impl Reply {
    /// The reading this reply gives to a `W`.
    pub fn reading(self) -> WeightReading {
        match self {
            Self::Weight { grams, .. } => WeightReading::Stable { grams },
            Self::Status(s) => s.reading(),
        }
    }
}

/// The command bytes.
pub fn command(c: super::ScaleCommand) -> Option<&'static [u8]> {
    use super::ScaleCommand as C;
    match c {
        C::Weigh | C::WeighImmediate => Some(b"W"),
        C::Zero => Some(b"Z"),
        C::Tare => Some(b"T"),
        C::ClearTare => Some(b"C"),
        C::Reset => None,
    }
}

/// The longest reply body accepted between STX and CR.
const MAX_BODY: usize = 12;

/// Decodes one reply from the front of `buf`: `Ok(None)` when more bytes are needed, otherwise
/// the number of bytes consumed and the reply or the reason the bytes were not a reply.
pub fn decode(buf: &[u8], unit: ScaleUnit) -> Option<(usize, Result<Reply, ReplyError>)> {
    let start = buf.iter().position(|&b| b & 0x7f == STX);
    match start {
        None if buf.is_empty() => return None,
        None => return Some((buf.len(), Err(ReplyError::Noise(buf.len())))),
        Some(n) if n > 0 => return Some((n, Err(ReplyError::Noise(n)))),
        Some(_) => {}
    }
    let body_and_rest = &buf[1..];
    let Some(end) = body_and_rest.iter().position(|&b| b & 0x7f == CR) else {
        if body_and_rest.len() > MAX_BODY {
            return Some((1 + body_and_rest.len(), Err(ReplyError::TooLong(MAX_BODY))));
        }
        return None;
    };
    let used = 1 + end + 1;
    let body: Vec<u8> = body_and_rest[..end].iter().map(|b| b & 0x7f).collect();
    Some((used, parse_body(&body, unit)))
}

fn parse_body(body: &[u8], unit: ScaleUnit) -> Result<Reply, ReplyError> {
    let malformed = || ReplyError::Malformed(String::from_utf8_lossy(body).into_owned());
    if body.len() > MAX_BODY || body.contains(&STX) {
        return Err(malformed());
    }
    if let [b'?', status] = body {
        if status & bits::ALWAYS_SET == 0 {
            return Err(malformed());
        }
        return Ok(Reply::Status(Status(*status)));
    }
    let (digits, net) = match body.split_last() {
        Some((b'N', rest)) => (rest, true),
        _ => (body, false),
    };
    if !digits.contains(&b'.') || !(5..=8).contains(&digits.len()) {
        return Err(malformed());
    }
    let text = std::str::from_utf8(digits).map_err(|_| malformed())?;
    let (num, den) = match unit {
        ScaleUnit::Kg => (1000, 1),
        ScaleUnit::Lb => (45_359_237, 100_000),
    };
    let grams = to_grams(text, num, den)
        .filter(|g| *g >= 0)
        .ok_or_else(malformed)?;
    Ok(Reply::Weight { grams, net })
}

/// Encodes a weight reply as a scale would (kg, `WW.WWW`), for simulators.
pub fn encode_weight_kg(grams: i64, net: bool) -> Vec<u8> {
    let g = grams.clamp(0, 99_999);
    let mut out = format!("\x02{:02}.{:03}", g / 1000, g % 1000).into_bytes();
    if net {
        out.push(b'N');
    }
    out.push(CR);
    out
}

/// Encodes a status reply, for simulators.
pub fn encode_status(status_bits: u8) -> Vec<u8> {
    vec![STX, b'?', status_bits | bits::ALWAYS_SET, CR]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn one(bytes: &[u8]) -> Result<Reply, ReplyError> {
        let (used, r) = decode(bytes, ScaleUnit::Kg).expect("complete");
        assert_eq!(used, bytes.len());
        r
    }

    #[test]
    fn stable_kg_weight() {
        assert_eq!(
            one(b"\x0201.234\r"),
            Ok(Reply::Weight {
                grams: 1234,
                net: false
            })
        );
        assert_eq!(
            one(b"\x0201.234N\r"),
            Ok(Reply::Weight {
                grams: 1234,
                net: true
            })
        );
        assert_eq!(
            one(b"\x02123.45\r"),
            Ok(Reply::Weight {
                grams: 123_450,
                net: false
            })
        );
    }

    #[test]
    fn lb_weight_converts_to_grams() {
        let (_, r) = decode(b"\x02002.20\r", ScaleUnit::Lb).unwrap();
        assert_eq!(
            r,
            Ok(Reply::Weight {
                grams: 998,
                net: false
            })
        );
    }

    #[test]
    fn status_bits_map_to_states() {
        // '@' = 0x40: bit 6 only; 'A' = motion; 'B' = over capacity; 'D' = under zero.
        assert_eq!(
            one(b"\x02?@\r").map(Reply::reading),
            Ok(WeightReading::NotReady)
        );
        assert_eq!(
            one(b"\x02?A\r").map(Reply::reading),
            Ok(WeightReading::Motion)
        );
        assert_eq!(
            one(b"\x02?B\r").map(Reply::reading),
            Ok(WeightReading::OverCapacity)
        );
        assert_eq!(
            one(b"\x02?D\r").map(Reply::reading),
            Ok(WeightReading::UnderZero)
        );
        assert_eq!(
            one(b"\x02?H\r").map(Reply::reading),
            Ok(WeightReading::OutsideZeroRange)
        );
        let Ok(Reply::Status(s)) = one(b"\x02?p\r") else {
            panic!()
        };
        assert!(s.centre_of_zero() && s.net() && !s.motion());
        // Motion together with over capacity: over capacity wins.
        assert_eq!(
            one(b"\x02?C\r").map(Reply::reading),
            Ok(WeightReading::OverCapacity)
        );
    }

    #[test]
    fn parity_bit_is_ignored() {
        // 'A' (0x41) has two ones: even parity leaves bit 7 clear; 'C' (0x43) has three: bit 7 set.
        assert_eq!(
            one(&[STX, b'?', 0x43 | 0x80, CR]).map(Reply::reading),
            Ok(WeightReading::OverCapacity)
        );
    }

    #[test]
    fn partial_noise_and_garbage() {
        assert_eq!(decode(b"\x0201.2", ScaleUnit::Kg), None);
        assert_eq!(
            decode(b"xx\x0201.234\r", ScaleUnit::Kg),
            Some((2, Err(ReplyError::Noise(2))))
        );
        assert!(matches!(
            one(b"\x02ABCDEF\r"),
            Err(ReplyError::Malformed(_))
        ));
        assert!(matches!(one(b"\x02?\x01\r"), Err(ReplyError::Malformed(_))));
        let long = b"\x0201234567890123456789";
        assert_eq!(
            decode(long, ScaleUnit::Kg).map(|(n, _)| n),
            Some(long.len())
        );
    }

    #[test]
    fn encoders_round_trip() {
        assert_eq!(encode_weight_kg(1234, false), b"\x0201.234\r");
        assert_eq!(
            one(&encode_weight_kg(5, true)),
            Ok(Reply::Weight {
                grams: 5,
                net: true
            })
        );
        assert_eq!(
            one(&encode_status(bits::MOTION)).map(Reply::reading),
            Ok(WeightReading::Motion)
        );
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..128)) {
            let mut rest: &[u8] = &bytes;
            while let Some((used, _)) = decode(rest, ScaleUnit::Kg) {
                prop_assert!(used > 0 && used <= rest.len());
                rest = &rest[used..];
            }
        }
    }
}
