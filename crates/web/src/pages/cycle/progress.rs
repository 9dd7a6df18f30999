//! The annual KPI progress report (年次KPI進捗報告書) as a web page: for staff
//! at `/cycle/{fy}/progress`, for citizens at `/public/progress/{fy}` (only
//! published plans and KPIs, through `Snapshot::public_status`), and as the
//! PDF next to them when the web application is built with the `pdf` feature.
//!
//! The page and the PDF render one model, `citykpi_reports::ProgressBook`,
//! built by `citykpi_app::reports::progress_book_of` from the status the read
//! model already holds; the rendered body is kept per data version, year,
//! language and audience (`Snapshot::fragment`), so a visit after the first
//! costs a lookup even at `--scale 10`. Charts are inline SVG from
//! citykpi-charts; the stylesheet's `.progress-report` rules lay it out for
//! printing on A4.

use std::sync::Arc;

use crate::extract::Path;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use citykpi_app::reports::{self, CityNames, ReportServiceError};
use citykpi_app::status::StatusReport;
use citykpi_charts::{ProgressBar, StatusSlice, inline_in_html, palette, progress_bar};
use citykpi_charts::{status_bar, status_donut};
use citykpi_domain::FiscalYear;
use citykpi_domain::progress::{Status, StatusCounts};
use citykpi_reports::progress::{KpiLine, number, percent};
use citykpi_reports::{PolicySection, ProgressBook};
use maud::{Markup, PreEscaped, html};

use crate::AppState;
use crate::cache::Snapshot;
use crate::ctx::Ctx;
use crate::error::WebResult;
use crate::i18n::Lang;
use crate::layout::{Nav, Page, render, status_badge};

/// The page's text.
pub struct ProgressText {
    pub title: &'static str,
    pub summary: &'static str,
    pub all_kpis: &'static str,
    pub contents: &'static str,
    pub status: &'static str,
    pub kpi_count: &'static str,
    pub total: &'static str,
    pub plan_rate: &'static str,
    pub rate: &'static str,
    pub code: &'static str,
    pub name: &'static str,
    pub unit: &'static str,
    pub baseline: &'static str,
    pub target: &'static str,
    pub final_target: &'static str,
    pub actual: &'static str,
    pub achievement: &'static str,
    pub to_final: &'static str,
    pub no_data: &'static str,
    pub no_kpis: &'static str,
    pub commentary: &'static str,
    pub commentary_blank: &'static str,
    pub note: &'static str,
    pub area: &'static str,
    pub stale: &'static str,
    pub pdf: &'static str,
    pub pdf_cli: &'static str,
    pub print: &'static str,
    pub years: &'static str,
    pub prev_year: &'static str,
    pub next_year: &'static str,
    pub bad_year: &'static str,
    pub bad_year_en: &'static str,
    pub status_of: &'static str,
}

impl ProgressText {
    pub const JA: ProgressText = ProgressText {
        title: "年次KPI進捗報告書",
        summary: "KPIの達成状況",
        all_kpis: "全指標",
        contents: "目次",
        status: "状況",
        kpi_count: "指標数",
        total: "合計",
        plan_rate: "計画全体の達成率",
        rate: "達成率",
        code: "コード",
        name: "指標名",
        unit: "単位",
        baseline: "基準値",
        target: "目標値",
        final_target: "最終目標",
        actual: "実績値",
        achievement: "達成率",
        to_final: "最終目標までの進捗",
        no_data: "データなし",
        no_kpis: "この政策に紐付くKPIはありません。",
        commentary: "コメント（所見）",
        commentary_blank: "（記入欄）",
        note: "達成率は各年度の目標値に対する実績値の割合です。実績値の「*」は速報値、状況の「!」は公表予定を過ぎても実績が更新されていない指標を示します。",
        area: "地域コード",
        stale: "実績が更新されていません",
        pdf: "PDFをダウンロード",
        pdf_cli: "PDF版は citykpi report kpi-progress で作成できます",
        print: "A4で印刷できます（ブラウザの印刷機能）",
        years: "他の年度",
        prev_year: "前年度",
        next_year: "翌年度",
        bad_year: "は年度として読めません（例: 2024、R6、令和6年度）",
        bad_year_en: "is not a fiscal year (e.g. 2024, FY2024, R6)",
        status_of: "のKPI達成状況",
    };
    pub const EN: ProgressText = ProgressText {
        title: "Annual KPI progress report",
        summary: "KPIs by status",
        all_kpis: "All KPIs",
        contents: "Contents",
        status: "Status",
        kpi_count: "KPIs",
        total: "Total",
        plan_rate: "Achievement of the whole plan",
        rate: "Achievement",
        code: "Code",
        name: "KPI",
        unit: "Unit",
        baseline: "Baseline",
        target: "Target",
        final_target: "Final target",
        actual: "Actual",
        achievement: "Achievement",
        to_final: "Progress to the final target",
        no_data: "no data",
        no_kpis: "No KPI serves this policy.",
        commentary: "Commentary",
        commentary_blank: "(to be filled in)",
        note: "Achievement is the actual against the target of its year. An actual marked \"*\" is provisional; a status marked \"!\" means the actual is older than its publication schedule allows.",
        area: "Area code",
        stale: "the actual has not been updated",
        pdf: "Download the PDF",
        pdf_cli: "The PDF is made by citykpi report kpi-progress",
        print: "Prints on A4 (the browser's print)",
        years: "Other years",
        prev_year: "Previous year",
        next_year: "Next year",
        bad_year: "は年度として読めません（例: 2024、R6、令和6年度）",
        bad_year_en: "is not a fiscal year (e.g. 2024, FY2024, R6)",
        status_of: ": KPIs by status",
    };
}

