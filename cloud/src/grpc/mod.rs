//! The gRPC face of the cloud: thin adapters from `omo.*.v1` messages to the domain modules.
//!
//! | file | service |
//! | --- | --- |
//! | [`payment`] | `omo.payment.v1.PaymentService` |
//! | [`catalog`] | `omo.catalog.v1.CatalogService` |
//! | [`shopper`] | `omo.shopper.v1.ShopperService` |
//! | [`store`] | `omo.store.v1.StoreDirectory` |
//!
//! Errors become `tonic::Status` only through `From<ServiceError>` in `crate::error`.

pub mod catalog;
pub mod payment;
pub mod shopper;
pub mod store;

use omo_proto::payment::{Payment, PaymentStatus};

use crate::payments::{PaymentRow, status};
use crate::wallets::WalletRow;

/// A stored payment as the wire shows it.
pub fn payment_to_proto(row: &PaymentRow) -> Payment {
    let status = match row.status.as_str() {
        status::SUCCEEDED => PaymentStatus::Succeeded,
        status::PENDING => PaymentStatus::Pending,
        status::DECLINED => PaymentStatus::Declined,
        status::CANCELLED => PaymentStatus::Cancelled,
        status::REFUNDED => PaymentStatus::Refunded,
        _ => PaymentStatus::Unspecified,
    };
    Payment {
        store_id: row.store_id.clone(),
        order_id: row.order_id.clone(),
        payment_id: row.payment_id.clone(),
        status: status as i32,
        decline_reason: i32::try_from(row.decline_reason).unwrap_or_default(),
        amount_fen: row.amount_fen,
        refunded_fen: row.refunded_fen,
        wallet_id: row.wallet_id.clone(),
        created_at: row.created_at.clone(),
        updated_at: row.updated_at.clone(),
    }
}

/// A stored wallet as the wire shows it.
pub fn wallet_to_proto(row: &WalletRow) -> omo_proto::shopper::Wallet {
    omo_proto::shopper::Wallet {
        wallet_id: row.wallet_id.clone(),
        display_name: row.display_name.clone(),
        balance_fen: row.balance_fen,
        frozen: row.frozen != 0,
        no_confirm_limit_fen: row.no_confirm_limit_fen,
        delivery_address: None,
    }
}
