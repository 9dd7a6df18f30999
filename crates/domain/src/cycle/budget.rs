//! Budget formulation (予算編成) in the cycle: department ceilings (枠配分),
//! requests tied to the evaluation's direction, finance's assessment (査定)
//! and the compiled totals with the variance against last year.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::fiscal::FiscalYear;
use crate::kpi::Kpi;
use crate::money::{FundingSources, ProgramMoney, format_yen};
use crate::org::{Department, Section};
use crate::plan::PlanNode;
use crate::program::{KpiLink, Program};

use super::FieldError;
use super::sheet::{MAX_TEXT_CHARS, MAX_YEN, ProgramDirection};

/// 要求上限（枠）: the most a department may request in total. Key: (fy, department).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ceiling {
    /// The budget year.
    pub fy: FiscalYear,
    pub department_code: String,
    pub amount: i64,
}

/// A section's request for one program. Key: (program_code, fy).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetRequest {
    pub program_code: String,
    /// The budget year.
    pub fy: FiscalYear,
    /// 要求額 (yen).
    pub requested: i64,
    /// 財源内訳 of the request. The specific sources are entered; the general
    /// funds (一般財源) are what is left: see `with_general_funds`.
    #[serde(default)]
    pub funding: FundingSources,
    /// Why the request goes beyond what the direction allows (縮小 above last
    /// year); empty = no override.
    #[serde(default)]
    pub override_reason: String,
    /// 査定額: set by finance; None until assessed.
    pub assessed: Option<i64>,
    #[serde(default)]
    pub note: String,
}

impl BudgetRequest {
    /// Sets the general funds to the requested amount minus the specific
    /// sources, so the breakdown always adds up (computed, never typed).
    pub fn with_general_funds(mut self) -> Self {
        let f = &self.funding;
        let specific = f.national + f.prefectural + f.bonds + f.other;
        self.funding.general = self.requested - specific;
        self
    }

    /// The funding of the assessed amount: the specific sources as requested
    /// while they fit, the rest general funds; when finance cuts below the
    /// specific sources, those are scaled down and no general funds remain.
    pub fn assessed_funding(&self) -> Option<FundingSources> {
        let assessed = self.assessed?;
        let f = self.funding;
        let specific = f.national + f.prefectural + f.bonds + f.other;
        if assessed >= specific {
            return Some(FundingSources {
                general: assessed - specific,
                ..f
            });
        }
        let scale = |v: i64| -> i64 {
            if specific == 0 {
                0
            } else {
                ((v as i128 * assessed as i128) / specific as i128) as i64
            }
        };
        let (national, prefectural, bonds) =
            (scale(f.national), scale(f.prefectural), scale(f.bonds));
        Some(FundingSources {
            national,
            prefectural,
            bonds,
            // The rounding remainder goes to "other" so the parts add up exactly.
            other: assessed - national - prefectural - bonds,
            general: 0,
        })
    }
}

/// What a request is checked against.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RequestContext {
    /// The direction of the program's latest evaluation sheet.
    pub direction: Option<ProgramDirection>,
    /// The program's budget of the running year (前年度予算額).
    pub last_year_budget: i64,
    /// The department's ceiling, if set.
    pub ceiling: Option<i64>,
    /// What the department's other programs request.
    pub department_other_requests: i64,
}

