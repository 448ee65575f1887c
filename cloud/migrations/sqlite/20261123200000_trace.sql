-- The trace store: every EPCIS event once (by eventID), which lots each event names, and which
-- input lots each lot was made from (TransformationEvent). `IF NOT EXISTS` because the trace
-- module also applies this file itself when it opens (see cloud/src/trace/store.rs).

CREATE TABLE IF NOT EXISTS trace_events (
    event_id    TEXT NOT NULL PRIMARY KEY,
    store_id    TEXT NOT NULL,
    event_type  TEXT NOT NULL,
    event_time  TEXT NOT NULL,
    biz_step    TEXT NOT NULL,
    body        TEXT NOT NULL,
    received_at TEXT NOT NULL
);

-- A lot is (gtin, lot); `lot` is '' for a product class without a lot.
-- role: 'object' (epcList/quantityList/child...), 'input' or 'output' (TransformationEvent).
CREATE TABLE IF NOT EXISTS trace_lot_events (
    gtin     TEXT NOT NULL,
    lot      TEXT NOT NULL,
    event_id TEXT NOT NULL,
    role     TEXT NOT NULL,
    PRIMARY KEY (gtin, lot, event_id, role)
);
CREATE INDEX IF NOT EXISTS trace_lot_events_by_event ON trace_lot_events (event_id);

CREATE TABLE IF NOT EXISTS trace_lot_inputs (
    gtin       TEXT NOT NULL,
    lot        TEXT NOT NULL,
    input_gtin TEXT NOT NULL,
    input_lot  TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    PRIMARY KEY (gtin, lot, input_gtin, input_lot)
);
