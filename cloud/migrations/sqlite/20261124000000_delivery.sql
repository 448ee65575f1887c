-- The directory of stores (what each edge announces) and home-delivery orders placed in the app.

CREATE TABLE stores (
    store_id          TEXT    NOT NULL PRIMARY KEY,
    name              TEXT    NOT NULL,
    lat               REAL NOT NULL,
    lon               REAL NOT NULL,
    delivery_radius_m INTEGER NOT NULL,
    announced_at      TEXT    NOT NULL
);

-- One row per delivery order the cloud knows: placed in the app (source 'app' or 'lane' for a
-- lane purchase delivered home) and forwarded to the store until its edge answers, or placed at
-- the store itself (source 'store') and learnt from the store's delivery/orders topic.
CREATE TABLE delivery_orders (
    order_id          TEXT    NOT NULL PRIMARY KEY,
    store_id          TEXT    NOT NULL,
    wallet_id         TEXT    NOT NULL,
    source            TEXT    NOT NULL,
    status            TEXT    NOT NULL,
    lines             TEXT    NOT NULL,
    purchase_order_id TEXT    NOT NULL,
    dropoff_lat       REAL NOT NULL,
    dropoff_lon       REAL NOT NULL,
    address           TEXT    NOT NULL,
    distance_m        INTEGER NOT NULL,
    radius_m          INTEGER NOT NULL,
    amount_fen        INTEGER NOT NULL,
    payment_id        TEXT    NOT NULL,
    placed_at         TEXT    NOT NULL,
    promised_by       TEXT    NOT NULL,
    refusal           TEXT    NOT NULL,
    forwarded_at      TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL
);

-- A lane purchase is delivered at most once.
CREATE UNIQUE INDEX delivery_orders_purchase ON delivery_orders (store_id, purchase_order_id)
    WHERE purchase_order_id <> '';
-- What the relay still has to forward.
CREATE INDEX delivery_orders_status ON delivery_orders (status);
CREATE INDEX delivery_orders_wallet ON delivery_orders (wallet_id);

-- The delivery address a shopper keeps in the app (used when a delivery names no drop-off, e.g.
-- one asked for at a lane).
CREATE TABLE wallet_addresses (
    wallet_id  TEXT    NOT NULL PRIMARY KEY,
    lat        REAL NOT NULL,
    lon        REAL NOT NULL,
    address    TEXT    NOT NULL,
    updated_at TEXT    NOT NULL
);
