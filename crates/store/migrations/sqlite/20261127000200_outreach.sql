-- Startup outreach (issue 6): leads met at coworking spaces, events or by
-- referral, their stage toward a demonstration in the city with a dated
-- history of moves, the events the city holds with what they counted, the
-- leads met at each, and which event counts were recorded as KPI actuals.
--
-- Lists (KPI codes, SDG goals) are framed by commas (",K-01,K-02,") as in
-- the other partnership tables. A lead's member number is checked when it
-- is written, not by a foreign key, so that the demo can rebuild the
-- member register without tripping over leads (it rebuilds them too).

CREATE TABLE outreach_leads (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL,
    -- lower-cased NFKC name, place met and summary, for search
    search_fold     TEXT NOT NULL,
    member_id       BIGINT,
    met_at          TEXT NOT NULL CHECK (met_at IN ('coworking', 'event', 'referral', 'other')),
    met_where       TEXT NOT NULL,
    first_met_on    TEXT NOT NULL,
    field           TEXT NOT NULL,
    summary         TEXT NOT NULL,
    contact_person  TEXT NOT NULL,
    email           TEXT NOT NULL,
    stage           TEXT NOT NULL CHECK (stage IN ('contact', 'meeting', 'proposal', 'trial', 'implemented', 'declined')),
    kpi_codes       TEXT NOT NULL,
    sdg_goals       TEXT NOT NULL,
    next_action     TEXT NOT NULL,
    next_action_on  TEXT,
    created_by      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    version         BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX outreach_leads_stage ON outreach_leads(stage, id);
-- The overdue list: open leads by the date of their next action.
CREATE INDEX outreach_leads_next ON outreach_leads(next_action_on, id);
CREATE INDEX outreach_leads_member ON outreach_leads(member_id);

CREATE TABLE outreach_lead_moves (
    id          INTEGER PRIMARY KEY,
    lead_id     BIGINT NOT NULL REFERENCES outreach_leads(id) ON DELETE CASCADE,
    -- empty when the lead was recorded
    from_stage  TEXT,
    to_stage    TEXT NOT NULL,
    on_day      TEXT NOT NULL,
    note        TEXT NOT NULL,
    moved_by    TEXT NOT NULL,
    moved_at    TEXT NOT NULL
);
CREATE INDEX outreach_lead_moves_lead ON outreach_lead_moves(lead_id, id);

CREATE TABLE outreach_events (
    id                      INTEGER PRIMARY KEY,
    title                   TEXT NOT NULL,
    search_fold             TEXT NOT NULL,
    kind                    TEXT NOT NULL,
    held_on                 TEXT NOT NULL,
    place                   TEXT NOT NULL,
    section_code            TEXT NOT NULL,
    attendees               BIGINT NOT NULL CHECK (attendees >= 0),
    visitors                BIGINT NOT NULL CHECK (visitors >= 0),
    relationship_population BIGINT NOT NULL CHECK (relationship_population >= 0),
    firms_attracted         BIGINT NOT NULL CHECK (firms_attracted >= 0),
    kpi_codes               TEXT NOT NULL,
    sdg_goals               TEXT NOT NULL,
    note                    TEXT NOT NULL,
    created_by              TEXT NOT NULL,
    updated_at              TEXT NOT NULL,
    version                 BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX outreach_events_held ON outreach_events(held_on, id);

CREATE TABLE outreach_event_leads (
    event_id BIGINT NOT NULL REFERENCES outreach_events(id) ON DELETE CASCADE,
    lead_id  BIGINT NOT NULL REFERENCES outreach_leads(id) ON DELETE CASCADE,
    PRIMARY KEY (event_id, lead_id)
);
CREATE INDEX outreach_event_leads_lead ON outreach_event_leads(lead_id);

-- An event's count recorded as (part of) a KPI's actual: one per event and
-- KPI; the KPI's actual for the period is the sum of its postings there.
CREATE TABLE outreach_postings (
    event_id  BIGINT NOT NULL REFERENCES outreach_events(id) ON DELETE CASCADE,
    kpi_code  TEXT NOT NULL,
    measure   TEXT NOT NULL CHECK (measure IN ('attendees', 'visitors', 'relationship_population', 'firms_attracted')),
    period    TEXT NOT NULL,
    value     BIGINT NOT NULL CHECK (value >= 0),
    posted_by TEXT NOT NULL,
    posted_at TEXT NOT NULL,
    PRIMARY KEY (event_id, kpi_code)
);
CREATE INDEX outreach_postings_kpi ON outreach_postings(kpi_code, period);
