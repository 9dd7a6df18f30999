//! `Store::apply`: a whole dataset in one transaction, upserting by natural key.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;

use citykpi_domain::{Dataset, KnownKeys};
use serde::{Deserialize, Serialize};

use crate::conn::Conn;
use crate::error::{Entity, Result, StoreError};
use crate::{observations, read, write};

/// What happened to one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Inserted,
    Updated,
    /// The stored record already equalled the given one; nothing was written.
    Unchanged,
}

/// Records inserted, updated and left unchanged, for one kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
}

impl Counts {
    fn add(&mut self, change: Change) {
        match change {
            Change::Inserted => self.inserted += 1,
            Change::Updated => self.updated += 1,
            Change::Unchanged => self.unchanged += 1,
        }
    }
    pub fn total(&self) -> u64 {
        self.inserted + self.updated + self.unchanged
    }
}

/// Per-kind counts of one `apply`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplySummary {
    pub departments: Counts,
    pub sections: Counts,
    pub users: Counts,
    pub plans: Counts,
    pub plan_nodes: Counts,
    pub kpis: Counts,
    pub observations: Counts,
    pub programs: Counts,
    pub links: Counts,
    pub indicators: Counts,
    pub money: Counts,
}

impl ApplySummary {
    /// (kind, counts) in the order of `Dataset::counts`.
    pub fn per_kind(&self) -> [(&'static str, Counts); 11] {
        [
            ("departments", self.departments),
            ("sections", self.sections),
            ("users", self.users),
            ("plans", self.plans),
            ("plan_nodes", self.plan_nodes),
            ("kpis", self.kpis),
            ("observations", self.observations),
            ("programs", self.programs),
            ("links", self.links),
            ("indicators", self.indicators),
            ("money", self.money),
        ]
    }
    pub fn inserted(&self) -> u64 {
        self.per_kind().iter().map(|(_, c)| c.inserted).sum()
    }
    pub fn updated(&self) -> u64 {
        self.per_kind().iter().map(|(_, c)| c.updated).sum()
    }
    pub fn unchanged(&self) -> u64 {
        self.per_kind().iter().map(|(_, c)| c.unchanged).sum()
    }
}

/// Compares a given record with the stored one (tracked in `stored`, which
/// is updated so that a key repeated in the dataset is judged against its
/// previous occurrence).
fn classify<K: Eq + Hash, T: PartialEq + Clone>(
    stored: &mut HashMap<K, T>,
    key: K,
    new: &T,
) -> Change {
    let change = match stored.get(&key) {
        None => Change::Inserted,
        Some(old) if old == new => Change::Unchanged,
        Some(_) => Change::Updated,
    };
    if change != Change::Unchanged {
        stored.insert(key, new.clone());
    }
    change
}

/// Rows for one batched upsert; a key given twice keeps its last row
/// (PostgreSQL refuses to update one row twice in one statement).
struct Batch<'a, K> {
    position: HashMap<K, usize>,
    rows: Vec<(String, Vec<write::Val<'a>>)>,
}

impl<'a, K: Eq + Hash> Batch<'a, K> {
    fn new() -> Self {
        Batch {
            position: HashMap::new(),
            rows: Vec::new(),
        }
    }
    fn push(&mut self, key: K, row: (String, Vec<write::Val<'a>>)) {
        match self.position.get(&key) {
            Some(&i) => self.rows[i] = row,
            None => {
                self.position.insert(key, self.rows.len());
                self.rows.push(row);
            }
        }
    }
}

fn by_key<K: Eq + Hash, T>(items: Vec<T>, key: impl Fn(&T) -> K) -> HashMap<K, T> {
    items.into_iter().map(|t| (key(&t), t)).collect()
}

fn missing(entity: Entity, key: &str, target: Entity, target_key: &str) -> StoreError {
    StoreError::MissingReference {
        entity,
        key: key.to_string(),
        target,
        target_key: target_key.to_string(),
    }
}

/// Every code a record refers to must exist in the database or in the
/// dataset itself. Checked before writing so that the error names the record
/// and the missing code (SQLite's own message is only "FOREIGN KEY constraint
/// failed"). Observations are checked when their KPI codes are resolved.
fn check_references(ds: &Dataset, known: &KnownKeys) -> Result<()> {
    for s in &ds.sections {
        if !known.departments.contains(&s.department_code) {
            return Err(missing(
                Entity::Section,
                &s.code,
                Entity::Department,
                &s.department_code,
            ));
        }
    }
    for u in &ds.users {
        if !known.sections.contains(&u.section_code) {
            return Err(missing(
                Entity::User,
                &u.login,
                Entity::Section,
                &u.section_code,
            ));
        }
    }
    for n in &ds.plan_nodes {
        if !known.plans.contains(&n.plan_code) {
            return Err(missing(
                Entity::PlanNode,
                &n.code,
                Entity::Plan,
                &n.plan_code,
            ));
        }
        if let Some(parent) = &n.parent_code
            && !known.plan_nodes.contains(parent)
        {
            return Err(missing(Entity::PlanNode, &n.code, Entity::PlanNode, parent));
        }
    }
    for k in &ds.kpis {
        if let Some(s) = k
            .owner_sections
            .iter()
            .find(|s| !known.sections.contains(*s))
        {
            return Err(missing(Entity::Kpi, &k.code, Entity::Section, s));
        }
        if let Some(n) = k
            .nodes
            .iter()
            .find(|n| !known.plan_nodes.contains(&n.node_code))
        {
            return Err(missing(
                Entity::Kpi,
                &k.code,
                Entity::PlanNode,
                &n.node_code,
            ));
        }
    }
    for p in &ds.programs {
        if !known.sections.contains(&p.section_code) {
            return Err(missing(
                Entity::Program,
                &p.code,
                Entity::Section,
                &p.section_code,
            ));
        }
    }
    for l in &ds.links {
        let key = format!("{}/{}", l.program_code, l.kpi_code);
        if !known.programs.contains(&l.program_code) {
            return Err(missing(
                Entity::KpiLink,
                &key,
                Entity::Program,
                &l.program_code,
            ));
        }
        if !known.kpis.contains(&l.kpi_code) {
            return Err(missing(Entity::KpiLink, &key, Entity::Kpi, &l.kpi_code));
        }
    }
    for i in &ds.indicators {
        if !known.programs.contains(&i.program_code) {
            let key = format!("{}/{}/{}", i.program_code, i.code, i.fy);
            return Err(missing(
                Entity::Indicator,
                &key,
                Entity::Program,
                &i.program_code,
            ));
        }
    }
    for m in &ds.money {
        if !known.programs.contains(&m.program_code) {
            let key = format!("{}/{}", m.program_code, m.fy);
            return Err(missing(
                Entity::Money,
                &key,
                Entity::Program,
                &m.program_code,
            ));
        }
    }
    Ok(())
}

/// NaN and infinities cannot be stored faithfully (SQLite turns NaN into
/// NULL), so they are refused rather than silently changed.
pub(crate) fn check_finite(ds: &Dataset) -> Result<()> {
    fn check(entity: Entity, key: &str, field: &str, v: Option<f64>) -> Result<()> {
        match v {
            Some(x) if !x.is_finite() => Err(StoreError::invalid(
                entity,
                key,
                format!("{field} = {x} is not a finite number"),
            )),
            _ => Ok(()),
        }
    }
    for p in &ds.plans {
        let t = &p.thresholds;
        for (field, v) in [
            ("achieved", t.achieved),
            ("on_track", t.on_track),
            ("behind", t.behind),
        ] {
            check(Entity::Plan, &p.code, field, Some(v))?;
        }
    }
    for n in &ds.plan_nodes {
        check(Entity::PlanNode, &n.code, "weight", n.weight)?;
    }
    for k in &ds.kpis {
        check_kpi_finite(k)?;
    }
    for l in &ds.links {
        check(
            Entity::KpiLink,
            &format!("{}/{}", l.program_code, l.kpi_code),
            "weight",
            Some(l.weight),
        )?;
    }
    for i in &ds.indicators {
        let key = format!("{}/{}/{}", i.program_code, i.code, i.fy);
        check(Entity::Indicator, &key, "target", i.target)?;
        check(Entity::Indicator, &key, "actual", i.actual)?;
    }
    for m in &ds.money {
        check_money_finite(m)?;
    }
    Ok(())
}

pub(crate) fn check_kpi_finite(k: &citykpi_domain::kpi::Kpi) -> Result<()> {
    let mut values: Vec<(&str, f64)> = Vec::new();
    if let citykpi_domain::kpi::Direction::Band { lower, upper } = k.direction {
        values.extend([("band lower", lower), ("band upper", upper)]);
    }
    values.extend(k.baseline.map(|b| ("baseline", b.value)));
    values.extend(k.final_target.map(|t| ("final target", t.value)));
    values.extend(k.targets.iter().map(|t| ("target", t.value)));
    values.extend(
        k.nodes
            .iter()
            .filter_map(|n| n.weight.map(|w| ("node weight", w))),
    );
    match values.into_iter().find(|(_, v)| !v.is_finite()) {
        Some((field, v)) => Err(StoreError::invalid(
            Entity::Kpi,
            &k.code,
            format!("{field} = {v} is not a finite number"),
        )),
        None => Ok(()),
    }
}

pub(crate) fn check_money_finite(m: &citykpi_domain::money::ProgramMoney) -> Result<()> {
    let key = format!("{}/{}", m.program_code, m.fy);
    for (field, v) in [
        ("staff_fte", Some(m.staff_fte)),
        ("output_quantity", m.output_quantity),
    ] {
        if let Some(x) = v.filter(|x| !x.is_finite()) {
            return Err(StoreError::invalid(
                Entity::Money,
                &key,
                format!("{field} = {x} is not a finite number"),
            ));
        }
    }
    Ok(())
}

/// Writes `ds` through `conn` (inside the caller's transaction) in dependency order.
pub(crate) async fn apply(conn: &mut Conn<'_>, ds: &Dataset) -> Result<ApplySummary> {
    check_finite(ds)?;
    let mut known = read::known_keys(conn).await?;
    known.extend_from(ds);
    check_references(ds, &known)?;
    let mut sum = ApplySummary::default();

    let mut stored = by_key(read::departments(conn).await?, |d| d.code.clone());
    for d in &ds.departments {
        let change = classify(&mut stored, d.code.clone(), d);
        sum.departments.add(change);
        if change != Change::Unchanged {
            write::department(conn, d).await?;
        }
    }

    let mut stored = by_key(read::sections(conn).await?, |s| s.code.clone());
    for s in &ds.sections {
        let change = classify(&mut stored, s.code.clone(), s);
        sum.sections.add(change);
        if change != Change::Unchanged {
            write::section(conn, s).await?;
        }
    }

    let mut stored = by_key(read::users(conn).await?, |u| u.login.clone());
    for u in &ds.users {
        // A missing hash means "keep the stored one", so compare with that filled in.
        let mut effective = u.clone();
        if effective.password_hash.is_none() {
            effective.password_hash = stored.get(&u.login).and_then(|s| s.password_hash.clone());
        }
        let change = classify(&mut stored, u.login.clone(), &effective);
        sum.users.add(change);
        if change != Change::Unchanged {
            write::user(conn, u).await?;
        }
    }

    let mut stored = by_key(read::plans(conn).await?, |p| p.code.clone());
    for p in &ds.plans {
        let change = classify(&mut stored, p.code.clone(), p);
        sum.plans.add(change);
        if change != Change::Unchanged {
            write::plan(conn, p).await?;
        }
    }

    let mut stored = by_key(read::plan_nodes(conn).await?, |n| n.code.clone());
    for n in parents_first(&ds.plan_nodes, &stored) {
        let change = classify(&mut stored, n.code.clone(), n);
        sum.plan_nodes.add(change);
        if change != Change::Unchanged {
            write::plan_node(conn, n).await?;
        }
    }

    let mut stored = by_key(
        read::kpis(conn, None)
            .await?
            .into_iter()
            .map(|s| s.kpi)
            .collect(),
        |k| k.code.clone(),
    );
    for k in &ds.kpis {
        let change = classify(&mut stored, k.code.clone(), k);
        sum.kpis.add(change);
        if change != Change::Unchanged {
            write::kpi(conn, k, change == Change::Inserted).await?;
        }
    }

    let mut stored = by_key(
        read::programs(conn, None)
            .await?
            .into_iter()
            .map(|(p, _)| p)
            .collect(),
        |p| p.code.clone(),
    );
    let mut batch = Batch::new();
    let mut changed_programs = Vec::new();
    for p in &ds.programs {
        let change = classify(&mut stored, p.code.clone(), p);
        sum.programs.add(change);
        if change != Change::Unchanged {
            batch.push(p.code.clone(), write::program_vals(p));
            changed_programs.push(p);
        }
    }
    let cols = &write::PROGRAM_COLUMNS;
    // All columns but the version come from the row; the version counts edits.
    let update = format!(
        "{}, version = programs.version + 1",
        write::set_excluded(&cols[..cols.len() - 1], &["code"])
    );
    write::batch_upsert(
        conn,
        Entity::Program,
        "programs",
        cols,
        "code",
        &update,
        &batch.rows,
    )
    .await?;
    crate::search::index_programs(conn, &changed_programs).await?;

    let mut stored = by_key(read::links(conn).await?, |l| {
        (l.program_code.clone(), l.kpi_code.clone())
    });
    let mut batch = Batch::new();
    for l in &ds.links {
        let change = classify(&mut stored, (l.program_code.clone(), l.kpi_code.clone()), l);
        sum.links.add(change);
        if change != Change::Unchanged {
            batch.push(
                (l.program_code.clone(), l.kpi_code.clone()),
                write::link_vals(l),
            );
        }
    }
    let key = ["program_code", "kpi_code"];
    let update = write::set_excluded(&write::LINK_COLUMNS, &key);
    let cols = &write::LINK_COLUMNS;
    write::batch_upsert(
        conn,
        Entity::KpiLink,
        "kpi_links",
        cols,
        &key.join(", "),
        &update,
        &batch.rows,
    )
    .await?;

    let mut stored = by_key(read::indicators(conn, None, None).await?, |i| {
        (i.program_code.clone(), i.code.clone(), i.fy)
    });
    let mut batch = Batch::new();
    for i in &ds.indicators {
        let change = classify(
            &mut stored,
            (i.program_code.clone(), i.code.clone(), i.fy),
            i,
        );
        sum.indicators.add(change);
        if change != Change::Unchanged {
            batch.push(
                (i.program_code.clone(), i.code.clone(), i.fy),
                write::indicator_vals(i),
            );
        }
    }
    let key = ["program_code", "code", "fy"];
    let update = write::set_excluded(&write::INDICATOR_COLUMNS, &key);
    let cols = &write::INDICATOR_COLUMNS;
    write::batch_upsert(
        conn,
        Entity::Indicator,
        "program_indicators",
        cols,
        &key.join(", "),
        &update,
        &batch.rows,
    )
    .await?;

    let mut stored = by_key(read::money(conn, None).await?, |m| {
        (m.program_code.clone(), m.fy)
    });
    let mut batch = Batch::new();
    for m in &ds.money {
        let change = classify(&mut stored, (m.program_code.clone(), m.fy), m);
        sum.money.add(change);
        if change != Change::Unchanged {
            batch.push((m.program_code.clone(), m.fy), write::money_vals(m));
        }
    }
    let key = ["program_code", "fy"];
    let update = write::set_excluded(&write::MONEY_COLUMNS, &key);
    let cols = &write::MONEY_COLUMNS;
    write::batch_upsert(
        conn,
        Entity::Money,
        "program_money",
        cols,
        &key.join(", "),
        &update,
        &batch.rows,
    )
    .await?;

    if !ds.observations.is_empty() {
        let kpi_ids = read::kpi_ids(conn).await?;
        sum.observations = observations::write(conn, &ds.observations, &kpi_ids).await?;
    }
    Ok(sum)
}

/// Plan nodes ordered so that each parent is written before its children
/// (foreign keys are checked per statement). Nodes in a cycle keep their
/// given order at the end and fail on the foreign key, which names them.
fn parents_first<'a, T>(
    nodes: &'a [citykpi_domain::plan::PlanNode],
    stored: &HashMap<String, T>,
) -> Vec<&'a citykpi_domain::plan::PlanNode> {
    let mut placed: HashSet<&str> = stored.keys().map(String::as_str).collect();
    let mut out = Vec::with_capacity(nodes.len());
    let mut rest: Vec<&citykpi_domain::plan::PlanNode> = nodes.iter().collect();
    loop {
        let before = rest.len();
        let mut next_rest = Vec::new();
        for n in rest {
            match &n.parent_code {
                Some(p) if !placed.contains(p.as_str()) => next_rest.push(n),
                _ => {
                    placed.insert(n.code.as_str());
                    out.push(n);
                }
            }
        }
        rest = next_rest;
        if rest.is_empty() || rest.len() == before {
            out.extend(rest);
            return out;
        }
    }
}
