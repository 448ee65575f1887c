//! Scanner framing (pure): splits the byte stream from a serial scanner into scans by CR, LF,
//! CRLF, any of those, or a custom suffix, strips an optional prefix, skips empty frames, and reports
//! over-long or garbled frames as items (never as a stream error) so decoding carries on.

use bytes::{Buf, BytesMut};
use serde::{Deserialize, Serialize};
use tokio_util::codec::Decoder;

/// How scans are terminated on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Framing {
    /// `\r`
    Cr,
    /// `\n`
    Lf,
    /// `\r\n`
    #[serde(rename = "crlf")]
    CrLf,
    /// `\r`, `\n` or `\r\n` (the default).
    #[default]
    Any,
    /// A custom terminator, e.g. `{ suffix = "\t" }`.
    Suffix(String),
}

impl Framing {
    /// The bytes a scanner appends to each scan (CR LF for `Any`).
    pub fn suffix_bytes(&self) -> Vec<u8> {
        match self {
            Self::Cr => b"\r".to_vec(),
            Self::Lf => b"\n".to_vec(),
            Self::CrLf | Self::Any => b"\r\n".to_vec(),
            Self::Suffix(s) => s.as_bytes().to_vec(),
        }
    }
}

/// Why a frame was dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("frame longer than {max} bytes")]
    TooLong { max: usize },
    #[error("control byte 0x{byte:02x} at offset {offset}")]
    ControlByte { byte: u8, offset: usize },
    #[error("frame is not valid UTF-8")]
    NotUtf8,
}

/// The default longest frame accepted.
pub const DEFAULT_MAX_FRAME: usize = 4096;

/// Decodes scanner frames: each item is a scan's text or the reason a frame was dropped.
#[derive(Debug, Clone)]
pub struct ScanCodec {
    framing: Framing,
    prefix: Option<String>,
    max_len: usize,
    /// Inside an over-long frame: drop bytes up to the next terminator.
    discarding: bool,
}

impl ScanCodec {
    pub fn new(framing: Framing, prefix: Option<String>, max_len: usize) -> Self {
        let framing = match framing {
            Framing::Suffix(s) if s.is_empty() => Framing::Any,
            f => f,
        };
        Self {
            framing,
            prefix: prefix.filter(|p| !p.is_empty()),
            max_len: max_len.max(1),
            discarding: false,
        }
    }

