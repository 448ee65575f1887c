//! The small commands: `omo catalog import`, `omo barcode`, `omo scan`, `omo weigh`, `omo shopper`.
//! Each prints JSON on stdout (one document, or one line per event) and errors on stderr.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use omo_proto::catalog::UpsertRequest;
use omo_proto::catalog::catalog_service_client::CatalogServiceClient;
use omo_proto::shopper::shopper_service_client::ShopperServiceClient;
use omo_proto::shopper::{
    DeliveryLine, Dropoff, EnrollRequest, GetWalletRequest, ListReceiptsRequest,
    PlaceDeliveryOrderRequest, SetDeliveryAddressRequest,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tonic::Code;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

use crate::UsageError;
use crate::cli::{
    BarcodeArgs, CatalogAction, CatalogArgs, ScanArgs, ShopperAction, ShopperArgs, WeighArgs,
};

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

/// `omo barcode DATA`.
pub fn barcode(args: BarcodeArgs) -> anyhow::Result<()> {
    let data = args.data.replace("<GS>", "\u{1d}");
    if let Some(own) = crate::own_codes::parse(&data) {
        println!("{}", serde_json::to_string_pretty(&own?)?);
        return Ok(());
    }
    let formats = omo_devices::barcode::VariableMeasureFormats::default();
    match omo_devices::barcode::parse(&data, &formats) {
        Ok(parsed) => {
            println!("{}", serde_json::to_string_pretty(&parsed)?);
            Ok(())
        }
        Err(error) => {
            println!(
                "{}",
                json!({ "error": error.to_string(), "data": args.data })
            );
            Err(UsageError(format!("not a valid code: {error}")).into())
        }
    }
}

/// `omo scan --port PATH`: one JSON line per scan until Ctrl-C.
pub async fn scan(args: ScanArgs) -> anyhow::Result<()> {
    let mut config = omo_devices::scanner::ScannerConfig::new(args.port);
    config.baud = args.baud;
    let formats = omo_devices::barcode::VariableMeasureFormats::default();
    let mut reader = omo_devices::scanner::open_scanner(&config)?;
    loop {
        let frame = tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            frame = reader.next_frame() => frame?,
        };
        let line = match frame {
            Ok(frame) => match omo_devices::barcode::parse(&frame.raw, &formats) {
                Ok(parsed) => json!({ "raw": frame.raw, "at": frame.at, "parsed": parsed }),
                Err(error) => {
                    json!({ "raw": frame.raw, "at": frame.at, "error": error.to_string() })
                }
            },
            Err(error) => json!({ "error": error.to_string() }),
        };
        println!("{line}");
    }
}

/// `omo weigh --port PATH --protocol P`.
pub async fn weigh(args: WeighArgs) -> anyhow::Result<()> {
    let protocol: omo_devices::scale::ScaleProtocol = serde_json::from_value(json!(args.protocol))
        .map_err(|_| {
            UsageError(format!(
                "--protocol {:?}: expected toledo8217 or mt-sics",
                args.protocol
            ))
        })?;
    let mut config = omo_devices::scale::ScaleConfig::new(args.port.clone(), protocol);
    config.baud = args.baud;
    let grams = omo_devices::scale::read_stable(&config, Duration::from_secs(args.timeout_secs))
        .await
        .with_context(|| format!("no stable weight from {}", args.port))?;
    println!(
        "{}",
        json!({ "port": args.port, "protocol": args.protocol, "stable": true, "grams": grams })
    );
    Ok(())
}

/// A wallet as the phone app keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AppWallet {
    pub wallet_id: String,
    pub secret_base32: String,
    pub display_name: String,
}

impl AppWallet {
    /// `message` as the app sends it: with the wallet's app token
    /// (`authorization: Bearer <token>`), which the cloud asks of every shopper call but Enroll.
    pub fn request<T>(&self, message: T) -> anyhow::Result<tonic::Request<T>> {
        let secret = omo_cloud::paycode::decode_secret(&self.secret_base32)
            .map_err(|e| anyhow::anyhow!("wallet {}: bad secret: {e}", self.wallet_id))?;
        Ok(omo_cloud::identity::with_bearer(
            message,
            &omo_cloud::paycode::app_token(&secret),
        ))
    }
}

