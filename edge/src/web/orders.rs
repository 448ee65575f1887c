//! Order look-up for operators over the edge's `sales` table (`GET /api/orders`: by order id,
//! wallet, or a time range), with payment, member and discounts; a manager's refund of a lane
//! sale through the cloud's `PaymentService.Refund` (`POST /api/orders/{id}/refund`, idempotent
//! by refund id, recorded in `sale_refunds`); and the history of delivered orders
//! (`GET /api/delivery/history`).
//!
//! Wallet ids leave the edge masked (`1234****`): an operator finds a member's orders by typing
//! the whole id, but no page shows it.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::Row;

use crate::context::EdgeContext;
use crate::db::sale_of;
use crate::delivery::dispatch::{OpenOrder, OrderStatus};
use crate::lane::{Role, Sale};
use crate::payment::AttachError;
use crate::web::Operator;

/// The most rows one look-up returns.
pub const MAX_ROWS: i64 = 500;

/// `1234****`: the first four digits of a wallet id, the rest hidden.
pub fn mask_wallet(wallet_id: &str) -> String {
    let shown: String = wallet_id.chars().take(4).collect();
    let hidden = wallet_id.chars().count().saturating_sub(4).max(4);
    format!("{shown}{}", "*".repeat(hidden))
}

/// What `GET /api/orders` filters by (all optional, combined with AND).
#[derive(Debug, Default, Deserialize)]
pub struct OrderQuery {
    pub order_id: Option<String>,
    /// The whole wallet id.
    pub wallet: Option<String>,
    /// RFC 3339: paid at or after.
    pub from: Option<String>,
    /// RFC 3339: paid before.
    pub to: Option<String>,
    pub limit: Option<i64>,
}

fn parse_time(key: &str, value: &Option<String>) -> Result<String, String> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(String::new()),
        Some(text) => DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc).to_rfc3339())
            .map_err(|_| format!("`{key}` is not an RFC 3339 time: {text:?}")),
    }
}

