//! The MQTT consumer of every store's trace topic (`omo/v1/stores/+/trace`).
//!
//! A persistent session ([`crate::mqtt::Session`]: QoS 1, manual acknowledgements) hands each
//! publish to this worker; it stores the event ([`TraceStore::record`], idempotent by `eventID`) and only then
//! acknowledges it. A crash between commit and PUBACK makes the broker redeliver: the repeat is
//! dropped by its `eventID`. A message that is not an EPCIS event is logged and acknowledged (it
//! would never become one); a database error is retried until it succeeds or the cloud stops.

use std::time::Duration;

use omo_contract::topics::{self, Topic};
use rumqttc::Publish;
use tokio_util::sync::CancellationToken;

use super::store::{TraceError, TraceStore};
use crate::metrics::Metrics;
use crate::mqtt::Session;

/// The store a trace topic belongs to (`omo/v1/stores/{store}/trace`).
fn store_of(topic: &str) -> Option<&str> {
    match topics::parse(topic)? {
        Topic::Trace { store } => Some(store),
        _ => None,
    }
}

/// The consumer the cloud's config asks for (`mqtt_url`), until `stop`; returns at once when the
/// config names no broker.
pub async fn run_configured(ctx: crate::context::Context, stop: CancellationToken) {
    let Some(url) = ctx.config.mqtt_url.clone() else {
        tracing::info!("no mqtt_url configured: the trace consumer does not run");
        return;
    };
    let mut session =
        match Session::start(&ctx, &url, "trace", &[topics::EVERY_TRACE], stop.clone()) {
            Ok(session) => session,
            Err(error) => {
                tracing::error!(%error, "the trace consumer cannot run");
                return;
            }
        };
    let trace = TraceStore::new(ctx.db.clone());
    loop {
        let message = tokio::select! {
            _ = stop.cancelled() => break,
            message = session.incoming.recv() => match message { Some(m) => m, None => break },
        };
        if !store_publish(&trace, &ctx.metrics, &message.publish, &stop).await {
            break;
        }
        session.ack(&message).await;
    }
    session.close().await;
}

/// Stores one publish; false only if `stop` came while the database was failing.
async fn store_publish(
    trace: &TraceStore,
    metrics: &Metrics,
    publish: &Publish,
    stop: &CancellationToken,
) -> bool {
    let Some(store_id) = store_of(&publish.topic) else {
        tracing::warn!(topic = %publish.topic, "message on an unexpected topic; dropped");
        return true;
    };
    let event: serde_json::Value = match serde_json::from_slice(&publish.payload) {
        Ok(event) => event,
        Err(error) => {
            tracing::warn!(store = store_id, %error, "trace message is not JSON; dropped");
            return true;
        }
    };
    loop {
        match trace.record(store_id, &event).await {
            Ok(true) => {
                metrics.trace_event(true);
                tracing::debug!(store = store_id, event_id = %event["eventID"], "trace event stored");
                return true;
            }
            Ok(false) => {
                metrics.trace_event(false);
                tracing::debug!(store = store_id, event_id = %event["eventID"], "repeated trace event dropped");
                return true;
            }
            Err(TraceError::NotAnEvent(why)) => {
                tracing::warn!(
                    store = store_id,
                    why,
                    "trace message is not an EPCIS event; dropped"
                );
                return true;
            }
            Err(error) => {
                tracing::warn!(store = store_id, %error, "cannot store a trace event; retrying");
                tokio::select! {
                    _ = stop.cancelled() => return false,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_name_their_store() {
        assert_eq!(store_of("omo/v1/stores/SH-1/trace"), Some("SH-1"));
        assert_eq!(store_of("omo/v1/stores//trace"), None);
        assert_eq!(store_of("omo/v1/stores/a/b/trace"), None);
    }
}
