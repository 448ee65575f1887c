//! The edge's web pages: operator login and sessions ([`auth`]), the operator dashboard and the
//! shopper's lane screen ([`pages`], with their HTML, CSS and JS from `edge/web/` compiled into
//! the binary), and the exit pass QR ([`exit_pass`]).
//!
//! | route | who | what |
//! | --- | --- | --- |
//! | `GET /` | operators | the dashboard, or the login page without a session |
//! | `POST /login`, `POST /logout` | operators | open and close a session |
//! | `GET /api/session` | operators | who is logged in (401 if nobody) |
//! | `GET /lanes/{id}/screen` | shoppers | the lane's screen (no login) |
//! | `GET /lanes/{id}/exit-pass.svg` | shoppers | the paid basket's exit pass as a QR (404 if none) |
//! | `GET /assets/{file}` | both | the pages' CSS and JS |

pub mod auth;
pub mod exit_pass;
pub mod pages;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::{get, post};

pub use auth::{Operator, Sessions, demo_operators, hash_password};

use crate::context::EdgeContext;

/// What the HTTP handlers share: the edge, and the operators' sessions.
#[derive(Clone)]
pub struct AppState {
    pub ctx: Arc<EdgeContext>,
    pub sessions: Arc<Sessions>,
}

impl AppState {
    pub fn new(ctx: Arc<EdgeContext>) -> AppState {
        let sessions = Arc::new(Sessions::new(ctx.config.operators.clone()));
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
        .route("/login", get(pages::login).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/api/session", get(auth::whoami))
        .route("/lanes/{id}/screen", get(pages::lane_screen))
        .route("/lanes/{id}/exit-pass.svg", get(exit_pass::svg))
        .route("/assets/{file}", get(pages::asset))
}
