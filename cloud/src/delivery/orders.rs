//! Home-delivery orders placed in the app: accepted within the store's radius, paid from the
//! wallet in the same transaction that records them, forwarded to the store's edge until it
//! answers (see [`super::answers`]), refunded in full if the store refuses.
//!
//! Idempotent by `order_id` (the database's primary key): placing an order again returns it as
//! it stands; a lane purchase is delivered at most once (a unique index on the store and the
//! purchase's order id).

use sqlx::Row;

use super::directory::{Directory, distance_m, round_m};
pub use super::order::{
    Deliveries, DeliveryOrder, Line, MAX_LINES, MAX_QUANTITY, PlaceInput, Progress,
    payment_order_id, status, valid_order_id,
};
use super::rows::{from_row, insert};
use crate::clock::to_rfc3339;
use crate::context::{Context, require_id};
use crate::db::ledger::{self, Movement};
use crate::error::ServiceError;
use crate::payments::{by_order, status as pay};
use crate::wallets;

impl Deliveries {
    /// The delivery orders of the cloud `ctx`.
    pub fn new(ctx: Context) -> Self {
        Self {
            ctx,
            placed: Default::default(),
        }
    }

    /// Resolves when an order was placed since the last call (the relay waits on it).
    pub async fn wait_placed(&self) {
        self.placed.notified().await
    }

