//! The trace store: each EPCIS event once (by `eventID`), the lots it names, and each lot's input
//! lots, in the cloud's database (SQLite or PostgreSQL, the same SQL).

use std::collections::{BTreeSet, VecDeque};

use chrono::Utc;
use serde_json::Value;
use sqlx::Row;

use super::link::{self, LotKey};
use crate::db::{Backend, Database, DbError};

/// How far back through input lots a journey goes (a guard against cycles and runaway data).
const MAX_LOTS: usize = 200;

/// Why an event could not be stored or read.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("trace database: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("not an EPCIS event: {0}")]
    NotAnEvent(&'static str),
}

/// What a product's page needs from the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductInfo {
    pub gtin: String,
    pub name: String,
    pub origin: String,
}

/// The trace store over the cloud's database; cheap to clone.
#[derive(Clone)]
pub struct TraceStore {
    db: Database,
}

impl TraceStore {
    /// The trace store over `db`, whose tables exist (see [`TraceStore::open`]).
    pub fn new(db: Database) -> TraceStore {
        TraceStore { db }
    }

    /// The trace store, its tables created if missing (the same SQL as the migration files).
    pub async fn open(db: Database) -> Result<TraceStore, DbError> {
        let sql = match db.backend() {
            Backend::Sqlite => include_str!("../../migrations/sqlite/20261123200000_trace.sql"),
            Backend::Postgres => {
                include_str!("../../migrations/postgres/20261123200000_trace.sql")
            }
        };
        let mut tx = db.begin().await?;
        sqlx::raw_sql(sql).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(TraceStore { db })
    }

    /// Stores `event` from `store_id` once: true if it was new, false for a repeat of an
    /// `eventID` already stored (which changes nothing).
    pub async fn record(&self, store_id: &str, event: &Value) -> Result<bool, TraceError> {
        let event_id = event
            .get("eventID")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .ok_or(TraceError::NotAnEvent("no eventID"))?;
        let kind = event
            .get("type")
            .and_then(Value::as_str)
            .ok_or(TraceError::NotAnEvent("no type"))?;
        let time = event
            .get("eventTime")
            .and_then(Value::as_str)
            .ok_or(TraceError::NotAnEvent("no eventTime"))?;
        let biz_step = event.get("bizStep").and_then(Value::as_str).unwrap_or("");
        let mut tx = self.db.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO trace_events (event_id, store_id, event_type, event_time, biz_step, body, received_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(event_id)
        .bind(store_id)
        .bind(kind)
        .bind(time)
        .bind(biz_step)
        .bind(event.to_string())
        .bind(Utc::now().to_rfc3339())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        let lots = lots_of(event);
        for (role, key) in &lots {
            sqlx::query(
                "INSERT INTO trace_lot_events (gtin, lot, event_id, role) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (gtin, lot, event_id, role) DO NOTHING",
            )
            .bind(&key.gtin)
            .bind(&key.lot)
            .bind(event_id)
            .bind(*role)
            .execute(&mut *tx)
            .await?;
        }
        for (_, output) in lots.iter().filter(|(role, _)| *role == "output") {
            for (_, input) in lots.iter().filter(|(role, _)| *role == "input") {
                sqlx::query(
                    "INSERT INTO trace_lot_inputs (gtin, lot, input_gtin, input_lot, event_id)
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (gtin, lot, input_gtin, input_lot) DO NOTHING",
                )
                .bind(&output.gtin)
                .bind(&output.lot)
                .bind(&input.gtin)
                .bind(&input.lot)
                .bind(event_id)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    /// The lot and every lot it was made from (transitively), the lot itself first.
    pub async fn lineage(&self, lot: &LotKey) -> Result<Vec<LotKey>, TraceError> {
        let mut seen: Vec<LotKey> = vec![lot.clone()];
        let mut queue: VecDeque<LotKey> = VecDeque::from([lot.clone()]);
        while let Some(next) = queue.pop_front() {
            if seen.len() >= MAX_LOTS {
                break;
            }
            let rows = sqlx::query(
                "SELECT input_gtin, input_lot FROM trace_lot_inputs WHERE gtin = $1 AND lot = $2
                 ORDER BY input_gtin, input_lot",
            )
            .bind(&next.gtin)
            .bind(&next.lot)
            .fetch_all(self.db.pool())
            .await?;
            for row in rows {
                let input = LotKey {
                    gtin: row.get(0),
                    lot: row.get(1),
                };
                if !seen.contains(&input) {
                    seen.push(input.clone());
                    queue.push_back(input);
                }
            }
        }
        Ok(seen)
    }

    /// Every event that names one of `lots`, oldest first (by eventTime, then eventID).
    pub async fn events_of(&self, lots: &[LotKey]) -> Result<Vec<Value>, TraceError> {
        let mut ids = BTreeSet::new();
        for lot in lots {
            let rows = sqlx::query(
                "SELECT DISTINCT event_id FROM trace_lot_events WHERE gtin = $1 AND lot = $2",
            )
            .bind(&lot.gtin)
            .bind(&lot.lot)
            .fetch_all(self.db.pool())
            .await?;
            ids.extend(rows.into_iter().map(|row| row.get::<String, _>(0)));
        }
        let mut events = Vec::with_capacity(ids.len());
        for id in ids {
            let row = sqlx::query("SELECT body FROM trace_events WHERE event_id = $1")
                .bind(&id)
                .fetch_optional(self.db.pool())
                .await?;
            if let Some(row) = row
                && let Ok(event) = serde_json::from_str::<Value>(&row.get::<String, _>(0))
            {
                events.push(event);
            }
        }
        events.sort_by_cached_key(|e| {
            (
                e.get("eventTime")
                    .and_then(Value::as_str)
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| t.with_timezone(&Utc)),
                e.get("eventID").and_then(Value::as_str).map(str::to_string),
            )
        });
        Ok(events)
    }

    /// The lots of a product the store has seen, newest first (at most `limit`).
    pub async fn lots_of_product(&self, gtin: &str, limit: i64) -> Result<Vec<String>, TraceError> {
        let rows = sqlx::query(
            "SELECT l.lot, MAX(e.event_time) AS latest FROM trace_lot_events l
             JOIN trace_events e ON e.event_id = l.event_id
             WHERE l.gtin = $1 AND l.lot <> '' GROUP BY l.lot ORDER BY latest DESC LIMIT $2",
        )
        .bind(gtin)
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.into_iter().map(|row| row.get(0)).collect())
    }

    /// Whether any event names this lot.
    pub async fn knows(&self, lot: &LotKey) -> Result<bool, TraceError> {
        let row =
            sqlx::query("SELECT 1 FROM trace_lot_events WHERE gtin = $1 AND lot = $2 LIMIT 1")
                .bind(&lot.gtin)
                .bind(&lot.lot)
                .fetch_optional(self.db.pool())
                .await?;
        Ok(row.is_some())
    }

    /// The catalog's name and origin of a product, if it is in the catalog.
    pub async fn product(&self, gtin: &str) -> Result<Option<ProductInfo>, TraceError> {
        let row = sqlx::query("SELECT gtin, name, origin FROM products WHERE gtin = $1")
            .bind(gtin)
            .fetch_optional(self.db.pool())
            .await?;
        Ok(row.map(|row| ProductInfo {
            gtin: row.get(0),
            name: row.get(1),
            origin: row.get(2),
        }))
    }

    /// How many events are stored (for tests and metrics).
    pub async fn count(&self) -> Result<i64, TraceError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM trace_events")
            .fetch_one(self.db.pool())
            .await?)
    }
}

