-- A product whose store-printed label carries its price (weighed fresh goods): only for such
-- products does a lane believe a price on a barcode.
ALTER TABLE products ADD COLUMN priced_by_label BIGINT NOT NULL DEFAULT 0;
