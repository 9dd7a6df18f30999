-- The yearly management cycle (issue 4). Program and department codes are
-- kept as text without foreign keys on purpose: evaluation sheets and budget
-- decisions are records of what was decided and must outlive a program that
-- is later abolished or renamed; the store checks the codes when writing.

-- One cycle per evaluated fiscal year; 'closed' makes it read-only.
CREATE TABLE cycles (
    fy          INTEGER PRIMARY KEY,
    state       TEXT NOT NULL CHECK (state IN ('open', 'closed')),
    updated_by  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE cycle_stages (
    fy          INTEGER NOT NULL REFERENCES cycles(fy) ON DELETE CASCADE,
    stage       TEXT NOT NULL,
    position    INTEGER NOT NULL,
    deadline    TEXT,
    state       TEXT NOT NULL CHECK (state IN ('open', 'closed', 'waived')),
    reason      TEXT NOT NULL DEFAULT '',
    changed_by  TEXT NOT NULL DEFAULT '',
    changed_at  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (fy, stage)
);

-- Every saved version of every evaluation sheet; the highest version is current.
CREATE TABLE evaluation_sheets (
    program_code TEXT NOT NULL,
    fy           INTEGER NOT NULL,
    version      INTEGER NOT NULL CHECK (version >= 1),
    state        TEXT NOT NULL,
    direction    TEXT,
    body         TEXT NOT NULL,  -- the sheet as JSON
    saved_by     TEXT NOT NULL,
    saved_at     TEXT NOT NULL,
    PRIMARY KEY (program_code, fy, version)
);
CREATE INDEX evaluation_sheets_fy ON evaluation_sheets(fy, program_code);

-- 要求上限（枠）per budget year and department.
CREATE TABLE budget_ceilings (
    fy              INTEGER NOT NULL,
    department_code TEXT NOT NULL,
    amount          INTEGER NOT NULL CHECK (amount >= 0),
    PRIMARY KEY (fy, department_code)
);

-- One request per program and budget year, with finance's assessed amount.
CREATE TABLE budget_requests (
    program_code    TEXT NOT NULL,
    fy              INTEGER NOT NULL,
    requested       INTEGER NOT NULL CHECK (requested >= 0),
    national        INTEGER NOT NULL DEFAULT 0,
    prefectural     INTEGER NOT NULL DEFAULT 0,
    bonds           INTEGER NOT NULL DEFAULT 0,
    other           INTEGER NOT NULL DEFAULT 0,
    general         INTEGER NOT NULL DEFAULT 0,
    override_reason TEXT NOT NULL DEFAULT '',
    assessed        INTEGER CHECK (assessed >= 0),
    note            TEXT NOT NULL DEFAULT '',
    version         INTEGER NOT NULL DEFAULT 1,
    updated_by      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (program_code, fy)
);
CREATE INDEX budget_requests_fy ON budget_requests(fy);

-- Program lineage: merges, splits and abolitions, so that a KPI's
-- contribution can be followed across a restructuring.
CREATE TABLE program_lineage (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    fy           INTEGER NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('merge', 'split', 'abolish', 'rename')),
    from_codes   TEXT NOT NULL,  -- JSON array
    to_codes     TEXT NOT NULL,  -- JSON array
    note         TEXT NOT NULL DEFAULT '',
    decided_by   TEXT NOT NULL,
    decided_at   TEXT NOT NULL
);
