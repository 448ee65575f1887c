//! Device health: a scanner's, scale's, camera's or gate's state, recorded on the board and
//! published, retained, on its MQTT topic (`topics::device_state`). Lanes and exits both report
//! through here.

use std::time::Duration;

use omo_devices::health::DeviceHealth;
use serde_json::json;
use tracing::warn;

use crate::context::EdgeContext;
use crate::db::OutboxMessage;
use crate::topics;

/// Records a device's health: on the board and, retained, on its MQTT topic.
pub async fn publish_health(ctx: &EdgeContext, health: DeviceHealth) {
    let store_id = &ctx.config.store_id;
    let id = uuid::Uuid::now_v7().to_string();
    let mut payload = serde_json::to_value(&health).unwrap_or_default();
    payload["id"] = json!(id);
    payload["store_id"] = json!(store_id);
    let message = OutboxMessage {
        id,
        topic: topics::device_state(store_id, &health.device),
        payload: payload.to_string().into_bytes(),
        retain: true,
    };
    ctx.board.set_device(health);
    let mut delay = Duration::from_millis(100);
    for _ in 0..5 {
        match ctx.db.enqueue(std::slice::from_ref(&message)).await {
            Ok(()) => {
                ctx.outbox.wake();
                return;
            }
            Err(error) => {
                warn!(%error, "cannot queue device health; retrying");
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
        }
    }
}
