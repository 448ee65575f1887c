//! The operator actions audit: each command at a lane with its operator, role, reason and
//! outcome, and the most recent ones for the dashboard.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Db, DbError};
use crate::lane::OperatorAction;

impl Db {
    /// Records an operator action and its outcome (`ok` or the refusal).
    pub async fn audit(
        &self,
        lane_id: &str,
        action: &OperatorAction,
        outcome: &str,
        at: DateTime<Utc>,
    ) -> Result<(), DbError> {
        let command = serde_json::to_value(&action.command)?;
        sqlx::query(
            "INSERT INTO operator_actions (at, lane_id, operator, role, command, reason, outcome) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(at.to_rfc3339())
        .bind(lane_id)
        .bind(&action.operator)
        .bind(serde_json::to_value(action.role)?.as_str().unwrap_or_default().to_string())
        .bind(command.to_string())
        .bind(&action.reason)
        .bind(outcome)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The most recent operator actions, newest first, as JSON rows.
    pub async fn recent_actions(&self, limit: i64) -> Result<Vec<serde_json::Value>, DbError> {
        let rows = sqlx::query(
            "SELECT id, at, lane_id, operator, role, command, reason, outcome, session_id, dropped FROM operator_actions ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let command: String = row.get(5);
                serde_json::json!({
                    "id": row.get::<i64, _>(0),
                    "at": row.get::<String, _>(1),
                    "lane_id": row.get::<String, _>(2),
                    "operator": row.get::<String, _>(3),
                    "role": row.get::<String, _>(4),
                    "command": serde_json::from_str::<serde_json::Value>(&command).unwrap_or_default(),
                    "reason": row.get::<String, _>(6),
                    "outcome": row.get::<String, _>(7),
                    "session_id": row.get::<Option<String>, _>(8),
                    "dropped": row
                        .get::<Option<String>, _>(9)
                        .and_then(|d| serde_json::from_str::<serde_json::Value>(&d).ok()),
                })
            })
            .collect())
    }
}
