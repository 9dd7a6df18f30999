//! Checks that need more than one cell: duplicate keys within a file,
//! references to codes that exist neither in the database nor in the file,
//! and value rules that JSON input could otherwise slip past.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;

use citykpi_domain::kpi::Direction;
use citykpi_domain::observation::Period;
use citykpi_domain::{Dataset, KnownKeys};

use crate::error::{Problem, Problems};
use crate::import::Resolved;

/// For each record of a [`Dataset`], the row (or JSON record number) it came from.
#[derive(Debug, Default, Clone)]
pub(crate) struct RowRefs {
    pub departments: Vec<usize>,
    pub sections: Vec<usize>,
    pub users: Vec<usize>,
    pub plans: Vec<usize>,
    pub plan_nodes: Vec<usize>,
    pub kpis: Vec<usize>,
    pub observations: Vec<usize>,
    pub programs: Vec<usize>,
    pub links: Vec<usize>,
    pub indicators: Vec<usize>,
    pub money: Vec<usize>,
}

/// Small integer ids for strings that repeat: a million observations name a
/// few hundred KPI codes and areas, and hashing two ids is far cheaper than
/// hashing both strings again for every key.
struct Interner<'a> {
    ids: HashMap<&'a str, u32>,
    names: Vec<&'a str>,
    last: Option<(&'a str, u32)>,
}

impl<'a> Interner<'a> {
    fn new() -> Self {
        Interner {
            ids: HashMap::new(),
            names: Vec::new(),
            last: None,
        }
    }
    fn id(&mut self, s: &'a str) -> u32 {
        if let Some((l, i)) = self.last
            && l == s
        {
            return i;
        }
        let next = self.names.len() as u32;
        let i = *self.ids.entry(s).or_insert(next);
        if i == next {
            self.names.push(s);
        }
        self.last = Some((s, i));
        i
    }
}

/// Period as a small integer, distinct for every period.
fn period_id(p: Period) -> u32 {
    let (y, tag) = match p {
        Period::Year(fy) => (fy.year(), 0),
        Period::Quarter(fy, q) => (fy.year(), u32::from(q)),
        Period::Month(y, m) => (y, 16 + u32::from(m)),
    };
    (y.clamp(0, 1 << 20) as u32) << 5 | tag
}

/// Duplicate (KPI, period, area) keys. Observations are the bulk kind (a
/// million rows), so keys become integer tuples and are sorted rather than
/// hashed: cheaper and cache-friendly.
fn observation_duplicates(
    ds: &Dataset,
    rows: &RowRefs,
    column: &str,
    n: &Naming,
    p: &mut Problems,
) {
    let mut kpi_ids = Interner::new();
    let mut area_ids = Interner::new();
    let mut keys: Vec<(u32, u32, u32, u32)> = ds
        .observations
        .iter()
        .enumerate()
        .map(|(i, o)| {
            (
                kpi_ids.id(&o.kpi_code),
                period_id(o.period),
                area_ids.id(&o.area_code),
                i as u32,
            )
        })
        .collect();
    keys.sort_unstable();
    // (later record, first record) for every repeat, reported in file order.
    let mut repeats: Vec<(usize, usize)> = Vec::new();
    let mut first = 0;
    for i in 1..keys.len() {
        let (a, b) = (keys[i], keys[first]);
        if (a.0, a.1, a.2) == (b.0, b.1, b.2) {
            repeats.push((keys[i].3 as usize, keys[first].3 as usize));
        } else {
            first = i;
        }
    }
    repeats.sort_unstable();
    for (later, earlier) in repeats {
        let (prev, row) = (rows.observations[earlier], rows.observations[later]);
        observation_duplicate(p, &ds.observations[later], prev, row, column, n);
    }
}

/// The problem of an observation whose key an earlier row (`prev`) gave.
pub(crate) fn observation_duplicate(
    p: &mut Problems,
    o: &citykpi_domain::observation::Observation,
    prev: usize,
    row: usize,
    column: &str,
    n: &Naming,
) {
    let (ja, en) = match n {
        Naming::Table(_) => ("行目", "rows"),
        Naming::Json => ("件目", "records"),
    };
    let key = if o.area_code.is_empty() {
        format!("{} / {}", o.kpi_code, o.period)
    } else {
        format!("{} / {} / {}", o.kpi_code, o.period, o.area_code)
    };
    p.push(Problem {
        row: Some(row),
        column: Some(column.to_string()),
        value: Some(key.clone()),
        reason: format!(
            "キー「{key}」が重複しています（{prev}{ja}と{row}{ja}） / duplicate key \"{key}\" ({en} {prev} and {row})"
        ),
    });
}

