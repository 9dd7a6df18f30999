//! Storage of the registry part of the partnerships area (issue 6).
