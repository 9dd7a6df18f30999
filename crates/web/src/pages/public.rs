//! The public, login-free portal for citizens. It shows only published plans
//! and published KPIs; drafts are left out before anything is computed (see
//! `Snapshot::public_status`), and an unpublished record answers 404 exactly
//! like one that does not exist.

use crate::extract::Path;
use axum::extract::State;
use axum::response::Response;
use maud::{PreEscaped, html};

use crate::AppState;
use crate::ctx::Ctx;
use crate::error::{WebError, WebResult};
use crate::layout::{Nav, Page, fy_switcher, opt_num, pct, render, status_badge};
use crate::pages::dashboard::{fy_options, plan_tree, status_counts};
use crate::pages::kpi::{
    basis_span, direction_label, kpi_chart, kpi_outlook, outlook_section, plan_paths, sdg_list,
    sub_year_section, values_table,
};

pub async fn index(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let snap = state.public_snapshot().await?;
    let t = ctx.t;
    let lang = ctx.lang;
    let report = snap.public_status(ctx.fy);
    let years = fy_options(&snap, ctx.fy);
    let fy_q = ctx.fy_query();
    let body = snap.fragment(format!("public:{}:{}:{}", ctx.fy, ctx.lang.code(), ctx.fy_explicit), || {
        html! {
        h1 { (t.public_title) " — " (lang.fy(ctx.fy)) }
        p.lead { (t.public_intro) " " a href="/public/open-data" { (t.public_open_data) } }
        p { a href={ "/public/progress/" (ctx.fy.year()) } { (super::cycle::progress_title(lang)) "（" (lang.fy(ctx.fy)) "）" } }
        nav.card aria-label=(t.public_partners) {
            p {
                strong { (t.public_partners) } " "
                a href="/partners/directory" { (t.public_partner_directory) } " ・ "
                a href="/partners/join" { (t.public_partner_join) } " ・ "
                a href=(crate::pages::partners::menu_public::PUBLIC_MENU) { (t.public_partner_menu) } " ・ "
                a href="/partners/inquire" { (t.public_partner_inquire) }
            }
            p { (crate::pages::partners::intake::public_links(lang)) }
        }
        (fy_switcher(&ctx, &years, "/public"))
        @if report.plans.is_empty() {
            p { (t.public_none) }
        } @else {
            section.card aria-labelledby="counts-h" {
                h2 id="counts-h" { (t.counts_title) }
                (status_counts(lang, "public-counts", &report.counts))
            }
            h2 { (t.plan_tree) }
            ul {
                @for p in snap.ds.plans.iter().filter(|p| p.published) {
                    li { a href={ "/public/plans/" (p.code) (fy_q) } { (lang.name(&p.name_ja, &p.name_en)) } }
                }
            }
            (plan_tree(lang, &snap, &report, &|code| format!("/public/kpis/{code}{fy_q}")))
        }
        }
        .into_string()
    });
    let body = PreEscaped(body.to_string());
    Ok(render(
        &ctx,
        Page {
            title: t.public_title,
            nav: Nav::Public,
            body,
        },
    ))
}

pub async fn plan(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> WebResult<Response> {
    let snap = state.public_snapshot().await?;
    let plan = snap
        .plan(&code)
        .filter(|p| p.published)
        .ok_or(WebError::NotFound)?;
    let t = ctx.t;
    let lang = ctx.lang;
    let full = snap.public_status(ctx.fy);
    let mut report = (*full).clone();
    report.plans.retain(|p| p.code == plan.code);
    let name = lang.name(&plan.name_ja, &plan.name_en);
    let fy_q = ctx.fy_query();
    let counts = report
        .plans
        .first()
        .map(|p| p.counts.clone())
        .unwrap_or_default();
    let body = html! {
        nav aria-label="breadcrumb" { ol.breadcrumbs { li { a href="/public" { (t.public_title) } } li aria-current="page" { (name) } } }
        h1 { (name) " — " (lang.fy(ctx.fy)) }
        p.lead { (lang.fy(plan.start_fy)) " 〜 " (lang.fy(plan.end_fy)) }
        section.card { h2 { (t.counts_title) } (status_counts(lang, "plan-counts", &counts)) }
        h2 { (t.plan_tree) }
        (plan_tree(lang, &snap, &report, &|c| format!("/public/kpis/{c}{fy_q}")))
    };
    Ok(render(
        &ctx,
        Page {
            title: name,
            nav: Nav::Public,
            body,
        },
    ))
}

pub async fn kpi(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> WebResult<Response> {
    let snap = state.public_snapshot().await?;
    let kpi = snap
        .kpi(&code)
        .filter(|k| k.published)
        .ok_or(WebError::NotFound)?;
    let t = ctx.t;
    let lang = ctx.lang;
    let report = snap.public_status(ctx.fy);
    let row = report.kpis.iter().find(|r| r.code == kpi.code);
    let name = lang.name(&kpi.name_ja, &kpi.name_en);
    // Drawn once per data version, fiscal year and language: the forecasts
    // (a seasonal fit for a monthly KPI) are too dear for every request.
    let cached = snap.fragment(
        format!("public-kpi:{}:{}:{}", kpi.code, ctx.fy, lang.code()),
        || {
            html! {
        nav aria-label="breadcrumb" { ol.breadcrumbs { li { a href="/public" { (t.public_title) } } li aria-current="page" { (name) } } }
        h1 { (name) " " @if let Some(r) = row { (status_badge(lang, r.progress.status)) } }
        @if let Some(r) = row {
            dl.fields {
                dt { (t.actual) } dd { (opt_num(r.progress.actual)) " " (kpi.unit) @if let Some(fy) = r.progress.actual_fy { "（" (lang.fy(fy)) "）" } }
                dt { (t.target) } dd { (opt_num(r.progress.target)) " " (kpi.unit) }
                @if let Some(span) = basis_span(lang, &r.progress) { dt { (t.status_basis) } dd { (span) } }
                dt { (t.progress_to_final) } dd { (pct(r.progress.progress_to_final)) }
            }
        }
        @let outlook = kpi_outlook(&snap, kpi, ctx.fy);
        @if let Some(m) = sub_year_section(lang, &snap, kpi, ctx.fy, "public-kpi-chart") { (m) } @else {
            (kpi_chart(lang, &snap, kpi, Some(&outlook), "public-kpi-chart"))
        }
        (values_table(lang, &snap, kpi, false))
        (outlook_section(lang, kpi, &outlook))
        h2 { (t.definition) }
        dl.fields {
            dt { (t.unit) } dd { (kpi.unit) }
            dt { (t.direction) } dd { (direction_label(lang, &kpi.direction)) }
            dt { (t.source) } dd { (kpi.source) }
            dt { (t.description) } dd { (kpi.description) }
        }
        h2 { (t.plans_and_sdgs) }
        ul { @for p in plan_paths(lang, &snap, kpi, true) { li { (p.join(" › ")) } } }
        p { (t.sdg_goals) ": " (sdg_list(lang, kpi)) }
    }
            .into_string()
        },
    );
    let body = html! { (PreEscaped(cached.as_str())) };
    Ok(render(
        &ctx,
        Page {
            title: name,
            nav: Nav::Public,
            body,
        },
    ))
}