    /// Finds the next terminator: (frame length, terminator length).
    fn find(&self, buf: &[u8]) -> Option<(usize, usize)> {
        let needle: &[u8] = match &self.framing {
            Framing::Cr => b"\r",
            Framing::Lf => b"\n",
            Framing::CrLf => b"\r\n",
            Framing::Suffix(s) => s.as_bytes(),
            Framing::Any => {
                let i = buf.iter().position(|&b| b == b'\r' || b == b'\n')?;
                let len = if buf[i] == b'\r' && buf.get(i + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
                return Some((i, len));
            }
        };
        buf.windows(needle.len())
            .position(|w| w == needle)
            .map(|i| (i, needle.len()))
    }

    fn check(&self, frame: &[u8]) -> Result<Option<String>, FrameError> {
        if frame.len() > self.max_len {
            return Err(FrameError::TooLong { max: self.max_len });
        }
        // GS, RS and EOT are legitimate inside GS1 and ISO 15434 data.
        if let Some(offset) = frame
            .iter()
            .position(|&b| (b < 0x20 && !matches!(b, 0x1d | 0x1e | 0x04)) || b == 0x7f)
        {
            return Err(FrameError::ControlByte {
                byte: frame[offset],
                offset,
            });
        }
        let text = std::str::from_utf8(frame).map_err(|_| FrameError::NotUtf8)?;
        let text = match &self.prefix {
            Some(p) => text.strip_prefix(p.as_str()).unwrap_or(text),
            None => text,
        };
        Ok(if text.is_empty() {
            None
        } else {
            Some(text.to_owned())
        })
    }
}

impl Default for ScanCodec {
    fn default() -> Self {
        Self::new(Framing::Any, None, DEFAULT_MAX_FRAME)
    }
}

impl Decoder for ScanCodec {
    type Item = Result<String, FrameError>;
    type Error = std::io::Error;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Self::Item>, Self::Error> {
        loop {
            let Some((len, term)) = self.find(buf) else {
                if self.discarding {
                    // Keep a tail that may hold the start of a multi-byte terminator.
                    let keep = self.framing.suffix_bytes().len().saturating_sub(1);
                    let drop = buf.len().saturating_sub(keep);
                    buf.advance(drop);
                } else if buf.len() > self.max_len {
                    self.discarding = true;
                    buf.clear();
                    return Ok(Some(Err(FrameError::TooLong { max: self.max_len })));
                }
                return Ok(None);
            };
            let frame = buf.split_to(len);
            buf.advance(term);
            if std::mem::take(&mut self.discarding) {
                continue;
            }
            match self.check(&frame) {
                Ok(Some(text)) => return Ok(Some(Ok(text))),
                Ok(None) => continue,
                Err(e) => return Ok(Some(Err(e))),
            }
        }
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Self::Item>, Self::Error> {
        if let Some(item) = self.decode(buf)? {
            return Ok(Some(item));
        }
        // A frame cut off by the end of the stream is incomplete: drop it.
        buf.clear();
        self.discarding = false;
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode_all(codec: &mut ScanCodec, input: &[u8]) -> Vec<Result<String, FrameError>> {
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        while let Ok(Some(item)) = codec.decode(&mut buf) {
            out.push(item);
        }
        out
    }

    fn ok(s: &str) -> Result<String, FrameError> {
        Ok(s.to_owned())
    }

    #[test]
    fn each_framing_splits_scans() {
        let cases: [(Framing, &[u8]); 5] = [
            (Framing::Cr, b"123\r456\r"),
            (Framing::Lf, b"123\n456\n"),
            (Framing::CrLf, b"123\r\n456\r\n"),
            (Framing::Any, b"123\r\n456\n"),
            (Framing::Suffix("\t".into()), b"123\t456\t"),
        ];
        for (framing, input) in cases {
            let mut c = ScanCodec::new(framing.clone(), None, 64);
            assert_eq!(
                decode_all(&mut c, input),
                vec![ok("123"), ok("456")],
                "{framing:?}"
            );
        }
    }

    #[test]
    fn any_framing_skips_empty_frames_and_waits_for_more() {
        let mut c = ScanCodec::default();
        let mut buf = BytesMut::from(&b"\r\n\r\n12"[..]);
        assert_eq!(c.decode(&mut buf).unwrap(), None);
        buf.extend_from_slice(b"3\r");
        assert_eq!(c.decode(&mut buf).unwrap(), Some(ok("123")));
        buf.extend_from_slice(b"\n");
        assert_eq!(c.decode(&mut buf).unwrap(), None);
    }

    #[test]
    fn prefix_is_stripped() {
        let mut c = ScanCodec::new(Framing::Cr, Some("SCN:".into()), 64);
        assert_eq!(
            decode_all(&mut c, b"SCN:123\r456\r"),
            vec![ok("123"), ok("456")]
        );
    }

    #[test]
    fn garbage_is_reported_and_decoding_continues() {
        let mut c = ScanCodec::new(Framing::Lf, None, 64);
        let items = decode_all(&mut c, b"\x01\x02junk\n\xff\xfe\n4006381333931\n");
        assert_eq!(
            items[0],
            Err(FrameError::ControlByte { byte: 1, offset: 0 })
        );
        assert_eq!(items[1], Err(FrameError::NotUtf8));
        assert_eq!(items[2], ok("4006381333931"));
    }

    #[test]
    fn gs_inside_a_frame_is_data() {
        let mut c = ScanCodec::new(Framing::Cr, None, 64);
        assert_eq!(
            decode_all(&mut c, b"]C110ABC\x1d2110\r"),
            vec![ok("]C110ABC\x1d2110")]
        );
    }

    #[test]
    fn over_long_frame_is_reported_once_then_skipped_to_next_terminator() {
        let mut c = ScanCodec::new(Framing::CrLf, None, 8);
        let mut buf = BytesMut::from(&b"0123456789ABCDEF"[..]);
        assert_eq!(
            c.decode(&mut buf).unwrap(),
            Some(Err(FrameError::TooLong { max: 8 }))
        );
        buf.extend_from_slice(b"more garbage\r");
        assert_eq!(c.decode(&mut buf).unwrap(), None);
        buf.extend_from_slice(b"\n42\r\n");
        assert_eq!(c.decode(&mut buf).unwrap(), Some(ok("42")));
        let mut c = ScanCodec::new(Framing::Lf, None, 4);
        assert_eq!(
            decode_all(&mut c, b"123456\n12\n"),
            vec![Err(FrameError::TooLong { max: 4 }), ok("12")]
        );
    }

    #[test]
    fn framing_deserializes_from_config_words() {
        let f: Framing = serde_json::from_str("\"crlf\"").unwrap();
        assert_eq!(f, Framing::CrLf);
        let f: Framing = serde_json::from_str(r#"{"suffix":"\t"}"#).unwrap();
        assert_eq!(f, Framing::Suffix("\t".into()));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512), max in 1usize..64) {
            for framing in [Framing::Cr, Framing::Lf, Framing::CrLf, Framing::Any, Framing::Suffix("END".into())] {
                let mut c = ScanCodec::new(framing, Some("P".into()), max);
                let mut buf = BytesMut::new();
                for chunk in bytes.chunks(7) {
                    buf.extend_from_slice(chunk);
                    while let Ok(Some(_)) = c.decode(&mut buf) {}
                }
                let _ = c.decode_eof(&mut buf);
            }
        }
    }
}
