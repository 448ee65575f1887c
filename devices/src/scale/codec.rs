//! The thin `tokio_util::codec` layer over the pure scale protocols: encodes [`ScaleCommand`]s and
//! decodes replies, turning noise and malformed replies into [`ScaleFrame::Garbage`] items so the
//! stream carries on.

use bytes::{Buf, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use super::reading::{ScaleError, ScaleUnit, WeightReading};
use super::{ScaleCommand, ScaleProtocol, mtsics, toledo8217};

/// A reply in protocol-neutral terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScaleReply {
    /// A weighing answer. For the 8217 every status reply decodes to a reading too.
    Reading(WeightReading),
    /// A command was carried out.
    Done,
    /// A command was refused, with the reason.
    Refused(String),
}

/// One decoded item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScaleFrame {
    Reply(ScaleReply),
    /// Bytes that were not a reply, and why.
    Garbage(String),
}

/// Encodes commands and decodes replies for one protocol.
#[derive(Debug, Clone, Copy)]
pub struct ScaleCodec {
    protocol: ScaleProtocol,
    unit: ScaleUnit,
}

impl ScaleCodec {
    pub fn new(protocol: ScaleProtocol, unit: ScaleUnit) -> Self {
        Self { protocol, unit }
    }

    /// The bytes for `command`, or why this protocol cannot send it.
    pub fn command_bytes(&self, command: ScaleCommand) -> Result<&'static [u8], ScaleError> {
        let bytes = match self.protocol {
            ScaleProtocol::Toledo8217 => toledo8217::command(command),
            ScaleProtocol::MtSics => mtsics::command(command),
        };
        bytes.ok_or(ScaleError::Unsupported {
            protocol: self.protocol.name(),
            command: command_name(command),
        })
    }
}

fn command_name(c: ScaleCommand) -> &'static str {
    match c {
        ScaleCommand::Weigh => "weigh",
        ScaleCommand::WeighImmediate => "weigh-immediate",
        ScaleCommand::Zero => "zero",
        ScaleCommand::Tare => "tare",
        ScaleCommand::ClearTare => "clear-tare",
        ScaleCommand::Reset => "reset",
    }
}

impl Decoder for ScaleCodec {
    type Item = ScaleFrame;
    type Error = ScaleError;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<ScaleFrame>, ScaleError> {
        let decoded = match self.protocol {
            ScaleProtocol::Toledo8217 => toledo8217::decode(buf, self.unit)
                .map(|(n, r)| (n, r.map(|reply| ScaleReply::Reading(reply.reading())))),
            ScaleProtocol::MtSics => mtsics::decode(buf).map(|(n, r)| {
                (
                    n,
                    r.map(|reply| match reply {
                        mtsics::Reply::Reading(r) => ScaleReply::Reading(r),
                        mtsics::Reply::Done => ScaleReply::Done,
                        mtsics::Reply::Refused(why) => ScaleReply::Refused(why),
                    }),
                )
            }),
        };
        let Some((used, result)) = decoded else {
            return Ok(None);
        };
        buf.advance(used.min(buf.len()));
        Ok(Some(match result {
            Ok(reply) => ScaleFrame::Reply(reply),
            Err(e) => ScaleFrame::Garbage(e.to_string()),
        }))
    }
}

impl Encoder<ScaleCommand> for ScaleCodec {
    type Error = ScaleError;

    fn encode(&mut self, command: ScaleCommand, dst: &mut BytesMut) -> Result<(), ScaleError> {
        dst.extend_from_slice(self.command_bytes(command)?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_a_stream_with_noise_between_replies() {
        let mut c = ScaleCodec::new(ScaleProtocol::Toledo8217, ScaleUnit::Kg);
        let mut buf = BytesMut::from(&b"\x0201.234\r~~\x02?A\r"[..]);
        assert_eq!(
            c.decode(&mut buf).unwrap(),
            Some(ScaleFrame::Reply(ScaleReply::Reading(
                WeightReading::Stable { grams: 1234 }
            )))
        );
        assert!(matches!(
            c.decode(&mut buf).unwrap(),
            Some(ScaleFrame::Garbage(_))
        ));
        assert_eq!(
            c.decode(&mut buf).unwrap(),
            Some(ScaleFrame::Reply(ScaleReply::Reading(
                WeightReading::Motion
            )))
        );
        assert_eq!(c.decode(&mut buf).unwrap(), None);
    }

    #[test]
    fn encodes_commands_per_protocol() {
        let mut buf = BytesMut::new();
        ScaleCodec::new(ScaleProtocol::Toledo8217, ScaleUnit::Kg)
            .encode(ScaleCommand::Weigh, &mut buf)
            .unwrap();
        ScaleCodec::new(ScaleProtocol::MtSics, ScaleUnit::Kg)
            .encode(ScaleCommand::WeighImmediate, &mut buf)
            .unwrap();
        assert_eq!(&buf[..], b"WSI\r\n");
        let err = ScaleCodec::new(ScaleProtocol::MtSics, ScaleUnit::Kg)
            .encode(ScaleCommand::ClearTare, &mut buf);
        assert!(matches!(err, Err(ScaleError::Unsupported { .. })));
    }
}
