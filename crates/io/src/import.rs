//! Reading a flat table (CSV or sheet) of one kind into a [`Dataset`].
//!
//! Headers are resolved to column positions once per file; each row is then
//! read by position, so a million observation rows cost no header lookups.

use std::collections::HashMap;

use citykpi_domain::fiscal::FiscalYear;
use citykpi_domain::kpi::{Direction, Kpi, YearValue};
use citykpi_domain::money::{FundingSources, ProgramMoney};
use citykpi_domain::observation::{ObsStatus, ObsValue, Observation};
use citykpi_domain::org::{Department, Role, Section, User};
use citykpi_domain::plan::{LevelName, Plan, PlanNode};
use citykpi_domain::program::{
    DeliveryMethod, EvidenceGrade, IndicatorKind, KpiLink, Program, ProgramIndicator,
};
use citykpi_domain::progress::StatusThresholds;
use citykpi_domain::text::normalize;
use citykpi_domain::{Dataset, Kind, limits};

use crate::columns::{Column, columns, match_header};
use crate::error::{Problem, Problems};
use crate::fields::{self, Reason, not_allowed};
use crate::table::Cells;
use crate::validate::RowRefs;

/// The header row of a file resolved against a kind's column table.
#[derive(Debug)]
pub(crate) struct Resolved {
    pub kind: Kind,
    pub cols: &'static [Column],
    /// Cell index of each column of the table, if present.
    pub idx: Vec<Option<usize>>,
    /// Header as written in the file (or the Japanese header when absent).
    pub names: Vec<String>,
    pub scale: Vec<i64>,
    /// Number of cells in the header row.
    pub width: usize,
    /// A CSV file: undo the apostrophe export puts before formula-like text.
    pub csv: bool,
}

/// Number of columns of `kind` a header row names, and whether all the
/// required ones are there.
pub(crate) fn score(kind: Kind, header: &[String]) -> (bool, usize) {
    let cols = columns(kind);
    let mut seen = vec![false; cols.len()];
    for h in header {
        if let Some(m) = match_header(kind, h) {
            seen[m.column] = true;
        }
    }
    let all_required = cols.iter().zip(&seen).all(|(c, s)| !c.required || *s);
    (all_required, seen.iter().filter(|s| **s).count())
}

/// The kind a header row is, if it can be told: complete kinds first, then
/// the single best partial match (so a missing column is reported as such).
pub(crate) fn detect_kind(header: &[String]) -> Option<Kind> {
    let scores: Vec<(Kind, (bool, usize))> =
        Kind::ALL.iter().map(|k| (*k, score(*k, header))).collect();
    let complete = scores
        .iter()
        .filter(|(_, (all, n))| *all && *n > 0)
        .max_by_key(|(_, (_, n))| *n);
    if let Some((k, _)) = complete {
        return Some(*k);
    }
    let best = scores.iter().map(|(_, (_, n))| *n).max().unwrap_or(0);
    let top: Vec<Kind> = scores
        .iter()
        .filter(|(_, (_, n))| *n == best)
        .map(|(k, _)| *k)
        .collect();
    if best >= 2 && top.len() == 1 {
        Some(top[0])
    } else {
        None
    }
}

impl Resolved {
    /// Maps header cells to columns. Unknown headers become warnings,
    /// a column named twice or a missing required column a problem.
    pub fn new(
        kind: Kind,
        header: &[String],
        header_row: usize,
        problems: &mut Problems,
        warnings: &mut Vec<Problem>,
    ) -> Resolved {
        let cols = columns(kind);
        let mut idx = vec![None; cols.len()];
        let mut names: Vec<String> = cols.iter().map(|c| c.ja.to_string()).collect();
        let mut scale = vec![1; cols.len()];
        for (i, h) in header.iter().enumerate() {
            if h.trim().is_empty() {
                continue;
            }
            match match_header(kind, h) {
                Some(m) => {
                    if let Some(prev) = idx[m.column] {
                        problems.push(Problem {
                            row: Some(header_row),
                            column: Some(h.trim().to_string()),
                            value: None,
                            reason: format!(
                                "同じ項目の列が2つあります（{}列目と{}列目） / the same column appears twice (columns {} and {})",
                                prev + 1,
                                i + 1,
                                prev + 1,
                                i + 1
                            ),
                        });
                        continue;
                    }
                    idx[m.column] = Some(i);
                    names[m.column] = h.trim().to_string();
                    scale[m.column] = m.scale;
                }
                None => warnings.push(Problem {
                    row: Some(header_row),
                    column: Some(h.trim().to_string()),
                    value: None,
                    reason: format!(
                        "{}の表にない列のため無視しました / not a column of the {} table, ignored",
                        crate::columns::kind_label_ja(kind),
                        kind.as_str()
                    ),
                }),
            }
        }
        for (c, i) in cols.iter().zip(&idx) {
            if c.required && i.is_none() {
                problems.push(Problem {
                    row: Some(header_row),
                    column: Some(c.ja.to_string()),
                    value: None,
                    reason: format!(
                        "必須の列「{}」（{}）がありません（{}の表） / required column \"{}\" is missing ({} table)",
                        c.ja,
                        c.en,
                        crate::columns::kind_label_ja(kind),
                        c.en,
                        kind.as_str()
                    ),
                });
            }
        }
        Resolved {
            kind,
            cols,
            idx,
            names,
            scale,
            width: header.len(),
            csv: false,
        }
    }

