//! Delivery orders and riders as the edge's SQLite holds them (`delivery_orders`,
//! `delivery_riders`): each order's whole state as JSON beside the columns it is found by.

use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::db::DbError;
use crate::delivery::DeliveryHost;
use crate::delivery::dispatch::{OpenOrder, Rider};
use crate::delivery::geo::Position;
use crate::epcis::rfc3339;

/// One order as stored.
pub async fn load_order(
    host: &impl DeliveryHost,
    order_id: &str,
) -> Result<Option<OpenOrder>, DbError> {
    let row = sqlx::query("SELECT state FROM delivery_orders WHERE order_id = $1")
        .bind(order_id)
        .fetch_optional(host.db().pool())
        .await?;
    row.map(|r| Ok(serde_json::from_str(&r.get::<String, _>(0))?))
        .transpose()
}

/// Orders not yet delivered.
pub async fn open_orders(host: &impl DeliveryHost) -> Result<Vec<OpenOrder>, DbError> {
    let rows = sqlx::query(
        "SELECT state FROM delivery_orders WHERE status NOT IN ('delivered', 'cancelled') ORDER BY promised_by",
    )
    .fetch_all(host.db().pool())
    .await?;
    rows.into_iter()
        .map(|r| Ok(serde_json::from_str(&r.get::<String, _>(0))?))
        .collect()
}

/// Riders as last heard from.
pub async fn riders(host: &impl DeliveryHost) -> Result<Vec<Rider>, DbError> {
    let rows = sqlx::query("SELECT rider_id, lat, lon, last_seen FROM delivery_riders")
        .fetch_all(host.db().pool())
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| Rider {
            id: r.get(0),
            position: Position::new(r.get(1), r.get(2)),
            last_seen: parse_time(&r.get::<String, _>(3)),
        })
        .collect())
}

/// Upserts an order; true if it was new.
pub(super) async fn save_order(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    open: &OpenOrder,
    now: DateTime<Utc>,
    only_if_new: bool,
) -> Result<bool, DbError> {
    let state = serde_json::to_string(open)?;
    let sql = if only_if_new {
        "INSERT INTO delivery_orders (order_id, status, rider_id, promised_by, state, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (order_id) DO NOTHING"
    } else {
        "INSERT INTO delivery_orders (order_id, status, rider_id, promised_by, state, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6)
         ON CONFLICT (order_id) DO UPDATE SET status = excluded.status, rider_id = excluded.rider_id,
         state = excluded.state, updated_at = excluded.updated_at"
    };
    let done = sqlx::query(sql)
        .bind(&open.order.order_id)
        .bind(open.status.name())
        .bind(open.status.rider())
        .bind(rfc3339(open.order.promised_by))
        .bind(state)
        .bind(rfc3339(now))
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

fn parse_time(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}
