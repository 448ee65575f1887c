-- The exit pass a store's edge attached to a paid basket's payment (PaymentService.AttachExitPass):
-- shown only in the paying wallet's ListReceipts. One per payment; attaching again replaces it.
CREATE TABLE exit_passes (
    payment_id  TEXT NOT NULL PRIMARY KEY,
    store_id    TEXT NOT NULL,
    order_id    TEXT NOT NULL,
    wallet_id   TEXT NOT NULL,
    exit_pass   TEXT NOT NULL,
    attached_at TEXT NOT NULL
);

CREATE INDEX exit_passes_by_wallet ON exit_passes (wallet_id);
