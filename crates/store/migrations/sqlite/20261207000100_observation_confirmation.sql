-- Actuals are published only once the city has confirmed them (確認済):
-- who confirmed and when (empty = unconfirmed, 未確認), and a version per
-- actual so that of two people saving the same actual the second is refused.
ALTER TABLE observations ADD COLUMN confirmed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE observations ADD COLUMN confirmed_at TEXT NOT NULL DEFAULT '';
ALTER TABLE observations ADD COLUMN version INTEGER NOT NULL DEFAULT 1;

-- Values stored before confirmation existed were already public: they stay so.
UPDATE observations SET confirmed_by = 'migration', confirmed_at = entered_at;

-- The list of values awaiting confirmation reads only these rows.
CREATE INDEX observations_unconfirmed ON observations (kpi_id) WHERE confirmed_by = '';

-- Users who may confirm the actuals of their department's KPIs (granted by
-- the administrator). No foreign key: the store deletes users wholesale.
CREATE TABLE approvers (
    login      TEXT NOT NULL PRIMARY KEY,
    granted_by TEXT NOT NULL DEFAULT '',
    granted_at TEXT NOT NULL DEFAULT ''
);
