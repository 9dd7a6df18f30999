//! Loaders: rows → domain types, in a stable order (by natural key).

use std::collections::HashMap;

use citykpi_domain::kpi::{Kpi, NodeLink, SdgTag, YearValue};
use citykpi_domain::money::{FundingSources, ProgramMoney};
use citykpi_domain::observation::Observation;
use citykpi_domain::org::{Department, Section, User};
use citykpi_domain::plan::{Plan, PlanNode};
use citykpi_domain::program::{IndicatorKind, KpiLink, Program, ProgramIndicator};
use citykpi_domain::{FiscalYear, KnownKeys};

use crate::codec::{
    direction_from_columns, enum_from_text, fy, json_from_text, observation_key, opt_fy,
    period_from_text, status_from_text, value_from_columns,
};
use crate::conn::{Conn, run};
use crate::error::{Entity, Result, StoreError};

fn small_int<T: TryFrom<i64>>(entity: Entity, key: &str, field: &str, v: i64) -> Result<T> {
    T::try_from(v).map_err(|_| StoreError::invalid(entity, key, format!("{field} = {v}")))
}

#[derive(sqlx::FromRow)]
struct DepartmentRow {
    code: String,
    name_ja: String,
    name_en: String,
    sort_order: i64,
}

pub(crate) async fn departments(conn: &mut Conn<'_>) -> Result<Vec<Department>> {
    let rows: Vec<DepartmentRow> = run!(
        conn,
        sqlx::query_as("SELECT code, name_ja, name_en, sort_order FROM departments ORDER BY code"),
        fetch_all
    )?;
    rows.into_iter()
        .map(|r| {
            Ok(Department {
                sort_order: small_int(Entity::Department, &r.code, "sort_order", r.sort_order)?,
                code: r.code,
                name_ja: r.name_ja,
                name_en: r.name_en,
            })
        })
        .collect()
}

#[derive(sqlx::FromRow)]
struct SectionRow {
    code: String,
    department_code: String,
    name_ja: String,
    name_en: String,
    sort_order: i64,
}

pub(crate) async fn sections(conn: &mut Conn<'_>) -> Result<Vec<Section>> {
    let rows: Vec<SectionRow> = run!(
        conn,
        sqlx::query_as(
            "SELECT code, department_code, name_ja, name_en, sort_order FROM sections ORDER BY code"
        ),
        fetch_all
    )?;
    rows.into_iter()
        .map(|r| {
            Ok(Section {
                sort_order: small_int(Entity::Section, &r.code, "sort_order", r.sort_order)?,
                code: r.code,
                department_code: r.department_code,
                name_ja: r.name_ja,
                name_en: r.name_en,
            })
        })
        .collect()
}

#[derive(sqlx::FromRow)]
struct UserRow {
    login: String,
    display_name: String,
    email: Option<String>,
    section_code: String,
    role: String,
    password_hash: Option<String>,
    active: bool,
}

const USER_COLUMNS: &str =
    "SELECT login, display_name, email, section_code, role, password_hash, active FROM users";

fn user_from_row(r: UserRow) -> Result<User> {
    Ok(User {
        role: enum_from_text(Entity::User, &r.login, "role", &r.role)?,
        login: r.login,
        display_name: r.display_name,
        email: r.email,
        section_code: r.section_code,
        password_hash: r.password_hash,
        active: r.active,
    })
}

pub(crate) async fn users(conn: &mut Conn<'_>) -> Result<Vec<User>> {
    let sql = format!("{USER_COLUMNS} ORDER BY login");
    let rows: Vec<UserRow> = run!(conn, sqlx::query_as(&sql), fetch_all)?;
    rows.into_iter().map(user_from_row).collect()
}

pub(crate) async fn user(conn: &mut Conn<'_>, login: &str) -> Result<Option<User>> {
    let sql = format!("{USER_COLUMNS} WHERE login = $1");
    let row: Option<UserRow> = run!(conn, sqlx::query_as(&sql).bind(login), fetch_optional)?;
    row.map(user_from_row).transpose()
}

