//! Home delivery from the store: 3 km, 30 minutes.
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`geo`] | distances and bearings on WGS 84 (Karney's geodesics), pure |
//! | [`order`] | accepting an order within `delivery_radius_m`, the promise, the contract's payloads, pure |
//! | [`dispatch`] | the dispatcher: which rider takes which order, lapses, warnings; pure |
//! | [`request`] | orders the cloud forwards from the app, and the edge's refusals (pure) |
//! | [`cancellation`] | the cloud's cancellation of an order it refunded before the store accepted it |
//! | [`progress`] | the rider's progress (accepted, picked up, delivered) told to the cloud |
//! | [`inbox`] | the delivery session: rider events and the cloud's forwarded orders, acknowledged after commit |
//! | [`service`] | the IO: SQLite, rider events from MQTT, offers through the outbox, the board |
//! | [`rider`] | the rider's client (`omo rider`), with simulated movement (its topics are [`crate::topics`]) |
//! | [`config`] | the dispatcher's settings |
//!
//! HTTP (merged into the edge's API by [`routes`]), each for operators only (a session: 401
//! without; see [`crate::web::ROUTES`]): `POST /api/delivery/orders` places an order by hand (201,
//! or 422 with the distance when out of range), `GET /api/delivery/orders/{id}` shows one,
//! `GET /api/delivery/board` is the delivery board. Orders from the app and from lane screens
//! come through the cloud (see [`inbox`]), not through these routes.

pub mod cancellation;
pub mod config;
pub mod dispatch;
pub mod geo;
pub mod inbox;
pub mod order;
pub mod progress;
pub mod request;
pub mod rider;
pub mod service;

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::EdgeConfig;
use crate::context::EdgeContext;
use crate::db::Db;
use crate::outbox::OutboxSignal;
use crate::web::Sessions;
use crate::web::auth::NotLoggedIn;

pub use order::{Dropoff, OrderRequest, Refusal};

/// What delivery needs from the edge it runs in.
pub trait DeliveryHost: Send + Sync + 'static {
    fn edge_config(&self) -> &EdgeConfig;
    fn db(&self) -> &Db;
    fn outbox(&self) -> &OutboxSignal;
    /// The operators' sessions the HTTP routes check.
    fn sessions(&self) -> &Sessions;
}

impl DeliveryHost for EdgeContext {
    fn edge_config(&self) -> &EdgeConfig {
        &self.config
    }
    fn sessions(&self) -> &Sessions {
        &self.sessions
    }
    fn db(&self) -> &Db {
        &self.db
    }
    fn outbox(&self) -> &OutboxSignal {
        &self.outbox
    }
}

/// Delivery on its own: a config, the store and the outbox signal (tests, and `run_standalone`).
pub struct DeliveryParts {
    pub config: EdgeConfig,
    pub db: Db,
    pub outbox: OutboxSignal,
    pub sessions: Sessions,
}

impl DeliveryHost for DeliveryParts {
    fn edge_config(&self) -> &EdgeConfig {
        &self.config
    }
    fn sessions(&self) -> &Sessions {
        &self.sessions
    }
    fn db(&self) -> &Db {
        &self.db
    }
    fn outbox(&self) -> &OutboxSignal {
        &self.outbox
    }
}

/// The delivery routes of the edge's HTTP API.
pub fn routes() -> Router<Arc<EdgeContext>> {
    routes_for::<EdgeContext>()
}

/// The delivery routes over any host.
pub fn routes_for<H: DeliveryHost>() -> Router<Arc<H>> {
    Router::new()
        .route("/api/delivery/orders", post(place::<H>))
        .route("/api/delivery/orders/{id}", get(show::<H>))
        .route("/api/delivery/board", get(board::<H>))
}

/// Runs the dispatcher of the edge `ctx` until `cancel` (spawn it beside the outbox publisher).
pub async fn run(ctx: Arc<EdgeContext>, cancel: CancellationToken) {
    service::run(ctx, cancel).await
}

/// Delivery without lanes: the store, the outbox publisher, the dispatcher and the delivery
/// routes on `http`, until `cancel`.
pub async fn run_standalone(
    config: EdgeConfig,
    http: TcpListener,
    cancel: CancellationToken,
) -> Result<(), crate::EdgeError> {
    let db = Db::open(&config.data_dir).await?;
    let mqtt = crate::outbox::mqtt_options(&config)?;
    let parts = Arc::new(DeliveryParts {
        sessions: Sessions::new(config.operators.clone()),
        config,
        db,
        outbox: OutboxSignal::default(),
    });
    let tasks = TaskTracker::new();
    tasks.spawn(crate::outbox::run_publisher(
        parts.db.clone(),
        parts.outbox.clone(),
        mqtt,
        parts.config.store_id.clone(),
        cancel.clone(),
    ));
    tasks.spawn(service::run(parts.clone(), cancel.clone()));
    tasks.close();
    let shutdown = cancel.clone();
    let served = axum::serve(http, routes_for::<DeliveryParts>().with_state(parts))
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await;
    cancel.cancel();
    tasks.wait().await;
    served.map_err(crate::EdgeError::Http)
}

/// 401 unless the request carries a live operator session.
fn operator_only<H: DeliveryHost>(host: &H, headers: &HeaderMap) -> Result<(), NotLoggedIn> {
    crate::web::auth::token(headers)
        .and_then(|t| host.sessions().operator(&t))
        .map(|_| ())
        .ok_or(NotLoggedIn)
}

async fn place<H: DeliveryHost>(
    State(host): State<Arc<H>>,
    headers: HeaderMap,
    Json(request): Json<OrderRequest>,
) -> Response {
    if let Err(refused) = operator_only(host.as_ref(), &headers) {
        return refused.into_response();
    }
    match service::place(host.as_ref(), request, chrono::Utc::now()).await {
        Ok(open) => (StatusCode::CREATED, Json(service::order_view(&open))).into_response(),
        Err(service::PlaceError::Refused(refusal)) => {
            let body = match &refusal {
                Refusal::OutOfRange {
                    distance_m,
                    radius_m,
                } => json!({
                    "error": "out_of_range",
                    "distance_m": order::round_m(*distance_m),
                    "radius_m": radius_m,
                    "message": refusal.to_string(),
                }),
                _ => json!({ "error": "bad_request", "message": refusal.to_string() }),
            };
            (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
        }
        Err(service::PlaceError::Db(error)) => {
            tracing::error!(%error, "cannot store a delivery order");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "error": "unavailable", "message": error.to_string() })),
            )
                .into_response()
        }
    }
}

async fn show<H: DeliveryHost>(
    State(host): State<Arc<H>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(refused) = operator_only(host.as_ref(), &headers) {
        return refused.into_response();
    }
    match service::load_order(host.as_ref(), &id).await {
        Ok(Some(open)) => Json(service::order_view(&open)).into_response(),
        Ok(None) => (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": "not_found", "message": format!("no delivery order {id:?}") })),
        )
            .into_response(),
        Err(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "error": "unavailable", "message": error.to_string() })),
        )
            .into_response(),
    }
}

async fn board<H: DeliveryHost>(State(host): State<Arc<H>>, headers: HeaderMap) -> Response {
    if let Err(refused) = operator_only(host.as_ref(), &headers) {
        return refused.into_response();
    }
    match service::board(host.as_ref(), chrono::Utc::now()).await {
        Ok(board) => Json(board).into_response(),
        Err(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "error": "unavailable", "message": error.to_string() })),
        )
            .into_response(),
    }
}
