//! The demo city's yearly cycle as it stands on the demo's as-of day: the
//! stages whose deadlines have passed are done, the sheets, requests and
//! assessments are as far as the stage the city is in. From April to June
//! the actuals are collected and a few sections have started their sheets;
//! in July some sheets are accepted, some submitted, some returned with the
//! reviewer's comment, some still drafts (with early requests, part of them
//! assessed); after 10 August every sheet is handed in, after mid-September
//! all are accepted; the budget requests come in during October and
//! November, finance assesses them until the end of January, and from
//! February the cycle's work is done.
//!
//! Like the rest of the demo this is a pure function of the dataset and the
//! day: the same city gives the same cycle.

use std::collections::HashMap;

use citykpi_domain::cycle::budget::{BudgetRequest, Ceiling};
use citykpi_domain::cycle::restructure::{
    FlagKind, RestructureInputs, RestructureRules, restructure_list,
};
use citykpi_domain::cycle::sheet::{EvaluationSheet, ProgramDirection, ReviewState, Scores};
use citykpi_domain::cycle::stage::{Stage, program_runs_in};
use citykpi_domain::money::FundingSources;
use citykpi_domain::partner::Day;
use citykpi_domain::{Dataset, FiscalYear};

/// Where the cycle that evaluates a year stands on a day: the stage it is in
/// (the first whose deadline has not passed), or done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    In(Stage),
    Done,
}

impl Phase {
    /// The phase of the cycle of `fy` on `day`, by the stages' usual deadlines.
    pub fn on(fy: FiscalYear, day: Day) -> Phase {
        let day = (day.year(), day.month(), day.day());
        Stage::ALL
            .into_iter()
            .find(|st| {
                st.default_deadline(fy)
                    .is_none_or(|d| day <= (d.year(), d.month(), d.day()))
            })
            .map_or(Phase::Done, Phase::In)
    }

    /// Whether `stage` is over in this phase.
    pub fn past(self, stage: Stage) -> bool {
        match self {
            Phase::In(current) => stage < current,
            Phase::Done => true,
        }
    }
}

/// The cycle as the demo leaves it.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoCycle {
    /// The evaluated fiscal year.
    pub fy: FiscalYear,
    /// Where it stands.
    pub phase: Phase,
    /// Stages waived, with the reason.
    pub waived: Vec<(Stage, String)>,
    /// Stages closed (their work done).
    pub closed: Vec<Stage>,
    /// Every saved version of every sheet, in the order they were saved
    /// (a program's versions are consecutive).
    pub sheet_versions: Vec<(EvaluationSheet, String)>,
    pub ceilings: Vec<Ceiling>,
    pub requests: Vec<BudgetRequest>,
}

/// Rounds yen to the thousand, as budget requests are written.
fn round_thousand(yen: f64) -> i64 {
    ((yen / 1000.0).round() as i64) * 1000
}

/// How far the sheet of the `i`-th program (by code) has come in `phase`
/// (None: not started).
fn sheet_state(phase: Phase, i: usize) -> Option<ReviewState> {
    match phase {
        // A few sections start early, from the prefilled sheet.
        Phase::In(Stage::KpiActuals) => (i % 10 < 3).then_some(ReviewState::Draft),
        // 50 % accepted, 20 % submitted, 10 % returned, 10 % draft, 10 % not started.
        Phase::In(Stage::SelfEvaluation) => match i % 10 {
            0..=4 => Some(ReviewState::Accepted),
            5 | 6 => Some(ReviewState::Submitted),
            7 => Some(ReviewState::Returned),
            8 => Some(ReviewState::Draft),
            _ => None,
        },
        // Every sheet handed in; the strategy office has accepted most.
        Phase::In(Stage::Review) => Some(if i % 10 < 7 {
            ReviewState::Accepted
        } else {
            ReviewState::Submitted
        }),
        _ => Some(ReviewState::Accepted),
    }
}

/// Whether the accepted sheet of the `i`-th program has its budget request
/// in `phase`, and whether finance has assessed it.
fn request_state(phase: Phase, i: usize) -> Option<bool> {
    match phase {
        Phase::In(Stage::KpiActuals) => None,
        // Every accepted sheet has its request, half of them with finance's
        // first assessment, until the requests close in mid-November.
        Phase::In(
            Stage::SelfEvaluation | Stage::Review | Stage::Restructuring | Stage::BudgetRequests,
        ) => Some(i % 20 < 10),
        Phase::In(Stage::FinanceReview) => Some(i % 10 < 7),
        Phase::Done => Some(true),
    }
}