pub(super) fn text(lang: Lang) -> &'static ProgressText {
    match lang {
        Lang::Ja => &ProgressText::JA,
        Lang::En => &ProgressText::EN,
    }
}

/// Who the page is for: the public portal shows published records only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Audience {
    Staff,
    Public,
}

impl Audience {
    fn page(self, fy: FiscalYear) -> String {
        match self {
            Audience::Staff => format!("/cycle/{}/progress", fy.year()),
            Audience::Public => format!("/public/progress/{}", fy.year()),
        }
    }
    fn pdf(self, fy: FiscalYear) -> String {
        match self {
            Audience::Staff => format!("/cycle/{}/reports/kpi-progress.pdf", fy.year()),
            Audience::Public => format!("/public/progress/{}/report.pdf", fy.year()),
        }
    }
    fn kpi(self, code: &str) -> String {
        match self {
            Audience::Staff => format!("/kpis/{code}"),
            Audience::Public => format!("/public/kpis/{code}"),
        }
    }
    fn nav(self) -> Nav {
        match self {
            Audience::Staff => Nav::Cycle,
            Audience::Public => Nav::Public,
        }
    }
}

/// A 404 page that says what was wrong with the year.
fn not_found(ctx: &Ctx, audience: Audience, message: &str) -> Response {
    let t = text(ctx.lang);
    let back = match audience {
        Audience::Staff => "/cycle",
        Audience::Public => "/public",
    };
    let body = html! {
        h1 { (t.title) }
        div.error-summary role="alert" tabindex="-1" {
            p { (message) }
        }
        p { a href=(back) { (ctx.t.back_home) } }
    };
    let mut resp = render(
        ctx,
        Page {
            title: t.title,
            nav: audience.nav(),
            body,
        },
    );
    *resp.status_mut() = StatusCode::NOT_FOUND;
    resp
}

/// The year from the path, or the message of the 404 page naming the value.
fn year_of(lang: Lang, raw: &str) -> Result<FiscalYear, String> {
    FiscalYear::parse(raw).map_err(|_| {
        let t = text(lang);
        let shown: String = raw.chars().take(40).collect();
        format!("「{shown}」{} / \"{shown}\" {}", t.bad_year, t.bad_year_en)
    })
}

/// The status the report of `audience` is made from, once it is known that
/// there is a report for the year (started, with some actual).
fn status_of(
    snap: &Snapshot,
    fy: FiscalYear,
    audience: Audience,
) -> Result<Arc<StatusReport>, ReportServiceError> {
    let report = match audience {
        Audience::Staff => snap.status(fy),
        Audience::Public => snap.public_status(fy),
    };
    reports::check_progress_year(fy, &report)?;
    Ok(report)
}

/// The report's records from the read model.
fn book_of(snap: &Snapshot, city: CityNames, report: &StatusReport) -> ProgressBook {
    reports::progress_book_of(
        city,
        report,
        &snap.ds.plans,
        &snap.ds.plan_nodes,
        &snap.ds.kpis,
    )
}

/// The status for the year, or the message of the 404 page saying why
/// there is no report.
fn status_or_404(
    snap: &Snapshot,
    fy: FiscalYear,
    audience: Audience,
) -> WebResult<Result<Arc<StatusReport>, String>> {
    match status_of(snap, fy, audience) {
        Ok(r) => Ok(Ok(r)),
        Err(
            e @ (ReportServiceError::YearNotStarted { .. } | ReportServiceError::NoActuals { .. }),
        ) => Ok(Err(e.to_string())),
        Err(e) => Err(e.into()),
    }
}

