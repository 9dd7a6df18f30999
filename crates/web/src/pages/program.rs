//! A program (事務事業): evaluation fields, money over the years with full
//! cost and unit cost, indicators, and the KPIs it serves.

use crate::extract::Path;
use axum::extract::State;
use axum::response::Response;
use citykpi_charts::{MoneyChart, MoneyLabels, MoneyYear, money_chart};
use citykpi_domain::cycle::lineage::LineageKind;
use citykpi_domain::program::{DeliveryMethod, IndicatorKind, Program};
use citykpi_store::StoredEvidence;
use maud::{Markup, PreEscaped, html};

use crate::AppState;
use crate::access::{can_edit_money, can_edit_program};
use crate::cache::Snapshot;
use crate::ctx::Ctx;
use crate::error::{WebError, WebResult};
use crate::i18n::Lang;
use crate::layout::{Nav, Page, chart, num, opt_num, pct, render, sen_yen, status_badge};
use crate::pages::kpi::{evidence_section, section_label};

pub fn delivery_label(lang: Lang, d: DeliveryMethod) -> &'static str {
    match lang {
        Lang::Ja => d.label_ja(),
        Lang::En => match d {
            DeliveryMethod::Direct => "Direct",
            DeliveryMethod::Outsourced => "Outsourced",
            DeliveryMethod::Subsidy => "Subsidy",
            DeliveryMethod::DesignatedManager => "Designated manager",
        },
    }
}

fn money_section(lang: Lang, snap: &Snapshot, p: &Program) -> Markup {
    let t = lang.text();
    let rows: Vec<&citykpi_domain::money::ProgramMoney> = snap
        .money_by_program
        .get(&p.code)
        .map(|v| v.iter().map(|i| &snap.ds.money[*i]).collect())
        .unwrap_or_default();
    let years: Vec<MoneyYear> = rows
        .iter()
        .map(|m| MoneyYear {
            label: m.fy.year().to_string(),
            budget: m.budget(),
            direct_cost: m.direct_cost(),
            settled: m.settled.is_some(),
            staff_cost: m.staff_cost(),
        })
        .collect();
    let svg = money_chart(&MoneyChart {
        id: "money-chart",
        title: t.money_title,
        desc: t.money_desc,
        unit: t.yen_thousand,
        divisor: 1000,
        years: &years,
        labels: MoneyLabels {
            budget: t.budget,
            direct_cost: t.direct_cost,
            staff_cost: t.staff_cost,
            not_settled: t.not_settled,
        },
        width: 720,
        height: 300,
    });
    html! {
        figure { (chart(&svg)) figcaption { (t.money_desc) } }
        div.table-wrap {
            table {
                caption { (t.money_title) "（" (t.yen_thousand) "）" }
                thead { tr {
                    th scope="col" { (t.fy_label) }
                    th.num scope="col" { (t.budget_initial) }
                    th.num scope="col" { (t.budget_revised) }
                    th.num scope="col" { (t.settled) }
                    th.num scope="col" { (t.staff_fte) }
                    th.num scope="col" { (t.staff_cost) }
                    th.num scope="col" { (t.full_cost) }
                    th.num scope="col" { (t.output_quantity) }
                    th.num scope="col" { (t.unit_cost) "（" (t.yen) "）" }
                } }
                tbody {
                    @for m in &rows {
                        tr {
                            th scope="row" { (lang.fy(m.fy)) }
                            td.num { (sen_yen(m.budget_initial)) }
                            td.num { (m.budget_revised.map(sen_yen).unwrap_or_else(|| "−".into())) }
                            td.num { (m.settled.map(sen_yen).unwrap_or_else(|| t.not_settled.into())) }
                            td.num { (num(m.staff_fte)) }
                            td.num { (sen_yen(m.staff_cost())) }
                            td.num { (sen_yen(m.full_cost())) }
                            td.num { (opt_num(m.output_quantity)) }
                            td.num { (m.unit_cost().map(|c| citykpi_domain::money::format_yen(c.round() as i64)).unwrap_or_else(|| "−".into())) }
                        }
                    }
                }
            }
        }
    }
}

