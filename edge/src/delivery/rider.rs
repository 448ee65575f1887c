//! The rider's client: what `omo rider --id ID` runs, and the simulated riders of `omo up`.
//!
//! It connects with the rider's credentials (user name = rider id, so the broker's ACL pattern
//! `omo/v1/riders/%u/dispatch` lets it read its own assignments only), keeps a persistent session,
//! subscribes to its dispatch topic, accepts each new assignment (repeats dropped by `id`), and
//! reports on its events topic. With `simulate`, it rides: to the store, `picked_up` for what it
//! carries, then each drop-off nearest first, `delivered`, reporting `location` as it goes. A
//! message with `"type":"cancelled"` on the dispatch topic withdraws an assignment: the rider
//! drops it (and `omo rider` prints it like an assignment).

use std::collections::HashSet;
use std::time::Duration;

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::geo::{self, Position};
use crate::epcis::rfc3339;
use crate::outbox::parse_mqtt_url;
use crate::topics::{rider_dispatch, rider_events};

/// How a rider behaves.
#[derive(Debug, Clone)]
pub struct RiderOptions {
    pub id: String,
    /// `mqtt://host:port`.
    pub mqtt_url: String,
    /// The rider's broker password (user name is the rider id).
    pub password: Option<String>,
    /// Where the rider starts.
    pub start: Position,
    /// Simulated speed, metres per second.
    pub speed_mps: f64,
    /// Ride to pickup and drop-off, reporting progress (otherwise only accept and report location).
    pub simulate: bool,
    /// Accept assignments (false: a rider who never answers, for tests and drills).
    pub accept: bool,
    /// How often to move and report location.
    pub step: Duration,
}

impl RiderOptions {
    pub fn new(id: &str, mqtt_url: &str, start: Position) -> RiderOptions {
        RiderOptions {
            id: id.to_string(),
            mqtt_url: mqtt_url.to_string(),
            password: None,
            start,
            speed_mps: 6.0,
            simulate: true,
            accept: true,
            step: Duration::from_secs(1),
        }
    }
}

/// Errors that stop a rider.
#[derive(Debug, thiserror::Error)]
pub enum RiderError {
    #[error(transparent)]
    Mqtt(#[from] crate::outbox::MqttSettingsError),
    #[error(
        "rider id {0:?} must be non-empty letters, digits, '-' or '_' (it is part of MQTT topics)"
    )]
    BadId(String),
}

/// A job the rider carries.
#[derive(Debug, Clone)]
struct Job {
    order_id: String,
    pickup: Position,
    dropoff: Position,
    picked_up: bool,
}

/// Runs one rider until `cancel`. Each new assignment is also sent on `assignments`, if given
/// (the CLI prints them as JSON lines).
pub async fn run_rider(
    options: RiderOptions,
    assignments: Option<mpsc::UnboundedSender<Value>>,
    cancel: CancellationToken,
) -> Result<(), RiderError> {
    if options.id.is_empty()
        || !options
            .id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(RiderError::BadId(options.id));
    }
    let (host, port) = parse_mqtt_url(&options.mqtt_url)?;
    let mut mqtt = MqttOptions::new(format!("omo-rider-{}", options.id), host, port);
    mqtt.set_clean_session(false);
    mqtt.set_keep_alive(Duration::from_secs(10));
    if let Some(password) = &options.password {
        mqtt.set_credentials(&options.id, password);
    }
    let (client, mut eventloop) = AsyncClient::new(mqtt, 64);
    let (incoming_tx, mut incoming) = mpsc::unbounded_channel::<Value>();
    let (connected_tx, mut connected) = mpsc::unbounded_channel::<()>();
    let dispatch_topic = rider_dispatch(&options.id);
    let loop_cancel = cancel.clone();
    let driver = tokio::spawn(async move {
        loop {
            let event = tokio::select! {
                _ = loop_cancel.cancelled() => break,
                event = eventloop.poll() => event,
            };
            match event {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    let _ = connected_tx.send(());
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    if let Ok(value) = serde_json::from_slice::<Value>(&p.payload) {
                        let _ = incoming_tx.send(value);
                    }
                }
                Ok(_) => {}
                Err(error) => {
                    debug!(%error, "rider: broker not reachable; retrying");
                    tokio::select! {
                        _ = loop_cancel.cancelled() => break,
                        _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    }
                }
            }
        }
    });

    let mut rider = RiderState {
        options,
        client: client.clone(),
        position: Position::new(0.0, 0.0),
        jobs: Vec::new(),
        seen: HashSet::new(),
    };
    rider.position = rider.options.start;
    let mut step = tokio::time::interval(rider.options.step);
    step.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => break,
            Some(()) = connected.recv() => {
                if let Err(error) = client.subscribe(dispatch_topic.clone(), QoS::AtLeastOnce).await {
                    warn!(%error, "rider cannot subscribe");
                }
                rider.report(json!({ "event": "location", "lat": rider.position.lat, "lon": rider.position.lon })).await;
            }
            Some(value) = incoming.recv() => {
                if rider.take(&value).await && let Some(tx) = &assignments {
                    let _ = tx.send(value);
                }
            }
            _ = step.tick() => rider.ride().await,
        }
    }
    let _ = client.disconnect().await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    driver.abort();
    Ok(())
}

