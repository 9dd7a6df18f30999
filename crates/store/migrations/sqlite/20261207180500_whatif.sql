-- Budget what-if (予算の試算): named scenarios of the re-allocation optimiser
-- for a budget year, and the proposals a scenario sends to finance's
-- assessment (査定). Program codes are text without foreign keys, like the
-- cycle's records: a scenario records what was computed and outlives a
-- renamed or abolished program.
CREATE TABLE whatif_scenarios (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    fy        INTEGER NOT NULL,   -- the budget year
    name      TEXT NOT NULL,
    body      TEXT NOT NULL,      -- the rules and the result as JSON
    saved_by  TEXT NOT NULL,
    saved_at  TEXT NOT NULL,
    UNIQUE (fy, name)
);

-- A proposed assessed amount for one budget request, decided one by one by
-- finance: nothing reaches the request until someone accepts it.
CREATE TABLE budget_proposals (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    fy            INTEGER NOT NULL,   -- the budget year
    program_code  TEXT NOT NULL,
    scenario_id   INTEGER NOT NULL,
    scenario_name TEXT NOT NULL,
    proposed      INTEGER NOT NULL CHECK (proposed >= 0),
    option_kind   TEXT NOT NULL,
    reason        TEXT NOT NULL DEFAULT '',
    state         TEXT NOT NULL CHECK (state IN ('open', 'accepted', 'rejected', 'superseded')),
    sent_by       TEXT NOT NULL,
    sent_at       TEXT NOT NULL,
    decided_by    TEXT NOT NULL DEFAULT '',
    decided_at    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX budget_proposals_fy ON budget_proposals (fy, program_code);
