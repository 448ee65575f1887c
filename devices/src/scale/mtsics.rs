//! Mettler Toledo MT-SICS, levels 0 and 1 (pure, no IO). Commands and replies are ASCII lines
//! ending in CR LF (a lone LF is accepted). Default line: 9600 baud, 8N1.
//!
//! | host sends | scale answers |
//! | --- | --- |
//! | `S` stable weight | `S S <value> <unit>`; `S I` busy; `S +` overload; `S -` underload |
//! | `SI` weight now | `S S ...` stable, `S D ...` dynamic (moving), or `S I` / `S +` / `S -` |
//! | `SIR` weight now, repeated | a stream of `S S` / `S D` lines until another command |
//! | `Z` zero | `Z A` done; `Z I` not possible now; `Z +` / `Z -` out of zero range |
//! | `T` tare | `T S <tare> <unit>` done; `T I`, `T +`, `T -` refused |
//! | `@` reset | `I4 A "<serial number>"` |
//! | anything | `ES` syntax error, `ET` transmission error, `EL` logical error |
//!
//! Units: `g`, `kg`, `mg`, `lb`, `oz`.
//!
//! MT-SICS has no start byte to resynchronise on (unlike Toledo's STX): a reply preceded on its
//! line by noise (a glitch at power-up or a hot-plug) is read from the first byte where a whole
//! reply parses, one of the letters a reply begins with ([`parse_noisy_line`]).

use super::ScaleCommand;
use super::reading::{ReplyError, WeightReading, to_grams};

/// A complete reply line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// A weighing answer (`S ...`).
    Reading(WeightReading),
    /// A command was carried out (`Z A`, `T S`, `I4 A`).
    Done,
    /// A command was refused, with the scale's reason.
    Refused(String),
}

/// The command line for `c`.
pub fn command(c: ScaleCommand) -> Option<&'static [u8]> {
    Some(match c {
        ScaleCommand::Weigh => b"S\r\n",
        ScaleCommand::WeighImmediate => b"SI\r\n",
        ScaleCommand::Zero => b"Z\r\n",
        ScaleCommand::Tare => b"T\r\n",
        ScaleCommand::ClearTare => return None,
        ScaleCommand::Reset => b"@\r\n",
    })
}

/// The repeat command `SIR`.
pub const SIR: &[u8] = b"SIR\r\n";

const MAX_LINE: usize = 64;

/// Grams per unit as `num/den`.
fn unit_factor(unit: &str) -> Option<(i128, i128)> {
    Some(match unit {
        "g" => (1, 1),
        "kg" => (1000, 1),
        "mg" => (1, 1000),
        "lb" => (45_359_237, 100_000),
        "oz" => (28_349_523_125, 1_000_000_000),
        _ => return None,
    })
}

/// Decodes one line from the front of `buf`: `None` when more bytes are needed, otherwise the bytes
/// consumed and the reply or why the line was not one.
pub fn decode(buf: &[u8]) -> Option<(usize, Result<Reply, ReplyError>)> {
    let Some(lf) = buf.iter().position(|&b| b == b'\n') else {
        if buf.len() > MAX_LINE {
            return Some((buf.len(), Err(ReplyError::TooLong(MAX_LINE))));
        }
        return None;
    };
    let line = &buf[..lf];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.len() > MAX_LINE {
        return Some((lf + 1, Err(ReplyError::TooLong(MAX_LINE))));
    }
    Some((lf + 1, parse_noisy_line(line)))
}

/// Parses one line that may carry line noise before its reply: the whole line if it parses,
/// else the longest tail that starts with a reply's first letter (`S`, `Z`, `T`, `E`, `I`) and
/// parses whole, else the whole line's error.
pub fn parse_noisy_line(line: &[u8]) -> Result<Reply, ReplyError> {
    let whole = parse_line(line);
    if whole.is_ok() {
        return whole;
    }
    (1..line.len())
        .filter(|&i| matches!(line[i], b'S' | b'Z' | b'T' | b'E' | b'I'))
        .find_map(|i| parse_line(&line[i..]).ok())
        .map_or(whole, Ok)
}

