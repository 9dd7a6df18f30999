//! The yearly management cycle (issue 4): filled in by its issue.
