-- Results of a participation in the SDGs contribution menu (issue 6): what a
-- member achieved, dated, recorded by the desk as often as there is news
-- (a participation's own `result` column holds the closing summary only).
-- Deleted with the participation (the demo city rewrites all partner rows).

CREATE TABLE partner_participation_results (
    id               INTEGER PRIMARY KEY,
    participation_id BIGINT NOT NULL REFERENCES partner_participations(id) ON DELETE CASCADE,
    on_day           TEXT NOT NULL,
    body             TEXT NOT NULL,
    recorded_by      TEXT NOT NULL,
    recorded_at      TEXT NOT NULL
);
CREATE INDEX partner_participation_results_of ON partner_participation_results(participation_id, on_day, id);
