//! The pages and their assets, compiled into the binary from `edge/web/` (no CDN, no build step):
//! plain HTML, CSS and JavaScript that current Chromium and Firefox run as they are.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::AppState;
use super::auth;
use crate::context::EdgeContext;

const LOGIN_HTML: &str = include_str!("../../web/login.html");
const DASHBOARD_HTML: &str = include_str!("../../web/dashboard.html");
const LANE_SCREEN_HTML: &str = include_str!("../../web/lane-screen.html");
const RIDER_HTML: &str = include_str!("../../web/rider.html");

/// `(file name, content type, content)` of every asset under `/assets/`.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "common.css",
        "text/css; charset=utf-8",
        include_str!("../../web/common.css"),
    ),
    (
        "dashboard.css",
        "text/css; charset=utf-8",
        include_str!("../../web/dashboard.css"),
    ),
    (
        "lane-screen.css",
        "text/css; charset=utf-8",
        include_str!("../../web/lane-screen.css"),
    ),
    (
        "common.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/common.js"),
    ),
    (
        "dashboard.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/dashboard.js"),
    ),
    (
        "i18n.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/i18n.js"),
    ),
    (
        "alerts.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/alerts.js"),
    ),
    (
        "orders.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/orders.js"),
    ),
    (
        "lane-screen.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/lane-screen.js"),
    ),
    (
        "rider.css",
        "text/css; charset=utf-8",
        include_str!("../../web/rider.css"),
    ),
    (
        "rider.js",
        "text/javascript; charset=utf-8",
        include_str!("../../web/rider.js"),
    ),
];

/// Scripts and styles come only from the edge itself; no page may be framed.
fn page(status: StatusCode, html: String) -> Response {
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        HeaderName::from_static("referrer-policy"),
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// Text for HTML element content and attribute values.
pub use omo_contract::html::escape;

/// The login page, with an error message if the last attempt failed.
pub fn login_page(error: Option<&str>) -> Response {
    let error = error
        .map(|e| {
            format!(
                "<p class=\"error\" id=\"login-error\" role=\"alert\">{}</p>",
                escape(e)
            )
        })
        .unwrap_or_default();
    page(StatusCode::OK, LOGIN_HTML.replace("<!--error-->", &error))
}

/// `GET /rider/`: the rider's app (see [`crate::rider_app`]).
pub async fn rider() -> Response {
    page(StatusCode::OK, RIDER_HTML.to_string())
}

/// `GET /login`.
pub async fn login() -> Response {
    login_page(None)
}

/// `GET /`: the dashboard for a logged-in operator, the login page for anyone else.
pub async fn dashboard(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(operator) = auth::token(&headers).and_then(|t| state.sessions.operator(&t)) else {
        return login_page(None);
    };
    let config = &state.ctx.config;
    let store = if config.store_name.is_empty() {
        config.store_id.clone()
    } else {
        format!("{} ({})", config.store_name, config.store_id)
    };
    let role = match operator.role {
        crate::lane::Role::Attendant => "attendant",
        crate::lane::Role::Manager => "manager",
    };
    let html = DASHBOARD_HTML
        .replace("{{store}}", &escape(&store))
        .replace("{{operator}}", &escape(&operator.name))
        .replace("{{role}}", role);
    page(StatusCode::OK, html)
}

/// A page that only says `text` (a screen that is not set up, a wrong setup link).
pub fn message_page(status: StatusCode, text: &str) -> Response {
    page(
        status,
        format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Omo</title>\
             <link rel=\"stylesheet\" href=\"/assets/common.css\"></head>\
             <body><main><p id=\"message\" role=\"alert\">{}</p></main></body></html>\n",
            escape(text)
        ),
    )
}

/// What the shopper at lane `id` sees (the lane exists and the screen is set up: see
/// [`super::screen_actions::page`]).
pub fn lane_screen(ctx: &EdgeContext, id: &str) -> Response {
    let store = if ctx.config.store_name.is_empty() {
        ctx.config.store_id.clone()
    } else {
        ctx.config.store_name.clone()
    };
    let html = LANE_SCREEN_HTML
        .replace("{{store}}", &escape(&store))
        .replace("{{lane}}", &escape(id));
    page(StatusCode::OK, html)
}

/// `GET /assets/{file}`.
pub async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, content)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, "no-cache"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            *content,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset\n").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn every_page_names_only_assets_that_exist() {
        for html in [LOGIN_HTML, DASHBOARD_HTML, LANE_SCREEN_HTML] {
            for part in html.split("/assets/").skip(1) {
                let name = part.split('"').next().unwrap();
                assert!(
                    ASSETS.iter().any(|(n, _, _)| *n == name),
                    "missing asset {name}"
                );
            }
        }
    }
}