/// Builds the cycle that evaluates `fy` for the demo city `ds` as it stands
/// on `as_of`.
pub fn generate(ds: &Dataset, fy: FiscalYear, as_of: Day) -> DemoCycle {
    let phase = Phase::on(fy, as_of);
    let budget_fy = fy.next().next();
    let base_fy = fy.next();
    let flagged: HashMap<String, Vec<FlagKind>> = restructure_list(&RestructureInputs {
        fy,
        programs: &ds.programs,
        sections: &ds.sections,
        links: &ds.links,
        money: &ds.money,
        indicators: &ds.indicators,
        rules: RestructureRules::default(),
    })
    .into_iter()
    .map(|e| {
        (
            e.program_code,
            e.flags.into_iter().map(|f| f.kind).collect(),
        )
    })
    .collect();
    let dept_of: HashMap<&str, &str> = ds
        .sections
        .iter()
        .map(|s| (s.code.as_str(), s.department_code.as_str()))
        .collect();
    let mut programs: Vec<_> = ds
        .programs
        .iter()
        .filter(|p| program_runs_in(p, fy))
        .collect();
    programs.sort_by(|a, b| a.code.cmp(&b.code));

    let mut sheet_versions = Vec::new();
    let mut requests = Vec::new();
    for (i, p) in programs.iter().enumerate() {
        let Some(state) = sheet_state(phase, i) else {
            continue;
        };
        let money = ds
            .money
            .iter()
            .find(|m| m.program_code == p.code && m.fy == fy);
        let mut sheet = EvaluationSheet::prefilled(p, fy, None, &ds.indicators, money);
        let outcome = sheet
            .indicators
            .iter()
            .zip(sheet.computed().achievements)
            .filter(|(ind, _)| ind.kind == citykpi_domain::program::IndicatorKind::Outcome)
            .find_map(|(_, a)| a);
        let flags = flagged.get(&p.code).cloned().unwrap_or_default();
        let direction = if flags.contains(&FlagKind::NoKpi) {
            if p.mandatory || i % 3 != 0 {
                ProgramDirection::Improve
            } else {
                ProgramDirection::Abolish
            }
        } else if flags.contains(&FlagKind::Overlap) {
            ProgramDirection::Merge
        } else if flags.contains(&FlagKind::LowContributionPerYen) {
            ProgramDirection::Reduce
        } else if flags.contains(&FlagKind::OutcomeFalling) {
            ProgramDirection::Improve
        } else if outcome.is_some_and(|a| a >= 1.0) && i % 7 == 0 {
            ProgramDirection::Expand
        } else {
            ProgramDirection::Continue
        };
        let effectiveness = match outcome {
            Some(a) if a >= 1.0 => 5,
            Some(a) if a >= 0.8 => 4,
            Some(a) if a >= 0.5 => 3,
            Some(_) => 2,
            None => 3,
        };
        let draft_scores = Scores {
            necessity: Some(3 + (i % 3) as u8),
            effectiveness: Some(effectiveness),
            efficiency: None,
            means: None,
        };
        sheet.scores = draft_scores;
        sheet.issues = match direction {
            ProgramDirection::Abolish => {
                "KPIへの寄与が確認できず、事業目的が他事業で達成されつつある".into()
            }
            ProgramDirection::Merge => {
                "同じKPIに寄与する事業が複数あり、窓口と手続が重複している".into()
            }
            ProgramDirection::Reduce => "費用に比べてKPIへの寄与が小さい".into(),
            ProgramDirection::Improve => "成果指標が伸び悩んでいる".into(),
            _ => "特になし".into(),
        };
        // First save: the draft, incomplete.
        sheet_versions.push((sheet.clone(), "demo".to_string()));
        if state == ReviewState::Draft {
            continue;
        }
        sheet.scores = Scores {
            efficiency: Some(if flags.contains(&FlagKind::LowContributionPerYen) {
                2
            } else {
                3
            }),
            means: Some(4),
            ..draft_scores
        };
        sheet.direction = Some(direction);
        if direction.needs_reason() {
            sheet.direction_reason = format!(
                "事業再編の候補（{}）",
                flags
                    .iter()
                    .map(|f| f.label_ja())
                    .collect::<Vec<_>>()
                    .join("・")
            );
            if sheet.direction_reason.ends_with("（）") {
                sheet.direction_reason = "事業目的の達成状況を踏まえて".into();
            }
        }
        sheet.improvements = match direction {
            ProgramDirection::Expand => "対象を拡大し、成果を全市に広げる".into(),
            ProgramDirection::Merge => "関連事業と統合し、窓口を一本化する".into(),
            ProgramDirection::Reduce => "実施回数を見直し、費用を縮減する".into(),
            ProgramDirection::Improve => "実施方法を見直し、成果指標の改善を図る".into(),
            ProgramDirection::Abolish => "令和8年度末で廃止し、対象者は関連事業で支援する".into(),
            _ => "現行の手法で継続する".into(),
        };
        sheet.state = ReviewState::Submitted;
        sheet_versions.push((sheet.clone(), "demo".to_string()));
        match state {
            ReviewState::Accepted => {
                sheet.state = ReviewState::Accepted;
                sheet.reviewer_comment = "評価内容を確認しました。".into();
                sheet_versions.push((sheet.clone(), "strategy-kikaku".to_string()));
            }
            ReviewState::Returned => {
                sheet.state = ReviewState::Returned;
                sheet.reviewer_comment =
                    "成果指標の実績の根拠と、方向性の理由を補足してください。".into();
                sheet_versions.push((sheet.clone(), "strategy-kikaku".to_string()));
            }
            _ => {}
        }
        // Accepted sheets have their budget request as far as the phase has come.
        let request = request_state(phase, i);
        if state == ReviewState::Accepted && request.is_some() && program_runs_in(p, budget_fy) {
            let base = ds
                .money
                .iter()
                .find(|m| m.program_code == p.code && m.fy == base_fy);
            let last = base.map_or(0, |m| m.budget());
            let factor = match direction {
                ProgramDirection::Expand => 1.10,
                ProgramDirection::Improve => 0.98,
                ProgramDirection::Reduce => 0.85,
                ProgramDirection::Merge => 0.90,
                ProgramDirection::Abolish
                | ProgramDirection::Suspend
                | ProgramDirection::Completed => 0.0,
                ProgramDirection::Continue => 1.0,
            };
            let requested = round_thousand(last as f64 * factor);
            let share = |part: i64| -> i64 {
                match base {
                    Some(m) if m.funding.total() > 0 => {
                        round_thousand(requested as f64 * part as f64 / m.funding.total() as f64)
                    }
                    _ => 0,
                }
            };
            let f = base.map(|m| m.funding).unwrap_or_default();
            let mut req = BudgetRequest {
                program_code: p.code.clone(),
                fy: budget_fy,
                requested,
                funding: FundingSources {
                    national: share(f.national),
                    prefectural: share(f.prefectural),
                    bonds: share(f.bonds),
                    other: share(f.other),
                    general: 0,
                },
                override_reason: String::new(),
                assessed: None,
                note: String::new(),
            };
            // Rounding must not leave the specific sources above the request.
            let specific = req.funding.national
                + req.funding.prefectural
                + req.funding.bonds
                + req.funding.other;
            if specific > requested {
                req.funding = FundingSources::default();
            }
            let mut req = req.with_general_funds();
            if request == Some(true) {
                req.assessed = Some(round_thousand(requested as f64 * 0.97));
            }
            requests.push(req);
        }
    }

    // Ceilings: last year's budget of the department plus 2 %, rounded up to
    // the million, and never below what the demo requests.
    let mut base_by_dept: HashMap<&str, i64> = HashMap::new();
    for m in ds.money.iter().filter(|m| m.fy == base_fy) {
        if let Some(p) = ds.programs.iter().find(|p| p.code == m.program_code)
            && let Some(d) = dept_of.get(p.section_code.as_str())
        {
            *base_by_dept.entry(d).or_default() += m.budget();
        }
    }
    let mut requested_by_dept: HashMap<&str, i64> = HashMap::new();
    for r in &requests {
        if let Some(p) = ds.programs.iter().find(|p| p.code == r.program_code)
            && let Some(d) = dept_of.get(p.section_code.as_str())
        {
            *requested_by_dept.entry(d).or_default() += r.requested;
        }
    }
    let mut ceilings: Vec<Ceiling> = ds
        .departments
        .iter()
        .filter_map(|d| {
            let base = *base_by_dept.get(d.code.as_str())?;
            let wanted = ((base as f64 * 1.02) as i64)
                .max(requested_by_dept.get(d.code.as_str()).copied().unwrap_or(0));
            let million = 1_000_000;
            Some(Ceiling {
                fy: budget_fy,
                department_code: d.code.clone(),
                amount: (wanted + million - 1) / million * million,
            })
        })
        .collect();
    ceilings.sort_by(|a, b| a.department_code.cmp(&b.department_code));

    // The actuals stage is waived once past (some national statistics come
    // out later); every later stage past its deadline is closed.
    let waived = if phase.past(Stage::KpiActuals) {
        vec![(
            Stage::KpiActuals,
            "国の統計（国勢調査等）の公表待ちのKPIは次年度サイクルで評価する".to_string(),
        )]
    } else {
        Vec::new()
    };
    let closed = Stage::ALL
        .into_iter()
        .filter(|st| *st != Stage::KpiActuals && phase.past(*st))
        .collect();
    DemoCycle {
        fy,
        phase,
        waived,
        closed,
        sheet_versions,
        ceilings,
        requests,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DemoOptions, generate as generate_city};

    #[test]
    fn a_cycle_in_progress_with_every_state() {
        let ds = generate_city(&DemoOptions::default());
        let fy = FiscalYear::new(2024).unwrap();
        let day = crate::reference_day();
        let c = generate(&ds, fy, day);
        assert_eq!(c, generate(&ds, fy, day), "deterministic");
        assert_eq!(c.phase, Phase::In(Stage::SelfEvaluation));
        assert!(c.closed.is_empty());
        let mut latest: HashMap<&str, &EvaluationSheet> = HashMap::new();
        for (s, _) in &c.sheet_versions {
            latest.insert(s.program_code.as_str(), s);
        }
        let count = |st| latest.values().filter(|s| s.state == st).count();
        for st in ReviewState::ALL {
            assert!(count(st) > 10, "{st:?}: {}", count(st));
        }
        assert!(c.requests.len() > 100);
        assert!(c.requests.iter().any(|r| r.assessed.is_some()));
        assert!(c.requests.iter().any(|r| r.assessed.is_none()));
        for r in &c.requests {
            assert_eq!(r.funding.total(), r.requested, "{}", r.program_code);
            assert!(r.funding.general >= 0, "{}", r.program_code);
        }
        // Every submitted sheet passes the submit rules.
        for s in latest.values().filter(|s| s.state != ReviewState::Draft) {
            let p = ds
                .programs
                .iter()
                .find(|p| p.code == s.program_code)
                .unwrap();
            assert!(
                s.validate_for_submit(p).is_empty(),
                "{}: {:?}",
                s.program_code,
                s.validate_for_submit(p)
            );
        }
        assert!(!c.ceilings.is_empty());
    }

    #[test]
    fn the_phase_follows_the_deadlines() {
        let fy = FiscalYear::new(2025).unwrap();
        let on = |y, m, d| Phase::on(fy, Day::new(y, m, d).unwrap());
        assert_eq!(on(2026, 4, 1), Phase::In(Stage::KpiActuals));
        assert_eq!(on(2026, 6, 30), Phase::In(Stage::KpiActuals));
        assert_eq!(on(2026, 7, 15), Phase::In(Stage::SelfEvaluation));
        assert_eq!(on(2026, 9, 1), Phase::In(Stage::Review));
        assert_eq!(on(2026, 9, 20), Phase::In(Stage::Restructuring));
        assert_eq!(on(2026, 10, 20), Phase::In(Stage::BudgetRequests));
        assert_eq!(on(2026, 12, 7), Phase::In(Stage::FinanceReview));
        assert_eq!(on(2027, 3, 31), Phase::Done);
    }

    #[test]
    fn in_december_every_sheet_is_accepted_and_most_requests_assessed() {
        let day = Day::new(2026, 12, 7).unwrap();
        let ds = generate_city(&DemoOptions {
            as_of: day,
            ..DemoOptions::default()
        });
        let c = generate(&ds, FiscalYear::new(2025).unwrap(), day);
        assert_eq!(c.phase, Phase::In(Stage::FinanceReview));
        assert_eq!(c.closed.len(), 4);
        let mut latest: HashMap<&str, &EvaluationSheet> = HashMap::new();
        for (s, _) in &c.sheet_versions {
            latest.insert(s.program_code.as_str(), s);
        }
        assert!(latest.values().all(|s| s.state == ReviewState::Accepted));
        let assessed = c.requests.iter().filter(|r| r.assessed.is_some()).count();
        assert!(assessed > 50 && assessed < c.requests.len(), "{assessed}");
        assert!(c.ceilings.iter().all(|x| x.fy.year() == 2027));
    }
}
