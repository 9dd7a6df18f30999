-- Full-text search over KPIs and programs that works for Japanese (no spaces
-- between words): the searched text per record, NFKC-normalised and lower-cased
-- by the store, indexed by an FTS5 trigram index (any substring of three
-- characters or more is found through the index).
CREATE TABLE search_docs (
    id   INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('kpi', 'program')),
    code TEXT NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (kind, code)
);

CREATE VIRTUAL TABLE search_fts USING fts5(
    body,
    content = 'search_docs',
    content_rowid = 'id',
    tokenize = 'trigram'
);

-- The FTS index follows its content table (the pattern of SQLite's FTS5
-- documentation for external-content tables).
CREATE TRIGGER search_docs_ai AFTER INSERT ON search_docs BEGIN
    INSERT INTO search_fts (rowid, body) VALUES (new.id, new.body);
END;
CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs BEGIN
    INSERT INTO search_fts (search_fts, rowid, body) VALUES ('delete', old.id, old.body);
END;
CREATE TRIGGER search_docs_au AFTER UPDATE ON search_docs BEGIN
    INSERT INTO search_fts (search_fts, rowid, body) VALUES ('delete', old.id, old.body);
    INSERT INTO search_fts (rowid, body) VALUES (new.id, new.body);
END;