    fn col(&self, key: &str) -> Col {
        let pos = self.cols.iter().position(|c| c.key == key).unwrap_or(0);
        debug_assert_eq!(
            self.cols[pos].key, key,
            "column table of {:?} has no {key}",
            self.kind
        );
        Col {
            idx: self.idx[pos],
            pos,
            scale: self.scale[pos],
        }
    }

    /// The header to name in messages about `key`.
    pub fn name(&self, key: &str) -> String {
        self.cols
            .iter()
            .position(|c| c.key == key)
            .map(|p| self.names[p].clone())
            .unwrap_or_else(|| key.to_string())
    }
}

/// A resolved column: where its cells are in a row.
#[derive(Debug, Clone, Copy)]
struct Col {
    idx: Option<usize>,
    pos: usize,
    scale: i64,
}

const EMPTY_REQUIRED: &str = "必須の値が空です / required value is empty";

/// One row being read, collecting its problems.
struct Row<'a, 'p> {
    n: usize,
    cells: &'a dyn Cells,
    map: &'a Resolved,
    problems: &'p mut Problems,
    ok: bool,
}

impl<'a> Row<'a, '_> {
    fn raw(&self, c: Col) -> &'a str {
        match c.idx {
            Some(i) => {
                let s = self.cells.get(i);
                if self.map.csv && s.starts_with('\'') {
                    fields::csv_unguard(s)
                } else {
                    s
                }
            }
            None => "",
        }
    }

    fn bad(&mut self, c: Col, reason: impl Into<String>) {
        let raw = self.raw(c).trim();
        self.problems
            .at(self.n, &self.map.names[c.pos], raw, reason);
        self.ok = false;
    }

    /// Free text, trimmed, otherwise as written; longer than its column's
    /// limit is a problem of the cell.
    fn text(&mut self, c: Col) -> String {
        let t = self.raw(c).trim();
        self.within_limit(c, t);
        t.to_string()
    }

    fn within_limit(&mut self, c: Col, t: &str) {
        if let Err(e) = limits::check(self.map.cols[c.pos].key, t) {
            let reason = e.to_string();
            self.problems.at(self.n, &self.map.names[c.pos], "", reason);
            self.ok = false;
        }
    }

    fn req_text(&mut self, c: Col) -> String {
        let t = self.text(c);
        if t.is_empty() {
            self.bad(c, EMPTY_REQUIRED);
        }
        t
    }

    /// A code: NFKC-normalized so full-width letters and digits become ASCII.
    fn code(&mut self, c: Col) -> String {
        let raw = self.raw(c);
        self.within_limit(c, raw.trim());
        normalize(raw)
    }

    fn req_code(&mut self, c: Col) -> String {
        let t = self.code(c);
        if t.is_empty() {
            self.bad(c, EMPTY_REQUIRED);
        }
        t
    }

    fn opt<T>(&mut self, c: Col, f: impl FnOnce(&str) -> Result<T, Reason>) -> Option<T> {
        let raw = self.raw(c).trim();
        if raw.is_empty() {
            return None;
        }
        match f(raw) {
            Ok(v) => Some(v),
            Err(reason) => {
                self.bad(c, reason);
                None
            }
        }
    }

    fn req<T>(&mut self, c: Col, f: impl FnOnce(&str) -> Result<T, Reason>) -> Option<T> {
        if self.raw(c).trim().is_empty() {
            self.bad(c, EMPTY_REQUIRED);
            return None;
        }
        self.opt(c, f)
    }

    fn number(&mut self, c: Col) -> Option<f64> {
        self.opt(c, fields::number)
    }

    fn int(&mut self, c: Col, min: i64, max: i64) -> Option<i64> {
        self.opt(c, |s| integer(s, min, max))
    }

    fn fy(&mut self, c: Col) -> Option<FiscalYear> {
        self.opt(c, fields::fiscal_year)
    }

    fn yen(&mut self, c: Col) -> Option<i64> {
        let scale = c.scale;
        self.opt(c, |s| yen(s, scale))
    }

    fn flag(&mut self, c: Col, default: bool) -> bool {
        self.opt(c, fields::boolean).flatten().unwrap_or(default)
    }
}

