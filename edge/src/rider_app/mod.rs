//! The rider's web app, served by the edge at `/rider/` (`edge/web/rider.*`, with the edge's
//! page headers and assets, see [`crate::web::pages`]), and the
//! authenticated HTTP bridge it talks to: each signed-in rider is an MQTT session of its own on
//! the store's broker, as the rider ([`session`]), so riders keep receiving over MQTT as the
//! contract says and the broker's ACL decides what each one sees.
//!
//! | route | who | what |
//! | --- | --- | --- |
//! | `GET /rider/` (its files under `/assets/`) | anyone | the app's page |
//! | `POST /rider/api/login` | anyone (rate-limited per IP and rider id) | `{rider_id, password}`: the broker checks them; a session token |
//! | `GET /rider/api/messages?after=N` | the rider's token | dispatch offers and cancellations after `N` (long poll, 20 s); everything up to `N` is acknowledged to the broker |
//! | `POST /rider/api/events` | the rider's token | `{id, event, order_id?, lat?, lon?}` published on the rider's events topic; answered after the broker's PUBACK |
//! | `POST /rider/api/logout` | the rider's token | ends the session |
//!
//! The token (`Authorization: Bearer`, 32 random bytes) lives in the edge's memory only; no
//! cookie, so no other site can act for a rider. A rider's identity is only as strong as the
//! broker's authentication: on a broker that takes anyone (a demo), anyone may sign in as any
//! rider, as they could over MQTT.

pub mod session;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::Router;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use self::session::{LoginError, RiderSession};
use crate::web::limit::{LoginLimiter, keys};

/// At most this many riders signed in at once on one edge.
const MAX_SESSIONS: usize = 500;
/// A session nobody polled for this long is ended (the broker keeps queuing for the rider).
const IDLE: Duration = Duration::from_secs(10 * 60);
/// How long a poll for messages waits for one.
const LONG_POLL: Duration = Duration::from_secs(20);

/// The riders signed in at this edge.
pub struct RiderApp {
    host: String,
    port: u16,
    sessions: Mutex<HashMap<String, Arc<RiderSession>>>,
    limiter: LoginLimiter,
    shutdown: CancellationToken,
}

impl RiderApp {
    /// Riders connect to the broker at `mqtt_url` (the edge's own).
    pub fn new(
        mqtt_url: &str,
        shutdown: CancellationToken,
    ) -> Result<Arc<RiderApp>, crate::outbox::MqttSettingsError> {
        let (host, port) = crate::outbox::parse_mqtt_url(mqtt_url)?;
        Ok(Arc::new(RiderApp {
            host,
            port,
            sessions: Mutex::new(HashMap::new()),
            limiter: LoginLimiter::default(),
            shutdown,
        }))
    }

    fn session(&self, headers: &HeaderMap) -> Option<Arc<RiderSession>> {
        let token = headers
            .get(header::AUTHORIZATION)?
            .to_str()
            .ok()?
            .strip_prefix("Bearer ")?
            .trim();
        self.sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(token)
            .cloned()
    }

    /// Ends the sessions nobody polled for [`IDLE`].
    fn expire(&self) {
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        sessions.retain(|_, s| {
            let alive = s
                .last_seen
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .elapsed()
                < IDLE;
            if !alive {
                s.close();
            }
            alive
        });
    }
}

/// `/rider/`, its files and its API.
pub fn routes(app: Arc<RiderApp>) -> Router {
    Router::new()
        .route(
            "/rider",
            get(|| async { axum::response::Redirect::permanent("/rider/") }),
        )
        .route("/rider/", get(crate::web::pages::rider))
        .route("/rider/api/login", post(login))
        .route("/rider/api/logout", post(logout))
        .route("/rider/api/messages", get(messages))
        .route("/rider/api/events", post(events))
        .with_state(app)
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

#[derive(Deserialize)]
struct Login {
    rider_id: String,
    password: String,
}

fn valid_rider_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

async fn login(
    State(app): State<Arc<RiderApp>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Json(login): Json<Login>,
) -> Response {
    if !valid_rider_id(&login.rider_id) {
        return error(
            StatusCode::BAD_REQUEST,
            "a rider id is letters, digits, '-' or '_'",
        );
    }
    let keys = keys(Some(client.ip()), &format!("rider:{}", login.rider_id));
    if let Some(wait) = app.limiter.locked(&keys) {
        let mut response = error(
            StatusCode::TOO_MANY_REQUESTS,
            "too many failed sign-ins; wait",
        );
        if let Ok(value) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    app.expire();
    if app.sessions.lock().unwrap_or_else(|e| e.into_inner()).len() >= MAX_SESSIONS {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "too many riders signed in here",
        );
    }
    let stop = app.shutdown.child_token();
    match RiderSession::connect(&app.host, app.port, &login.rider_id, &login.password, stop).await {
        Ok(session) => {
            app.limiter.succeeded(&keys);
            let token = data_encoding::HEXLOWER.encode(&rand::random::<[u8; 32]>());
            let mut sessions = app.sessions.lock().unwrap_or_else(|e| e.into_inner());
            // One web session per rider: a new sign-in replaces the old one.
            sessions.retain(|_, s| {
                let same = s.rider_id == login.rider_id;
                if same {
                    s.close();
                }
                !same
            });
            sessions.insert(token.clone(), session);
            tracing::info!(rider = %login.rider_id, "rider signed in to the rider app");
            Json(json!({ "token": token, "rider_id": login.rider_id })).into_response()
        }
        Err(LoginError::Refused) => {
            app.limiter.failed(&keys);
            error(StatusCode::UNAUTHORIZED, "wrong rider id or password")
        }
        Err(LoginError::Unreachable(why)) => {
            tracing::warn!(%why, "rider app: the broker cannot be reached");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the dispatch service cannot be reached; try again",
            )
        }
    }
}

