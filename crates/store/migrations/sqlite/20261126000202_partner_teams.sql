-- Project teams of the SDGs partner platform (issue 6): members and city
-- sections working on one goal tied to the plan's KPIs, and the team's log
-- of activities and results. The team is kept as JSON like the
-- demonstrations; the log is appended to, one row per entry.

CREATE TABLE partner_teams (
    code TEXT PRIMARY KEY,
    body TEXT NOT NULL
);

CREATE TABLE partner_team_log (
    id        INTEGER PRIMARY KEY,
    team_code TEXT NOT NULL REFERENCES partner_teams(code),
    on_day    TEXT NOT NULL,
    kind      TEXT NOT NULL,
    body      TEXT NOT NULL,
    author    TEXT NOT NULL,
    at        TEXT NOT NULL
);
CREATE INDEX partner_team_log_team ON partner_team_log(team_code, on_day);
