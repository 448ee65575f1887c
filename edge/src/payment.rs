//! Barcode pay from the lane's side, by the rules the big wallets set.
//!
//! [`settle`] drives one order to a final answer: Authorize (skipped when resuming after a
//! crash), and when the answer is lost (time-out, connection error) Query until the cloud answers;
//! an order the cloud never saw is Cancelled, so a late Authorize cannot charge it. PENDING is
//! polled until the shopper confirms or the lane gives up and cancels. A time-out is "unknown",
//! never "failed": the lane keeps the shopper waiting rather than guess.

use std::time::Duration;

use omo_proto::payment::payment_service_client::PaymentServiceClient;
use omo_proto::payment::{
    AttachExitPassRequest, AuthorizeRequest, CancelRequest, CouponShare, DeclineReason, Payment,
    PaymentStatus, QueryRequest, RefundRequest,
};
use tonic::Code;
use tracing::{info, warn};

use crate::cloud::CloudChannel;
use crate::config::PaymentConfig;
use crate::lane::{PaymentOutcome, PresentedCoupon};
use omo_proto::shopper::shopper_service_client::ShopperServiceClient;
use omo_proto::shopper::{DeliveryOrder, ListCouponsRequest, PlaceDeliveryOrderRequest};

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

/// One order to settle.
pub struct Order {
    pub order_id: String,
    pub amount_fen: i64,
    /// The scanned payment code; `None` when resuming an order after a restart.
    pub payment_code: Option<String>,
    pub description: String,
    /// Coupons applied to the amount, redeemed with the charge.
    pub coupon_ids: Vec<String>,
    /// The basket before coupons, and each coupon's (id, base, discount), for the cloud to check.
    pub pre_coupon_fen: i64,
    pub coupon_shares: Vec<(String, i64, i64)>,
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

