//! What operators see: the delivery board (open orders, late and nearly late first, and the
//! riders as last heard from) and one order's view, as the HTTP API returns them.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::records::{open_orders, riders};
use crate::db::DbError;
use crate::delivery::DeliveryHost;
use crate::delivery::dispatch::OpenOrder;
use crate::delivery::order::{DeliveryOrder, round_m};
use crate::epcis::rfc3339;

/// The delivery board: open orders, late and nearly late first.
pub async fn board(host: &impl DeliveryHost, now: DateTime<Utc>) -> Result<Value, DbError> {
    let mut orders = open_orders(host).await?;
    orders.sort_by_key(|o| o.order.promised_by);
    let rows: Vec<Value> = orders
        .iter()
        .map(|o| {
            let left = (o.order.promised_by - now).num_seconds();
            json!({
                "order_id": o.order.order_id,
                "status": o.status.name(),
                "rider_id": o.status.rider(),
                "address": o.order.dropoff.address,
                "distance_m": round_m(o.order.distance_m),
                "promised_by": rfc3339(o.order.promised_by),
                "seconds_left": left,
                "late": left < 0,
                "at_risk": o.warned,
                "offers_lapsed": o.lapsed.len(),
            })
        })
        .collect();
    let riders: Vec<Value> = riders(host)
        .await?
        .into_iter()
        .map(|r| json!({"rider_id": r.id, "lat": r.position.lat, "lon": r.position.lon, "last_seen": rfc3339(r.last_seen)}))
        .collect();
    Ok(json!({
        "store_id": host.edge_config().store_id,
        "at": rfc3339(now),
        "late": rows.iter().filter(|r| r["late"] == true).count(),
        "orders": rows,
        "riders": riders,
    }))
}

/// The order's JSON as the HTTP API returns it.
pub fn order_view(open: &OpenOrder) -> Value {
    let order: &DeliveryOrder = &open.order;
    let mut view = order.order_payload(&order.order_id);
    if let Some(map) = view.as_object_mut() {
        map.remove("id");
        map.insert("status".into(), json!(open.status.name()));
        map.insert("rider_id".into(), json!(open.status.rider()));
        map.insert("offers_lapsed".into(), json!(open.lapsed));
        map.insert("at_risk".into(), json!(open.warned));
    }
    view
}
