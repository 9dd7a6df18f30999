-- The private-proposal desk's intake (issue 6): themes the city publishes,
-- the proposer's contact person, phone and how the proposal arrived, and
-- the day a decision (採択 / 不採択) was recorded.

CREATE TABLE partner_proposal_themes (
    code        TEXT PRIMARY KEY,
    title       TEXT NOT NULL,
    description TEXT NOT NULL,
    -- framed lists (",K1,K2,", ",3,11,") like the other partner tables
    kpi_codes   TEXT NOT NULL,
    sdg_goals   TEXT NOT NULL,
    open_from   TEXT,
    open_until  TEXT,
    closed      BOOLEAN NOT NULL,
    updated_at  TEXT NOT NULL
);

ALTER TABLE partner_proposals ADD COLUMN contact_person TEXT NOT NULL DEFAULT '';
ALTER TABLE partner_proposals ADD COLUMN contact_phone TEXT NOT NULL DEFAULT '';
-- web (the public form), email, post, visit, other (ProposalChannel)
ALTER TABLE partner_proposals ADD COLUMN channel TEXT NOT NULL DEFAULT 'other';
ALTER TABLE partner_proposals ADD COLUMN decided_at TEXT;

-- A decision carries its date: whatever writes the move into 採択 or
-- 不採択 (the desk's stage form, the API), the database stamps the time in
-- the same transaction, in the format of the rest (UTC, RFC 3339).
CREATE TRIGGER partner_proposals_decided
AFTER UPDATE OF stage ON partner_proposals
FOR EACH ROW
WHEN NEW.stage IN ('adopted', 'rejected') AND NEW.stage IS NOT OLD.stage
BEGIN
    UPDATE partner_proposals
    SET decided_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    WHERE id = NEW.id;
END;

-- The public page of decisions: consented and decided, newest first.
CREATE INDEX partner_proposals_published ON partner_proposals(publish_consent, stage, decided_at);