/// Every problem with a request; empty when it may be saved. The request's
/// general funds must already be computed (`with_general_funds`).
pub fn check_request(req: &BudgetRequest, ctx: &RequestContext) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if !(0..=MAX_YEN).contains(&req.requested) {
        errors.push(FieldError::new(
            "requested",
            "要求額は0〜1兆円の範囲にしてください",
            "the requested amount must be between 0 and 1 trillion yen",
        ));
        return errors;
    }
    let f = &req.funding;
    for (field, ja, en, v) in [
        (
            "funding.national",
            "国庫支出金",
            "national funds",
            f.national,
        ),
        (
            "funding.prefectural",
            "府県支出金",
            "prefectural funds",
            f.prefectural,
        ),
        ("funding.bonds", "地方債", "bonds", f.bonds),
        (
            "funding.other",
            "その他特定財源",
            "other specific funds",
            f.other,
        ),
    ] {
        if !(0..=MAX_YEN).contains(&v) {
            errors.push(FieldError::new(
                field,
                format!("{ja}は0〜1兆円の範囲にしてください"),
                format!("{en} must be between 0 and 1 trillion yen"),
            ));
        }
    }
    if errors.is_empty() && f.general < 0 {
        errors.push(FieldError::new(
            "funding",
            format!(
                "特定財源の合計（{}円）が要求額（{}円）を超えています",
                format_yen(req.requested - f.general),
                format_yen(req.requested)
            ),
            format!(
                "the specific funds (¥{}) exceed the requested amount (¥{})",
                format_yen(req.requested - f.general),
                format_yen(req.requested)
            ),
        ));
    }
    if errors.is_empty() && f.total() != req.requested {
        errors.push(FieldError::new(
            "funding",
            "財源内訳の合計が要求額と一致しません",
            "the funding breakdown does not add up to the requested amount",
        ));
    }
    match ctx.direction {
        Some(d) if d.requests_nothing() && req.requested > 0 => {
            errors.push(FieldError::new(
                "requested",
                format!(
                    "評価で「{}」とした事業は予算を要求できません（0円にしてください）",
                    d.label_ja()
                ),
                format!(
                    "a program evaluated \"{}\" requests nothing (enter 0)",
                    d.label_en()
                ),
            ));
        }
        Some(ProgramDirection::Reduce)
            if req.requested > ctx.last_year_budget && req.override_reason.trim().is_empty() =>
        {
            errors.push(FieldError::new(
                "requested",
                format!(
                    "評価で「縮小」とした事業は前年度予算（{}円）を超えて要求できません。超える場合は理由を入力してください",
                    format_yen(ctx.last_year_budget)
                ),
                format!(
                    "a program evaluated \"Reduce\" cannot request more than last year's budget (¥{}) without an override reason",
                    format_yen(ctx.last_year_budget)
                ),
            ));
        }
        _ => {}
    }
    if let Some(ceiling) = ctx.ceiling {
        let total = ctx.department_other_requests + req.requested;
        if total > ceiling {
            errors.push(FieldError::new(
                "requested",
                format!(
                    "部局の要求上限（枠）{}円を超えます（他の事業の要求{}円＋この要求{}円＝{}円）",
                    format_yen(ceiling),
                    format_yen(ctx.department_other_requests),
                    format_yen(req.requested),
                    format_yen(total)
                ),
                format!(
                    "exceeds the department's ceiling of ¥{} (other requests ¥{} + this ¥{} = ¥{})",
                    format_yen(ceiling),
                    format_yen(ctx.department_other_requests),
                    format_yen(req.requested),
                    format_yen(total)
                ),
            ));
        }
    }
    for (field, ja, text) in [
        ("override_reason", "超過の理由", &req.override_reason),
        ("note", "備考", &req.note),
    ] {
        let n = text.chars().count();
        if n > MAX_TEXT_CHARS {
            errors.push(FieldError::new(
                field,
                format!("{ja}は{MAX_TEXT_CHARS}字以内にしてください（{n}字）"),
                format!("{field} must be at most {MAX_TEXT_CHARS} characters (got {n})"),
            ));
        }
    }
    errors
}

/// Checks finance's assessed amount.
pub fn check_assessment(assessed: i64) -> Vec<FieldError> {
    if (0..=MAX_YEN).contains(&assessed) {
        Vec::new()
    } else {
        vec![FieldError::new(
            "assessed",
            "査定額は0〜1兆円の範囲にしてください",
            "the assessed amount must be between 0 and 1 trillion yen",
        )]
    }
}

/// Checks a ceiling.
pub fn check_ceiling(amount: i64) -> Vec<FieldError> {
    if (0..=MAX_YEN).contains(&amount) {
        Vec::new()
    } else {
        vec![FieldError::new(
            "amount",
            "要求上限は0〜1兆円の範囲にしてください",
            "the ceiling must be between 0 and 1 trillion yen",
        )]
    }
}