/// Parses one line without its terminator.
pub fn parse_line(line: &[u8]) -> Result<Reply, ReplyError> {
    let text = std::str::from_utf8(line)
        .map_err(|_| ReplyError::Malformed(String::from_utf8_lossy(line).into_owned()))?;
    let malformed = || ReplyError::Malformed(text.to_owned());
    let words: Vec<&str> = text.split_ascii_whitespace().collect();
    match words.as_slice() {
        ["ES"] => Ok(Reply::Refused(
            "syntax error: command not recognised".into(),
        )),
        ["ET"] => Ok(Reply::Refused("transmission error".into())),
        ["EL"] => Ok(Reply::Refused(
            "logical error: command cannot be executed".into(),
        )),
        ["S", "I"] => Ok(Reply::Reading(WeightReading::NotReady)),
        ["S", "+"] => Ok(Reply::Reading(WeightReading::OverCapacity)),
        ["S", "-"] => Ok(Reply::Reading(WeightReading::UnderZero)),
        ["S", status @ ("S" | "D"), value, unit] => {
            let (num, den) = unit_factor(unit).ok_or_else(malformed)?;
            let grams = to_grams(value, num, den).ok_or_else(malformed)?;
            Ok(Reply::Reading(if *status == "S" {
                WeightReading::Stable { grams }
            } else {
                WeightReading::Motion
            }))
        }
        ["Z", "A"] => Ok(Reply::Done),
        ["Z", "I"] => Ok(Reply::Refused(
            "zero not possible now (busy or unstable)".into(),
        )),
        ["Z", "+"] => Ok(Reply::Refused("zero refused: above the zero range".into())),
        ["Z", "-"] => Ok(Reply::Refused("zero refused: below the zero range".into())),
        ["T", "S", value, unit]
            if unit_factor(unit).is_some() && to_grams(value, 1, 1).is_some() =>
        {
            Ok(Reply::Done)
        }
        ["T", "I"] => Ok(Reply::Refused(
            "tare not possible now (busy or unstable)".into(),
        )),
        ["T", "+"] => Ok(Reply::Refused("tare refused: above the tare range".into())),
        ["T", "-"] => Ok(Reply::Refused("tare refused: below the tare range".into())),
        ["I4", "A", ..] => Ok(Reply::Done),
        _ => Err(malformed()),
    }
}

