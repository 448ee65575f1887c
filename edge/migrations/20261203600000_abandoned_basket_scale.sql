-- The bagging scale's last stable weight (grams) when a basket was dropped without a sale: goods
-- left on the bagging area are visible in the record (issue 13's review: left-behind goods must
-- not become the next shopper's tare).
ALTER TABLE abandoned_baskets ADD COLUMN scale_g INTEGER;
