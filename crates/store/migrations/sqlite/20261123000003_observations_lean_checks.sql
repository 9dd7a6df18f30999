-- Rebuilds observations with cheaper constraints for bulk loads:
-- * `value_kind IN ('value', 'missing', 'secret')` made SQLite build a
--   temporary index on every row written (an IN list of three constants is
--   looked up through an ephemeral table); plain comparisons check the same.
-- * The foreign key to kpis goes, as on PostgreSQL: observations are written
--   only through the store, which resolves KPI codes to ids in the same
--   transaction, and KPIs are never deleted one by one.
CREATE TABLE observations_lean (
    kpi_id      INTEGER NOT NULL,
    period      TEXT NOT NULL,
    area_code   TEXT NOT NULL,
    fiscal_year INTEGER NOT NULL,
    value       REAL,
    value_kind  TEXT NOT NULL CHECK (value_kind = 'value' OR value_kind = 'missing' OR value_kind = 'secret'),
    status      TEXT NOT NULL,
    source      TEXT NOT NULL DEFAULT '',
    note        TEXT NOT NULL DEFAULT '',
    entered_by  TEXT NOT NULL DEFAULT '',
    entered_at  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (kpi_id, period, area_code),
    CHECK ((value_kind = 'value') = (value IS NOT NULL))
) WITHOUT ROWID;

INSERT INTO observations_lean (kpi_id, period, area_code, fiscal_year, value, value_kind, status,
                               source, note, entered_by, entered_at)
SELECT kpi_id, period, area_code, fiscal_year, value, value_kind, status,
       source, note, entered_by, entered_at
FROM observations;

DROP TABLE observations;
ALTER TABLE observations_lean RENAME TO observations;