#[derive(sqlx::FromRow)]
struct PlanRow {
    code: String,
    name_ja: String,
    name_en: String,
    start_fy: i64,
    end_fy: i64,
    level_names: String,
    thresholds: String,
    rollup: String,
    published: bool,
}

pub(crate) async fn plans(conn: &mut Conn<'_>) -> Result<Vec<Plan>> {
    let rows: Vec<PlanRow> = run!(
        conn,
        sqlx::query_as(
            "SELECT code, name_ja, name_en, start_fy, end_fy, level_names, thresholds, rollup, published \
             FROM plans ORDER BY code"
        ),
        fetch_all
    )?;
    rows.into_iter()
        .map(|r| {
            let e = Entity::Plan;
            Ok(Plan {
                start_fy: fy(e, &r.code, r.start_fy)?,
                end_fy: fy(e, &r.code, r.end_fy)?,
                level_names: json_from_text(e, &r.code, "level_names", &r.level_names)?,
                thresholds: json_from_text(e, &r.code, "thresholds", &r.thresholds)?,
                rollup: enum_from_text(e, &r.code, "rollup", &r.rollup)?,
                published: r.published,
                code: r.code,
                name_ja: r.name_ja,
                name_en: r.name_en,
            })
        })
        .collect()
}

#[derive(sqlx::FromRow)]
struct PlanNodeRow {
    code: String,
    plan_code: String,
    parent_code: Option<String>,
    level: i64,
    name_ja: String,
    name_en: String,
    sort_order: i64,
    weight: Option<f64>,
}

pub(crate) async fn plan_nodes(conn: &mut Conn<'_>) -> Result<Vec<PlanNode>> {
    let rows: Vec<PlanNodeRow> = run!(
        conn,
        sqlx::query_as(
            "SELECT code, plan_code, parent_code, level, name_ja, name_en, sort_order, weight \
             FROM plan_nodes ORDER BY code"
        ),
        fetch_all
    )?;
    rows.into_iter()
        .map(|r| {
            let e = Entity::PlanNode;
            Ok(PlanNode {
                level: small_int(e, &r.code, "level", r.level)?,
                sort_order: small_int(e, &r.code, "sort_order", r.sort_order)?,
                code: r.code,
                plan_code: r.plan_code,
                parent_code: r.parent_code,
                name_ja: r.name_ja,
                name_en: r.name_en,
                weight: r.weight,
            })
        })
        .collect()
}

#[derive(sqlx::FromRow)]
struct KpiRow {
    id: i64,
    code: String,
    name_ja: String,
    name_en: String,
    unit: String,
    direction: String,
    band_lower: Option<f64>,
    band_upper: Option<f64>,
    frequency: String,
    baseline_fy: Option<i64>,
    baseline_value: Option<f64>,
    final_fy: Option<i64>,
    final_value: Option<f64>,
    source: String,
    publication_lag_years: i64,
    description: String,
    published: bool,
    version: i64,
    status_basis: Option<String>,
}

#[derive(sqlx::FromRow)]
struct KpiTargetRow {
    kpi_id: i64,
    fy: i64,
    value: f64,
}

#[derive(sqlx::FromRow)]
struct KpiOwnerRow {
    kpi_id: i64,
    section_code: String,
}

#[derive(sqlx::FromRow)]
struct KpiNodeRow {
    kpi_id: i64,
    node_code: String,
    weight: Option<f64>,
}

#[derive(sqlx::FromRow)]
struct KpiSdgRow {
    kpi_id: i64,
    goal: i64,
    target: Option<String>,
}

fn year_value(key: &str, year: Option<i64>, value: Option<f64>) -> Result<Option<YearValue>> {
    match (year, value) {
        (Some(y), Some(value)) => Ok(Some(YearValue {
            fy: fy(Entity::Kpi, key, y)?,
            value,
        })),
        (None, None) => Ok(None),
        _ => Err(StoreError::invalid(Entity::Kpi, key, "year without value")),
    }
}

