//! Partnerships (issue 6): filled in by its issue.
