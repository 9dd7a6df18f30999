-- The desk's inquiry list at 50,000 inquiries (issue 6 benchmark,
-- BENCHMARKS.md): the list's first sort key (open 0, answered 2, closed 3)
-- and the searched text (subject and organisation in lower case) as
-- columns the database computes, the same names as on PostgreSQL, where
-- they are stored; here they are virtual (SQLite cannot add a stored one to
-- a table) and the index on desk_rank, due_on and id replaces the
-- expression index. Store::inquiries orders by (desk_rank, due_on, id) and
-- searches search_text.

ALTER TABLE partner_inquiries ADD COLUMN desk_rank INTEGER GENERATED ALWAYS AS (
    CASE WHEN status IN ('received', 'in_progress') THEN 0 WHEN status = 'answered' THEN 2 ELSE 3 END
) VIRTUAL;
ALTER TABLE partner_inquiries ADD COLUMN search_text TEXT GENERATED ALWAYS AS (
    lower(subject) || char(10) || lower(org_name)
) VIRTUAL;
DROP INDEX IF EXISTS partner_inquiries_desk_order;
CREATE INDEX partner_inquiries_desk_rank ON partner_inquiries(desk_rank, due_on, id);
