-- Refunds of lane sales given by a manager from the dashboard, as the cloud confirmed them;
-- one row per refund id (the cloud's Refund is idempotent by the same id).
CREATE TABLE sale_refunds (
    refund_id  TEXT PRIMARY KEY NOT NULL,
    order_id   TEXT NOT NULL,
    amount_fen INTEGER NOT NULL,
    operator   TEXT NOT NULL,
    reason     TEXT NOT NULL,
    at         TEXT NOT NULL
);
CREATE INDEX sale_refunds_order ON sale_refunds (order_id);
CREATE INDEX sales_wallet ON sales (wallet_id, paid_at);
