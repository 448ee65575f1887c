//! A camera's config, as it appears per lane in the edge's TOML (`[lanes.camera]` or similar).

use serde::{Deserialize, Serialize};

use super::CameraSource;

/// What to do when a video file (not a live camera) ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AtEnd {
    /// Report the camera offline ("end of file") and stop the driver.
    #[default]
    Stop,
    /// Start the file again from its first frame (a demo loop).
    Loop,
}

/// How to reach one camera and read QR codes from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CameraConfig {
    /// Where frames come from: a V4L2 device (`/dev/video0`, or a bare index `0`), a video file
    /// (`/var/lib/omo/demo.avi`), or a stream URL (`rtsp://cam.lane1/stream`, `http://...`).
    pub source: String,
    /// The same code seen again within this many ms of its last scan is dropped (default 3000):
    /// a phone held up to the gate for five seconds yields two scans, not 150.
    #[serde(default = "default_repeat_window_ms")]
    pub repeat_window_ms: u64,
    /// The name reported in device health (default: the source).
    #[serde(default)]
    pub name: Option<String>,
    /// Decode at most this many frames per second (default: every frame). Frames in between are
    /// grabbed and dropped undecoded, so a live camera's buffer never goes stale.
    #[serde(default)]
    pub max_fps: Option<f64>,
    /// What to do when a video file ends (default `stop`). Live sources that stop are reopened.
    #[serde(default)]
    pub at_end: AtEnd,
    /// Play video files at their own frame rate, like a live camera (default false: as fast as
    /// frames decode). Repeats are judged on the video's own clock either way.
    #[serde(default)]
    pub realtime: bool,
    /// How long opening a stream URL, or waiting for one of its frames, may take, in ms
    /// (default 5000); a stalled stream is then reported offline and reopened.
    #[serde(default = "default_stream_timeout_ms")]
    pub stream_timeout_ms: u64,
    /// Frames that fail to read or decode in a row before the camera is reported as `fault`
    /// (default 10).
    #[serde(default = "default_fail_threshold")]
    pub fail_threshold: u32,
    /// First delay before reopening a lost source, in ms (default 500); doubles up to
    /// `reconnect_max_ms`.
    #[serde(default = "default_reconnect_ms")]
    pub reconnect_ms: u64,
    /// Longest delay between reopen attempts, in ms (default 10000).
    #[serde(default = "default_reconnect_max_ms")]
    pub reconnect_max_ms: u64,
}

fn default_repeat_window_ms() -> u64 {
    3000
}
fn default_stream_timeout_ms() -> u64 {
    5000
}
fn default_fail_threshold() -> u32 {
    10
}
fn default_reconnect_ms() -> u64 {
    500
}
fn default_reconnect_max_ms() -> u64 {
    10_000
}

impl CameraConfig {
    /// Defaults for everything but the source.
    pub fn new(source: impl Into<String>) -> Self {
        Self {
            source: source.into(),
            repeat_window_ms: default_repeat_window_ms(),
            name: None,
            max_fps: None,
            at_end: AtEnd::Stop,
            realtime: false,
            stream_timeout_ms: default_stream_timeout_ms(),
            fail_threshold: default_fail_threshold(),
            reconnect_ms: default_reconnect_ms(),
            reconnect_max_ms: default_reconnect_max_ms(),
        }
    }

    /// The device name used in health reports.
    pub fn device_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| self.source.clone())
    }

    /// What kind of source `source` names.
    pub fn parsed_source(&self) -> CameraSource {
        CameraSource::parse(&self.source)
    }

    /// The shortest time between two decoded frames, if `max_fps` limits it. A zero, negative or
    /// non-finite `max_fps` means no limit.
    pub fn min_frame_interval(&self) -> Option<std::time::Duration> {
        match self.max_fps {
            Some(fps) if fps.is_finite() && fps > 0.0 => {
                std::time::Duration::try_from_secs_f64(1.0 / fps).ok()
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fill_in_and_unknown_keys_are_rejected() {
        let c: CameraConfig = serde_json::from_str(r#"{"source":"/dev/video0"}"#).unwrap();
        assert_eq!(c, CameraConfig::new("/dev/video0"));
        assert_eq!(c.repeat_window_ms, 3000);
        assert_eq!(c.at_end, AtEnd::Stop);
        assert_eq!(c.device_name(), "/dev/video0");
        let err = serde_json::from_str::<CameraConfig>(r#"{"source":"x","fps":5}"#).unwrap_err();
        assert!(err.to_string().contains("fps"), "{err}");
        let c: CameraConfig = toml::from_str(
            "source = \"rtsp://cam/1\"\nname = \"exit-cam\"\nat_end = \"loop\"\nmax_fps = 10.0\n",
        )
        .unwrap();
        assert_eq!(c.at_end, AtEnd::Loop);
        assert_eq!(c.device_name(), "exit-cam");
        assert_eq!(
            c.min_frame_interval(),
            Some(std::time::Duration::from_millis(100))
        );
    }

    #[test]
    fn nonsense_fps_means_no_limit() {
        for fps in [0.0, -3.0, f64::NAN, f64::INFINITY] {
            let mut c = CameraConfig::new("x");
            c.max_fps = Some(fps);
            assert_eq!(c.min_frame_interval(), None, "{fps}");
        }
    }
}
