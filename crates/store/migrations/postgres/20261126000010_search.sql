-- Full-text search over KPIs and programs that works for Japanese (no spaces
-- between words): the searched text per record, NFKC-normalised and lower-cased
-- by the store, with a pg_trgm GIN index that serves LIKE '%…%' for any
-- substring of three characters or more.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE search_docs (
    id   BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('kpi', 'program')),
    code TEXT NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (kind, code)
);

CREATE INDEX search_docs_body_trgm ON search_docs USING gin (body gin_trgm_ops);
