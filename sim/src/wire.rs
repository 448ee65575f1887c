//! The lanes' serial lines: a scan and a scale reading become the bytes a real device sends, and
//! go back through the devices' own codecs (`omo_devices::scanner::ScanCodec`,
//! `omo_devices::scale::ScaleCodec`), the same way the drivers read them. Line noise can be put
//! on a line first. Even lanes weigh on a Toledo 8217 (STX framing, kg), odd lanes on an MT-SICS
//! scale (lines that end in CR LF, noise resynchronised within the line).
//!
//! What comes out is what the drivers hand the runner: a frame or a garbled one for the scanner,
//! and a reading or garbage for the scale. The runner's handling of a garbled frame is to log
//! it and drop it, so the lane never sees it.

use bytes::BytesMut;
use omo_devices::scale::{
    ScaleCodec, ScaleFrame, ScaleProtocol, ScaleReply, ScaleUnit, WeightReading, mtsics, toledo8217,
};
use omo_devices::scanner::{Framing, ScanCodec};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use tokio_util::codec::Decoder;

/// One lane's two serial lines and what is buffered on them.
#[derive(Debug)]
pub struct Lines {
    scanner: ScanCodec,
    scanner_buf: BytesMut,
    scale: ScaleCodec,
    scale_buf: BytesMut,
    protocol: ScaleProtocol,
}

/// What a line delivered: the item, or why the driver dropped the bytes.
pub type Delivered<T> = Result<T, String>;

impl Lines {
    /// The lines of lane `index` (scanner frames end in CR LF; the scale's protocol by lane).
    pub fn new(index: usize) -> Lines {
        let protocol = if index.is_multiple_of(2) {
            ScaleProtocol::Toledo8217
        } else {
            ScaleProtocol::MtSics
        };
        Lines {
            scanner: ScanCodec::new(Framing::Any, None, omo_devices::scanner::DEFAULT_MAX_FRAME),
            scanner_buf: BytesMut::new(),
            scale: ScaleCodec::new(protocol, ScaleUnit::Kg),
            scale_buf: BytesMut::new(),
            protocol,
        }
    }

    /// The scanner sends `code` (after `noise`, a garbled frame of its own, if any): the frames
    /// the codec reads.
    pub fn scan(&mut self, code: &str, noise: Option<Vec<u8>>) -> Vec<Delivered<String>> {
        if let Some(noise) = noise {
            self.scanner_buf.extend_from_slice(&noise);
            self.scanner_buf.extend_from_slice(b"\r\n");
        }
        self.scanner_buf.extend_from_slice(code.as_bytes());
        self.scanner_buf.extend_from_slice(b"\r\n");
        let mut frames = Vec::new();
        while let Ok(Some(frame)) = self.scanner.decode(&mut self.scanner_buf) {
            frames.push(frame.map_err(|e| e.to_string()));
        }
        frames
    }

    /// The scale answers with `reading` (stable or in motion), line noise before it if any: the
    /// readings the codec reads.
    pub fn weigh(
        &mut self,
        reading: &WeightReading,
        noise: Option<Vec<u8>>,
    ) -> Vec<Delivered<WeightReading>> {
        if let Some(noise) = noise {
            self.scale_buf.extend_from_slice(&noise);
        }
        let bytes = match (self.protocol, reading) {
            (ScaleProtocol::Toledo8217, WeightReading::Stable { grams }) => {
                toledo8217::encode_weight_kg(*grams, false)
            }
            (ScaleProtocol::Toledo8217, _) => toledo8217::encode_status(toledo8217::bits::MOTION),
            (ScaleProtocol::MtSics, WeightReading::Stable { grams }) => {
                mtsics::encode_weight(true, *grams)
            }
            (ScaleProtocol::MtSics, _) => mtsics::encode_weight(false, 0),
        };
        self.scale_buf.extend_from_slice(&bytes);
        let mut readings = Vec::new();
        while let Ok(Some(frame)) = self.scale.decode(&mut self.scale_buf) {
            readings.push(match frame {
                ScaleFrame::Reply(ScaleReply::Reading(reading)) => Ok(reading),
                ScaleFrame::Reply(other) => Err(format!("not a reading: {other:?}")),
                ScaleFrame::Garbage(why) => Err(why),
            });
        }
        readings
    }
}

/// Line noise: 1–12 printable bytes (no terminator, no STX), beginning with a NAK so a scanner
/// frame of it is garbled, not a code.
pub fn noise(rng: &mut ChaCha8Rng, for_scanner: bool) -> Vec<u8> {
    let len = rng.random_range(1..=12);
    let mut bytes: Vec<u8> = (0..len)
        .map(|_| *b"~#%&@!?=+^".get(rng.random_range(0..10)).unwrap_or(&b'~'))
        .collect();
    if for_scanner {
        bytes.insert(0, 0x15);
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn a_scan_after_a_garbled_frame_still_arrives() {
        let mut lines = Lines::new(0);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let frames = lines.scan("6901234560013", Some(noise(&mut rng, true)));
        assert_eq!(frames.len(), 2);
        assert!(frames[0].is_err());
        assert_eq!(frames[1].as_deref(), Ok("6901234560013"));
    }

    #[test]
    fn both_scales_read_a_weight_through_line_noise() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        for lane in 0..2 {
            let mut lines = Lines::new(lane);
            let stable = WeightReading::Stable { grams: 1234 };
            let read = lines.weigh(&stable, Some(noise(&mut rng, false)));
            assert_eq!(read.last(), Some(&Ok(stable)), "lane {lane}: {read:?}");
            let read = lines.weigh(&WeightReading::Motion, None);
            assert_eq!(read, vec![Ok(WeightReading::Motion)], "lane {lane}");
        }
    }
}
