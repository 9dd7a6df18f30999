//! The domain model of citykpi. Pure Rust, no I/O: every other crate depends on
//! this one and it depends on none of them.
//!
//! Entities refer to each other by their natural keys (codes) rather than by
//! database ids, because that is how city staff name things in Excel and it keeps
//! export → edit → re-import a plain key-based upsert.

pub mod cycle;
pub mod dataset;
pub mod evidence;
pub mod fiscal;
pub mod jst;
pub mod kpi;
pub mod lgcode;
pub mod limits;
pub mod money;
pub mod observation;
pub mod org;
pub mod partner;
pub mod plan;
pub mod program;
pub mod progress;
pub mod text;

pub use dataset::{Dataset, Kind, KnownKeys};
pub use fiscal::FiscalYear;