/// `omo shopper enroll | code | balance`.
pub async fn shopper(args: ShopperArgs) -> anyhow::Result<()> {
    match args.action {
        ShopperAction::Enroll {
            cloud,
            name,
            balance_fen,
        } => {
            let wallet = enroll(&cloud, &name, balance_fen).await?;
            save_wallet(&args.wallets, &wallet)?;
            println!(
                "{}",
                json!({ "wallet_id": wallet.wallet_id, "display_name": wallet.display_name, "balance_fen": 0, "saved_to": args.wallets.display().to_string(),
                        "fund_with": format!("omo shopper fund {} --amount-fen N --cloud {cloud}", wallet.wallet_id) })
            );
            Ok(())
        }
        ShopperAction::Fund {
            wallet,
            amount_fen,
            top_up_id,
            cloud,
            token_file,
        } => {
            crate::funding::fund_command(&wallet, amount_fen, top_up_id, &cloud, &token_file).await
        }
        ShopperAction::Funding {
            after,
            cloud,
            token_file,
        } => crate::funding::list_command(after, &cloud, &token_file).await,
        ShopperAction::Code { wallet } => {
            let wallets = load_wallets(&args.wallets)?;
            let entry = wallets.get(&wallet).ok_or_else(|| {
                UsageError(format!(
                    "wallet {wallet} is not in {} (enroll first)",
                    args.wallets.display()
                ))
            })?;
            println!("{}", current_code(entry)?);
            Ok(())
        }
        ShopperAction::Address {
            wallet,
            lat,
            lon,
            address,
            cloud,
        } => {
            let entry = saved_wallet(&args.wallets, &wallet)?;
            let mut client = ShopperServiceClient::connect(cloud.clone())
                .await
                .with_context(|| format!("cannot reach the cloud at {cloud}"))?;
            let wallet = client
                .set_delivery_address(entry.request(SetDeliveryAddressRequest {
                    wallet_id: wallet,
                    address: Some(Dropoff { lat, lon, address }),
                })?)
                .await
                .map_err(|s| anyhow::anyhow!("{}", s.message()))?
                .into_inner();
            let kept = wallet.delivery_address.unwrap_or_default();
            println!(
                "{}",
                json!({ "wallet_id": wallet.wallet_id, "delivery_address": { "lat": kept.lat, "lon": kept.lon, "address": kept.address } })
            );
            Ok(())
        }
        ShopperAction::Receipts { wallet, cloud } => {
            let entry = saved_wallet(&args.wallets, &wallet)?;
            let mut client = ShopperServiceClient::connect(cloud.clone())
                .await
                .with_context(|| format!("cannot reach the cloud at {cloud}"))?;
            let receipts = client
                .list_receipts(entry.request(ListReceiptsRequest { wallet_id: wallet })?)
                .await
                .map_err(|s| anyhow::anyhow!("{}", s.message()))?
                .into_inner()
                .receipts;
            for r in receipts {
                println!(
                    "{}",
                    json!({ "payment_id": r.payment_id, "store_id": r.store_id, "order_id": r.order_id,
                            "amount_fen": r.amount_fen, "refunded_fen": r.refunded_fen, "status": r.status,
                            "description": r.description, "created_at": r.created_at })
                );
            }
            Ok(())
        }
        ShopperAction::Deliver {
            wallet,
            store,
            lat,
            lon,
            address,
            items,
            purchase,
            order_id,
            cloud,
        } => {
            let entry = saved_wallet(&args.wallets, &wallet)?;
            let lines = items
                .iter()
                .map(|i| delivery_line(i))
                .collect::<Result<Vec<_>, _>>()?;
            if lines.is_empty() == purchase.is_none() {
                return Err(UsageError(
                    "give the goods (--item GTIN[xQTY], repeatable) or a lane purchase (--purchase ORDER_ID), not both".into(),
                )
                .into());
            }
            let request = PlaceDeliveryOrderRequest {
                wallet_id: wallet,
                store_id: store,
                order_id: order_id.unwrap_or_else(|| uuid::Uuid::now_v7().to_string()),
                lines,
                purchase_order_id: purchase.unwrap_or_default(),
                dropoff: lat.zip(lon).map(|(lat, lon)| Dropoff { lat, lon, address }),
            };
            let mut client = ShopperServiceClient::connect(cloud.clone())
                .await
                .with_context(|| format!("cannot reach the cloud at {cloud}"))?;
            let order = client
                .place_delivery_order(entry.request(request)?)
                .await
                .map_err(|s| anyhow::anyhow!("delivery refused: {}", s.message()))?
                .into_inner();
            println!(
                "{}",
                json!({ "order_id": order.order_id, "store_id": order.store_id, "status": order.status,
                        "distance_m": order.distance_m, "radius_m": order.radius_m, "amount_fen": order.amount_fen,
                        "payment_id": order.payment_id, "placed_at": order.placed_at, "refusal": order.refusal,
                        "lines": order.lines.iter().map(|l| json!({"gtin": l.gtin, "name": l.name, "quantity": l.quantity, "amount_fen": l.amount_fen})).collect::<Vec<_>>() })
            );
            if order.status == "OUT_OF_RANGE" {
                std::process::exit(3);
            }
            Ok(())
        }
        ShopperAction::Confirm {
            wallet,
            payment_id,
            cloud,
        } => crate::shopper_app::answer(&args.wallets, &wallet, payment_id, true, &cloud).await,
        ShopperAction::Reject {
            wallet,
            payment_id,
            cloud,
        } => crate::shopper_app::answer(&args.wallets, &wallet, payment_id, false, &cloud).await,
        ShopperAction::Delivery {
            wallet,
            order_id,
            cloud,
        } => crate::shopper_app::delivery(&args.wallets, &wallet, &order_id, &cloud).await,
        ShopperAction::Balance { wallet, cloud } => {
            let entry = saved_wallet(&args.wallets, &wallet)?;
            let mut client = ShopperServiceClient::connect(cloud.clone())
                .await
                .with_context(|| format!("cannot reach the cloud at {cloud}"))?;
            let wallet = client
                .get_wallet(entry.request(GetWalletRequest { wallet_id: wallet })?)
                .await
                .map_err(|s| anyhow::anyhow!("{}", s.message()))?
                .into_inner();
            println!(
                "{}",
                json!({ "wallet_id": wallet.wallet_id, "balance_fen": wallet.balance_fen, "frozen": wallet.frozen })
            );
            Ok(())
        }
    }
}

