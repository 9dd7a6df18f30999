//! Evidence on program–KPI links: the results of `citykpi evidence …` (or a
//! study entered by staff) stored beside the declared contribution, so that
//! the cycle can weigh programs by estimated as well as declared effects.
//!
//! [`engine`] computes evidence (synthetic control, DiD, ITS) on a panel with
//! the design checks; [`stored`] runs it on the database's own data. The
//! CLI (CSV and `--kpi` modes), the web workbench and the API call these.

pub mod engine;
pub mod stored;

pub use engine::{EvidenceError, EvidenceReport, Method};
pub use stored::{StoredRequest, StoredRun};

use citykpi_domain::evidence::LinkEvidence;
use citykpi_store::{Store, StoredEvidence};

use crate::AppError;

/// Stores `ev` on its link. Every problem of the record is named at once
/// (field: reason); an unknown link is refused naming it; nothing is written
/// on refusal.
pub async fn record(store: &Store, ev: &LinkEvidence, actor: &str) -> Result<i64, AppError> {
    let problems = ev.problems();
    if !problems.is_empty() {
        let reasons: Vec<String> = problems.iter().map(ToString::to_string).collect();
        return Err(AppError::invalid(
            format!("{} → {}", ev.program_code, ev.kpi_code),
            reasons.join(" / "),
        ));
    }
    Ok(store.record_link_evidence(ev, actor).await?)
}

/// Evidence on a KPI's links (newest first).
pub async fn for_kpi(store: &Store, kpi: &str) -> Result<Vec<StoredEvidence>, AppError> {
    Ok(store.link_evidence(Some(kpi), None).await?)
}

/// Evidence on a program's links (newest first).
pub async fn for_program(store: &Store, program: &str) -> Result<Vec<StoredEvidence>, AppError> {
    Ok(store.link_evidence(None, Some(program)).await?)
}
