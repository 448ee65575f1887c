//! Running the cloud: open the database, serve gRPC and HTTP on the listeners main hands in,
//! close overdue pending payments in the background, and drain on shutdown.

use std::sync::Arc;
use std::time::Duration;

use omo_proto::catalog::catalog_service_server::CatalogServiceServer;
use omo_proto::payment::payment_service_server::PaymentServiceServer;
use omo_proto::shopper::shopper_service_server::ShopperServiceServer;
use omo_proto::store::store_directory_server::StoreDirectoryServer;
use tokio::net::TcpListener;
use tokio_stream::StreamExt as _;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tonic::transport::{Certificate, Identity, ServerTlsConfig};

use crate::catalog::Catalog;
use crate::clock::{Clock, SystemClock};
use crate::config::{CloudConfig, TlsConfig};
use crate::context::Context;
use crate::coupons::Coupons;
use crate::db::Database;
use crate::delivery::{Deliveries, Directory};
use crate::error::CloudError;
use crate::funding::FundingAuth;
use crate::grpc::catalog::CatalogApi;
use crate::grpc::payment::PaymentApi;
use crate::grpc::shopper::ShopperApi;
use crate::grpc::store::StoreDirectoryApi;
use crate::identity::{AdminAuth, StoreAuth};
use crate::metrics::Metrics;
use crate::payments::Payments;
use crate::wallets::Wallets;

/// An opened cloud: database migrated, ready to serve.
#[derive(Clone)]
pub struct Cloud {
    ctx: Context,
}

impl Cloud {
    /// Open the database named by the config (creating and migrating it), on the system clock.
    pub async fn open(config: CloudConfig) -> Result<Cloud, CloudError> {
        Self::open_with_clock(config, Arc::new(SystemClock)).await
    }

