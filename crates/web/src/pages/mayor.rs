//! The mayor's view (トップマネジメント, `/mayor`): one page for the mayor and
//! the deputy mayors, readable on a tablet, with its one-page A4 PDF for the
//! briefing (`/mayor.pdf`, with the `pdf` feature). The view model is
//! `citykpi_app::mayor`, built from the read model (status, cycle, evidence)
//! and the demonstrations; the rendered body is cached per snapshot.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use citykpi_app::mayor::{MayorInputs, MayorView};
use citykpi_domain::org::Role;
use maud::{Markup, PreEscaped, html};

use crate::AppState;
use crate::access::{Access, RouteRule};
use crate::cache::Snapshot;
use crate::ctx::Ctx;
use crate::error::{WebError, WebResult};
use crate::i18n::Lang;
use crate::layout::{Nav, Page, pct, render, sen_yen, status_badge};

/// Who reads the mayor's view: the executives, the strategy office that
/// prepares the briefing, and the administrators.
pub const MAYOR_READERS: &[Role] = &[Role::Admin, Role::StrategyOffice, Role::Executive];

pub const ROUTES: &[RouteRule] = &[
    RouteRule {
        method: "GET",
        path: "/mayor",
        access: Access::Roles(MAYOR_READERS),
    },
    RouteRule {
        method: "GET",
        path: "/mayor.pdf",
        access: Access::Roles(MAYOR_READERS),
    },
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/mayor", get(page))
        .route("/mayor.pdf", get(pdf))
}

/// The view of the year shown, from the snapshot (and the demonstrations).
pub async fn view(
    state: &AppState,
    snap: &std::sync::Arc<Snapshot>,
    ctx: &Ctx,
) -> WebResult<MayorView> {
    let fy = ctx.fy;
    let report = snap.status(fy);
    let before = snap.status(fy.prev());
    let cycle = snap
        .cycle_year(state.store(), fy)
        .await
        .map_err(|e| WebError::BadRequest(e.to_string()))?;
    let demonstrations = state
        .store()
        .demonstrations()
        .await
        .map_err(|e| WebError::BadRequest(e.to_string()))?;
    let evidence: Vec<citykpi_store::StoredEvidence> =
        snap.evidence_by_kpi.values().flatten().cloned().collect();
    let cycle = cycle.records.cycle.is_some().then_some(&*cycle);
    Ok(citykpi_app::mayor::build(&MayorInputs {
        ds: &snap.ds,
        report: &report,
        before: Some(&before),
        cycle,
        evidence: &evidence,
        demonstrations: &demonstrations,
        today: citykpi_app::clock::today(),
    }))
}

fn tile(label: &str, value: String, id: &str) -> Markup {
    html! {
        div.mayor-tile id=(id) {
            span.mayor-tile-value { (value) }
            span.mayor-tile-label { (label) }
        }
    }
}