fn bad(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

/// A sale as the dashboard shows it: payment, member (masked wallet), discounts, refunds.
pub fn order_view(sale: &Sale, refunded_fen: i64) -> Value {
    let discount_fen: i64 = sale.basket.discounts.iter().map(|d| d.amount_fen).sum();
    let status = if refunded_fen <= 0 {
        "paid"
    } else if refunded_fen < sale.total_fen {
        "partly_refunded"
    } else {
        "refunded"
    };
    json!({
        "order_id": sale.order_id,
        "lane_id": sale.lane_id,
        "paid_at": sale.paid_at.to_rfc3339(),
        "items": sale.basket.items.iter().map(|i| json!({
            "line": i.line, "name": i.name, "quantity": i.quantity, "weight_g": i.weight_g,
            "price_fen": i.price_fen,
        })).collect::<Vec<_>>(),
        "item_count": sale.basket.items.iter().map(|i| i.quantity.max(1)).sum::<u32>(),
        "subtotal_fen": sale.basket.subtotal_fen(),
        "discount_fen": discount_fen,
        "discounts": sale.basket.discounts.iter().map(|d| json!({
            "kind": d.kind, "description": d.description, "amount_fen": d.amount_fen,
        })).collect::<Vec<_>>(),
        "total_fen": sale.total_fen,
        "payment": {
            "status": status,
            "payment_id": sale.payment_id,
            "amount_fen": sale.total_fen,
            "refunded_fen": refunded_fen,
        },
        "member": {
            "wallet": mask_wallet(&sale.wallet_id),
            "member_price": sale.basket.discounts.iter().any(|d| d.kind == "member"),
        },
    })
}

/// `GET /api/orders?order_id=&wallet=&from=&to=&limit=` (operators): newest first.
pub async fn lookup(
    State(ctx): State<Arc<EdgeContext>>,
    _operator: Operator,
    Query(query): Query<OrderQuery>,
) -> Response {
    let (from, to) = match (parse_time("from", &query.from), parse_time("to", &query.to)) {
        (Ok(from), Ok(to)) => (from, to),
        (Err(e), _) | (_, Err(e)) => return bad(StatusCode::UNPROCESSABLE_ENTITY, e),
    };
    let trimmed = |v: &Option<String>| v.as_deref().unwrap_or("").trim().to_string();
    let limit = query.limit.unwrap_or(50).clamp(1, MAX_ROWS);
    let rows = sqlx::query(
        "SELECT order_id, lane_id, session_id, payment_id, wallet_id, total_fen, basket, paid_at, \
         exit_pass, (SELECT COALESCE(SUM(amount_fen), 0) FROM sale_refunds r \
         WHERE r.order_id = sales.order_id) FROM sales \
         WHERE ($1 = '' OR order_id = $1) AND ($2 = '' OR wallet_id = $2) \
         AND ($3 = '' OR paid_at >= $3) AND ($4 = '' OR paid_at < $4) \
         ORDER BY paid_at DESC LIMIT $5",
    )
    .bind(trimmed(&query.order_id))
    .bind(trimmed(&query.wallet))
    .bind(from)
    .bind(to)
    .bind(limit)
    .fetch_all(ctx.db.pool())
    .await;
    let rows = match rows {
        Ok(rows) => rows,
        Err(error) => return bad(StatusCode::SERVICE_UNAVAILABLE, error.to_string()),
    };
    let orders: Vec<Value> = rows
        .iter()
        .filter_map(|row| {
            let sale = sale_of(row).ok()?;
            Some(order_view(&sale, row.get::<i64, _>(9)))
        })
        .collect();
    Json(json!({ "orders": orders, "refund": "available" })).into_response()
}

/// `POST /api/orders/{id}/refund`: `{"reason", "amount_fen"?, "refund_id"}`.
#[derive(Debug, Deserialize)]
pub struct RefundRequest {
    #[serde(default)]
    pub reason: String,
    /// Default: what is left of the sale.
    pub amount_fen: Option<i64>,
    /// Required: the refund's idempotency key (a repeated click refunds once).
    pub refund_id: Option<String>,
}

/// A manager refunds (part of) a lane sale. 401 without a session, 403 for an attendant, 404
/// for an order this edge did not sell, 422 for a missing reason or a bad amount, 409 when the
/// cloud refuses, 503 when it does not answer; else 200 with the order as it is now.
pub async fn refund(
    State(ctx): State<Arc<EdgeContext>>,
    operator: Operator,
    Path(order_id): Path<String>,
    Json(request): Json<RefundRequest>,
) -> Response {
    if operator.role < Role::Manager {
        return bad(StatusCode::FORBIDDEN, "a refund needs a manager");
    }
    let reason = request.reason.trim();
    let max = super::alerts::MAX_REASON_BYTES;
    if reason.is_empty() || reason.len() > max {
        return bad(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("say why: `reason` is required (at most {max} bytes)"),
        );
    }
    let sale = match ctx.db.sale(&order_id).await {
        Ok(Some(sale)) => sale,
        Ok(None) => return bad(StatusCode::NOT_FOUND, format!("no sale {order_id:?}")),
        Err(error) => return bad(StatusCode::SERVICE_UNAVAILABLE, error.to_string()),
    };
    let refunded = match refunded_fen(&ctx, &order_id).await {
        Ok(fen) => fen,
        Err(error) => return bad(StatusCode::SERVICE_UNAVAILABLE, error.to_string()),
    };
    let amount = request
        .amount_fen
        .unwrap_or(sale.total_fen - refunded)
        .max(0);
    // The caller's idempotency key: the same key again refunds nothing more; a key already used
    // for another order or amount is refused rather than silently answered.
    let Some(refund_id) = request
        .refund_id
        .map(|id| id.trim().to_string())
        .filter(|id| !id.is_empty() && id.len() <= 128)
    else {
        return bad(
            StatusCode::UNPROCESSABLE_ENTITY,
            "`refund_id` is required (1 to 128 bytes): the refund's idempotency key",
        );
    };
    let earlier: Option<(String, i64)> =
        match sqlx::query_as("SELECT order_id, amount_fen FROM sale_refunds WHERE refund_id = $1")
            .bind(&refund_id)
            .fetch_optional(ctx.db.pool())
            .await
        {
            Ok(row) => row,
            Err(error) => return bad(StatusCode::SERVICE_UNAVAILABLE, error.to_string()),
        };
    let (already, amount) = match earlier {
        None => (false, amount),
        Some((order, fen)) if order == order_id && request.amount_fen.is_none_or(|a| a == fen) => {
            (true, fen)
        }
        Some(_) => {
            return bad(
                StatusCode::CONFLICT,
                format!("refund {refund_id:?} was already made for another order or amount"),
            );
        }
    };
    if !already && (amount <= 0 || amount > sale.total_fen - refunded) {
        return bad(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "`amount_fen` must be 1 to {} (the sale less what was refunded)",
                sale.total_fen - refunded
            ),
        );
    }
    let reason_sent = format!("{reason} (by {})", operator.name);
    match ctx
        .payments
        .refund(&order_id, &refund_id, amount, &reason_sent)
        .await
    {
        Ok(_) => {}
        Err(AttachError::Refused(why)) => return bad(StatusCode::CONFLICT, why),
        Err(AttachError::Unreachable(why)) => {
            return bad(StatusCode::SERVICE_UNAVAILABLE, why);
        }
    }
    let recorded = sqlx::query(
        "INSERT INTO sale_refunds (refund_id, order_id, amount_fen, operator, reason, at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (refund_id) DO NOTHING",
    )
    .bind(&refund_id)
    .bind(&order_id)
    .bind(amount)
    .bind(&operator.name)
    .bind(reason)
    .bind(Utc::now().to_rfc3339())
    .execute(ctx.db.pool())
    .await;
    if let Err(error) = recorded {
        tracing::warn!(%order_id, %refund_id, %error, "refund made but not recorded at the edge");
    }
    tracing::info!(%order_id, %refund_id, amount, operator = %operator.name, "sale refunded");
    let refunded = refunded_fen(&ctx, &order_id).await.unwrap_or(refunded);
    let mut view = order_view(&sale, refunded);
    view["refund_id"] = json!(refund_id);
    Json(view).into_response()
}