    /// Open with a given clock (tests set the time TOTP codes are checked against).
    pub async fn open_with_clock(
        config: CloudConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Cloud, CloudError> {
        let db = Database::open(&config.database_url, config.database_max_connections).await?;
        crate::trace::TraceStore::open(db.clone()).await?;
        Ok(Cloud {
            ctx: Context {
                db,
                clock,
                config: Arc::new(config),
                metrics: Arc::new(Metrics::default()),
            },
        })
    }

    /// The shared state (store, clock, config, metrics).
    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// The database.
    pub fn db(&self) -> &Database {
        &self.ctx.db
    }

    /// Wallet operations (e.g. freezing a wallet, which has no RPC).
    pub fn wallets(&self) -> Wallets {
        Wallets::new(self.ctx.clone())
    }

    /// Payment operations.
    pub fn payments(&self) -> Payments {
        Payments::new(self.ctx.clone())
    }

    /// Catalog operations.
    pub fn catalog(&self) -> Catalog {
        Catalog::new(self.ctx.clone())
    }

    /// Coupon operations.
    pub fn coupons(&self) -> Coupons {
        Coupons::new(self.ctx.clone())
    }

    /// The directory of stores (positions and delivery radii).
    pub fn directory(&self) -> Directory {
        Directory::new(self.ctx.clone())
    }

    /// Serve gRPC on `grpc` and HTTP on `http` until `shutdown` is cancelled, then let
    /// in-flight requests finish within `shutdown_grace_secs`.
    pub async fn serve(
        self,
        grpc: TcpListener,
        http: TcpListener,
        shutdown: CancellationToken,
    ) -> Result<(), CloudError> {
        let ctx = self.ctx.clone();
        let stop = shutdown.child_token();
        let (health, health_service) = tonic_health::server::health_reporter();
        health
            .set_serving::<PaymentServiceServer<PaymentApi>>()
            .await;
        health
            .set_serving::<CatalogServiceServer<CatalogApi>>()
            .await;
        health
            .set_serving::<ShopperServiceServer<ShopperApi>>()
            .await;
        health
            .set_serving::<StoreDirectoryServer<StoreDirectoryApi>>()
            .await;
        // Reflection in both versions: grpc.reflection.v1, and v1alpha for the clients that
        // speak only it (Python's grpcio-reflection, older grpcurl, Postman). Each lists both.
        let reflection_error = |e: tonic_reflection::server::Error| {
            CloudError::Io(std::io::Error::other(e.to_string()))
        };
        let reflection = reflection_builder().build_v1().map_err(reflection_error)?;
        let reflection_v1alpha = reflection_builder()
            .build_v1alpha()
            .map_err(reflection_error)?;

        let deliveries = Deliveries::new(ctx.clone());
        let auth = StoreAuth::from_config(&ctx.config);
        if !auth.enabled() {
            tracing::warn!("no store tokens configured: any caller may act for any store");
        }
        let admin = AdminAuth::from_config(&ctx.config);
        if admin.closed() {
            tracing::warn!(
                "stores authenticate but admin_token_sha256 is not set: catalog changes are refused"
            );
        }
        let funding = FundingAuth::from_config(&ctx.config);
        if !funding.configured() {
            tracing::warn!(
                "funding_token_sha256 is not set: no funding authority, so every top-up is refused"
            );
        }
        let grpc_addr = grpc.local_addr()?;
        let http_addr = http.local_addr()?;
        let mut builder = tonic::transport::Server::builder();
        if let Some(tls) = &ctx.config.tls {
            builder = builder
                .tls_config(server_tls(tls)?)
                .map_err(|e| CloudError::Tls(e.to_string()))?;
            tracing::info!(
                client_certificates = tls.client_ca.is_some(),
                "gRPC served over TLS"
            );
        }
        let shopper = ShopperApi::new(
            self.catalog(),
            self.wallets(),
            self.payments(),
            self.coupons(),
            deliveries.clone(),
            auth.clone(),
            funding,
        );
        let directory = StoreDirectoryApi::new(self.directory(), auth.clone());
        let router = builder
            .add_service(health_service)
            .add_service(reflection)
            .add_service(reflection_v1alpha)
            .add_service(PaymentServiceServer::new(PaymentApi::new(
                self.payments(),
                auth.clone(),
            )))
            .add_service(CatalogServiceServer::new(CatalogApi::new(
                self.catalog(),
                auth.clone(),
                admin,
            )))
            .add_service(StoreDirectoryServer::new(directory.clone()))
            .add_service(ShopperServiceServer::new(shopper.clone()));

        let tasks = TaskTracker::new();
        let grpc_task = tasks.spawn({
            let stop = stop.clone();
            async move {
                // Small gRPC frames must not wait for Nagle's algorithm (40 ms stalls otherwise).
                let incoming = TcpListenerStream::new(grpc).map(|conn| {
                    if let Ok(conn) = &conn {
                        let _ = conn.set_nodelay(true);
                    }
                    conn
                });
                let result = router
                    .serve_with_incoming_shutdown(incoming, stop.clone().cancelled_owned())
                    .await;
                stop.cancel();
                result.map_err(CloudError::from)
            }
        });
        let http_task = tasks.spawn({
            let stop = stop.clone();
            let app = crate::http::router(ctx.clone(), crate::app::AppApi { shopper, directory });
            async move {
                let result = axum::serve(http, app)
                    .with_graceful_shutdown(stop.clone().cancelled_owned())
                    .await;
                stop.cancel();
                result.map_err(CloudError::from)
            }
        });
        tasks.spawn(sweep_pending(
            self.payments(),
            ctx.config.sweep_interval_secs,
            stop.clone(),
        ));
        tasks.spawn(crate::trace::consumer::run_configured(
            ctx.clone(),
            stop.clone(),
        ));
        tasks.spawn(sweep_unanswered_deliveries(
            ctx.clone(),
            deliveries.clone(),
            stop.clone(),
        ));
        tasks.spawn(crate::delivery::relay::run_configured(
            ctx.clone(),
            deliveries,
            stop.clone(),
        ));
        tasks.close();
        tracing::info!(%grpc_addr, %http_addr, "cloud serving");

        stop.cancelled().await;
        tracing::info!("cloud stopping: draining in-flight requests");
        for service in [
            "omo.payment.v1.PaymentService",
            "omo.catalog.v1.CatalogService",
            "omo.shopper.v1.ShopperService",
            "omo.store.v1.StoreDirectory",
            "",
        ] {
            health
                .set_service_status(service, tonic_health::ServingStatus::NotServing)
                .await;
        }
        let grace = Duration::from_secs(ctx.config.shutdown_grace_secs);
        if tokio::time::timeout(grace, tasks.wait()).await.is_err() {
            tracing::warn!(
                grace_secs = grace.as_secs(),
                "cloud did not drain within the grace period; stopping anyway"
            );
        }
        let mut first_error = None;
        for task in [grpc_task, http_task] {
            if task.is_finished() {
                if let Ok(Err(e)) = task.await {
                    first_error.get_or_insert(e);
                }
            } else {
                task.abort();
            }
        }
        ctx.db.close().await;
        tracing::info!("cloud stopped");
        match first_error {
            Some(e) if !shutdown.is_cancelled() => Err(e),
            Some(e) => {
                tracing::warn!(error = %e, "server error during shutdown");
                Ok(())
            }
            None => Ok(()),
        }
    }
}

/// Why the cloud will not listen where its config says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InsecureListen(pub String);

/// Refuse a gRPC listen address other than loopback while stores do not authenticate (no
/// `store_token_sha256` and no `[tls] client_ca`): anyone who can reach the port could then pay
/// and change the catalog as any store. `insecure_dev` (`omo cloud --insecure-dev`) allows it.
pub fn check_listen(config: &CloudConfig, insecure_dev: bool) -> Result<(), InsecureListen> {
    let addr = config.grpc_listen;
    if addr.ip().is_loopback() || StoreAuth::from_config(config).enabled() {
        return Ok(());
    }
    if insecure_dev {
        tracing::warn!(%addr, "--insecure-dev: listening beyond loopback with no store authentication; any caller may act for any store");
        return Ok(());
    }
    Err(InsecureListen(format!(
        "refusing to listen on {addr} (not loopback) without store authentication: anyone who \
         can reach it could act for any store. Configure store_token_sha256 (or [tls] client_ca), \
         listen on 127.0.0.1, or pass --insecure-dev for a development setup"
    )))
}

/// Open the cloud from its config and serve until `shutdown` (what `omo cloud` calls).
pub async fn serve(
    config: CloudConfig,
    grpc: TcpListener,
    http: TcpListener,
    shutdown: CancellationToken,
) -> Result<(), CloudError> {
    Cloud::open(config).await?.serve(grpc, http, shutdown).await
}

/// The rustls server configuration `[tls]` asks for; a missing file is named.
fn server_tls(tls: &TlsConfig) -> Result<ServerTlsConfig, CloudError> {
    let read = |path: &std::path::Path| {
        std::fs::read(path).map_err(|e| CloudError::Tls(format!("tls: {}: {e}", path.display())))
    };
    let mut config =
        ServerTlsConfig::new().identity(Identity::from_pem(read(&tls.cert)?, read(&tls.key)?));
    if let Some(ca) = &tls.client_ca {
        config = config
            .client_ca_root(Certificate::from_pem(read(ca)?))
            .client_auth_optional(!tls.require_client_cert);
    }
    Ok(config)
}

/// Refuse and refund, every `sweep_interval_secs`, the delivery orders their store has not
/// answered within `delivery_answer_timeout_secs` (whether or not a broker is configured).
async fn sweep_unanswered_deliveries(
    ctx: Context,
    deliveries: Deliveries,
    stop: CancellationToken,
) {
    let mut tick =
        tokio::time::interval(Duration::from_secs(ctx.config.sweep_interval_secs.max(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let timeout = i64::try_from(ctx.config.delivery_answer_timeout_secs)
        .unwrap_or(i64::MAX)
        .min(10 * 365 * 86_400);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => {
                let cutoff = crate::clock::to_rfc3339(ctx.now() - chrono::Duration::seconds(timeout));
                match deliveries.expire_unanswered(&cutoff).await {
                    Ok(0) => {}
                    Ok(n) => tracing::warn!(orders = n, "delivery orders their store never answered were refused and refunded"),
                    Err(e) => tracing::warn!(error = %e, "expiring unanswered delivery orders failed; will retry"),
                }
                if let Err(e) = deliveries.drop_stale_parked(&cutoff).await {
                    tracing::warn!(error = %e, "dropping stale parked rider steps failed; will retry");
                }
            }
        }
    }
}

/// Close overdue pending payments every `interval_secs` until stopped.
async fn sweep_pending(payments: Payments, interval_secs: u64, stop: CancellationToken) {
    let mut tick = tokio::time::interval(Duration::from_secs(interval_secs.max(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => {
                if let Err(e) = payments.sweep_expired().await {
                    tracing::warn!(error = %e, "closing overdue pending payments failed; will retry");
                }
            }
        }
    }
}

/// The reflection of every service the cloud serves, its own two versions included.
fn reflection_builder() -> tonic_reflection::server::Builder<'static> {
    tonic_reflection::server::Builder::configure()
        .include_reflection_service(false)
        .register_encoded_file_descriptor_set(omo_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_public_address_needs_store_authentication_or_insecure_dev() {
        let mut config = CloudConfig::default();
        assert!(check_listen(&config, false).is_ok(), "loopback is fine");
        config.grpc_listen = "0.0.0.0:50051".parse().unwrap();
        let err = check_listen(&config, false).unwrap_err().to_string();
        assert!(
            err.contains("0.0.0.0:50051") && err.contains("--insecure-dev"),
            "{err}"
        );
        assert!(check_listen(&config, true).is_ok());
        config.grpc_listen = "[::]:50051".parse().unwrap();
        assert!(check_listen(&config, false).is_err());
        config
            .store_token_sha256
            .insert("SH-001".into(), crate::identity::token_sha256("t"));
        assert!(check_listen(&config, false).is_ok());
    }
}
