//! KPI and program lists with filters (plan, policy, department, status, SDG
//! goal) and the search page.
//!
//! Free text (the search page, and the `q` filter of the lists) goes to the
//! store's Japanese full-text index (`Store::search`: FTS5 trigram on SQLite,
//! pg_trgm on PostgreSQL); the other filters run over the in-memory snapshot.

use std::collections::HashSet;

use axum::extract::{Query, State};
use axum::response::Response;
use citykpi_domain::kpi::Kpi;
use citykpi_domain::program::Program;
use citykpi_domain::progress::Status;
use maud::{Markup, html};
use serde::Deserialize;

use crate::AppState;
use crate::cache::Snapshot;
use crate::ctx::Ctx;
use crate::error::WebResult;
use crate::i18n::Lang;
use crate::layout::{Nav, Page, render, sen_yen, status_badge};
use crate::pages::dashboard::{fy_options, progress};
use crate::pages::kpi::{latest_full_cost, section_label};

#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    #[serde(default)]
    pub plan: String,
    #[serde(default)]
    pub policy: String,
    #[serde(default)]
    pub dept: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub sdg: String,
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub page: Option<usize>,
}

const PAGE_SIZE: usize = 100;

/// The records a free-text query matched, in rank order; `None` when there
/// is no query (every record passes).
pub struct TextHits {
    pub kpis: Vec<String>,
    pub programs: Vec<String>,
    kpi_set: HashSet<String>,
    program_set: HashSet<String>,
}

impl TextHits {
    pub async fn find(state: &AppState, q: &str) -> WebResult<Option<TextHits>> {
        if citykpi_store::query_terms(q).is_empty() {
            return Ok(None);
        }
        let hits = state.store().search(q).await?;
        Ok(Some(TextHits {
            kpi_set: hits.kpis.iter().cloned().collect(),
            program_set: hits.programs.iter().cloned().collect(),
            kpis: hits.kpis,
            programs: hits.programs,
        }))
    }
}

fn text_allows_kpi(hits: Option<&TextHits>, code: &str) -> bool {
    hits.is_none_or(|h| h.kpi_set.contains(code))
}

fn text_allows_program(hits: Option<&TextHits>, code: &str) -> bool {
    hits.is_none_or(|h| h.program_set.contains(code))
}

/// Plan codes and node codes (the measure and its ancestors) a KPI serves.
pub fn kpi_scope(snap: &Snapshot, kpi: &Kpi) -> HashSet<String> {
    let mut out = HashSet::new();
    for l in &kpi.nodes {
        let mut cur = snap.node(&l.node_code);
        let mut guard = 0;
        while let Some(n) = cur {
            out.insert(n.code.clone());
            out.insert(n.plan_code.clone());
            cur = n.parent_code.as_deref().and_then(|p| snap.node(p));
            guard += 1;
            if guard > 16 {
                break;
            }
        }
    }
    out
}

fn kpi_matches(
    snap: &Snapshot,
    k: &Kpi,
    f: &Filters,
    status: Option<Status>,
    row_status: Status,
    text: Option<&TextHits>,
) -> bool {
    if (!f.plan.is_empty() || !f.policy.is_empty()) && {
        let scope = kpi_scope(snap, k);
        (!f.plan.is_empty() && !scope.contains(&f.plan))
            || (!f.policy.is_empty() && !scope.contains(&f.policy))
    } {
        return false;
    }
    if !f.dept.is_empty() && !snap.kpi_departments(k).contains(&f.dept.as_str()) {
        return false;
    }
    if status.is_some_and(|s| s != row_status) {
        return false;
    }
    if let Ok(goal) = f.sdg.parse::<u8>()
        && !k.sdgs.iter().any(|s| s.goal == goal)
    {
        return false;
    }
    text_allows_kpi(text, &k.code)
}

fn program_matches(snap: &Snapshot, p: &Program, f: &Filters, text: Option<&TextHits>) -> bool {
    if !f.dept.is_empty() && snap.program_department(p) != f.dept {
        return false;
    }
    let needs_kpis = !f.plan.is_empty() || !f.policy.is_empty() || !f.sdg.is_empty();
    if needs_kpis {
        let kpis: Vec<&Kpi> = snap
            .links_by_program
            .get(&p.code)
            .map(|v| {
                v.iter()
                    .filter_map(|i| snap.kpi(&snap.ds.links[*i].kpi_code))
                    .collect()
            })
            .unwrap_or_default();
        let goal = f.sdg.parse::<u8>().ok();
        let any = kpis.iter().any(|k| {
            let scope = kpi_scope(snap, k);
            (f.plan.is_empty() || scope.contains(&f.plan))
                && (f.policy.is_empty() || scope.contains(&f.policy))
                && goal.is_none_or(|g| k.sdgs.iter().any(|s| s.goal == g))
        });
        if !any {
            return false;
        }
    }
    text_allows_program(text, &p.code)
}

