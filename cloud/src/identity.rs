//! Store identity: which store a request may act for.
//!
//! Every payment and catalog request names its `store_id`. When the config lists store tokens
//! (`store_token_sha256`), the caller must present `authorization: Bearer <token>` and the
//! token's store must be the one the request names: a store can act only for itself. Tokens
//! are compared by their SHA-256, so the config holds no secret. (Client certificates over TLS
//! would resolve to the same store identity; they are not wired yet.)

use std::collections::BTreeMap;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use tonic::Request;

use crate::config::CloudConfig;
use crate::error::ServiceError;

/// The store-token check; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct StoreAuth {
    /// SHA-256 hex of a token → the store it belongs to.
    by_hash: Arc<BTreeMap<String, String>>,
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
        }
    }

    /// Whether stores must authenticate.
    pub fn enabled(&self) -> bool {
        !self.by_hash.is_empty()
    }

    /// Allow the request only if it may act for `store_id`.
    pub fn check<T>(&self, request: &Request<T>, store_id: &str) -> Result<(), ServiceError> {
        if !self.enabled() {
            return Ok(());
        }
        let token = request
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .ok_or_else(|| {
                ServiceError::Unauthenticated(
                    "missing `authorization: Bearer <store token>`".into(),
                )
            })?;
        let acting = self
            .by_hash
            .get(&token_sha256(token.trim()))
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
        let mut r = Request::new(());
        if let Some(t) = token {
            r.metadata_mut()
                .insert("authorization", format!("Bearer {t}").parse().unwrap());
        }
        r
    }

    #[test]
    fn without_tokens_anyone_acts_for_any_store() {
        assert!(StoreAuth::default().check(&request(None), "SH-001").is_ok());
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
