//! The embedded MQTT broker (rumqttd) that `omo up` and `omo broker` run, so a store on one
//! machine needs nothing installed. rumqttd's `start` blocks and has no shutdown: it runs on a
//! thread of its own and ends with the process.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;

use crate::UsageError;
use crate::cli::BrokerArgs;

/// Starts the broker on `listen` and waits until it accepts connections.
pub async fn start(listen: SocketAddr) -> anyhow::Result<()> {
    let config = config_toml(listen);
    let config: rumqttd::Config = toml::from_str(&config).context("embedded broker config")?;
    std::thread::Builder::new()
        .name("mqtt-broker".into())
        .spawn(move || {
            let mut broker = rumqttd::Broker::new(config);
            if let Err(error) = broker.start() {
                tracing::error!(%error, "the embedded MQTT broker stopped");
            }
        })
        .context("cannot start the broker thread")?;
    for _ in 0..100 {
        if mqtt_answers(listen).await {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!(
        "the embedded MQTT broker did not start listening on {listen} (is the port taken?)"
    )
}

/// Whether an MQTT client can connect (a CONNACK within a second).
async fn mqtt_answers(addr: SocketAddr) -> bool {
    use rumqttc::{AsyncClient, Event, MqttOptions, Packet};
    let options = MqttOptions::new(
        format!("omo-probe-{}", std::process::id()),
        addr.ip().to_string(),
        addr.port(),
    );
    let (client, mut eventloop) = AsyncClient::new(options, 1);
    let connected = tokio::time::timeout(Duration::from_secs(1), async {
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => return true,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
    })
    .await
    .unwrap_or(false);
    if connected {
        let _ = client.disconnect().await;
        let _ = tokio::time::timeout(Duration::from_millis(200), eventloop.poll()).await;
    }
    connected
}

/// `omo broker`: the embedded broker alone, until Ctrl-C.
pub async fn run_cli(args: BrokerArgs) -> anyhow::Result<()> {
    let listen: SocketAddr = args
        .listen
        .parse()
        .map_err(|e| UsageError(format!("--listen {:?}: {e}", args.listen)))?;
    start(listen).await?;
    println!("MQTT broker listening on {listen}");
    tokio::signal::ctrl_c().await?;
    Ok(())
}

/// rumqttd's settings: MQTT 3.1.1 on `listen`, generous limits for a store.
fn config_toml(listen: SocketAddr) -> String {
    format!(
        r#"
id = 0

[router]
id = 0
max_connections = 1024
max_outgoing_packet_count = 1000
max_segment_size = 104857600
max_segment_count = 10

[v4.1]
name = "v4-1"
listen = "{listen}"
next_connection_delay_ms = 1
    [v4.1.connections]
    connection_timeout_ms = 60000
    max_payload_size = 1048576
    max_inflight_count = 500
    dynamic_filters = true
"#
    )
}
