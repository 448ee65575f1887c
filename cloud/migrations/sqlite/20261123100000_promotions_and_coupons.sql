-- Member prices, promotions, coupon campaigns and the coupons shoppers claim (sqlite).
-- Promotions and campaigns share the catalog's version sequence (catalog_version) with the
-- products, so one GetChanges since a version carries every kind of change after it.
-- Timestamps are RFC 3339 UTC with microseconds ('' = unbounded), so text order is time order.

ALTER TABLE products ADD COLUMN member_price_fen INTEGER NOT NULL DEFAULT 0;

CREATE TABLE promotions (
    promotion_id TEXT    NOT NULL PRIMARY KEY,
    name         TEXT    NOT NULL,
    -- 14-digit GTINs joined by ','.
    gtins        TEXT    NOT NULL,
    -- omo.catalog.v1.PromotionKind
    kind         INTEGER NOT NULL,
    quantity     INTEGER NOT NULL,
    price_fen    INTEGER NOT NULL,
    percent_off  INTEGER NOT NULL,
    members_only INTEGER NOT NULL,
    starts_at    TEXT    NOT NULL,
    ends_at      TEXT    NOT NULL,
    withdrawn    INTEGER NOT NULL,
    version      INTEGER NOT NULL UNIQUE
);

CREATE TABLE coupon_campaigns (
    campaign_id    TEXT    NOT NULL PRIMARY KEY,
    name           TEXT    NOT NULL,
    min_spend_fen  INTEGER NOT NULL,
    amount_off_fen INTEGER NOT NULL,
    percent_off    INTEGER NOT NULL,
    gtins          TEXT    NOT NULL,
    starts_at      TEXT    NOT NULL,
    ends_at        TEXT    NOT NULL,
    withdrawn      INTEGER NOT NULL,
    version        INTEGER NOT NULL UNIQUE
);

-- One coupon per wallet per campaign; a claim is idempotent by claim_id. A coupon is REDEEMED
-- by the payment (payment_id) that used it, and CLAIMED again if that payment is cancelled or
-- declined. EXPIRED is not stored: it is a CLAIMED coupon whose campaign is no longer live.
CREATE TABLE coupons (
    coupon_id   TEXT    NOT NULL PRIMARY KEY,
    campaign_id TEXT    NOT NULL,
    wallet_id   TEXT    NOT NULL,
    claim_id    TEXT    NOT NULL UNIQUE,
    status      TEXT    NOT NULL,
    payment_id  TEXT    NOT NULL DEFAULT '',
    claimed_at  TEXT    NOT NULL,
    redeemed_at TEXT    NOT NULL DEFAULT '',
    UNIQUE (wallet_id, campaign_id)
);
CREATE INDEX coupons_by_payment ON coupons (payment_id);

-- The coupons an Authorize named (sorted, joined by ','), so that a retry with other coupons
-- is told apart from a replay.
ALTER TABLE payments ADD COLUMN coupon_ids TEXT NOT NULL DEFAULT '';
