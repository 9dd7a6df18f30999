//! Services of the menu public part of the partnerships area (issue 6).
