//! QR decoding of one frame with OpenCV's WeChat reader (feature `camera`).
//!
//! Debian's OpenCV 4.6 is built without QUIRC, so the plain `QRCodeDetector` finds codes but
//! decodes them as empty strings; `WeChatQRCode` (opencv_contrib) decodes. Created without model
//! files it uses its traditional detector, which reads a phone screen in a few milliseconds.

use opencv::core::{Mat, Vector};
use opencv::prelude::*;
use opencv::wechat_qrcode::WeChatQRCode;

use super::CameraError;

/// A reusable QR reader. Not `Sync`: one per camera thread.
pub struct QrDecoder {
    inner: WeChatQRCode,
}

impl QrDecoder {
    /// A reader without model files.
    pub fn new() -> Result<Self, CameraError> {
        let inner = WeChatQRCode::new("", "", "", "").map_err(|e| {
            CameraError::Decoder(format!("cannot create the WeChat QR reader: {e}"))
        })?;
        Ok(Self { inner })
    }

    /// Every QR payload found in `frame` (BGR or grey, 8 bits), in the reader's order. An empty
    /// frame has no codes; empty payloads are left out.
    pub fn decode(&mut self, frame: &Mat) -> Result<Vec<String>, CameraError> {
        if frame.empty() {
            return Ok(Vec::new());
        }
        let mut points = Vector::<Mat>::new();
        let codes = self
            .inner
            .detect_and_decode(frame, &mut points)
            .map_err(|e| CameraError::Decoder(e.to_string()))?;
        Ok(codes.into_iter().filter(|c| !c.is_empty()).collect())
    }
}
