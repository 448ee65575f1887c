//! The delivery address a shopper keeps in the app: where a delivery goes when it names no
//! drop-off (as one asked for at a lane does).

use sqlx::Row;

use super::directory::valid_position;
use super::order::Deliveries;
use crate::clock::to_rfc3339;
use crate::context::require_id;
use crate::error::ServiceError;

impl Deliveries {
    /// Keeps `wallet_id`'s delivery address.
    pub async fn set_address(
        &self,
        wallet_id: &str,
        lat: f64,
        lon: f64,
        address: &str,
    ) -> Result<(), ServiceError> {
        require_id("wallet_id", wallet_id, 8)?;
        check_dropoff(lat, lon, address)?;
        let mut tx = self.ctx.db.begin().await?;
        sqlx::query(
            "INSERT INTO wallet_addresses (wallet_id, lat, lon, address, updated_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (wallet_id) DO UPDATE SET lat = excluded.lat, \
             lon = excluded.lon, address = excluded.address, updated_at = excluded.updated_at",
        )
        .bind(wallet_id)
        .bind(lat)
        .bind(lon)
        .bind(address)
        .bind(to_rfc3339(self.ctx.now()))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// `wallet_id`'s delivery address (lat, lon, address), if it keeps one.
    pub async fn address(
        &self,
        wallet_id: &str,
    ) -> Result<Option<(f64, f64, String)>, ServiceError> {
        let row =
            sqlx::query("SELECT lat, lon, address FROM wallet_addresses WHERE wallet_id = $1")
                .bind(wallet_id)
                .fetch_optional(self.ctx.db.pool())
                .await?;
        Ok(row.map(|r| (r.get(0), r.get(1), r.get(2))))
    }
}

/// A drop-off must be a position on earth with a short, printable address.
pub(super) fn check_dropoff(lat: f64, lon: f64, address: &str) -> Result<(), ServiceError> {
    if !valid_position(lat, lon) {
        return Err(ServiceError::invalid(
            "dropoff",
            format!("({lat}, {lon}) is not a position on earth"),
        ));
    }
    if address.len() > 300 || address.chars().any(char::is_control) {
        return Err(ServiceError::invalid(
            "dropoff.address",
            "at most 300 bytes without control characters",
        ));
    }
    Ok(())
}
