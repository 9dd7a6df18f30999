-- Evidence on a program–KPI link: what a causal estimate (or another study)
-- says the program changed in the KPI, kept beside the declared contribution.
-- Every record is kept (a newer study does not erase an older one).
CREATE TABLE link_evidence (
    id           INTEGER PRIMARY KEY,
    program_code TEXT NOT NULL,
    kpi_code     TEXT NOT NULL,
    method       TEXT NOT NULL CHECK (method IN ('difference_in_differences',
                     'interrupted_time_series', 'synthetic_control', 'randomised_trial', 'other')),
    data         TEXT NOT NULL DEFAULT '',
    estimate     REAL NOT NULL,
    lower_bound  REAL,
    upper_bound  REAL,
    level        REAL,
    p_value      REAL,
    grade        TEXT NOT NULL,
    note         TEXT NOT NULL DEFAULT '',
    detail       TEXT NOT NULL DEFAULT '',
    recorded_by  TEXT NOT NULL,
    recorded_at  TEXT NOT NULL,
    FOREIGN KEY (program_code, kpi_code) REFERENCES kpi_links (program_code, kpi_code)
);
CREATE INDEX link_evidence_kpi ON link_evidence (kpi_code);
CREATE INDEX link_evidence_program ON link_evidence (program_code);