/// Formats a weight line as a scale does (`S S      1.234 kg`), for simulators.
pub fn encode_weight(stable: bool, grams: i64) -> Vec<u8> {
    let sign = if grams < 0 { "-" } else { "" };
    let g = grams.unsigned_abs();
    let value = format!("{sign}{}.{:03}", g / 1000, g % 1000);
    format!("S {} {value:>10} kg\r\n", if stable { 'S' } else { 'D' }).into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn line(s: &str) -> Result<Reply, ReplyError> {
        let (used, r) = decode(s.as_bytes()).expect("complete");
        assert_eq!(used, s.len());
        r
    }

    #[test]
    fn weight_replies_in_each_unit() {
        assert_eq!(
            line("S S     100.00 g\r\n"),
            Ok(Reply::Reading(WeightReading::Stable { grams: 100 }))
        );
        assert_eq!(
            line("S S      1.234 kg\r\n"),
            Ok(Reply::Reading(WeightReading::Stable { grams: 1234 }))
        );
        assert_eq!(
            line("S S     -0.500 kg\r\n"),
            Ok(Reply::Reading(WeightReading::Stable { grams: -500 }))
        );
        assert_eq!(
            line("S S      2.205 lb\r\n"),
            Ok(Reply::Reading(WeightReading::Stable { grams: 1000 }))
        );
        assert_eq!(
            line("S D     129.07 g\r\n"),
            Ok(Reply::Reading(WeightReading::Motion))
        );
    }

    #[test]
    fn states_and_errors() {
        assert_eq!(line("S I\r\n"), Ok(Reply::Reading(WeightReading::NotReady)));
        assert_eq!(
            line("S +\r\n"),
            Ok(Reply::Reading(WeightReading::OverCapacity))
        );
        assert_eq!(
            line("S -\r\n"),
            Ok(Reply::Reading(WeightReading::UnderZero))
        );
        assert!(matches!(line("ES\r\n"), Ok(Reply::Refused(_))));
        assert!(matches!(line("ET\r\n"), Ok(Reply::Refused(_))));
        assert!(matches!(line("EL\r\n"), Ok(Reply::Refused(_))));
        assert_eq!(line("Z A\r\n"), Ok(Reply::Done));
        assert!(matches!(line("Z I\r\n"), Ok(Reply::Refused(_))));
        assert_eq!(line("T S     100.00 g\r\n"), Ok(Reply::Done));
        assert_eq!(line("I4 A \"0123456789\"\r\n"), Ok(Reply::Done));
        assert!(line("S S 1.0 furlong\n").is_err());
    }

    #[test]
    fn partial_and_overlong_lines() {
        assert_eq!(decode(b"S S  1.0"), None);
        let long = vec![b'x'; 100];
        assert!(matches!(
            decode(&long),
            Some((100, Err(ReplyError::TooLong(_))))
        ));
    }

    #[test]
    fn a_reply_after_line_noise_on_its_line_is_still_read() {
        let read = |bytes: &[u8]| decode(bytes).map(|(n, r)| (n, r.ok()));
        assert_eq!(
            read(b"\x00\xff\x1bS S      1.234 kg\r\n"),
            Some((
                22,
                Some(Reply::Reading(WeightReading::Stable { grams: 1234 }))
            ))
        );
        assert_eq!(
            read(b"#@!S D      0.500 kg\r\n").and_then(|(_, r)| r),
            Some(Reply::Reading(WeightReading::Motion))
        );
        // Noise that is itself letters: the reply is still found after it.
        assert_eq!(
            read(b"xSqS S 250 g\r\n").and_then(|(_, r)| r),
            Some(Reply::Reading(WeightReading::Stable { grams: 250 }))
        );
        assert_eq!(
            read(b"\xfe\xfeZ A\r\n").and_then(|(_, r)| r),
            Some(Reply::Done)
        );
        // Noise alone, or a reply broken inside, is still an error, never a guess.
        assert!(matches!(
            decode(b"\x00\x01garbage\r\n"),
            Some((_, Err(ReplyError::Malformed(_))))
        ));
        assert!(matches!(
            decode(b"S S 1#.234 kg\r\n"),
            Some((_, Err(ReplyError::Malformed(_))))
        ));
    }

    #[test]
    fn encoder_round_trips() {
        assert_eq!(
            line(std::str::from_utf8(&encode_weight(true, 1234)).unwrap()),
            Ok(Reply::Reading(WeightReading::Stable { grams: 1234 }))
        );
        assert_eq!(
            line(std::str::from_utf8(&encode_weight(true, -20)).unwrap()),
            Ok(Reply::Reading(WeightReading::Stable { grams: -20 }))
        );
    }

    proptest! {
        #[test]
        fn a_weight_after_any_non_letter_noise_reads_the_same(
            noise in proptest::collection::vec(any::<u8>().prop_filter("noise", |b| !b.is_ascii_alphanumeric() && *b != b'\n'), 0..40),
            grams in 0i64..1_000_000,
            stable in any::<bool>(),
        ) {
            let mut bytes = noise.clone();
            bytes.extend(encode_weight(stable, grams));
            let want = if stable { WeightReading::Stable { grams } } else { WeightReading::Motion };
            prop_assert_eq!(decode(&bytes).map(|(n, r)| (n, r.ok())), Some((bytes.len(), Some(Reply::Reading(want)))));
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..160)) {
            let mut rest: &[u8] = &bytes;
            while let Some((used, _)) = decode(rest) {
                prop_assert!(used > 0 && used <= rest.len());
                rest = &rest[used..];
            }
        }
    }
}
