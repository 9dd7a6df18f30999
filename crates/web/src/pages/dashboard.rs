//! The home dashboard: counts by status, the plan tree with each node's
//! status and progress, and what changed since the last cycle.

use std::collections::HashMap;

use axum::extract::State;
use axum::response::Response;
use citykpi_app::status::{KpiStatusRow, StatusReport};
use citykpi_charts::{ProgressBar, StatusSlice, palette, progress_bar, status_bar};
use citykpi_domain::FiscalYear;
use citykpi_domain::progress::{NodeProgress, Status};
use maud::{Markup, PreEscaped, html};

use crate::AppState;
use crate::cache::Snapshot;
use crate::ctx::Ctx;
use crate::error::WebResult;
use crate::i18n::Lang;
use crate::layout::{Nav, Page, chart, fy_switcher, pct, render, status_badge};

/// The years the switcher offers: the span of the plans, up to the current year.
pub fn fy_options(snap: &Snapshot, chosen: FiscalYear) -> Vec<FiscalYear> {
    let current = citykpi_app::clock::current_fiscal_year();
    let first = snap
        .ds
        .plans
        .iter()
        .map(|p| p.start_fy)
        .min()
        .unwrap_or(chosen);
    let last = snap
        .ds
        .plans
        .iter()
        .map(|p| p.end_fy)
        .max()
        .unwrap_or(chosen)
        .min(current);
    let mut years: Vec<FiscalYear> = (first.year()..=last.year())
        .filter_map(|y| FiscalYear::new(y).ok())
        .collect();
    if !years.contains(&chosen) {
        years.push(chosen);
        years.sort();
    }
    years
}

/// Counts by status as a bar chart with the same numbers in a table.
pub fn status_counts(
    lang: Lang,
    id: &str,
    counts: &citykpi_domain::progress::StatusCounts,
) -> Markup {
    let t = lang.text();
    let slices: Vec<StatusSlice> = Status::ALL
        .iter()
        .map(|s| StatusSlice {
            code: s.as_str(),
            label: lang.status(*s),
            count: counts.get(*s),
            color: palette::status_color(s.as_str()),
        })
        .collect();
    let desc: Vec<String> = slices
        .iter()
        .map(|s| format!("{} {}", s.label, s.count))
        .collect();
    let svg = status_bar(id, t.counts_desc, &desc.join("、"), &slices, 560);
    html! {
        figure {
            (chart(&svg))
        }
        div.table-wrap {
            table {
                caption.visually-hidden { (t.counts_desc) }
                thead { tr { th scope="col" { (t.status) } th.num scope="col" { (t.kpi_unit) } } }
                tbody {
                    @for s in Status::ALL {
                        tr { td { (status_badge(lang, s)) } td.num { (counts.get(s)) } }
                    }
                    tr { th scope="row" { (t.total) } td.num { (counts.total()) } }
                }
            }
        }
    }
}

/// A bar of the progress to the final target (0..1), labelled as such for
/// screen readers and, as a tooltip, for everyone.
pub fn progress(lang: Lang, rate: Option<f64>, status: Status) -> Markup {
    let t = lang.text();
    let label = format!(
        "{} {}",
        t.progress_to_final,
        pct(rate.map(|r| r.clamp(0.0, 1.0)))
    );
    html! {
        span.progress-to-final title=(label) {
            (chart(&progress_bar(&ProgressBar {
                label: &label,
                fraction: rate,
                color: palette::status_color(status.as_str()),
                width: 150,
            })))
        }
    }
}

/// The plan trees of a status report. `kpi_href` gives the link of a KPI
/// (the staff page or the public one).
pub fn plan_tree(
    lang: Lang,
    snap: &Snapshot,
    report: &StatusReport,
    kpi_href: &dyn Fn(&str) -> String,
) -> Markup {
    let rows: HashMap<&str, &KpiStatusRow> =
        report.kpis.iter().map(|r| (r.code.as_str(), r)).collect();
    html! {
        ul.tree {
            @for plan in &report.plans {
                (node(lang, snap, plan, &plan.code, &rows, kpi_href))
            }
        }
    }
}

