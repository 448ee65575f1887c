//! A phone held up to the camera for many frames yields one scan per repeat window, judged on the
//! video's own clock; a second code is not hidden by the first.

#![cfg(feature = "camera")]

mod support;

use std::time::Duration;

use omo_devices::camera::CameraConfig;
use support::phone_screen::{Variant, empty_frame, variant_frame, variant_video, write_video};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_held_for_ten_seconds_yields_one_scan_per_three_second_window() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("held.avi");
    // 10 s at 15 frames per second, the code in every frame.
    variant_video(&path, Variant::Plain, 0, 150, 15.0).unwrap();

    let mut config = CameraConfig::new(path.to_string_lossy());
    config.repeat_window_ms = 3000;
    let run = support::read_to_end(config.clone(), Duration::from_secs(120)).await;
    // At 0 s, 3 s, 6 s and 9 s of video time, however fast the frames decode.
    assert_eq!(run.scans, vec![Variant::Plain.payload(); 4]);

    config.repeat_window_ms = 60_000;
    let run = support::read_to_end(config, Duration::from_secs(120)).await;
    assert_eq!(run.scans, vec![Variant::Plain.payload()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_shoppers_one_after_the_other_both_scan() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("two.avi");
    let mut frames = Vec::new();
    for i in 0..8 {
        frames.push(variant_frame(Variant::Plain, i).unwrap());
    }
    for _ in 0..4 {
        frames.push(empty_frame().unwrap());
    }
    for i in 0..8 {
        frames.push(variant_frame(Variant::Blurred, i).unwrap());
    }
    // The first shopper comes back within the window: still one scan for them.
    for i in 0..8 {
        frames.push(variant_frame(Variant::Plain, i).unwrap());
    }
    write_video(&path, &frames, 15.0).unwrap();

    let run = support::read_to_end(
        CameraConfig::new(path.to_string_lossy()),
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(
        run.scans,
        vec![Variant::Plain.payload(), Variant::Blurred.payload()]
    );
}
