//! Keeps the edge's catalog in step with the cloud: pulls changes since the last applied version,
//! stores them, then applies them in memory. When the cloud is unreachable the lanes go on with
//! the cached catalog; the replica retries on its interval.

use std::sync::Arc;
use std::time::Duration;

use omo_proto::catalog::GetChangesRequest;
use omo_proto::catalog::catalog_service_client::CatalogServiceClient;
use tokio_util::sync::CancellationToken;
use tonic::Code;
use tracing::{debug, error, info, warn};

use crate::cloud::CloudChannel;
use crate::context::EdgeContext;

/// Products fetched per request.
const PAGE: u32 = 500;

/// Loads the cached catalog from the store into memory.
pub async fn load_cached(ctx: &EdgeContext) -> Result<usize, crate::db::DbError> {
    let (products, version) = ctx.db.load_catalog().await?;
    let (promotions, campaigns) = ctx.db.load_promotions().await?;
    let count = products.len();
    if let Ok(mut catalog) = ctx.catalog.write() {
        catalog.apply(products);
        catalog.apply_promotions(promotions, campaigns);
        catalog.set_version(version);
    }
    Ok(count)
}

/// Why a round of catch-up stopped.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The cloud did not answer within the time-out.
    #[error("the cloud did not answer in time")]
    Timeout,
    /// The cloud refused this store's credentials: a person must fix them.
    #[error("the cloud refused this store: {0}")]
    Refused(String),
    /// Any other failure of the call (the cloud is down, unreachable, overloaded).
    #[error("cloud: {0}")]
    Cloud(String),
    /// The changes could not be stored locally.
    #[error("storing the catalog: {0}")]
    Db(#[from] crate::db::DbError),
}

/// One round of catch-up: fetches every change since the applied version. Returns how many
/// products changed.
pub async fn sync_once(
    ctx: &EdgeContext,
    client: &mut CatalogServiceClient<CloudChannel>,
) -> Result<usize, SyncError> {
    let mut changed = 0;
    loop {
        let since = ctx.catalog.read().map(|c| c.version()).unwrap_or(0);
        let request = GetChangesRequest {
            store_id: ctx.config.store_id.clone(),
            since_version: since,
            limit: PAGE,
        };
        let response = tokio::time::timeout(Duration::from_secs(10), client.get_changes(request))
            .await
            .map_err(|_| SyncError::Timeout)?
            .map_err(|status| match status.code() {
                Code::Unauthenticated | Code::PermissionDenied => {
                    SyncError::Refused(status.message().to_string())
                }
                _ => SyncError::Cloud(status.message().to_string()),
            })?
            .into_inner();
        let latest = response.latest_version;
        let response_reached = response.reached_version;
        let (products, promotions, campaigns) =
            (response.products, response.promotions, response.campaigns);
        let count = products.len() + promotions.len() + campaigns.len();
        // A page of products may stop short of the latest version; promotions come whole.
        // Every change up to `reached_version` is in this answer (a page may stop short of the
        // latest version; the next request resumes from here).
        let reached = response_reached.max(since);
        ctx.db
            .save_catalog(&products, &promotions, &campaigns, reached)
            .await?;
        if let Ok(mut catalog) = ctx.catalog.write() {
            catalog.apply(products);
            catalog.apply_promotions(promotions, campaigns);
            catalog.set_version(reached);
        }
        changed += count;
        if count == 0 || reached >= latest {
            return Ok(changed);
        }
    }
}

/// Keeps syncing every `interval` until `cancel`.
pub async fn run(
    ctx: Arc<EdgeContext>,
    channel: CloudChannel,
    interval: Duration,
    cancel: CancellationToken,
) {
    let mut client = CatalogServiceClient::new(channel);
    let mut reported_down = false;
    loop {
        let result = sync_once(&ctx, &mut client).await;
        if result.is_ok() && reported_down {
            info!("the cloud's catalog is reachable again");
            reported_down = false;
        }
        match result {
            Ok(0) => debug!("catalog up to date"),
            Ok(changed) => {
                let version = ctx.catalog.read().map(|c| c.version()).unwrap_or(0);
                info!(changed, version, "catalog updated from the cloud");
            }
            Err(error) => {
                if !reported_down {
                    if matches!(error, SyncError::Refused(_)) {
                        error!(%error, "the cloud refuses this store's credentials (cloud_token, [cloud_tls]); lanes use the cached catalog");
                    } else {
                        warn!(%error, "cannot reach the cloud's catalog; lanes use the cached catalog");
                    }
                }
                reported_down = true;
            }
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(interval) => {}
        }
    }
}
