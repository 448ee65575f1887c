//! The `delivery_orders` table's rows: writing a [`DeliveryOrder`] once (by its id) and reading
//! one back from a row selected with `select_orders!`.

use sqlx::Row;

use super::order::{DeliveryOrder, Progress};
use crate::error::ServiceError;

pub(super) async fn insert(
    conn: &mut sqlx::AnyConnection,
    o: &DeliveryOrder,
) -> Result<bool, ServiceError> {
    let done = sqlx::query(
        "INSERT INTO delivery_orders (order_id, store_id, wallet_id, source, status, lines, \
         purchase_order_id, dropoff_lat, dropoff_lon, address, distance_m, radius_m, amount_fen, \
         payment_id, placed_at, promised_by, refusal, forwarded_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, '', $15) \
         ON CONFLICT (order_id) DO NOTHING",
    )
    .bind(&o.order_id)
    .bind(&o.store_id)
    .bind(&o.wallet_id)
    .bind(&o.source)
    .bind(&o.status)
    .bind(serde_json::to_string(&o.lines).unwrap_or_else(|_| "[]".into()))
    .bind(&o.purchase_order_id)
    .bind(o.lat)
    .bind(o.lon)
    .bind(&o.address)
    .bind(i64::from(o.distance_m))
    .bind(i64::from(o.radius_m))
    .bind(o.amount_fen)
    .bind(&o.payment_id)
    .bind(&o.placed_at)
    .bind(&o.promised_by)
    .bind(&o.refusal)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) fn from_row(r: &sqlx::any::AnyRow) -> Result<DeliveryOrder, ServiceError> {
    let lines: String = r.get(5);
    Ok(DeliveryOrder {
        order_id: r.get(0),
        store_id: r.get(1),
        wallet_id: r.get(2),
        source: r.get(3),
        status: r.get(4),
        lines: serde_json::from_str(&lines).unwrap_or_default(),
        purchase_order_id: r.get(6),
        lat: r.get(7),
        lon: r.get(8),
        address: r.get(9),
        distance_m: u32::try_from(r.get::<i64, _>(10)).unwrap_or(0),
        radius_m: u32::try_from(r.get::<i64, _>(11)).unwrap_or(0),
        amount_fen: r.get(12),
        payment_id: r.get(13),
        placed_at: r.get(14),
        promised_by: r.get(15),
        refusal: r.get(16),
        progress: Progress {
            rider_id: r.get(17),
            eta: r.get(18),
            picked_up_at: r.get(19),
            delivered_at: r.get(20),
        },
    })
}