async fn logout(State(app): State<Arc<RiderApp>>, headers: HeaderMap) -> Response {
    let Some(session) = app.session(&headers) else {
        return error(StatusCode::UNAUTHORIZED, "not signed in");
    };
    session.close();
    app.sessions
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|_, s| !Arc::ptr_eq(s, &session));
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct After {
    #[serde(default)]
    after: u64,
}

async fn messages(
    State(app): State<Arc<RiderApp>>,
    headers: HeaderMap,
    Query(after): Query<After>,
) -> Response {
    let Some(session) = app.session(&headers) else {
        return error(StatusCode::UNAUTHORIZED, "not signed in");
    };
    let messages: Vec<Value> = session
        .messages(after.after, LONG_POLL)
        .await
        .into_iter()
        .map(|(seq, message)| json!({ "seq": seq, "message": message }))
        .collect();
    Json(json!({ "messages": messages, "connected": session.connected() })).into_response()
}

/// The events a rider's phone may report, and what each must carry.
fn event_of(rider_id: &str, body: &Value) -> Result<Value, &'static str> {
    let id = body["id"]
        .as_str()
        .filter(|s| !s.is_empty() && s.len() <= 64)
        .ok_or("an event needs an id")?;
    let kind = body["event"].as_str().unwrap_or_default();
    let mut event = json!({
        "id": id, "rider_id": rider_id, "event": kind,
        "at": crate::epcis::rfc3339(chrono::Utc::now()),
    });
    match kind {
        "accepted" | "picked_up" | "delivered" => {
            let order = body["order_id"]
                .as_str()
                .filter(|s| !s.is_empty() && s.len() <= 128)
                .ok_or("an order id is needed")?;
            event["order_id"] = json!(order);
        }
        "location" => {
            let (lat, lon) = (body["lat"].as_f64(), body["lon"].as_f64());
            let position = crate::delivery::geo::Position::new(
                lat.unwrap_or(f64::NAN),
                lon.unwrap_or(f64::NAN),
            );
            if !position.is_valid() {
                return Err("a location needs lat and lon on earth");
            }
            event["lat"] = json!(position.lat);
            event["lon"] = json!(position.lon);
        }
        _ => return Err("event must be accepted, picked_up, delivered or location"),
    }
    Ok(event)
}

async fn events(
    State(app): State<Arc<RiderApp>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let Some(session) = app.session(&headers) else {
        return error(StatusCode::UNAUTHORIZED, "not signed in");
    };
    *session.last_seen.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    let event = match event_of(&session.rider_id, &body) {
        Ok(event) => event,
        Err(why) => return error(StatusCode::BAD_REQUEST, why),
    };
    match session.report(&event).await {
        Ok(()) => Json(json!({ "ok": true })).into_response(),
        Err(why) => error(StatusCode::SERVICE_UNAVAILABLE, why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_carry_what_they_need_and_only_the_riders_id() {
        let e = event_of(
            "rider-1",
            &json!({"id": "e1", "event": "accepted", "order_id": "A1", "rider_id": "rider-2"}),
        )
        .unwrap();
        assert_eq!(
            e["rider_id"], "rider-1",
            "the session's rider, never the body's"
        );
        assert_eq!(e["order_id"], "A1");
        assert!(event_of("r", &json!({"id": "e", "event": "accepted"})).is_err());
        assert!(event_of("r", &json!({"event": "location", "lat": 1.0, "lon": 2.0})).is_err());
        assert!(
            event_of(
                "r",
                &json!({"id": "e", "event": "location", "lat": 91.0, "lon": 2.0})
            )
            .is_err()
        );
        assert!(
            event_of(
                "r",
                &json!({"id": "e", "event": "cancelled", "order_id": "A"})
            )
            .is_err()
        );
        let l = event_of(
            "r",
            &json!({"id": "e", "event": "location", "lat": 31.2, "lon": 121.4}),
        )
        .unwrap();
        assert_eq!(l["lat"], 31.2);
        assert!(!valid_rider_id("a/b") && !valid_rider_id("") && valid_rider_id("rider-9"));
    }
}
