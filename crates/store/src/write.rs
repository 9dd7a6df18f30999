//! Upserts of single records by natural key, shared by `apply` and the
//! single-record writes of the web UI. Each runs inside the caller's transaction.

use citykpi_domain::kpi::Kpi;
use citykpi_domain::money::ProgramMoney;
use citykpi_domain::org::{Department, Section, User};
use citykpi_domain::plan::{Plan, PlanNode};
use citykpi_domain::program::{KpiLink, Program, ProgramIndicator};

use crate::codec::{direction_columns, enum_text, json_text};
use crate::conn::{Conn, run};
use crate::error::{Entity, Result, StoreError};

fn fy_i64(fy: citykpi_domain::FiscalYear) -> i64 {
    i64::from(fy.year())
}

pub(crate) async fn department(conn: &mut Conn<'_>, d: &Department) -> Result<()> {
    run!(
        conn,
        sqlx::query(
            "INSERT INTO departments (code, name_ja, name_en, sort_order) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (code) DO UPDATE SET name_ja = excluded.name_ja, name_en = excluded.name_en, \
             sort_order = excluded.sort_order"
        )
        .bind(&d.code)
        .bind(&d.name_ja)
        .bind(&d.name_en)
        .bind(i64::from(d.sort_order)),
        execute
    )
    .map_err(StoreError::write(Entity::Department, &d.code))?;
    Ok(())
}

pub(crate) async fn section(conn: &mut Conn<'_>, s: &Section) -> Result<()> {
    run!(
        conn,
        sqlx::query(
            "INSERT INTO sections (code, department_code, name_ja, name_en, sort_order) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (code) DO UPDATE SET department_code = excluded.department_code, \
             name_ja = excluded.name_ja, name_en = excluded.name_en, sort_order = excluded.sort_order"
        )
        .bind(&s.code)
        .bind(&s.department_code)
        .bind(&s.name_ja)
        .bind(&s.name_en)
        .bind(i64::from(s.sort_order)),
        execute
    )
    .map_err(StoreError::write(Entity::Section, &s.code))?;
    Ok(())
}

/// A user without a password hash keeps the stored one: exports never carry
/// hashes, so re-importing an export must not lock everyone out.
pub(crate) async fn user(conn: &mut Conn<'_>, u: &User) -> Result<()> {
    run!(
        conn,
        sqlx::query(
            "INSERT INTO users (login, display_name, email, section_code, role, password_hash, active) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (login) DO UPDATE SET display_name = excluded.display_name, \
             email = excluded.email, section_code = excluded.section_code, role = excluded.role, \
             password_hash = COALESCE(excluded.password_hash, users.password_hash), \
             active = excluded.active"
        )
        .bind(&u.login)
        .bind(&u.display_name)
        .bind(u.email.as_deref())
        .bind(&u.section_code)
        .bind(enum_text(&u.role))
        .bind(u.password_hash.as_deref())
        .bind(u.active),
        execute
    )
    .map_err(StoreError::write(Entity::User, &u.login))?;
    Ok(())
}

pub(crate) async fn plan(conn: &mut Conn<'_>, p: &Plan) -> Result<()> {
    run!(
        conn,
        sqlx::query(
            "INSERT INTO plans (code, name_ja, name_en, start_fy, end_fy, level_names, thresholds, \
             rollup, published) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (code) DO UPDATE SET name_ja = excluded.name_ja, name_en = excluded.name_en, \
             start_fy = excluded.start_fy, end_fy = excluded.end_fy, level_names = excluded.level_names, \
             thresholds = excluded.thresholds, rollup = excluded.rollup, published = excluded.published"
        )
        .bind(&p.code)
        .bind(&p.name_ja)
        .bind(&p.name_en)
        .bind(fy_i64(p.start_fy))
        .bind(fy_i64(p.end_fy))
        .bind(json_text(&p.level_names))
        .bind(json_text(&p.thresholds))
        .bind(enum_text(&p.rollup))
        .bind(p.published),
        execute
    )
    .map_err(StoreError::write(Entity::Plan, &p.code))?;
    Ok(())
}

pub(crate) async fn plan_node(conn: &mut Conn<'_>, n: &PlanNode) -> Result<()> {
    run!(
        conn,
        sqlx::query(
            "INSERT INTO plan_nodes (code, plan_code, parent_code, level, name_ja, name_en, sort_order, \
             weight) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (code) DO UPDATE SET plan_code = excluded.plan_code, \
             parent_code = excluded.parent_code, level = excluded.level, name_ja = excluded.name_ja, \
             name_en = excluded.name_en, sort_order = excluded.sort_order, weight = excluded.weight"
        )
        .bind(&n.code)
        .bind(&n.plan_code)
        .bind(n.parent_code.as_deref())
        .bind(i64::from(n.level))
        .bind(&n.name_ja)
        .bind(&n.name_en)
        .bind(i64::from(n.sort_order))
        .bind(n.weight),
        execute
    )
    .map_err(StoreError::write(Entity::PlanNode, &n.code))?;
    Ok(())
}

