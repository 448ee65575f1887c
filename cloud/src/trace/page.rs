//! The resolver's HTML: small, self-contained pages a shopper reads on a phone (no scripts, no
//! external assets), every value escaped.

use super::journey::Journey;
use super::link::LotKey;
use super::store::ProductInfo;

/// Escapes text for HTML element content and attribute values.
pub use omo_contract::html::escape;

fn layout(title: &str, body: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body{{font-family:system-ui,-apple-system,"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",sans-serif;margin:0;padding:1rem;max-width:40rem;margin:auto;color:#1d1d1f;line-height:1.45}}
h1{{font-size:1.4rem;margin:.2rem 0}} .muted{{color:#666;font-size:.9rem}}
.origin{{background:#eef7ee;border-radius:.6rem;padding:.8rem;margin:1rem 0}}
ol.journey{{list-style:none;padding:0;border-left:3px solid #2a7;margin-left:.5rem}}
ol.journey li{{padding:.2rem 0 1rem 1rem;position:relative}}
ol.journey li::before{{content:"";position:absolute;left:-.55rem;top:.45rem;width:.8rem;height:.8rem;border-radius:50%;background:#2a7}}
.what{{font-weight:600}} ul.details{{margin:.2rem 0;padding-left:1.1rem;font-size:.9rem}}
</style>
</head>
<body>
{body}
</body>
</html>
"#,
        title = escape(title),
    )
}

/// The journey of a lot.
pub fn journey_page(product: Option<&ProductInfo>, journey: &Journey) -> String {
    let name = product.map_or_else(|| format!("GTIN {}", journey.gtin), |p| p.name.clone());
    let mut body = format!(
        "<h1>{}</h1>\n<p class=\"muted\">Lot {} · GTIN {}</p>\n",
        escape(&name),
        escape(&journey.lot),
        escape(&journey.gtin)
    );
    let catalog_origin = product.map(|p| p.origin.as_str()).filter(|o| !o.is_empty());
    match (&journey.origin, catalog_origin) {
        (Some(origin), _) => {
            body.push_str("<section class=\"origin\"><h2>Origin</h2>\n<p>");
            let mut parts = Vec::new();
            if !origin.farm.is_empty() {
                parts.push(format!("Farm: <strong>{}</strong>", escape(&origin.farm)));
            }
            if let Some(country) = origin.country.as_deref().or(catalog_origin) {
                parts.push(format!("Country: {}", escape(country)));
            }
            if let Some(date) = origin.harvest_date {
                parts.push(format!("Harvested: {}", date.format("%Y-%m-%d")));
            }
            if !origin.certificates.is_empty() {
                let certs: Vec<String> = origin.certificates.iter().map(|c| escape(c)).collect();
                parts.push(format!("Certificates: {}", certs.join(", ")));
            }
            body.push_str(&parts.join("<br>\n"));
            body.push_str("</p></section>\n");
        }
        (None, Some(origin)) => {
            body.push_str(&format!(
                "<section class=\"origin\"><h2>Origin</h2><p>{}</p></section>\n",
                escape(origin)
            ));
        }
        (None, None) => {}
    }
    body.push_str("<h2>Journey</h2>\n<ol class=\"journey\">\n");
    for step in &journey.steps {
        body.push_str(&format!(
            "<li><div class=\"what\">{}</div><div class=\"muted\"><time>{}</time> · {}</div>",
            escape(&step.what),
            escape(&display_time(&step.time)),
            escape(&step.place)
        ));
        if !step.details.is_empty() {
            body.push_str("<ul class=\"details\">");
            for detail in &step.details {
                body.push_str(&format!("<li>{}</li>", escape(detail)));
            }
            body.push_str("</ul>");
        }
        body.push_str("</li>\n");
    }
    body.push_str("</ol>\n<p class=\"muted\">GS1 EPCIS 2.0 events of this lot: ask this address with <code>Accept: application/json</code>.</p>\n");
    layout(&format!("{name} · lot {}", journey.lot), &body)
}

/// A product without a lot: what the catalog says, and the lots the store has traced.
pub fn product_page(product: Option<&ProductInfo>, gtin: &str, lots: &[String]) -> String {
    let name = product.map_or_else(|| format!("GTIN {gtin}"), |p| p.name.clone());
    let mut body = format!(
        "<h1>{}</h1>\n<p class=\"muted\">GTIN {}</p>\n",
        escape(&name),
        escape(gtin)
    );
    if let Some(origin) = product.map(|p| p.origin.as_str()).filter(|o| !o.is_empty()) {
        body.push_str(&format!(
            "<section class=\"origin\"><h2>Origin</h2><p>{}</p></section>\n",
            escape(origin)
        ));
    }
    if lots.is_empty() {
        body.push_str("<p>No lot of this product has been traced yet. The lot number is on the label, after (10).</p>\n");
    } else {
        body.push_str("<h2>Traced lots</h2>\n<ul>\n");
        for lot in lots {
            let key = LotKey {
                gtin: gtin.to_string(),
                lot: lot.clone(),
            };
            body.push_str(&format!(
                "<li><a href=\"{}\">Lot {}</a></li>\n",
                escape(&key.path().unwrap_or_default()),
                escape(lot)
            ));
        }
        body.push_str("</ul>\n");
    }
    layout(&name, &body)
}

/// A clear "not found" page.
pub fn not_found_page(what: &str) -> String {
    layout(
        "Not found",
        &format!(
            "<h1>Not found</h1>\n<p>{}</p>\n<p class=\"muted\">Check the code on the label and scan it again, or ask a member of staff.</p>\n",
            escape(what)
        ),
    )
}

/// `2026-11-23T02:00:00.000Z` as `2026-11-23 02:00 UTC`; dates and other text as they are.
fn display_time(time: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(time) {
        Ok(t) if t.offset().local_minus_utc() == 0 => t.format("%Y-%m-%d %H:%M UTC").to_string(),
        Ok(t) => t.format("%Y-%m-%d %H:%M (UTC%:z)").to_string(),
        Err(_) => time.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        let page = not_found_page("No product <script>");
        assert!(page.contains("&lt;script&gt;"));
        assert!(page.contains("viewport"));
    }
}
