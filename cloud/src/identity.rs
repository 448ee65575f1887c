//! Store identity: which store a request may act for.
//!
//! Every payment and catalog request names its `store_id`. Two ways to prove it:
//! - **TLS client certificates** (`[tls] client_ca`): the edge's certificate, verified by
//!   rustls against that CA during the handshake, names its store in the subject CN or a DNS
//!   subjectAltName; the request's `store_id` must be one of those names. A call without a
//!   certificate is UNAUTHENTICATED. Tokens are not consulted then.
//! - **Store tokens** (`store_token_sha256`, for setups without TLS): the caller presents
//!   `authorization: Bearer <token>` and the token's store must be the one the request names.
//!   Tokens are compared by their SHA-256, so the config holds no secret.
//!
//! Either way a store can act only for itself. With neither, anyone may act for any store.
//!
//! Changing the catalog (products, promotions, coupon campaigns) is for the **administrator**
//! ([`AdminAuth`], `admin_token_sha256`): a bearer token no store holds. A store's token or
//! certificate is never enough. Without an administrator, catalog changes are open only while
//! stores do not authenticate either (development on one machine), and refused otherwise.

use std::collections::BTreeMap;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use tonic::Request;
use tonic::transport::CertificateDer;
use x509_parser::extensions::GeneralName;

use crate::config::CloudConfig;
use crate::error::ServiceError;

/// The store-token check; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct StoreAuth {
    /// SHA-256 hex of a token → the store it belongs to.
    by_hash: Arc<BTreeMap<String, String>>,
    /// Client certificates name the store (TLS with `client_ca`).
    by_certificate: bool,
}

impl StoreAuth {
    /// The check the config asks for (none when it lists no tokens).
    pub fn from_config(config: &CloudConfig) -> Self {
        let by_hash = config
            .store_token_sha256
            .iter()
            .map(|(store, hash)| (hash.trim().to_ascii_lowercase(), store.clone()))
            .collect();
        Self {
            by_hash: Arc::new(by_hash),
            by_certificate: config
                .tls
                .as_ref()
                .is_some_and(|tls| tls.client_ca.is_some()),
        }
    }

    /// Whether stores must authenticate.
    pub fn enabled(&self) -> bool {
        self.by_certificate || !self.by_hash.is_empty()
    }

    /// Allow the request only if it may act for `store_id`.
    pub fn check<T>(&self, request: &Request<T>, store_id: &str) -> Result<(), ServiceError> {
        if self.by_certificate {
            return check_certificate(request.peer_certs().as_deref(), store_id);
        }
        if !self.enabled() {
            return Ok(());
        }
        let token = bearer(request.metadata()).ok_or_else(|| {
            ServiceError::Unauthenticated("missing `authorization: Bearer <store token>`".into())
        })?;
        let acting = self
            .by_hash
            .get(&token_sha256(token))
            .ok_or_else(|| ServiceError::Unauthenticated("unknown store token".into()))?;
        if acting != store_id {
            tracing::warn!(acting_store = %acting, requested_store = store_id, "a store tried to act for another store");
            return Err(ServiceError::PermissionDenied(format!(
                "store {acting} may not act for store {store_id}"
            )));
        }
        Ok(())
    }
}

/// The catalog-change check; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct AdminAuth {
    /// SHA-256 hex of the administrator's token, when one is configured.
    admin_sha256: Option<Arc<str>>,
    /// The store check, to refuse a store's token by name and to tell the open mode.
    stores: StoreAuth,
}

impl AdminAuth {
    /// The check the config asks for.
    pub fn from_config(config: &CloudConfig) -> Self {
        Self {
            admin_sha256: config
                .admin_token_sha256
                .as_ref()
                .map(|hash| Arc::from(hash.trim().to_ascii_lowercase())),
            stores: StoreAuth::from_config(config),
        }
    }

    /// Whether catalog changes are refused to everybody (stores authenticate, no administrator).
    pub fn closed(&self) -> bool {
        self.admin_sha256.is_none() && self.stores.enabled()
    }

    /// Allow the request only if it may change the catalog.
    pub fn check<T>(&self, request: &Request<T>) -> Result<(), ServiceError> {
        let Some(admin) = &self.admin_sha256 else {
            if self.stores.enabled() {
                return Err(ServiceError::PermissionDenied(
                    "catalog changes are refused: stores authenticate but no administrator is \
                     configured; set admin_token_sha256 in the cloud's config"
                        .into(),
                ));
            }
            return Ok(());
        };
        let token = bearer(request.metadata()).ok_or_else(|| {
            ServiceError::Unauthenticated(
                "catalog changes need `authorization: Bearer <administrator token>` \
                 (a store's certificate is not enough)"
                    .into(),
            )
        })?;
        let hash = token_sha256(token);
        if hash == **admin {
            return Ok(());
        }
        if let Some(store) = self.stores.by_hash.get(&hash) {
            tracing::warn!(acting_store = %store, "a store tried to change the catalog");
            return Err(ServiceError::PermissionDenied(format!(
                "store {store}'s token may not change the catalog; the administrator's token is needed"
            )));
        }
        Err(ServiceError::Unauthenticated(
            "unknown token: catalog changes need the administrator's token".into(),
        ))
    }
}

