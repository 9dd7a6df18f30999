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
    if !u.active {
        // A deactivated account keeps no API access, also after it is
        // activated again.
        crate::web::delete_tokens(conn, &u.login).await?;
        // Its sessions end on every server, not only at its next request.
        crate::sessions::delete_user_sessions(conn, &u.login).await?;
    }
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
/// child rows with the ones given. `known_new`: the caller saw no stored KPI
/// with this code, so there are no old child rows to delete. Returns the
/// KPI's integer id.
pub(crate) async fn kpi(conn: &mut Conn<'_>, k: &Kpi, known_new: bool) -> Result<i64> {
    let err = || StoreError::write(Entity::Kpi, &k.code);
    let (direction, band_lower, band_upper) = direction_columns(&k.direction);
    let id: i64 = run!(
        conn,
        sqlx::query_scalar::<_, i64>(
            "INSERT INTO kpis (code, name_ja, name_en, unit, direction, band_lower, band_upper, \
             frequency, baseline_fy, baseline_value, final_fy, final_value, source, \
             publication_lag_years, description, published, status_basis, version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, 1) \
             ON CONFLICT (code) DO UPDATE SET name_ja = excluded.name_ja, name_en = excluded.name_en, \
             unit = excluded.unit, direction = excluded.direction, band_lower = excluded.band_lower, \
             band_upper = excluded.band_upper, frequency = excluded.frequency, \
             baseline_fy = excluded.baseline_fy, baseline_value = excluded.baseline_value, \
             final_fy = excluded.final_fy, final_value = excluded.final_value, \
             source = excluded.source, publication_lag_years = excluded.publication_lag_years, \
             description = excluded.description, published = excluded.published, \
             status_basis = excluded.status_basis, version = kpis.version + 1 \
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
        .bind(k.published)
        .bind(k.status_basis.map(|b| b.as_str())),
        fetch_one
    )
    .map_err(err())?;

    for table in ["kpi_targets", "kpi_owners", "kpi_nodes", "kpi_sdgs"]
        .into_iter()
        .filter(|_| !known_new)
    {
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
    crate::search::index_kpis(conn, &[k]).await?;
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

/// One bound value of a batched row.
pub(crate) enum Val<'a> {
    Int(Option<i64>),
    Float(Option<f64>),
    Text(Option<&'a str>),
    Owned(String),
    Bool(bool),
}

/// Many-row `INSERT … ON CONFLICT (key) DO UPDATE SET update` for the kinds
/// that come by the thousand (programs, links, indicators, money): one
/// statement per few thousand rows instead of one round trip per row.
pub(crate) async fn batch_upsert(
    conn: &mut Conn<'_>,
    entity: Entity,
    table: &str,
    columns: &[&str],
    key: &str,
    update: &str,
    rows: &[(String, Vec<Val<'_>>)],
) -> Result<()> {
    let numbered = matches!(conn, Conn::Pg(_));
    // SQLite's limit on bound parameters; PostgreSQL allows 65535.
    let per_statement = (32_766 / columns.len()).max(1);
    for chunk in rows.chunks(per_statement) {
        let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
        let mut n = 0;
        for (r, _) in chunk.iter().enumerate() {
            sql.push_str(if r == 0 { "(" } else { ",(" });
            for c in 0..columns.len() {
                if c > 0 {
                    sql.push(',');
                }
                n += 1;
                // Anonymous `?` on SQLite: numbered names make its binding quadratic.
                if numbered {
                    sql.push_str(&format!("${n}"));
                } else {
                    sql.push('?');
                }
            }
            sql.push(')');
        }
        sql.push_str(&format!(" ON CONFLICT ({key}) DO UPDATE SET {update}"));
        macro_rules! bound {
            ($q:expr) => {{
                let mut q = $q;
                for (_, row) in chunk {
                    for v in row {
                        q = match v {
                            Val::Int(x) => q.bind(*x),
                            Val::Float(x) => q.bind(*x),
                            Val::Text(x) => q.bind(*x),
                            Val::Owned(x) => q.bind(x.as_str()),
                            Val::Bool(x) => q.bind(*x),
                        };
                    }
                }
                q
            }};
        }
        run!(conn, bound!(sqlx::query(&sql)), execute).map_err(|e| {
            let key = match (chunk.first(), chunk.last()) {
                (Some(a), Some(b)) if chunk.len() > 1 => format!("{} … {}", a.0, b.0),
                (Some(a), _) => a.0.clone(),
                _ => String::new(),
            };
            StoreError::Write {
                entity,
                key,
                source: e,
            }
        })?;
    }
    Ok(())
}

/// `c = excluded.c` for every column that is not part of the key.
pub(crate) fn set_excluded(columns: &[&str], key: &[&str]) -> String {
    columns
        .iter()
        .filter(|c| !key.contains(c))
        .map(|c| format!("{c} = excluded.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) const PROGRAM_COLUMNS: [&str; 15] = [
    "code",
    "name_ja",
    "name_en",
    "section_code",
    "purpose",
    "target_group",
    "intent",
    "means",
    "delivery",
    "legal_basis",
    "start_fy",
    "end_fy",
    "mandatory",
    "published",
    "version",
];

pub(crate) fn program_vals(p: &Program) -> (String, Vec<Val<'_>>) {
    let vals = vec![
        Val::Text(Some(&p.code)),
        Val::Text(Some(&p.name_ja)),
        Val::Text(Some(&p.name_en)),
        Val::Text(Some(&p.section_code)),
        Val::Text(Some(&p.purpose)),
        Val::Text(Some(&p.target_group)),
        Val::Text(Some(&p.intent)),
        Val::Text(Some(&p.means)),
        Val::Owned(enum_text(&p.delivery)),
        Val::Text(Some(&p.legal_basis)),
        Val::Int(p.start_fy.map(fy_i64)),
        Val::Int(p.end_fy.map(fy_i64)),
        Val::Bool(p.mandatory),
        Val::Bool(p.published),
        Val::Int(Some(1)),
    ];
    (p.code.clone(), vals)
}

pub(crate) const LINK_COLUMNS: [&str; 5] = [
    "program_code",
    "kpi_code",
    "weight",
    "rationale",
    "evidence_grade",
];

pub(crate) fn link_vals(l: &KpiLink) -> (String, Vec<Val<'_>>) {
    let vals = vec![
        Val::Text(Some(&l.program_code)),
        Val::Text(Some(&l.kpi_code)),
        Val::Float(Some(l.weight)),
        Val::Text(Some(&l.rationale)),
        Val::Owned(enum_text(&l.evidence_grade)),
    ];
    (format!("{}/{}", l.program_code, l.kpi_code), vals)
}

pub(crate) const INDICATOR_COLUMNS: [&str; 8] = [
    "program_code",
    "code",
    "fy",
    "kind",
    "name_ja",
    "unit",
    "target",
    "actual",
];

pub(crate) fn indicator_vals(i: &ProgramIndicator) -> (String, Vec<Val<'_>>) {
    let vals = vec![
        Val::Text(Some(&i.program_code)),
        Val::Text(Some(&i.code)),
        Val::Int(Some(fy_i64(i.fy))),
        Val::Owned(enum_text(&i.kind)),
        Val::Text(Some(&i.name_ja)),
        Val::Text(Some(&i.unit)),
        Val::Float(i.target),
        Val::Float(i.actual),
    ];
    (format!("{}/{}/{}", i.program_code, i.code, i.fy), vals)
}

pub(crate) const MONEY_COLUMNS: [&str; 13] = [
    "program_code",
    "fy",
    "budget_initial",
    "budget_revised",
    "settled",
    "funding_national",
    "funding_prefectural",
    "funding_bonds",
    "funding_other",
    "funding_general",
    "staff_fte",
    "staff_unit_cost",
    "output_quantity",
];

pub(crate) fn money_vals(m: &ProgramMoney) -> (String, Vec<Val<'_>>) {
    let vals = vec![
        Val::Text(Some(&m.program_code)),
        Val::Int(Some(fy_i64(m.fy))),
        Val::Int(Some(m.budget_initial)),
        Val::Int(m.budget_revised),
        Val::Int(m.settled),
        Val::Int(Some(m.funding.national)),
        Val::Int(Some(m.funding.prefectural)),
        Val::Int(Some(m.funding.bonds)),
        Val::Int(Some(m.funding.other)),
        Val::Int(Some(m.funding.general)),
        Val::Float(Some(m.staff_fte)),
        Val::Int(Some(m.staff_unit_cost)),
        Val::Float(m.output_quantity),
    ];
    (format!("{}/{}", m.program_code, m.fy), vals)
}
