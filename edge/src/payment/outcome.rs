//! What a payment record means to the lane: the cloud's status and decline reason as a
//! [`PaymentOutcome`], and which gRPC errors are answers rather than transport trouble.

use omo_proto::payment::{DeclineReason, Payment, PaymentStatus};
use tonic::Code;

use crate::lane::PaymentOutcome;

/// Errors that are answers (the request was understood and refused), not transport trouble.
pub fn is_definitive(code: Code) -> bool {
    matches!(
        code,
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
