//! Operator sessions: Argon2 password checks against the configured operators, server-side
//! sessions behind an HttpOnly, SameSite=Strict cookie (or a bearer token for scripts), and the
//! [`Operator`] extractor that gives every action its operator's name and role. The HTTP
//! handlers that log in and out are in [`super::login`].
//!
//! Sessions live in memory: restarting the edge logs every operator out. A session ends after
//! [`IDLE_TIMEOUT`] without a request, or at logout. Failed logins are limited per client IP
//! and per name ([`super::limit`]): past the limit `POST /login` answers 429 with `Retry-After`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::Json;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rand::RngCore;
use serde::Serialize;
use serde_json::json;
use tokio::time::Instant;

use crate::config::OperatorConfig;
use crate::lane::Role;

/// The session cookie's name.
pub const COOKIE: &str = "omo_session";
/// A session ends after this long without a request.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(8 * 60 * 60);

/// A logged-in operator, as every action records them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Operator {
    pub name: String,
    pub role: Role,
}

struct Session {
    operator: Operator,
    last_seen: Instant,
}

/// The operators who may log in, and the open sessions.
pub struct Sessions {
    operators: Vec<OperatorConfig>,
    open: Mutex<HashMap<String, Session>>,
    idle_timeout: Duration,
    limiter: super::limit::LoginLimiter,
}

/// Why a login did not open a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginRefused {
    WrongCredentials,
    /// Too many failures from this client or for this name: try again after this long.
    TooMany(Duration),
}

impl Sessions {
    pub fn new(operators: Vec<OperatorConfig>) -> Sessions {
        Sessions {
            operators,
            open: Mutex::default(),
            idle_timeout: IDLE_TIMEOUT,
            limiter: Default::default(),
        }
    }

    /// Checks a name and password from `client`, unless either has failed too often lately; on
    /// success opens a session and returns its token.
    pub async fn login_from(
        &self,
        client: Option<IpAddr>,
        name: &str,
        password: &str,
    ) -> Result<(String, Operator), LoginRefused> {
        let keys = super::limit::keys(client, name);
        if let Some(wait) = self.limiter.locked(&keys) {
            return Err(LoginRefused::TooMany(wait));
        }
        match self.login(name, password).await {
            Some(ok) => {
                self.limiter.succeeded(&keys);
                Ok(ok)
            }
            None => {
                self.limiter.failed(&keys);
                Err(LoginRefused::WrongCredentials)
            }
        }
    }

    /// Checks a name and password; on success opens a session and returns its token.
    pub async fn login(&self, name: &str, password: &str) -> Option<(String, Operator)> {
        let configured = self.operators.iter().find(|o| o.name == name).cloned();
        let password = password.to_string();
        // An unknown name costs the same as a wrong password, so names cannot be probed by time.
        let hash = configured
            .as_ref()
            .map_or_else(|| DUMMY_HASH.to_string(), |o| o.password_hash.clone());
        let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
            .await
            .unwrap_or(false);
        let configured = configured.filter(|_| ok)?;
        let operator = Operator {
            name: configured.name,
            role: configured.role,
        };
        let token = new_token();
        if let Ok(mut open) = self.open.lock() {
            let now = Instant::now();
            open.retain(|_, s| now.duration_since(s.last_seen) < self.idle_timeout);
            open.insert(
                token.clone(),
                Session {
                    operator: operator.clone(),
                    last_seen: now,
                },
            );
        }
        Some((token, operator))
    }

    /// The operator of a live session, which this use keeps alive.
    pub fn operator(&self, token: &str) -> Option<Operator> {
        let mut open = self.open.lock().ok()?;
        let now = Instant::now();
        let session = open.get_mut(token)?;
        if now.duration_since(session.last_seen) >= self.idle_timeout {
            open.remove(token);
            return None;
        }
        session.last_seen = now;
        Some(session.operator.clone())
    }

    /// Ends a session.
    pub fn logout(&self, token: &str) -> Option<Operator> {
        self.open.lock().ok()?.remove(token).map(|s| s.operator)
    }
}

/// 256 random bits from the operating system's generator, as hex.
fn new_token() -> String {
    // `rand::rng()` is a CSPRNG (ChaCha) seeded from the operating system.
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A hash of a random password nobody knows, checked when the name is unknown.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$LvRJDq1obeV0x7ZwH1XQbzCnZ6ypSCoN4RZ8N/Ai2EE";

/// Hashes a password as an Argon2id PHC string with a random salt (the crate's default cost).
pub fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).expect("16 bytes make a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .expect("Argon2 with default parameters hashes any password")
}

