//! The directory of stores: where each store is and how far it delivers, as its edge announced.

use geographiclib_rs::{Geodesic, InverseGeodesic};
use sqlx::Row;

use crate::context::{Context, require_id};
use crate::error::ServiceError;

/// A store as its edge announced it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreProfile {
    /// The store's id (as in MQTT topics and payments).
    pub store_id: String,
    /// A human name.
    pub name: String,
    /// WGS 84, degrees.
    pub lat: f64,
    /// WGS 84, degrees.
    pub lon: f64,
    /// Delivery is offered within this geodesic distance, in metres.
    pub delivery_radius_m: u32,
    /// When the cloud last heard the profile, RFC 3339 UTC.
    pub announced_at: String,
}

/// Geodesic distance in metres between two positions on WGS 84 (Karney's algorithm, as the
/// edge measures it).
pub fn distance_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let s12: f64 = Geodesic::wgs84().inverse(lat1, lon1, lat2, lon2);
    s12
}

/// Metres, rounded to whole metres, as answers carry distances.
pub fn round_m(metres: f64) -> u32 {
    metres.round().clamp(0.0, f64::from(u32::MAX)) as u32
}

/// Whether `(lat, lon)` is a position on earth.
pub fn valid_position(lat: f64, lon: f64) -> bool {
    lat.is_finite()
        && lon.is_finite()
        && (-90.0..=90.0).contains(&lat)
        && (-180.0..=180.0).contains(&lon)
}

/// Store profiles over the database; cheap to clone.
#[derive(Clone)]
pub struct Directory {
    ctx: Context,
}

impl Directory {
    /// The directory of the cloud `ctx`.
    pub fn new(ctx: Context) -> Self {
        Self { ctx }
    }

    /// Records (or updates) a store's profile; returns it as stored.
    pub async fn announce(&self, mut profile: StoreProfile) -> Result<StoreProfile, ServiceError> {
        require_id("store_id", &profile.store_id, 64)?;
        if profile.name.len() > 200 {
            return Err(ServiceError::invalid("name", "longer than 200 bytes"));
        }
        if !valid_position(profile.lat, profile.lon) {
            return Err(ServiceError::invalid(
                "lat/lon",
                format!(
                    "({}, {}) is not a position on earth",
                    profile.lat, profile.lon
                ),
            ));
        }
        if profile.delivery_radius_m > 100_000 {
            return Err(ServiceError::invalid(
                "delivery_radius_m",
                "above 100 km; a store delivers near it",
            ));
        }
        profile.announced_at = crate::clock::to_rfc3339(self.ctx.now());
        let mut tx = self.ctx.db.begin().await?;
        sqlx::query(
            "INSERT INTO stores (store_id, name, lat, lon, delivery_radius_m, announced_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (store_id) DO UPDATE SET name = excluded.name, lat = excluded.lat, \
             lon = excluded.lon, delivery_radius_m = excluded.delivery_radius_m, \
             announced_at = excluded.announced_at",
        )
        .bind(&profile.store_id)
        .bind(&profile.name)
        .bind(profile.lat)
        .bind(profile.lon)
        .bind(i64::from(profile.delivery_radius_m))
        .bind(&profile.announced_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(store = %profile.store_id, lat = profile.lat, lon = profile.lon,
            radius_m = profile.delivery_radius_m, "store announced");
        Ok(profile)
    }

    /// One store's profile, if it ever announced itself.
    pub async fn get(&self, store_id: &str) -> Result<Option<StoreProfile>, ServiceError> {
        let row = sqlx::query(
            "SELECT store_id, name, lat, lon, delivery_radius_m, announced_at FROM stores WHERE store_id = $1",
        )
        .bind(store_id)
        .fetch_optional(self.ctx.db.pool())
        .await?;
        Ok(row.map(|r| from_row(&r)))
    }

    /// Every store with its distance from `(lat, lon)`, nearest first, at most `limit`.
    pub async fn nearby(
        &self,
        lat: f64,
        lon: f64,
        limit: usize,
    ) -> Result<Vec<(StoreProfile, f64)>, ServiceError> {
        if !valid_position(lat, lon) {
            return Err(ServiceError::invalid(
                "lat/lon",
                format!("({lat}, {lon}) is not a position on earth"),
            ));
        }
        let rows = sqlx::query(
            "SELECT store_id, name, lat, lon, delivery_radius_m, announced_at FROM stores",
        )
        .fetch_all(self.ctx.db.pool())
        .await?;
        let mut stores: Vec<(StoreProfile, f64)> = rows
            .iter()
            .map(from_row)
            .map(|s| {
                let d = distance_m(s.lat, s.lon, lat, lon);
                (s, d)
            })
            .collect();
        stores.sort_by(|a, b| a.1.total_cmp(&b.1));
        stores.truncate(limit);
        Ok(stores)
    }
}

fn from_row(r: &sqlx::any::AnyRow) -> StoreProfile {
    StoreProfile {
        store_id: r.get(0),
        name: r.get(1),
        lat: r.get(2),
        lon: r.get(3),
        delivery_radius_m: u32::try_from(r.get::<i64, _>(4)).unwrap_or(0),
        announced_at: r.get(5),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_are_geodesic_on_wgs84() {
        // One arc-minute of latitude at the equator is 1842.9 m on WGS 84.
        let d = distance_m(0.0, 0.0, 1.0 / 60.0, 0.0);
        assert!((d - 1842.9).abs() < 0.1, "{d}");
        assert_eq!(distance_m(31.2, 121.4, 31.2, 121.4), 0.0);
        assert!(valid_position(90.0, -180.0));
        assert!(!valid_position(f64::NAN, 0.0));
        assert!(!valid_position(91.0, 0.0));
    }
}
