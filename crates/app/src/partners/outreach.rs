//! Services of the outreach part of the partnerships area (issue 6).
