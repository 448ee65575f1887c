//! Serial line settings (baud, data bits, parity, stop bits) as config sees them, and opening a
//! port with tokio-serial: a real UART, a USB adapter or a pseudo-terminal alike.

use serde::{Deserialize, Serialize};
use tokio_serial::{SerialPort, SerialPortBuilderExt, SerialStream};

/// Parity, as written in config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Parity {
    #[default]
    None,
    Even,
    Odd,
}

/// Character framing on the wire, e.g. 8N1 or 7E1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineSettings {
    /// 5 to 8.
    pub data_bits: u8,
    pub parity: Parity,
    /// 1 or 2.
    pub stop_bits: u8,
}

impl LineSettings {
    /// 8 data bits, no parity, 1 stop bit (scanners).
    pub const N81: Self = Self {
        data_bits: 8,
        parity: Parity::None,
        stop_bits: 1,
    };
    /// 7 data bits, even parity, 1 stop bit (Toledo 8217 scales).
    pub const E71: Self = Self {
        data_bits: 7,
        parity: Parity::Even,
        stop_bits: 1,
    };
}

impl Default for LineSettings {
    fn default() -> Self {
        Self::N81
    }
}

/// Opens `path` at `baud` with `line`, and drops whatever was waiting in the input buffer.
pub fn open(
    path: &str,
    baud: u32,
    line: LineSettings,
) -> Result<SerialStream, tokio_serial::Error> {
    let data_bits = match line.data_bits {
        5 => tokio_serial::DataBits::Five,
        6 => tokio_serial::DataBits::Six,
        7 => tokio_serial::DataBits::Seven,
        _ => tokio_serial::DataBits::Eight,
    };
    let parity = match line.parity {
        Parity::None => tokio_serial::Parity::None,
        Parity::Even => tokio_serial::Parity::Even,
        Parity::Odd => tokio_serial::Parity::Odd,
    };
    let stop_bits = if line.stop_bits == 2 {
        tokio_serial::StopBits::Two
    } else {
        tokio_serial::StopBits::One
    };
    let port = tokio_serial::new(path, baud)
        .data_bits(data_bits)
        .parity(parity)
        .stop_bits(stop_bits)
        .flow_control(tokio_serial::FlowControl::None)
        .open_native_async()?;
    // Stale bytes from before we opened are not ours to interpret; failing to drop them is harmless.
    let _ = port.clear(tokio_serial::ClearBuffer::Input);
    Ok(port)
}