/// `message` with `authorization: Bearer <token>`, as a caller presents its token (a store's,
/// the administrator's, or a wallet's app token). A token that is not a valid header value is
/// left out, so the cloud answers UNAUTHENTICATED.
pub fn with_bearer<T>(message: impl tonic::IntoRequest<T>, token: &str) -> Request<T> {
    let mut request = message.into_request();
    if let Ok(value) = format!("Bearer {token}").parse() {
        request.metadata_mut().insert("authorization", value);
    }
    request
}

/// The token of `authorization: Bearer <token>`, if the request carries one (stores,
/// the administrator and the shopper's app all present theirs this way).
pub fn bearer(metadata: &tonic::metadata::MetadataMap) -> Option<&str> {
    metadata
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
}

/// Allow a request whose verified client certificate chain (leaf first) names `store_id`.
fn check_certificate(
    chain: Option<&Vec<CertificateDer<'static>>>,
    store_id: &str,
) -> Result<(), ServiceError> {
    let leaf = chain.and_then(|c| c.first()).ok_or_else(|| {
        ServiceError::Unauthenticated("a store's client certificate is required".into())
    })?;
    let names = certificate_store_names(leaf)?;
    if names.iter().any(|n| n == store_id) {
        return Ok(());
    }
    tracing::warn!(acting_stores = ?names, requested_store = store_id, "a store tried to act for another store");
    Err(ServiceError::PermissionDenied(format!(
        "the client certificate names {names:?}, not store {store_id}"
    )))
}

/// The store names a certificate carries: its subject CNs, then its DNS subjectAltNames.
pub fn certificate_store_names(der: &[u8]) -> Result<Vec<String>, ServiceError> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|e| {
        ServiceError::Unauthenticated(format!("unreadable client certificate: {e}"))
    })?;
    let mut names: Vec<String> = cert
        .subject()
        .iter_common_name()
        .filter_map(|cn| cn.as_str().ok().map(str::to_owned))
        .collect();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            if let GeneralName::DNSName(dns) = name {
                names.push((*dns).to_owned());
            }
        }
    }
    Ok(names)
}

/// SHA-256 (lowercase hex) of a token, as `store_token_sha256` lists it.
pub fn token_sha256(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth() -> StoreAuth {
        let mut config = CloudConfig::default();
        config
            .store_token_sha256
            .insert("SH-001".into(), token_sha256("t1"));
        StoreAuth::from_config(&config)
    }

    fn request(token: Option<&str>) -> Request<()> {
        match token {
            Some(t) => with_bearer((), t),
            None => Request::new(()),
        }
    }

    #[test]
    fn without_tokens_anyone_acts_for_any_store() {
        assert!(StoreAuth::default().check(&request(None), "SH-001").is_ok());
    }

    #[test]
    fn only_the_administrator_changes_the_catalog() {
        let mut config = CloudConfig::default();
        assert!(
            AdminAuth::from_config(&config)
                .check(&request(None))
                .is_ok()
        );
        config
            .store_token_sha256
            .insert("SH-001".into(), token_sha256("t1"));
        let closed = AdminAuth::from_config(&config);
        assert!(closed.closed());
        assert!(matches!(
            closed.check(&request(Some("t1"))),
            Err(ServiceError::PermissionDenied(m)) if m.contains("admin_token_sha256")
        ));
        config.admin_token_sha256 = Some(token_sha256("admin"));
        let admin = AdminAuth::from_config(&config);
        assert!(admin.check(&request(Some("admin"))).is_ok());
        assert!(matches!(
            admin.check(&request(Some("t1"))),
            Err(ServiceError::PermissionDenied(_))
        ));
        assert!(matches!(
            admin.check(&request(Some("guess"))),
            Err(ServiceError::Unauthenticated(_))
        ));
        assert!(matches!(
            admin.check(&request(None)),
            Err(ServiceError::Unauthenticated(_))
        ));
    }

    #[test]
    fn a_store_acts_only_for_itself() {
        let auth = auth();
        assert!(auth.check(&request(Some("t1")), "SH-001").is_ok());
        assert!(matches!(
            auth.check(&request(Some("t1")), "SH-002"),
            Err(ServiceError::PermissionDenied(_))
        ));
        assert!(matches!(
            auth.check(&request(Some("t2")), "SH-001"),
            Err(ServiceError::Unauthenticated(_))
        ));
        assert!(matches!(
            auth.check(&request(None), "SH-001"),
            Err(ServiceError::Unauthenticated(_))
        ));
    }
}
