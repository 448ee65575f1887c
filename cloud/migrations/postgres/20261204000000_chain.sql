-- The cloud processes' MQTT sessions in a share group (mqtt_share_group), one row per session
-- (its MQTT client id, `{mqtt_client_id}-{role}`): each live process beats its rows every few
-- seconds; a row whose beat stopped is a dead member whose broker session may still hold
-- messages (mosquitto 2.0 keeps routing a share to an offline member), so one live member of
-- the same group and role claims it (adopted_by, adopted_at), connects as it, handles what
-- waits there, takes it out of the group and notes when (drained_at). Times are RFC 3339 UTC.
CREATE TABLE mqtt_members (
    client_id TEXT PRIMARY KEY,
    share_group TEXT NOT NULL,
    role TEXT NOT NULL,
    seen_at TEXT NOT NULL,
    adopted_by TEXT,
    adopted_at TEXT,
    drained_at TEXT
);
CREATE INDEX mqtt_members_by_group ON mqtt_members (share_group, role, seen_at);

-- A rider's progress that reached this cloud before the store's acceptance of its order did (a
-- share group sends `delivery/orders` and `delivery/progress` to different processes, so their
-- order is lost): kept here and applied, in step order, when the acceptance is recorded.
CREATE TABLE delivery_progress_parked (
    order_id TEXT NOT NULL,
    store_id TEXT NOT NULL,
    step_rank INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    rider_id TEXT NOT NULL,
    eta TEXT NOT NULL,
    at TEXT NOT NULL,
    parked_at TEXT NOT NULL,
    PRIMARY KEY (order_id, store_id, step_rank)
);
