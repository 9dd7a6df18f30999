//! A KPI: definition, chart of actuals against the target path, the values,
//! linked programs with contribution and cost, the plans and SDG goals.

use axum::extract::{Path, State};
use axum::response::Response;
use citykpi_app::forecast::{ForecastMethod, KpiOutlook};
use citykpi_charts::{ActualPoint, ForecastPoint, LineChart, LineLabels, line_chart};
use citykpi_domain::FiscalYear;
use citykpi_domain::kpi::{Direction, Frequency, Kpi};
use citykpi_domain::observation::{ObsStatus, ObsValue, Observation, Period};
use citykpi_domain::progress::expected_value;
use citykpi_store::StoredEvidence;
use maud::{Markup, PreEscaped, html};

use crate::AppState;
use crate::access::can_enter_actual;
use crate::cache::Snapshot;
use crate::ctx::Ctx;
use crate::error::{WebError, WebResult};
use crate::i18n::Lang;
use crate::layout::{Nav, Page, chart, num, opt_num, pct, render, sen_yen, status_badge};

pub fn direction_label(lang: Lang, d: &Direction) -> String {
    let t = lang.text();
    match d {
        Direction::HigherIsBetter => t.direction_higher.to_string(),
        Direction::LowerIsBetter => t.direction_lower.to_string(),
        Direction::Band { lower, upper } => {
            format!("{}（{}〜{}）", t.direction_band, num(*lower), num(*upper))
        }
    }
}

fn frequency_label(lang: Lang, f: Frequency) -> &'static str {
    match (lang, f) {
        (Lang::Ja, Frequency::Annual) => "年次",
        (Lang::Ja, Frequency::Quarterly) => "四半期",
        (Lang::Ja, Frequency::Monthly) => "月次",
        (Lang::En, Frequency::Annual) => "Annual",
        (Lang::En, Frequency::Quarterly) => "Quarterly",
        (Lang::En, Frequency::Monthly) => "Monthly",
    }
}

pub fn period_label(lang: Lang, p: &Period) -> String {
    match (lang, p) {
        (_, Period::Year(fy)) => lang.fy(*fy),
        (Lang::Ja, _) => p.label_ja(),
        (Lang::En, _) => p.to_string(),
    }
}

pub fn obs_value(lang: Lang, v: &ObsValue) -> String {
    match v {
        ObsValue::Value(x) => num(*x),
        ObsValue::Missing => "−".into(),
        ObsValue::Secret => if lang == Lang::Ja {
            "秘匿"
        } else {
            "Withheld"
        }
        .into(),
    }
}

/// The years the chart spans: baseline (or first actual) to the final target
/// (or last actual), so that missing years show as gaps.
fn chart_years(kpi: &Kpi, actual_years: &[i32]) -> (i32, i32) {
    let mut first = kpi
        .baseline
        .map(|b| b.fy.year())
        .into_iter()
        .chain(actual_years.iter().copied());
    let lo = first.by_ref().min().unwrap_or(0);
    let hi = kpi
        .final_target
        .map(|f| f.fy.year())
        .into_iter()
        .chain(kpi.targets.iter().map(|t| t.fy.year()))
        .chain(actual_years.iter().copied())
        .max()
        .unwrap_or(lo);
    (lo, hi)
}