fn select(id: &str, label: &str, all: &str, options: &[(String, String)], chosen: &str) -> Markup {
    html! {
        div {
            label for=(id) { (label) }
            select id=(id) name=(id) {
                option value="" { (all) }
                @for (v, l) in options {
                    option value=(v) selected[v == chosen] { (l) }
                }
            }
        }
    }
}

fn filter_form(ctx: &Ctx, snap: &Snapshot, f: &Filters, action: &str, with_status: bool) -> Markup {
    let t = ctx.t;
    let lang = ctx.lang;
    let plans: Vec<(String, String)> = snap
        .ds
        .plans
        .iter()
        .map(|p| {
            (
                p.code.clone(),
                lang.name(&p.name_ja, &p.name_en).to_string(),
            )
        })
        .collect();
    let policies: Vec<(String, String)> = snap
        .ds
        .plan_nodes
        .iter()
        .filter(|n| n.parent_code.is_none() && (f.plan.is_empty() || n.plan_code == f.plan))
        .map(|n| {
            (
                n.code.clone(),
                lang.name(&n.name_ja, &n.name_en).to_string(),
            )
        })
        .collect();
    let depts: Vec<(String, String)> = snap
        .ds
        .departments
        .iter()
        .map(|d| {
            (
                d.code.clone(),
                lang.name(&d.name_ja, &d.name_en).to_string(),
            )
        })
        .collect();
    let statuses: Vec<(String, String)> = Status::ALL
        .iter()
        .map(|s| (s.as_str().to_string(), lang.status(*s).to_string()))
        .collect();
    let goals: Vec<(String, String)> = (1..=17)
        .map(|g| (g.to_string(), format!("{} {g}", t.sdg_goal)))
        .collect();
    html! {
        form.inline-form method="get" action=(action) aria-label=(t.list_filters) {
            input type="hidden" name="fy" value=(ctx.fy.year());
            div {
                label for="q" { (t.search_query) }
                input type="search" id="q" name="q" value=(f.q);
            }
            (select("plan", t.plan, t.filter_all, &plans, &f.plan))
            (select("policy", t.policy, t.filter_all, &policies, &f.policy))
            (select("dept", t.department, t.filter_all, &depts, &f.dept))
            @if with_status { (select("status", t.status, t.filter_all, &statuses, &f.status)) }
            (select("sdg", t.sdg_goal, t.filter_all, &goals, &f.sdg))
            div { button type="submit" { (t.filter_apply) } }
        }
    }
}

