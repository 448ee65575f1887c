//! The camera driver: opens the source, decodes QR codes frame by frame, drops repeats, and sends
//! [`ScannerEvent`]s, like a serial scanner's driver. OpenCV blocks, so the whole loop runs on a
//! blocking thread (`spawn_blocking`), never on the async runtime; it checks `cancel` between
//! frames and while waiting to reopen.
//!
//! Health: `online` once the source opens; `fault` after `fail_threshold` frames in a row that
//! cannot be read or decoded (back `online` at the next good frame); `offline` with the reason
//! when the source cannot be opened or is lost (reopened with exponential backoff), or when a
//! video file ends (then the driver stops, unless `at_end = "loop"`).

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::CameraConfig;
use crate::scanner::ScannerEvent;

#[cfg(feature = "camera")]
pub use with_opencv::spawn_camera;

/// Spawns the driver. This build has no OpenCV (cargo feature `camera` is off): it reports the
/// camera as `fault` with that reason and ends.
#[cfg(not(feature = "camera"))]
pub fn spawn_camera(
    config: CameraConfig,
    tx: mpsc::Sender<ScannerEvent>,
    cancel: CancellationToken,
) -> JoinHandle<()> {
    use chrono::Utc;

    use crate::health::{DeviceKind, HealthTracker};

    tokio::spawn(async move {
        if cancel.is_cancelled() {
            return;
        }
        let device = config.device_name();
        let reason = super::CameraError::NotBuilt.to_string();
        tracing::error!(device = %device, "{reason}; the camera will not be read");
        let mut health = HealthTracker::new(device, DeviceKind::Camera, 1, Utc::now());
        health.fault(reason, Utc::now());
        let _ = tx.send(ScannerEvent::Health(health.snapshot())).await;
    })
}

#[cfg(feature = "camera")]
mod with_opencv {
    use std::panic::{AssertUnwindSafe, catch_unwind};
    use std::time::{Duration, Instant};

    use chrono::Utc;
    use opencv::core::Mat;
    use opencv::prelude::*;
    use opencv::videoio::{self, VideoCapture};
    use tracing::{debug, error, info, warn};

    use super::*;
    use crate::camera::{AtEnd, CameraError, CameraSource, Dedup, QrDecoder};
    use crate::health::{DeviceKind, HealthTracker};
    use crate::scanner::ScanFrame;

    /// Frame rate assumed for a file that does not say.
    const FALLBACK_FPS: f64 = 30.0;
    /// How often a waiting driver looks at `cancel`.
    const CANCEL_POLL: Duration = Duration::from_millis(20);

    /// Spawns the driver on a blocking thread. It runs until `cancel` fires, `tx` is closed, or
    /// a video file ends (with `at_end = "stop"`); the last event is then an `offline` health.
    pub fn spawn_camera(
        config: CameraConfig,
        tx: mpsc::Sender<ScannerEvent>,
        cancel: CancellationToken,
    ) -> JoinHandle<()> {
        tokio::task::spawn_blocking(move || {
            let device = config.device_name();
            let health = HealthTracker::new(
                device.clone(),
                DeviceKind::Camera,
                config.fail_threshold,
                Utc::now(),
            );
            let mut driver = Driver::new(&config, &tx, &cancel, health);
            let outcome = catch_unwind(AssertUnwindSafe(|| driver.run()));
            if outcome.is_err() {
                error!(device = %device, "camera driver panicked; the camera is stopped");
                let mut health = HealthTracker::new(device, DeviceKind::Camera, 1, Utc::now());
                health.fault("camera driver panicked", Utc::now());
                let _ = tx.blocking_send(ScannerEvent::Health(health.snapshot()));
            }
        })
    }

    /// Why a read loop ended.
    enum Stop {
        /// Cancelled, or nobody listens any more.
        Cancelled,
        /// A file ended and the driver should stop.
        Ended(String),
        /// The source failed; reopen after a pause.
        Lost(String),
    }

