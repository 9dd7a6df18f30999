//! The HTML pages. Each handler loads what it shows from the snapshot (reads)
//! or calls the store / app services (writes) and renders with maud.

pub mod account;
pub mod admin;
pub mod auth;
pub mod backups;
pub mod cycle;
pub mod dashboard;
pub mod data;
pub mod entry;
pub mod evidence;
pub mod kpi;
pub mod lists;
pub mod mayor;
pub mod partners;
pub mod program;
pub mod public;
pub mod signin_settings;
pub mod whatif;