/// Child rows of one KPI (`single`) or of all, in their stored order.
async fn children<T>(conn: &mut Conn<'_>, select: &str, single: Option<i64>) -> Result<Vec<T>>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin,
{
    Ok(match single {
        Some(id) => {
            let sql = format!("{select} WHERE kpi_id = $1 ORDER BY position");
            run!(conn, sqlx::query_as::<_, T>(&sql).bind(id), fetch_all)?
        }
        None => {
            let sql = format!("{select} ORDER BY kpi_id, position");
            run!(conn, sqlx::query_as::<_, T>(&sql), fetch_all)?
        }
    })
}

/// A KPI as stored, with its version.
pub(crate) struct StoredKpi {
    pub version: i64,
    pub kpi: Kpi,
}

/// All KPIs (or the one with `code`), children included, ordered by code.
pub(crate) async fn kpis(conn: &mut Conn<'_>, code: Option<&str>) -> Result<Vec<StoredKpi>> {
    let base = "SELECT id, code, name_ja, name_en, unit, direction, band_lower, band_upper, frequency, \
                baseline_fy, baseline_value, final_fy, final_value, source, publication_lag_years, \
                description, published, version, status_basis FROM kpis";
    let rows: Vec<KpiRow> = match code {
        Some(code) => {
            let sql = format!("{base} WHERE code = $1");
            run!(conn, sqlx::query_as(&sql).bind(code), fetch_all)?
        }
        None => {
            let sql = format!("{base} ORDER BY code");
            run!(conn, sqlx::query_as(&sql), fetch_all)?
        }
    };
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    // Children of one KPI or of all; the filter keeps single lookups cheap.
    let single = code.and(rows.first().map(|r| r.id));
    let targets: Vec<KpiTargetRow> =
        children(conn, "SELECT kpi_id, fy, value FROM kpi_targets", single).await?;
    let owners: Vec<KpiOwnerRow> =
        children(conn, "SELECT kpi_id, section_code FROM kpi_owners", single).await?;
    let nodes: Vec<KpiNodeRow> = children(
        conn,
        "SELECT kpi_id, node_code, weight FROM kpi_nodes",
        single,
    )
    .await?;
    let sdgs: Vec<KpiSdgRow> =
        children(conn, "SELECT kpi_id, goal, target FROM kpi_sdgs", single).await?;

    let mut out = Vec::with_capacity(rows.len());
    let mut index = HashMap::with_capacity(rows.len());
    for r in rows {
        let key = r.code.as_str();
        // NULL: the default of the KPI's frequency.
        let status_basis = match r.status_basis.as_deref() {
            None | Some("") => None,
            Some(b) => Some(enum_from_text(Entity::Kpi, key, "status_basis", b)?),
        };
        let kpi = Kpi {
            direction: direction_from_columns(key, &r.direction, r.band_lower, r.band_upper)?,
            frequency: enum_from_text(Entity::Kpi, key, "frequency", &r.frequency)?,
            baseline: year_value(key, r.baseline_fy, r.baseline_value)?,
            final_target: year_value(key, r.final_fy, r.final_value)?,
            publication_lag_years: small_int(
                Entity::Kpi,
                key,
                "publication_lag_years",
                r.publication_lag_years,
            )?,
            targets: Vec::new(),
            owner_sections: Vec::new(),
            nodes: Vec::new(),
            sdgs: Vec::new(),
            code: r.code,
            name_ja: r.name_ja,
            name_en: r.name_en,
            unit: r.unit,
            source: r.source,
            description: r.description,
            published: r.published,
            status_basis,
        };
        index.insert(r.id, out.len());
        out.push(StoredKpi {
            version: r.version,
            kpi,
        });
    }
    for t in targets {
        if let Some(&i) = index.get(&t.kpi_id) {
            let k = &mut out[i];
            let fy = fy(Entity::Kpi, &k.kpi.code, t.fy)?;
            k.kpi.targets.push(YearValue { fy, value: t.value });
        }
    }
    for o in owners {
        if let Some(&i) = index.get(&o.kpi_id) {
            out[i].kpi.owner_sections.push(o.section_code);
        }
    }
    for n in nodes {
        if let Some(&i) = index.get(&n.kpi_id) {
            out[i].kpi.nodes.push(NodeLink {
                node_code: n.node_code,
                weight: n.weight,
            });
        }
    }
    for s in sdgs {
        if let Some(&i) = index.get(&s.kpi_id) {
            let k = &mut out[i];
            let goal = small_int(Entity::Kpi, &k.kpi.code, "sdg goal", s.goal)?;
            k.kpi.sdgs.push(SdgTag {
                goal,
                target: s.target,
            });
        }
    }
    Ok(out)
}

/// Which observations to load. The default loads all of them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObservationFilter {
    /// Only these KPIs; empty = all KPIs.
    pub kpi_codes: Vec<String>,
    /// First fiscal year included (by the period's fiscal year).
    pub from_fy: Option<FiscalYear>,
    /// Last fiscal year included.
    pub to_fy: Option<FiscalYear>,
    /// Only this area (6-digit local-government code).
    pub area_code: Option<String>,
    /// `Some(true)`: only confirmed values (what may be published);
    /// `Some(false)`: only those awaiting confirmation; `None`: both.
    pub confirmed: Option<bool>,
}

