//! What the lane screen does, each allowed only to that lane's set-up screen ([`super::screen`])
//! and only for the basket in front of it: the request names the basket's session id, and a
//! stale one (an earlier shopper's) is refused with 409.
//!
//! | route | what |
//! | --- | --- |
//! | `GET /lanes/{id}/screen[?setup=TOKEN]` | the page; with a valid token, the cookie and a redirect |
//! | `POST /lanes/{id}/own-bag` `{"session_id"}` | "I use my own bag": once per basket |
//! | `POST /lanes/{id}/delivery` `{"session_id"}` | "Deliver it home" for the basket just paid |
//! | `GET /api/lanes/{id}/screen-setup` | a manager: the screen's setup path |

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use tracing::{info, warn};

use super::{AppState, Operator, screen};
use crate::context::EdgeContext;
use crate::lane::{OperatorAction, OperatorCommand, Role};

/// The name the audit trail shows for what shoppers do on a lane screen.
pub const LANE_SCREEN_OPERATOR: &str = "lane-screen";

/// How long after paying a shopper can still ask at the lane for the basket to be delivered.
const DELIVER_WITHIN_MINUTES: i64 = 15;

/// The basket a screen action is for.
#[derive(Deserialize)]
pub struct BasketRef {
    pub session_id: String,
}

