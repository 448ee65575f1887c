//! Camera QR decoding at 640x480: frames decoded per second by OpenCV's WeChat reader and the
//! read rate on the generated phone-screen set (plain, tilted, blurred, small, glare, noise),
//! side by side in the same run with zbar (`zbarimg -q --raw`) on the same frames written as PNG.
//!
//! Printed first: a comparison table (custom loop, `Instant`). Then criterion measures the
//! WeChat decode of each frame (and of an empty counter, the common case at a gate).
//!
//! `cargo bench -p omo-devices --features camera --bench camera_decode`
//! Needs apt `libopencv-dev clang libclang-dev` to build, and `zbar-tools` for the zbar column
//! (skipped with a note when `zbarimg` is missing).

#[path = "../tests/support/phone_screen.rs"]
mod phone_screen;

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use omo_devices::camera::QrDecoder;
use opencv::core::Mat;
use opencv::imgcodecs;
use phone_screen::{Variant, empty_frame, variant_frame, write_png};

struct Sample {
    name: &'static str,
    payload: Option<&'static str>,
    frame: Mat,
    png: PathBuf,
}

fn samples(dir: &Path) -> Vec<Sample> {
    let mut out: Vec<Sample> = Variant::ALL
        .iter()
        .map(|v| Sample {
            name: v.name(),
            payload: Some(v.payload()),
            frame: variant_frame(*v, 1).expect("frame"),
            png: dir.join(format!("{}.png", v.name())),
        })
        .collect();
    out.push(Sample {
        name: "empty",
        payload: None,
        frame: empty_frame().expect("frame"),
        png: dir.join("empty.png"),
    });
    for s in &out {
        write_png(&s.png, &s.frame).expect("png");
    }
    out
}

fn per_second(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64().max(1e-9)
}

fn zbar_available() -> bool {
    Command::new("zbarimg")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// What `zbarimg -q --raw` reads from `files` (one line per code), or None if it cannot run.
fn zbar(files: &[&Path]) -> Option<String> {
    let out = Command::new("zbarimg")
        .args(["-q", "--raw"])
        .args(files)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn compare(samples: &[Sample], reps: usize) {
    let mut decoder = QrDecoder::new().expect("WeChat QR reader");
    let with_zbar = zbar_available();
    println!("camera_decode: 640x480 frames, {reps} repetitions each");
    println!(
        "  {:8} | {:>6} {:>10} {:>14} | {:>6} {:>14}",
        "frame", "wechat", "decode f/s", "png+decode f/s", "zbar", "zbarimg f/s"
    );
    let (mut wechat_reads, mut zbar_reads, mut codes) = (0, 0, 0);
    let (mut wechat_time, mut zbar_time) = (Duration::ZERO, Duration::ZERO);
    for s in samples {
        let got = decoder.decode(&s.frame).expect("decode");
        let wechat_ok = match s.payload {
            Some(p) => got.iter().any(|c| c == p),
            None => got.is_empty(),
        };
        let start = Instant::now();
        for _ in 0..reps {
            black_box(decoder.decode(black_box(&s.frame)).ok());
        }
        let decode_time = start.elapsed();
        let start = Instant::now();
        for _ in 0..reps {
            let m = imgcodecs::imread(&s.png, imgcodecs::IMREAD_COLOR).expect("imread");
            black_box(decoder.decode(&m).ok());
        }
        let png_time = start.elapsed();

        let (zbar_ok, zbar_fps) = if with_zbar {
            let read = zbar(&[&s.png]).unwrap_or_default();
            let ok = match s.payload {
                Some(p) => read.lines().any(|l| l == p),
                None => read.trim().is_empty(),
            };
            let start = Instant::now();
            for _ in 0..reps {
                black_box(zbar(&[&s.png]));
            }
            let t = start.elapsed();
            if s.payload.is_some() {
                zbar_time += t;
            }
            (
                if ok { "yes" } else { "no" },
                format!("{:.1}", per_second(reps, t)),
            )
        } else {
            ("n/a", "n/a".to_owned())
        };
        if s.payload.is_some() {
            codes += 1;
            wechat_time += decode_time;
            wechat_reads += usize::from(wechat_ok);
            zbar_reads += usize::from(zbar_ok == "yes");
        }
        println!(
            "  {:8} | {:>6} {:>10.1} {:>14.1} | {:>6} {:>14}",
            s.name,
            if wechat_ok { "yes" } else { "no" },
            per_second(reps, decode_time),
            per_second(reps, png_time),
            zbar_ok,
            zbar_fps,
        );
    }
    println!(
        "  read rate: WeChat {wechat_reads}/{codes}, {:.1} f/s over the coded frames",
        per_second(reps * codes, wechat_time)
    );
    if with_zbar {
        println!(
            "  read rate: zbar   {zbar_reads}/{codes}, {:.1} f/s over the coded frames (one zbarimg process per image)",
            per_second(reps * codes, zbar_time)
        );
        // One zbarimg over many files: the process start shared.
        let batch: Vec<&Path> = samples
            .iter()
            .filter(|s| s.payload.is_some())
            .flat_map(|s| std::iter::repeat_n(s.png.as_path(), reps))
            .collect();
        let start = Instant::now();
        black_box(zbar(&batch));
        println!(
            "  zbar batch: {} images in one zbarimg process, {:.1} f/s (PNG decode included)",
            batch.len(),
            per_second(batch.len(), start.elapsed())
        );
    } else {
        println!("  zbar: zbarimg not found (apt zbar-tools); zbar columns skipped");
    }
}

fn main() {
    let benching = std::env::args().any(|a| a == "--bench");
    let dir = tempfile::tempdir().expect("temp dir");
    let samples = samples(dir.path());
    compare(&samples, if benching { 30 } else { 1 });

    let mut c = Criterion::default()
        .sample_size(20)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .configure_from_args();
    let mut decoder = QrDecoder::new().expect("WeChat QR reader");
    let mut group = c.benchmark_group("camera_decode_640x480");
    group.throughput(Throughput::Elements(1));
    for s in &samples {
        group.bench_function(s.name, |b| {
            b.iter(|| black_box(decoder.decode(black_box(&s.frame)).ok()))
        });
    }
    group.finish();
    c.final_summary();
}
