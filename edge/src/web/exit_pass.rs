//! The exit pass on the lane screen: the paid basket's signed exit pass (or, for a basket paid
//! before passes were signed, its order id) as a QR code, drawn by the server as SVG, for that
//! lane's set-up screen only ([`super::screen`]).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use qrcode::QrCode;
use qrcode::render::svg;
use serde_json::json;

use crate::board::LaneView;
use crate::context::EdgeContext;
use crate::lane::{AttemptStatus, LaneState};

/// The order id of the lane's paid basket and what its QR code holds, if it has one (paid, or
/// leaving through the gate).
pub fn paid_order(view: &LaneView) -> Option<(&str, &str)> {
    if !matches!(view.lane.state, LaneState::Paid | LaneState::Exiting) {
        return None;
    }
    let payment = view.lane.session.as_ref()?.payment.as_ref()?;
    let content = view.exit_pass.as_deref().unwrap_or(&payment.order_id);
    (payment.status == AttemptStatus::Succeeded).then_some((payment.order_id.as_str(), content))
}

/// `content` as a QR code in SVG, black on white with its quiet zone.
pub fn qr_svg(content: &str) -> Option<String> {
    let code = QrCode::new(content.as_bytes()).ok()?;
    Some(
        code.render::<svg::Color<'_>>()
            .min_dimensions(240, 240)
            .dark_color(svg::Color("#000000"))
            .light_color(svg::Color("#ffffff"))
            .quiet_zone(true)
            .build(),
    )
}

/// `GET /lanes/{id}/exit-pass.svg`: 403 unless asked by the lane's set-up screen, 404 unless
/// the lane has a paid basket.
pub async fn svg(
    State(ctx): State<Arc<EdgeContext>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !super::screen::is_lane_screen(&ctx, &id, &headers) {
        return (
            StatusCode::FORBIDDEN,
            "only the lane's set-up screen shows its exit pass\n",
        )
            .into_response();
    }
    let view = ctx.board.lane(&id);
    let Some((order, content)) = view.as_ref().and_then(paid_order) else {
        return (StatusCode::NOT_FOUND, "no paid basket at this lane\n").into_response();
    };
    let Some(svg) = qr_svg(content) else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "the exit pass does not fit a QR code\n",
        )
            .into_response();
    };
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml".to_string()),
            (header::CACHE_CONTROL, "no-store".to_string()),
            (
                header::HeaderName::from_static("x-omo-order-id"),
                order.to_string(),
            ),
        ],
        svg,
    )
        .into_response()
}

/// `GET /lanes/{id}/exit-pass`: the pass as text, `{"order_id", "exit_pass"}`, for the lane's
/// set-up screen only (403 otherwise, 404 without a paid basket); a screen that cannot draw the
/// QR code shows it as text.
pub async fn text(
    State(ctx): State<Arc<EdgeContext>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !super::screen::is_lane_screen(&ctx, &id, &headers) {
        return (
            StatusCode::FORBIDDEN,
            Json(json!({ "error": "only the lane's set-up screen shows its exit pass" })),
        )
            .into_response();
    }
    let view = ctx.board.lane(&id);
    match view.as_ref().and_then(paid_order) {
        Some((order, content)) => (
            [(header::CACHE_CONTROL, "no-store")],
            Json(json!({ "order_id": order, "exit_pass": content })),
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": "no paid basket at this lane" })),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_id_becomes_an_svg_qr_code() {
        let svg = qr_svg("0190f5b2-7c1e-7a3b-9c1d-2f3e4a5b6c7d-1").unwrap();
        assert!(svg.starts_with("<?xml"), "{}", &svg[..40]);
        assert!(svg.contains("<svg"));
        assert!(svg.contains("#000000"));
    }
}