fn integer(s: &str, min: i64, max: i64) -> Result<i64, Reason> {
    let v = fields::number(s)?;
    if v.fract() != 0.0 {
        return Err(format!(
            "「{s}」は整数ではありません / \"{s}\" is not a whole number"
        ));
    }
    if v < min as f64 || v > max as f64 {
        return Err(format!(
            "「{s}」は範囲外です（{min}〜{max}） / \"{s}\" is out of range ({min}-{max})"
        ));
    }
    Ok(v as i64)
}

/// Whole yen; `scale` is 1000 when the header says 千円.
fn yen(s: &str, scale: i64) -> Result<i64, Reason> {
    if scale == 1 {
        return citykpi_domain::text::parse_yen(s).map_err(|e| {
            if fields::number(s).is_ok() {
                format!(
                    "「{s}」は円単位の整数ではありません / \"{s}\" is not a whole number of yen"
                )
            } else {
                e.to_string()
            }
        });
    }
    let v = fields::number(s)? * scale as f64;
    let r = v.round();
    if (v - r).abs() > 1e-6 || r.abs() > 9.0e15 {
        return Err(format!(
            "「{s}」は円単位の整数になりません / \"{s}\" is not a whole number of yen"
        ));
    }
    Ok(r as i64)
}

/// What reading rows produces: the dataset and, for each record, its row.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub ds: Dataset,
    pub rows: RowRefs,
}

/// Reads rows of one kind. Build with [`RowParser::new`], feed rows, `finish`.
pub(crate) enum RowParser {
    Org(OrgCols),
    Users(UserCols),
    Plans(PlanCols),
    Kpis(KpiCols),
    Observations(ObsCols),
    Programs(ProgramCols),
    Links(LinkCols),
    Indicators(IndicatorCols),
    Money(MoneyCols),
}

pub(crate) struct OrgCols {
    dept: Col,
    dept_name: Col,
    dept_name_en: Col,
    dept_sort: Col,
    sec: Col,
    sec_name: Col,
    sec_name_en: Col,
    sec_sort: Col,
    /// Department code → index in `ds.departments`.
    seen: HashMap<String, usize>,
}

pub(crate) struct UserCols {
    login: Col,
    display_name: Col,
    email: Col,
    section: Col,
    role: Col,
    active: Col,
}

pub(crate) struct PlanCols {
    plan: Col,
    node: Col,
    parent: Col,
    level: Col,
    name_ja: Col,
    name_en: Col,
    sort: Col,
    weight: Col,
    start_fy: Col,
    end_fy: Col,
    level_names: Col,
    th_achieved: Col,
    th_on_track: Col,
    th_behind: Col,
    grade_style: Col,
    rollup: Col,
    published: Col,
}

pub(crate) struct KpiCols {
    code: Col,
    name_ja: Col,
    name_en: Col,
    unit: Col,
    direction: Col,
    band_lower: Col,
    band_upper: Col,
    frequency: Col,
    baseline_fy: Col,
    baseline_value: Col,
    targets: Col,
    final_fy: Col,
    final_value: Col,
    source: Col,
    lag: Col,
    description: Col,
    owners: Col,
    nodes: Col,
    sdgs: Col,
    published: Col,
    status_basis: Col,
}

pub(crate) struct ObsCols {
    kpi: Col,
    period: Col,
    area: Col,
    value: Col,
    status: Col,
    source: Col,
    note: Col,
    entered_by: Col,
    entered_at: Col,
}

pub(crate) struct ProgramCols {
    code: Col,
    name_ja: Col,
    name_en: Col,
    section: Col,
    purpose: Col,
    target_group: Col,
    intent: Col,
    means: Col,
    delivery: Col,
    legal_basis: Col,
    start_fy: Col,
    end_fy: Col,
    mandatory: Col,
    published: Col,
}

pub(crate) struct LinkCols {
    program: Col,
    kpi: Col,
    weight: Col,
    rationale: Col,
    grade: Col,
}

pub(crate) struct IndicatorCols {
    program: Col,
    code: Col,
    kind: Col,
    name_ja: Col,
    unit: Col,
    fy: Col,
    target: Col,
    actual: Col,
}