impl ObservationFilter {
    pub fn all() -> Self {
        Self::default()
    }
    pub fn kpis<I, S>(mut self, codes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.kpi_codes = codes.into_iter().map(Into::into).collect();
        self
    }
    pub fn years(mut self, from: Option<FiscalYear>, to: Option<FiscalYear>) -> Self {
        self.from_fy = from;
        self.to_fy = to;
        self
    }
    pub fn area(mut self, area_code: impl Into<String>) -> Self {
        self.area_code = Some(area_code.into());
        self
    }
    /// Only confirmed values: what the public portal and open data show.
    pub fn confirmed_only(mut self) -> Self {
        self.confirmed = Some(true);
        self
    }
}

#[derive(sqlx::FromRow)]
struct ObservationRow {
    kpi_code: String,
    period: String,
    area_code: String,
    value: Option<f64>,
    value_kind: String,
    status: String,
    source: String,
    note: String,
    entered_by: String,
    entered_at: String,
    confirmed_by: String,
    confirmed_at: String,
    version: i64,
}

const OBSERVATION_SELECT: &str = "SELECT k.code AS kpi_code, o.period, o.area_code, o.value, o.value_kind, \
     o.status, o.source, o.note, o.entered_by, o.entered_at, o.confirmed_by, o.confirmed_at, \
     o.version FROM observations o JOIN kpis k ON k.id = o.kpi_id";

fn observation_from_row(r: ObservationRow) -> Result<Observation> {
    Ok(observation_with_version(r)?.0)
}

fn observation_with_version(r: ObservationRow) -> Result<(Observation, i64)> {
    let period = period_from_text(&r.kpi_code, &r.period)?;
    let key = || observation_key(&r.kpi_code, period, &r.area_code);
    let value = value_from_columns(&key(), r.value, &r.value_kind)?;
    let status = status_from_text(&key(), &r.status)?;
    let version = r.version;
    let o = Observation {
        kpi_code: r.kpi_code,
        period,
        area_code: r.area_code,
        value,
        status,
        source: r.source,
        note: r.note,
        entered_by: r.entered_by,
        entered_at: r.entered_at,
        confirmed_by: r.confirmed_by,
        confirmed_at: r.confirmed_at,
    };
    Ok((o, version))
}