/// The lots an event names, with their role: `input`/`output` for a TransformationEvent's lists,
/// `object` for the others (epcList, quantityList, parentID, childEPCs, childQuantityList).
pub fn lots_of(event: &Value) -> Vec<(&'static str, LotKey)> {
    let mut out: Vec<(&'static str, LotKey)> = Vec::new();
    let mut add = |role: &'static str, uri: Option<&str>| {
        if let Some(key) = uri.and_then(link::parse)
            && !out.iter().any(|(r, k)| *r == role && *k == key)
        {
            out.push((role, key));
        }
    };
    for (field, role, class) in [
        ("epcList", "object", false),
        ("childEPCs", "object", false),
        ("quantityList", "object", true),
        ("childQuantityList", "object", true),
        ("inputEPCList", "input", false),
        ("inputQuantityList", "input", true),
        ("outputEPCList", "output", false),
        ("outputQuantityList", "output", true),
    ] {
        for item in event
            .get(field)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let uri = if class {
                item.get("epcClass").and_then(Value::as_str)
            } else {
                item.as_str()
            };
            add(role, uri);
        }
    }
    add("object", event.get("parentID").and_then(Value::as_str));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    async fn store() -> (tempfile::TempDir, TraceStore) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("cloud.db").display());
        let store = Database::open(&url, 2).await.unwrap();
        (dir, TraceStore::open(store).await.unwrap())
    }

    fn receiving() -> Value {
        json!({ "type": "ObjectEvent", "eventID": "ni:///sha-256;aa?ver=CBV2.0", "action": "ADD",
                "eventTime": "2026-11-23T01:00:00.000Z", "bizStep": "receiving",
                "quantityList": [{ "epcClass": "https://id.gs1.org/01/02000420000008/10/FISH-1", "quantity": 5.2, "uom": "KGM" }],
                "ilmd": { "omo:farm": "Lofoten" } })
    }

    fn cutting() -> Value {
        json!({ "type": "TransformationEvent", "eventID": "ni:///sha-256;bb?ver=CBV2.0",
                "eventTime": "2026-11-23T02:00:00.000Z", "bizStep": "commissioning",
                "inputQuantityList": [{ "epcClass": "https://id.gs1.org/01/02000420000008/10/FISH-1" }],
                "outputQuantityList": [{ "epcClass": "https://id.gs1.org/01/02000420000008/10/P-1" },
                                       { "epcClass": "https://id.gs1.org/01/02000420000008/10/P-2" }] })
    }

    #[tokio::test]
    async fn a_repeated_event_is_stored_once() {
        let (_dir, trace) = store().await;
        assert!(trace.record("S", &receiving()).await.unwrap());
        assert!(!trace.record("S", &receiving()).await.unwrap());
        assert_eq!(trace.count().await.unwrap(), 1);
        assert!(
            trace
                .record("S", &json!({"type": "ObjectEvent"}))
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn a_portion_leads_back_to_the_fish_it_was_cut_from() {
        let (_dir, trace) = store().await;
        trace.record("S", &cutting()).await.unwrap();
        trace.record("S", &receiving()).await.unwrap();
        let portion = LotKey {
            gtin: "02000420000008".into(),
            lot: "P-1".into(),
        };
        let lineage = trace.lineage(&portion).await.unwrap();
        assert_eq!(lineage.len(), 2);
        assert_eq!(lineage[1].lot, "FISH-1");
        let events = trace.events_of(&lineage).await.unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0]["bizStep"], "receiving");
        assert_eq!(
            trace
                .lots_of_product("02000420000008", 10)
                .await
                .unwrap()
                .len(),
            3
        );
        assert!(
            !trace
                .knows(&LotKey {
                    gtin: "02000420000008".into(),
                    lot: "nope".into()
                })
                .await
                .unwrap()
        );
    }
}