pub(crate) struct MoneyCols {
    program: Col,
    fy: Col,
    initial: Col,
    revised: Col,
    settled: Col,
    national: Col,
    prefectural: Col,
    bonds: Col,
    other: Col,
    general: Col,
    fte: Col,
    unit_cost: Col,
    output: Col,
}

impl RowParser {
    pub fn new(m: &Resolved) -> RowParser {
        match m.kind {
            Kind::Org => RowParser::Org(OrgCols {
                dept: m.col("department_code"),
                dept_name: m.col("department_name"),
                dept_name_en: m.col("department_name_en"),
                dept_sort: m.col("department_sort_order"),
                sec: m.col("section_code"),
                sec_name: m.col("section_name"),
                sec_name_en: m.col("section_name_en"),
                sec_sort: m.col("section_sort_order"),
                seen: HashMap::new(),
            }),
            Kind::Users => RowParser::Users(UserCols {
                login: m.col("login"),
                display_name: m.col("display_name"),
                email: m.col("email"),
                section: m.col("section_code"),
                role: m.col("role"),
                active: m.col("active"),
            }),
            Kind::Plans => RowParser::Plans(PlanCols {
                plan: m.col("plan_code"),
                node: m.col("node_code"),
                parent: m.col("parent_code"),
                level: m.col("level"),
                name_ja: m.col("name_ja"),
                name_en: m.col("name_en"),
                sort: m.col("sort_order"),
                weight: m.col("weight"),
                start_fy: m.col("start_fy"),
                end_fy: m.col("end_fy"),
                level_names: m.col("level_names"),
                th_achieved: m.col("threshold_achieved"),
                th_on_track: m.col("threshold_on_track"),
                th_behind: m.col("threshold_behind"),
                grade_style: m.col("grade_style"),
                rollup: m.col("rollup"),
                published: m.col("published"),
            }),
            Kind::Kpis => RowParser::Kpis(KpiCols {
                code: m.col("kpi_code"),
                name_ja: m.col("name_ja"),
                name_en: m.col("name_en"),
                unit: m.col("unit"),
                direction: m.col("direction"),
                band_lower: m.col("band_lower"),
                band_upper: m.col("band_upper"),
                frequency: m.col("frequency"),
                baseline_fy: m.col("baseline_fy"),
                baseline_value: m.col("baseline_value"),
                targets: m.col("targets"),
                final_fy: m.col("final_target_fy"),
                final_value: m.col("final_target_value"),
                source: m.col("source"),
                lag: m.col("publication_lag_years"),
                description: m.col("description"),
                owners: m.col("owner_sections"),
                nodes: m.col("nodes"),
                sdgs: m.col("sdgs"),
                published: m.col("published"),
                status_basis: m.col("status_basis"),
            }),
            Kind::Observations => RowParser::Observations(ObsCols {
                kpi: m.col("kpi_code"),
                period: m.col("period"),
                area: m.col("area_code"),
                value: m.col("value"),
                status: m.col("status"),
                source: m.col("source"),
                note: m.col("note"),
                entered_by: m.col("entered_by"),
                entered_at: m.col("entered_at"),
            }),
            Kind::Programs => RowParser::Programs(ProgramCols {
                code: m.col("program_code"),
                name_ja: m.col("name_ja"),
                name_en: m.col("name_en"),
                section: m.col("section_code"),
                purpose: m.col("purpose"),
                target_group: m.col("target_group"),
                intent: m.col("intent"),
                means: m.col("means"),
                delivery: m.col("delivery"),
                legal_basis: m.col("legal_basis"),
                start_fy: m.col("start_fy"),
                end_fy: m.col("end_fy"),
                mandatory: m.col("mandatory"),
                published: m.col("published"),
            }),
            Kind::Links => RowParser::Links(LinkCols {
                program: m.col("program_code"),
                kpi: m.col("kpi_code"),
                weight: m.col("weight"),
                rationale: m.col("rationale"),
                grade: m.col("evidence_grade"),
            }),
            Kind::Indicators => RowParser::Indicators(IndicatorCols {
                program: m.col("program_code"),
                code: m.col("indicator_code"),
                kind: m.col("kind"),
                name_ja: m.col("name_ja"),
                unit: m.col("unit"),
                fy: m.col("fy"),
                target: m.col("target"),
                actual: m.col("actual"),
            }),
            Kind::Money => RowParser::Money(MoneyCols {
                program: m.col("program_code"),
                fy: m.col("fy"),
                initial: m.col("budget_initial"),
                revised: m.col("budget_revised"),
                settled: m.col("settled"),
                national: m.col("funding_national"),
                prefectural: m.col("funding_prefectural"),
                bonds: m.col("funding_bonds"),
                other: m.col("funding_other"),
                general: m.col("funding_general"),
                fte: m.col("staff_fte"),
                unit_cost: m.col("staff_unit_cost"),
                output: m.col("output_quantity"),
            }),
        }
    }