/// How to name a column in a message: the header as written in a table, or
/// `array.field` in JSON.
pub(crate) enum Naming<'a> {
    Table(&'a Resolved),
    Json,
}

impl Naming<'_> {
    /// `table_key`: the column table's key; `array`/`field`: the JSON names.
    fn name(&self, table_key: &str, array: &str, field: &str) -> String {
        match self {
            Naming::Table(m) => m.name(table_key),
            Naming::Json => format!("{array}.{field}"),
        }
    }
}

/// A set of codes: the database's plus the file's, borrowed for speed.
struct Codes<'a>(HashSet<&'a str>);

impl<'a> Codes<'a> {
    fn new(
        known: &'a std::collections::BTreeSet<String>,
        defined: impl Iterator<Item = &'a str>,
    ) -> Self {
        let mut set: HashSet<&str> = known.iter().map(String::as_str).collect();
        set.extend(defined);
        Codes(set)
    }
    fn has(&self, code: &str) -> bool {
        self.0.contains(code)
    }
}

pub(crate) fn unknown(
    p: &mut Problems,
    row: usize,
    column: String,
    code: &str,
    what_ja: &str,
    what_en: &str,
) {
    p.push(Problem {
        row: Some(row),
        column: Some(column),
        value: Some(code.to_string()),
        reason: format!(
            "{what_ja}「{code}」が登録されていません（データベースにもこのファイルにもありません） / unknown {what_en} \"{code}\" (neither in the database nor in this file)"
        ),
    });
}

/// Reports the second and later records with the same key, naming the first row.
fn duplicates<K: Eq + Hash>(
    p: &mut Problems,
    keys: impl Iterator<Item = K>,
    rows: &[usize],
    column: &str,
    n: &Naming,
    show: impl Fn(&K) -> String,
) {
    let (ja, en) = match n {
        Naming::Table(_) => ("行目", "rows"),
        Naming::Json => ("件目", "records"),
    };
    let mut first: HashMap<K, usize> = HashMap::new();
    for (k, row) in keys.zip(rows) {
        if let Some(prev) = first.get(&k) {
            let key = show(&k);
            p.push(Problem {
                row: Some(*row),
                column: Some(column.to_string()),
                value: Some(key.clone()),
                reason: format!(
                    "キー「{key}」が重複しています（{prev}{ja}と{row}{ja}） / duplicate key \"{key}\" ({en} {prev} and {row})"
                ),
            });
        } else {
            first.insert(k, *row);
        }
    }
}

