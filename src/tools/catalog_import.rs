//! `omo catalog import` and the catalog uploads of `omo up`: how an administrator's tool reaches
//! the cloud's CatalogService (URL, CA for https://, the administrator's bearer token).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use omo_proto::catalog::UpsertRequest;
use omo_proto::catalog::catalog_service_client::CatalogServiceClient;
use serde_json::json;
use tonic::Code;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

use crate::cli::{CatalogAction, CatalogArgs};
use crate::usage::UsageError;

/// `omo catalog import FILE.csv [--cloud URL] [--token TOKEN] [--ca FILE]`.
pub async fn catalog(args: CatalogArgs) -> anyhow::Result<()> {
    let CatalogAction::Import {
        file,
        cloud,
        token,
        ca,
    } = args.action;
    let reader =
        std::fs::File::open(&file).with_context(|| format!("cannot open {}", file.display()))?;
    let products = omo_cloud::catalog_csv::parse_catalog_csv(reader)
        .map_err(|e| UsageError(format!("{}: {e}", file.display())))?;
    let cloud = CloudAccess {
        url: cloud,
        ca,
        token,
    };
    let (changed, version) = upsert_catalog_as(&cloud, products).await?;
    println!(
        "{}",
        json!({ "file": file.display().to_string(), "changed": changed, "catalog_version": version })
    );
    Ok(())
}

/// How an administrator's tool reaches the cloud: its URL, the CA that signed its certificate
/// (for https://), and the administrator's token (the cloud's `admin_token_sha256`).
#[derive(Debug, Clone, Default)]
pub struct CloudAccess {
    pub url: String,
    pub ca: Option<PathBuf>,
    pub token: Option<String>,
}

impl CloudAccess {
    /// A cloud in the open development mode: plain HTTP/2, no token.
    pub fn open(url: &str) -> CloudAccess {
        CloudAccess {
            url: url.to_string(),
            ..CloudAccess::default()
        }
    }

    /// A connected catalog client that sends the token (if any) on every call.
    async fn catalog_client(
        &self,
    ) -> anyhow::Result<CatalogServiceClient<InterceptedService<Channel, impl Interceptor + use<>>>>
    {
        let authorization = self.token.as_deref().map(bearer).transpose()?;
        let mut endpoint = Endpoint::from_shared(self.url.clone())
            .map_err(|e| UsageError(format!("--cloud {:?}: {e}", self.url)))?
            .connect_timeout(Duration::from_secs(5));
        let https = endpoint.uri().scheme_str() == Some("https");
        match (&self.ca, https) {
            (Some(ca), true) => {
                let pem = std::fs::read(ca)
                    .map_err(|e| UsageError(format!("--ca {}: {e}", ca.display())))?;
                endpoint = endpoint
                    .tls_config(ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pem)))
                    .map_err(|e| UsageError(format!("--ca {}: {e}", ca.display())))?;
            }
            (Some(_), false) => {
                return Err(UsageError("--ca needs an https:// --cloud".into()).into());
            }
            (None, true) => {
                return Err(UsageError(
                    "an https:// --cloud needs --ca, the CA that signed the cloud's certificate"
                        .into(),
                )
                .into());
            }
            (None, false) => {}
        }
        let channel = endpoint
            .connect()
            .await
            .with_context(|| format!("cannot reach the cloud at {}", self.url))?;
        Ok(CatalogServiceClient::with_interceptor(
            channel,
            move |mut request: tonic::Request<()>| {
                if let Some(value) = &authorization {
                    request
                        .metadata_mut()
                        .insert("authorization", value.clone());
                }
                Ok(request)
            },
        ))
    }
}

/// `Bearer <token>`, as an `authorization` value.
fn bearer(token: &str) -> Result<MetadataValue<Ascii>, UsageError> {
    format!("Bearer {}", token.trim())
        .parse()
        .map_err(|_| UsageError("--token: the token must be printable ASCII".into()))
}

/// The cloud's refusal, with a hint when it is about the administrator's token.
fn refused(what: &str, status: &tonic::Status) -> anyhow::Error {
    let hint = match status.code() {
        Code::Unauthenticated | Code::PermissionDenied => {
            " (catalog changes need the administrator's token: --token or OMO_ADMIN_TOKEN)"
        }
        _ => "",
    };
    anyhow::anyhow!("the cloud refused {what}: {}{hint}", status.message())
}

/// Sends products to an open cloud's catalog; returns (changed, latest version).
pub async fn upsert_catalog(
    cloud: &str,
    products: Vec<omo_proto::catalog::Product>,
) -> anyhow::Result<(u32, i64)> {
    upsert_catalog_as(&CloudAccess::open(cloud), products).await
}

/// Sends products to the cloud's catalog as `cloud` says; returns (changed, latest version).
pub async fn upsert_catalog_as(
    cloud: &CloudAccess,
    products: Vec<omo_proto::catalog::Product>,
) -> anyhow::Result<(u32, i64)> {
    let mut client = cloud.catalog_client().await?;
    let mut changed = 0;
    let mut version = 0;
    for chunk in products.chunks(500) {
        let response = client
            .upsert(UpsertRequest {
                products: chunk.to_vec(),
                ..Default::default()
            })
            .await
            .map_err(|status| refused("the catalog", &status))?
            .into_inner();
        changed += response.changed;
        version = response.latest_version;
    }
    Ok((changed, version))
}

/// Sends promotions and coupon campaigns to an open cloud's catalog.
pub async fn upsert_offers(
    cloud: &str,
    promotions: Vec<omo_proto::catalog::Promotion>,
    campaigns: Vec<omo_proto::catalog::CouponCampaign>,
) -> anyhow::Result<()> {
    let mut client = CloudAccess::open(cloud).catalog_client().await?;
    client
        .upsert(UpsertRequest {
            promotions,
            campaigns,
            ..Default::default()
        })
        .await
        .map_err(|status| refused("the promotions", &status))?;
    Ok(())
}