fn indicators_section(lang: Lang, snap: &Snapshot, p: &Program) -> Markup {
    let t = lang.text();
    let mut rows: Vec<&citykpi_domain::program::ProgramIndicator> = snap
        .indicators_by_program
        .get(&p.code)
        .map(|v| v.iter().map(|i| &snap.ds.indicators[*i]).collect())
        .unwrap_or_default();
    rows.sort_by(|a, b| a.code.cmp(&b.code).then(a.fy.cmp(&b.fy)));
    html! {
        @if rows.is_empty() { p { (t.none) } } @else {
            div.table-wrap {
                table {
                    caption { (t.indicators) }
                    thead { tr {
                        th scope="col" { (t.indicator_kind) }
                        th scope="col" { (t.name) }
                        th scope="col" { (t.fy_label) }
                        th.num scope="col" { (t.target) }
                        th.num scope="col" { (t.actual) }
                        th scope="col" { (t.unit) }
                    } }
                    tbody {
                        @for i in rows {
                            tr {
                                td { @if i.kind == IndicatorKind::Activity { (t.kind_activity) } @else { (t.kind_outcome) } }
                                td { (i.name_ja) }
                                td { (lang.fy(i.fy)) }
                                td.num { (opt_num(i.target)) }
                                td.num { (opt_num(i.actual)) }
                                td { (i.unit) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A program's lineage: the recorded merges, splits, abolitions and renames
/// it took part in (transitively), and the KPI links of every program of that
/// lineage, so a KPI's contribution can be followed across the change.
fn lineage_section(lang: Lang, snap: &Snapshot, code: &str) -> Markup {
    let t = lang.text();
    let h = citykpi_app::cycle::history_of(code, &snap.lineage, &snap.ds.links);
    let program_link = |c: &str| {
        html! {
            @if let Some(p) = snap.program(c) {
                a href={ "/programs/" (c) } { (c) " " (lang.name(&p.name_ja, &p.name_en)) }
            } @else { (c) }
        }
    };
    html! {
        h2 { (t.lineage) }
        @if h.steps.is_empty() { p { (t.lineage_none) } } @else {
            div.table-wrap { table {
                thead { tr {
                    th scope="col" { (t.fy_label) }
                    th scope="col" { (t.lineage_kind) }
                    th scope="col" { (t.lineage_from) }
                    th scope="col" { (t.lineage_to) }
                    th scope="col" { (t.lineage_note) }
                } }
                tbody {
                    @for step in &h.steps {
                        tr {
                            td { (lang.fy(step.fy)) }
                            td { @match LineageKind::parse(&step.kind) {
                                Some(k) => (lang.name(k.label_ja(), k.label_en())),
                                None => (step.kind),
                            } }
                            td { @for (i, c) in step.from_codes.iter().enumerate() { @if i > 0 { "、" } (program_link(c)) } }
                            td { @for (i, c) in step.to_codes.iter().enumerate() { @if i > 0 { "、" } (program_link(c)) } }
                            td { (step.note) }
                        }
                    }
                }
            } }
            h3 { (t.lineage_links) }
            div.table-wrap { table {
                thead { tr {
                    th scope="col" { (t.program) }
                    th scope="col" { (t.kpi) }
                    th.num scope="col" { (t.contribution) }
                } }
                tbody {
                    @for l in &h.links {
                        tr {
                            td { (program_link(&l.program_code)) }
                            td { @if let Some(k) = snap.kpi(&l.kpi_code) {
                                a href={ "/kpis/" (k.code) } { (lang.name(&k.name_ja, &k.name_en)) }
                            } @else { (l.kpi_code) } }
                            td.num { (pct(Some(l.weight))) }
                        }
                    }
                }
            } }
        }
    }
}

pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> WebResult<Response> {
    let snap = state.snapshot().await?;
    let p = snap.program(&code).ok_or(WebError::NotFound)?;
    let t = ctx.t;
    let lang = ctx.lang;
    let name = lang.name(&p.name_ja, &p.name_en);
    let dept = snap.program_department(p);
    let user = ctx.user();
    let may_edit = user.is_some_and(|u| can_edit_program(u, dept));
    let may_money = user.is_some_and(|u| can_edit_money(u, dept));
    let report = snap.status(ctx.fy);
    let links = snap
        .links_by_program
        .get(&p.code)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let body = snap.fragment(format!("program:{}:{}:{}:{}:{}", p.code, ctx.fy, ctx.lang.code(), may_edit, may_money), || {
        html! {
        nav aria-label="breadcrumb" {
            ol.breadcrumbs {
                li { a href="/" { (t.nav_home) } }
                li { a href="/programs" { (t.nav_programs) } }
                li aria-current="page" { (name) }
            }
        }
        h1 { (name) }
        p.lead { (t.code) ": " (p.code) " ・ " (section_label(lang, &snap, &p.section_code)) " ・ " @if p.published { (t.published) } @else { (t.draft) } }
        @if may_edit || may_money {
            p.inline-form {
                @if may_edit { a.button href={ "/programs/" (p.code) "/edit" } { (t.edit_program) } }
                @if may_money { a.button.secondary href={ "/programs/" (p.code) "/money" } { (t.edit_money) } }
            }
        }
        h2 { (t.evaluation) }
        dl.fields {
            dt { (t.purpose) } dd { (p.purpose) }
            dt { (t.target_group) } dd { (p.target_group) }
            dt { (t.intent) } dd { (p.intent) }
            dt { (t.means) } dd { (p.means) }
            dt { (t.delivery) } dd { (delivery_label(lang, p.delivery)) }
            dt { (t.legal_basis) } dd { (p.legal_basis) }
            dt { (t.period_of_program) }
            dd {
                (p.start_fy.map(|f| lang.fy(f)).unwrap_or_default()) " 〜 " (p.end_fy.map(|f| lang.fy(f)).unwrap_or_default())
            }
            dt { (t.mandatory) } dd { @if p.mandatory { (t.yes) } @else { (t.no) } }
        }
        h2 { (t.money_title) }
        (money_section(lang, &snap, p))
        h2 { (t.indicators) }
        (indicators_section(lang, &snap, p))
        h2 { (t.kpis_served) }
        @if links.is_empty() { p { (t.none) } } @else {
            div.table-wrap {
                table {
                    thead { tr {
                        th scope="col" { (t.kpi) }
                        th.num scope="col" { (t.contribution) }
                        th scope="col" { (t.evidence) }
                        th scope="col" { (t.status) " （" (lang.fy(ctx.fy)) "）" }
                    } }
                    tbody {
                        @for l in links.iter().map(|i| &snap.ds.links[*i]) {
                            @if let Some(k) = snap.kpi(&l.kpi_code) {
                                tr {
                                    td { a href={ "/kpis/" (k.code) } { (lang.name(&k.name_ja, &k.name_en)) } }
                                    td.num { (pct(Some(l.weight))) }
                                    td { (l.evidence_grade.letter()) " " (l.rationale) " " a href={ "/evidence?kpi=" (k.code) "&program=" (p.code) } { (lang.name("根拠を分析", "Analyse")) } }
                                    td { @if let Some(r) = report.kpis.iter().find(|r| r.code == k.code) { (status_badge(lang, r.progress.status)) } }
                                }
                            }
                        }
                    }
                }
            }
        }
        @let evidence: Vec<&StoredEvidence> = links
            .iter()
            .map(|i| &snap.ds.links[*i])
            .flat_map(|l| snap.evidence_by_kpi.get(&l.kpi_code).into_iter().flatten())
            .filter(|e| e.evidence.program_code == p.code)
            .collect();
        (evidence_section(lang, &snap, &evidence))
        (lineage_section(lang, &snap, &p.code))
        }
        .into_string()
    });
    let body = PreEscaped(body.to_string());
    Ok(render(
        &ctx,
        Page {
            title: name,
            nav: Nav::Programs,
            body,
        },
    ))
}