    /// Reads one data row (already known not to be blank) into `out`.
    pub fn row(
        &mut self,
        n: usize,
        cells: &dyn Cells,
        map: &Resolved,
        out: &mut Parsed,
        problems: &mut Problems,
    ) {
        let mut r = Row {
            n,
            cells,
            map,
            problems,
            ok: true,
        };
        match self {
            RowParser::Org(c) => org_row(c, &mut r, out),
            RowParser::Users(c) => user_row(c, &mut r, out),
            RowParser::Plans(c) => plan_row(c, &mut r, out),
            RowParser::Kpis(c) => kpi_row(c, &mut r, out),
            RowParser::Observations(c) => obs_row(c, &mut r, out),
            RowParser::Programs(c) => program_row(c, &mut r, out),
            RowParser::Links(c) => link_row(c, &mut r, out),
            RowParser::Indicators(c) => indicator_row(c, &mut r, out),
            RowParser::Money(c) => money_row(c, &mut r, out),
        }
    }

    /// Work that needs all rows: plan node levels left empty are derived
    /// from their parents.
    pub fn finish(&mut self, map: &Resolved, out: &mut Parsed, problems: &mut Problems) {
        if let RowParser::Plans(_) = self {
            derive_levels(map, out, problems);
        }
    }
}

fn sort_order(r: &mut Row, c: Col) -> i32 {
    r.int(c, i64::from(i32::MIN), i64::from(i32::MAX))
        .map(|v| v as i32)
        .unwrap_or(0)
}

fn org_row(c: &mut OrgCols, r: &mut Row, out: &mut Parsed) {
    let dept_code = r.req_code(c.dept);
    let dept_name = r.text(c.dept_name);
    let dept_name_en = r.text(c.dept_name_en);
    let dept_sort = sort_order(r, c.dept_sort);
    let sec_code = r.code(c.sec);
    if !dept_name.is_empty() && !dept_code.is_empty() {
        match c.seen.get(&dept_code) {
            Some(&i) => {
                let first = &out.ds.departments[i];
                let first_row = out.rows.departments[i];
                let differs = first.name_ja != dept_name
                    || (!dept_name_en.is_empty() && first.name_en != dept_name_en)
                    || (!r.raw(c.dept_sort).trim().is_empty() && first.sort_order != dept_sort);
                if differs {
                    r.bad(
                        c.dept_name,
                        format!(
                            "部局「{dept_code}」の内容が{first_row}行目と違います / department \"{dept_code}\" differs from row {first_row}"
                        ),
                    );
                }
            }
            None if r.ok => {
                c.seen.insert(dept_code.clone(), out.ds.departments.len());
                out.ds.departments.push(Department {
                    code: dept_code.clone(),
                    name_ja: dept_name,
                    name_en: dept_name_en,
                    sort_order: dept_sort,
                });
                out.rows.departments.push(r.n);
            }
            None => {}
        }
    } else if sec_code.is_empty() && !dept_code.is_empty() {
        // A department-only row must say what the department is called.
        r.bad(c.dept_name, EMPTY_REQUIRED);
    }
    if !sec_code.is_empty() {
        let name_ja = r.req_text(c.sec_name);
        let name_en = r.text(c.sec_name_en);
        let sort = sort_order(r, c.sec_sort);
        if r.ok {
            out.ds.sections.push(Section {
                code: sec_code,
                department_code: dept_code,
                name_ja,
                name_en,
                sort_order: sort,
            });
            out.rows.sections.push(r.n);
        }
    }
}

fn user_row(c: &UserCols, r: &mut Row, out: &mut Parsed) {
    let login = r.req_code(c.login);
    let display_name = r.req_text(c.display_name);
    let email = r.text(c.email);
    let section_code = r.req_code(c.section);
    let role = r.req(c.role, |s| {
        Role::parse(s).ok_or_else(|| {
            let allowed = Role::ALL
                .iter()
                .map(|x| format!("{}（{}）", x.as_str(), x.label_ja()))
                .collect::<Vec<_>>()
                .join(", ");
            not_allowed(s, "権限", "role", &allowed)
        })
    });
    let active = r.flag(c.active, true);
    if let (true, Some(role)) = (r.ok, role) {
        out.ds.users.push(User {
            login,
            display_name,
            email: if email.is_empty() { None } else { Some(email) },
            section_code,
            role,
            password_hash: None,
            active,
        });
        out.rows.users.push(r.n);
    }
}

