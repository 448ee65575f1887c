//! [`AppClient`]: the calls the shopper's app makes on the cloud's ShopperService, each with the
//! wallet's app token, and the funding authority's top-up (with its own token).

use omo_proto::shopper::shopper_service_client::ShopperServiceClient;
use omo_proto::shopper::{
    ConfirmPaymentRequest, DeliveryOrder, Dropoff, EnrollRequest, GetDeliveryOrderRequest,
    GetWalletRequest, ListFundingMovementsRequest, ListFundingMovementsResponse,
    ListReceiptsRequest, PlaceDeliveryOrderRequest, Receipt, SetDeliveryAddressRequest,
    TopUpRequest, Wallet,
};
use tonic::transport::Channel;

use crate::{AppError, AppWallet};

/// The app's connection to the cloud.
#[derive(Debug, Clone)]
pub struct AppClient {
    client: ShopperServiceClient<Channel>,
}

impl AppClient {
    /// Connects to the cloud's gRPC URL (plain HTTP/2).
    pub async fn connect(url: &str) -> Result<AppClient, AppError> {
        let client = ShopperServiceClient::connect(url.to_string())
            .await
            .map_err(|source| AppError::Unreachable {
                url: url.to_string(),
                source,
            })?;
        Ok(AppClient { client })
    }

    /// Over a channel the caller made (e.g. TLS with the cloud's CA).
    pub fn new(channel: Channel) -> AppClient {
        AppClient {
            client: ShopperServiceClient::new(channel),
        }
    }

    /// Over a ShopperService client the caller already holds.
    pub fn from_service(client: ShopperServiceClient<Channel>) -> AppClient {
        AppClient { client }
    }

    /// The ShopperService client underneath, for calls this client does not wrap.
    pub fn service(&mut self) -> &mut ShopperServiceClient<Channel> {
        &mut self.client
    }

    /// Enrolls a wallet (`balance_fen` must be 0: the cloud refuses anything else).
    pub async fn enroll(&mut self, name: &str, balance_fen: i64) -> Result<AppWallet, AppError> {
        let response = self
            .client
            .enroll(EnrollRequest {
                display_name: name.to_string(),
                initial_balance_fen: balance_fen,
            })
            .await
            .map_err(AppError::Refused)?
            .into_inner();
        let wallet = response.wallet.ok_or(AppError::NoWallet)?;
        Ok(AppWallet {
            wallet_id: wallet.wallet_id,
            secret_base32: response.secret_base32,
            display_name: wallet.display_name,
        })
    }

    /// The wallet as the cloud keeps it (balance, frozen, delivery address).
    pub async fn wallet(&mut self, wallet: &AppWallet) -> Result<Wallet, AppError> {
        let request = wallet.request(GetWalletRequest {
            wallet_id: wallet.wallet_id.clone(),
        })?;
        Ok(self
            .client
            .get_wallet(request)
            .await
            .map_err(AppError::Refused)?
            .into_inner())
    }

    /// The wallet's receipts, newest last as the cloud lists them.
    pub async fn receipts(&mut self, wallet: &AppWallet) -> Result<Vec<Receipt>, AppError> {
        let request = wallet.request(ListReceiptsRequest {
            wallet_id: wallet.wallet_id.clone(),
        })?;
        Ok(self
            .client
            .list_receipts(request)
            .await
            .map_err(AppError::Refused)?
            .into_inner()
            .receipts)
    }

    /// Keeps the wallet's delivery address; answers the wallet.
    pub async fn set_address(
        &mut self,
        wallet: &AppWallet,
        address: Dropoff,
    ) -> Result<Wallet, AppError> {
        let request = wallet.request(SetDeliveryAddressRequest {
            wallet_id: wallet.wallet_id.clone(),
            address: Some(address),
        })?;
        Ok(self
            .client
            .set_delivery_address(request)
            .await
            .map_err(AppError::Refused)?
            .into_inner())
    }

    /// Places a home-delivery order (idempotent by its order id).
    pub async fn deliver(
        &mut self,
        wallet: &AppWallet,
        order: PlaceDeliveryOrderRequest,
    ) -> Result<DeliveryOrder, AppError> {
        let request = wallet.request(order)?;
        Ok(self
            .client
            .place_delivery_order(request)
            .await
            .map_err(AppError::Refused)?
            .into_inner())
    }

    /// A delivery order as the cloud follows it.
    pub async fn delivery_order(
        &mut self,
        wallet: &AppWallet,
        order_id: &str,
    ) -> Result<DeliveryOrder, AppError> {
        let request = wallet.request(GetDeliveryOrderRequest {
            wallet_id: wallet.wallet_id.clone(),
            order_id: order_id.to_string(),
        })?;
        Ok(self
            .client
            .get_delivery_order(request)
            .await
            .map_err(AppError::Refused)?
            .into_inner())
    }

    /// Confirms (`approve`) or rejects a payment waiting for the app; answers its status.
    pub async fn confirm(
        &mut self,
        wallet: &AppWallet,
        payment_id: &str,
        approve: bool,
    ) -> Result<String, AppError> {
        let request = wallet.request(ConfirmPaymentRequest {
            wallet_id: wallet.wallet_id.clone(),
            payment_id: payment_id.to_string(),
            approve,
        })?;
        Ok(self
            .client
            .confirm_payment(request)
            .await
            .map_err(AppError::Refused)?
            .into_inner()
            .status)
    }

    /// Tops up `wallet_id` as the funding authority holding `token`, once per `top_up_id`.
    pub async fn top_up(
        &mut self,
        token: &str,
        wallet_id: &str,
        amount_fen: i64,
        top_up_id: &str,
    ) -> Result<Wallet, AppError> {
        let request = omo_cloud::identity::with_bearer(
            TopUpRequest {
                wallet_id: wallet_id.to_string(),
                amount_fen,
                top_up_id: top_up_id.to_string(),
            },
            token,
        );
        self.client
            .top_up(request)
            .await
            .map_err(AppError::Refused)?
            .into_inner()
            .wallet
            .ok_or(AppError::NoWallet)
    }

    /// The funding account's movements after `after_seq`, as the funding authority sees them.
    pub async fn funding_movements(
        &mut self,
        token: &str,
        after_seq: i64,
        limit: u32,
    ) -> Result<ListFundingMovementsResponse, AppError> {
        let request = omo_cloud::identity::with_bearer(
            ListFundingMovementsRequest { after_seq, limit },
            token,
        );
        Ok(self
            .client
            .list_funding_movements(request)
            .await
            .map_err(AppError::Refused)?
            .into_inner())
    }
}