struct RiderState {
    options: RiderOptions,
    client: AsyncClient,
    position: Position,
    jobs: Vec<Job>,
    seen: HashSet<String>,
}

impl RiderState {
    /// Publishes one event (`report` gets the rider id, a unique id and the time).
    async fn report(&self, mut report: Value) {
        report["id"] = json!(uuid::Uuid::now_v7().to_string());
        report["rider_id"] = json!(self.options.id);
        report["at"] = json!(rfc3339(chrono::Utc::now()));
        if let Err(error) = self
            .client
            .publish(
                rider_events(&self.options.id),
                QoS::AtLeastOnce,
                false,
                report.to_string(),
            )
            .await
        {
            warn!(%error, "rider cannot report");
        }
    }

    /// A new assignment: accept it (unless told not to); a cancellation: drop the job. False for
    /// repeats and unreadable ones.
    async fn take(&mut self, value: &Value) -> bool {
        let (Some(id), Some(order_id)) = (value["id"].as_str(), value["order_id"].as_str()) else {
            warn!(%value, "unreadable assignment");
            return false;
        };
        if !self.seen.insert(id.to_string()) {
            return false;
        }
        if value["type"] == "cancelled" {
            // The store withdrew it (refunded before it was accepted): do not ride for it.
            self.jobs.retain(|j| j.order_id != order_id);
            warn!(rider = %self.options.id, order = %order_id, reason = %value["reason"], "assignment cancelled");
            return true;
        }
        info!(rider = %self.options.id, order = %order_id, "assignment received");
        if !self.options.accept {
            return true;
        }
        let position = |v: &Value| {
            Position::new(
                v["lat"].as_f64().unwrap_or(f64::NAN),
                v["lon"].as_f64().unwrap_or(f64::NAN),
            )
        };
        let (pickup, dropoff) = (position(&value["pickup"]), position(&value["dropoff"]));
        self.report(json!({ "event": "accepted", "order_id": order_id }))
            .await;
        if self.options.simulate && pickup.is_valid() && dropoff.is_valid() {
            self.jobs.push(Job {
                order_id: order_id.to_string(),
                pickup,
                dropoff,
                picked_up: false,
            });
        }
        true
    }

    /// One step of the simulated ride.
    async fn ride(&mut self) {
        let metres = self.options.speed_mps * self.options.step.as_secs_f64();
        let target = if let Some(job) = self.jobs.iter().find(|j| !j.picked_up) {
            Some((job.pickup, true))
        } else {
            self.jobs
                .iter()
                .min_by(|a, b| {
                    geo::distance_m(self.position, a.dropoff)
                        .total_cmp(&geo::distance_m(self.position, b.dropoff))
                })
                .map(|j| (j.dropoff, false))
        };
        if let Some((to, pickup)) = target {
            self.position = geo::step_toward(self.position, to, metres);
            if self.position == to {
                if pickup {
                    for job in self
                        .jobs
                        .iter_mut()
                        .filter(|j| !j.picked_up && j.pickup == to)
                    {
                        job.picked_up = true;
                    }
                    let ids: Vec<String> = self
                        .jobs
                        .iter()
                        .filter(|j| j.pickup == to)
                        .map(|j| j.order_id.clone())
                        .collect();
                    for id in ids {
                        self.report(json!({ "event": "picked_up", "order_id": id }))
                            .await;
                    }
                } else {
                    let done: Vec<String> = self
                        .jobs
                        .iter()
                        .filter(|j| j.picked_up && j.dropoff == to)
                        .map(|j| j.order_id.clone())
                        .collect();
                    self.jobs.retain(|j| !(j.picked_up && j.dropoff == to));
                    for id in done {
                        info!(rider = %self.options.id, order = %id, "delivered");
                        self.report(json!({ "event": "delivered", "order_id": id }))
                            .await;
                    }
                }
            }
        }
        self.report(
            json!({ "event": "location", "lat": self.position.lat, "lon": self.position.lon }),
        )
        .await;
    }
}

/// Runs `count` simulated riders (`rider-1` ... `rider-N`) around `store` until `cancel`: what
/// `omo up` runs so dispatch is always alive. `password_for` gives each rider's broker password
/// (None for a broker without authentication).
pub async fn run_simulated_riders(
    mqtt_url: String,
    store: Position,
    count: usize,
    speed_mps: f64,
    password_for: impl Fn(&str) -> Option<String>,
    cancel: CancellationToken,
) {
    let tasks = tokio_util::task::TaskTracker::new();
    for n in 1..=count {
        let id = format!("rider-{n}");
        // Spread around the store, 200 m to 2 km out.
        let bearing = (n as f64 * 137.508) % 360.0;
        let metres = 200.0 + (n as f64 * 613.0) % 1_800.0;
        let mut options =
            RiderOptions::new(&id, &mqtt_url, geo::destination(store, bearing, metres));
        options.password = password_for(&id);
        options.speed_mps = speed_mps;
        let cancel = cancel.clone();
        tasks.spawn(async move {
            if let Err(error) = run_rider(options, None, cancel).await {
                warn!(rider = %id, %error, "simulated rider stopped");
            }
        });
    }
    tasks.close();
    tasks.wait().await;
}
