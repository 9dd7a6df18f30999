//! The read model of the pages: the whole dataset in memory with indexes, and
//! the status report per fiscal year computed once by the app service.
//!
//! Pages read far more often than anyone writes, and the demo city fits in a
//! few megabytes, so every page renders from this snapshot. It is replaced
//! when the data changes: at once after a write through the web, and within
//! `CHECK_EVERY` after a write by another process (the CLI importing a file),
//! detected by the newest row of the audit log, which every write adds to.
//!
//! A write through the web that says what it changed ([`Change`]: a KPI's
//! values, a program's money, an evaluation sheet) updates the snapshot for
//! that alone before its answer goes out: only those rows are read again,
//! the other parts are carried over, the status reports the pages had asked
//! for are recomputed once by the writer, and only the kept pages that
//! depend on the change are dropped. Readers never wait for it. Any other
//! write, and a write by another process, reloads everything.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use citykpi_app::cycle::{CycleRecords, CycleServiceError, CycleYear};
use citykpi_app::status::{StatusReport, compute_status};
use citykpi_domain::{Dataset, FiscalYear};
use citykpi_store::{AuditEntry, LineageRecord, ObservationFilter, Store, StoredEvidence};

use crate::error::WebResult;

pub const CHECK_EVERY: Duration = Duration::from_secs(2);

pub struct Snapshot {
    pub ds: Dataset,
    /// The city's own area code: the observations the pages judge.
    pub area: String,
    generation: u64,
    audit_mark: Option<(i64, String)>,
    dept_of_section: HashMap<String, String>,
    pub kpi_idx: HashMap<String, usize>,
    pub program_idx: HashMap<String, usize>,
    pub node_idx: HashMap<String, usize>,
    pub plan_idx: HashMap<String, usize>,
    pub dept_idx: HashMap<String, usize>,
    pub section_idx: HashMap<String, usize>,
    /// Observations of the city's area per KPI, in period order.
    pub obs_by_kpi: HashMap<String, Vec<usize>>,
    pub links_by_kpi: HashMap<String, Vec<usize>>,
    pub links_by_program: HashMap<String, Vec<usize>>,
    /// Money per program in fiscal-year order.
    pub money_by_program: HashMap<String, Vec<usize>>,
    pub indicators_by_program: HashMap<String, Vec<usize>>,
    /// Evidence recorded on program–KPI links, per KPI, newest first.
    pub evidence_by_kpi: HashMap<String, Vec<StoredEvidence>>,
    /// Every recorded restructuring step (merges, splits, abolitions, renames).
    pub lineage: Vec<LineageRecord>,
    /// The evaluated years of the cycles started and not closed.
    pub running_cycles: Vec<FiscalYear>,
    status: Mutex<HashMap<FiscalYear, Arc<StatusReport>>>,
    public_status: Mutex<HashMap<FiscalYear, Arc<StatusReport>>>,
    /// Rendered page bodies that depend only on this snapshot and the key
    /// (language, year, permissions): the busiest pages are rendered once
    /// per data change instead of once per request.
    /// One cell per key: a burst of requests after a change renders a page
    /// once, the others wait for it.
    fragments: Mutex<HashMap<String, Fragment>>,
    /// The cycle of each evaluated year, computed once per snapshot: the
    /// cycle's records change only through writes, and every write makes a
    /// new snapshot. One cell per year: a burst of requests after a change
    /// computes a year once, and different years do not wait for each other.
    cycles: Mutex<HashMap<FiscalYear, Arc<tokio::sync::OnceCell<Arc<CycleYear>>>>>,
    /// The same records with confirmed actuals only (see `public_view`).
    public: std::sync::OnceLock<Arc<Snapshot>>,
    /// This is a public view: its observations are the confirmed ones.
    is_public: bool,
}