    struct Driver<'a> {
        config: &'a CameraConfig,
        device: String,
        source: CameraSource,
        tx: &'a mpsc::Sender<ScannerEvent>,
        cancel: &'a CancellationToken,
        health: HealthTracker,
        dedup: Dedup,
        started: Instant,
        /// The video clock of a file source, kept across loops so repeats stay judged on it.
        file_clock: Duration,
    }

    impl<'a> Driver<'a> {
        fn new(
            config: &'a CameraConfig,
            tx: &'a mpsc::Sender<ScannerEvent>,
            cancel: &'a CancellationToken,
            health: HealthTracker,
        ) -> Self {
            Self {
                config,
                device: config.device_name(),
                source: config.parsed_source(),
                tx,
                cancel,
                health,
                dedup: Dedup::new(Duration::from_millis(config.repeat_window_ms)),
                started: Instant::now(),
                file_clock: Duration::ZERO,
            }
        }

        fn stopped(&self) -> bool {
            self.cancel.is_cancelled() || self.tx.is_closed()
        }

        /// Sends an event; false when nobody listens any more.
        fn send(&self, event: ScannerEvent) -> bool {
            self.tx.blocking_send(event).is_ok()
        }

        fn send_health(&self) -> bool {
            self.send(ScannerEvent::Health(self.health.snapshot()))
        }

        /// Sleeps up to `d`; false when cancelled meanwhile.
        fn pause(&self, d: Duration) -> bool {
            let until = Instant::now() + d;
            loop {
                if self.stopped() {
                    return false;
                }
                let now = Instant::now();
                if now >= until {
                    return true;
                }
                std::thread::sleep((until - now).min(CANCEL_POLL));
            }
        }

        fn run(&mut self) {
            let mut decoder = match QrDecoder::new() {
                Ok(d) => d,
                Err(e) => {
                    error!(device = %self.device, error = %e, "camera cannot decode QR codes");
                    self.health.fault(e.to_string(), Utc::now());
                    self.send_health();
                    return;
                }
            };
            let first_backoff = Duration::from_millis(self.config.reconnect_ms.max(1));
            let max_backoff = Duration::from_millis(
                self.config
                    .reconnect_max_ms
                    .max(self.config.reconnect_ms)
                    .max(1),
            );
            let mut backoff = first_backoff;
            let mut reported_open_failure = false;
            loop {
                if self.stopped() {
                    return;
                }
                match open(&self.source, self.config.stream_timeout_ms) {
                    Ok(capture) => {
                        info!(device = %self.device, source = %self.source, "camera connected");
                        backoff = first_backoff;
                        reported_open_failure = false;
                        self.health.connected(Utc::now());
                        if !self.send_health() {
                            return;
                        }
                        match self.read_frames(capture, &mut decoder) {
                            Stop::Cancelled => return,
                            Stop::Ended(reason) => {
                                info!(device = %self.device, %reason, "camera stopped");
                                self.health.disconnected(reason, Utc::now());
                                self.send_health();
                                return;
                            }
                            Stop::Lost(reason) => {
                                warn!(device = %self.device, %reason, "camera lost; reopening");
                                self.health.disconnected(reason, Utc::now());
                                if !self.send_health() {
                                    return;
                                }
                            }
                        }
                    }
                    Err(e) => {
                        if !reported_open_failure {
                            warn!(device = %self.device, error = %e, "cannot open camera; retrying");
                            reported_open_failure = true;
                            if self.health.disconnected(e.to_string(), Utc::now())
                                && !self.send_health()
                            {
                                return;
                            }
                        } else {
                            debug!(device = %self.device, error = %e, "camera still unavailable");
                        }
                    }
                }
                if !self.pause(backoff) {
                    return;
                }
                backoff = (backoff * 2).min(max_backoff);
            }
        }

        /// Reads and decodes frames until the source ends or fails.
        fn read_frames(&mut self, mut capture: VideoCapture, decoder: &mut QrDecoder) -> Stop {
            let is_file = self.source.is_file();
            let frame_time = if is_file {
                frame_time(&capture)
            } else {
                Duration::ZERO
            };
            let min_interval = self.config.min_frame_interval();
            let mut last_decoded: Option<Duration> = None;
            let mut frames_this_pass: u64 = 0;
            let mut frames_total: u64 = 0;
            let mut pass_started = Instant::now();
            let mut frame = Mat::default();
            loop {
                if self.stopped() {
                    return Stop::Cancelled;
                }
                let grabbed = capture.grab();
                if !matches!(grabbed, Ok(true)) {
                    let why = match grabbed {
                        Err(e) => format!("reading a frame failed: {e}"),
                        _ => String::new(),
                    };
                    if !is_file {
                        return Stop::Lost(if why.is_empty() {
                            "the source stopped delivering frames".into()
                        } else {
                            why
                        });
                    }
                    if frames_this_pass == 0 {
                        return Stop::Ended(format!(
                            "{} has no readable frames{}",
                            self.source,
                            if why.is_empty() {
                                String::new()
                            } else {
                                format!(" ({why})")
                            }
                        ));
                    }
                    if self.config.at_end == AtEnd::Stop {
                        return Stop::Ended(format!("end of file after {frames_total} frames"));
                    }
                    // Loop: rewind, or reopen when the backend cannot seek.
                    debug!(device = %self.device, "video file ended; looping");
                    if !matches!(capture.set(videoio::CAP_PROP_POS_FRAMES, 0.0), Ok(true)) {
                        match open(&self.source, self.config.stream_timeout_ms) {
                            Ok(c) => capture = c,
                            Err(e) => return Stop::Lost(e.to_string()),
                        }
                    }
                    frames_this_pass = 0;
                    pass_started = Instant::now();
                    continue;
                }
                frames_this_pass += 1;
                frames_total += 1;
                let now = if is_file {
                    self.file_clock
                } else {
                    self.started.elapsed()
                };
                if is_file {
                    self.file_clock += frame_time;
                    if self.config.realtime {
                        let ahead = frame_time
                            .saturating_mul(u32::try_from(frames_this_pass).unwrap_or(u32::MAX));
                        let due = pass_started.checked_add(ahead).unwrap_or_else(Instant::now);
                        if !self.pause(due.saturating_duration_since(Instant::now())) {
                            return Stop::Cancelled;
                        }
                    }
                }
                if let (Some(min), Some(last)) = (min_interval, last_decoded)
                    && now.saturating_sub(last) < min
                    && now >= last
                {
                    continue;
                }
                last_decoded = Some(now);
                let decoded = match capture.retrieve(&mut frame, 0) {
                    Ok(true) if !frame.empty() => decoder.decode(&frame),
                    Ok(_) => Err(CameraError::Decoder(
                        "the source gave an empty frame".into(),
                    )),
                    Err(e) => Err(CameraError::Decoder(format!(
                        "cannot retrieve a frame: {e}"
                    ))),
                };
                match decoded {
                    Ok(codes) => {
                        if self.health.success(Utc::now()) && !self.send_health() {
                            return Stop::Cancelled;
                        }
                        for raw in codes {
                            if !self.dedup.admit(&raw, now) {
                                continue;
                            }
                            debug!(device = %self.device, raw = %raw, "camera scan");
                            let scan = ScanFrame {
                                raw,
                                at: Utc::now(),
                            };
                            if !self.send(ScannerEvent::Scan(scan)) {
                                return Stop::Cancelled;
                            }
                        }
                    }
                    Err(e) => {
                        debug!(device = %self.device, error = %e, "camera frame failed");
                        if self.health.failure(e.to_string(), Utc::now()) {
                            warn!(device = %self.device, error = %e, "camera marked faulty");
                            if !self.send_health() {
                                return Stop::Cancelled;
                            }
                        }
                    }
                }
            }
        }
    }

    /// Opens a source with the backend that suits it.
    fn open(source: &CameraSource, stream_timeout_ms: u64) -> Result<VideoCapture, CameraError> {
        let opened = match source {
            CameraSource::Index(i) => VideoCapture::new(*i, videoio::CAP_V4L2),
            CameraSource::Device(path) => VideoCapture::from_file(path, videoio::CAP_V4L2),
            CameraSource::File(path) => {
                if !std::path::Path::new(path).is_file() {
                    return Err(CameraError::Open {
                        what: source.to_string(),
                        reason: "no such file".into(),
                    });
                }
                VideoCapture::from_file(path, videoio::CAP_ANY)
            }
            CameraSource::Url(url) => {
                let ms = i32::try_from(stream_timeout_ms.max(1)).unwrap_or(i32::MAX);
                let params = opencv::core::Vector::<i32>::from_iter([
                    videoio::CAP_PROP_OPEN_TIMEOUT_MSEC,
                    ms,
                    videoio::CAP_PROP_READ_TIMEOUT_MSEC,
                    ms,
                ]);
                VideoCapture::from_file_with_params(url, videoio::CAP_FFMPEG, &params)
            }
        };
        let capture = opened.map_err(|e| CameraError::Open {
            what: source.to_string(),
            reason: e.to_string(),
        })?;
        match capture.is_opened() {
            Ok(true) => Ok(capture),
            Ok(false) => Err(CameraError::Open {
                what: source.to_string(),
                reason: "OpenCV could not open it (missing, busy, or not a video)".into(),
            }),
            Err(e) => Err(CameraError::Open {
                what: source.to_string(),
                reason: e.to_string(),
            }),
        }
    }

    /// One frame's duration on a file's own clock.
    fn frame_time(capture: &VideoCapture) -> Duration {
        let fps = capture
            .get(videoio::CAP_PROP_FPS)
            .ok()
            .filter(|f| f.is_finite() && *f >= 1.0 && *f <= 1000.0)
            .unwrap_or(FALLBACK_FPS);
        Duration::from_secs_f64(1.0 / fps)
    }
}
