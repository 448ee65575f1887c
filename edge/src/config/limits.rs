//! Bounds on every duration, size and count in the edge's config, checked at validation and
//! reported by key name: `0`, a negative number, an enormous one or one that overflows a
//! `Duration` is refused with `key `a.b`: ... must be between MIN and MAX UNIT` instead of
//! panicking (`chrono::Duration::seconds`, `tokio::time::interval`) or misbehaving (a zero poll
//! period spinning a core) when the edge runs. The bounds are documented in docs/CONTRACT-NOTES.md.

use omo_devices::camera::CameraConfig;
use omo_devices::gate::RppalGateConfig;
use omo_devices::gate::watchdog::MAX_PULSE_MS;
use omo_devices::scale::ScaleConfig;
use omo_devices::scanner::ScannerConfig;
use omo_devices::serial::LineSettings;

use super::{EdgeConfig, GateConfig};

const HOUR_MS: i128 = 3_600_000;
const DAY_SECS: i128 = 86_400;

/// One bounded value: its key, where it is (e.g. `lane "1"`), and its bounds.
fn within(
    key: &str,
    place: &str,
    value: impl Into<i128>,
    min: i128,
    max: i128,
    unit: &str,
) -> Result<(), String> {
    let value = value.into();
    if (min..=max).contains(&value) {
        return Ok(());
    }
    let place = if place.is_empty() {
        String::new()
    } else {
        format!("{place}: ")
    };
    Err(format!(
        "key `{key}`: {place}{value} is out of range: it must be between {min} and {max}{unit}"
    ))
}

fn within_f64(key: &str, value: f64, min: f64, max: f64, unit: &str) -> Result<(), String> {
    if value.is_finite() && (min..=max).contains(&value) {
        return Ok(());
    }
    Err(format!(
        "key `{key}`: {value} is out of range: it must be a number between {min} and {max}{unit}"
    ))
}

/// Checks every bounded value of `config`.
pub(super) fn check(config: &EdgeConfig) -> Result<(), String> {
    within(
        "delivery_radius_m",
        "",
        config.delivery_radius_m,
        1,
        100_000,
        " m",
    )?;
    let p = &config.payment;
    within(
        "payment.rpc_timeout_ms",
        "",
        p.rpc_timeout_ms,
        100,
        600_000,
        " ms",
    )?;
    within(
        "payment.pending_poll_ms",
        "",
        p.pending_poll_ms,
        50,
        60_000,
        " ms",
    )?;
    within(
        "payment.pending_give_up_secs",
        "",
        p.pending_give_up_secs,
        1,
        3_600,
        " s",
    )?;
    let d = &config.delivery;
    within_f64(
        "delivery.rider_speed_mps",
        d.rider_speed_mps,
        0.1,
        50.0,
        " m/s",
    )?;
    within(
        "delivery.rider_capacity",
        "",
        d.rider_capacity as u64,
        1,
        100,
        "",
    )?;
    within(
        "delivery.accept_timeout_secs",
        "",
        d.accept_timeout_secs,
        1,
        3_600,
        " s",
    )?;
    within_f64(
        "delivery.batch_angle_deg",
        d.batch_angle_deg,
        0.0,
        180.0,
        "°",
    )?;
    within(
        "delivery.warn_margin_secs",
        "",
        d.warn_margin_secs,
        0,
        DAY_SECS,
        " s",
    )?;
    within(
        "delivery.rider_stale_secs",
        "",
        d.rider_stale_secs,
        1,
        DAY_SECS,
        " s",
    )?;
    within("delivery.tick_ms", "", d.tick_ms, 10, 60_000, " ms")?;
    let w = &config.weight_security;
    within("weight_security.noise_g", "", w.noise_g, 0, 10_000, " g")?;
    within(
        "weight_security.bagging_timeout_secs",
        "",
        w.bagging_timeout_secs,
        1,
        3_600,
        " s",
    )?;
    within("weight_security.grace_ms", "", w.grace_ms, 0, 60_000, " ms")?;
    within(
        "weight_security.own_bag_max_g",
        "",
        w.own_bag_max_g,
        0,
        50_000,
        " g",
    )?;
    within(
        "weight_security.default_tolerance_g",
        "",
        w.default_tolerance_g,
        0,
        10_000,
        " g",
    )?;
    within(
        "weight_security.empty_tolerance_g",
        "",
        w.empty_tolerance_g,
        0,
        10_000,
        " g",
    )?;
    within(
        "weight_security.learn_after",
        "",
        w.learn_after,
        1,
        1_000_000,
        "",
    )?;
    for lane in &config.lanes {
        let place = format!("lane {:?}", lane.id);
        scanner("lane.scanner", &place, &lane.scanner)?;
        if let Some(scale) = &lane.scale {
            self::scale("lane.scale", &place, scale)?;
        }
        if let Some(camera) = &lane.camera {
            self::camera("lane.camera", &place, camera)?;
        }
        gate("lane.gate", &place, &lane.gate)?;
    }
    for exit in &config.exits {
        let place = format!("exit {:?}", exit.id);
        scanner("exit.scanner", &place, &exit.scanner)?;
        if let Some(camera) = &exit.camera {
            self::camera("exit.camera", &place, camera)?;
        }
        gate("exit.gate", &place, &exit.gate)?;
        within(
            "exit.pass_ttl_secs",
            &place,
            exit.pass_ttl_secs,
            1,
            DAY_SECS,
            " s",
        )?;
    }
    Ok(())
}

