-- Partnership lists at 10,000 members and 50,000 inquiries (issue 6
-- benchmark, see BENCHMARKS.md): each list's order is an index, so a page —
-- the last one too — is read from it instead of sorting every row.

-- The public directory: listed members by name, then id.
CREATE INDEX partner_members_directory_name ON partner_members(publish, status, name_fold, id);

-- The desk's inquiry list: open ones (overdue first, as they fall due
-- earliest), then answered, then closed; each by due date. The expression
-- must stay the one Store::inquiries orders by.
CREATE INDEX partner_inquiries_desk_order ON partner_inquiries(
    (CASE WHEN status IN ('received', 'in_progress') THEN 0 WHEN status = 'answered' THEN 2 ELSE 3 END),
    due_on,
    id
);