/// Links to the previous and next page of a list, keeping the filters.
fn pager(ctx: &Ctx, page: usize, total: usize) -> Markup {
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let link = |p: usize| {
        let pairs: Vec<(String, String)> = ctx
            .query
            .as_deref()
            .map(|q| {
                form_urlencoded::parse(q.as_bytes())
                    .filter(|(k, _)| k != "page")
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        let q = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .append_pair("page", &p.to_string())
            .finish();
        format!("{}?{q}", ctx.path)
    };
    html! {
        @if pages > 1 {
            nav.pager aria-label="pagination" {
                @if page > 1 { a href=(link(page - 1)) rel="prev" { "← " (page - 1) } }
                span { (page) " / " (pages) }
                @if page < pages { a href=(link(page + 1)) rel="next" { (page + 1) " →" } }
            }
        }
    }
}

pub async fn kpis(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(f): Query<Filters>,
) -> WebResult<Response> {
    let snap = state.snapshot().await?;
    let t = ctx.t;
    let lang = ctx.lang;
    let report = snap.status(ctx.fy);
    let status = Status::ALL.into_iter().find(|s| s.as_str() == f.status);
    let text = TextHits::find(&state, &f.q).await?;
    let rows: Vec<_> = report
        .kpis
        .iter()
        .filter(|r| {
            snap.kpi(&r.code).is_some_and(|k| {
                kpi_matches(&snap, k, &f, status, r.progress.status, text.as_ref())
            })
        })
        .collect();
    let page = f.page.unwrap_or(1).max(1);
    let years = fy_options(&snap, ctx.fy);
    let body = html! {
        h1 { (t.nav_kpis) " — " (lang.fy(ctx.fy)) }
        (crate::layout::fy_switcher(&ctx, &years, "/kpis"))
        (filter_form(&ctx, &snap, &f, "/kpis", true))
        p role="status" { (t.results_count.replace("{n}", &rows.len().to_string())) }
        div.table-wrap {
            table {
                thead { tr {
                    th scope="col" { (t.code) }
                    th scope="col" { (t.name) }
                    th scope="col" { (t.status) }
                    th scope="col" { (t.progress_to_final) }
                    th scope="col" { (t.owners) }
                } }
                tbody {
                    @for r in rows.iter().skip((page - 1) * PAGE_SIZE).take(PAGE_SIZE) {
                        tr {
                            td { (r.code) }
                            td { a href={ "/kpis/" (r.code) (ctx.fy_query()) } { (lang.name(&r.name_ja, &r.name_en)) } }
                            td { (status_badge(lang, r.progress.status)) }
                            td { (progress(lang, r.progress.progress_to_final, r.progress.status)) }
                            td {
                                @if let Some(k) = snap.kpi(&r.code) {
                                    @for s in &k.owner_sections { span.tag { (section_label(lang, &snap, s)) } }
                                }
                            }
                        }
                    }
                }
            }
        }
        (pager(&ctx, page, rows.len()))
    };
    Ok(render(
        &ctx,
        Page {
            title: t.nav_kpis,
            nav: Nav::Kpis,
            body,
        },
    ))
}

pub async fn programs(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(f): Query<Filters>,
) -> WebResult<Response> {
    let snap = state.snapshot().await?;
    let t = ctx.t;
    let lang = ctx.lang;
    let text = TextHits::find(&state, &f.q).await?;
    let rows: Vec<&Program> = snap
        .ds
        .programs
        .iter()
        .filter(|p| program_matches(&snap, p, &f, text.as_ref()))
        .collect();
    let page = f.page.unwrap_or(1).max(1);
    let body = html! {
        h1 { (t.nav_programs) }
        (filter_form(&ctx, &snap, &f, "/programs", false))
        p role="status" { (t.results_count.replace("{n}", &rows.len().to_string())) }
        (program_table(lang, &snap, &rows[((page - 1) * PAGE_SIZE).min(rows.len())..], ctx.fy))
        (pager(&ctx, page, rows.len()))
    };
    Ok(render(
        &ctx,
        Page {
            title: t.nav_programs,
            nav: Nav::Programs,
            body,
        },
    ))
}

fn program_table(
    lang: Lang,
    snap: &Snapshot,
    rows: &[&Program],
    fy: citykpi_domain::FiscalYear,
) -> Markup {
    let t = lang.text();
    html! {
        div.table-wrap {
            table {
                thead { tr {
                    th scope="col" { (t.code) }
                    th scope="col" { (t.name) }
                    th scope="col" { (t.section) }
                    th.num scope="col" { (t.full_cost) "（" (t.yen_thousand) "）" }
                } }
                tbody {
                    @for p in rows.iter().take(PAGE_SIZE) {
                        tr {
                            td { (p.code) }
                            td { a href={ "/programs/" (p.code) } { (lang.name(&p.name_ja, &p.name_en)) } }
                            td { (section_label(lang, snap, &p.section_code)) }
                            td.num { (latest_full_cost(snap, &p.code, fy).map(sen_yen).unwrap_or_else(|| "−".into())) }
                        }
                    }
                }
            }
        }
    }
}

pub async fn search(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(f): Query<Filters>,
) -> WebResult<Response> {
    let snap = state.snapshot().await?;
    let t = ctx.t;
    let lang = ctx.lang;
    let text = TextHits::find(&state, &f.q).await?;
    let (kpis, programs): (Vec<&Kpi>, Vec<&Program>) = match &text {
        None => (Vec::new(), Vec::new()),
        Some(h) => (
            h.kpis.iter().filter_map(|c| snap.kpi(c)).collect(),
            h.programs.iter().filter_map(|c| snap.program(c)).collect(),
        ),
    };
    let body = html! {
        h1 { (t.search_title) }
        form.inline-form method="get" action="/search" role="search" {
            div {
                label for="q" { (t.search_query) span.hint { (t.search_hint) } }
                input type="search" id="q" name="q" value=(f.q) class="wide";
            }
            div { button type="submit" { (t.search_button) } }
        }
        @if text.is_some() {
            p role="status" { (t.results_count.replace("{n}", &(kpis.len() + programs.len()).to_string())) }
            @if kpis.is_empty() && programs.is_empty() { p { (t.no_results) } }
            @if !kpis.is_empty() {
                h2 { (t.nav_kpis) " (" (kpis.len()) ")" }
                ul {
                    @for k in kpis.iter().take(PAGE_SIZE) {
                        li { a href={ "/kpis/" (k.code) } { (lang.name(&k.name_ja, &k.name_en)) } " " span.muted { (k.code) } }
                    }
                }
            }
            @if !programs.is_empty() {
                h2 { (t.nav_programs) " (" (programs.len()) ")" }
                (program_table(lang, &snap, &programs, ctx.fy))
            }
        }
    };
    Ok(render(
        &ctx,
        Page {
            title: t.search_title,
            nav: Nav::Search,
            body,
        },
    ))
}