async fn refunded_fen(ctx: &EdgeContext, order_id: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COALESCE(SUM(amount_fen), 0) FROM sale_refunds WHERE order_id = $1")
        .bind(order_id)
        .fetch_one(ctx.db.pool())
        .await
}

/// `?limit=N` for the delivery history (default 50).
#[derive(Debug, Deserialize)]
pub struct HistoryQuery {
    pub limit: Option<i64>,
}

/// `GET /api/delivery/history` (operators): delivered orders, newest first, each with its
/// rider, address, promise and whether it was late.
pub async fn delivery_history(
    State(ctx): State<Arc<EdgeContext>>,
    _operator: Operator,
    Query(query): Query<HistoryQuery>,
) -> Response {
    let rows = sqlx::query(
        "SELECT state, updated_at FROM delivery_orders WHERE status = 'delivered' \
         ORDER BY updated_at DESC LIMIT $1",
    )
    .bind(query.limit.unwrap_or(50).clamp(1, MAX_ROWS))
    .fetch_all(ctx.db.pool())
    .await;
    let rows = match rows {
        Ok(rows) => rows,
        Err(error) => return bad(StatusCode::SERVICE_UNAVAILABLE, error.to_string()),
    };
    let orders: Vec<Value> = rows
        .iter()
        .filter_map(|row| {
            let open: OpenOrder = serde_json::from_str(&row.get::<String, _>(0)).ok()?;
            let delivered_at: String = row.get(1);
            let at = DateTime::parse_from_rfc3339(&delivered_at)
                .map(|t| t.with_timezone(&Utc))
                .ok();
            let rider = match &open.status {
                OrderStatus::Delivered { rider } => Some(rider.clone()),
                _ => None,
            };
            Some(json!({
                "order_id": open.order.order_id,
                "address": open.order.dropoff.address,
                "rider_id": rider,
                "promised_by": open.order.promised_by.to_rfc3339(),
                "delivered_at": delivered_at,
                "late": at.is_some_and(|at| at > open.order.promised_by),
            }))
        })
        .collect();
    Json(json!({ "orders": orders })).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wallets_are_masked_past_their_fourth_digit() {
        assert_eq!(mask_wallet("12345678"), "1234****");
        assert_eq!(mask_wallet("12"), "12****");
        assert_eq!(mask_wallet("钱包12345"), "钱包12****");
    }

    #[test]
    fn times_must_be_rfc3339() {
        assert!(parse_time("from", &Some("yesterday".into())).is_err());
        assert_eq!(parse_time("to", &None).unwrap(), "");
        assert_eq!(
            parse_time("from", &Some("2026-12-03T12:00:00.000Z".into())).unwrap(),
            "2026-12-03T12:00:00+00:00"
        );
    }
}
