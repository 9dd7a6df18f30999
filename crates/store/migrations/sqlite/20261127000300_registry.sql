-- The demonstration registry's dated results and the PR plans' measured
-- reach per channel (issue 6). Both are appended to, one row per entry, and
-- go with their record (ON DELETE CASCADE: the demo city's partners are
-- cleared and written again).

CREATE TABLE partner_demo_results (
    id        INTEGER PRIMARY KEY,
    demo_code TEXT NOT NULL REFERENCES partner_demonstrations(code) ON DELETE CASCADE,
    on_day    TEXT NOT NULL,
    body      TEXT NOT NULL,
    author    TEXT NOT NULL,
    at        TEXT NOT NULL
);
CREATE INDEX partner_demo_results_demo ON partner_demo_results(demo_code, on_day);

CREATE TABLE partner_pr_reach (
    id        INTEGER PRIMARY KEY,
    plan_code TEXT NOT NULL REFERENCES partner_pr_plans(code) ON DELETE CASCADE,
    channel   TEXT NOT NULL,
    on_day    TEXT NOT NULL,
    reach     BIGINT NOT NULL CHECK (reach >= 0),
    note      TEXT NOT NULL,
    author    TEXT NOT NULL,
    at        TEXT NOT NULL
);
CREATE INDEX partner_pr_reach_plan ON partner_pr_reach(plan_code, on_day);
