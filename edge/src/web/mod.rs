//! The edge's web pages: operator sessions ([`auth`], rate-limited by [`limit`]) and their
//! login and logout ([`login`]), the operator dashboard and the shopper's lane screen
//! ([`pages`], with their HTML, CSS and JS from `edge/web/` compiled into the binary), the lane
//! screen's device credential ([`screen`]) and what the screen may do ([`screen_actions`]), and the exit pass QR ([`exit_pass`]); the
//! store-wide alert queue ([`alerts`]) and order look-up, refunds and delivery history
//! ([`orders`]) for the dashboard.
//!
//! Who may call each route of the edge (the full table is [`ROUTES`], also in
//! docs/CONTRACT-NOTES.md): "operator" is a session (cookie `omo_session` or
//! `Authorization: Bearer`), with the role named if one is needed; "screen N" is lane N's screen
//! cookie (`omo_screen`, set by the setup link); "rider" is a rider app's token (see
//! [`crate::rider_app`]); "anyone" needs nothing.

pub mod alerts;
pub mod auth;
pub mod exit_pass;
pub mod limit;
pub mod login;
pub mod orders;
pub mod pages;
pub mod screen;
pub mod screen_actions;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::{get, post};

pub use auth::{Operator, Sessions, demo_operators, hash_password};

use crate::context::EdgeContext;

/// Every route of the edge's HTTP port: `(method, path, who may call it, what it is)`.
pub const ROUTES: &[(&str, &str, &str, &str)] = &[
    ("GET", "/healthz", "anyone", "liveness and the database"),
    (
        "GET",
        "/metrics",
        "anyone",
        "Prometheus counters (no shopper data)",
    ),
    (
        "GET",
        "/api/store",
        "anyone",
        "the store's profile and catalog version",
    ),
    (
        "GET",
        "/api/lanes",
        "anyone",
        "lanes' public views (no exit pass, no wallet id)",
    ),
    ("GET", "/api/lanes/{id}", "anyone", "one lane's public view"),
    ("GET", "/api/devices", "anyone", "device health"),
    (
        "GET",
        "/api/events",
        "anyone",
        "live public lane views and device health (SSE)",
    ),
    ("GET", "/api/exits", "anyone", "exits' counters"),
    (
        "GET",
        "/api/sales",
        "operator",
        "recent sales with wallet ids (no exit pass)",
    ),
    ("GET", "/api/actions", "operator", "the audit trail"),
    (
        "GET",
        "/api/alerts",
        "operator",
        "every lane's open alerts, oldest first",
    ),
    (
        "POST",
        "/api/alerts/clear",
        "operator: attendant",
        "clear several alerts with one reason",
    ),
    (
        "GET",
        "/api/orders",
        "operator",
        "look up sales by order id, wallet or time (wallet masked)",
    ),
    (
        "POST",
        "/api/orders/{id}/refund",
        "operator: manager",
        "refund a lane sale through the cloud",
    ),
    (
        "GET",
        "/api/delivery/history",
        "operator",
        "delivered orders, newest first",
    ),
    (
        "POST",
        "/api/lanes/{id}/actions",
        "operator (role per command)",
        "an operator's command",
    ),
    (
        "GET",
        "/api/lanes/{id}/screen-setup",
        "operator: manager",
        "the lane screen's setup path",
    ),
    (
        "POST",
        "/api/delivery/orders",
        "operator",
        "place a delivery order by hand",
    ),
    (
        "GET",
        "/api/delivery/orders/{id}",
        "operator",
        "one delivery order (address)",
    ),
    (
        "GET",
        "/api/delivery/board",
        "operator",
        "the delivery board (addresses, riders)",
    ),
    (
        "GET",
        "/",
        "anyone",
        "the dashboard with a session, else the login page",
    ),
    ("GET", "/login", "anyone", "the login page"),
    (
        "POST",
        "/login",
        "anyone (rate-limited: 429)",
        "open a session",
    ),
    ("POST", "/logout", "anyone", "close the caller's session"),
    ("GET", "/api/session", "operator", "who is logged in"),
    (
        "GET",
        "/lanes/{id}/screen",
        "screen {id}, or ?setup=TOKEN",
        "the lane screen",
    ),
    (
        "GET",
        "/lanes/{id}/exit-pass.svg",
        "screen {id}",
        "the paid basket's exit pass QR",
    ),
    (
        "GET",
        "/lanes/{id}/exit-pass",
        "screen {id}",
        "the same pass as text (JSON)",
    ),
    (
        "POST",
        "/lanes/{id}/own-bag",
        "screen {id}, current basket, once",
        "allow an own bag",
    ),
    (
        "POST",
        "/lanes/{id}/delivery",
        "screen {id}, basket just paid",
        "deliver it home",
    ),
    (
        "GET",
        "/lanes/{id}/devices.js",
        "screen {id}, demo mode only (else 404)",
        "the devices panel's script",
    ),
    (
        "GET",
        "/lanes/{id}/devices",
        "screen {id}, demo mode only (else 404)",
        "products, demo wallets, the simulated devices",
    ),
    (
        "POST",
        "/lanes/{id}/devices",
        "screen {id}, demo mode only (else 404)",
        "scan, weigh, bag, pay, pass with the simulated devices",
    ),
    ("GET", "/assets/{file}", "anyone", "the pages' CSS and JS"),
    (
        "GET",
        "/rider/",
        "anyone",
        "the rider's web app (edge/web/rider.*)",
    ),
    (
        "POST",
        "/rider/api/login",
        "anyone (rate-limited)",
        "a rider signs in with the broker's credentials (see crate::rider_app)",
    ),
    (
        "GET",
        "/rider/api/messages",
        "rider",
        "the rider's own dispatch offers (long poll; acknowledges what the phone holds)",
    ),
    (
        "POST",
        "/rider/api/events",
        "rider",
        "accepted, picked up, delivered, location, as the rider",
    ),
    (
        "POST",
        "/rider/api/logout",
        "rider",
        "ends the rider's web session",
    ),
];