/// A funding source: key, Japanese and English name, and how to read it.
type SourceColumn = (
    &'static str,
    &'static str,
    &'static str,
    fn(&FundingSources) -> i64,
);

/// One line of the compiled budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TotalRow {
    pub key: String,
    pub name_ja: String,
    pub name_en: String,
    /// Budget of the running year (前年度予算額).
    pub last_year: i64,
    pub requested: i64,
    /// Sum of the assessed amounts so far.
    pub assessed: i64,
    /// Requests not yet assessed.
    pub unassessed: usize,
    pub ceiling: Option<i64>,
    /// requested − last year.
    pub variance_requested: i64,
    /// assessed − last year.
    pub variance_assessed: i64,
    /// (assessed − last year) ÷ last year; None when last year was 0.
    pub variance_rate: Option<f64>,
}

impl TotalRow {
    fn new(key: &str, name_ja: &str, name_en: &str) -> Self {
        TotalRow {
            key: key.to_string(),
            name_ja: name_ja.to_string(),
            name_en: name_en.to_string(),
            last_year: 0,
            requested: 0,
            assessed: 0,
            unassessed: 0,
            ceiling: None,
            variance_requested: 0,
            variance_assessed: 0,
            variance_rate: None,
        }
    }
    fn finish(&mut self) {
        self.variance_requested = self.requested - self.last_year;
        self.variance_assessed = self.assessed - self.last_year;
        self.variance_rate =
            (self.last_year != 0).then(|| self.variance_assessed as f64 / self.last_year as f64);
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Compiled {
    /// The budget year.
    pub fy: FiscalYear,
    pub by_department: Vec<TotalRow>,
    pub by_policy: Vec<TotalRow>,
    pub by_funding_source: Vec<TotalRow>,
    pub total: TotalRow,
}

pub struct CompileInputs<'a> {
    pub fy: FiscalYear,
    pub requests: &'a [BudgetRequest],
    pub programs: &'a [Program],
    pub departments: &'a [Department],
    pub sections: &'a [Section],
    /// Program → (policy code, name); see `policy_of_programs`.
    pub policy_of: &'a HashMap<String, (String, String)>,
    /// Money of the running year (fy − 1).
    pub last_year: &'a [ProgramMoney],
    pub ceilings: &'a [Ceiling],
}

/// The policy (top node of a plan) each program serves: through its link of
/// highest weight (ties by KPI code), that KPI's first plan node, up to the
/// top. A program counts under one policy so totals add up to the whole.
pub fn policy_of_programs(
    links: &[KpiLink],
    kpis: &[Kpi],
    nodes: &[PlanNode],
) -> HashMap<String, (String, String)> {
    let node_by_code: HashMap<&str, &PlanNode> =
        nodes.iter().map(|n| (n.code.as_str(), n)).collect();
    let kpi_by_code: HashMap<&str, &Kpi> = kpis.iter().map(|k| (k.code.as_str(), k)).collect();
    let mut best: BTreeMap<&str, &KpiLink> = BTreeMap::new();
    for l in links {
        let better = match best.get(l.program_code.as_str()) {
            None => true,
            Some(b) => l.weight > b.weight || (l.weight == b.weight && l.kpi_code < b.kpi_code),
        };
        if better {
            best.insert(l.program_code.as_str(), l);
        }
    }
    let mut out = HashMap::new();
    for (program, link) in best {
        let Some(node) = kpi_by_code
            .get(link.kpi_code.as_str())
            .and_then(|k| k.nodes.first())
            .and_then(|n| node_by_code.get(n.node_code.as_str()))
        else {
            continue;
        };
        let mut top = *node;
        // Bounded walk: a loop in parent codes (bad data) must not hang.
        for _ in 0..16 {
            match top.parent_code.as_deref().and_then(|p| node_by_code.get(p)) {
                Some(parent) => top = parent,
                None => break,
            }
        }
        out.insert(program.to_string(), (top.code.clone(), top.name_ja.clone()));
    }
    out
}

/// Totals by department, policy and funding source, with last year's budget
/// and the variance. Last year counts every program of the department, also
/// those that request nothing now, so that cuts show.
pub fn compile(inputs: &CompileInputs<'_>) -> Compiled {
    let dept_of_section: HashMap<&str, &str> = inputs
        .sections
        .iter()
        .map(|s| (s.code.as_str(), s.department_code.as_str()))
        .collect();
    let dept_of_program: HashMap<&str, &str> = inputs
        .programs
        .iter()
        .map(|p| {
            (
                p.code.as_str(),
                dept_of_section
                    .get(p.section_code.as_str())
                    .copied()
                    .unwrap_or(""),
            )
        })
        .collect();
    let mut by_dept: BTreeMap<String, TotalRow> = BTreeMap::new();
    let dept_order: HashMap<&str, (i32, &Department)> = inputs
        .departments
        .iter()
        .map(|d| (d.code.as_str(), (d.sort_order, d)))
        .collect();
    let dept_row = |map: &mut BTreeMap<String, TotalRow>, code: &str| {
        if !map.contains_key(code) {
            let (ja, en) = dept_order
                .get(code)
                .map_or(("（部局不明）", "(unknown department)"), |(_, d)| {
                    (d.name_ja.as_str(), d.name_en.as_str())
                });
            map.insert(code.to_string(), TotalRow::new(code, ja, en));
        }
    };
    let mut by_policy: BTreeMap<String, TotalRow> = BTreeMap::new();
    let policy_row = |map: &mut BTreeMap<String, TotalRow>, program: &str| -> String {
        let (code, name) = inputs
            .policy_of
            .get(program)
            .map_or(("", "（政策に紐付かない事業）"), |(c, n)| {
                (c.as_str(), n.as_str())
            });
        if !map.contains_key(code) {
            let en = if code.is_empty() {
                "(not linked to a policy)"
            } else {
                ""
            };
            map.insert(code.to_string(), TotalRow::new(code, name, en));
        }
        code.to_string()
    };
    let sources: [SourceColumn; 5] = [
        ("national", "国庫支出金", "National", |f| f.national),
        ("prefectural", "府県支出金", "Prefectural", |f| {
            f.prefectural
        }),
        ("bonds", "地方債", "Bonds", |f| f.bonds),
        ("other", "その他特定財源", "Other specific", |f| {
            f.other
        }),
        ("general", "一般財源", "General funds", |f| f.general),
    ];
    let mut by_source: Vec<TotalRow> = sources
        .iter()
        .map(|(k, ja, en, _)| TotalRow::new(k, ja, en))
        .collect();
    let mut total = TotalRow::new("total", "合計", "Total");

    for m in inputs.last_year.iter().filter(|m| m.fy.next() == inputs.fy) {
        let Some(dept) = dept_of_program.get(m.program_code.as_str()) else {
            continue;
        };
        let budget = m.budget();
        dept_row(&mut by_dept, dept);
        if let Some(r) = by_dept.get_mut(*dept) {
            r.last_year += budget;
        }
        let pk = policy_row(&mut by_policy, &m.program_code);
        if let Some(r) = by_policy.get_mut(&pk) {
            r.last_year += budget;
        }
        // Funding of last year's budget as recorded (it may be partial).
        for (row, (_, _, _, get)) in by_source.iter_mut().zip(sources.iter()) {
            row.last_year += get(&m.funding);
        }
        total.last_year += budget;
    }
    for req in inputs.requests.iter().filter(|r| r.fy == inputs.fy) {
        let dept = dept_of_program
            .get(req.program_code.as_str())
            .copied()
            .unwrap_or("");
        dept_row(&mut by_dept, dept);
        let pk = policy_row(&mut by_policy, &req.program_code);
        let assessed_funding = req.assessed_funding();
        for row in [
            by_dept.get_mut(dept),
            by_policy.get_mut(&pk),
            Some(&mut total),
        ]
        .into_iter()
        .flatten()
        {
            row.requested += req.requested;
            match req.assessed {
                Some(a) => row.assessed += a,
                None => row.unassessed += 1,
            }
        }
        for (row, (_, _, _, get)) in by_source.iter_mut().zip(sources.iter()) {
            row.requested += get(&req.funding);
            match &assessed_funding {
                Some(f) => row.assessed += get(f),
                None => row.unassessed += 1,
            }
        }
    }
    for c in inputs.ceilings.iter().filter(|c| c.fy == inputs.fy) {
        dept_row(&mut by_dept, &c.department_code);
        if let Some(r) = by_dept.get_mut(&c.department_code) {
            r.ceiling = Some(c.amount);
        }
    }
    let mut by_department: Vec<TotalRow> = by_dept.into_values().collect();
    by_department.sort_by_key(|r| {
        (
            dept_order.get(r.key.as_str()).map_or(i32::MAX, |(o, _)| *o),
            r.key.clone(),
        )
    });
    let mut by_policy: Vec<TotalRow> = by_policy.into_values().collect();
    // The unlinked row last.
    by_policy.sort_by_key(|r| (r.key.is_empty(), r.key.clone()));
    for r in by_department
        .iter_mut()
        .chain(by_policy.iter_mut())
        .chain(by_source.iter_mut())
    {
        r.finish();
    }
    total.finish();
    Compiled {
        fy: inputs.fy,
        by_department,
        by_policy,
        by_funding_source: by_source,
        total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kpi::{Direction, Frequency, NodeLink};
    use crate::program::{DeliveryMethod, EvidenceGrade};

    fn fy(y: i32) -> FiscalYear {
        FiscalYear::new(y).unwrap()
    }

    fn request(p: &str, requested: i64, national: i64) -> BudgetRequest {
        BudgetRequest {
            program_code: p.into(),
            fy: fy(2026),
            requested,
            funding: FundingSources {
                national,
                ..FundingSources::default()
            },
            override_reason: String::new(),
            assessed: None,
            note: String::new(),
        }
        .with_general_funds()
    }

    fn ctx(direction: Option<ProgramDirection>) -> RequestContext {
        RequestContext {
            direction,
            last_year_budget: 10_000_000,
            ceiling: Some(100_000_000),
            department_other_requests: 80_000_000,
        }
    }

    #[test]
    fn general_funds_are_computed() {
        let r = request("P1", 12_000_000, 5_000_000);
        assert_eq!(r.funding.general, 7_000_000);
        assert_eq!(r.funding.total(), 12_000_000);
        assert!(check_request(&r, &ctx(Some(ProgramDirection::Continue))).is_empty());
        let over = request("P1", 4_000_000, 5_000_000);
        let e = check_request(&over, &ctx(None));
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].field, "funding");
        assert_eq!(
            e[0].ja,
            "特定財源の合計（5,000,000円）が要求額（4,000,000円）を超えています"
        );
    }