/// The chart of a KPI's yearly actuals against its target path, with the
/// forecast (80% band) after the last actual when there is one.
pub fn kpi_chart(
    lang: Lang,
    snap: &Snapshot,
    kpi: &Kpi,
    outlook: Option<&KpiOutlook>,
    id: &str,
) -> Markup {
    let t = lang.text();
    let obs = snap
        .obs_by_kpi
        .get(&kpi.code)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let actuals: Vec<ActualPoint> = obs
        .iter()
        .map(|i| &snap.ds.observations[*i])
        .filter_map(|o| match (o.period, o.value) {
            (Period::Year(fy), ObsValue::Value(v)) => Some(ActualPoint {
                year: fy.year(),
                value: v,
                provisional: o.status == ObsStatus::Provisional,
            }),
            _ => None,
        })
        .collect();
    let years: Vec<i32> = actuals.iter().map(|a| a.year).collect();
    let (lo, hi) = chart_years(kpi, &years);
    let path: Vec<(i32, f64)> = (lo..=hi)
        .filter_map(|y| FiscalYear::new(y).ok())
        .filter_map(|fy| expected_value(kpi, fy).map(|v| (fy.year(), v)))
        .collect();
    let forecast: Vec<ForecastPoint> = outlook
        .and_then(KpiOutlook::forecast)
        .map(|f| {
            f.path
                .iter()
                .map(|p| ForecastPoint {
                    year: p.year,
                    mean: p.mean,
                    lower: p.lower80,
                    upper: p.upper80,
                })
                .collect()
        })
        .unwrap_or_default();
    let name = lang.name(&kpi.name_ja, &kpi.name_en);
    let svg = line_chart(&LineChart {
        id,
        title: name,
        desc: t.chart_kpi_desc,
        unit: &kpi.unit,
        actuals: &actuals,
        target_path: &path,
        final_target: kpi.final_target.map(|f| (f.fy.year(), f.value)),
        forecast: &forecast,
        labels: LineLabels {
            actual: t.actual,
            provisional: t.provisional,
            target_path: t.target_path,
            final_target: t.final_target,
            forecast: t.forecast_legend,
        },
        width: 720,
        height: 320,
    });
    html! { figure { (chart(&svg)) figcaption { (t.chart_kpi_desc) } } }
}

/// The KPI's forecast to its final target from the city's actuals known at
/// the end of `fy` (one KPI: cheap, so computed when its page is drawn).
pub fn kpi_outlook(snap: &Snapshot, kpi: &Kpi, fy: FiscalYear) -> KpiOutlook {
    let observations: Vec<_> = snap
        .obs_by_kpi
        .get(&kpi.code)
        .map(|v| v.iter().map(|i| snap.ds.observations[*i].clone()).collect())
        .unwrap_or_default();
    citykpi_app::forecast::forecast_kpi(kpi, &observations, &snap.area, fy)
}

