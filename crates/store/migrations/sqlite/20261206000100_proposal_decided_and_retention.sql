-- The day a proposal was decided is now written by Store::move_proposal in
-- the same UPDATE that moves its stage (one place, visible in Rust and in
-- the audit row), so the trigger that stamped it is dropped.
DROP TRIGGER IF EXISTS partner_proposals_decided;

-- Proposals' personal data has a retention period too: a rejected
-- proposal's contact person, phone and e-mail are erased with the inquiries'
-- (Store::erase_expired_personal); the day is kept here.
ALTER TABLE partner_proposals ADD COLUMN contact_erased_on TEXT;
