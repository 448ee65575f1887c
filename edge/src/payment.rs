//! Barcode pay from the lane's side, by the rules the big wallets set.
//!
//! [`PaymentClient::settle`] drives one order to a final answer by the rules of [`Settle`]
//! (`settle.rs`, a state machine with no IO, which the simulation runs too): Authorize, and when
//! the answer is lost Query until the cloud answers; an order the cloud never saw is Cancelled,
//! so a late Authorize cannot charge it; PENDING is polled until the shopper confirms or the lane
//! gives up and cancels. A time-out is "unknown", never "failed": the lane keeps the shopper
//! waiting rather than guess. The client also fetches a wallet's app coupons, attaches exit
//! passes, refunds and asks for a lane basket's home delivery.

use std::time::Duration;

use omo_proto::payment::payment_service_client::PaymentServiceClient;
use omo_proto::payment::{AttachExitPassRequest, Payment, RefundRequest};
use omo_proto::shopper::shopper_service_client::ShopperServiceClient;
use omo_proto::shopper::{DeliveryOrder, ListCouponsRequest, PlaceDeliveryOrderRequest};
use tonic::Code;
use tracing::{info, warn};

use crate::cloud::CloudChannel;
use crate::config::PaymentConfig;
use crate::lane::{PaymentOutcome, PresentedCoupon};

mod outcome;
mod settle;

pub use outcome::{is_definitive, outcome_of};
pub use settle::{Answer, Order, Phase, Request, Settle, Step, Then};

/// A connection to the cloud's payment service (cheap to clone).
#[derive(Clone)]
pub struct PaymentClient {
    client: PaymentServiceClient<CloudChannel>,
    shopper: ShopperServiceClient<CloudChannel>,
    store_id: String,
    config: PaymentConfig,
}

/// Why an exit pass was not attached.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttachError {
    /// The cloud understood and refused (not this store's payment, not paid, a bad pass).
    #[error("refused by the cloud: {0}")]
    Refused(String),
    /// No answer: try again later.
    #[error("cloud unreachable: {0}")]
    Unreachable(String),
}

impl PaymentClient {
    /// A lazily connecting client: the cloud may be down when the edge starts.
    pub fn new(channel: CloudChannel, store_id: String, config: PaymentConfig) -> PaymentClient {
        PaymentClient {
            shopper: ShopperServiceClient::new(channel.clone()),
            client: PaymentServiceClient::new(channel),
            store_id,
            config,
        }
    }

    fn timeout(&self) -> Duration {
        Duration::from_millis(self.config.rpc_timeout_ms)
    }

    /// Drives `order` to an answer (the rules are [`Settle`]'s), reporting each intermediate
    /// outcome (pending, unknown) through `progress`, and returns the final one.
    pub async fn settle(
        &self,
        order: Order,
        progress: impl Fn(PaymentOutcome) + Send,
    ) -> PaymentOutcome {
        let mut machine = Settle::new(&self.store_id, order, &self.config);
        let mut step = machine.start();
        loop {
            if let Some(outcome) = step.progress.take() {
                progress(outcome);
            }
            step = match step.then {
                Then::Done(outcome) => return outcome,
                Then::Sleep(pause) => {
                    tokio::time::sleep(pause).await;
                    machine.on_wake()
                }
                Then::Send(request) => {
                    let name = request.name();
                    if let Request::Cancel(cancel) = &request {
                        info!(order = %machine.order_id(), reason = %cancel.reason, "cancelling");
                    }
                    match tokio::time::timeout(self.timeout(), self.call(request)).await {
                        Ok(answer) => {
                            if let Err((code, message)) = &answer {
                                warn!(order = %machine.order_id(), request = name, ?code, message, "payment request refused or failed");
                            }
                            machine.on_answer(answer)
                        }
                        Err(_) => {
                            warn!(order = %machine.order_id(), request = name, "no answer in time; the payment is unknown");
                            machine.on_timeout()
                        }
                    }
                }
            };
        }
    }

    /// One request to the payment service, its answer as [`Settle`] takes it.
    async fn call(&self, request: Request) -> Answer {
        let mut client = self.client.clone();
        let answer = match request {
            Request::Authorize(r) => client.authorize(r).await.map(|r| r.into_inner().payment),
            Request::Query(r) => client.query(r).await.map(|r| r.into_inner().payment),
            Request::Cancel(r) => client.cancel(r).await.map(|r| r.into_inner().payment),
        };
        answer.map_err(|status| (status.code(), status.message().to_string()))
    }