/// What one write through the web changed, for [`Cache::apply`] to update
/// the read model by: the rows named are read again, nothing else.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// The observations (values, confirmations) of these KPIs.
    Observations(Vec<String>),
    /// The money row of a program for a fiscal year.
    Money { program: String, fy: FiscalYear },
    /// An evaluation sheet of the cycle evaluating `fy` (the cycle's
    /// records, none of the dataset).
    Sheet { program: String, fy: FiscalYear },
}

impl Change {
    /// Whether the audit row `e` is one this change writes: the check that
    /// no other process wrote in between (any other row reloads all).
    fn explains(&self, e: &AuditEntry) -> bool {
        let field = |name: &str| -> Option<String> {
            let v = e.after.as_ref().or(e.before.as_ref())?.get(name)?;
            Some(match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
        };
        match self {
            Change::Observations(kpis) => {
                e.entity == "observation" && field("kpi_code").is_some_and(|c| kpis.contains(&c))
            }
            Change::Money { program, .. } => {
                e.entity == "money" && field("program_code").as_ref() == Some(program)
            }
            Change::Sheet { program, .. } => {
                e.entity == "evaluation_sheet" && field("program_code").as_ref() == Some(program)
            }
        }
    }

    /// Whether the page kept under `key` is still right after this change.
    /// Only the KPI and program pages (whose keys start with the code) and,
    /// for a sheet, the pages made from the dataset alone are kept.
    fn keeps(&self, key: &str, snap: &Snapshot) -> bool {
        let mut parts = key.splitn(3, ':');
        let kind = parts.next().unwrap_or("");
        let code = parts.next().unwrap_or("");
        match self {
            Change::Observations(kpis) => {
                matches!(kind, "kpi" | "public-kpi") && !kpis.iter().any(|k| k == code)
            }
            Change::Money { program, .. } => match kind {
                // A KPI page lists the money of the programs linked to it.
                "kpi" | "public-kpi" => !snap
                    .links_by_program
                    .get(program)
                    .is_some_and(|ls| ls.iter().any(|i| snap.ds.links[*i].kpi_code == code)),
                "program" => code != program,
                // The dashboard shows the status, which money does not enter.
                "dash" => true,
                _ => false,
            },
            Change::Sheet { .. } => {
                matches!(kind, "dash" | "kpi" | "public-kpi" | "program" | "public")
            }
        }
    }
}

/// A kept rendering, or the cell the first request renders it into.
type Fragment = Arc<std::sync::OnceLock<Arc<String>>>;

/// At most this many cached fragments per snapshot (a crawler walking every
/// KPI in both languages and all years must not grow memory without bound).
const MAX_FRAGMENTS: usize = 4096;

fn index<T>(items: &[T], key: impl Fn(&T) -> &str) -> HashMap<String, usize> {
    items
        .iter()
        .enumerate()
        .map(|(i, x)| (key(x).to_string(), i))
        .collect()
}

fn group<T>(items: &[T], key: impl Fn(&T) -> &str) -> HashMap<String, Vec<usize>> {
    let mut m: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, x) in items.iter().enumerate() {
        m.entry(key(x).to_string()).or_default().push(i);
    }
    m
}

/// The city's observations per KPI, in period order.
fn obs_index(ds: &Dataset, area: &str) -> HashMap<String, Vec<usize>> {
    let mut obs_by_kpi: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, o) in ds.observations.iter().enumerate() {
        if o.area_code == area {
            obs_by_kpi.entry(o.kpi_code.clone()).or_default().push(i);
        }
    }
    for v in obs_by_kpi.values_mut() {
        v.sort_by_key(|i| ds.observations[*i].period);
    }
    obs_by_kpi
}

/// Money per program in fiscal-year order.
fn money_index(ds: &Dataset) -> HashMap<String, Vec<usize>> {
    let mut money_by_program = group(&ds.money, |m| m.program_code.as_str());
    for v in money_by_program.values_mut() {
        v.sort_by_key(|i| ds.money[*i].fy);
    }
    money_by_program
}

