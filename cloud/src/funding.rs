//! The funding authority: the only caller that can make money enter a wallet.
//!
//! A wallet opens empty ([`crate::wallets::Wallets::enroll`]); its balance grows only by a
//! top-up the operator's funding authority makes (a bank or payment-partner callback in
//! production, the administrator in a demo). The authority proves itself with its own bearer
//! token, configured as `funding_token_sha256` (SHA-256, lowercase hex, so the config holds no
//! secret) and compared in constant time. No store token, administrator token or wallet app
//! token is ever accepted in its place. Without a configured authority every top-up is refused.
//!
//! Every top-up is a double-entry movement from the [`FUNDING_ACCOUNT`]; [`movements`] lists that
//! account's rows so the authority can audit what entered the system.

use std::sync::Arc;

use sqlx::Any;
use tonic::metadata::MetadataMap;

use crate::config::CloudConfig;
use crate::db::Database;
use crate::db::ledger::FUNDING_ACCOUNT;
use crate::error::ServiceError;
use crate::identity::{bearer, token_sha256};

/// The funding-authority check; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct FundingAuth {
    /// SHA-256 hex of the authority's token, when one is configured.
    sha256: Option<Arc<str>>,
}

impl FundingAuth {
    /// The check the config asks for.
    pub fn from_config(config: &CloudConfig) -> Self {
        Self {
            sha256: config
                .funding_token_sha256
                .as_ref()
                .map(|hash| Arc::from(hash.trim().to_ascii_lowercase())),
        }
    }

    /// Whether a funding authority is configured (otherwise no money can enter).
    pub fn configured(&self) -> bool {
        self.sha256.is_some()
    }

    /// Allow the call only if it carries the funding authority's token.
    pub fn check(&self, metadata: &MetadataMap) -> Result<(), ServiceError> {
        let Some(expected) = &self.sha256 else {
            return Err(ServiceError::PermissionDenied(
                "top-ups are refused: no funding authority is configured \
                 (set funding_token_sha256 in the cloud's config)"
                    .into(),
            ));
        };
        let token = bearer(metadata).ok_or_else(|| {
            ServiceError::Unauthenticated(
                "top-ups need `authorization: Bearer <funding token>`".into(),
            )
        })?;
        if constant_time_eq(token_sha256(token).as_bytes(), expected.as_bytes()) {
            return Ok(());
        }
        tracing::warn!("a top-up with a token that is not the funding authority's was refused");
        Err(ServiceError::Unauthenticated(
            "not the funding authority's token".into(),
        ))
    }
}

/// One row of the funding account.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FundingMovement {
    /// The ledger row's id (increasing).
    pub seq: i64,
    /// `top_up` (or `enroll` for wallets funded at enrolment before issue 12).
    pub kind: String,
    /// The top-up id.
    pub ref_id: String,
    /// The other side of the movement, e.g. `wallet:12345678`.
    pub counter_account: String,
    /// What left the funding account, in fen (positive for money entering the system).
    pub amount_fen: i64,
    /// RFC 3339.
    pub at: String,
}

/// The funding account's movements after `after_seq`, oldest first, at most `limit` (1..=1000),
/// and the sum of all its movements (what entered the system, positive).
pub async fn movements(
    store: &Database,
    after_seq: i64,
    limit: u32,
) -> Result<(Vec<FundingMovement>, i64), ServiceError> {
    let limit = if limit == 0 || limit > 1000 {
        1000
    } else {
        limit
    };
    let rows: Vec<FundingMovement> = sqlx::query_as::<Any, FundingMovement>(
        "SELECT f.entry_id AS seq, f.kind, f.ref_id, \
                COALESCE((SELECT o.account FROM ledger_entries o \
                          WHERE o.txn_id = f.txn_id AND o.entry_id <> f.entry_id), '') AS counter_account, \
                CAST(-f.amount_fen AS BIGINT) AS amount_fen, f.created_at AS at \
         FROM ledger_entries f WHERE f.account = $1 AND f.entry_id > $2 \
         ORDER BY f.entry_id LIMIT $3",
    )
    .bind(FUNDING_ACCOUNT)
    .bind(after_seq)
    .bind(i64::from(limit))
    .fetch_all(store.pool())
    .await?;
    let (total,): (i64,) = sqlx::query_as(
        "SELECT CAST(COALESCE(-SUM(amount_fen), 0) AS BIGINT) FROM ledger_entries WHERE account = $1",
    )
    .bind(FUNDING_ACCOUNT)
    .fetch_one(store.pool())
    .await?;
    Ok((rows, total))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(token: Option<&str>) -> MetadataMap {
        match token {
            Some(t) => crate::identity::with_bearer((), t).metadata().clone(),
            None => MetadataMap::new(),
        }
    }

    #[test]
    fn without_an_authority_no_top_up_is_allowed() {
        let auth = FundingAuth::from_config(&CloudConfig::default());
        assert!(!auth.configured());
        assert!(matches!(
            auth.check(&metadata(Some("anything"))),
            Err(ServiceError::PermissionDenied(m)) if m.contains("funding_token_sha256")
        ));
    }

    #[test]
    fn only_the_authoritys_token_is_accepted() {
        let config = CloudConfig {
            funding_token_sha256: Some(token_sha256("bank")),
            ..CloudConfig::default()
        };
        let auth = FundingAuth::from_config(&config);
        assert!(auth.check(&metadata(Some("bank"))).is_ok());
        assert!(matches!(
            auth.check(&metadata(Some("guess"))),
            Err(ServiceError::Unauthenticated(_))
        ));
        assert!(matches!(
            auth.check(&metadata(None)),
            Err(ServiceError::Unauthenticated(_))
        ));
    }
}
