-- Omo cloud schema (SQLite). Integers and TEXT timestamps (RFC 3339 UTC) only, so that the
-- PostgreSQL twin in ../postgres/ is the same schema and the same queries serve both.

CREATE TABLE wallets (
    wallet_id            TEXT    NOT NULL PRIMARY KEY,
    display_name         TEXT    NOT NULL,
    secret_base32        TEXT    NOT NULL,
    balance_fen          INTEGER NOT NULL CHECK (balance_fen >= 0),
    frozen               INTEGER NOT NULL DEFAULT 0,
    no_confirm_limit_fen INTEGER NOT NULL,
    bad_codes            INTEGER NOT NULL DEFAULT 0,
    bad_codes_since      TEXT    NOT NULL DEFAULT '',
    created_at           TEXT    NOT NULL,
    updated_at           TEXT    NOT NULL
);

CREATE TABLE payments (
    payment_id     TEXT    NOT NULL PRIMARY KEY,
    store_id       TEXT    NOT NULL,
    order_id       TEXT    NOT NULL,
    amount_fen     INTEGER NOT NULL,
    code_hash      TEXT    NOT NULL,
    wallet_id      TEXT    NOT NULL,
    status         TEXT    NOT NULL,
    decline_reason INTEGER NOT NULL DEFAULT 0,
    captured_fen   INTEGER NOT NULL DEFAULT 0,
    refunded_fen   INTEGER NOT NULL DEFAULT 0 CHECK (refunded_fen >= 0),
    description    TEXT    NOT NULL DEFAULT '',
    created_at     TEXT    NOT NULL,
    updated_at     TEXT    NOT NULL,
    expires_at     TEXT    NOT NULL DEFAULT '',
    UNIQUE (store_id, order_id),
    CHECK (refunded_fen <= captured_fen)
);
CREATE INDEX payments_by_wallet ON payments (wallet_id, created_at);
CREATE INDEX payments_pending ON payments (status, expires_at);

CREATE TABLE used_codes (
    wallet_id  TEXT    NOT NULL,
    step       INTEGER NOT NULL,
    payment_id TEXT    NOT NULL,
    used_at    TEXT    NOT NULL,
    PRIMARY KEY (wallet_id, step)
);

CREATE TABLE refunds (
    refund_id  TEXT    NOT NULL PRIMARY KEY,
    payment_id TEXT    NOT NULL,
    amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
    reason     TEXT    NOT NULL DEFAULT '',
    created_at TEXT    NOT NULL
);

CREATE TABLE top_ups (
    top_up_id  TEXT    NOT NULL PRIMARY KEY,
    wallet_id  TEXT    NOT NULL,
    amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
    created_at TEXT    NOT NULL
);

-- Double entry: every movement is two rows with the same txn_id whose amounts sum to zero.
CREATE TABLE ledger_entries (
    entry_id   INTEGER PRIMARY KEY AUTOINCREMENT,
    txn_id     TEXT    NOT NULL,
    account    TEXT    NOT NULL,
    amount_fen INTEGER NOT NULL,
    kind       TEXT    NOT NULL,
    ref_id     TEXT    NOT NULL,
    created_at TEXT    NOT NULL
);
CREATE INDEX ledger_by_account ON ledger_entries (account);
CREATE INDEX ledger_by_ref ON ledger_entries (ref_id);

CREATE TABLE products (
    gtin        TEXT    NOT NULL PRIMARY KEY,
    name        TEXT    NOT NULL,
    price_fen   INTEGER NOT NULL,
    unit        INTEGER NOT NULL,
    weight_g    INTEGER NOT NULL,
    tolerance_g INTEGER NOT NULL,
    min_age     INTEGER NOT NULL,
    origin      TEXT    NOT NULL,
    plu         TEXT    NOT NULL,
    withdrawn   INTEGER NOT NULL,
    version     INTEGER NOT NULL UNIQUE
);

CREATE TABLE catalog_version (
    id      INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO catalog_version (id, version) VALUES (1, 0);