/// Observations ordered by KPI code, fiscal year, period text and area.
pub(crate) async fn observations(
    conn: &mut Conn<'_>,
    filter: &ObservationFilter,
) -> Result<Vec<Observation>> {
    let mut sql = String::from(OBSERVATION_SELECT);
    let mut conditions: Vec<String> = Vec::new();
    let mut n = 0;
    let mut next = || {
        n += 1;
        format!("${n}")
    };
    if !filter.kpi_codes.is_empty() {
        let list: Vec<String> = filter.kpi_codes.iter().map(|_| next()).collect();
        conditions.push(format!("k.code IN ({})", list.join(", ")));
    }
    if filter.from_fy.is_some() {
        conditions.push(format!("o.fiscal_year >= {}", next()));
    }
    if filter.to_fy.is_some() {
        conditions.push(format!("o.fiscal_year <= {}", next()));
    }
    if filter.area_code.is_some() {
        conditions.push(format!("o.area_code = {}", next()));
    }
    match filter.confirmed {
        Some(true) => conditions.push("o.confirmed_by <> ''".into()),
        Some(false) => conditions.push("o.confirmed_by = ''".into()),
        None => {}
    }
    if !conditions.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conditions.join(" AND "));
    }
    sql.push_str(" ORDER BY k.code, o.fiscal_year, o.period, o.area_code");

    macro_rules! bound {
        ($q:expr) => {{
            let mut q = $q;
            for code in &filter.kpi_codes {
                q = q.bind(code.as_str());
            }
            if let Some(fy) = filter.from_fy {
                q = q.bind(i64::from(fy.year()));
            }
            if let Some(fy) = filter.to_fy {
                q = q.bind(i64::from(fy.year()));
            }
            if let Some(area) = &filter.area_code {
                q = q.bind(area.as_str());
            }
            q
        }};
    }
    let rows: Vec<ObservationRow> = run!(conn, bound!(sqlx::query_as(&sql)), fetch_all)?;
    rows.into_iter().map(observation_from_row).collect()
}

/// One observation with its version (for the edit check and confirmation).
pub(crate) async fn observation_versioned(
    conn: &mut Conn<'_>,
    kpi_id: i64,
    period: &str,
    area_code: &str,
) -> Result<Option<(Observation, i64)>> {
    let sql =
        format!("{OBSERVATION_SELECT} WHERE o.kpi_id = $1 AND o.period = $2 AND o.area_code = $3");
    let row: Option<ObservationRow> = run!(
        conn,
        sqlx::query_as(&sql)
            .bind(kpi_id)
            .bind(period)
            .bind(area_code),
        fetch_optional
    )?;
    row.map(observation_with_version).transpose()
}

/// The version of each stored actual of a KPI in one area, by period.
pub(crate) async fn observation_versions(
    conn: &mut Conn<'_>,
    kpi_code: &str,
    area_code: &str,
) -> Result<Vec<(String, i64)>> {
    Ok(run!(
        conn,
        sqlx::query_as::<_, (String, i64)>(
            "SELECT o.period, o.version FROM observations o JOIN kpis k ON k.id = o.kpi_id \
             WHERE k.code = $1 AND o.area_code = $2 ORDER BY o.period"
        )
        .bind(kpi_code)
        .bind(area_code),
        fetch_all
    )?)
}

#[derive(sqlx::FromRow)]
struct ProgramRow {
    code: String,
    name_ja: String,
    name_en: String,
    section_code: String,
    purpose: String,
    target_group: String,
    intent: String,
    means: String,
    delivery: String,
    legal_basis: String,
    start_fy: Option<i64>,
    end_fy: Option<i64>,
    mandatory: bool,
    published: bool,
    version: i64,
}

