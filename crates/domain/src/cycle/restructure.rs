//! The restructuring list (事業再編の候補): programs flagged by their
//! contribution to KPIs and their results, each flag explained in Japanese
//! and English so that a reader can check it.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::fiscal::FiscalYear;
use crate::money::{ProgramMoney, format_yen};
use crate::org::Section;
use crate::program::{IndicatorKind, KpiLink, Program, ProgramIndicator};

use super::stage::program_runs_in;

/// The cut-offs of the list. A city tunes them; these are the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RestructureRules {
    /// Share of costed programs with the lowest contribution per yen that are
    /// flagged (0.1 = the bottom 10 %).
    pub low_share: f64,
    /// Years in a row an outcome indicator must fall to be flagged.
    pub falling_years: u32,
    /// Share of KPIs two programs must have in common (of all KPIs either
    /// serves, Jaccard) to be merge candidates.
    pub overlap_min: f64,
    /// How alike their names must be (Dice coefficient of character pairs,
    /// 0..1): serving the same KPI is normal, doing the same thing for it in
    /// the same department is what makes a merge candidate.
    pub name_similarity_min: f64,
}

impl Default for RestructureRules {
    fn default() -> Self {
        Self {
            low_share: 0.1,
            falling_years: 3,
            overlap_min: 0.67,
            name_similarity_min: 0.5,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlagKind {
    /// Serves no KPI.
    NoKpi,
    /// Among the lowest contribution per yen.
    LowContributionPerYen,
    /// An outcome indicator fell N years in a row.
    OutcomeFalling,
    /// Serves the same KPIs as other programs: a merge candidate.
    Overlap,
}

impl FlagKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FlagKind::NoKpi => "no_kpi",
            FlagKind::LowContributionPerYen => "low_contribution_per_yen",
            FlagKind::OutcomeFalling => "outcome_falling",
            FlagKind::Overlap => "overlap",
        }
    }
    pub fn label_ja(self) -> &'static str {
        match self {
            FlagKind::NoKpi => "KPIへの寄与なし",
            FlagKind::LowContributionPerYen => "費用当たり寄与度が低い",
            FlagKind::OutcomeFalling => "成果指標が連続低下",
            FlagKind::Overlap => "統合候補（KPIの重複）",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            FlagKind::NoKpi => "serves no KPI",
            FlagKind::LowContributionPerYen => "low contribution per yen",
            FlagKind::OutcomeFalling => "outcome falling",
            FlagKind::Overlap => "merge candidate (overlapping KPIs)",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flag {
    pub kind: FlagKind,
    pub explanation_ja: String,
    pub explanation_en: String,
    /// Other programs or indicators the flag names (merge partners, the
    /// falling indicator).
    #[serde(default)]
    pub related: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestructureEntry {
    pub rank: usize,
    pub program_code: String,
    pub name_ja: String,
    pub section_code: String,
    /// Full cost of the evaluated year (settled or budget + staff); None
    /// without a money record.
    pub full_cost: Option<i64>,
    /// Sum of declared contributions (KPI寄与度) over the KPIs it serves.
    pub contribution: f64,
    /// Contribution per 100 million yen of full cost (1億円あたり寄与度).
    pub contribution_per_100m_yen: Option<f64>,
    pub flags: Vec<Flag>,
}

pub struct RestructureInputs<'a> {
    pub fy: FiscalYear,
    pub programs: &'a [Program],
    /// Sections, for the department of each program (merge candidates are
    /// looked for within a department).
    pub sections: &'a [Section],
    pub links: &'a [KpiLink],
    pub money: &'a [ProgramMoney],
    pub indicators: &'a [ProgramIndicator],
    pub rules: RestructureRules,
}

/// An outcome indicator's actuals by year, with the indicator's name.
type OutcomeSeries<'a> = BTreeMap<FiscalYear, (f64, &'a str)>;

const HUNDRED_MILLION: f64 = 100_000_000.0;

/// Dice coefficient of the character pairs of two program names, without
/// the generic endings (事業, 事務) every name has.
pub fn name_similarity(a: &str, b: &str) -> f64 {
    fn pairs(s: &str) -> Vec<(char, char)> {
        let s = s
            .trim_end_matches("事業")
            .trim_end_matches("事務")
            .trim_end_matches("事業");
        let chars: Vec<char> = s.chars().collect();
        let mut p: Vec<(char, char)> = chars.windows(2).map(|w| (w[0], w[1])).collect();
        p.sort_unstable();
        p
    }
    let (pa, pb) = (pairs(a), pairs(b));
    if pa.is_empty() || pb.is_empty() {
        return if a == b { 1.0 } else { 0.0 };
    }
    // Multiset intersection of two sorted lists.
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < pa.len() && j < pb.len() {
        match pa[i].cmp(&pb[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    2.0 * common as f64 / (pa.len() + pb.len()) as f64
}

/// Formats a number for an explanation: two decimals at most, no trailing zeros.
fn num(v: f64) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_string() }
}

/// Builds the ranked list: programs running in `fy` with at least one flag,
/// the most flags first, then the lowest contribution per yen.
pub fn restructure_list(inputs: &RestructureInputs<'_>) -> Vec<RestructureEntry> {
    let fy = inputs.fy;
    let rules = inputs.rules;
    let programs: Vec<&Program> = inputs
        .programs
        .iter()
        .filter(|p| program_runs_in(p, fy))
        .collect();
    let name_of: HashMap<&str, &str> = programs
        .iter()
        .map(|p| (p.code.as_str(), p.name_ja.as_str()))
        .collect();
    let dept_of_section: HashMap<&str, &str> = inputs
        .sections
        .iter()
        .map(|s| (s.code.as_str(), s.department_code.as_str()))
        .collect();
    let dept_of: HashMap<&str, &str> = programs
        .iter()
        .map(|p| {
            (
                p.code.as_str(),
                dept_of_section
                    .get(p.section_code.as_str())
                    .copied()
                    .unwrap_or(p.section_code.as_str()),
            )
        })
        .collect();

    // KPIs each program serves (weight > 0), sorted, and their summed weight.
    let mut kpis_of: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut weight_of: HashMap<&str, f64> = HashMap::new();
    for l in inputs.links {
        if l.weight > 0.0 && l.weight.is_finite() && name_of.contains_key(l.program_code.as_str()) {
            kpis_of
                .entry(l.program_code.as_str())
                .or_default()
                .push(l.kpi_code.as_str());
            *weight_of.entry(l.program_code.as_str()).or_default() += l.weight;
        }
    }
    for v in kpis_of.values_mut() {
        v.sort_unstable();
        v.dedup();
    }
    let cost_of: HashMap<&str, i64> = inputs
        .money
        .iter()
        .filter(|m| m.fy == fy)
        .map(|m| (m.program_code.as_str(), m.full_cost()))
        .collect();
    let per_yen = |code: &str| -> Option<f64> {
        let c = *cost_of.get(code)?;
        let w = *weight_of.get(code)?;
        (c > 0).then(|| w / (c as f64 / HUNDRED_MILLION))
    };

    // The cut-off of the bottom `low_share` among programs that serve a KPI and cost money.
    let mut values: Vec<f64> = programs.iter().filter_map(|p| per_yen(&p.code)).collect();
    values.sort_by(f64::total_cmp);
    let cutoff = if values.is_empty() || rules.low_share <= 0.0 {
        None
    } else {
        let n = ((values.len() as f64) * rules.low_share.min(1.0)).ceil() as usize;
        values.get(n.max(1) - 1).copied()
    };

    // Outcome actuals per (program, indicator) by year.
    let mut outcomes: BTreeMap<(&str, &str), OutcomeSeries> = BTreeMap::new();
    for i in inputs.indicators {
        if i.kind == IndicatorKind::Outcome
            && i.fy <= fy
            && let Some(a) = i.actual.filter(|a| a.is_finite())
        {
            outcomes
                .entry((i.program_code.as_str(), i.code.as_str()))
                .or_default()
                .insert(i.fy, (a, i.name_ja.as_str()));
        }
    }

    // Shared KPIs between programs, counted through the KPI → programs index.
    let mut programs_of: HashMap<&str, Vec<&str>> = HashMap::new();
    for (p, ks) in &kpis_of {
        for k in ks {
            programs_of.entry(k).or_default().push(p);
        }
    }

    let mut entries = Vec::new();
    for p in &programs {
        let code = p.code.as_str();
        let mut flags = Vec::new();
        let kpis = kpis_of.get(code);
        if kpis.is_none() {
            flags.push(Flag {
                kind: FlagKind::NoKpi,
                explanation_ja: "どのKPIにも寄与度が登録されていません。計画上の位置付けを確認し、廃止・統合を検討してください".into(),
                explanation_en: "No contribution to any KPI is recorded. Check its place in the plan and consider abolishing or merging it".into(),
                related: vec![],
            });
        }
        if let (Some(v), Some(cut)) = (per_yen(code), cutoff)
            && v <= cut
        {
            let cost = cost_of.get(code).copied().unwrap_or(0);
            let w = weight_of.get(code).copied().unwrap_or(0.0);
            let pct = num(rules.low_share * 100.0);
            flags.push(Flag {
                kind: FlagKind::LowContributionPerYen,
                explanation_ja: format!(
                    "KPI寄与度の合計{}に対しフルコスト{}円（1億円あたり{}）。全事業の下位{}%（基準{}以下）",
                    num(w), format_yen(cost), num(v), pct, num(cut)
                ),
                explanation_en: format!(
                    "Total KPI contribution {} for a full cost of ¥{} ({} per ¥100M): in the bottom {}% of all programs (cut-off {})",
                    num(w), format_yen(cost), num(v), pct, num(cut)
                ),
                related: vec![],
            });
        }
        let n = rules.falling_years.max(1) as usize;
        for ((prog, ind), series) in outcomes.range((code, "")..) {
            if *prog != code {
                break;
            }
            // The last n+1 values must be consecutive years ending at `fy` or
            // the year before (actuals often come a year late), each lower.
            let tail: Vec<(&FiscalYear, &(f64, &str))> = series.iter().rev().take(n + 1).collect();
            if tail.len() < n + 1 {
                continue;
            }
            let latest = *tail[0].0;
            let consecutive = tail.windows(2).all(|w| w[0].0.year() == w[1].0.year() + 1);
            let falling = tail.windows(2).all(|w| w[0].1.0 < w[1].1.0);
            if latest.year() >= fy.year() - 1 && consecutive && falling {
                let path: Vec<String> = tail
                    .iter()
                    .rev()
                    .map(|(y, (v, _))| format!("{}: {}", y.year(), num(*v)))
                    .collect();
                let name = tail[0].1.1;
                flags.push(Flag {
                    kind: FlagKind::OutcomeFalling,
                    explanation_ja: format!(
                        "成果指標「{name}」が{n}年連続で低下（{}）",
                        path.join(" → ")
                    ),
                    explanation_en: format!(
                        "Outcome indicator \"{name}\" ({ind}) fell {n} years in a row ({})",
                        path.join(" → ")
                    ),
                    related: vec![ind.to_string()],
                });
            }
        }
        if let Some(kpis) = kpis {
            let mut shared: HashMap<&str, usize> = HashMap::new();
            for k in kpis {
                for other in programs_of.get(k).into_iter().flatten() {
                    if *other != code {
                        *shared.entry(other).or_default() += 1;
                    }
                }
            }
            let own_name = name_of.get(code).copied().unwrap_or("");
            let own_dept = dept_of.get(code).copied().unwrap_or("");
            let mut partners: Vec<(&str, usize, f64)> = shared
                .into_iter()
                .filter_map(|(other, common)| {
                    let theirs = kpis_of.get(other).map_or(0, Vec::len);
                    let union = kpis.len() + theirs - common;
                    let j = common as f64 / union as f64;
                    let same_dept = dept_of.get(other).copied() == Some(own_dept);
                    // The names are compared last: most pairs fail the cheap
                    // tests, and comparing names was a tenth of a recompute.
                    let alike = || {
                        name_similarity(own_name, name_of.get(other).copied().unwrap_or(""))
                            >= rules.name_similarity_min
                    };
                    (j >= rules.overlap_min && same_dept && alike()).then_some((other, common, j))
                })
                .collect();
            partners.sort_by(|a, b| b.2.total_cmp(&a.2).then_with(|| a.0.cmp(b.0)));
            partners.truncate(5);
            if !partners.is_empty() {
                let list_ja: Vec<String> = partners
                    .iter()
                    .map(|(o, c, _)| {
                        format!("{o}（{}）と{c}件", name_of.get(o).copied().unwrap_or(""))
                    })
                    .collect();
                let list_en: Vec<String> = partners
                    .iter()
                    .map(|(o, c, _)| format!("{o} ({c} shared)"))
                    .collect();
                flags.push(Flag {
                    kind: FlagKind::Overlap,
                    explanation_ja: format!(
                        "同じ部局で同じKPI（{}）に寄与する似た事業があります：{}。統合を検討してください",
                        kpis.join("・"),
                        list_ja.join("、")
                    ),
                    explanation_en: format!(
                        "Similar programs of the same department serve the same KPIs ({}): {}. Consider merging them",
                        kpis.join(", "),
                        list_en.join(", ")
                    ),
                    related: partners.iter().map(|(o, _, _)| o.to_string()).collect(),
                });
            }
        }
        if !flags.is_empty() {
            flags.sort_by_key(|f| f.kind);
            entries.push(RestructureEntry {
                rank: 0,
                program_code: p.code.clone(),
                name_ja: p.name_ja.clone(),
                section_code: p.section_code.clone(),
                full_cost: cost_of.get(code).copied(),
                contribution: weight_of.get(code).copied().unwrap_or(0.0),
                contribution_per_100m_yen: per_yen(code),
                flags,
            });
        }
    }
    entries.sort_by(|a, b| {
        b.flags
            .len()
            .cmp(&a.flags.len())
            .then_with(|| {
                let key = |e: &RestructureEntry| e.contribution_per_100m_yen.unwrap_or(f64::MAX);
                key(a).total_cmp(&key(b))
            })
            .then_with(|| a.program_code.cmp(&b.program_code))
    });
    for (i, e) in entries.iter_mut().enumerate() {
        e.rank = i + 1;
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::FundingSources;
    use crate::program::{DeliveryMethod, EvidenceGrade};

    fn fy(y: i32) -> FiscalYear {
        FiscalYear::new(y).unwrap()
    }
    fn program(code: &str) -> Program {
        Program {
            code: code.into(),
            name_ja: format!("事業{code}"),
            name_en: String::new(),
            section_code: "S1".into(),
            purpose: String::new(),
            target_group: String::new(),
            intent: String::new(),
            means: String::new(),
            delivery: DeliveryMethod::Direct,
            legal_basis: String::new(),
            start_fy: None,
            end_fy: None,
            mandatory: false,
            published: true,
        }
    }
    fn link(p: &str, k: &str, w: f64) -> KpiLink {
        KpiLink {
            program_code: p.into(),
            kpi_code: k.into(),
            weight: w,
            rationale: String::new(),
            evidence_grade: EvidenceGrade::Claimed,
        }
    }
    fn money(p: &str, settled: i64, fte: f64) -> ProgramMoney {
        ProgramMoney {
            program_code: p.into(),
            fy: fy(2024),
            budget_initial: settled,
            budget_revised: None,
            settled: Some(settled),
            funding: FundingSources::default(),
            staff_fte: fte,
            staff_unit_cost: 8_000_000,
            output_quantity: None,
        }
    }
    fn outcome(p: &str, y: i32, v: f64) -> ProgramIndicator {
        ProgramIndicator {
            program_code: p.into(),
            code: "O1".into(),
            kind: IndicatorKind::Outcome,
            name_ja: "利用者満足度".into(),
            unit: "%".into(),
            fy: fy(y),
            target: None,
            actual: Some(v),
        }
    }

    #[test]
    fn each_rule_flags_and_explains() {
        let mut programs: Vec<Program> = (1..=10).map(|i| program(&format!("P{i:02}"))).collect();
        programs[8].name_ja = "子育て相談事業".into();
        programs[9].name_ja = "子育て相談支援事業".into();
        // Another department's program: counted for the cut-off like any other.
        programs[7].section_code = "S2".into();
        let mut ended = program("P99");
        ended.end_fy = Some(fy(2020));
        programs.push(ended);
        // P01..P08 each serve their own KPI with weight 0.5; P09 and P10 share K9 and K10.
        let mut links: Vec<KpiLink> = (1..=8)
            .map(|i| link(&format!("P{i:02}"), &format!("K{i}"), 0.5))
            .collect();
        links.extend([
            link("P09", "K9", 0.2),
            link("P09", "K10", 0.2),
            link("P10", "K9", 0.3),
            link("P10", "K10", 0.1),
            link("P99", "K1", 0.9),
        ]);
        // Full cost = settled + 1 FTE × 8M. P01 is the costliest per contribution.
        let mut money_rows: Vec<ProgramMoney> = (2..=10)
            .map(|i| money(&format!("P{i:02}"), 42_000_000, 1.0))
            .collect();
        money_rows.push(money("P01", 492_000_000, 1.0));
        let indicators = vec![
            outcome("P03", 2020, 80.0),
            outcome("P03", 2021, 78.0),
            outcome("P03", 2022, 75.5),
            outcome("P03", 2023, 70.0),
            // P04 fell but rose in between: not flagged.
            outcome("P04", 2021, 80.0),
            outcome("P04", 2022, 81.0),
            outcome("P04", 2023, 79.0),
            outcome("P04", 2024, 78.0),
        ];
        // The overlap rule needs a KPI-less program too: P11.
        programs.push(program("P11"));
        let sections = vec![
            Section {
                code: "S1".into(),
                department_code: "D1".into(),
                name_ja: "課1".into(),
                name_en: String::new(),
                sort_order: 1,
            },
            Section {
                code: "S2".into(),
                department_code: "D2".into(),
                name_ja: "課2".into(),
                name_en: String::new(),
                sort_order: 2,
            },
        ];
        let list = restructure_list(&RestructureInputs {
            fy: fy(2024),
            programs: &programs,
            sections: &sections,
            links: &links,
            money: &money_rows,
            indicators: &indicators,
            rules: RestructureRules::default(),
        });
        let got: Vec<(&str, Vec<FlagKind>)> = list
            .iter()
            .map(|e| {
                (
                    e.program_code.as_str(),
                    e.flags.iter().map(|f| f.kind).collect(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("P01", vec![FlagKind::LowContributionPerYen]),
                ("P09", vec![FlagKind::Overlap]),
                ("P10", vec![FlagKind::Overlap]),
                ("P03", vec![FlagKind::OutcomeFalling]),
                ("P11", vec![FlagKind::NoKpi]),
            ]
        );
        let p01 = &list[0];
        assert_eq!(p01.rank, 1);
        assert_eq!(p01.full_cost, Some(500_000_000));
        assert_eq!(p01.contribution_per_100m_yen, Some(0.1));
        assert_eq!(
            p01.flags[0].explanation_ja,
            "KPI寄与度の合計0.5に対しフルコスト500,000,000円（1億円あたり0.1）。全事業の下位10%（基準0.1以下）"
        );
        assert!(
            p01.flags[0]
                .explanation_en
                .starts_with("Total KPI contribution 0.5 for a full cost of ¥500,000,000")
        );
        let p03 = list.iter().find(|e| e.program_code == "P03").unwrap();
        assert_eq!(
            p03.flags[0].explanation_ja,
            "成果指標「利用者満足度」が3年連続で低下（2020: 80 → 2021: 78 → 2022: 75.5 → 2023: 70）"
        );
        let p09 = list.iter().find(|e| e.program_code == "P09").unwrap();
        assert_eq!(p09.flags[0].related, vec!["P10".to_string()]);
        assert!(
            p09.flags[0]
                .explanation_ja
                .contains("P10（子育て相談支援事業）と2件"),
            "{}",
            p09.flags[0].explanation_ja
        );
        assert_eq!(p09.contribution, 0.4);
        // P09 and P10 both have 0.4 per ¥50M = 0.8 per ¥100M: the tie goes by code.
        assert_eq!(p09.contribution_per_100m_yen, Some(0.8));
        assert!(
            list.iter().all(|e| e.program_code != "P99"),
            "ended programs are left out"
        );
    }

    #[test]
    fn name_similarity_of_program_names() {
        assert_eq!(name_similarity("感染症対策事業", "感染症対策事業"), 1.0);
        let s = name_similarity("感染症対策事業", "感染症対策充実事業");
        assert!((s - 0.8).abs() < 1e-9, "{s}");
        assert_eq!(name_similarity("選挙事務", "法務推進事業"), 0.0);
        assert_eq!(name_similarity("", "x"), 0.0);
    }

    #[test]
    fn empty_inputs_give_an_empty_list() {
        let list = restructure_list(&RestructureInputs {
            fy: fy(2024),
            programs: &[],
            sections: &[],
            links: &[],
            money: &[],
            indicators: &[],
            rules: RestructureRules::default(),
        });
        assert!(list.is_empty());
    }
}
