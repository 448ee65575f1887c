//! Test footage made on the spot: a QR code on a phone-like screen (dark bezel, white screen,
//! the code in the middle) on a shop counter, at 640x480, in the variants an exit-gate camera
//! meets: plain, tilted, blurred, small, under glare, and noisy. Shared by the camera tests and
//! the camera benchmark (`#[path]`), so both judge the same pictures.

#![allow(dead_code)]

use std::path::Path;

use opencv::core::{self, Mat, Point, Point2f, Rect, Scalar, Size, Vector};
use opencv::prelude::*;
use opencv::videoio::VideoWriter;
use opencv::{imgcodecs, imgproc};
use qrcode::{Color, EcLevel, QrCode};

pub const WIDTH: i32 = 640;
pub const HEIGHT: i32 = 480;
/// The out-of-focus blur, in pixels (Gaussian sigma).
pub const BLUR_SIGMA: f64 = 2.0;
/// The glare's peak brightness added, in grey levels.
pub const GLARE_LEVEL: f64 = 170.0;
/// The sensor noise, in grey levels (Gaussian sigma).
pub const NOISE_SIGMA: f64 = 28.0;

/// How a phone screen looks to the camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Plain,
    Tilted,
    Blurred,
    Small,
    Glare,
    Noise,
}

impl Variant {
    pub const ALL: [Variant; 6] = [
        Variant::Plain,
        Variant::Tilted,
        Variant::Blurred,
        Variant::Small,
        Variant::Glare,
        Variant::Noise,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Variant::Plain => "plain",
            Variant::Tilted => "tilted",
            Variant::Blurred => "blurred",
            Variant::Small => "small",
            Variant::Glare => "glare",
            Variant::Noise => "noise",
        }
    }

    /// What the shopper's phone shows in this variant: payment codes and Digital Links.
    pub fn payload(self) -> &'static str {
        match self {
            Variant::Plain => "281234567800123456",
            Variant::Tilted => "280000004212345678",
            Variant::Blurred => "285555666677778888",
            Variant::Small => "289876543200000017",
            Variant::Glare => "281111222233334444",
            Variant::Noise => "https://id.omo.example/01/06901234567892",
        }
    }
}

fn bgr(b: f64, g: f64, r: f64) -> Scalar {
    Scalar::new(b, g, r, 0.0)
}

fn filled(img: &mut Mat, rect: Rect, color: Scalar) -> opencv::Result<()> {
    imgproc::rectangle(img, rect, color, imgproc::FILLED, imgproc::LINE_8, 0)
}

/// A rectangle with rounded corners, filled.
fn rounded(img: &mut Mat, rect: Rect, radius: i32, color: Scalar) -> opencv::Result<()> {
    let r = radius.min(rect.width / 2).min(rect.height / 2);
    filled(
        img,
        Rect::new(rect.x + r, rect.y, rect.width - 2 * r, rect.height),
        color,
    )?;
    filled(
        img,
        Rect::new(rect.x, rect.y + r, rect.width, rect.height - 2 * r),
        color,
    )?;
    for (cx, cy) in [
        (rect.x + r, rect.y + r),
        (rect.x + rect.width - r - 1, rect.y + r),
        (rect.x + r, rect.y + rect.height - r - 1),
        (rect.x + rect.width - r - 1, rect.y + rect.height - r - 1),
    ] {
        imgproc::circle(
            img,
            Point::new(cx, cy),
            r,
            color,
            imgproc::FILLED,
            imgproc::LINE_AA,
            0,
        )?;
    }
    Ok(())
}

/// The counter, a phone of `phone_width` pixels centred on it, and `payload` as a QR code
/// filling `code_fraction` of the screen's width (quiet zone included).
pub fn phone_frame(payload: &str, phone_width: i32, code_fraction: f64) -> opencv::Result<Mat> {
    let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
        .map_err(|e| opencv::Error::new(core::StsBadArg, format!("qrcode: {e}")))?;
    let modules = code.width() as i32;
    let colors = code.to_colors();

    let mut img =
        Mat::new_rows_cols_with_default(HEIGHT, WIDTH, core::CV_8UC3, bgr(88.0, 104.0, 118.0))?;
    // A darker band, like the edge of the gate's counter.
    filled(
        &mut img,
        Rect::new(0, HEIGHT * 3 / 4, WIDTH, HEIGHT / 4),
        bgr(60.0, 70.0, 80.0),
    )?;

    let phone_height = phone_width * 2;
    let phone = Rect::new(
        (WIDTH - phone_width) / 2,
        (HEIGHT - phone_height) / 2,
        phone_width,
        phone_height,
    );
    rounded(&mut img, phone, phone_width / 8, bgr(28.0, 28.0, 30.0))?;
    let bezel = (phone_width / 18).max(2);
    let screen = Rect::new(
        phone.x + bezel,
        phone.y + bezel * 3,
        phone.width - 2 * bezel,
        phone.height - 6 * bezel,
    );
    filled(&mut img, screen, bgr(250.0, 250.0, 250.0))?;

    // Module size in whole pixels, with a 4-module quiet zone on either side.
    let module = (((screen.width as f64) * code_fraction) / f64::from(modules + 8))
        .floor()
        .max(1.0) as i32;
    let side = module * modules;
    let x0 = screen.x + (screen.width - side) / 2;
    let y0 = screen.y + (screen.height - side) / 2;
    for y in 0..modules {
        for x in 0..modules {
            if colors[(y * modules + x) as usize] == Color::Dark {
                filled(
                    &mut img,
                    Rect::new(x0 + x * module, y0 + y * module, module, module),
                    bgr(10.0, 10.0, 10.0),
                )?;
            }
        }
    }
    Ok(img)
}

