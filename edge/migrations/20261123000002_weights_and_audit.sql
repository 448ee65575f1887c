-- What the bagging scales learned: per product, the running mean and variance of its weight.
CREATE TABLE weight_stats (
    gtin   TEXT PRIMARY KEY NOT NULL,
    n      INTEGER NOT NULL,
    mean_g REAL NOT NULL,
    m2     REAL NOT NULL
);

-- Every operator action, accepted or refused: who, what, why, when, and the outcome.
CREATE TABLE operator_actions (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       TEXT NOT NULL,
    lane_id  TEXT NOT NULL,
    operator TEXT NOT NULL,
    role     TEXT NOT NULL,
    command  TEXT NOT NULL,
    reason   TEXT NOT NULL,
    outcome  TEXT NOT NULL
);
