//! Operator login and logout over HTTP: `POST /login` takes a form (the login page; answers
//! with a redirect to the dashboard) or JSON (scripts; answers `{"operator","role","token"}`) and
//! sets the session cookie; `POST /logout` ends the session; `GET /api/session` says who is
//! logged in. The sessions themselves, passwords and the rate limit are [`super::auth`]'s.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use serde::Deserialize;
use serde_json::json;
use tracing::{info, warn};

use super::auth::{COOKIE, IDLE_TIMEOUT, LoginRefused, Operator, Sessions, token};
use super::pages::login_page;

/// What `POST /login` takes, as a form or as JSON.
#[derive(Deserialize)]
pub struct Credentials {
    pub name: String,
    pub password: String,
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

fn session_cookie(token: &str, max_age: u64) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}"
    ))
    .expect("a hex token is a valid header value")
}

/// `POST /login`: a form (the login page; answers with a redirect to the dashboard) or JSON
/// (scripts; answers `{"operator","role","token"}`). Either way the session cookie is set.
pub async fn login(State(sessions): State<Arc<Sessions>>, request: Request) -> Response {
    let json = wants_json(request.headers());
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let credentials = if json {
        Json::<Credentials>::from_request(request, &())
            .await
            .map(|Json(c)| c)
            .map_err(IntoResponse::into_response)
    } else {
        Form::<Credentials>::from_request(request, &())
            .await
            .map(|Form(c)| c)
            .map_err(IntoResponse::into_response)
    };
    let credentials = match credentials {
        Ok(c) => c,
        Err(response) => return response,
    };
    let outcome = sessions
        .login_from(client, &credentials.name, &credentials.password)
        .await;
    if let Err(LoginRefused::TooMany(wait)) = outcome {
        warn!(operator = %credentials.name, client = ?client, "operator login refused: too many failures");
        let secs = wait.as_secs().max(1);
        let message = format!("too many failed logins: try again in {secs} s");
        let retry = [(header::RETRY_AFTER, secs.to_string())];
        return if json {
            (
                StatusCode::TOO_MANY_REQUESTS,
                retry,
                Json(json!({ "error": message, "retry_after_secs": secs })),
            )
                .into_response()
        } else {
            (
                StatusCode::TOO_MANY_REQUESTS,
                retry,
                login_page(Some(&message)),
            )
                .into_response()
        };
    }
    let Ok((token, operator)) = outcome else {
        warn!(operator = %credentials.name, client = ?client, "failed operator login");
        return if json {
            (
                StatusCode::UNAUTHORIZED,
                Json(json!({ "error": "wrong name or password" })),
            )
                .into_response()
        } else {
            (
                StatusCode::UNAUTHORIZED,
                login_page(Some("Wrong name or password.")),
            )
                .into_response()
        };
    };
    info!(operator = %operator.name, role = ?operator.role, "operator logged in");
    let cookie = session_cookie(&token, IDLE_TIMEOUT.as_secs());
    if json {
        (
            [(header::SET_COOKIE, cookie)],
            Json(json!({ "operator": operator.name, "role": operator.role, "token": token })),
        )
            .into_response()
    } else {
        ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response()
    }
}

/// `POST /logout`: ends the session and clears the cookie; a form is redirected to the login
/// page, anything else gets 204.
pub async fn logout(State(sessions): State<Arc<Sessions>>, headers: HeaderMap) -> Response {
    if let Some(operator) = token(&headers).and_then(|t| sessions.logout(&t)) {
        info!(operator = %operator.name, "operator logged out");
    }
    let clear = session_cookie("", 0);
    if wants_json(&headers) {
        (StatusCode::NO_CONTENT, [(header::SET_COOKIE, clear)]).into_response()
    } else {
        ([(header::SET_COOKIE, clear)], Redirect::to("/")).into_response()
    }
}

/// `GET /api/session`: who is logged in (401 if nobody).
pub async fn whoami(operator: Operator) -> Json<Operator> {
    Json(operator)
}
