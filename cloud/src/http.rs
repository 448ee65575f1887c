//! The cloud's HTTP side (axum): `/healthz`, `/metrics`, the resolver's routes and the shopper's
//! web app (`/app/`, see [`crate::app`]).

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

use crate::context::Context;
use crate::resolver;

/// Every HTTP route of the cloud.
pub fn router(ctx: Context, app: crate::app::AppApi) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .merge(resolver::routes())
        .with_state(ctx)
        .merge(crate::app::routes(app))
}

/// 200 `ok` when the database answers, 503 otherwise.
async fn healthz(State(ctx): State<Context>) -> impl IntoResponse {
    match ctx.db.ping().await {
        Ok(()) => (StatusCode::OK, "ok\n"),
        Err(e) => {
            tracing::warn!(error = %e, "health check: database does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n")
        }
    }
}

/// Prometheus text exposition.
async fn metrics(State(ctx): State<Context>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        ctx.metrics.render(),
    )
}
