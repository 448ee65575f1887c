-- Paid baskets whose lane gate was told to open, recorded before the relay is pulsed: after a
-- restart in the Paid state the gate is not opened a second time for the same order.
CREATE TABLE lane_gate_opens (
    order_id  TEXT PRIMARY KEY NOT NULL,
    lane_id   TEXT NOT NULL,
    opened_at TEXT NOT NULL
);
