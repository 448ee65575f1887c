//! Traceability fixtures: the resolver over HTTP (every test store's cloud consumes the trace
//! topics and serves it on `cloud_http_port`), and a raw MQTT publish (to deliver an event
//! twice, as a broker may).

use std::time::Duration;

use rumqttc::{AsyncClient, Event, MqttOptions, Outgoing, Packet, QoS};
use serde_json::Value;

use super::free_port;

/// GET `path` on the resolver as a browser would: status and HTML.
pub async fn page(port: u16, path: &str) -> (u16, String) {
    let response = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}{path}"))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// GET `path` on the resolver with `Accept: application/json`: status and JSON.
pub async fn json(port: u16, path: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}{path}"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The events of a resolver JSON answer.
pub fn events(document: &Value) -> Vec<Value> {
    document
        .pointer("/epcisBody/queryResults/resultsBody/eventList")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// Publishes `payload` once, QoS 1, and waits for the broker's PUBACK.
pub async fn publish(port: u16, topic: &str, payload: &Value) {
    let mut options =
        MqttOptions::new(format!("test-publisher-{}", free_port()), "127.0.0.1", port);
    options.set_max_packet_size(1 << 20, 1 << 20);
    let (client, mut eventloop) = AsyncClient::new(options, 10);
    client
        .publish(topic, QoS::AtLeastOnce, false, payload.to_string())
        .await
        .unwrap();
    let acked = tokio::time::timeout(Duration::from_secs(10), async {
        let mut sent = false;
        loop {
            match eventloop.poll().await {
                Ok(Event::Outgoing(Outgoing::Publish(_))) => sent = true,
                Ok(Event::Incoming(Packet::PubAck(_))) if sent => return,
                Ok(_) => {}
                Err(e) => panic!("publishing to the broker: {e}"),
            }
        }
    })
    .await;
    assert!(acked.is_ok(), "no PUBACK within 10 s");
    let _ = client.disconnect().await;
}