    /// Places an order; see the module doc.
    pub async fn place(&self, input: &PlaceInput) -> Result<DeliveryOrder, ServiceError> {
        require_id("wallet_id", &input.wallet_id, 64)?;
        require_id("store_id", &input.store_id, 64)?;
        if !valid_order_id(&input.order_id) {
            return Err(ServiceError::invalid(
                "order_id",
                "must be 1-64 letters, digits, '-', '_' or '.'",
            ));
        }
        super::address::check_dropoff(input.lat, input.lon, &input.address)?;
        let lane = !input.purchase_order_id.is_empty();
        if lane != input.lines.is_empty() {
            return Err(ServiceError::invalid(
                "lines",
                "give either the lines of an app order or the purchase_order_id of a lane purchase",
            ));
        }
        if lane {
            require_id("purchase_order_id", &input.purchase_order_id, 128)?;
        }
        if let Some(existing) = self.get_any(&input.order_id).await? {
            return same_order(existing, input);
        }
        let store = Directory::new(self.ctx.clone())
            .get(&input.store_id)
            .await?
            .ok_or_else(|| {
                ServiceError::FailedPrecondition(format!(
                    "store {} has not announced where it is; it takes no delivery orders yet",
                    input.store_id
                ))
            })?;
        let distance = distance_m(store.lat, store.lon, input.lat, input.lon);
        let now = to_rfc3339(self.ctx.now());
        let mut order = DeliveryOrder {
            order_id: input.order_id.clone(),
            store_id: input.store_id.clone(),
            wallet_id: input.wallet_id.clone(),
            source: if lane { "lane" } else { "app" }.into(),
            status: status::PLACED.into(),
            lines: Vec::new(),
            purchase_order_id: input.purchase_order_id.clone(),
            lat: input.lat,
            lon: input.lon,
            address: input.address.clone(),
            distance_m: round_m(distance),
            radius_m: store.delivery_radius_m,
            amount_fen: 0,
            payment_id: String::new(),
            placed_at: now.clone(),
            promised_by: String::new(),
            refusal: String::new(),
            progress: Progress::default(),
        };
        if distance > f64::from(store.delivery_radius_m) {
            order.status = status::OUT_OF_RANGE.into();
            order.refusal = format!(
                "the drop-off is {} m from store {}; it delivers within {} m",
                order.distance_m, store.store_id, store.delivery_radius_m
            );
            return Ok(order);
        }
        if !lane {
            order.lines = self.price(&input.lines).await?;
            order.amount_fen = order
                .lines
                .iter()
                .try_fold(0i64, |sum, l| sum.checked_add(l.amount_fen))
                .ok_or_else(|| ServiceError::invalid("lines", "the total overflows"))?;
            crate::context::require_amount("amount", order.amount_fen)?;
        }

        let mut tx = self.ctx.db.begin().await?;
        if lane {
            let purchase = by_order(&mut tx, &input.store_id, &input.purchase_order_id).await?;
            match purchase {
                Some(p) if p.wallet_id == input.wallet_id && p.status == pay::SUCCEEDED => {
                    order.amount_fen = 0;
                }
                Some(p) if p.wallet_id == input.wallet_id => {
                    return Err(ServiceError::FailedPrecondition(format!(
                        "purchase {} is {}, not paid; only a paid basket is delivered",
                        input.purchase_order_id, p.status
                    )));
                }
                _ => {
                    return Err(ServiceError::NotFound(format!(
                        "this wallet paid no order {} at store {}",
                        input.purchase_order_id, input.store_id
                    )));
                }
            }
            let taken = sqlx::query(
                "SELECT order_id FROM delivery_orders WHERE store_id = $1 AND purchase_order_id = $2",
            )
            .bind(&input.store_id)
            .bind(&input.purchase_order_id)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(row) = taken {
                return Err(ServiceError::AlreadyExists(format!(
                    "purchase {} is already delivered as order {}",
                    input.purchase_order_id,
                    row.get::<String, _>(0)
                )));
            }
        }
        if !insert(&mut tx, &order).await? {
            // A concurrent duplicate won the primary key: answer what it stored.
            tx.rollback().await?;
            let existing = self
                .get_any(&input.order_id)
                .await?
                .ok_or_else(|| ServiceError::Aborted("delivery order vanished; retry".into()))?;
            return same_order(existing, input);
        }
        if !lane {
            order.payment_id = self.charge(&mut tx, &order, &now).await?;
            sqlx::query("UPDATE delivery_orders SET payment_id = $1 WHERE order_id = $2")
                .bind(&order.payment_id)
                .bind(&order.order_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        tracing::info!(order = %order.order_id, store = %order.store_id, source = %order.source,
            distance_m = order.distance_m, amount_fen = order.amount_fen, "delivery order placed");
        self.placed.notify_one();
        Ok(order)
    }

    /// The wallet's order `order_id`.
    pub async fn get(
        &self,
        wallet_id: &str,
        order_id: &str,
    ) -> Result<DeliveryOrder, ServiceError> {
        match self.get_any(order_id).await? {
            Some(order) if order.wallet_id == wallet_id => Ok(order),
            _ => Err(ServiceError::NotFound(format!(
                "wallet {wallet_id} has no delivery order {order_id}"
            ))),
        }
    }

    /// Any order by id.
    pub async fn get_any(&self, order_id: &str) -> Result<Option<DeliveryOrder>, ServiceError> {
        let row = sqlx::query(select_orders!("WHERE order_id = $1"))
            .bind(order_id)
            .fetch_optional(self.ctx.db.pool())
            .await?;
        row.map(|r| from_row(&r)).transpose()
    }

    /// Prices app-order lines from the catalog (member price where lower).
    async fn price(&self, lines: &[(String, u32)]) -> Result<Vec<Line>, ServiceError> {
        if lines.len() > MAX_LINES {
            return Err(ServiceError::invalid(
                "lines",
                format!("more than {MAX_LINES}"),
            ));
        }
        let mut priced = Vec::with_capacity(lines.len());
        for (gtin, quantity) in lines {
            let gtin = crate::gtin::normalize(gtin)
                .map_err(|e| ServiceError::invalid("lines.gtin", e.to_string()))?;
            if !(1..=MAX_QUANTITY).contains(quantity) {
                return Err(ServiceError::invalid(
                    "lines.quantity",
                    format!("{gtin}: between 1 and {MAX_QUANTITY}"),
                ));
            }
            let row = sqlx::query(
                "SELECT name, price_fen, member_price_fen, unit, withdrawn FROM products WHERE gtin = $1",
            )
            .bind(&gtin)
            .fetch_optional(self.ctx.db.pool())
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no product {gtin} in the catalog")))?;
            if row.get::<i64, _>(4) != 0 {
                return Err(ServiceError::FailedPrecondition(format!(
                    "product {gtin} is withdrawn"
                )));
            }
            if row.get::<i64, _>(3) != omo_proto::catalog::Unit::Each as i64 {
                return Err(ServiceError::FailedPrecondition(format!(
                    "product {gtin} is sold by weight; weighed goods are bought at the store's lanes"
                )));
            }
            let price: i64 = row.get(1);
            let member: i64 = row.get(2);
            let unit_price_fen = if member > 0 && member < price {
                member
            } else {
                price
            };
            priced.push(Line {
                gtin,
                name: row.get(0),
                quantity: *quantity,
                unit_price_fen,
                amount_fen: unit_price_fen * i64::from(*quantity),
            });
        }
        Ok(priced)
    }

    /// Takes an app order's amount from the wallet into the store's account, as a SUCCEEDED
    /// payment `delivery-{order}` (so it shows in receipts and can be refunded).
    async fn charge(
        &self,
        tx: &mut crate::db::WriteTx,
        order: &DeliveryOrder,
        now: &str,
    ) -> Result<String, ServiceError> {
        let frozen = sqlx::query("SELECT frozen FROM wallets WHERE wallet_id = $1")
            .bind(&order.wallet_id)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no wallet {}", order.wallet_id)))?;
        if frozen.get::<i64, _>(0) != 0 {
            return Err(ServiceError::FailedPrecondition(format!(
                "wallet {} is frozen",
                order.wallet_id
            )));
        }
        if !wallets::debit(tx, &order.wallet_id, order.amount_fen, now).await? {
            return Err(ServiceError::FailedPrecondition(format!(
                "insufficient funds for {} fen",
                order.amount_fen
            )));
        }
        let payment_id = uuid::Uuid::now_v7().to_string();
        sqlx::query(
            "INSERT INTO payments (payment_id, store_id, order_id, amount_fen, code_hash, wallet_id, \
             status, decline_reason, captured_fen, refunded_fen, description, created_at, updated_at, expires_at, coupon_ids) \
             VALUES ($1, $2, $3, $4, '', $5, $6, 0, $4, 0, $7, $8, $8, '', '')",
        )
        .bind(&payment_id)
        .bind(&order.store_id)
        .bind(payment_order_id(&order.order_id))
        .bind(order.amount_fen)
        .bind(&order.wallet_id)
        .bind(pay::SUCCEEDED)
        .bind(format!("Home delivery {}", order.order_id))
        .bind(now)
        .execute(&mut **tx)
        .await?;
        let from = ledger::wallet_account(&order.wallet_id);
        let to = ledger::merchant_account(&order.store_id);
        ledger::post(
            tx,
            &Movement {
                kind: "payment",
                ref_id: &payment_id,
                from: &from,
                to: &to,
                amount_fen: order.amount_fen,
                at: now,
            },
        )
        .await?;
        Ok(payment_id)
    }
}

/// A repeat of `input` answers the stored order; the same id for something else is an error.
fn same_order(existing: DeliveryOrder, input: &PlaceInput) -> Result<DeliveryOrder, ServiceError> {
    if existing.wallet_id != input.wallet_id {
        return Err(ServiceError::AlreadyExists(format!(
            "order id {} is taken",
            input.order_id
        )));
    }
    let same_lines = existing.source != "app"
        || existing.lines.len() == input.lines.len()
            && existing
                .lines
                .iter()
                .zip(&input.lines)
                .all(|(a, (gtin, q))| {
                    crate::gtin::normalize(gtin).is_ok_and(|g| g == a.gtin) && a.quantity == *q
                });
    if existing.store_id != input.store_id
        || existing.purchase_order_id != input.purchase_order_id
        || existing.lat != input.lat
        || existing.lon != input.lon
        || !same_lines
    {
        return Err(ServiceError::FailedPrecondition(format!(
            "order {} was placed with other details",
            input.order_id
        )));
    }
    Ok(existing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_ids_have_the_edges_shape() {
        assert!(valid_order_id("app-2026.11-23_1"));
        assert!(!valid_order_id(""));
        assert!(!valid_order_id("a b"));
        assert!(!valid_order_id(&"x".repeat(65)));
        assert_eq!(payment_order_id("A1"), "delivery-A1");
    }
}
