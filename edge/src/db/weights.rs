//! What the bagging scales learned about each product's weight (`weight_stats`).

use sqlx::Row;

use super::{Db, DbError};
use crate::lane::{WeightBook, WeightStats};

impl Db {
    /// Saves what was learned about a product's weight.
    pub async fn save_weight(&self, gtin: &str, stats: &WeightStats) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO weight_stats (gtin, n, mean_g, m2) VALUES ($1, $2, $3, $4)
             ON CONFLICT (gtin) DO UPDATE SET n = excluded.n, mean_g = excluded.mean_g, m2 = excluded.m2",
        )
        .bind(gtin)
        .bind(i64::from(stats.n))
        .bind(stats.mean_g)
        .bind(stats.m2)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Everything learned about weights.
    pub async fn load_weights(&self) -> Result<WeightBook, DbError> {
        let rows = sqlx::query("SELECT gtin, n, mean_g, m2 FROM weight_stats")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let n: i64 = row.get(1);
                (
                    row.get::<String, _>(0),
                    WeightStats {
                        n: u32::try_from(n).unwrap_or(u32::MAX),
                        mean_g: row.get(2),
                        m2: row.get(3),
                    },
                )
            })
            .collect())
    }
}