fn slices(lang: Lang, counts: &StatusCounts) -> Vec<StatusSlice<'static>> {
    Status::ALL
        .iter()
        .map(|s| StatusSlice {
            code: s.as_str(),
            label: lang.status(*s),
            count: counts.get(*s),
            color: palette::status_color(s.as_str()),
        })
        .collect()
}

fn counts_desc(lang: Lang, counts: &StatusCounts) -> String {
    Status::ALL
        .iter()
        .map(|s| format!("{} {}", lang.status(*s), counts.get(*s)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn counts_table(lang: Lang, counts: &StatusCounts, caption: &str) -> Markup {
    let t = text(lang);
    html! {
        table.report-counts {
            caption.visually-hidden { (caption) }
            thead { tr { th scope="col" { (t.status) } th.num scope="col" { (t.kpi_count) } } }
            tbody {
                @for s in Status::ALL {
                    tr { td { (status_badge(lang, s)) } td.num { (counts.get(s)) } }
                }
            }
            tfoot { tr { th scope="row" { (t.total) } td.num { (counts.total()) } } }
        }
    }
}

fn svg(s: &str) -> Markup {
    PreEscaped(inline_in_html(s))
}

fn year_suffix(fy: Option<FiscalYear>, lang: Lang) -> Markup {
    html! {
        @if let Some(y) = fy {
            br; span.muted.small { (match lang { Lang::Ja => y.to_string(), Lang::En => y.label_en() }) }
        }
    }
}

fn kpi_row(lang: Lang, audience: Audience, k: &KpiLine) -> Markup {
    let t = text(lang);
    let label = match k.progress_to_final {
        Some(f) => format!("{} {}%", t.to_final, (f * 100.0).round() as i64),
        None => format!("{} {}", t.to_final, t.no_data),
    };
    let bar = progress_bar(&ProgressBar {
        label: &label,
        fraction: k.progress_to_final,
        color: palette::status_color(k.status.as_str()),
        width: 120,
    });
    html! {
        tr data-kpi=(k.code) {
            td { code { (k.code) } }
            th scope="row" { a href=(audience.kpi(&k.code)) { (lang.name(&k.name, &k.name_en)) } }
            td { (k.unit) }
            td.num data-field="baseline" { (number(k.baseline)) }
            td.num data-field="target" { (number(k.target)) }
            td.num data-field="final-target" {
                (number(k.final_target))
                (year_suffix(k.final_target_fy, lang))
            }
            td.num data-field="actual" {
                (k.actual_text())
                (year_suffix(k.actual_fy, lang))
            }
            td.num data-field="rate" { (percent(k.rate)) }
            td data-field="status" {
                (status_badge(lang, k.status))
                @if k.stale { abbr title=(t.stale) { "!" } }
            }
            td.report-bar { (svg(&bar)) }
        }
    }
}

fn policy_section(
    lang: Lang,
    audience: Audience,
    pi: usize,
    qi: usize,
    p: &PolicySection,
) -> Markup {
    let t = text(lang);
    let name = lang.name(&p.name, &p.name_en);
    let chart = status_bar(
        &format!("report-status-{pi}-{qi}"),
        &format!("{name}{}", t.status_of),
        &counts_desc(lang, &p.counts),
        &slices(lang, &p.counts),
        640,
    );
    let notes: Vec<&KpiLine> = p.kpis.iter().filter(|k| !k.commentary.is_empty()).collect();
    html! {
        section.report-policy id={ "policy-" (p.code) } aria-labelledby={ "policy-" (p.code) "-h" } {
            h3 id={ "policy-" (p.code) "-h" } { (name) }
            p.report-figures {
                (t.rate) " " strong { (percent(p.rate)) } " ・ "
                (t.status) " " (status_badge(lang, p.status)) " ・ "
                (t.kpi_count) " " (p.counts.total())
            }
            figure.report-chart { (svg(&chart)) }
            @if p.kpis.is_empty() {
                p { (t.no_kpis) }
            } @else {
                div.table-wrap { table.report-kpis {
                    thead { tr {
                        th scope="col" { (t.code) } th scope="col" { (t.name) } th scope="col" { (t.unit) }
                        th.num scope="col" { (t.baseline) } th.num scope="col" { (t.target) }
                        th.num scope="col" { (t.final_target) } th.num scope="col" { (t.actual) }
                        th.num scope="col" { (t.achievement) } th scope="col" { (t.status) }
                        th scope="col" { (t.to_final) }
                    } }
                    tbody { @for k in &p.kpis { (kpi_row(lang, audience, k)) } }
                } }
            }
            div.report-commentary {
                h4 { (t.commentary) }
                @if notes.is_empty() {
                    p.commentary-blank { (t.commentary_blank) }
                } @else {
                    dl {
                        @for k in notes {
                            dt { code { (k.code) } " " (lang.name(&k.name, &k.name_en)) }
                            dd { (k.commentary) }
                        }
                    }
                }
            }
        }
    }
}

fn report_body(lang: Lang, audience: Audience, book: &ProgressBook) -> Markup {
    let t = text(lang);
    let city = lang.name(&book.city_name, &book.city_name_en);
    let fy = book.fy;
    let title = match lang {
        Lang::Ja => format!("{city}{} {}", fy.wareki(), t.title),
        Lang::En => format!("{city} {}, {}", t.title, fy.label_en()),
    }
    .trim()
    .to_string();
    let total = book.counts.total();
    let donut = status_donut(
        "report-status-all",
        t.summary,
        &counts_desc(lang, &book.counts),
        &slices(lang, &book.counts),
        220,
        t.kpi_count,
    );
    let prev = fy.prev();
    let next = FiscalYear::new(fy.year() + 1)
        .ok()
        .filter(|n| *n <= citykpi_app::clock::current_fiscal_year());
    html! {
        article.progress-report {
            header.report-title {
                @if !city.is_empty() { p.report-city { (city) } }
                h1 { (title) }
                p.lead { (lang.fy(fy)) }
                nav.report-years.no-print aria-label=(t.years) {
                    a href=(audience.page(prev)) rel="prev" { "← " (t.prev_year) }
                    @if let Some(n) = next { " ・ " a href=(audience.page(n)) rel="next" { (t.next_year) " →" } }
                }
                p.report-actions.no-print {
                    @if cfg!(feature = "pdf") {
                        a.button href=(audience.pdf(fy)) download { (t.pdf) }
                        " "
                    } @else {
                        span.muted { (t.pdf_cli) } " ・ "
                    }
                    span.muted { (t.print) }
                }
            }
            section.report-summary aria-labelledby="report-summary-h" {
                h2 id="report-summary-h" { (t.summary) "（" (t.all_kpis) " " (total) "）" }
                div.report-summary-body {
                    figure.report-chart { (svg(&donut)) }
                    (counts_table(lang, &book.counts, t.summary))
                }
                p.small.muted { (t.note) " " (t.area) " " (book.area_code) }
            }
            nav.report-toc aria-labelledby="report-toc-h" {
                h2 id="report-toc-h" { (t.contents) }
                ol {
                    @for plan in &book.plans {
                        li {
                            a href={ "#plan-" (plan.code) } { (lang.name(&plan.name, &plan.name_en)) }
                            ol {
                                @for p in &plan.policies {
                                    li { a href={ "#policy-" (p.code) } { (lang.name(&p.name, &p.name_en)) } }
                                }
                            }
                        }
                    }
                }
            }
            @for (pi, plan) in book.plans.iter().enumerate() {
                section.report-plan id={ "plan-" (plan.code) } aria-labelledby={ "plan-" (plan.code) "-h" } {
                    h2 id={ "plan-" (plan.code) "-h" } { (lang.name(&plan.name, &plan.name_en)) }
                    p.report-figures {
                        (t.plan_rate) " " strong { (percent(plan.rate)) } " ・ "
                        (t.status) " " (status_badge(lang, plan.status)) " ・ "
                        (t.kpi_count) " " (plan.counts.total())
                    }
                    (counts_table(lang, &plan.counts, lang.name(&plan.name, &plan.name_en)))
                    @for (qi, p) in plan.policies.iter().enumerate() {
                        (policy_section(lang, audience, pi, qi, p))
                    }
                }
            }
        }
    }
}

/// The public report is made from confirmed actuals only.
async fn audience_snapshot(state: &AppState, audience: Audience) -> WebResult<Arc<Snapshot>> {
    match audience {
        Audience::Staff => state.snapshot().await,
        Audience::Public => state.public_snapshot().await,
    }
}

async fn show(
    state: &AppState,
    ctx: &Ctx,
    raw_fy: &str,
    audience: Audience,
) -> WebResult<Response> {
    let fy = match year_of(ctx.lang, raw_fy) {
        Ok(fy) => fy,
        Err(m) => return Ok(not_found(ctx, audience, &m)),
    };
    let snap = audience_snapshot(state, audience).await?;
    let city = reports::city_names(state.store()).await?;
    let lang = ctx.lang;
    let key = format!(
        "progress:{}:{}:{}",
        match audience {
            Audience::Staff => "staff",
            Audience::Public => "public",
        },
        fy.year(),
        lang.code()
    );
    let report = match status_or_404(&snap, fy, audience)? {
        Ok(r) => r,
        Err(m) => return Ok(not_found(ctx, audience, &m)),
    };
    // The model and the page are made once per data version.
    let body = snap.fragment(key, || {
        report_body(lang, audience, &book_of(&snap, city, &report)).into_string()
    });
    let t = text(lang);
    Ok(render(
        ctx,
        Page {
            title: t.title,
            nav: audience.nav(),
            body: PreEscaped(body.to_string()),
        },
    ))
}

/// `/cycle/{fy}/progress`: the report of every plan and KPI, for staff.
pub async fn staff_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(fy): Path<String>,
) -> WebResult<Response> {
    show(&state, &ctx, &fy, Audience::Staff).await
}

/// `/public/progress/{fy}`: the report of published plans and KPIs.
pub async fn public_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(fy): Path<String>,
) -> WebResult<Response> {
    show(&state, &ctx, &fy, Audience::Public).await
}

#[cfg(feature = "pdf")]
mod pdf {
    use super::*;
    use crate::error::WebError;
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse;

    async fn pdf(
        state: &AppState,
        ctx: &Ctx,
        raw_fy: &str,
        audience: Audience,
    ) -> WebResult<Response> {
        let fy = match year_of(ctx.lang, raw_fy) {
            Ok(fy) => fy,
            Err(m) => return Ok(not_found(ctx, audience, &m)),
        };
        let snap = audience_snapshot(state, audience).await?;
        let city = reports::city_names(state.store()).await?;
        let report = match status_or_404(&snap, fy, audience)? {
            Ok(r) => r,
            Err(m) => return Ok(not_found(ctx, audience, &m)),
        };
        let book = book_of(&snap, city, &report);
        // Typesetting takes a second or more: off the async workers.
        let bytes = tokio::task::spawn_blocking(move || {
            let fonts = citykpi_pdf::Fonts::shared()?;
            citykpi_pdf::kpi_progress_pdf(fonts, &book)
        })
        .await
        .map_err(|e| WebError::BadRequest(e.to_string()))?
        .map_err(|e| {
            tracing::error!(error = %e, "kpi progress PDF");
            WebError::BadRequest(e.to_string())
        })?;
        let name = match audience {
            Audience::Staff => format!("kpi-progress-{}.pdf", fy.year()),
            Audience::Public => format!("kpi-progress-{}-public.pdf", fy.year()),
        };
        let mut resp = (StatusCode::OK, bytes).into_response();
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/pdf"),
        );
        if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
            h.insert(header::CONTENT_DISPOSITION, v);
        }
        Ok(resp)
    }

    pub async fn staff_pdf(
        State(state): State<AppState>,
        ctx: Ctx,
        Path(fy): Path<String>,
    ) -> WebResult<Response> {
        pdf(&state, &ctx, &fy, Audience::Staff).await
    }

    pub async fn public_pdf(
        State(state): State<AppState>,
        ctx: Ctx,
        Path(fy): Path<String>,
    ) -> WebResult<Response> {
        pdf(&state, &ctx, &fy, Audience::Public).await
    }
}

#[cfg(feature = "pdf")]
pub use pdf::{public_pdf, staff_pdf};

/// Without the `pdf` feature the PDF routes say how to make the PDF instead.
#[cfg(not(feature = "pdf"))]
pub async fn staff_pdf(ctx: Ctx) -> WebResult<Response> {
    Ok(no_pdf(&ctx, Audience::Staff))
}

#[cfg(not(feature = "pdf"))]
pub async fn public_pdf(ctx: Ctx) -> WebResult<Response> {
    Ok(no_pdf(&ctx, Audience::Public))
}

#[cfg(not(feature = "pdf"))]
fn no_pdf(ctx: &Ctx, audience: Audience) -> Response {
    not_found(
        ctx,
        audience,
        "このサーバーはPDF機能なしでビルドされています。citykpi report kpi-progress --fy 年度 -o 報告書.pdf で作成してください / this server was built without PDF reports: make the PDF with citykpi report kpi-progress --fy YEAR -o report.pdf",
    )
}
