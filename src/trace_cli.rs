//! `omo trace` and `omo label`: a lot's life from the command line.
//!
//! - `omo trace URL`: look a product or lot up by its GS1 Digital Link (what its QR code holds)
//!   and print its journey (`--json`: the EPCIS query document as the resolver sent it).
//! - `omo trace import FILE --config EDGE.toml`: a supplier's receiving file (EPCIS 2.0 JSON-LD
//!   document, or CSV: see `omo_edge::trace_import`) into the edge's outbox.
//! - `omo trace transform --config EDGE.toml --input GTIN,LOT[,QTY[,UOM]] --output ...`: record
//!   that input lots became output lots (a fish cut into portions, produce packed).
//! - `omo label GTIN LOT [--out FILE.png|FILE.svg]`: the QR code of the lot's Digital Link.

use std::time::Duration;

use anyhow::{Context as _, bail};
use omo_cloud::trace::link::{self, LotKey};
use omo_cloud::trace::text;
use serde_json::Value;

use crate::cli::{ImportArgs, LabelArgs, TraceArgs, TraceCommand, TransformArgs};
use crate::usage::UsageError;

/// Runs `omo trace ...`.
pub async fn trace(args: TraceArgs) -> anyhow::Result<()> {
    match (args.command, args.url) {
        (Some(TraceCommand::Import(import)), _) => import_file(import).await,
        (Some(TraceCommand::Transform(transform)), _) => record_transform(transform).await,
        (None, Some(url)) => look_up(&url, args.resolver.as_deref(), args.json).await,
        (None, None) => {
            Err(UsageError("give a Digital Link URL, or `import` / `transform`".into()).into())
        }
    }
}

async fn open_edge(
    config: &std::path::Path,
) -> anyhow::Result<(omo_edge::EdgeConfig, omo_edge::db::Db)> {
    let config = omo_edge::EdgeConfig::load(config).map_err(|e| UsageError(e.to_string()))?;
    let store = omo_edge::db::Db::open(&config.data_dir)
        .await
        .with_context(|| {
            format!(
                "opening the edge's store under {}",
                config.data_dir.display()
            )
        })?;
    Ok((config, store))
}

async fn import_file(args: ImportArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| UsageError(format!("cannot read {}: {e}", args.file.display())))?;
    let (config, store) = open_edge(&args.config).await?;
    let events =
        omo_edge::trace_import::events_from_file(&text, &config.store_id, chrono::Utc::now())
            .map_err(|e| UsageError(format!("{}: {e}", args.file.display())))?;
    omo_edge::trace_import::enqueue(&store, &config.store_id, &events).await?;
    for event in &events {
        println!(
            "{}",
            serde_json::json!({
                "eventID": event["eventID"],
                "type": event["type"],
                "bizStep": event["bizStep"],
            })
        );
    }
    eprintln!(
        "{} event(s) queued for omo/v1/stores/{}/trace",
        events.len(),
        config.store_id
    );
    Ok(())
}

async fn record_transform(args: TransformArgs) -> anyhow::Result<()> {
    use omo_edge::trace_import::{parse_lot_quantity, transformation_events};
    let parse = |list: &[String]| -> Result<Vec<_>, UsageError> {
        list.iter()
            .map(|s| parse_lot_quantity(s).map_err(|e| UsageError(e.to_string())))
            .collect()
    };
    let at = match &args.at {
        Some(at) => chrono::DateTime::parse_from_rfc3339(at)
            .map_err(|_| UsageError(format!("--at {at:?} is not an RFC 3339 time")))?
            .with_timezone(&chrono::Utc),
        None => chrono::Utc::now(),
    };
    let transformation = omo_edge::epcis::Transformation {
        inputs: parse(&args.inputs)?,
        outputs: parse(&args.outputs)?,
        at,
        station: args.station,
        transformation_id: None,
    };
    let (config, store) = open_edge(&args.config).await?;
    let events = transformation_events(&transformation, &config.store_id)
        .map_err(|e| UsageError(e.to_string()))?;
    omo_edge::trace_import::enqueue(&store, &config.store_id, &events).await?;
    for event in &events {
        println!(
            "{}",
            serde_json::json!({ "eventID": event["eventID"], "type": event["type"] })
        );
    }
    Ok(())
}

/// The URL to ask: the link itself, or its path on `resolver`.
pub fn lookup_url(url: &str, resolver: Option<&str>) -> anyhow::Result<String> {
    let Some(resolver) = resolver else {
        return Ok(url.to_string());
    };
    let path = match url.find("://") {
        Some(i) => {
            let after = &url[i + 3..];
            &after[after.find('/').unwrap_or(after.len())..]
        }
        None => url,
    };
    if !path.starts_with('/') {
        bail!(UsageError(format!("{url:?} is not a Digital Link URL")));
    }
    Ok(format!("{}{path}", resolver.trim_end_matches('/')))
}

