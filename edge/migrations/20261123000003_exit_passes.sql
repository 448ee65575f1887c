-- The exit pass each paid basket was given.
ALTER TABLE sales ADD COLUMN exit_pass TEXT NOT NULL DEFAULT '';

-- Exit passes already used at an exit gate: a pass opens a gate once.
CREATE TABLE used_exit_passes (
    order_id TEXT PRIMARY KEY NOT NULL,
    exit_id  TEXT NOT NULL,
    used_at  TEXT NOT NULL
);