/// Claims the own bag of `session` at `lane` in the edge's database (so a restart does not
/// allow another); false if it was claimed before. The primary key settles two racing presses.
async fn claim_own_bag(ctx: &EdgeContext, lane: &str, session: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO own_bag_uses (lane_id, session_id, used_at) VALUES ($1, $2, $3) \
         ON CONFLICT (lane_id, session_id) DO NOTHING",
    )
    .bind(lane)
    .bind(session)
    .bind(chrono::Utc::now().to_rfc3339())
    .execute(ctx.db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives the claim back (the lane refused the command, so nothing was armed).
async fn release_own_bag(ctx: &EdgeContext, lane: &str, session: &str) {
    let done = sqlx::query("DELETE FROM own_bag_uses WHERE lane_id = $1 AND session_id = $2")
        .bind(lane)
        .bind(session)
        .execute(ctx.db.pool())
        .await;
    if let Err(e) = done {
        warn!(lane, error = %e, "could not give back an own-bag claim");
    }
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

fn not_a_screen(id: &str) -> Response {
    error(
        StatusCode::FORBIDDEN,
        format!("only lane {id}'s set-up screen may do this"),
    )
}

#[derive(Deserialize)]
pub struct Setup {
    setup: Option<String>,
}

/// `GET /lanes/{id}/screen`: the page for lane `id`'s screen; `?setup=TOKEN` sets the screen up.
pub async fn page(
    State(ctx): State<Arc<EdgeContext>>,
    Path(id): Path<String>,
    Query(query): Query<Setup>,
    headers: HeaderMap,
) -> Response {
    if ctx.board.lane(&id).is_none() {
        return (StatusCode::NOT_FOUND, format!("no lane {id:?}\n")).into_response();
    }
    if let Some(token) = query.setup {
        if !screen::token_is_valid(&ctx, &id, &token) {
            warn!(lane = %id, "a lane screen setup with a wrong token");
            return super::pages::message_page(
                StatusCode::FORBIDDEN,
                "This setup link is not valid for this lane.",
            );
        }
        info!(lane = %id, "lane screen set up");
        let mut response = (
            StatusCode::SEE_OTHER,
            [(header::LOCATION, format!("/lanes/{id}/screen"))],
        )
            .into_response();
        let headers = response.headers_mut();
        headers.insert(header::SET_COOKIE, screen::cookie(&id, token.trim()));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(
            HeaderName::from_static("referrer-policy"),
            HeaderValue::from_static("no-referrer"),
        );
        return response;
    }
    if !screen::is_lane_screen(&ctx, &id, &headers) {
        return super::pages::message_page(
            StatusCode::FORBIDDEN,
            &format!(
                "This screen is not set up for lane {id}. An operator opens the lane's setup link on it once."
            ),
        );
    }
    super::pages::lane_screen(&ctx, &id)
}

/// `POST /lanes/{id}/own-bag`: the shopper pressed "I use my own bag" on the lane screen: it lets
/// the next light weight on the scale through, as an attendant would, once per basket.
pub async fn own_bag(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(basket): Json<BasketRef>,
) -> Response {
    let ctx = &state.ctx;
    let Some(view) = ctx.board.lane(&id) else {
        return error(StatusCode::NOT_FOUND, format!("no lane {id:?}"));
    };
    if !screen::is_lane_screen(ctx, &id, &headers) {
        return not_a_screen(&id);
    }
    if view.lane.session.as_ref().map(|s| s.id.as_str()) != Some(basket.session_id.as_str()) {
        return error(
            StatusCode::CONFLICT,
            "that basket is no longer at this lane",
        );
    }
    match claim_own_bag(ctx, &id, &basket.session_id).await {
        Ok(true) => {}
        Ok(false) => {
            return error(
                StatusCode::CONFLICT,
                "an own bag was already allowed for this basket: an attendant can allow another",
            );
        }
        Err(e) => {
            warn!(lane = %id, error = %e, "could not record an own-bag claim");
            return error(StatusCode::SERVICE_UNAVAILABLE, "try again");
        }
    }
    let action = OperatorAction {
        operator: LANE_SCREEN_OPERATOR.into(),
        role: Role::Attendant,
        reason: "the shopper pressed \"I use my own bag\"".into(),
        command: OperatorCommand::OwnBag,
    };
    match ctx.lanes.command(&id, action).await {
        Ok(view) => Json(view).into_response(),
        Err(reason) => {
            release_own_bag(ctx, &id, &basket.session_id).await;
            error(StatusCode::CONFLICT, reason)
        }
    }
}

/// `POST /lanes/{id}/delivery`: the shopper pressed "Deliver it home" on the lane screen: the
/// lane's latest basket, paid within the last 15 minutes and named by its session id, goes to the
/// address kept in the paying wallet's app. 200 with the order (`status` PLACED), 422 when the
/// address is beyond the delivery radius (with `distance_m`), 404 without a recent paid basket,
/// 409 for a stale basket or when the cloud refuses (no address kept, already delivered), 503
/// when the cloud cannot be reached.
pub async fn deliver_home(
    State(ctx): State<Arc<EdgeContext>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(basket): Json<BasketRef>,
) -> Response {
    if ctx.board.lane(&id).is_none() {
        return error(StatusCode::NOT_FOUND, format!("no lane {id:?}"));
    }
    if !screen::is_lane_screen(&ctx, &id, &headers) {
        return not_a_screen(&id);
    }
    let since = chrono::Utc::now() - chrono::Duration::minutes(DELIVER_WITHIN_MINUTES);
    let sale = match ctx.db.latest_sale(&id, since).await {
        Ok(Some(sale)) => sale,
        Ok(None) => {
            return error(
                StatusCode::NOT_FOUND,
                format!("no basket paid at lane {id} in the last {DELIVER_WITHIN_MINUTES} minutes"),
            );
        }
        Err(e) => return error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    };
    if sale.session_id != basket.session_id {
        return error(
            StatusCode::CONFLICT,
            "that basket is not the one just paid at this lane",
        );
    }
    let (order_id, wallet_id) = (sale.order_id, sale.wallet_id);
    match ctx.payments.deliver_purchase(&order_id, &wallet_id).await {
        Ok(order) => {
            let status = if order.status == "OUT_OF_RANGE" {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::OK
            };
            info!(lane = %id, purchase = %order_id, delivery = %order.order_id, status = %order.status, "the shopper asked at the lane for home delivery");
            let address = order.dropoff.map(|d| d.address).unwrap_or_default();
            (
                status,
                Json(json!({
                    "order_id": order.order_id,
                    "purchase_order_id": order_id,
                    "status": order.status,
                    "address": address,
                    "distance_m": order.distance_m,
                    "radius_m": order.radius_m,
                    "refusal": order.refusal,
                })),
            )
                .into_response()
        }
        Err(status) if status.code() == tonic::Code::Unavailable => error(
            StatusCode::SERVICE_UNAVAILABLE,
            status.message().to_string(),
        ),
        Err(status) => error(StatusCode::CONFLICT, status.message().to_string()),
    }
}

/// `GET /api/lanes/{id}/screen-setup`: a manager fetches the path that sets up lane `id`'s
/// screen (`{"lane", "setup_path"}`).
pub async fn setup(
    State(ctx): State<Arc<EdgeContext>>,
    operator: Operator,
    Path(id): Path<String>,
) -> Response {
    if operator.role < Role::Manager {
        return error(
            StatusCode::FORBIDDEN,
            "setting up a lane screen needs a manager",
        );
    }
    if ctx.board.lane(&id).is_none() {
        return error(StatusCode::NOT_FOUND, format!("no lane {id:?}"));
    }
    info!(lane = %id, operator = %operator.name, "lane screen setup link handed out");
    (
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({
            "lane": id,
            "setup_path": screen::setup_path(&ctx.screen_secret, &ctx.config.store_id, &id),
        })),
    )
        .into_response()
}