/// The body of the page (without the frame).
pub fn body(lang: Lang, v: &MayorView, fy_query: &str) -> Markup {
    let t = lang.text();
    let d = &v.decisions;
    let on_track = v.counts.achieved + v.counts.on_track;
    html! {
        h1 { (t.mayor_title) " — " (lang.fy(v.fy)) }
        p.muted {
            (t.mayor_as_of) " " (v.today.to_string())
            " ・ " (v.plan_name_ja)
            " ・ " a href={ "/mayor.pdf" (fy_query) } { (t.mayor_pdf) }
        }
        div.mayor-tiles {
            (tile(t.mayor_kpis_total, v.counts.total().to_string(), "tile-total"))
            (tile(t.mayor_on_track, on_track.to_string(), "tile-on-track"))
            (tile(t.mayor_off_track, v.off_track_count.to_string(), "tile-off-track"))
            (tile(t.mayor_sheets_to_review, d.sheets_to_review.to_string(), "tile-review"))
            (tile(t.mayor_requests_unassessed, d.requests_unassessed.to_string(), "tile-unassessed"))
            (tile(t.mayor_demos_running, v.demonstrations_running.to_string(), "tile-demos"))
        }
        div.mayor-grid {
            section.card aria-labelledby="areas-h" {
                h2 id="areas-h" { (t.mayor_areas) }
                div.table-wrap { table {
                    thead { tr {
                        th scope="col" { (t.mayor_area) }
                        th scope="col" { (t.status) }
                        th.num scope="col" { (t.mayor_rate) }
                        th.num scope="col" { (t.mayor_off_track) }
                    } }
                    tbody {
                        @for a in &v.areas {
                            tr data-area=(a.code) {
                                td { (lang.name(&a.name_ja, &a.name_en)) }
                                td { (status_badge(lang, a.status)) }
                                td.num { (pct(a.rate)) }
                                td.num { (a.counts.behind + a.counts.at_risk) " / " (a.counts.total()) }
                            }
                        }
                    }
                } }
            }
            section.card aria-labelledby="off-h" {
                h2 id="off-h" { (t.mayor_off_track_title) " " span.muted id="off-track-count" { (v.off_track_count) } }
                @if v.off_track.is_empty() {
                    p { (t.mayor_none) }
                } @else {
                    div.table-wrap { table {
                        thead { tr {
                            th scope="col" { (t.kpi) }
                            th scope="col" { (t.status) }
                            th.num scope="col" { (t.mayor_probability) }
                            th scope="col" { (t.mayor_departments) }
                        } }
                        tbody {
                            @for k in &v.off_track {
                                tr data-kpi=(k.code) {
                                    td { a href={ "/kpis/" (k.code) (fy_query) } { (lang.name(&k.name_ja, &k.name_en)) } }
                                    td { (status_badge(lang, k.status)) }
                                    td.num { (pct(k.probability)) }
                                    td { (k.departments.join("、")) }
                                }
                            }
                        }
                    } }
                    @if v.off_track_count > v.off_track.len() {
                        p.muted { a href={ "/kpis?status=at_risk" } { (t.mayor_more) } }
                    }
                }
            }
            section.card aria-labelledby="decisions-h" {
                h2 id="decisions-h" { (t.mayor_decisions) }
                @if !d.started {
                    p { (t.mayor_cycle_not_started) }
                } @else {
                    dl.mayor-facts {
                        dt { (t.mayor_stage) }
                        dd id="cycle-stage" {
                            @match d.stage {
                                Some(s) => {
                                    (s.number()) ". " (lang.name(s.label_ja(), s.label_en()))
                                    @if let Some(dl) = &d.deadline { " （" (t.mayor_deadline) " " (dl) "）" }
                                }
                                None => { (t.mayor_cycle_done) }
                            }
                        }
                        dt { (t.mayor_sheets_to_review) }
                        dd id="sheets-to-review" { (d.sheets_to_review) }
                        dt { (t.mayor_restructuring) }
                        dd { (d.restructuring_undecided) " / " (d.restructuring_candidates) }
                        @if let Some(b) = d.budget_fy {
                            dt { (t.mayor_budget) " " (lang.fy(b)) }
                            dd {
                                (t.mayor_requested) " " (sen_yen(d.requested)) (t.mayor_sen_yen)
                                " ・ " (t.mayor_assessed) " " (sen_yen(d.assessed)) (t.mayor_sen_yen)
                                " ・ " (t.mayor_last_year) " " (sen_yen(d.last_year_budget)) (t.mayor_sen_yen)
                            }
                            dt { (t.mayor_requests_unassessed) }
                            dd id="requests-unassessed" { (d.requests_unassessed) " / " (d.requests) }
                        }
                    }
                    @if let Some(fy) = d.fy {
                        p { a href={ "/cycle?fy=" (fy.year()) } { (t.nav_cycle) } }
                    }
                }
            }
            section.card aria-labelledby="evidence-h" {
                h2 id="evidence-h" { (t.mayor_evidence) }
                @if v.evidence.is_empty() {
                    p { (t.mayor_none) }
                } @else {
                    ul {
                        @for e in &v.evidence {
                            li {
                                strong { (e.grade.letter()) } " "
                                (lang.name(e.method.label_ja(), e.method.label_en())) ": "
                                (e.program_name) " → " a href={ "/kpis/" (e.kpi_code) } { (e.kpi_name) }
                                " " (crate::layout::num(e.estimate)) (e.unit)
                                span.muted { " (" (e.recorded_at) ")" }
                            }
                        }
                    }
                }
            }
            section.card aria-labelledby="demos-h" {
                h2 id="demos-h" { (t.mayor_demos) " " span.muted { (v.demonstrations_running) } }
                @if v.demonstrations.is_empty() {
                    p { (t.mayor_none) }
                } @else {
                    ul {
                        @for x in &v.demonstrations {
                            li { (x.title) span.muted { " " (x.start.to_string()) "〜" (x.end.to_string()) } }
                        }
                    }
                }
            }
            section.card aria-labelledby="changes-h" {
                h2 id="changes-h" { (t.mayor_changes) }
                @let c = &v.changes;
                p {
                    @if let Some(s) = c.since { (s.to_string()) "〜" (v.today.to_string()) ": " }
                    (t.mayor_actuals_entered) " " span id="actuals-entered" { (c.actuals_count) }
                    " ・ " (t.mayor_evidence_new) " " (c.evidence_count)
                    " ・ " (t.mayor_demos_started) " " (c.demonstrations_started)
                }
                @if !c.actuals.is_empty() {
                    ul {
                        @for (code, name, period) in &c.actuals {
                            li { a href={ "/kpis/" (code) } { (name) } " " span.muted { (period) } }
                        }
                    }
                }
                p {
                    (lang.fy(v.fy.prev())) " → " (lang.fy(v.fy)) ": "
                    (t.changes_improved) " " (c.improved) " ・ " (t.changes_worsened) " " (c.worsened)
                }
                @if !c.moved.is_empty() {
                    ul {
                        @for (code, name, was, is) in &c.moved {
                            li {
                                a href={ "/kpis/" (code) (fy_query) } { (name) } " "
                                (status_badge(lang, *was)) " → " (status_badge(lang, *is))
                            }
                        }
                    }
                }
            }
        }
    }
}

