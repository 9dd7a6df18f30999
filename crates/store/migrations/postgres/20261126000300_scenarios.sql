-- シナリオの仮説: every saved version of every KPI's scenario (strategy,
-- causal chain, assumptions with verdicts); the highest version is current.
CREATE TABLE kpi_scenarios (
    kpi_code  TEXT COLLATE "C" NOT NULL,
    version   BIGINT NOT NULL CHECK (version >= 1),
    body      TEXT NOT NULL,  -- the scenario as JSON
    saved_by  TEXT NOT NULL,
    saved_at  TEXT NOT NULL,
    PRIMARY KEY (kpi_code, version)
);
