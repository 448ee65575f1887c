//! The devices panel's routes: its script and the devices' state for lane N's set-up screen,
//! and one [`DeviceAction`] at a time, done by the binary's [`DemoDevices`].

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::{DemoDevices, DeviceAction};
use crate::context::EdgeContext;

/// The panel's script.
const PANEL_JS: &str = include_str!("../../web/devices-panel.js");

/// The panel's routes (404 unless in demo mode, for a lane of the [`DemoDevices`]).
pub fn routes() -> Router<Arc<EdgeContext>> {
    Router::new()
        .route("/lanes/{id}/devices.js", get(script))
        .route("/lanes/{id}/devices", get(show).post(act))
}

/// Why a panel request is refused.
enum Refused {
    /// Not demo mode, or not one of its lanes: 404.
    NotHere,
    /// Not the lane's set-up screen: 403.
    NotTheScreen(String),
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::NotHere => (StatusCode::NOT_FOUND, "no devices panel here\n").into_response(),
            Refused::NotTheScreen(lane) => (
                StatusCode::FORBIDDEN,
                Json(json!({ "error": format!("only lane {lane}'s set-up screen may do this") })),
            )
                .into_response(),
        }
    }
}

/// The devices of `lane` if this edge runs in demo mode with it and the request is from its
/// screen; else the refusal.
fn devices<'a>(
    ctx: &'a EdgeContext,
    lane: &str,
    headers: &HeaderMap,
) -> Result<&'a Arc<dyn DemoDevices>, Refused> {
    let Some(devices) = ctx.demo_devices.as_ref().filter(|d| d.has_lane(lane)) else {
        return Err(Refused::NotHere);
    };
    if !crate::web::screen::is_lane_screen(ctx, lane, headers) {
        return Err(Refused::NotTheScreen(lane.to_string()));
    }
    Ok(devices)
}

async fn script(
    State(ctx): State<Arc<EdgeContext>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match devices(&ctx, &id, &headers) {
        Ok(_) => (
            [
                (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            PANEL_JS,
        )
            .into_response(),
        Err(refused) => refused.into_response(),
    }
}

async fn show(
    State(ctx): State<Arc<EdgeContext>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match devices(&ctx, &id, &headers) {
        Ok(devices) => {
            let state = devices.act(&id, DeviceAction::Status).await;
            Json(json!({ "lane": id, "products": devices.products(),
                         "wallets": devices.wallets(), "devices": state }))
            .into_response()
        }
        Err(refused) => refused.into_response(),
    }
}

async fn act(
    State(ctx): State<Arc<EdgeContext>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(action): Json<DeviceAction>,
) -> Response {
    match devices(&ctx, &id, &headers) {
        Ok(devices) => {
            let reply = devices.act(&id, action).await;
            let status = if reply.ok {
                StatusCode::OK
            } else {
                StatusCode::CONFLICT
            };
            (status, Json(reply)).into_response()
        }
        Err(refused) => refused.into_response(),
    }
}