/// One frame of `variant`; `seed` varies the noise from frame to frame.
pub fn variant_frame(variant: Variant, seed: u64) -> opencv::Result<Mat> {
    let payload = variant.payload();
    match variant {
        Variant::Plain => phone_frame(payload, 220, 1.0),
        Variant::Small => phone_frame(payload, 100, 1.0),
        Variant::Tilted => {
            let flat = phone_frame(payload, 220, 1.0)?;
            // The phone held back and turned: the top edge narrower and shifted, the whole
            // picture rotated by some 12 degrees.
            let src = Vector::<Point2f>::from_iter([
                Point2f::new(0.0, 0.0),
                Point2f::new(WIDTH as f32, 0.0),
                Point2f::new(WIDTH as f32, HEIGHT as f32),
                Point2f::new(0.0, HEIGHT as f32),
            ]);
            let dst = Vector::<Point2f>::from_iter([
                Point2f::new(110.0, 15.0),
                Point2f::new(580.0, 70.0),
                Point2f::new(620.0, 475.0),
                Point2f::new(30.0, 440.0),
            ]);
            let m = imgproc::get_perspective_transform(&src, &dst, core::DECOMP_LU)?;
            let mut out = Mat::default();
            imgproc::warp_perspective(
                &flat,
                &mut out,
                &m,
                Size::new(WIDTH, HEIGHT),
                imgproc::INTER_LINEAR,
                core::BORDER_CONSTANT,
                bgr(88.0, 104.0, 118.0),
            )?;
            Ok(out)
        }
        Variant::Blurred => {
            let sharp = phone_frame(payload, 220, 1.0)?;
            let mut out = Mat::default();
            imgproc::gaussian_blur_def(&sharp, &mut out, Size::new(0, 0), BLUR_SIGMA)?;
            Ok(out)
        }
        Variant::Glare => {
            let clean = phone_frame(payload, 220, 1.0)?;
            // A ceiling light reflected on the glass: a soft bright ellipse over a third of the
            // code, added to the picture (washing dark modules out to light grey).
            let mut light =
                Mat::new_rows_cols_with_default(HEIGHT, WIDTH, core::CV_8UC3, Scalar::all(0.0))?;
            imgproc::ellipse(
                &mut light,
                Point::new(WIDTH / 2 + 35, HEIGHT / 2 - 30),
                Size::new(70, 34),
                -35.0,
                0.0,
                360.0,
                Scalar::all(GLARE_LEVEL),
                imgproc::FILLED,
                imgproc::LINE_AA,
                0,
            )?;
            let mut soft = Mat::default();
            imgproc::gaussian_blur_def(&light, &mut soft, Size::new(0, 0), 8.0)?;
            let mut out = Mat::default();
            core::add(&clean, &soft, &mut out, &core::no_array(), -1)?;
            Ok(out)
        }
        Variant::Noise => {
            let clean = phone_frame(payload, 220, 1.0)?;
            let mut wide = Mat::default();
            clean.convert_to(&mut wide, core::CV_16SC3, 1.0, 0.0)?;
            let mut noise =
                Mat::new_rows_cols_with_default(HEIGHT, WIDTH, core::CV_16SC3, Scalar::all(0.0))?;
            core::set_rng_seed(seed as i32)?;
            core::randn(&mut noise, &Scalar::all(0.0), &Scalar::all(NOISE_SIGMA))?;
            let mut sum = Mat::default();
            core::add(&wide, &noise, &mut sum, &core::no_array(), -1)?;
            let mut out = Mat::default();
            sum.convert_to(&mut out, core::CV_8UC3, 1.0, 0.0)?;
            Ok(out)
        }
    }
}

/// An empty counter: what the camera sees between shoppers.
pub fn empty_frame() -> opencv::Result<Mat> {
    Mat::new_rows_cols_with_default(HEIGHT, WIDTH, core::CV_8UC3, bgr(88.0, 104.0, 118.0))
}

/// Writes `frames` as an MJPG .avi at `fps`.
pub fn write_video(path: &Path, frames: &[Mat], fps: f64) -> opencv::Result<()> {
    let fourcc = VideoWriter::fourcc('M', 'J', 'P', 'G')?;
    let name = path.display();
    let mut writer = VideoWriter::new(path, fourcc, fps, Size::new(WIDTH, HEIGHT), true)?;
    if !writer.is_opened()? {
        return Err(opencv::Error::new(
            core::StsError,
            format!("cannot write {name}"),
        ));
    }
    for f in frames {
        writer.write(f)?;
    }
    writer.release()
}

/// `empty` counter frames, then `held` frames of `variant` (noise differs per frame).
pub fn variant_video(
    path: &Path,
    variant: Variant,
    empty: usize,
    held: usize,
    fps: f64,
) -> opencv::Result<()> {
    let mut frames = Vec::with_capacity(empty + held);
    for _ in 0..empty {
        frames.push(empty_frame()?);
    }
    for i in 0..held {
        frames.push(variant_frame(variant, i as u64 + 1)?);
    }
    write_video(path, &frames, fps)
}

/// Writes one frame as a PNG (for zbar).
pub fn write_png(path: &Path, frame: &Mat) -> opencv::Result<()> {
    let ok = imgcodecs::imwrite(path, frame, &Vector::new())?;
    if ok {
        Ok(())
    } else {
        Err(opencv::Error::new(
            core::StsError,
            format!("cannot write {}", path.display()),
        ))
    }
}