fn line(key: &str, place: &str, line: &LineSettings) -> Result<(), String> {
    within(&format!("{key}.data_bits"), place, line.data_bits, 5, 8, "")?;
    within(&format!("{key}.stop_bits"), place, line.stop_bits, 1, 2, "")
}

fn reconnect(key: &str, place: &str, first_ms: u64, max_ms: u64) -> Result<(), String> {
    within(
        &format!("{key}.reconnect_ms"),
        place,
        first_ms,
        10,
        600_000,
        " ms",
    )?;
    within(
        &format!("{key}.reconnect_max_ms"),
        place,
        max_ms,
        i128::from(first_ms),
        HOUR_MS,
        " ms (and not below reconnect_ms)",
    )
}

fn scanner(key: &str, place: &str, s: &ScannerConfig) -> Result<(), String> {
    within(&format!("{key}.baud"), place, s.baud, 50, 4_000_000, "")?;
    line(&format!("{key}.line"), place, &s.line)?;
    within(
        &format!("{key}.max_frame"),
        place,
        s.max_frame as u64,
        1,
        65_536,
        " bytes",
    )?;
    reconnect(key, place, s.reconnect_ms, s.reconnect_max_ms)
}

fn scale(key: &str, place: &str, s: &ScaleConfig) -> Result<(), String> {
    within(&format!("{key}.baud"), place, s.baud, 50, 4_000_000, "")?;
    if let Some(settings) = &s.line {
        line(&format!("{key}.line"), place, settings)?;
    }
    within(
        &format!("{key}.poll_ms"),
        place,
        s.poll_ms,
        10,
        60_000,
        " ms",
    )?;
    within(
        &format!("{key}.timeout_ms"),
        place,
        s.timeout_ms,
        10,
        60_000,
        " ms",
    )?;
    within(
        &format!("{key}.fail_threshold"),
        place,
        s.fail_threshold,
        1,
        1_000,
        "",
    )?;
    reconnect(key, place, s.reconnect_ms, s.reconnect_max_ms)
}

fn camera(key: &str, place: &str, c: &CameraConfig) -> Result<(), String> {
    within(
        &format!("{key}.repeat_window_ms"),
        place,
        c.repeat_window_ms,
        0,
        HOUR_MS,
        " ms",
    )?;
    if let Some(fps) = c.max_fps {
        within_f64(&format!("{key}.max_fps ({place})"), fps, 0.1, 1_000.0, "")?;
    }
    within(
        &format!("{key}.stream_timeout_ms"),
        place,
        c.stream_timeout_ms,
        100,
        600_000,
        " ms",
    )?;
    within(
        &format!("{key}.fail_threshold"),
        place,
        c.fail_threshold,
        1,
        1_000,
        "",
    )?;
    reconnect(key, place, c.reconnect_ms, c.reconnect_max_ms)
}

fn gate(key: &str, place: &str, g: &GateConfig) -> Result<(), String> {
    within(
        &format!("{key}.open_ms"),
        place,
        g.open_ms,
        100,
        600_000,
        " ms",
    )?;
    within(
        &format!("{key}.pulse_ms"),
        place,
        g.pulse_ms,
        10,
        i128::from(MAX_PULSE_MS),
        " ms",
    )?;
    if let Some(gpio) = &g.gpio {
        self::gpio(&format!("{key}.gpio"), place, gpio)?;
    }
    Ok(())
}

fn gpio(key: &str, place: &str, g: &RppalGateConfig) -> Result<(), String> {
    let pins = [
        ("relay_pin", Some(g.relay_pin)),
        ("beam_pin", Some(g.beam_pin)),
        ("fire_alarm_pin", g.fire_alarm_pin),
    ];
    for (name, pin) in pins.into_iter().filter_map(|(n, p)| p.map(|p| (n, p))) {
        within(&format!("{key}.{name}"), place, pin, 0, 53, " (BCM)")?;
    }
    within(
        &format!("{key}.pulse_ms"),
        place,
        g.pulse_ms,
        10,
        i128::from(MAX_PULSE_MS),
        " ms",
    )?;
    within(
        &format!("{key}.debounce_ms"),
        place,
        g.debounce_ms,
        0,
        10_000,
        " ms",
    )?;
    let t = &g.timing;
    within(
        &format!("{key}.timing.open_ms"),
        place,
        t.open_ms,
        100,
        HOUR_MS,
        " ms",
    )?;
    within(
        &format!("{key}.timing.close_after_passage_ms"),
        place,
        t.close_after_passage_ms,
        100,
        HOUR_MS,
        " ms",
    )?;
    within(
        &format!("{key}.timing.held_open_ms"),
        place,
        t.held_open_ms,
        100,
        HOUR_MS,
        " ms",
    )
}