/// All programs (or the one with `code`) with their versions, ordered by code.
pub(crate) async fn programs(
    conn: &mut Conn<'_>,
    code: Option<&str>,
) -> Result<Vec<(Program, i64)>> {
    let base = "SELECT code, name_ja, name_en, section_code, purpose, target_group, intent, means, \
                delivery, legal_basis, start_fy, end_fy, mandatory, published, version FROM programs";
    let rows: Vec<ProgramRow> = match code {
        Some(code) => {
            let sql = format!("{base} WHERE code = $1");
            run!(conn, sqlx::query_as(&sql).bind(code), fetch_all)?
        }
        None => {
            let sql = format!("{base} ORDER BY code");
            run!(conn, sqlx::query_as(&sql), fetch_all)?
        }
    };
    rows.into_iter()
        .map(|r| {
            let e = Entity::Program;
            let program = Program {
                delivery: enum_from_text(e, &r.code, "delivery", &r.delivery)?,
                start_fy: opt_fy(e, &r.code, r.start_fy)?,
                end_fy: opt_fy(e, &r.code, r.end_fy)?,
                code: r.code,
                name_ja: r.name_ja,
                name_en: r.name_en,
                section_code: r.section_code,
                purpose: r.purpose,
                target_group: r.target_group,
                intent: r.intent,
                means: r.means,
                legal_basis: r.legal_basis,
                mandatory: r.mandatory,
                published: r.published,
            };
            Ok((program, r.version))
        })
        .collect()
}

#[derive(sqlx::FromRow)]
struct LinkRow {
    program_code: String,
    kpi_code: String,
    weight: f64,
    rationale: String,
    evidence_grade: String,
}

pub(crate) async fn links(conn: &mut Conn<'_>) -> Result<Vec<KpiLink>> {
    let rows: Vec<LinkRow> = run!(
        conn,
        sqlx::query_as(
            "SELECT program_code, kpi_code, weight, rationale, evidence_grade FROM kpi_links \
             ORDER BY program_code, kpi_code"
        ),
        fetch_all
    )?;
    rows.into_iter()
        .map(|r| {
            let key = format!("{}/{}", r.program_code, r.kpi_code);
            Ok(KpiLink {
                evidence_grade: enum_from_text(
                    Entity::KpiLink,
                    &key,
                    "evidence_grade",
                    &r.evidence_grade,
                )?,
                program_code: r.program_code,
                kpi_code: r.kpi_code,
                weight: r.weight,
                rationale: r.rationale,
            })
        })
        .collect()
}

/// The stored year numbers of `years`; all years when None.
fn year_bounds(years: Option<(FiscalYear, FiscalYear)>) -> (i64, i64) {
    years.map_or((i64::MIN, i64::MAX), |(from, to)| {
        (i64::from(from.year()), i64::from(to.year()))
    })
}

#[derive(sqlx::FromRow)]
struct IndicatorRow {
    program_code: String,
    code: String,
    fy: i64,
    kind: String,
    name_ja: String,
    unit: String,
    target: Option<f64>,
    actual: Option<f64>,
}

/// Program indicators, all or those of the fiscal years `years` (first and
/// last included) and of one kind, ordered by (program, indicator code,
/// fiscal year).
pub(crate) async fn indicators(
    conn: &mut Conn<'_>,
    years: Option<(FiscalYear, FiscalYear)>,
    kind: Option<IndicatorKind>,
) -> Result<Vec<ProgramIndicator>> {
    let (from, to) = year_bounds(years);
    let rows: Vec<IndicatorRow> = run!(
        conn,
        sqlx::query_as(
            "SELECT program_code, code, fy, kind, name_ja, unit, target, actual FROM program_indicators \
             WHERE fy BETWEEN $1 AND $2 AND ($3 IS NULL OR kind = $3) \
             ORDER BY program_code, code, fy"
        )
        .bind(from)
        .bind(to)
        .bind(kind.map(IndicatorKind::as_str)),
        fetch_all
    )?;
    rows.into_iter()
        .map(|r| {
            let key = format!("{}/{}/{}", r.program_code, r.code, r.fy);
            let e = Entity::Indicator;
            Ok(ProgramIndicator {
                kind: enum_from_text(e, &key, "kind", &r.kind)?,
                fy: fy(e, &key, r.fy)?,
                program_code: r.program_code,
                code: r.code,
                name_ja: r.name_ja,
                unit: r.unit,
                target: r.target,
                actual: r.actual,
            })
        })
        .collect()
}