/// Replaces the rows of the `codes` (one block each, in the loader's order:
/// by code first) by `fresh`, the rows of those codes read again.
fn replace_rows<T>(rows: &mut Vec<T>, codes: &[String], fresh: Vec<T>, code: impl Fn(&T) -> &str) {
    rows.retain(|r| !codes.iter().any(|c| c == code(r)));
    let mut fresh = fresh.into_iter().peekable();
    while let Some(first) = fresh.next() {
        let c = code(&first).to_string();
        let at = rows.partition_point(|r| code(r) < c.as_str());
        let mut block = vec![first];
        while let Some(next) = fresh.next_if(|r| code(r) == c) {
            block.push(next);
        }
        rows.splice(at..at, block);
    }
}

impl Snapshot {
    fn build(
        ds: Dataset,
        evidence: Vec<StoredEvidence>,
        lineage: Vec<LineageRecord>,
        running_cycles: Vec<FiscalYear>,
        area: String,
        generation: u64,
        audit_mark: Option<(i64, String)>,
    ) -> Snapshot {
        let dept_of_section = ds
            .sections
            .iter()
            .map(|s| (s.code.clone(), s.department_code.clone()))
            .collect();
        let obs_by_kpi = obs_index(&ds, &area);
        let money_by_program = money_index(&ds);
        let mut evidence_by_kpi: HashMap<String, Vec<StoredEvidence>> = HashMap::new();
        for e in evidence {
            evidence_by_kpi
                .entry(e.evidence.kpi_code.clone())
                .or_default()
                .push(e);
        }
        Snapshot {
            evidence_by_kpi,
            lineage,
            running_cycles,
            kpi_idx: index(&ds.kpis, |k| k.code.as_str()),
            program_idx: index(&ds.programs, |p| p.code.as_str()),
            node_idx: index(&ds.plan_nodes, |n| n.code.as_str()),
            plan_idx: index(&ds.plans, |p| p.code.as_str()),
            dept_idx: index(&ds.departments, |d| d.code.as_str()),
            section_idx: index(&ds.sections, |s| s.code.as_str()),
            links_by_kpi: group(&ds.links, |l| l.kpi_code.as_str()),
            links_by_program: group(&ds.links, |l| l.program_code.as_str()),
            indicators_by_program: group(&ds.indicators, |i| i.program_code.as_str()),
            money_by_program,
            obs_by_kpi,
            dept_of_section,
            area,
            generation,
            audit_mark,
            status: Mutex::new(HashMap::new()),
            public_status: Mutex::new(HashMap::new()),
            fragments: Mutex::new(HashMap::new()),
            cycles: Mutex::new(HashMap::new()),
            public: std::sync::OnceLock::new(),
            is_public: false,
            ds,
        }
    }