async fn look_up(url: &str, resolver: Option<&str>, json: bool) -> anyhow::Result<()> {
    let key = link::parse(url).ok_or_else(|| {
        UsageError(format!(
            "{url:?} names no GTIN (expected .../01/{{gtin}}[/10/{{lot}}])"
        ))
    })?;
    let target = lookup_url(url, resolver)?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let response = client
        .get(&target)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .with_context(|| format!("GET {target}"))?;
    let status = response.status();
    let body: Value = response
        .json()
        .await
        .with_context(|| format!("GET {target}: not JSON"))?;
    if status == reqwest::StatusCode::NOT_FOUND {
        bail!(
            "not found: {}",
            body["error"].as_str().unwrap_or("unknown product or lot")
        );
    }
    if !status.is_success() {
        bail!("GET {target}: {status}");
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&body)?);
        return Ok(());
    }
    print!("{}", text::query_text(&key, &body));
    Ok(())
}

/// Runs `omo label GTIN LOT`.
pub async fn label(args: LabelArgs) -> anyhow::Result<()> {
    let gtin =
        omo_cloud::gtin::normalize(&args.gtin).map_err(|e| UsageError(format!("GTIN: {e}")))?;
    omo_devices::barcode::cset82::check_lot_or_serial("lot (GS1 AI 10)", &args.lot)
        .map_err(|e| UsageError(e.to_string()))?;
    let key = LotKey {
        gtin,
        lot: args.lot.clone(),
    };
    let url = format!(
        "{}{}",
        args.resolver.trim_end_matches('/'),
        key.path().unwrap_or_default()
    );
    let code = qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M)
        .context("the link does not fit in a QR code")?;
    let module = args.module.clamp(1, 64);
    match &args.out {
        None => {
            println!("{url}");
            println!(
                "{}",
                code.render::<char>()
                    .quiet_zone(true)
                    .module_dimensions(2, 1)
                    .dark_color('█')
                    .light_color(' ')
                    .build()
            );
        }
        Some(path) => {
            let extension = path
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase);
            match extension.as_deref() {
                Some("svg") => {
                    let svg = code
                        .render::<qrcode::render::svg::Color<'_>>()
                        .quiet_zone(true)
                        .module_dimensions(module, module)
                        .build();
                    std::fs::write(path, svg)
                        .with_context(|| format!("writing {}", path.display()))?;
                }
                Some("png") => {
                    qr_png(&code, module)
                        .save_with_format(path, image::ImageFormat::Png)
                        .with_context(|| format!("writing {}", path.display()))?;
                }
                _ => bail!(UsageError(format!(
                    "--out {}: give a .png or .svg file",
                    path.display()
                ))),
            }
            println!("{url}");
            eprintln!("QR code written to {}", path.display());
        }
    }
    Ok(())
}

/// The code as a grey-scale image: `module` pixels per module, a 4-module quiet zone.
pub fn qr_png(code: &qrcode::QrCode, module: u32) -> image::GrayImage {
    let width = code.width() as u32;
    let quiet = 4;
    let side = (width + 2 * quiet) * module;
    let colors = code.to_colors();
    image::GrayImage::from_fn(side, side, |x, y| {
        let (mx, my) = (x / module, y / module);
        let dark = mx >= quiet
            && my >= quiet
            && mx < quiet + width
            && my < quiet + width
            && colors[((my - quiet) * width + (mx - quiet)) as usize] == qrcode::Color::Dark;
        image::Luma([if dark { 0 } else { 255 }])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resolver_replaces_the_links_host() {
        assert_eq!(
            lookup_url(
                "https://id.gs1.org/01/02000420000008/10/P-1",
                Some("http://127.0.0.1:8081/")
            )
            .unwrap(),
            "http://127.0.0.1:8081/01/02000420000008/10/P-1"
        );
        assert_eq!(
            lookup_url("https://x/01/1", None).unwrap(),
            "https://x/01/1"
        );
    }

    #[test]
    fn a_png_code_has_its_quiet_zone() {
        let code = qrcode::QrCode::new(b"https://id.gs1.org/01/02000420000008/10/P-1").unwrap();
        let png = qr_png(&code, 2);
        assert_eq!(png.width(), (code.width() as u32 + 8) * 2);
        assert_eq!(png.get_pixel(0, 0).0[0], 255);
        assert_eq!(png.get_pixel(8, 8).0[0], 0); // the finder pattern's corner
    }
}