pub async fn page(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let snap = state.snapshot().await?;
    let t = ctx.t;
    let today = citykpi_app::clock::today();
    let key = format!("mayor:{}:{}:{today}", ctx.fy, ctx.lang.code());
    // Built and rendered once per snapshot, which any write replaces (a
    // demonstration's too: every write is audited); the demonstrations are
    // read from the store only then.
    let q = ctx.fy_query();
    let html = snap
        .fragment_async(key, || async {
            let v = view(&state, &snap, &ctx).await?;
            Ok(body(ctx.lang, &v, &q).into_string())
        })
        .await?;
    Ok(render(
        &ctx,
        Page {
            title: t.mayor_title,
            nav: Nav::None,
            body: html! { (PreEscaped(html.to_string())) },
        },
    ))
}

#[cfg(feature = "pdf")]
pub async fn pdf(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    use axum::http::{HeaderValue, StatusCode, header};
    use axum::response::IntoResponse;
    let snap = state.snapshot().await?;
    let v = view(&state, &snap, &ctx).await?;
    let city = citykpi_app::reports::city_names(state.store()).await?;
    let fy = v.fy;
    // Typesetting takes a second or more: off the async workers.
    let bytes = tokio::task::spawn_blocking(move || {
        let fonts = citykpi_pdf::Fonts::shared()?;
        citykpi_pdf::mayor_pdf(fonts, &brief_of(&city.ja, &v))
    })
    .await
    .map_err(|e| WebError::BadRequest(e.to_string()))?
    .map_err(|e| {
        tracing::error!(error = %e, "mayor PDF");
        WebError::BadRequest(e.to_string())
    })?;
    let mut resp = (StatusCode::OK, bytes).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    if let Ok(v) =
        HeaderValue::from_str(&format!("attachment; filename=\"mayor-{}.pdf\"", fy.year()))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// The briefing's contents in Japanese, formatted as on the page.
#[cfg(feature = "pdf")]
pub fn brief_of(city: &str, v: &MayorView) -> citykpi_pdf::MayorBrief {
    let d = &v.decisions;
    let lang = Lang::Ja;
    let t = lang.text();
    let yen = |y: i64| format!("{}{}", sen_yen(y), t.mayor_sen_yen);
    let mut decisions = Vec::new();
    if d.started {
        decisions.push((
            t.mayor_stage.to_string(),
            match d.stage {
                Some(s) => format!(
                    "{}. {}{}",
                    s.number(),
                    s.label_ja(),
                    d.deadline
                        .as_ref()
                        .map(|x| format!("（{} {x}）", t.mayor_deadline))
                        .unwrap_or_default()
                ),
                None => t.mayor_cycle_done.to_string(),
            },
        ));
        decisions.push((
            t.mayor_sheets_to_review.to_string(),
            d.sheets_to_review.to_string(),
        ));
        decisions.push((
            t.mayor_restructuring.to_string(),
            format!(
                "{} / {}",
                d.restructuring_undecided, d.restructuring_candidates
            ),
        ));
        if let Some(b) = d.budget_fy {
            decisions.push((
                format!("{} {}", t.mayor_budget, b.label_ja()),
                format!(
                    "{} {} ・ {} {}",
                    t.mayor_requested,
                    yen(d.requested),
                    t.mayor_assessed,
                    yen(d.assessed)
                ),
            ));
            decisions.push((
                t.mayor_requests_unassessed.to_string(),
                format!("{} / {}", d.requests_unassessed, d.requests),
            ));
        }
    } else {
        decisions.push((
            t.mayor_stage.to_string(),
            t.mayor_cycle_not_started.to_string(),
        ));
    }
    let c = &v.changes;
    let mut changes = vec![
        format!("{} {}", t.mayor_actuals_entered, c.actuals_count),
        format!(
            "{} → {}: {} {} ・ {} {}",
            v.fy.prev().label_ja(),
            v.fy.label_ja(),
            t.changes_improved,
            c.improved,
            t.changes_worsened,
            c.worsened
        ),
    ];
    changes.extend(
        c.moved
            .iter()
            .map(|(_, name, was, is)| format!("{name}: {} → {}", was.label_ja(), is.label_ja())),
    );
    citykpi_pdf::MayorBrief {
        title: format!("{city} {} {}", t.mayor_title, v.fy.label_ja()),
        as_of: format!("{} {}", t.mayor_as_of, v.today),
        tiles: vec![
            (t.mayor_kpis_total.into(), v.counts.total().to_string()),
            (
                t.mayor_on_track.into(),
                (v.counts.achieved + v.counts.on_track).to_string(),
            ),
            (t.mayor_off_track.into(), v.off_track_count.to_string()),
            (
                t.mayor_sheets_to_review.into(),
                d.sheets_to_review.to_string(),
            ),
            (
                t.mayor_requests_unassessed.into(),
                d.requests_unassessed.to_string(),
            ),
            (
                t.mayor_demos_running.into(),
                v.demonstrations_running.to_string(),
            ),
        ],
        areas: v
            .areas
            .iter()
            .map(|a| {
                [
                    a.name_ja.clone(),
                    a.status.label_ja().to_string(),
                    pct(a.rate),
                    format!(
                        "{} / {}",
                        a.counts.behind + a.counts.at_risk,
                        a.counts.total()
                    ),
                ]
            })
            .collect(),
        off_track: v
            .off_track
            .iter()
            .map(|k| {
                [
                    k.name_ja.clone(),
                    k.status.label_ja().to_string(),
                    pct(k.probability),
                    k.departments.join("、"),
                ]
            })
            .collect(),
        off_track_more: if v.off_track_count > v.off_track.len().min(8) {
            format!("ほか{}件", v.off_track_count - v.off_track.len().min(8))
        } else {
            String::new()
        },
        decisions,
        evidence: v
            .evidence
            .iter()
            .map(|e| {
                format!(
                    "{} {}: {} → {} {}{}",
                    e.grade.letter(),
                    e.method.label_ja(),
                    e.program_name,
                    e.kpi_name,
                    crate::layout::num(e.estimate),
                    e.unit
                )
            })
            .collect(),
        demonstrations: v
            .demonstrations
            .iter()
            .map(|x| format!("{}（{}〜{}）", x.title, x.start, x.end))
            .collect(),
        changes,
    }
}

/// Without the `pdf` feature the PDF route says so.
#[cfg(not(feature = "pdf"))]
pub async fn pdf(ctx: Ctx) -> WebResult<Response> {
    let _ = ctx;
    Err(WebError::NotFound)
}