fn node(
    lang: Lang,
    snap: &Snapshot,
    n: &NodeProgress,
    plan_code: &str,
    rows: &HashMap<&str, &KpiStatusRow>,
    kpi_href: &dyn Fn(&str) -> String,
) -> Markup {
    let t = lang.text();
    let plan = snap.plan(plan_code);
    let (name, kind) = if n.level == 0 {
        (
            plan.map(|p| lang.name(&p.name_ja, &p.name_en))
                .unwrap_or(&n.name_ja)
                .to_string(),
            t.plan.to_string(),
        )
    } else {
        let name = snap
            .node(&n.code)
            .map(|pn| lang.name(&pn.name_ja, &pn.name_en))
            .unwrap_or(&n.name_ja)
            .to_string();
        let level = plan.map(|p| p.level_name(n.level));
        let kind = level
            .map(|l| if lang == Lang::Ja { l.ja } else { l.en })
            .unwrap_or_default();
        (name, kind)
    };
    html! {
        li class={ "level-" (n.level) } {
            div.node {
                span {
                    span.kind { (kind) }
                    (name)
                    " "
                    span.counts {
                        "（"
                        @for (i, s) in Status::ALL.iter().filter(|s| n.counts.get(**s) > 0).enumerate() {
                            @if i > 0 { "・" }
                            (lang.status(*s)) " " (n.counts.get(*s))
                        }
                        "）"
                    }
                }
                (status_badge(lang, n.status))
                (progress(lang, n.rate, n.status))
            }
            @if !n.children.is_empty() || !n.kpis.is_empty() {
                ul {
                    @for c in &n.children {
                        (node(lang, snap, c, plan_code, rows, kpi_href))
                    }
                    @for code in &n.kpis {
                        @if let Some(r) = rows.get(code.as_str()) {
                            li.kpi {
                                div.node {
                                    span {
                                        span.kind { (t.kpi) }
                                        a href=(kpi_href(code)) { (lang.name(&r.name_ja, &r.name_en)) }
                                        @if r.progress.stale { " " span.stale { "（" (t.stale) "）" } }
                                    }
                                    (status_badge(lang, r.progress.status))
                                    (progress(lang, r.progress.progress_to_final, r.progress.status))
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// KPIs whose status differs between two reports, improved first.
pub fn changes<'a>(
    now: &'a StatusReport,
    before: &'a StatusReport,
) -> Vec<(&'a KpiStatusRow, Status, Status)> {
    let old: HashMap<&str, Status> = before
        .kpis
        .iter()
        .map(|r| (r.code.as_str(), r.progress.status))
        .collect();
    let mut out: Vec<(&KpiStatusRow, Status, Status)> = now
        .kpis
        .iter()
        .filter_map(|r| {
            let was = old.get(r.code.as_str()).copied().unwrap_or(Status::NoData);
            (was != r.progress.status).then_some((r, was, r.progress.status))
        })
        .collect();
    // Status order is best first, so new < old means improved.
    out.sort_by_key(|(r, was, is)| (is >= was, r.code.clone()));
    out
}

/// The logged-in user's notices: what their department (a department
/// editor), the strategy office or finance still owes in each running cycle,
/// stage by stage with its deadline. Empty for viewers and when nothing is due.
async fn notices_card(
    state: &AppState,
    ctx: &Ctx,
    snap: &std::sync::Arc<Snapshot>,
) -> WebResult<Markup> {
    let Some(u) = ctx.user() else {
        return Ok(html! {});
    };
    let notices = super::cycle::notices_for(state, snap, u).await?;
    if notices.is_empty() {
        return Ok(html! {});
    }
    let t = ctx.t;
    let lang = ctx.lang;
    Ok(html! {
        section.card.notices aria-labelledby="notices-h" {
            h2 id="notices-h" { (t.notices_title) }
            ul {
                @for n in &notices {
                    li {
                        a href={ "/cycle?fy=" (n.fy.year()) } {
                            (lang.fy(n.fy)) " " (n.stage_number) ". " (lang.name(n.label_ja, n.label_en))
                        }
                        ": " (t.notices_item.replace("{n}", &n.count.to_string()))
                        @if let Some(d) = n.deadline {
                            " （" (t.notices_deadline) " " (d.to_string()) "）"
                        }
                        @if n.overdue { " " strong.overdue { (t.notices_overdue) } }
                    }
                }
            }
        }
    })
}

/// For those who confirm actuals: how many await their confirmation, with
/// the link to the list.
async fn awaiting_notice(state: &AppState, ctx: &Ctx, snap: &Snapshot) -> WebResult<Markup> {
    let Some(u) = ctx.user() else {
        return Ok(html! {});
    };
    let who = crate::pages::entry::confirmer_of(state, u).await?;
    let owners = |code: &str| {
        snap.kpi(code)
            .map(|k| snap.kpi_departments(k))
            .unwrap_or_default()
    };
    let n = citykpi_app::confirm::awaiting(
        &who,
        snap.ds
            .observations
            .iter()
            .filter(|o| o.area_code == snap.area),
        owners,
    )
    .len();
    let t = ctx.t;
    Ok(html! {
        @if n > 0 {
            div.notice.warning role="status" {
                a href="/kpis/confirm" { (t.awaiting_n.replace("{n}", &n.to_string())) }
            }
        }
    })
}

pub async fn page(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let snap = state.snapshot().await?;
    let t = ctx.t;
    let lang = ctx.lang;
    let report = snap.status(ctx.fy);
    let before = snap.status(ctx.fy.prev());
    let changed = changes(&report, &before);
    let years = fy_options(&snap, ctx.fy);
    let body = snap.fragment(format!("dash:{}:{}:{}", ctx.fy, ctx.lang.code(), ctx.fy_explicit), || {
        html! {
        h1 { (t.dashboard_title) " — " (lang.fy(ctx.fy)) }
        (fy_switcher(&ctx, &years, "/"))
        div.grid {
            section.card aria-labelledby="counts-h" {
                h2 id="counts-h" { (t.counts_title) }
                (status_counts(lang, "status-counts", &report.counts))
            }
            section.card aria-labelledby="changes-h" {
                h2 id="changes-h" { (t.changes_title) }
                p.muted { (lang.fy(ctx.fy.prev())) " → " (lang.fy(ctx.fy)) }
                @if changed.is_empty() {
                    p { (t.changes_none) }
                } @else {
                    div.table-wrap {
                        table {
                            thead { tr {
                                th scope="col" { (t.kpi) }
                                th scope="col" { (t.changes_from_to) }
                            } }
                            tbody {
                                @for (r, was, is) in changed.iter().take(20) {
                                    tr {
                                        td { a href={ "/kpis/" (r.code) (ctx.fy_query()) } { (lang.name(&r.name_ja, &r.name_en)) } }
                                        td {
                                            (status_badge(lang, *was)) " → " (status_badge(lang, *is))
                                            " "
                                            @if is < was { span.muted { (t.changes_improved) } }
                                            @else if *is != Status::NoData && *was != Status::NoData { span.muted { (t.changes_worsened) } }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    @if changed.len() > 20 { p.muted { (t.results_count.replace("{n}", &changed.len().to_string())) } }
                }
            }
        }
        section aria-labelledby="tree-h" {
            h2 id="tree-h" { (t.plan_tree) }
            (plan_tree(lang, &snap, &report, &|code| format!("/kpis/{code}{}", ctx.fy_query())))
        }
        }
        .into_string()
    });
    let notices = notices_card(&state, &ctx, &snap).await?;
    let awaiting = awaiting_notice(&state, &ctx, &snap).await?;
    let body = html! { (awaiting) (notices) (PreEscaped(body.to_string())) };
    Ok(render(
        &ctx,
        Page {
            title: t.dashboard_title,
            nav: Nav::Home,
            body,
        },
    ))
}
