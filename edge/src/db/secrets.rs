//! Secrets the edge makes for itself on first use and keeps in the `meta` table: the exit pass
//! key and the lane screens' secret.

use super::{Db, DbError};

impl Db {
    /// The key exit passes are signed with: made at random on first use, kept in the database.
    pub async fn exit_key(&self) -> Result<Vec<u8>, DbError> {
        self.secret("exit_key").await
    }

    /// A 32-byte secret named `name` (`exit_key`, `screen_secret`): made at random on first use,
    /// kept in the database's `meta` table.
    pub async fn secret(&self, name: &str) -> Result<Vec<u8>, DbError> {
        let existing: Option<String> = sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        if let Some(hex) = existing.and_then(|v| decode_hex(&v)) {
            return Ok(hex);
        }
        let key: Vec<u8> = (0..32).map(|_| rand::random::<u8>()).collect();
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
            .bind(name)
            .bind(&hex)
            .execute(&self.pool)
            .await?;
        // Another process may have won the race: read back what is stored.
        let stored: String = sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
            .bind(name)
            .fetch_one(&self.pool)
            .await?;
        Ok(decode_hex(&stored).unwrap_or(key))
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}
