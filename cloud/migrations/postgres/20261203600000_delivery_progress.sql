-- The rider's progress with a delivery order, as the store's edge reports it on
-- omo/v1/stores/{store}/delivery/progress: who has it, when it is expected at the door, and when
-- it was picked up and delivered (RFC 3339 UTC; '' until then).
ALTER TABLE delivery_orders ADD COLUMN rider_id TEXT NOT NULL DEFAULT '';
ALTER TABLE delivery_orders ADD COLUMN eta TEXT NOT NULL DEFAULT '';
ALTER TABLE delivery_orders ADD COLUMN picked_up_at TEXT NOT NULL DEFAULT '';
ALTER TABLE delivery_orders ADD COLUMN delivered_at TEXT NOT NULL DEFAULT '';
