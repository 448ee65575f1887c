//! Who is alive in a share group, settled by the database: each cloud process beats a row per
//! MQTT session of the group (its client id, role and group) every [`BEAT`], and a session whose
//! beat is older than [`DEAD_AFTER`] is dead. One live member of the same group and role claims a
//! dead one with a conditional UPDATE (so of several processes exactly one adopts it), drains its
//! broker session (see [`super::adopt`]) and notes it drained; a claim whose adopter died too is
//! claimed again after [`CLAIM_LAPSES`]. A member that comes back beats again, which clears the
//! claim, and is adopted again only if it dies again.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::clock::to_rfc3339;
use crate::db::Database;

/// How often a live process beats its rows (and looks for dead members).
pub const BEAT: Duration = Duration::from_secs(3);
/// A member whose last beat is older than this is dead. Several beats, so that a slow database
/// moment does not make a live process look dead (and if it did, nothing is lost: the broker
/// hands the session back and forth, and each side acknowledges only what it committed).
pub const DEAD_AFTER: Duration = Duration::from_secs(15);
/// A claim older than this whose member is still neither back nor drained is claimed again (its
/// adopter died or lost the broker before it finished).
pub const CLAIM_LAPSES: Duration = Duration::from_secs(60);

/// One MQTT session of a share group, as the database knows it.
#[derive(Debug, Clone)]
pub struct Members {
    db: Database,
    /// This session's MQTT client id.
    me: String,
    group: String,
    role: String,
}

fn ago(now: DateTime<Utc>, by: Duration) -> String {
    to_rfc3339(now - chrono::Duration::from_std(by).unwrap_or_default())
}

impl Members {
    pub fn new(db: Database, me: &str, group: &str, role: &str) -> Members {
        Members {
            db,
            me: me.to_owned(),
            group: group.to_owned(),
            role: role.to_owned(),
        }
    }

    /// This session is alive at `now`: its row is written (or refreshed, clearing any claim).
    pub async fn beat(&self, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO mqtt_members (client_id, share_group, role, seen_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (client_id) DO UPDATE SET share_group = excluded.share_group, \
             role = excluded.role, seen_at = excluded.seen_at, adopted_by = NULL, adopted_at = NULL",
        )
        .bind(&self.me)
        .bind(&self.group)
        .bind(&self.role)
        .bind(to_rfc3339(now))
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// Claims the dead members of this group and role that nobody is draining (or whose claim
    /// lapsed) and that were not drained since they were last seen; returns their client ids.
    /// Each is claimed by one caller only: the UPDATE repeats the conditions.
    pub async fn claim_dead(&self, now: DateTime<Utc>) -> Result<Vec<String>, sqlx::Error> {
        let (dead_before, lapsed_before) = (ago(now, DEAD_AFTER), ago(now, CLAIM_LAPSES));
        let candidates: Vec<String> = sqlx::query_scalar(
            "SELECT client_id FROM mqtt_members WHERE share_group = $1 AND role = $2 \
             AND client_id <> $3 AND seen_at < $4 AND (adopted_at IS NULL OR adopted_at < $5) \
             AND (drained_at IS NULL OR drained_at < seen_at) ORDER BY client_id",
        )
        .bind(&self.group)
        .bind(&self.role)
        .bind(&self.me)
        .bind(&dead_before)
        .bind(&lapsed_before)
        .fetch_all(self.db.pool())
        .await?;
        let mut claimed = Vec::new();
        for client_id in candidates {
            let done = sqlx::query(
                "UPDATE mqtt_members SET adopted_by = $1, adopted_at = $2 WHERE client_id = $3 \
                 AND seen_at < $4 AND (adopted_at IS NULL OR adopted_at < $5) \
                 AND (drained_at IS NULL OR drained_at < seen_at)",
            )
            .bind(&self.me)
            .bind(to_rfc3339(now))
            .bind(&client_id)
            .bind(&dead_before)
            .bind(&lapsed_before)
            .execute(self.db.pool())
            .await?;
            if done.rows_affected() == 1 {
                claimed.push(client_id);
            }
        }
        Ok(claimed)
    }

    /// `client_id`, which this session claimed, is drained and out of the group. A member that
    /// came back meanwhile (its beat cleared the claim) is left alone.
    pub async fn drained(&self, client_id: &str, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE mqtt_members SET drained_at = $1 WHERE client_id = $2 AND adopted_by = $3",
        )
        .bind(to_rfc3339(now))
        .bind(client_id)
        .bind(&self.me)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }
}