/// Whether `password` matches the PHC string `hash`.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Checks that `hash` is a PHC string of an algorithm the edge verifies (Argon2).
pub fn check_password_hash(hash: &str) -> Result<(), String> {
    let parsed = PasswordHash::new(hash).map_err(|e| format!("not a PHC password hash ({e})"))?;
    match parsed.algorithm.as_str() {
        "argon2id" | "argon2i" | "argon2d" => Ok(()),
        other => Err(format!("algorithm {other:?} is not Argon2")),
    }
}

/// Operators for `omo up`: `attendant` / `attendant` and `manager` / `manager`, hashed now.
/// For demos on one machine only: never in a store's config.
pub fn demo_operators() -> Vec<OperatorConfig> {
    [("attendant", Role::Attendant), ("manager", Role::Manager)]
        .into_iter()
        .map(|(name, role)| OperatorConfig {
            name: name.into(),
            role,
            password_hash: hash_password(name),
        })
        .collect()
}

/// The session token of a request: the cookie, or `Authorization: Bearer TOKEN` for scripts.
pub fn token(headers: &HeaderMap) -> Option<String> {
    if let Some(bearer) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return Some(bearer.trim().to_string());
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
}

/// Why a request has no operator: 401, as JSON.
pub struct NotLoggedIn;

impl IntoResponse for NotLoggedIn {
    fn into_response(self) -> Response {
        (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer realm=\"omo-edge\"")],
            Json(json!({ "error": "log in first: POST /login" })),
        )
            .into_response()
    }
}

impl<S> FromRequestParts<S> for Operator
where
    Arc<Sessions>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = NotLoggedIn;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let sessions = Arc::<Sessions>::from_ref(state);
        token(&parts.headers)
            .and_then(|t| sessions.operator(&t))
            .ok_or(NotLoggedIn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn operators() -> Vec<OperatorConfig> {
        vec![OperatorConfig {
            name: "li".into(),
            role: Role::Attendant,
            password_hash: hash_password("s3cret"),
        }]
    }

    #[test]
    fn a_hash_verifies_its_password_only() {
        let hash = hash_password("s3cret");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(check_password_hash(&hash).is_ok());
        assert!(verify_password("s3cret", &hash));
        assert!(!verify_password("s3cret ", &hash));
        assert!(check_password_hash("s3cret").is_err());
        assert!(check_password_hash(DUMMY_HASH).is_ok());
    }

    #[tokio::test]
    async fn a_session_carries_the_operator_until_logout() {
        let sessions = Sessions::new(operators());
        assert!(sessions.login("li", "wrong").await.is_none());
        assert!(sessions.login("nobody", "s3cret").await.is_none());
        let (token, operator) = sessions.login("li", "s3cret").await.unwrap();
        assert_eq!(token.len(), 64);
        assert_eq!(operator.role, Role::Attendant);
        assert_eq!(sessions.operator(&token), Some(operator));
        assert!(sessions.logout(&token).is_some());
        assert_eq!(sessions.operator(&token), None);
    }

    #[tokio::test]
    async fn failed_logins_lock_the_client_and_the_name_for_a_while() {
        let sessions = Sessions::new(operators());
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        for _ in 0..super::super::limit::MAX_FAILURES {
            assert_eq!(
                sessions
                    .login_from(Some(ip), "li", "guess")
                    .await
                    .unwrap_err(),
                LoginRefused::WrongCredentials
            );
        }
        // Locked now: even the right password from there, or for that name from elsewhere.
        assert!(matches!(
            sessions.login_from(Some(ip), "li", "s3cret").await,
            Err(LoginRefused::TooMany(_))
        ));
        let other: IpAddr = "192.0.2.8".parse().unwrap();
        assert!(matches!(
            sessions.login_from(Some(other), "li", "s3cret").await,
            Err(LoginRefused::TooMany(_))
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_session_expires() {
        let sessions = Sessions::new(operators());
        let (token, _) = sessions.login("li", "s3cret").await.unwrap();
        tokio::time::advance(IDLE_TIMEOUT - Duration::from_secs(1)).await;
        assert!(sessions.operator(&token).is_some(), "still in use");
        tokio::time::advance(IDLE_TIMEOUT).await;
        assert_eq!(sessions.operator(&token), None);
    }

    #[test]
    fn the_token_comes_from_the_cookie_or_the_bearer_header() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, "a=b; omo_session=abc; c=d".parse().unwrap());
        assert_eq!(token(&headers).as_deref(), Some("abc"));
        headers.insert(header::AUTHORIZATION, "Bearer xyz".parse().unwrap());
        assert_eq!(token(&headers).as_deref(), Some("xyz"));
    }
}
