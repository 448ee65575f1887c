-- Delivery orders the edge accepted, and where each one is: waiting, offered to a rider,
-- accepted, picked up, delivered. `state` is the dispatcher's view of the order (JSON).
CREATE TABLE delivery_orders (
    order_id    TEXT PRIMARY KEY NOT NULL,
    status      TEXT NOT NULL,
    rider_id    TEXT,
    promised_by TEXT NOT NULL,
    state       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX delivery_orders_open ON delivery_orders (status, promised_by);

-- Every offer of an order to a rider, and what became of it (offered, lapsed).
CREATE TABLE delivery_assignments (
    message_id TEXT PRIMARY KEY NOT NULL,
    order_id   TEXT NOT NULL,
    rider_id   TEXT NOT NULL,
    offered_at TEXT NOT NULL,
    eta        TEXT NOT NULL,
    outcome    TEXT NOT NULL DEFAULT 'offered'
);
CREATE INDEX delivery_assignments_order ON delivery_assignments (order_id);

-- Riders as last heard from.
CREATE TABLE delivery_riders (
    rider_id  TEXT PRIMARY KEY NOT NULL,
    lat       REAL NOT NULL,
    lon       REAL NOT NULL,
    last_seen TEXT NOT NULL
);

-- Rider event ids already applied: a redelivered event changes nothing, across restarts too.
CREATE TABLE delivery_seen_events (
    event_id TEXT PRIMARY KEY NOT NULL,
    at       TEXT NOT NULL
);