    /// This snapshot with `change` applied: its rows read again from
    /// `store`, the other parts carried over, the status reports it held
    /// recomputed (off the async threads) when the change touches them, and
    /// the kept pages that do not depend on the change kept.
    async fn updated(
        self: &Arc<Self>,
        store: &Store,
        change: &Change,
        audit_mark: Option<(i64, String)>,
    ) -> WebResult<Arc<Snapshot>> {
        let mut ds = None;
        match change {
            Change::Observations(kpis) => {
                let filter = ObservationFilter {
                    kpi_codes: kpis.clone(),
                    ..ObservationFilter::all()
                };
                let fresh = store.observations(&filter).await?;
                let mut d = self.ds.clone();
                replace_rows(&mut d.observations, kpis, fresh, |o| o.kpi_code.as_str());
                ds = Some(d);
            }
            Change::Money { program, fy } => {
                let fresh = store.money_of(program, *fy).await?;
                let mut d = self.ds.clone();
                let at = d
                    .money
                    .iter()
                    .position(|m| &m.program_code == program && m.fy == *fy);
                match (at, fresh) {
                    (Some(i), Some(m)) => d.money[i] = m,
                    (Some(i), None) => {
                        d.money.remove(i);
                    }
                    (None, Some(m)) => {
                        let i = d.money.partition_point(|x| {
                            (x.program_code.as_str(), x.fy) < (m.program_code.as_str(), m.fy)
                        });
                        d.money.insert(i, m);
                    }
                    (None, None) => {}
                }
                ds = Some(d);
            }
            Change::Sheet { .. } => {}
        }
        let observations_changed = matches!(change, Change::Observations(_));
        let money_changed = matches!(change, Change::Money { .. });
        let cycles = match change {
            // The cycle of a year is computed from the dataset and the status.
            Change::Observations(_) | Change::Money { .. } => HashMap::new(),
            Change::Sheet { fy, .. } => {
                let mut kept = self.cycles.lock().map(|m| m.clone()).unwrap_or_default();
                kept.remove(fy);
                kept
            }
        };
        let status = if observations_changed {
            HashMap::new()
        } else {
            self.status.lock().map(|m| m.clone()).unwrap_or_default()
        };
        let fragments = self
            .fragments
            .lock()
            .map(|m| {
                // Only finished renderings: one under way is of this snapshot.
                m.iter()
                    .filter(|(k, v)| v.get().is_some() && change.keeps(k, self))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let ds = ds.unwrap_or_else(|| self.ds.clone());
        let snap = Arc::new(Snapshot {
            obs_by_kpi: if observations_changed {
                obs_index(&ds, &self.area)
            } else {
                self.obs_by_kpi.clone()
            },
            money_by_program: if money_changed {
                money_index(&ds)
            } else {
                self.money_by_program.clone()
            },
            ds,
            area: self.area.clone(),
            generation: self.generation,
            audit_mark,
            dept_of_section: self.dept_of_section.clone(),
            kpi_idx: self.kpi_idx.clone(),
            program_idx: self.program_idx.clone(),
            node_idx: self.node_idx.clone(),
            plan_idx: self.plan_idx.clone(),
            dept_idx: self.dept_idx.clone(),
            section_idx: self.section_idx.clone(),
            links_by_kpi: self.links_by_kpi.clone(),
            links_by_program: self.links_by_program.clone(),
            indicators_by_program: self.indicators_by_program.clone(),
            evidence_by_kpi: self.evidence_by_kpi.clone(),
            lineage: self.lineage.clone(),
            running_cycles: self.running_cycles.clone(),
            status: Mutex::new(status),
            public_status: Mutex::new(HashMap::new()),
            fragments: Mutex::new(fragments),
            cycles: Mutex::new(cycles),
            public: std::sync::OnceLock::new(),
            is_public: false,
        });
        if observations_changed {
            // The years the pages asked for, computed once here rather than
            // by every reader that finds them missing.
            let years: Vec<FiscalYear> = self
                .status
                .lock()
                .map(|m| m.keys().copied().collect())
                .unwrap_or_default();
            let done = snap.clone();
            // A panic in the computation leaves the years to the readers.
            let _ = tokio::task::spawn_blocking(move || {
                for fy in years {
                    done.status(fy);
                }
            })
            .await;
        }
        Ok(snap)
    }

    pub fn department_of_section(&self, section: &str) -> Option<&str> {
        self.dept_of_section.get(section).map(String::as_str)
    }

    pub fn kpi(&self, code: &str) -> Option<&citykpi_domain::kpi::Kpi> {
        self.kpi_idx.get(code).map(|i| &self.ds.kpis[*i])
    }
    pub fn program(&self, code: &str) -> Option<&citykpi_domain::program::Program> {
        self.program_idx.get(code).map(|i| &self.ds.programs[*i])
    }
    pub fn node(&self, code: &str) -> Option<&citykpi_domain::plan::PlanNode> {
        self.node_idx.get(code).map(|i| &self.ds.plan_nodes[*i])
    }
    pub fn plan(&self, code: &str) -> Option<&citykpi_domain::plan::Plan> {
        self.plan_idx.get(code).map(|i| &self.ds.plans[*i])
    }
    pub fn section(&self, code: &str) -> Option<&citykpi_domain::org::Section> {
        self.section_idx.get(code).map(|i| &self.ds.sections[*i])
    }
    pub fn department(&self, code: &str) -> Option<&citykpi_domain::org::Department> {
        self.dept_idx.get(code).map(|i| &self.ds.departments[*i])
    }
    /// The departments owning a KPI (through its owner sections).
    pub fn kpi_departments(&self, kpi: &citykpi_domain::kpi::Kpi) -> Vec<&str> {
        kpi.owner_sections
            .iter()
            .filter_map(|s| self.department_of_section(s))
            .collect()
    }
    /// The department of a program ("" when its section is unknown).
    pub fn program_department(&self, p: &citykpi_domain::program::Program) -> &str {
        self.department_of_section(&p.section_code).unwrap_or("")
    }

    /// The status of every KPI and plan for `fy`, computed by the app service
    /// once per snapshot and year.
    pub fn status(&self, fy: FiscalYear) -> Arc<StatusReport> {
        if let Ok(map) = self.status.lock()
            && let Some(r) = map.get(&fy)
        {
            return r.clone();
        }
        let report = Arc::new(compute_status(
            fy,
            self.area.clone(),
            &self.ds.plans,
            &self.ds.plan_nodes,
            &self.ds.kpis,
            &self.ds.observations,
        ));
        if let Ok(mut map) = self.status.lock() {
            map.insert(fy, report.clone());
        }
        report
    }

    /// The cycle of the evaluated year `fy`: its status, restructuring list
    /// and compiled budget, computed from this snapshot's data and the
    /// cycle's records (read once). The computation runs off the async
    /// threads.
    pub async fn cycle_year(
        self: &Arc<Self>,
        store: &Store,
        fy: FiscalYear,
    ) -> Result<Arc<CycleYear>, CycleServiceError> {
        let cell = match self.cycles.lock() {
            Ok(mut map) => map.entry(fy).or_default().clone(),
            // A poisoned map (a panic elsewhere): compute without sharing.
            Err(_) => Arc::default(),
        };
        let year = cell
            .get_or_try_init(|| async {
                let records = CycleRecords::load(store, fy).await?;
                let snap = self.clone();
                let year = tokio::task::spawn_blocking(move || {
                    let report = snap.status(fy);
                    CycleYear::compute(&snap.ds, &report, records)
                })
                .await;
                match year {
                    Ok(y) => Ok(Arc::new(y)),
                    // The computation panicked: carry the panic on, as if inline.
                    Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                    Err(_) => Err(CycleServiceError::App(citykpi_app::AppError::invalid(
                        "cycle",
                        "サーバーの停止で計算が中断されました / cancelled by the server's shutdown",
                    ))),
                }
            })
            .await?;
        Ok(year.clone())
    }

    /// The fragment cached under `key`, rendered by `render` the first time
    /// (once: requests asking for it meanwhile wait for that rendering).
    pub fn fragment(&self, key: String, render: impl FnOnce() -> String) -> Arc<String> {
        let cell = match self.fragments.lock() {
            Ok(mut map) => {
                if map.len() >= MAX_FRAGMENTS && !map.contains_key(&key) {
                    map.clear();
                }
                map.entry(key).or_default().clone()
            }
            // A poisoned map (a panic elsewhere): render without keeping.
            Err(_) => Fragment::default(),
        };
        cell.get_or_init(|| Arc::new(render())).clone()
    }

    /// As `fragment`, for a body whose inputs are read asynchronously
    /// (records outside the snapshot): they are read only when the body is
    /// not kept yet.
    pub async fn fragment_async<F, Fut>(&self, key: String, render: F) -> WebResult<Arc<String>>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = WebResult<String>>,
    {
        if let Some(f) = self.cached_fragment(&key) {
            return Ok(f);
        }
        Ok(self.keep_fragment(key, render().await?))
    }

    fn cached_fragment(&self, key: &str) -> Option<Arc<String>> {
        self.fragments.lock().ok()?.get(key)?.get().cloned()
    }

    fn keep_fragment(&self, key: String, body: String) -> Arc<String> {
        self.fragment(key, || body)
    }

    /// What the public sees: this snapshot with confirmed actuals only, so
    /// that every public page, chart, status, forecast and API answer is
    /// computed without an unconfirmed value (which staff pages show,
    /// marked). Built once per snapshot, at the first public request.
    pub fn public_view(&self) -> Arc<Snapshot> {
        self.public
            .get_or_init(|| {
                let mut ds = self.ds.clone();
                ds.observations.retain(|o| o.is_confirmed());
                let mut codes: Vec<&String> = self.evidence_by_kpi.keys().collect();
                codes.sort();
                let evidence = codes
                    .into_iter()
                    .filter_map(|c| self.evidence_by_kpi.get(c))
                    .flat_map(|v| v.iter().cloned())
                    .collect();
                let mut view = Snapshot::build(
                    ds,
                    evidence,
                    self.lineage.clone(),
                    self.running_cycles.clone(),
                    self.area.clone(),
                    self.generation,
                    self.audit_mark.clone(),
                );
                view.is_public = true;
                Arc::new(view)
            })
            .clone()
    }

    /// The status for the public portal: computed from published plans and
    /// published KPIs only, so that no draft influences (or appears in) a
    /// count, a roll-up or a list the public sees.
    /// It is always made from confirmed actuals: asked of a staff snapshot,
    /// it is its public view's.
    pub fn public_status(&self, fy: FiscalYear) -> Arc<StatusReport> {
        if !self.is_public {
            return self.public_view().public_status(fy);
        }
        if let Ok(map) = self.public_status.lock()
            && let Some(r) = map.get(&fy)
        {
            return r.clone();
        }
        let plans: Vec<_> = self
            .ds
            .plans
            .iter()
            .filter(|p| p.published)
            .cloned()
            .collect();
        let nodes: Vec<_> = self
            .ds
            .plan_nodes
            .iter()
            .filter(|n| plans.iter().any(|p| p.code == n.plan_code))
            .cloned()
            .collect();
        let kpis: Vec<_> = self
            .ds
            .kpis
            .iter()
            .filter(|k| k.published)
            .cloned()
            .collect();
        let report = Arc::new(compute_status(
            fy,
            self.area.clone(),
            &plans,
            &nodes,
            &kpis,
            &self.ds.observations,
        ));
        if let Ok(mut map) = self.public_status.lock() {
            map.insert(fy, report.clone());
        }
        report
    }
}

pub struct Cache {
    current: RwLock<Option<Arc<Snapshot>>>,
    generation: AtomicU64,
    reload: tokio::sync::Mutex<()>,
    last_check: Mutex<Option<Instant>>,
    /// How often a request looks for writes by other processes
    /// ([`CHECK_EVERY`] unless the server's settings say otherwise).
    check_every: Duration,
}

/// At most this many audit rows are looked at after a write; more (a large
/// write, or many at once) reload everything.
const AUDIT_WINDOW: i64 = 64;

/// The audit rows after `mark`, newest first; `None` when there are more
/// than [`AUDIT_WINDOW`] or the mark is gone (the log was cleared).
async fn audit_since(
    store: &Store,
    mark: Option<&(i64, String)>,
) -> WebResult<Option<Vec<AuditEntry>>> {
    let rows = store.audit_entries(AUDIT_WINDOW, 0).await?;
    let Some((id, _)) = mark else {
        return Ok((rows.len() < AUDIT_WINDOW as usize).then_some(rows));
    };
    match rows.iter().position(|e| e.id <= *id) {
        Some(n) if rows[n].id == *id => Ok(Some(rows[..n].to_vec())),
        _ => Ok(None),
    }
}

async fn audit_mark(store: &Store) -> WebResult<Option<(i64, String)>> {
    Ok(store
        .audit_entries(1, 0)
        .await?
        .into_iter()
        .next()
        .map(|e| (e.id, e.at)))
}

impl Cache {
    pub fn new(check_every: Duration) -> Cache {
        Cache {
            current: RwLock::new(None),
            generation: AtomicU64::new(0),
            reload: tokio::sync::Mutex::new(()),
            last_check: Mutex::new(None),
            check_every,
        }
    }

    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Updates the read model for a write through the web that changed
    /// `change` alone; it is seen by every request that starts after this
    /// returns. Readers keep the snapshot before it meanwhile. When the
    /// audit log shows another write since the snapshot (another process,
    /// or another write of this server at the same time), or the update
    /// fails, everything is read again at the next request instead.
    pub async fn apply(&self, store: &Store, change: &Change) {
        let _guard = self.reload.lock().await;
        // No snapshot, or one already outdated: the next request reloads.
        let Some(snap) = self.current() else {
            return;
        };
        let mark = match audit_since(store, snap.audit_mark.as_ref()).await {
            Ok(Some(new)) if new.iter().all(|e| change.explains(e)) => new
                .first()
                .map(|e| (e.id, e.at.clone()))
                .or(snap.audit_mark.clone()),
            _ => return self.invalidate(),
        };
        match snap.updated(store, change, mark).await {
            Ok(next) => {
                if let Ok(mut cur) = self.current.write() {
                    *cur = Some(next);
                }
            }
            Err(_) => self.invalidate(),
        }
    }

    fn current(&self) -> Option<Arc<Snapshot>> {
        let snap = self.current.read().ok()?.clone()?;
        (snap.generation == self.generation.load(Ordering::SeqCst)).then_some(snap)
    }

    /// Whether it is time to look for changes made by other processes; only
    /// one request per interval does the look.
    fn due_for_check(&self) -> bool {
        let Ok(mut last) = self.last_check.lock() else {
            return true;
        };
        match *last {
            Some(t) if t.elapsed() < self.check_every => false,
            _ => {
                *last = Some(Instant::now());
                true
            }
        }
    }

    pub async fn get(&self, store: &Store) -> WebResult<Arc<Snapshot>> {
        if let Some(snap) = self.current() {
            if !self.due_for_check() || audit_mark(store).await? == snap.audit_mark {
                return Ok(snap);
            }
            self.invalidate();
        }
        let _guard = self.reload.lock().await;
        // Another request may have reloaded while this one waited.
        if let Some(snap) = self.current() {
            return Ok(snap);
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let mark = audit_mark(store).await?;
        let ds = store.load_all().await?;
        let area = match citykpi_app::status::city_code(store).await? {
            Some(a) => a,
            None => {
                citykpi_app::status::kpi_status(store, crate::ctx::default_fy())
                    .await?
                    .area_code
            }
        };
        let evidence = store.link_evidence(None, None).await?;
        let lineage = store.lineage().await?;
        let running_cycles = store
            .cycles()
            .await?
            .into_iter()
            .filter(|c| c.state.as_str() != "closed")
            .map(|c| c.fy)
            .collect();
        let snap = Arc::new(Snapshot::build(
            ds,
            evidence,
            lineage,
            running_cycles,
            area,
            generation,
            mark,
        ));
        if let Ok(mut cur) = self.current.write() {
            *cur = Some(snap.clone());
        }
        if let Ok(mut last) = self.last_check.lock() {
            *last = Some(Instant::now());
        }
        Ok(snap)
    }
}