    #[test]
    fn direction_rules() {
        let r = request("P1", 12_000_000, 0);
        let e = check_request(&r, &ctx(Some(ProgramDirection::Reduce)));
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].field, "requested");
        assert!(
            e[0].ja.contains("前年度予算（10,000,000円）"),
            "{}",
            e[0].ja
        );
        let mut with_reason = r.clone();
        with_reason.override_reason = "法改正で対象者が増えるため".into();
        assert!(check_request(&with_reason, &ctx(Some(ProgramDirection::Reduce))).is_empty());
        // Reducing to or below last year needs no reason.
        assert!(
            check_request(
                &request("P1", 10_000_000, 0),
                &ctx(Some(ProgramDirection::Reduce))
            )
            .is_empty()
        );
        let e = check_request(&with_reason, &ctx(Some(ProgramDirection::Abolish)));
        assert_eq!(e.len(), 1, "an override does not open an abolished program");
        assert_eq!(
            e[0].en,
            "a program evaluated \"Abolish\" requests nothing (enter 0)"
        );
        assert!(
            check_request(&request("P1", 0, 0), &ctx(Some(ProgramDirection::Abolish))).is_empty()
        );
    }

    #[test]
    fn ceiling_and_ranges() {
        let r = request("P1", 20_000_001, 0);
        let e = check_request(&r, &ctx(Some(ProgramDirection::Expand)));
        assert_eq!(e.len(), 1);
        assert_eq!(
            e[0].ja,
            "部局の要求上限（枠）100,000,000円を超えます（他の事業の要求80,000,000円＋この要求20,000,001円＝100,000,001円）"
        );
        assert!(check_request(&request("P1", 20_000_000, 0), &ctx(None)).is_empty());
        let e = check_request(&request("P1", -1, 0), &ctx(None));
        assert_eq!(e[0].field, "requested");
        assert_eq!(check_assessment(-5)[0].field, "assessed");
        assert!(check_assessment(0).is_empty());
        assert_eq!(check_ceiling(MAX_YEN + 1)[0].field, "amount");
    }

    #[test]
    fn assessed_funding_keeps_the_parts_adding_up() {
        let mut r = request("P1", 12_000_000, 6_000_000);
        r.funding.bonds = 3_000_000;
        let mut r = r.with_general_funds();
        assert_eq!(r.funding.general, 3_000_000);
        r.assessed = Some(10_000_000);
        let f = r.assessed_funding().unwrap();
        assert_eq!(
            (f.national, f.bonds, f.general),
            (6_000_000, 3_000_000, 1_000_000)
        );
        r.assessed = Some(6_000_001);
        let f = r.assessed_funding().unwrap();
        assert_eq!(f.total(), 6_000_001);
        assert_eq!(
            (f.national, f.bonds, f.other, f.general),
            (4_000_000, 2_000_000, 1, 0)
        );
    }

    #[test]
    fn compile_totals_and_variance() {
        let departments = vec![
            Department {
                code: "D02".into(),
                name_ja: "こども青少年局".into(),
                name_en: "Children".into(),
                sort_order: 2,
            },
            Department {
                code: "D01".into(),
                name_ja: "市長公室".into(),
                name_en: "Mayor's Office".into(),
                sort_order: 1,
            },
        ];
        let sections = vec![
            Section {
                code: "S011".into(),
                department_code: "D01".into(),
                name_ja: "政策企画課".into(),
                name_en: String::new(),
                sort_order: 1,
            },
            Section {
                code: "S021".into(),
                department_code: "D02".into(),
                name_ja: "保育企画課".into(),
                name_en: String::new(),
                sort_order: 1,
            },
        ];
        let program = |code: &str, section: &str| Program {
            code: code.into(),
            name_ja: code.into(),
            name_en: String::new(),
            section_code: section.into(),
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
        };
        let programs = vec![
            program("P1", "S021"),
            program("P2", "S021"),
            program("P3", "S011"),
        ];
        let nodes = vec![
            PlanNode {
                code: "P-1".into(),
                plan_code: "BP".into(),
                parent_code: None,
                level: 1,
                name_ja: "子育てしやすいまち".into(),
                name_en: String::new(),
                sort_order: 1,
                weight: None,
            },
            PlanNode {
                code: "M-1".into(),
                plan_code: "BP".into(),
                parent_code: Some("P-1".into()),
                level: 2,
                name_ja: "待機児童の解消".into(),
                name_en: String::new(),
                sort_order: 1,
                weight: None,
            },
        ];
        let kpi = Kpi {
            code: "K1".into(),
            name_ja: "待機児童数".into(),
            name_en: String::new(),
            unit: "人".into(),
            direction: Direction::LowerIsBetter,
            frequency: Frequency::Annual,
            baseline: None,
            targets: vec![],
            final_target: None,
            source: String::new(),
            publication_lag_years: 0,
            description: String::new(),
            owner_sections: vec![],
            nodes: vec![NodeLink {
                node_code: "M-1".into(),
                weight: None,
            }],
            sdgs: vec![],
            published: true,
            status_basis: None,
        };
        let links = vec![
            KpiLink {
                program_code: "P1".into(),
                kpi_code: "K1".into(),
                weight: 0.6,
                rationale: String::new(),
                evidence_grade: EvidenceGrade::Claimed,
            },
            KpiLink {
                program_code: "P1".into(),
                kpi_code: "K0".into(),
                weight: 0.1,
                rationale: String::new(),
                evidence_grade: EvidenceGrade::Claimed,
            },
        ];
        let policy_of = policy_of_programs(&links, &[kpi], &nodes);
        assert_eq!(
            policy_of["P1"],
            ("P-1".to_string(), "子育てしやすいまち".to_string())
        );
        assert_eq!(policy_of.len(), 1);
        let money = |p: &str, budget: i64, national: i64| ProgramMoney {
            program_code: p.into(),
            fy: fy(2025),
            budget_initial: budget,
            budget_revised: None,
            settled: None,
            funding: FundingSources {
                national,
                general: budget - national,
                ..FundingSources::default()
            },
            staff_fte: 0.0,
            staff_unit_cost: 0,
            output_quantity: None,
        };
        let last_year = vec![
            money("P1", 100_000_000, 50_000_000),
            money("P2", 20_000_000, 0),
            money("P3", 5_000_000, 0),
        ];
        let mut r1 = request("P1", 110_000_000, 50_000_000);
        r1.assessed = Some(105_000_000);
        // P2 is abolished: its request is 0 and assessed 0.
        let mut r2 = request("P2", 0, 0);
        r2.assessed = Some(0);
        let r3 = request("P3", 6_000_000, 0);
        let ceilings = vec![Ceiling {
            fy: fy(2026),
            department_code: "D02".into(),
            amount: 115_000_000,
        }];
        let c = compile(&CompileInputs {
            fy: fy(2026),
            requests: &[r1, r2, r3],
            programs: &programs,
            departments: &departments,
            sections: &sections,
            policy_of: &policy_of,
            last_year: &last_year,
            ceilings: &ceilings,
        });
        type Line<'a> = (&'a str, i64, i64, i64, usize, Option<i64>);
        let d: Vec<Line> = c
            .by_department
            .iter()
            .map(|r| {
                (
                    r.key.as_str(),
                    r.last_year,
                    r.requested,
                    r.assessed,
                    r.unassessed,
                    r.ceiling,
                )
            })
            .collect();
        assert_eq!(
            d,
            vec![
                ("D01", 5_000_000, 6_000_000, 0, 1, None),
                (
                    "D02",
                    120_000_000,
                    110_000_000,
                    105_000_000,
                    0,
                    Some(115_000_000)
                ),
            ]
        );
        assert_eq!(c.by_department[1].variance_assessed, -15_000_000);
        assert_eq!(c.by_department[1].variance_rate, Some(-0.125));
        assert_eq!(c.by_department[0].variance_requested, 1_000_000);
        let p: Vec<(&str, i64, i64)> = c
            .by_policy
            .iter()
            .map(|r| (r.key.as_str(), r.last_year, r.requested))
            .collect();
        assert_eq!(
            p,
            vec![
                ("P-1", 100_000_000, 110_000_000),
                ("", 25_000_000, 6_000_000)
            ]
        );
        assert_eq!(c.by_policy[1].name_ja, "（政策に紐付かない事業）");
        let s: Vec<(&str, i64, i64, i64)> = c
            .by_funding_source
            .iter()
            .map(|r| (r.key.as_str(), r.last_year, r.requested, r.assessed))
            .collect();
        assert_eq!(
            s,
            vec![
                ("national", 50_000_000, 50_000_000, 50_000_000),
                ("prefectural", 0, 0, 0),
                ("bonds", 0, 0, 0),
                ("other", 0, 0, 0),
                ("general", 75_000_000, 66_000_000, 55_000_000),
            ]
        );
        assert_eq!(c.total.last_year, 125_000_000);
        assert_eq!(c.total.requested, 116_000_000);
        assert_eq!(c.total.assessed, 105_000_000);
        assert_eq!(c.total.unassessed, 1);
        assert_eq!(c.total.variance_requested, -9_000_000);
    }
}