/// The forecast in words and numbers: the probability of meeting the final
/// target, the method and why, and the path with its intervals (the text
/// alternative of the chart's band).
pub fn outlook_section(lang: Lang, kpi: &Kpi, outlook: &KpiOutlook) -> Markup {
    let t = lang.text();
    html! {
        h2 { (t.forecast_title) }
        @match outlook {
            KpiOutlook::NotForecast { reason } => {
                p { (t.forecast_none) @if !reason.is_empty() { "：" (reason) } }
            }
            KpiOutlook::Forecast(f) => {
                dl.fields {
                    dt { (t.forecast_probability) }
                    dd { strong { (pct(f.probability_of_reaching)) } }
                    @if let Some(at) = f.at_target() {
                        dt { (t.forecast_at_target) }
                        dd { (num(at.mean)) " " (kpi.unit) "（" (at.year) "）" }
                        dt { (t.forecast_interval80) }
                        dd { (num(at.lower80)) " 〜 " (num(at.upper80)) " " (kpi.unit) }
                        dt { (t.forecast_interval95) }
                        dd { (num(at.lower95)) " 〜 " (num(at.upper95)) " " (kpi.unit) }
                    }
                    dt { (t.forecast_method) }
                    dd {
                        (match lang { Lang::Ja => f.method.label_ja(), Lang::En => method_en(f.method) })
                        @if let Some(m) = &f.model {
                            @match lang { Lang::Ja => { "（" (m) "）" }, Lang::En => { " (" (m) ")" } }
                        }
                        " — " (in_language(lang, &f.reason))
                    }
                    dt { (t.forecast_points) }
                    dd { (f.points_used) }
                }
                p.hint { (t.forecast_note) }
                @if !f.path.is_empty() {
                    div.table-wrap {
                        table {
                            caption { (t.forecast_legend) }
                            thead { tr {
                                th scope="col" { (t.fy_label) }
                                th.num scope="col" { (t.forecast_title) }
                                th.num scope="col" { (t.forecast_interval80) }
                                th.num scope="col" { (t.forecast_interval95) }
                            } }
                            tbody {
                                @for p in &f.path {
                                    tr {
                                        td { (p.year) }
                                        td.num { (num(p.mean)) }
                                        td.num { (num(p.lower80)) " 〜 " (num(p.upper80)) }
                                        td.num { (num(p.lower95)) " 〜 " (num(p.upper95)) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The part of a bilingual service text ("日本語 / English", with
/// bracketed asides "（日本語 / English）" inside the Japanese part) in the
/// reader's language; a text without " / " is returned as it is.
fn in_language(lang: Lang, text: &str) -> String {
    // The " / " that separates the languages is the last one outside brackets.
    let mut depth = 0i32;
    let mut split = None;
    for (i, ch) in text.char_indices() {
        match ch {
            '（' | '(' => depth += 1,
            '）' | ')' => depth -= 1,
            '/' if depth == 0 && text[..i].ends_with(' ') && text[i + 1..].starts_with(' ') => {
                split = Some(i)
            }
            _ => {}
        }
    }
    let Some(i) = split else {
        return text.to_string();
    };
    let (ja, en) = (text[..i - 1].trim(), text[i + 2..].trim());
    // Bracketed asides of the Japanese part: keep their own language's half.
    let mut asides = Vec::new();
    let mut ja_only = String::new();
    let mut rest = ja;
    while let Some(open) = rest.find('（') {
        let after = &rest[open + '（'.len_utf8()..];
        let Some(close) = after.find('）') else {
            break;
        };
        let inner = &after[..close];
        ja_only.push_str(&rest[..open]);
        match inner.split_once(" / ") {
            Some((j, e)) => {
                ja_only.push_str(&format!("（{j}）"));
                asides.push(e.to_string());
            }
            None => ja_only.push_str(&format!("（{inner}）")),
        }
        rest = &after[close + '）'.len_utf8()..];
    }
    ja_only.push_str(rest);
    match lang {
        Lang::Ja => ja_only,
        Lang::En if asides.is_empty() => en.to_string(),
        Lang::En => format!("{en} ({})", asides.join("; ")),
    }
}

fn method_en(m: ForecastMethod) -> &'static str {
    match m {
        ForecastMethod::Ets => "Exponential smoothing (ETS)",
        ForecastMethod::LinearTrend => "Linear trend",
        ForecastMethod::NaiveDrift => "Last change continued",
        ForecastMethod::None => "No forecast",
    }
}

/// An estimate with the precision studies report (three decimals, trailing
/// zeros dropped), where the general number format rounds to one.
fn precise(v: f64) -> String {
    if v.abs() >= 1000.0 {
        return num(v);
    }
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Evidence recorded on program–KPI links: what was estimated, how, on
/// which data, with its interval and grade.
pub fn evidence_section(lang: Lang, snap: &Snapshot, rows: &[&StoredEvidence]) -> Markup {
    let t = lang.text();
    html! {
        h2 { (t.evidence_title) }
        @if rows.is_empty() { p.hint { (t.evidence_none) } } @else {
            div.table-wrap {
                table {
                    thead { tr {
                        th scope="col" { (t.program) " → " (t.kpi) }
                        th scope="col" { (t.evidence_method) }
                        th.num scope="col" { (t.evidence_estimate) }
                        th.num scope="col" { (t.evidence_interval) }
                        th.num scope="col" { (t.evidence_p) }
                        th scope="col" { (t.evidence_grade) }
                        th scope="col" { (t.evidence_data) }
                        th scope="col" { (t.evidence_recorded) }
                    } }
                    tbody {
                        @for r in rows {
                            @let e = &r.evidence;
                            tr {
                                td {
                                    a href={ "/programs/" (e.program_code) } {
                                        (snap.program(&e.program_code).map(|p| lang.name(&p.name_ja, &p.name_en)).unwrap_or(&e.program_code))
                                    }
                                    " → "
                                    a href={ "/kpis/" (e.kpi_code) } {
                                        (snap.kpi(&e.kpi_code).map(|k| lang.name(&k.name_ja, &k.name_en)).unwrap_or(&e.kpi_code))
                                    }
                                }
                                td { (match lang { Lang::Ja => e.method.label_ja(), Lang::En => e.method.label_en() }) }
                                td.num { (precise(e.estimate)) " " (snap.kpi(&e.kpi_code).map(|k| k.unit.as_str()).unwrap_or("")) }
                                td.num {
                                    @if let Some((lo, hi)) = e.interval {
                                        (precise(lo)) " 〜 " (precise(hi))
                                        @if let Some(l) = e.level { "（" (pct(Some(l))) "）" }
                                    } @else { "−" }
                                }
                                td.num { (e.p_value.map(|p| format!("{p:.3}")).unwrap_or_else(|| "−".into())) }
                                td { (e.grade.letter()) }
                                td { (e.data) @if !e.note.is_empty() { br; span.muted { (e.note) } } }
                                td { (r.recorded_by) br; span.muted { (r.recorded_at.get(..10).unwrap_or(&r.recorded_at)) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The table of values with the target of each year (the chart's alternative).
pub fn values_table(lang: Lang, snap: &Snapshot, kpi: &Kpi, with_entered_by: bool) -> Markup {
    values_table_with(lang, snap, kpi, with_entered_by, None)
}

/// A row's action on the staff pages (the confirm button of the entry page).
pub type RowAction<'a> = &'a dyn Fn(&Observation) -> Markup;

/// The values table; on staff pages (`internal`) with who entered each
/// value and whether it is confirmed (未確認 marked), and `action` per row.
pub fn values_table_with(
    lang: Lang,
    snap: &Snapshot,
    kpi: &Kpi,
    internal: bool,
    action: Option<RowAction<'_>>,
) -> Markup {
    let with_entered_by = internal;
    let t = lang.text();
    let obs = snap
        .obs_by_kpi
        .get(&kpi.code)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    html! {
        div.table-wrap {
            table {
                caption { (t.values_table) @if !kpi.unit.is_empty() { "（" (kpi.unit) "）" } }
                thead { tr {
                    th scope="col" { (t.period) }
                    th.num scope="col" { (t.actual) }
                    th scope="col" { (t.value_status) }
                    th.num scope="col" { (t.target) }
                    th scope="col" { (t.source) }
                    th scope="col" { (t.note) }
                    @if with_entered_by {
                        th scope="col" { (t.entered_by) }
                        th scope="col" { (t.confirmation) }
                    }
                    @if action.is_some() { th scope="col" { span.visually-hidden { (t.confirm) } } }
                } }
                tbody {
                    @for o in obs.iter().map(|i| &snap.ds.observations[*i]).rev() {
                        tr class=[(with_entered_by && !o.is_confirmed()).then_some("unconfirmed")] {
                            th scope="row" { (period_label(lang, &o.period)) }
                            td.num { (obs_value(lang, &o.value)) }
                            td { @if o.status == ObsStatus::Provisional { (t.provisional) } @else { (t.final_value) } }
                            td.num { (opt_num(match o.period { Period::Year(fy) => expected_value(kpi, fy), _ => None })) }
                            td { (o.source) }
                            td { (o.note) }
                            @if with_entered_by {
                                td { (o.entered_by) }
                                td {
                                    @if o.is_confirmed() {
                                        (t.confirmed) @if o.confirmed_by != "migration" { "（" (o.confirmed_by) "）" }
                                    } @else {
                                        span.status.unconfirmed { (t.unconfirmed) }
                                    }
                                }
                            }
                            @if let Some(a) = action { td { (a(o)) } }
                        }
                    }
                }
            }
        }
    }
}

/// Plan → policy → measure paths of the nodes a KPI serves.
pub fn plan_paths(lang: Lang, snap: &Snapshot, kpi: &Kpi, public_only: bool) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for link in &kpi.nodes {
        let mut chain = Vec::new();
        let mut cur = snap.node(&link.node_code);
        let mut plan_code = None;
        let mut guard = 0;
        while let Some(n) = cur {
            chain.push(lang.name(&n.name_ja, &n.name_en).to_string());
            plan_code = Some(n.plan_code.clone());
            cur = n.parent_code.as_deref().and_then(|p| snap.node(p));
            guard += 1;
            if guard > 16 {
                break;
            }
        }
        let Some(plan) = plan_code.and_then(|c| snap.plan(&c)) else {
            continue;
        };
        if public_only && !plan.published {
            continue;
        }
        chain.push(lang.name(&plan.name_ja, &plan.name_en).to_string());
        chain.reverse();
        out.push(chain);
    }
    out
}

pub fn sdg_list(lang: Lang, kpi: &Kpi) -> Markup {
    let t = lang.text();
    html! {
        @if kpi.sdgs.is_empty() { (t.none) }
        @for s in &kpi.sdgs {
            span.tag { (t.sdg_goal) " " (s) }
        }
    }
}

pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> WebResult<Response> {
    let snap = state.snapshot().await?;
    let kpi = snap.kpi(&code).ok_or(WebError::NotFound)?;
    let t = ctx.t;
    let lang = ctx.lang;
    let report = snap.status(ctx.fy);
    let row = report.kpis.iter().find(|r| r.code == kpi.code);
    let name = lang.name(&kpi.name_ja, &kpi.name_en);
    let may_enter = ctx
        .user()
        .is_some_and(|u| can_enter_actual(u, &snap.kpi_departments(kpi)));
    let links = snap
        .links_by_kpi
        .get(&kpi.code)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let body = snap.fragment(format!("kpi:{}:{}:{}:{}:{}", kpi.code, ctx.fy, ctx.lang.code(), ctx.fy_explicit, may_enter), || {
        html! {
        nav aria-label="breadcrumb" {
            ol.breadcrumbs {
                li { a href="/" { (t.nav_home) } }
                li { a href="/kpis" { (t.nav_kpis) } }
                li aria-current="page" { (name) }
            }
        }
        h1 { (name) " " @if let Some(r) = row { (status_badge(lang, r.progress.status)) } }
        p.lead { (t.code) ": " (kpi.code) " ・ " (lang.fy(ctx.fy)) " ・ " @if kpi.published { (t.published) } @else { (t.draft) } }
        @if may_enter {
            p { a.button href={ "/kpis/" (kpi.code) "/actuals" } { (t.enter_actual) } }
        }
        p { a href={ "/kpis/" (kpi.code) "/scenario" } { (t.scenario_link) } }
        @if let Some(r) = row {
            dl.fields {
                dt { (t.actual) }
                dd {
                    (opt_num(r.progress.actual)) " " (kpi.unit)
                    @if let Some(fy) = r.progress.actual_fy { "（" (lang.fy(fy)) @if r.progress.actual_status == Some(ObsStatus::Provisional) { "・" (t.provisional) } "）" }
                    @if r.progress.stale { " " span.stale { (t.stale) } }
                }
                dt { (t.target) }
                dd { (opt_num(r.progress.target)) " " (kpi.unit) }
                dt { (t.achievement_rate) }
                dd { (pct(r.progress.rate)) }
                dt { (t.progress_to_final) }
                dd { (pct(r.progress.progress_to_final)) }
            }
        }
        h2 { (t.actual) " / " (t.target_path) }
        @let outlook = kpi_outlook(&snap, kpi, ctx.fy);
        (kpi_chart(lang, &snap, kpi, Some(&outlook), "kpi-chart"))
        (values_table(lang, &snap, kpi, true))
        (outlook_section(lang, kpi, &outlook))
        h2 { (t.definition) }
        dl.fields {
            dt { (t.unit) } dd { @if kpi.unit.is_empty() { (t.unit_none) } @else { (kpi.unit) } }
            dt { (t.direction) } dd { (direction_label(lang, &kpi.direction)) }
            dt { (t.frequency) } dd { (frequency_label(lang, kpi.frequency)) }
            dt { (t.baseline) } dd { @if let Some(b) = kpi.baseline { (num(b.value)) " " (kpi.unit) "（" (lang.fy(b.fy)) "）" } @else { "−" } }
            dt { (t.final_target) } dd { @if let Some(f) = kpi.final_target { (num(f.value)) " " (kpi.unit) "（" (lang.fy(f.fy)) "）" } @else { "−" } }
            dt { (t.source) } dd { (kpi.source) }
            dt { (t.publication_lag) } dd { (kpi.publication_lag_years) " " (t.years_suffix) }
            dt { (t.owners) }
            dd {
                @for s in &kpi.owner_sections {
                    span.tag { (section_label(lang, &snap, s)) }
                }
            }
            dt { (t.description) } dd { (kpi.description) }
        }
        h2 { (t.linked_programs) }
        @if links.is_empty() { p { (t.none) } } @else {
            div.table-wrap {
                table {
                    thead { tr {
                        th scope="col" { (t.program) }
                        th scope="col" { (t.section) }
                        th.num scope="col" { (t.contribution) }
                        th scope="col" { (t.evidence) }
                        th.num scope="col" { (t.full_cost) "（" (t.yen_thousand) "）" }
                    } }
                    tbody {
                        @for l in links.iter().map(|i| &snap.ds.links[*i]) {
                            @if let Some(p) = snap.program(&l.program_code) {
                                tr {
                                    td { a href={ "/programs/" (p.code) } { (lang.name(&p.name_ja, &p.name_en)) } }
                                    td { (section_label(lang, &snap, &p.section_code)) }
                                    td.num { (pct(Some(l.weight))) }
                                    td { (l.evidence_grade.letter()) }
                                    td.num { (latest_full_cost(&snap, &p.code, ctx.fy).map(sen_yen).unwrap_or_else(|| "−".into())) }
                                }
                            }
                        }
                    }
                }
            }
        }
        (evidence_section(lang, &snap, &snap.evidence_by_kpi.get(&kpi.code).map(|v| v.iter().collect::<Vec<_>>()).unwrap_or_default()))
        h2 { (t.plans_and_sdgs) }
        ul {
            @for path in plan_paths(lang, &snap, kpi, false) {
                li { (path.join(" › ")) }
            }
        }
        p { (t.sdg_goals) ": " (sdg_list(lang, kpi)) }
        }
        .into_string()
    });
    // The notice after a save is per request, outside the cached part.
    let saved = crate::ctx::query_param(ctx.query.as_deref(), "saved").is_some();
    let body = html! {
        @if saved { div.notice.success role="status" { (t.saved) } }
        (PreEscaped(body.as_str()))
    };
    Ok(render(
        &ctx,
        Page {
            title: name,
            nav: Nav::Kpis,
            body,
        },
    ))
}

/// "Section (Department)".
pub fn section_label(lang: Lang, snap: &Snapshot, section: &str) -> String {
    match snap.section(section) {
        Some(s) => {
            let dept = snap
                .department(&s.department_code)
                .map(|d| lang.name(&d.name_ja, &d.name_en).to_string())
                .unwrap_or_default();
            format!("{}（{}）", lang.name(&s.name_ja, &s.name_en), dept)
        }
        None => section.to_string(),
    }
}

/// The full cost of the year `fy`, else of the latest year before it.
pub fn latest_full_cost(snap: &Snapshot, program: &str, fy: FiscalYear) -> Option<i64> {
    snap.money_by_program
        .get(program)?
        .iter()
        .map(|i| &snap.ds.money[*i])
        .rfind(|m| m.fy <= fy)
        .map(|m| m.full_cost())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_language_of_a_bilingual_reason() {
        let s = "連続した6年分の実績があるため指数平滑法（AICcでETS(A,N,N)を選択）（暫定値1件を除外 / 1 provisional excluded） / 6 consecutive yearly points: ETS, ETS(A,N,N) chosen by AICc";
        assert_eq!(
            in_language(Lang::Ja, s),
            "連続した6年分の実績があるため指数平滑法（AICcでETS(A,N,N)を選択）（暫定値1件を除外）"
        );
        assert_eq!(
            in_language(Lang::En, s),
            "6 consecutive yearly points: ETS, ETS(A,N,N) chosen by AICc (1 provisional excluded)"
        );
        assert_eq!(in_language(Lang::En, "理由のみ"), "理由のみ");
        assert_eq!(in_language(Lang::Ja, "a / b / c"), "a / b");
    }
}
