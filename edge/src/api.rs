//! The edge's HTTP side: `/healthz`, `/metrics`, and the JSON API under `/api/` that shows lanes,
//! devices and recent sales, with a server-sent-events stream of live changes; operators' actions
//! on lanes (which need a session: see [`crate::web::auth`]); and the pages of [`crate::web`].
//!
//! Reading the lanes' public views is open (it is what the lanes and devices publish, retained,
//! on MQTT, and the lane screens need it): those views carry no exit pass and no wallet id (see
//! [`crate::board::LaneView`]). Sales, the audit trail and every action need a session; who may
//! call each route is [`crate::web::ROUTES`].

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::Stream;
use serde_json::json;
use tokio_stream::wrappers::BroadcastStream;

use crate::context::EdgeContext;
use crate::lane::{OperatorAction, OperatorCommand, Role};
use crate::web::{AppState, Operator};

/// The edge's HTTP routes: the API, and the operator and lane-screen pages.
pub fn router(ctx: Arc<EdgeContext>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/store", get(store))
        .route("/api/lanes", get(lanes))
        .route("/api/lanes/{id}", get(lane))
        .route("/api/devices", get(devices))
        .route("/api/sales", get(sales))
        .route("/api/events", get(events))
        .route("/api/lanes/{id}/actions", post(lane_action))
        .route("/api/actions", get(actions))
        .merge(crate::web::routes())
        .with_state(AppState::new(ctx))
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

async fn healthz(State(ctx): State<Arc<EdgeContext>>) -> Response {
    match ctx.db.outbox_depth().await {
        Ok(_) => (StatusCode::OK, "ok\n").into_response(),
        Err(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("database: {error}\n"),
        )
            .into_response(),
    }
}

async fn store(State(ctx): State<Arc<EdgeContext>>) -> Json<serde_json::Value> {
    let catalog = ctx
        .catalog
        .read()
        .map(|c| (c.version(), c.len()))
        .unwrap_or_default();
    Json(json!({
        "store_id": ctx.config.store_id,
        "store_name": ctx.config.store_name,
        "resolver_url": ctx.config.resolver_url,
        "lat": ctx.config.lat,
        "lon": ctx.config.lon,
        "delivery_radius_m": ctx.config.delivery_radius_m,
        "catalog_version": catalog.0,
        "catalog_products": catalog.1,
        "mqtt_connected": ctx.outbox.connected(),
        "outbox_depth": ctx.db.outbox_depth().await.ok(),
    }))
}

async fn lanes(State(ctx): State<Arc<EdgeContext>>) -> Json<serde_json::Value> {
    Json(json!({ "lanes": ctx.board.lanes() }))
}

async fn lane(State(ctx): State<Arc<EdgeContext>>, Path(id): Path<String>) -> Response {
    match ctx.board.lane(&id) {
        Some(view) => Json(view).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": format!("no lane {id:?}") })),
        )
            .into_response(),
    }
}

async fn devices(State(ctx): State<Arc<EdgeContext>>) -> Json<serde_json::Value> {
    Json(json!({ "devices": ctx.board.devices() }))
}

/// `?limit=N` (default 50, at most 100000).
#[derive(serde::Deserialize)]
struct Limit {
    limit: Option<i64>,
}

/// Recent sales, newest first (operators only: they carry wallet ids). Exit passes are left out:
/// they reach only the lane's screen and the paying wallet's app.
async fn sales(
    State(ctx): State<Arc<EdgeContext>>,
    _operator: Operator,
    Query(query): Query<Limit>,
) -> Response {
    let limit = query.limit.unwrap_or(50).clamp(1, 100_000);
    match ctx.db.recent_sales(limit).await {
        Ok(sales) => {
            let sales: Vec<serde_json::Value> = sales
                .iter()
                .filter_map(|sale| serde_json::to_value(sale).ok())
                .map(|mut sale| {
                    if let Some(fields) = sale.as_object_mut() {
                        fields.remove("exit_pass");
                    }
                    sale
                })
                .collect();
            Json(json!({ "sales": sales })).into_response()
        }
        Err(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "error": error.to_string() })),
        )
            .into_response(),
    }
}

/// What an operator asks of a lane: `{"reason", "command", ...the command's fields}`. Who asks
/// comes from the session, never from the body (`operator` and `role` in it are ignored).
#[derive(serde::Deserialize)]
struct ActionRequest {
    #[serde(default)]
    reason: String,
    #[serde(flatten)]
    command: OperatorCommand,
}

/// An operator's command for a lane. 401 without a session, 403 if the operator's role is too
/// low, 404 for an unknown lane, 422 without a reason, 409 if the lane refuses; else the lane as
/// it is after the command.
async fn lane_action(
    State(ctx): State<Arc<EdgeContext>>,
    operator: Operator,
    Path(id): Path<String>,
    Json(request): Json<ActionRequest>,
) -> Response {
    let needed = request.command.required_role();
    if operator.role < needed {
        let needed = match needed {
            Role::Attendant => "an attendant",
            Role::Manager => "a manager",
        };
        return error(
            StatusCode::FORBIDDEN,
            format!("{} needs {needed}", command_name(&request.command)),
        );
    }
    if ctx.board.lane(&id).is_none() {
        return error(StatusCode::NOT_FOUND, format!("no lane {id:?}"));
    }
    let max = crate::web::alerts::MAX_REASON_BYTES;
    if request.reason.trim().is_empty() || request.reason.trim().len() > max {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("say why: `reason` is required (at most {max} bytes)"),
        );
    }
    let action = OperatorAction {
        operator: operator.name,
        role: operator.role,
        reason: request.reason.trim().to_string(),
        command: request.command,
    };
    match ctx.lanes.command(&id, action).await {
        Ok(view) => Json(view).into_response(),
        Err(reason) => error(StatusCode::CONFLICT, reason),
    }
}

