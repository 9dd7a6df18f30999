-- Login sessions, login failures and scheduled-job runs live in the database
-- so that several server processes on one database share them: a user
-- signed in on one server is signed in on all, a logout or a password
-- change ends the session everywhere, the login limit counts attempts made
-- on any server, and a scheduled job runs on one server only.
--
-- Only the SHA-256 digest of the cookie's random id is kept: a copy of the
-- database does not let anyone take over a session. Times are Unix seconds.
CREATE TABLE web_sessions (
    digest TEXT PRIMARY KEY,
    login TEXT NOT NULL,
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX web_sessions_login ON web_sessions (login);
CREATE INDEX web_sessions_last_seen ON web_sessions (last_seen_at);

-- Failed logins per SHA-256 digest of (client address, login) and of
-- (client address, all logins): the addresses are not kept in the clear.
CREATE TABLE web_login_failures (
    key_digest TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    since BIGINT NOT NULL
);

-- One row per run of a scheduled job and time slot: the server that
-- inserts the row runs the job, the others see the row and skip.
CREATE TABLE job_runs (
    job TEXT NOT NULL,
    slot BIGINT NOT NULL,
    holder TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    PRIMARY KEY (job, slot)
);