/// A node's level: a number, or the level's name (`政策`, `施策`) as the
/// plan (if in this file) or the default names call it. 0 = derive later.
fn level_of(s: &str, names: &[LevelName]) -> Result<u8, Reason> {
    if let Ok(v) = integer(s, 1, 20) {
        return Ok(v as u8);
    }
    let n = normalize(s);
    names
        .iter()
        .position(|l| l.ja == n || (!l.en.is_empty() && l.en.eq_ignore_ascii_case(&n)))
        .map(|p| (p + 1) as u8)
        .ok_or_else(|| {
            let allowed = names
                .iter()
                .enumerate()
                .map(|(i, l)| format!("{}（{}）", i + 1, l.ja))
                .collect::<Vec<_>>()
                .join(", ");
            not_allowed(s, "階層", "level", &allowed)
        })
}

fn plan_row(c: &PlanCols, r: &mut Row, out: &mut Parsed) {
    let plan_code = r.req_code(c.plan);
    let node_code = r.code(c.node);
    let name_ja = r.req_text(c.name_ja);
    let name_en = r.text(c.name_en);
    if node_code.is_empty()
        && !(r.raw(c.parent).trim().is_empty() && r.raw(c.level).trim().is_empty())
    {
        // Looks like a node whose code was forgotten, not a plan row.
        r.bad(
            c.node,
            "体系コードが空です（計画の行なら上位コードと階層は空にします） / node code is empty (a plan row leaves parent and level empty)",
        );
        return;
    }
    if node_code.is_empty() {
        // The plan itself.
        let start_fy = r.req(c.start_fy, fields::fiscal_year);
        let end_fy = r.req(c.end_fy, fields::fiscal_year);
        let level_names = r
            .opt(c.level_names, fields::level_names)
            .unwrap_or_else(LevelName::defaults);
        let d = StatusThresholds::default();
        let thresholds = StatusThresholds {
            achieved: r.opt(c.th_achieved, fields::share).unwrap_or(d.achieved),
            on_track: r.opt(c.th_on_track, fields::share).unwrap_or(d.on_track),
            behind: r.opt(c.th_behind, fields::share).unwrap_or(d.behind),
            style: r
                .opt(c.grade_style, fields::grade_style)
                .unwrap_or_default(),
        };
        let rollup = r.opt(c.rollup, fields::rollup).unwrap_or_default();
        let published = r.flag(c.published, false);
        if let (true, Some(start_fy), Some(end_fy)) = (r.ok, start_fy, end_fy) {
            out.ds.plans.push(Plan {
                code: plan_code,
                name_ja,
                name_en,
                start_fy,
                end_fy,
                level_names,
                thresholds,
                rollup,
                published,
            });
            out.rows.plans.push(r.n);
        }
        return;
    }
    let parent = r.code(c.parent);
    let names = out
        .ds
        .plans
        .iter()
        .find(|p| p.code == plan_code)
        .map(|p| p.level_names.clone())
        .unwrap_or_else(LevelName::defaults);
    let level = match r.opt(c.level, |s| level_of(s, &names)) {
        Some(l) => l,
        // Empty: a top node is level 1; a child's level comes from its parent.
        None if r.raw(c.level).trim().is_empty() && parent.is_empty() => 1,
        None => 0,
    };
    let sort = sort_order(r, c.sort);
    let weight = r.number(c.weight);
    if r.ok {
        out.ds.plan_nodes.push(PlanNode {
            code: node_code,
            plan_code,
            parent_code: if parent.is_empty() {
                None
            } else {
                Some(parent)
            },
            level,
            name_ja,
            name_en,
            sort_order: sort,
            weight,
        });
        out.rows.plan_nodes.push(r.n);
    }
}