/// Writes a KPI row (version + 1 when it already exists) and replaces its
/// child rows with the ones given. Returns the KPI's integer id.
pub(crate) async fn kpi(conn: &mut Conn<'_>, k: &Kpi) -> Result<i64> {
    let err = || StoreError::write(Entity::Kpi, &k.code);
    let (direction, band_lower, band_upper) = direction_columns(&k.direction);
    let id: i64 = run!(
        conn,
        sqlx::query_scalar::<_, i64>(
            "INSERT INTO kpis (code, name_ja, name_en, unit, direction, band_lower, band_upper, \
             frequency, baseline_fy, baseline_value, final_fy, final_value, source, \
             publication_lag_years, description, published, version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 1) \
             ON CONFLICT (code) DO UPDATE SET name_ja = excluded.name_ja, name_en = excluded.name_en, \
             unit = excluded.unit, direction = excluded.direction, band_lower = excluded.band_lower, \
             band_upper = excluded.band_upper, frequency = excluded.frequency, \
             baseline_fy = excluded.baseline_fy, baseline_value = excluded.baseline_value, \
             final_fy = excluded.final_fy, final_value = excluded.final_value, \
             source = excluded.source, publication_lag_years = excluded.publication_lag_years, \
             description = excluded.description, published = excluded.published, \
             version = kpis.version + 1 \
             RETURNING id"
        )
        .bind(&k.code)
        .bind(&k.name_ja)
        .bind(&k.name_en)
        .bind(&k.unit)
        .bind(direction)
        .bind(band_lower)
        .bind(band_upper)
        .bind(enum_text(&k.frequency))
        .bind(k.baseline.map(|b| fy_i64(b.fy)))
        .bind(k.baseline.map(|b| b.value))
        .bind(k.final_target.map(|t| fy_i64(t.fy)))
        .bind(k.final_target.map(|t| t.value))
        .bind(&k.source)
        .bind(i64::from(k.publication_lag_years))
        .bind(&k.description)
        .bind(k.published),
        fetch_one
    )
    .map_err(err())?;

    for table in ["kpi_targets", "kpi_owners", "kpi_nodes", "kpi_sdgs"] {
        let sql = format!("DELETE FROM {table} WHERE kpi_id = $1");
        run!(conn, sqlx::query(&sql).bind(id), execute).map_err(err())?;
    }
    for (position, t) in (0_i64..).zip(&k.targets) {
        run!(
            conn,
            sqlx::query(
                "INSERT INTO kpi_targets (kpi_id, position, fy, value) VALUES ($1, $2, $3, $4)"
            )
            .bind(id)
            .bind(position)
            .bind(fy_i64(t.fy))
            .bind(t.value),
            execute
        )
        .map_err(err())?;
    }
    for (position, section) in (0_i64..).zip(&k.owner_sections) {
        run!(
            conn,
            sqlx::query(
                "INSERT INTO kpi_owners (kpi_id, position, section_code) VALUES ($1, $2, $3)"
            )
            .bind(id)
            .bind(position)
            .bind(section),
            execute
        )
        .map_err(err())?;
    }
    for (position, node) in (0_i64..).zip(&k.nodes) {
        run!(
            conn,
            sqlx::query(
                "INSERT INTO kpi_nodes (kpi_id, position, node_code, weight) VALUES ($1, $2, $3, $4)"
            )
            .bind(id)
            .bind(position)
            .bind(&node.node_code)
            .bind(node.weight),
            execute
        )
        .map_err(err())?;
    }
    for (position, sdg) in (0_i64..).zip(&k.sdgs) {
        run!(
            conn,
            sqlx::query(
                "INSERT INTO kpi_sdgs (kpi_id, position, goal, target) VALUES ($1, $2, $3, $4)"
            )
            .bind(id)
            .bind(position)
            .bind(i64::from(sdg.goal))
            .bind(sdg.target.as_deref()),
            execute
        )
        .map_err(err())?;
    }
    Ok(id)
}

const PROGRAM_INSERT: &str = "INSERT INTO programs (code, name_ja, name_en, section_code, purpose, \
     target_group, intent, means, delivery, legal_basis, start_fy, end_fy, mandatory, published, version) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 1)";

const PROGRAM_SET: &str = "name_ja = $2, name_en = $3, section_code = $4, purpose = $5, \
     target_group = $6, intent = $7, means = $8, delivery = $9, legal_basis = $10, start_fy = $11, \
     end_fy = $12, mandatory = $13, published = $14, version = programs.version + 1";

macro_rules! bind_program {
    ($q:expr, $p:expr) => {
        $q.bind(&$p.code)
            .bind(&$p.name_ja)
            .bind(&$p.name_en)
            .bind(&$p.section_code)
            .bind(&$p.purpose)
            .bind(&$p.target_group)
            .bind(&$p.intent)
            .bind(&$p.means)
            .bind(enum_text(&$p.delivery))
            .bind(&$p.legal_basis)
            .bind($p.start_fy.map(fy_i64))
            .bind($p.end_fy.map(fy_i64))
            .bind($p.mandatory)
            .bind($p.published)
    };
}

