//! The mayor's briefing (トップマネジメント) as one A4 page: the headline
//! numbers, the plan by policy area, the KPIs off track, the decisions
//! waiting, the evidence, the demonstrations and the month's changes, from
//! a [`MayorBrief`] whose every text and number the caller has already
//! formatted as the web page shows them. Long lists are cut to fit the page.

use serde::Serialize;
use serde_json::json;

use crate::{Fonts, PdfResult, compile, preamble};

const TEMPLATE: &str = include_str!("../templates/mayor.typ");

/// Lines of a list the page holds at most.
const MAX_ROWS: usize = 8;

/// The briefing's contents, already formatted.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MayorBrief {
    /// 「みなと市 トップマネジメント 2025年度（令和7年度）」
    pub title: String,
    /// 「2026-12-07 現在」
    pub as_of: String,
    /// Headline numbers: (label, value).
    pub tiles: Vec<(String, String)>,
    /// Policy areas: name, status, rate, off track / total.
    pub areas: Vec<[String; 4]>,
    /// KPIs off track: name, status, probability, departments.
    pub off_track: Vec<[String; 4]>,
    pub off_track_more: String,
    /// Decisions waiting: (label, value).
    pub decisions: Vec<(String, String)>,
    pub evidence: Vec<String>,
    pub demonstrations: Vec<String>,
    pub changes: Vec<String>,
}

fn cut<T: Clone>(rows: &[T]) -> Vec<T> {
    rows.iter().take(MAX_ROWS).cloned().collect()
}

/// The briefing as PDF bytes: one A4 page.
pub fn mayor_pdf(fonts: &Fonts, brief: &MayorBrief) -> PdfResult<Vec<u8>> {
    let data = json!({
        "title": brief.title,
        "as_of": brief.as_of,
        "tiles": brief.tiles,
        "areas": cut(&brief.areas),
        "off_track": cut(&brief.off_track),
        "off_track_more": brief.off_track_more,
        "decisions": brief.decisions,
        "evidence": cut(&brief.evidence),
        "demonstrations": cut(&brief.demonstrations),
        "changes": cut(&brief.changes),
    });
    compile(
        fonts,
        &format!("{}{TEMPLATE}", preamble(fonts)),
        &data,
        Vec::new(),
    )
}
