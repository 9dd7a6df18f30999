-- Partnerships (issue 6): members of the SDGs partner platform, the SDGs
-- contribution menu and participations, one-stop desk inquiries with their
-- reply history, private proposals, demonstrations and PR plans.
--
-- Lists (goals, KPI codes, departments) are kept as text framed by commas
-- (",3,7,13,") so that one LIKE finds an element on both backends. No
-- foreign key points at the core tables, so clearing the plan data for a
-- new demo city never trips over partner rows.

CREATE TABLE partner_members (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL,
    -- lower-cased NFKC name, for search
    name_fold       TEXT NOT NULL,
    org_type        TEXT NOT NULL,
    org_size        TEXT,
    postal_code     TEXT NOT NULL,
    lg_code         TEXT NOT NULL,
    address         TEXT NOT NULL,
    website         TEXT NOT NULL,
    contact_person  TEXT NOT NULL,
    email           TEXT NOT NULL,
    phone           TEXT NOT NULL,
    sdg_goals       TEXT NOT NULL,
    offers          TEXT NOT NULL,
    publish         BOOLEAN NOT NULL,
    public_fields   TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    decision_reason TEXT NOT NULL,
    registered_at   TEXT NOT NULL,
    decided_at      TEXT,
    decided_by      TEXT
);
CREATE INDEX partner_members_status ON partner_members(status, id);
CREATE INDEX partner_members_directory ON partner_members(publish, status, id);
CREATE INDEX partner_members_email ON partner_members(email);

CREATE TABLE partner_menu_items (
    code        TEXT PRIMARY KEY,
    title       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    description TEXT NOT NULL,
    kpi_codes   TEXT NOT NULL,
    sdg_goals   TEXT NOT NULL,
    open        BOOLEAN NOT NULL
);

CREATE TABLE partner_participations (
    id         INTEGER PRIMARY KEY,
    menu_code  TEXT NOT NULL REFERENCES partner_menu_items(code),
    member_id  BIGINT NOT NULL REFERENCES partner_members(id),
    status     TEXT NOT NULL CHECK (status IN ('applied', 'accepted', 'declined', 'completed')),
    note       TEXT NOT NULL,
    result     TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    UNIQUE (menu_code, member_id)
);
CREATE INDEX partner_participations_member ON partner_participations(member_id);

CREATE TABLE partner_inquiries (
    id           INTEGER PRIMARY KEY,
    category     TEXT NOT NULL,
    channel      TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('received', 'in_progress', 'answered', 'closed')),
    org_name     TEXT NOT NULL,
    member_id    BIGINT REFERENCES partner_members(id),
    subject      TEXT NOT NULL,
    content      TEXT NOT NULL,
    person_name  TEXT NOT NULL,
    email        TEXT NOT NULL,
    phone        TEXT NOT NULL,
    departments  TEXT NOT NULL,
    received_on  TEXT NOT NULL,
    due_on       TEXT NOT NULL,
    closed_on    TEXT,
    erased_on    TEXT,
    created_by   TEXT NOT NULL
);
-- The desk's list: open ones by due date (overdue first).
CREATE INDEX partner_inquiries_status_due ON partner_inquiries(status, due_on, id);
CREATE INDEX partner_inquiries_due ON partner_inquiries(due_on, id);
CREATE INDEX partner_inquiries_member ON partner_inquiries(member_id);
CREATE INDEX partner_inquiries_closed ON partner_inquiries(closed_on);

CREATE TABLE partner_inquiry_replies (
    id           INTEGER PRIMARY KEY,
    inquiry_id   BIGINT NOT NULL REFERENCES partner_inquiries(id),
    at           TEXT NOT NULL,
    author       TEXT NOT NULL,
    body         TEXT NOT NULL,
    status_after TEXT
);
CREATE INDEX partner_inquiry_replies_inquiry ON partner_inquiry_replies(inquiry_id, id);

CREATE TABLE partner_proposals (
    id              INTEGER PRIMARY KEY,
    title           TEXT NOT NULL,
    proposer_name   TEXT NOT NULL,
    member_id       BIGINT REFERENCES partner_members(id),
    theme_code      TEXT,
    summary         TEXT NOT NULL,
    kpi_codes       TEXT NOT NULL,
    sdg_goals       TEXT NOT NULL,
    contact_email   TEXT NOT NULL,
    publish_consent BOOLEAN NOT NULL,
    stage           TEXT NOT NULL,
    -- the five rubric scores as "4,3,2,5,1" (Criterion::ALL order), or NULL
    rubric          TEXT,
    decision_reason TEXT NOT NULL,
    received_at     TEXT NOT NULL
);
CREATE INDEX partner_proposals_stage ON partner_proposals(stage, id);

-- Demonstrations and PR plans: the whole record as JSON, with the columns
-- lists filter on beside it.
CREATE TABLE partner_demonstrations (
    code  TEXT PRIMARY KEY,
    field TEXT NOT NULL,
    stage TEXT NOT NULL,
    body  TEXT NOT NULL
);

CREATE TABLE partner_pr_plans (
    code     TEXT PRIMARY KEY,
    start_on TEXT NOT NULL,
    end_on   TEXT NOT NULL,
    body     TEXT NOT NULL
);
CREATE INDEX partner_pr_plans_period ON partner_pr_plans(start_on, end_on);