    /// Drives `order` to an answer, reporting each intermediate outcome (pending, unknown) through
    /// `progress`, and returns the final one.
    pub async fn settle(
        &self,
        order: Order,
        progress: impl Fn(PaymentOutcome) + Send,
    ) -> PaymentOutcome {
        let mut known = None;
        if let Some(code) = order.payment_code {
            let request = AuthorizeRequest {
                store_id: self.store_id.clone(),
                order_id: order.order_id.clone(),
                amount_fen: order.amount_fen,
                payment_code: code,
                description: order.description.clone(),
                coupon_ids: order.coupon_ids.clone(),
                pre_coupon_fen: order.pre_coupon_fen,
                coupon_shares: order
                    .coupon_shares
                    .iter()
                    .map(|(coupon_id, base_fen, discount_fen)| CouponShare {
                        coupon_id: coupon_id.clone(),
                        base_fen: *base_fen,
                        discount_fen: *discount_fen,
                    })
                    .collect(),
            };
            let mut client = self.client.clone();
            match tokio::time::timeout(self.timeout(), client.authorize(request)).await {
                Ok(Ok(response)) => known = response.into_inner().payment,
                Ok(Err(status)) if is_definitive(&status) => {
                    warn!(order = %order.order_id, code = ?status.code(), message = status.message(), "authorize refused");
                    return PaymentOutcome::Declined {
                        reason: status.message().to_string(),
                    };
                }
                Ok(Err(status)) => {
                    warn!(order = %order.order_id, code = ?status.code(), "authorize failed; the payment is unknown, querying");
                }
                Err(_) => {
                    warn!(order = %order.order_id, "authorize timed out; the payment is unknown, querying");
                }
            }
        }
        let mut waited_pending = Duration::ZERO;
        let mut backoff = Duration::from_millis(200);
        loop {
            let payment = match known.take() {
                Some(payment) => payment,
                None => match self.query(&order.order_id).await {
                    Ok(Some(payment)) => payment,
                    Ok(None) => {
                        // The cloud never saw the order: close it so a delayed Authorize can't land.
                        return self
                            .cancel(&order.order_id, "authorize never reached the cloud")
                            .await;
                    }
                    Err(message) => {
                        progress(PaymentOutcome::Unreachable { message });
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                        continue;
                    }
                },
            };
            backoff = Duration::from_millis(200);
            match outcome_of(&payment) {
                PaymentOutcome::Pending { payment_id } => {
                    if waited_pending >= Duration::from_secs(self.config.pending_give_up_secs) {
                        info!(order = %order.order_id, "shopper did not confirm in time; cancelling");
                        return self.cancel(&order.order_id, "not confirmed in time").await;
                    }
                    progress(PaymentOutcome::Pending { payment_id });
                    let poll = Duration::from_millis(self.config.pending_poll_ms);
                    tokio::time::sleep(poll).await;
                    waited_pending += poll;
                }
                final_outcome => return final_outcome,
            }
        }
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
            Ok(Err(status)) if is_definitive(&status) || status.code() == Code::NotFound => {
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
            Ok(Err(status)) if is_definitive(&status) || status.code() == Code::NotFound => {
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

    /// The payment for an order, `None` if the cloud never saw it, `Err` if it can't be reached.
    async fn query(&self, order_id: &str) -> Result<Option<Payment>, String> {
        let mut client = self.client.clone();
        let request = QueryRequest {
            store_id: self.store_id.clone(),
            order_id: order_id.to_string(),
        };
        match tokio::time::timeout(self.timeout(), client.query(request)).await {
            Ok(Ok(response)) => Ok(response.into_inner().payment),
            Ok(Err(status)) if status.code() == Code::NotFound => Ok(None),
            Ok(Err(status)) => Err(format!("cloud: {}", status.message())),
            Err(_) => Err("cloud did not answer in time".into()),
        }
    }

    /// Cancels an order, retrying until the cloud confirms.
    async fn cancel(&self, order_id: &str, reason: &str) -> PaymentOutcome {
        let mut backoff = Duration::from_millis(200);
        loop {
            let mut client = self.client.clone();
            let request = CancelRequest {
                store_id: self.store_id.clone(),
                order_id: order_id.to_string(),
                reason: reason.to_string(),
            };
            match tokio::time::timeout(self.timeout(), client.cancel(request)).await {
                Ok(Ok(response)) => {
                    return match response.into_inner().payment {
                        // A cancel that lost a race with a success reports the success.
                        Some(payment) if payment.status == PaymentStatus::Succeeded as i32 => {
                            outcome_of(&payment)
                        }
                        _ => PaymentOutcome::Cancelled {
                            reason: reason.to_string(),
                        },
                    };
                }
                Ok(Err(status)) if is_definitive(&status) => {
                    return PaymentOutcome::Cancelled {
                        reason: format!("{reason} ({})", status.message()),
                    };
                }
                _ => {
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
    }
}

/// Errors that are answers (the request was understood and refused), not transport trouble.
fn is_definitive(status: &tonic::Status) -> bool {
    matches!(
        status.code(),
        Code::InvalidArgument
            | Code::FailedPrecondition
            | Code::PermissionDenied
            | Code::Unauthenticated
            | Code::AlreadyExists
            | Code::OutOfRange
    )
}

/// The lane's view of a payment record.
pub fn outcome_of(payment: &Payment) -> PaymentOutcome {
    match PaymentStatus::try_from(payment.status).unwrap_or(PaymentStatus::Unspecified) {
        PaymentStatus::Succeeded => PaymentOutcome::Succeeded {
            payment_id: payment.payment_id.clone(),
            wallet_id: payment.wallet_id.clone(),
        },
        PaymentStatus::Pending => PaymentOutcome::Pending {
            payment_id: payment.payment_id.clone(),
        },
        PaymentStatus::Declined => PaymentOutcome::Declined {
            reason: decline_text(payment.decline_reason),
        },
        PaymentStatus::Cancelled | PaymentStatus::Refunded => PaymentOutcome::Cancelled {
            reason: "payment cancelled".into(),
        },
        PaymentStatus::Unspecified => PaymentOutcome::Unreachable {
            message: "the cloud returned a payment without a status".into(),
        },
    }
}

/// A short reason a shopper understands.
fn decline_text(reason: i32) -> String {
    match DeclineReason::try_from(reason).unwrap_or(DeclineReason::Unspecified) {
        DeclineReason::InsufficientFunds => "insufficient funds",
        DeclineReason::CodeExpired => "payment code expired",
        DeclineReason::CodeAlreadyUsed => "payment code already used",
        DeclineReason::CodeInvalid => "payment code not valid",
        DeclineReason::WalletUnknown => "unknown wallet",
        DeclineReason::WalletFrozen => "wallet frozen",
        DeclineReason::RateLimited => "too many attempts, try again later",
        DeclineReason::ShopperRejected => "rejected in the app",
        DeclineReason::ConfirmationTimeout => "not confirmed in time",
        DeclineReason::CouponInvalid => "a coupon is not valid",
        DeclineReason::Unspecified => "declined",
    }
    .to_string()
}
