-- Cached promotions and coupon campaigns (protobuf-encoded), beside the cached products.
CREATE TABLE catalog_promotions (
    kind    TEXT NOT NULL,
    id      TEXT NOT NULL,
    body    BLOB NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (kind, id)
);