/// `GTIN` or `GTINxQTY` (quantity 1-99) as a delivery line.
fn delivery_line(text: &str) -> Result<DeliveryLine, UsageError> {
    let (gtin, quantity) = match text.split_once(['x', 'X', '*']) {
        Some((gtin, quantity)) => (gtin, quantity.parse().ok().filter(|q| (1..=99).contains(q))),
        None => (text, Some(1)),
    };
    match quantity {
        Some(quantity) if !gtin.is_empty() && gtin.bytes().all(|b| b.is_ascii_digit()) => {
            Ok(DeliveryLine {
                gtin: gtin.to_string(),
                quantity,
                ..Default::default()
            })
        }
        _ => Err(UsageError(format!(
            "--item {text:?}: expected GTIN or GTINxQUANTITY (1-99), e.g. 4006381333931x2"
        ))),
    }
}

/// The wallet `wallet` as the app saved it in the wallet file `path`.
pub(crate) fn saved_wallet(path: &Path, wallet: &str) -> Result<AppWallet, anyhow::Error> {
    let mut wallets = load_wallets(path)?;
    wallets.remove(wallet).ok_or_else(|| {
        UsageError(format!(
            "wallet {wallet} is not in {} (the app keeps its wallets there; enroll first)",
            path.display()
        ))
        .into()
    })
}

/// Enrolls a wallet with the cloud (`balance_fen` must be 0: the cloud refuses anything else).
pub async fn enroll(cloud: &str, name: &str, balance_fen: i64) -> anyhow::Result<AppWallet> {
    let mut client = ShopperServiceClient::connect(cloud.to_string())
        .await
        .with_context(|| format!("cannot reach the cloud at {cloud}"))?;
    let response = client
        .enroll(EnrollRequest {
            display_name: name.to_string(),
            initial_balance_fen: balance_fen,
        })
        .await
        .map_err(|s| -> anyhow::Error {
            if s.code() == Code::InvalidArgument {
                UsageError(format!("enrolment refused: {}", s.message())).into()
            } else {
                anyhow::anyhow!("enrolment refused: {}", s.message())
            }
        })?
        .into_inner();
    let wallet = response.wallet.context("the cloud returned no wallet")?;
    Ok(AppWallet {
        wallet_id: wallet.wallet_id,
        secret_base32: response.secret_base32,
        display_name: wallet.display_name,
    })
}

/// The wallet's payment code right now.
pub fn current_code(wallet: &AppWallet) -> anyhow::Result<String> {
    let secret = omo_cloud::paycode::decode_secret(&wallet.secret_base32)
        .map_err(|e| anyhow::anyhow!("wallet {}: bad secret: {e}", wallet.wallet_id))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("clock before 1970")?
        .as_secs();
    Ok(omo_cloud::paycode::payment_code(
        &wallet.wallet_id,
        &secret,
        now,
    ))
}

fn load_wallets(path: &Path) -> anyhow::Result<BTreeMap<String, AppWallet>> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text)
            .with_context(|| format!("{} is not a wallet file", path.display())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(error) => Err(error).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Adds a wallet to the app's file, written atomically (temp file, then rename), mode 0600.
pub(crate) fn save_wallet(path: &Path, wallet: &AppWallet) -> anyhow::Result<()> {
    let mut wallets = load_wallets(path)?;
    wallets.insert(wallet.wallet_id.clone(), wallet.clone());
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(&wallets)?)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
    }
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
