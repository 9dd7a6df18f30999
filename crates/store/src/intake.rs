//! Storage of the intake part of the partnerships area (issue 6).
