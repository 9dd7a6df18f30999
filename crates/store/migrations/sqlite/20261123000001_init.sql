-- citykpi schema, SQLite flavour. Keep in step with ../postgres.
-- Natural keys (codes) are the public identity; KPIs carry an integer id so that
-- the millions of observation rows stay small.

CREATE TABLE departments (
    code        TEXT NOT NULL PRIMARY KEY,
    name_ja     TEXT NOT NULL,
    name_en     TEXT NOT NULL DEFAULT '',
    sort_order  INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE sections (
    code            TEXT NOT NULL PRIMARY KEY,
    department_code TEXT NOT NULL REFERENCES departments(code),
    name_ja         TEXT NOT NULL,
    name_en         TEXT NOT NULL DEFAULT '',
    sort_order      INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE users (
    login         TEXT NOT NULL PRIMARY KEY,
    display_name  TEXT NOT NULL,
    email         TEXT,
    section_code  TEXT NOT NULL REFERENCES sections(code),
    role          TEXT NOT NULL,
    password_hash TEXT,
    active        BOOLEAN NOT NULL DEFAULT 1
);

CREATE TABLE plans (
    code        TEXT NOT NULL PRIMARY KEY,
    name_ja     TEXT NOT NULL,
    name_en     TEXT NOT NULL DEFAULT '',
    start_fy    INTEGER NOT NULL,
    end_fy      INTEGER NOT NULL,
    level_names TEXT NOT NULL,  -- JSON array of {ja, en}
    thresholds  TEXT NOT NULL,  -- JSON StatusThresholds
    rollup      TEXT NOT NULL,
    published   BOOLEAN NOT NULL DEFAULT 0
);

CREATE TABLE plan_nodes (
    code        TEXT NOT NULL PRIMARY KEY,
    plan_code   TEXT NOT NULL REFERENCES plans(code),
    parent_code TEXT REFERENCES plan_nodes(code),
    level       INTEGER NOT NULL,
    name_ja     TEXT NOT NULL,
    name_en     TEXT NOT NULL DEFAULT '',
    sort_order  INTEGER NOT NULL DEFAULT 0,
    weight      REAL
);
CREATE INDEX plan_nodes_plan ON plan_nodes(plan_code);

CREATE TABLE kpis (
    id                    INTEGER PRIMARY KEY,
    code                  TEXT NOT NULL UNIQUE,
    name_ja               TEXT NOT NULL,
    name_en               TEXT NOT NULL DEFAULT '',
    unit                  TEXT NOT NULL,
    direction             TEXT NOT NULL CHECK (direction IN ('higher', 'lower', 'band')),
    band_lower            REAL,
    band_upper            REAL,
    frequency             TEXT NOT NULL,
    baseline_fy           INTEGER,
    baseline_value        REAL,
    final_fy              INTEGER,
    final_value           REAL,
    source                TEXT NOT NULL DEFAULT '',
    publication_lag_years INTEGER NOT NULL DEFAULT 0,
    description           TEXT NOT NULL DEFAULT '',
    published             BOOLEAN NOT NULL DEFAULT 0,
    version               INTEGER NOT NULL DEFAULT 1
);

-- Child rows of a KPI keep the order they were given in (position).
CREATE TABLE kpi_targets (
    kpi_id   INTEGER NOT NULL REFERENCES kpis(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    fy       INTEGER NOT NULL,
    value    REAL NOT NULL,
    PRIMARY KEY (kpi_id, position)
) WITHOUT ROWID;

CREATE TABLE kpi_owners (
    kpi_id       INTEGER NOT NULL REFERENCES kpis(id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    section_code TEXT NOT NULL REFERENCES sections(code),
    PRIMARY KEY (kpi_id, position)
) WITHOUT ROWID;
CREATE INDEX kpi_owners_section ON kpi_owners(section_code);

CREATE TABLE kpi_nodes (
    kpi_id    INTEGER NOT NULL REFERENCES kpis(id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    node_code TEXT NOT NULL REFERENCES plan_nodes(code),
    weight    REAL,
    PRIMARY KEY (kpi_id, position)
) WITHOUT ROWID;
CREATE INDEX kpi_nodes_node ON kpi_nodes(node_code);

CREATE TABLE kpi_sdgs (
    kpi_id   INTEGER NOT NULL REFERENCES kpis(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    goal     INTEGER NOT NULL CHECK (goal BETWEEN 1 AND 17),
    target   TEXT,
    PRIMARY KEY (kpi_id, position)
) WITHOUT ROWID;

-- value is NULL unless value_kind = 'value': a missing or secret cell is never zero.
CREATE TABLE observations (
    kpi_id      INTEGER NOT NULL REFERENCES kpis(id) ON DELETE CASCADE,
    period      TEXT NOT NULL,
    area_code   TEXT NOT NULL,
    fiscal_year INTEGER NOT NULL,
    value       REAL,
    value_kind  TEXT NOT NULL CHECK (value_kind IN ('value', 'missing', 'secret')),
    status      TEXT NOT NULL,
    source      TEXT NOT NULL DEFAULT '',
    note        TEXT NOT NULL DEFAULT '',
    entered_by  TEXT NOT NULL DEFAULT '',
    entered_at  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (kpi_id, period, area_code),
    CHECK ((value_kind = 'value') = (value IS NOT NULL))
) WITHOUT ROWID;

CREATE TABLE programs (
    code         TEXT NOT NULL PRIMARY KEY,
    name_ja      TEXT NOT NULL,
    name_en      TEXT NOT NULL DEFAULT '',
    section_code TEXT NOT NULL REFERENCES sections(code),
    purpose      TEXT NOT NULL DEFAULT '',
    target_group TEXT NOT NULL DEFAULT '',
    intent       TEXT NOT NULL DEFAULT '',
    means        TEXT NOT NULL DEFAULT '',
    delivery     TEXT NOT NULL,
    legal_basis  TEXT NOT NULL DEFAULT '',
    start_fy     INTEGER,
    end_fy       INTEGER,
    mandatory    BOOLEAN NOT NULL DEFAULT 0,
    published    BOOLEAN NOT NULL DEFAULT 0,
    version      INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX programs_section ON programs(section_code);

CREATE TABLE kpi_links (
    program_code   TEXT NOT NULL REFERENCES programs(code),
    kpi_code       TEXT NOT NULL REFERENCES kpis(code),
    weight         REAL NOT NULL,
    rationale      TEXT NOT NULL DEFAULT '',
    evidence_grade TEXT NOT NULL,
    PRIMARY KEY (program_code, kpi_code)
) WITHOUT ROWID;
CREATE INDEX kpi_links_kpi ON kpi_links(kpi_code);

CREATE TABLE program_indicators (
    program_code TEXT NOT NULL REFERENCES programs(code),
    code         TEXT NOT NULL,
    fy           INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    name_ja      TEXT NOT NULL,
    unit         TEXT NOT NULL,
    target       REAL,
    actual       REAL,
    PRIMARY KEY (program_code, code, fy)
) WITHOUT ROWID;

CREATE TABLE program_money (
    program_code       TEXT NOT NULL REFERENCES programs(code),
    fy                 INTEGER NOT NULL,
    budget_initial     INTEGER NOT NULL,
    budget_revised     INTEGER,
    settled            INTEGER,
    funding_national   INTEGER NOT NULL DEFAULT 0,
    funding_prefectural INTEGER NOT NULL DEFAULT 0,
    funding_bonds      INTEGER NOT NULL DEFAULT 0,
    funding_other      INTEGER NOT NULL DEFAULT 0,
    funding_general    INTEGER NOT NULL DEFAULT 0,
    staff_fte          REAL NOT NULL DEFAULT 0,
    staff_unit_cost    INTEGER NOT NULL DEFAULT 0,
    output_quantity    REAL,
    PRIMARY KEY (program_code, fy)
) WITHOUT ROWID;

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,  -- RFC 3339, UTC
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    entity      TEXT NOT NULL,
    entity_key  TEXT NOT NULL,
    before_json TEXT,
    after_json  TEXT
);
CREATE INDEX audit_log_entity ON audit_log(entity, entity_key);
