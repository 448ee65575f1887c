//! Telling the cloud where the store is and how far it delivers (`omo.store.v1.StoreDirectory`),
//! so the shopper's app can order home delivery from it and the cloud can refuse a drop-off
//! beyond the radius at once. Sent when the edge starts, retried until the cloud has it.

use std::time::Duration;

use omo_proto::store::StoreProfile;
use omo_proto::store::store_directory_client::StoreDirectoryClient;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::cloud::CloudChannel;
use crate::config::EdgeConfig;

/// The profile this edge announces.
pub fn profile(config: &EdgeConfig) -> StoreProfile {
    StoreProfile {
        store_id: config.store_id.clone(),
        name: config.store_name.clone(),
        lat: config.lat,
        lon: config.lon,
        delivery_radius_m: config.delivery_radius_m,
        announced_at: String::new(),
    }
}

/// Announces the store until the cloud accepted it (backing off to a minute between tries), or
/// until `cancel`. A refusal that retrying cannot fix (bad profile, wrong credentials) is logged
/// as an error and retried at the slowest pace, so fixing the cloud's side needs no edge restart.
pub async fn run(config: EdgeConfig, channel: CloudChannel, cancel: CancellationToken) {
    let mut client = StoreDirectoryClient::new(channel);
    let mut wait = Duration::from_secs(1);
    loop {
        let mut request = tonic::Request::new(profile(&config));
        request.set_timeout(Duration::from_secs(5));
        match client.announce(request).await {
            Ok(stored) => {
                let stored = stored.into_inner();
                info!(store = %stored.store_id, radius_m = stored.delivery_radius_m, "store announced to the cloud");
                return;
            }
            Err(status) => {
                use tonic::Code::*;
                if matches!(
                    status.code(),
                    Unavailable | DeadlineExceeded | Unknown | Aborted
                ) {
                    debug!(%status, "cloud not reachable to announce the store; retrying");
                } else {
                    warn!(code = ?status.code(), message = status.message(), "the cloud refused the store's announcement");
                    wait = Duration::from_secs(60);
                }
            }
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
        wait = (wait * 2).min(Duration::from_secs(60));
    }
}