#[derive(sqlx::FromRow)]
struct MoneyRow {
    program_code: String,
    fy: i64,
    budget_initial: i64,
    budget_revised: Option<i64>,
    settled: Option<i64>,
    funding_national: i64,
    funding_prefectural: i64,
    funding_bonds: i64,
    funding_other: i64,
    funding_general: i64,
    staff_fte: f64,
    staff_unit_cost: i64,
    output_quantity: Option<f64>,
}

const MONEY_SELECT: &str = "SELECT program_code, fy, budget_initial, budget_revised, settled, \
     funding_national, funding_prefectural, funding_bonds, funding_other, funding_general, \
     staff_fte, staff_unit_cost, output_quantity FROM program_money";

fn money_from_row(r: MoneyRow) -> Result<ProgramMoney> {
    let key = format!("{}/{}", r.program_code, r.fy);
    Ok(ProgramMoney {
        fy: fy(Entity::Money, &key, r.fy)?,
        program_code: r.program_code,
        budget_initial: r.budget_initial,
        budget_revised: r.budget_revised,
        settled: r.settled,
        funding: FundingSources {
            national: r.funding_national,
            prefectural: r.funding_prefectural,
            bonds: r.funding_bonds,
            other: r.funding_other,
            general: r.funding_general,
        },
        staff_fte: r.staff_fte,
        staff_unit_cost: r.staff_unit_cost,
        output_quantity: r.output_quantity,
    })
}

/// Program money, all or that of the fiscal years `years` (first and last
/// included), ordered by (program, fiscal year).
pub(crate) async fn money(
    conn: &mut Conn<'_>,
    years: Option<(FiscalYear, FiscalYear)>,
) -> Result<Vec<ProgramMoney>> {
    let (from, to) = year_bounds(years);
    let sql = format!("{MONEY_SELECT} WHERE fy BETWEEN $1 AND $2 ORDER BY program_code, fy");
    let rows: Vec<MoneyRow> = run!(conn, sqlx::query_as(&sql).bind(from).bind(to), fetch_all)?;
    rows.into_iter().map(money_from_row).collect()
}

pub(crate) async fn money_one(
    conn: &mut Conn<'_>,
    program_code: &str,
    fy: FiscalYear,
) -> Result<Option<ProgramMoney>> {
    let sql = format!("{MONEY_SELECT} WHERE program_code = $1 AND fy = $2");
    let row: Option<MoneyRow> = run!(
        conn,
        sqlx::query_as(&sql)
            .bind(program_code)
            .bind(i64::from(fy.year())),
        fetch_optional
    )?;
    row.map(money_from_row).transpose()
}

async fn codes(conn: &mut Conn<'_>, sql: &str) -> Result<Vec<String>> {
    Ok(run!(conn, sqlx::query_scalar::<_, String>(sql), fetch_all)?)
}

pub(crate) async fn known_keys(conn: &mut Conn<'_>) -> Result<KnownKeys> {
    Ok(KnownKeys {
        departments: codes(conn, "SELECT code FROM departments")
            .await?
            .into_iter()
            .collect(),
        sections: codes(conn, "SELECT code FROM sections")
            .await?
            .into_iter()
            .collect(),
        users: codes(conn, "SELECT login FROM users")
            .await?
            .into_iter()
            .collect(),
        plans: codes(conn, "SELECT code FROM plans")
            .await?
            .into_iter()
            .collect(),
        plan_nodes: codes(conn, "SELECT code FROM plan_nodes")
            .await?
            .into_iter()
            .collect(),
        kpis: codes(conn, "SELECT code FROM kpis")
            .await?
            .into_iter()
            .collect(),
        programs: codes(conn, "SELECT code FROM programs")
            .await?
            .into_iter()
            .collect(),
    })
}

/// KPI code → integer id, for resolving observations.
pub(crate) async fn kpi_ids(conn: &mut Conn<'_>) -> Result<HashMap<String, i64>> {
    let rows: Vec<(String, i64)> = run!(
        conn,
        sqlx::query_as::<_, (String, i64)>("SELECT code, id FROM kpis"),
        fetch_all
    )?;
    Ok(rows.into_iter().collect())
}
