//! Telling a V4L2 device, a video file and a stream URL apart (pure).

use std::fmt;

/// Where a camera's frames come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CameraSource {
    /// A V4L2 device by index (`0` opens `/dev/video0`).
    Index(i32),
    /// A V4L2 device by path (`/dev/video0`, `/dev/v4l/by-id/...`).
    Device(String),
    /// A video file; it ends.
    File(String),
    /// A network stream (`rtsp://`, `rtsps://`, `http://`, `https://`, `udp://`, `tcp://`).
    Url(String),
}

const URL_SCHEMES: [&str; 6] = [
    "rtsp://", "rtsps://", "http://", "https://", "udp://", "tcp://",
];

impl CameraSource {
    /// Classifies a config's `source` string.
    pub fn parse(source: &str) -> Self {
        let s = source.trim();
        let lower = s.to_ascii_lowercase();
        if URL_SCHEMES.iter().any(|scheme| lower.starts_with(scheme)) {
            return Self::Url(s.to_owned());
        }
        if !s.is_empty()
            && s.len() <= 4
            && s.bytes().all(|b| b.is_ascii_digit())
            && let Ok(i) = s.parse()
        {
            return Self::Index(i);
        }
        if s.starts_with("/dev/") {
            return Self::Device(s.to_owned());
        }
        Self::File(s.to_owned())
    }

    /// True for a source that ends (a file) rather than one that is lost (a camera, a stream).
    pub fn is_file(&self) -> bool {
        matches!(self, Self::File(_))
    }
}

impl fmt::Display for CameraSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Index(i) => write!(f, "V4L2 device {i}"),
            Self::Device(p) => write!(f, "V4L2 device {p}"),
            Self::File(p) => write!(f, "video file {p}"),
            Self::Url(u) => write!(f, "stream {u}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_told_apart() {
        assert_eq!(CameraSource::parse("0"), CameraSource::Index(0));
        assert_eq!(CameraSource::parse(" 2 "), CameraSource::Index(2));
        assert_eq!(
            CameraSource::parse("/dev/video0"),
            CameraSource::Device("/dev/video0".into())
        );
        assert_eq!(
            CameraSource::parse("RTSP://cam/1"),
            CameraSource::Url("RTSP://cam/1".into())
        );
        assert_eq!(
            CameraSource::parse("https://cam/mjpg"),
            CameraSource::Url("https://cam/mjpg".into())
        );
        assert_eq!(
            CameraSource::parse("/tmp/x.avi"),
            CameraSource::File("/tmp/x.avi".into())
        );
        assert_eq!(
            CameraSource::parse("123456"),
            CameraSource::File("123456".into())
        );
        assert!(CameraSource::parse("demo.mp4").is_file());
        assert!(!CameraSource::parse("/dev/video1").is_file());
    }
}