/// Inserts a program or updates it (version + 1).
pub(crate) async fn program(conn: &mut Conn<'_>, p: &Program) -> Result<()> {
    let sql = format!("{PROGRAM_INSERT} ON CONFLICT (code) DO UPDATE SET {PROGRAM_SET}");
    run!(conn, bind_program!(sqlx::query(&sql), p), execute)
        .map_err(StoreError::write(Entity::Program, &p.code))?;
    Ok(())
}

/// Inserts a program that must not exist yet; false when it does.
pub(crate) async fn program_insert_new(conn: &mut Conn<'_>, p: &Program) -> Result<bool> {
    let sql = format!("{PROGRAM_INSERT} ON CONFLICT (code) DO NOTHING");
    let done = run!(conn, bind_program!(sqlx::query(&sql), p), execute)
        .map_err(StoreError::write(Entity::Program, &p.code))?;
    Ok(done == 1)
}

/// Updates a program only if its stored version is still `version`; false otherwise.
pub(crate) async fn program_update_if_version(
    conn: &mut Conn<'_>,
    p: &Program,
    version: i64,
) -> Result<bool> {
    let sql = format!("UPDATE programs SET {PROGRAM_SET} WHERE code = $1 AND version = $15");
    let done = run!(
        conn,
        bind_program!(sqlx::query(&sql), p).bind(version),
        execute
    )
    .map_err(StoreError::write(Entity::Program, &p.code))?;
    Ok(done == 1)
}

pub(crate) async fn link(conn: &mut Conn<'_>, l: &KpiLink) -> Result<()> {
    run!(
        conn,
        sqlx::query(
            "INSERT INTO kpi_links (program_code, kpi_code, weight, rationale, evidence_grade) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (program_code, kpi_code) DO UPDATE SET weight = excluded.weight, \
             rationale = excluded.rationale, evidence_grade = excluded.evidence_grade"
        )
        .bind(&l.program_code)
        .bind(&l.kpi_code)
        .bind(l.weight)
        .bind(&l.rationale)
        .bind(enum_text(&l.evidence_grade)),
        execute
    )
    .map_err(StoreError::write(
        Entity::KpiLink,
        format!("{}/{}", l.program_code, l.kpi_code),
    ))?;
    Ok(())
}

pub(crate) async fn indicator(conn: &mut Conn<'_>, i: &ProgramIndicator) -> Result<()> {
    run!(
        conn,
        sqlx::query(
            "INSERT INTO program_indicators (program_code, code, fy, kind, name_ja, unit, target, actual) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (program_code, code, fy) DO UPDATE SET kind = excluded.kind, \
             name_ja = excluded.name_ja, unit = excluded.unit, target = excluded.target, \
             actual = excluded.actual"
        )
        .bind(&i.program_code)
        .bind(&i.code)
        .bind(fy_i64(i.fy))
        .bind(enum_text(&i.kind))
        .bind(&i.name_ja)
        .bind(&i.unit)
        .bind(i.target)
        .bind(i.actual),
        execute
    )
    .map_err(StoreError::write(
        Entity::Indicator,
        format!("{}/{}/{}", i.program_code, i.code, i.fy),
    ))?;
    Ok(())
}

pub(crate) async fn money(conn: &mut Conn<'_>, m: &ProgramMoney) -> Result<()> {
    run!(
        conn,
        sqlx::query(
            "INSERT INTO program_money (program_code, fy, budget_initial, budget_revised, settled, \
             funding_national, funding_prefectural, funding_bonds, funding_other, funding_general, \
             staff_fte, staff_unit_cost, output_quantity) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
             ON CONFLICT (program_code, fy) DO UPDATE SET budget_initial = excluded.budget_initial, \
             budget_revised = excluded.budget_revised, settled = excluded.settled, \
             funding_national = excluded.funding_national, \
             funding_prefectural = excluded.funding_prefectural, \
             funding_bonds = excluded.funding_bonds, funding_other = excluded.funding_other, \
             funding_general = excluded.funding_general, staff_fte = excluded.staff_fte, \
             staff_unit_cost = excluded.staff_unit_cost, output_quantity = excluded.output_quantity"
        )
        .bind(&m.program_code)
        .bind(fy_i64(m.fy))
        .bind(m.budget_initial)
        .bind(m.budget_revised)
        .bind(m.settled)
        .bind(m.funding.national)
        .bind(m.funding.prefectural)
        .bind(m.funding.bonds)
        .bind(m.funding.other)
        .bind(m.funding.general)
        .bind(m.staff_fte)
        .bind(m.staff_unit_cost)
        .bind(m.output_quantity),
        execute
    )
    .map_err(StoreError::write(Entity::Money, format!("{}/{}", m.program_code, m.fy)))?;
    Ok(())
}
