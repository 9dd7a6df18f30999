-- Files attached to private proposals, kept in the database (one backup
-- holds everything; nothing lands on a file system the web server serves).
CREATE TABLE partner_attachments (
    id          INTEGER PRIMARY KEY,
    proposal_id BIGINT NOT NULL REFERENCES partner_proposals(id),
    file_name   TEXT NOT NULL,
    media_type  TEXT NOT NULL,
    size        BIGINT NOT NULL,
    content     BLOB NOT NULL,
    uploaded_at TEXT NOT NULL,
    uploaded_by TEXT NOT NULL
);
CREATE INDEX partner_attachments_proposal ON partner_attachments(proposal_id, id);
