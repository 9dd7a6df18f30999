//! The demo city's yearly cycle in progress: it is autumn, the evaluation of
//! the year just ended is under review and the budget requests for the year
//! after next are coming in. Some sheets are accepted, some submitted, some
//! returned with the reviewer's comment, some still drafts; requests follow
//! the evaluated direction, finance has assessed part of them.
//!
//! Like the rest of the demo this is a pure function of the dataset: the same
//! city gives the same cycle.

use std::collections::HashMap;

use citykpi_domain::cycle::budget::{BudgetRequest, Ceiling};
use citykpi_domain::cycle::restructure::{
    FlagKind, RestructureInputs, RestructureRules, restructure_list,
};
use citykpi_domain::cycle::sheet::{EvaluationSheet, ProgramDirection, ReviewState, Scores};
use citykpi_domain::cycle::stage::{Stage, program_runs_in};
use citykpi_domain::money::FundingSources;
use citykpi_domain::{Dataset, FiscalYear};

/// The cycle as the demo leaves it.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoCycle {
    /// The evaluated fiscal year.
    pub fy: FiscalYear,
    /// Stages waived, with the reason.
    pub waived: Vec<(Stage, String)>,
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

/// Builds the cycle that evaluates `fy` for the demo city `ds`.
pub fn generate(ds: &Dataset, fy: FiscalYear) -> DemoCycle {
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
        // 50 % accepted, 20 % submitted, 10 % returned, 10 % draft, 10 % not started.
        let state = match i % 10 {
            0..=4 => ReviewState::Accepted,
            5 | 6 => ReviewState::Submitted,
            7 => ReviewState::Returned,
            8 => ReviewState::Draft,
            _ => continue,
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
        // Accepted sheets have their budget request; every other one of them assessed.
        if state == ReviewState::Accepted && program_runs_in(p, budget_fy) {
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
            if i % 20 < 10 {
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

    DemoCycle {
        fy,
        waived: vec![(
            Stage::KpiActuals,
            "国の統計（国勢調査等）の公表待ちのKPIは次年度サイクルで評価する".to_string(),
        )],
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
        let c = generate(&ds, fy);
        assert_eq!(c, generate(&ds, fy), "deterministic");
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
}
