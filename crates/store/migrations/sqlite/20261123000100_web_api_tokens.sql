-- API tokens of the web application: only a SHA-256 digest of each token is
-- kept, so a copy of the database does not give API access. One token per user.
CREATE TABLE web_api_tokens (
    digest TEXT PRIMARY KEY,
    login TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);