fn derive_levels(map: &Resolved, out: &mut Parsed, problems: &mut Problems) {
    let nodes = &mut out.ds.plan_nodes;
    // Parents are usually listed before children, so this settles in one or
    // two passes; the bound stops at cycles.
    for _ in 0..nodes.len().min(32) {
        let known: HashMap<String, u8> = nodes
            .iter()
            .filter(|n| n.level > 0)
            .map(|n| (n.code.clone(), n.level))
            .collect();
        let mut changed = false;
        for n in nodes.iter_mut().filter(|n| n.level == 0) {
            if let Some(l) = n.parent_code.as_ref().and_then(|p| known.get(p)) {
                n.level = l.saturating_add(1);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    for (n, row) in nodes.iter().zip(&out.rows.plan_nodes) {
        if n.level == 0 {
            problems.push(Problem {
                row: Some(*row),
                column: Some(map.name("level")),
                value: None,
                reason: format!(
                    "階層が空で、上位「{}」の階層もこのファイルから分かりません / level is empty and cannot be derived from parent \"{}\"",
                    n.parent_code.as_deref().unwrap_or(""),
                    n.parent_code.as_deref().unwrap_or("")
                ),
            });
        }
    }
}

fn kpi_row(c: &KpiCols, r: &mut Row, out: &mut Parsed) {
    let code = r.req_code(c.code);
    let name_ja = r.req_text(c.name_ja);
    let name_en = r.text(c.name_en);
    let unit = r.text(c.unit);
    let lower = r.number(c.band_lower);
    let upper = r.number(c.band_upper);
    let band = lower.zip(upper);
    let direction = r.req(c.direction, |s| match Direction::parse(s, band) {
        Some(d) => Ok(d),
        None if Direction::parse(s, Some((0.0, 0.0))).is_some() => Err(match band {
            Some((l, u)) => format!(
                "範囲の下限（{l}）が上限（{u}）より大きいです / band lower bound {l} is above upper bound {u}"
            ),
            None => "範囲内が望ましい指標には「範囲下限」と「範囲上限」が必要です / a band KPI needs band_lower and band_upper".to_string(),
        }),
        None => Err(not_allowed(
            s,
            "方向",
            "direction",
            "higher（増加が望ましい・↑）, lower（減少が望ましい・↓）, band（範囲内が望ましい）",
        )),
    });
    let frequency = r.opt(c.frequency, fields::frequency).unwrap_or_default();
    let baseline = year_value(r, c.baseline_fy, c.baseline_value);
    let targets = r.opt(c.targets, fields::targets).unwrap_or_default();
    let final_target = year_value(r, c.final_fy, c.final_value);
    let source = r.text(c.source);
    let lag = r.int(c.lag, 0, 20).map(|v| v as u8).unwrap_or(0);
    let description = r.text(c.description);
    let owner_sections = fields::code_list(r.raw(c.owners));
    let nodes = r.opt(c.nodes, fields::node_links).unwrap_or_default();
    let sdgs = r.opt(c.sdgs, fields::sdgs).unwrap_or_default();
    let published = r.flag(c.published, false);
    let status_basis = r.opt(c.status_basis, fields::status_basis).flatten();
    if let (true, Some(direction)) = (r.ok, direction) {
        out.ds.kpis.push(Kpi {
            code,
            name_ja,
            name_en,
            unit,
            direction,
            frequency,
            baseline,
            targets,
            final_target,
            source,
            publication_lag_years: lag,
            description,
            owner_sections,
            nodes,
            sdgs,
            published,
            status_basis,
        });
        out.rows.kpis.push(r.n);
    }
}

/// A (year, value) pair from two columns: both or neither.
fn year_value(r: &mut Row, fy: Col, value: Col) -> Option<YearValue> {
    let y = r.fy(fy);
    let v = r.number(value);
    let (has_y, has_v) = (
        !r.raw(fy).trim().is_empty(),
        !r.raw(value).trim().is_empty(),
    );
    if has_y && !has_v {
        r.bad(
            value,
            "年度があるのに値が空です / the year is given but the value is empty",
        );
    } else if has_v && !has_y {
        r.bad(
            fy,
            "値があるのに年度が空です / the value is given but the year is empty",
        );
    }
    y.zip(v).map(|(fy, value)| YearValue { fy, value })
}

fn obs_row(c: &ObsCols, r: &mut Row, out: &mut Parsed) {
    let kpi_code = r.req_code(c.kpi);
    let period = r.req(c.period, fields::period);
    let area_code = r.code(c.area);
    let value = match fields::obs_value(r.raw(c.value)) {
        Ok(v) => v,
        Err(reason) => {
            r.bad(c.value, reason);
            ObsValue::Missing
        }
    };
    let status = match r.raw(c.status) {
        "" | "final" => ObsStatus::Final,
        "provisional" => ObsStatus::Provisional,
        s => ObsStatus::parse(s).unwrap_or_else(|| {
            r.bad(
                c.status,
                not_allowed(
                    s.trim(),
                    "状態",
                    "status",
                    "final（確定値）, provisional（速報値）",
                ),
            );
            ObsStatus::Final
        }),
    };
    if let (true, Some(period)) = (r.ok, period) {
        out.ds.observations.push(Observation {
            kpi_code,
            period,
            area_code,
            value,
            status,
            source: r.text(c.source),
            note: r.text(c.note),
            entered_by: r.text(c.entered_by),
            entered_at: r.text(c.entered_at),
            // Stamped by the import service for importers who may confirm.
            confirmed_by: String::new(),
            confirmed_at: String::new(),
        });
        out.rows.observations.push(r.n);
    }
}

fn program_row(c: &ProgramCols, r: &mut Row, out: &mut Parsed) {
    let code = r.req_code(c.code);
    let name_ja = r.req_text(c.name_ja);
    let section_code = r.req_code(c.section);
    let delivery = r.req(c.delivery, |s| {
        DeliveryMethod::parse(s).ok_or_else(|| {
            let allowed = DeliveryMethod::ALL
                .iter()
                .map(|d| format!("{}（{}）", d.as_str(), d.label_ja()))
                .collect::<Vec<_>>()
                .join(", ");
            not_allowed(s, "実施方法", "delivery method", &allowed)
        })
    });
    let start_fy = r.fy(c.start_fy);
    let end_fy = r.fy(c.end_fy);
    let mandatory = r.flag(c.mandatory, false);
    let published = r.flag(c.published, false);
    if let (true, Some(delivery)) = (r.ok, delivery) {
        out.ds.programs.push(Program {
            code,
            name_ja,
            name_en: r.text(c.name_en),
            section_code,
            purpose: r.text(c.purpose),
            target_group: r.text(c.target_group),
            intent: r.text(c.intent),
            means: r.text(c.means),
            delivery,
            legal_basis: r.text(c.legal_basis),
            start_fy,
            end_fy,
            mandatory,
            published,
        });
        out.rows.programs.push(r.n);
    }
}

fn link_row(c: &LinkCols, r: &mut Row, out: &mut Parsed) {
    let program_code = r.req_code(c.program);
    let kpi_code = r.req_code(c.kpi);
    let weight = r.req(c.weight, fields::share);
    let grade = r
        .opt(c.grade, |s| {
            EvidenceGrade::parse(s).ok_or_else(|| {
                not_allowed(
                    s,
                    "エビデンス水準",
                    "evidence grade",
                    "A（causal）, B（correlational）, C（logic_model）, D（claimed）",
                )
            })
        })
        .unwrap_or_default();
    if let (true, Some(weight)) = (r.ok, weight) {
        out.ds.links.push(KpiLink {
            program_code,
            kpi_code,
            weight,
            rationale: r.text(c.rationale),
            evidence_grade: grade,
        });
        out.rows.links.push(r.n);
    }
}

fn indicator_row(c: &IndicatorCols, r: &mut Row, out: &mut Parsed) {
    let program_code = r.req_code(c.program);
    let code = r.req_code(c.code);
    let kind = r.req(c.kind, |s| {
        IndicatorKind::parse(s).ok_or_else(|| {
            not_allowed(
                s,
                "指標区分",
                "indicator kind",
                "activity（活動指標）, outcome（成果指標）",
            )
        })
    });
    let name_ja = r.req_text(c.name_ja);
    let unit = r.text(c.unit);
    let fy = r.req(c.fy, fields::fiscal_year);
    let target = r.number(c.target);
    let actual = r.number(c.actual);
    if let (true, Some(kind), Some(fy)) = (r.ok, kind, fy) {
        out.ds.indicators.push(ProgramIndicator {
            program_code,
            code,
            kind,
            name_ja,
            unit,
            fy,
            target,
            actual,
        });
        out.rows.indicators.push(r.n);
    }
}

fn money_row(c: &MoneyCols, r: &mut Row, out: &mut Parsed) {
    let program_code = r.req_code(c.program);
    let fy = r.req(c.fy, fields::fiscal_year);
    let scale = c.initial.scale;
    let budget_initial = r.req(c.initial, |s| yen(s, scale));
    let budget_revised = r.yen(c.revised);
    let settled = r.yen(c.settled);
    let funding = FundingSources {
        national: r.yen(c.national).unwrap_or(0),
        prefectural: r.yen(c.prefectural).unwrap_or(0),
        bonds: r.yen(c.bonds).unwrap_or(0),
        other: r.yen(c.other).unwrap_or(0),
        general: r.yen(c.general).unwrap_or(0),
    };
    let staff_fte = r.number(c.fte).unwrap_or(0.0);
    let staff_unit_cost = r.yen(c.unit_cost).unwrap_or(0);
    let output_quantity = r.number(c.output);
    if let (true, Some(fy), Some(budget_initial)) = (r.ok, fy, budget_initial) {
        out.ds.money.push(ProgramMoney {
            program_code,
            fy,
            budget_initial,
            budget_revised,
            settled,
            funding,
            staff_fte,
            staff_unit_cost,
            output_quantity,
        });
        out.rows.money.push(r.n);
    }
}
