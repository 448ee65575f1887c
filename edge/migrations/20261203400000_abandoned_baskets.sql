-- Baskets dropped without a sale (cancelled by an attendant, a lane reset, a lane put back in
-- service, every line voided): one row per session, written in the same transaction as the
-- lane's snapshot that no longer holds the basket.
CREATE TABLE abandoned_baskets (
    session_id    TEXT PRIMARY KEY NOT NULL,
    lane_id       TEXT NOT NULL,
    reason        TEXT NOT NULL,
    total_fen     INTEGER NOT NULL,
    item_count    INTEGER NOT NULL,
    basket        TEXT NOT NULL,
    last_order_id TEXT,
    started_at    TEXT NOT NULL,
    abandoned_at  TEXT NOT NULL
);

-- The audit of operator actions names the basket (session) a command concerned and, when the
-- command dropped it, what was dropped (JSON: reason, items, total, interventions closed).
ALTER TABLE operator_actions ADD COLUMN session_id TEXT;
ALTER TABLE operator_actions ADD COLUMN dropped TEXT;
