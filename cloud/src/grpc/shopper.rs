//! `omo.shopper.v1.ShopperService` (the phone app's API) over wallets, payments, coupons and
//! delivery orders. Every call but Enroll must carry the wallet's app token
//! ([`crate::paycode::app_token`]), except TopUp and ListFundingMovements, which only the
//! funding authority may make ([`crate::funding::FundingAuth`]); ListCoupons also answers a
//! store's lane.

use omo_proto::shopper::shopper_service_server::ShopperService;
use omo_proto::shopper::{
    Campaign, ListCampaignsRequest, ListCampaignsResponse, ListProductsRequest,
    ListProductsResponse, ShopProduct,
};
use omo_proto::shopper::{
    ClaimCouponRequest, ConfirmPaymentRequest, ConfirmPaymentResponse, Coupon, EnrollRequest,
    EnrollResponse, FundingMovement, GetWalletRequest, ListCouponsRequest, ListCouponsResponse,
    ListFundingMovementsRequest, ListFundingMovementsResponse, ListReceiptsRequest,
    ListReceiptsResponse, Receipt, TopUpRequest, TopUpResponse, Wallet,
};
use omo_proto::shopper::{
    DeliveryLine, DeliveryOrder, Dropoff, GetDeliveryOrderRequest, PlaceDeliveryOrderRequest,
    SetDeliveryAddressRequest,
};
use tonic::{Request, Response, Status};

use super::wallet_to_proto;
use crate::coupons::{CouponView, Coupons};
use crate::delivery::{self, Deliveries, PlaceInput};
use crate::funding::{self, FundingAuth};
use crate::identity::StoreAuth;
use crate::payments::Payments;
use crate::wallets::Wallets;

/// The shopper service.
#[derive(Clone)]
pub struct ShopperApi {
    catalog: crate::catalog::Catalog,
    wallets: Wallets,
    payments: Payments,
    coupons: Coupons,
    deliveries: Deliveries,
    stores: StoreAuth,
    funding: FundingAuth,
}

impl ShopperApi {
    /// Serve the phone app.
    pub fn new(
        catalog: crate::catalog::Catalog,
        wallets: Wallets,
        payments: Payments,
        coupons: Coupons,
        deliveries: Deliveries,
        stores: StoreAuth,
        funding: FundingAuth,
    ) -> Self {
        Self {
            catalog,
            wallets,
            payments,
            coupons,
            deliveries,
            stores,
            funding,
        }
    }
}

impl ShopperApi {
    /// `wallet` with its delivery address, as the app shows it.
    async fn with_address(&self, mut wallet: Wallet) -> Result<Response<Wallet>, Status> {
        wallet.delivery_address = self
            .deliveries
            .address(&wallet.wallet_id)
            .await?
            .map(|(lat, lon, address)| Dropoff { lat, lon, address });
        Ok(Response::new(wallet))
    }
}

fn delivery_to_proto(o: delivery::DeliveryOrder) -> DeliveryOrder {
    DeliveryOrder {
        order_id: o.order_id,
        store_id: o.store_id,
        wallet_id: o.wallet_id,
        status: o.status,
        lines: o
            .lines
            .into_iter()
            .map(|l| DeliveryLine {
                gtin: l.gtin,
                quantity: l.quantity,
                name: l.name,
                unit_price_fen: l.unit_price_fen,
                amount_fen: l.amount_fen,
            })
            .collect(),
        purchase_order_id: o.purchase_order_id,
        dropoff: Some(Dropoff {
            lat: o.lat,
            lon: o.lon,
            address: o.address,
        }),
        distance_m: o.distance_m,
        radius_m: o.radius_m,
        amount_fen: o.amount_fen,
        payment_id: o.payment_id,
        placed_at: o.placed_at,
        promised_by: o.promised_by,
        refusal: o.refusal,
        rider_id: o.progress.rider_id,
        eta: o.progress.eta,
        picked_up_at: o.progress.picked_up_at,
        delivered_at: o.progress.delivered_at,
    }
}

fn coupon_to_proto(c: CouponView) -> Coupon {
    Coupon {
        coupon_id: c.coupon_id,
        campaign_id: c.campaign_id,
        wallet_id: c.wallet_id,
        status: c.status.to_owned(),
        code: c.code,
        claimed_at: c.claimed_at,
        redeemed_at: c.redeemed_at,
    }
}

