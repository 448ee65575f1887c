//! The lane screen's device credential. Each lane's screen proves itself with a secret token,
//! set up once: an operator (a manager, from `GET /api/lanes/{id}/screen-setup`, or `omo up`'s
//! banner) opens `/lanes/{id}/screen?setup=TOKEN` on the screen; the edge checks the token in
//! constant time, answers with the cookie [`COOKIE`] (HttpOnly, SameSite=Strict, `Path=/lanes/{id}`,
//! a year) and a redirect to the clean URL, so the token leaves the address bar and history.
//!
//! The token is HMAC-SHA256 under the edge's screen secret (made at random on first start, kept
//! in its database) over the store and lane ids: nothing to configure, one per lane, and a screen
//! of lane 1 is nobody at lane 2. Everything on the screen that acts or shows a pass needs the
//! cookie: the exit pass QR and the own-bag and "Deliver it home" buttons
//! ([`super::screen_actions`]).

use axum::http::{HeaderMap, HeaderValue, header};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::context::EdgeContext;
use crate::exit_pass::constant_time_eq;

/// The lane screen's cookie (one per lane, told apart by its path).
pub const COOKIE: &str = "omo_screen";
/// How long the screen's cookie lives, in seconds (a year: the screen is set up once).
pub const COOKIE_MAX_AGE: u64 = 365 * 24 * 60 * 60;

/// The setup token of `lane`'s screen (hex), derived from the edge's screen `secret`.
pub fn setup_token(secret: &[u8], store_id: &str, lane: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(format!("omo-lane-screen:v1:{store_id}:{lane}").as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The path a screen is set up with: `/lanes/{lane}/screen?setup={token}`.
pub fn setup_path(secret: &[u8], store_id: &str, lane: &str) -> String {
    format!(
        "/lanes/{lane}/screen?setup={}",
        setup_token(secret, store_id, lane)
    )
}

/// Whether `presented` is `lane`'s token (constant time).
pub fn token_is_valid(ctx: &EdgeContext, lane: &str, presented: &str) -> bool {
    let expected = setup_token(&ctx.screen_secret, &ctx.config.store_id, lane);
    !expected.is_empty() && constant_time_eq(expected.as_bytes(), presented.trim().as_bytes())
}

/// The screen cookies a request carries (a browser may send several, from different paths).
fn cookies(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

/// Whether the request comes from `lane`'s set-up screen.
pub fn is_lane_screen(ctx: &EdgeContext, lane: &str, headers: &HeaderMap) -> bool {
    cookies(headers).any(|token| token_is_valid(ctx, lane, token))
}

/// The `Set-Cookie` that makes a browser `lane`'s screen.
pub fn cookie(lane: &str, token: &str) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{COOKIE}={token}; Path=/lanes/{lane}; HttpOnly; SameSite=Strict; Max-Age={COOKIE_MAX_AGE}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("omo_screen=; Max-Age=0"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_lane_has_its_own_token() {
        let one = setup_token(b"secret", "SH-001", "1");
        assert_eq!(one.len(), 64);
        assert_ne!(one, setup_token(b"secret", "SH-001", "2"));
        assert_ne!(one, setup_token(b"other", "SH-001", "1"));
        assert_eq!(one, setup_token(b"secret", "SH-001", "1"));
        let cookie = cookie("1", &one);
        let cookie = cookie.to_str().unwrap();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
        assert!(cookie.contains("Path=/lanes/1;"), "{cookie}");
    }

    #[test]
    fn the_cookie_is_read_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "omo_session=x; omo_screen=abc; omo_screen=def"
                .parse()
                .unwrap(),
        );
        assert_eq!(cookies(&headers).collect::<Vec<_>>(), ["abc", "def"]);
    }
}
