//! The shopper's app on a phone: the payment code it shows, read from its digits and from its
//! QR image (zbarimg on a screenshot, as a lane's reader would), and a camera that films a
//! label's QR code (a Y4M video for Chromium's fake camera).

use std::time::Duration;

use serde_json::json;

use super::Browser;

const WAIT: Duration = Duration::from_secs(30);

/// The code the page shows now (its `data-code`).
pub async fn shown_code(browser: &Browser) -> String {
    browser
        .wait_until(
            "a payment code",
            WAIT,
            "return document.getElementById('digits').dataset.code || null",
        )
        .await
        .as_str()
        .unwrap()
        .to_string()
}

/// The payment code read from the page's QR image, as a lane's camera or scanner would.
pub async fn code_from_qr(browser: &Browser, dir: &std::path::Path) -> String {
    let png = dir.join("app-qr.png");
    browser
        .eval("document.getElementById('qr').scrollIntoView()", json!([]))
        .await;
    let mut last = String::new();
    for _ in 0..10 {
        let before = shown_code(browser).await;
        browser.element_screenshot("#qr", &png).await;
        let out = std::process::Command::new("zbarimg")
            .args(["--quiet", "--raw"])
            .arg(&png)
            .output()
            .expect("zbarimg (apt zbar-tools) runs");
        let read = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if out.status.success() && read == before && read == shown_code(browser).await {
            return read;
        }
        // Unreadable, or the code changed while we looked (a new 30 s step): look again.
        last = format!("{read:?} (zbarimg {}), shown {before}", out.status);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    panic!("the app's QR code never read as the digits shown: last {last}");
}

/// A Y4M video (640×480, 4:2:0) whose every frame shows `text` as a QR code: the phone's
/// camera pointed at a label.
pub fn qr_video(text: &str, path: &std::path::Path) {
    let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
    let (w, h, scale) = (640usize, 480usize, 8usize);
    let side = (code.width() + 8) * scale;
    assert!(side <= h, "the QR code fits the frame");
    let (left, top) = ((w - side) / 2, (h - side) / 2);
    let mut luma = vec![235u8; w * h];
    for y in 0..code.width() {
        for x in 0..code.width() {
            if code[(x, y)] == qrcode::Color::Dark {
                for dy in 0..scale {
                    let row = top + (y + 4) * scale + dy;
                    let start = row * w + left + (x + 4) * scale;
                    luma[start..start + scale].fill(16);
                }
            }
        }
    }
    let chroma = vec![128u8; (w / 2) * (h / 2) * 2];
    let mut video = format!("YUV4MPEG2 W{w} H{h} F10:1 Ip A1:1 C420jpeg\n").into_bytes();
    for _ in 0..10 {
        video.extend_from_slice(b"FRAME\n");
        video.extend_from_slice(&luma);
        video.extend_from_slice(&chroma);
    }
    std::fs::write(path, video).unwrap();
}