#[tonic::async_trait]
impl ShopperService for ShopperApi {
    async fn enroll(
        &self,
        request: Request<EnrollRequest>,
    ) -> Result<Response<EnrollResponse>, Status> {
        let r = request.into_inner();
        let enrolled = self
            .wallets
            .enroll(&r.display_name, r.initial_balance_fen)
            .await?;
        Ok(Response::new(EnrollResponse {
            wallet: Some(wallet_to_proto(&enrolled.wallet)),
            app_token: crate::paycode::decode_secret(&enrolled.secret_base32)
                .map(|secret| crate::paycode::app_token(&secret))
                .unwrap_or_default(),
            secret_base32: enrolled.secret_base32,
        }))
    }

    async fn top_up(
        &self,
        request: Request<TopUpRequest>,
    ) -> Result<Response<TopUpResponse>, Status> {
        // Only the funding authority makes money enter a wallet (never the wallet's own app).
        self.funding.check(request.metadata())?;
        let r = request.into_inner();
        let wallet = self
            .wallets
            .top_up(&r.wallet_id, r.amount_fen, &r.top_up_id)
            .await?;
        Ok(Response::new(TopUpResponse {
            wallet: Some(wallet_to_proto(&wallet)),
        }))
    }

    async fn list_funding_movements(
        &self,
        request: Request<ListFundingMovementsRequest>,
    ) -> Result<Response<ListFundingMovementsResponse>, Status> {
        self.funding.check(request.metadata())?;
        let r = request.into_inner();
        let (rows, total_fen) = funding::movements(self.wallets.db(), r.after_seq, r.limit).await?;
        Ok(Response::new(ListFundingMovementsResponse {
            movements: rows
                .into_iter()
                .map(|m| FundingMovement {
                    seq: m.seq,
                    kind: m.kind,
                    ref_id: m.ref_id,
                    counter_account: m.counter_account,
                    amount_fen: m.amount_fen,
                    at: m.at,
                })
                .collect(),
            total_fen,
        }))
    }

    async fn get_wallet(
        &self,
        request: Request<GetWalletRequest>,
    ) -> Result<Response<Wallet>, Status> {
        self.wallets
            .authenticate(request.metadata(), &request.get_ref().wallet_id)
            .await?;
        let wallet = self.wallets.get(&request.into_inner().wallet_id).await?;
        self.with_address(wallet_to_proto(&wallet)).await
    }

    async fn set_delivery_address(
        &self,
        request: Request<SetDeliveryAddressRequest>,
    ) -> Result<Response<Wallet>, Status> {
        self.wallets
            .authenticate(request.metadata(), &request.get_ref().wallet_id)
            .await?;
        let r = request.into_inner();
        let address = r
            .address
            .ok_or_else(|| crate::ServiceError::invalid("address", "missing"))?;
        self.deliveries
            .set_address(&r.wallet_id, address.lat, address.lon, &address.address)
            .await?;
        let wallet = self.wallets.get(&r.wallet_id).await?;
        self.with_address(wallet_to_proto(&wallet)).await
    }

    async fn confirm_payment(
        &self,
        request: Request<ConfirmPaymentRequest>,
    ) -> Result<Response<ConfirmPaymentResponse>, Status> {
        self.wallets
            .authenticate(request.metadata(), &request.get_ref().wallet_id)
            .await?;
        let r = request.into_inner();
        let row = self
            .payments
            .confirm(&r.wallet_id, &r.payment_id, r.approve)
            .await?;
        Ok(Response::new(ConfirmPaymentResponse { status: row.status }))
    }

    async fn claim_coupon(
        &self,
        request: Request<ClaimCouponRequest>,
    ) -> Result<Response<Coupon>, Status> {
        self.wallets
            .authenticate(request.metadata(), &request.get_ref().wallet_id)
            .await?;
        let r = request.into_inner();
        let coupon = self
            .coupons
            .claim(&r.wallet_id, &r.campaign_id, &r.claim_id)
            .await?;
        Ok(Response::new(coupon_to_proto(coupon)))
    }

    async fn list_coupons(
        &self,
        request: Request<ListCouponsRequest>,
    ) -> Result<Response<ListCouponsResponse>, Status> {
        let r = request.get_ref();
        if r.store_id.is_empty() {
            self.wallets
                .authenticate(request.metadata(), &r.wallet_id)
                .await?;
        } else {
            // A store's lane, fetching the coupons to apply at payment time.
            self.stores.check(&request, &r.store_id)?;
        }
        let coupons = self.coupons.list(&request.into_inner().wallet_id).await?;
        Ok(Response::new(ListCouponsResponse {
            coupons: coupons.into_iter().map(coupon_to_proto).collect(),
        }))
    }

