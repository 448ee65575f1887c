-- The edge's local store. Every lane step is committed here, together with the messages it
-- produced, before the edge acts on it.

-- The latest snapshot of each lane (its state machine, serialized as JSON).
CREATE TABLE lanes (
    lane_id    TEXT PRIMARY KEY NOT NULL,
    snapshot   TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Every state change of every lane, with its cause: the audit trail.
CREATE TABLE lane_transitions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    lane_id    TEXT NOT NULL,
    at         TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state   TEXT NOT NULL,
    cause      TEXT NOT NULL
);

-- Paid baskets: a receipt per order, written once.
CREATE TABLE sales (
    order_id   TEXT PRIMARY KEY NOT NULL,
    lane_id    TEXT NOT NULL,
    session_id TEXT NOT NULL,
    payment_id TEXT NOT NULL,
    wallet_id  TEXT NOT NULL,
    total_fen  INTEGER NOT NULL,
    basket     TEXT NOT NULL,
    paid_at    TEXT NOT NULL
);

-- Messages waiting to be published, in commit order; a row is deleted once the broker acked it.
CREATE TABLE outbox (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL UNIQUE,
    topic      TEXT NOT NULL,
    payload    BLOB NOT NULL,
    retain     INTEGER NOT NULL,
    created_at TEXT NOT NULL
);

-- The cached catalog (protobuf-encoded products), so lanes scan while the cloud is away.
CREATE TABLE catalog_products (
    gtin    TEXT PRIMARY KEY NOT NULL,
    product BLOB NOT NULL,
    version INTEGER NOT NULL
);

CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