/// The command's name as the API spells it (`open_gate`, ...).
fn command_name(command: &OperatorCommand) -> String {
    serde_json::to_value(command)
        .ok()
        .and_then(|v| v["command"].as_str().map(str::to_string))
        .unwrap_or_else(|| "this command".into())
}

pub use crate::web::screen_actions::LANE_SCREEN_OPERATOR;

/// The audit trail of operator actions, newest first (operators only).
async fn actions(
    State(ctx): State<Arc<EdgeContext>>,
    _operator: Operator,
    Query(query): Query<Limit>,
) -> Response {
    match ctx
        .db
        .recent_actions(query.limit.unwrap_or(100).clamp(1, 10_000))
        .await
    {
        Ok(rows) => Json(json!({ "actions": rows })).into_response(),
        Err(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "error": error.to_string() })),
        )
            .into_response(),
    }
}

/// Live changes as server-sent events (`lane` and `device` events, JSON data).
async fn events(
    State(ctx): State<Arc<EdgeContext>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let stream = tokio_stream::StreamExt::filter_map(
        BroadcastStream::new(ctx.board.subscribe()),
        |update| {
            let update = update.ok()?;
            let kind = match &update {
                crate::board::Update::Lane(_) => "lane",
                crate::board::Update::Device(_) => "device",
            };
            Event::default().event(kind).json_data(&update).ok().map(Ok)
        },
    );
    let shutdown = ctx.shutdown.clone().cancelled_owned();
    let stream = futures::StreamExt::take_until(stream, shutdown);
    Sse::new(stream).keep_alive(KeepAlive::default())
}

async fn metrics(State(ctx): State<Arc<EdgeContext>>) -> Response {
    let c = &ctx.board.counters;
    let load = |v: &std::sync::atomic::AtomicU64| v.load(Ordering::Relaxed);
    let depth = ctx.db.outbox_depth().await.unwrap_or(-1);
    let mut out = String::new();
    for (name, help, value) in [
        (
            "omo_scans_total",
            "Scans read at the lanes.",
            load(&c.scans),
        ),
        (
            "omo_bad_scans_total",
            "Scans that could not be read.",
            load(&c.bad_scans),
        ),
        ("omo_checkouts_total", "Checkouts paid.", load(&c.checkouts)),
    ] {
        out.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n"
        ));
    }
    out.push_str(
        "# HELP omo_payments_total Payments by result.\n# TYPE omo_payments_total counter\n",
    );
    for (result, value) in [
        ("succeeded", load(&c.payments_succeeded)),
        ("declined", load(&c.payments_declined)),
        ("cancelled", load(&c.payments_cancelled)),
    ] {
        out.push_str(&format!(
            "omo_payments_total{{result=\"{result}\"}} {value}\n"
        ));
    }
    out.push_str(
        "# HELP omo_alerts_total Interventions and alerts raised, by reason.\n# TYPE omo_alerts_total counter\n",
    );
    for (reason, value) in ctx.board.alerts_by_reason() {
        out.push_str(&format!(
            "omo_alerts_total{{reason=\"{reason}\"}} {value}\n"
        ));
    }
    let devices = ctx.board.devices();
    out.push_str(
        "# HELP omo_device_errors_total Device errors since the edge started (timeouts, garbage, IO errors), by device.\n# TYPE omo_device_errors_total counter\n",
    );
    for device in &devices {
        out.push_str(&format!(
            "omo_device_errors_total{{device=\"{}\",kind=\"{}\"}} {}\n",
            label(&device.device),
            label(&kind_name(device)),
            device.errors
        ));
    }
    out.push_str("# HELP omo_device_up Whether a device is online (1) or offline or faulty (0).\n# TYPE omo_device_up gauge\n");
    for device in &devices {
        let up = matches!(device.status, omo_devices::health::DeviceStatus::Online);
        out.push_str(&format!(
            "omo_device_up{{device=\"{}\",kind=\"{}\"}} {}\n",
            label(&device.device),
            label(&kind_name(device)),
            u8::from(up)
        ));
    }
    out.push_str(&ctx.board.scan_latency.render(
        "omo_scan_to_state_seconds",
        "From a scan's last byte on the serial line to the lane's committed state.",
    ));
    out.push_str(&format!(
        "# HELP omo_outbox_depth Messages waiting for the broker.\n# TYPE omo_outbox_depth gauge\nomo_outbox_depth {depth}\n"
    ));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}

/// A Prometheus label value: backslash, double quote and newline escaped.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn kind_name(device: &omo_devices::health::DeviceHealth) -> String {
    serde_json::to_value(device.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}