    async fn place_delivery_order(
        &self,
        request: Request<PlaceDeliveryOrderRequest>,
    ) -> Result<Response<DeliveryOrder>, Status> {
        let r = request.get_ref();
        let as_app = self
            .wallets
            .authenticate(request.metadata(), &r.wallet_id)
            .await;
        if let Err(refused) = as_app {
            // A store's lane, for a basket paid there, to the wallet's own address only.
            if r.purchase_order_id.is_empty() || r.dropoff.is_some() {
                return Err(refused.into());
            }
            self.stores.check(&request, &r.store_id)?;
        }
        let r = request.into_inner();
        let dropoff = match r.dropoff {
            Some(dropoff) => dropoff,
            None => {
                let (lat, lon, address) =
                    self.deliveries.address(&r.wallet_id).await?.ok_or_else(|| {
                        crate::ServiceError::FailedPrecondition(
                            "no drop-off given and the wallet keeps no delivery address (set one in the app)"
                                .into(),
                        )
                    })?;
                Dropoff { lat, lon, address }
            }
        };
        let input = PlaceInput {
            wallet_id: r.wallet_id,
            store_id: r.store_id,
            order_id: r.order_id,
            lines: r.lines.into_iter().map(|l| (l.gtin, l.quantity)).collect(),
            purchase_order_id: r.purchase_order_id,
            lat: dropoff.lat,
            lon: dropoff.lon,
            address: dropoff.address,
        };
        let order = self.deliveries.place(&input).await?;
        Ok(Response::new(delivery_to_proto(order)))
    }

    async fn get_delivery_order(
        &self,
        request: Request<GetDeliveryOrderRequest>,
    ) -> Result<Response<DeliveryOrder>, Status> {
        self.wallets
            .authenticate(request.metadata(), &request.get_ref().wallet_id)
            .await?;
        let r = request.into_inner();
        let order = self.deliveries.get(&r.wallet_id, &r.order_id).await?;
        Ok(Response::new(delivery_to_proto(order)))
    }

    async fn list_campaigns(
        &self,
        request: Request<ListCampaignsRequest>,
    ) -> Result<Response<ListCampaignsResponse>, Status> {
        self.wallets
            .authenticate(request.metadata(), &request.get_ref().wallet_id)
            .await?;
        let campaigns = self
            .coupons
            .live_campaigns()
            .await?
            .into_iter()
            .map(|c| Campaign {
                campaign_id: c.campaign_id,
                name: c.name,
                min_spend_fen: c.min_spend_fen,
                amount_off_fen: c.amount_off_fen,
                percent_off: c.percent_off,
                gtins: c.gtins,
                ends_at: c.ends_at,
            })
            .collect();
        Ok(Response::new(ListCampaignsResponse { campaigns }))
    }

    async fn list_products(
        &self,
        request: Request<ListProductsRequest>,
    ) -> Result<Response<ListProductsResponse>, Status> {
        self.wallets
            .authenticate(request.metadata(), &request.get_ref().wallet_id)
            .await?;
        let (products, _) = self.catalog.changes(0, 500).await?;
        let products = products
            .into_iter()
            .filter(|p| !p.withdrawn && p.unit == omo_proto::catalog::Unit::Each as i32)
            .map(|p| ShopProduct {
                gtin: p.gtin,
                name: p.name,
                price_fen: p.price_fen,
                origin: p.origin,
                min_age: p.min_age,
            })
            .collect();
        Ok(Response::new(ListProductsResponse { products }))
    }

    async fn list_receipts(
        &self,
        request: Request<ListReceiptsRequest>,
    ) -> Result<Response<ListReceiptsResponse>, Status> {
        self.wallets
            .authenticate(request.metadata(), &request.get_ref().wallet_id)
            .await?;
        let wallet_id = request.into_inner().wallet_id;
        let rows = self.payments.receipts(&wallet_id).await?;
        // Only this wallet's passes: the table is read by the authenticated wallet's id.
        let mut passes = self.payments.exit_passes(&wallet_id).await?;
        let receipts = rows
            .into_iter()
            .map(|p| Receipt {
                exit_pass: passes.remove(&p.payment_id).unwrap_or_default(),
                payment_id: p.payment_id,
                store_id: p.store_id,
                order_id: p.order_id,
                amount_fen: p.amount_fen,
                refunded_fen: p.refunded_fen,
                status: p.status,
                description: p.description,
                created_at: p.created_at,
            })
            .collect();
        Ok(Response::new(ListReceiptsResponse { receipts }))
    }
}