pub(crate) fn validate(
    ds: &Dataset,
    rows: &RowRefs,
    known: &KnownKeys,
    n: &Naming,
    p: &mut Problems,
) {
    // Keys: a file must not say two things about the same record.
    let col = n.name("department_code", "departments", "code");
    duplicates(
        p,
        ds.departments.iter().map(|d| d.code.as_str()),
        &rows.departments,
        &col,
        n,
        |k| k.to_string(),
    );
    let col = n.name("section_code", "sections", "code");
    duplicates(
        p,
        ds.sections.iter().map(|s| s.code.as_str()),
        &rows.sections,
        &col,
        n,
        |k| k.to_string(),
    );
    let col = n.name("login", "users", "login");
    duplicates(
        p,
        ds.users.iter().map(|u| u.login.as_str()),
        &rows.users,
        &col,
        n,
        |k| k.to_string(),
    );
    let col = n.name("plan_code", "plans", "code");
    duplicates(
        p,
        ds.plans.iter().map(|x| x.code.as_str()),
        &rows.plans,
        &col,
        n,
        |k| k.to_string(),
    );
    let col = n.name("node_code", "plan_nodes", "code");
    duplicates(
        p,
        ds.plan_nodes.iter().map(|x| x.code.as_str()),
        &rows.plan_nodes,
        &col,
        n,
        |k| k.to_string(),
    );
    let col = n.name("kpi_code", "kpis", "code");
    duplicates(
        p,
        ds.kpis.iter().map(|x| x.code.as_str()),
        &rows.kpis,
        &col,
        n,
        |k| k.to_string(),
    );
    let col = n.name("kpi_code", "observations", "kpi_code");
    observation_duplicates(ds, rows, &col, n, p);
    let col = n.name("program_code", "programs", "code");
    duplicates(
        p,
        ds.programs.iter().map(|x| x.code.as_str()),
        &rows.programs,
        &col,
        n,
        |k| k.to_string(),
    );
    let col = n.name("program_code", "links", "program_code");
    duplicates(
        p,
        ds.links
            .iter()
            .map(|l| (l.program_code.as_str(), l.kpi_code.as_str())),
        &rows.links,
        &col,
        n,
        |(a, b)| format!("{a} / {b}"),
    );
    let col = n.name("program_code", "indicators", "program_code");
    duplicates(
        p,
        ds.indicators
            .iter()
            .map(|i| (i.program_code.as_str(), i.code.as_str(), i.fy)),
        &rows.indicators,
        &col,
        n,
        |(a, b, fy)| format!("{a} / {b} / {fy}"),
    );
    let col = n.name("program_code", "money", "program_code");
    duplicates(
        p,
        ds.money.iter().map(|m| (m.program_code.as_str(), m.fy)),
        &rows.money,
        &col,
        n,
        |(a, fy)| format!("{a} / {fy}"),
    );

    // References: every code a record names must exist.
    let departments = Codes::new(
        &known.departments,
        ds.departments.iter().map(|d| d.code.as_str()),
    );
    let sections = Codes::new(&known.sections, ds.sections.iter().map(|s| s.code.as_str()));
    let plans = Codes::new(&known.plans, ds.plans.iter().map(|x| x.code.as_str()));
    let nodes = Codes::new(
        &known.plan_nodes,
        ds.plan_nodes.iter().map(|x| x.code.as_str()),
    );
    let kpis = Codes::new(&known.kpis, ds.kpis.iter().map(|x| x.code.as_str()));
    let programs = Codes::new(&known.programs, ds.programs.iter().map(|x| x.code.as_str()));

    for (s, row) in ds.sections.iter().zip(&rows.sections) {
        if !departments.has(&s.department_code) {
            unknown(
                p,
                *row,
                n.name("department_code", "sections", "department_code"),
                &s.department_code,
                "部局",
                "department",
            );
        }
    }
    for (u, row) in ds.users.iter().zip(&rows.users) {
        if !sections.has(&u.section_code) {
            unknown(
                p,
                *row,
                n.name("section_code", "users", "section_code"),
                &u.section_code,
                "課",
                "section",
            );
        }
    }
    for (x, row) in ds.plans.iter().zip(&rows.plans) {
        if x.start_fy > x.end_fy {
            p.push(Problem {
                row: Some(*row),
                column: Some(n.name("end_fy", "plans", "end_fy")),
                value: Some(x.end_fy.to_string()),
                reason: format!(
                    "終了年度（{}）が開始年度（{}）より前です / end year {} is before start year {}",
                    x.end_fy, x.start_fy, x.end_fy, x.start_fy
                ),
            });
        }
    }
    let node_by_code: HashMap<&str, (usize, &citykpi_domain::plan::PlanNode)> = ds
        .plan_nodes
        .iter()
        .zip(&rows.plan_nodes)
        .map(|(x, r)| (x.code.as_str(), (*r, x)))
        .collect();
    for (x, row) in ds.plan_nodes.iter().zip(&rows.plan_nodes) {
        if !plans.has(&x.plan_code) {
            unknown(
                p,
                *row,
                n.name("plan_code", "plan_nodes", "plan_code"),
                &x.plan_code,
                "計画",
                "plan",
            );
        }
        if let Some(parent) = &x.parent_code {
            let col = || n.name("parent_code", "plan_nodes", "parent_code");
            if parent == &x.code {
                p.push(Problem {
                    row: Some(*row),
                    column: Some(col()),
                    value: Some(parent.clone()),
                    reason: "自分自身を上位にできません / a node cannot be its own parent"
                        .to_string(),
                });
            } else if let Some((prow, parent_node)) = node_by_code.get(parent.as_str()) {
                if parent_node.plan_code != x.plan_code {
                    p.push(Problem {
                        row: Some(*row),
                        column: Some(col()),
                        value: Some(parent.clone()),
                        reason: format!(
                            "上位「{parent}」（{prow}行目）は別の計画「{}」の項目です / parent \"{parent}\" (row {prow}) belongs to another plan \"{}\"",
                            parent_node.plan_code, parent_node.plan_code
                        ),
                    });
                } else if x.level > 0 && parent_node.level > 0 && x.level != parent_node.level + 1 {
                    p.push(Problem {
                        row: Some(*row),
                        column: Some(n.name("level", "plan_nodes", "level")),
                        value: Some(x.level.to_string()),
                        reason: format!(
                            "階層{}は上位「{parent}」（階層{}）の一つ下ではありません / level {} is not one below parent \"{parent}\" (level {})",
                            x.level, parent_node.level, x.level, parent_node.level
                        ),
                    });
                }
            } else if !nodes.has(parent) {
                unknown(p, *row, col(), parent, "上位項目", "parent node");
            }
        } else if x.level > 1 {
            p.push(Problem {
                row: Some(*row),
                column: Some(n.name("parent_code", "plan_nodes", "parent_code")),
                value: None,
                reason: format!(
                    "階層{}の項目には上位コードが必要です / a level {} node needs a parent",
                    x.level, x.level
                ),
            });
        }
        if x.level == 0 && matches!(n, Naming::Json) {
            p.push(Problem {
                row: Some(*row),
                column: Some(n.name("level", "plan_nodes", "level")),
                value: Some("0".into()),
                reason: "階層は1以上です / level must be 1 or more".to_string(),
            });
        }
    }
    for (k, row) in ds.kpis.iter().zip(&rows.kpis) {
        if let Direction::Band { lower, upper } = k.direction
            && lower
                .partial_cmp(&upper)
                .is_none_or(|o| o == std::cmp::Ordering::Greater)
        {
            p.push(Problem {
                    row: Some(*row),
                    column: Some(n.name("band_lower", "kpis", "direction")),
                    value: Some(lower.to_string()),
                    reason: format!(
                        "範囲の下限（{lower}）が上限（{upper}）より大きいです / band lower bound {lower} is above upper bound {upper}"
                    ),
                });
        }
        for s in &k.owner_sections {
            if !sections.has(s) {
                unknown(
                    p,
                    *row,
                    n.name("owner_sections", "kpis", "owner_sections"),
                    s,
                    "課",
                    "section",
                );
            }
        }
        for node in &k.nodes {
            if !nodes.has(&node.node_code) {
                unknown(
                    p,
                    *row,
                    n.name("nodes", "kpis", "nodes"),
                    &node.node_code,
                    "施策（計画の項目）",
                    "plan node",
                );
            }
        }
    }
    // Observations come in runs of the same KPI: check each code once per run.
    let mut last_ok: Option<&str> = None;
    for (o, row) in ds.observations.iter().zip(&rows.observations) {
        if last_ok == Some(o.kpi_code.as_str()) {
            continue;
        }
        if kpis.has(&o.kpi_code) {
            last_ok = Some(o.kpi_code.as_str());
        } else {
            unknown(
                p,
                *row,
                n.name("kpi_code", "observations", "kpi_code"),
                &o.kpi_code,
                "KPI",
                "KPI",
            );
        }
    }
    for (x, row) in ds.programs.iter().zip(&rows.programs) {
        if !sections.has(&x.section_code) {
            unknown(
                p,
                *row,
                n.name("section_code", "programs", "section_code"),
                &x.section_code,
                "課",
                "section",
            );
        }
        if let (Some(s), Some(e)) = (x.start_fy, x.end_fy)
            && s > e
        {
            p.push(Problem {
                    row: Some(*row),
                    column: Some(n.name("end_fy", "programs", "end_fy")),
                    value: Some(e.to_string()),
                    reason: format!("終了年度（{e}）が開始年度（{s}）より前です / end year {e} is before start year {s}"),
                });
        }
    }
    for (l, row) in ds.links.iter().zip(&rows.links) {
        if !programs.has(&l.program_code) {
            unknown(
                p,
                *row,
                n.name("program_code", "links", "program_code"),
                &l.program_code,
                "事務事業",
                "program",
            );
        }
        if !kpis.has(&l.kpi_code) {
            unknown(
                p,
                *row,
                n.name("kpi_code", "links", "kpi_code"),
                &l.kpi_code,
                "KPI",
                "KPI",
            );
        }
        if !(0.0..=1.0).contains(&l.weight) {
            p.push(Problem {
                row: Some(*row),
                column: Some(n.name("weight", "links", "weight")),
                value: Some(l.weight.to_string()),
                reason: format!(
                    "寄与度{}は0〜1（0%〜100%）の範囲外です / contribution {} is outside 0-1 (0%-100%)",
                    l.weight, l.weight
                ),
            });
        }
    }
    for (x, row) in ds.indicators.iter().zip(&rows.indicators) {
        if !programs.has(&x.program_code) {
            unknown(
                p,
                *row,
                n.name("program_code", "indicators", "program_code"),
                &x.program_code,
                "事務事業",
                "program",
            );
        }
    }
    for (x, row) in ds.money.iter().zip(&rows.money) {
        if !programs.has(&x.program_code) {
            unknown(
                p,
                *row,
                n.name("program_code", "money", "program_code"),
                &x.program_code,
                "事務事業",
                "program",
            );
        }
    }
}
