-- Baskets whose shopper used "I use my own bag" on the lane screen: once per basket, kept across
-- restarts (an attendant can still allow another).
CREATE TABLE own_bag_uses (
    lane_id    TEXT NOT NULL,
    session_id TEXT NOT NULL,
    used_at    TEXT NOT NULL,
    PRIMARY KEY (lane_id, session_id)
);