    /// Asks the cloud to deliver the basket `purchase_order_id` (paid at one of this store's lanes
    /// by `wallet_id`) to the wallet's delivery address, as the shopper asked at the lane. The
    /// cloud forwards the order back to this edge like any app order. The delivery's order id is
    /// `home-{purchase}`, so asking again changes nothing.
    pub async fn deliver_purchase(
        &self,
        purchase_order_id: &str,
        wallet_id: &str,
    ) -> Result<DeliveryOrder, tonic::Status> {
        let mut client = self.shopper.clone();
        let request = PlaceDeliveryOrderRequest {
            wallet_id: wallet_id.to_string(),
            store_id: self.store_id.clone(),
            order_id: format!("home-{purchase_order_id}"),
            lines: Vec::new(),
            purchase_order_id: purchase_order_id.to_string(),
            dropoff: None,
        };
        tokio::time::timeout(self.timeout(), client.place_delivery_order(request))
            .await
            .map_err(|_| tonic::Status::unavailable("the cloud did not answer in time"))?
            .map(|r| r.into_inner())
    }

    /// The coupons a wallet claimed in the app and can redeem now. Asked with a short time-out:
    /// a lane never waits long for a discount; without an answer the shopper pays without it.
    pub async fn wallet_coupons(&self, wallet_id: &str) -> Result<Vec<PresentedCoupon>, String> {
        let mut client = self.shopper.clone();
        let request = ListCouponsRequest {
            wallet_id: wallet_id.to_string(),
            store_id: self.store_id.clone(),
        };
        let response =
            tokio::time::timeout(Duration::from_millis(1500), client.list_coupons(request))
                .await
                .map_err(|_| "the cloud did not answer in time".to_string())?
                .map_err(|status| format!("cloud: {}", status.message()))?
                .into_inner();
        Ok(response
            .coupons
            .into_iter()
            .filter(|c| c.status == "CLAIMED")
            .map(|c| PresentedCoupon {
                coupon_id: c.coupon_id,
                campaign_id: c.campaign_id,
            })
            .collect())
    }

    /// Attaches the exit pass of this store's paid order `order_id` to its payment, so only the
    /// paying wallet's app shows it (idempotent: attaching it again changes nothing).
    pub async fn attach_exit_pass(
        &self,
        order_id: &str,
        exit_pass: &str,
    ) -> Result<(), AttachError> {
        let mut client = self.client.clone();
        let request = AttachExitPassRequest {
            store_id: self.store_id.clone(),
            order_id: order_id.to_string(),
            exit_pass: exit_pass.to_string(),
        };
        match tokio::time::timeout(self.timeout(), client.attach_exit_pass(request)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(status)) if is_definitive(status.code()) || status.code() == Code::NotFound => {
                Err(AttachError::Refused(status.message().to_string()))
            }
            Ok(Err(status)) => Err(AttachError::Unreachable(format!(
                "cloud: {}",
                status.message()
            ))),
            Err(_) => Err(AttachError::Unreachable(
                "the cloud did not answer in time".into(),
            )),
        }
    }

    /// Refunds `amount_fen` of this store's paid order `order_id` (idempotent by `refund_id`:
    /// the same id again refunds nothing more). `Ok` is the payment as it is after the refund.
    pub async fn refund(
        &self,
        order_id: &str,
        refund_id: &str,
        amount_fen: i64,
        reason: &str,
    ) -> Result<Payment, AttachError> {
        let mut client = self.client.clone();
        let request = RefundRequest {
            store_id: self.store_id.clone(),
            order_id: order_id.to_string(),
            refund_id: refund_id.to_string(),
            amount_fen,
            reason: reason.to_string(),
        };
        match tokio::time::timeout(self.timeout(), client.refund(request)).await {
            Ok(Ok(response)) => Ok(response.into_inner().payment.unwrap_or_default()),
            Ok(Err(status)) if is_definitive(status.code()) || status.code() == Code::NotFound => {
                Err(AttachError::Refused(status.message().to_string()))
            }
            Ok(Err(status)) => Err(AttachError::Unreachable(format!(
                "cloud: {}",
                status.message()
            ))),
            Err(_) => Err(AttachError::Unreachable(
                "the cloud did not answer in time".into(),
            )),
        }
    }
}