/// What the HTTP handlers share: the edge and the operators' sessions.
#[derive(Clone)]
pub struct AppState {
    pub ctx: Arc<EdgeContext>,
    pub sessions: Arc<Sessions>,
}

impl AppState {
    pub fn new(ctx: Arc<EdgeContext>) -> AppState {
        let sessions = ctx.sessions.clone();
        AppState { ctx, sessions }
    }
}

impl FromRef<AppState> for Arc<EdgeContext> {
    fn from_ref(state: &AppState) -> Self {
        state.ctx.clone()
    }
}

impl FromRef<AppState> for Arc<Sessions> {
    fn from_ref(state: &AppState) -> Self {
        state.sessions.clone()
    }
}

/// The pages' routes (the JSON API is in [`crate::api`]).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::dashboard))
        .route("/login", get(pages::login).post(login::login))
        .route("/logout", post(login::logout))
        .route("/api/session", get(login::whoami))
        .route("/api/lanes/{id}/screen-setup", get(screen_actions::setup))
        .route("/lanes/{id}/screen", get(screen_actions::page))
        .route("/lanes/{id}/exit-pass.svg", get(exit_pass::svg))
        .route("/lanes/{id}/exit-pass", get(exit_pass::text))
        .route("/lanes/{id}/own-bag", post(screen_actions::own_bag))
        .route("/lanes/{id}/delivery", post(screen_actions::deliver_home))
        .route("/assets/{file}", get(pages::asset))
        .route("/api/alerts", get(alerts::list))
        .route("/api/alerts/clear", post(alerts::clear))
        .route("/api/orders", get(orders::lookup))
        .route("/api/orders/{id}/refund", post(orders::refund))
        .route("/api/delivery/history", get(orders::delivery_history))
}
